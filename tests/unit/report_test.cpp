// Output formats of audit, verify and check: text (colour only when asked), JSON (valid, one
// schema) and SARIF 2.1.0 (the fields the schema requires and GitHub code scanning reads).
#include "awaitify/report.hpp"

#include <gtest/gtest.h>

#include "awaitify/verify.hpp"
#include "json_reader.hpp"
#include "report_cli.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

Report sample_report() {
  Report report;
  report.command = "verify";
  report.rules = verify_rules();
  report.files = 3;
  ReportItem a;
  a.rule = "AWV004";
  a.path = "app/sérvice.py";
  a.position = {12, 9};
  a.char_column = 8;
  a.severity = Severity::error;
  a.message = "`time.sleep` \"quoted\"\tand\\slashed\nnext line";
  a.hint = "use `await asyncio.sleep(...)`";
  ReportItem b = a;
  b.rule = "AWV001";
  b.path = "./app/my routes.py";
  b.position = {3, 5};
  b.char_column = 0;
  b.severity = Severity::warning;
  b.message = "path operation `root` is still `def`";
  report.items = {a, b};
  report.suppressed["AWV003"] = 2;
  report.skipped_files = {"legacy.py"};
  return report;
}

Json parse_or_fail(const std::string& text) {
  std::string error;
  auto json = JsonReader::parse(text, &error);
  EXPECT_TRUE(json.has_value()) << error << "\n" << text;
  return json.value_or(Json{});
}

// The properties SARIF 2.1.0 requires (and GitHub code scanning reads) on a log, its runs, tool
// driver, rules, results and their locations.
void expect_valid_sarif(const Json& log) {
  ASSERT_EQ(log.kind, Json::Kind::object);
  EXPECT_EQ(log["version"].string, "2.1.0");
  EXPECT_NE(log["$schema"].string.find("sarif"), std::string::npos);
  ASSERT_EQ(log["runs"].kind, Json::Kind::array);
  ASSERT_EQ(log["runs"].items.size(), 1u);
  const Json& run = log["runs"][0];
  const Json& driver = run["tool"]["driver"];
  EXPECT_EQ(driver["name"].string, "awaitify");
  ASSERT_EQ(driver["rules"].kind, Json::Kind::array);
  for (const Json& rule : driver["rules"].items) {
    EXPECT_FALSE(rule["id"].string.empty());
    EXPECT_FALSE(rule["shortDescription"]["text"].string.empty()) << rule["id"].string;
  }
  ASSERT_EQ(run["results"].kind, Json::Kind::array);
  for (const Json& result : run["results"].items) {
    EXPECT_FALSE(result["ruleId"].string.empty());
    const std::string& level = result["level"].string;
    EXPECT_TRUE(level == "error" || level == "warning" || level == "note" || level == "none")
        << level;
    EXPECT_FALSE(result["message"]["text"].string.empty());
    if (result.has("ruleIndex")) {
      size_t index = static_cast<size_t>(result["ruleIndex"].number);
      ASSERT_LT(index, driver["rules"].items.size());
      EXPECT_EQ(driver["rules"][index]["id"].string, result["ruleId"].string);
    }
    ASSERT_EQ(result["locations"].kind, Json::Kind::array);
    ASSERT_FALSE(result["locations"].items.empty());
    const Json& physical = result["locations"][0]["physicalLocation"];
    EXPECT_FALSE(physical["artifactLocation"]["uri"].string.empty());
    EXPECT_GE(physical["region"]["startLine"].number, 1);
    EXPECT_GE(physical["region"]["startColumn"].number, 1);
  }
}

}  // namespace

