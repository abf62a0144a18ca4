// Walks (and a node's children, fields, type) read from a syntax tree's memory directly
// instead of through a TSTreeCursor and tree-sitter's node API.
//
// Why: tree-sitter 0.20's cursor finds each next node through the hidden nodes of the grammar
// (supertypes such as `expression` and `primary_expression`, `_simple_statements`, the
// balanced helpers of repeated rules), starting a child iterator again at every level it
// climbs. A cold `diff` spent about a tenth of its instructions stepping cursors (some 600
// instructions per visible node); the same pre-order walk over the tree's own memory costs a
// few dozen. ts_node_child_by_field_id steps the same way (about 250 a call).
//
// The tree's memory is tree-sitter's private layout, so this is only built when CMake linked
// the runtime whose layout is mirrored here: Debian's tree-sitter 0.20.7, from its static
// archive, which is then part of the binary (AWAITIFY_DIRECT_WALK). At first use the layout
// is checked once more against the cursor and the node API on a sample that holds every kind
// of node the walk treats apart (hidden, aliased, extra, error); when anything
// differs, everything goes through tree-sitter's API. Syntax.WalksVisitEveryNodeWithItsAncestors
// compares the two on every fixture file.
#pragma once

#include <tree_sitter/api.h>
#ifdef AWAITIFY_DIRECT_WALK
#include <tree_sitter/parser.h>  // the runtime's TSLanguage: symbol names, metadata, aliases
#endif

#include <cstdint>
#include <vector>

