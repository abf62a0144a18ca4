#include <gtest/gtest.h>
#include <sys/stat.h>

#include "awaitify/discover.hpp"
#include "awaitify/emit.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

// Runs `patch -p1` with a diff in dir; returns its exit status.
int patch_in(const fs::path& dir, const std::string& diff) {
  write_file(dir / "change.diff", diff);
  std::string command = "cd '" + dir.string() + "' && patch -s -p1 < change.diff >/dev/null 2>&1";
  return std::system(command.c_str());
}

struct CwdGuard {
  fs::path saved = fs::current_path();
  explicit CwdGuard(const fs::path& to) { fs::current_path(to); }
  ~CwdGuard() { fs::current_path(saved); }
};

}  // namespace

TEST(GitignoreGlob, Semantics) {
  EXPECT_TRUE(gitignore_glob_match("*.py", "a.py"));
  EXPECT_FALSE(gitignore_glob_match("*.py", "dir/a.py"));
  EXPECT_TRUE(gitignore_glob_match("**/gen/*.py", "a/b/gen/x.py"));
  EXPECT_TRUE(gitignore_glob_match("**/gen/*.py", "gen/x.py"));
  EXPECT_TRUE(gitignore_glob_match("build/**", "build/a/b.py"));
  EXPECT_TRUE(gitignore_glob_match("a/**/b", "a/x/y/b"));
  EXPECT_TRUE(gitignore_glob_match("file?.py", "file1.py"));
  EXPECT_TRUE(gitignore_glob_match("[a-c]*.py", "b_x.py"));
  EXPECT_FALSE(gitignore_glob_match("[!a-c]*.py", "b_x.py"));
}

TEST(Gitignore, LastMatchingRuleWinsAndDirectoryRules) {
  Gitignore rules;
  rules.add_rules("", "*.py\n!keep.py\ngen/\n/top.txt\n# comment\n");
  rules.add_rules("sub", "local.py\n");
  EXPECT_TRUE(rules.ignored("x.py", false));
  EXPECT_FALSE(rules.ignored("keep.py", false));
  EXPECT_TRUE(rules.ignored("a/gen", true));
  EXPECT_FALSE(rules.ignored("a/gen", false));
  EXPECT_TRUE(rules.ignored("top.txt", false));
  EXPECT_FALSE(rules.ignored("a/top.txt", false));
  EXPECT_TRUE(rules.ignored("sub/local.py", false));
}

TEST(Discover, WalksHonouringGitignoreAndSkippingEnvironments) {
  TempDir dir;
  for (const char* path : {"app/main.py", "app/pkg/x.py", ".venv/lib.py", "venv/a.py",
                           "lib/site-packages/s.py", "app/__pycache__/c.py", ".hidden/h.py",
                           "generated/g.py", "app/notes.txt", "app/skip_me.py"}) {
    write_file(dir.path() / path, "x = 1\n");
  }
  write_file(dir.path() / ".gitignore", "generated/\n");
  write_file(dir.path() / "app/.gitignore", "skip_me.py\n");
  CwdGuard cwd(dir.path());
  auto files = discover({"."});
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(*files, (std::vector<std::string>{"app/main.py", "app/pkg/x.py"}));
  auto named = discover({"app/skip_me.py"});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(*named, std::vector<std::string>{"app/skip_me.py"});  // named files always count
}

