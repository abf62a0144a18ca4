#include "awaitify/project_view.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "awaitify/async_api.hpp"
#include "awaitify/config.hpp"
#include "awaitify/facts_cache.hpp"
#include "awaitify/parallel.hpp"

namespace awaitify {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Loaded {
  std::optional<SourceFile> source;
  std::optional<ModuleFacts> facts;
  std::shared_ptr<Tree> tree;
  std::string error;
};

Loaded load_one(const std::string& path, bool keep_tree, FactsCache* cache) {
  Loaded loaded;
  auto source = SourceFile::load(path);
  if (!source) {
    loaded.error = source.error().message;
    return loaded;
  }
  // A hit means the file parsed without errors when its facts were stored: a context file is
  // done; a selected one is still parsed for its tree.
  if (cache) loaded.facts = cache->load(*source);
  if (loaded.facts && !keep_tree) {
    loaded.source = std::move(*source);
    return loaded;
  }
  Parser parser;
  auto tree = parser.parse(source->text());
  if (!tree) {
    loaded.error = path + ": " + tree.error().message;
    return loaded;
  }
  if (auto bad = first_syntax_error(tree->root())) {
    Position at = source->position(ts_node_start_byte(*bad));
    loaded.error = path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                   ": syntax error (" +
                   (ts_node_is_missing(*bad) ? std::string("missing ") + ts_node_type(*bad)
                                             : "invalid syntax") +
                   ")";
    return loaded;
  }
  if (!loaded.facts) {
    loaded.facts = extract_facts(*source, tree->root());
    if (cache) cache->store(*source, *loaded.facts);
  }
  if (keep_tree) loaded.tree = std::make_shared<Tree>(std::move(*tree));
  loaded.source = std::move(*source);
  return loaded;
}

bool is_fixture(const FunctionFacts& fn) {
  for (const std::string& decorator : fn.decorators) {
    if (decorator == "pytest.fixture" || decorator == "pytest_asyncio.fixture") return true;
  }
  return false;
}

// The text of an INI section's key, or nullopt.
std::optional<std::string> ini_value(const std::string& text, const std::string& section,
                                     const std::string& key) {
  std::istringstream lines(text);
  std::string line, current;
  std::optional<std::string> found;
  bool continuing = false;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') continue;
    if (indented && continuing && found) {
      *found += " " + line.substr(first);
      continue;
    }
    continuing = false;
    if (line[first] == '[') {
      current = line.substr(first + 1, line.find(']') - first - 1);
      continue;
    }
    if (current != section) continue;
    size_t separator = line.find_first_of("=:");
    if (separator == std::string::npos) continue;
    std::string name = line.substr(first, separator - first);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    if (name != key) continue;
    size_t value = line.find_first_not_of(" \t", separator + 1);
    found = value == std::string::npos ? "" : line.substr(value);
    continuing = true;
  }
  return found;
}

bool section_exists(const std::string& text, const std::string& section) {
  return text.find("[" + section + "]") != std::string::npos;
}

bool auto_in(const std::string& mode, const std::string& addopts) {
  std::string cleaned;
  for (char c : mode) {
    if (c != '"' && c != '\'' && !std::isspace(static_cast<unsigned char>(c))) cleaned += c;
  }
  if (cleaned == "auto") return true;
  return addopts.find("--asyncio-mode=auto") != std::string::npos ||
         addopts.find("--asyncio-mode auto") != std::string::npos;
}

