// AW401: the async closure applied to one file. The plan (built once from the index) says which
// project functions become async; this pass makes them `async def`, awaits every call to an
// async project function from async code, runs entry points with asyncio.run, and moves
// blocking calls left in functions it made async to the thread pool.
#include <algorithm>

#include "awaitify/calls.hpp"
#include "awaitify/fastapi.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW401";

struct ScopeState {
  bool async_after = false;  // is async, or becomes async in this run
  bool made_async = false;   // becomes async in this run (its blocking calls need care)
  bool entry_point = false;  // module-level code that may call asyncio.run
  bool db_migrated = false;  // the db phase moves its session calls (AW103/AW104)
};

class ClosurePass {
 public:
  explicit ClosurePass(const FileContext& context) : context_(context), src_(context.text()) {}

  PassResult run() {
    const ModuleFacts& facts = context_.facts;
    bool script = !context_.index.imported_by_project(facts.module);
    scan_file_scopes(
        facts, context_.root, src_, &context_.index,
        [&](const ScopeInfo& scope) {
          if (scope.is_module()) return;
          if (context_.plan.becomes_async(scope.qualified)) add(make_async(scope.def));
          report_refusal(scope.def, scope.qualified);
        },
        [&](const Site& site, const ScopeInfo& scope) { on_call(site, state_of(scope, script)); });
    add_imports();
    return std::move(result_);
  }

 private:
  ScopeState state_of(const ScopeInfo& scope, bool script) const {
    if (scope.is_module()) return ScopeState{false, false, script, false};
    bool planned = context_.plan.becomes_async(scope.qualified);
    // As the function was before this run: a pass before this one (AW501) may have made it
    // async already, and its blocking calls still need the thread pool.
    const FunctionFacts* original = context_.index.function(scope.qualified);
    bool was_async = original ? original->is_async : is_async_function(scope.def);
    return ScopeState{was_async || planned, planned && !was_async, false,
                      context_.plan.migrates(scope.qualified)};
  }

  // Whether this call must be awaited (or run) now: the callee becomes async in this run, or
  // it was async already and the call was a forgotten await in code this run makes async. A
  // coroutine passed straight to another call (asyncio.gather(f()), asyncio.run(main())) is
  // handed over on purpose and stays as it is.
  bool needs_await(const Site& site, const ScopeState& scope) const {
    const FunctionFacts* fn = context_.index.function(site.target);
    if (!fn) return false;
    if (context_.plan.becomes_async(fn->qualified)) return true;
    if (!fn->is_async || site.as_argument) return false;
    if (scope.async_after && !scope.made_async) return false;  // async code already: verify's job
    return context_.plan.repairs(fn->qualified);
  }

  // A sync project function that blocks (as far as the index can follow), called from code
  // this run makes async: it runs in the thread pool until its own phase migrates it.
  bool blocking_project_call(const Site& site) const {
    const FunctionFacts* fn = context_.index.function(site.target);
    if (!fn || fn->is_async || context_.plan.becomes_async(fn->qualified)) return false;
    auto path = context_.index.blocking_path(fn->qualified);
    if (!path) return false;
    // The db phase moves a function it migrates off the sync Session: that no longer blocks.
    bool session = path->call.target.rfind("sqlalchemy.orm.Session", 0) == 0;
    return !(session && context_.plan.migrates(path->functions.back()));
  }

  // `await run_in_threadpool(load, path)` where load becomes async: `await load(path)`.
  bool unwrap_threadpool(const Site& site) {
    if (!site.awaited || !is_threadpool_runner(site.target)) return false;
    TSNode arguments = field(site.node, "arguments");
    TSNode function = ts_node_named_child(arguments, 0);
    if (!is(function, "identifier") && !is(function, "attribute")) return false;
    std::string target =
        context_.index.canonical(context_.facts.resolve(dotted_name(function, src_)));
    const FunctionFacts* callee = context_.index.function(target);
    if (!callee || !(callee->is_async || context_.plan.becomes_async(target))) return false;
    // `run_in_threadpool(load, a, b)` -> `load(a, b)`: the callee, then the other arguments.
    std::string call(node_text(function, src_));
    TSNode second = ts_node_named_child(arguments, 1);
    std::string rest =
        ts_node_is_null(second)
            ? ")"
            : std::string(src_.substr(ts_node_start_byte(second),
                                      ts_node_end_byte(arguments) - ts_node_start_byte(second)));
    add({Edit::replace(ts_node_start_byte(site.node), ts_node_end_byte(site.node),
                       call + "(" + rest)});
    for (const auto& [local, qualified] : context_.facts.imports) {
      if (qualified == site.target) unwrapped_.push_back(local);
    }
    return true;
  }

