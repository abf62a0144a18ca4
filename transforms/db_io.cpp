// AW104: in migrated code, the session calls that are I/O under AsyncSession are awaited
// (commit, refresh, delete, execute, get, exec, ...), and `with db.begin():` becomes
// `async with db.begin():`. add/add_all/expunge/expire stay sync, as on AsyncSession.
#include <map>
#include <set>

#include "awaitify/calls.hpp"
#include "awaitify/db.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

std::string method_of(TSNode call, std::string_view src) {
  return std::string(node_text(field(field(call, "function"), "attribute"), src));
}

// `with a, db.begin() as t, b:` -> one statement per item, nested, `async with` for the
// transaction: `async with` takes async context managers only. The body moves in by inserting
// indentation at its line starts, so the pass's other edits inside it stay as they are.
std::optional<std::string> split_with(const FileContext& context, TSNode statement,
                                      const std::vector<TSNode>& items, TSNode transaction_item,
                                      std::vector<Edit>& edits) {
  std::string_view src = context.text();
  TSNode clause = ts_node_named_child(statement, 0);
  TSNode body = field(statement, "body");
  if (ts_node_start_point(clause).row != ts_node_end_point(clause).row ||
      ts_node_start_point(body).row == ts_node_start_point(statement).row ||
      src.substr(ts_node_start_byte(clause), 1) == "(")
    return "the `with` statement has other items, and it is not laid out on one line with its "
           "body below it";
  if (holds_multiline_string(body))
    return "the `with` statement has other items, and its body holds a multi-line string that "
           "re-indenting would change";
  const SourceFile& source = context.source;
  std::string indent(source.indent_at(ts_node_start_byte(statement)));
  std::string unit = file_indent_unit(context.root, source);
  std::string header;
  for (size_t k = 0; k < items.size(); ++k) {
    std::string prefix;
    for (size_t level = 0; level < k; ++level) prefix += unit;
    bool transaction = ts_node_eq(items[k], transaction_item);
    header += (k ? source.newline() + indent + prefix : std::string()) +
              (transaction ? "async with " : "with ") + std::string(node_text(items[k], src)) +
              (k + 1 < items.size() ? ":" : "");
  }
  edits.push_back(Edit::replace(ts_node_start_byte(statement), ts_node_end_byte(clause), header));
  std::string deeper;
  for (size_t level = 1; level < items.size(); ++level) deeper += unit;
  uint32_t first = source.position(ts_node_start_byte(body)).line;
  uint32_t last = source.position(ts_node_end_byte(body)).line;
  for (uint32_t line = first; line <= last; ++line) {
    uint32_t start = source.line_start(line);
    size_t end = src.find('\n', start);
    std::string_view text = src.substr(start, end == std::string_view::npos ? end : end - start);
    if (text.find_first_not_of(" \t\r") != std::string_view::npos)
      edits.push_back(Edit::insert(start, deeper));
  }
  return std::nullopt;
}

// `with db.begin() as transaction:`: an AsyncSessionTransaction's commit(), rollback() and
// close() are coroutines, so their calls in the block are awaited too.
void await_transaction_calls(TSNode statement, TSNode call, std::string_view src,
                             std::vector<Edit>& edits) {
  TSNode pattern = ts_node_parent(call);
  if (!is(pattern, "as_pattern")) return;
  TSNode target = ts_node_named_child(pattern, 1);
  if (is(target, "as_pattern_target")) target = ts_node_named_child(target, 0);
  if (!is(target, "identifier")) return;
  std::string name(node_text(target, src));
  walk(field(statement, "body"), [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "lambda") || is(node, "class_definition"))
      return false;
    if (!is(node, "call")) return true;
    TSNode function = field(node, "function");
    if (!is(function, "attribute") || node_text(field(function, "object"), src) != name)
      return true;
    std::string_view method = node_text(field(function, "attribute"), src);
    if (method != "commit" && method != "rollback" && method != "close") return true;
    if (is(ts_node_parent(node), "await")) return true;
    if (auto awaited = await_expression(node, true))
      edits.insert(edits.end(), awaited->begin(), awaited->end());
    return true;
  });
}

