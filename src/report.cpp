#include "awaitify/report.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <tuple>

namespace awaitify {

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr const char* kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* kInformationUri =
    "https://github.com/awaitify/awaitify/blob/main/docs/rules.md";

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::note:
      return "note";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "note";
}

struct Paint {
  bool on;
  std::string operator()(const char* code, const std::string& text) const {
    return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
};

const char* severity_color(Severity severity) {
  return severity == Severity::error ? "1;31" : severity == Severity::warning ? "1;33" : "1;36";
}

std::string location(const ReportItem& item) {
  return item.path + ":" + std::to_string(item.position.line) + ":" +
         std::to_string(item.position.column);
}

std::string plural(size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

std::map<std::string, size_t> count_by_rule(const Report& report) {
  std::map<std::string, size_t> counts;
  for (const ReportItem& item : report.items) ++counts[item.rule];
  return counts;
}

std::string rule_counts(const std::map<std::string, size_t>& counts) {
  std::string text;
  for (const auto& [rule, count] : counts)
    text += (text.empty() ? "" : ", ") + rule + " ×" + std::to_string(count);
  return text;
}

std::string tail_notes(const Report& report) {
  std::string text;
  if (size_t suppressed = report.suppressed_total()) {
    text +=
        "; " + std::to_string(suppressed) + " suppressed (" + rule_counts(report.suppressed) + ")";
  }
  if (!report.skipped_files.empty())
    text += "; " + plural(report.skipped_files.size(), "file", "files") + " skipped";
  if (!report.errors.empty())
    text += "; " + plural(report.errors.size(), "file", "files") + " could not be read";
  return text;
}

size_t files_with_items(const Report& report) {
  std::set<std::string> paths;
  for (const ReportItem& item : report.items) paths.insert(item.path);
  return paths.size();
}

std::string verify_text(const Report& report, const TextOptions& options, const Paint& paint) {
  std::string out;
  for (const ReportItem& item : report.items) {
    out += paint("1", location(item)) + ": " + paint(severity_color(item.severity), item.rule) +
           " " + item.message + "\n";
    if (options.hints && !item.hint.empty()) out += "    " + paint("2", "fix: " + item.hint) + "\n";
  }
  std::string summary = "awaitify verify: ";
  if (report.items.empty()) {
    summary += "no problems in " + plural(report.files, "file", "files");
  } else {
    summary += plural(report.items.size(), "problem", "problems") + " (" +
               rule_counts(count_by_rule(report)) + ") in " +
               plural(files_with_items(report), "file", "files") + " of " +
               std::to_string(report.files);
  }
  if (!options.summary) return out;
  return out + (out.empty() ? "" : "\n") +
         paint(report.items.empty() ? "1;32" : "1", summary + tail_notes(report)) + "\n";
}

std::string pad(const std::string& text, size_t width, bool right) {
  // Columns count code points, so "±" and paths with accents line up.
  size_t length = 0;
  for (unsigned char c : text) length += (c & 0xC0) != 0x80;
  std::string fill(width > length ? width - length : 0, ' ');
  return right ? fill + text : text + fill;
}

std::string module_table(const Report& report) {
  if (report.modules.empty()) return {};
  std::vector<std::string> header{"module", "items"};
  header.insert(header.end(), report.phases.begin(), report.phases.end());
  header.push_back("total");
  std::vector<std::vector<std::string>> rows{header};
  for (const ModuleEstimate& module : report.modules) {
    std::vector<std::string> row{module.path, std::to_string(module.items)};
    for (const std::string& phase : report.phases) {
      auto it = module.lines.find(phase);
      row.push_back(it == module.lines.end() || it->second == 0 ? "-" : std::to_string(it->second));
    }
    row.push_back(std::to_string(module.total()));
    rows.push_back(row);
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], pad(row[i], 0, false).size());
  }
  std::string out =
      "Per module: audit items, and the lines each phase would change if run alone on the "
      "code as it is now";
  if (!report.planned_phases.empty()) {
    std::string planned;
    for (const std::string& phase : report.planned_phases)
      planned += (planned.empty() ? "" : ", ") + phase;
    out += " (not estimated, not written yet: " + planned + ")";
  }
  out += ":\n";
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += "  " + pad(row[i], widths[i], i > 0);
    out += line + "\n";
  }
  return out;
}

