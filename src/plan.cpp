#include "awaitify/plan.hpp"

#include <deque>
#include <functional>

#include "awaitify/knowledge.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

namespace {

// Callers that can never be async: Python calls them itself and does not await them.
bool is_sync_protocol_method(const FunctionFacts& fn) {
  static const std::set<std::string> names{"__init__",     "__new__",  "__enter__",   "__exit__",
                                           "__iter__",     "__next__", "__del__",     "__repr__",
                                           "__str__",      "__len__",  "__getitem__", "__setitem__",
                                           "__contains__", "__eq__",   "__hash__",    "__bool__"};
  return !fn.class_name.empty() && names.count(fn.name()) > 0;
}

bool has_decorator_ending(const FunctionFacts& fn, const std::string& suffix) {
  for (const std::string& decorator : fn.decorators) {
    if (decorator == suffix ||
        (decorator.size() > suffix.size() &&
         decorator.compare(decorator.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         decorator[decorator.size() - suffix.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

bool is_pytest_test(const FunctionFacts& fn, const std::string& path) {
  return is_pytest_file(path) &&
         (fn.name().rfind("test", 0) == 0 || has_decorator_ending(fn, "fixture"));
}

// Whether a pytest fixture of the project constructs the class (or calls one of its methods).
bool fixture_builds(const ProjectIndex& index, const std::string& class_name) {
  // What the project's fixtures call, gathered once: the closure asks for every method of a
  // class that an unresolved call in a test may reach.
  auto called = index.memo<std::set<std::string>>("plan.fixture_calls", [&] {
    auto targets = std::make_shared<std::set<std::string>>();
    for (const FunctionFacts* fn : index.functions()) {
      if (!has_decorator_ending(*fn, "fixture")) continue;
      for (const CallFact& call : fn->calls) targets->insert(index.canonical(call.target));
    }
    return std::shared_ptr<const std::set<std::string>>(std::move(targets));
  });
  if (called->count(class_name)) return true;
  auto after = called->lower_bound(class_name + ".");
  return after != called->end() && after->rfind(class_name + ".", 0) == 0;
}

bool dependency_injection(const std::string& callee) {
  return callee == "fastapi.Depends" || callee == "fastapi.Security" ||
         callee == "fastapi.params.Depends" || callee == "fastapi.params.Security";
}

std::string site_text(const CallSite& site) {
  return site.path() + ":" + std::to_string(site.fact().line) + " " + site.caller->qualified;
}

// Why this caller cannot become async (empty when it can).
std::string caller_refusal(const ProjectIndex& index, const CallSite& site,
                           const PlanOptions& options) {
  const FunctionFacts& caller = *site.caller;
  switch (site.fact().context) {
    case CallContext::lambda:
      return "called inside a lambda, which cannot await";
    case CallContext::generator:
      return "called inside a generator expression";
    case CallContext::class_body:
      return "called in a class body, at import time";
    case CallContext::default_argument:
      return "called in a parameter default, at definition time";
    case CallContext::comprehension:
    case CallContext::plain:
    case CallContext::main_guard:
    case CallContext::module_level:
      break;
  }
  if (caller.is_module) {
    std::string module = caller.qualified.substr(0, caller.qualified.rfind('.'));
    bool entry =
        site.fact().context == CallContext::main_guard || !index.imported_by_project(module);
    if (!entry)
      return "called at import time by module-level code of a module other modules import";
    // One asyncio.run per top-level statement: a second project call on the same line could
    // need its own loop while the first one runs.
    for (const CallFact& other : caller.calls) {
      if (other.line == site.fact().line && other.column != site.fact().column &&
          index.function(other.target)) {
        return "shares its top-level line with another project call; split the statement so each "
               "async call gets its own asyncio.run";
      }
    }
    return {};
  }
  if (is_sync_protocol_method(caller))
    return "called from " + caller.name() + ", which Python calls synchronously";
  if (has_decorator_ending(caller, "property"))
    return "called from a property, which cannot be awaited";
  bool pytest_function = is_pytest_test(caller, site.path());
  if (pytest_function && !options.tests_join_closure) {
    return "called from a pytest test or fixture; the tests phase converts those";
  }
  // A yield fixture may become an async generator: pytest consumes it, no caller iterates it.
  if (!pytest_function && caller.is_generator && !caller.is_async) {
    return "called from a sync generator; its consumers would need async for";
  }
  if (!options.expand && !options.selected_paths.empty() &&
      !options.selected_paths.count(site.path())) {
    return "the caller is outside the selected paths (--no-expand)";
  }
  return {};
}

// What a `# awaitify:` comment holds as it is: a function in a skip-file module, or one whose
// header (decorators and def line), or a line it would change, says `ignore` for a rule that
// would change it.
struct Hold {
  std::string reason;  // empty: nothing holds it
  bool by_ignore = false;
  std::string rule;  // the rule the ignore comment named (or matched, for a bare ignore)
  std::string at;    // the comment's "path:line"
};

const Suppressions* suppressions_at(const ProjectIndex& index, const std::string& path) {
  const ModuleFacts* module = index.module_for_path(path);
  return module && !module->suppressions.empty() ? &module->suppressions : nullptr;
}

constexpr const char* kSkipFileReason = "its file is marked `# awaitify: skip-file`";

std::string marked(const std::string& directive, const std::string& path, uint32_t line) {
  return "`# awaitify: " + directive + "` (" + path + ":" + std::to_string(line) + ")";
}

// The first line of `lines` where a comment says ignore for one of `rules`: the comment as
// messages show it, and the rule.
Hold ignored_line(const Suppressions& comments, const std::vector<uint32_t>& lines,
                  const std::vector<std::string>& rules, const std::string& path) {
  for (uint32_t line : lines) {
    for (const std::string& rule : rules) {
      std::string directive = comments.directive(line, rule);
      if (!directive.empty()) {
        return {marked(directive, path, line), true, rule, path + ":" + std::to_string(line)};
      }
    }
  }
  return {};
}

Hold header_hold(const ProjectIndex& index, const FunctionFacts& fn,
                 const std::vector<std::string>& rules) {
  std::string path = index.path_of(fn);
  const Suppressions* comments = suppressions_at(index, path);
  if (!comments) return {};
  if (comments->skip_file()) return {kSkipFileReason, false, {}, {}};
  std::vector<uint32_t> header;
  for (uint32_t line = fn.first_line; line <= fn.header_end_line; ++line) header.push_back(line);
  Hold hold = ignored_line(*comments, header, rules, path);
  if (!hold.reason.empty()) hold.reason = "its definition is marked " + hold.reason;
  return hold;
}

// The rules whose comments hold a seed: its transform's, and those of the transform's phase,
// whose passes change one function together (the db phase's AW102..AW106 on one session).
std::vector<std::string> phase_rules(const std::string& origin) {
  std::vector<std::string> rules{origin};
  const TransformInfo* seeding = find_transform(origin);
  if (!seeding) return rules;
  for (const TransformInfo& transform : transform_table()) {
    if (transform.phase == seeding->phase && transform.id != origin) rules.push_back(transform.id);
  }
  return rules;
}

// A seed is held by what its phase knows of it (Seed::refusal), by its header, or by a comment on a
// line of its body where a blocking call makes its phase change it: the function is then kept
// whole, never half-migrated.
Hold seed_hold(const ProjectIndex& index, const FunctionFacts& fn, const Seed& seed,
               const PlanOptions& options) {
  if (!seed.refusal.empty()) return Hold{seed.refusal, false, {}, {}};
  // Held whole, like a comment on its definition, whatever it would change.
  if (options.held.count(fn.qualified))
    return {"it was not accepted (apply --interactive)", false, {}, {}};
  bool changes = !seed.group.empty() || (seed.becomes_async && !fn.is_async);
  if (!changes) return {};
  std::vector<std::string> rules = phase_rules(seed.origin);
  Hold hold = header_hold(index, fn, rules);
  if (!hold.reason.empty()) return hold;
  std::string path = index.path_of(fn);
  const Suppressions* comments = suppressions_at(index, path);
  if (!comments) return {};
  std::vector<uint32_t> lines;
  for (const CallFact& call : fn.blocking) lines.push_back(call.line);
  hold = ignored_line(*comments, lines, rules, path);
  if (!hold.reason.empty()) hold.reason = "a line it would change is marked " + hold.reason;
  return hold;
}

struct Closure {
  std::set<std::string> functions;
  std::map<std::string, std::string> parents;  // caller -> callee that made it async
  std::map<std::string, std::string> sites;    // function -> "path:line" (its call, or its def)
  std::map<std::string, std::string> reasons;
  std::set<std::string> outside;
  std::vector<Stop> stops;
  std::set<std::pair<std::string, std::string>> suppressed;  // (rule, the comment's path:line)
};

constexpr const char* kClosureRule = "AW401";

// Why a comment keeps this caller from awaiting (or becoming async): its file is skip-file,
// the call's line or the caller's header says ignore for AW401. Empty when none does.
std::string caller_held(const ProjectIndex& index, const CallSite& site, Closure& closure) {
  const Suppressions* comments = suppressions_at(index, site.path());
  if (!comments) return {};
  if (comments->skip_file()) return "the caller's file is marked `# awaitify: skip-file`";
  std::string directive = comments->directive(site.fact().line, kClosureRule);
  if (!directive.empty()) {
    closure.suppressed.insert({kClosureRule, site.path() + ":" + std::to_string(site.fact().line)});
    return "the call is marked " + marked(directive, site.path(), site.fact().line);
  }
  const FunctionFacts& caller = *site.caller;
  if (caller.is_module || caller.is_async) return {};
  Hold hold = header_hold(index, caller, {kClosureRule});
  if (hold.by_ignore) closure.suppressed.insert({kClosureRule, hold.at});
  return hold.reason.empty() ? std::string()
                             : "the caller " + caller.qualified + " stays sync: " + hold.reason;
}

// "path:line function" from the seed (where it is defined) through each caller (where it
// makes the call) to function.
std::vector<std::string> chain_to(const Closure& closure, const std::string& function) {
  std::vector<std::string> chain;
  std::string current = function;
  for (;;) {
    auto site = closure.sites.find(current);
    chain.insert(chain.begin(), (site == closure.sites.end() ? "" : site->second + " ") + current);
    auto parent = closure.parents.find(current);
    if (parent == closure.parents.end()) break;
    current = parent->second;
  }
  return chain;
}

// A method of the same name in the class hierarchy would become async with `current`; when a
// comment holds it, the seed stops there instead.
bool stopped_by_held_method(const ProjectIndex& index, const Seed& seed, const std::string& current,
                            const FunctionFacts& related, Closure& closure) {
  Hold hold = header_hold(index, related, {kClosureRule});
  if (hold.reason.empty()) return false;
  if (hold.by_ignore) closure.suppressed.insert({kClosureRule, hold.at});
  std::vector<std::string> chain = chain_to(closure, current);
  chain.push_back(index.path_of(related) + ":" + std::to_string(related.line) + " " +
                  related.qualified);
  closure.stops.push_back(
      Stop{seed.function, seed.origin, chain,
           "a method of the same name in its class hierarchy stays sync: " + hold.reason});
  return true;
}

Closure close_over(const ProjectIndex& index, const Seed& seed, const PlanOptions& options) {
  Closure closure;
  std::deque<std::string> pending{seed.function};
  closure.functions.insert(seed.function);
  closure.reasons[seed.function] = seed.reason;
  if (const FunctionFacts* fn = index.function(seed.function)) {
    closure.sites[seed.function] = index.path_of(*fn) + ":" + std::to_string(fn->line);
  }
  auto add = [&](const std::string& function, const std::string& parent, const std::string& why,
                 const std::string& where) {
    if (!closure.functions.insert(function).second) return;
    closure.parents[function] = parent;
    closure.sites[function] = where;
    closure.reasons[function] = why;
    pending.push_back(function);
  };
  while (!pending.empty()) {
    std::string current = pending.front();
    pending.pop_front();
    const FunctionFacts* fn = index.function(current);
    if (!fn) continue;
    for (const FunctionFacts* related : index.related_methods(*fn)) {
      if (!related->is_async && !stopped_by_held_method(index, seed, current, *related, closure)) {
        add(related->qualified, current,
            "shares the method name with " + current + " in its class hierarchy",
            index.path_of(*related) + ":" + std::to_string(related->line));
      }
    }
    if (!fn->class_name.empty()) {
      // A method may also run where the index cannot see the object's type.
      for (const CallSite& site : index.unresolved_calls_named(fn->name())) {
        if (site.fact().awaited) continue;
        // A test's fixture argument (`client.get(...)`) holds this class only if a fixture builds
        // one.
        if (!site.fact().passed_to.empty() && is_pytest_test(*site.caller, site.path()) &&
            !fixture_builds(index, fn->class_name)) {
          continue;
        }
        std::vector<std::string> chain = chain_to(closure, current);
        chain.push_back(site_text(site));
        closure.stops.push_back(Stop{seed.function, seed.origin, chain,
                                     "`." + fn->name() +
                                         "(...)` is called on an object whose type the "
                                         "index cannot tell; it may be this method"});
      }
    }
    bool generator = fn->is_generator && !fn->is_async;
    for (const CallSite& site : index.call_sites_of(current)) {
      if (site.fact().awaited || (fn->is_async && site.fact().as_argument)) continue;
      if (generator) {
        // An async generator is iterated with `async for`, not awaited: callers are not rewritten.
        std::vector<std::string> chain = chain_to(closure, current);
        chain.push_back(site_text(site));
        closure.stops.push_back(Stop{
            seed.function, seed.origin, chain,
            "calls a generator that would become an async generator (iterate it with async for)"});
        continue;
      }
      std::string why = caller_refusal(index, site, options);
      if (why.empty()) why = caller_held(index, site, closure);
      if (!why.empty()) {
        std::vector<std::string> chain = chain_to(closure, current);
        chain.push_back(site_text(site));
        closure.stops.push_back(Stop{seed.function, seed.origin, chain, why});
        continue;
      }
      if (site.caller->is_module || site.caller->is_async) continue;  // asyncio.run / await only
      if (!options.selected_paths.empty() && !options.selected_paths.count(site.path())) {
        closure.outside.insert(site.path());
      }
      std::string where = site.path() + ":" + std::to_string(site.fact().line);
      add(site.caller->qualified, current, "calls " + current + " (" + where + ")", where);
    }
    for (const CallSite& site : index.references_to(current)) {
      if (dependency_injection(site.fact().passed_to))
        continue;  // FastAPI awaits async dependencies
      // `await run_in_threadpool(load, path)`, written by an earlier phase while `load` still
      // blocked: the closure pass unwraps it to `await load(path)`.
      if (is_threadpool_runner(site.fact().passed_to) && fn->class_name.empty()) continue;
      std::vector<std::string> chain = chain_to(closure, current);
      chain.push_back(site_text(site));
      std::string callee = site.fact().passed_to.empty() ? "a call" : site.fact().passed_to;
      closure.stops.push_back(
          Stop{seed.function, seed.origin, chain,
               "passed as a value to " + callee + ", which would receive a coroutine function"});
    }
  }
  return closure;
}

}  // namespace

std::string chain_text(const Stop& stop) {
  std::string text;
  for (const std::string& link : stop.chain) text += (text.empty() ? "" : " → ") + link;
  return text;
}

std::string refusal_text(const Stop& stop) {
  if (stop.held) return "`" + stop.seed + "` stays as it is: " + stop.reason;
  return "making `" + stop.seed + "` async would leave a caller with a coroutine: " + stop.reason +
         " (" + chain_text(stop) + ")";
}

std::string Plan::reason(const std::string& qualified) const {
  auto it = reasons_.find(qualified);
  return it == reasons_.end() ? std::string() : it->second;
}

std::vector<Stop> Plan::stops_for(const std::string& seed) const {
  std::vector<Stop> result;
  auto found = stops_by_seed_.find(seed);
  if (found == stops_by_seed_.end()) return result;
  for (size_t at : found->second) result.push_back(stops_[at]);
  return result;
}

namespace {

struct SeedOutcome {
  Seed seed;
  const FunctionFacts* fn = nullptr;
  Closure closure;
};

bool outside_selection(const PlanOptions& options, const std::string& path) {
  return !options.selected_paths.empty() && !options.selected_paths.count(path);
}

// A grouped seed outside the selected paths: pulled into the run, or (--no-expand) refused.
void place_group_member(const ProjectIndex& index, SeedOutcome& outcome,
                        const PlanOptions& options) {
  std::string path = index.path_of(*outcome.fn);
  if (outcome.seed.group.empty() || !outside_selection(options, path)) return;
  if (options.expand) {
    outcome.closure.outside.insert(path);
    return;
  }
  outcome.closure.stops.push_back(
      Stop{outcome.seed.function,
           outcome.seed.origin,
           {path + ":" + std::to_string(outcome.fn->line) + " " + outcome.seed.function},
           "it must change with the selected code (" + outcome.seed.reason +
               ") but is outside the selected paths (--no-expand)"});
}

// One refused member keeps its whole group as it is.
void refuse_groups(std::vector<SeedOutcome>& outcomes) {
  std::map<std::string, std::string> refused;  // group -> the member that refused
  for (const SeedOutcome& outcome : outcomes) {
    if (!outcome.seed.group.empty() && !outcome.closure.stops.empty()) {
      refused.emplace(outcome.seed.group, outcome.seed.function);
    }
  }
  for (SeedOutcome& outcome : outcomes) {
    auto culprit = refused.find(outcome.seed.group);
    if (outcome.seed.group.empty() || culprit == refused.end() || !outcome.closure.stops.empty())
      continue;
    outcome.closure.stops.push_back(
        Stop{outcome.seed.function,
             outcome.seed.origin,
             {outcome.seed.function},
             "it must change together with " + culprit->second + ", which stays as it is"});
  }
}

}  // namespace

Plan build_plan(const ProjectIndex& index, const std::vector<Seed>& seeds,
                const PlanOptions& options) {
  Plan plan;
  plan.selected_ = options.selected_paths;
  for (const ModuleFacts* module : index.modules()) {
    for (const std::string& star : module->star_imports) {
      plan.unresolved_.push_back(
          module->path + ": `from " + star +
          " import *`: calls through the names it brings in are not followed");
    }
  }
  std::vector<SeedOutcome> outcomes;
  for (const Seed& seed : seeds) {
    const FunctionFacts* fn = index.function(seed.function);
    if (!fn) continue;
    SeedOutcome outcome{seed, fn, {}};
    outcome.seed.function = fn->qualified;
    Hold hold = seed_hold(index, *fn, outcome.seed, options);
    if (!hold.reason.empty()) {
      // Refused like a seed whose caller cannot await: its transform leaves it and says why.
      outcome.closure.stops.push_back(
          Stop{fn->qualified,
               seed.origin,
               {index.path_of(*fn) + ":" + std::to_string(fn->line) + " " + fn->qualified},
               hold.reason,
               true});
      if (hold.by_ignore) outcome.closure.suppressed.insert({hold.rule, hold.at});
    } else if (seed.becomes_async) {
      outcome.closure = close_over(index, outcome.seed, options);
    }
    place_group_member(index, outcome, options);
    outcomes.push_back(std::move(outcome));
  }
  refuse_groups(outcomes);
  for (SeedOutcome& outcome : outcomes) {
    const FunctionFacts* fn = outcome.fn;
    Closure& closure = outcome.closure;
    plan.seeds_.push_back(fn->qualified);
    plan.suppressed_.insert(closure.suppressed.begin(), closure.suppressed.end());
    if (!closure.stops.empty()) {
      plan.refused_.insert(fn->qualified);
      for (Stop& stop : closure.stops) {
        plan.stops_by_seed_[stop.seed].push_back(plan.stops_.size());
        plan.stops_.push_back(std::move(stop));
      }
      continue;
    }
    if (!outcome.seed.group.empty()) plan.members_.insert(fn->qualified);
    plan.pulled_in_.insert(closure.outside.begin(), closure.outside.end());
    SeedChange change{fn->qualified,      outcome.seed.group, outcome.seed.change_unit,
                      index.path_of(*fn), fn->line,           {}};
    change.functions = closure.functions;
    change.functions.insert(fn->qualified);
    plan.changes_.push_back(std::move(change));
    if (!outcome.seed.becomes_async) continue;
    if (fn->is_async) plan.repaired_.insert(fn->qualified);
    for (const std::string& function : closure.functions) {
      const FunctionFacts* member = index.function(function);
      if (member && member->is_async) continue;
      if (plan.async_.insert(function).second) {
        plan.reasons_[function] = closure.reasons[function];
        if (closure.parents.count(function)) plan.parents_[function] = closure.parents[function];
      }
    }
  }
  return plan;
}

std::vector<Seed> unawaited_async_seeds(const ProjectIndex& index) {
  std::vector<Seed> seeds;
  for (const FunctionFacts* fn : index.functions()) {
    if (!fn->is_async) continue;
    for (const CallSite& site : index.call_sites_of(fn->qualified)) {
      // `asyncio.run(main())` hands the coroutine over: nothing is forgotten there.
      if (!site.fact().awaited && !site.fact().as_argument && !site.caller->is_async) {
        seeds.push_back({fn->qualified,
                         "async def called without await (" + site.path() + ":" +
                             std::to_string(site.fact().line) + ")",
                         "AW401"});
        break;
      }
    }
  }
  return seeds;
}

namespace {

bool runs_in_body(const CallFact& call) {
  return call.context == CallContext::plain || call.context == CallContext::comprehension;
}

}  // namespace

std::optional<std::string> unwrappable_blocking(const ProjectIndex& index,
                                                const FunctionFacts& fn) {
  if (fn.holds_session) return "it uses a sync Session (migrate it with --phase db)";
  for (const CallFact& call : fn.blocking) {
    std::string at = "`" + call.target + "` (line " + std::to_string(call.line) + ")";
    if (!runs_in_body(call)) return at + " runs in " + describe(call.context);
    if (returns_blocking_resource(call.target))
      return at +
             " returns something whose use blocks too (a file, a process, a socket, a session, a "
             "lazy "
             "directory walk)";
    if (call.target.rfind("sqlalchemy.", 0) == 0)
      return at + " is sync SQLAlchemy (migrate it with --phase db)";
  }
  for (const CallFact& call : fn.calls) {
    const FunctionFacts* callee = index.function(call.target);
    if (callee && !callee->is_async && index.blocking_path(callee->qualified) &&
        !runs_in_body(call))
      return "`" + call.target + "` (line " + std::to_string(call.line) +
             "), which blocks, runs in " + describe(call.context);
  }
  return std::nullopt;
}

std::vector<Seed> path_operation_seeds(const ProjectIndex& index, const Settings& settings,
                                       const SeedScope&) {
  bool wrap = settings.get("wrap-blocking", "false") == "true";
  std::vector<Seed> seeds;
  for (const FunctionFacts* fn : index.functions()) {
    if (fn->is_async || !index.is_path_operation(*fn)) continue;
    if (!index.blocking_path(fn->qualified)) {
      seeds.push_back({fn->qualified, "path operation (AW501)", "AW501"});
    } else if (wrap && !unwrappable_blocking(index, *fn)) {
      seeds.push_back({fn->qualified,
                       "path operation, its blocking calls in the thread pool (AW501)", "AW501"});
    }  // else AW501 keeps it sync and says why
  }
  return seeds;
}

std::string Plan::describe() const {
  std::string out;
  std::map<std::string, std::vector<std::string>> children;
  for (const auto& [child, parent] : parents_) children[parent].push_back(child);
  std::function<void(const std::string&, int)> print = [&](const std::string& function, int depth) {
    out += std::string(2 * depth, ' ') + "async " + function + "  — " + reason(function) + "\n";
    for (const std::string& child : children[function]) print(child, depth + 1);
  };
  for (const std::string& function : async_) {
    if (!parents_.count(function) || !async_.count(parents_.at(function))) print(function, 0);
  }
  for (const Stop& stop : stops_) {
    out += "stop: " + stop.seed + " stays sync: " + stop.reason + "\n  " + chain_text(stop) + "\n";
  }
  for (const std::string& path : pulled_in_)
    out += "pulled in (outside the selected paths): " + path + "\n";
  if (!async_.empty() || !stops_.empty()) {
    for (const std::string& note : unresolved_) out += "unresolved: " + note + "\n";
  }
  return out;
}

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += "\\u00" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else
      out += c;
  }
  return out + "\"";
}

}  // namespace

std::string Plan::to_json() const {
  std::string out = "{\"async\": [";
  bool first = true;
  for (const std::string& function : async_) {
    out += std::string(first ? "" : ", ") + "{\"function\": " + json_string(function) +
           ", \"reason\": " + json_string(reason(function)) + "}";
    first = false;
  }
  out += "], \"stops\": [";
  first = true;
  for (const Stop& stop : stops_) {
    out += std::string(first ? "" : ", ") + "{\"seed\": " + json_string(stop.seed) +
           ", \"reason\": " + json_string(stop.reason) + ", \"chain\": [";
    for (size_t i = 0; i < stop.chain.size(); ++i)
      out += (i ? ", " : "") + json_string(stop.chain[i]);
    out += "]}";
    first = false;
  }
  out += "], \"pulled_in\": [";
  first = true;
  for (const std::string& path : pulled_in_) {
    out += std::string(first ? "" : ", ") + json_string(path);
    first = false;
  }
  return out + "]}\n";
}

}  // namespace awaitify
