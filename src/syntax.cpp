#include "awaitify/syntax.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "awaitify/tree_memory.hpp"
#include "direct_walk.hpp"

namespace awaitify {

void Tree::release(TSTree* tree) {
  if (!reclaimed_with_scope(tree)) ts_tree_delete(tree);
}

Parser::Parser() : parser_(ts_parser_new(), &ts_parser_delete) {
  ts_parser_set_language(parser_.get(), awaitify_python_language());
}

Result<Tree> Parser::parse(std::string_view text) {
  TSTree* tree = ts_parser_parse_string(parser_.get(), nullptr, text.data(),
                                        static_cast<uint32_t>(text.size()));
  if (tree == nullptr) return Error{"the parser gave up on this file"};
  return Tree(tree);
}

namespace {

// Moves `point` over `text`: rows and columns count bytes, as tree-sitter's points do.
TSPoint point_after(TSPoint point, std::string_view text) {
  for (char c : text) {
    if (c == '\n') {
      ++point.row;
      point.column = 0;
    } else {
      ++point.column;
    }
  }
  return point;
}

// Where a byte of the source is, as tree-sitter counts: rows and columns from 0, in bytes.
TSPoint point_of(const SourceFile& source, uint32_t byte) {
  Position position = source.position(byte);
  return TSPoint{position.line - 1, position.column - 1};
}

// The edits in tree-sitter's terms, each in the coordinates of the text before it: the offsets
// of the old text hold as long as they are applied to the tree from the last to the first.
std::vector<TSInputEdit> input_edits(const SourceFile& old_source, const std::vector<Edit>& edits) {
  std::vector<TSInputEdit> result;
  result.reserve(edits.size());
  for (const Edit& edit : edits) {
    TSPoint start = point_of(old_source, edit.start);
    TSPoint new_end = point_after(start, edit.text);
    auto new_end_byte = static_cast<uint32_t>(edit.start + edit.text.size());
    result.push_back(TSInputEdit{edit.start, edit.end, new_end_byte, start,
                                 point_of(old_source, edit.end), new_end});
  }
  return result;
}

}  // namespace

Result<Tree> Parser::reparse(Tree old, const SourceFile& old_source, const std::vector<Edit>& edits,
                             std::string_view text) {
  for (const Edit& edit : edits) {
    if (edit.end > old_source.text().size() || edit.start > edit.end) {
      return Error{"internal error: an edit is outside the text it edits"};
    }
  }
  std::vector<TSInputEdit> changes = input_edits(old_source, edits);
  for (auto change = changes.rbegin(); change != changes.rend(); ++change) {
    ts_tree_edit(old.tree_.get(), &*change);
  }
  TSTree* tree = ts_parser_parse_string(parser_.get(), old.tree_.get(), text.data(),
                                        static_cast<uint32_t>(text.size()));
  if (tree == nullptr) return Error{"the parser gave up on this file"};
  Tree result(tree);
#ifdef AWAITIFY_CHECK_REPARSE
  Parser fresh_parser;  // a parser of its own: nothing of this one's last parse carries over
  auto fresh = fresh_parser.parse(text);
  // Two trees of a text with syntax errors may recover from them differently; the engine
  // refuses such a text either way ("produced code that does not parse").
  bool both_broken = fresh && ts_node_has_error(result.root()) && ts_node_has_error(fresh->root());
  if (!fresh || (!both_broken && !same_tree(result.root(), fresh->root()))) {
    std::fprintf(stderr, "awaitify: the tree of an edited text differs from a fresh parse\n");
    std::abort();
  }
#endif
  return result;
}

Result<Query> Query::compile(std::string_view source) {
  uint32_t error_offset = 0;
  TSQueryError error_type = TSQueryErrorNone;
  TSQuery* query = ts_query_new(awaitify_python_language(), source.data(),
                                static_cast<uint32_t>(source.size()), &error_offset, &error_type);
  if (query == nullptr) {
    return Error{"invalid tree-sitter query at offset " + std::to_string(error_offset)};
  }
  return Query(query);
}

std::vector<Match> Query::matches(TSNode node) const {
  std::unique_ptr<TSQueryCursor, decltype(&ts_query_cursor_delete)> cursor(ts_query_cursor_new(),
                                                                           &ts_query_cursor_delete);
  ts_query_cursor_exec(cursor.get(), query_.get(), node);
  std::vector<Match> result;
  TSQueryMatch match;
  while (ts_query_cursor_next_match(cursor.get(), &match)) {
    Match captures;
    for (uint16_t i = 0; i < match.capture_count; ++i) {
      uint32_t length = 0;
      const char* name =
          ts_query_capture_name_for_id(query_.get(), match.captures[i].index, &length);
      captures.push_back(Capture{std::string(name, length), match.captures[i].node});
    }
    result.push_back(std::move(captures));
  }
  return result;
}

std::string_view node_text(TSNode node, std::string_view source) {
  uint32_t start = ts_node_start_byte(node);
  uint32_t end = ts_node_end_byte(node);
  if (end > source.size() || start > end) return {};
  return source.substr(start, end - start);
}

bool alone_on_its_lines(TSNode node, std::string_view source, bool comment_after) {
  uint32_t start = ts_node_start_byte(node), end = ts_node_end_byte(node);
  size_t line_start = start == 0 ? std::string_view::npos : source.rfind('\n', start - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  size_t line_end = source.find('\n', end);
  if (line_end == std::string_view::npos) line_end = source.size();
  std::string_view before = source.substr(line_start, start - line_start);
  std::string_view after = source.substr(end, line_end - end);
  size_t code_after = after.find_first_not_of(" \t\r");
  return before.find_first_not_of(" \t") == std::string_view::npos &&
         (code_after == std::string_view::npos || (comment_after && after[code_after] == '#'));
}

std::string_view kind(TSNode node) {
  return ts_node_is_null(node) ? std::string_view{} : std::string_view(ts_node_type(node));
}

bool is(TSNode node, std::string_view type) {
  // The most called function of the engine: compares without measuring the node's type name
  // first, and most comparisons end at the first character.
  if (node.id == nullptr) return type.empty();  // ts_node_is_null, without the call
#ifdef AWAITIFY_DIRECT_WALK
  const char* name = direct::available() ? direct::type_name(node) : ts_node_type(node);
#else
  const char* name = ts_node_type(node);
#endif
  for (char c : type) {
    if (*name != c) return false;  // also where the name ends first
    ++name;
  }
  return *name == '\0';
}

NodeType::NodeType(std::string_view name) {
  // ts_node_symbol gives a node's public symbol: the one symbol_for_name finds for the name.
  auto symbol = [&](bool named) {
    return ts_language_symbol_for_name(awaitify_python_language(), name.data(),
                                       static_cast<uint32_t>(name.size()), named);
  };
  named_ = symbol(true);
  anonymous_ = symbol(false);
}

TSNode field(TSNode node, const char* name) {
  // tree-sitter finds a field's id by comparing the name with each field name of the grammar;
  // the names are string literals, so each one's id is found once per thread, by address.
  thread_local std::unordered_map<const char*, TSFieldId> ids;
  auto [known, added] = ids.try_emplace(name, 0);
  if (added) {
    known->second = ts_language_field_id_for_name(awaitify_python_language(), name,
                                                  static_cast<uint32_t>(std::strlen(name)));
  }
#ifdef AWAITIFY_DIRECT_WALK
  if (direct::available()) return direct::child_by_field_id(node, known->second);
#endif
  return ts_node_child_by_field_id(node, known->second);
}

namespace {

// The children of node in order, those `keep` accepts: a cursor steps from one to the next,
// where ts_node_child(node, i) would search from the first child again for each i. It stops at
// the last child by the child count, as cursor_walk does, not by a failing goto_next_sibling.
template <class Keep>
std::vector<TSNode> children_where(TSNode node, Keep keep) {
  std::vector<TSNode> result;
  uint32_t count = ts_node_child_count(node);
  if (count == 0) return result;
  result.reserve(count);
#ifdef AWAITIFY_DIRECT_WALK
  if (direct::available()) {
    direct::for_each_child(node, [&](TSNode child) {
      if (keep(child)) result.push_back(child);
    });
    return result;
  }
#endif
  // One cursor per thread, reset to each node: a new cursor allocates its stack, and this is
  // called millions of times. Nothing here can call children_where again while it is in use.
  // It outlives the file it is first used on, so its memory is not that file's.
  struct ThreadCursor {
    TSTreeCursor cursor;
    explicit ThreadCursor(TSNode at) {
      UnscopedTreeMemory unscoped;
      cursor = ts_tree_cursor_new(at);
    }
    ~ThreadCursor() { ts_tree_cursor_delete(&cursor); }
  };
  thread_local ThreadCursor reused(node);
  TSTreeCursor* cursor = &reused.cursor;
  ts_tree_cursor_reset(cursor, node);
  uint32_t visited = 0;
  for (bool more = ts_tree_cursor_goto_first_child(cursor); more;
       more = ++visited < count && ts_tree_cursor_goto_next_sibling(cursor)) {
    TSNode child = ts_tree_cursor_current_node(cursor);
    if (keep(child)) result.push_back(child);
  }
  return result;
}

}  // namespace

// Up to this many children, ts_node_child(node, i) for each i is cheaper than a cursor's steps,
// though each call searches from the first child again (argument lists, attributes, calls).
constexpr uint32_t kChildrenByIndex = 12;

std::vector<TSNode> named_children(TSNode node) {
  if (ts_node_is_null(node)) return {};
  if (direct::available() || ts_node_child_count(node) > kChildrenByIndex)
    return children_where(node, [](TSNode child) { return is_named(child); });
  std::vector<TSNode> result(ts_node_named_child_count(node));
  for (uint32_t i = 0; i < result.size(); ++i) result[i] = ts_node_named_child(node, i);
  return result;
}

std::vector<TSNode> children(TSNode node) {
  if (ts_node_is_null(node)) return {};
  if (direct::available() || ts_node_child_count(node) > kChildrenByIndex)
    return children_where(node, [](TSNode) { return true; });
  std::vector<TSNode> result(ts_node_child_count(node));
  for (uint32_t i = 0; i < result.size(); ++i) result[i] = ts_node_child(node, i);
  return result;
}

namespace {

// A pre-order cursor walk that knows when a node's last child is reached, from its visible child
// count (kept in the node, so asking is cheap): tree-sitter 0.20's goto_next_sibling is at its
// dearest when it fails (it climbs through the hidden nodes above before it gives up), and
// goto_first_child on a leaf is a call for nothing. `enter` visits a node and says whether to
// walk its children; `down` and `up` are told when the walk goes below a node and comes back.
// An explicit stack, not recursion: deeply nested expressions must not overflow the stack.
template <class Enter, class Down, class Up>
void cursor_walk(TSNode root, Enter&& enter, Down&& down, Up&& up) {
  // A missing node (an optional field that is absent) has nothing below it.
  if (ts_node_is_null(root)) {
    enter(root);
    return;
  }
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  std::vector<uint32_t> siblings_left;  // at each depth below root
  TSNode current = root;
  for (;;) {
    if (enter(current)) {
      uint32_t children = ts_node_child_count(current);
      if (children > 0 && ts_tree_cursor_goto_first_child(&cursor)) {
        down(current);
        siblings_left.push_back(children - 1);
        current = ts_tree_cursor_current_node(&cursor);
        continue;
      }
    }
    for (;;) {
      if (siblings_left.empty()) {
        ts_tree_cursor_delete(&cursor);
        return;
      }
      // The count and the cursor agree (Syntax.WalksVisitEveryNodeWithItsAncestors); a cursor
      // that cannot move ends the level all the same.
      if (siblings_left.back() > 0 && ts_tree_cursor_goto_next_sibling(&cursor)) {
        --siblings_left.back();
        break;
      }
      siblings_left.pop_back();
      ts_tree_cursor_goto_parent(&cursor);
      up();
    }
    current = ts_tree_cursor_current_node(&cursor);
  }
}

// cursor_walk, or the same walk over the tree's memory where the build and the check at first
// use allow it (direct_walk.hpp).
template <class Enter, class Down, class Up>
void tree_walk(TSNode root, Enter&& enter, Down&& down, Up&& up) {
#ifdef AWAITIFY_DIRECT_WALK
  if (!ts_node_is_null(root) && direct::available()) {
    direct::walk(root, enter, down, up);
    return;
  }
#endif
  cursor_walk(root, enter, down, up);
}

}  // namespace

bool walks_read_trees_directly() {
  return direct::available();
}

bool is_named(TSNode node) {
#ifdef AWAITIFY_DIRECT_WALK
  if (direct::available()) return direct::is_named(node);
#endif
  return ts_node_is_named(node);
}

void walk(TSNode node, const std::function<bool(TSNode)>& visit) {
  tree_walk(
      node, visit, [](TSNode) {}, [] {});
}

void walk_with_ancestors(TSNode node,
                         const std::function<bool(TSNode, const std::vector<TSNode>&)>& visit) {
  std::vector<TSNode> ancestors;
  tree_walk(
      node, [&](TSNode current) { return visit(current, ancestors); },
      [&](TSNode parent) { ancestors.push_back(parent); }, [&] { ancestors.pop_back(); });
}

namespace {

// A MISSING hidden token (`_newline`, `_indent`: a file whose lines end in a lone CR, which
// tree-sitter-python does not read as a newline) is no visible node, so no walk meets it: the
// deepest visible node holding the error stands for it.
TSNode deepest_node_with_error(TSNode root) {
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  TSNode deepest = root;
  for (bool more = ts_tree_cursor_goto_first_child(&cursor); more;) {
    TSNode node = ts_tree_cursor_current_node(&cursor);
    if (!ts_node_has_error(node)) {
      more = ts_tree_cursor_goto_next_sibling(&cursor);
      continue;
    }
    deepest = node;
    more = ts_tree_cursor_goto_first_child(&cursor);
  }
  ts_tree_cursor_delete(&cursor);
  return deepest;
}

}  // namespace

std::optional<TSNode> first_syntax_error(TSNode root) {
  if (!ts_node_has_error(root)) return std::nullopt;
  std::optional<TSNode> found;
  walk(root, [&](TSNode node) {
    if (found) return false;
    if ((kind(node) == "ERROR") || ts_node_is_missing(node)) {
      found = node;
      return false;
    }
    return ts_node_has_error(node);
  });
  return found ? found : deepest_node_with_error(root);
}

size_t count_syntax_errors(TSNode root) {
  size_t count = 0;
  if (!ts_node_has_error(root)) return 0;
  walk(root, [&](TSNode node) {
    if ((kind(node) == "ERROR") || ts_node_is_missing(node)) {
      ++count;
      return false;
    }
    return ts_node_has_error(node);
  });
  return std::max<size_t>(count, 1);  // an error only a hidden MISSING token shows is one
}

namespace {

bool same_node(TSNode a, TSNode b) {
  TSPoint a_start = ts_node_start_point(a), b_start = ts_node_start_point(b);
  TSPoint a_end = ts_node_end_point(a), b_end = ts_node_end_point(b);
  return ts_node_symbol(a) == ts_node_symbol(b) && ts_node_is_named(a) == ts_node_is_named(b) &&
         ts_node_is_missing(a) == ts_node_is_missing(b) &&
         ts_node_start_byte(a) == ts_node_start_byte(b) &&
         ts_node_end_byte(a) == ts_node_end_byte(b) && a_start.row == b_start.row &&
         a_start.column == b_start.column && a_end.row == b_end.row &&
         a_end.column == b_end.column && ts_node_child_count(a) == ts_node_child_count(b);
}

}  // namespace

bool same_tree(TSNode a, TSNode b) {
  // Two cursors step together; same_node compares child counts, so they stay in step.
  TSTreeCursor left = ts_tree_cursor_new(a);
  TSTreeCursor right = ts_tree_cursor_new(b);
  bool same = true;
  while (same) {
    same = same_node(ts_tree_cursor_current_node(&left), ts_tree_cursor_current_node(&right));
    if (!same || ts_tree_cursor_goto_first_child(&left)) {
      if (same) ts_tree_cursor_goto_first_child(&right);
      continue;
    }
    bool moved = false;
    while (!moved) {
      if (ts_tree_cursor_goto_next_sibling(&left)) {
        same = ts_tree_cursor_goto_next_sibling(&right);
        moved = true;
      } else if (!ts_tree_cursor_goto_parent(&left)) {
        break;
      } else {
        ts_tree_cursor_goto_parent(&right);
      }
    }
    if (!moved) break;
  }
  ts_tree_cursor_delete(&left);
  ts_tree_cursor_delete(&right);
  return same;
}

std::optional<TSNode> enclosing_function(TSNode node) {
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up)) {
    if (is(up, "function_definition") || is(up, "lambda")) return up;
  }
  return std::nullopt;
}

