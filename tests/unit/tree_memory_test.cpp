// Tree-sitter's memory inside a TreeMemoryScope: the allocator tree-sitter is given
// (ts_set_allocator in src/tree_memory.cpp), asked the way tree-sitter asks it.
#include "awaitify/tree_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "awaitify/syntax.hpp"
#include "test_util.hpp"

// The runtime's current allocator, which tree-sitter and the grammar's scanner call.
extern "C" {
extern void* (*ts_current_malloc)(size_t);
extern void* (*ts_current_calloc)(size_t, size_t);
extern void* (*ts_current_realloc)(void*, size_t);
extern void (*ts_current_free)(void*);
}

namespace awaitify {
namespace {

bool aligned(const void* block) {
  return reinterpret_cast<uintptr_t>(block) % 16 == 0;
}

TEST(TreeMemory, BlocksOfAScopeComeFromItsPagesAndGoBackWhenItEnds) {
  EXPECT_EQ(tree_memory_use().live_bytes, 0u);
  {
    TreeMemoryScope scope;
    std::vector<void*> blocks;
    for (size_t size : {1, 15, 16, 17, 100, 500, 1024}) {
      void* block = ts_current_malloc(size);
      ASSERT_TRUE(aligned(block)) << size;
      EXPECT_TRUE(reclaimed_with_scope(block)) << size;
      std::memset(block, 0xAB, size);  // all of it is there to write
      blocks.push_back(block);
    }
    // Sizes round up to 16 bytes: 16 + 16 + 16 + 32 + 112 + 512 + 1024.
    EXPECT_EQ(tree_memory_use().live_bytes, 1728u);
    for (void* block : blocks) ts_current_free(block);
    EXPECT_EQ(tree_memory_use().live_bytes, 0u);
    // A freed block is given out again for its size.
    void* again = ts_current_malloc(100);
    EXPECT_EQ(again, blocks[4]);
    ts_current_free(again);
    // Large blocks are the C library's, given back with the scope all the same.
    void* large = ts_current_malloc(4096);
    EXPECT_FALSE(reclaimed_with_scope(large));
    std::memset(large, 1, 4096);
    EXPECT_GT(tree_memory_use().pages, 0u);
  }
  EXPECT_EQ(tree_memory_use().live_bytes, 0u);
  EXPECT_EQ(tree_memory_use().pages, 0u);
}

TEST(TreeMemory, ReallocKeepsTheBytesAndCallocZeroes) {
  TreeMemoryScope scope;
  auto* bytes = static_cast<unsigned char*>(ts_current_malloc(24));
  for (unsigned i = 0; i < 24; ++i) bytes[i] = static_cast<unsigned char>(i + 1);
  // Within its size class: the same block.
  EXPECT_EQ(ts_current_realloc(bytes, 30), bytes);
  // Past it, to a larger class and then past the pages to the C library: the bytes move along.
  for (size_t size : {100, 900, 5000, 70000}) {
    bytes = static_cast<unsigned char*>(ts_current_realloc(bytes, size));
    for (unsigned i = 0; i < 24; ++i) ASSERT_EQ(bytes[i], i + 1) << size;
    std::memset(bytes + 24, 0xCD, size - 24);
  }
  ts_current_free(bytes);
  auto* zeroes = static_cast<unsigned char*>(ts_current_calloc(10, 48));
  // A block of a size freed before (its old bytes are not left in it).
  auto* dirty = static_cast<unsigned char*>(ts_current_malloc(480));
  std::memset(dirty, 0xEE, 480);
  ts_current_free(dirty);
  auto* zeroed = static_cast<unsigned char*>(ts_current_calloc(480, 1));
  EXPECT_EQ(zeroed, dirty);
  for (size_t i = 0; i < 480; ++i) {
    ASSERT_EQ(zeroes[i], 0) << i;
    ASSERT_EQ(zeroed[i], 0) << i;
  }
  ts_current_free(zeroes);
  ts_current_free(zeroed);
  EXPECT_EQ(tree_memory_use().live_bytes, 0u);
}

TEST(TreeMemory, OnlyTheOutermostScopeGivesThePagesBack) {
  TreeMemoryScope outer;
  void* kept = ts_current_malloc(64);
  std::memset(kept, 7, 64);
  {
    TreeMemoryScope inner;
    void* inside = ts_current_malloc(64);
    EXPECT_NE(inside, kept);
    ts_current_free(inside);
  }
  EXPECT_TRUE(reclaimed_with_scope(kept));
  EXPECT_EQ(tree_memory_use().live_bytes, 64u);
  // Nothing of the inner scope's end reused the block still in use.
  void* next = ts_current_malloc(64);
  EXPECT_NE(next, kept);
  EXPECT_EQ(static_cast<unsigned char*>(kept)[63], 7);
  ts_current_free(next);
  ts_current_free(kept);
}

TEST(TreeMemory, OutsideAScopeAndWhileUnscopedItIsTheCLibrarys) {
  void* outside = ts_current_malloc(64);
  EXPECT_FALSE(reclaimed_with_scope(outside));
  TreeMemoryScope scope;
  void* unscoped = nullptr;
  {
    UnscopedTreeMemory system;
    unscoped = ts_current_malloc(64);
    EXPECT_EQ(tree_memory_use().live_bytes, 0u);
  }
  EXPECT_FALSE(reclaimed_with_scope(unscoped));
  void* scoped = ts_current_malloc(64);
  EXPECT_TRUE(reclaimed_with_scope(scoped));
  // Blocks of the C library freed inside a scope go back to it.
  ts_current_free(outside);
  ts_current_free(unscoped);
  ts_current_free(scoped);
  EXPECT_EQ(tree_memory_use().live_bytes, 0u);
}

// Every fixture, parsed and re-parsed after an edit inside scopes, gives the tree a parse with
// the C library's memory gives; trees left to their scope give all their memory back with it.
TEST(TreeMemory, TreesParsedInScopesAreTheTreesParsedOutside) {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(AWAITIFY_FIXTURES)) {
    if (entry.path().extension() != ".py") continue;
    std::string text = testing_util::read_file(entry.path());
    std::string edited = "import os\n" + text;
    ++files;
    Parser outside_parser;
    auto outside = outside_parser.parse(text);
    auto outside_edited = outside_parser.parse(edited);
    ASSERT_TRUE(outside && outside_edited);
    for (int round = 0; round < 2; ++round) {
      TreeMemoryScope scope;
      Parser parser;
      auto inside = parser.parse(text);
      ASSERT_TRUE(inside);
      EXPECT_TRUE(same_tree(inside->root(), outside->root())) << entry.path();
      SourceFile source(entry.path().string(), text);
      auto reparsed =
          parser.reparse(std::move(*inside), source, {Edit{0, 0, "import os\n"}}, edited);
      ASSERT_TRUE(reparsed);
      EXPECT_TRUE(same_tree(reparsed->root(), outside_edited->root())) << entry.path();
      EXPECT_GT(tree_memory_use().live_bytes, 0u);
    }
    EXPECT_EQ(tree_memory_use().pages, 0u);
  }
  EXPECT_GT(files, 50u);
}

}  // namespace
}  // namespace awaitify
