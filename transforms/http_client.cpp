#include "http_client.hpp"

#include <algorithm>
#include <set>

#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify::http {

namespace {

bool is_definition(TSNode node) {
  return is(node, "function_definition") || is(node, "class_definition") ||
         is(node, "decorated_definition");
}

bool is_import(TSNode node) {
  return is(node, "import_statement") || is(node, "import_from_statement") ||
         is(node, "future_import_statement");
}

bool holds_multiline_string(TSNode node) {
  bool found = false;
  walk(node, [&](TSNode child) {
    if (found) return false;
    if (is(child, "string") && ts_node_start_point(child).row != ts_node_end_point(child).row)
      found = true;
    return !found;
  });
  return found;
}

bool line_starts_at(uint32_t start, std::string_view src) {
  while (start > 0 && (src[start - 1] == ' ' || src[start - 1] == '\t')) --start;
  return start == 0 || src[start - 1] == '\n';
}

bool starts_its_line(TSNode node, const SourceFile& source) {
  uint32_t start = ts_node_start_byte(node);
  return source.indent_at(start).size() == start - source.line_start(source.position(start).line);
}

// One indentation level: the statement's indentation past its block owner's.
std::string indent_unit(TSNode statement, const SourceFile& source) {
  std::string_view inner = source.indent_at(ts_node_start_byte(statement));
  TSNode owner = ts_node_parent(ts_node_parent(statement));
  std::string_view outer =
      ts_node_is_null(owner) ? std::string_view() : source.indent_at(ts_node_start_byte(owner));
  if (inner.size() > outer.size() && inner.substr(0, outer.size()) == outer) {
    return std::string(inner.substr(outer.size()));
  }
  return "    ";
}

bool inside(const Edit& edit, uint32_t start, uint32_t end) {
  return edit.start >= start && edit.end <= end;
}

Result<std::string> wrapped_text(const ScopedWrap& wrap, const std::vector<Edit>& edits,
                                 const SourceFile& source) {
  uint32_t start = ts_node_start_byte(wrap.statement);
  uint32_t end = ts_node_end_byte(wrap.statement);
  EditSet local;
  for (const Edit& edit : edits) {
    if (!inside(edit, start, end)) continue;
    Status added = local.add(Edit{edit.start - start, edit.end - start, edit.text});
    if (!added) return added.error();
  }
  auto applied = local.apply(std::string_view(source.text()).substr(start, end - start));
  if (!applied) return applied.error();
  std::string indent(source.indent_at(start));
  std::string deeper = indent + indent_unit(wrap.statement, source);
  return "async with " + wrap.client + " as " + wrap.name + ":" + source.newline() + deeper +
         reindent(*applied, indent, deeper);
}

}  // namespace

TSNode wrap_statement(TSNode call, std::string_view src, std::string& why) {
  TSNode statement = call;
  while (!ts_node_is_null(ts_node_parent(statement)) && !is(ts_node_parent(statement), "block")) {
    statement = ts_node_parent(statement);
  }
  if (ts_node_is_null(ts_node_parent(statement))) {
    why = "it is not inside a block";
  } else if (is_definition(statement)) {
    why = "it is part of a definition";
  } else if (!line_starts_at(ts_node_start_byte(statement), src)) {
    why = "its statement shares a line with other code";
  } else if (holds_multiline_string(statement)) {
    why =
        "its statement holds a multi-line string, which re-indenting for `async with` would change";
  } else {
    return statement;
  }
  return TSNode{};
}

Result<std::vector<Edit>> apply_wraps(const std::vector<Edit>& edits,
                                      const std::vector<ScopedWrap>& wraps,
                                      const SourceFile& source) {
  std::vector<Edit> result;
  for (const Edit& edit : edits) {
    bool wrapped = false;
    for (const ScopedWrap& wrap : wraps) {
      uint32_t start = ts_node_start_byte(wrap.statement);
      uint32_t end = ts_node_end_byte(wrap.statement);
      if (inside(edit, start, end))
        wrapped = true;
      else if (edit.start < end && edit.end > start)
        return Error{"internal error: an edit straddles a wrapped statement"};
    }
    if (!wrapped) result.push_back(edit);
  }
  for (const ScopedWrap& wrap : wraps) {
    if (!starts_its_line(wrap.statement, source))
      return Error{"internal error: a wrapped statement does not start its line"};
    auto text = wrapped_text(wrap, edits, source);
    if (!text) return text.error();
    result.push_back(
        Edit::replace(ts_node_start_byte(wrap.statement), ts_node_end_byte(wrap.statement), *text));
  }
  return result;
}

std::string free_name(TSNode node, std::string_view src,
                      const std::vector<std::string>& candidates) {
  std::set<std::string> taken;
  walk(node, [&](TSNode child) {
    if (is(child, "identifier")) taken.insert(std::string(node_text(child, src)));
    return true;
  });
  for (const std::string& candidate : candidates) {
    if (!taken.count(candidate)) return candidate;
  }
  for (int i = 2;; ++i) {
    std::string candidate = candidates.front() + "_" + std::to_string(i);
    if (!taken.count(candidate)) return candidate;
  }
}

SharedClient shared_client(const ModuleFacts& facts, TSNode root, std::string_view src,
                           const std::string& lib_module) {
  // Only a client built without options: one with a base_url, headers or auth was made for
  // other requests, and reusing it would send those along.
  for (TSNode statement : named_children(root)) {
    TSNode assignment = ts_node_named_child(statement, 0);
    if (!is(statement, "expression_statement") || !is(assignment, "assignment")) continue;
    TSNode left = field(assignment, "left"), right = field(assignment, "right");
    if (!is(left, "identifier") || !is(right, "call")) continue;
    if (facts.resolve(dotted_name(field(right, "function"), src)) != lib_module + ".AsyncClient")
      continue;
    if (named_children(field(right, "arguments")).empty())
      return SharedClient{std::string(node_text(left, src)), true};
  }
  return SharedClient{free_name(root, src, {"http_client", "_http_client"}), false};
}

Edit shared_client_declaration(TSNode root, const SourceFile& source,
                               const std::string& statement) {
  const std::string& nl = source.newline();
  std::vector<TSNode> top = named_children(root);
  auto last_import = std::find_if(top.rbegin(), top.rend(), is_import);
  size_t next = last_import == top.rend() ? 0 : static_cast<size_t>(top.rend() - last_import);
  // A comment on the import's own line belongs to it.
  while (next < top.size() && next > 0 && is(top[next], "comment") &&
         ts_node_start_point(top[next]).row == ts_node_end_point(top[next - 1]).row) {
    ++next;
  }
  if (next >= top.size()) {
    return Edit::insert(static_cast<uint32_t>(source.text().size()), nl + statement + nl);
  }
  TSNode before = top[next];
  std::string gap = is_definition(before) ? nl + nl : nl;
  uint32_t at = source.line_start(source.position(ts_node_start_byte(before)).line);
  return Edit::insert(at, statement + nl + gap);
}

}  // namespace awaitify::http
