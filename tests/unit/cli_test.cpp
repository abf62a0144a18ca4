// The command line as users run it: exit codes, diff that git apply accepts, apply that keeps
// file properties, and one-line errors for bad input that leave every file as it was.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>

#include "test_util.hpp"

using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs the binary in dir with a shell command line of arguments.
Output run_cli(const fs::path& dir, const std::string& arguments, const std::string& stdin_text = "") {
  fs::path err_file = dir / ".stderr";
  std::string command = "cd '" + dir.string() + "' && " + std::string(AWAITIFY_BINARY) + " " +
                        arguments + " 2>'" + err_file.string() + "'";
  if (!stdin_text.empty()) {
    write_file(dir / ".stdin", stdin_text);
    command += " < '" + (dir / ".stdin").string() + "'";
  }
  Output output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.out.append(buffer, n);
  int status = ::pclose(pipe);
  output.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  output.err = read_file(err_file);
  fs::remove(err_file);
  fs::remove(dir / ".stdin");
  return output;
}

const std::string kApp =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/\")\ndef root():\n"
    "    return {\"ok\": True}\n\n\n@app.middleware(\"http\")\ndef timing(request, call_next):\n"
    "    response = call_next(request)\n    return response\n";
const std::string kAppAfter =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/\")\nasync def root():\n"
    "    return {\"ok\": True}\n\n\n@app.middleware(\"http\")\nasync def timing(request, call_next):\n"
    "    response = await call_next(request)\n    return response\n";

std::string with_crlf(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return out;
}

}  // namespace

TEST(Cli, ListShowsEveryPhaseInOrderWithPlannedMarked) {
  TempDir dir;
  Output output = run_cli(dir.path(), "list");
  EXPECT_EQ(output.status, 0);
  size_t last = 0;
  for (const char* phase : {"db", "http", "files", "services", "routes", "middleware", "lifespan", "tests"}) {
    size_t at = output.out.find("\n" + std::string(phase) + " ");
    if (std::string(phase) == "db") at = output.out.find("db ");
    ASSERT_NE(at, std::string::npos) << phase;
    EXPECT_GE(at, last) << phase << " out of order";
    last = at;
  }
  EXPECT_EQ(output.out.find("db (planned)"), std::string::npos);
  EXPECT_NE(output.out.find("AW501  ready"), std::string::npos);
  EXPECT_NE(output.out.find("AW101  ready"), std::string::npos);
  EXPECT_NE(output.out.find("AW502  planned"), std::string::npos);
}

TEST(Cli, ExplainKnownAndUnknownIds) {
  TempDir dir;
  EXPECT_NE(run_cli(dir.path(), "explain AW501").out.find("Before:"), std::string::npos);
  Output unknown = run_cli(dir.path(), "explain AW999");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.err, "awaitify: error: unknown transform ID 'AW999' (see 'awaitify list')\n");
}

TEST(Cli, DiffExitCodesAndGitApplyAcceptsIt) {
  TempDir dir;
  write_file(dir.path() / "app/main.py", kApp);
  Output diff = run_cli(dir.path(), "diff");
  EXPECT_EQ(diff.status, 1);
  EXPECT_EQ(diff.out.rfind("--- a/app/main.py\n+++ b/app/main.py\n@@ ", 0), 0u) << diff.out;
  EXPECT_NE(diff.err.find("1 would change"), std::string::npos) << diff.err;
  EXPECT_EQ(read_file(dir.path() / "app/main.py"), kApp);  // a dry run writes nothing
  write_file(dir.path() / "change.diff", diff.out);
  ASSERT_EQ(std::system(("cd '" + dir.path().string() + "' && git apply change.diff").c_str()), 0);
  EXPECT_EQ(read_file(dir.path() / "app/main.py"), kAppAfter);
  Output again = run_cli(dir.path(), "diff app");
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(again.out, "");
}

TEST(Cli, ApplyWritesTheSameChangeKeepingModeCrlfBomAndFinalNewline) {
  TempDir dir;
  write_file(dir.path() / "crlf.py", with_crlf(kApp));
  write_file(dir.path() / "bom.py", "\xEF\xBB\xBF" + kApp);
  std::string no_newline = kApp.substr(0, kApp.size() - 1);
  write_file(dir.path() / "tail.py", no_newline);
  ::chmod((dir.path() / "crlf.py").c_str(), 0751);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 0) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "crlf.py"), with_crlf(kAppAfter));
  EXPECT_EQ(read_file(dir.path() / "bom.py"), "\xEF\xBB\xBF" + kAppAfter);
  EXPECT_EQ(read_file(dir.path() / "tail.py"), kAppAfter.substr(0, kAppAfter.size() - 1));
  struct stat info {};
  ::stat((dir.path() / "crlf.py").c_str(), &info);
  EXPECT_EQ(info.st_mode & 0777, 0751u);
  EXPECT_EQ(run_cli(dir.path(), "diff .").status, 0);  // idempotent
}

