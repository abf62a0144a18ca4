#include "awaitify/index.hpp"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "awaitify/knowledge.hpp"
#include "awaitify/parallel.hpp"

namespace awaitify {

namespace {

constexpr int kMaxHops = 16;

std::pair<std::string, std::string> split_last(const std::string& qualified) {
  size_t dot = qualified.rfind('.');
  if (dot == std::string::npos) return {"", qualified};
  return {qualified.substr(0, dot), qualified.substr(dot + 1)};
}

bool is_session_registry(std::string_view constructor) {
  return constructor == "sqlalchemy.orm.sessionmaker" ||
         constructor == "sqlalchemy.orm.session.sessionmaker" ||
         constructor == "sqlalchemy.orm.scoped_session" ||
         constructor == "sqlalchemy.orm.scoping.scoped_session";
}

}  // namespace

// A file's scan cannot see that `SessionLocal` in `db = SessionLocal()` (or `ScopedSession` in
// `ScopedSession.query(X)`) is another module's sessionmaker or scoped_session: with every
// module known, the session I/O made through one is blocking, as on a Session parameter.
void ProjectIndex::resolve_session_registries() {
  for (auto& [name, facts] : modules_) {
    for (FunctionFacts& fn : facts.function_facts) {
      auto through_registry = [&](const CallFact& call) {
        size_t dot = call.target.rfind('.');
        if (dot == 0 || dot == std::string::npos ||
            !is_session_io_method(std::string_view(call.target).substr(dot + 1)))
          return false;
        auto type = instance_type(call.target.substr(0, dot));
        return type && is_session_registry(*type);
      };
      // Few functions have such a call: the others are not partitioned (which allocates).
      auto first = std::find_if(fn.calls.begin(), fn.calls.end(), through_registry);
      if (first == fn.calls.end()) continue;
      auto moved = std::stable_partition(
          first, fn.calls.end(), [&](const CallFact& call) { return !through_registry(call); });
      for (auto call = moved; call != fn.calls.end(); ++call) {
        CallFact blocking = *call;
        blocking.target = "sqlalchemy.orm.Session." + split_last(call->target).second;
        fn.blocking.push_back(std::move(blocking));
      }
      fn.calls.erase(moved, fn.calls.end());
    }
  }
}

namespace {

bool by_function(const std::pair<const FunctionFacts*, size_t>& a,
                 const std::pair<const FunctionFacts*, size_t>& b) {
  return std::less<const FunctionFacts*>()(a.first, b.first);
}

}  // namespace

ProjectIndex::ProjectIndex(std::vector<ModuleFacts> modules, unsigned jobs) {
  for (ModuleFacts& facts : modules) {
    std::string name = facts.module;
    path_to_module_[facts.path] = name;
    modules_[name] = std::move(facts);
  }
  for (const auto& [name, facts] : modules_) {
    module_by_name_.emplace(name, &facts);
    first_party_packages_.insert(name.substr(0, name.find('.')));
  }
  resolve_session_registries();
  size_t function_count = 0;
  for (const auto& [name, facts] : modules_) function_count += facts.function_facts.size();
  functions_.reserve(function_count);
  // Two functions of one name (a module and a class of one name, a redefinition): the last wins.
  for (const auto& [name, facts] : modules_) {
    for (size_t i = 0; i < facts.function_facts.size(); ++i) {
      const FunctionFacts& fn = facts.function_facts[i];
      functions_.insert_or_assign(fn.qualified, std::pair{&facts, i});
    }
  }
  for (const auto& [qualified, where] : functions_) {
    const FunctionFacts& fn = where.first->function_facts[where.second];
    if (fn.class_name.empty()) continue;
    methods_by_name_[qualified.substr(qualified.rfind('.') + 1)].push_back(&fn);
  }
  for (auto& [name, methods] : methods_by_name_) {
    std::sort(methods.begin(), methods.end(), [](const FunctionFacts* a, const FunctionFacts* b) {
      return a->qualified < b->qualified;
    });
  }
  // Finding the function each call and reference names is most of the work here, and reads
  // only the maps built above: it runs on `jobs` threads, a module each; the sites are then
  // filed in module order, as one thread would.
  std::vector<const ModuleFacts*> in_order;
  for (const auto& [name, facts] : modules_) in_order.push_back(&facts);
  // Each thread keeps what it found for each target (builtins.len, self.session.commit ...
  // are named by thousands of calls): a share of the modules each, taken in turns.
  std::vector<std::vector<const FunctionFacts*>> callees(in_order.size());
  unsigned shares = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(in_order.size())));
  parallel_for(shares, shares, [&](size_t share) {
    std::unordered_map<std::string_view, const FunctionFacts*> found;
    auto find = [&](const std::string& target) {
      auto [at, added] = found.try_emplace(target, nullptr);
      if (added) at->second = function(target);
      return at->second;
    };
    for (size_t i = share; i < in_order.size(); i += shares) {
      for (const FunctionFacts& fn : in_order[i]->function_facts) {
        for (const CallFact& call : fn.calls) callees[i].push_back(find(call.target));
        for (const CallFact& reference : fn.references)
          callees[i].push_back(find(reference.target));
      }
    }
  });
  for (size_t i = 0; i < in_order.size(); ++i) {
    const ModuleFacts& facts = *in_order[i];
    auto callee = callees[i].begin();
    for (const FunctionFacts& fn : facts.function_facts) {
      first_callee_.emplace_back(&fn, callees_.size());
      callees_.insert(callees_.end(), callee, callee + static_cast<long>(fn.calls.size()));
      for (const CallFact& call : fn.calls) {
        if (const FunctionFacts* called = *callee++) {
          call_sites_[called->qualified].push_back(CallSite{&fn, &facts.path, &call});
        }
      }
      for (const CallFact& reference : fn.references) {
        if (const FunctionFacts* referenced = *callee++) {
          references_[referenced->qualified].push_back(CallSite{&fn, &facts.path, &reference});
        }
      }
      for (const CallFact& call : fn.unresolved_methods) {
        unresolved_methods_[call.target].push_back(CallSite{&fn, &facts.path, &call});
      }
    }
    for (const auto& [local, target] : facts.imports) {
      // `from pkg import mod` and `from pkg.mod import name` both import pkg.mod.
      std::string imported = target;
      while (!imported.empty()) {
        if (imported != facts.module) imported_modules_.insert(imported);
        size_t dot = imported.rfind('.');
        imported = dot == std::string::npos ? "" : imported.substr(0, dot);
      }
    }
  }
  std::sort(first_callee_.begin(), first_callee_.end(), by_function);
}

