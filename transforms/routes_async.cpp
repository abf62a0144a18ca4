// AW501: path operations become `async def`, unless their body still blocks.
#include <algorithm>

#include "awaitify/fastapi.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW501";

bool is_path_operation(TSNode def, const FileContext& context) {
  for (TSNode decorator : decorators_of(def)) {
    if (is_path_operation_decorator(decorator, context)) return true;
  }
  return false;
}

// Why making this handler async would hurt, or nullopt when the plan makes it async.
// A handler the plan makes async for another reason (or --wrap-blocking) becomes async even when
// it blocks: the closure (AW401) runs its blocking calls in the thread pool.
std::optional<std::string> reason_to_stay_sync(TSNode def, const FileContext& context) {
  std::string qualified = qualified_name(def, context);
  if (context.plan.becomes_async(qualified)) return std::nullopt;
  if (auto blocking = blocking_reason(def, context)) {
    const FunctionFacts* fn = context.index.function(qualified);
    auto unwrappable = fn ? unwrappable_blocking(context.index, *fn) : std::nullopt;
    bool wrap = context.setting("wrap-blocking", "false") == "true";
    if (wrap && unwrappable)
      return "kept sync: --wrap-blocking cannot make it safe: " + *unwrappable;
    return "kept sync: " + *blocking +
           (unwrappable ? "" : "; or --wrap-blocking runs its blocking calls in the thread pool");
  }
  std::vector<Stop> stops = context.plan.stops_for(qualified);
  if (stops.empty()) {
    return "kept sync: the index did not plan it (its decorators or calls could not be resolved)";
  }
  const Stop& stop = stops.front();
  if (stop.held) return "kept sync: " + stop.reason;
  return "kept sync: making it async would leave a caller with a coroutine: " + stop.reason + " (" +
         chain_text(stop) + ")";
}

PassResult run(const FileContext& context) {
  PassResult result;
  walk(context.root, [&](TSNode node) {
    if (!is(node, "function_definition")) return true;
    if (is_async_function(node) || !is_path_operation(node, context)) return true;
    if (auto why = reason_to_stay_sync(node, context)) {
      result.findings.push_back(context.finding(kId, field(node, "name"), Severity::warning, *why));
    } else {
      auto edits = make_async(node);
      result.edits.insert(result.edits.end(), edits.begin(), edits.end());
    }
    return true;
  });
  return result;
}

// Only a decorated def can be a path operation: one whose decorator the index resolved to a
// route method (`app.get`, `router.api_route`), or could not resolve at all. A decorator the
// index could not resolve is on a name local to a function: a path operation only when that
// name holds an app or router the file constructs (see owner_type in fastapi.cpp).
bool applies(const ModuleFacts& facts, const ProjectIndex&, const Plan&) {
  bool unresolved = false;
  for (const FunctionFacts& fn : facts.function_facts) {
    for (const std::string& decorator : fn.decorators) {
      if (is_route_decorator_method(decorator.substr(decorator.rfind('.') + 1))) return true;
      unresolved = unresolved || decorator.empty();
    }
  }
  if (!unresolved) return false;
  auto constructs_app = [](const CallFact& call) {
    return is_fastapi_constructor(call.target) || is_router_constructor(call.target);
  };
  return std::any_of(facts.function_facts.begin(), facts.function_facts.end(),
                     [&](const FunctionFacts& fn) {
                       return std::any_of(fn.calls.begin(), fn.calls.end(), constructs_app) ||
                              std::any_of(fn.blocking.begin(), fn.blocking.end(), constructs_app);
                     });
}

}  // namespace

TransformInfo routes_async_transform() {
  return TransformInfo{
      .id = kId,
      .phase = "routes",
      .summary = "path operations (@app.get, @router.post, api_route, ...) become async def",
      .explain = R"(Before:
    @router.get("/items/{item_id}")
    def read_item(item_id: int) -> Item:
        return ITEMS[item_id]
After:
    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> Item:
        return ITEMS[item_id]

Matches functions decorated with get/post/put/patch/delete/head/options/trace/api_route on a
name bound to FastAPI() or APIRouter() (also an app or router imported from another module of
the project, and an app created inside a factory function).

Refusals (the handler stays sync, with a finding): the body still makes a blocking call the
engine knows (requests, time.sleep, open, subprocess, urllib.request, shutil, a sync SQLAlchemy
Session, or a project function that makes one of these), since an async def that blocks stalls
every request while a def runs in FastAPI's thread pool; or a caller of the handler cannot
become async (see AW401: the closure makes project callers await it, or names the stop).

With --wrap-blocking (or wrap-blocking = true in [tool.awaitify]) a handler that blocks becomes
async too, and the closure (AW401) runs each blocking call in the thread pool:
`await run_in_threadpool(subprocess.run, [...])`, `await run_in_threadpool(load_report, day)`
for a project function that blocks. Not when a call hands back something whose use blocks
(open(), Popen, urlopen, a socket, a requests Session), runs in a lambda, or is sync
SQLAlchemy: those need their phase (files, http, db), and the handler stays sync, saying which.
A handler that another phase makes async gets the same treatment without the option.

Limits: calls the index cannot resolve (methods of objects it cannot type) are assumed not to
block.)",
      .triggers = {"@"},
      .run = run,
      .seeds = path_operation_seeds,
      .applies = applies};
}

}  // namespace awaitify
