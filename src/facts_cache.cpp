#include "awaitify/facts_cache.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "awaitify/emit.hpp"
#include "awaitify/result.hpp"

namespace awaitify {

namespace fs = std::filesystem;

// Every field of these structs is written and read by fields() below. A field added to one of
// them must be added there too, and kFactsCacheFormat bumped: else the cache would hand back
// facts without it, and a warm run would differ from a cold one.
static_assert(
    detail::field_count<CallFact>() == 7,
    "CallFact changed: update fields(CallFact) in facts_cache.cpp, bump kFactsCacheFormat");
static_assert(detail::field_count<PassVerdict>() == 6,
              "PassVerdict changed: update fields(PassVerdict) in facts_cache.cpp, bump "
              "kFactsCacheFormat");
static_assert(detail::field_count<FunctionFacts>() == 22,
              "FunctionFacts changed: update fields(FunctionFacts) in facts_cache.cpp, bump "
              "kFactsCacheFormat");
static_assert(detail::field_count<ClassFacts>() == 7,
              "ClassFacts changed: update fields(ClassFacts) in facts_cache.cpp, bump "
              "kFactsCacheFormat");
// ModuleFacts::suppressions is not stored: load() reads it from the source again (see there).
static_assert(detail::field_count<ModuleFacts>() == 20,
              "ModuleFacts changed: update fields(ModuleFacts) in facts_cache.cpp, bump "
              "kFactsCacheFormat");

namespace {

constexpr std::string_view kMagic = "AWFC";
// A hash of bytes read 16 at a time (every source is hashed at least twice a run: FNV-1a's byte
// at a time cost 5 instructions a byte), each block folded in by a 64x64->128-bit multiply
// whose halves are xored. Not for adversaries; a key and a checksum, like FNV-1a was.
constexpr uint64_t kHashSeed = 0xa0761d6478bd642full;
constexpr uint64_t kHashKey1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kHashKey2 = 0x8ebc6af09c88c6e3ull;

uint64_t fold(uint64_t a, uint64_t b) {
  unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

uint64_t hash_bytes(std::string_view bytes) {
  const char* at = bytes.data();
  size_t left = bytes.size();
  uint64_t hash = kHashSeed;
  uint64_t low = 0, high = 0;
  for (; left >= 16; at += 16, left -= 16) {
    std::memcpy(&low, at, 8);
    std::memcpy(&high, at + 8, 8);
    hash = fold(low ^ kHashKey1, high ^ hash);
  }
  low = high = 0;
  // Not with 0 bytes: an empty view's data() may be null, which memcpy may not be given.
  if (left > 0) std::memcpy(&low, at, std::min<size_t>(left, 8));
  if (left > 8) std::memcpy(&high, at + 8, left - 8);
  hash = fold(low ^ kHashKey1 ^ left, high ^ hash ^ kHashKey2);
  return fold(hash ^ bytes.size(), kHashKey1 ^ kHashKey2);
}

// One list of fields per struct, for writing (const) and reading alike, so the two cannot
// disagree on the order.
template <class Archive, class T>
requires std::is_same_v<std::remove_const_t<T>, CallFact>
void fields(Archive& archive, T& call) {
  archive(call.target, call.line, call.column, call.awaited, call.as_argument, call.context,
          call.passed_to);
}

template <class Archive, class T>
requires std::is_same_v<std::remove_const_t<T>, FunctionFacts>
void fields(Archive& archive, T& fn) {
  archive(fn.qualified, fn.class_name, fn.line, fn.first_line, fn.header_end_line, fn.end_line,
          fn.is_async, fn.is_generator, fn.is_module, fn.decorators, fn.calls, fn.blocking,
          fn.references, fn.unresolved_methods, fn.holds_session, fn.session_awaits,
          fn.session_blocker, fn.loaded_models, fn.eager_loads, fn.parameter_types, fn.dependencies,
          fn.verdicts);
}

template <class Archive, class T>
requires std::is_same_v<std::remove_const_t<T>, PassVerdict>
void fields(Archive& archive, T& verdict) {
  archive(verdict.pass, verdict.byte, verdict.shown, verdict.refusal, verdict.all_or_nothing,
          verdict.async_only);
}

template <class Archive, class T>
requires std::is_same_v<std::remove_const_t<T>, ClassFacts>
void fields(Archive& archive, T& cls) {
  archive(cls.name, cls.bases, cls.attributes, cls.fields, cls.insert_generated,
          cls.update_generated, cls.eager_defaults);
}

template <class Archive, class T>
requires std::is_same_v<std::remove_const_t<T>, ModuleFacts>
void fields(Archive& archive, T& facts) {
  archive(facts.path, facts.module, facts.is_package, facts.imports, facts.import_lines,
          facts.star_imports, facts.instances, facts.classes, facts.type_aliases, facts.functions,
          facts.function_facts, facts.relationships, facts.relationship_targets,
          facts.engine_schemes, facts.maker_engines, facts.overridden_dependencies,
          facts.override_lines, facts.parameter_dependency_lines, facts.parameter_names);
}

// Fixed-width numbers in the machine's byte order (the cache never leaves the machine),
// strings and containers as a 32-bit count and their items.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <class... T>
  void operator()(const T&... values) {
    (put(values), ...);
  }
  void put(bool value) { out_.push_back(value ? 1 : 0); }
  void put(CallContext value) { out_.push_back(static_cast<char>(value)); }
  void put(uint32_t value) { raw(&value, sizeof value); }
  void put(uint64_t value) { raw(&value, sizeof value); }
  void put(const std::string& value) {
    put(static_cast<uint32_t>(value.size()));
    out_ += value;
  }
  template <class T>
  requires requires(Writer& w, const T& t) { fields(w, t); }
  void put(const T& value) { fields(*this, value); }
  template <class Container>
  requires requires(const Container& c) { c.begin()->first; }
  void put(const Container& map) {
    put(static_cast<uint32_t>(map.size()));
    for (const auto& [key, value] : map) (*this)(key, value);
  }
  template <class T>
  void put(const std::vector<T>& items) {
    put(static_cast<uint32_t>(items.size()));
    for (const T& item : items) put(item);
  }
  template <class T>
  void put(const std::set<T>& items) {
    put(static_cast<uint32_t>(items.size()));
    for (const T& item : items) put(item);
  }
  void raw(const void* bytes, size_t size) { out_.append(static_cast<const char*>(bytes), size); }

 private:
  std::string& out_;
};

// Reads what Writer wrote; any inconsistency (past the end, a bool that is not 0/1, a key
// twice) fails the whole entry, which is then a miss.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && at_ == in_.size(); }

