// The tests phase (AW801, AW802) beyond the golden fixtures: selections that run one of the
// two, pytest configuration read from pyproject.toml and setup.cfg, fixtures found through
// nested conftest.py files, and units joined through a shared helper.
#include <gtest/gtest.h>

#include "awaitify/engine.hpp"
#include "test_util.hpp"
#include "tests_client.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

struct Project {
  TempDir dir;
  std::vector<std::string> files;
};

std::unique_ptr<Project> project(const std::map<std::string, std::string>& files) {
  auto p = std::make_unique<Project>();
  for (const auto& [path, text] : files) {
    write_file(p->dir.path() / path, text);
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".py") == 0) {
      p->files.push_back((p->dir.path() / path).string());
    }
  }
  return p;
}

// Runs a selection over the project; returns each file's result by its relative path, and the
// findings as "file:line: ID message".
struct Outcome {
  std::map<std::string, std::string> text;
  std::vector<std::string> findings;
  std::string findings_text() const {
    std::string all;
    for (const std::string& finding : findings) all += finding + "\n";
    return all;
  }
};

Outcome run_selection(const Project& p, Selection selection) {
  auto transforms = select_transforms(selection);
  EXPECT_TRUE(transforms.ok());
  Outcome outcome;
  for (const FileOutcome& file : run(p.files, *transforms).outcomes) {
    EXPECT_FALSE(file.engine_error) << *file.engine_error;
    std::string relative = std::filesystem::relative(file.path, p.dir.path()).string();
    outcome.text[relative] = file.result;
    for (const Finding& finding : file.findings) {
      outcome.findings.push_back(relative + ":" + std::to_string(finding.position.line) + ": " + finding.id +
                                 " " + finding.message);
    }
  }
  return outcome;
}

Selection phase_tests() {
  Selection selection;
  selection.phases = {"tests"};
  return selection;
}

const char* kConftest =
    "import pytest\n"
    "from fastapi.testclient import TestClient\n\n"
    "from app import app\n\n\n"
    "@pytest.fixture\n"
    "def client():\n"
    "    with TestClient(app) as c:\n"
    "        yield c\n";

const char* kTest =
    "def test_health(client):\n"
    "    assert client.get(\"/health\").status_code == 200\n";

}  // namespace

TEST(TestsPhase, AW801WithoutAW802LeavesTheClientAndSaysWhy) {
  auto p = project({{"conftest.py", kConftest}, {"test_health.py", kTest}});
  Selection only;
  only.only = {"AW801"};
  Outcome outcome = run_selection(*p, only);
  EXPECT_EQ(outcome.text["conftest.py"], kConftest);
  EXPECT_EQ(outcome.text["test_health.py"], kTest);
  EXPECT_NE(outcome.findings_text().find("conftest.py:9: AW801 TestClient left as it is: `conftest.client` is not "
                                         "made async in this run (its file is not selected, or AW802 is skipped)"),
            std::string::npos)
      << outcome.findings_text();
}

TEST(TestsPhase, AW802AloneMakesTheTestsAsyncAroundTheTestClient) {
  // Not the migration, but never broken: a TestClient works inside async tests and fixtures.
  auto p = project({{"conftest.py", kConftest}, {"test_health.py", kTest}});
  Selection only;
  only.only = {"AW802"};
  Outcome outcome = run_selection(*p, only);
  EXPECT_EQ(outcome.text["test_health.py"],
            "import pytest\n\n\n@pytest.mark.asyncio\nasync def test_health(client):\n"
            "    assert client.get(\"/health\").status_code == 200\n");
  EXPECT_NE(outcome.text["conftest.py"].find("@pytest_asyncio.fixture\nasync def client():\n    with TestClient(app)"),
            std::string::npos)
      << outcome.text["conftest.py"];
}

