// AW102: in code the db phase migrates, `db: Session = Depends(get_db)` -> `db: AsyncSession =
// Depends(get_session)` (also inside Annotated[...]), service classes holding a session follow
// their annotation, and a helper returning a legacy Query returns a Select.
#include "awaitify/calls.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

struct FileEdits {
  PassResult result;
  ImportEditor imports;
  bool changed = false;
  bool sqlmodel = false;
  std::set<std::string> dropped;
};

std::string resolved_type(const FileContext& context, TSNode type_node) {
  std::string dotted = dotted_name(type_node, context.text());
  std::string type = context.facts.resolve(dotted);
  if (auto alias = context.facts.type_aliases.find(dotted);
      alias != context.facts.type_aliases.end()) {
    return alias->second;
  }
  return type;
}

// `Session` in a parameter's annotation -> `AsyncSession`.
void retype_parameters(const FileContext& context, TSNode def, FileEdits& edits) {
  std::string_view src = context.text();
  for (TSNode param : named_children(field(def, "parameters"))) {
    if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
    TSNode annotation = field(param, "type");
    TSNode type_node = annotated_type(annotation);
    std::string dotted = dotted_name(type_node, src);
    std::string type = resolved_type(context, type_node);
    if (!is_sync_session_type(type)) continue;
    if (context.facts.type_aliases.count(dotted)) {
      edits.result.findings.push_back(context.finding(
          kSessionId, type_node, Severity::warning,
          "`" + dotted +
              "` is a type alias of a sync Session: it is not rewritten (other code may still use "
              "it); "
              "annotate this parameter with AsyncSession and its async dependency"));
      continue;
    }
    edits.result.edits.push_back(
        Edit::replace(ts_node_start_byte(type_node), ts_node_end_byte(type_node), "AsyncSession"));
    edits.sqlmodel = edits.sqlmodel || is_sqlmodel(type);
    edits.dropped.insert(dotted.substr(0, dotted.find('.')));
    edits.changed = true;
  }
}

// `Depends(get_db)` -> `Depends(get_session)`, importing it where get_db came from.
void redirect_dependencies(const FileContext& context, TSNode def, FileEdits& edits) {
  std::string_view src = context.text();
  walk(field(def, "parameters"), [&](TSNode node) {
    if (!is(node, "call")) return true;
    std::string callee = context.facts.resolve(dotted_name(field(node, "function"), src));
    if (callee != "fastapi.Depends" && callee != "fastapi.params.Depends") return true;
    TSNode argument = ts_node_named_child(field(node, "arguments"), 0);
    if (is(argument, "keyword_argument")) argument = field(argument, "value");
    std::string local = dotted_name(argument, src);
    if (local.empty()) return false;
    auto sibling = async_provider(context.index, context.plan, context.facts.resolve(local));
    if (!sibling) return false;
    TSNode name = is(argument, "attribute") ? field(argument, "attribute") : argument;
    edits.result.edits.push_back(
        Edit::replace(ts_node_start_byte(name), ts_node_end_byte(name), *sibling));
    if (is(argument, "identifier")) {
      std::string module = from_module_binding(context, local);
      if (!module.empty()) edits.imports.require_from(module, *sibling);
      edits.dropped.insert(local);
    }
    edits.changed = true;
    return false;
  });
}

// `def _filtered(self) -> Query:` -> `-> Select:` (the helper now builds a statement).
void retype_query_helper(const FileContext& context, TSNode def, FileEdits& edits) {
  TSNode returns = field(def, "return_type");
  if (ts_node_is_null(returns)) return;
  TSNode type_node = annotated_type(returns);
  std::string dotted = dotted_name(type_node, context.text());
  std::string type = context.facts.resolve(dotted);
  if (type != "sqlalchemy.orm.Query" && type != "sqlalchemy.orm.query.Query") return;
  edits.result.edits.push_back(
      Edit::replace(ts_node_start_byte(type_node), ts_node_end_byte(type_node), "Select"));
  edits.imports.require_from("sqlalchemy", "Select");
  edits.dropped.insert(dotted.substr(0, dotted.find('.')));
  edits.changed = true;
}

