#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "awaitify/rewrite.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

// Awaits the first call whose text is `call` and returns the new text, or the refusal.
std::string await_first(const std::string& text, const std::string& call, bool becomes_async = true) {
  Parsed parsed = parse(text);
  auto edits = await_expression(find_node(parsed, "call", call), becomes_async);
  if (!edits) return "refused: " + edits.error().message;
  return apply_edits(text, *edits);
}

}  // namespace

TEST(Syntax, ReportsFirstSyntaxError) {
  Parsed parsed = parse("x = 1\ndef f(:\n    pass\n");
  auto error = first_syntax_error(parsed.root());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(parsed.source.position(ts_node_start_byte(*error)).line, 2u);
  EXPECT_FALSE(first_syntax_error(parse("x = 1\n").root()).has_value());
}

TEST(Syntax, AnErrorOnlyAHiddenMissingTokenShowsIsStillAnError) {
  // Lines ending in a lone CR: tree-sitter-python reads one line with MISSING _newline tokens,
  // which are not visible nodes; the file must not pass for one that parses.
  Parsed parsed = parse("import x\r\ry = 1\r");
  ASSERT_TRUE(ts_node_has_error(parsed.root()));
  EXPECT_TRUE(first_syntax_error(parsed.root()).has_value());
  EXPECT_EQ(count_syntax_errors(parsed.root()), 1u);
}

TEST(Syntax, WalksDeepNestingWithoutRecursion) {
  std::string text = "x = " + std::string(5000, '(') + "1" + std::string(5000, ')') + "\n";
  Parsed parsed = parse(text);
  size_t count = 0;
  walk(parsed.root(), [&](TSNode) { return ++count, true; });
  EXPECT_GT(count, 5000u);
}

