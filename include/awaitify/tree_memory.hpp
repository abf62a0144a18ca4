#pragma once
// Where tree-sitter's memory comes from while one file is worked on.
//
// A parse makes one small allocation per node and a tree's deletion frees each again: with the
// C library's malloc that is a tenth of a parse. While a TreeMemoryScope is alive on a thread,
// tree-sitter's small allocations on that thread come from pages of that thread's own, of one
// size each, and go back to a free list of their size; when the outermost scope ends, every
// page is given back at once. Allocations made with no scope alive, and large ones, go to the C
// library as before.
//
// The rule that makes it safe: every tree-sitter object (parser, tree, cursor) made while a
// scope is alive is gone before that scope ends. A scope is opened only where a file's parser
// and trees are local to the work on that file (the engine's reading and rewriting of a file).
#include <cstddef>

namespace awaitify {

class TreeMemoryScope {
 public:
  TreeMemoryScope();
  ~TreeMemoryScope();
  TreeMemoryScope(const TreeMemoryScope&) = delete;
  TreeMemoryScope& operator=(const TreeMemoryScope&) = delete;
};

// While one is alive, the thread's tree-sitter objects come from the C library even inside a
// scope: for an object that outlives the scope (a thread's reused cursor).
class UnscopedTreeMemory {
 public:
  UnscopedTreeMemory();
  ~UnscopedTreeMemory();
  UnscopedTreeMemory(const UnscopedTreeMemory&) = delete;
  UnscopedTreeMemory& operator=(const UnscopedTreeMemory&) = delete;

 private:
  int depth_;
};

// Whether tree-sitter memory at `block` goes back when the calling thread's scopes end: a tree
// whose memory does needs no deletion (which visits every node).
bool reclaimed_with_scope(const void* block);

// What the calling thread's pages hold now (for tests): bytes handed out and not freed, and
// the pages taken.
struct TreeMemoryUse {
  size_t live_bytes = 0;
  size_t pages = 0;
};
TreeMemoryUse tree_memory_use();

}  // namespace awaitify
