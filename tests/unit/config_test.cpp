// Configuration: the TOML subset reader, [tool.awaitify] found by walking up from the paths or
// given with --config, unknown keys named in the error, include/exclude globs.
#include "awaitify/config.hpp"

#include <gtest/gtest.h>

#include "report_cli.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

TEST(Toml, ReadsWhatPyprojectFilesUse) {
  auto document = parse_toml(R"(# a comment
[project]
name = "demo"  # trailing comment
version = '1.0'
authors = [{name = "A. Person", email = "a@example.com"}]
dependencies = [
  "fastapi>=0.110",
  "sqlalchemy[asyncio]",  # trailing comma next
]
description = """
Multi-line "text"
"""
dynamic.readme = true
"quoted.key" = 3

[[tool.mypy.overrides]]
module = "x.*"

[tool.awaitify]
phases = ["db", "routes"]
wrap-blocking = false
http-timeout = 10.5
escaped = "a\"b\\c\n"
)");
  ASSERT_TRUE(document.ok()) << document.error().message;
  const auto& values = document->values;
  EXPECT_EQ(values.at("project.name").text, "demo");
  EXPECT_EQ(values.at("project.version").text, "1.0");
  EXPECT_EQ(values.at("project.authors").items[0].fields.at("email").text, "a@example.com");
  EXPECT_EQ(values.at("project.dependencies").items.size(), 2u);
  EXPECT_EQ(values.at("project.description").text, "Multi-line \"text\"\n");
  EXPECT_TRUE(values.at("project.dynamic.readme").boolean);
  EXPECT_EQ(values.at("project.quoted.key").text, "3");
  EXPECT_EQ(values.at("tool.mypy.overrides[].module").text, "x.*");
  EXPECT_EQ(values.at("tool.awaitify.phases").items[1].text, "routes");
  EXPECT_EQ(values.at("tool.awaitify.phases").line, 20u);
  EXPECT_EQ(values.at("tool.awaitify.wrap-blocking").kind, TomlValue::Kind::boolean);
  EXPECT_EQ(values.at("tool.awaitify.http-timeout").text, "10.5");
  EXPECT_EQ(values.at("tool.awaitify.escaped").text, "a\"b\\c\n");
  EXPECT_TRUE(document->tables.count("tool.awaitify"));
}

TEST(Toml, ErrorsNameTheLine) {
  auto unterminated = parse_toml("[tool.awaitify]\nphases = [\"db\"\nskip = 1\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().message.rfind("line 3:", 0), 0u) << unterminated.error().message;
  EXPECT_TRUE(parse_toml("when = 1979-05-27 07:32:00Z\n").ok());
  auto junk = parse_toml("a = 1 2\n");
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.error().message, "line 1: unexpected text after a value");
}

TEST(Config, FoundByWalkingUpAndCheckedKeyByKey) {
  TempDir dir;
  write_file(
      dir.path() / "pyproject.toml",
      "[project]\nname = \"demo\"\n\n[tool.awaitify]\nphases = [\"routes\"]\nskip = \"AWV006\"\n"
      "exclude = [\"legacy/**\", \"*_pb2.py\"]\nhttp-client = \"scoped\"\nwrap-blocking = true\n"
      "drop-sync = true\n");
  write_file(dir.path() / "app/deep/m.py", "x = 1\n");
  auto config = find_config({(dir.path() / "app/deep/m.py").string()});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->phases, std::vector<std::string>{"routes"});
  EXPECT_EQ(config->skip, std::vector<std::string>{"AWV006"});
  EXPECT_EQ(config->settings.at("http-client"), "scoped");
  EXPECT_EQ(config->settings.at("wrap-blocking"), "true");
  EXPECT_EQ(config->settings.at("drop-sync"), "true");
  EXPECT_TRUE(config->selects((dir.path() / "app/deep/m.py").string()));
  EXPECT_FALSE(config->selects((dir.path() / "legacy/old.py").string()));
  EXPECT_FALSE(config->selects((dir.path() / "app/api_pb2.py").string()));

  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nphases = [\"db\"]\ntarget = [\"sqlalchemy\"]\n");
  auto unknown = find_config({dir.path().string()});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find(":3: unknown key 'target' in [tool.awaitify]"),
            std::string::npos)
      << unknown.error().message;
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphases = 3\n");
  EXPECT_NE(
      find_config({dir.path().string()}).error().message.find("'phases' must be a list of strings"),
      std::string::npos);
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nhttp-client = \"pooled\"\n");
  EXPECT_NE(find_config({dir.path().string()}).error().message.find("must be scoped or shared"),
            std::string::npos);
  write_file(dir.path() / "pyproject.toml", "[tool.other]\nx = 1\n");
  auto none = find_config({dir.path().string()});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->path.empty());
}