  void on_call(const Site& site, const ScopeState& scope) {
    if (unwrap_threadpool(site)) return;
    if (site.awaited) return;
    // A session call the db passes left (`async with db.begin():`, a refused query) is theirs.
    if (scope.db_migrated && site.target.rfind("sqlalchemy.orm.Session.", 0) == 0) return;
    bool runs_here =
        site.context == CallContext::plain || site.context == CallContext::comprehension;
    if (scope.made_async && runs_here && (site.blocking || blocking_project_call(site))) {
      return move_to_threadpool(site);
    }
    if (!needs_await(site, scope)) return;
    if (scope.async_after) return await_call(site);
    bool main_block = site.context == CallContext::main_guard;
    if (main_block || (scope.entry_point && site.context == CallContext::module_level)) {
      add(wrap_in_asyncio_run(site.node));
      need_asyncio_ = true;
      result_.findings.push_back(context_.finding(
          kId, site.node, Severity::note,
          "entry point: `" + site.target + "` is async now and runs with asyncio.run"));
    }
  }

  void await_call(const Site& site) {
    auto edits = await_expression(site.node, true, src_);
    if (!edits) {
      result_.findings.push_back(context_.finding(
          kId, site.node, Severity::warning,
          "`" + site.target +
              "` is async but this call cannot be awaited: " + edits.error().message));
      return;
    }
    add(*edits);
  }

  void move_to_threadpool(const Site& site) {
    if (returns_blocking_resource(site.target)) {
      // The thread pool would open the file (process, socket) and the event loop would then
      // read it: no better than the call itself, and it hides the problem.
      result_.findings.push_back(context_.finding(
          kId, site.node, Severity::warning,
          "`" + site.target +
              "` blocks, and what it returns blocks when used: it stays as it is in "
              "this async function; " +
              std::string(blocking_api(site.target) ? blocking_api(site.target)->fix
                                                    : "migrate it by hand")));
      return;
    }
    auto api = blocking_api(site.target);
    if (api && !api->phase_migrates && context_.setting("wrap-blocking", "false") != "true") {
      // No phase gives it an async form: moving it to a thread is the user's call.
      result_.findings.push_back(
          context_.finding(kId, site.node, Severity::warning,
                           "`" + site.target + "` blocks the event loop in this async function (" +
                               std::string(api->what) + "): " + std::string(api->fix) +
                               "; --wrap-blocking wraps it in run_in_threadpool"));
      return;
    }
    bool session = site.target.rfind("sqlalchemy.orm.Session.", 0) == 0;
    add(wrap_in_threadpool(site.node, src_, session));
    need_threadpool_ = true;
    std::string until =
        api && !api->phase_migrates ? "(--wrap-blocking)" : "until a later phase migrates it";
    result_.findings.push_back(
        context_.finding(kId, site.node, Severity::note,
                         "`" + site.target + "` blocks: run in the thread pool " + until));
  }

  // Seeds of this pass (async functions called without await) that the closure could not
  // repair; other transforms report their own seeds.
  void report_refusal(TSNode def, const std::string& qualified) {
    for (const Stop& stop : context_.plan.stops_for(qualified)) {
      if (stop.origin != kId) continue;
      result_.findings.push_back(context_.finding(
          kId, field(def, "name"), Severity::warning,
          "callers left as they are: " + stop.reason + " (" + chain_text(stop) + ")"));
    }
  }

  void add(const std::vector<Edit>& edits) {
    result_.edits.insert(result_.edits.end(), edits.begin(), edits.end());
  }

  void add_imports() {
    if (!need_asyncio_ && !need_threadpool_ && unwrapped_.empty()) return;
    ImportEditor imports(context_.source, context_.root, context_.index.first_party_packages());
    // A call this pass wraps keeps the import (its uses are in ranges the editor ignores).
    for (const std::string& local : unwrapped_) {
      if (!need_threadpool_) imports.drop_if_unused(local);
    }
    for (const Edit& edit : result_.edits) imports.ignore_uses_in(edit.start, edit.end);
    if (need_asyncio_) imports.require_module("asyncio");
    if (need_threadpool_) imports.require_from("starlette.concurrency", "run_in_threadpool");
    add(imports.edits());
  }

  const FileContext& context_;
  std::string_view src_;
  PassResult result_;
  bool need_asyncio_ = false;
  bool need_threadpool_ = false;
  std::vector<std::string> unwrapped_;  // local names of run_in_threadpool calls unwrapped
};

PassResult run(const FileContext& context) {
  return ClosurePass(context).run();
}

std::vector<Seed> seeds(const ProjectIndex& index, const Settings&, const SeedScope&) {
  return unawaited_async_seeds(index);
}

