// Change sets (apply --interactive): seeds that touch one function are one set, and a held set
// keeps its functions and their callers as they are.
#include "awaitify/change_sets.hpp"

#include <gtest/gtest.h>

#include "awaitify/engine.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

// Two seeds that meet in one caller (`both`), and one on its own (`alone`).
const char* kModule =
    "def alone():\n    pass\n"
    "def left():\n    pass\n"
    "def right():\n    pass\n"
    "def both():\n    return left() + right()\n";

ProjectIndex index_of(const std::string& text) {
  auto facts = facts_for(SourceFile("m.py", text));
  EXPECT_TRUE(facts.ok());
  std::vector<ModuleFacts> modules;
  if (facts) modules.push_back(*facts);
  return ProjectIndex(std::move(modules));
}

std::vector<Seed> seeds(const std::vector<std::string>& functions) {
  std::vector<Seed> result;
  for (const std::string& function : functions) result.push_back({function, "test seed", "TEST"});
  return result;
}

}  // namespace

TEST(ChangeSets, SeedsThatShareACallerAreOneSetInSourceOrder) {
  ProjectIndex index = index_of(kModule);
  Plan plan = build_plan(index, seeds({"m.right", "m.left", "m.alone"}), PlanOptions{});
  std::vector<ChangeSet> sets = change_sets(plan);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].seeds, (std::vector<std::string>{"m.alone"}));
  EXPECT_EQ(sets[0].line, 1u);
  EXPECT_EQ(sets[1].functions, (std::set<std::string>{"m.both", "m.left", "m.right"}));
  EXPECT_EQ(sets[1].line, 3u);
}

TEST(ChangeSets, SeedsOfOneGroupAreOneSet) {
  ProjectIndex index = index_of(kModule);
  std::vector<Seed> grouped = seeds({"m.alone", "m.left"});
  for (Seed& seed : grouped) seed.group = "session";
  Plan plan = build_plan(index, grouped, PlanOptions{});
  EXPECT_EQ(change_sets(plan).size(), 1u);
}

TEST(ChangeSets, AHeldSetKeepsItsFunctionsAndCallersSync) {
  ProjectIndex index = index_of(kModule);
  std::vector<Seed> all = seeds({"m.alone", "m.left", "m.right"});
  std::vector<ChangeSet> sets = change_sets(build_plan(index, all, PlanOptions{}));
  ASSERT_EQ(sets.size(), 2u);
  PlanOptions options;
  options.held = held_seeds(sets, {true, false});
  EXPECT_EQ(options.held, (std::set<std::string>{"m.left", "m.right"}));
  Plan plan = build_plan(index, all, options);
  EXPECT_EQ(plan.functions(), (std::set<std::string>{"m.alone"}));
  EXPECT_TRUE(plan.refused("m.left"));
  ASSERT_FALSE(plan.stops_for("m.left").empty());
  EXPECT_TRUE(plan.stops_for("m.left").front().held);
}

TEST(ChangeSets, SeedsOfOneChangeUnitAreOneSet) {
  ProjectIndex index = index_of(kModule);
  std::vector<Seed> linked = seeds({"m.alone", "m.left"});
  for (Seed& seed : linked) seed.change_unit = "client";
  EXPECT_EQ(change_sets(build_plan(index, linked, PlanOptions{})).size(), 1u);
  EXPECT_EQ(change_sets(build_plan(index, seeds({"m.alone", "m.left"}), PlanOptions{})).size(), 2u);
}
