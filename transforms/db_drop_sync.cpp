// AW107 (only with --drop-sync): once nothing in the project uses them any more, the sync
// provider (`get_db`), its sessionmaker and its engine are removed, in that order, with the
// imports only they used. Anything still in use stays, with a note naming where it is used.
//
// It runs after the other db passes, so in its own module it reads the text they left (the
// routes and create_all calls they moved to the async stack no longer count); in other modules
// it asks the index, where a use by a function the plan migrates counts only when the
// migration keeps it (AW102 moves `Depends(get_db)` to the async provider, nothing else).
#include <algorithm>
#include <set>

#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

constexpr const char* kId = "AW107";
constexpr size_t kUsesShown = 3;

// One piece of the sync stack whose async sibling exists in the file.
struct Piece {
  std::string name;
  TSNode statement{};  // the top-level statement defining it (the decorated def, or the assignment)
  TSNode name_node{};
  bool provider = false;
  std::vector<std::string> users;  // "path:line (what)" of uses that stay
  std::vector<TSNode> local_uses;  // uses in this file, outside its own statement
};

bool contains(TSNode outer, TSNode inner) {
  return ts_node_start_byte(inner) >= ts_node_start_byte(outer) &&
         ts_node_end_byte(inner) <= ts_node_end_byte(outer);
}

// Whether the file, as the earlier passes left it, defines a top-level name.
bool defined_at_top(const FileContext& context, const std::string& name) {
  std::string_view src = context.text();
  for (TSNode statement : named_children(context.root)) {
    if (auto def = definition_of(statement)) {
      if (node_text(field(*def, "name"), src) == name) return true;
      continue;
    }
    TSNode assignment = ts_node_named_child(statement, 0);
    if (is(statement, "expression_statement") && is(assignment, "assignment") &&
        node_text(field(assignment, "left"), src) == name)
      return true;
  }
  return false;
}

// The pieces whose async sibling is in the file: only those can go, the code that used them
// having somewhere to move to.
std::vector<Piece> candidates(const FileContext& context, const SyncStack& stack) {
  std::vector<Piece> pieces;
  auto add = [&](const std::string& name, TSNode statement, TSNode name_node, bool provider) {
    if (!defined_at_top(context, sibling_name(context.facts, name))) return;
    pieces.push_back(Piece{name, statement, name_node, provider, {}, {}});
  };
  for (const Provider& provider : stack.providers)
    add(provider.name, provider.outer, field(provider.def, "name"), true);
  for (const Maker& maker : stack.makers)
    add(maker.name, maker.statement, field(ts_node_named_child(maker.statement, 0), "left"), false);
  for (const Engine& engine : stack.engines)
    add(engine.name, engine.statement, field(ts_node_named_child(engine.statement, 0), "left"),
        false);
  return pieces;
}

bool names(const ProjectIndex& index, const std::string& target, const std::string& qualified) {
  for (const std::string& name : {target, index.canonical(target)}) {
    if (name == qualified || name.rfind(qualified + ".", 0) == 0) return true;
  }
  return false;
}

bool is_depends(const std::string& callee) {
  return callee == "fastapi.Depends" || callee == "fastapi.params.Depends";
}

std::string where(const ModuleFacts& module, uint32_t line) {
  return module.path + ":" + std::to_string(line);
}

// The uses of `qualified` in another module that stay after this run.
void uses_in_module(const FileContext& context, const ModuleFacts& module,
                    const std::string& qualified, bool provider, std::vector<std::string>& users) {
  const ProjectIndex& index = context.index;
  size_t kept = users.size();
  bool moved = false;  // a use the migration moves to the async stack
  for (const FunctionFacts& fn : module.function_facts) {
    for (const std::string& dependency : fn.dependencies) {
      if (!names(index, dependency, qualified)) continue;
      if (provider && context.plan.migrates(fn.qualified))
        moved = true;
      else
        users.push_back(where(module, fn.line) + " (`" + fn.name() + "` depends on it)");
    }
  }
  for (const FunctionFacts& fn : module.function_facts) {
    for (const auto* facts : {&fn.calls, &fn.blocking, &fn.references}) {
      for (const CallFact& use : *facts) {
        if (!names(index, use.target, qualified)) continue;
        // `Depends(get_db)` in a parameter is the dependency counted above; elsewhere (a type
        // alias `Annotated[Session, Depends(get_db)]`) it stays.
        if (is_depends(use.passed_to) && module.parameter_dependency_lines.count(use.line))
          continue;
        std::string by = fn.is_module ? "module level" : "`" + fn.name() + "`";
        users.push_back(where(module, use.line) + " (" + by + ")");
      }
    }
  }
  if (auto line = module.override_lines.find(qualified); line != module.override_lines.end())
    users.push_back(where(module, line->second) + " (dependency_overrides)");
  // An import with no use the index sees may still be used in a way it does not record; an
  // import whose every use moves is dropped by AW102.
  if (users.size() > kept || moved) return;
  for (const auto& [local, target] : module.imports) {
    if (index.canonical(target) != qualified) continue;
    users.push_back(
        where(module, module.import_lines.count(local) ? module.import_lines.at(local) : 1) +
        " (imports it)");
  }
}

