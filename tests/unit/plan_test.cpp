#include <gtest/gtest.h>

#include "awaitify/engine.hpp"
#include "awaitify/plan.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

struct Project {
  TempDir dir;
  ProjectIndex index;
};

std::unique_ptr<Project> project(const std::map<std::string, std::string>& files) {
  auto result = std::make_unique<Project>();
  std::vector<ModuleFacts> modules;
  for (const auto& [path, text] : files) write_file(result->dir.path() / path, text);
  for (const auto& [path, text] : files) {
    auto facts = facts_for(SourceFile((result->dir.path() / path).string(), text));
    EXPECT_TRUE(facts.ok()) << path;
    modules.push_back(*facts);
  }
  result->index = ProjectIndex(std::move(modules));
  return result;
}

Plan plan_from(const Project& p, const std::string& seed, PlanOptions options = {}) {
  return build_plan(p.index, {Seed{seed, "test seed", "TEST"}}, options);
}

}  // namespace

TEST(Plan, MutualRecursionTerminatesAndBothBecomeAsync) {
  auto p = project({{"m.py",
                     "async def io():\n    pass\n"
                     "def even(n):\n    io()\n    return odd(n - 1)\n"
                     "def odd(n):\n    return even(n - 1)\n"}});
  Plan plan = plan_from(*p, "m.even");
  EXPECT_TRUE(plan.becomes_async("m.even"));
  EXPECT_TRUE(plan.becomes_async("m.odd"));
  EXPECT_TRUE(plan.stops().empty());
}

TEST(Plan, DiamondReachesTheTopOnce) {
  auto p = project({{"m.py",
                     "def low():\n    pass\n"
                     "def left():\n    return low()\n"
                     "def right():\n    return low()\n"
                     "def top():\n    return left() + right()\n"}});
  Plan plan = plan_from(*p, "m.low");
  EXPECT_EQ(plan.functions(), (std::set<std::string>{"m.low", "m.left", "m.right", "m.top"}));
}

TEST(Plan, OverriddenMethodsFollowEachOther) {
  auto p = project({{"m.py",
                     "class Repo:\n    def load(self):\n        return 1\n"
                     "class SqlRepo(Repo):\n    def load(self):\n        return 2\n"
                     "def use(repo: Repo):\n    return repo.load()\n"}});
  Plan plan = plan_from(*p, "m.SqlRepo.load");
  EXPECT_TRUE(plan.becomes_async("m.Repo.load"));
  EXPECT_TRUE(plan.becomes_async("m.use"));  // through the typed parameter
}

TEST(Plan, AStopRefusesTheSeedWithItsChain) {
  auto p = project({{"m.py",
                     "def low():\n    pass\n"
                     "def mid():\n    return low()\n"
                     "class Box:\n    def __init__(self):\n        self.v = mid()\n"}});
  Plan plan = plan_from(*p, "m.low");
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.refused("m.low"));
  ASSERT_EQ(plan.stops().size(), 1u);
  const Stop& stop = plan.stops().front();
  EXPECT_EQ(stop.reason, "called from __init__, which Python calls synchronously");
  ASSERT_EQ(stop.chain.size(), 3u);
  EXPECT_EQ(stop.chain[0], (p->dir.path() / "m.py").string() + ":1 m.low");
  EXPECT_EQ(stop.chain[1], (p->dir.path() / "m.py").string() + ":4 m.mid");
  EXPECT_NE(stop.chain[2].find("m.py:7 m.Box.__init__"), std::string::npos) << stop.chain[2];
}

TEST(Plan, EachKindOfStop) {
  struct Case {
    std::string code;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"x = [lambda: f()]\n", "called inside a lambda, which cannot await"},
           {"def g(xs):\n    return any(f() for x in xs)\n", "called inside a generator expression"},
           {"class C:\n    v = f()\n", "called in a class body, at import time"},
           {"def g(v=f()):\n    pass\n", "called in a parameter default, at definition time"},
           {"class C:\n    @property\n    def v(self):\n        return f()\n", "called from a property, which cannot be awaited"},
           {"def g():\n    yield f()\n", "called from a sync generator; its consumers would need async for"},
           {"import threading\nthreading.Thread(target=f)\n",
            "passed as a value to threading.Thread, which would receive a coroutine function"},
       }) {
    auto p = project({{"m.py", "def f():\n    pass\n" + c.code}});
    Plan plan = plan_from(*p, "m.f");
    ASSERT_FALSE(plan.stops().empty()) << c.code;
    EXPECT_EQ(plan.stops().front().reason, c.reason) << c.code;
    EXPECT_TRUE(plan.empty()) << c.code;
  }
}

TEST(Plan, DependsIsNotAStopAndMainIsAnEntryPoint) {
  auto p = project({{"m.py",
                     "from fastapi import Depends\n"
                     "def dep():\n    pass\n"
                     "def route(x=Depends(dep)):\n    pass\n"
                     "if __name__ == '__main__':\n    dep()\n"}});
  Plan plan = plan_from(*p, "m.dep");
  EXPECT_TRUE(plan.stops().empty());
  EXPECT_TRUE(plan.becomes_async("m.dep"));
}