TEST(Cli, PhaseOnlyAndSkipSelectTransforms) {
  TempDir dir;
  write_file(dir.path() / "m.py", kApp);
  Output middleware = run_cli(dir.path(), "diff --phase middleware m.py");
  EXPECT_EQ(middleware.out.find("async def root"), std::string::npos);
  EXPECT_NE(middleware.out.find("+async def timing"), std::string::npos);
  Output only = run_cli(dir.path(), "diff --only AW501 m.py");
  EXPECT_NE(only.out.find("+async def root"), std::string::npos);
  EXPECT_EQ(only.out.find("async def timing"), std::string::npos);
  Output skip = run_cli(dir.path(), "diff --skip AW501,AW601 m.py");
  EXPECT_EQ(skip.status, 0);
  Output planned = run_cli(dir.path(), "diff --phase db m.py");
  EXPECT_EQ(planned.status, 0);
  EXPECT_EQ(planned.out, "");
}

TEST(Cli, JobsDoNotChangeTheResult) {
  TempDir dir;
  for (int i = 0; i < 20; ++i) write_file(dir.path() / ("m" + std::to_string(i) + ".py"), kApp);
  EXPECT_EQ(run_cli(dir.path(), "diff --jobs 1").out, run_cli(dir.path(), "diff --jobs 4").out);
}

TEST(Cli, QuietAndVerbose) {
  TempDir dir;
  write_file(dir.path() / "m.py", kApp);
  EXPECT_EQ(run_cli(dir.path(), "diff -q m.py").err, "");
  EXPECT_NE(run_cli(dir.path(), "diff -v m.py").err.find("Python files"), std::string::npos);
}

TEST(Cli, StdinWritesTheResultToStdout) {
  TempDir dir;
  Output output = run_cli(dir.path(), "apply -", kApp);
  EXPECT_EQ(output.status, 0);
  EXPECT_EQ(output.out, kAppAfter);
}

TEST(Cli, UsageAndPathErrorsAreOneLineAndChangeNothing) {
  TempDir dir;
  write_file(dir.path() / "m.py", kApp);
  write_file(dir.path() / "docs/readme.txt", "");
  struct Case {
    std::string arguments;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"apply nope m.py", "awaitify: error: nope: no such file or directory\n"},
           {"apply docs", "awaitify: error: docs: no Python files found\n"},
           {"apply --phase dbx m.py", "awaitify: error: unknown phase 'dbx' (see 'awaitify list')\n"},
           {"apply --only AW999 m.py", "awaitify: error: unknown transform ID 'AW999' (see 'awaitify list')\n"},
       }) {
    Output output = run_cli(dir.path(), c.arguments);
    EXPECT_EQ(output.status, 2) << c.arguments;
    EXPECT_EQ(output.err, c.error) << c.arguments;
    EXPECT_EQ(read_file(dir.path() / "m.py"), kApp) << c.arguments;
  }
  EXPECT_EQ(run_cli(dir.path(), "apply --bogus").status, 2);
  EXPECT_EQ(read_file(dir.path() / "m.py"), kApp);
}