  template <class... T>
  void operator()(T&... values) {
    (get(values), ...);
  }
  void get(bool& value) {
    uint8_t byte = next_byte();
    if (byte > 1) ok_ = false;
    value = byte == 1;
  }
  void get(CallContext& value) {
    uint8_t byte = next_byte();
    if (byte > static_cast<uint8_t>(CallContext::module_level)) ok_ = false;
    value = static_cast<CallContext>(byte);
  }
  void get(uint32_t& value) { raw(&value, sizeof value); }
  void get(uint64_t& value) { raw(&value, sizeof value); }
  void get(std::string& value) {
    uint32_t size = count();
    if (!ok_) return;
    value.assign(in_.substr(at_, size));
    at_ += size;
  }
  template <class T>
  requires requires(Reader& r, T& t) { fields(r, t); }
  void get(T& value) { fields(*this, value); }
  template <class Map>
  requires requires(Map& m) { m.begin()->first; }
  void get(Map& map) {
    for (uint32_t n = count(); ok_ && n > 0; --n) {
      typename Map::key_type key;
      typename Map::mapped_type value;
      (*this)(key, value);
      if (ok_ && !map.emplace(std::move(key), std::move(value)).second) ok_ = false;
    }
  }
  template <class T>
  void get(std::vector<T>& items) {
    for (uint32_t n = count(); ok_ && n > 0; --n) {
      T item;
      get(item);
      if (ok_) items.push_back(std::move(item));
    }
  }
  template <class T>
  void get(std::set<T>& items) {
    for (uint32_t n = count(); ok_ && n > 0; --n) {
      T item;
      get(item);
      if (ok_ && !items.insert(std::move(item)).second) ok_ = false;
    }
  }
  void raw(void* bytes, size_t size) {
    if (!ok_ || in_.size() - at_ < size) {
      ok_ = false;
      return;
    }
    std::memcpy(bytes, in_.data() + at_, size);
    at_ += size;
  }

