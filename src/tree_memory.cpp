#include "awaitify/tree_memory.hpp"

#include <sys/mman.h>
#include <tree_sitter/api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define AWAITIFY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AWAITIFY_ASAN 1
#endif
#endif
#ifdef AWAITIFY_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(address, size) ASAN_POISON_MEMORY_REGION(address, size)
#define UNPOISON(address, size) ASAN_UNPOISON_MEMORY_REGION(address, size)
#else
#define POISON(address, size) ((void)(address), (void)(size))
#define UNPOISON(address, size) ((void)(address), (void)(size))
#endif

namespace awaitify {

namespace {

// Chunks are aligned to their size, so a block's chunk and page are found from its address.
// The first page of a chunk holds the size class of each of the others. A chunk is the size of
// a huge page, and asks for one: where the kernel has it, a chunk is one page fault, not 512.
constexpr size_t kChunkSize = size_t{2} << 20;
constexpr size_t kPageSize = size_t{16} << 10;
constexpr size_t kPagesPerChunk = kChunkSize / kPageSize;
constexpr size_t kGrain = 16;  // what malloc aligns to
constexpr size_t kLargest = 1024;
constexpr size_t kClasses = kLargest / kGrain;
// Chunks a thread keeps from one scope to the next: the next file needs them again, and taking
// them from the system again would fault their pages in again.
constexpr size_t kKeptChunks = 2;

struct ChunkHeader {
  uint8_t page_class[kPagesPerChunk];
};

struct FreeBlock {
  FreeBlock* next;
};

[[noreturn]] void out_of_memory(size_t size) {
  std::fprintf(stderr, "awaitify: out of memory (%zu bytes for a syntax tree)\n", size);
  std::abort();
}

// A chunk straight from the kernel, aligned to its size: more is mapped, and the ends cut off.
char* map_chunk() {
  void* mapped =
      ::mmap(nullptr, 2 * kChunkSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) out_of_memory(kChunkSize);
  auto start = reinterpret_cast<uintptr_t>(mapped);
  uintptr_t aligned = (start + kChunkSize - 1) & ~(kChunkSize - 1);
  if (aligned > start) ::munmap(mapped, aligned - start);
  if (uintptr_t end = start + 2 * kChunkSize; end > aligned + kChunkSize)
    ::munmap(reinterpret_cast<void*>(aligned + kChunkSize), end - aligned - kChunkSize);
  auto chunk = reinterpret_cast<char*>(aligned);
#ifdef MADV_HUGEPAGE
  ::madvise(chunk, kChunkSize, MADV_HUGEPAGE);  // advice: no huge page, no harm
#endif
  return chunk;
}

// Poison stays with the addresses, not the mapping: the range is cleared first, since the
// kernel may map it again for anything (another thread's stack).
void unmap_chunk(char* chunk) {
  UNPOISON(chunk, kChunkSize);
  ::munmap(chunk, kChunkSize);
}

void* system_allocate(size_t size) {
  void* block = std::malloc(size);
  if (!block && size) out_of_memory(size);
  return block;
}

size_t class_of(size_t size) {
  return size == 0 ? 0 : (size - 1) / kGrain;
}
size_t class_size(size_t size_class) {
  return (size_class + 1) * kGrain;
}

class ThreadPages {
 public:
  ~ThreadPages() {
    for (char* chunk : chunks_) unmap_chunk(chunk);
  }

  void enter() {
    ++depth_;
    ++generation_;
  }
  void leave() {
    ++generation_;
    if (--depth_ == 0) reset();
  }
  bool active() const { return depth_ > 0; }
  // Scopes are suspended, not ended: nothing is given back.
  int suspend() {
    ++generation_;
    return std::exchange(depth_, 0);
  }
  void resume(int depth) {
    ++generation_;
    depth_ = depth;
  }
  // Changes whenever scopes begin, end, or are suspended or resumed: memory handed out in one
  // generation is still the thread's to use while the generation lasts.
  uint64_t generation() const { return generation_; }

  bool owns(const void* block) const {
    auto base = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(block) & ~(kChunkSize - 1));
    // Most files need a chunk or two: a look at each is quicker than a search.
    if (sorted_.size() <= 8)
      return std::find(sorted_.begin(), sorted_.end(), base) != sorted_.end();
    return std::binary_search(sorted_.begin(), sorted_.end(), base);
  }

  // A large block made in a scope is the C library's, but given back with the scope's pages,
  // as they are: a tree left to its scope holds some (the children of a long block).
  void track_large(void* block) { large_.insert(block); }
  bool forget_large(void* block) { return large_.erase(block) > 0; }

  void* allocate(size_t size) {
    size_t size_class = class_of(size);
    size_t bytes = class_size(size_class);
    void* block;
    if (FreeBlock* free = free_[size_class]) {
      UNPOISON(free, sizeof(FreeBlock));
      free_[size_class] = free->next;
      block = free;
    } else {
      // Room is measured, not compared by adding to next_, which is null before the first page.
      if (static_cast<size_t>(end_[size_class] - next_[size_class]) < bytes) [[unlikely]]
        new_page(size_class);
      block = next_[size_class];
      next_[size_class] += bytes;
    }
    UNPOISON(block, bytes);
    live_bytes_ += bytes;
    return block;
  }

  // Only for a block owns() says is here.
  size_t size_of(const void* block) const {
    uintptr_t address = reinterpret_cast<uintptr_t>(block);
    auto header = reinterpret_cast<const ChunkHeader*>(address & ~(kChunkSize - 1));
    return class_size(header->page_class[(address & (kChunkSize - 1)) / kPageSize]);
  }

