#pragma once
// The async closure: from the functions a phase makes async (the seeds), every project caller
// that must become async and await them, across modules — or, where the chain meets a caller
// that cannot be async, the seed stays sync and the stop is reported with its chain.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "awaitify/index.hpp"

namespace awaitify {

struct Settings;

struct Seed {
  Seed() = default;
  Seed(std::string function, std::string reason, std::string origin, std::string group = {},
       bool becomes_async = true)
      : function(std::move(function)),
        reason(std::move(reason)),
        origin(std::move(origin)),
        group(std::move(group)),
        becomes_async(becomes_async) {}

  std::string function;  // qualified
  std::string reason;    // why it becomes async ("path operation (AW501)")
  std::string origin;    // the transform that seeded it, which reports a refusal
  // Seeds of one group migrate together or not at all (functions that pass one session
  // between them must agree on its type). One member in the selected paths brings the whole
  // group into the run; a member the closure refuses keeps every member as it is.
  std::string group;
  // A group member that changes without becoming async (`__init__` storing the session).
  bool becomes_async = true;
  // Why its phase already knows it cannot change (`with db.connection()`): the plan refuses it,
  // and its group, as it does a seed a comment holds.
  std::string refusal;
  // Seeds of one change unit only make sense together, though the plan decides each on its own
  // (the tests of one client AW801 converts): `apply --interactive` offers them as one set.
  std::string change_unit;
};

// The files a run selected. A seed outside them is dropped unless its group reaches in
// (collect_seeds): a seed function whose seeds have no group may skip the other files' work
// (parsing them, on a large project, for a pre-commit run on three files).
struct SeedScope {
  const std::set<std::string>* paths = nullptr;  // null: every file
  unsigned jobs = 1;  // threads a seed function may use for work of its own (0: every core)
  bool covers(const std::string& path) const { return !paths || paths->count(path) > 0; }
};

struct Stop {
  std::string seed;
  std::string origin;
  std::vector<std::string> chain;  // "path:line function" from the seed to the stopping caller
  std::string reason;
  // A `# awaitify:` comment holds the seed itself (skip-file, or ignore on its def line or on a
  // line it would change): no caller is involved.
  bool held = false;
};

// "a.py:12 f → b.py:40 g → c.py:7 main": from the seed to the caller that stopped it.
std::string chain_text(const Stop& stop);
// Why a refused seed stays sync, for findings: "making `f` async would leave a caller with a
// coroutine: <reason> (<chain>)", or "`f` stays as it is: <reason>" when a comment holds it.
std::string refusal_text(const Stop& stop);

struct PlanOptions {
  // Files the run may write; callers elsewhere in the project are pulled in when `expand`,
  // else they stop the closure. Empty: every file of the index.
  std::set<std::string> selected_paths;
  bool expand = true;
  // The tests phase runs (AW802 makes the tests and fixtures the closure reaches async, with
  // their pytest marker): they join the closure instead of stopping it. Without it, an async
  // test would be skipped by pytest, so a test or fixture caller stops the closure.
  bool tests_join_closure = false;
  // Seeds (qualified) to keep as they are, as a `# awaitify: ignore` on their definition would:
  // the change sets `apply --interactive` was told not to apply. What depends on them stays too.
  std::set<std::string> held{};
};

// What one accepted seed changes: the seed and every function its closure makes async (or
// whose calls it repairs). `apply --interactive` groups these into change sets.
struct SeedChange {
  std::string seed;         // qualified
  std::string group;        // Seed::group
  std::string change_unit;  // Seed::change_unit
  std::string path;         // where the seed is defined
  uint32_t line = 0;
  std::set<std::string> functions;
};

class Plan {
 public:
  bool becomes_async(const std::string& qualified) const { return async_.count(qualified) > 0; }
  bool refused(const std::string& seed) const { return refused_.count(seed) > 0; }
  // An async function that sync code called without await, whose callers this run repairs.
  bool repairs(const std::string& qualified) const { return repaired_.count(qualified) > 0; }
  // Why a function is in the plan: its seed reason, or "calls X (path:line)".
  std::string reason(const std::string& qualified) const;
  const std::vector<Stop>& stops() const { return stops_; }
  // What the index could not follow (star imports), so the closure may miss callers there.
  const std::vector<std::string>& unresolved() const { return unresolved_; }
  std::vector<Stop> stops_for(const std::string& seed) const;
  // Files outside the selection that the plan changes.
  const std::set<std::string>& pulled_in() const { return pulled_in_; }
  // Whether the run's passes go over this file: it is selected, or the closure pulled it in.
  bool covers(const std::string& path) const {
    return selected_.empty() || selected_.count(path) > 0 || pulled_in_.count(path) > 0;
  }
  const std::set<std::string>& functions() const { return async_; }
  // Each accepted seed with what it changes, in seed order.
  const std::vector<SeedChange>& changes() const { return changes_; }
  bool empty() const { return async_.empty() && repaired_.empty() && members_.empty(); }
  // A member of a seed group the plan accepted (see Seed::group).
  bool migrates(const std::string& qualified) const { return members_.count(qualified) > 0; }
  // The `# awaitify: ignore` comments that kept something out of the closure (a function whose
  // header or changed line says ignore, a call that may not be awaited): (rule, "path:line").
  const std::set<std::pair<std::string, std::string>>& suppressed() const { return suppressed_; }
  // A readable tree of the closure: which functions become async and why, and the stops.
  std::string describe() const;
  std::string to_json() const;

 private:
  friend Plan build_plan(const ProjectIndex&, const std::vector<Seed>&, const PlanOptions&);
  std::set<std::string> async_;
  std::map<std::string, std::string> reasons_;
  std::map<std::string, std::string> parents_;  // function -> the async function it calls
  std::vector<std::string> seeds_;
  std::set<std::string> refused_;
  std::set<std::string> repaired_;
  std::vector<Stop> stops_;
  // Where each seed's stops are in stops_: passes ask for every function of every file.
  std::map<std::string, std::vector<size_t>> stops_by_seed_;
  std::set<std::string> pulled_in_;
  std::set<std::string> selected_;  // empty: every file of the index
  std::vector<std::string> unresolved_;
  std::set<std::string> members_;
  std::set<std::pair<std::string, std::string>> suppressed_;
  std::vector<SeedChange> changes_;
};

Plan build_plan(const ProjectIndex& index, const std::vector<Seed>& seeds,
                const PlanOptions& options);

// Seeds for the services phase on its own: project functions that are already async but are
// called without await from sync code (a coroutine that never runs).
std::vector<Seed> unawaited_async_seeds(const ProjectIndex& index);
// Seeds for the routes phase: path operations that make no blocking call; with --wrap-blocking
// also those whose blocking calls can all run in the thread pool.
std::vector<Seed> path_operation_seeds(const ProjectIndex& index, const Settings& settings,
                                       const SeedScope& scope = {});
// With --wrap-blocking, why a blocking function's calls cannot all run in the thread pool once
// it is async (the closure wraps them): a call that hands back something whose use blocks (a
// file, a process, a socket), one in a lambda, sync SQLAlchemy. nullopt: they all can.
std::optional<std::string> unwrappable_blocking(const ProjectIndex& index, const FunctionFacts& fn);

}  // namespace awaitify