TEST(Report, SarifHasTheRequiredFields) {
  Report report = sample_report();
  report.sort();
  Json log = parse_or_fail(render_sarif(report));
  expect_valid_sarif(log);
  const Json& results = log["runs"][0]["results"];
  ASSERT_EQ(results.items.size(), 2u);
  // Sorted by path: "./app/my routes.py" first; the URI is relative, cleaned and encoded.
  const Json& first = results[0]["locations"][0]["physicalLocation"];
  EXPECT_EQ(first["artifactLocation"]["uri"].string, "app/my%20routes.py");
  EXPECT_EQ(first["artifactLocation"]["uriBaseId"].string, "%SRCROOT%");
  EXPECT_EQ(results[0]["level"].string, "warning");
  const Json& second = results[1]["locations"][0]["physicalLocation"];
  EXPECT_EQ(second["artifactLocation"]["uri"].string, "app/s%C3%A9rvice.py");
  EXPECT_EQ(second["region"]["startLine"].number, 12);
  EXPECT_EQ(second["region"]["startColumn"].number, 8);  // code points, as columnKind says
  EXPECT_EQ(log["runs"][0]["columnKind"].string, "unicodeCodePoints");
  EXPECT_EQ(results[1]["ruleId"].string, "AWV004");
  EXPECT_EQ(results[1]["level"].string, "error");
  EXPECT_NE(results[1]["message"]["text"].string.find("\"quoted\"\tand\\slashed\nnext line"),
            std::string::npos);
  EXPECT_EQ(log["runs"][0]["tool"]["driver"]["rules"].items.size(), verify_rules().size());
}

TEST(Report, SarifAbsolutePathsAreFileUrisAndErrorsAreNotifications) {
  Report report = sample_report();
  report.items.resize(1);
  report.items[0].path = "/srv/app/main.py";
  report.errors = {"broken.py:3:1: syntax error (invalid syntax)"};
  Json log = parse_or_fail(render_sarif(report));
  expect_valid_sarif(log);
  const Json& location =
      log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_EQ(location["uri"].string, "file:///srv/app/main.py");
  EXPECT_FALSE(location.has("uriBaseId"));
  const Json& invocation = log["runs"][0]["invocations"][0];
  EXPECT_FALSE(invocation["executionSuccessful"].boolean);
  EXPECT_EQ(invocation["toolExecutionNotifications"][0]["message"]["text"].string,
            report.errors[0]);
}

TEST(Report, SarifForCheckReportsFileChangesByTransform) {
  Report report;
  report.command = "check";
  report.rules = {{"AW501", "routes", "path operations become async def",
                   "awaitify apply --only AW501", Severity::warning}};
  FileStatus status;
  status.path = "app/main.py";
  status.edits = {{"AW501", 2}};
  status.added = status.removed = 2;
  status.first_changed_line = 7;
  report.file_status = {status};
  Json log = parse_or_fail(render_sarif(report));
  expect_valid_sarif(log);
  const Json& result = log["runs"][0]["results"][0];
  EXPECT_EQ(result["ruleId"].string, "AW501");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["region"]["startLine"].number, 7);
}

TEST(Report, JsonFollowsTheDocumentedSchema) {
  Report report = sample_report();
  Json json = parse_or_fail(render_json(report));
  EXPECT_EQ(json["schema"].string, "awaitify-report/1");
  EXPECT_EQ(json["tool"]["name"].string, "awaitify");
  EXPECT_EQ(json["command"].string, "verify");
  EXPECT_EQ(json["summary"]["files"].number, 3);
  EXPECT_EQ(json["summary"]["findings"].number, 2);
  EXPECT_EQ(json["summary"]["by_rule"]["AWV004"].number, 1);
  EXPECT_EQ(json["summary"]["suppressed"].number, 2);
  EXPECT_EQ(json["summary"]["suppressed_by_rule"]["AWV003"].number, 2);
  EXPECT_EQ(json["summary"]["skipped_files"][0].string, "legacy.py");
  const Json& finding = json["findings"][0];
  for (const char* key : {"rule", "path", "line", "column", "severity", "message", "hint"}) {
    EXPECT_TRUE(finding.has(key)) << key;
  }
  EXPECT_EQ(finding["message"].string, report.items[0].message);  // escapes round-trip
  EXPECT_EQ(json["rules"].items.size(), verify_rules().size());
  EXPECT_EQ(json["errors"].kind, Json::Kind::array);
}