const FunctionFacts* ProjectIndex::callee(const FunctionFacts& caller, size_t call) const {
  auto at = std::lower_bound(first_callee_.begin(), first_callee_.end(),
                             std::make_pair(&caller, size_t{0}), by_function);
  if (at == first_callee_.end() || at->first != &caller || call >= caller.calls.size())
    return function(caller.calls.at(call).target);  // not this index's: found now
  return callees_[at->second + call];
}

const ModuleFacts* ProjectIndex::module(const std::string& dotted) const {
  auto it = module_by_name_.find(dotted);
  return it == module_by_name_.end() ? nullptr : it->second;
}

const ModuleFacts* ProjectIndex::module_for_path(const std::string& path) const {
  auto it = path_to_module_.find(path);
  return it == path_to_module_.end() ? nullptr : module(it->second);
}

std::string ProjectIndex::canonical(const std::string& qualified) const {
  std::string current = qualified;
  for (int hop = 0; hop < kMaxHops; ++hop) {
    // The longest prefix that names a project module; the next segment is a name in it. Most
    // names are asked for many times: the prefixes are looked up as views, not copies.
    std::string_view prefix = current;
    const ModuleFacts* facts = nullptr;
    while (!prefix.empty()) {
      if (auto it = module_by_name_.find(prefix); it != module_by_name_.end()) {
        facts = it->second;
        break;
      }
      size_t dot = prefix.rfind('.');
      prefix = dot == std::string_view::npos ? std::string_view() : prefix.substr(0, dot);
    }
    if (!facts || prefix.size() == current.size()) return current;
    std::string_view rest = std::string_view(current).substr(prefix.size() + 1);
    size_t dot = rest.find('.');
    auto it = facts->imports.find(std::string(rest.substr(0, dot)));
    if (it == facts->imports.end()) return current;
    current = it->second + std::string(dot == std::string_view::npos ? "" : rest.substr(dot));
  }
  return current;
}

std::optional<std::string> ProjectIndex::instance_type(const std::string& qualified) const {
  auto [module_name, name] = split_last(canonical(qualified));
  const ModuleFacts* facts = module(module_name);
  if (!facts) return std::nullopt;
  auto it = facts->instances.find(name);
  if (it == facts->instances.end()) return std::nullopt;
  return it->second;
}

