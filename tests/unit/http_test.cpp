// The http phase's helpers: what requests names mean, how a call's arguments change, how a
// statement moves under `async with`, and FileContext::runs, which AW202 relies on.
#include <gtest/gtest.h>

#include "awaitify/index.hpp"
#include "awaitify/plan.hpp"
#include "awaitify/transform.hpp"
#include "http_api.hpp"
#include "http_call.hpp"
#include "http_client.hpp"
#include "http_response.hpp"
#include "report_cli.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::http;
using namespace awaitify::testing_util;

namespace {

// The first call in the snippet, read as requests.<method>.
std::string rewritten_arguments(const std::string& text, const std::string& method,
                                bool session = false, CallStyle style = {}) {
  Parsed parsed = parse(text);
  ModuleFacts facts = extract_facts(parsed.source, parsed.root());
  RequestsCall call =
      read_requests_call(find_node(parsed, "call"), method, session, facts, parsed.source.text());
  EXPECT_EQ(call.refusal, "");
  return apply_edits(text, argument_edits(call, style, facts, parsed.source.text()));
}

}  // namespace

TEST(HttpApi, NamesResolvedByTheScanner) {
  EXPECT_EQ(requests_function("requests.get"), "get");
  EXPECT_EQ(requests_function("requests.api.request"), "request");
  EXPECT_EQ(requests_function("requests.utils.quote"), "");
  EXPECT_EQ(session_member("requests.Session.post"), "post");
  EXPECT_EQ(session_member("requests.Session.headers.update"), "");
  EXPECT_TRUE(is_session_constructor("requests.sessions.Session"));
  EXPECT_EQ(requests_exception("requests.exceptions.ReadTimeout"), "ReadTimeout");
  EXPECT_EQ(requests_exception("requests.get"), "");
  EXPECT_EQ(httpx_exceptions("ConnectionError"),
            (std::vector<std::string>{"ConnectError", "ConnectTimeout"}));
  EXPECT_EQ(httpx_raise_class("ConnectionError"), "ConnectError");
  EXPECT_EQ(httpx_exceptions("JSONDecodeError"),
            (std::vector<std::string>{"json.JSONDecodeError"}));
  EXPECT_EQ(positional_keywords("post"), (std::vector<std::string>{"data", "json"}));
}

TEST(HttpCall, KeepsRequestsDefaults) {
  EXPECT_EQ(rewritten_arguments("requests.get(u)\n", "get"),
            "requests.get(u, follow_redirects=True, timeout=None)\n");
  EXPECT_EQ(rewritten_arguments("requests.head(u)\n", "head"), "requests.head(u, timeout=None)\n");
  EXPECT_EQ(rewritten_arguments("s.head(u)\n", "head", true),
            "s.head(u, follow_redirects=False)\n");
  CallStyle style;
  style.timeout = "30";
  EXPECT_EQ(rewritten_arguments("requests.get(u, allow_redirects=False)\n", "get", false, style),
            "requests.get(u, follow_redirects=False, timeout=30)\n");
}

TEST(HttpCall, MapsArguments) {
  EXPECT_EQ(rewritten_arguments("requests.post(u, 'x', timeout=(1, 2))\n", "post"),
            "requests.post(u, content='x', timeout=httpx.Timeout(2, connect=1), "
            "follow_redirects=True)\n");
  EXPECT_EQ(rewritten_arguments("requests.get(u, p, stream=False, verify=v)\n", "get"),
            "requests.get(u, params=p, follow_redirects=True, timeout=None)\n");
  // A stream names its verb first; a removed argument takes its line (and comment) along.
  EXPECT_EQ(rewritten_arguments("requests.get(\n    u,\n    stream=True,  # big\n)\n", "get"),
            "requests.get(\n    \"GET\", u,\n    follow_redirects=True,\n    timeout=None,\n)\n");
}

TEST(HttpCall, RefusesWhatHttpxTakesDifferently) {
  Parsed parsed =
      parse("requests.get(u, hooks=h)\nrequests.get(u, **kw)\nrequests.get(u, proxies=p)\n");
  ModuleFacts facts = extract_facts(parsed.source, parsed.root());
  std::vector<TSNode> calls;
  walk(parsed.root(), [&](TSNode node) {
    if (is(node, "call")) calls.push_back(node);
    return true;
  });
  ASSERT_EQ(calls.size(), 3u);
  for (TSNode call : calls) {
    EXPECT_NE(read_requests_call(call, "get", false, facts, parsed.source.text()).refusal, "");
  }
  EXPECT_NE(read_requests_call(calls[0], "get", false, facts, parsed.source.text()).todo, "");
}

TEST(HttpCall, ClientArgumentsForProxies) {
  std::string text = "requests.get(u, verify=False, proxies={'https': P, 'http': Q})\n";
  Parsed parsed = parse(text);
  ModuleFacts facts = extract_facts(parsed.source, parsed.root());
  RequestsCall call =
      read_requests_call(find_node(parsed, "call"), "get", false, facts, parsed.source.text());
  EXPECT_EQ(client_arguments(call, CallStyle{}, parsed.source.text()),
            "verify=False, mounts={\"https://\": httpx.AsyncHTTPTransport(proxy=P, verify=False), "
            "\"http://\": httpx.AsyncHTTPTransport(proxy=Q, verify=False)}");
}

TEST(HttpCall, TextOrBytes) {
  Parsed parsed = parse("f(b'x', json.dumps(d), s.encode(), d)\n");
  ModuleFacts facts = extract_facts(parsed.source, parsed.root());
  std::vector<TSNode> arguments = named_children(field(find_node(parsed, "call"), "arguments"));
  std::vector<bool> expected{true, false, true, false};  // json is not imported in the snippet
  for (size_t i = 0; i < arguments.size(); ++i) {
    EXPECT_EQ(is_text_or_bytes(arguments[i], facts, parsed.source.text()), expected[i]) << i;
  }
}

