#include "direct_walk.hpp"

#ifdef AWAITIFY_DIRECT_WALK
#include <tree_sitter/parser.h>

#include <cstring>
#include <memory>

#include "awaitify/syntax.hpp"
#include "awaitify/tree_memory.hpp"
#endif

namespace awaitify::direct {

#ifdef AWAITIFY_DIRECT_WALK

const TSSymbol* alias_sequence(const TSTree* tree, Subtree parent) {
  // The runtime's own TSLanguage (tree_sitter/parser.h): production 0 has no aliases.
  uint16_t production = parent.heap->production_id;
  if (production == 0) return nullptr;
  const TSLanguage* language = ts_tree_language(tree);
  return &language->alias_sequences[production * language->max_alias_sequence_length];
}

namespace {

// What each walk tells apart about a node: where it is, what it is, and its identity.
struct Seen {
  const void* id;
  TSSymbol symbol;
  bool named;
  bool missing;
  uint32_t start;
  uint32_t end;
  TSPoint start_point;
  TSPoint end_point;
  bool operator==(const Seen& other) const {
    return id == other.id && symbol == other.symbol && named == other.named &&
           missing == other.missing && start == other.start && end == other.end &&
           start_point.row == other.start_point.row &&
           start_point.column == other.start_point.column && end_point.row == other.end_point.row &&
           end_point.column == other.end_point.column;
  }
};

Seen seen(TSNode node) {
  return Seen{node.id,
              ts_node_symbol(node),
              ts_node_is_named(node),
              ts_node_is_missing(node),
              ts_node_start_byte(node),
              ts_node_end_byte(node),
              ts_node_start_point(node),
              ts_node_end_point(node)};
}

std::vector<Seen> by_cursor(TSNode root) {
  std::vector<Seen> nodes;
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  for (;;) {
    nodes.push_back(seen(ts_tree_cursor_current_node(&cursor)));
    if (ts_tree_cursor_goto_first_child(&cursor)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        ts_tree_cursor_delete(&cursor);
        return nodes;
      }
    }
  }
}

std::vector<Seen> directly(TSNode root) {
  std::vector<Seen> nodes;
  walk(
      root,
      [&](TSNode node) {
        nodes.push_back(seen(node));
        return true;
      },
      [](TSNode) {}, [] {});
  return nodes;
}

// Hidden nodes (supertypes, repeats), aliases (`print` as an identifier, import paths),
// extras (comments, line continuations), an f-string, an error and a missing token.
constexpr const char* kSample =
    "import os.path as p  # a comment\n"
    "from . import (a, b)\n"
    "print >> f, x\n"
    "@decorator(1)\n"
    "class C(Base):\n"
    "    def method(self, *args, key: int = 2, **rest) -> None:\n"
    "        value = [i for i in range(10) if i % 2]\n"
    "        total = 1 + \\\n"
    "            2\n"
    "        return f'{value!r:>{total}} {{x}}'\n"
    "match command:\n"
    "    case [Point(x=0), *rest] if rest:\n"
    "        pass\n"
    "lambda: (yield)\n"
    "x = (1,\n"
    "def broken(:\n"
    "    return\n";

bool layout_matches() {
  // The sample's tree is parsed outside any file's tree memory: this runs once per process.
  UnscopedTreeMemory unscoped;
  Parser parser;
  Result<Tree> tree = parser.parse(kSample);
  if (!tree) return false;
  TSNode root = tree->root();
  if (!ts_node_has_error(root)) return false;  // the sample must hold an error to check one
  return by_cursor(root) == directly(root);
}

}  // namespace

bool available() {
  static const bool matches = layout_matches();
  return matches;
}

#else

bool available() {
  return false;
}

#endif  // AWAITIFY_DIRECT_WALK

}  // namespace awaitify::direct
