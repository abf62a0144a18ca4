// AW103: legacy `session.query(...)` chains -> 2.0 `select()` statements run on the session,
// keeping what the legacy terminals returned (LIMIT 1 for first(), rows for several columns,
// de-duplicated entities under joined eager loading, the row count of bulk delete/update).
#include <algorithm>

#include "awaitify/calls.hpp"
#include "awaitify/db.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

struct ChainEdits {
  std::vector<Edit> edits;
  std::set<std::string> imports;  // names from sqlalchemy
  std::string refusal;            // empty when the chain is rewritten
};

std::string inner_arguments(TSNode call, std::string_view src) {
  std::string_view text = node_text(field(call, "arguments"), src);
  if (text.size() < 2) return {};
  return std::string(text.substr(1, text.size() - 2));
}

TSNode receiver_of(TSNode call) {
  return field(field(call, "function"), "object");
}

// Where an await cannot go: the chain runs inside a lambda or a generator expression.
std::string context_refusal(TSNode node) {
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up)) {
    if (is(up, "lambda")) return "it runs inside a lambda, which cannot await";
    if (is(up, "generator_expression")) return "it runs inside a generator expression";
    if (is(up, "function_definition")) break;
  }
  return {};
}

std::string keyword_text(TSNode call, std::string_view name, std::string_view src) {
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "keyword_argument") && node_text(field(argument, "name"), src) == name) {
      return std::string(node_text(field(argument, "value"), src));
    }
  }
  return {};
}

std::vector<TSNode> positional(TSNode call) {
  std::vector<TSNode> found;
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (!is(argument, "keyword_argument") && !is(argument, "comment")) found.push_back(argument);
  }
  return found;
}

// `.with_entities(a, b)` -> `.with_only_columns(a, b, maintain_column_froms=True)`;
// `.as_scalar()` -> `.scalar_subquery()`.
void rename_links(const db::QueryChain& chain, std::string_view src, ChainEdits& out) {
  for (TSNode link : chain.links) {
    TSNode name = field(field(link, "function"), "attribute");
    std::string_view method = node_text(name, src);
    if (method == "as_scalar") {
      out.edits.push_back(
          Edit::replace(ts_node_start_byte(name), ts_node_end_byte(name), "scalar_subquery"));
    } else if (method == "with_entities") {
      out.edits.push_back(
          Edit::replace(ts_node_start_byte(name), ts_node_end_byte(name), "with_only_columns"));
      TSNode arguments = field(link, "arguments");
      uint32_t close = ts_node_end_byte(arguments) - 1;
      std::string_view before =
          src.substr(ts_node_start_byte(arguments) + 1, close - ts_node_start_byte(arguments) - 1);
      size_t last = before.find_last_not_of(" \t\r\n");
      bool comma = last != std::string_view::npos && before[last] == ',';
      out.edits.push_back(Edit::insert(
          close, comma ? " maintain_column_froms=True" : ", maintain_column_froms=True"));
    }
  }
}

void rewrite_head(const db::QueryChain& chain, const std::string& function, ChainEdits& out) {
  if (ts_node_is_null(chain.head)) return;
  TSNode callee = field(chain.head, "function");
  out.edits.push_back(
      Edit::replace(ts_node_start_byte(callee), ts_node_end_byte(callee), function));
  out.imports.insert(function);
}

