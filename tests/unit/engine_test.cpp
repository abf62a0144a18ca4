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
  return TransformInfo{.id = std::move(id),
                       .phase = "routes",
                       .summary = "test transform",
                       .explain = "",
                       .run = std::move(run)};
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

// The trigger words are looked for in one reading of the text: words that share their first
// bytes, a word at the very start or end, and one that holds another are each found or not.
TEST(Engine, APassRunsOnlyWhereOneOfItsTriggerWordsStands) {
  std::vector<std::string> ran;
  auto needing = [&](std::string id, std::vector<std::string> words) {
    TransformInfo info = transform(id, [&ran, id](const FileContext&) {
      ran.push_back(id);
      return PassResult{};
    });
    info.triggers = std::move(words);
    return info;
  };
  TransformInfo longer = needing("AW990", {"Sessionmaker"});
  TransformInfo exact = needing("AW991", {"Session"});
  TransformInfo prefix = needing("AW992", {"Sessio"});
  TransformInfo second_word_at_start = needing("AW993", {"absent", "x ="});
  TransformInfo at_end = needing("AW994", {"'\n"});
  TransformInfo none = needing("AW995", {"absent", "Session("});
  run_on("x = 1  # Sess\ny = 'Session'\n",
         {&longer, &exact, &prefix, &second_word_at_start, &at_end, &none});
  EXPECT_EQ(ran, (std::vector<std::string>{"AW991", "AW992", "AW993", "AW994"}));
}

