#include "db_model.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "awaitify/union_find.hpp"

namespace awaitify::aw10x {

namespace {

bool bound_in(const ModuleFacts& facts, const std::string& name) {
  return !facts.resolve(name).empty() && facts.resolve(name).rfind("builtins.", 0) != 0;
}

const FunctionFacts* module_function(const ModuleFacts& facts, const std::string& name) {
  for (const FunctionFacts& fn : facts.function_facts) {
    if (fn.class_name.empty() && fn.qualified == facts.module + "." + name) return &fn;
  }
  return nullptr;
}

std::vector<std::string> sibling_candidates(const std::string& name) {
  std::vector<std::string> candidates;
  if (name.find("db") != std::string::npos && name.find("session") == std::string::npos) {
    std::string replaced = name;
    replaced.replace(replaced.find("db"), 2, "session");
    candidates.push_back(replaced);
  }
  if (name.rfind("get_", 0) == 0) candidates.push_back("get_async_" + name.substr(4));
  if (!name.empty() && std::isupper(static_cast<unsigned char>(name[0])))
    candidates.push_back("Async" + name);
  candidates.push_back("async_" + name);
  return candidates;
}

}  // namespace

bool migrates_in(const ModuleFacts& facts, const Plan& plan) {
  return std::any_of(facts.function_facts.begin(), facts.function_facts.end(),
                     [&](const FunctionFacts& fn) { return plan.migrates(fn.qualified); });
}

bool applies_where_plan_migrates(const ModuleFacts& facts, const ProjectIndex&, const Plan& plan) {
  return migrates_in(facts, plan);
}

std::string session_alias(const ProjectIndex& index, const FunctionFacts& fn) {
  for (const std::string& type : fn.parameter_types) {
    std::string target = index.alias_target(type);
    if (target != type && is_sync_session_type(target)) return type.substr(type.rfind('.') + 1);
  }
  return {};
}

namespace {

bool unseen_project_code(const ProjectIndex& index, const std::set<std::string>& first_party,
                         const std::string& target) {
  if (!first_party.count(target.substr(0, target.find('.')))) return false;
  for (std::string module = target; module.find('.') != std::string::npos;) {
    module = module.substr(0, module.rfind('.'));
    if (index.module(module)) return false;
  }
  return true;
}

bool is_provider(const FunctionFacts& fn) {
  return fn.is_generator && !fn.is_async && fn.class_name.empty();
}

// The async sibling of a provider already exists (an earlier run wrote it).
bool sibling_exists(const ProjectIndex& index, const FunctionFacts& provider) {
  const ModuleFacts* facts = index.module_for_path(index.path_of(provider));
  if (!facts) return false;
  const FunctionFacts* sibling = module_function(*facts, sibling_name(*facts, provider.name()));
  return sibling && sibling->is_async;
}

bool sync_constructor(const ModuleFacts& facts, TSNode call, std::string_view src,
                      std::initializer_list<std::string_view> names) {
  std::string target = facts.resolve(dotted_name(field(call, "function"), src));
  return std::find(names.begin(), names.end(), target) != names.end();
}

TSNode keyword_value(TSNode call, std::string_view name, std::string_view src) {
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "keyword_argument") && node_text(field(argument, "name"), src) == name) {
      return field(argument, "value");
    }
  }
  return TSNode{};
}

TSNode first_positional(TSNode call) {
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (!is(argument, "keyword_argument") && !is(argument, "comment")) return argument;
  }
  return TSNode{};
}

// `x = Maker()` / `with Maker() as x` / `Session(engine)` inside a provider's body.
void read_provider_body(const FileContext& context, Provider& provider) {
  std::string_view src = context.text();
  walk(field(provider.def, "body"), [&](TSNode node) {
    if (!is(node, "call")) return true;
    std::string callee = dotted_name(field(node, "function"), src);
    std::string target = context.facts.resolve(callee);
    if (is_sync_session_type(target)) {
      TSNode bind = first_positional(node);
      if (ts_node_is_null(bind)) bind = keyword_value(node, "bind", src);
      if (is(bind, "identifier")) provider.engine = std::string(node_text(bind, src));
      provider.sqlmodel = is_sqlmodel(target);
      return false;
    }
    if (!callee.empty() && callee.find('.') == std::string::npos && provider.maker.empty()) {
      auto instance = context.facts.instances.find(callee);
      if (instance != context.facts.instances.end() &&
          (instance->second == "sqlalchemy.orm.sessionmaker" ||
           instance->second == "sqlalchemy.orm.session.sessionmaker")) {
        provider.maker = callee;
      }
    }
    return true;
  });
}

}  // namespace