std::optional<TSNode> definition_of(TSNode node) {
  if (is(node, "function_definition")) return node;
  if (is(node, "decorated_definition")) {
    TSNode def = field(node, "definition");
    if (is(def, "function_definition")) return def;
  }
  return std::nullopt;
}

std::string dotted_name(TSNode node, std::string_view source) {
  // The text of `a.b.c` may hold spaces, comments or line breaks between the names: the names
  // are collected from the innermost object out, then joined in one string.
  if (is(node, "identifier")) return std::string(node_text(node, source));
  thread_local std::vector<std::string_view> names;  // kept: its memory is reused
  names.clear();
  while (is(node, "attribute")) {
    names.push_back(node_text(field(node, "attribute"), source));
    node = field(node, "object");
  }
  if (names.empty() || !is(node, "identifier")) return {};
  std::string_view first = node_text(node, source);
  size_t size = first.size();
  for (std::string_view name : names) size += 1 + name.size();
  std::string dotted;
  dotted.reserve(size);
  dotted += first;
  for (auto name = names.rbegin(); name != names.rend(); ++name) {
    dotted += '.';
    dotted += *name;
  }
  return dotted;
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

TSNode with_statement_of(TSNode call) {
  TSNode parent = ts_node_parent(call);
  if (!ts_node_is_null(parent) && is(parent, "as_pattern")) parent = ts_node_parent(parent);
  if (ts_node_is_null(parent) || !is(parent, "with_item")) return TSNode{};
  TSNode clause = ts_node_parent(parent);
  return is(clause, "with_clause") ? ts_node_parent(clause) : TSNode{};
}

}  // namespace awaitify
