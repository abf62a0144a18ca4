// The tests phase's model of a project: which names hold which client, joined across files
// through pytest's fixtures (by name, through conftest.py files) and through helpers a client
// is handed to; then, per unit (one client object), whether it can become an AsyncClient.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "awaitify/discover.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/parallel.hpp"
#include "awaitify/syntax.hpp"
#include "tests_client.hpp"

namespace awaitify::aw80x {

namespace fs = std::filesystem;

// Pytest's configuration and the project's habits: tests_setup.cpp.
PytestSetup read_pytest_setup(const ProjectIndex& index,
                              const std::vector<std::shared_ptr<const FileFacts>>& files);

namespace {

constexpr const char* kReturned = "<return>";

// ---------------------------------------------------------------- reading each file once

struct CachedFacts {
  size_t hash = 0;
  std::string module;
  std::shared_ptr<const FileFacts> facts;
};

// Every pass asks for the model, so a file's facts are kept by path and content; a file that
// changed (the golden runner's second run, an edit) is read again.
class KeptFacts {
 public:
  static KeptFacts& instance() {
    static KeptFacts kept;
    return kept;
  }
  // The facts read from this very text of the file, or null.
  std::shared_ptr<const FileFacts> find(const ModuleFacts& module, std::string_view text) {
    std::string key = normal_path(module.path);
    size_t hash = std::hash<std::string_view>{}(text);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_path_.find(key);
    if (it == by_path_.end() || it->second.hash != hash || it->second.module != module.module)
      return nullptr;
    return it->second.facts;
  }
  void keep(const ModuleFacts& module, std::string_view text,
            std::shared_ptr<const FileFacts> facts) {
    std::string key = normal_path(module.path);
    size_t hash = std::hash<std::string_view>{}(text);
    std::lock_guard<std::mutex> lock(mutex_);
    by_path_[key] = {hash, module.module, std::move(facts)};
  }

 private:
  std::mutex mutex_;
  std::map<std::string, CachedFacts> by_path_;
};

// The kept facts of the text, else a read of it: of `root`, a tree of `text`, when given.
std::shared_ptr<const FileFacts> facts_of(const ModuleFacts& module, std::string_view text,
                                          TSNode root = TSNode{}) {
  if (auto kept = KeptFacts::instance().find(module, text)) return kept;
  Parser parser;
  std::optional<Tree> tree;
  if (ts_node_is_null(root)) {
    auto parsed = parser.parse(text);
    if (!parsed) return nullptr;
    tree.emplace(std::move(*parsed));
    root = tree->root();
  }
  auto facts = std::make_shared<const FileFacts>(read_file_facts(module, text, root));
  KeptFacts::instance().keep(module, text, facts);
  return facts;
}

std::vector<const ModuleFacts*> project_modules(const ProjectIndex& index) {
  std::vector<const ModuleFacts*> modules;
  for (const FunctionFacts* fn : index.functions()) {
    if (!fn->is_module) continue;
    if (const ModuleFacts* module =
            index.module(fn->qualified.substr(0, fn->qualified.rfind('.')))) {
      modules.push_back(module);
    }
  }
  return modules;
}

bool imports_test_client(const ModuleFacts& module) {
  return std::any_of(module.imports.begin(), module.imports.end(), [](const auto& entry) {
    return is_test_client(entry.second) || entry.second == "fastapi.testclient" ||
           entry.second == "starlette.testclient";
  });
}

// Test files, files that import TestClient, and their neighbours (tests/helpers.py).
std::vector<const ModuleFacts*> test_modules(const ProjectIndex& index) {
  std::vector<const ModuleFacts*> all = project_modules(index);
  std::set<std::string> test_dirs;
  for (const ModuleFacts* module : all) {
    if (is_pytest_file(module->path))
      test_dirs.insert(fs::path(normal_path(module->path)).parent_path().string());
  }
  std::vector<const ModuleFacts*> relevant;
  for (const ModuleFacts* module : all) {
    std::string dir = fs::path(normal_path(module->path)).parent_path().string();
    if (is_pytest_file(module->path) || imports_test_client(*module) || test_dirs.count(dir)) {
      relevant.push_back(module);
    }
  }
  return relevant;
}

std::string where(const FileFacts& file, const Range& range) {
  return file.path + ":" + std::to_string(range.line);
}

}  // namespace

// ---------------------------------------------------------------- joining the files

class ModelBuilder {
 public:
  ModelBuilder(const ProjectIndex& index, Model& model) : index_(index), model_(model) {}

