// AW802: the tests, fixtures and test helpers the plan makes async become `async def` with
// what pytest needs to run them: the asyncio marker (loop_scope= when a fixture they use lives
// on a wider loop), `@pytest_asyncio.fixture` for fixtures, or anyio's marker.
//
// An async test without its marker is skipped by pytest-asyncio's strict mode with a mere
// warning, and an async fixture under `@pytest.fixture` hands tests a coroutine: the suite
// looks green and tests nothing. So the marker is part of making a test async, never
// optional. This pass runs before the closure (AW401), which then only awaits calls: test
// code made async here keeps its blocking calls (a test may block its own loop).
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <set>

#include "awaitify/fastapi.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "tests_client.hpp"
#include "transforms.hpp"

namespace awaitify::aw80x {

namespace {

std::string in_quotes(const std::string& scope) {
  return "\"" + scope + "\"";
}

// anyio's plugin runs an async fixture only for a test that runs under anyio itself: a sync
// test that requests one would get a coroutine.
bool anyio_needs_async(const Model& model, const FunctionInfo& fn, const Plan& plan) {
  if (model.setup().runner != Runner::anyio || !fn.is_test) return false;
  std::set<const FunctionInfo*> seen;
  std::function<bool(const FunctionInfo&)> any_async = [&](const FunctionInfo& f) {
    for (const FunctionInfo* fixture : model.requested_fixtures(f)) {
      if (!seen.insert(fixture).second) continue;
      if (model.async_after(*fixture, plan) || any_async(*fixture)) return true;
    }
    return false;
  };
  return any_async(fn);
}

class AsyncPass {
 public:
  AsyncPass(const FileContext& context, std::shared_ptr<const Model> model)
      : context_(context), src_(context.text()), model_(std::move(model)) {}

  PassResult run() {
    walk(context_.root, [&](TSNode node) {
      if (is(node, "function_definition")) convert(node);
      return true;
    });
    if (edits_.empty()) return std::move(result_);
    result_.edits = import_edits();
    result_.edits.insert(result_.edits.end(), edits_.begin(), edits_.end());
    return std::move(result_);
  }

 private:
  const PytestSetup& setup() const { return model_->setup(); }

  void convert(TSNode def) {
    if (is_async_function(def)) return;
    const FunctionInfo* fn = model_->function(qualified_name(def, context_));
    if (!fn) return;  // not test code: the closure (AW401) converts it
    bool planned = context_.plan.becomes_async(fn->qualified);
    if (!planned && !anyio_needs_async(*model_, *fn, context_.plan)) return;
    // The marker goes first: on an undecorated test it lands where `async ` does.
    if (fn->is_test) mark(def, *fn);
    if (fn->is_fixture) redecorate(def, *fn);
    add(make_async(def));
  }

  // ------------------------------------------------------------ tests

  void mark(TSNode def, const FunctionInfo& fn) {
    std::string marker = marker_for(fn);
    size_t paren = marker.find('(');
    if (marker.empty() ||
        has_marker(def, marker.substr(1, paren == std::string::npos ? paren : paren - 1),
                   paren != std::string::npos)) {
      return;
    }
    TSNode first = def;
    if (!decorators_of(def).empty()) first = decorators_of(def).front();
    std::string indent(context_.source.indent_at(ts_node_start_byte(def)));
    add({Edit::insert(ts_node_start_byte(first), marker + context_.source.newline() + indent)});
    need_pytest_ = true;
  }

  std::string marker_for(const FunctionInfo& fn) const {
    if (setup().runner == Runner::anyio) return "@pytest.mark.anyio";
    std::string scope = model_->loop_scope(fn, context_.plan);
    std::string loop = scope == "function" ? "" : "(loop_scope=" + in_quotes(scope) + ")";
    if (setup().runner == Runner::asyncio_auto && loop.empty()) return {};  // auto mode marks it
    return "@pytest.mark.asyncio" + loop;
  }

