// The tests phase's model, answering: which unit a name holds, which fixture pytest gives a
// parameter, whether a unit converts in this run, and on which event loop an async test runs.
#include <algorithm>
#include <filesystem>
#include <functional>

#include "tests_client.hpp"

namespace awaitify::aw80x {

namespace fs = std::filesystem;

int scope_rank(const std::string& scope) {
  static const std::vector<std::string> order{"function", "class", "module", "package", "session"};
  auto it = std::find(order.begin(), order.end(), scope);
  return it == order.end() ? 0 : static_cast<int>(it - order.begin());
}

namespace {

const std::string& wider(const std::string& a, const std::string& b) { return scope_rank(b) > scope_rank(a) ? b : a; }

}  // namespace

const Unit* Model::unit_of(const std::string& function, const std::string& name) const {
  auto bound = bindings_.find({function, name});
  if (bound == bindings_.end()) return nullptr;
  auto found = units_.find(bound->second);
  return found == units_.end() ? nullptr : found->second.get();
}

const Unit* Model::provided_by(const std::string& fixture) const {
  auto provided = providers_.find(fixture);
  if (provided == providers_.end()) return nullptr;
  auto found = units_.find(provided->second);
  return found == units_.end() ? nullptr : found->second.get();
}

const FunctionInfo* Model::function(const std::string& qualified) const {
  auto found = functions_.find(qualified);
  return found == functions_.end() ? nullptr : found->second;
}

const FileFacts* Model::file(const std::string& path) const {
  auto found = files_.find(normal_path(path));
  return found == files_.end() ? nullptr : found->second.get();
}

std::string Model::refusal(const Unit& unit, const Plan& plan) const {
  if (!unit.refusals.empty()) return unit.refusals.front();
  for (const std::string& function : unit.not_async_yet) {
    if (plan.becomes_async(function)) continue;
    std::vector<Stop> stops = plan.stops_for(function);
    if (!stops.empty()) {
      return refusal_text(stops.front());
    }
    return "`" + function + "` is not made async in this run (its file is not selected, or " + kAsyncId +
           " is skipped)";
  }
  return {};
}

std::vector<Seed> Model::seeds() const {
  // A client converts only when every function it needs is async, so the seeds of one client
  // change together, and so do those of clients that share a function: one change unit each
  // (apply --interactive offers it whole; the plan still decides each seed on its own).
  std::map<std::string, std::string> leader;      // unit key -> another key of its cluster
  std::map<std::string, std::string> first_unit;  // function -> the first unit that needs it
  auto cluster = [&](std::string key) {
    while (leader[key] != key) key = leader[key];
    return key;
  };
  for (const auto& [key, unit] : units_) {
    if (!unit->refusals.empty()) continue;
    leader.emplace(key, key);
    for (const std::string& function : unit->not_async_yet) {
      auto [at, added] = first_unit.emplace(function, key);
      if (!added) leader[cluster(key)] = cluster(at->second);
    }
  }
  std::vector<Seed> seeds;
  std::set<std::string> seen;
  for (const auto& [key, unit] : units_) {
    if (!unit->refusals.empty()) continue;
    for (const std::string& function : unit->not_async_yet) {
      if (seen.insert(function).second) {
        seeds.push_back({function, "uses a TestClient that becomes an httpx.AsyncClient (" + std::string(kAsyncId) + ")",
                         kAsyncId});
        seeds.back().change_unit = std::string(kAsyncId) + ":" + cluster(key);
      }
    }
  }
  return seeds;
}

const FunctionInfo* Model::fixture_for(const FunctionInfo& requester, const std::string& name) const {
  auto path = function_paths_.find(requester.qualified);
  if (path == function_paths_.end()) return nullptr;
  // A fixture that overrides one of its own name requests the outer one.
  bool overriding = requester.is_fixture && requester.fixture_name == name;
  auto look = [&](const std::string& file_path) -> const FunctionInfo* {
    const FileFacts* facts = file(file_path);
    if (!facts) return nullptr;
    for (const FunctionInfo& fn : facts->functions) {
      if (fn.is_fixture && fn.fixture_name == name && !(overriding && &fn == &requester)) return &fn;
    }
    return nullptr;
  };
  if (!overriding) {
    if (const FunctionInfo* found = look(path->second)) return found;
  }
  for (fs::path dir = fs::path(path->second).parent_path();; dir = dir.parent_path()) {
    std::string conftest = normal_path((dir / "conftest.py").string());
    if (conftest != path->second) {
      if (const FunctionInfo* found = look(conftest)) return found;
    }
    if (dir.empty() || dir == dir.parent_path()) break;
  }
  return nullptr;
}

std::vector<const FunctionInfo*> Model::requested_fixtures(const FunctionInfo& function) const {
  std::vector<const FunctionInfo*> fixtures;
  auto add = [&](const FunctionInfo* fn) {
    if (fn && fn != &function && std::find(fixtures.begin(), fixtures.end(), fn) == fixtures.end()) {
      fixtures.push_back(fn);
    }
  };
  for (const Parameter& parameter : function.parameters) add(fixture_for(function, parameter.name));
  auto path = function_paths_.find(function.qualified);
  if (path == function_paths_.end()) return fixtures;
  for (const auto& [file_path, fn] : autouse_) {
    fs::path dir = fs::path(file_path).parent_path();
    bool visible = file_path == path->second ||
                   (fs::path(file_path).filename() == "conftest.py" &&
                    (dir.empty() || path->second.rfind(dir.string() + "/", 0) == 0));
    if (visible) add(fn);
  }
  return fixtures;
}

bool Model::async_after(const FunctionInfo& function, const Plan& plan) const {
  return function.is_async || plan.becomes_async(function.qualified);
}

std::string Model::loop_scope(const FunctionInfo& function, const Plan& plan) const {
  // need(f): the loop scope f and everything it depends on run in; a sync fixture adds none
  // of its own but passes on its dependencies' (it may hand their client on).
  std::map<const FunctionInfo*, std::string> memo;
  std::function<std::string(const FunctionInfo&)> need = [&](const FunctionInfo& fn) -> std::string {
    if (auto known = memo.find(&fn); known != memo.end()) return known->second;
    memo[&fn] = "function";  // cycles (broken fixture graphs) end here
    std::string scope = "function";
    if (fn.is_fixture && fn.is_async) {
      scope = !fn.loop_scope.empty() ? fn.loop_scope
              : !setup_.default_loop_scope.empty() ? setup_.default_loop_scope
                                                   : fn.scope;
    } else if (fn.is_fixture && async_after(fn, plan)) {
      scope = fn.scope;
    }
    for (const FunctionInfo* dependency : requested_fixtures(fn)) scope = wider(scope, need(*dependency));
    memo[&fn] = scope;
    return scope;
  };
  if (function.is_fixture) return need(function);
  std::string scope = "function";
  for (const FunctionInfo* dependency : requested_fixtures(function)) scope = wider(scope, need(*dependency));
  return scope;
}

}  // namespace awaitify::aw80x