  void build(const FileContext* current, unsigned jobs) {
    // Each file is read on its own (side by side), kept in the order of the modules.
    std::vector<const ModuleFacts*> modules = test_modules(index_);
    std::vector<std::shared_ptr<const FileFacts>> read(modules.size());
    parallel_for(modules.size(), jobs, [&](size_t i) {
      const ModuleFacts& module = *modules[i];
      auto source = SourceFile::load(module.path);
      if (source)
        read[i] = facts_of(module, source->text());
      else if (current && normal_path(current->source.path()) == normal_path(module.path))
        read[i] = facts_of(module, current->text());
    });
    std::vector<std::shared_ptr<const FileFacts>> files;
    for (auto& facts : read) {
      if (facts) files.push_back(std::move(facts));
    }
    for (const auto& file : files) {
      model_.files_[file->path] = file;
      for (const FunctionInfo& fn : file->functions) {
        model_.functions_[fn.qualified] = &fn;
        model_.function_paths_[fn.qualified] = file->path;
        if (fn.is_fixture && fn.autouse) model_.autouse_.emplace_back(file->path, &fn);
      }
    }
    model_.setup_ = read_pytest_setup(index_, files);
    bind_constructions();
    while (propagate()) {
    }
    make_units();
    check_closures();
  }

 private:
  // ------------------------------------------------------------ union-find over unit keys

  std::string root(const std::string& key) {
    std::string current = key;
    while (parent_.count(current) && parent_[current] != current) current = parent_[current];
    return current;
  }

  bool unite(const std::string& a, const std::string& b) {
    std::string ra = root(a), rb = root(b);
    if (ra == rb) return false;
    parent_[std::max(ra, rb)] = std::min(ra, rb);  // the smaller key names the unit: stable
    return true;
  }

  bool bind(const std::string& function, const std::string& name, const std::string& key) {
    auto [it, added] = model_.bindings_.emplace(std::make_pair(function, name), key);
    return added || unite(it->second, key);
  }

  bool provide(const std::string& fixture, const std::string& key) {
    auto [it, added] = model_.providers_.emplace(fixture, key);
    return added || unite(it->second, key);
  }

  // ------------------------------------------------------------ where clients come from

  static std::string key_of(const FileFacts& file, const Construction& construction) {
    if (construction.function == file.module && !construction.name.empty()) {
      return "global:" + file.module + "." + construction.name;
    }
    if (!construction.name.empty())
      return "local:" + construction.function + ":" + construction.name;
    // Unbound constructions: one unit each (a refused one stands alone).
    bool alone = !construction.why.empty();
    return "local:" + construction.function + ":" + kReturned +
           (alone ? "#" + std::to_string(construction.call.start) : "");
  }

  void bind_constructions() {
    for (const auto& [path, file] : model_.files_) {
      for (const Construction& construction : file->constructions) {
        std::string key = key_of(*file, construction);
        parent_.emplace(key, key);
        if (!construction.why.empty()) {
          refusals_[key].push_back(construction.why + " (" + where(*file, construction.call) + ")");
        }
        if (!construction.name.empty())
          bind(construction.function, construction.name, key);
        else if (construction.kind == ConstructionKind::returned)
          provide(construction.function, key);
      }
      for (const Use& use : file->uses) {
        if (use.module_client)
          bind(use.function, use.name, "global:" + file->module + "." + use.name);
      }
    }
  }

  // ------------------------------------------------------------ following the client

  bool propagate() {
    bool changed = false;
    for (const auto& [qualified, fn] : model_.functions_) {
      if (!fn->is_test && !fn->is_fixture) continue;
      for (const Parameter& parameter : fn->parameters) {
        const FunctionInfo* fixture = model_.fixture_for(*fn, parameter.name);
        auto provided =
            fixture ? model_.providers_.find(fixture->qualified) : model_.providers_.end();
        if (provided != model_.providers_.end())
          changed |= bind(qualified, parameter.name, provided->second);
      }
    }
    for (const auto& [path, file] : model_.files_) {
      for (const Use& use : file->uses) {
        auto bound = model_.bindings_.find({use.function, use.name});
        if (bound == model_.bindings_.end()) continue;
        std::string key = bound->second;
        if (use.kind == UseKind::passed) {
          if (auto target = parameter_for(use)) changed |= bind(target->first, target->second, key);
        } else if (use.kind == UseKind::returned) {
          const FunctionInfo* fn = model_.function(use.function);
          if (fn && fn->is_fixture) changed |= provide(use.function, key);
        }
      }
    }
    return changed;
  }

  const FunctionInfo* callee_of(const Use& use) const {
    if (const FunctionInfo* fn = model_.function(index_.canonical(use.callee))) return fn;
    const FunctionFacts* facts = index_.function(use.callee);
    return facts ? model_.function(facts->qualified) : nullptr;
  }

