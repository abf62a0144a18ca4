#include "awaitify/ignore_edits.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <vector>

#include "awaitify/index.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

struct Split {
  std::vector<Edit> kept, dropped;
  std::set<uint32_t> lines;  // the ignored lines the dropped edits start on
};

Split split_edits(const std::string& rule, const SourceFile& source, const Suppressions& comments,
                  const std::vector<Edit>& edits) {
  Split split;
  for (const Edit& edit : edits) {
    uint32_t line = source.position(edit.start).line;
    if (comments.suppresses(line, rule)) {
      split.dropped.push_back(edit);
      split.lines.insert(line);
    } else {
      split.kept.push_back(edit);
    }
  }
  return split;
}

// What an edit adds around the code it replaces: its text without that code.
std::string added_text(const Edit& edit, std::string_view text) {
  std::string added = edit.text;
  std::string_view original = text.substr(edit.start, edit.end - edit.start);
  size_t at = original.empty() ? std::string::npos : added.find(original);
  if (at != std::string::npos) added.erase(at, original.size());
  return added;
}

// Whether the edits on one line only put an await (and parentheses) in front of code that
// stays as it is: that code returns a coroutine now, and without the await nothing runs it.
bool adds_await_only(const std::vector<Edit>& line_edits, std::string_view text) {
  bool await = false;
  for (const Edit& edit : line_edits) {
    std::string added = added_text(edit, text);
    size_t at = added.find("await");
    if (at != std::string::npos) {
      added.erase(at, 5);
      await = true;
    }
    if (added.find_first_not_of("() \t") != std::string::npos) return false;
  }
  return await;
}

// Where other edits of the pass may depend on an edit: the whole function when it changes the
// header (`async def`, a parameter's type), the body when it is in the body.
struct Scope {
  uint32_t start = 0, end = 0;
  std::string function;
  bool header = false;
};

std::optional<Scope> dependency_scope(TSNode root, uint32_t byte, std::string_view text) {
  for (TSNode node = ts_node_descendant_for_byte_range(root, byte, byte); !ts_node_is_null(node);
       node = ts_node_parent(node)) {
    TSNode whole = node;
    if (is(node, "decorated_definition")) {
      auto def = definition_of(node);
      if (!def) continue;
      node = *def;
    } else if (!is(node, "function_definition")) {
      continue;
    } else if (TSNode parent = ts_node_parent(node);
               !ts_node_is_null(parent) && is(parent, "decorated_definition")) {
      whole = parent;
    }
    TSNode body = field(node, "body");
    std::string name(node_text(field(node, "name"), text));
    if (ts_node_is_null(body) || byte < ts_node_start_byte(body)) {
      return Scope{ts_node_start_byte(whole), ts_node_end_byte(whole), name, true};
    }
    return Scope{ts_node_start_byte(body), ts_node_end_byte(body), name, false};
  }
  return std::nullopt;
}

// The identifiers in a piece of code (attribute names after a dot excluded).
std::set<std::string> identifiers(std::string_view text) {
  std::set<std::string> names;
  auto word = [&](size_t at, bool first) {
    unsigned char c = static_cast<unsigned char>(text[at]);
    return std::isalpha(c) || c == '_' || (!first && std::isdigit(c));
  };
  for (size_t i = 0; i < text.size();) {
    if (!word(i, true) || (i > 0 && (word(i - 1, false) || text[i - 1] == '.'))) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && word(i, false)) ++i;
    names.insert(std::string(text.substr(start, i - start)));
  }
  return names;
}

void collect_identifiers(TSNode node, std::string_view text, std::set<std::string>& names) {
  walk(node, [&](TSNode child) {
    if (is(child, "identifier")) names.insert(std::string(node_text(child, text)));
    return true;
  });
}

// The names the statement holding `byte` binds (`x = ...`, `with ... as f`, `for x in ...`):
// other code of the function that uses them was rewritten for what the edit makes of them.
std::set<std::string> bound_names(TSNode root, uint32_t byte, std::string_view text) {
  std::set<std::string> names;
  TSNode node = ts_node_descendant_for_byte_range(root, byte, byte);
  for (; !ts_node_is_null(node); node = ts_node_parent(node)) {
    TSNode parent = ts_node_parent(node);
    if (ts_node_is_null(parent) || is(parent, "block") || is(parent, "module")) break;
  }
  if (ts_node_is_null(node)) return names;
  if (is(node, "with_statement")) {
    walk(node, [&](TSNode child) {
      if (is(child, "block")) return false;
      if (is(child, "as_pattern_target")) collect_identifiers(child, text, names);
      return true;
    });
  } else if (is(node, "for_statement")) {
    collect_identifiers(field(node, "left"), text, names);
  } else if (is(node, "expression_statement")) {
    TSNode expression = ts_node_named_child(node, 0);
    if (is(expression, "assignment") || is(expression, "augmented_assignment")) {
      collect_identifiers(field(expression, "left"), text, names);
    }
  }
  return names;
}

