#pragma once
// A persistent cache of index facts, one entry per source file in <project>/.awaitify_cache/,
// so that a run over a few files of a large project (a pre-commit hook) does not parse the whole
// project again to index it. Deleting the folder is always safe: it only costs a slower run.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "awaitify/index.hpp"
#include "awaitify/source.hpp"

namespace awaitify {

// The layout of an entry. Bump it whenever ModuleFacts or a struct it holds changes (a field
// added, removed, retyped or meaning something else): entries of another format are misses.
// src/facts_cache.cpp refuses to compile when a field is added without being stored.
inline constexpr uint32_t kFactsCacheFormat = 6;

// The folder name, in the project root.
inline constexpr const char* kFactsCacheDirectory = ".awaitify_cache";

class FactsCache {
 public:
  // The cache of the project whose root is `project_root`. Nothing is read or made yet: the
  // folder (with a .gitignore of `*`, as ruff does) is made by the first store.
  explicit FactsCache(const std::string& project_root);
  FactsCache(const FactsCache&) = delete;
  FactsCache& operator=(const FactsCache&) = delete;

  const std::string& directory() const { return directory_; }

  // The facts stored for exactly this file: the same path, module name and package layout as
  // now, the same bytes, the same format and build of awaitify. nullopt on any miss: no entry,
  // a stale one, or one that cannot be read (truncated, garbage), which the next store replaces.
  std::optional<ModuleFacts> load(const SourceFile& source);
  // Keeps the facts of a file for the next runs, written atomically (a temporary file renamed
  // over the entry) so that parallel runs never read half an entry. A project folder that cannot
  // be written turns storing off for the rest of the run, with one debug line: never an error.
  void store(const SourceFile& source, const ModuleFacts& facts);

  // Removes the entries no load or store of this cache object asked for: after a run that
  // indexed the whole project, those are files deleted or renamed since (or left out by
  // include/exclude now). Does nothing when nothing was asked; errors are ignored.
  size_t prune();

  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  bool ensure_directory();
  void stop_writing(const std::string& why);

  std::string directory_;
  std::once_flag made_;
  std::atomic<bool> writable_{true};
  std::atomic<size_t> hits_{0};
  std::atomic<size_t> misses_{0};
  std::mutex touched_mutex_;
  std::set<std::string> touched_;  // entry names asked for
  void touch(const std::string& entry);
};

// The bytes of an entry and back, for the cache and its tests. `content` is the file's key: the
// hash of its bytes. decode_facts returns nullopt for anything but a well-formed entry of this
// format and build whose key matches path, module, is_package and content.
std::string encode_facts(const ModuleFacts& facts, uint64_t content);
std::optional<ModuleFacts> decode_facts(std::string_view bytes, const std::string& path,
                                        const std::string& module, bool is_package,
                                        uint64_t content);

namespace detail {
// Converts to any field type, to count an aggregate's fields: T{AnyField{}, ...} compiles with
// at most as many of them as T has fields.
struct AnyField {
  template <class T>
  operator T() const;  // never defined: only used unevaluated
};
template <class T, class... Fields>
consteval size_t field_count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; })
    return field_count<T, Fields..., AnyField>();
  else
    return sizeof...(Fields);
}
}  // namespace detail

// FNV-1a (64 bits) of the bytes, mixed with their size.
uint64_t content_hash(std::string_view bytes);
// The hash a cache entry is keyed by: the file's bytes as read (BOM included).
uint64_t content_hash(const SourceFile& source);

}  // namespace awaitify
