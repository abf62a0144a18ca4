#pragma once
// Thin RAII wrappers over tree-sitter's C API and the node helpers transforms share.
#include <tree_sitter/api.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/result.hpp"
#include "awaitify/source.hpp"

// tree-sitter-python, with its scanner's state reset fixed (src/grammar/python_language.c).
extern "C" const TSLanguage* awaitify_python_language();
// Whether the language's scanner keeps its stacks' memory between tokens (its check of the
// grammar's scanner layout passed: src/grammar/python_language.c).
extern "C" bool awaitify_python_scanner_reuses_memory();

namespace awaitify {

class Tree {
 public:
  explicit Tree(TSTree* tree) : tree_(tree, &release) {}
  TSNode root() const { return ts_tree_root_node(tree_.get()); }

 private:
  friend class Parser;
  // Deletes the tree, unless its memory goes back with a TreeMemoryScope (tree_memory.hpp).
  static void release(TSTree* tree);
  std::unique_ptr<TSTree, decltype(&release)> tree_;
};

class Parser {
 public:
  Parser();
  // Parses Python source. Fails only when tree-sitter gives up (never on syntax errors: those
  // are ERROR/MISSING nodes in the tree; see first_syntax_error).
  Result<Tree> parse(std::string_view text);
  // Parses `text`, which is `old_source`'s text with `edits` applied (sorted by start, as
  // EditSet keeps them), reusing the parts of `old` (the tree of that text) the edits did not
  // touch. The tree is the one parse(text) gives; builds with AWAITIFY_CHECK_REPARSE check that
  // it is.
  Result<Tree> reparse(Tree old, const SourceFile& old_source, const std::vector<Edit>& edits,
                       std::string_view text);

 private:
  std::unique_ptr<TSParser, decltype(&ts_parser_delete)> parser_;
};

struct Capture {
  std::string name;
  TSNode node;
};
using Match = std::vector<Capture>;

class Query {
 public:
  static Result<Query> compile(std::string_view source);
  // Every match of the query under node, in document order.
  std::vector<Match> matches(TSNode node) const;

 private:
  explicit Query(TSQuery* query) : query_(query, &ts_query_delete) {}
  std::shared_ptr<TSQuery> query_;
};

// Node helpers. All take the source text the node was parsed from where they read text.
std::string_view node_text(TSNode node, std::string_view source);
// Whether node's text stands alone on its lines: only spaces and tabs before it on its first
// line and after it on its last (a comment after it too, with `comment_after`). A node that
// shares a line (`a(); b()`, a body on its `with` line) cannot become a compound statement.
bool alone_on_its_lines(TSNode node, std::string_view source, bool comment_after = false);
std::string_view kind(TSNode node);
bool is(TSNode node, std::string_view type);
// A node type known by its grammar symbols. A loop that tests every node of a tree against
// several types asks tree-sitter for the node's symbol once and compares numbers, where each
// is() asks for the node's type name again: NodeType("call").of(ts_node_symbol(node)) is
// is(node, "call").
class NodeType {
 public:
  explicit NodeType(std::string_view name);
  bool of(TSSymbol symbol) const {
    return symbol != 0 && (symbol == named_ || symbol == anonymous_);
  }

 private:
  // The type's named and anonymous symbols (`await` is both an expression and a keyword);
  // 0, which no node in a tree has, for neither.
  TSSymbol named_ = 0;
  TSSymbol anonymous_ = 0;
};
// `name` is a string literal (its id is remembered by address).
TSNode field(TSNode node, const char* name);
std::vector<TSNode> named_children(TSNode node);
std::vector<TSNode> children(TSNode node);
// Visits node and its descendants in document order; the visitor returns false to skip a
// node's children.
void walk(TSNode node, const std::function<bool(TSNode)>& visit);
// walk, also handing the visitor the node's ancestors from `node` down to its parent (empty
// for `node` itself): ts_node_parent searches down from the root, so a walk that asks for
// parents keeps them instead.
void walk_with_ancestors(TSNode node,
                         const std::function<bool(TSNode, const std::vector<TSNode>&)>& visit);
// Whether walk, walk_with_ancestors, children, named_children, field, is and is_named read the
// trees' memory directly (src/direct_walk.hpp) rather than through tree-sitter's cursor and node
// API: the same nodes, faster.
bool walks_read_trees_directly();
// ts_node_is_named, from the tree's memory where walks read it.
bool is_named(TSNode node);
// The first ERROR or MISSING node in document order, if any.
std::optional<TSNode> first_syntax_error(TSNode root);
size_t count_syntax_errors(TSNode root);
// Whether two trees have the same nodes: type, named or not, missing or not, byte range and
// row/column range, in the same order and nesting (not their text).
bool same_tree(TSNode a, TSNode b);
// The nearest enclosing function_definition or lambda of node (not node itself).
std::optional<TSNode> enclosing_function(TSNode node);
// The function_definition of a decorated_definition, or node itself when it is one.
std::optional<TSNode> definition_of(TSNode node);
// A dotted name (`a.b.c`) for an identifier/attribute chain, or empty when it is not one.
std::string dotted_name(TSNode node, std::string_view source);
// Whether a string inside node spans lines: re-indenting node's lines would change its text.
bool holds_multiline_string(TSNode node);
// The `with` statement one of whose items is this call (`with db.begin():`, `with f() as x:`),
// or a null node.
TSNode with_statement_of(TSNode call);

}  // namespace awaitify