 private:
  uint8_t next_byte() {
    uint8_t byte = 0;
    raw(&byte, 1);
    return byte;
  }
  // A count of items that take a byte or more each: never more than the bytes left, so garbage
  // cannot make a huge loop.
  uint32_t count() {
    uint32_t n = 0;
    get(n);
    if (n > in_.size() - at_) ok_ = false;
    return ok_ ? n : 0;
  }

  std::string_view in_;
  size_t at_ = 0;
  bool ok_ = true;
};

// Which awaitify wrote an entry: facts depend on the code that extracts them (what counts as
// blocking, say), not only on their layout, so another build of awaitify (the executable's
// size, time and inode) does not trust them.
uint64_t build_fingerprint() {
  static const uint64_t fingerprint = [] {
    struct stat info {};
    if (::stat("/proc/self/exe", &info) != 0) return uint64_t{0};
    std::string id = std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) +
                     "." + std::to_string(info.st_mtim.tv_nsec) + ":" +
                     std::to_string(info.st_ino) + ":" + std::to_string(info.st_dev);
    return hash_bytes(id);
  }();
  return fingerprint;
}

bool read_all(int fd, char* bytes, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = ::pread(fd, bytes, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// A small file written whole: a temporary file of this process renamed over the target, so
// readers see the old one or the new one, never part of one.
Status replace_file(const fs::path& target, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  fs::path temp = target;
  temp += "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Error{temp.string() + ": " + std::strerror(errno)};
  bool written = write_all(fd, bytes);
  written = ::close(fd) == 0 && written;
  if (written && ::rename(temp.c_str(), target.c_str()) == 0) return ok_status();
  int error = errno;
  ::unlink(temp.c_str());
  return Error{target.string() + ": " + std::strerror(error)};
}

// Which file an entry is for: its absolute path, hashed.
uint64_t path_key(const std::string& path) {
  std::error_code error;
  return hash_bytes(fs::absolute(path, error).lexically_normal().string());
}

// A pack: a header, the entries one after another (each as encode_facts wrote it, with its own
// checksum), a directory of them and a footer that says where the directory is. Packs are
// written once and never changed, so a reader needs no lock; a pack that is torn or is not one
// is ignored whole, and the next merge removes it. No fsync: after a power cut a pack may be
// torn, which its directory's checksum (or an entry's own) turns into misses.
constexpr std::string_view kPackMagic = "AWPK";
constexpr uint32_t kPackFormat = 1;
constexpr uint64_t kPackHeaderSize = 8;  // the magic and kPackFormat

struct DirectoryRecord {
  uint64_t path = 0;
  uint64_t content = 0;
  uint64_t offset = 0;
  uint32_t size = 0;
  uint32_t reserved = 0;
};
static_assert(sizeof(DirectoryRecord) == 32 && std::is_trivially_copyable_v<DirectoryRecord>);

struct PackFooter {
  uint64_t directory_offset = 0;
  uint64_t count = 0;
  uint64_t directory_checksum = 0;
  uint32_t format = kPackFormat;
  char magic[4] = {'A', 'W', 'P', 'K'};
};
static_assert(sizeof(PackFooter) == 32 && std::is_trivially_copyable_v<PackFooter>);

// The directory of the pack open as `fd`, or nullopt when the file is not a whole pack.
std::optional<std::vector<DirectoryRecord>> read_directory(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return std::nullopt;
  uint64_t size = static_cast<uint64_t>(info.st_size);
  PackFooter footer;
  char header[kPackHeaderSize];
  if (size < kPackHeaderSize + sizeof footer || !read_all(fd, header, sizeof header, 0) ||
      !read_all(fd, reinterpret_cast<char*>(&footer), sizeof footer, size - sizeof footer)) {
    return std::nullopt;
  }
  uint32_t header_format = 0;
  std::memcpy(&header_format, header + kPackMagic.size(), sizeof header_format);
  uint64_t records_end = size - sizeof footer;
  if (std::string_view(header, kPackMagic.size()) != kPackMagic || header_format != kPackFormat ||
      std::string_view(footer.magic, sizeof footer.magic) != kPackMagic ||
      footer.format != kPackFormat || footer.directory_offset < kPackHeaderSize ||
      footer.directory_offset > records_end ||
      footer.count != (records_end - footer.directory_offset) / sizeof(DirectoryRecord) ||
      (records_end - footer.directory_offset) % sizeof(DirectoryRecord) != 0) {
    return std::nullopt;
  }
  std::vector<DirectoryRecord> records(footer.count);
  char* bytes = reinterpret_cast<char*>(records.data());
  size_t directory_size = records.size() * sizeof(DirectoryRecord);
  if (!read_all(fd, bytes, directory_size, footer.directory_offset) ||
      hash_bytes(std::string_view(bytes, directory_size)) != footer.directory_checksum) {
    return std::nullopt;
  }
  for (const DirectoryRecord& record : records) {
    if (record.offset < kPackHeaderSize || record.offset > footer.directory_offset ||
        record.size > footer.directory_offset - record.offset) {
      return std::nullopt;
    }
  }
  return records;
}

// A name no other run picks: the process, the time and a counter, hashed.
std::string unique_pack_stem() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  std::string seed =
      std::to_string(::getpid()) + ":" + std::to_string(now) + ":" + std::to_string(counter++);
  char name[24];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(hash_bytes(seed)));
  return name;
}