std::vector<std::string> project_users(const FileContext& context, const Piece& piece) {
  std::vector<std::string> users;
  std::string qualified = context.facts.module + "." + piece.name;
  for (const ModuleFacts* module : context.index.modules()) {
    if (module->path == context.facts.path) continue;
    uses_in_module(context, *module, qualified, piece.provider, users);
  }
  // Each user once, at its first use: the calls on a session it made (`db.add(...)` after
  // `with SessionLocal() as db`) resolve through it too, and would only repeat it.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& user : users) {
    std::string path = user.substr(0, user.find(':'));
    if (seen.insert(path + user.substr(user.find(" ("))).second) unique.push_back(user);
  }
  return unique;
}

// Identifiers (and strings) naming the piece in this file, outside its own definition and imports
// (`x.engine` and `engine=` name something else).
std::vector<TSNode> local_uses(const FileContext& context, const Piece& piece) {
  std::string_view src = context.text();
  std::vector<TSNode> uses;
  walk(context.root, [&](TSNode node) {
    if (is(node, "import_statement") || is(node, "import_from_statement")) return false;
    // `__all__ = ["get_db", ...]` (or getattr(module, "engine")) names it in a string.
    if (is(node, "string_content") && node_text(node, src) == piece.name) uses.push_back(node);
    if (!is(node, "identifier") || ts_node_eq(node, piece.name_node) ||
        node_text(node, src) != piece.name)
      return true;
    TSNode parent = ts_node_parent(node);
    if (is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node)) return true;
    if (is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node)) return true;
    uses.push_back(node);
    return true;
  });
  return uses;
}

// What holds a use in this file: the top-level function or class around it, or module level.
std::string user_of(const FileContext& context, TSNode use) {
  for (TSNode statement : named_children(context.root)) {
    if (!contains(statement, use)) continue;
    TSNode def = is(statement, "decorated_definition") ? field(statement, "definition") : statement;
    if (is(def, "function_definition") || is(def, "class_definition"))
      return "`" + std::string(node_text(field(def, "name"), context.text())) + "`";
  }
  return "module level";
}

// The pieces nothing outside the removed ones uses: each goes only when its remaining users go
// (get_db uses SessionLocal, which uses engine).
std::vector<bool> removable(std::vector<Piece>& pieces, const FileContext& context) {
  std::vector<bool> removed(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) removed[i] = pieces[i].users.empty();
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (!removed[i]) continue;
      for (TSNode use : pieces[i].local_uses) {
        auto holder = std::find_if(pieces.begin(), pieces.end(),
                                   [&](const Piece& p) { return contains(p.statement, use); });
        if (holder != pieces.end() && removed[holder - pieces.begin()]) continue;
        std::string line = std::to_string(ts_node_start_point(use).row + 1);
        pieces[i].users.push_back(context.facts.path + ":" + line + " (" +
                                  (holder == pieces.end() ? user_of(context, use)
                                                          : "`" + holder->name + "`, which stays") +
                                  ")");
        removed[i] = false;
        changed = true;
        break;
      }
    }
  }
  return removed;
}

// The start of the line before the one starting at `line_start` (which must not be 0).
uint32_t previous_line(std::string_view src, uint32_t line_start) {
  uint32_t start = line_start - 1;
  while (start > 0 && src[start - 1] != '\n') --start;
  return start;
}