// The sync driver of a URL scheme -> its asyncio driver.
std::optional<std::string> async_scheme(const std::string& scheme) {
  static const std::map<std::string, std::string> drivers{
      {"sqlite", "sqlite+aiosqlite"},
      {"sqlite+pysqlite", "sqlite+aiosqlite"},
      {"postgresql", "postgresql+asyncpg"},
      {"postgres", "postgresql+asyncpg"},
      {"postgresql+psycopg2", "postgresql+asyncpg"},
      {"mysql", "mysql+aiomysql"},
      {"mysql+pymysql", "mysql+aiomysql"},
      {"mysql+mysqldb", "mysql+aiomysql"}};
  auto it = drivers.find(scheme);
  if (it != drivers.end()) return it->second;
  for (const char* async_driver :
       {"+aiosqlite", "+asyncpg", "+aiomysql", "+asyncmy", "+psycopg", "+aioodbc"}) {
    if (scheme.find(async_driver) != std::string::npos) return scheme;
  }
  return std::nullopt;
}

std::string scheme_without_async_driver(const ProjectIndex& index, const FunctionFacts& provider) {
  const ModuleFacts* module = index.module_for_path(index.path_of(provider));
  if (!module) return {};
  for (const CallFact& call : provider.calls) {
    if (call.target.rfind(module->module + ".", 0) != 0) continue;
    auto maker = module->maker_engines.find(call.target.substr(module->module.size() + 1));
    if (maker == module->maker_engines.end()) continue;
    auto scheme = module->engine_schemes.find(maker->second);
    if (scheme != module->engine_schemes.end() && !scheme->second.empty() &&
        !async_scheme(scheme->second)) {
      return scheme->second;
    }
  }
  return {};
}

std::optional<std::string> async_engine_of(const FileContext& context, const ModuleFacts& module,
                                           const std::string& engine) {
  auto scheme = module.engine_schemes.find(engine);
  if (scheme == module.engine_schemes.end()) return std::nullopt;
  if (!scheme->second.empty() && !async_scheme(scheme->second)) return std::nullopt;
  std::string sibling = sibling_name(module, engine);
  auto existing = module.instances.find(sibling);
  if (existing != module.instances.end() &&
      existing->second.rfind("sqlalchemy.ext.asyncio.", 0) == 0)
    return sibling;
  // AW101 writes the sibling of an engine only when a provider it migrates opens sessions on
  // it: through a maker bound to it, or `Session(engine)` in a module with that one engine.
  for (const FunctionFacts& fn : module.function_facts) {
    if (!fn.is_generator || !context.plan.migrates(fn.qualified)) continue;
    for (const CallFact& call : fn.calls) {
      if (call.target.rfind(module.module + ".", 0) == 0) {
        auto maker = module.maker_engines.find(call.target.substr(module.module.size() + 1));
        if (maker != module.maker_engines.end() && maker->second == engine) return sibling;
      }
      if (is_sync_session_type(call.target) && module.engine_schemes.size() == 1) return sibling;
    }
  }
  return std::nullopt;
}

bool is_sqlmodel(const std::string& qualified) {
  return qualified.rfind("sqlmodel", 0) == 0;
}

std::string sibling_name(const ModuleFacts& facts, const std::string& name) {
  std::vector<std::string> candidates = sibling_candidates(name);
  for (const std::string& candidate : candidates) {
    const FunctionFacts* existing = module_function(facts, candidate);
    if (existing && existing->is_async) return candidate;  // written by an earlier run
    auto instance = facts.instances.find(candidate);
    if (instance != facts.instances.end() &&
        instance->second.rfind("sqlalchemy.ext.asyncio.", 0) == 0) {
      return candidate;
    }
    if (!bound_in(facts, candidate)) return candidate;
  }
  return candidates.back() + "_";
}

