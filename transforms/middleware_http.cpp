// AW601: `@app.middleware("http")` functions become async, with `await call_next(request)`.
#include <algorithm>

#include "awaitify/fastapi.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW601";

PassResult run(const FileContext& context) {
  PassResult result;
  walk(context.root, [&](TSNode node) {
    if (!is(node, "function_definition")) return true;
    for (TSNode decorator : decorators_of(node)) {
      if (!is_http_middleware_decorator(decorator, context)) continue;
      PassResult one = make_middleware_async(context, node, 1, kId);
      result.edits.insert(result.edits.end(), one.edits.begin(), one.edits.end());
      result.findings.insert(result.findings.end(), one.findings.begin(), one.findings.end());
      break;
    }
    return true;
  });
  return result;
}

// Only a function decorated `@<app>.middleware("http")` changes. The index keeps each
// function's decorators as resolved by the same scope scanner: such a decorator resolves to a
// name ending in ".middleware", or to nothing (a name the index cannot follow), so a file with
// neither is not parsed for the pass.
bool applies(const ModuleFacts& facts, const ProjectIndex&, const Plan&) {
  auto may_be_middleware = [](const std::string& decorator) {
    return decorator.empty() || decorator.ends_with(".middleware");
  };
  return std::any_of(
      facts.function_facts.begin(), facts.function_facts.end(), [&](const FunctionFacts& fn) {
        return std::any_of(fn.decorators.begin(), fn.decorators.end(), may_be_middleware);
      });
}

}  // namespace

TransformInfo middleware_http_transform() {
  return TransformInfo{
      .id = kId,
      .phase = "middleware",
      .summary = "@app.middleware(\"http\") functions become async def and await call_next",
      .explain = R"(Before:
    @app.middleware("http")
    def add_timing(request, call_next):
        response = call_next(request)
        return response
After:
    @app.middleware("http")
    async def add_timing(request, call_next):
        response = await call_next(request)
        return response

Starlette awaits the middleware and call_next returns a coroutine, so a sync HTTP middleware
never worked: this rewrite is always needed. Every call of the second parameter is awaited,
whatever it is named; a call inside a lambda or generator expression is a refusal (the
function is left as it is, with a finding), and passing call_next along is reported. A blocking
call left in the body is reported.)",
      .triggers = {"middleware"},
      .run = run,
      .applies = applies};
}

}  // namespace awaitify