  void release(void* block) {
    size_t bytes = size_of(block);
    size_t size_class = class_of(bytes);
    auto free = static_cast<FreeBlock*>(block);
    free->next = free_[size_class];
    free_[size_class] = free;
    POISON(free, bytes);
    live_bytes_ -= bytes;
  }

  TreeMemoryUse use() const { return {live_bytes_, pages_}; }

 private:
  // Out of line: the allocation above, which calls it once in a thousand, stays small.
  [[gnu::noinline]] void new_page(size_t size_class) {
    if (chunks_used_ == 0 || next_page_ == kPagesPerChunk) next_chunk();
    char* chunk = chunks_[chunks_used_ - 1];
    reinterpret_cast<ChunkHeader*>(chunk)->page_class[next_page_] =
        static_cast<uint8_t>(size_class);
    char* page = chunk + next_page_ * kPageSize;
    ++next_page_;
    ++pages_;
    next_[size_class] = page;
    end_[size_class] = page + kPageSize - kPageSize % class_size(size_class);
  }

  void next_chunk() {
    if (chunks_used_ == chunks_.size()) {
      chunks_.push_back(map_chunk());
      sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), chunks_.back()),
                     chunks_.back());
    }
    char* chunk = chunks_[chunks_used_++];
    POISON(chunk + kPageSize, kChunkSize - kPageSize);
    next_page_ = 1;  // page 0 is the header
  }

  // Every block is free again: the chunks beyond the kept ones go back to the system.
  void reset() {
    for (void* block : large_) std::free(block);
    large_.clear();
    for (size_t i = kKeptChunks; i < chunks_.size(); ++i) unmap_chunk(chunks_[i]);
    if (chunks_.size() > kKeptChunks) chunks_.resize(kKeptChunks);
    // A block used after its scope ended is caught there, in builds with the address sanitizer.
    for (char* chunk : chunks_) POISON(chunk + kPageSize, kChunkSize - kPageSize);
    sorted_ = chunks_;
    std::sort(sorted_.begin(), sorted_.end());
    chunks_used_ = 0;
    next_page_ = kPagesPerChunk;
    std::fill(std::begin(free_), std::end(free_), nullptr);
    std::fill(std::begin(next_), std::end(next_), nullptr);
    std::fill(std::begin(end_), std::end(end_), nullptr);
    live_bytes_ = 0;
    pages_ = 0;
  }

  int depth_ = 0;
  uint64_t generation_ = 0;
  std::vector<char*> chunks_;  // in the order they are used
  std::vector<char*> sorted_;  // the same, by address
  size_t chunks_used_ = 0;
  size_t next_page_ = kPagesPerChunk;
  FreeBlock* free_[kClasses] = {};
  char* next_[kClasses] = {};
  char* end_[kClasses] = {};
  size_t live_bytes_ = 0;
  size_t pages_ = 0;
  std::unordered_set<void*> large_;
};

ThreadPages& pages() {
  thread_local ThreadPages thread_pages;
  return thread_pages;
}

[[gnu::noinline]] void* tree_malloc_elsewhere(ThreadPages& here, size_t size) {
  void* block = system_allocate(size);
  if (here.active()) here.track_large(block);
  return block;
}

void* tree_malloc(size_t size) {
  ThreadPages& here = pages();
  if (here.active() && size <= kLargest) [[likely]]
    return here.allocate(size);
  return tree_malloc_elsewhere(here, size);
}

void* tree_calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) out_of_memory(SIZE_MAX);
  void* block = tree_malloc(count * size);
  std::memset(block, 0, count * size);
  return block;
}

// A block of this thread's pages freed after its scope ended (which the rule above forbids)
// goes to a free list that the next scope forgets, never to free().
void tree_free(void* block) {
  if (!block) return;
  ThreadPages& here = pages();
  if (here.owns(block)) {
    here.release(block);
    return;
  }
  here.forget_large(block);
  std::free(block);
}

void* tree_realloc(void* block, size_t size) {
  if (!block) return tree_malloc(size);
  ThreadPages& here = pages();
  if (!here.owns(block)) {
    bool tracked = here.forget_large(block);
    void* moved = std::realloc(block, size ? size : 1);
    if (!moved) out_of_memory(size);
    if (tracked) here.track_large(moved);
    return moved;
  }
  size_t old_size = here.size_of(block);
  if (size <= old_size && size > 0) return block;
  void* moved = tree_malloc(size);
  std::memcpy(moved, block, std::min(old_size, size));
  here.release(block);
  return moved;
}

// Before main, while no other thread can be inside tree-sitter: blocks the C library gave out
// before this (none, in practice) are still freed by it, as tree-sitter asks.
const bool installed = (ts_set_allocator(tree_malloc, tree_calloc, tree_realloc, tree_free), true);

}  // namespace

TreeMemoryScope::TreeMemoryScope() {
  pages().enter();
}
TreeMemoryScope::~TreeMemoryScope() {
  pages().leave();
}

UnscopedTreeMemory::UnscopedTreeMemory() : depth_(pages().suspend()) {}
UnscopedTreeMemory::~UnscopedTreeMemory() {
  pages().resume(depth_);
}

bool reclaimed_with_scope(const void* block) {
  ThreadPages& here = pages();
  return here.active() && here.owns(block);
}

TreeMemoryUse tree_memory_use() {
  return pages().use();
}

}  // namespace awaitify

// For the grammar's scanner (src/grammar/python_language.c), which keeps its stacks' memory
// from one token to the next while the generation lasts.
extern "C" uint64_t awaitify_tree_memory_generation(void) {
  return awaitify::pages().generation();
}