bool ProjectIndex::is_fastapi_app(const std::string& qualified) const {
  auto type = instance_type(qualified);
  return type && is_fastapi_constructor(*type);
}

bool ProjectIndex::is_fastapi_app_or_router(const std::string& qualified) const {
  auto type = instance_type(qualified);
  return type && (is_fastapi_constructor(*type) || is_router_constructor(*type));
}

bool ProjectIndex::derives_from(const std::string& qualified_class, const std::string& base) const {
  std::vector<std::string> pending{qualified_class};
  for (int hop = 0; hop < kMaxHops && !pending.empty(); ++hop) {
    std::vector<std::string> next;
    for (const std::string& cls : pending) {
      std::string name = canonical(cls);
      if (name == base) return true;
      auto [module_name, class_name] = split_last(name);
      const ModuleFacts* facts = module(module_name);
      if (!facts) continue;
      auto it = facts->classes.find(class_name);
      if (it == facts->classes.end()) continue;
      next.insert(next.end(), it->second.bases.begin(), it->second.bases.end());
    }
    pending = std::move(next);
  }
  return false;
}

std::string ProjectIndex::alias_target(const std::string& qualified) const {
  std::string current = canonical(qualified);
  for (int hop = 0; hop < kMaxHops; ++hop) {
    auto [module_name, name] = split_last(current);
    const ModuleFacts* facts = module(module_name);
    if (!facts) return current;
    auto it = facts->type_aliases.find(name);
    if (it == facts->type_aliases.end()) return current;
    current = canonical(it->second);
  }
  return current;
}

const FunctionFacts* ProjectIndex::function(const std::string& qualified) const {
  std::string name = canonical(qualified);
  auto it = functions_.find(name);
  if (it == functions_.end()) {
    // `catalog.price()` where `catalog = PriceCatalog(...)` at module level: the class's method.
    auto [object, method] = split_last(name);
    auto type = object.empty() ? std::nullopt : instance_type(object);
    if (type) it = functions_.find(canonical(*type) + "." + method);
  }
  if (it == functions_.end()) return nullptr;
  return &it->second.first->function_facts[it->second.second];
}

std::optional<BlockingPath> ProjectIndex::blocking_path(const std::string& qualified) const {
  std::vector<std::string> seen;
  return blocking_path(qualified, 0, seen);
}

std::string ProjectIndex::blocking_chain(const std::string& qualified) const {
  auto path = blocking_path(qualified);
  if (!path) return {};
  std::string chain;
  for (const std::string& function : path->functions) chain += function + " -> ";
  return chain + path->call.target + " (" + path->path + ":" + std::to_string(path->call.line) +
         ")";
}

std::optional<BlockingPath> ProjectIndex::blocking_path(const std::string& qualified, int depth,
                                                        std::vector<std::string>& seen) const {
  std::string name = canonical(qualified);
  if (depth > kMaxHops || std::find(seen.begin(), seen.end(), name) != seen.end()) return {};
  seen.push_back(name);
  const FunctionFacts* fn = function(name);
  if (!fn || fn->is_async) return {};
  if (!fn->blocking.empty()) {
    return BlockingPath{
        {fn->qualified}, fn->blocking.front(), functions_.find(fn->qualified)->second.first->path};
  }
  for (const CallFact& call : fn->calls) {
    if (auto inner = blocking_path(call.target, depth + 1, seen)) {
      inner->functions.insert(inner->functions.begin(), fn->qualified);
      return inner;
    }
  }
  return {};
}

std::vector<std::string> ProjectIndex::callers_of(const std::string& qualified) const {
  std::vector<std::string> result;
  for (const CallSite& site : call_sites_of(qualified)) {
    result.push_back(site.path() + ":" + std::to_string(site.fact().line));
  }
  return result;
}

const std::vector<CallSite>& ProjectIndex::call_sites_of(const std::string& qualified) const {
  static const std::vector<CallSite> none;
  const FunctionFacts* fn = function(qualified);
  auto it = fn ? call_sites_.find(fn->qualified) : call_sites_.end();
  return it == call_sites_.end() ? none : it->second;
}

const std::vector<CallSite>& ProjectIndex::references_to(const std::string& qualified) const {
  static const std::vector<CallSite> none;
  const FunctionFacts* fn = function(qualified);
  auto it = fn ? references_.find(fn->qualified) : references_.end();
  return it == references_.end() ? none : it->second;
}

