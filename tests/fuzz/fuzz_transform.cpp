// libFuzzer target over the engine's entry point for one file, the way `awaitify apply -`
// runs it: facts, index, plan (every transform's seeds) and every pass. Findings are failures:
// a crash or a sanitizer report, an engine error on input that parsed, a result that does not
// parse, or bytes outside the edits lost (a result that is not valid UTF-8).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "awaitify/engine.hpp"
#include "awaitify/plan.hpp"
#include "awaitify/syntax.hpp"

namespace {

using namespace awaitify;

const std::vector<const TransformInfo*>& every_transform() {
  static const std::vector<const TransformInfo*> transforms = [] {
    auto selected = select_transforms(Selection{});
    if (!selected) std::abort();
    return *selected;
  }();
  return transforms;
}

[[noreturn]] void fail(const std::string& why, const std::string& input, const std::string& output) {
  std::fprintf(stderr, "awaitify_fuzz: %s\n--- input (%zu bytes)\n%s\n--- output (%zu bytes)\n%s\n",
               why.c_str(), input.size(), input.c_str(), output.size(), output.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto source = SourceFile::from_bytes("fuzz.py", bytes);
  if (!source) return 0;  // not UTF-8: refused before any parse, as the command line does
  auto facts = facts_for(*source);
  if (!facts) return 0;  // does not parse: left untouched, so nothing to check
  std::vector<ModuleFacts> modules{*facts};
  ProjectIndex index(std::move(modules));
  const auto& transforms = every_transform();
  Plan plan = build_plan(index, collect_seeds(index, transforms, {"fuzz.py"}, 1), PlanOptions{});
  FileOutcome outcome = transform_source(*source, index, plan, transforms);
  if (outcome.input_error) fail("input error on input that parsed: " + *outcome.input_error, bytes, "");
  if (outcome.engine_error) fail("engine error: " + *outcome.engine_error, bytes, outcome.result);
  if (!outcome.changed()) return 0;
  Parser parser;
  auto tree = parser.parse(outcome.result);
  if (!tree || count_syntax_errors(tree->root()) > 0) fail("the result does not parse", bytes, outcome.result);
  if (first_invalid_utf8(outcome.result) != std::string::npos) fail("the result is not UTF-8", bytes, outcome.result);
  return 0;
}
