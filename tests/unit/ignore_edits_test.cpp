// `# awaitify: ignore` on a line, as the engine applies it to a pass's edits (with passes written
// for the test): dropped when nothing depends on them, kept with a warning when something could
// break, counted by the comment's line in the file as read.
#include <gtest/gtest.h>

#include "awaitify/engine.hpp"

using namespace awaitify;

namespace {

TransformInfo transform(std::string id, TransformFn run) {
  return TransformInfo{.id = std::move(id),
                       .phase = "files",
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

// Replaces every `old` in the text with `replacement`, as one edit each.
TransformInfo replacing(std::string id, std::string old, std::string replacement) {
  return transform(std::move(id), [old, replacement](const FileContext& context) {
    PassResult result;
    std::string_view text = context.text();
    for (size_t at = text.find(old); at != std::string_view::npos; at = text.find(old, at + 1)) {
      result.edits.push_back(Edit::replace(static_cast<uint32_t>(at),
                                           static_cast<uint32_t>(at + old.size()), replacement));
    }
    return result;
  });
}

const std::string kTwoSleeps =
    "import time\n\n\nasync def poll():\n    time.sleep(1)  # awaitify: ignore[AW303]\n"
    "    time.sleep(2)\n";

}  // namespace

TEST(IgnoreEdits, IndependentEditsOnAnIgnoredLineAreDroppedAndCountedByTheOriginalLine) {
  TransformInfo header = transform("AW201", [](const FileContext&) {
    return PassResult{{Edit::insert(0, "import asyncio\n")}, {}};
  });
  TransformInfo sleeps = replacing("AW303", "time.sleep(", "await asyncio.sleep(");
  FileOutcome outcome = run_on(kTwoSleeps, {&header, &sleeps});
  EXPECT_EQ(outcome.result,
            "import asyncio\nimport time\n\n\nasync def poll():\n"
            "    time.sleep(1)  # awaitify: ignore[AW303]\n    await asyncio.sleep(2)\n");
  std::set<std::pair<std::string, std::string>> expected{{"AW303", "m.py:5"}};
  EXPECT_EQ(outcome.suppressed, expected);
  EXPECT_TRUE(outcome.findings.empty());
}

TEST(IgnoreEdits, AnotherRuleIsNotSuppressed) {
  TransformInfo sleeps = replacing("AW201", "time.sleep(", "await asyncio.sleep(");
  FileOutcome outcome = run_on(kTwoSleeps, {&sleeps});
  EXPECT_NE(outcome.result.find("await asyncio.sleep(1)  # awaitify"), std::string::npos);
  EXPECT_TRUE(outcome.suppressed.empty());
}

TEST(IgnoreEdits, AnAwaitAloneIsKeptWithAWarning) {
  const std::string text =
      "async def save(db):\n    db.commit()  # awaitify: ignore[AW104]\n    db.refresh(x)\n";
  TransformInfo awaits = transform("AW104", [](const FileContext& context) {
    PassResult result;
    for (const char* call : {"db.commit()", "db.refresh(x)"}) {
      size_t at = context.text().find(call);
      result.edits.push_back(Edit::insert(static_cast<uint32_t>(at), "await "));
    }
    return result;
  });
  FileOutcome outcome = run_on(text, {&awaits});
  EXPECT_NE(outcome.result.find("    await db.commit()  # awaitify"), std::string::npos);
  ASSERT_EQ(outcome.findings.size(), 1u);
  EXPECT_EQ(outcome.findings[0].position.line, 2u);
  EXPECT_NE(outcome.findings[0].message.find("`# awaitify: ignore[AW104]` not honoured"),
            std::string::npos)
      << outcome.findings[0].message;
  EXPECT_NE(outcome.findings[0].message.find("returns a coroutine now"), std::string::npos);
  EXPECT_TRUE(outcome.suppressed.empty());
}

TEST(IgnoreEdits, ModuleLevelAndBoundNamesAreKeptWithAWarning) {
  TransformInfo client = replacing("AW201", "requests.Session()", "httpx.AsyncClient()");
  FileOutcome module = run_on("s = requests.Session()  # awaitify: ignore\n", {&client});
  EXPECT_EQ(module.result, "s = httpx.AsyncClient()  # awaitify: ignore\n");
  ASSERT_EQ(module.findings.size(), 1u);
  EXPECT_NE(module.findings[0].message.find("module-level code"), std::string::npos);

  const std::string text =
      "async def f():\n    s = requests.Session()  # awaitify: ignore\n    return s.get(u)\n";
  TransformInfo uses = transform("AW201", [](const FileContext& context) {
    std::string_view src = context.text();
    auto at = [&](std::string_view what) { return static_cast<uint32_t>(src.find(what)); };
    return PassResult{{Edit::replace(at("requests.Session()"), at("requests.Session()") + 18,
                                     "httpx.AsyncClient()"),
                       Edit::insert(at("s.get"), "await ")},
                      {}};
  });
  FileOutcome bound = run_on(text, {&uses});
  EXPECT_NE(bound.result.find("await s.get(u)"), std::string::npos);
  EXPECT_NE(bound.result.find("s = httpx.AsyncClient()"), std::string::npos);
  ASSERT_EQ(bound.findings.size(), 1u);
  EXPECT_NE(bound.findings[0].message.find("use `s`, which it binds"), std::string::npos)
      << bound.findings[0].message;
}

TEST(IgnoreEdits, AnImportTheIgnoredLineUsesIsKept) {
  TransformInfo sleeps = transform("AW303", [](const FileContext& context) {
    std::string_view src = context.text();
    PassResult result;
    for (size_t at = src.find("time.sleep("); at != std::string_view::npos;
         at = src.find("time.sleep(", at + 1)) {
      result.edits.push_back(Edit::replace(static_cast<uint32_t>(at),
                                           static_cast<uint32_t>(at + 11), "await asyncio.sleep("));
    }
    // `import time` is unused once every call is rewritten: the pass drops it.
    result.edits.push_back(Edit::replace(0, 12, ""));
    result.edits.push_back(Edit::insert(12, "import asyncio\n"));
    return result;
  });
  FileOutcome outcome = run_on(kTwoSleeps, {&sleeps});
  EXPECT_EQ(outcome.result,
            "import time\nimport asyncio\n\n\nasync def poll():\n"
            "    time.sleep(1)  # awaitify: ignore[AW303]\n    await asyncio.sleep(2)\n");
  EXPECT_EQ(outcome.suppressed.size(), 1u);
  EXPECT_TRUE(outcome.findings.empty());
}

TEST(IgnoreEdits, ASkipFileRunsNoPassAndMalformedDirectivesAreWarned) {
  TransformInfo sleeps = replacing("AW303", "time.sleep(", "await asyncio.sleep(");
  FileOutcome skipped = run_on("# awaitify: skip-file\n" + kTwoSleeps, {&sleeps});
  EXPECT_TRUE(skipped.skipped);
  EXPECT_FALSE(skipped.changed());
  FileOutcome malformed = run_on("x = 1  # awaitify: ignore[]\n", {&sleeps});
  ASSERT_EQ(malformed.directive_warnings.size(), 1u);
  EXPECT_EQ(malformed.directive_warnings[0],
            "m.py:1: # awaitify: ignore[] (not an awaitify directive)");
}