// `(await db.scalars(stmt)).all()` and the other terminals of the table.
void rewrite_terminal(const db::QueryChain& chain, std::string_view src, ChainEdits& out) {
  const std::string& s = chain.session;
  bool rows = chain.entities != 1;
  std::string unique = chain.joined_eager ? ".unique()" : "";
  std::string run = rows ? "(await " + s + ".execute(" : "(await " + s + ".scalars(";
  TSNode receiver = receiver_of(chain.terminal_call);
  uint32_t chain_start = ts_node_start_byte(chain.start);
  auto wrap = [&](const std::string& prefix, const std::string& suffix) {
    out.edits.push_back(Edit::insert(chain_start, prefix));
    out.edits.push_back(
        Edit::replace(ts_node_end_byte(receiver), ts_node_end_byte(chain.terminal_call), suffix));
  };
  bool parens = await_needs_parentheses(chain.top);
  const std::string& t = chain.terminal;
  if (t == "get") {
    if (ts_node_is_null(chain.head) || !chain.links.empty()) {
      out.refusal = "`.get()` after other query methods";
      return;
    }
    std::string call = "await " + s + ".get(" + inner_arguments(chain.head, src) + ", " +
                       inner_arguments(chain.terminal_call, src) + ")";
    out.edits.push_back(Edit::replace(ts_node_start_byte(chain.top), ts_node_end_byte(chain.top),
                                      parens ? "(" + call + ")" : call));
    return;
  }
  if (t == "delete" || t == "update") {
    bool plain_filters = std::all_of(chain.links.begin(), chain.links.end(), [&](TSNode link) {
      std::string_view method = node_text(field(field(link, "function"), "attribute"), src);
      return method == "filter" || method == "filter_by" || method == "where";
    });
    if (ts_node_is_null(chain.head) || !plain_filters || chain.entities != 1) {
      out.refusal = "bulk `." + t + "()` on a query with more than filters";
      return;
    }
    std::vector<TSNode> args = positional(chain.terminal_call);
    std::string synchronize = keyword_text(chain.terminal_call, "synchronize_session", src);
    std::string values;
    if (t == "update") {
      if (args.empty()) {
        out.refusal = "`.update()` without values";
        return;
      }
      values = ".values(" + std::string(node_text(args[0], src)) + ")";
      if (synchronize.empty() && args.size() > 1) synchronize = node_text(args[1], src);
    } else if (synchronize.empty() && !args.empty()) {
      synchronize = node_text(args[0], src);
    }
    std::string options =
        synchronize.empty() ? "" : ".execution_options(synchronize_session=" + synchronize + ")";
    rewrite_head(chain, t, out);
    wrap("(await " + s + ".execute(", values + options + ")).rowcount");
    return;
  }
  rewrite_head(chain, "select", out);
  if (t == "all")
    wrap(run, "))" + unique + ".all()");
  else if (t == "first")
    wrap(run, ".limit(1)))" + unique + ".first()");
  else if (t == "one")
    wrap(run, "))" + unique + ".one()");
  else if (t == "one_or_none")
    wrap(run, "))" + unique + ".one_or_none()");
  else if (t == "scalar")
    wrap("(await " + s + ".execute(", ")).scalar_one_or_none()");
  else if (t == "count") {
    out.imports.insert("func");
    out.imports.insert("select");
    std::string open =
        std::string(parens ? "(" : "") + "await " + s + ".scalar(select(func.count()).select_from(";
    wrap(open, ".order_by(None).subquery()))" + std::string(parens ? ")" : ""));
  }
}

ChainEdits rewrite_chain(const db::QueryChain& chain, std::string_view src) {
  ChainEdits out;
  if (!chain.unsupported.empty()) {
    out.refusal = "`" + chain.unsupported + "` is not in the query() -> select() table";
    return out;
  }
  if (!chain.runs()) {
    rewrite_head(chain, "select", out);  // built here, run elsewhere
    rename_links(chain, src, out);
    return out;
  }
  if (chain.session.empty()) {
    out.refusal = "the session that runs this query is not known here";
    return out;
  }
  if (std::string why = context_refusal(chain.top); !why.empty()) {
    out.refusal = why;
    return out;
  }
  rename_links(chain, src, out);
  if (chain.iterated) {
    rewrite_head(chain, "select", out);
    std::string run = chain.entities != 1 ? "(await " + chain.session + ".execute("
                                          : "(await " + chain.session + ".scalars(";
    out.edits.push_back(Edit::insert(ts_node_start_byte(chain.start), run));
    out.edits.push_back(
        Edit::insert(ts_node_end_byte(chain.top), chain.joined_eager ? ")).unique()" : "))"));
    return out;
  }
  rewrite_terminal(chain, src, out);
  return out;
}

