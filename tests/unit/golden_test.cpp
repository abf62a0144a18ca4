// The golden-fixture runner: every fixtures/<group>/<case>/ turns `before` into `after` exactly,
// reports exactly the findings in findings.txt, and leaves `after` unchanged when run again.
//
// A case is either before.py/after.py or, for several modules, before/ and after/ folders; an
// optional `settings` file holds the choices a user would pass as flags (key=value lines).
// fixtures/<group>/selection names the transforms the group runs ("only=AW501" or
// "phase=routes"), so each group's cases test its own transform. findings.txt ends with what
// `# awaitify:` comments did: skipped files, unreadable directives, suppressed counts by rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "awaitify/engine.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace awaitify;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Case {
  std::string name;  // group/case
  fs::path dir;
};

// gtest prints a case by its name, not its bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  fs::path root(AWAITIFY_FIXTURES);
  for (const auto& group : fs::directory_iterator(root)) {
    if (!group.is_directory() || !fs::exists(group.path() / "selection")) continue;
    for (const auto& entry : fs::directory_iterator(group.path())) {
      if (!entry.is_directory()) continue;
      cases.push_back({group.path().filename().string() + "/" + entry.path().filename().string(),
                       entry.path()});
    }
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

Selection selection_for(const fs::path& group) {
  Selection selection;
  std::istringstream lines(read_file(group / "selection"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("only=", 0) == 0) selection.only.insert(line.substr(5));
    if (line.rfind("phase=", 0) == 0) selection.phases.push_back(line.substr(6));
  }
  return selection;
}

// A case's `settings` file: the user's choices for its run, one `key=value` a line
// ("http-client=scoped", as --http-client scoped would set).
Settings settings_for(const fs::path& dir) {
  Settings settings;
  if (!fs::exists(dir / "settings")) return settings;
  std::istringstream lines(read_file(dir / "settings"));
  for (std::string line; std::getline(lines, line);) {
    size_t equals = line.find('=');
    if (equals != std::string::npos) settings.values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return settings;
}

// Copies the case's input into a fresh folder (so package layout and module names are real)
// and returns the Python files in it, relative to it.
std::vector<std::string> stage(const fs::path& input, const fs::path& work) {
  fs::remove_all(work);
  fs::create_directories(work);
  std::vector<std::string> files;
  if (fs::is_directory(input)) {
    fs::copy(input, work, fs::copy_options::recursive);
  } else {
    fs::copy_file(input, work / "before.py");
  }
  for (const auto& entry : fs::recursive_directory_iterator(work)) {
    if (entry.path().extension() == ".py") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string describe(const Finding& finding) {
  const char* severity = finding.severity == Severity::warning ? "warning"
                         : finding.severity == Severity::error ? "error"
                                                                : "note";
  return std::to_string(finding.position.line) + ":" + std::to_string(finding.position.column) +
         ": " + finding.id + " " + severity + ": " + finding.message;
}

class Golden : public testing::TestWithParam<Case> {};

TEST_P(Golden, BeforeBecomesAfterAndStaysSo) {
  const Case& c = GetParam();
  auto transforms = select_transforms(selection_for(c.dir.parent_path()));
  ASSERT_TRUE(transforms.ok()) << transforms.error().message;
  bool folder = fs::is_directory(c.dir / "before");
  fs::path input = folder ? c.dir / "before" : c.dir / "before.py";
  fs::path expected = folder ? c.dir / "after" : c.dir / "after.py";
  ASSERT_TRUE(fs::exists(input)) << "missing " << input;
  ASSERT_TRUE(fs::exists(expected)) << "missing " << expected;
  testing_util::TempDir temp;
  fs::path work = temp.path() / c.name;
  std::vector<std::string> files = stage(input, work);
  // Run from inside the case, as a user would, so messages name paths relative to it.
  fs::path saved_cwd = fs::current_path();
  fs::current_path(work);
  for (std::string& file : files) file = fs::relative(file, work).string();
  RunOptions options;
  options.expand = !fs::exists(c.dir / "no-expand");
  options.settings = settings_for(c.dir);
  if (fs::exists(c.dir / "selected")) {
    // Only these files are selected; the rest of the case is the project around them.
    options.context_paths = files;
    std::istringstream lines(read_file(c.dir / "selected"));
    files.clear();
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) files.push_back(line);
    }
  }
  RunResult result = run(files, *transforms, options);
  std::vector<FileOutcome> outcomes = std::move(result.outcomes);
  std::sort(outcomes.begin(), outcomes.end(),
            [](const FileOutcome& a, const FileOutcome& b) { return a.path < b.path; });
  fs::current_path(saved_cwd);

  std::string findings;
  for (const FileOutcome& outcome : outcomes) {
    ASSERT_FALSE(outcome.input_error) << *outcome.input_error;
    ASSERT_FALSE(outcome.engine_error) << *outcome.engine_error;
    fs::path relative = outcome.path;
    fs::path want = folder ? expected / relative : expected;
    EXPECT_EQ(outcome.result_bytes(), read_file(want)) << "in " << relative;
    for (const Finding& finding : outcome.findings) {
      findings += (folder ? relative.string() + ":" : "") + describe(finding) + "\n";
    }
  }
  if (folder) {
    // Files the run did not touch must be expected unchanged.
    std::set<std::string> touched;
    for (const FileOutcome& outcome : outcomes) touched.insert(outcome.path);
    for (const auto& entry : fs::recursive_directory_iterator(expected)) {
      std::string relative = fs::relative(entry.path(), expected).string();
      if (entry.is_regular_file() && !touched.count(relative)) {
        EXPECT_EQ(read_file(entry.path()), read_file(input / relative)) << relative << " was not run";
      }
    }
  }
  // What `# awaitify:` comments held or dropped, as the summary counts it.
  for (const FileOutcome& outcome : outcomes) {
    if (outcome.skipped) findings += "skipped: " + outcome.path + "\n";
    for (const std::string& warning : outcome.directive_warnings)
      findings += "warning: " + warning + "\n";
  }
  for (const auto& [rule, count] : count_suppressed(result.plan, outcomes)) {
    findings += "suppressed: " + rule + " x" + std::to_string(count) + "\n";
  }
  std::string expected_findings =
      fs::exists(c.dir / "findings.txt") ? read_file(c.dir / "findings.txt") : "";
  // AWAITIFY_UPDATE_FINDINGS=1 rewrites findings.txt when a message's wording changed; it never
  // touches code expectations, and a case whose code differs is not updated.
  if (std::getenv("AWAITIFY_UPDATE_FINDINGS") && findings != expected_findings &&
      !::testing::Test::HasFailure()) {
    if (findings.empty()) fs::remove(c.dir / "findings.txt");
    else testing_util::write_file(c.dir / "findings.txt", findings);
    expected_findings = findings;
  }
  EXPECT_EQ(findings, expected_findings);

  // The passes' shortcuts (applies, report_from_facts) spare parses, never change a result:
  // without them, the run writes and reports the same.
  std::vector<TransformInfo> unhooked;
  for (const TransformInfo* transform : *transforms) {
    unhooked.push_back(*transform);
    unhooked.back().applies = {};
    unhooked.back().report_from_facts = {};
  }
  std::vector<const TransformInfo*> unhooked_pointers;
  for (const TransformInfo& transform : unhooked) unhooked_pointers.push_back(&transform);
  stage(input, work);
  fs::current_path(work);
  std::vector<FileOutcome> plain = run(files, unhooked_pointers, options).outcomes;
  fs::current_path(saved_cwd);
  std::sort(plain.begin(), plain.end(),
            [](const FileOutcome& a, const FileOutcome& b) { return a.path < b.path; });
  ASSERT_EQ(plain.size(), outcomes.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].result_bytes(), outcomes[i].result_bytes())
        << "without shortcuts: " << plain[i].path;
    std::vector<std::string> with, without;
    for (const Finding& finding : outcomes[i].findings) with.push_back(describe(finding));
    for (const Finding& finding : plain[i].findings) without.push_back(describe(finding));
    EXPECT_EQ(without, with) << "without shortcuts: " << plain[i].path;
  }

  // Idempotence: the expected result is a fixed point.
  std::vector<std::string> again = stage(expected, work);
  fs::current_path(work);
  for (std::string& file : again) file = fs::relative(file, work).string();
  if (fs::exists(c.dir / "selected")) {
    options.context_paths = again;
    again = files;  // the same selection as the first run
  }
  for (const FileOutcome& outcome : run(again, *transforms, options).outcomes) {
    EXPECT_FALSE(outcome.changed()) << outcome.path << " changed on a second run";
  }
  fs::current_path(saved_cwd);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden, testing::ValuesIn(all_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

}  // namespace
