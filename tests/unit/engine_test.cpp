// The engine's own promises, with transforms written for the test: a pass whose result does
// not parse is never applied, overlapping edits are an internal error, passes see each
// other's results, and a planned transform never runs.
#include <gtest/gtest.h>

#include "awaitify/engine.hpp"
#include "awaitify/syntax.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

TransformInfo transform(std::string id, TransformFn run) {
  return TransformInfo{std::move(id), "routes", "test transform", "", {}, std::move(run)};
}

FileOutcome run_on(const std::string& text, const std::vector<const TransformInfo*>& transforms) {
  SourceFile source("m.py", text);
  auto facts = facts_for(source);
  EXPECT_TRUE(facts.ok());
  ProjectIndex index(std::vector<ModuleFacts>{*facts});
  Plan plan;
  return transform_source(source, index, plan, transforms);
}

}  // namespace

TEST(Engine, AResultThatDoesNotParseIsNeverAppliedAndNamesThePass) {
  TransformInfo breaks = transform("AW999", [](const FileContext&) {
    return PassResult{{Edit::insert(0, "def (")}, {}};
  });
  FileOutcome outcome = run_on("x = 1\n", {&breaks});
  ASSERT_TRUE(outcome.engine_error.has_value());
  EXPECT_EQ(*outcome.engine_error, "m.py: engine bug: AW999 produced code that does not parse; file left unchanged");
  EXPECT_FALSE(outcome.changed());
  EXPECT_EQ(outcome.result, "x = 1\n");
}

TEST(Engine, OverlappingEditsFromOnePassAreAnInternalError) {
  TransformInfo overlaps = transform("AW998", [](const FileContext&) {
    return PassResult{{Edit::replace(0, 3, "y"), Edit::replace(2, 5, "z")}, {}};
  });
  FileOutcome outcome = run_on("x = 1\n", {&overlaps});
  ASSERT_TRUE(outcome.engine_error.has_value());
  EXPECT_NE(outcome.engine_error->find("AW998: internal error: edit [2,5) overlaps edit [0,3)"), std::string::npos)
      << *outcome.engine_error;
  EXPECT_FALSE(outcome.changed());
}

TEST(Engine, EachPassSeesTheResultOfTheOneBefore) {
  TransformInfo first = transform("AW990", [](const FileContext&) {
    return PassResult{{Edit::insert(0, "a = 1\n")}, {}};
  });
  std::string seen;
  TransformInfo second = transform("AW991", [&](const FileContext& context) {
    seen = std::string(context.text());
    // Offsets refer to the re-parsed text: the first statement is the one just added.
    TSNode statement = ts_node_named_child(context.root, 0);
    return PassResult{{Edit::replace(ts_node_start_byte(statement), ts_node_end_byte(statement), "b = 2")}, {}};
  });
  FileOutcome outcome = run_on("x = 1\n", {&first, &second});
  EXPECT_EQ(seen, "a = 1\nx = 1\n");
  EXPECT_EQ(outcome.result, "b = 2\nx = 1\n");
  EXPECT_EQ(outcome.edits_by_transform.at("AW990"), 1);
  EXPECT_EQ(outcome.edits_by_transform.at("AW991"), 1);
}

TEST(Engine, PlannedTransformsAndUntriggeredPassesDoNotRun) {
  TransformInfo planned{"AW997", "db", "planned", "", {}, {}};
  bool ran = false;
  TransformInfo untriggered{"AW996", "db", "needs a word", "", {"requests"},
                            [&](const FileContext&) { ran = true; return PassResult{}; }};
  FileOutcome outcome = run_on("x = 1\n", {&planned, &untriggered});
  EXPECT_FALSE(ran);
  EXPECT_FALSE(outcome.changed());
  EXPECT_FALSE(outcome.engine_error.has_value());
}

TEST(Engine, SelectionValidatesPhasesAndIds) {
  EXPECT_FALSE(select_transforms(Selection{{"nope"}, {}, {}}).ok());
  EXPECT_FALSE(select_transforms(Selection{{}, {"AW000"}, {}}).ok());
  auto routes = select_transforms(Selection{{"routes"}, {}, {}});
  ASSERT_TRUE(routes.ok());
  for (const TransformInfo* info : *routes) EXPECT_EQ(info->phase, "routes");
  auto skipped = select_transforms(Selection{{"routes"}, {}, {"AW501"}});
  ASSERT_TRUE(skipped.ok());
  for (const TransformInfo* info : *skipped) EXPECT_NE(info->id, "AW501");
}

