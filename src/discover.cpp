#include "awaitify/discover.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace awaitify {

namespace fs = std::filesystem;

namespace {

bool class_matches(std::string_view pattern, size_t& i, char c) {
  // pattern[i] == '['; on return i is past the closing ']'.
  size_t j = i + 1;
  bool negate = j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^');
  if (negate) ++j;
  bool matched = false;
  size_t start = j;
  while (j < pattern.size() && (pattern[j] != ']' || j == start)) {
    if (j + 2 < pattern.size() && pattern[j + 1] == '-' && pattern[j + 2] != ']') {
      matched |= c >= pattern[j] && c <= pattern[j + 2];
      j += 3;
    } else {
      matched |= pattern[j] == c;
      ++j;
    }
  }
  i = j + 1;
  return matched != negate;
}

bool glob(std::string_view p, std::string_view s) {
  size_t i = 0, j = 0;
  while (i < p.size()) {
    if (p.substr(i, 3) == "**/") {
      // Zero or more whole directories.
      for (size_t k = j; k <= s.size(); ++k) {
        if ((k == j || s[k - 1] == '/') && glob(p.substr(i + 3), s.substr(k))) return true;
      }
      return false;
    }
    if (p.substr(i, 2) == "**") {
      for (size_t k = j; k <= s.size(); ++k) {
        if (glob(p.substr(i + 2), s.substr(k))) return true;
      }
      return false;
    }
    if (p[i] == '*') {
      for (size_t k = j; k <= s.size(); ++k) {
        if (glob(p.substr(i + 1), s.substr(k))) return true;
        if (k < s.size() && s[k] == '/') break;
      }
      return false;
    }
    if (j >= s.size()) return false;
    if (p[i] == '?') {
      if (s[j] == '/') return false;
      ++i, ++j;
    } else if (p[i] == '[') {
      if (!class_matches(p, i, s[j])) return false;
      ++j;
    } else {
      if (p[i] == '\\' && i + 1 < p.size()) ++i;
      if (p[i] != s[j]) return false;
      ++i, ++j;
    }
  }
  return j == s.size();
}

bool skipped_directory(const std::string& name) {
  static const std::set<std::string> names{"venv", "site-packages", "__pycache__", "node_modules"};
  return (name.size() > 1 && name.front() == '.') || names.count(name) > 0;
}

// Paths as the user sees them: relative to the working directory when they are under it,
// symbolic links resolved (fs::weakly_canonical), else as given. One object serves a walk: it
// resolves the working directory once and each directory once for all its files, where
// resolving every file's path would read the link of each of its components (tens of
// thousands of system calls on a large project).
class PathDisplay {
 public:
  PathDisplay() {
    std::error_code error;
    fs::path cwd = fs::current_path(error);
    if (!error) resolved_cwd_ = fs::weakly_canonical(cwd, error);
    if (error) resolved_cwd_.clear();
  }

  std::string of(const fs::path& path) const {
    std::error_code error;
    return shown(path, resolved_cwd_.empty() ? fs::path() : fs::weakly_canonical(path, error),
                 error);
  }

  // A file a directory listing found: unless it is itself a link, its resolved path is its
  // directory's resolved path and its name.
  std::string of_listed(const fs::directory_entry& entry) {
    std::error_code error;
    if (resolved_cwd_.empty() || entry.is_symlink(error) || error) return of(entry.path());
    fs::path dir = entry.path().parent_path();
    auto it = resolved_dirs_.find(dir.native());
    if (it == resolved_dirs_.end()) {
      fs::path resolved = fs::weakly_canonical(dir, error);
      if (error) return of(entry.path());
      it = resolved_dirs_.emplace(dir.native(), std::move(resolved)).first;
    }
    return shown(entry.path(), it->second / entry.path().filename(), error);
  }