std::optional<std::string> async_provider(const ProjectIndex& index, const Plan& plan,
                                          const std::string& target) {
  const FunctionFacts* provider = index.function(index.canonical(target));
  if (!provider || !is_provider(*provider) || provider->holds_session) return std::nullopt;
  const ModuleFacts* module = index.module_for_path(index.path_of(*provider));
  if (!module) return std::nullopt;
  std::string sibling = sibling_name(*module, provider->name());
  const FunctionFacts* written = module_function(*module, sibling);
  if ((written && written->is_async) || plan.migrates(provider->qualified)) return sibling;
  return std::nullopt;
}

std::vector<Seed> db_seeds(const ProjectIndex& index, const Settings&, const SeedScope&) {
  std::vector<const FunctionFacts*> holders;
  std::map<std::string, size_t> slot;
  std::set<size_t> through_alias;  // holders whose session parameter is typed by an alias
  for (const FunctionFacts* fn : index.functions()) {
    // Tests and fixtures keep their sync sessions: they set data up and check it, beside the app.
    if (is_pytest_file(index.path_of(*fn))) continue;
    std::string alias = session_alias(index, *fn);
    if (!fn->holds_session && alias.empty()) continue;
    if (!alias.empty()) through_alias.insert(holders.size());
    slot[fn->qualified] = holders.size();
    holders.push_back(fn);
  }
  UnionFind groups(holders.size());
  // The methods of a class holding a session share it through self.
  std::map<std::string, size_t> class_slot;
  for (size_t i = 0; i < holders.size(); ++i) {
    const std::string& cls = holders[i]->class_name;
    if (cls.empty()) continue;
    auto [it, added] = class_slot.emplace(cls, i);
    if (!added) groups.unite(it->second, i);
  }
  // A session passed to a holder (or to the constructor of a class holding one) is one session.
  for (size_t i = 0; i < holders.size(); ++i) {
    for (const auto* calls : {&holders[i]->calls, &holders[i]->blocking}) {
      for (const CallFact& call : *calls) {
        std::string target = index.canonical(call.target);
        if (auto callee = slot.find(target); callee != slot.end()) groups.unite(i, callee->second);
        if (auto cls = class_slot.find(target); cls != class_slot.end())
          groups.unite(i, cls->second);
      }
    }
  }
  // A session typed by an alias (`db: SessionDep`) stays sync: the alias, shared by other code,
  // is not rewritten, so neither is anything that shares that session.
  std::set<size_t> kept;
  for (size_t i : through_alias) kept.insert(groups.find(i));
  // A session handed to project code the index cannot see (a module outside the files it read)
  // might reach a sync caller there: keep that group.
  std::set<std::string> first_party = index.first_party_packages();
  for (size_t i = 0; i < holders.size(); ++i) {
    for (const CallFact& call : holders[i]->calls) {
      if (unseen_project_code(index, first_party, index.canonical(call.target)))
        kept.insert(groups.find(i));
    }
  }
  // A provider whose database has no asyncio driver keeps everything that depends on it.
  for (size_t i = 0; i < holders.size(); ++i) {
    for (const std::string& dependency : holders[i]->dependencies) {
      const FunctionFacts* provider = index.function(index.canonical(dependency));
      if (provider && !scheme_without_async_driver(index, *provider).empty())
        kept.insert(groups.find(i));
    }
  }
  std::vector<Seed> seeds;
  std::set<std::pair<std::string, std::string>> extra;  // (function, group) already seeded
  for (size_t i = 0; i < holders.size(); ++i) {
    const FunctionFacts* fn = holders[i];
    if (kept.count(groups.find(i))) continue;
    std::string group = "db:" + holders[groups.find(i)]->qualified;
    std::string reason = fn->class_name.empty() ? "uses a sync Session (db phase)"
                                                : "its class holds a sync Session (db phase)";
    // A dependency holding the session (`get_service(db) -> Service(db)`) goes async with it:
    // FastAPI awaits it, instead of running it in its thread pool.
    const auto& references = index.references_to(fn->qualified);
    bool dependency = std::any_of(references.begin(), references.end(), [](const CallSite& site) {
      return site.fact().passed_to == "fastapi.Depends" ||
             site.fact().passed_to == "fastapi.params.Depends";
    });
    bool becomes_async = !fn->is_async && (fn->session_awaits || (dependency && !fn->is_generator));
    seeds.emplace_back(fn->qualified, reason, kSessionId, group, becomes_async);
    seeds.back().refusal = fn->session_blocker;
    for (const std::string& dependency : fn->dependencies) {
      const FunctionFacts* provider = index.function(index.canonical(dependency));
      if (!provider || !is_provider(*provider) || provider->holds_session ||
          sibling_exists(index, *provider))
        continue;
      if (extra.emplace(provider->qualified, group).second) {
        seeds.emplace_back(provider->qualified,
                           "provides the session of " + fn->qualified + " (AW101)", kProviderId,
                           group, false);
      }
      // Tests that override the provider must override its async sibling too.
      for (const ModuleFacts* module : index.modules()) {
        const auto& overrides = module->overridden_dependencies;
        if (std::find(overrides.begin(), overrides.end(), provider->qualified) == overrides.end())
          continue;
        std::string pseudo = module->module + ".<module>";
        if (extra.emplace(pseudo, group).second) {
          seeds.emplace_back(pseudo, "overrides " + provider->qualified + " (AW101)", kProviderId,
                             group, false);
        }
      }
    }
  }
  return seeds;
}