// A command that prints or writes only what changes drops the texts of the files it leaves as
// they are (peak memory on a large project); by default an outcome keeps them.
TEST(Engine, UnchangedOutcomesKeepTheirTextsOnlyWhenAsked) {
  TempDir dir;
  std::string changed = (dir.path() / "changed.py").string();
  std::string same = (dir.path() / "same.py").string();
  write_file(changed, "x = 1\n");
  write_file(same, "y = 2\n");
  TransformInfo adds = transform("AW990", [](const FileContext& context) {
    if (context.text() != "x = 1\n") return PassResult{};
    return PassResult{{Edit::insert(0, "a = 1\n")}, {}};
  });
  RunOptions options;
  options.jobs = 1;
  RunResult kept = run({changed, same}, {&adds}, options);
  ASSERT_EQ(kept.outcomes.size(), 2u);
  EXPECT_EQ(kept.outcomes[1].original.text(), "y = 2\n");
  EXPECT_EQ(kept.outcomes[1].result, "y = 2\n");
  options.keep_unchanged_texts = false;
  RunResult dropped = run({changed, same}, {&adds}, options);
  ASSERT_EQ(dropped.outcomes.size(), 2u);
  EXPECT_TRUE(dropped.outcomes[0].changed());
  EXPECT_EQ(dropped.outcomes[0].original.text(), "x = 1\n");
  EXPECT_EQ(dropped.outcomes[0].result, "a = 1\nx = 1\n");
  EXPECT_FALSE(dropped.outcomes[1].changed());
  EXPECT_EQ(dropped.outcomes[1].path, same);
  EXPECT_TRUE(dropped.outcomes[1].original.text().empty());
  EXPECT_TRUE(dropped.outcomes[1].result.empty());
}

// A pass that needs a setting (AW304's aiofiles-os) is not run, nor its file parsed, without it.
TEST(Engine, APassEnabledByASettingRunsOnlyWithIt) {
  int runs = 0;
  TransformInfo needs_setting = transform("AW995", [&](const FileContext&) {
    ++runs;
    return PassResult{};
  });
  needs_setting.enabled_by = "some-flag";
  SourceFile source("m.py", "x = 1\n");
  auto facts = facts_for(source);
  ASSERT_TRUE(facts.ok());
  ProjectIndex index(std::vector<ModuleFacts>{*facts});
  Plan plan;
  transform_source(source, index, plan, {&needs_setting});
  EXPECT_EQ(runs, 0);
  Settings on;
  on.values["some-flag"] = "true";
  transform_source(source, index, plan, {&needs_setting}, on);
  EXPECT_EQ(runs, 1);
}

// Seed functions are told the selected files: a seed elsewhere is dropped unless its group
// reaches in, so one whose seeds stand alone may skip the other files' work.
TEST(Engine, SeedFunctionsAreToldTheSelectedFiles) {
  SourceFile a("a.py", "def f():\n    pass\n");
  SourceFile b("b.py", "def g():\n    pass\n");
  ProjectIndex index(std::vector<ModuleFacts>{*facts_for(a), *facts_for(b)});
  std::vector<std::pair<bool, bool>> covered;
  TransformInfo seeding = transform("AW994", [](const FileContext&) { return PassResult{}; });
  seeding.seeds = [&](const ProjectIndex&, const Settings&, const SeedScope& scope) {
    covered.emplace_back(scope.covers("a.py"), scope.covers("b.py"));
    return std::vector<Seed>{Seed{"a.f", "test", "AW994"}, Seed{"b.g", "test", "AW994"}};
  };
  std::vector<Seed> seeds = collect_seeds(index, {&seeding}, {"a.py"}, 1);
  ASSERT_EQ(covered.size(), 1u);
  EXPECT_EQ(covered[0], std::make_pair(true, false));
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].function, "a.f");
}
