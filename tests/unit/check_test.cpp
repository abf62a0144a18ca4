// check for pre-commit and CI: exit codes, one line per file, --diff, --apply, skip-file, and the
// hooks of .pre-commit-hooks.yaml run as pre-commit runs them. pre-commit itself comes from PyPI,
// which this machine cannot reach, so the test emulates its calling convention: the hook's
// `entry`, then its `args`, then the staged files that match `types: [python]`, in one
// invocation (require_serial), from the repository root.
#include <gtest/gtest.h>

#include <sstream>

#include "report_cli.hpp"

using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

const std::string kRoute =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef root():\n    return "
    "{'ok': True}\n";
const std::string kRouteAfter =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def root():\n    "
    "return {'ok': True}\n";

struct Hook {
  std::string id, entry, language;
  std::vector<std::string> args, types;
  bool require_serial = false;
};

std::vector<std::string> flow_list(std::string value) {
  std::vector<std::string> items;
  value = value.substr(value.find('[') + 1, value.rfind(']') - value.find('[') - 1);
  std::istringstream parts(value);
  for (std::string item; std::getline(parts, item, ',');) {
    size_t a = item.find_first_not_of(" \"'"), b = item.find_last_not_of(" \"'");
    if (a != std::string::npos) items.push_back(item.substr(a, b - a + 1));
  }
  return items;
}

// The hooks of .pre-commit-hooks.yaml (a list of flat mappings, as that file always is).
std::vector<Hook> read_hooks() {
  std::istringstream lines(
      read_file(fs::path(AWAITIFY_FIXTURES).parent_path() / ".pre-commit-hooks.yaml"));
  std::vector<Hook> hooks;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("- ", 0) == 0) {
      hooks.emplace_back();
      line = "  " + line.substr(2);
    }
    size_t colon = line.find(':');
    if (hooks.empty() || colon == std::string::npos) continue;
    std::string key = line.substr(line.find_first_not_of(' '), colon - line.find_first_not_of(' '));
    std::string value = line.substr(line.find_first_not_of(' ', colon + 1));
    Hook& hook = hooks.back();
    if (key == "id")
      hook.id = value;
    else if (key == "entry")
      hook.entry = value;
    else if (key == "language")
      hook.language = value;
    else if (key == "args")
      hook.args = flow_list(value);
    else if (key == "types")
      hook.types = flow_list(value);
    else if (key == "require_serial")
      hook.require_serial = value == "true";
  }
  return hooks;
}

std::string sh(const fs::path& dir, const std::string& command) {
  std::string full = "cd '" + dir.string() + "' && " + command;
  FILE* pipe = ::popen(full.c_str(), "r");
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return out;
}

// pre-commit's file list: staged files (added, copied, modified, renamed), filtered by types.
std::vector<std::string> staged_python_files(const fs::path& repo) {
  std::istringstream lines(
      sh(repo, "git diff --staged --name-only --no-ext-diff --diff-filter=ACMRTUXB"));
  std::vector<std::string> files;
  for (std::string file; std::getline(lines, file);) {
    if (file.size() > 3 && file.compare(file.size() - 3, 3, ".py") == 0) files.push_back(file);
  }
  return files;
}

CliOutput run_hook(const fs::path& repo, const Hook& hook, const std::vector<std::string>& files) {
  std::string command = hook.entry;
  for (const std::string& arg : hook.args) command += " '" + arg + "'";
  for (const std::string& file : files) command += " '" + file + "'";
  return run_awaitify(repo, command, /*raw=*/true);
}

fs::path make_repo(const TempDir& dir) {
  fs::path repo = dir.path() / "repo";
  write_file(repo / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(repo / "app/__init__.py", "");
  write_file(repo / "app/main.py", kRoute);
  write_file(repo / "app/other.py", kRoute);
  sh(repo,
     "git init -q . && git config user.email t@example.com && git config user.name t && "
     "git add -A && git commit -qm init");
  return repo;
}

}  // namespace

