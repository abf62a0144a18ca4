#include "awaitify/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace awaitify {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// tree-sitter needs about 75 bytes of memory per byte of Python, and a pass may hold two trees
// of a file: past this size a file (generated data, in practice: the largest of the 2,200 files
// of the benchmark corpus is 0.5 MB) would cost gigabytes and minutes, so it is refused.
constexpr size_t kMaxSourceBytes = size_t{10} << 20;

size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool valid_continuation(std::string_view bytes, size_t at, size_t length) {
  if (at + length > bytes.size()) return false;
  auto lead = static_cast<unsigned char>(bytes[at]);
  for (size_t k = 1; k < length; ++k) {
    auto c = static_cast<unsigned char>(bytes[at + k]);
    if ((c & 0xC0) != 0x80) return false;
  }
  auto second = static_cast<unsigned char>(bytes[at + 1 < bytes.size() ? at + 1 : at]);
  if (lead == 0xE0 && second < 0xA0) return false;  // overlong
  if (lead == 0xED && second > 0x9F) return false;  // surrogates
  if (lead == 0xF0 && second < 0x90) return false;  // overlong
  if (lead == 0xF4 && second > 0x8F) return false;  // above U+10FFFF
  return true;
}

Error too_large(const std::string& path, size_t bytes) {
  return Error{path + ": too large to migrate (" + std::to_string(bytes >> 20) +
               " MB; the limit is " + std::to_string(kMaxSourceBytes >> 20) +
               " MB per file); left unchanged"};
}

// A file's bytes, read straight into the string that keeps them (every file of a project is
// read, most twice). `size`, from stat, is a first guess: the file may grow meanwhile.
Result<std::string> read_bytes(const std::string& path, size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot be read: " + std::strerror(errno)};
  std::string bytes(size + 1, '\0');  // a spare byte: the read that meets the end needs room
  size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (used > kMaxSourceBytes) break;  // from_bytes refuses it
      bytes.resize(bytes.size() * 2);
    }
    ssize_t got = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      ::close(fd);
      return Error{path + ": read error: " + std::strerror(error)};
    }
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(used);
  return bytes;
}

}  // namespace

size_t first_invalid_utf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    // Most source is ASCII: eight bytes at a time while no byte has its high bit set.
    while (i + 8 <= bytes.size()) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + i, sizeof word);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= bytes.size()) break;
    size_t length = utf8_sequence_length(static_cast<unsigned char>(bytes[i]));
    if (length == 0 || (length > 1 && !valid_continuation(bytes, i, length))) return i;
    i += length;
  }
  return std::string_view::npos;
}

SourceFile::SourceFile(std::string path, std::string text, bool bom)
    : path_(std::move(path)), text_(std::move(text)), bom_(bom) {
  // One pass over the newlines (memchr: every file of a project is read): the line table and
  // which newline the file mostly uses.
  size_t crlf = 0;
  line_starts_.push_back(0);
  const char* begin = text_.data();
  const char* end = begin + text_.size();
  for (const char* at = begin; at < end;) {
    const char* newline = static_cast<const char*>(std::memchr(at, '\n', end - at));
    if (!newline) break;
    if (newline > begin && newline[-1] == '\r') ++crlf;
    line_starts_.push_back(static_cast<uint32_t>(newline - begin + 1));
    at = newline + 1;
  }
  size_t lf = line_starts_.size() - 1 - crlf;
  newline_ = crlf > lf ? "\r\n" : "\n";
}

Result<SourceFile> SourceFile::from_bytes(std::string path, std::string bytes) {
  if (bytes.size() > kMaxSourceBytes) return too_large(path, bytes.size());
  bool bom = bytes.compare(0, kBom.size(), kBom) == 0;
  if (bom) bytes.erase(0, kBom.size());
  size_t bad = first_invalid_utf8(bytes);
  if (bad != std::string_view::npos) {
    SourceFile probe(path, bytes.substr(0, bad));
    Position at = probe.position(static_cast<uint32_t>(bad));
    return Error{path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                 ": not valid UTF-8 (byte offset " + std::to_string(bad) + ")"};
  }
  return SourceFile(std::move(path), std::move(bytes), bom);
}

Result<SourceFile> SourceFile::load(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{path + ": no such file"};
  if (!S_ISREG(info.st_mode)) return Error{path + ": not a regular file"};
  if (static_cast<size_t>(info.st_size) > kMaxSourceBytes) return too_large(path, info.st_size);
  auto bytes = read_bytes(path, static_cast<size_t>(info.st_size));
  if (!bytes) return bytes.error();
  return from_bytes(path, std::move(*bytes));
}

Position SourceFile::position(uint32_t byte) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), byte);
  auto line = static_cast<uint32_t>(it - line_starts_.begin());
  return Position{line, byte - line_starts_[line - 1] + 1};
}

uint32_t SourceFile::line_start(uint32_t line) const {
  if (line == 0) return 0;
  if (line > line_starts_.size()) return static_cast<uint32_t>(text_.size());
  return line_starts_[line - 1];
}

std::string_view SourceFile::indent_at(uint32_t byte) const {
  uint32_t start = line_start(position(byte).line);
  uint32_t end = start;
  while (end < text_.size() && (text_[end] == ' ' || text_[end] == '\t')) ++end;
  return std::string_view(text_).substr(start, end - start);
}

std::string SourceFile::bytes() const {
  return bom_ ? std::string(kBom) + text_ : text_;
}

}  // namespace awaitify