std::string audit_text(const Report& report, const TextOptions& options, const Paint& paint) {
  std::string out;
  std::map<std::string, size_t> counts = count_by_rule(report);
  for (const RuleInfo& group : report.rules) {
    size_t count = counts.count(group.id) ? counts[group.id] : 0;
    out += paint("1", group.summary) + " (" + group.id +
           "): " + paint(count ? "1;33" : "1;32", std::to_string(count)) + "\n";
    for (const ReportItem& item : report.items) {
      if (item.rule == group.id) out += "  " + location(item) + ": " + item.message + "\n";
    }
    if (count && options.hints && !group.hint.empty())
      out += "  " + paint("2", "next: " + group.hint) + "\n";
  }
  out += "\n" + module_table(report);
  std::string summary = "awaitify audit: ";
  if (report.items.empty())
    summary += "nothing sync left in " + plural(report.files, "file", "files");
  else
    summary += plural(report.items.size(), "item", "items") + " still sync in " +
               plural(files_with_items(report), "file", "files") + " of " +
               std::to_string(report.files);
  if (!options.summary) return out;
  return out + (report.modules.empty() ? "" : "\n") + paint("1", summary + tail_notes(report)) +
         "\n";
}

std::string check_text(const Report& report, const TextOptions& options, const Paint& paint) {
  std::string out;
  size_t changed = 0, with_problems = 0;
  for (const FileStatus& file : report.file_status) {
    std::string line = paint("1", file.path) + ":";
    if (file.changed()) {
      ++changed;
      std::string edits;
      for (const auto& [id, count] : file.edits)
        edits += (edits.empty() ? "" : ", ") + id + " ×" + std::to_string(count);
      line += std::string(" ") + (report.applied ? "changed" : "would change") + " (" + edits +
              "; +" + std::to_string(file.added) + " -" + std::to_string(file.removed) + " lines)";
    }
    if (!file.findings.empty()) {
      ++with_problems;
      std::string findings;
      for (const std::string& finding : file.findings)
        findings += (findings.empty() ? "" : ", ") + finding;
      line +=
          std::string(file.changed() ? ";" : "") + " " + paint("1;31", "verify:") + " " + findings;
    }
    out += line + "\n";
  }
  for (const FileStatus& file : report.file_status) out += file.diff;
  std::string summary = "awaitify check: ";
  if (!changed && !with_problems) {
    summary += "nothing to migrate or fix in " + plural(report.files, "file", "files");
  } else {
    summary += std::to_string(changed) + (report.applied ? " changed" : " would change") + ", " +
               std::to_string(with_problems) + " with verify problems, of " +
               plural(report.files, "file", "files");
    if (with_problems) summary += " (details: awaitify verify PATHS)";
  }
  if (!options.summary) return out;
  return out + paint(changed || with_problems ? "1" : "1;32", summary + tail_notes(report)) + "\n";
}

std::string json_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + json_quote(values[i]);
  return out + "]";
}

template <typename Map>
std::string json_counts(const Map& counts) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, count] : counts) {
    out += (first ? "" : ", ") + json_quote(key) + ": " + std::to_string(count);
    first = false;
  }
  return out + "}";
}