TEST(CheckCli, OneLinePerFileDiffAndExitCodes) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir.path() / "main.py", kRoute);
  // A blocking call no phase migrates: verify reports it, no transform changes it.
  write_file(dir.path() / "tick.py",
             "import subprocess\n\n\nasync def tick():\n    subprocess.run(['true'])\n");
  CliOutput output = run_awaitify(dir.path(), "check");
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out,
            "main.py: would change (AW501 ×1; +1 -1 lines); verify: AWV001 at 7:5\n"
            "tick.py: verify: AWV004 at 5:5\n"
            "awaitify check: 1 would change, 2 with verify problems, of 2 files (details: awaitify "
            "verify PATHS)\n");
  CliOutput diff = run_awaitify(dir.path(), "check --diff --only AW501 main.py");
  EXPECT_NE(diff.out.find("--- a/main.py\n+++ b/main.py\n"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+async def root():"), std::string::npos);
  EXPECT_EQ(read_file(dir.path() / "main.py"), kRoute);  // check never writes without --apply
  write_file(dir.path() / "main.py", kRouteAfter);
  write_file(
      dir.path() / "tick.py",
      "import asyncio\n\n\nasync def tick():\n    await asyncio.create_subprocess_exec('true')\n");
  CliOutput clean = run_awaitify(dir.path(), "check");
  EXPECT_EQ(clean.status, 0) << clean.out;
  EXPECT_EQ(clean.out, "awaitify check: nothing to migrate or fix in 2 files\n");
}

TEST(CheckCli, ApplyWritesAndFailsWhenItChangedFiles) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(dir.path() / "main.py", kRoute);
  write_file(dir.path() / "legacy.py", "# awaitify: skip-file\n" + kRoute);
  CliOutput first = run_awaitify(dir.path(), "check --apply");
  EXPECT_EQ(first.status, 1) << first.err;
  EXPECT_NE(first.out.find("main.py: changed (AW501 ×1"), std::string::npos) << first.out;
  EXPECT_EQ(read_file(dir.path() / "main.py"), kRouteAfter);
  EXPECT_EQ(read_file(dir.path() / "legacy.py"), "# awaitify: skip-file\n" + kRoute);
  CliOutput second = run_awaitify(dir.path(), "check --apply");
  EXPECT_EQ(second.status, 0) << second.out;
  EXPECT_NE(second.out.find("1 file skipped"), std::string::npos) << second.out;
}

TEST(PreCommitHooks, DefinitionNamesTheHooksRunSeriallyOnPythonFiles) {
  std::vector<Hook> hooks = read_hooks();
  ASSERT_EQ(hooks.size(), 3u);
  EXPECT_EQ(hooks[0].id, "awaitify-check");
  EXPECT_EQ(hooks[1].id, "awaitify-apply");
  EXPECT_EQ(hooks[2].id, "awaitify-ratchet");
  for (const Hook& hook : hooks) {
    EXPECT_EQ(hook.language, "system") << hook.id;
    EXPECT_EQ(hook.types, std::vector<std::string>{"python"}) << hook.id;
    EXPECT_TRUE(hook.require_serial) << hook.id;
    EXPECT_EQ(hook.entry.rfind("awaitify ", 0), 0u) << hook.id;
  }
}

TEST(PreCommitHooks, RunWithTheStagedFilesAsPreCommitPassesThem) {
  TempDir dir;
  fs::path repo = make_repo(dir);
  std::vector<Hook> hooks = read_hooks();
  ASSERT_EQ(hooks.size(), 3u);
  const Hook& check = hooks[0];
  const Hook& apply = hooks[1];
  // Nothing staged: pre-commit would not run the hook; with the committed, migrated file it passes.
  write_file(repo / "app/main.py", kRouteAfter);
  write_file(repo / "README.md", "docs\n");
  sh(repo, "git add app/main.py README.md");
  std::vector<std::string> staged = staged_python_files(repo);
  ASSERT_EQ(staged, std::vector<std::string>{"app/main.py"});
  CliOutput passing = run_hook(repo, check, staged);
  EXPECT_EQ(passing.status, 0) << passing.out << passing.err;
  // app/other.py is unstaged and still sync: not passed, so not checked and not written.
  sh(repo, "git commit -qm migrated");
  write_file(repo / "app/main.py", kRoute + "\n\n@app.get('/x')\ndef x():\n    return 1\n");
  sh(repo, "git add app/main.py");
  staged = staged_python_files(repo);
  CliOutput failing = run_hook(repo, check, staged);
  EXPECT_EQ(failing.status, 1);
  EXPECT_NE(failing.out.find("app/main.py: would change (AW501 ×2"), std::string::npos)
      << failing.out;
  EXPECT_EQ(failing.out.find("app/other.py"), std::string::npos) << failing.out;
  CliOutput applied = run_hook(repo, apply, staged);
  EXPECT_EQ(applied.status, 1)
      << applied.err;  // it changed files: the commit stops, as with pyupgrade
  EXPECT_EQ(read_file(repo / "app/other.py"), kRoute);
  EXPECT_NE(read_file(repo / "app/main.py").find("async def x():"), std::string::npos);
  sh(repo, "git add app/main.py");
  EXPECT_EQ(run_hook(repo, apply, staged_python_files(repo)).status, 0);
  EXPECT_EQ(run_hook(repo, check, staged_python_files(repo)).status, 0);
}