void report_refusal(const FileContext& context, TSNode def, const std::string& qualified,
                    FileEdits& edits) {
  std::vector<Stop> stops = context.plan.stops_for(qualified);
  if (stops.empty()) {
    edits.result.findings.push_back(
        context.finding(kSessionId, field(def, "name"), Severity::note,
                        "kept on the sync Session: the functions its session passes through do not "
                        "migrate in this run"));
    return;
  }
  edits.result.findings.push_back(
      context.finding(kSessionId, field(def, "name"), Severity::warning,
                      "kept on the sync Session: " + stops.front().reason + " (" +
                          chain_text(stops.front()) + ")"));
}

// Only functions that hold a sync session change or are reported.
bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan&) {
  return std::any_of(facts.function_facts.begin(), facts.function_facts.end(),
                     [&](const FunctionFacts& fn) {
                       return fn.holds_session || !session_alias(index, fn).empty();
                     });
}

PassResult run(const FileContext& context) {
  FileEdits edits{{},
                  ImportEditor(context.source, context.root, context.index.first_party_packages()),
                  false,
                  false,
                  {}};
  scan_file_scopes(
      context.facts, context.root, context.text(), &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module()) return;
        const FunctionFacts* fn = context.index.function(scope.qualified);
        if (!fn) return;
        std::string alias = session_alias(context.index, *fn);
        if (!fn->holds_session && alias.empty()) return;
        if (!alias.empty()) {
          edits.result.findings.push_back(context.finding(
              kSessionId, field(scope.def, "name"), Severity::warning,
              "kept on the sync Session: its session parameter is typed `" + alias +
                  "`, an alias other code shares; annotate it AsyncSession with the async "
                  "dependency to migrate it (with what it passes the session to)"));
          return;
        }
        for (const std::string& dependency : fn->dependencies) {
          const FunctionFacts* provider =
              context.index.function(context.index.canonical(dependency));
          std::string scheme =
              provider ? scheme_without_async_driver(context.index, *provider) : "";
          if (scheme.empty()) continue;
          edits.result.findings.push_back(context.finding(
              kSessionId, field(scope.def, "name"), Severity::warning,
              "kept on the sync Session: `" + provider->name() + "` opens sessions on `" + scheme +
                  "://`, which has no asyncio driver the engine knows"));
          return;
        }
        if (!context.plan.migrates(scope.qualified)) {
          report_refusal(context, scope.def, scope.qualified, edits);
          return;
        }
        retype_parameters(context, scope.def, edits);
        redirect_dependencies(context, scope.def, edits);
        retype_query_helper(context, scope.def, edits);
      },
      nullptr);
  if (!edits.changed) return std::move(edits.result);
  require_async_session(edits.imports, edits.sqlmodel);
  for (const std::string& local : edits.dropped) edits.imports.drop_if_unused(local);
  for (const Edit& edit : edits.result.edits) edits.imports.ignore_uses_in(edit.start, edit.end);
  std::vector<Edit> import_edits = edits.imports.edits();
  edits.result.edits.insert(edits.result.edits.end(), import_edits.begin(), import_edits.end());
  return std::move(edits.result);
}

}  // namespace

TransformInfo db_session_transform() {
  return TransformInfo{
      .id = kSessionId,
      .phase = "db",
      .summary =
          "Session -> AsyncSession in migrated code (Depends(get_db) -> Depends(get_session))",
      .explain = R"(Before:
    def list_authors(db: Session = Depends(get_db)):
        return AuthorService(db).list()
After:
    async def list_authors(db: AsyncSession = Depends(get_session)):
        return await AuthorService(db).list()

The functions one session passes through (a route, the service class it hands `db` to, the
helpers they call) migrate together: they are one group, and a group moves whole or not at
all. One member in the selected paths brings the rest of its group into the run (say so with
`plan`; --no-expand refuses instead). Parameters keep their names. `Annotated[Session,
Depends(get_db)]` is rewritten in place; a type alias of it is reported, not rewritten, since
other code may still use it. A helper annotated `-> Query` returns a `Select`.
A group stays on the sync Session, with a finding naming the line, when a member calls
`db.connection()` and uses the Connection it hands out (whose calls would need awaits of their
own: migrate it by hand; alone as a statement, it is awaited) or uses a session call other than begin()/begin_nested() in a `with` statement.
The provider `get_session` is written by AW101, the queries by AW103, the awaits by AW104, and
the callers await through the closure (AW401).)",
      .triggers = {"Session"},
      .run = run,
      .seeds = db_seeds,
      .applies = applies};
}

}  // namespace awaitify
