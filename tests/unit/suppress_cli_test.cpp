// Suppression comments in the commands that rewrite (diff, apply, check): what they leave as it
// is, and how the summary counts it.
#include <gtest/gtest.h>

#include "report_cli.hpp"

using namespace awaitify::testing_util;

namespace {

const std::string kRoutes =
    "import time\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    "@app.get(\"/kept\")\ndef kept():  # awaitify: ignore[AW501]\n    return {}\n\n\n"
    "@app.get(\"/moved\")\ndef moved():\n    return {}\n\n\n"
    "async def poll():\n    time.sleep(1)  # awaitify: ignore[AW303]\n    time.sleep(2)  # "
    "awaitify: ignroe\n";
const std::string kLegacy =
    "# awaitify: skip-file\nfrom main import app\n\n\n@app.get(\"/old\")\ndef old():\n    return "
    "{}\n";

void write_project(const std::filesystem::path& dir) {
  write_file(dir / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir / "main.py", kRoutes);
  write_file(dir / "legacy.py", kLegacy);
}

}  // namespace

TEST(SuppressCli, DiffLeavesSuppressedCodeAndCountsItInTheSummary) {
  TempDir dir;
  write_project(dir.path());
  CliOutput diff = run_awaitify(dir.path(), "diff --color never");
  EXPECT_EQ(diff.status, 1) << diff.err;
  EXPECT_NE(diff.out.find("+async def moved():"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("+async def kept():"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("legacy.py"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("-    time.sleep(1)"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+    await asyncio.sleep(2)"), std::string::npos) << diff.out;
  EXPECT_NE(diff.err.find("; 2 suppressed (AW303 ×1, AW501 ×1); 1 file skipped"), std::string::npos)
      << diff.err;
  EXPECT_NE(diff.err.find("warning: main.py:20: # awaitify: ignroe (not an awaitify directive)"),
            std::string::npos)
      << diff.err;
}

TEST(SuppressCli, ApplyWritesNothingSuppressedAndCheckCountsTheSame) {
  TempDir dir;
  write_project(dir.path());
  CliOutput check = run_awaitify(dir.path(), "check --only AW501,AW303");
  EXPECT_EQ(check.status, 1) << check.err;
  EXPECT_NE(check.out.find("2 suppressed (AW303 ×1, AW501 ×1); 1 file skipped"), std::string::npos)
      << check.out;
  CliOutput apply = run_awaitify(dir.path(), "apply");
  EXPECT_EQ(apply.status, 0) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "legacy.py"), kLegacy);
  std::string main = read_file(dir.path() / "main.py");
  EXPECT_NE(main.find("def kept():  # awaitify: ignore[AW501]"), std::string::npos) << main;
  EXPECT_EQ(main.find("async def kept"), std::string::npos) << main;
  EXPECT_NE(main.find("    time.sleep(1)  # awaitify: ignore[AW303]\n"), std::string::npos) << main;
  EXPECT_NE(main.find("import time\n"), std::string::npos) << main;  // the ignored line uses it
  CliOutput again = run_awaitify(dir.path(), "diff");
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.err.find("2 suppressed (AW303 ×1, AW501 ×1); 1 file skipped"), std::string::npos)
      << again.err;
}

TEST(SuppressCli, StdinHonoursSkipFile) {
  TempDir dir;
  write_file(dir.path() / "in.py", kLegacy);
  CliOutput out = run_awaitify(dir.path(), "apply - < in.py");
  EXPECT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(out.out, kLegacy);
}
