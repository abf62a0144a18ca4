#pragma once
// What audit, verify and check found, and how it is written out: text for people (coloured on a
// terminal), JSON for tools (one schema, docs/json-schema.md), SARIF 2.1.0 for code scanning.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/source.hpp"
#include "awaitify/suppress.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

struct RuleInfo {
  std::string id;    // stable: AWV001 (verify), AWA001 (audit group), AW501 (a transform, in check)
  std::string name;  // kebab-case: blocking-call-in-async-function
  std::string summary;  // one line; an audit group's title
  std::string hint;     // how to fix it, in general
  Severity severity = Severity::warning;
};

struct ReportItem {
  std::string rule;
  std::string path;
  Position position;         // 1-based line, 1-based column in bytes
  uint32_t char_column = 0;  // 1-based column in Unicode code points (0: same as position.column)
  Severity severity = Severity::warning;
  std::string message;
  std::string hint;  // the fix for this finding (empty: the rule's)
  // AWV010 in a migrated module: the rule whose finding it reports instead (AWV004, ...), so
  // that rule's `# awaitify: ignore[...]` comments still suppress it.
  std::string replaces;
};

// audit: what each phase would change in one module, run alone on today's code.
struct ModuleEstimate {
  std::string path;
  int items = 0;                     // audit items in it
  std::map<std::string, int> lines;  // phase -> changed lines (added + removed)
  int total() const;
};

// check: one file's state.
struct FileStatus {
  std::string path;
  std::map<std::string, int> edits;  // transform ID -> edits it would make
  int added = 0, removed = 0;        // lines
  uint32_t first_changed_line = 0;
  std::vector<std::string> findings;  // "AWV004 at 12:5"
  std::string diff;                   // with --diff
  bool changed() const { return !edits.empty() || added + removed > 0; }
};

struct Report {
  std::string command;          // "audit", "verify" or "check"
  std::vector<RuleInfo> rules;  // every rule the command can report, in order
  std::vector<ReportItem> items;
  size_t files = 0;                          // files examined
  std::vector<std::string> skipped_files;    // `# awaitify: skip-file`
  std::map<std::string, size_t> suppressed;  // rule -> items suppressed by comments
  std::vector<std::string> errors;    // input errors, "path:line:col: message" or "path: message"
  std::vector<std::string> warnings;  // malformed suppression comments, config notes
  // audit
  std::vector<std::string> phases;          // the estimate table's columns, in order
  std::vector<std::string> planned_phases;  // phases with no written transform: no estimate
  std::vector<ModuleEstimate> modules;
  // check
  std::vector<FileStatus> file_status;
  bool applied = false;  // check --apply: the changes were written

  size_t suppressed_total() const;
  const RuleInfo* rule(const std::string& id) const;
  // Sorts items by path, line, column, rule.
  void sort();
  // Drops the items a file's comments suppress, counting them.
  void count_and_drop_suppressed(const std::map<std::string, Suppressions>& by_path);
};

enum class Format { text, json, sarif };
std::optional<Format> parse_format(std::string_view name);

struct TextOptions {
  bool color = false;
  bool hints = true;    // fix hints under findings
  bool summary = true;  // the closing summary line
};

std::string render_text(const Report& report, const TextOptions& options);
std::string render_json(const Report& report);
std::string render_sarif(const Report& report);
std::string render(const Report& report, Format format, const TextOptions& options);

// JSON string literal for text (quotes included).
std::string json_quote(std::string_view text);
// The 1-based column in code points of a 1-based byte column on a line of text.
uint32_t char_column(std::string_view line_text, uint32_t byte_column);

}  // namespace awaitify