// The walks (and children, named_children) read the tree's memory directly where the build
// allows (src/direct_walk.hpp), or step by the cursor but stop at a node's last child by its
// child count, not by the cursor failing to move: the count must agree with what the cursor
// steps through, or children would be skipped. A reference walk by ts_node_child, with its path
// of ancestors, on every fixture file, whole and cut short (ERROR and MISSING nodes), checks that
// they visit the same nodes, each with the same position and type (a direct walk makes its
// nodes itself: their start and alias are its own reckoning).
TEST(Syntax, WalksVisitEveryNodeWithItsAncestors) {
  namespace fs = std::filesystem;
  struct Step {
    TSNode node;
    std::vector<TSNode> ancestors;
  };
  auto reference = [](TSNode root) {
    std::vector<Step> steps;
    std::vector<Step> stack{{root, {}}};
    while (!stack.empty()) {
      Step step = std::move(stack.back());
      stack.pop_back();
      std::vector<TSNode> below = step.ancestors;
      below.push_back(step.node);
      for (uint32_t i = ts_node_child_count(step.node); i-- > 0;)
        stack.push_back({ts_node_child(step.node, i), below});
      steps.push_back(std::move(step));
    }
    return steps;
  };
  auto same_node = [](TSNode a, TSNode b) {
    TSPoint a_start = ts_node_start_point(a), b_start = ts_node_start_point(b);
    TSPoint a_end = ts_node_end_point(a), b_end = ts_node_end_point(b);
    return ts_node_eq(a, b) && ts_node_symbol(a) == ts_node_symbol(b) &&
           ts_node_is_named(a) == ts_node_is_named(b) &&
           ts_node_start_byte(a) == ts_node_start_byte(b) &&
           ts_node_end_byte(a) == ts_node_end_byte(b) && a_start.row == b_start.row &&
           a_start.column == b_start.column && a_end.row == b_end.row &&
           a_end.column == b_end.column;
  };
  auto same = [&](const std::vector<TSNode>& a, const std::vector<TSNode>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_node);
  };
  size_t files = 0, nodes = 0, errors = 0;
  for (const auto& entry : fs::recursive_directory_iterator(AWAITIFY_FIXTURES)) {
    if (entry.path().extension() != ".py") continue;
    std::string whole = read_file(entry.path());
    ++files;
    for (size_t cut : {whole.size(), whole.size() * 2 / 3, whole.size() / 3}) {
      std::string text = whole.substr(0, cut) + (cut < whole.size() ? "(\n  x = [" : "");
      Parser parser;
      auto tree = parser.parse(text);
      ASSERT_TRUE(tree.ok());
      std::vector<Step> expected = reference(tree->root());
      std::vector<TSNode> walked;
      walk(tree->root(), [&](TSNode node) {
        walked.push_back(node);
        return true;
      });
      ASSERT_EQ(walked.size(), expected.size()) << entry.path() << " cut at " << cut;
      size_t at = 0;
      walk_with_ancestors(tree->root(), [&](TSNode node, const std::vector<TSNode>& ancestors) {
        EXPECT_TRUE(same_node(node, walked[at]) && same_node(node, expected[at].node) &&
                    same(ancestors, expected[at].ancestors))
            << entry.path() << " cut at " << cut << ", node " << at;
        ++at;
        return true;
      });
      EXPECT_EQ(at, expected.size());
      // children and named_children stop at the last child by its count too.
      for (const Step& step : expected) {
        std::vector<TSNode> all, named;
        for (uint32_t i = 0; i < ts_node_child_count(step.node); ++i)
          all.push_back(ts_node_child(step.node, i));
        for (uint32_t i = 0; i < ts_node_named_child_count(step.node); ++i)
          named.push_back(ts_node_named_child(step.node, i));
        ASSERT_TRUE(same(children(step.node), all) && same(named_children(step.node), named))
            << entry.path() << " cut at " << cut << ": " << ts_node_type(step.node);
        // is() reads the type tree-sitter names, is_named() what it says of the node.
        ASSERT_TRUE(is(step.node, ts_node_type(step.node)) &&
                    is_named(step.node) == ts_node_is_named(step.node))
            << entry.path() << " cut at " << cut;
        // field() finds what tree-sitter finds, for every field of the grammar.
        for (TSFieldId id = 1; id <= ts_language_field_count(awaitify_python_language()); ++id) {
          TSNode expected_field = ts_node_child_by_field_id(step.node, id);
          TSNode found =
              field(step.node, ts_language_field_name_for_id(awaitify_python_language(), id));
          ASSERT_TRUE(ts_node_is_null(found) ? ts_node_is_null(expected_field)
                                             : same_node(found, expected_field))
              << entry.path() << " cut at " << cut << ": " << ts_node_type(step.node) << "."
              << ts_language_field_name_for_id(awaitify_python_language(), id);
        }
      }
      nodes += expected.size();
      errors += count_syntax_errors(tree->root());
    }
  }
  EXPECT_GT(files, 100u);
  EXPECT_GT(errors, files) << "the cut texts have syntax errors to walk";
  // Skipping children: a node's children are not visited, the walk goes on after them.
  Parser parser;
  auto tree = parser.parse("def f(a):\n    return g(a)\nx = 1\n");
  ASSERT_TRUE(tree.ok());
  std::vector<std::string> types;
  walk(tree->root(), [&](TSNode node) {
    types.push_back(ts_node_type(node));
    return !is(node, "function_definition");
  });
  EXPECT_EQ(types, (std::vector<std::string>{"module", "function_definition", "expression_statement",
                                             "assignment", "identifier", "=", "integer"}));
  EXPECT_GT(nodes, 0u);
  // An absent field: the node is visited, nothing below it.
  size_t visited = 0;
  walk(field(tree->root(), "no_such_field"), [&](TSNode node) {
    EXPECT_TRUE(ts_node_is_null(node));
    return ++visited, true;
  });
  EXPECT_EQ(visited, 1u);
  // Nor has it children.
  EXPECT_TRUE(children(field(tree->root(), "no_such_field")).empty());
  EXPECT_TRUE(named_children(field(tree->root(), "no_such_field")).empty());
}

TEST(Syntax, DottedNames) {
  Parsed parsed = parse("a.b.c()\n");
  EXPECT_EQ(dotted_name(field(find_node(parsed, "call"), "function"), parsed.source.text()), "a.b.c");
}

TEST(Syntax, QueryMatchesCaptures) {
  auto query = Query::compile("(call function: (identifier) @name)");
  ASSERT_TRUE(query.ok());
  Parsed parsed = parse("f()\ng(h())\n");
  std::vector<std::string> names;
  for (const Match& match : query->matches(parsed.root())) {
    names.emplace_back(node_text(match.front().node, parsed.source.text()));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"f", "g", "h"}));
  EXPECT_FALSE(Query::compile("(call").ok());
}