TEST(PreCommitHooks, HookArgsSelectPhases) {
  TempDir dir;
  fs::path repo = make_repo(dir);
  Hook check = read_hooks().at(0);
  check.args = {"--phase", "middleware"};
  CliOutput output = run_hook(repo, check, {"app/main.py"});
  // The routes phase is not selected, so the sync handler only shows as a verify finding.
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out.find("app/main.py: would change"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("verify: AWV001 at 7:5"), std::string::npos) << output.out;
}

// The ratchet (AWV010): modules already migrated must stay migrated. Each case commits a
// migrated module, then changes the working copy as a commit would.
namespace {

const std::string kDb =
    "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
    "engine = create_engine('sqlite:///./app.db')\nSessionLocal = sessionmaker(bind=engine)\n\n\n"
    "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n"
    "        db.close()\n";
// Lines 1-13; the cases append from line 14.
const std::string kMigrated =
    "import time\n\nfrom fastapi import APIRouter, Depends\nfrom sqlalchemy.orm import Session\n\n"
    "from app.db import get_db\n\nrouter = APIRouter()\n\n\n@router.get('/items')\n"
    "async def list_items():\n    return []\n";
const std::string kSyncRoute = "\n\n@router.get('/legacy')\ndef legacy():\n    return 1\n";
const std::string kSleep = "\n\n@router.get('/slow')\nasync def slow():\n    time.sleep(1)\n";

fs::path make_ratchet_repo(const TempDir& dir, const std::string& extra_config = "") {
  fs::path repo = dir.path() / "repo";
  write_file(repo / "pyproject.toml", "[project]\nname = \"demo\"\n" + extra_config);
  write_file(repo / "app/__init__.py", "");
  write_file(repo / "app/db.py", kDb);
  write_file(repo / "app/items.py", kMigrated);
  write_file(repo / "app/legacy.py", kMigrated + kSyncRoute);  // not migrated: a sync route
  sh(repo,
     "git init -q . && git config user.email t@example.com && git config user.name t && "
     "git add -A && git commit -qm init");
  return repo;
}

}  // namespace

TEST(Ratchet, SyncRouteBackInAModuleMigratedAtHeadFailsNamingTheLine) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  CliOutput clean = run_awaitify(repo, "check --only AWV010");
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;  // app/legacy.py was never migrated
  write_file(repo / "app/items.py", kMigrated + kSyncRoute);
  CliOutput failing = run_awaitify(repo, "check --only AWV010");
  EXPECT_EQ(failing.status, 1) << failing.err;
  EXPECT_EQ(failing.out.substr(0, failing.out.find('\n')), "app/items.py: verify: AWV010 at 17:5")
      << failing.out;
  EXPECT_EQ(failing.out.find("app/legacy.py"), std::string::npos) << failing.out;
  CliOutput verify = run_awaitify(repo, "verify --only AWV010 app/items.py");
  EXPECT_NE(verify.out.find("app/items.py:17:5: AWV010 path operation `legacy` is still `def`; "
                            "this module counts as migrated: every path operation was async at "
                            "HEAD"),
            std::string::npos)
      << verify.out;
  // Committed, the module is no longer migrated: the ratchet holds what HEAD holds.
  sh(repo, "git commit -qam 'a sync route'");
  EXPECT_EQ(run_awaitify(repo, "check --only AWV010").status, 0);
}