 private:
  std::string shown(const fs::path& path, const fs::path& resolved,
                    const std::error_code& error) const {
    fs::path relative;
    if (!error && !resolved_cwd_.empty()) relative = resolved.lexically_relative(resolved_cwd_);
    if (error || relative.empty() || *relative.begin() == "..")
      return path.lexically_normal().string();
    return relative.string();
  }

  fs::path resolved_cwd_;
  std::unordered_map<std::string, fs::path> resolved_dirs_;
};

std::string display_path(const fs::path& path) {
  return PathDisplay().of(path);
}

// Never throws: a path whose status cannot be read (permission denied) does not exist here.
bool exists_quietly(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// .gitignore files of the directories above root, up to the repository's top.
void add_enclosing_rules(Gitignore& rules, const fs::path& root) {
  std::vector<fs::path> above;
  for (fs::path dir = root.parent_path(); dir.has_relative_path(); dir = dir.parent_path()) {
    above.push_back(dir);
    if (exists_quietly(dir / ".git")) break;
  }
  if (!exists_quietly(root / ".git") && !above.empty() && exists_quietly(above.back() / ".git")) {
    for (auto it = above.rbegin(); it != above.rend(); ++it) {
      if (!exists_quietly(*it / ".gitignore")) continue;
      // Rules from above only see paths under root through their relative form.
      std::string prefix = fs::relative(root, *it).string();
      std::string contents = read_text(*it / ".gitignore");
      std::istringstream lines(contents);
      std::string line, rewritten;
      while (std::getline(lines, line)) {
        bool negated = !line.empty() && line[0] == '!';
        std::string body = negated ? line.substr(1) : line;
        if (body.empty() || body[0] == '#') continue;
        bool anchored = body.find('/') < body.size() - 1;
        if (anchored) {
          std::string anchored_body = body[0] == '/' ? body.substr(1) : body;
          if (anchored_body.rfind(prefix + "/", 0) != 0) continue;
          body = "/" + anchored_body.substr(prefix.size() + 1);
        }
        rewritten += (negated ? "!" : "") + body + "\n";
      }
      rules.add_rules("", rewritten);
    }
  }
}

// A directory that cannot be listed: an error, or with `unreadable` a warning there.
Status cannot_read(const fs::path& dir, const std::error_code& error,
                   std::vector<std::string>* unreadable) {
  if (!unreadable) return Error{display_path(dir) + ": cannot be read: " + error.message()};
  unreadable->push_back(display_path(dir) + ": cannot be read (" + error.message() +
                        "); its Python files are not indexed, so calls from there are not seen "
                        "(list it in .gitignore to silence this)");
  return ok_status();
}

// With `unreadable`, a directory that cannot be listed is named there and left out (the
// project walk for the index); without it, the walk fails (the paths the user selected).
Status walk_directory(const fs::path& root, std::vector<std::string>& files,
                      std::vector<std::string>* unreadable = nullptr) {
  Gitignore rules;
  add_enclosing_rules(rules, fs::absolute(root).lexically_normal());
  PathDisplay display;
  std::error_code error;
  std::vector<std::pair<fs::path, std::string>> pending{{root, ""}};
  while (!pending.empty()) {
    auto [dir, relative] = pending.back();
    pending.pop_back();
    // A directory that cannot be listed is an error, not a silent gap: its files would be
    // missing from the migration and from the index.
    fs::directory_iterator it(dir, error);
    if (error) {
      if (Status status = cannot_read(dir, error, unreadable); !status) return status;
      continue;
    }
    if (exists_quietly(dir / ".gitignore")) rules.add_rules(relative, read_text(dir / ".gitignore"));
    for (; it != fs::directory_iterator(); it.increment(error)) {
      if (error) {
        if (Status status = cannot_read(dir, error, unreadable); !status) return status;
        break;
      }
      const fs::directory_entry& entry = *it;
      std::string name = entry.path().filename().string();
      std::string child = relative.empty() ? name : relative + "/" + name;
      // Symlinked directories are not followed: a link loop must not hang the walk.
      bool directory = entry.is_directory(error) && !entry.is_symlink(error);
      if (directory) {
        if (!skipped_directory(name) && !rules.ignored(child, true)) {
          pending.emplace_back(entry.path(), child);
        }
      } else if (entry.path().extension() == ".py" && entry.is_regular_file(error) &&
                 !rules.ignored(child, false)) {
        files.push_back(display.of_listed(entry));
      }
    }
  }
  return ok_status();
}

}  // namespace

bool gitignore_glob_match(std::string_view pattern, std::string_view path) {
  return glob(pattern, path);
}

void Gitignore::add_rules(const std::string& base, std::string_view contents) {
  std::istringstream lines{std::string(contents)};
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && !(line.size() > 1 && line[line.size() - 2] == '\\'))
      line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Rule rule;
    rule.base = base;
    rule.pattern = line;
    if (rule.pattern[0] == '!') {
      rule.negated = true;
      rule.pattern.erase(0, 1);
    } else if (rule.pattern.rfind("\\!", 0) == 0 || rule.pattern.rfind("\\#", 0) == 0) {
      rule.pattern.erase(0, 1);
    }
    if (!rule.pattern.empty() && rule.pattern.back() == '/') {
      rule.directory_only = true;
      rule.pattern.pop_back();
    }
    rule.anchored = rule.pattern.find('/') != std::string::npos;
    if (!rule.pattern.empty() && rule.pattern[0] == '/') rule.pattern.erase(0, 1);
    if (!rule.pattern.empty()) rules_.push_back(rule);
  }
}

