// verify as a command: exit codes, rule selection, input errors, suppression comments, and the
// rule catalogue (stable IDs, each documented in docs/rules.md with a before/after and a fix).
#include "awaitify/verify.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "awaitify/suppress.hpp"
#include "report_cli.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

const std::string kBlocking = "import time\n\n\nasync def tick():\n    time.sleep(1)\n";
const std::string kClean = "import asyncio\n\n\nasync def tick():\n    await asyncio.sleep(1)\n";

fs::path project(const TempDir& dir) {
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"demo\"\n");
  return dir.path();
}

}  // namespace

TEST(Suppressions, ReadOnlyRealCommentsAndTheirRules) {
  std::string src =
      "a = 1  # awaitify: ignore\n"
      "b = 2  # awaitify: ignore[AWV003]\n"
      "c = 3  # noqa: E501  # awaitify: ignore[awv003 , AWV004]\n"
      "d = '# awaitify: ignore'\n"
      "e = 5  # awaitify: ignore[]\n"
      "f = 6  # awaitify: please\n"
      "g = 7  # awaitify: ignore[AWV004]  # awaitify: ignore\n";
  Suppressions s = Suppressions::from_text(src);
  EXPECT_FALSE(s.skip_file());
  EXPECT_TRUE(s.suppresses(1, "AWV004"));
  EXPECT_TRUE(s.suppresses(2, "AWV003"));
  EXPECT_FALSE(s.suppresses(2, "AWV004"));
  EXPECT_TRUE(s.suppresses(3, "AWV003"));
  EXPECT_TRUE(s.suppresses(3, "AWV004"));
  EXPECT_FALSE(s.suppresses(3, "AWV001"));
  EXPECT_FALSE(s.suppresses(4, "AWV001"));  // a string, not a comment
  EXPECT_FALSE(s.suppresses(5, "AWV001"));
  EXPECT_TRUE(s.suppresses(7, "AWV001"));  // a bare ignore wins
  EXPECT_EQ(s.malformed().size(), 2u);
  EXPECT_TRUE(Suppressions::from_text("# header\n# awaitify: skip-file\nx = 1\n").skip_file());
  EXPECT_FALSE(Suppressions::from_text("x = '# awaitify: skip-file'\n").skip_file());
}

TEST(VerifyRules, IdsAreStableUniqueAndDocumented) {
  std::vector<std::string> ids;
  for (const RuleInfo& rule : verify_rules()) ids.push_back(rule.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"AWV001", "AWV002", "AWV003", "AWV004", "AWV005",
                                           "AWV006", "AWV007", "AWV008", "AWV009", "AWV010"}));
  std::string docs = read_file(fs::path(AWAITIFY_FIXTURES).parent_path() / "docs" / "rules.md");
  std::set<std::string> names;
  for (const RuleInfo& rule : verify_rules()) {
    EXPECT_TRUE(names.insert(rule.name).second) << rule.name;
    EXPECT_FALSE(rule.hint.empty()) << rule.id;
    size_t at = docs.find("## " + rule.id + " ");
    ASSERT_NE(at, std::string::npos) << rule.id << " is not in docs/rules.md";
    size_t next = docs.find("\n## ", at + 1);
    std::string section =
        docs.substr(at, next == std::string::npos ? std::string::npos : next - at);
    EXPECT_NE(section.find("Before:"), std::string::npos) << rule.id;
    EXPECT_NE(section.find("After:"), std::string::npos) << rule.id;
    EXPECT_NE(section.find("Fix:"), std::string::npos) << rule.id;
    EXPECT_NE(section.find(rule.name), std::string::npos) << rule.id;
  }
}

TEST(VerifyCli, ExitCodesCleanFindingsAndInputErrors) {
  TempDir dir;
  project(dir);
  write_file(dir.path() / "clean.py", kClean);
  CliOutput clean = run_awaitify(dir.path(), "verify clean.py");
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;
  EXPECT_EQ(clean.out, "awaitify verify: no problems in 1 file\n");
  write_file(dir.path() / "tick.py", kBlocking);
  CliOutput found = run_awaitify(dir.path(), "verify");
  EXPECT_EQ(found.status, 1);
  EXPECT_EQ(
      found.out.rfind(
          "tick.py:5:5: AWV004 `time.sleep`, a blocking sleep, in async def `tick` blocks the "
          "event loop\n    fix: use `await asyncio.sleep(...)`",
          0),
      0u)
      << found.out;
  EXPECT_NE(found.out.find("awaitify verify: 1 problem (AWV004 ×1) in 1 file of 2"),
            std::string::npos)
      << found.out;
  EXPECT_EQ(run_awaitify(dir.path(), "verify nope.py").status, 2);
  EXPECT_EQ(run_awaitify(dir.path(), "verify --bogus").status, 2);
  write_file(dir.path() / "broken.py", "async def f(:\n    pass\n");
  CliOutput broken = run_awaitify(dir.path(), "verify");
  EXPECT_EQ(broken.status,
            2);  // an input error wins over findings, but the others are still checked
  EXPECT_NE(broken.err.find("awaitify: error: broken.py:1:"), std::string::npos) << broken.err;
  EXPECT_NE(broken.out.find("tick.py:5:5: AWV004"), std::string::npos) << broken.out;
}

