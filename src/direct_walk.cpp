#include "direct_walk.hpp"

#ifdef AWAITIFY_DIRECT_WALK
#include "awaitify/syntax.hpp"
#include "awaitify/tree_memory.hpp"
#endif

namespace awaitify::direct {

#ifdef AWAITIFY_DIRECT_WALK

SymbolNames symbol_names;

const TSSymbol* alias_sequence(const TSTree* tree, Subtree parent) {
  // The runtime's own TSLanguage (tree_sitter/parser.h): production 0 has no aliases.
  uint16_t production = parent.heap->production_id;
  if (production == 0) return nullptr;
  const TSLanguage* language = ts_tree_language(tree);
  return &language->alias_sequences[production * language->max_alias_sequence_length];
}

namespace {

// A node's children with their positions and aliases, hidden ones included, as tree-sitter's
// node API steps through them (an extra child takes no place in the production).
struct ChildSteps {
  const TSTree* tree;
  const Subtree* children;
  uint32_t count;
  uint32_t index = 0;
  uint32_t structural = 0;
  const TSSymbol* aliases;
  Length position;

  explicit ChildSteps(TSNode node)
      : tree(node.tree),
        children(reinterpret_cast<const Subtree*>(static_cast<const Subtree*>(node.id)->heap) -
                 child_count(*static_cast<const Subtree*>(node.id))),
        count(child_count(*static_cast<const Subtree*>(node.id))),
        aliases(count > 0 ? alias_sequence(tree, *static_cast<const Subtree*>(node.id)) : nullptr),
        position(start_of(node)) {}

  // The next child as a node (hidden or not), and whether it is extra.
  bool next(TSNode& child, bool& is_extra) {
    if (index == count) return false;
    const Subtree* subtree = &children[index];
    TSSymbol alias = 0;
    is_extra = extra(*subtree);
    if (!is_extra) {
      if (aliases != nullptr) alias = aliases[structural];
      ++structural;
    }
    if (index > 0) position = add(position, padding(*subtree));
    child =
        TSNode{{position.bytes, position.extent.row, position.extent.column, alias}, subtree, tree};
    position = add(position, size(*subtree));
    ++index;
    return true;
  }
};

TSNode null_node() {
  return TSNode{{0, 0, 0, 0}, nullptr, nullptr};
}

bool relevant(TSNode node) {
  return visible(*static_cast<const Subtree*>(node.id)) || node.context[3] != 0;
}

TSNode first_child(TSNode node) {
  TSNode first = null_node();
  bool found = false;
  for_each_child(node, [&](TSNode child) {
    if (!found) first = child;
    found = true;
  });
  return first;
}

}  // namespace

TSNode child_by_field_id(TSNode node, TSFieldId field) {
  for (;;) {
    const Subtree* subtree = static_cast<const Subtree*>(node.id);
    if (field == 0 || subtree == nullptr || visible_child_count(*subtree) == 0) return null_node();
    const TSLanguage* language = ts_tree_language(node.tree);
    if (language->field_count == 0) return null_node();
    TSFieldMapSlice slice = language->field_map_slices[subtree->heap->production_id];
    const TSFieldMapEntry* map = &language->field_map_entries[slice.index];
    const TSFieldMapEntry* map_end = map + slice.length;
    // The entries are sorted by field: keep those of this field.
    while (map != map_end && map->field_id < field) ++map;
    while (map != map_end && map_end[-1].field_id > field) --map_end;
    if (map == map_end) return null_node();
    ChildSteps steps(node);
    TSNode child;
    bool is_extra = false;
    bool descended = false;
    while (!descended && steps.next(child, is_extra)) {
      if (is_extra || steps.structural - 1 < map->child_index) continue;
      if (map->inherited) {
        if (map + 1 == map_end) {
          node = child;  // the last place the field can be: look there alone
          descended = true;
          continue;
        }
        TSNode found = child_by_field_id(child, field);
        if (found.id != nullptr) return found;
      } else if (relevant(child)) {
        return child;
      } else if (visible_child_count(*static_cast<const Subtree*>(child.id)) > 0) {
        return first_child(child);
      }
      if (++map == map_end) return null_node();
    }
    if (!descended) return null_node();
  }
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
// extras (comments, line continuations), an f-string and errors. No visible MISSING node: this
// grammar recovers from these (and the cut texts of the walk test) with ERROR nodes; a missing
// token is a leaf like any other to the walk.
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

// Every field of every node of root, found directly and by tree-sitter.
bool same_fields(TSNode root) {
  const TSLanguage* language = ts_tree_language(root.tree);
  bool same = true;
  walk(
      root,
      [&](TSNode node) {
        for (TSFieldId field = 1; field <= ts_language_field_count(language); ++field) {
          TSNode expected = ts_node_child_by_field_id(node, field);
          TSNode found = child_by_field_id(node, field);
          same = same && ts_node_is_null(expected) == ts_node_is_null(found) &&
                 (ts_node_is_null(expected) || seen(expected) == seen(found));
        }
        return same;
      },
      [](TSNode) {}, [] {});
  return same;
}

// Every node's type and whether it is named, read directly and by tree-sitter.
bool same_types(TSNode root) {
  bool same = true;
  walk(
      root,
      [&](TSNode node) {
        same = same && type_name(node) == ts_node_type(node) &&
               is_named(node) == ts_node_is_named(node);
        return same;
      },
      [](TSNode) {}, [] {});
  return same;
}

bool layout_matches() {
  // The sample's tree is parsed outside any file's tree memory: this runs once per process.
  UnscopedTreeMemory unscoped;
  Parser parser;
  Result<Tree> tree = parser.parse(kSample);
  if (!tree) return false;
  TSNode root = tree->root();
  if (!ts_node_has_error(root)) return false;  // the sample must hold an error to check one
  const TSLanguage* language = awaitify_python_language();
  if (reinterpret_cast<const TreeHead*>(root.tree)->language != language) return false;
  symbol_names = SymbolNames{language, language->symbol_names,
                             static_cast<uint32_t>(language->symbol_count + language->alias_count),
                             language->symbol_metadata};
  return by_cursor(root) == directly(root) && same_fields(root) && same_types(root);
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
