// AW104: in migrated code, the session calls that are I/O under AsyncSession are awaited
// (commit, refresh, delete, execute, get, exec, ...), and `with db.begin():` becomes
// `async with db.begin():`. add/add_all/expunge/expire stay sync, as on AsyncSession.
#include "awaitify/calls.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/db.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

// The `with` statement whose item is this call (`with db.begin():` / `with db.begin() as t:`).
TSNode with_statement_of(TSNode call) {
  TSNode parent = ts_node_parent(call);
  if (is(parent, "as_pattern")) parent = ts_node_parent(parent);
  if (!is(parent, "with_item")) return TSNode{};
  TSNode clause = ts_node_parent(parent);
  return is(clause, "with_clause") ? ts_node_parent(clause) : TSNode{};
}

std::string method_of(TSNode call, std::string_view src) {
  return std::string(node_text(field(field(call, "function"), "attribute"), src));
}

// `with` -> `async with` when every item of the statement is a session transaction.
std::optional<std::string> make_async_with(const FileContext& context, TSNode statement,
                                           TSNode call, std::vector<Edit>& edits) {
  std::string_view src = context.text();
  std::string method = method_of(call, src);
  if (method != "begin" && method != "begin_nested") {
    return "`with " + std::string(node_text(call, src)) + "` has no async form the engine knows";
  }
  size_t items = 0;
  for (TSNode item : named_children(ts_node_named_child(statement, 0)))
    items += is(item, "with_item") ? 1 : 0;
  if (items != 1)
    return "the `with` statement has other items, which `async with` would also need to be";
  if (is(ts_node_child(statement, 0), "async")) return std::nullopt;
  edits.push_back(Edit::insert(ts_node_start_byte(statement), "async "));
  return std::nullopt;
}

// `db.bulk_save_objects(objs)`: AsyncSession has no bulk methods; the sync session it wraps
// does, reached through run_sync: `db.run_sync(lambda session: session.bulk_save_objects(objs))`.
Edit through_run_sync(TSNode call, std::string_view src) {
  TSNode function = field(call, "function");
  std::string session(node_text(field(function, "object"), src));
  std::string method = method_of(call, src);
  std::string arguments(node_text(field(call, "arguments"), src));
  return Edit::replace(ts_node_start_byte(call), ts_node_end_byte(call),
                       session + ".run_sync(lambda sync_session: sync_session." + method + arguments + ")");
}

// `db.execute("SELECT ...")`: SQLAlchemy 2.0 takes no plain string; `text("SELECT ...")`.
std::optional<Edit> raw_sql(TSNode call, std::string_view src) {
  std::string method = method_of(call, src);
  if (method != "execute" && method != "scalar" && method != "scalars") return std::nullopt;
  TSNode first = ts_node_named_child(field(call, "arguments"), 0);
  if (!is(first, "string") && !is(first, "concatenated_string")) return std::nullopt;
  std::string wrapped = "text(" + std::string(node_text(first, src)) + ")";
  return Edit::replace(ts_node_start_byte(first), ts_node_end_byte(first), wrapped);
}

PassResult run(const FileContext& context) {
  PassResult result;
  std::string_view src = context.text();
  bool needs_text = false;
  scan_file_scopes(
      context.facts, context.root, src, &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module() || !context.plan.migrates(scope.qualified)) return;
        const FunctionFacts* fn = context.index.function(scope.qualified);
        std::string class_name = fn ? fn->class_name : "";
        db::FunctionScope function_scope{
            db::session_names(context.facts, scope.def, src, class_name, &context.index),
            class_name, nullptr, src};
        bool async_after =
            is_async_function(scope.def) || context.plan.becomes_async(scope.qualified);
        for (TSNode call : db::session_io_calls(scope.def, function_scope)) {
          std::string what = "`" + std::string(node_text(field(call, "function"), src)) + "()`";
          std::optional<std::string> why;
          std::vector<Edit> edits;
          if (!async_after) {
            why = "its function stays sync";
          } else if (TSNode statement = with_statement_of(call); !ts_node_is_null(statement)) {
            why = make_async_with(context, statement, call, edits);
          } else {
            if (method_of(call, src).rfind("bulk_", 0) == 0) edits.push_back(through_run_sync(call, src));
            auto awaited = await_expression(call, true);
            if (awaited)
              edits.insert(edits.end(), awaited->begin(), awaited->end());
            else
              why = awaited.error().message;
          }
          if (why) {
            result.findings.push_back(
                context.finding(kIoId, call, Severity::warning, what + " not awaited: " + *why));
            continue;
          }
          result.edits.insert(result.edits.end(), edits.begin(), edits.end());
          if (auto wrapped = raw_sql(call, src)) {
            result.edits.push_back(*wrapped);
            needs_text = true;
          }
        }
      },
      nullptr);
  if (needs_text && context.facts.resolve("text").empty()) {
    ImportEditor imports(context.source, context.root, context.index.first_party_packages());
    imports.require_from("sqlalchemy", "text");
    std::vector<Edit> import_edits = imports.edits();
    result.edits.insert(result.edits.end(), import_edits.begin(), import_edits.end());
  }
  return result;
}

}  // namespace

TransformInfo db_io_transform() {
  return TransformInfo{
      kIoId,      "db",        "session I/O (commit, refresh, delete, execute, get, ...) awaited",
      R"(Before:
    db.add(author)
    db.commit()
    db.refresh(author)
After:
    db.add(author)
    await db.commit()
    await db.refresh(author)

Awaited: commit, rollback, flush, refresh, delete, close, execute, scalar, scalars, get,
get_one, merge, run_sync, stream, stream_scalars, connection, invalidate, reset, exec (SQLModel).
`db.bulk_save_objects(objs)` and the other bulk methods, which AsyncSession lacks, run through
`await db.run_sync(lambda sync_session: sync_session.bulk_save_objects(objs))`.
`with db.begin():` becomes `async with db.begin():`; `db.execute("SQL")` gets the text()
SQLAlchemy 2.0 requires: `await db.execute(text("SQL"))`. add, add_all, expunge, expunge_all,
expire, expire_all, in_transaction and no_autoflush stay sync, as they are on AsyncSession.
`db.delete(obj)` looks like add() but is I/O: a missed await deletes nothing, silently.
Only code the db phase migrates (see AW102) changes; a call that cannot be awaited where it is
(a lambda, a generator expression) is reported.)", {"Session"}, run,
      db_seeds};
}

}  // namespace awaitify
