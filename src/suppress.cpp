#include "awaitify/suppress.hpp"

#include <algorithm>
#include <cctype>

#include "awaitify/audit.hpp"
#include "awaitify/syntax.hpp"
#include "awaitify/transform.hpp"
#include "awaitify/verify.hpp"

namespace awaitify {

namespace {

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// A transform (AW501), a verify rule (AWV004) or an audit group (AWA001).
bool known_rule(const std::string& id) {
  if (find_transform(id) || is_verify_rule(id)) return true;
  const std::vector<RuleInfo>& groups = audit_groups();
  return std::any_of(groups.begin(), groups.end(),
                     [&](const RuleInfo& group) { return group.id == id; });
}

}  // namespace

bool Suppressions::suppresses(uint32_t line, const std::string& rule) const {
  if (every_rule_.count(line)) return true;
  auto it = lines_.find(line);
  return it != lines_.end() && it->second.count(rule) > 0;
}

std::string Suppressions::directive(uint32_t line, const std::string& rule) const {
  if (every_rule_.count(line)) return "ignore";
  return suppresses(line, rule) ? "ignore[" + rule + "]" : std::string();
}

std::vector<uint32_t> Suppressions::lines() const {
  std::set<uint32_t> lines(every_rule_.begin(), every_rule_.end());
  for (const auto& [line, rules] : lines_) lines.insert(line);
  return {lines.begin(), lines.end()};
}

std::vector<std::string> Suppressions::warnings(const std::string& path) const {
  std::vector<std::string> out;
  for (const std::string& bad : malformed_)
    out.push_back(path + ":" + bad + " (not an awaitify directive)");
  for (const auto& [line, rules] : lines_) {
    for (const std::string& rule : rules) {
      if (!known_rule(rule)) {
        out.push_back(path + ":" + std::to_string(line) + ": `# awaitify: ignore[" + rule +
                      "]` names no rule, so it suppresses nothing (see 'awaitify list' and "
                      "docs/rules.md)");
      }
    }
  }
  return out;
}

void Suppressions::add_comment(uint32_t line, std::string_view comment) {
  // A comment may hold other tools' directives too: `# noqa: E501  # awaitify: ignore`.
  static constexpr std::string_view kTag = "awaitify:";
  for (size_t at = comment.find(kTag); at != std::string_view::npos;
       at = comment.find(kTag, at + 1)) {
    std::string_view rest = comment.substr(at + kTag.size());
    std::string directive = trim(rest.substr(0, rest.find('#')));
    bool listed = directive.rfind("ignore[", 0) == 0 && directive.back() == ']';
    std::set<std::string> rules;
    if (listed) {
      std::string list = directive.substr(7, directive.size() - 8);
      for (size_t start = 0; start <= list.size();) {
        size_t comma = list.find(',', start);
        std::string id =
            upper(trim(list.substr(start, comma == std::string::npos ? comma : comma - start)));
        if (!id.empty()) rules.insert(id);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    if (directive == "skip-file") {
      skip_file_ = true;
    } else if (directive == "ignore") {
      every_rule_.insert(line);
    } else if (listed && !rules.empty()) {
      lines_[line].insert(rules.begin(), rules.end());
    } else {
      malformed_.push_back(std::to_string(line) + ": " + trim(comment));
    }
  }
}

Suppressions Suppressions::from_tree(TSNode root, std::string_view src) {
  Suppressions result;
  walk(root, [&](TSNode node) {
    if (is(node, "comment")) {
      std::string_view text = node_text(node, src);
      if (text.find("awaitify:") != std::string_view::npos) {
        result.add_comment(ts_node_start_point(node).row + 1, text);
      }
    }
    return true;
  });
  return result;
}

Suppressions Suppressions::from_text(std::string_view src) {
  Parser parser;
  auto tree = parser.parse(src);
  if (!tree) return {};
  return from_tree(tree->root(), src);
}

}  // namespace awaitify
