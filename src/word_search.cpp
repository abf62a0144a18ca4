#include "awaitify/word_search.hpp"

#include <algorithm>
#include <queue>

namespace awaitify {

size_t WordSearch::add_state() {
  next_.resize(next_.size() + classes_, 0);
  return next_.size() / classes_ - 1;
}

WordSearch::WordSearch(const std::vector<std::string>& words) : words_(words) {
  for (const std::string& word : words_) {
    for (unsigned char byte : word) {
      if (class_of_[byte] == 0) class_of_[byte] = static_cast<uint8_t>(classes_++);
    }
  }
  // The trie: state 0 is the root; a missing edge is 0 until the failure links fill it in.
  std::vector<std::vector<uint32_t>> ends;  // words ending at each state
  add_state();
  ends.emplace_back();
  for (uint32_t id = 0; id < words_.size(); ++id) {
    size_t state = 0;
    for (unsigned char byte : words_[id]) {
      size_t edge = state * classes_ + class_of_[byte];
      if (next_[edge] == 0) {
        size_t added = add_state();
        ends.emplace_back();
        next_[edge] = static_cast<uint32_t>(added);
      }
      state = next_[edge];
    }
    ends[state].push_back(id);
  }
  // Breadth first: each state's missing edges go where its longest proper suffix's go, and it
  // inherits the words that end at that suffix.
  std::vector<uint32_t> fail(ends.size(), 0);
  std::queue<uint32_t> pending;
  for (size_t c = 0; c < classes_; ++c) {
    if (next_[c] != 0) pending.push(next_[c]);
  }
  while (!pending.empty()) {
    uint32_t state = pending.front();
    pending.pop();
    const std::vector<uint32_t>& inherited = ends[fail[state]];
    ends[state].insert(ends[state].end(), inherited.begin(), inherited.end());
    for (size_t c = 0; c < classes_; ++c) {
      uint32_t& edge = next_[state * classes_ + c];
      uint32_t fallback = next_[fail[state] * classes_ + c];
      if (edge == 0) {
        edge = fallback;
      } else {
        fail[edge] = fallback;
        pending.push(edge);
      }
    }
  }
  for (const std::vector<uint32_t>& at : ends) {
    found_begin_.push_back(static_cast<uint32_t>(found_.size()));
    found_.insert(found_.end(), at.begin(), at.end());
  }
  found_begin_.push_back(static_cast<uint32_t>(found_.size()));
  // The table's entries become the target's first entry, marked when words end there: the
  // reading loop then neither multiplies nor looks up a state without words.
  for (uint32_t& edge : next_) {
    bool words_end = found_begin_[edge] != found_begin_[edge + 1];
    edge = static_cast<uint32_t>(edge * classes_) | (words_end ? kWordsEnd : 0);
  }
}

std::vector<bool> WordSearch::find_in(std::string_view text) const {
  std::vector<bool> found(words_.size(), false);
  // Empty words end at the root, which no byte leads back to as a match: they are found here.
  for (uint32_t i = found_begin_[0]; i < found_begin_[1]; ++i) found[found_[i]] = true;
  uint32_t row = 0;
  for (unsigned char byte : text) {
    uint32_t edge = next_[row + class_of_[byte]];
    row = edge & ~kWordsEnd;
    if (edge & kWordsEnd) {
      size_t state = row / classes_;
      for (uint32_t i = found_begin_[state]; i < found_begin_[state + 1]; ++i)
        found[found_[i]] = true;
    }
  }
  return found;
}

}  // namespace awaitify