TEST(TestsPhase, AutoModeIsReadFromPyprojectAndSetupCfg) {
  for (const auto& [file, text] : std::vector<std::pair<std::string, std::string>>{
           {"pyproject.toml", "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n"},
           {"setup.cfg", "[metadata]\nname = x\n\n[tool:pytest]\naddopts = -q --asyncio-mode=auto\n"}}) {
    auto p = project({{file, text}, {"conftest.py", kConftest}, {"test_health.py", kTest}});
    Outcome outcome = run_selection(*p, phase_tests());
    EXPECT_EQ(outcome.text["test_health.py"],
              "async def test_health(client):\n    assert (await client.get(\"/health\")).status_code == 200\n")
        << file;
    // Auto mode runs async @pytest.fixture functions too.
    EXPECT_NE(outcome.text["conftest.py"].find("@pytest.fixture\nasync def client():"), std::string::npos) << file;
  }
}

TEST(TestsPhase, FixturesAreFoundThroughNestedConftestFilesAndOverrides) {
  // tests/api/conftest.py overrides `client` by wrapping the outer one: one client object.
  auto p = project({{"app.py", "from fastapi import FastAPI\n\napp = FastAPI()\n"},
                    {"tests/__init__.py", ""},
                    {"tests/conftest.py", kConftest},
                    {"tests/api/__init__.py", ""},
                    {"tests/api/conftest.py",
                     "import pytest\n\n\n@pytest.fixture(scope=\"session\")\n"
                     "def settings():\n    return {}\n\n\n"
                     "@pytest.fixture\ndef client(client):\n    client.headers[\"X-Token\"] = \"t\"\n    return client\n"},
                    {"tests/api/test_me.py",
                     "def test_me(client, settings):\n    assert client.get(\"/me\").json() == {}\n"}});
  Outcome outcome = run_selection(*p, phase_tests());
  EXPECT_EQ(outcome.text["tests/api/test_me.py"],
            "import pytest\n\n\n@pytest.mark.asyncio\nasync def test_me(client, settings):\n"
            "    assert (await client.get(\"/me\")).json() == {}\n");
  // The wrapper only hands the client on: it stays a sync fixture.
  EXPECT_EQ(outcome.text["tests/api/conftest.py"].find("async def"), std::string::npos);
  EXPECT_NE(outcome.text["tests/conftest.py"].find("async with app.router.lifespan_context(app), AsyncClient("),
            std::string::npos);
}

TEST(TestsPhase, AHelperSharedByTwoClientsRefusesBothWhenOneCannotConvert) {
  auto p = project(
      {{"conftest.py", kConftest},
       {"test_mixed.py",
        "from fastapi.testclient import TestClient\n\nfrom app import app\n\n"
        "other = TestClient(app)\n\n\n"
        "def ping(client):\n    return client.get(\"/ping\").status_code\n\n\n"
        "def test_fixture_client(client):\n    assert ping(client) == 200\n"
        "    with client.websocket_connect(\"/ws\"):\n        pass\n\n\n"
        "def test_module_client():\n    assert ping(other) == 200\n"}});
  Outcome outcome = run_selection(*p, phase_tests());
  EXPECT_EQ(outcome.text["test_mixed.py"].find("AsyncClient"), std::string::npos) << outcome.text["test_mixed.py"];
  EXPECT_EQ(outcome.text["conftest.py"], kConftest);
  EXPECT_NE(outcome.findings_text().find("test_mixed.py:5: AW801 TestClient left as it is: `client.websocket_connect"),
            std::string::npos)
      << outcome.findings_text();
}

TEST(TestsPhase, StreamAndTestClientOnlyAttributesAreRefused) {
  auto p = project({{"conftest.py", kConftest},
                    {"test_stream.py",
                     "def test_download(client):\n    with client.stream(\"GET\", \"/file\") as r:\n"
                     "        assert r.status_code == 200\n\n\n"
                     "def test_app(client):\n    assert client.app is not None\n"}});
  Outcome outcome = run_selection(*p, phase_tests());
  EXPECT_EQ(outcome.text["conftest.py"], kConftest);
  EXPECT_NE(outcome.findings_text().find("AW801 `client.stream(...)` is not rewritten yet"), std::string::npos)
      << outcome.findings_text();
}

