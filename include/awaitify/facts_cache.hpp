#pragma once
// A persistent cache of index facts in <project>/.awaitify_cache/, so that a run over a few files
// of a large project (a pre-commit hook) does not parse the whole project again to index it.
// Deleting the folder is always safe: it only costs a slower run.
//
// The entries live in pack files: each run that extracts facts writes one pack of them (one file
// created, not one per source file, which is what a cold run over thousands of files spent most
// of its system time on), and a run over the whole project merges the packs into one when stale
// entries or packs pile up.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "awaitify/index.hpp"
#include "awaitify/source.hpp"

namespace awaitify {

// The layout of an entry and its hashes. Bump it whenever the hash of contents or checksums
// changes, or ModuleFacts or a struct it holds does (a field added, removed, retyped or
// meaning something else): entries of another format are misses.
// src/facts_cache.cpp refuses to compile when a field is added without being stored.
inline constexpr uint32_t kFactsCacheFormat = 7;

// The folder name, in the project root.
inline constexpr const char* kFactsCacheDirectory = ".awaitify_cache";

// More packs than this after a run over the whole project are merged into one.
inline constexpr size_t kFactsCacheMaxPacks = 8;

class FactsCache {
 public:
  // The cache of the project whose root is `project_root`. Nothing is read or made yet: the
  // packs are read by the first load or store, and the folder (with a .gitignore of `*`, as
  // ruff does) is made by the first store.
  explicit FactsCache(const std::string& project_root);
  // Publishes what was stored since the last publish (see prune): an interrupted run keeps the
  // facts it extracted.
  ~FactsCache();
  FactsCache(const FactsCache&) = delete;
  FactsCache& operator=(const FactsCache&) = delete;

  const std::string& directory() const { return directory_; }

  // The facts stored for exactly this file: the same path, module name and package layout as
  // now, the same bytes, the same format and build of awaitify. nullopt on any miss: no entry,
  // a stale one, or one that cannot be read (truncated, garbage), which the next store replaces.
  std::optional<ModuleFacts> load(const SourceFile& source);
  // Keeps the facts of a file for the next runs. They go into this run's pack, a temporary file
  // until it is published whole (renamed into place), so that other runs never read part of
  // one; load() finds them at once. A project folder that cannot be written turns storing off
  // for the rest of the run, with one debug line: never an error.
  void store(const SourceFile& source, const ModuleFacts& facts);

  // For the end of a run that indexed the whole project: every entry no load or store asked for
  // is stale (a file deleted, moved, changed or now excluded since). Publishes this run's pack
  // and, when stale entries are a quarter of the packs' bytes or there are more than
  // kFactsCacheMaxPacks packs, merges the live entries into one pack and removes the others.
  // Returns the number of entries removed: stale ones, and copies of an entry that runs started
  // together each stored. Does nothing when nothing was asked; errors only turn storing off.
  size_t prune();

  // The entries in the published packs of the folder, as this object last read or wrote them.
  size_t entry_count();

  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  struct Packs;
  void open_packs();
  bool ensure_directory();
  bool ensure_output();
  size_t publish(bool whole_project);
  bool publish_own_pack();
  void stop_writing(const std::string& why);

  std::string directory_;
  std::once_flag opened_;
  std::once_flag made_;
  std::atomic<bool> writable_{true};
  std::atomic<size_t> hits_{0};
  std::atomic<size_t> misses_{0};
  std::mutex mutex_;  // guards packs_
  std::unique_ptr<Packs> packs_;
};

// The bytes of an entry and back, for the cache and its tests. `content` is the file's key: the
// hash of its bytes. decode_facts returns nullopt for anything but a well-formed entry of this
// format and build whose key matches path, module, is_package and content.
std::string encode_facts(const ModuleFacts& facts, uint64_t content);
// The same into `entry` (cleared first), whose memory a caller encoding entry after entry keeps.
void encode_facts(const ModuleFacts& facts, uint64_t content, std::string& entry);
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