// A temporary file older than this is left over from a run that was killed (a run writes its
// pack in well under a minute); a merge removes it.
constexpr auto kAbandonedAfter = std::chrono::hours(1);

}  // namespace

uint64_t content_hash(std::string_view bytes) {
  return hash_bytes(bytes);
}

uint64_t content_hash(const SourceFile& source) {
  // The BOM is not part of the text: the hash is of the file's bytes, the BOM first.
  if (source.has_bom()) return hash_bytes("\xEF\xBB\xBF" + std::string(source.text()));
  return hash_bytes(source.text());
}

void encode_facts(const ModuleFacts& facts, uint64_t content, std::string& entry) {
  entry.clear();
  Writer out(entry);
  out.raw(kMagic.data(), kMagic.size());
  out(kFactsCacheFormat, build_fingerprint(), content, facts);
  uint64_t checksum = hash_bytes(entry);
  out.put(checksum);
}

std::string encode_facts(const ModuleFacts& facts, uint64_t content) {
  std::string entry;
  encode_facts(facts, content, entry);
  return entry;
}

std::optional<ModuleFacts> decode_facts(std::string_view bytes, const std::string& path,
                                        const std::string& module, bool is_package,
                                        uint64_t content) {
  uint64_t checksum = 0;
  if (bytes.size() < kMagic.size() + sizeof checksum) return std::nullopt;
  std::string_view body = bytes.substr(0, bytes.size() - sizeof checksum);
  std::memcpy(&checksum, bytes.data() + body.size(), sizeof checksum);
  if (checksum != hash_bytes(body) || body.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  Reader in(body.substr(kMagic.size()));
  uint32_t format = 0;
  uint64_t build = 0, stored_content = 0;
  in(format, build, stored_content);
  if (!in.ok() || format != kFactsCacheFormat || build != build_fingerprint() ||
      stored_content != content) {
    return std::nullopt;
  }
  ModuleFacts facts;
  in.get(facts);
  if (!in.at_end() || facts.path != path || facts.module != module ||
      facts.is_package != is_package) {
    return std::nullopt;
  }
  return facts;
}

struct FactsCache::Packs {
  struct EntryKey {
    uint64_t path = 0;
    uint64_t content = 0;
    bool operator==(const EntryKey&) const = default;
  };
  struct EntryKeyHash {
    size_t operator()(const EntryKey& key) const {
      return static_cast<size_t>(key.path ^ (key.content * 0x9E3779B97F4A7C15ull));
    }
  };
  struct Pack {
    fs::path path;
    int fd = -1;
    uint64_t bytes = 0;  // its size; for this run's pack, where the next entry goes
  };
  struct Location {
    size_t pack = 0;  // in `published`, or kOwnPack
    uint64_t offset = 0;
    uint32_t size = 0;
    bool asked = false;  // by a load that hit, or by a store
  };
  static constexpr size_t kOwnPack = static_cast<size_t>(-1);

  std::vector<Pack> published;       // the packs read, open for pread
  std::vector<fs::path> unreadable;  // files named *.pack that are not whole packs
  std::vector<fs::path> leftovers;   // entries of the format before packs, abandoned temporaries
  std::unordered_map<EntryKey, Location, EntryKeyHash> index;
  bool asked = false;
  bool damaged = false;  // an entry of the packs could not be read
  size_t duplicates = 0;  // entries of the packs already read from another
  uint64_t duplicate_bytes = 0;

  // This run's pack, written as entries are stored and published as a whole.
  Pack own;
  std::vector<DirectoryRecord> own_records;

  ~Packs() {
    for (Pack& pack : published) ::close(pack.fd);
    if (own.fd >= 0) {
      ::close(own.fd);
      ::unlink(own.path.c_str());
    }
  }

  int fd_of(const Location& where) const {
    return where.pack == kOwnPack ? own.fd : published[where.pack].fd;
  }

  void add(size_t pack, const DirectoryRecord& record) {
    auto [where, added] = index.try_emplace(EntryKey{record.path, record.content},
                                            Location{pack, record.offset, record.size, false});
    // The same entry in two packs: runs that started together each extracted the file.
    if (!added) {
      ++duplicates;
      duplicate_bytes += record.size;
    }
  }

  // Reads the folder: every whole pack is opened and indexed, the rest noted for the merge.
  void read(const fs::path& directory) {
    std::error_code error;
    auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
      const fs::path& path = it->path();
      if (path.extension() == ".facts") {
        leftovers.push_back(path);
      } else if (path.extension() == ".tmp") {
        std::error_code ignored;
        auto written = fs::last_write_time(path, ignored);
        if (!ignored && now - written > kAbandonedAfter) leftovers.push_back(path);
      } else if (path.extension() == ".pack") {
        open_pack(path);
      }
    }
  }

  void open_pack(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;  // removed by another run since the listing: nothing to merge
    auto records = read_directory(fd);
    if (!records) {
      ::close(fd);
      unreadable.push_back(path);
      return;
    }
    struct stat info {};
    ::fstat(fd, &info);
    published.push_back(Pack{path, fd, static_cast<uint64_t>(info.st_size)});
    for (const DirectoryRecord& record : *records) add(published.size() - 1, record);
  }
};

