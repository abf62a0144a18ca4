// apply --interactive: one change set at a time, answers read line by line from stdin, and only
// the accepted sets written, each whole.
#include <gtest/gtest.h>

#include "awaitify/engine.hpp"
#include "report_cli.hpp"

using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

// A route that calls a service that calls a helper the files phase makes async (one set), and
// an independent route (another set).
const std::string kHelpers =
    "import time\n\n\ndef slow_total(n):\n    time.sleep(0.1)\n    return n * 2\n";
const std::string kServices =
    "from app.helpers import slow_total\n\n\ndef compute(n):\n    return slow_total(n) + 1\n";
const std::string kMain =
    "from fastapi import FastAPI\n\nfrom app.services import compute\n\napp = FastAPI()\n\n\n"
    "@app.get(\"/total/{n}\")\ndef total(n: int):\n    return {\"total\": compute(n)}\n\n\n"
    "@app.get(\"/health\")\ndef health():\n    return {\"ok\": True}\n";

void write_project(const fs::path& dir) {
  write_file(dir / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir / "app" / "__init__.py", "");
  write_file(dir / "app" / "helpers.py", kHelpers);
  write_file(dir / "app" / "services.py", kServices);
  write_file(dir / "app" / "main.py", kMain);
}

// `apply --interactive` with `answers` piped to it (printf's format, so "y\nn\n").
CliOutput answer(const fs::path& dir, const std::string& answers,
                 const std::string& arguments = "") {
  return run_awaitify(dir,
                      "printf '" + answers + "' | '" + std::string(AWAITIFY_BINARY) +
                          "' apply --interactive --color never " + arguments,
                      true);
}

std::string file(const fs::path& dir, const std::string& name) {
  return read_file(dir / "app" / name);
}

size_t count(const std::string& text, const std::string& part) {
  size_t found = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++found;
  return found;
}

void expect_parses(const fs::path& dir) {
  for (const char* name : {"helpers.py", "services.py", "main.py"}) {
    auto facts = awaitify::facts_for(awaitify::SourceFile(name, file(dir, name)));
    EXPECT_TRUE(facts.ok()) << name << ": " << (facts.ok() ? "" : facts.error().message);
  }
}

void expect_route_chain_async(const fs::path& dir) {
  EXPECT_NE(file(dir, "helpers.py").find("async def slow_total(n):\n    await asyncio.sleep(0.1)"),
            std::string::npos)
      << file(dir, "helpers.py");
  EXPECT_NE(file(dir, "services.py").find("async def compute(n):\n    return await slow_total(n)"),
            std::string::npos)
      << file(dir, "services.py");
  EXPECT_NE(file(dir, "main.py")
                .find("async def total(n: int):\n    return {\"total\": await "
                      "compute(n)}"),
            std::string::npos)
      << file(dir, "main.py");
}

}  // namespace

TEST(InteractiveCli, AcceptingEverySetWritesWhatApplyWrites) {
  TempDir plain, each, all;
  for (const TempDir* dir : {&plain, &each, &all}) write_project(dir->path());
  CliOutput applied = run_awaitify(plain.path(), "apply");
  ASSERT_EQ(applied.status, 0) << applied.err;
  CliOutput yes = answer(each.path(), "y\\ny\\n");
  EXPECT_EQ(yes.status, 0) << yes.err;
  CliOutput everything = answer(all.path(), "a\\n");
  EXPECT_EQ(everything.status, 0) << everything.err;
  EXPECT_EQ(count(everything.out, "Apply this change set?"), 1u) << everything.out;
  expect_route_chain_async(plain.path());
  for (const char* name : {"helpers.py", "services.py", "main.py"}) {
    EXPECT_EQ(file(each.path(), name), file(plain.path(), name)) << name;
    EXPECT_EQ(file(all.path(), name), file(plain.path(), name)) << name;
  }
  expect_route_chain_async(each.path());
  EXPECT_NE(yes.err.find("2 of 2 change sets applied, 0 rejected"), std::string::npos) << yes.err;
  EXPECT_NE(everything.err.find("2 of 2 change sets applied, 0 rejected"), std::string::npos)
      << everything.err;
}

