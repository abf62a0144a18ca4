// AW303: time.sleep(x) -> await asyncio.sleep(x) in code that is or becomes async.
#include "awaitify/syntax.hpp"
#include "call_rewrite.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW303";

bool is_sleep(const std::string& target) {
  return target == "time.sleep";
}

std::vector<Edit> to_asyncio_sleep(const Site& site, const FileContext&, std::string&) {
  TSNode function = field(site.node, "function");
  return {Edit::replace(ts_node_start_byte(function), ts_node_end_byte(function), "asyncio.sleep")};
}

const CallRewrite& rewrite() {
  static const CallRewrite rewrite{kId,
                                   is_sleep,
                                   to_asyncio_sleep,
                                   [](ImportEditor& imports) { imports.require_module("asyncio"); },
                                   {"time", "time.sleep"}};
  return rewrite;
}

PassResult run(const FileContext& context) {
  return run_call_rewrite(rewrite(), context);
}

std::vector<Seed> seeds(const ProjectIndex& index, const Settings&, const SeedScope&) {
  return call_rewrite_seeds(index, is_sleep, "calls time.sleep (AW303)", kId);
}

}  // namespace

TransformInfo files_sleep_transform() {
  return with_call_rewrite_hooks(
      rewrite(),
      TransformInfo{
          .id = kId,
          .phase = "files",
          .summary = "time.sleep() -> await asyncio.sleep() in code that is or becomes async",
          .explain = R"(Before:
    def fetch_with_retry(url):
        for attempt in range(3):
            ...
            time.sleep(0.5 * attempt)
After:
    async def fetch_with_retry(url):
        for attempt in range(3):
            ...
            await asyncio.sleep(0.5 * attempt)

The function becomes async through the closure (AW401): its callers await it, across modules;
`import asyncio` is added once and `import time` / `from time import sleep` go when nothing
else uses them. Calls inside a lambda or generator expression, at module level, or in a
function the closure must keep sync are left as they are, with a finding.)",
          .triggers = {"sleep"},
          .run = run,
          .seeds = seeds});
}

}  // namespace awaitify
