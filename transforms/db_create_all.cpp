// AW105: `Base.metadata.create_all(bind=engine)` in code that is or becomes async ->
// `async with async_engine.begin() as conn: await conn.run_sync(Base.metadata.create_all)`.
// begin(), not connect(): begin() commits at the end of the block, connect() would roll the
// DDL back without a word.
#include <algorithm>

#include "awaitify/calls.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

constexpr const char* kId = "AW105";

struct MetadataCall {
  TSNode statement{};
  TSNode call{};
  std::string method;    // create_all / drop_all
  std::string metadata;  // Base.metadata, as written
  TSNode engine{};       // the bind argument
};

std::optional<MetadataCall> metadata_call(TSNode statement, std::string_view src) {
  TSNode call = ts_node_named_child(statement, 0);
  if (!is(statement, "expression_statement") || !is(call, "call")) return std::nullopt;
  TSNode function = field(call, "function");
  if (!is(function, "attribute")) return std::nullopt;
  std::string method(node_text(field(function, "attribute"), src));
  TSNode object = field(function, "object");
  if (method != "create_all" && method != "drop_all") return std::nullopt;
  if (!is(object, "attribute") || node_text(field(object, "attribute"), src) != "metadata")
    return std::nullopt;
  TSNode engine{};
  size_t arguments = 0;
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "comment")) continue;
    ++arguments;
    if (is(argument, "keyword_argument") && node_text(field(argument, "name"), src) == "bind") {
      engine = field(argument, "value");
    } else if (!is(argument, "keyword_argument") && ts_node_is_null(engine)) {
      engine = argument;
    }
  }
  // Other options (tables=, checkfirst=) would need a lambda around run_sync: left alone.
  if (arguments != 1 || !is(engine, "identifier")) return std::nullopt;
  return MetadataCall{statement, call, method, std::string(node_text(object, src)), engine};
}

struct Pass {
  const FileContext& context;
  PassResult result;
  std::vector<std::pair<std::string, std::string>> imports;  // module text, name

  // The async engine of the sync engine a name stands for, and where to import it from.
  std::optional<std::string> async_engine(const std::string& name) {
    if (auto sibling = async_engine_of(context, context.facts, name)) return sibling;
    std::string qualified = context.facts.resolve(name);
    size_t dot = qualified.rfind('.');
    if (dot == std::string::npos) return std::nullopt;
    const ModuleFacts* module = context.index.module(qualified.substr(0, dot));
    std::string from = from_module_binding(context, name);
    if (!module || from.empty()) return std::nullopt;
    auto sibling = async_engine_of(context, *module, qualified.substr(dot + 1));
    if (sibling) imports.emplace_back(from, *sibling);
    return sibling;
  }

  void rewrite(const MetadataCall& call) {
    std::string_view src = context.text();
    std::string engine(node_text(call.engine, src));
    auto sibling = async_engine(engine);
    if (!sibling) {
      result.findings.push_back(
          context.finding(kId, call.call, Severity::warning,
                          "`" + call.metadata + "." + call.method + "(" + engine +
                              ")` runs on the sync engine inside async code "
                              "and blocks the event loop: the engine has no async sibling in this "
                              "run (run the db phase with the code "
                              "that provides its sessions)"));
      return;
    }
    uint32_t start = ts_node_start_byte(call.statement);
    std::string indent(context.source.indent_at(start));
    std::string text = "async with " + *sibling + ".begin() as conn:\n" + indent +
                       "    await conn.run_sync(" + call.metadata + "." + call.method + ")";
    result.edits.push_back(Edit::replace(start, ts_node_end_byte(call.statement), text));
  }
};

// Only code that is or becomes async changes.
bool applies(const ModuleFacts& facts, const ProjectIndex&, const Plan& plan) {
  return std::any_of(facts.function_facts.begin(), facts.function_facts.end(),
                     [&](const FunctionFacts& fn) {
                       return !fn.is_module && (fn.is_async || plan.becomes_async(fn.qualified));
                     });
}

PassResult run(const FileContext& context) {
  Pass pass{context, {}, {}};
  std::string_view src = context.text();
  scan_file_scopes(
      context.facts, context.root, src, &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module()) return;
        if (!is_async_function(scope.def) && !context.plan.becomes_async(scope.qualified)) return;
        walk(field(scope.def, "body"), [&](TSNode node) {
          if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
            return false;
          if (auto call = metadata_call(node, src)) {
            pass.rewrite(*call);
            return false;
          }
          return true;
        });
      },
      nullptr);
  if (pass.result.edits.empty()) return std::move(pass.result);
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  for (const auto& [from, name] : pass.imports) imports.require_from(from, name);
  std::vector<Edit> import_edits = imports.edits();
  pass.result.edits.insert(pass.result.edits.end(), import_edits.begin(), import_edits.end());
  return std::move(pass.result);
}

}  // namespace

TransformInfo db_create_all_transform() {
  return TransformInfo{
      .id = kId,
      .phase = "db",
      .summary = "create_all(bind=engine) -> async with engine.begin(): run_sync, in async code",
      .explain = R"(Before:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        Base.metadata.create_all(bind=engine)
        yield
After:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with async_engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield

In code that is or becomes async, `metadata.create_all(bind=engine)` / `drop_all` run through
the async sibling of the engine (written by AW101, or by an earlier run), imported where the
sync engine came from. begin(), which commits, not connect(), which would roll the DDL back
silently. A call with other options (tables=, checkfirst=) is left as it is; one whose engine
has no async sibling is reported: on the sync engine it blocks the event loop. In sync code
(a sync startup handler) create_all stays as it is, on the sync engine, which still works.)",
      .triggers = {"create_all", "drop_all"},
      .run = run,
      .seeds = db_seeds,
      .applies = applies};
}

}  // namespace awaitify