FactsCache::FactsCache(const std::string& project_root)
    : directory_((fs::path(project_root) / kFactsCacheDirectory).string()),
      packs_(std::make_unique<Packs>()) {}

FactsCache::~FactsCache() {
  publish(/*whole_project=*/false);
}

void FactsCache::open_packs() {
  std::call_once(opened_, [this] { packs_->read(directory_); });
}

size_t FactsCache::entry_count() {
  open_packs();
  std::lock_guard<std::mutex> lock(mutex_);
  size_t count = 0;
  for (const auto& [key, where] : packs_->index) count += where.pack != Packs::kOwnPack;
  return count;
}

std::optional<ModuleFacts> FactsCache::load(const SourceFile& source) {
  open_packs();
  Packs::EntryKey key{path_key(source.path()), content_hash(source)};
  std::optional<Packs::Location> where;
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    packs_->asked = true;
    if (auto found = packs_->index.find(key); found != packs_->index.end()) {
      where = found->second;
      fd = packs_->fd_of(found->second);
    }
  }
  std::optional<ModuleFacts> facts;
  std::string entry;
  if (where) entry.resize(where->size);
  if (where && read_all(fd, entry.data(), entry.size(), where->offset)) {
    bool package = false;
    std::string module = module_name_for(source.path(), &package);
    facts = decode_facts(entry, source.path(), module, package, key.content);
    // The `# awaitify:` comments, as extraction reads them: only a file that has one is
    // parsed for them, and few files do.
    if (facts && source.text().find("awaitify:") != std::string::npos)
      facts->suppressions = Suppressions::from_text(source.text());
  }
  if (facts) {
    std::lock_guard<std::mutex> lock(mutex_);
    packs_->index[key].asked = true;
  }
  ++(facts ? hits_ : misses_);
  return facts;
}

