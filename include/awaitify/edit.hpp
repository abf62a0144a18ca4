#pragma once
// Edits as data: a transform returns byte-range replacements; one place checks and applies them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/result.hpp"

namespace awaitify {

struct Edit {
  uint32_t start = 0;  // byte offset, inclusive
  uint32_t end = 0;    // byte offset, exclusive; start == end inserts
  std::string text;

  static Edit insert(uint32_t at, std::string text) { return Edit{at, at, std::move(text)}; }
  static Edit replace(uint32_t start, uint32_t end, std::string text) {
    return Edit{start, end, std::move(text)};
  }
};

class EditSet {
 public:
  // Adds an edit; an edit that overlaps one already in the set is an engine error (two rewrites
  // claiming the same bytes), reported with both ranges. Insertions at the same offset are kept
  // in the order they were added. An identical edit added twice is kept once.
  Status add(Edit edit);
  Status add_all(const std::vector<Edit>& edits);
  bool empty() const { return edits_.empty(); }
  size_t size() const { return edits_.size(); }
  // Applies every edit to text (which must be the text the offsets refer to).
  Result<std::string> apply(std::string_view text) const;
  // The edits, sorted by start, then in the order they were added.
  const std::vector<Edit>& edits() const { return edits_; }

 private:
  std::vector<Edit> edits_;  // sorted by start, then insertion order
};

}  // namespace awaitify