TEST(InteractiveCli, ShowsEachSetWithItsFunctionsFilesAndOnlyItsOwnDiff) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "y\\ny\\n");
  ASSERT_EQ(output.status, 0) << output.err;
  size_t first = output.out.find(
      "change set 1 of 2: makes async app.helpers.slow_total, "
      "app.main.total, app.services.compute\n");
  size_t second = output.out.find("change set 2 of 2: makes async app.main.health\n");
  ASSERT_NE(first, std::string::npos) << output.out;
  ASSERT_NE(second, std::string::npos) << output.out;
  std::string first_set = output.out.substr(first, second - first);
  std::string second_set = output.out.substr(second);
  EXPECT_NE(first_set.find("files: app/helpers.py, app/main.py, app/services.py"),
            std::string::npos)
      << first_set;
  EXPECT_NE(first_set.find("+    await asyncio.sleep(0.1)"), std::string::npos) << first_set;
  EXPECT_EQ(first_set.find("async def health"), std::string::npos) << first_set;
  // Relative to what is accepted: the second set shows its own change, not the first one again.
  EXPECT_NE(second_set.find("+async def health():"), std::string::npos) << second_set;
  EXPECT_EQ(second_set.find("slow_total"), std::string::npos) << second_set;
  EXPECT_EQ(second_set.find("compute"), std::string::npos) << second_set;
}

TEST(InteractiveCli, RejectingTheChainLeavesItsFunctionsAndCallersAsTheyAre) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "n\\ny\\n");
  EXPECT_EQ(output.status, 0) << output.err;
  EXPECT_EQ(file(dir.path(), "helpers.py"), kHelpers);
  EXPECT_EQ(file(dir.path(), "services.py"), kServices);
  std::string main = file(dir.path(), "main.py");
  EXPECT_NE(main.find("\ndef total(n: int):\n    return {\"total\": compute(n)}"),
            std::string::npos)
      << main;
  EXPECT_NE(main.find("async def health():"), std::string::npos) << main;
  EXPECT_NE(output.err.find("1 of 2 change sets applied, 1 rejected"), std::string::npos)
      << output.err;
  expect_parses(dir.path());
}

TEST(InteractiveCli, AnAcceptedChainIsWholeAndTheRejectedRouteStaysSync) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "y\\nn\\n");
  EXPECT_EQ(output.status, 0) << output.err;
  expect_route_chain_async(dir.path());
  EXPECT_NE(file(dir.path(), "helpers.py").find("import asyncio"), std::string::npos);
  EXPECT_NE(file(dir.path(), "main.py").find("\ndef health():"), std::string::npos);
  expect_parses(dir.path());
}

TEST(InteractiveCli, QuitAfterTheFirstSetWritesOnlyWhatWasAccepted) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "y\\nq\\n");
  EXPECT_EQ(output.status, 0) << output.err;
  expect_route_chain_async(dir.path());
  EXPECT_NE(file(dir.path(), "main.py").find("\ndef health():"), std::string::npos);
  EXPECT_NE(output.err.find("1 of 2 change sets applied, 1 rejected (the review stopped early: "
                            "only the sets accepted were written)"),
            std::string::npos)
      << output.err;
}

TEST(InteractiveCli, QuitOrEndOfInputBeforeAnyAnswerWritesNothing) {
  for (const char* answers : {"q\\n", ""}) {
    TempDir dir;
    write_project(dir.path());
    CliOutput output = answer(dir.path(), answers);
    EXPECT_EQ(output.status, 0) << output.err;
    EXPECT_EQ(file(dir.path(), "helpers.py"), kHelpers) << answers;
    EXPECT_EQ(file(dir.path(), "services.py"), kServices) << answers;
    EXPECT_EQ(file(dir.path(), "main.py"), kMain) << answers;
    EXPECT_NE(output.err.find("0 of 2 change sets applied, 2 rejected (the review stopped early: "
                              "nothing written)"),
              std::string::npos)
        << output.err;
  }
}

