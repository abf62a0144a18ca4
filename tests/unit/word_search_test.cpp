#include "awaitify/word_search.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace awaitify {
namespace {

std::vector<bool> by_find(const std::vector<std::string>& words, const std::string& text) {
  std::vector<bool> found;
  for (const std::string& word : words) found.push_back(text.find(word) != std::string::npos);
  return found;
}

TEST(WordSearch, FindsWhatASearchForEachWordFinds) {
  std::vector<std::string> words{"open(",    "Session", "Session(", "sessionmaker", ".query(",
                                 "on_event", "FastAPI", "e",        "ee",           "",
                                 "requests", "Sessio",  "ion(",     "\n",           "\xE2\x80\x99"};
  WordSearch search(words);
  EXPECT_EQ(search.words(), words);
  for (const std::string& text :
       {std::string(), std::string("x"), std::string("Session"), std::string("Sessionmaker"),
        std::string("db.query(User).first()\n"), std::string("reopen(path)"),
        std::string("x = Session()\n@app.on_event('startup')"), std::string("it\xE2\x80\x99s"),
        std::string("SessioSession(")}) {
    EXPECT_EQ(search.find_in(text), by_find(words, text)) << text;
  }
}

// Random words and texts over a small alphabet, where words overlap, share prefixes and hold one
// another all the time.
TEST(WordSearch, RandomWordsInRandomTexts) {
  std::mt19937 random(7);
  auto random_text = [&](size_t length) {
    std::string text;
    for (size_t i = 0; i < length; ++i) text += "ab(.\n"[random() % 5];
    return text;
  };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> words;
    for (size_t n = random() % 12; n > 0; --n) words.push_back(random_text(1 + random() % 6));
    WordSearch search(words);
    for (int text = 0; text < 20; ++text) {
      std::string haystack = random_text(random() % 60);
      ASSERT_EQ(search.find_in(haystack), by_find(words, haystack))
          << "round " << round << ", text '" << haystack << "'";
    }
  }
}

}  // namespace
}  // namespace awaitify
