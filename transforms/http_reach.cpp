#include "http_reach.hpp"

#include <algorithm>
#include <memory>
#include <tuple>

#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_client.hpp"
#include "http_migration.hpp"

namespace awaitify::http {

namespace {

constexpr int kMaxDepth = 16;

bool runs_in_scope(CallContext context) {
  return context == CallContext::plain || context == CallContext::comprehension;
}

}  // namespace

// The files as they were before this run, read once each: which requests calls of which
// function AW201 can move (the same analysis its seeds and pass use).
struct ReachFinder::Originals {
  using Position = std::tuple<std::string, uint32_t, uint32_t>;  // function, line, column
  std::map<std::string, std::set<Position>> movable;             // by path

  // scoped: --http-client scoped, where a call moves only if its statement can be wrapped.
  const std::set<Position>& of(const std::string& path, const ProjectIndex& index, bool scoped) {
    auto found = movable.find(path);
    if (found != movable.end()) return found->second;
    std::set<Position>& positions = movable[path];
    auto source = SourceFile::load(path);
    const ModuleFacts* facts = index.module_for_path(path);
    if (!source || !facts) return positions;
    Parser parser;
    auto tree = parser.parse(source->text());
    if (!tree) return positions;
    for (const ScopeSites& scope : file_sites(*facts, tree->root(), source->text(), &index)) {
      ScopeMigration migration = analyze_scope(scope, *facts, source->text());
      auto add = [&](TSNode call) {
        TSPoint at = ts_node_start_point(call);
        positions.emplace(scope.scope.qualified, at.row + 1, at.column + 1);
      };
      for (const RequestsCall& call : migration.calls) {
        std::string why;
        bool wrapped = (scoped || !call.client_options().empty()) && !call.stream;
        if (wrapped && ts_node_is_null(wrap_statement(call.call, source->text(), why))) continue;
        if (call.refusal.empty()) add(call.call);
      }
      for (const SessionUse& session : migration.sessions) {
        if (!session.refusal.empty()) continue;
        for (const RequestsCall& call : session.calls) add(call.call);
      }
    }
    return positions;
  }
};

ReachFinder::ReachFinder(const FileContext& context, const ModuleFacts& current)
    : context_(context),
      current_(current),
      aw201_(context.runs("AW201")),
      originals_(std::make_unique<Originals>()) {}

ReachFinder::~ReachFinder() = default;

bool is_requests_http_call(const std::string& target) {
  return !requests_function(target).empty() || is_request_method(session_member(target));
}

namespace {

// The module-level clients of either library in the project ("pkg.clients.http"), and their
// names alone (most calls are ruled out by the name before canonical() is asked).
struct LibraryInstances {
  std::set<std::string> qualified;
  std::set<std::string> names;
};

bool calls_http(const LibraryInstances& instances, const ProjectIndex& index,
                const std::string& target) {
  if (is_library_target(target) || is_requests_http_call(target)) return true;
  size_t dot = target.rfind('.');
  if (dot == std::string::npos) return false;
  std::string object = target.substr(0, dot);
  if (instances.qualified.count(object)) return true;
  if (!instances.names.count(object.substr(object.rfind('.') + 1))) return false;
  return instances.qualified.count(index.canonical(object)) > 0;
}

// Every project function whose calls reach an HTTP call: those making one, then their callers,
// transitively.
std::shared_ptr<const std::set<std::string>> functions_reaching_http(const ProjectIndex& index) {
  LibraryInstances instances;
  for (const ModuleFacts* module : index.modules()) {
    for (const auto& [name, type] : module->instances) {
      if (!is_library_target(type) && !is_requests_http_call(type + ".get")) continue;
      instances.qualified.insert(module->module + "." + name);
      instances.names.insert(name);
    }
  }
  auto reaching = std::make_shared<std::set<std::string>>();
  // Callers through calls are the index's call sites; through blocking calls (a project that
  // holds the library it calls), they are gathered here.
  std::map<std::string, std::vector<std::string>> blocking_callers;
  std::vector<std::string> frontier;
  for (const FunctionFacts* fn : index.functions()) {
    for (const auto* calls : {&fn->blocking, &fn->calls}) {
      for (const CallFact& call : *calls) {
        if (calls_http(instances, index, call.target)) {
          if (reaching->insert(fn->qualified).second) frontier.push_back(fn->qualified);
          continue;
        }
        if (calls != &fn->blocking) continue;
        if (const FunctionFacts* callee = index.function(call.target))
          blocking_callers[callee->qualified].push_back(fn->qualified);
      }
    }
  }
  auto reached = [&](const std::string& caller) {
    if (reaching->insert(caller).second) frontier.push_back(caller);
  };
  while (!frontier.empty()) {
    std::string callee = std::move(frontier.back());
    frontier.pop_back();
    for (const CallSite& site : index.call_sites_of(callee)) reached(site.caller->qualified);
    if (auto blocking = blocking_callers.find(callee); blocking != blocking_callers.end()) {
      for (const std::string& caller : blocking->second) reached(caller);
    }
  }
  return reaching;
}

}  // namespace

bool may_reach_http(const ModuleFacts& facts, const ProjectIndex& index) {
  auto reaching = index.memo<std::set<std::string>>("http.reaching",
                                                    [&] { return functions_reaching_http(index); });
  return std::any_of(facts.function_facts.begin(), facts.function_facts.end(),
                     [&](const FunctionFacts& fn) { return reaching->count(fn.qualified) > 0; });
}

bool ReachFinder::is_shared_client_call(const std::string& target) const {
  std::string prefix = current_.module + ".";
  if (target.rfind(prefix, 0) != 0) return false;
  std::string rest = target.substr(prefix.size());
  auto instance = current_.instances.find(rest.substr(0, rest.find('.')));
  return instance != current_.instances.end() && is_library_target(instance->second);
}

// `http_client.get(...)` on a module-level client, as the index resolves it
// ("pkg.clients.http_client.get").
bool ReachFinder::is_library_instance_call(const std::string& target) const {
  size_t dot = target.rfind('.');
  if (dot == std::string::npos) return false;
  auto type = context_.index.instance_type(target.substr(0, dot));
  return type && is_library_target(*type);
}

Reach ReachFinder::of_site(const Site& site) {
  if (is_library_target(site.target) || is_shared_client_call(site.target))
    return Reach{true, false};
  if (is_requests_http_call(site.target)) return Reach{false, true};
  const FunctionFacts* function = context_.index.function(site.target);
  return function ? of_function(*function, 0) : Reach{};
}

Reach ReachFinder::of_function(const FunctionFacts& function, int depth) {
  if (auto known = done_.find(function.qualified); known != done_.end()) return known->second;
  if (depth > kMaxDepth || !visiting_.insert(function.qualified).second) return Reach{};
  Reach reach;
  for (const auto* calls : {&function.blocking, &function.calls}) {
    for (const CallFact& call : *calls) {
      if (is_library_target(call.target) || is_library_instance_call(call.target)) {
        reach.httpx = true;
      } else if (is_requests_http_call(call.target)) {
        reach |= of_requests_call(function, call);
      } else if (const FunctionFacts* callee = context_.index.function(call.target)) {
        reach |= of_function(*callee, depth + 1);
      }
    }
  }
  visiting_.erase(function.qualified);
  done_[function.qualified] = reach;
  return reach;
}

Reach ReachFinder::of_requests_call(const FunctionFacts& function, const CallFact& call) {
  bool async_after = function.is_async || context_.plan.becomes_async(function.qualified);
  if (!aw201_ || !async_after || !runs_in_scope(call.context)) return Reach{false, true};
  bool scoped = context_.setting("http-client", "shared") == "scoped";
  const auto& movable = originals_->of(context_.index.path_of(function), context_.index, scoped);
  bool moves = movable.count({function.qualified, call.line, call.column}) > 0;
  return moves ? Reach{true, false} : Reach{false, true};
}

}  // namespace awaitify::http