TEST(Syntax, NodeTypeMatchesExactlyTheNodesIsMatches) {
  // Keywords that are also expressions (await, yield, lambda), aliased nodes (as_pattern_target,
  // string parts), an ERROR node: every node against every type name seen.
  Parsed parsed = parse(
      "import a.b as c\n"
      "@d(x=1)\n"
      "async def f(p: int = 2, *q, **r) -> str:\n"
      "    with open('x') as h, g() as (i, j):\n"
      "        await h.read()\n"
      "    y = [k for k in (yield 1) if k]\n"
      "    z = lambda: {m: n for m, n in r.items()}\n"
      "    return f\"{y!r:>{z}}\" + b'\\x00'\n"
      "class K(Base, metaclass=M):\n"
      "    def g(self): yield from self.h\n"
      "match a:\n"
      "    case [1, *rest] | {'k': _}: pass\n"
      "x = ) + (\n");
  std::vector<TSNode> nodes;
  std::set<std::string> names;
  walk(parsed.root(), [&](TSNode node) {
    nodes.push_back(node);
    names.insert(std::string(kind(node)));
    return true;
  });
  ASSERT_TRUE(names.count("ERROR"));
  ASSERT_TRUE(names.count("await") && names.count("yield") && names.count("as_pattern_target"));
  names.insert("no_such_type");
  for (const std::string& name : names) {
    NodeType type(name);
    for (TSNode node : nodes) {
      EXPECT_EQ(type.of(ts_node_symbol(node)), is(node, name)) << name << " / " << kind(node);
    }
  }
}

// The shapes of edit the passes make: insertions ('async ', 'await ', a line, an
// indented block), replacements of a name or a line, a deletion, two insertions at one offset.
TEST(Syntax, ReparseAfterEditsGivesTheTreeOfAFreshParse) {
  std::string text =
      "import requests\n"
      "from fastapi import FastAPI\n"
      "app = FastAPI()\n"
      "\n"
      "@app.get('/items/{id}')\n"
      "def read(id: int, db=Depends(get_db)):\n"
      "    r = requests.get(f'http://x/{id}', timeout=3)\n"
      "    with open('f.txt') as fh:\n"
      "        data = fh.read()\n"
      "    return {'id': id, 'data': data, 'r': r.json()}\n"
      "\n"
      "def helper(x):\n"
      "    if x:\n"
      "        return read(x)\n"
      "    return [read(i) for i in range(3)]\n";
  auto at = [&](const std::string& needle, size_t from = 0) {
    size_t found = text.find(needle, from);
    EXPECT_NE(found, std::string::npos) << needle;
    return static_cast<uint32_t>(found);
  };
  uint32_t read_def = at("def read");
  uint32_t helper_def = at("def helper");
  uint32_t get = at("requests.get");
  uint32_t with = at("    with open");
  uint32_t call = at("read(x)");
  uint32_t in_list = at("read(i)");
  uint32_t import = at("import requests");
  std::vector<std::vector<Edit>> cases = {
      {Edit::insert(read_def, "async ")},
      {Edit::insert(read_def, "async "), Edit::insert(helper_def, "async "),
       Edit::insert(call, "await "), Edit::insert(in_list, "await ")},
      {Edit::replace(get, get + 8, "await client"), Edit::insert(import, "import httpx\n")},
      {Edit::replace(with, with + 8, "    async with"), Edit::insert(at("fh.read()"), "await ")},
      {Edit::insert(import, "from contextlib import asynccontextmanager\n"),
       Edit::insert(import, "\n"),
       Edit::replace(at("app = FastAPI()"), at("app = FastAPI()") + 15,
                     "app = FastAPI(\n    lifespan=lifespan,\n)")},
      {Edit::replace(with, at("    return {"), "")},
      {Edit::insert(at("    if x:"), "    async with httpx.AsyncClient() as c:\n        pass\n")},
      {Edit::replace(0, static_cast<uint32_t>(text.size()), "x = (\n")},
  };
  for (const std::vector<Edit>& edits : cases) {
    EditSet set;
    ASSERT_TRUE(set.add_all(edits).ok());
    auto edited = set.apply(text);
    ASSERT_TRUE(edited.ok());
    Parser parser;
    auto old = parser.parse(text);
    ASSERT_TRUE(old.ok());
    auto reparsed =
        parser.reparse(std::move(*old), SourceFile("snippet.py", text), set.edits(), *edited);
    auto fresh = parser.parse(*edited);
    ASSERT_TRUE(reparsed.ok() && fresh.ok());
    EXPECT_TRUE(same_tree(reparsed->root(), fresh->root())) << *edited;
    EXPECT_EQ(count_syntax_errors(reparsed->root()), count_syntax_errors(fresh->root()));
  }
}