  // The marker is already on the test, its class or its module (`pytestmark = ...`). A marker
  // that needs loop_scope= is always written on the test, where it takes precedence.
  bool has_marker(TSNode def, const std::string& wanted, bool with_loop_scope) const {
    for (TSNode decorator : decorators_of(def)) {
      TSNode expression = ts_node_named_child(decorator, 0);
      if (is(expression, "call")) expression = field(expression, "function");
      if (context_.facts.resolve(dotted_name(expression, src_)) == wanted) return true;
    }
    if (with_loop_scope) return false;
    bool found = false;
    for (TSNode scope = ts_node_parent(def); !ts_node_is_null(scope) && !found;
         scope = ts_node_parent(scope)) {
      if (!is(scope, "module") && !is(scope, "block")) continue;
      for (TSNode statement : named_children(scope)) {
        TSNode assignment = ts_node_named_child(statement, 0);
        if (!is(assignment, "assignment") ||
            node_text(field(assignment, "left"), src_) != "pytestmark")
          continue;
        walk(field(assignment, "right"), [&](TSNode node) {
          found |=
              is(node, "attribute") && context_.facts.resolve(dotted_name(node, src_)) == wanted;
          return !found;
        });
      }
    }
    return found;
  }

  // ------------------------------------------------------------ fixtures

  void redecorate(TSNode def, const FunctionInfo& fn) {
    if (setup().runner == Runner::anyio) return;  // anyio's plugin runs async @pytest.fixture
    std::string loop = model_->loop_scope(fn, context_.plan);
    bool wide = loop != "function";
    if (setup().runner == Runner::asyncio_auto && !wide) return;  // auto mode runs @pytest.fixture
    for (TSNode decorator : decorators_of(def)) {
      TSNode expression = ts_node_named_child(decorator, 0);
      TSNode call = is(expression, "call") ? expression : TSNode{};
      TSNode callee = ts_node_is_null(call) ? expression : field(call, "function");
      std::string target = context_.facts.resolve(dotted_name(callee, src_));
      if (!is_pytest_fixture_decorator(target)) continue;
      if (target != "pytest_asyncio.fixture") {
        std::string dotted = dotted_name(callee, src_);
        replaced_names_.insert(dotted.substr(0, dotted.find('.')));
        ignored_.emplace_back(ts_node_start_byte(callee), ts_node_end_byte(callee));
        add({Edit::replace(ts_node_start_byte(callee), ts_node_end_byte(callee),
                           "pytest_asyncio.fixture")});
        need_pytest_asyncio_ = true;
      }
      if (wide && fn.loop_scope.empty()) add_loop_scope(call, callee, loop);
      return;
    }
  }

  // A module-scoped async fixture on the default function-scoped loop fails when a second
  // test's loop uses it: its loop must live as long as it does.
  void add_loop_scope(TSNode call, TSNode callee, const std::string& scope) {
    std::string keyword = "loop_scope=" + in_quotes(scope);
    if (ts_node_is_null(call)) {
      add({Edit::insert(ts_node_end_byte(callee), "(" + keyword + ")")});
      return;
    }
    TSNode arguments = field(call, "arguments");
    TSNode last{};
    for (TSNode argument : named_children(arguments)) {
      if (!is(argument, "comment")) last = argument;
    }
    if (ts_node_is_null(last))
      add({Edit::insert(ts_node_start_byte(arguments) + 1, keyword)});
    else
      add({Edit::insert(ts_node_end_byte(last), ", " + keyword)});
  }

  // ------------------------------------------------------------ edits

  void add(const std::vector<Edit>& edits) {
    edits_.insert(edits_.end(), edits.begin(), edits.end());
  }

  std::vector<Edit> import_edits() const {
    ImportEditor imports(context_.source, context_.root, context_.index.first_party_packages());
    if (need_pytest_) imports.require_module("pytest");
    if (need_pytest_asyncio_) imports.require_module("pytest_asyncio");
    for (const auto& [start, end] : ignored_) imports.ignore_uses_in(start, end);
    for (const std::string& name : replaced_names_) {
      if (!(need_pytest_ && name == "pytest")) imports.drop_if_unused(name);
    }
    return imports.edits();
  }