TEST(Plan, ImportedModuleLevelCodeStopsButAScriptDoesNot) {
  auto p = project({{"pkg/__init__.py", ""},
                    {"pkg/lib.py", "def f():\n    pass\nVALUE = f()\n"},
                    {"pkg/user.py", "from . import lib\n"},
                    {"script.py", "from pkg.lib import f\nf()\n"}});
  Plan plan = plan_from(*p, "pkg.lib.f");
  ASSERT_EQ(plan.stops().size(), 1u);
  EXPECT_NE(plan.stops().front().chain.back().find("pkg/lib.py:3"), std::string::npos);
}

TEST(Plan, OneAsyncioRunPerTopLevelStatement) {
  auto p = project({{"script.py", "def f():\n    return 1\ndef g():\n    return 2\nprint(f(), g())\nprint(f())\n"}});
  Plan plan = plan_from(*p, "script.g");
  ASSERT_EQ(plan.stops().size(), 1u);
  EXPECT_NE(plan.stops().front().reason.find("own asyncio.run"), std::string::npos);
}

TEST(Plan, NoExpandStopsAtCallersOutsideTheSelection) {
  auto p = project({{"a.py", "def f():\n    pass\n"}, {"b.py", "from a import f\ndef g():\n    f()\n"}});
  std::string a = (p->dir.path() / "a.py").string();
  std::string b = (p->dir.path() / "b.py").string();
  Plan expanded = plan_from(*p, "a.f", PlanOptions{{a}, true});
  EXPECT_TRUE(expanded.becomes_async("b.g"));
  EXPECT_EQ(expanded.pulled_in(), std::set<std::string>{b});
  Plan refused = plan_from(*p, "a.f", PlanOptions{{a}, false});
  EXPECT_TRUE(refused.refused("a.f"));
  EXPECT_EQ(refused.stops().front().reason, "the caller is outside the selected paths (--no-expand)");
}

TEST(Plan, UntypedCallsOfAMethodNameStopIt) {
  auto p = project({{"m.py",
                     "class Store:\n    def save(self):\n        pass\n"
                     "def persist(thing):\n    thing.save()\n"}});
  Plan plan = plan_from(*p, "m.Store.save");
  ASSERT_FALSE(plan.stops().empty());
  EXPECT_NE(plan.stops().front().reason.find("`.save(...)` is called on an object"), std::string::npos);
}

TEST(Plan, ReportsStarImportsAsUnresolved) {
  auto p = project({{"a.py", "def f():\n    pass\n"}, {"b.py", "from a import *\ndef g():\n    f()\n"}});
  Plan plan = plan_from(*p, "a.f");
  ASSERT_EQ(plan.unresolved().size(), 1u);
  EXPECT_NE(plan.unresolved().front().find("`from a import *`"), std::string::npos);
  EXPECT_NE(plan.describe().find("unresolved: "), std::string::npos);
  EXPECT_FALSE(plan.becomes_async("b.g"));  // not followed: said, not guessed
}

TEST(Plan, DescribesTheTreeAndJson) {
  auto p = project({{"m.py", "def low():\n    pass\ndef top():\n    return low()\n"}});
  Plan plan = plan_from(*p, "m.low");
  EXPECT_EQ(plan.describe(), "async m.low  — test seed\n  async m.top  — calls m.low (" +
                                 (p->dir.path() / "m.py").string() + ":4)\n");
  EXPECT_NE(plan.to_json().find("\"function\": \"m.top\""), std::string::npos);
}

TEST(Plan, TestsAndFixturesJoinTheClosureOnlyWhenTheTestsPhaseRuns) {
  auto p = project({{"tests/test_api.py",
                     "import pytest\n"
                     "def login(client):\n    return client.post('/login')\n"
                     "@pytest.fixture\ndef session(client):\n    yield login(client)\n"
                     "def test_login(client):\n    assert login(client)\n"}});
  Plan stopped = plan_from(*p, "test_api.login");
  EXPECT_TRUE(stopped.refused("test_api.login"));
  EXPECT_EQ(stopped.stops().front().reason, "called from a pytest test or fixture; the tests phase converts those");

  PlanOptions tests_phase;
  tests_phase.tests_join_closure = true;
  Plan joined = plan_from(*p, "test_api.login", tests_phase);
  EXPECT_TRUE(joined.stops().empty());
  EXPECT_TRUE(joined.becomes_async("test_api.test_login"));
  EXPECT_TRUE(joined.becomes_async("test_api.session"));  // a yield fixture: an async generator
}

TEST(Plan, ASyncGeneratorThatIsNoFixtureStillStopsInTheTestsPhase) {
  auto p = project({{"tests/test_api.py",
                     "def login(client):\n    return client.post('/login')\n"
                     "def logins(client):\n    yield login(client)\n"}});
  PlanOptions tests_phase;
  tests_phase.tests_join_closure = true;
  Plan plan = plan_from(*p, "test_api.login", tests_phase);
  ASSERT_EQ(plan.stops().size(), 1u);
  EXPECT_EQ(plan.stops().front().reason, "called from a sync generator; its consumers would need async for");
}