void FactsCache::store(const SourceFile& source, const ModuleFacts& facts) {
  open_packs();
  Packs::EntryKey key{path_key(source.path()), content_hash(source)};
  // One buffer a thread, written out at once: the next entry reuses its memory rather than
  // growing a new string (and touching new pages) for every file.
  thread_local std::string entry;
  encode_facts(facts, key.content, entry);
  std::lock_guard<std::mutex> lock(mutex_);
  packs_->asked = true;
  // An entry under this key that load() could not use (damaged): the packs are merged at the
  // end of the run, else the next runs would keep finding it first.
  if (packs_->index.count(key)) packs_->damaged = true;
  if (!writable_ || !ensure_output()) return;
  Packs::Pack& own = packs_->own;
  if (!write_all(own.fd, entry))
    return stop_writing(own.path.string() + ": " + std::strerror(errno));
  DirectoryRecord record{key.path, key.content, own.bytes, static_cast<uint32_t>(entry.size()), 0};
  packs_->own_records.push_back(record);
  packs_->index.insert_or_assign(key,
                                 Packs::Location{Packs::kOwnPack, own.bytes, record.size, true});
  own.bytes += entry.size();
}

// Opens this run's pack (a temporary file) if it is not open yet; entries are appended to it,
// at the file's offset, which stays at own.bytes. Called with mutex_ held.
bool FactsCache::ensure_output() {
  Packs::Pack& own = packs_->own;
  if (own.fd >= 0) return true;
  if (!ensure_directory()) return false;
  own.path = fs::path(directory_) / (unique_pack_stem() + ".pack.tmp");
  own.fd = ::open(own.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (own.fd < 0) {
    stop_writing(own.path.string() + ": " + std::strerror(errno));
    return false;
  }
  std::string header(kPackMagic);
  header.append(reinterpret_cast<const char*>(&kPackFormat), sizeof kPackFormat);
  own.bytes = 0;
  if (!write_all(own.fd, header)) {
    stop_writing(own.path.string() + ": " + std::strerror(errno));
    ::close(own.fd);
    ::unlink(own.path.c_str());
    own.fd = -1;
    return false;
  }
  own.bytes = header.size();
  return true;
}

size_t FactsCache::prune() {
  return publish(/*whole_project=*/true);
}

size_t FactsCache::publish(bool whole_project) {
  std::lock_guard<std::mutex> lock(mutex_);
  Packs& packs = *packs_;
  whole_project = whole_project && packs.asked && writable_;
  size_t stale = packs.duplicates;
  uint64_t stale_bytes = packs.duplicate_bytes, live_bytes = 0;
  for (const auto& [key, where] : packs.index) {
    if (where.pack == Packs::kOwnPack) continue;
    (where.asked ? live_bytes : stale_bytes) += where.size;
    stale += !where.asked;
  }
  size_t pack_count = packs.published.size() + packs.unreadable.size() + (packs.own.fd >= 0);
  bool merge = whole_project &&
               (stale_bytes * 4 > stale_bytes + live_bytes || pack_count > kFactsCacheMaxPacks ||
                packs.damaged || !packs.unreadable.empty() || !packs.leftovers.empty());
  if (merge && ensure_output()) {
    // The live entries of the other packs join this run's pack, which then replaces them.
    for (auto& [key, where] : packs.index) {
      if (where.pack == Packs::kOwnPack || !where.asked) continue;
      std::string entry(where.size, '\0');
      Packs::Pack& own = packs.own;
      if (!read_all(packs.fd_of(where), entry.data(), entry.size(), where.offset) ||
          !write_all(own.fd, entry)) {
        merge = false;
        break;
      }
      packs.own_records.push_back(DirectoryRecord{key.path, key.content, own.bytes, where.size, 0});
      where = Packs::Location{Packs::kOwnPack, own.bytes, where.size, true};
      own.bytes += entry.size();
    }
  } else {
    merge = false;
  }
  bool all_stale = merge && packs.own_records.empty();
  bool published = publish_own_pack();
  if (!merge || (!published && !all_stale)) return 0;
  // Everything the old packs held is in the new one now, or stale.
  std::vector<Packs::Pack> merged;
  if (published) {
    merged.push_back(packs.published.back());
    packs.published.pop_back();
  }
  for (const Packs::Pack& pack : packs.published) {
    ::close(pack.fd);
    ::unlink(pack.path.c_str());
  }
  for (const fs::path& path : packs.unreadable) ::unlink(path.c_str());
  for (const fs::path& path : packs.leftovers) ::unlink(path.c_str());
  size_t merged_index = packs.published.size();
  std::erase_if(packs.index, [&](const auto& entry) { return entry.second.pack != merged_index; });
  for (auto& [key, where] : packs.index) where.pack = 0;
  packs.published = std::move(merged);
  packs.unreadable.clear();
  packs.leftovers.clear();
  packs.damaged = false;
  packs.duplicates = 0;
  packs.duplicate_bytes = 0;
  spdlog::debug("awaitify: merged the packs of {}: {} stale or duplicate entries removed",
                directory_, stale);
  return stale;
}

// Writes the directory and footer of this run's pack and renames it into place; it then counts
// as one of the folder's packs. False when there was nothing to publish or it failed (which
// turns storing off). Called with mutex_ held.
bool FactsCache::publish_own_pack() {
  Packs& packs = *packs_;
  Packs::Pack& own = packs.own;
  if (own.fd < 0) return false;
  // The pack is written in order; a write that failed part way leaves bytes after the last
  // whole entry, which the directory then replaces.
  auto offset = static_cast<off_t>(own.bytes);
  if (::lseek(own.fd, 0, SEEK_CUR) != offset &&
      (::ftruncate(own.fd, offset) != 0 || ::lseek(own.fd, offset, SEEK_SET) != offset)) {
    packs.own_records.clear();  // cannot be mended: nothing is published
  }
  std::string tail(reinterpret_cast<const char*>(packs.own_records.data()),
                   packs.own_records.size() * sizeof(DirectoryRecord));
  PackFooter footer;
  footer.directory_offset = own.bytes;
  footer.count = packs.own_records.size();
  footer.directory_checksum = hash_bytes(tail);
  tail.append(reinterpret_cast<const char*>(&footer), sizeof footer);
  fs::path target = own.path;
  target.replace_extension();  // name.pack.tmp -> name.pack
  bool published = !packs.own_records.empty() && write_all(own.fd, tail) &&
                   ::rename(own.path.c_str(), target.c_str()) == 0;
  if (!published) {
    if (!packs.own_records.empty()) stop_writing(own.path.string() + ": " + std::strerror(errno));
    ::close(own.fd);
    ::unlink(own.path.c_str());
    for (auto it = packs.index.begin(); it != packs.index.end();)
      it = it->second.pack == Packs::kOwnPack ? packs.index.erase(it) : std::next(it);
  } else {
    own.bytes += tail.size();
    own.path = target;
    packs.published.push_back(own);
    for (auto& [key, where] : packs.index)
      if (where.pack == Packs::kOwnPack) where.pack = packs.published.size() - 1;
  }
  own = Packs::Pack{};
  packs.own_records.clear();
  return published;
}

bool FactsCache::ensure_directory() {
  std::call_once(made_, [this] {
    fs::path directory(directory_);
    std::error_code error;
    fs::create_directory(directory, error);
    if (error) return stop_writing(directory_ + ": " + error.message());
    // As ruff does: git ignores the folder without a line in the project's .gitignore, and
    // backup tools that know CACHEDIR.TAG skip it.
    const std::pair<const char*, const char*> markers[] = {
        {".gitignore", "# Automatically created by awaitify.\n*\n"},
        {"CACHEDIR.TAG",
         "Signature: 8a477f597d28d172789f06886806bc55\n"
         "# This file is a cache directory tag created by awaitify.\n"
         "# For information about cache directory tags see https://bford.info/cachedir/\n"}};
    for (const auto& [name, text] : markers) {
      if (fs::exists(directory / name, error)) continue;
      if (Status made = replace_file(directory / name, text); !made)
        return stop_writing(made.error().message);
    }
  });
  return writable_;
}

void FactsCache::stop_writing(const std::string& why) {
  if (writable_.exchange(false))
    spdlog::debug("awaitify: not storing index facts in {} ({}); running without the cache",
                  directory_, why);
}

}  // namespace awaitify
