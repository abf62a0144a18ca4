#pragma once
// Which files a run reads: the files named, and every *.py under the directories named,
// honouring .gitignore and skipping hidden and virtualenv folders.
#include <string>
#include <vector>

#include "awaitify/result.hpp"

namespace awaitify {

// A glob in .gitignore syntax (`*`, `?`, `[...]`, `**`), matched against a path relative to
// the directory of the .gitignore that holds it.
bool gitignore_glob_match(std::string_view pattern, std::string_view path);

class Gitignore {
 public:
  // Adds the rules of one .gitignore file whose directory is `base` (relative to the walk root,
  // "" for the root itself).
  void add_rules(const std::string& base, std::string_view contents);
  // Whether a path (relative to the walk root, '/'-separated) is ignored. Later rules win.
  bool ignored(const std::string& path, bool is_directory) const;

 private:
  struct Rule {
    std::string base;
    std::string pattern;
    bool negated = false;
    bool directory_only = false;
    bool anchored = false;
  };
  std::vector<Rule> rules_;
};

// The root of the project the paths belong to: the nearest directory above them (or the
// directory itself) holding pyproject.toml, setup.py, setup.cfg, pytest.ini, tox.ini or .git;
// else the directory of the first path. The whole project is indexed, so the closure sees
// every caller, even when only a few files are selected.
std::string find_project_root(const std::vector<std::string>& paths);

// Files to process, sorted, as paths relative to the current directory where possible.
// Errors: a path that does not exist, or a directory without any Python file.
Result<std::vector<std::string>> discover(const std::vector<std::string>& paths);

// Every Python file of the project at root (find_project_root), for the index. A directory that
// cannot be read does not fail the walk: it is left out, and `unreadable` gets a one-line
// warning naming it. An Error: root itself is not a directory.
Result<std::vector<std::string>> discover_project(const std::string& root,
                                                  std::vector<std::string>& unreadable);

}  // namespace awaitify
