#include <gtest/gtest.h>

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