  // The helper parameter a client is handed to: (function, parameter name).
  std::optional<std::pair<std::string, std::string>> parameter_for(const Use& use) const {
    const FunctionInfo* callee = callee_of(use);
    if (!callee) return std::nullopt;
    const auto& parameters = callee->parameters;
    if (!use.keyword.empty()) {
      for (const Parameter& parameter : parameters) {
        if (parameter.name == use.keyword) return std::make_pair(callee->qualified, parameter.name);
      }
      return std::nullopt;
    }
    size_t offset =
        !parameters.empty() && (parameters[0].name == "self" || parameters[0].name == "cls") ? 1
                                                                                             : 0;
    size_t slot = static_cast<size_t>(use.position) + offset;
    for (size_t i = 0; i <= slot && i < parameters.size(); ++i) {
      if (parameters[i].name == "*") return std::nullopt;
    }
    if (slot >= parameters.size()) return std::nullopt;
    return std::make_pair(callee->qualified, parameters[slot].name);
  }

  // ------------------------------------------------------------ units

  Unit& unit(const std::string& key) {
    std::string r = root(key);
    auto& slot = model_.units_[r];
    if (!slot) {
      slot = std::make_shared<Unit>();
      slot->key = r;
    }
    return *slot;
  }

  void make_units() {
    for (auto& [binding, key] : model_.bindings_) key = root(key);
    for (auto& [fixture, key] : model_.providers_) key = root(key);
    for (const auto& [key, reasons] : refusals_) {
      Unit& u = unit(key);
      u.refusals.insert(u.refusals.end(), reasons.begin(), reasons.end());
    }
    for (const auto& [path, file] : model_.files_) {
      for (const Construction& construction : file->constructions) {
        Unit& u = unit(key_of(*file, construction));
        if (u.location.empty()) u.location = where(*file, construction.call);
        if (construction.function != file->module) u.needs_async.insert(construction.function);
        if (!file->name_conflict.empty()) {
          u.refusals.push_back("`" + file->name_conflict + "` is bound to something else in " +
                               file->path);
        }
      }
      for (const Use& use : file->uses) read_use(*file, use);
    }
    refuse_rebound_names();
    refuse_imported_module_clients();
    for (auto& [key, u] : model_.units_) {
      for (const std::string& function : u->needs_async) {
        const FunctionInfo* fn = model_.function(function);
        if (fn && !fn->is_async) u->not_async_yet.push_back(function);
        if (fn && fn->is_fixture && !fn->scope_known) {
          u->refusals.push_back("the scope of fixture `" + fn->name +
                                "` is not a string literal, so its event "
                                "loop scope cannot be set");
        }
        if (fn && fn->is_fixture) refuse_narrow_anyio_backend(*fn, *u);
      }
    }
  }

  void read_use(const FileFacts& file, const Use& use) {
    auto bound = model_.bindings_.find({use.function, use.name});
    if (bound == model_.bindings_.end()) return;
    Unit& u = unit(bound->second);
    std::string at = " (" + where(file, use.range) + ")";
    const FunctionInfo* fn = model_.function(use.function);
    switch (use.kind) {
      case UseKind::request:
        u.needs_async.insert(use.function);
        break;
      case UseKind::allowed:
        break;
      case UseKind::websocket:
        u.refusals.push_back("`" + use.name + ".websocket_connect(...)` has no httpx counterpart" +
                             at);
        break;
      case UseKind::stream:
        u.refusals.push_back(
            "`" + use.name +
            ".stream(...)` becomes `async with client.stream(...)`, not written yet" + at);
        break;
      case UseKind::returned:
        if (!fn || !fn->is_fixture)
          u.refusals.push_back("`" + use.name + "` is returned by a function that is no fixture" +
                               at);
        break;
      case UseKind::passed:
        if (!parameter_for(use)) {
          u.refusals.push_back("`" + use.name + "` is passed to `" + use.callee +
                               "`, outside the test files the rewrite follows" + at);
        }
        break;
      case UseKind::refused:
        u.refusals.push_back("`" + use.name + "` is " + use.why + at);
        break;
    }
  }

  // anyio runs an async fixture inside its anyio_backend's scope: a module-scoped fixture needs
  // an anyio_backend at least module-scoped (anyio's own is; a project's plain one is not).
  void refuse_narrow_anyio_backend(const FunctionInfo& fixture, Unit& u) {
    if (model_.setup_.runner != Runner::anyio) return;
    const FunctionInfo* backend = model_.fixture_for(fixture, "anyio_backend");
    std::string backend_scope = backend ? backend->scope : "module";
    if (scope_rank(fixture.scope) <= scope_rank(backend_scope)) return;
    u.refusals.push_back("fixture `" + fixture.name + "` is " + fixture.scope +
                         "-scoped but its anyio_backend is " + backend_scope +
                         "-scoped: anyio would run it on a narrower loop (give anyio_backend "
                         "scope=\"" +
                         fixture.scope + "\")");
  }

