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

// Files to process, sorted, as paths relative to the current directory where possible.
// Errors: a path that does not exist, or a directory without any Python file.
Result<std::vector<std::string>> discover(const std::vector<std::string>& paths);

}  // namespace awaitify
