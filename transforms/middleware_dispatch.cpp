// AW602: `BaseHTTPMiddleware.dispatch` methods become async, with `await call_next(request)`.
#include "awaitify/fastapi.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW602";

bool is_base_http_middleware(TSNode class_definition, const FileContext& context) {
  TSNode bases = field(class_definition, "superclasses");
  if (ts_node_is_null(bases)) return false;
  for (TSNode base : named_children(bases)) {
    std::string qualified = context.facts.resolve(dotted_name(base, context.text()));
    if (!qualified.empty() &&
        context.index.derives_from(qualified, std::string(kBaseHttpMiddleware))) {
      return true;
    }
  }
  return false;
}

// A dispatch method of a class derived from BaseHTTPMiddleware; a class the facts do not
// describe (one nested in a function) is looked at in the tree.
bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan&) {
  for (const FunctionFacts& fn : facts.function_facts) {
    if (fn.class_name.empty() || fn.name() != "dispatch") continue;
    std::string short_name = fn.class_name.substr(fn.class_name.rfind('.') + 1);
    auto cls = facts.classes.find(short_name);
    if (cls == facts.classes.end() || facts.module + "." + short_name != fn.class_name) return true;
    for (const std::string& base : cls->second.bases) {
      if (index.derives_from(base, std::string(kBaseHttpMiddleware))) return true;
    }
  }
  return false;
}

PassResult run(const FileContext& context) {
  PassResult result;
  walk(context.root, [&](TSNode node) {
    if (!is(node, "class_definition")) return true;
    if (!is_base_http_middleware(node, context)) return true;
    for (TSNode child : named_children(field(node, "body"))) {
      auto def = definition_of(child);
      if (!def || node_text(field(*def, "name"), context.text()) != "dispatch") continue;
      PassResult one = make_middleware_async(context, *def, 2, kId);
      result.edits.insert(result.edits.end(), one.edits.begin(), one.edits.end());
      result.findings.insert(result.findings.end(), one.findings.begin(), one.findings.end());
    }
    return true;
  });
  return result;
}

}  // namespace

TransformInfo middleware_dispatch_transform() {
  return TransformInfo{
      .id = kId,
      .phase = "middleware",
      .summary = "BaseHTTPMiddleware.dispatch methods become async def and await call_next",
      .explain = R"(Before:
    class Timing(BaseHTTPMiddleware):
        def dispatch(self, request, call_next):
            return call_next(request)
After:
    class Timing(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            return await call_next(request)

Matches classes deriving from starlette.middleware.base.BaseHTTPMiddleware, directly or through
project classes in any module. Starlette awaits dispatch, so the sync form never worked. The
third parameter is call_next, whatever it is named; refusals as for AW601.)",
      .triggers = {"dispatch"},
      .run = run,
      .applies = applies};
}

}  // namespace awaitify