// A pass's words are looked for in the text the passes before it left.
TEST(Engine, APassRunsOnTheWordAnEarlierPassWrote) {
  TransformInfo writes = transform("AW990", [](const FileContext& context) {
    if (context.text().find("requests") != std::string_view::npos) return PassResult{};
    return PassResult{{Edit::insert(0, "import requests\n")}, {}};
  });
  bool ran = false;
  TransformInfo reads = transform("AW991", [&](const FileContext&) {
    ran = true;
    return PassResult{};
  });
  reads.triggers = {"requests"};
  FileOutcome outcome = run_on("x = 1\n", {&writes, &reads});
  EXPECT_TRUE(ran);
  EXPECT_EQ(outcome.result, "import requests\nx = 1\n");
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

// A pass that can tell from the index facts what it reports on a file it leaves unchanged is
// not run there (nor the file parsed for it); the file's ignore comments still apply.
TEST(Engine, AReportFromFactsStandsInForTheRunOnlyWhenItHasOne) {
  int runs = 0;
  TransformInfo reporting = transform("AW993", [&](const FileContext&) {
    ++runs;
    return PassResult{};
  });
  bool unchanged = true;
  reporting.report_from_facts = [&](const SourceFile& source, const ModuleFacts&,
                                    const ProjectIndex&,
                                    const Plan&) -> std::optional<std::vector<Finding>> {
    if (!unchanged) return std::nullopt;
    return std::vector<Finding>{
        Finding{"AW993", source.path(), source.position(0), Severity::warning, "first line"},
        Finding{"AW993", source.path(), source.position(6), Severity::warning, "second line"}};
  };
  FileOutcome outcome = run_on("x = 1\ny = 2  # awaitify: ignore[AW993]\n", {&reporting});
  EXPECT_EQ(runs, 0);
  ASSERT_EQ(outcome.findings.size(), 1u);
  EXPECT_EQ(outcome.findings[0].message, "first line");
  unchanged = false;
  run_on("x = 1\n", {&reporting});
  EXPECT_EQ(runs, 1);
}

namespace {

// Runs a pass's report from facts and the pass itself on one file (nothing made async by a
// plan): both must report the same findings, in the same order, unless the pass changes the
// file, and then the report from facts must not stand in for it. A report that `may_decline`
// may also decline where the pass changes nothing (the file is then parsed, as before).
// Returns how many findings were compared (none when the pass changes the file or the report
// declines).
size_t expect_report_matches_run(const std::string& id, const std::string& text,
                                 bool may_decline = false) {
  SCOPED_TRACE(id + " on:\n" + text);
  const TransformInfo* pass = find_transform(id);
  EXPECT_TRUE(pass && pass->report_from_facts);
  if (!pass || !pass->report_from_facts) return 0;
  SourceFile source("m.py", text);
  auto facts = facts_for(source);
  EXPECT_TRUE(facts.ok());
  if (!facts.ok()) return 0;
  ProjectIndex index(std::vector<ModuleFacts>{*facts});
  Plan plan;
  auto reported = pass->report_from_facts(source, *facts, index, plan);
  Parser parser;
  auto tree = parser.parse(source.text());
  EXPECT_TRUE(tree.ok());
  if (!tree.ok()) return 0;
  Settings settings;
  settings.values["aiofiles-os"] = "true";
  FileContext context{source, tree->root(), *facts, index, plan, &settings, nullptr, &*facts};
  PassResult ran = pass->run(context);
  if (may_decline && !reported) return 0;
  EXPECT_EQ(reported.has_value(), ran.edits.empty());
  if (!reported || !ran.edits.empty()) return 0;
  EXPECT_EQ(reported->size(), ran.findings.size());
  for (size_t i = 0; i < std::min(reported->size(), ran.findings.size()); ++i) {
    EXPECT_EQ((*reported)[i].id, ran.findings[i].id);
    EXPECT_EQ((*reported)[i].position.line, ran.findings[i].position.line);
    EXPECT_EQ((*reported)[i].position.column, ran.findings[i].position.column);
    EXPECT_EQ((*reported)[i].severity, ran.findings[i].severity);
    EXPECT_EQ((*reported)[i].message, ran.findings[i].message);
  }
  return ran.findings.size();
}

}  // namespace

// AW301 reports, from the verdicts the index facts keep, what it reports when run on the tree.
TEST(Engine, OpenReportFromFactsMatchesTheRunOnTheTree) {
  // Sync functions the plan keeps sync: every open() is reported, refusals with their reason.
  EXPECT_EQ(expect_report_matches_run(
                "AW301",
                "import csv, tempfile\n\n"
                "def load(p):\n    with open(p) as f:\n        return f.read()\n\n"
                "def rows(p):\n    with open(p) as f:\n        return list(csv.reader(f))\n\n"
                "def both(p, q):\n    a = open(p).read()\n    with open(q) as f, open(p) as g:\n"
                "        return a + f.read() + g.read()\n\n"
                "class Store:\n    def get(self, p):\n        reader = lambda: open(p).read()\n"
                "        with tempfile.TemporaryDirectory() as d:\n            return reader(), d\n"),
            6u);
  // Async code: a tempfile outside `with` and an open() that cannot move are reported...
  EXPECT_EQ(expect_report_matches_run(
                "AW301",
                "import tempfile\n\n"
                "async def handler(p):\n    tmp = tempfile.NamedTemporaryFile()\n"
                "    with open(p) as f:\n        data = f.fileno()\n    return tmp, data\n"),
            2u);
  // ...one that can move is rewritten on the tree: there is no report from the facts.
  EXPECT_EQ(expect_report_matches_run(
                "AW301", "async def handler(p):\n    with open(p) as f:\n        return f.read()\n"),
            0u);
}

// The call rewrites (AW302, AW303, AW304) report from the index facts the calls they leave, in
// the order the pass finds them: calls the index keeps in two lists (blocking or not).
TEST(Engine, CallRewriteReportFromFactsMatchesTheRunOnTheTree) {
  EXPECT_EQ(expect_report_matches_run(
                "AW303",
                "import time\nfrom time import sleep\n\ntime.sleep(1)\n\n"
                "class Poller:\n    delay = time.sleep(0)\n\n"
                "    def wait(self):\n        f = lambda: time.sleep(2)\n        sleep(3)\n"
                "        return [time.sleep(i) for i in range(2)], f\n\n"
                "def outer():\n    def inner():\n        time.sleep(4)\n    time.sleep(5)\n"
                "    return inner\n"),
            7u);
  EXPECT_EQ(expect_report_matches_run(
                "AW303", "import time\n\nasync def tick():\n    time.sleep(1)\n"),
            0u);
  EXPECT_EQ(expect_report_matches_run(
                "AW302",
                "from fastapi import UploadFile\n\n"
                "def save(upload: UploadFile):\n    data = upload.file.read()\n"
                "    upload.file.seek(0)\n    return data\n"),
            2u);
  EXPECT_EQ(expect_report_matches_run(
                "AW304",
                "import os\n\nasync def clean(p):\n    f = lambda: os.remove(p)\n    return f\n\n"
                "def sync_clean(p):\n    os.remove(p)\n"),
            1u);
}

// AW701 reports nothing on a file that neither builds an app nor registers a handler, and
// parses every other file: a registration the index does not record as a call (in a
// function's signature) is found in the signature's lines.
TEST(Engine, LifespanReportFromFactsDeclinesWhereTheRunMayReport) {
  const TransformInfo* pass = find_transform("AW701");
  ASSERT_TRUE(pass && pass->report_from_facts);
  auto report = [&](const std::string& text) {
    SourceFile source("m.py", text);
    auto facts = facts_for(source);
    EXPECT_TRUE(facts.ok());
    ProjectIndex index(std::vector<ModuleFacts>{*facts});
    return pass->report_from_facts(source, *facts, index, Plan{});
  };
  const std::string plain = "def lifespan_hint():\n    hint = None\n    return hint or 'FastAPI'\n";
  EXPECT_TRUE(report("# FastAPI on_event\n" + plain).has_value());
  EXPECT_EQ(expect_report_matches_run("AW701", "# FastAPI on_event\n" + plain), 0u);
  // Names that are no call of an app or a registration, in a signature or a body: nothing to
  // report, as the run finds (fastapi's own signatures name FastAPI in Doc("... FastAPI() ...")).
  for (const char* text : {
           "def f():\n    return 'FastAPI'\n",
           "from fastapi import FastAPI\ndef make(app: FastAPI) -> FastAPI:\n    return app\n",
           "def f(doc: Annotated[str, Doc('app = FastAPI()')] = '', x: int = len('on_event')):\n"
           "    pass\n",
           "def on_event(self, kind):\n    pass\ndef fire_on_event(x=None):\n    pass\n",
       }) {
    EXPECT_TRUE(report(text).has_value()) << text;
    EXPECT_EQ(expect_report_matches_run("AW701", text), 0u);
  }
  // Registrations and apps, however written: the pass runs on the tree.
  for (const char* text : {
           "from fastapi import FastAPI\napp = FastAPI()\n",
           "def make():\n    from fastapi import FastAPI\n    return FastAPI(on_startup=[])\n",
           "def make():\n    title = 'x'\n    from fastapi import FastAPI\n"
           "    return FastAPI(title=title)\n",
           "from fastapi import FastAPI as Api\ndef handler(x: Api() = None):\n    pass\n",
           "@router.on_event('startup')\ndef start():\n    pass\n",
           "def wire(app):\n    app.add_event_handler('startup', print)\n",
           "from fastapi import APIRouter\nrouter = APIRouter()\n"
           "def handler(x=router.on_event('startup')):\n    pass\n",
       }) {
    EXPECT_FALSE(report(text).has_value()) << text;
    expect_report_matches_run("AW701", text, true);
  }
  // Annotations are no scope's code: the index records no call there, but the pass reports it.
  for (const char* signature :
       {"def handler(x: router.on_event('startup') = None):\n    pass\n",
        "def handler(\n    x: router.on_event('startup')): pass\n",
        "def handler(x: router.on_event  # a comment between the name and its call\n"
        "    ('startup') = None):\n    pass\n",
        "def handler(x=lambda: router.on_event('startup')):\n    pass\n",
        "def handler() -> router.on_event('startup'):\n    pass\n"}) {
    std::string text = "from fastapi import APIRouter\nrouter = APIRouter()\n" +
                       std::string(signature);
    EXPECT_FALSE(report(text).has_value()) << text;
    SourceFile source("m.py", text);
    auto facts = facts_for(source);
    ASSERT_TRUE(facts.ok());
    ProjectIndex index(std::vector<ModuleFacts>{*facts});
    Plan plan;
    Parser parser;
    auto tree = parser.parse(text);
    ASSERT_TRUE(tree.ok());
    FileContext context{source, tree->root(), *facts, index, plan, nullptr, nullptr, &*facts};
    EXPECT_EQ(pass->run(context).findings.size(), 1u) << text;
  }
}
