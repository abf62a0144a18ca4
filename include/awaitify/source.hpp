#pragma once
// A Python source file as read from disk: its text (without a BOM), how its lines end, and a
// line index to turn byte offsets into the line:column positions users see.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/result.hpp"

namespace awaitify {

struct Position {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in bytes
};

class SourceFile {
 public:
  SourceFile() = default;
  SourceFile(std::string path, std::string text, bool bom = false);

  // Reads and checks a file: it must exist, be a regular file and be valid UTF-8.
  static Result<SourceFile> load(const std::string& path);
  // Same checks over bytes already in memory (stdin, tests).
  static Result<SourceFile> from_bytes(std::string path, std::string bytes);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  bool has_bom() const { return bom_; }
  // The newline the file mostly uses ("\r\n" or "\n"); new lines are written with it.
  const std::string& newline() const { return newline_; }
  Position position(uint32_t byte) const;
  uint32_t line_start(uint32_t line) const;  // byte offset of a 1-based line
  uint32_t line_count() const { return static_cast<uint32_t>(line_starts_.size()); }
  // The leading whitespace of the line that holds byte.
  std::string_view indent_at(uint32_t byte) const;
  // The bytes to write back: the BOM (if the file had one) and the text.
  std::string bytes() const;

 private:
  std::string path_;
  std::string text_;
  bool bom_ = false;
  std::string newline_ = "\n";
  std::vector<uint32_t> line_starts_;
};

// The first byte offset at which bytes stop being valid UTF-8, or npos when all are valid.
size_t first_invalid_utf8(std::string_view bytes);

}  // namespace awaitify