// The bytes a removed statement takes: its lines and, for a def, the comment lines right above
// it (`# Dependency`) and the blank lines that separate it from the code above (the blank lines
// after it then separate what remains).
std::pair<uint32_t, uint32_t> removal_range(std::string_view src, TSNode statement) {
  uint32_t start = ts_node_start_byte(statement);
  while (start > 0 && src[start - 1] != '\n') --start;
  if (definition_of(statement)) {
    for (bool comments : {true, false}) {
      while (start > 0) {
        uint32_t above = previous_line(src, start);
        std::string_view line = src.substr(above, start - above);
        size_t first = line.find_first_not_of(" \t\r\n");
        bool blank = first == std::string_view::npos;
        if (comments ? blank || line[first] != '#' : !blank) break;
        start = above;
      }
    }
  }
  uint32_t end = ts_node_end_byte(statement);
  while (end < src.size() && src[end] != '\n') ++end;
  if (end < src.size()) ++end;
  return {start, end};
}

Finding kept_note(const FileContext& context, const Piece& piece) {
  std::string list;
  for (size_t i = 0; i < piece.users.size() && i < kUsesShown; ++i)
    list += (i ? ", " : "") + piece.users[i];
  if (piece.users.size() > kUsesShown)
    list += " and " + std::to_string(piece.users.size() - kUsesShown) + " more";
  return context.finding(kId, piece.name_node, Severity::note,
                         "`" + piece.name + "` is kept (--drop-sync): still used at " + list);
}

void drop_unused_imports(const FileContext& context, TSNode statement, uint32_t start, uint32_t end,
                         ImportEditor& imports) {
  std::string_view src = context.text();
  imports.ignore_uses_in(start, end);
  walk(statement, [&](TSNode node) {
    if (!is(node, "identifier")) return true;
    std::string name(node_text(node, src));
    if (context.facts.imports.count(name)) imports.drop_if_unused(name);
    return true;
  });
}

PassResult run(const FileContext& context) {
  PassResult result;
  // Only with --drop-sync (TransformInfo::enabled_by). Tests keep their sync stack (their
  // override of get_db keeps get_db anyway).
  if (is_pytest_file(context.facts.path)) return result;
  SyncStack stack = find_sync_stack(context);
  std::vector<Piece> pieces = candidates(context, stack);
  if (pieces.empty()) return result;
  for (Piece& piece : pieces) {
    piece.users = project_users(context, piece);
    piece.local_uses = local_uses(context, piece);
  }
  std::vector<bool> removed = removable(pieces, context);
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!removed[i]) {
      result.findings.push_back(kept_note(context, pieces[i]));
      continue;
    }
    auto [start, end] = removal_range(context.text(), pieces[i].statement);
    result.edits.push_back(Edit::replace(start, end, ""));
    drop_unused_imports(context, pieces[i].statement, start, end, imports);
  }
  std::vector<Edit> import_edits = imports.edits();
  result.edits.insert(result.edits.end(), import_edits.begin(), import_edits.end());
  return result;
}

}  // namespace

TransformInfo db_drop_sync_transform() {
  return TransformInfo{.id = kId,
                       .phase = "db",
                       .summary =
                           "with --drop-sync: get_db, the sync sessionmaker and engine removed "
                           "once nothing uses them",
                       .explain = R"(Before (with --drop-sync, once every route is migrated):
    engine = create_engine(DATABASE_URL)
    async_engine = create_async_engine(async_database_url(DATABASE_URL))
    SessionLocal = sessionmaker(bind=engine)
    AsyncSessionLocal = async_sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False)

    def get_db(): ...

    async def get_session(): ...
After:
    async_engine = create_async_engine(async_database_url(DATABASE_URL))
    AsyncSessionLocal = async_sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False)

    async def get_session(): ...

Only with --drop-sync (or `drop-sync = true` in [tool.awaitify]); without it the sync stack
stays, since other code may still use it. A piece goes when its async sibling exists (written
by AW101 now or by an earlier run) and nothing left in the project uses it: not a route or
dependency that stays sync (`Depends(get_db)`), a test override (`dependency_overrides[get_db]`),
module-level code (`Base.metadata.create_all(bind=engine)`), another module importing it, or
another piece that stays. Uses this run migrates no longer count. They go in order: get_db
uses SessionLocal, which uses engine, so each goes only when its users go. Imports only they
used (create_engine, sessionmaker, Session, ...) go too; the URL the async engine still reads
stays. A piece that stays gets a note naming where it is still used (file:line).
Limits: in other modules the index sees calls, names passed as arguments, dependencies,
overrides and imports (a module that imports a piece without a use the index records keeps
it); a piece read through its module as a plain value (`x = database.engine`) or by code
outside the project is not seen, so review the diff before applying.)",
                       .triggers = {"create_engine", "sessionmaker", "Session("},
                       .run = run,
                       .seeds = db_seeds,
                       .enabled_by = "drop-sync"};
}

}  // namespace awaitify