// The pass changes or reports something only in a file that defines a function the plan makes
// async or stops at, or that calls (as the index resolved its calls) one the plan makes async
// or repairs.
bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan& plan) {
  auto planned = [&](const FunctionFacts* callee) {
    return callee && (plan.becomes_async(callee->qualified) || plan.repairs(callee->qualified));
  };
  for (const FunctionFacts& fn : facts.function_facts) {
    if (plan.becomes_async(fn.qualified) || !plan.stops_for(fn.qualified).empty()) return true;
    for (size_t call = 0; call < fn.calls.size(); ++call) {
      if (planned(index.callee(fn, call))) return true;
    }
    for (const CallFact& call : fn.blocking) {
      if (planned(index.function(call.target))) return true;
    }
  }
  return false;
}

// What the pass reports on a file it leaves unchanged, told from the facts: nothing, when no
// function of the file becomes async or has a stop of this pass, and each call of one the plan
// makes async or repairs is made by a sync function (not module-level code) that stays sync. Such a
// caller awaits nothing: the stop that kept it sync is reported by the pass that seeded the chain.
// `await run_in_threadpool(f)` is left to the run (it unwraps an async f anywhere). Any other
// file is parsed and run.
std::optional<std::vector<Finding>> report_from_facts(const SourceFile&, const ModuleFacts& facts,
                                                      const ProjectIndex& index, const Plan& plan) {
  auto planned_callee = [&](const CallFact& call) {
    const FunctionFacts* callee = index.function(call.target);
    return callee && (plan.becomes_async(callee->qualified) || plan.repairs(callee->qualified));
  };
  auto unwraps = [](const CallFact& call) {
    return call.awaited && is_threadpool_runner(call.target);
  };
  auto own_stop = [](const Stop& stop) { return stop.origin == kId; };
  for (const FunctionFacts& fn : facts.function_facts) {
    const std::vector<Stop>& stops = plan.stops_for(fn.qualified);
    if (plan.becomes_async(fn.qualified) || std::any_of(stops.begin(), stops.end(), own_stop))
      return std::nullopt;
    if (std::any_of(fn.calls.begin(), fn.calls.end(), unwraps)) return std::nullopt;
    bool calls_planned = std::any_of(fn.calls.begin(), fn.calls.end(), planned_callee) ||
                         std::any_of(fn.blocking.begin(), fn.blocking.end(), planned_callee);
    if (!calls_planned) continue;
    // The run tells a scope's kind from the index's entry of its name.
    const FunctionFacts* indexed = index.function(fn.qualified);
    if (!indexed || indexed->is_module || indexed->is_async || fn.is_module || fn.is_async)
      return std::nullopt;
  }
  return std::vector<Finding>{};
}

}  // namespace

const TransformInfo& closure_transform() {
  static const TransformInfo info{
      kId,
      "services",
      "callers of functions made async become async and await them, across modules",
      R"(Before (db.py's load() was made async by an earlier phase):
    # service.py                       # main.py
    def total():                       if __name__ == "__main__":
        return sum(load())                 print(total())
After:
    async def total():                 if __name__ == "__main__":
        return sum(await load())           print(asyncio.run(total()))

The plan is computed once from the project index: from the functions a phase makes async (a
route handler, a function whose body now awaits), every project caller becomes async def and
its call gains await (parenthesized where the result is used further), transitively, across
modules and through methods (a method's namesakes in its class hierarchy follow it). Calls
from `if __name__ == "__main__":` and from the top level of a script nobody imports become
asyncio.run(...). A function made async that still makes a blocking call a later phase
migrates (requests, time.sleep, a sync Session, a project function that blocks) gets that call
wrapped as `await run_in_threadpool(fn, *args)` (starlette.concurrency) until then. Calls with
no async form (subprocess, os.system, urllib, shutil, sockets) are wrapped only with
--wrap-blocking, else reported; a call whose result blocks when used (open(), Popen, urlopen)
is never wrapped alone, since that would leave the reads on the event loop: it is reported. A generator expression that a builtin reads whole (sum, list, tuple, set,
frozenset, sorted, min, max, dict, str.join) becomes a list comprehension so it can await:
`sum(price(x) for x in xs)` -> `sum([await price(x) for x in xs])`.

Stops (the seed stays sync, and the chain is reported): a caller inside a lambda or another
generator expression (any() and all() stop early, so awaiting everything first would change
them), in a class body or parameter default, in module-level code of an imported module,
in __init__/__enter__/__exit__ and other methods Python calls synchronously, in a property, a
sync generator, a pytest test or fixture (the tests phase converts those); a function passed
as a value (map, sorted(key=...), threading.Thread(target=...)) except to Depends/Security;
with --no-expand, a caller outside the selected paths. Callers inside the project but outside
the selected paths are pulled into the change by default and listed.

On its own (--phase services) it repairs async project functions that sync code calls
without await. `awaitify plan` prints the closure as a tree.)",
      {},
      run,
      seeds,
      applies,
      {},
      {},
      report_from_facts};
  return info;
}

}  // namespace awaitify