const Engine* SyncStack::engine(const std::string& name) const {
  for (const Engine& engine : engines) {
    if (engine.name == name) return &engine;
  }
  return nullptr;
}

const Maker* SyncStack::maker(const std::string& name) const {
  for (const Maker& maker : makers) {
    if (maker.name == name) return &maker;
  }
  return nullptr;
}

const Provider* SyncStack::provider(const std::string& name) const {
  for (const Provider& provider : providers) {
    if (provider.name == name) return &provider;
  }
  return nullptr;
}

SyncStack find_sync_stack(const FileContext& context) {
  SyncStack stack;
  std::string_view src = context.text();
  for (TSNode statement : named_children(context.root)) {
    if (auto def = definition_of(statement)) {
      const FunctionFacts* fn =
          module_function(context.facts, std::string(node_text(field(*def, "name"), src)));
      if (!fn || !is_provider(*fn)) continue;
      Provider provider{fn->name(), *def, statement, {}, {}, false};
      read_provider_body(context, provider);
      if (!provider.maker.empty() || !provider.engine.empty()) stack.providers.push_back(provider);
      continue;
    }
    if (!is(statement, "expression_statement")) continue;
    TSNode assignment = ts_node_named_child(statement, 0);
    if (!is(assignment, "assignment")) continue;
    TSNode left = field(assignment, "left");
    TSNode right = field(assignment, "right");
    if (!is(left, "identifier") || !is(right, "call")) continue;
    std::string name(node_text(left, src));
    if (sync_constructor(context.facts, right, src,
                         {"sqlalchemy.create_engine", "sqlalchemy.engine.create_engine",
                          "sqlmodel.create_engine"})) {
      std::string target = context.facts.resolve(dotted_name(field(right, "function"), src));
      stack.engines.push_back(Engine{name, statement, right, is_sqlmodel(target)});
    } else if (sync_constructor(
                   context.facts, right, src,
                   {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})) {
      TSNode bind = keyword_value(right, "bind", src);
      if (ts_node_is_null(bind)) bind = first_positional(right);
      std::string engine =
          is(bind, "identifier") ? std::string(node_text(bind, src)) : std::string();
      stack.makers.push_back(Maker{name, statement, right, engine});
    }
  }
  return stack;
}

std::string from_module_binding(const FileContext& context, const std::string& local) {
  std::string_view src = context.text();
  std::string found;
  for (TSNode statement : named_children(context.root)) {
    if (!is(statement, "import_from_statement")) continue;
    for (TSNode name : named_children(statement)) {
      if (ts_node_eq(name, field(statement, "module_name"))) continue;
      TSNode bound = is(name, "aliased_import") ? field(name, "alias") : name;
      if (node_text(bound, src) == local)
        found = std::string(node_text(field(statement, "module_name"), src));
    }
  }
  return found;
}

void require_async_session(ImportEditor& imports, bool sqlmodel) {
  if (sqlmodel)
    imports.require_from("sqlmodel.ext.asyncio.session", "AsyncSession");
  else
    imports.require_from("sqlalchemy.ext.asyncio", "AsyncSession");
}

}  // namespace awaitify::aw10x
