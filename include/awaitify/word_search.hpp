#pragma once
// Which of a fixed set of words a text holds, found in one reading of it (an Aho-Corasick
// automaton): the passes' trigger words are looked for in every file, and a search per word
// reads the whole text once for each word it does not hold.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace awaitify {

class WordSearch {
 public:
  explicit WordSearch(const std::vector<std::string>& words);

  // For each word, in the order given, whether it occurs in `text` (as a substring: "open("
  // occurs in "reopen(x)"). An empty word occurs in every text.
  std::vector<bool> find_in(std::string_view text) const;

  const std::vector<std::string>& words() const { return words_; }

 private:
  size_t add_state();

  std::vector<std::string> words_;
  uint8_t class_of_[256] = {};  // bytes no word holds share class 0
  size_t classes_ = 1;
  static constexpr uint32_t kWordsEnd = uint32_t{1} << 31;
  // state * classes_ + class -> the next state's row (its state * classes_), with kWordsEnd set
  // when words end at it.
  std::vector<uint32_t> next_;
  // For each state, the words that end there (through its suffixes too), as a range of found_.
  std::vector<uint32_t> found_begin_;
  std::vector<uint32_t> found_;
};

}  // namespace awaitify
