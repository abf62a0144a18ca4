// AW601: `@app.middleware("http")` functions become async, with `await call_next(request)`.
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

}  // namespace

TransformInfo middleware_http_transform() {
  return TransformInfo{
      kId,
      "middleware",
      "@app.middleware(\"http\") functions become async def and await call_next",
      R"(Before:
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
      {"middleware"},
      run};
}

}  // namespace awaitify