TEST(Cli, BadFilesAreReportedAndLeftWhileOthersAreProcessed) {
  TempDir dir;
  write_file(dir.path() / "good.py", kApp);
  std::string broken = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\ndef f(:\n    pass\n";
  std::string latin1 = "x = '\xE9'\n";
  write_file(dir.path() / "broken.py", broken);
  write_file(dir.path() / "latin1.py", latin1);
  Output output = run_cli(dir.path(), "apply .");
  EXPECT_EQ(output.status, 2);
  EXPECT_NE(output.err.find("awaitify: error: broken.py:4:7: syntax error"), std::string::npos) << output.err;
  EXPECT_NE(output.err.find("awaitify: error: latin1.py:1:6: not valid UTF-8"), std::string::npos) << output.err;
  EXPECT_EQ(read_file(dir.path() / "broken.py"), broken);
  EXPECT_EQ(read_file(dir.path() / "latin1.py"), latin1);
  EXPECT_EQ(read_file(dir.path() / "good.py"), kAppAfter);
}

// diff and apply read [tool.awaitify] as audit/verify/check do: phases, skip and exclude apply
// unless the command line says otherwise.
TEST(Cli, DiffAndApplyFollowThePyprojectConfiguration) {
  TempDir dir;
  write_file(dir.path() / "app/main.py", kApp);
  write_file(dir.path() / "app/legacy.py", kApp);
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nphases = [\"routes\"]\nexclude = [\"app/legacy.py\"]\n");
  Output diff = run_cli(dir.path(), "diff");
  EXPECT_EQ(diff.status, 1) << diff.err;
  EXPECT_NE(diff.out.find("+async def root():"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("async def timing"), std::string::npos) << "middleware is not a configured phase";
  EXPECT_EQ(diff.out.find("legacy.py"), std::string::npos) << "legacy.py is excluded";
  Output flag = run_cli(dir.path(), "diff --phase middleware");
  EXPECT_NE(flag.out.find("+async def timing"), std::string::npos) << "the command line wins";
  EXPECT_EQ(flag.out.find("+async def root():"), std::string::npos);
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphasez = [\"routes\"]\n");
  Output bad = run_cli(dir.path(), "apply");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("phasez"), std::string::npos) << bad.err;
  EXPECT_EQ(read_file(dir.path() / "app/main.py"), kApp);
}

// --drop-sync, or `drop-sync = true` in [tool.awaitify], removes the sync provider once the
// run migrates its last user; without either it stays.
TEST(Cli, DropSyncFromTheFlagOrThePyprojectConfiguration) {
  TempDir dir;
  write_file(dir.path() / "app/__init__.py", "");
  write_file(dir.path() / "app/database.py",
             "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
             "engine = create_engine(\"sqlite:///./app.db\")\nSessionLocal = sessionmaker(bind=engine)\n\n\n"
             "def get_db():\n    with SessionLocal() as db:\n        yield db\n");
  write_file(dir.path() / "app/main.py",
             "from fastapi import Depends, FastAPI\nfrom sqlalchemy.orm import Session\n\n"
             "from .database import get_db\n\napp = FastAPI()\n\n\n@app.post(\"/\")\n"
             "def save(db: Session = Depends(get_db)):\n    db.commit()\n");
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphases = [\"db\"]\n");
  Output kept = run_cli(dir.path(), "diff");
  EXPECT_EQ(kept.status, 1) << kept.err;
  EXPECT_EQ(kept.out.find("-def get_db():"), std::string::npos) << kept.out;
  Output flag = run_cli(dir.path(), "diff --drop-sync");
  EXPECT_NE(flag.out.find("-def get_db():"), std::string::npos) << flag.out;
  EXPECT_NE(flag.out.find("-engine = create_engine("), std::string::npos) << flag.out;
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphases = [\"db\"]\ndrop-sync = true\n");
  EXPECT_EQ(run_cli(dir.path(), "diff").out, flag.out);
  // A later run drops what an earlier one left beside the async stack.
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphases = [\"db\"]\n");
  EXPECT_EQ(run_cli(dir.path(), "apply").status, 0);
  EXPECT_NE(read_file(dir.path() / "app/database.py").find("def get_db():"), std::string::npos);
  Output later = run_cli(dir.path(), "apply --drop-sync");
  EXPECT_EQ(later.status, 0) << later.err;
  std::string database = read_file(dir.path() / "app/database.py");
  EXPECT_EQ(database.find("def get_db():"), std::string::npos) << database;
  EXPECT_EQ(database.find("create_engine("), std::string::npos) << database;
  EXPECT_NE(database.find("async def get_session():"), std::string::npos) << database;
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\ndrop-sync = \"yes\"\n");
  Output bad = run_cli(dir.path(), "diff");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("'drop-sync' must be true or false"), std::string::npos) << bad.err;
}

// --aiofiles-os, or `aiofiles-os = true` in [tool.awaitify], moves os.path/os calls of async
// code to aiofiles.os; without either they stay.
TEST(Cli, AiofilesOsFromTheFlagOrThePyprojectConfiguration) {
  TempDir dir;
  write_file(dir.path() / "app.py",
             "import os\n\n\nasync def drop(path: str) -> None:\n    if os.path.exists(path):\n"
             "        os.remove(path)\n");
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphases = [\"files\"]\n");
  Output kept = run_cli(dir.path(), "diff");
  EXPECT_EQ(kept.status, 0) << kept.err;
  EXPECT_EQ(kept.out, "");
  Output flag = run_cli(dir.path(), "diff --aiofiles-os");
  EXPECT_EQ(flag.status, 1) << flag.err;
  EXPECT_NE(flag.out.find("+    if await aiofiles.os.path.exists(path):"), std::string::npos)
      << flag.out;
  EXPECT_NE(flag.out.find("+        await aiofiles.os.remove(path)"), std::string::npos) << flag.out;
  EXPECT_NE(flag.out.find("+import aiofiles.os"), std::string::npos) << flag.out;
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nphases = [\"files\"]\naiofiles-os = true\n");
  EXPECT_EQ(run_cli(dir.path(), "diff").out, flag.out);
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\naiofiles-os = 1\n");
  Output bad = run_cli(dir.path(), "diff");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("'aiofiles-os' must be true or false"), std::string::npos) << bad.err;
}
