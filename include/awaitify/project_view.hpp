#pragma once
// The project as the read-only commands (audit, verify, check) see it: every file of the
// project reduced to facts in one index, and the selected files kept with their trees and
// suppression comments for a second look; plus what pytest will make of the tests.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "awaitify/calls.hpp"
#include "awaitify/index.hpp"
#include "awaitify/lazy_load.hpp"
#include "awaitify/source.hpp"
#include "awaitify/suppress.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

class FactsCache;

struct ViewFile {
  SourceFile source;
  std::shared_ptr<Tree> tree;
  Suppressions suppressions;
  const ModuleFacts* facts = nullptr;  // in the view's index
};

// The file with its tree: the file itself when its view kept the tree, else `parsed`, filled
// now and dropped by the caller when done with it. Null when it cannot be parsed.
const ViewFile* with_tree(const ViewFile& file, ViewFile& parsed);

class ProjectView {
 public:
  // selected: the files to report on; context: the rest of the project, indexed so calls into it
  // resolve (a file in both is selected). jobs: parser threads (0: every core). cache: index
  // facts of unchanged files (context files are then not parsed at all); null: none.
  // keep_trees: hold the tree of every selected file (check, on a few files); without it
  // (audit, verify: the whole project), rules get each file's tree from with_tree() as they
  // reach it, since the trees of a project take many times its size.
  static ProjectView load(const std::vector<std::string>& selected,
                          const std::vector<std::string>& context, unsigned jobs = 0,
                          FactsCache* cache = nullptr, bool keep_trees = true);

  const ProjectIndex& index() const { return index_; }
  // The selected files that could be read and parsed, in order.
  const std::vector<ViewFile>& files() const { return files_; }
  // Selected files that cannot be used: "path:line:col: message".
  const std::vector<std::string>& errors() const { return errors_; }
  size_t selected_count() const { return selected_count_; }

  // Parameter names of a function defined in a test module or conftest.py (fixtures are
  // requested by parameter name).
  const std::vector<std::string>* parameters(const std::string& qualified) const;
  // The fixture a function in `path` gets for `name`: one defined in the same module, else in the
  // nearest conftest.py above it; nullptr when the project defines none (a plugin's, say).
  const FunctionFacts* fixture(const std::string& name, const std::string& path) const;
  // Whether pytest-asyncio runs in auto mode for a test file: `asyncio_mode = auto` (or
  // `--asyncio-mode=auto` in addopts) in the pytest configuration pytest would use for it —
  // pytest.ini, .pytest.ini, pyproject.toml [tool.pytest.ini_options], tox.ini [pytest] or
  // setup.cfg [tool:pytest], the first found walking up from the file.
  bool asyncio_auto_mode(const std::string& path) const;
  // Whether a test or fixture uses a TestClient: it calls TestClient(...) or a TestClient's
  // methods, or requests a project fixture that does (its name in *via).
  bool uses_test_client(const FunctionFacts& fn, std::string* via = nullptr) const;
  // The relationship() attributes of the project's model classes.
  const Relationships& relationships() const { return relationships_; }

 private:
  ProjectIndex index_;
  std::vector<ViewFile> files_;
  std::vector<std::string> errors_;
  size_t selected_count_ = 0;
  std::map<std::string, std::vector<std::string>> parameters_;
  std::map<std::string, std::vector<const FunctionFacts*>> fixtures_;  // by name
  Relationships relationships_;
  mutable std::map<std::string, bool> auto_mode_by_dir_;
  mutable std::unique_ptr<std::mutex> auto_mode_mutex_ = std::make_unique<std::mutex>();
};

// One scope of a file: module-level code (def is null) or a function.
struct ScanScope {
  std::string qualified;  // as the index names it
  TSNode def{};
  std::string self_class;
  std::set<std::string> sessions;  // parameters holding a sync Session
  bool is_module() const { return ts_node_is_null(def); }
  TSNode body(const ViewFile& file) const;
};

// Visits module-level code, then every function and method (nested ones too) in document order,
// with the same names and resolution as the index (see scan_file_scopes): `prepare` sets the
// visitor's callbacks for a scope (definition is taken), `done` runs after its scan with the
// scanner, which still knows the scope's local names.
void scan_scopes(const ProjectIndex& index, const ViewFile& file,
                 const std::function<void(const ScanScope&, ScopeVisitor&)>& prepare,
                 const std::function<void(const ScanScope&, const ScopeScanner&)>& done);

// Whether a path names a pytest test module or conftest.py.
bool is_test_path(const std::string& path);

}  // namespace awaitify