// A file path as a SARIF artifact URI: relative paths stay relative (to %SRCROOT%), '/'-separated
// and percent-encoded.
std::string artifact_uri(const std::string& path, bool* relative) {
  std::string cleaned = path;
  while (cleaned.rfind("./", 0) == 0) cleaned = cleaned.substr(2);
  *relative = cleaned.empty() || cleaned[0] != '/';
  std::string out = *relative ? "" : "file://";
  for (unsigned char c : cleaned) {
    if (std::isalnum(c) ||
        std::string_view("-._~/").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string sarif_location(const std::string& path, uint32_t line, uint32_t column) {
  bool relative = true;
  std::string uri = artifact_uri(path, &relative);
  return "{\"physicalLocation\": {\"artifactLocation\": {\"uri\": " + json_quote(uri) +
         (relative ? ", \"uriBaseId\": \"%SRCROOT%\"" : "") +
         "}, \"region\": {\"startLine\": " + std::to_string(line) +
         ", \"startColumn\": " + std::to_string(column) + "}}}";
}

std::string sarif_rule(const RuleInfo& rule) {
  return "{\"id\": " + json_quote(rule.id) + ", \"name\": " + json_quote(rule.name) +
         ", \"shortDescription\": {\"text\": " + json_quote(rule.summary) + "}" +
         ", \"help\": {\"text\": " + json_quote(rule.hint) + "}" + ", \"helpUri\": " +
         json_quote(std::string(kInformationUri) + "#" +
                    [&] {
                      std::string anchor = rule.id;
                      for (char& c : anchor)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                      return anchor;
                    }()) +
         ", \"defaultConfiguration\": {\"level\": " + json_quote(severity_name(rule.severity)) +
         "}}";
}

}  // namespace

int ModuleEstimate::total() const {
  int sum = 0;
  for (const auto& [phase, count] : lines) sum += count;
  return sum;
}

size_t Report::suppressed_total() const {
  size_t total = 0;
  for (const auto& [rule, count] : suppressed) total += count;
  return total;
}

const RuleInfo* Report::rule(const std::string& id) const {
  for (const RuleInfo& info : rules) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

void Report::sort() {
  std::stable_sort(items.begin(), items.end(), [](const ReportItem& a, const ReportItem& b) {
    return std::tie(a.path, a.position.line, a.position.column, a.rule) <
           std::tie(b.path, b.position.line, b.position.column, b.rule);
  });
}

void Report::count_and_drop_suppressed(const std::map<std::string, Suppressions>& by_path) {
  std::vector<ReportItem> kept;
  for (ReportItem& item : items) {
    auto it = by_path.find(item.path);
    bool suppressed_here =
        it != by_path.end() &&
        (it->second.suppresses(item.position.line, item.rule) ||
         (!item.replaces.empty() && it->second.suppresses(item.position.line, item.replaces)));
    if (suppressed_here) {
      ++suppressed[item.rule];
    } else {
      kept.push_back(std::move(item));
    }
  }
  items = std::move(kept);
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::text;
  if (name == "json") return Format::json;
  if (name == "sarif") return Format::sarif;
  return std::nullopt;
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

uint32_t char_column(std::string_view line_text, uint32_t byte_column) {
  uint32_t column = 1;
  for (size_t i = 0; i + 1 < byte_column && i < line_text.size(); ++i) {
    if ((static_cast<unsigned char>(line_text[i]) & 0xC0) != 0x80) ++column;
  }
  // Bytes past the line (should not happen) count one each.
  return byte_column > line_text.size() + 1
             ? column + (byte_column - 1 - static_cast<uint32_t>(line_text.size()))
             : column;
}

std::string render_text(const Report& report, const TextOptions& options) {
  Paint paint{options.color};
  std::string out;
  for (const std::string& warning : report.warnings) out += "awaitify: warning: " + warning + "\n";
  if (report.command == "audit") return out + audit_text(report, options, paint);
  if (report.command == "check") return out + check_text(report, options, paint);
  return out + verify_text(report, options, paint);
}

std::string render_json(const Report& report) {
  std::ostringstream out;
  out << "{\n  \"schema\": \"awaitify-report/1\",\n  \"tool\": {\"name\": \"awaitify\", "
         "\"version\": \""
      << kVersion << "\"},\n  \"command\": " << json_quote(report.command) << ",\n";
  out << "  \"summary\": {\"files\": " << report.files << ", \"findings\": " << report.items.size()
      << ", \"by_rule\": " << json_counts(count_by_rule(report))
      << ", \"suppressed\": " << report.suppressed_total()
      << ", \"suppressed_by_rule\": " << json_counts(report.suppressed)
      << ", \"skipped_files\": " << json_list(report.skipped_files)
      << ", \"errors\": " << report.errors.size() << "},\n";
  out << "  \"rules\": [";
  for (size_t i = 0; i < report.rules.size(); ++i) {
    const RuleInfo& rule = report.rules[i];
    out << (i ? ",\n    " : "\n    ") << "{\"id\": " << json_quote(rule.id)
        << ", \"name\": " << json_quote(rule.name) << ", \"summary\": " << json_quote(rule.summary)
        << ", \"hint\": " << json_quote(rule.hint)
        << ", \"severity\": " << json_quote(severity_name(rule.severity)) << "}";
  }
  out << (report.rules.empty() ? "" : "\n  ") << "],\n  \"findings\": [";
  for (size_t i = 0; i < report.items.size(); ++i) {
    const ReportItem& item = report.items[i];
    out << (i ? ",\n    " : "\n    ") << "{\"rule\": " << json_quote(item.rule)
        << ", \"path\": " << json_quote(item.path) << ", \"line\": " << item.position.line
        << ", \"column\": " << item.position.column
        << ", \"severity\": " << json_quote(severity_name(item.severity))
        << ", \"message\": " << json_quote(item.message) << ", \"hint\": " << json_quote(item.hint)
        << "}";
  }
  out << (report.items.empty() ? "" : "\n  ") << "],\n  \"errors\": " << json_list(report.errors)
      << ",\n  \"warnings\": " << json_list(report.warnings);
  if (report.command == "audit") {
    out << ",\n  \"phases\": " << json_list(report.phases)
        << ",\n  \"planned_phases\": " << json_list(report.planned_phases) << ",\n  \"modules\": [";
    for (size_t i = 0; i < report.modules.size(); ++i) {
      const ModuleEstimate& module = report.modules[i];
      out << (i ? ",\n    " : "\n    ") << "{\"path\": " << json_quote(module.path)
          << ", \"items\": " << module.items << ", \"lines\": " << json_counts(module.lines)
          << ", \"total\": " << module.total() << "}";
    }
    out << (report.modules.empty() ? "" : "\n  ") << "]";
  }
  if (report.command == "check") {
    out << ",\n  \"applied\": " << (report.applied ? "true" : "false") << ",\n  \"files\": [";
    for (size_t i = 0; i < report.file_status.size(); ++i) {
      const FileStatus& file = report.file_status[i];
      out << (i ? ",\n    " : "\n    ") << "{\"path\": " << json_quote(file.path)
          << ", \"changes\": " << (file.changed() ? "true" : "false")
          << ", \"edits\": " << json_counts(file.edits) << ", \"lines_added\": " << file.added
          << ", \"lines_removed\": " << file.removed
          << ", \"findings\": " << json_list(file.findings) << "}";
    }
    out << (report.file_status.empty() ? "" : "\n  ") << "]";
  }
  out << "\n}\n";
  return out.str();
}

std::string render_sarif(const Report& report) {
  std::ostringstream out;
  out << "{\n  \"$schema\": \"" << kSarifSchema
      << "\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n"
      << "      \"tool\": {\n        \"driver\": {\n          \"name\": \"awaitify\",\n          "
         "\"version\": \""
      << kVersion << "\",\n          \"informationUri\": \"" << kInformationUri
      << "\",\n          \"rules\": [";
  std::map<std::string, size_t> rule_index;
  for (size_t i = 0; i < report.rules.size(); ++i) {
    rule_index[report.rules[i].id] = i;
    out << (i ? ",\n            " : "\n            ") << sarif_rule(report.rules[i]);
  }
  out << (report.rules.empty() ? "" : "\n          ") << "]\n        }\n      },\n";
  out << "      \"columnKind\": \"unicodeCodePoints\",\n      \"results\": [";
  bool first = true;
  auto result = [&](const std::string& rule, Severity severity, const std::string& message,
                    const std::string& location) {
    out << (first ? "\n        " : ",\n        ") << "{\"ruleId\": " << json_quote(rule);
    if (auto it = rule_index.find(rule); it != rule_index.end())
      out << ", \"ruleIndex\": " << it->second;
    out << ", \"level\": " << json_quote(severity_name(severity))
        << ", \"message\": {\"text\": " << json_quote(message) << "}, \"locations\": [" << location
        << "]}";
    first = false;
  };
  for (const ReportItem& item : report.items) {
    std::string message = item.message + (item.hint.empty() ? "" : ". Fix: " + item.hint);
    result(item.rule, item.severity, message,
           sarif_location(item.path, item.position.line,
                          item.char_column ? item.char_column : item.position.column));
  }
  for (const FileStatus& file : report.file_status) {
    for (const auto& [id, count] : file.edits) {
      std::string message = std::string(report.applied ? "changed" : "would change") + " by " + id +
                            " (" + std::to_string(count) + " edits); run `awaitify diff --only " +
                            id + " " + file.path + "`";
      result(id, Severity::warning, message,
             sarif_location(file.path, std::max<uint32_t>(1, file.first_changed_line), 1));
    }
  }
  out << (first ? "" : "\n      ") << "],\n      \"invocations\": [{\"executionSuccessful\": "
      << (report.errors.empty() ? "true" : "false") << ", \"toolExecutionNotifications\": [";
  for (size_t i = 0; i < report.errors.size(); ++i) {
    out << (i ? ", " : "")
        << "{\"level\": \"error\", \"message\": {\"text\": " << json_quote(report.errors[i])
        << "}}";
  }
  out << "]}]\n    }\n  ]\n}\n";
  return out.str();
}

std::string render(const Report& report, Format format, const TextOptions& options) {
  switch (format) {
    case Format::json:
      return render_json(report);
    case Format::sarif:
      return render_sarif(report);
    case Format::text:
      break;
  }
  return render_text(report, options);
}

}  // namespace awaitify