TEST(Discover, ClearErrors) {
  TempDir dir;
  write_file(dir.path() / "empty/readme.txt", "");
  CwdGuard cwd(dir.path());
  auto missing = discover({"nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "nope: no such file or directory");
  auto empty = discover({"empty"});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "empty: no Python files found");
}

TEST(Discover, SymlinkLoopsDoNotHang) {
  TempDir dir;
  write_file(dir.path() / "a/x.py", "");
  fs::create_directory_symlink(dir.path() / "a", dir.path() / "a/loop");
  CwdGuard cwd(dir.path());
  auto files = discover({"a"});
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
}

// Each file is shown as its path with every link resolved, relative to the resolved working
// directory when it is under it, else as the walk met it: the same whether the working
// directory, the walked directory or the file itself is reached through a link.
TEST(Discover, FilesAreShownByTheirResolvedPaths) {
  TempDir dir;
  write_file(dir.path() / "real/pkg/a.py", "");
  write_file(dir.path() / "real/pkg/sub/b.py", "");
  write_file(dir.path() / "outside/c.py", "");
  fs::create_directory_symlink(dir.path() / "real", dir.path() / "via");
  fs::create_directory_symlink(dir.path() / "real/pkg/sub", dir.path() / "real/pkg/linked_sub");
  fs::create_symlink(dir.path() / "real/pkg/a.py", dir.path() / "real/pkg/alias.py");
  fs::create_symlink(dir.path() / "outside/c.py", dir.path() / "real/pkg/far.py");
  {
    CwdGuard cwd(dir.path() / "via");
    auto files = discover({"pkg"});
    ASSERT_TRUE(files.ok());
    // alias.py is a.py; far.py leads outside, so it keeps the path the walk met it by.
    std::vector<std::string> in_via{"pkg/a.py", "pkg/far.py", "pkg/sub/b.py"};
    EXPECT_EQ(*files, in_via);
  }
  {
    CwdGuard cwd(dir.path() / "real");
    auto files = discover({dir.path().string() + "/via/pkg"});
    ASSERT_TRUE(files.ok());
    std::vector<std::string> expected{dir.path().string() + "/via/pkg/far.py", "pkg/a.py",
                                      "pkg/sub/b.py"};
    EXPECT_EQ(*files, expected);
  }
  {
    CwdGuard cwd(dir.path());
    auto files = discover({"via/pkg/alias.py", "real/pkg/sub"});
    ASSERT_TRUE(files.ok());
    std::vector<std::string> expected{"real/pkg/a.py", "real/pkg/sub/b.py"};
    EXPECT_EQ(*files, expected);
  }
}

TEST(UnifiedDiff, EmptyWhenEqual) { EXPECT_EQ(unified_diff("a.py", "x\n", "x\n"), ""); }

TEST(UnifiedDiff, HunksWithThreeLinesOfContext) {
  std::string before, after;
  for (int i = 1; i <= 20; ++i) {
    before += "line" + std::to_string(i) + "\n";
    after += (i == 10 ? "changed" : "line" + std::to_string(i)) + "\n";
  }
  EXPECT_EQ(unified_diff("p/a.py", before, after),
            "--- a/p/a.py\n+++ b/p/a.py\n@@ -7,7 +7,7 @@\n line7\n line8\n line9\n-line10\n"
            "+changed\n line11\n line12\n line13\n");
}

TEST(UnifiedDiff, PatchAcceptsItWithCrlfAndMissingFinalNewline) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> cases{
      {"a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n"},
      {"a\nb\nc", "a\nB\nc"},
      {"def f():\n    pass", "async def f():\n    pass"},
      {"x\n", "y\nx\nz\n"},
      {"a\nb", "a\nb\n"},
      {"a\nb\n", "A\nb"},
      {"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"},
  };
  for (const auto& [before, after] : cases) {
    write_file(dir.path() / "pkg/m.py", before);
    ASSERT_EQ(patch_in(dir.path(), unified_diff("pkg/m.py", before, after)), 0) << before;
    EXPECT_EQ(read_file(dir.path() / "pkg/m.py"), after);
  }
}

TEST(WriteAtomically, KeepsModeAndRefusesAChangedFile) {
  TempDir dir;
  fs::path file = dir.path() / "m.py";
  write_file(file, "old\n");
  ::chmod(file.c_str(), 0750);
  ASSERT_TRUE(write_atomically(file.string(), "old\n", "new\n").ok());
  EXPECT_EQ(read_file(file), "new\n");
  struct stat info {};
  ::stat(file.c_str(), &info);
  EXPECT_EQ(info.st_mode & 0777, 0750u);
  auto refused = write_atomically(file.string(), "old\n", "newer\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("changed on disk since it was read"), std::string::npos);
  EXPECT_EQ(read_file(file), "new\n");
  size_t entries = std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator());
  EXPECT_EQ(entries, 1u);  // no temporary file left behind
}