// The pytest configuration in a directory, if one is there: whether it sets auto mode.
std::optional<bool> auto_mode_in(const fs::path& dir) {
  std::error_code error;
  for (const char* name : {"pytest.ini", ".pytest.ini"}) {
    if (!fs::is_regular_file(dir / name, error)) continue;
    std::string text = read_text(dir / name);
    return auto_in(ini_value(text, "pytest", "asyncio_mode").value_or(""),
                   ini_value(text, "pytest", "addopts").value_or(""));
  }
  if (fs::is_regular_file(dir / "pyproject.toml", error)) {
    auto document = parse_toml(read_text(dir / "pyproject.toml"));
    if (document && (document->tables.count("tool.pytest.ini_options") ||
                     document->tables.count("tool.pytest"))) {
      std::string mode, addopts;
      for (const char* table : {"tool.pytest.ini_options.", "tool.pytest."}) {
        if (auto it = document->values.find(std::string(table) + "asyncio_mode");
            it != document->values.end())
          mode = it->second.text;
        if (auto it = document->values.find(std::string(table) + "addopts");
            it != document->values.end()) {
          addopts = it->second.text;
          for (const TomlValue& item : it->second.items) addopts += " " + item.text;
        }
      }
      return auto_in(mode, addopts);
    }
  }
  for (auto [name, section] :
       {std::pair{"tox.ini", "pytest"}, std::pair{"setup.cfg", "tool:pytest"}}) {
    if (!fs::is_regular_file(dir / name, error)) continue;
    std::string text = read_text(dir / name);
    if (!section_exists(text, section)) continue;
    return auto_in(ini_value(text, section, "asyncio_mode").value_or(""),
                   ini_value(text, section, "addopts").value_or(""));
  }
  return std::nullopt;
}

}  // namespace

bool is_test_path(const std::string& path) {
  std::string file = path.substr(path.rfind('/') + 1);
  return file.rfind("test_", 0) == 0 || file == "conftest.py" ||
         (file.size() > 8 && file.compare(file.size() - 8, 8, "_test.py") == 0);
}

const ViewFile* with_tree(const ViewFile& file, ViewFile& parsed) {
  if (file.tree) return &file;
  Parser parser;
  auto tree = parser.parse(file.source.text());
  if (!tree) return nullptr;
  parsed = file;
  parsed.tree = std::make_shared<Tree>(std::move(*tree));
  return &parsed;
}

ProjectView ProjectView::load(const std::vector<std::string>& selected,
                              const std::vector<std::string>& context, unsigned jobs,
                              FactsCache* cache, bool keep_trees) {
  std::set<std::string> chosen(selected.begin(), selected.end());
  std::vector<std::string> all = selected;
  for (const std::string& path : context) {
    if (!chosen.count(path)) all.push_back(path);
  }
  std::vector<Loaded> loaded(all.size());
  parallel_for(all.size(), jobs, [&](size_t i) {
    loaded[i] = load_one(all[i], keep_trees && i < selected.size(), cache);
  });

  ProjectView view;
  view.selected_count_ = selected.size();
  std::vector<ModuleFacts> modules;
  for (size_t i = 0; i < all.size(); ++i) {
    Loaded& file = loaded[i];
    if (!file.error.empty()) {
      if (i < selected.size()) view.errors_.push_back(file.error);
      continue;
    }
    // What the view needs of a file beyond the index is in its facts too, so that they can
    // come from .awaitify_cache/ without a parse.
    std::map<std::string, std::vector<std::string>> parameters = file.facts->parameter_names;
    view.parameters_.merge(parameters);
    view.relationships_.merge(
        Relationships{file.facts->relationships, file.facts->relationship_targets});
    modules.push_back(std::move(*file.facts));
  }
  view.index_ = ProjectIndex(std::move(modules), jobs);
  if (cache) {
    spdlog::debug("awaitify: index facts in {}: {} from the cache, {} extracted (this run so far)",
                  cache->directory(), cache->hits(), cache->misses());
  }
  for (size_t i = 0; i < selected.size(); ++i) {
    Loaded& file = loaded[i];
    if (!file.error.empty()) continue;
    ViewFile entry;
    entry.source = std::move(*file.source);
    entry.tree = file.tree;
    entry.facts = view.index_.module_for_path(entry.source.path());
    entry.suppressions = comments_of(entry.source, entry.facts);
    view.files_.push_back(std::move(entry));
  }
  for (const FunctionFacts* fn : view.index_.functions()) {
    if (is_fixture(*fn)) view.fixtures_[fn->name()].push_back(fn);
  }
  return view;
}

const std::vector<std::string>* ProjectView::parameters(const std::string& qualified) const {
  auto it = parameters_.find(qualified);
  return it == parameters_.end() ? nullptr : &it->second;
}