TEST(Ratchet, BlockingCallInAsyncCodeIsOneFindingAndIgnoreCommentsStillHold) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  write_file(repo / "app/items.py", kMigrated + kSleep);
  write_file(repo / "app/legacy.py", kMigrated + kSyncRoute + kSleep);
  CliOutput ratchet = run_awaitify(repo, "check --only AWV010");
  EXPECT_EQ(ratchet.status, 1);
  EXPECT_NE(ratchet.out.find("app/items.py: verify: AWV010 at 18:5\n"), std::string::npos)
      << ratchet.out;
  EXPECT_EQ(ratchet.out.find("app/legacy.py"), std::string::npos) << ratchet.out;
  // Every rule: in the migrated module AWV010 reports the line instead of AWV004, once.
  CliOutput all = run_awaitify(repo, "verify app/items.py app/legacy.py");
  EXPECT_NE(all.out.find("app/items.py:18:5: AWV010 `time.sleep`, a blocking sleep, in async "
                         "def `slow` blocks the event loop; this module counts as migrated"),
            std::string::npos)
      << all.out;
  EXPECT_EQ(all.out.find("app/items.py:18:5: AWV004"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("app/legacy.py:23:5: AWV004"), std::string::npos) << all.out;
  CliOutput skipped = run_awaitify(repo, "verify --skip AWV010 app/items.py");
  EXPECT_NE(skipped.out.find("app/items.py:18:5: AWV004"), std::string::npos) << skipped.out;
  write_file(repo / "app/items.py", kMigrated +
                                        "\n\n@router.get('/slow')\nasync def slow():\n"
                                        "    time.sleep(1)  # awaitify: ignore[AWV004]\n");
  CliOutput ignored = run_awaitify(repo, "check --only AWV010 app/items.py");
  EXPECT_EQ(ignored.status, 0) << ignored.out;
}

TEST(Ratchet, SyncSessionBackInAMigratedModuleIsReportedWhereItIs) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  write_file(repo / "app/items.py",
             kMigrated +
                 "\n\n@router.get('/count')\nasync def count(db: Session = Depends(get_db)):\n"
                 "    return db.query(Item).count()\n\n\ndef total(db: Session):\n"
                 "    return db.query(Item).count()\n\n\n@router.get('/other')\n"
                 "async def other(db=Depends(get_db)):\n    return 1\n");
  CliOutput output = run_awaitify(repo, "check --only AWV010");
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out.substr(0, output.out.find('\n')),
            "app/items.py: verify: AWV010 at 17:17, AWV010 at 18:12, AWV010 at 21:11, AWV010 at "
            "22:12, AWV010 at 26:17")
      << output.out;
  CliOutput verify = run_awaitify(repo, "verify --only AWV010 app/items.py");
  EXPECT_NE(verify.out.find("app/items.py:26:17: AWV010 parameter `db` of `other` depends on "
                            "`get_db`, the sync Session provider"),
            std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("app/items.py:22:12: AWV010 `db.query(...)` runs a legacy query on "
                            "the sync Session"),
            std::string::npos)
      << verify.out;
}

TEST(Ratchet, ConfiguredGlobsDeclareModulesMigratedWithoutGit) {
  TempDir dir;
  fs::path project = dir.path() / "project";
  write_file(project / "pyproject.toml", "[tool.awaitify]\nmigrated = [\"app/services/**\"]\n");
  write_file(project / "app/__init__.py", "");
  write_file(project / "app/db.py", kDb);
  write_file(project / "app/services/__init__.py", "");
  // No path operation: only the configuration can say it is migrated.
  const std::string service =
      "import time\n\nfrom sqlalchemy.orm import Session\n\n\nasync def refresh():\n"
      "    time.sleep(1)\n\n\ndef load(db: Session):\n    return 1\n";
  write_file(project / "app/services/cache.py", service);
  write_file(project / "app/jobs.py", service);
  CliOutput output = run_awaitify(project, "verify --only AWV010");
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.out.find("app/services/cache.py:7:5: AWV010 `time.sleep`, a blocking sleep, "
                            "in async def `refresh` blocks the event loop; this module counts as "
                            "migrated: it matches `app/services/**` in the configuration's "
                            "`migrated`"),
            std::string::npos)
      << output.out;
  EXPECT_NE(output.out.find("app/services/cache.py:10:10: AWV010 parameter `db` of `load` is "
                            "annotated with the sync `Session`"),
            std::string::npos)
      << output.out;
  EXPECT_EQ(output.out.find("app/jobs.py"), std::string::npos) << output.out;
}