TEST(Report, JsonForAuditAndCheckCarryTheirTables) {
  Report audit;
  audit.command = "audit";
  audit.phases = {"routes"};
  audit.planned_phases = {"db"};
  ModuleEstimate module;
  module.path = "app/main.py";
  module.items = 3;
  module.lines = {{"routes", 4}};
  audit.modules = {module};
  Json a = parse_or_fail(render_json(audit));
  EXPECT_EQ(a["modules"][0]["lines"]["routes"].number, 4);
  EXPECT_EQ(a["modules"][0]["total"].number, 4);
  EXPECT_EQ(a["modules"][0]["items"].number, 3);
  EXPECT_EQ(a["planned_phases"][0].string, "db");
  Report check;
  check.command = "check";
  FileStatus status;
  status.path = "m.py";
  status.findings = {"AWV004 at 3:5"};
  check.file_status = {status};
  Json c = parse_or_fail(render_json(check));
  EXPECT_FALSE(c["files"][0]["changes"].boolean);
  EXPECT_EQ(c["files"][0]["findings"][0].string, "AWV004 at 3:5");
  EXPECT_FALSE(c["applied"].boolean);
}

TEST(Report, TextIsColouredOnlyWhenAskedAndCountsSuppressed) {
  Report report = sample_report();
  std::string plain = render_text(report, TextOptions{false, true, true});
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  EXPECT_NE(plain.find("app/sérvice.py:12:9: AWV004 `time.sleep`"), std::string::npos) << plain;
  EXPECT_NE(plain.find("    fix: use `await asyncio.sleep(...)`"), std::string::npos);
  EXPECT_NE(plain.find("2 problems (AWV001 ×1, AWV004 ×1) in 2 files of 3; 2 suppressed (AWV003 "
                       "×2); 1 file skipped"),
            std::string::npos)
      << plain;
  std::string colored = render_text(report, TextOptions{true, true, true});
  EXPECT_NE(colored.find("\033[1;31mAWV004\033[0m"), std::string::npos) << colored;
  std::string quiet = render_text(report, TextOptions{false, false, false});
  EXPECT_EQ(quiet.find("fix:"), std::string::npos);
  EXPECT_EQ(quiet.find("awaitify verify:"), std::string::npos);
}

TEST(Report, CharColumnCountsCodePoints) {
  EXPECT_EQ(char_column("x = 1", 5), 5u);
  EXPECT_EQ(char_column("é = f()", 6), 5u);  // "é" is two bytes
  EXPECT_EQ(char_column("", 1), 1u);
}

TEST(Report, FormatsFromTheCommandLine) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir.path() / "app.py", "import time\n\n\nasync def tick():\n    time.sleep(1)\n");
  CliOutput sarif = run_awaitify(dir.path(), "verify --format sarif");
  EXPECT_EQ(sarif.status, 1) << sarif.err;
  Json log = parse_or_fail(sarif.out);
  expect_valid_sarif(log);
  EXPECT_EQ(log["runs"][0]["results"][0]["ruleId"].string, "AWV004");
  EXPECT_EQ(
      log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
          .string,
      "app.py");
  CliOutput json = run_awaitify(dir.path(), "verify --format json .");
  EXPECT_EQ(parse_or_fail(json.out)["findings"][0]["line"].number, 5);
  for (const char* command : {"audit --format json", "audit --format sarif", "check --format json",
                              "check --format sarif"}) {
    CliOutput output = run_awaitify(dir.path(), command);
    EXPECT_EQ(output.status, 1) << command << output.err;
    Json parsed = parse_or_fail(output.out);
    if (std::string(command).find("sarif") != std::string::npos) expect_valid_sarif(parsed);
  }
  CliOutput always = run_awaitify(dir.path(), "verify --color always");
  EXPECT_NE(always.out.find('\033'), std::string::npos);
  CliOutput piped = run_awaitify(dir.path(), "verify");  // stdout is a pipe: no colour
  EXPECT_EQ(piped.out.find('\033'), std::string::npos);
  EXPECT_EQ(run_awaitify(dir.path(), "verify --format xml").status, 2);
}