TEST(InteractiveCli, EndOfInputAfterTheFirstSetRejectsTheRest) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "y\\n");
  EXPECT_EQ(output.status, 0) << output.err;
  expect_route_chain_async(dir.path());
  EXPECT_NE(file(dir.path(), "main.py").find("\ndef health():"), std::string::npos);
  EXPECT_NE(output.err.find("only the sets accepted were written"), std::string::npos)
      << output.err;
}

TEST(InteractiveCli, BadInputAsksAgain) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = answer(dir.path(), "maybe\\n\\nn\\nY\\n");
  EXPECT_EQ(output.status, 0) << output.err;
  EXPECT_EQ(count(output.out, "Apply this change set?"), 4u) << output.out;
  EXPECT_EQ(count(output.out, "Please answer y"), 2u) << output.out;
  EXPECT_EQ(file(dir.path(), "helpers.py"), kHelpers);
  EXPECT_NE(file(dir.path(), "main.py").find("async def health():"), std::string::npos);
}

TEST(InteractiveCli, WorksWithOnlyAndPaths) {
  TempDir dir;
  write_project(dir.path());
  // AW501 alone: the route that reaches time.sleep stays sync, so one set is left.
  CliOutput output = answer(dir.path(), "y\\n", "--only AW501 app/main.py");
  EXPECT_EQ(output.status, 0) << output.err;
  EXPECT_NE(output.out.find("change set 1 of 1: makes async app.main.health"), std::string::npos)
      << output.out;
  EXPECT_NE(file(dir.path(), "main.py").find("async def health():"), std::string::npos);
  EXPECT_EQ(file(dir.path(), "helpers.py"), kHelpers);
}

TEST(InteractiveCli, StdinAsTheSourceIsAUsageError) {
  TempDir dir;
  write_project(dir.path());
  CliOutput output = run_awaitify(dir.path(), "apply --interactive - < app/main.py");
  EXPECT_EQ(output.status, 2);
  EXPECT_NE(output.err.find("--interactive reads its answers on stdin"), std::string::npos)
      << output.err;
}

TEST(InteractiveCli, TheTestsOfOneClientAreOneSet) {
  TempDir dir;
  write_project(dir.path());
  const std::string tests =
      "from fastapi.testclient import TestClient\n\nfrom app.main import app\n\n"
      "client = TestClient(app)\n\n\ndef test_one():\n    assert "
      "client.get(\"/health\").status_code "
      "== 200\n\n\ndef test_two():\n    assert client.get(\"/health\").status_code == 200\n";
  write_file(dir.path() / "tests" / "test_health.py", tests);
  // The client converts only when both tests are async: rejecting one alone cannot be offered.
  CliOutput output = answer(dir.path(), "y\\n", "--phase tests");
  EXPECT_EQ(output.status, 0) << output.err;
  EXPECT_NE(output.out.find("change set 1 of 1: makes async test_health.test_one, "
                            "test_health.test_two\n"),
            std::string::npos)
      << output.out;
  std::string written = read_file(dir.path() / "tests" / "test_health.py");
  EXPECT_EQ(count(written, "async def test_"), 2u) << written;
  EXPECT_EQ(count(written, "await client.get("), 2u) << written;
}

TEST(InteractiveCli, AFileEditedDuringTheReviewMeansNothingIsWritten) {
  TempDir dir;
  write_project(dir.path());
  // Once the first question is out, main.py changes on disk, then every set is accepted.
  write_file(dir.path() / "feed.sh",
             "for i in $(seq 200); do grep -q 'Apply this' .review && break; sleep 0.05; done\n"
             "printf '\\n# edited\\n' >> app/main.py\nprintf 'y\\ny\\n'\n");
  std::string feed = "sh feed.sh | '" + std::string(AWAITIFY_BINARY) +
                     "' apply --interactive --color never > .review";
  CliOutput output = run_awaitify(dir.path(), feed, true);
  EXPECT_EQ(output.status, 2) << output.err;
  EXPECT_NE(output.err.find("app/main.py changed on disk during the review; nothing written"),
            std::string::npos)
      << output.err;
  EXPECT_EQ(file(dir.path(), "helpers.py"), kHelpers);
  EXPECT_EQ(file(dir.path(), "services.py"), kServices);
  EXPECT_EQ(file(dir.path(), "main.py"), kMain + "\n# edited\n");
}