std::string ProjectIndex::path_of(const FunctionFacts& function) const {
  auto it = functions_.find(function.qualified);
  return it == functions_.end() ? std::string() : it->second.first->path;
}

bool ProjectIndex::imported_by_project(const std::string& module) const {
  return imported_modules_.count(module) > 0;
}

bool ProjectIndex::is_path_operation(const FunctionFacts& function) const {
  for (const std::string& decorator : function.decorators) {
    auto [object, method] = split_last(decorator);
    if (object.empty() || !is_route_decorator_method(method)) continue;
    if (is_fastapi_constructor(object) || is_router_constructor(object)) return true;
    if (is_fastapi_app_or_router(object)) return true;
  }
  return false;
}

std::vector<const FunctionFacts*> ProjectIndex::related_methods(const FunctionFacts& method) const {
  std::vector<const FunctionFacts*> related;
  if (method.class_name.empty()) return related;
  auto namesakes = methods_by_name_.find(
      std::string_view(method.qualified).substr(method.qualified.rfind('.') + 1));
  if (namesakes == methods_by_name_.end()) return related;
  for (const FunctionFacts* other : namesakes->second) {
    if (other == &method) continue;
    if (derives_from(other->class_name, method.class_name) ||
        derives_from(method.class_name, other->class_name)) {
      related.push_back(other);
    }
  }
  return related;
}

std::shared_ptr<const void> ProjectIndex::memo_value(
    const std::string& key, const std::function<std::shared_ptr<const void>()>& make) const {
  std::shared_ptr<Memo::Entry> entry;
  {
    std::lock_guard<std::mutex> lock(memo_->mutex);
    std::shared_ptr<Memo::Entry>& slot = memo_->entries[key];
    if (!slot) slot = std::make_shared<Memo::Entry>();
    entry = slot;
  }
  std::lock_guard<std::mutex> lock(entry->mutex);
  if (!entry->made) {
    entry->value = make();
    entry->made = true;
  }
  return entry->value;
}

const std::vector<CallSite>& ProjectIndex::unresolved_calls_named(const std::string& method) const {
  static const std::vector<CallSite> none;
  auto it = unresolved_methods_.find(method);
  return it == unresolved_methods_.end() ? none : it->second;
}

const std::set<std::string>& ProjectIndex::first_party_packages() const {
  return first_party_packages_;
}

std::vector<std::string> ProjectIndex::roles(const FunctionFacts& function) const {
  std::vector<std::string> roles;
  auto decorated = [&](std::string_view method) {
    for (const std::string& decorator : function.decorators) {
      auto [object, name] = split_last(decorator);
      if (name == method && (is_fastapi_app_or_router(object) || is_fastapi_constructor(object) ||
                             is_router_constructor(object))) {
        return true;
      }
    }
    return false;
  };
  if (is_path_operation(function)) roles.push_back("path operation");
  for (const CallSite& site : references_to(function.qualified)) {
    const std::string& callee = site.fact().passed_to;
    if (callee == "fastapi.Depends" || callee == "fastapi.Security") {
      roles.push_back("dependency");
      break;
    }
  }
  if (decorated("middleware") ||
      derives_from(function.class_name, std::string(kBaseHttpMiddleware)))
    if (function.name() == "dispatch" || function.class_name.empty()) roles.push_back("middleware");
  if (decorated("on_event")) roles.push_back("event handler");
  std::string path = path_of(function);
  std::string file = path.substr(path.rfind('/') + 1);
  bool test_file = file.rfind("test_", 0) == 0 || file == "conftest.py" ||
                   (file.size() > 8 && file.compare(file.size() - 8, 8, "_test.py") == 0);
  bool fixture = false;
  for (const std::string& decorator : function.decorators) {
    fixture |= decorator == "pytest.fixture" || decorator == "pytest_asyncio.fixture";
  }
  if (fixture)
    roles.push_back("fixture");
  else if (test_file && function.name().rfind("test", 0) == 0 && !function.is_module)
    roles.push_back("test");
  return roles;
}

std::vector<const ModuleFacts*> ProjectIndex::modules() const {
  std::vector<const ModuleFacts*> result;
  for (const auto& [name, facts] : modules_) result.push_back(&facts);
  return result;
}

std::vector<const FunctionFacts*> ProjectIndex::functions() const {
  std::vector<const FunctionFacts*> result;
  for (const auto& [name, facts] : modules_) {
    for (const FunctionFacts& fn : facts.function_facts) result.push_back(&fn);
  }
  return result;
}

}  // namespace awaitify