TEST(Ratchet, ANewFileIsHeldWhenItsRoutesAreAllAsync) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  write_file(repo / "app/fresh.py", kMigrated + kSleep);  // not committed yet
  write_file(repo / "app/fresh_sync.py", kMigrated + kSyncRoute + kSleep);
  CliOutput output = run_awaitify(repo, "check --only AWV010");
  EXPECT_EQ(output.status, 1);
  EXPECT_EQ(output.out.substr(0, output.out.find('\n')), "app/fresh.py: verify: AWV010 at 18:5")
      << output.out;
  EXPECT_EQ(output.out.find("app/fresh_sync.py"), std::string::npos) << output.out;
  CliOutput verify = run_awaitify(repo, "verify --only AWV010 app/fresh.py");
  EXPECT_NE(verify.out.find("this module counts as migrated: it is new (not at HEAD) and every "
                            "path operation in it is async"),
            std::string::npos)
      << verify.out;
}

TEST(Ratchet, WithoutARepositoryOnlyTheConfigurationDeclaresModulesMigrated) {
  TempDir dir;
  fs::path project = dir.path() / "project";  // no git repository: no history to hold
  write_file(project / "pyproject.toml", "[project]\nname = \"demo\"\n");
  write_file(project / "app/__init__.py", "");
  write_file(project / "app/db.py", kDb);
  write_file(project / "app/items.py", kMigrated + kSleep);
  CliOutput ratchet = run_awaitify(project, "check --only AWV010");
  EXPECT_EQ(ratchet.status, 0) << ratchet.out << ratchet.err;
  CliOutput all = run_awaitify(project, "verify app/items.py");
  EXPECT_NE(all.out.find("app/items.py:18:5: AWV004"), std::string::npos) << all.out;
}

TEST(Ratchet, ACommittedVersionWithASyncRouteIsNotMigrated) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  // app/legacy.py had a sync route at HEAD; migrating it in the working copy does not make the
  // ratchet hold it before it is committed.
  write_file(repo / "app/legacy.py",
             kMigrated + "\n\n@router.get('/legacy')\nasync def legacy():\n    time.sleep(1)\n");
  CliOutput output = run_awaitify(repo, "check --only AWV010 app/legacy.py");
  EXPECT_EQ(output.status, 0) << output.out;
  sh(repo, "git commit -qam migrated");
  EXPECT_EQ(run_awaitify(repo, "check --only AWV010 app/legacy.py").status, 1);
}

TEST(PreCommitHooks, TheRatchetHookChecksOnlyMigratedModules) {
  TempDir dir;
  fs::path repo = make_ratchet_repo(dir);
  std::vector<Hook> hooks = read_hooks();
  ASSERT_EQ(hooks.size(), 3u);
  const Hook& ratchet = hooks[2];
  EXPECT_EQ(ratchet.id, "awaitify-ratchet");
  EXPECT_EQ(ratchet.entry, "awaitify check --only AWV010");
  // Still-sync modules are staged and pass: the team is mid-migration.
  write_file(repo / "app/legacy.py", kMigrated + kSyncRoute + kSyncRoute);
  sh(repo, "git add app/legacy.py");
  CliOutput passing = run_hook(repo, ratchet, staged_python_files(repo));
  EXPECT_EQ(passing.status, 0) << passing.out << passing.err;
  write_file(repo / "app/items.py", kMigrated + kSleep);
  sh(repo, "git add app/items.py");
  CliOutput failing = run_hook(repo, ratchet, staged_python_files(repo));
  EXPECT_EQ(failing.status, 1);
  EXPECT_NE(failing.out.find("app/items.py: verify: AWV010 at 18:5"), std::string::npos)
      << failing.out;
}