// Each golden case's change, as one edit of what lies between the common start and end.
TEST(Syntax, ReparseOfEveryGoldenChangeGivesTheTreeOfAFreshParse) {
  namespace fs = std::filesystem;
  size_t compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(AWAITIFY_FIXTURES)) {
    // fixtures/<group>/<case>/before.py, or before/ holding a project of several files.
    std::string path = entry.path().string();
    size_t before_at = path.rfind("/before");
    if (entry.path().extension() != ".py" || before_at == std::string::npos) continue;
    fs::path after_path = path.substr(0, before_at) + "/after" + path.substr(before_at + 7);
    if (!fs::exists(after_path)) continue;
    std::string before = read_file(entry.path());
    std::string after = read_file(after_path);
    size_t prefix = 0;
    while (prefix < before.size() && prefix < after.size() && before[prefix] == after[prefix])
      ++prefix;
    size_t suffix = 0;
    while (suffix < before.size() - prefix && suffix < after.size() - prefix &&
           before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix])
      ++suffix;
    if (prefix == before.size() && prefix == after.size()) continue;
    Edit edit =
        Edit::replace(static_cast<uint32_t>(prefix), static_cast<uint32_t>(before.size() - suffix),
                      after.substr(prefix, after.size() - suffix - prefix));
    Parser parser;
    auto old = parser.parse(before);
    ASSERT_TRUE(old.ok());
    auto reparsed = parser.reparse(std::move(*old), SourceFile(path, before), {edit}, after);
    auto fresh = parser.parse(after);
    ASSERT_TRUE(reparsed.ok() && fresh.ok());
    EXPECT_TRUE(same_tree(reparsed->root(), fresh->root())) << entry.path();
    ++compared;
  }
  EXPECT_GT(compared, 150u);
}

// The check of the test builds stops on a tree that differs from a fresh parse: here edits
// that do not say what changed, so tree-sitter keeps the old tree whole.
TEST(Syntax, TheReparseCheckStopsOnATreeAFreshParseDoesNotGive) {
#ifdef AWAITIFY_CHECK_REPARSE
  std::string old_text = "x = (1)\n";
  std::string text = "x = [1]\n";
  EXPECT_DEATH(
      {
        Parser parser;
        auto old = parser.parse(old_text);
        (void)parser.reparse(std::move(*old), SourceFile("snippet.py", old_text), {}, text);
      },
      "differs from a fresh parse");
#else
  GTEST_SKIP() << "only builds with AWAITIFY_CHECK_REPARSE check re-parses";
#endif
}

// tree-sitter-python's scanner kept an f-string flag across parses: after a text that ends
// inside an f-string, the next parse held back the dedent and put g into f.
TEST(Syntax, AParserUsedAgainParsesAsANewOne) {
  std::string functions = "def f():\n    return 2\n\n\ndef g():\n    pass\n";
  Parser used;
  ASSERT_TRUE(used.parse("x = f'{y").ok());
  auto again = used.parse(functions);
  auto fresh = Parser().parse(functions);
  ASSERT_TRUE(again.ok() && fresh.ok());
  EXPECT_TRUE(same_tree(again->root(), fresh->root()));
  EXPECT_EQ(ts_node_named_child_count(again->root()), 2u);
  EXPECT_EQ(count_syntax_errors(again->root()), 0u);
}

// The grammar's scanner state is mirrored to keep its stacks' memory between tokens
// (src/grammar/python_language.c): the mirror is checked against the grammar at the first
// parse, and a grammar whose layout differs is parsed with its own deserialize. This says the
// pinned grammar's layout is the one mirrored (the trees are the same either way).
TEST(Syntax, TheScannerKeepsItsStacksMemoryBetweenTokens) {
  EXPECT_TRUE(awaitify_python_scanner_reuses_memory());
}

// Where CMake linked the tree-sitter runtime whose layout src/direct_walk.hpp mirrors, the check
// at first use must find the layout mirrored (the walks are the same either way: the test above).
TEST(Syntax, WalksReadTheTreesDirectlyWhereTheBuildMirrorsTheRuntime) {
#ifdef AWAITIFY_DIRECT_WALK
  EXPECT_TRUE(walks_read_trees_directly());
#else
  EXPECT_FALSE(walks_read_trees_directly());
#endif
}