  const FileContext& context_;
  std::string_view src_;
  std::shared_ptr<const Model> model_;
  PassResult result_;
  std::vector<Edit> edits_;
  std::set<std::string> replaced_names_;
  std::vector<std::pair<uint32_t, uint32_t>> ignored_;
  bool need_pytest_ = false, need_pytest_asyncio_ = false;
};

PassResult run(const FileContext& context) {
  auto model = Model::of(context.index, &context);
  if (!model->file(context.source.path())) return {};  // not test code: the closure converts it
  return AsyncPass(context, std::move(model)).run();
}

// What the pass reports on a file it leaves unchanged (it reports nothing anywhere), told from
// the model's read of this very text, which holds every def of the file under the name the
// pass looks it up by: no function of the file is one the plan makes async, nor (under anyio)
// a test the model knows by its name that requests an async fixture. Any other file, or a text
// the model did not read, is parsed and the pass run.
std::optional<std::vector<Finding>> report_from_facts(const SourceFile& source,
                                                      const ModuleFacts& facts,
                                                      const ProjectIndex& index, const Plan& plan) {
  if (!Model::run_model_reads(source.path())) return std::nullopt;
  auto here = kept_file_facts(facts, source.text());
  if (!here) return std::nullopt;
  std::shared_ptr<const Model> model = Model::of(index);
  for (const FunctionInfo& fn : here->functions) {
    if (plan.becomes_async(fn.qualified)) return std::nullopt;
    const FunctionInfo* known = model->function(fn.qualified);
    if (known && anyio_needs_async(*model, *known, plan)) return std::nullopt;
  }
  return std::vector<Finding>{};
}

std::vector<Seed> seeds(const ProjectIndex& index, const Settings&, const SeedScope& scope) {
  // Its seeds are functions of the test files the model reads: with none of them selected (a
  // pre-commit run on application code), the model is not built.
  if (scope.paths &&
      std::none_of(scope.paths->begin(), scope.paths->end(),
                   [&](const std::string& path) { return Model::may_hold(index, path); })) {
    return {};
  }
  return Model::of(index, nullptr, scope.jobs)->seeds();
}

}  // namespace

}  // namespace awaitify::aw80x

namespace awaitify {

TransformInfo tests_async_transform() {
  return TransformInfo{.id = aw80x::kAsyncId,
                       .phase = "tests",
                       .summary = "tests using the client become async def with the pytest marker",
                       .explain = R"(Before:
    @pytest.fixture(scope="module")
    def client():
        with TestClient(app) as c:
            yield c

    def test_health(client):
        assert client.get("/health").status_code == 200
After (with AW801, which rewrites the client):
    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def client():
        async with LifespanManager(app), AsyncClient(...) as c:
            yield c

    @pytest.mark.asyncio(loop_scope="module")
    async def test_health(client):
        assert (await client.get("/health")).status_code == 200

Its seeds are the functions that call or build a client AW801 converts; the closure (AW401)
adds their callers (a test calling a helper that makes requests), and in the tests phase tests
and fixtures join the closure instead of stopping it. Each test, fixture or helper of the test
files the plan makes async becomes `async def`:
- a test gets @pytest.mark.asyncio (pytest-asyncio's strict mode, its default, skips an
  unmarked async test with only a warning), with loop_scope= when a fixture it depends on
  lives on a wider loop; none in asyncio_mode = auto (pytest.ini, pyproject.toml, setup.cfg or
  tox.ini) unless a loop_scope= is needed; @pytest.mark.anyio when the project uses anyio's
  plugin (pytest.mark.anyio or an anyio_backend fixture in its tests). Under anyio, a sync test
  that requests an async fixture becomes async too (anyio runs async fixtures only for its own
  tests). A test already marked (also through pytestmark) keeps its marker.
- a fixture gets @pytest_asyncio.fixture (in strict mode) keeping its arguments, with
  loop_scope= equal to its scope (or wider, from its own async dependencies) when that is not
  function; under anyio it stays @pytest.fixture.
- tests that only receive the client (no request) stay sync: pytest-asyncio runs async
  fixtures for sync tests.
Test code made async keeps its blocking calls (a sync Session in a test); the loop it blocks
is the test's own.)",
                       .run = aw80x::run,
                       .seeds = aw80x::seeds,
                       .applies = aw80x::in_test_code,
                       .report_from_facts = aw80x::report_from_facts,
                       .read_with_tree = aw80x::read_while_parsed};
}

}  // namespace awaitify