const FunctionFacts* ProjectView::fixture(const std::string& name, const std::string& path) const {
  auto it = fixtures_.find(name);
  if (it == fixtures_.end()) return nullptr;
  for (const FunctionFacts* fn : it->second) {
    if (index_.path_of(*fn) == path) return fn;
  }
  // conftest.py files, nearest first.
  fs::path dir = fs::absolute(fs::path(path)).parent_path().lexically_normal();
  for (;; dir = dir.parent_path()) {
    for (const FunctionFacts* fn : it->second) {
      fs::path where = fs::absolute(fs::path(index_.path_of(*fn))).lexically_normal();
      if (where.filename() == "conftest.py" && where.parent_path() == dir) return fn;
    }
    if (!dir.has_relative_path()) break;
  }
  return nullptr;
}

bool ProjectView::asyncio_auto_mode(const std::string& path) const {
  std::lock_guard<std::mutex> lock(*auto_mode_mutex_);
  fs::path start = fs::absolute(fs::path(path)).parent_path().lexically_normal();
  for (fs::path dir = start;; dir = dir.parent_path()) {
    std::string key = dir.string();
    if (auto cached = auto_mode_by_dir_.find(key); cached != auto_mode_by_dir_.end())
      return cached->second;
    if (auto mode = auto_mode_in(dir)) {
      auto_mode_by_dir_[start.string()] = *mode;
      return *mode;
    }
    if (!dir.has_relative_path()) break;
  }
  auto_mode_by_dir_[start.string()] = false;
  return false;
}

bool ProjectView::uses_test_client(const FunctionFacts& fn, std::string* via) const {
  // Fixtures request fixtures: follow them a few levels.
  std::vector<std::pair<const FunctionFacts*, std::string>> pending{{&fn, ""}};
  std::set<const FunctionFacts*> seen{&fn};
  for (size_t depth = 0; depth < 6 && !pending.empty(); ++depth) {
    std::vector<std::pair<const FunctionFacts*, std::string>> next;
    for (const auto& [current, first] : pending) {
      for (const CallFact& call : current->calls) {
        if (!is_test_client_call(index_, call.target)) continue;
        if (via) *via = first;
        return true;
      }
      const std::vector<std::string>* names = parameters(current->qualified);
      if (!names) continue;
      for (const std::string& name : *names) {
        if (name == "self" || name == "cls" || name == "request") continue;
        const FunctionFacts* requested = fixture(name, index_.path_of(*current));
        if (requested && seen.insert(requested).second)
          next.emplace_back(requested, first.empty() ? name : first);
      }
    }
    pending = std::move(next);
  }
  return false;
}

TSNode ScanScope::body(const ViewFile& file) const {
  return is_module() ? file.tree->root() : field(def, "body");
}

void scan_scopes(const ProjectIndex& index, const ViewFile& file,
                 const std::function<void(const ScanScope&, ScopeVisitor&)>& prepare,
                 const std::function<void(const ScanScope&, const ScopeScanner&)>& done) {
  if (!file.facts || !file.tree) return;
  const ModuleFacts& facts = *file.facts;
  std::string_view src = file.source.text();
  std::vector<ScanScope> pending{{facts.module + ".<module>", TSNode{}, "", {}}};
  while (!pending.empty()) {
    ScanScope scope = std::move(pending.back());
    pending.pop_back();
    std::string name = scope.is_module() ? facts.module : scope.qualified;
    ScopeScanner scanner(facts, src, name, scope.self_class, scope.sessions, scope.is_module());
    ScopeVisitor visitor;
    if (prepare) prepare(scope, visitor);
    std::vector<ScanScope> nested;
    visitor.definition = [&](TSNode def, const std::vector<std::string>&,
                             const std::string& class_name) {
      std::string qualified = (class_name.empty() ? name : class_name) + "." +
                              std::string(node_text(field(def, "name"), src));
      nested.push_back({qualified, def, class_name, session_parameters(facts, def, src, &index)});
    };
    if (scope.is_module())
      scanner.scan(scope.body(file), visitor);
    else
      scanner.scan_function(scope.def, visitor);
    if (done) done(scope, scanner);
    pending.insert(pending.end(), nested.rbegin(), nested.rend());  // document order
  }
}

}  // namespace awaitify