// targets: an inline table, a [tool.awaitify.targets] table or dotted keys, each checked as
// --target checks it.
TEST(Config, TargetsAreLibraryVersionsInAnyTableShape) {
  TempDir dir;
  auto read = [&](const std::string& toml) {
    write_file(dir.path() / "pyproject.toml", toml);
    return find_config({dir.path().string()});
  };
  auto inline_table = read("[tool.awaitify]\ntargets = { sqlalchemy = \"1.4\" }\n");
  ASSERT_TRUE(inline_table.ok()) << inline_table.error().message;
  EXPECT_EQ(inline_table->settings.at("target.sqlalchemy"), "1.4");
  auto table =
      read("[tool.awaitify]\nphases = [\"db\"]\n\n[tool.awaitify.targets]\nsqlalchemy = 2.0\n");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->settings.at("target.sqlalchemy"), "2.0");
  EXPECT_EQ(table->phases, std::vector<std::string>{"db"});
  auto dotted = read("[tool.awaitify]\ntargets.sqlalchemy = '1.4'\n");
  ASSERT_TRUE(dotted.ok()) << dotted.error().message;
  EXPECT_EQ(dotted->settings.at("target.sqlalchemy"), "1.4");

  auto fastapi = read("[tool.awaitify]\nphases = [\"db\"]\ntargets = { fastapi = \"0.92\" }\n");
  ASSERT_TRUE(fastapi.ok()) << fastapi.error().message;
  EXPECT_EQ(fastapi->settings.at("target.fastapi"), "0.92");
  auto django = read("[tool.awaitify]\nphases = [\"db\"]\ntargets = { django = \"4.2\" }\n");
  ASSERT_FALSE(django.ok());
  EXPECT_NE(django.error().message.find(
                "pyproject.toml:3: [tool.awaitify] 'targets.django': unknown target 'django' "
                "(known: fastapi = a version (0.92), sqlalchemy = 1.4 or 2.0)"),
            std::string::npos)
      << django.error().message;
  EXPECT_FALSE(read("[tool.awaitify]\ntargets = { fastapi = \"latest\" }\n").ok());
  auto version = read("[tool.awaitify.targets]\n\nsqlalchemy = \"1.3\"\n");
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.error().message.find(
                ":3: [tool.awaitify] 'targets.sqlalchemy': unknown sqlalchemy version '1.3'"),
            std::string::npos)
      << version.error().message;
  auto list = read("[tool.awaitify]\ntargets = [\"sqlalchemy=1.4\"]\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find(":2: [tool.awaitify] 'targets' must be a table of library "
                                      "versions, e.g. targets = { sqlalchemy = \"1.4\" }"),
            std::string::npos)
      << list.error().message;
  auto nested = read("[tool.awaitify]\ntargets = { sqlalchemy = { version = \"1.4\" } }\n");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("a version must be a string"), std::string::npos)
      << nested.error().message;
}

TEST(Config, IncludeKeepsOnlyMatchingFiles) {
  Config config;
  config.base = "/p";
  config.include = {"app/**"};
  config.exclude = {"app/migrations"};
  EXPECT_TRUE(config.selects("/p/app/main.py"));
  EXPECT_FALSE(config.selects("/p/app/migrations/0001.py"));
  EXPECT_FALSE(config.selects("/p/scripts/run.py"));
  EXPECT_TRUE(config.selects("/elsewhere/x.py"));  // outside the configured project
}

TEST(Config, MigratedGlobsNameTheModulesTheRatchetHolds) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nmigrated = [\"app/routers/**\", \"health.py\"]\n");
  auto config = find_config({dir.path().string()});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->migrated, (std::vector<std::string>{"app/routers/**", "health.py"}));
  EXPECT_EQ(config->migrated_glob((dir.path() / "app/routers/items.py").string()),
            "app/routers/**");
  EXPECT_EQ(config->migrated_glob((dir.path() / "app/sub/health.py").string()), "health.py");
  EXPECT_EQ(config->migrated_glob((dir.path() / "app/main.py").string()), "");
  EXPECT_EQ(config->migrated_glob("/elsewhere/app/routers/x.py"), "");  // outside the project
  EXPECT_TRUE(config->selects((dir.path() / "app/main.py").string()));  // not a filter
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nmigrated = true\n");
  EXPECT_NE(find_config({dir.path().string()})
                .error()
                .message.find("'migrated' must be a list of strings"),
            std::string::npos);
}