// `# TODO(awaitify): ...` on its own line above the statement, once.
std::optional<Edit> todo_comment(const FileContext& context, TSNode node,
                                 const std::string& message) {
  std::string_view src = context.text();
  TSNode statement = node;
  while (!ts_node_is_null(ts_node_parent(statement)) && !is(ts_node_parent(statement), "block") &&
         !is(ts_node_parent(statement), "module")) {
    statement = ts_node_parent(statement);
  }
  uint32_t start = ts_node_start_byte(statement);
  size_t line_start = src.rfind('\n', start == 0 ? 0 : start - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string indent(src.substr(line_start, start - line_start));
  if (indent.find_first_not_of(" \t") != std::string::npos) return std::nullopt;  // `x = 1; stmt`
  if (line_start >= 2) {
    size_t previous = src.rfind('\n', line_start - 2);
    previous = previous == std::string_view::npos ? 0 : previous + 1;
    if (src.substr(previous, line_start - previous).find("TODO(awaitify)") !=
        std::string_view::npos) {
      return std::nullopt;
    }
  }
  return Edit::insert(static_cast<uint32_t>(line_start),
                      indent + "# TODO(awaitify): " + message + "\n");
}

bool name_is_free(const FileContext& context, const std::string& name) {
  std::string bound = context.facts.resolve(name);
  return bound.empty() || bound == "sqlalchemy." + name || bound == "sqlmodel." + name ||
         bound == "sqlalchemy.sql." + name || bound == "sqlalchemy.future." + name;
}

PassResult run(const FileContext& context) {
  PassResult result;
  std::string_view src = context.text();
  db::QueryHelpers helpers = db::find_query_helpers(context.facts, context.root, src);
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  std::set<std::string> wanted;
  scan_file_scopes(
      context.facts, context.root, src, &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module() || !context.plan.migrates(scope.qualified)) return;
        const FunctionFacts* fn = context.index.function(scope.qualified);
        std::string class_name = fn ? fn->class_name : "";
        db::FunctionScope function_scope{
            db::session_names(context.facts, scope.def, src, class_name, &context.index),
            class_name, &helpers, src};
        bool async_after =
            is_async_function(scope.def) || context.plan.becomes_async(scope.qualified);
        for (const db::QueryChain& chain : db::query_chains(scope.def, function_scope)) {
          ChainEdits edits = rewrite_chain(chain, src);
          if (edits.refusal.empty() && chain.runs() && !async_after)
            edits.refusal = "its function stays sync";
          for (const std::string& name : edits.imports) {
            if (edits.refusal.empty() && !name_is_free(context, name)) {
              edits.refusal = "`" + name + "` means something else in this module";
            }
          }
          if (!edits.refusal.empty()) {
            TSNode at =
                ts_node_is_null(chain.unsupported_call) ? chain.top : chain.unsupported_call;
            result.findings.push_back(
                context.finding(kQueryId, at, Severity::warning,
                                "query left as it is: " + edits.refusal +
                                    "; AsyncSession has no query(), so rewrite it by hand"));
            if (auto todo = todo_comment(context, chain.top,
                                         "rewrite this query as select(): " + edits.refusal)) {
              result.edits.push_back(*todo);
            }
            continue;
          }
          result.edits.insert(result.edits.end(), edits.edits.begin(), edits.edits.end());
          wanted.insert(edits.imports.begin(), edits.imports.end());
        }
      },
      nullptr);
  if (wanted.empty()) return result;
  bool sqlmodel = false;
  for (const auto& [local, target] : context.facts.imports)
    sqlmodel = sqlmodel || (local == "select" && is_sqlmodel(target));
  for (const std::string& name : wanted) {
    if (context.facts.resolve(name).empty())
      imports.require_from(sqlmodel && name == "select" ? "sqlmodel" : "sqlalchemy", name);
  }
  std::vector<Edit> import_edits = imports.edits();
  result.edits.insert(result.edits.end(), import_edits.begin(), import_edits.end());
  return result;
}

}  // namespace

TransformInfo db_query_transform() {
  return TransformInfo{.id = kQueryId,
                       .phase = "db",
                       .summary = "query() chains -> select() statements executed on the session",
                       .explain = R"(Before:
    return db.query(Book).filter(Book.author_id == author_id).order_by(Book.id).all()
After:
    return (await db.scalars(select(Book).filter(Book.author_id == author_id).order_by(Book.id))).all()

The chain keeps its methods (filter, filter_by, where, order_by, limit, offset, join, outerjoin,
options, distinct, group_by, having, select_from, params, execution_options, with_for_update);
the terminal decides how the statement runs, keeping the legacy result:
    .all()          (await db.scalars(stmt)).all()      several columns: (await db.execute(stmt)).all()
    .first()        (await db.scalars(stmt.limit(1))).first()
    .one()          (await db.scalars(stmt)).one()          rows: (await db.execute(stmt)).one()
    .one_or_none()  (await db.scalars(stmt)).one_or_none()  rows: (await db.execute(stmt)).one_or_none()
    .scalar()       (await db.execute(stmt)).scalar_one_or_none()
    .count()        await db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    .get(pk)        await db.get(X, pk)
    .delete()       (await db.execute(delete(X).where(...).execution_options(synchronize_session=s))).rowcount
    .update(v)      (await db.execute(update(X).where(...).values(v)...)).rowcount
    for x in q:     for x in (await db.scalars(stmt)):
    .with_entities(*c)  .with_only_columns(*c, maintain_column_froms=True)
    .as_scalar()    .scalar_subquery()
With joinedload() in options(), entity results get .unique() (the legacy Query de-duplicated
them). A query built in a helper (`def _filtered(self) -> Query`) is followed into the methods
of its class that run it. A chain the table does not cover (another method, a string join or
loader target, a session the engine cannot see) is left whole with a `# TODO(awaitify)` line and
a finding: never half-rewritten.)",
                       .triggers = {".query("},
                       .run = run,
                       .seeds = db_seeds,
                       .applies = applies_where_plan_migrates};
}

}  // namespace awaitify