bool Gitignore::ignored(const std::string& path, bool is_directory) const {
  bool result = false;
  for (const Rule& rule : rules_) {
    if (rule.directory_only && !is_directory) continue;
    std::string relative = path;
    if (!rule.base.empty()) {
      if (path.rfind(rule.base + "/", 0) != 0) continue;
      relative = path.substr(rule.base.size() + 1);
    }
    std::string_view subject = relative;
    if (!rule.anchored) subject = subject.substr(subject.rfind('/') + 1);
    if (glob(rule.pattern, subject)) result = !rule.negated;
  }
  return result;
}

std::string find_project_root(const std::vector<std::string>& paths) {
  static const char* markers[] = {"pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini", ".git"};
  if (paths.empty()) return ".";
  std::error_code error;
  fs::path start = fs::absolute(paths.front(), error).lexically_normal();
  if (!fs::is_directory(start, error)) start = start.parent_path();
  for (fs::path dir = start; dir.has_relative_path(); dir = dir.parent_path()) {
    for (const char* marker : markers) {
      if (fs::exists(dir / marker, error)) return display_path(dir);
    }
  }
  return display_path(start);
}

Result<std::vector<std::string>> discover(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& given : paths) {
    std::error_code error;
    fs::path path(given);
    fs::file_status status = fs::status(path, error);
    if (error && error != std::errc::no_such_file_or_directory && error != std::errc::not_a_directory) {
      return Error{given + ": cannot be read: " + error.message()};  // a symlink loop, no permission
    }
    if (error || !fs::exists(status)) return Error{given + ": no such file or directory"};
    if (fs::is_directory(status)) {
      size_t before = files.size();
      Status walked = walk_directory(path, files);
      if (!walked) return walked.error();
      if (files.size() == before) return Error{given + ": no Python files found"};
    } else {
      files.push_back(display_path(path));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Result<std::vector<std::string>> discover_project(const std::string& root,
                                                  std::vector<std::string>& unreadable) {
  std::error_code error;
  fs::file_status status = fs::status(root, error);
  if (error || !fs::is_directory(status)) {
    return Error{root + ": the project directory cannot be read: " +
                 (error ? error.message() : std::string("not a directory"))};
  }
  std::vector<std::string> files;
  if (Status walked = walk_directory(root, files, &unreadable); !walked) return walked.error();
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace awaitify
