// AW203: the http phase's part of the lifespan. AW201 gives a module one shared AsyncClient and
// a `close_<client>()` beside it; the app that uses the module calls it at shutdown from its
// lifespan, so the client's connections are closed in the event loop that opened them. Without
// it, a test suite (one event loop per TestClient) reuses connections of a closed loop.
//
// When AW701 runs too (--phase lifespan), it wires the closers with everything else; this pass
// then does nothing.
#include <algorithm>

#include "lifespan.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW203";

PassResult run(const FileContext& context) {
  if (context.runs("AW701")) return {};
  PassResult result = aw701::convert_apps(context, aw701::Apps::with_unclosed_clients);
  for (Finding& finding : result.findings) finding.id = kId;
  return result;
}

// Only an app built by a top-level statement (`app = FastAPI(...)`) gets the closers. The
// index resolved the module-level calls of the file as the pass does: a file none of whose
// module-level calls names FastAPI (the fastapi package itself, say) has no such app, and is
// not parsed for the pass.
bool applies(const ModuleFacts& facts, const ProjectIndex&, const Plan&) {
  auto names_fastapi = [](const CallFact& call) {
    return call.target == "FastAPI" || call.target.ends_with(".FastAPI");
  };
  return std::any_of(
      facts.function_facts.begin(), facts.function_facts.end(), [&](const FunctionFacts& fn) {
        return fn.is_module && (std::any_of(fn.calls.begin(), fn.calls.end(), names_fastapi) ||
                                std::any_of(fn.blocking.begin(), fn.blocking.end(), names_fastapi));
      });
}

}  // namespace

TransformInfo http_client_close_transform() {
  return TransformInfo{.id = kId,
                       .phase = "http",
                       .summary = "the app's lifespan closes the shared httpx client at shutdown",
                       .explain = R"(Before (AW201 wrote the client and its closer):
    # clients.py
    http_client = httpx.AsyncClient()

    async def close_http_client() -> None:
        global http_client
        await http_client.aclose()
        http_client = httpx.AsyncClient()

    # main.py
    app = FastAPI(title="Shop")
After:
    # main.py
    from .clients import close_http_client

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            await close_http_client()


    app = FastAPI(title="Shop", lifespan=lifespan)

An AsyncClient's pooled connections belong to the event loop that opened them. A test suite
runs the app in a new event loop for each TestClient; a module-level client that is never
closed hands the next loop connections of a closed one ("Event loop is closed"). The closer
closes the client at shutdown and puts a new one in its place, so the next start of the app
works too.

Every app whose module imports (directly or not) a module with an unclosed shared client gets
the call; the lifespan is written as AW701 writes it, and for the same reason an app with
on_event handlers has them all moved into it (FastAPI skips on_event handlers once lifespan= is
set). An app that already has lifespan= keeps it: the new lifespan enters it around its yield.
With --phase lifespan in the same run, AW701 does all of this and this pass does nothing.

Reported, not rewritten: an app AW701 would refuse (its reason is given), and a closer that
would be imported circularly or whose name the app's module already uses.)",
                       .triggers = {"FastAPI"},
                       .run = run,
                       .applies = applies};
}

}  // namespace awaitify