std::string_view line_of(const SourceFile& source, uint32_t byte) {
  uint32_t start = source.line_start(source.position(byte).line);
  std::string_view text = source.text();
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

bool imports_name(const ModuleFacts& facts, const std::string& name) {
  for (const auto& [local, target] : facts.imports) {
    if (local == name || local.rfind(name + ".", 0) == 0) return true;
  }
  return false;
}

// Why dropping these edits could break the code; empty when it cannot.
std::string static_risk(const Split& split, const SourceFile& source, TSNode root) {
  std::string_view text = source.text();
  std::map<uint32_t, std::vector<Edit>> by_line;
  for (const Edit& edit : split.dropped) by_line[source.position(edit.start).line].push_back(edit);
  for (const auto& [line, edits] : by_line) {
    if (adds_await_only(edits, text)) return "the code it awaits returns a coroutine now";
  }
  for (const Edit& edit : split.dropped) {
    auto scope = dependency_scope(root, edit.start, text);
    if (!scope) return "it is module-level code that other changes rely on";
    std::set<std::string> bound = bound_names(root, edit.start, text);
    for (const Edit& other : split.kept) {
      if (other.start < scope->start || other.start >= scope->end) continue;
      if (scope->header)
        return "the other changes of this transform in " + scope->function + " rely on it";
      for (const std::string& name : identifiers(line_of(source, other.start))) {
        if (bound.count(name)) {
          return "other changes of this transform in " + scope->function + " use `" + name +
                 "`, which it binds";
        }
      }
    }
  }
  return {};
}

// The imported names the dropped edits' code uses: their imports must stay.
std::set<std::string> imported_uses(const Split& split, const SourceFile& source,
                                    const ModuleFacts& facts) {
  std::set<std::string> used;
  for (const Edit& edit : split.dropped) {
    for (const std::string& name :
         identifiers(std::string_view(source.text()).substr(edit.start, edit.end - edit.start))) {
      if (imports_name(facts, name)) used.insert(name);
    }
  }
  return used;
}

// A pass drops an import it made unused; the ignored line still uses it: keep it.
void keep_used_imports(Split& split, const std::set<std::string>& used, const SourceFile& source,
                       TSNode root) {
  std::vector<Edit> kept;
  for (Edit& edit : split.kept) {
    TSNode node = ts_node_descendant_for_byte_range(root, edit.start, edit.start);
    while (!ts_node_is_null(node) && !is(node, "import_statement") &&
           !is(node, "import_from_statement"))
      node = ts_node_parent(node);
    bool needed = false;
    if (edit.text.empty() && !ts_node_is_null(node)) {
      for (const std::string& name : identifiers(node_text(node, source.text())))
        needed |= used.count(name) > 0;
    }
    if (!needed) kept.push_back(std::move(edit));
  }
  split.kept = std::move(kept);
}

// Applies the kept edits; why the result is not safe, or empty.
std::string result_risk(const Split& split, const SourceFile& source,
                        const std::set<std::string>& used) {
  EditSet edits;
  if (!edits.add_all(split.kept)) return "the other changes need it";
  auto text = edits.apply(source.text());
  if (!text) return "the other changes need it";
  Parser parser;
  auto tree = parser.parse(*text);
  if (!tree || count_syntax_errors(tree->root()) > 0) return "the other changes need it";
  ModuleFacts after =
      extract_facts(SourceFile(source.path(), *text, source.has_bom()), tree->root());
  for (const std::string& name : used) {
    if (!imports_name(after, name)) return "the import of `" + name + "` it uses would be removed";
  }
  return {};
}

}  // namespace

void drop_ignored_findings(const std::string& rule, const Suppressions& comments,
                           std::vector<Finding>& findings) {
  findings.erase(std::remove_if(findings.begin(), findings.end(),
                                [&](const Finding& finding) {
                                  return finding.id == rule &&
                                         comments.suppresses(finding.position.line, rule);
                                }),
                 findings.end());
}

void honour_ignores(const std::string& rule, const SourceFile& source, TSNode root,
                    const Suppressions& comments, PassResult& pass,
                    std::set<std::pair<std::string, uint32_t>>& suppressed) {
  drop_ignored_findings(rule, comments, pass.findings);
  Split split = split_edits(rule, source, comments, pass.edits);
  if (split.dropped.empty()) return;
  std::string risk = static_risk(split, source, root);
  if (risk.empty()) {
    std::set<std::string> used = imported_uses(split, source, extract_facts(source, root));
    keep_used_imports(split, used, source, root);
    risk = result_risk(split, source, used);
  }
  if (risk.empty()) {
    pass.edits = std::move(split.kept);
    for (uint32_t line : split.lines) suppressed.insert({rule, line});
    return;
  }
  auto first = std::min_element(split.dropped.begin(), split.dropped.end(),
                                [](const Edit& a, const Edit& b) { return a.start < b.start; });
  Position at = source.position(first->start);
  bool in_function = dependency_scope(root, first->start, source.text()).has_value();
  std::string advice =
      in_function ? "; put the comment on the def line to keep the whole function as it is" : "";
  pass.findings.push_back(Finding{rule, source.path(), at, Severity::warning,
                                  "`# awaitify: " + comments.directive(at.line, rule) +
                                      "` not honoured, the line is changed: " + risk + advice});
}

}  // namespace awaitify