TEST(ConfigCli, DrivesCheckAndReportsBadKeys) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nphases = [\"middleware\"]\nskip = [\"AWV001\"]\nexclude = "
             "[\"legacy.py\"]\n");
  write_file(dir.path() / "main.py",
             "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef root():\n    "
             "return 1\n");
  write_file(dir.path() / "legacy.py", "import time\n\n\nasync def f():\n    time.sleep(1)\n");
  // The routes phase is not configured and AWV001 is skipped, legacy.py is excluded: all clean.
  CliOutput configured = run_awaitify(dir.path(), "check");
  EXPECT_EQ(configured.status, 0) << configured.out << configured.err;
  // The command line wins over the configuration.
  CliOutput overridden = run_awaitify(dir.path(), "check --phase routes");
  EXPECT_EQ(overridden.status, 1);
  EXPECT_NE(overridden.out.find("main.py: would change (AW501"), std::string::npos)
      << overridden.out;
  write_file(dir.path() / "other.toml", "only = [\"AWV004\"]\n");
  CliOutput explicit_config = run_awaitify(dir.path(), "verify --config other.toml");
  EXPECT_EQ(explicit_config.status, 1);
  EXPECT_NE(explicit_config.out.find("legacy.py:5:5: AWV004"), std::string::npos)
      << explicit_config.out;
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nphase = [\"db\"]\n");
  CliOutput bad = run_awaitify(dir.path(), "verify");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(
      bad.err.rfind("awaitify: error: pyproject.toml:2: unknown key 'phase' in [tool.awaitify]", 0),
      0u)
      << bad.err;
  EXPECT_EQ(run_awaitify(dir.path(), "verify --config missing.toml").status, 2);
}

TEST(Config, LifespanManagerIsOneOfTwoChoices) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nlifespan-manager = \"router\"\n");
  auto config = find_config({dir.path().string()});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->settings.at("lifespan-manager"), "router");
  write_file(dir.path() / "pyproject.toml", "[tool.awaitify]\nlifespan-manager = \"manual\"\n");
  EXPECT_NE(find_config({dir.path().string()})
                .error()
                .message.find("'lifespan-manager' must be asgi-lifespan or router"),
            std::string::npos);
}

// The configured target changes what diff writes; --target on the command line wins, and a bad
// target in either place is a usage error naming it.
TEST(ConfigCli, TargetsDriveTheDbPhaseAndTheCommandLineWins) {
  TempDir dir;
  fs::path fixture = fs::path(AWAITIFY_FIXTURES) / "db_phase/target_sqlalchemy_14/before";
  for (const char* file : {"api.py", "database.py"}) {
    write_file(dir.path() / file, read_file(fixture / file));
  }
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\nphases = [\"db\"]\ntargets = { sqlalchemy = \"1.4\" }\n");
  CliOutput configured = run_awaitify(dir.path(), "diff --color never");
  EXPECT_EQ(configured.status, 1) << configured.err;
  EXPECT_NE(configured.out.find("sessionmaker(async_engine, class_=AsyncSession"),
            std::string::npos)
      << configured.out;
  EXPECT_EQ(configured.out.find("async_sessionmaker"), std::string::npos) << configured.out;
  CliOutput overridden = run_awaitify(dir.path(), "diff --color never --target sqlalchemy=2.0");
  EXPECT_NE(overridden.out.find("async_sessionmaker"), std::string::npos) << overridden.out;
  CliOutput check = run_awaitify(dir.path(), "check --diff --target sqlalchemy=2.0");
  EXPECT_NE(check.out.find("async_sessionmaker"), std::string::npos) << check.out;

  CliOutput bad_flag = run_awaitify(dir.path(), "diff --target django=4.2");
  EXPECT_EQ(bad_flag.status, 2);
  EXPECT_NE(bad_flag.err.find(
                "unknown target 'django' (known: fastapi = a version (0.92), sqlalchemy = 1.4 or "
                "2.0)"),
            std::string::npos)
      << bad_flag.err;
  write_file(dir.path() / "pyproject.toml",
             "[tool.awaitify]\ntargets = { sqlalchemy = \"3.0\" }\n");
  CliOutput bad_config = run_awaitify(dir.path(), "apply");
  EXPECT_EQ(bad_config.status, 2);
  EXPECT_NE(bad_config.err.find("pyproject.toml:2: [tool.awaitify] 'targets.sqlalchemy': unknown "
                                "sqlalchemy version '3.0'"),
            std::string::npos)
      << bad_config.err;
  EXPECT_EQ(read_file(dir.path() / "api.py"), read_file(fixture / "api.py"));
}
