// Golden cases for verify and audit: fixtures/verify/<rule>/<case>/ and fixtures/audit/<case>/.
// A case is `input.py` or a `project/` folder (copied to a temporary folder and run from inside
// it, as a user would; its pyproject.toml's `migrated` globs apply, and it is not in a git
// repository); `expected.txt` is the report: one line per finding
// ("path:line:col: RULE message"), its fix hint (verify), then suppressed/skipped counts.
// Every verify rule has a `clean` case of correct async code that must report nothing at all.
// AWAITIFY_UPDATE_GOLDEN=1 rewrites expected.txt (review the diff before keeping it).
#include <gtest/gtest.h>

#include <filesystem>

#include "awaitify/audit.hpp"
#include "awaitify/config.hpp"
#include "awaitify/verify.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace awaitify;

namespace {

struct Case {
  std::string name;  // verify/AWV004/basic or audit/basic
  fs::path dir;
  bool audit = false;
};

void PrintTo(const Case& c, std::ostream* out) {
  *out << c.name;
}

std::vector<Case> collect(const fs::path& root, const std::string& prefix, bool audit, int depth) {
  std::vector<Case> cases;
  if (!fs::is_directory(root)) return cases;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    std::string name = prefix + "/" + entry.path().filename().string();
    if (depth > 1) {
      auto inner = collect(entry.path(), name, audit, depth - 1);
      cases.insert(cases.end(), inner.begin(), inner.end());
    } else {
      cases.push_back({name, entry.path(), audit});
    }
  }
  return cases;
}

std::vector<Case> all_cases() {
  fs::path fixtures(AWAITIFY_FIXTURES);
  std::vector<Case> cases = collect(fixtures / "verify", "verify", false, 2);
  auto audits = collect(fixtures / "audit", "audit", true, 1);
  cases.insert(cases.end(), audits.begin(), audits.end());
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

std::string describe(const Report& report, bool hints) {
  std::string out;
  for (const ReportItem& item : report.items) {
    out += item.path + ":" + std::to_string(item.position.line) + ":" +
           std::to_string(item.position.column) + ": " + item.rule + " " + item.message + "\n";
    if (hints) out += "    fix: " + item.hint + "\n";
  }
  for (const auto& [rule, count] : report.suppressed)
    out += "suppressed: " + rule + " x" + std::to_string(count) + "\n";
  for (const std::string& path : report.skipped_files) out += "skipped: " + path + "\n";
  for (const std::string& warning : report.warnings) out += "warning: " + warning + "\n";
  for (const std::string& error : report.errors) out += "error: " + error + "\n";
  return out;
}

class VerifyGolden : public testing::TestWithParam<Case> {};

TEST_P(VerifyGolden, ReportsExactlyTheExpectedFindings) {
  const Case& c = GetParam();
  bool project = fs::is_directory(c.dir / "project");
  ASSERT_TRUE(project || fs::exists(c.dir / "input.py")) << "a case needs input.py or project/";
  testing_util::TempDir temp;
  fs::path work = temp.path() / "case";
  fs::create_directories(work);
  if (project)
    fs::copy(c.dir / "project", work, fs::copy_options::recursive);
  else
    fs::copy_file(c.dir / "input.py", work / "input.py");
  fs::path saved = fs::current_path();
  fs::current_path(work);
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(".")) {
    if (entry.path().extension() == ".py")
      files.push_back(entry.path().lexically_normal().string());
  }
  std::sort(files.begin(), files.end());
  ProjectView view = ProjectView::load(files, files, 1);
  // A case's pyproject.toml may declare modules migrated (AWV010); there is no git repository.
  auto config = find_config({"."});
  ASSERT_TRUE(config.ok()) << config.error().message;
  VerifyOptions options;
  options.migrated_glob = [&](const std::string& path) { return config->migrated_glob(path); };
  Report report = c.audit ? audit(view) : verify(view, options);
  fs::current_path(saved);

  std::string actual = describe(report, !c.audit);
  fs::path expected_file = c.dir / "expected.txt";
  if (std::getenv("AWAITIFY_UPDATE_GOLDEN")) testing_util::write_file(expected_file, actual);
  ASSERT_TRUE(fs::exists(expected_file)) << "missing " << expected_file;
  EXPECT_EQ(actual, testing_util::read_file(expected_file));
  if (c.dir.filename() == "clean") {
    EXPECT_EQ(actual, "") << "a clean case must report nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VerifyGolden, testing::ValuesIn(all_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(VerifyGoldenCoverage, EveryRuleHasACleanCaseAndAFindingCase) {
  fs::path root = fs::path(AWAITIFY_FIXTURES) / "verify";
  for (const RuleInfo& rule : verify_rules()) {
    EXPECT_TRUE(fs::exists(root / rule.id / "clean" / "expected.txt"))
        << rule.id << " has no clean case";
    bool reported = false;
    if (!fs::is_directory(root / rule.id)) continue;
    for (const auto& entry : fs::directory_iterator(root / rule.id)) {
      std::string expected = testing_util::read_file(entry.path() / "expected.txt");
      reported |= expected.find(": " + rule.id + " ") != std::string::npos;
    }
    EXPECT_TRUE(reported) << rule.id << " has no case that reports it";
  }
}

TEST(VerifyGoldenCoverage, EveryAuditGroupHasACase) {
  std::string all;
  for (const Case& c : all_cases()) {
    if (c.audit) all += testing_util::read_file(c.dir / "expected.txt");
  }
  for (const RuleInfo& group : audit_groups()) {
    EXPECT_NE(all.find(": " + group.id + " "), std::string::npos)
        << group.id << " has no audit case";
  }
}

}  // namespace