TEST(Syntax, SameTreeTellsTreesApart) {
  Parsed a = parse("def f(x):\n    return x\n");
  Parsed b = parse("def f(x):\n    return x\n");
  EXPECT_TRUE(same_tree(a.root(), b.root()));
  // Text is not compared: a name for another name of the same length is the same tree.
  EXPECT_TRUE(same_tree(a.root(), parse("def g(y):\n    return y\n").root()));
  for (const char* other : {"def f(xy):\n    return x\n", "def f(x):\n    return (x)\n",
                            "def f(x):\n\n    return x\n", "async def f(x):\n    return x\n",
                            "def f(x):\n    return x\nx\n", "def f(x):\n    return x +\n"}) {
    Parsed c = parse(other);
    EXPECT_FALSE(same_tree(a.root(), c.root())) << other;
  }
}

TEST(MakeAsync, InsertsBeforeDefKeepingDecoratorsAndComments) {
  std::string text = "@app.get('/')  # route\n# note\ndef f(a: int) -> int:\n    return a\n";
  Parsed parsed = parse(text);
  EXPECT_EQ(apply_edits(text, make_async(find_node(parsed, "function_definition"))),
            "@app.get('/')  # route\n# note\nasync def f(a: int) -> int:\n    return a\n");
}

TEST(MakeAsync, LeavesAsyncFunctionsAlone) {
  Parsed parsed = parse("async def f():\n    pass\n");
  EXPECT_TRUE(make_async(find_node(parsed, "function_definition")).empty());
}

TEST(AwaitExpression, PlainCall) {
  EXPECT_EQ(await_first("def f():\n    x = g(1)\n", "g(1)"), "def f():\n    x = await g(1)\n");
}

TEST(AwaitExpression, ParenthesizesWhenTheResultIsUsedFurther) {
  EXPECT_EQ(await_first("def f():\n    return g().json()\n", "g()"),
            "def f():\n    return (await g()).json()\n");
  EXPECT_EQ(await_first("def f():\n    return g()[0]\n", "g()"), "def f():\n    return (await g())[0]\n");
  EXPECT_EQ(await_first("def f():\n    return g()()\n", "g()"), "def f():\n    return (await g())()\n");
}

TEST(AwaitExpression, NoParenthesesInOperatorsAndArguments) {
  EXPECT_EQ(await_first("def f():\n    return not g() + h(g())\n", "g()"),
            "def f():\n    return not await g() + h(g())\n");
  EXPECT_EQ(await_first("def f():\n    return h(g())\n", "g()"), "def f():\n    return h(await g())\n");
}

TEST(AwaitExpression, NeverAwaitsTwice) {
  EXPECT_EQ(await_first("async def f():\n    return await g()\n", "g()"),
            "async def f():\n    return await g()\n");
  EXPECT_EQ(await_first("async def f():\n    return (await (g())).x\n", "g()"),
            "async def f():\n    return (await (g())).x\n");
}

TEST(AwaitExpression, RefusesLambdaGeneratorAndSyncComprehension) {
  EXPECT_EQ(await_first("def f():\n    k = lambda: g()\n", "g()"),
            "refused: the call is inside a lambda, which cannot await");
  EXPECT_NE(await_first("def f():\n    return sum(g(x) for x in y)\n", "g(x)").find("refused: "
                                                                                  "the call is inside a generator"),
            std::string::npos);
  EXPECT_EQ(await_first("def f():\n    return [g(x) for x in y]\n", "g(x)", false),
            "refused: the call is inside a comprehension of a function that stays sync");
  EXPECT_EQ(await_first("def f():\n    return [g(x) for x in y]\n", "g(x)", true),
            "def f():\n    return [await g(x) for x in y]\n");
  EXPECT_EQ(await_first("x = g()\n", "g()"), "refused: the call is at module level, outside any function");
}

TEST(Reindent, MovesEveryLineOfTheBlock) {
  EXPECT_EQ(reindent("    a = 1\n    if a:\n        b()\n", "    ", "        "),
            "        a = 1\n        if a:\n            b()\n");
  EXPECT_EQ(reindent("\ta\n\tb", "\t", ""), "a\nb");
}
