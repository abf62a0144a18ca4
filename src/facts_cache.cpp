#include "awaitify/facts_cache.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <type_traits>

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
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnvOffset) {
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= kFnvPrime;
  }
  return hash;
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
  std::string& bytes() { return out_; }

 private:
  std::string out_;
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
    return fnv1a(id);
  }();
  return fingerprint;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// A temporary file of this process, renamed over the target: readers see the old entry or the
// new one, never part of one. No fsync: after a power cut an entry may be empty or torn, which
// its checksum turns into a miss.
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

std::string entry_name(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error).lexically_normal();
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.facts",
                static_cast<unsigned long long>(fnv1a(absolute.string())));
  return name;
}

}  // namespace

uint64_t content_hash(std::string_view bytes) {
  uint64_t size = bytes.size();
  return fnv1a(std::string_view(reinterpret_cast<const char*>(&size), sizeof size), fnv1a(bytes));
}

uint64_t content_hash(const SourceFile& source) {
  // The BOM is not part of the text, so it goes in first, as it was in the file.
  uint64_t hash = fnv1a(source.has_bom() ? "\xEF\xBB\xBF" : "");
  uint64_t size = source.text().size() + (source.has_bom() ? 3 : 0);
  hash = fnv1a(source.text(), hash);
  return fnv1a(std::string_view(reinterpret_cast<const char*>(&size), sizeof size), hash);
}

std::string encode_facts(const ModuleFacts& facts, uint64_t content) {
  Writer out;
  out.raw(kMagic.data(), kMagic.size());
  out(kFactsCacheFormat, build_fingerprint(), content, facts);
  uint64_t checksum = fnv1a(out.bytes());
  out.put(checksum);
  return std::move(out.bytes());
}

std::optional<ModuleFacts> decode_facts(std::string_view bytes, const std::string& path,
                                        const std::string& module, bool is_package,
                                        uint64_t content) {
  uint64_t checksum = 0;
  if (bytes.size() < kMagic.size() + sizeof checksum) return std::nullopt;
  std::string_view body = bytes.substr(0, bytes.size() - sizeof checksum);
  std::memcpy(&checksum, bytes.data() + body.size(), sizeof checksum);
  if (checksum != fnv1a(body) || body.substr(0, kMagic.size()) != kMagic) return std::nullopt;
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

FactsCache::FactsCache(const std::string& project_root)
    : directory_((fs::path(project_root) / kFactsCacheDirectory).string()) {}

void FactsCache::touch(const std::string& entry) {
  std::lock_guard<std::mutex> lock(touched_mutex_);
  touched_.insert(entry);
}

size_t FactsCache::prune() {
  std::lock_guard<std::mutex> lock(touched_mutex_);
  if (touched_.empty()) return 0;
  size_t removed = 0;
  std::error_code error;
  for (fs::directory_iterator it(directory_, error), end; !error && it != end;
       it.increment(error)) {
    std::string name = it->path().filename().string();
    if (it->path().extension() != ".facts" || touched_.count(name)) continue;
    std::error_code ignored;
    if (fs::remove(it->path(), ignored)) ++removed;
  }
  if (removed) spdlog::debug("awaitify: removed {} stale entries from {}", removed, directory_);
  return removed;
}

std::optional<ModuleFacts> FactsCache::load(const SourceFile& source) {
  std::optional<ModuleFacts> facts;
  touch(entry_name(source.path()));
  if (auto entry = read_bytes((fs::path(directory_) / entry_name(source.path())).string())) {
    bool package = false;
    std::string module = module_name_for(source.path(), &package);
    facts = decode_facts(*entry, source.path(), module, package, content_hash(source));
    // The `# awaitify:` comments, as extraction reads them: only a file that has one is
    // parsed for them, and few files do.
    if (facts && source.text().find("awaitify:") != std::string::npos)
      facts->suppressions = Suppressions::from_text(source.text());
  }
  ++(facts ? hits_ : misses_);
  return facts;
}

void FactsCache::store(const SourceFile& source, const ModuleFacts& facts) {
  touch(entry_name(source.path()));
  if (!writable_ || !ensure_directory()) return;
  Status written = replace_file(fs::path(directory_) / entry_name(source.path()),
                                encode_facts(facts, content_hash(source)));
  if (!written) stop_writing(written.error().message);
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