TEST(TestsPhase, SessionScopedFixturesPutTheirTestsOnTheSessionLoop) {
  auto p = project({{"conftest.py",
                     "import pytest\nfrom fastapi.testclient import TestClient\n\nfrom app import app\n\n\n"
                     "@pytest.fixture(scope=\"session\")\ndef client():\n    with TestClient(app) as c:\n        yield c\n"},
                    {"test_health.py", kTest}});
  Outcome outcome = run_selection(*p, phase_tests());
  EXPECT_NE(outcome.text["conftest.py"].find("@pytest_asyncio.fixture(scope=\"session\", loop_scope=\"session\")"),
            std::string::npos);
  EXPECT_NE(outcome.text["test_health.py"].find("@pytest.mark.asyncio(loop_scope=\"session\")\nasync def test_health"),
            std::string::npos);
}

TEST(TestsPhase, WithoutTheTestsPhaseTestsStillStopTheClosure) {
  // --phase services: a helper made async elsewhere must not turn a test into an unmarked
  // async test (pytest would skip it).
  auto p = project({{"svc.py", "async def total():\n    return 1\n\n\ndef report():\n    return total()\n"},
                    {"test_svc.py", "from svc import report\n\n\ndef test_report():\n    assert report()\n"}});
  Selection services;
  services.phases = {"services"};
  Outcome outcome = run_selection(*p, services);
  EXPECT_EQ(outcome.text["test_svc.py"], "from svc import report\n\n\ndef test_report():\n    assert report()\n");
  Selection both;
  both.phases = {"services", "tests"};
  outcome = run_selection(*p, both);
  EXPECT_EQ(outcome.text["test_svc.py"],
            "import pytest\n\nfrom svc import report\n\n\n@pytest.mark.asyncio\nasync def test_report():\n"
            "    assert await report()\n");
}

TEST(TestsPhase, AnyioFromAddoptsOrPytestPluginsAndTestClasses) {
  for (const auto& [file, text] : std::vector<std::pair<std::string, std::string>>{
           {"pytest.ini", "[pytest]\naddopts = -p anyio\n"}, {"plugins.py", "pytest_plugins = [\"anyio\"]\n"}}) {
    std::string conftest = std::string(kConftest) + (file == "plugins.py" ? "\npytest_plugins = [\"anyio\"]\n" : "");
    auto p = project({{file == "plugins.py" ? "setup.cfg" : file, file == "plugins.py" ? "" : text},
                      {"conftest.py", conftest},
                      {"test_class.py",
                       "class TestHealth:\n    def test_health(self, client):\n"
                       "        assert client.get(\"/health\").status_code == 200\n"}});
    Outcome outcome = run_selection(*p, phase_tests());
    EXPECT_EQ(outcome.text["test_class.py"],
              "import pytest\n\n\nclass TestHealth:\n    @pytest.mark.anyio\n    async def test_health(self, client):\n"
              "        assert (await client.get(\"/health\")).status_code == 200\n")
        << file;
    EXPECT_NE(outcome.text["conftest.py"].find("@pytest.fixture\nasync def client():"), std::string::npos) << file;
  }
}

// A run that selects the tests phase takes the model's read of each test file while the file's
// facts are extracted, so the model finds it kept and does not parse the file again; a run
// without the phase reads nothing of the kind, and a file that is not test code is not read.
TEST(TestsPhase, TheModelsReadOfATestFileIsTakenWhileItsFactsAreExtracted) {
  TempDir dir;
  std::string test_text =
      "from fastapi.testclient import TestClient\n"
      "from app import app\n\n"
      "def test_kept_while_extracted():\n"
      "    assert TestClient(app).get('/').status_code == 200\n";
  std::string app_text = "from fastapi import FastAPI\n\napp = FastAPI()  # kept_while_extracted\n";
  SourceFile test((dir.path() / "test_kept.py").string(), test_text);
  SourceFile app((dir.path() / "app.py").string(), app_text);
  auto tests = select_transforms(Selection{{"tests"}, {}, {}});
  ASSERT_TRUE(tests.ok());

  auto without = facts_for(test, nullptr);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(aw80x::kept_file_facts(*without, test.text()), nullptr);

  auto with = facts_for(test, nullptr, *tests);
  ASSERT_TRUE(with.ok());
  auto kept = aw80x::kept_file_facts(*with, test.text());
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->path, test.path());

  auto not_test_code = facts_for(app, nullptr, *tests);
  ASSERT_TRUE(not_test_code.ok());
  EXPECT_EQ(aw80x::kept_file_facts(*not_test_code, app.text()), nullptr);
}
