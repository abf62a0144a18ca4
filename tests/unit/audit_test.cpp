// audit: the checklist groups with counts, the per-module estimate (each phase run alone in
// memory), and exit codes.
#include "awaitify/audit.hpp"

#include <gtest/gtest.h>

#include "awaitify/verify.hpp"
#include "json_reader.hpp"
#include "report_cli.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

const std::string kSyncApp =
    "import requests\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef "
    "root():\n"
    "    return {'ok': True}\n\n\n@app.get('/up')\ndef upstream():\n    return "
    "requests.get('https://example.com').json()\n";
const std::string kAsyncApp =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def root():\n    "
    "return {'ok': True}\n";

}  // namespace

TEST(Audit, ChangedLinesCountsAddedAndRemoved) {
  EXPECT_EQ(changed_lines("m.py", "a\nb\nc\n", "a\nB\nc\nd\n"), std::make_pair(2, 1));
  EXPECT_EQ(changed_lines("m.py", "same\n", "same\n"), std::make_pair(0, 0));
}

TEST(Audit, EstimateRunsEachWrittenPhaseAloneAndListsPlannedOnes) {
  TempDir dir;
  write_file(dir.path() / "main.py", kSyncApp);
  fs::path saved = fs::current_path();
  fs::current_path(dir.path());
  std::vector<std::string> files{"main.py"};
  ProjectView view = ProjectView::load(files, files, 1);
  Report report = audit(view);
  estimate_phases(report, files, EstimateOptions{{}, files, 1, true, {}});
  fs::current_path(saved);
  // root becomes async (one line out, one in); upstream blocks on requests and stays sync.
  ASSERT_EQ(report.modules.size(), 1u);
  EXPECT_EQ(report.modules[0].path, "main.py");
  EXPECT_EQ(report.modules[0].lines.at("routes"), 2);
  EXPECT_EQ(report.modules[0].items, 3);  // two sync handlers, one requests call
  EXPECT_NE(std::find(report.phases.begin(), report.phases.end(), "routes"), report.phases.end());
  for (const std::string& phase : report.planned_phases) {
    EXPECT_EQ(std::find(report.phases.begin(), report.phases.end(), phase), report.phases.end())
        << phase;
  }
  EXPECT_EQ(report.phases.size() + report.planned_phases.size(), phase_table().size());
}

TEST(Audit, EstimateCanBeLimitedToPhases) {
  TempDir dir;
  write_file(dir.path() / "main.py", kSyncApp);
  fs::path saved = fs::current_path();
  fs::current_path(dir.path());
  std::vector<std::string> files{"main.py"};
  ProjectView view = ProjectView::load(files, files, 1);
  Report report = audit(view);
  estimate_phases(report, files, EstimateOptions{{"middleware"}, files, 1, true, {}});
  fs::current_path(saved);
  EXPECT_EQ(report.phases, std::vector<std::string>{"middleware"});
  EXPECT_EQ(report.modules[0].total(), 0);
}

TEST(AuditCli, GroupsCountsTableAndExitCodes) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir.path() / "app/main.py", kSyncApp);
  CliOutput output = run_awaitify(dir.path(), "audit");
  EXPECT_EQ(output.status, 1) << output.err;
  EXPECT_NE(output.out.find(
                "Sync route handlers (AWA001): 2\n  app/main.py:8:5: path operation `root`\n"),
            std::string::npos)
      << output.out;
  EXPECT_NE(output.out.find("requests calls (AWA004): 1\n  app/main.py:14:12: `requests.get`"),
            std::string::npos)
      << output.out;
  EXPECT_NE(
      output.out.find(
          "Threads and processes (threading, multiprocessing, concurrent.futures) (AWA007): 0\n"),
      std::string::npos);
  EXPECT_NE(output.out.find("Per module:"), std::string::npos);
  EXPECT_NE(output.out.find("app/main.py      3"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("awaitify audit: 3 items still sync in 1 file of 1"), std::string::npos)
      << output.out;
  Json json = JsonReader::parse(run_awaitify(dir.path(), "audit --format json").out, nullptr)
                  .value_or(Json{});
  EXPECT_EQ(json["summary"]["by_rule"]["AWA001"].number, 2);
  EXPECT_EQ(json["modules"][0]["lines"]["routes"].number, 2);
  CliOutput no_table = run_awaitify(dir.path(), "audit --no-estimate");
  EXPECT_EQ(no_table.out.find("Per module:"), std::string::npos);

  write_file(dir.path() / "app/main.py", kAsyncApp);
  CliOutput clean = run_awaitify(dir.path(), "audit");
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_NE(clean.out.find("awaitify audit: nothing sync left in 1 file"), std::string::npos)
      << clean.out;
  EXPECT_EQ(run_awaitify(dir.path(), "audit missing/").status, 2);
}

// audit and verify over a whole project keep no trees (their size is many times the project's):
// each file is parsed when its rules run, with the same findings as from a view that kept them.
TEST(Audit, AViewWithoutTreesReportsWhatAViewWithTreesDoes) {
  TempDir dir;
  write_file(dir.path() / "main.py", kSyncApp);
  write_file(dir.path() / "other.py",
             "import time\n\nfrom main import app\n\n\n@app.get('/slow')\nasync def slow():\n"
             "    time.sleep(1)\n");
  fs::path saved = fs::current_path();
  fs::current_path(dir.path());
  std::vector<std::string> files{"main.py", "other.py"};
  ProjectView kept = ProjectView::load(files, files, 1);
  ProjectView parsed_later = ProjectView::load(files, files, 1, nullptr, /*keep_trees=*/false);
  fs::current_path(saved);
  ASSERT_TRUE(kept.files()[0].tree);
  EXPECT_FALSE(parsed_later.files()[0].tree);
  auto summary = [](const Report& report) {
    std::vector<std::string> lines;
    for (const ReportItem& item : report.items)
      lines.push_back(item.rule + " " + item.path + ":" + std::to_string(item.position.line));
    return lines;
  };
  std::vector<std::string> audited = summary(audit(kept));
  EXPECT_EQ(audited.size(), 4u);  // two sync handlers, a requests call, a time.sleep
  EXPECT_EQ(audited, summary(audit(parsed_later)));
  std::vector<std::string> verified = summary(verify(kept, VerifyOptions{}));
  EXPECT_FALSE(verified.empty());
  EXPECT_EQ(verified, summary(verify(parsed_later, VerifyOptions{})));
}
