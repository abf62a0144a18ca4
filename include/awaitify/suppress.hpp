#pragma once
// Suppression comments, for every command (audit, verify, check, diff, apply):
//   x = f()  # awaitify: ignore              every rule on this line (findings and rewrites)
//   x = f()  # awaitify: ignore[AWV003]      one rule (several: ignore[AWV003, AW201])
//   # awaitify: skip-file                    the whole file (on a line of its own, anywhere)
// Only real comments count (a string that contains the text does not). How the rewrites honour
// them without leaving code half-migrated: plan.cpp (functions held) and ignore_edits.hpp.
#include <tree_sitter/api.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace awaitify {

class Suppressions {
 public:
  bool skip_file() const { return skip_file_; }
  // Whether `rule` is suppressed on `line` (1-based).
  bool suppresses(uint32_t line, const std::string& rule) const;
  // The directive that suppresses `rule` on `line`, as written in messages: "ignore" or
  // "ignore[AW201]"; empty when none does.
  std::string directive(uint32_t line, const std::string& rule) const;
  // The lines that hold an ignore directive, in order.
  std::vector<uint32_t> lines() const;
  // Whether the file has any directive at all (most files have none: nothing to look up).
  bool empty() const { return !skip_file_ && every_rule_.empty() && lines_.empty(); }
  // Directives that could not be read (`# awaitify: ignroe`), as "line: text", to warn about.
  const std::vector<std::string>& malformed() const { return malformed_; }
  // What to warn about in a file at `path`, for every command alike: directives that could not be
  // read ("path:3: # awaitify: ignroe (not an awaitify directive)") and rule IDs that name no
  // transform, verify rule or audit group, which suppress nothing.
  std::vector<std::string> warnings(const std::string& path) const;

  // The directives in a parsed file's comments.
  static Suppressions from_tree(TSNode root, std::string_view src);
  // Parses src itself (tests, and files whose tree is not at hand).
  static Suppressions from_text(std::string_view src);

 private:
  void add_comment(uint32_t line, std::string_view comment);
  bool skip_file_ = false;
  std::set<uint32_t> every_rule_;                    // lines with a bare `ignore`
  std::map<uint32_t, std::set<std::string>> lines_;  // lines with `ignore[...]`: the rules
  std::vector<std::string> malformed_;
};

}  // namespace awaitify