TEST(HttpClient, WrapsAStatementWithTheEditsInsideIt) {
  std::string text = "def f():\n    r = g(\n        1,\n    )\n    return r\n";
  Parsed parsed = parse(text);
  TSNode call = find_node(parsed, "call");
  std::string why;
  TSNode statement = wrap_statement(call, parsed.source.text(), why);
  ASSERT_FALSE(ts_node_is_null(statement)) << why;
  std::vector<Edit> edits{Edit::insert(ts_node_start_byte(call), "await "),
                          Edit::insert(0, "# top\n")};
  auto wrapped =
      apply_wraps(edits, {ScopedWrap{statement, "httpx.AsyncClient()", "client"}}, parsed.source);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(apply_edits(text, *wrapped),
            "# top\ndef f():\n    async with httpx.AsyncClient() as client:\n        r = await g(\n"
            "            1,\n        )\n    return r\n");
}

TEST(HttpClient, RefusesWhatRe_indentingWouldBreak) {
  std::string why;
  Parsed one_line = parse("def f():\n    if x: r = g()\n");
  EXPECT_TRUE(
      ts_node_is_null(wrap_statement(find_node(one_line, "call"), one_line.source.text(), why)));
  Parsed string = parse("def f():\n    r = g('''a\n  b''')\n");
  EXPECT_TRUE(
      ts_node_is_null(wrap_statement(find_node(string, "call"), string.source.text(), why)));
}

TEST(HttpClient, SharedClientAndItsCloserGoAfterTheImports) {
  std::string text = "import os\n\nimport httpx\n\n\ndef f():\n  pass\n";
  Parsed parsed = parse(text);
  EXPECT_EQ(apply_edits(text, {shared_client_declaration(parsed.root(), parsed.source, "c",
                                                         "httpx.AsyncClient()", "close_c")}),
            "import os\n\nimport httpx\n\n\nc = httpx.AsyncClient()\n\n\n"
            "async def close_c() -> None:\n"
            "  \"\"\"Closes `c` at the app's shutdown; a later start gets a new client.\"\"\"\n"
            "  global c\n  await c.aclose()\n  c = httpx.AsyncClient()\n\n\n"
            "def f():\n  pass\n");
  ModuleFacts facts = extract_facts(parsed.source, parsed.root());
  EXPECT_EQ(shared_client(facts, parsed.root(), parsed.source.text(), "httpx").name, "http_client");
  EXPECT_EQ(closer_name(parsed.root(), parsed.source.text(), "http_client"), "close_http_client");
}

TEST(HttpClient, SharedClientAtTheEndOfAFileOfImports) {
  std::string text = "import httpx\n";
  Parsed parsed = parse(text);
  EXPECT_EQ(apply_edits(text, {shared_client_declaration(parsed.root(), parsed.source, "c",
                                                         "httpx.AsyncClient()", "close_c")}),
            "import httpx\n\n\nc = httpx.AsyncClient()\n\n\n"
            "async def close_c() -> None:\n"
            "    \"\"\"Closes `c` at the app's shutdown; a later start gets a new client.\"\"\"\n"
            "    global c\n    await c.aclose()\n    c = httpx.AsyncClient()\n");
}

TEST(HttpResponse, NegatesOkWhereItStands) {
  auto negated = [](const std::string& text) {
    Parsed parsed = parse(text);
    return apply_edits(text,
                       negate_ok(find_node(parsed, "attribute", "r.ok"), parsed.source.text()));
  };
  EXPECT_EQ(negated("if r.ok: pass\n"), "if not r.is_error: pass\n");
  EXPECT_EQ(negated("if not r.ok: pass\n"), "if r.is_error: pass\n");
  EXPECT_EQ(negated("x = y == r.ok\n"), "x = y == (not r.is_error)\n");
}

TEST(FileContext, RunsTheTransformsOfItsRun) {
  SourceFile source("a.py", "");
  ModuleFacts facts;
  ProjectIndex index;
  Plan plan;
  TransformInfo first{"AW201", "http", "", "", {}, {}};
  std::vector<const TransformInfo*> selected{&first};
  FileContext context{source, TSNode{}, facts, index, plan, nullptr, &selected};
  EXPECT_TRUE(context.runs("AW201"));
  EXPECT_FALSE(context.runs("AW202"));
  FileContext outside{source, TSNode{}, facts, index, plan};
  EXPECT_FALSE(outside.runs("AW201"));
}

// The lifespan closes a client only where AW201 writes one in this run: a module the run does
// not go over gets no closer, so importing one would fail.
TEST(HttpClientClose, OnlyModulesTheRunCoversGetACloserCall) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"shop\"\n");
  write_file(dir.path() / "shop/__init__.py", "");
  write_file(dir.path() / "shop/clients.py",
             "import requests\n\n\nasync def price(sku):\n"
             "    return requests.get(f\"https://p.example/{sku}\", timeout=5).json()\n");
  write_file(dir.path() / "shop/main.py",
             "from fastapi import FastAPI\n\nfrom . import clients\n\napp = FastAPI()\n");
  CliOutput main_only = run_awaitify(dir.path(), "diff --phase http shop/main.py");
  EXPECT_EQ(main_only.status, 0) << main_only.out << main_only.err;
  CliOutput both = run_awaitify(dir.path(), "diff --phase http shop");
  EXPECT_EQ(both.status, 1) << both.err;
  EXPECT_NE(both.out.find("+        await clients.close_http_client()"), std::string::npos)
      << both.out;
  EXPECT_NE(both.out.find("+async def close_http_client() -> None:"), std::string::npos)
      << both.out;
}