TEST(VerifyCli, OnlyAndSkipSelectRules) {
  TempDir dir;
  project(dir);
  write_file(dir.path() / "m.py",
             "import time\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef "
             "root():\n"
             "    return 1\n\n\nasync def tick():\n    time.sleep(1)\n");
  CliOutput all = run_awaitify(dir.path(), "verify -q");
  EXPECT_NE(all.out.find("AWV001"), std::string::npos);
  EXPECT_NE(all.out.find("AWV004"), std::string::npos);
  CliOutput only = run_awaitify(dir.path(), "verify -q --only AWV004");
  EXPECT_EQ(only.out.find("AWV001"), std::string::npos);
  EXPECT_NE(only.out.find("AWV004"), std::string::npos);
  CliOutput skip = run_awaitify(dir.path(), "verify -q --skip AWV004,AWV001");
  EXPECT_EQ(skip.status, 0) << skip.out;
  CliOutput unknown = run_awaitify(dir.path(), "verify --only AWV999");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.err,
            "awaitify: error: unknown transform or rule ID 'AWV999' (see 'awaitify list' and "
            "docs/rules.md)\n");
}

TEST(VerifyCli, SuppressionsAreCountedInTheSummary) {
  TempDir dir;
  project(dir);
  write_file(
      dir.path() / "a.py",
      "import time\n\n\nasync def tick():\n    time.sleep(1)  # awaitify: ignore[AWV004]\n"
      "    time.sleep(2)  # awaitify: ignore\n    time.sleep(3)  # awaitify: ignore[AWV04]\n");
  write_file(dir.path() / "b.py", "# awaitify: skip-file\n" + kBlocking);
  CliOutput output = run_awaitify(dir.path(), "verify");
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("a.py:7:5: AWV004"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("awaitify: warning: a.py:7: `# awaitify: ignore[AWV04]` names no rule, "
                            "so it suppresses nothing"),
            std::string::npos)
      << output.out;
  EXPECT_EQ(output.out.find("b.py"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find(
                "1 problem (AWV004 ×1) in 1 file of 2; 2 suppressed (AWV004 ×2); 1 file skipped"),
            std::string::npos)
      << output.out;
}

TEST(VerifyCli, SeesTheWholeProjectWhenGivenOneFile) {
  // The coroutine is defined in a module that was not passed; the index still resolves it.
  TempDir dir;
  project(dir);
  write_file(dir.path() / "pkg/__init__.py", "");
  write_file(dir.path() / "pkg/service.py", "async def load():\n    return 1\n");
  write_file(dir.path() / "pkg/api.py",
             "from .service import load\n\n\nasync def handler():\n    load()\n");
  CliOutput output = run_awaitify(dir.path(), "verify pkg/api.py");
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("pkg/api.py:5:5: AWV003 `load` (an async def) is not awaited"),
            std::string::npos)
      << output.out;
}

// AWV010 through the library: the committed version decides, is read once per file with
// something to report and not at all for a clean one; the configuration's globs win.
TEST(VerifyRatchet, TheCommittedVersionDecidesAndIsReadOncePerFileThatAsks) {
  TempDir dir;
  project(dir);
  const std::string routes =
      "import time\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
      "async def root():\n    return 1\n";
  std::string slow = (dir.path() / "slow.py").string();
  std::string clean = (dir.path() / "clean.py").string();
  write_file(slow, routes +
                       "\n\n@app.get('/a')\nasync def a():\n    time.sleep(1)\n"
                       "\n\n@app.get('/b')\nasync def b():\n    time.sleep(2)\n");
  write_file(clean, routes);
  ProjectView view = ProjectView::load({clean, slow}, {clean, slow}, 1);
  std::map<std::string, int> reads;
  std::string committed = routes;
  VerifyOptions options;
  options.only = {"AWV010"};
  options.baseline = [&](const std::string& path) {
    ++reads[path];
    return Baseline{true, committed};
  };
  Report report = verify(view, options);
  ASSERT_EQ(report.items.size(), 2u);
  EXPECT_EQ(report.items[0].rule, "AWV010");
  EXPECT_EQ(report.items[0].position.line, 15u);
  EXPECT_EQ(report.items[0].replaces, "AWV004");
  EXPECT_EQ(report.items[1].position.line, 20u);
  EXPECT_EQ(reads, (std::map<std::string, int>{{slow, 1}}));

  committed = routes + "\n\n@app.get('/s')\ndef s():\n    return 1\n";  // HEAD had a sync route
  EXPECT_TRUE(verify(view, options).items.empty());
  // New in a repository: the current routes decide. Without a repository: only `migrated`.
  options.baseline = [](const std::string&) { return Baseline{true, std::nullopt}; };
  EXPECT_EQ(verify(view, options).items.size(), 2u);
  options.baseline = [](const std::string&) { return Baseline{}; };
  EXPECT_TRUE(verify(view, options).items.empty());
  options.migrated_glob = [&](const std::string& path) {
    return path == slow ? std::string("slow.py") : std::string();
  };
  Report configured = verify(view, options);
  ASSERT_EQ(configured.items.size(), 2u);
  EXPECT_NE(configured.items[0].message.find("it matches `slow.py`"), std::string::npos);
}