namespace awaitify::direct {

// Whether walks read trees directly: built for it, and the check at first use passed.
bool available();

#ifdef AWAITIFY_DIRECT_WALK

// tree-sitter 0.20.7's Length and the parts of its subtree layout (lib/src/subtree.h) a walk
// reads, for a 64-bit little-endian machine (CMake builds this only there).
struct Length {
  uint32_t bytes;
  TSPoint extent;
};

// A leaf stored in the Subtree word itself; its lowest bit (is_inline) is 0 in a pointer.
struct InlineLeaf {
  bool is_inline : 1;
  bool visible : 1;
  bool named : 1;
  bool extra : 1;
  bool has_changes : 1;
  bool is_missing : 1;
  bool is_keyword : 1;
  uint8_t symbol;
  uint16_t parse_state;
  uint8_t padding_columns;
  uint8_t padding_rows : 4;
  uint8_t lookahead_bytes : 4;
  uint8_t padding_bytes;
  uint8_t size_bytes;
};

// The heap part of a subtree; its children are stored just before it.
struct HeapData {
  uint32_t ref_count;
  Length padding;
  Length size;
  uint32_t lookahead_bytes;
  uint32_t error_cost;
  uint16_t child_count;
  TSSymbol symbol;
  uint16_t parse_state;  // TSStateId
  bool visible : 1;
  bool named : 1;
  bool extra : 1;
  bool fragile_left : 1;
  bool fragile_right : 1;
  bool has_changes : 1;
  bool has_external_tokens : 1;
  bool has_external_scanner_state_change : 1;
  bool depends_on_column : 1;
  bool is_missing : 1;
  bool is_keyword : 1;
  // A union follows whose largest member holds a pointer; for a node with children it starts:
  alignas(8) uint32_t visible_child_count;
  uint32_t named_child_count;
  uint32_t node_count;
  int32_t dynamic_precedence;
  uint16_t repeat_depth;
  uint16_t production_id;
};

union Subtree {
  InlineLeaf leaf;
  const HeapData* heap;
};
static_assert(sizeof(Subtree) == 8 && sizeof(InlineLeaf) == 8, "a 64-bit subtree word");

inline bool visible(Subtree s) {
  return s.leaf.is_inline ? s.leaf.visible : s.heap->visible;
}
inline bool extra(Subtree s) {
  return s.leaf.is_inline ? s.leaf.extra : s.heap->extra;
}
inline uint32_t child_count(Subtree s) {
  return s.leaf.is_inline ? 0 : s.heap->child_count;
}
inline uint32_t visible_child_count(Subtree s) {
  return child_count(s) > 0 ? s.heap->visible_child_count : 0;
}
inline Length padding(Subtree s) {
  if (!s.leaf.is_inline) return s.heap->padding;
  return {s.leaf.padding_bytes, {s.leaf.padding_rows, s.leaf.padding_columns}};
}
inline Length size(Subtree s) {
  if (!s.leaf.is_inline) return s.heap->size;
  return {s.leaf.size_bytes, {0, s.leaf.size_bytes}};
}
inline Length add(Length a, Length b) {
  Length sum{a.bytes + b.bytes, a.extent};
  if (b.extent.row > 0) {
    sum.extent.row += b.extent.row;
    sum.extent.column = b.extent.column;
  } else {
    sum.extent.column += b.extent.column;
  }
  return sum;
}
// The head of tree-sitter's TSTree (lib/src/tree.h): its root and its language.
struct TreeHead {
  Subtree root;
  const TSLanguage* language;
};

// The names of one language's symbols (aliases included), by symbol: the check at first use
// keeps those of awaitify's language.
struct SymbolNames {
  const TSLanguage* language = nullptr;
  const char* const* by_symbol = nullptr;
  uint32_t count = 0;
  const TSSymbolMetadata* metadata = nullptr;  // by symbol, as by_symbol
};
extern SymbolNames symbol_names;

// ts_node_is_named: an alias is named as its symbol is, a node as its subtree says.
inline bool is_named(TSNode node) {
  TSSymbol alias = static_cast<TSSymbol>(node.context[3]);
  const TSLanguage* language = reinterpret_cast<const TreeHead*>(node.tree)->language;
  if (alias != 0 && language == symbol_names.language && alias < symbol_names.count)
    return symbol_names.metadata[alias].named;
  if (alias != 0) return ts_node_is_named(node);
  Subtree s = *static_cast<const Subtree*>(node.id);
  return s.leaf.is_inline ? s.leaf.named : s.heap->named;
}

// ts_node_type: the node's alias, or its own symbol, named.
inline const char* type_name(TSNode node) {
  const TSLanguage* language = reinterpret_cast<const TreeHead*>(node.tree)->language;
  TSSymbol symbol = static_cast<TSSymbol>(node.context[3]);
  if (symbol == 0) {
    Subtree s = *static_cast<const Subtree*>(node.id);
    symbol = s.leaf.is_inline ? s.leaf.symbol : s.heap->symbol;
  }
  if (language == symbol_names.language && symbol < symbol_names.count)
    return symbol_names.by_symbol[symbol];
  return ts_language_symbol_name(language, symbol);  // ERROR, and any other language
}

// The aliases of a node's structural children, by the production it was reduced with.
const TSSymbol* alias_sequence(const TSTree* tree, Subtree parent);

// One node's children being visited: through hidden nodes, a visible node's children are
// several frames, only the first of which is `visible`.
struct Frame {
  const Subtree* children;
  uint32_t count;
  uint32_t index;
  uint32_t structural;
  const TSSymbol* aliases;
  Length position;
  bool visible;
};

[[gnu::always_inline]] inline Frame frame_of(const TSTree* tree, const Subtree* node, Length start,
                                             bool visible) {
  Subtree s = *node;
  uint32_t count = s.heap->child_count;
  return Frame{reinterpret_cast<const Subtree*>(s.heap) - count,
               count,
               0,
               0,
               alias_sequence(tree, s),
               start,
               visible};
}

// The next child of the top frame as a node, if it is visible (aliased, or visible itself);
// a hidden child with visible nodes below becomes a frame of its own. Returns false when the
// child was hidden: the caller asks again.
[[gnu::always_inline]] inline bool next_child(std::vector<Frame>& frames, const TSTree* tree,
                                              TSNode& node) {
  Frame& top = frames.back();
  uint32_t i = top.index++;
  const Subtree* child = &top.children[i];
  if (i > 0) top.position = add(top.position, padding(*child));
  Length start = top.position;
  top.position = add(top.position, size(*child));
  TSSymbol alias = 0;
  if (top.aliases != nullptr && !extra(*child)) alias = top.aliases[top.structural++];
  if (visible(*child) || alias != 0) {
    node = TSNode{{start.bytes, start.extent.row, start.extent.column, alias}, child, tree};
    return true;
  }
  if (visible_child_count(*child) > 0) frames.push_back(frame_of(tree, child, start, false));
  return false;
}

inline Length start_of(TSNode node) {
  return {node.context[0], {node.context[1], node.context[2]}};
}

// ts_node_child_by_field_id over the tree's memory: the same node, found the same way (the field
// map of the node's production; a field a hidden child holds is inherited).
TSNode child_by_field_id(TSNode node, TSFieldId field);

// The pre-order walk of cursor_walk (syntax.cpp), over the tree's memory: `enter` visits a node
// and says whether to walk its children; `down` and `up` bracket the children of a node.
template <class Enter, class Down, class Up>
void walk(TSNode root, Enter&& enter, Down&& down, Up&& up) {
  thread_local std::vector<Frame> reused;
  std::vector<Frame> frames;
  frames.swap(reused);  // a walk inside a visitor gets its own stack
  frames.clear();
  const TSTree* tree = root.tree;
  auto descend = [&](TSNode node) {
    const Subtree* id = static_cast<const Subtree*>(node.id);
    if (visible_child_count(*id) == 0) return;
    down(node);
    frames.push_back(frame_of(tree, id, start_of(node), true));
  };
  if (enter(root)) descend(root);
  while (!frames.empty()) {
    Frame& top = frames.back();
    if (top.index == top.count) {
      bool closes_a_node = top.visible;
      frames.pop_back();
      if (closes_a_node) up();
      continue;
    }
    TSNode node;
    if (next_child(frames, tree, node) && enter(node)) descend(node);
  }
  frames.swap(reused);
}

// The visible children of node in order (through its hidden children), each handed to `visit`.
template <class Visit>
void for_each_child(TSNode node, Visit&& visit) {
  const Subtree* id = static_cast<const Subtree*>(node.id);
  if (visible_child_count(*id) == 0) return;
  thread_local std::vector<Frame> reused;
  std::vector<Frame> frames;
  frames.swap(reused);
  frames.clear();
  frames.push_back(frame_of(node.tree, id, start_of(node), true));
  while (!frames.empty()) {
    if (frames.back().index == frames.back().count) {
      frames.pop_back();
      continue;
    }
    TSNode child;
    if (next_child(frames, node.tree, child)) visit(child);
  }
  frames.swap(reused);
}

#endif  // AWAITIFY_DIRECT_WALK

}  // namespace awaitify::direct
