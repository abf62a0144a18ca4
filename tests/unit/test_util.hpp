#pragma once
// Helpers shared by the unit tests: parse a snippet, find nodes, apply edits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "awaitify/edit.hpp"
#include "awaitify/source.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify::testing_util {

struct Parsed {
  SourceFile source;
  Tree tree;
  TSNode root() const { return tree.root(); }
};

inline Parsed parse(const std::string& text, const std::string& path = "snippet.py") {
  Parser parser;
  auto tree = parser.parse(text);
  EXPECT_TRUE(tree.ok());
  return Parsed{SourceFile(path, text), std::move(*tree)};
}

// The first node of a kind whose text is `text` (or any text when empty).
inline TSNode find_node(const Parsed& parsed, std::string_view type, std::string_view text = {}) {
  TSNode found{};
  bool done = false;
  walk(parsed.root(), [&](TSNode node) {
    if (done) return false;
    if (is(node, type) && (text.empty() || node_text(node, parsed.source.text()) == text)) {
      found = node;
      done = true;
    }
    return !done;
  });
  EXPECT_TRUE(done) << "no " << type << " node " << text;
  return found;
}

inline std::string apply_edits(const std::string& text, const std::vector<Edit>& edits) {
  EditSet set;
  Status added = set.add_all(edits);
  EXPECT_TRUE(added.ok()) << (added.ok() ? "" : added.error().message);
  auto result = set.apply(text);
  EXPECT_TRUE(result.ok());
  return result.ok() ? *result : text;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A fresh temporary folder, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "awaitify-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace awaitify::testing_util