  void refuse_rebound_names() {
    for (const auto& [binding, key] : model_.bindings_) {
      const FunctionInfo* fn = model_.function(binding.first);
      if (fn && fn->rebound.count(binding.second)) {
        unit(key).refusals.push_back("`" + binding.second +
                                     "` is also bound to something else in `" + fn->name + "`");
      }
    }
  }

  // A module-level client imported elsewhere would be used by code this rewrite does not see
  // as using it: only clients used in their own module are converted.
  void refuse_imported_module_clients() {
    for (const ModuleFacts* module : project_modules(index_)) {
      for (const auto& [local, target] : module->imports) {
        auto found = model_.units_.find(root("global:" + index_.canonical(target)));
        if (found != model_.units_.end() && found->first.rfind("global:", 0) == 0) {
          found->second->refusals.push_back(
              "the module-level client is imported by " + module->path +
              "; only clients used in their own module are converted");
        }
      }
    }
  }

  // A unit converts only when every function it needs async can be: one stop anywhere in
  // their closures (a helper called from a lambda, say) keeps the whole unit a TestClient.
  void check_closures() {
    PlanOptions options;
    options.tests_join_closure = true;
    for (auto& [key, u] : model_.units_) {
      if (!u->refusals.empty() || u->not_async_yet.empty()) continue;
      std::vector<Seed> seeds;
      for (const std::string& function : u->not_async_yet)
        seeds.push_back({function, "tests phase", kAsyncId});
      Plan plan = build_plan(index_, seeds, options);
      for (const Stop& stop : plan.stops()) {
        u->refusals.push_back(refusal_text(stop));
      }
    }
  }

  const ProjectIndex& index_;
  Model& model_;
  std::map<std::string, std::string> parent_;
  std::map<std::string, std::vector<std::string>> refusals_;
};

// ---------------------------------------------------------------- one model per run

namespace {

// The files a model reads: the test files and the pytest configuration beside them.
std::set<std::string> model_inputs(const ProjectIndex& index) {
  std::set<std::string> paths;
  for (const ModuleFacts* module : test_modules(index)) paths.insert(module->path);
  if (paths.empty()) return paths;
  fs::path root = find_project_root({test_modules(index).front()->path});
  for (const char* config :
       {"pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"}) {
    paths.insert((root / config).string());
  }
  return paths;
}

}  // namespace

namespace {

std::shared_ptr<const std::set<std::string>> input_paths(const ProjectIndex& index) {
  return index.memo<std::set<std::string>>("aw80x.inputs", [&] {
    return std::make_shared<const std::set<std::string>>(model_inputs(index));
  });
}

}  // namespace

std::shared_ptr<const FileFacts> file_facts(const ModuleFacts& facts, std::string_view text,
                                            TSNode root) {
  return facts_of(facts, text, root);
}

void read_while_parsed(const ModuleFacts& facts, std::string_view text, TSNode root) {
  // The files the model is sure to read (test_modules); their neighbours it reads itself.
  if (is_pytest_file(facts.path) || imports_test_client(facts)) facts_of(facts, text, root);
}

std::shared_ptr<const FileFacts> kept_file_facts(const ModuleFacts& facts, std::string_view text) {
  return KeptFacts::instance().find(facts, text);
}

bool Model::may_hold(const ProjectIndex& index, const std::string& path) {
  return input_paths(index)->count(path) > 0;
}

bool in_test_code(const ModuleFacts& facts, const ProjectIndex& index, const Plan&) {
  if (!Model::may_hold(index, facts.path)) return false;
  // A file on disk is in the run's one model, or the passes would find it is not test code.
  if (!Model::run_model_reads(facts.path)) return true;
  return Model::of(index, nullptr)->file(facts.path) != nullptr;
}

bool Model::run_model_reads(const std::string& path) {
  std::error_code error;
  return fs::exists(path, error);
}

std::shared_ptr<const Model> Model::of(const ProjectIndex& index, const FileContext* current,
                                       unsigned jobs) {
  // Every pass of every file asks: one model per index, built by whichever asks first. A test
  // file that is not on disk (stdin, unit tests) is read from `current`, so such a model is
  // kept per text of that file.
  auto inputs = input_paths(index);
  std::string key = "aw80x.model";
  if (current && inputs->count(current->source.path()) &&
      !run_model_reads(current->source.path())) {
    key += ":" + current->source.path() + ":" +
           std::to_string(std::hash<std::string_view>{}(current->text()));
  }
  return index.memo<Model>(key, [&] {
    auto model = std::make_shared<Model>();
    ModelBuilder(index, *model).build(current, jobs);
    spdlog::debug("tests phase: read {} test files into {} clients", model->files_.size(),
                  model->units_.size());
    return std::shared_ptr<const Model>(model);
  });
}

}  // namespace awaitify::aw80x