// `with` -> `async with` when the statement's one item is a session transaction; with other
// items, the statement is split.
std::optional<std::string> make_async_with(const FileContext& context, TSNode statement,
                                           TSNode call, std::vector<Edit>& edits) {
  std::string_view src = context.text();
  std::string method = method_of(call, src);
  if (method != "begin" && method != "begin_nested") {
    return "`with " + std::string(node_text(call, src)) + "` has no async form the engine knows";
  }
  if (is(ts_node_child(statement, 0), "async")) return std::nullopt;
  await_transaction_calls(statement, call, src, edits);
  std::vector<TSNode> items;
  TSNode transaction_item{};
  for (TSNode item : named_children(ts_node_named_child(statement, 0))) {
    if (!is(item, "with_item")) continue;
    items.push_back(item);
    if (ts_node_start_byte(item) <= ts_node_start_byte(call) &&
        ts_node_end_byte(call) <= ts_node_end_byte(item))
      transaction_item = item;
  }
  if (items.size() > 1) return split_with(context, statement, items, transaction_item, edits);
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
  return Edit::replace(
      ts_node_start_byte(call), ts_node_end_byte(call),
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

// ---------------------------------------------------------------- server-generated reads

// The columns of a model class the database fills, with those of its project base classes
// (a TimestampMixin), none when the mapper fetches them at flush (eager_defaults).
struct Generated {
  std::set<std::string> on_insert;
  std::set<std::string> on_update;
  std::string model;  // the class name, for the message
};

const ClassFacts* class_facts(const ProjectIndex& index, const std::string& qualified) {
  size_t dot = qualified.rfind('.');
  if (dot == std::string::npos) return nullptr;
  const ModuleFacts* module = index.module(qualified.substr(0, dot));
  if (!module) return nullptr;
  auto cls = module->classes.find(qualified.substr(dot + 1));
  return cls == module->classes.end() ? nullptr : &cls->second;
}

bool collect_generated(const ProjectIndex& index, const std::string& qualified, Generated& out,
                       int depth = 0) {
  const ClassFacts* cls = class_facts(index, index.canonical(qualified));
  if (!cls || depth > 8) return true;
  if (cls->eager_defaults) return false;
  out.on_insert.insert(cls->insert_generated.begin(), cls->insert_generated.end());
  out.on_update.insert(cls->update_generated.begin(), cls->update_generated.end());
  for (const std::string& base : cls->bases) {
    if (!collect_generated(index, base, out, depth + 1)) return false;
  }
  return true;
}

std::optional<Generated> generated_columns(const FileContext& context, TSNode class_node) {
  if (ts_node_is_null(class_node)) return std::nullopt;
  std::string qualified = context.facts.resolve(dotted_name(class_node, context.text()));
  if (qualified.empty()) return std::nullopt;
  Generated generated;
  generated.model = qualified.substr(qualified.rfind('.') + 1);
  if (!collect_generated(context.index, qualified, generated)) return std::nullopt;
  if (generated.on_insert.empty() && generated.on_update.empty()) return std::nullopt;
  return generated;
}

// SQLAlchemy 2.0 fetches INSERT-filled columns back at the flush (eager_defaults="auto", with
// RETURNING) when the database has INSERT ... RETURNING: then only UPDATE-filled ones expire.
// Known only when every engine of the project has a literal URL of such a database.
bool insert_defaults_fetched(const FileContext& context) {
  if (context.setting("target.sqlalchemy") == "1.4") return false;
  bool any = false;
  for (const ModuleFacts* module : context.index.modules()) {
    for (const auto& [engine, scheme] : module->engine_schemes) {
      any = true;
      bool returning = scheme.rfind("postgres", 0) == 0 || scheme.rfind("sqlite", 0) == 0 ||
                       scheme.rfind("mariadb", 0) == 0;
      if (!returning) return false;
    }
  }
  return any;
}

// Reads of server-generated attributes after a flush or commit and before a refresh, in one
// function body, in document order (branches and loops are not told apart).
class ServerGeneratedReads {
 public:
  ServerGeneratedReads(const FileContext& context, const db::FunctionScope& scope,
                       bool insert_fetched, PassResult& result)
      : context_(context), scope_(scope), insert_fetched_(insert_fetched), result_(result) {}

  void run(TSNode def, const FunctionFacts* fn) {
    if (fn && context_.index.is_path_operation(*fn)) read_response_model(def);
    walk(field(def, "body"), [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
        return false;
      if (is(node, "assignment")) on_assignment(node);
      if (is(node, "call")) on_session_call(node);
      if (is(node, "attribute")) on_attribute(node);
      if (is(node, "return_statement")) on_return(node);
      return true;
    });
  }

 private:
  struct Object {
    Generated columns;
    bool created = false;  // `Model(...)`: INSERTed by the next flush once added
    bool pending = false;  // added (created) or changed (loaded) since its last flush
    std::string flushed;   // the flush or commit that expired its columns, as written
    uint32_t flush_line = 0;
    std::string session;  // the session it was flushed by
    // Attributes given a value (`Model(x=...)`, `obj.x = ...`): sent with the statement, so
    // the flush does not expire them.
    std::set<std::string> assigned;
  };

  std::string_view src() const { return context_.text(); }

  void on_assignment(TSNode assignment) {
    TSNode left = field(assignment, "left");
    TSNode right = field(assignment, "right");
    if (is(left, "attribute")) {
      auto object = objects_.find(std::string(node_text(field(left, "object"), src())));
      if (object == objects_.end()) return;
      if (!object->second.created) object->second.pending = true;
      object->second.assigned.insert(std::string(node_text(field(left, "attribute"), src())));
      return;
    }
    if (!is(left, "identifier")) return;
    std::string name(node_text(left, src()));
    objects_.erase(name);
    if (is(right, "await")) right = ts_node_named_child(right, 0);
    if (!is(right, "call")) return;
    TSNode function = field(right, "function");
    bool get = is(function, "attribute") &&
               scope_.sessions.count(std::string(node_text(field(function, "object"), src()))) &&
               node_text(field(function, "attribute"), src()) == "get";
    TSNode model = get ? ts_node_named_child(field(right, "arguments"), 0) : function;
    auto columns = generated_columns(context_, model);
    if (!columns) return;
    Object object{*columns, !get, false, {}, 0, {}, {}};
    for (TSNode argument : named_children(field(right, "arguments"))) {
      if (!get && is(argument, "keyword_argument"))
        object.assigned.insert(std::string(node_text(field(argument, "name"), src())));
    }
    objects_[name] = object;
  }

  void on_session_call(TSNode call) {
    TSNode function = field(call, "function");
    if (!is(function, "attribute") ||
        !scope_.sessions.count(std::string(node_text(field(function, "object"), src()))))
      return;
    std::string method(node_text(field(function, "attribute"), src()));
    TSNode arguments = field(call, "arguments");
    if (method == "add" || method == "add_all" || method == "refresh") {
      walk(arguments, [&](TSNode node) {
        auto object = objects_.find(std::string(node_text(node, src())));
        if (!is(node, "identifier") || object == objects_.end()) return true;
        if (method == "refresh")
          object->second.flushed.clear();
        else
          object->second.pending = true;
        return true;
      });
    } else if (method == "flush" || method == "commit") {
      for (auto& [name, object] : objects_) {
        if (!object.pending) continue;
        object.pending = false;
        object.flushed = "await " + std::string(node_text(call, src()));
        object.flush_line = ts_node_start_point(call).row + 1;
        object.session = std::string(node_text(field(function, "object"), src()));
      }
    }
  }

  // Whether reading `name` on the object now loads it: a column the database filled at the
  // object's last flush, not given a value by the code, and not refreshed since.
  bool expired(const Object& object, const std::string& name) const {
    if (object.flushed.empty() || object.assigned.count(name)) return false;
    return object.created ? !insert_fetched_ && object.columns.on_insert.count(name) > 0
                          : object.columns.on_update.count(name) > 0;
  }

  void report(TSNode at, const std::string& what, const std::string& variable,
              const Object& object) {
    result_.findings.push_back(context_.finding(
        kIoId, at, Severity::warning,
        what + " after `" + object.flushed + "` (line " + std::to_string(object.flush_line) +
            "): the database fills it " +
            (object.created ? std::string("on INSERT (SQLAlchemy 2.0 fetches it back only from a "
                                          "database with INSERT ... RETURNING, which this "
                                          "project's engines are not known to be)")
                            : std::string("on UPDATE")) +
            ", so the flush expired it and reading it loads it lazily, which raises "
            "MissingGreenlet under asyncio; add `await " +
            object.session + ".refresh(" + variable +
            ")` after it, or fetch it at flush with `__mapper_args__ = "
            "{\"eager_defaults\": True}` on " +
            object.columns.model));
  }

  void on_attribute(TSNode attribute) {
    TSNode object_node = field(attribute, "object");
    std::string variable(node_text(object_node, src()));
    auto object = objects_.find(variable);
    if (!is(object_node, "identifier") || object == objects_.end()) return;
    std::string name(node_text(field(attribute, "attribute"), src()));
    TSNode parent = ts_node_parent(attribute);
    bool written = is(parent, "assignment") && ts_node_eq(field(parent, "left"), attribute);
    if (written || !expired(object->second, name) ||
        !reported_.insert(variable + "." + name).second)
      return;
    report(attribute, "`" + variable + "." + name + "` is read", variable, object->second);
  }

  // `return note` from a path operation whose response model has a field the flush expired:
  // FastAPI reads it while serializing, outside the session's greenlet.
  void on_return(TSNode statement) {
    TSNode value = ts_node_named_child(statement, 0);
    if (!is(value, "identifier") || response_fields_.empty()) return;
    std::string variable(node_text(value, src()));
    auto object = objects_.find(variable);
    if (object == objects_.end()) return;
    for (const std::string& name : response_fields_) {
      if (!expired(object->second, name) || !reported_.insert(variable + "." + name).second)
        continue;
      report(value,
             "`" + variable + "` is returned and its response model `" + response_model_ +
                 "` reads `" + name + "`",
             variable, object->second);
    }
  }

  // The fields of the route's response_model= (or its return annotation), with its bases'.
  void read_response_model(TSNode def) {
    TSNode model{};
    TSNode outer = ts_node_parent(def);
    if (is(outer, "decorated_definition")) {
      walk(outer, [&](TSNode node) {
        if (ts_node_eq(node, def)) return false;
        if (is(node, "keyword_argument") &&
            node_text(field(node, "name"), src()) == "response_model")
          model = field(node, "value");
        return ts_node_is_null(model);
      });
    }
    if (ts_node_is_null(model)) model = field(def, "return_type");
    if (ts_node_is_null(model)) return;
    if (is(model, "type")) model = ts_node_named_child(model, 0);
    std::string qualified =
        context_.index.canonical(context_.facts.resolve(dotted_name(model, src())));
    // A pydantic schema (or SQLModel's): FastAPI validates the object into it, reading each
    // field. An ORM class as the annotation is not a response model.
    bool schema = context_.index.derives_from(qualified, "pydantic.BaseModel") ||
                  context_.index.derives_from(qualified, "pydantic.main.BaseModel") ||
                  context_.index.derives_from(qualified, "sqlmodel.SQLModel");
    if (qualified.empty() || !schema) return;
    response_model_ = qualified.substr(qualified.rfind('.') + 1);
    collect_fields(qualified, 0);
  }

  void collect_fields(const std::string& qualified, int depth) {
    const ClassFacts* cls = class_facts(context_.index, context_.index.canonical(qualified));
    if (!cls || depth > 8) return;
    response_fields_.insert(cls->fields.begin(), cls->fields.end());
    for (const std::string& base : cls->bases) collect_fields(base, depth + 1);
  }

  const FileContext& context_;
  const db::FunctionScope& scope_;
  bool insert_fetched_;
  PassResult& result_;
  std::map<std::string, Object> objects_;
  std::set<std::string> reported_;
  std::string response_model_;
  std::set<std::string> response_fields_;
};

PassResult run(const FileContext& context) {
  PassResult result;
  std::string_view src = context.text();
  bool needs_text = false;
  bool insert_fetched = insert_defaults_fetched(context);
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
            if (method_of(call, src).rfind("bulk_", 0) == 0)
              edits.push_back(through_run_sync(call, src));
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
        if (async_after)
          ServerGeneratedReads(context, function_scope, insert_fetched, result).run(scope.def, fn);
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
      .id = kIoId,
      .phase = "db",
      .summary = "session I/O (commit, refresh, delete, execute, get, ...) awaited",
      .explain = R"(Before:
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
`with db.begin():` becomes `async with db.begin():`, and the commit()/rollback()/close() of a
transaction it binds (`as transaction`) are awaited (a `with` that has other items is split
into nested statements, since `async with` takes async context managers only); `db.execute("SQL")` gets the text()
SQLAlchemy 2.0 requires: `await db.execute(text("SQL"))`. add, add_all, expunge, expunge_all,
expire, expire_all, in_transaction and no_autoflush stay sync, as they are on AsyncSession.
`db.delete(obj)` looks like add() but is I/O: a missed await deletes nothing, silently.
Only code the db phase migrates (see AW102) changes; a call that cannot be awaited where it is
(a lambda, a generator expression) is reported.

Also reported, since this pass awaits the flush that causes it: a column the database fills
(server_default=, server_onupdate=, Computed, FetchedValue) read after `await db.flush()` or
`await db.commit()` without an `await db.refresh(obj)` in between. The flush expires such
columns even with expire_on_commit=False, and reading one then is a lazy load, which raises
MissingGreenlet under asyncio. The fix is `await db.refresh(obj)` after the flush, or
`__mapper_args__ = {"eager_defaults": True}` on the model (then nothing is reported).
SQLAlchemy 2.0 fetches INSERT-filled columns back at the flush on databases with INSERT ...
RETURNING, so those are reported only when that is not known: with --target sqlalchemy=1.4,
or when an engine of the project has a URL that is not a literal PostgreSQL, SQLite or
MariaDB one. UPDATE-filled columns are always expired.
Precise rather than complete: only objects whose model class the index knows (built with
`Model(...)` and added to the session: INSERT-filled columns; loaded with `db.get(Model, ...)`
and changed: UPDATE-filled columns), only columns the code gave no value, only reads in the
same function, in document order, or the object returned by a path operation whose response
model (response_model=, or a pydantic or SQLModel return annotation) has a field of that
name, which FastAPI reads while serializing.)",
      .triggers = {"Session"},
      .run = run,
      .seeds = db_seeds,
      .applies = applies_where_plan_migrates};
}

}  // namespace awaitify
