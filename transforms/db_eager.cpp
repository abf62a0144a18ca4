// AW106: relationships are loaded eagerly where migrated code loads a model whose relationship
// is read afterwards — in the function itself, or by a response schema that has a field of
// that name. Under asyncio a lazy load raises MissingGreenlet instead of running a query.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "awaitify/calls.hpp"
#include "awaitify/db.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

constexpr const char* kId = "AW106";

struct EagerModel {
  std::map<std::string, std::map<std::string, bool>> relationships;  // model -> name -> eager
  // model -> name -> the model it points to, when that model has relationships of its own
  std::map<std::string, std::map<std::string, std::string>> targets;
  std::map<std::string, std::string> schema_fields;  // field name -> a non-model class having it
};

// `relationship("Book")` names a mapped class by its name: the model of that name, preferring
// the relationship's own module.
std::string target_model(const EagerModel& model, const ProjectIndex& index,
                         const std::string& owner, const std::string& written) {
  if (written.find('.') != std::string::npos) {
    std::string qualified = index.canonical(written);
    return model.relationships.count(qualified) ? qualified : std::string();
  }
  std::string same_module = owner.substr(0, owner.rfind('.') + 1) + written;
  if (model.relationships.count(same_module)) return same_module;
  std::string found;
  for (const auto& [cls, relations] : model.relationships) {
    if (cls.size() > written.size() &&
        cls.compare(cls.size() - written.size(), written.size(), written) == 0 &&
        cls[cls.size() - written.size() - 1] == '.') {
      if (!found.empty()) return {};  // two models of that name: not guessed
      found = cls;
    }
  }
  return found;
}

EagerModel eager_model(const ProjectIndex& index) {
  EagerModel model;
  for (const ModuleFacts* module : index.modules()) {
    for (const auto& [cls, relations] : module->relationships)
      model.relationships[cls].insert(relations.begin(), relations.end());
  }
  for (const ModuleFacts* module : index.modules()) {
    for (const auto& [cls, targets] : module->relationship_targets) {
      for (const auto& [name, written] : targets) {
        std::string target = target_model(model, index, cls, written);
        if (!target.empty()) model.targets[cls][name] = target;
      }
    }
  }
  for (const ModuleFacts* module : index.modules()) {
    for (const auto& [name, cls] : module->classes) {
      std::string qualified = module->module + "." + name;
      if (model.relationships.count(qualified)) continue;
      for (const std::string& field_name : cls.fields)
        model.schema_fields.emplace(field_name, qualified);
    }
  }
  return model;
}

struct Wanted {
  std::string name;
  std::string why;
  // Relationships of the loaded relationship's model read too: `for book in author.books:
  // book.reviews` -> selectinload(Author.books).selectinload(Book.reviews). The model's
  // qualified name, and the names of its relationships.
  std::string target;
  std::vector<std::string> nested;
};

bool reads_attribute(std::string_view body, const std::string& name) {
  std::string needle = "." + name;
  for (size_t at = body.find(needle); at != std::string_view::npos;
       at = body.find(needle, at + 1)) {
    size_t end = at + needle.size();
    if (end >= body.size() ||
        !(std::isalnum(static_cast<unsigned char>(body[end])) || body[end] == '_'))
      return true;
  }
  return false;
}

// The lazy relationships of the loaded relationship's model that are read too (by the function
// or a response schema); not the one leading back to the model loaded first.
void add_nested(const EagerModel& model, const std::string& cls, std::string_view body,
                Wanted& wanted) {
  auto targets = model.targets.find(cls);
  if (targets == model.targets.end()) return;
  auto target = targets->second.find(wanted.name);
  if (target == targets->second.end() || target->second == cls) return;
  auto relations = model.relationships.find(target->second);
  if (relations == model.relationships.end()) return;
  auto next_targets = model.targets.find(target->second);
  for (const auto& [name, eager] : relations->second) {
    if (eager) continue;
    if (next_targets != model.targets.end()) {
      auto back = next_targets->second.find(name);
      if (back != next_targets->second.end() && back->second == cls) continue;
    }
    if (model.schema_fields.count(name) || reads_attribute(body, name))
      wanted.nested.push_back(name);
  }
  if (!wanted.nested.empty()) wanted.target = target->second;
}

// The lazy relationships of a model that this function, or a response schema, reads.
std::vector<Wanted> wanted_relationships(const EagerModel& model, const std::string& cls,
                                         std::string_view body) {
  std::vector<Wanted> wanted;
  auto relations = model.relationships.find(cls);
  if (relations == model.relationships.end()) return wanted;
  for (const auto& [name, eager] : relations->second) {
    if (eager) continue;
    if (auto schema = model.schema_fields.find(name); schema != model.schema_fields.end()) {
      wanted.push_back(
          {name, "a response schema reads it (" + schema->second + "." + name + ")", {}, {}});
    } else if (reads_attribute(body, name)) {
      wanted.push_back({name, "this function reads it", {}, {}});
    } else {
      continue;
    }
    add_nested(model, cls, body, wanted.back());
  }
  return wanted;
}

bool is_select_call(const FileContext& context, TSNode call) {
  std::string dotted = dotted_name(field(call, "function"), context.text());
  std::string target = context.facts.resolve(dotted);
  // `select` may have been imported by this run's query pass: the index does not know it yet.
  return target == "sqlalchemy.select" || target == "sqlmodel.select" ||
         target == "sqlalchemy.future.select" || (dotted == "select" && target.empty());
}

// select(X) used as a clause (count, exists, a subquery): loader options have no place there.
bool used_as_clause(TSNode call, std::string_view src) {
  for (TSNode node = call;;) {
    TSNode parent = ts_node_parent(node);
    TSNode grandparent = ts_node_parent(parent);
    if (!is(parent, "attribute") || !is(grandparent, "call")) return false;
    std::string_view method = node_text(field(parent, "attribute"), src);
    if (method == "subquery" || method == "scalar_subquery" || method == "cte" ||
        method == "exists")
      return true;
    node = grandparent;
  }
}

std::string chain_text(TSNode call, std::string_view src) {
  TSNode top = call;
  while (is(ts_node_parent(top), "attribute") && is(ts_node_parent(ts_node_parent(top)), "call")) {
    top = ts_node_parent(ts_node_parent(top));
  }
  return std::string(node_text(top, src));
}

struct Pass {
  const FileContext& context;
  const EagerModel& model;
  PassResult result;
  bool changed = false;

  std::string model_of(TSNode expression) const {
    std::string qualified =
        context.index.canonical(context.facts.resolve(dotted_name(expression, context.text())));
    return model.relationships.count(qualified) ? qualified : std::string();
  }

  // Imports the nested options need: (module, class).
  std::set<std::pair<std::string, std::string>> imports_needed;

  // How this file can name a model class: the local name binding it, its own class, or an
  // import this pass adds; empty when the name is taken by something else.
  std::string spelling_of(const std::string& qualified) {
    for (const auto& [local, target] : context.facts.imports) {
      if (context.index.canonical(target) == qualified) return local;
    }
    std::string module_name = qualified.substr(0, qualified.rfind('.'));
    std::string name = qualified.substr(qualified.rfind('.') + 1);
    if (module_name == context.facts.module) return name;
    if (context.facts.imports.count(name) || context.facts.classes.count(name) ||
        context.facts.instances.count(name) ||
        std::find(context.facts.functions.begin(), context.facts.functions.end(), name) !=
            context.facts.functions.end())
      return {};
    imports_needed.emplace(module_name, name);
    return name;
  }

  std::string options_text(const std::string& spelling, const std::vector<Wanted>& wanted) {
    std::string text;
    for (const Wanted& w : wanted) {
      std::string load = "selectinload(" + spelling + "." + w.name + ")";
      std::string target = w.nested.empty() ? std::string() : spelling_of(w.target);
      if (target.empty()) {
        text += (text.empty() ? "" : ", ") + load;
        continue;
      }
      for (const std::string& nested : w.nested)
        text += (text.empty() ? "" : ", ") + load + ".selectinload(" + target + "." + nested + ")";
    }
    return text;
  }

  static std::string nested_text(const Wanted& w) {
    std::string text;
    for (const std::string& nested : w.nested) text += (text.empty() ? "" : ", ") + nested;
    return text.empty() ? text : " (and its " + text + ")";
  }

  void note(TSNode at, const std::string& spelling, const std::vector<Wanted>& wanted) {
    for (const Wanted& w : wanted) {
      result.findings.push_back(context.finding(
          kId, at, Severity::note,
          "loads " + spelling + "." + w.name + nested_text(w) + " with selectinload: " + w.why +
              ", and a lazy load raises MissingGreenlet under asyncio"));
    }
    changed = true;
  }

  // Drops what the statement already loads (an earlier run, or the author).
  std::vector<Wanted> missing(const std::vector<Wanted>& wanted, const std::string& spelling,
                              const std::string& text) {
    std::vector<Wanted> left;
    for (const Wanted& w : wanted) {
      if (text.find(spelling + "." + w.name) == std::string::npos) left.push_back(w);
    }
    return left;
  }

  void on_select(TSNode call, std::string_view body) {
    std::string_view src = context.text();
    TSNode first = ts_node_named_child(field(call, "arguments"), 0);
    std::string cls = model_of(first);
    if (cls.empty() || ts_node_named_child_count(field(call, "arguments")) != 1 ||
        used_as_clause(call, src))
      return;
    std::string spelling(node_text(first, src));
    auto wanted = missing(wanted_relationships(model, cls, body), spelling, chain_text(call, src));
    if (wanted.empty()) return;
    result.edits.push_back(
        Edit::insert(ts_node_end_byte(call), ".options(" + options_text(spelling, wanted) + ")"));
    note(call, spelling, wanted);
  }

  void on_get(TSNode call, std::string_view body) {
    std::string_view src = context.text();
    TSNode arguments = field(call, "arguments");
    TSNode first = ts_node_named_child(arguments, 0);
    std::string cls = model_of(first);
    if (cls.empty() || node_text(arguments, src).find("options=") != std::string_view::npos) return;
    std::string spelling(node_text(first, src));
    auto wanted = wanted_relationships(model, cls, body);
    if (wanted.empty()) return;
    result.edits.push_back(Edit::insert(ts_node_end_byte(arguments) - 1,
                                        ", options=[" + options_text(spelling, wanted) + "]"));
    note(call, spelling, wanted);
  }

  // `x = Model(...)` ... `await db.refresh(x)`: refresh() leaves relationships lazy, so the
  // ones read later are refreshed by name right after.
  void on_refresh(TSNode call, TSNode def, const std::string& session, std::string_view body) {
    std::string_view src = context.text();
    TSNode arguments = field(call, "arguments");
    TSNode target = ts_node_named_child(arguments, 0);
    if (ts_node_named_child_count(arguments) != 1 || !is(target, "identifier")) return;
    TSNode awaited = ts_node_parent(call);
    TSNode statement = ts_node_parent(awaited);
    if (!is(awaited, "await") || !is(statement, "expression_statement")) return;
    std::string name(node_text(target, src));
    std::string cls, spelling;
    walk(field(def, "body"), [&](TSNode node) {
      if (!cls.empty() || is(node, "function_definition")) return false;
      if (!is(node, "assignment") || node_text(field(node, "left"), src) != name) return true;
      TSNode right = field(node, "right");
      if (!is(right, "call")) return true;
      TSNode callee = field(right, "function");
      if (is(callee, "attribute") &&
          (node_text(field(callee, "attribute"), src) == "model_validate")) {
        callee = field(callee, "object");
      }
      cls = model_of(callee);
      spelling = node_text(callee, src);
      return false;
    });
    if (cls.empty()) return;
    auto wanted = wanted_relationships(model, cls, body);
    // Already refreshed by name on the next line (an earlier run).
    std::string_view after = src.substr(ts_node_end_byte(statement), 200);
    if (wanted.empty() || after.find("refresh(" + name + ", [") != std::string_view::npos) return;
    std::string names;
    for (const Wanted& w : wanted) names += (names.empty() ? "\"" : ", \"") + w.name + "\"";
    uint32_t start = ts_node_start_byte(statement);
    size_t line_start = src.rfind('\n', start == 0 ? 0 : start - 1);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    std::string indent(src.substr(line_start, start - line_start));
    result.edits.push_back(Edit::insert(
        ts_node_end_byte(statement),
        "\n" + indent + "await " + session + ".refresh(" + name + ", [" + names + "])"));
    note(call, spelling, wanted);
  }

  // `author = get_author(db, id)` ... `author.books`: the load is in the callee, so the
  // option belongs in its statement. The read is reported with both places.
  void loaded_elsewhere(TSNode def, const FunctionFacts& caller) {
    std::string_view src = context.text();
    walk(field(def, "body"), [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "lambda")) return false;
      if (!is(node, "assignment")) return true;
      TSNode left = field(node, "left");
      TSNode right = field(node, "right");
      if (is(right, "await")) right = ts_node_named_child(right, 0);
      if (!is(left, "identifier") || !is(right, "call")) return true;
      const FunctionFacts* callee = callee_of(caller, right);
      if (!callee || callee == &caller || callee->loaded_models.empty()) return true;
      if (!callee->is_async && !context.plan.migrates(callee->qualified)) return true;
      report_reads(field(def, "body"), std::string(node_text(left, src)), *callee);
      return true;
    });
  }

  // The project function a call runs: by its name, else (a method of a local object) the one
  // callee of that method name among the caller's resolved calls. Not by position: earlier
  // passes of the run may have moved the lines the index saw.
  const FunctionFacts* callee_of(const FunctionFacts& caller, TSNode call) const {
    std::string dotted = dotted_name(field(call, "function"), context.text());
    if (dotted.empty()) return nullptr;
    if (const FunctionFacts* fn = context.index.function(context.facts.resolve(dotted))) return fn;
    std::string method = "." + dotted.substr(dotted.rfind('.') + 1);
    const FunctionFacts* found = nullptr;
    for (const CallFact& fact : caller.calls) {
      const std::string& target = fact.target;
      if (target.size() <= method.size() ||
          target.compare(target.size() - method.size(), method.size(), method) != 0)
        continue;
      const FunctionFacts* fn = context.index.function(target);
      if (!fn) continue;
      if (found && found != fn) return nullptr;  // two callees of that name: not guessed
      found = fn;
    }
    return found;
  }

  void report_reads(TSNode body, const std::string& variable, const FunctionFacts& callee) {
    std::string_view src = context.text();
    for (const std::string& loaded : callee.loaded_models) {
      std::string cls = context.index.canonical(loaded);
      auto relations = model.relationships.find(cls);
      if (relations == model.relationships.end()) continue;
      for (const auto& [name, eager] : relations->second) {
        // A response schema's field: AW106 loads it in the callee already.
        if (eager || model.schema_fields.count(name) || loads_eagerly(callee, cls + "." + name))
          continue;
        TSNode read = attribute_read(body, variable, name, src);
        if (ts_node_is_null(read)) continue;
        std::string short_name = cls.substr(cls.rfind('.') + 1);
        result.findings.push_back(context.finding(
            kId, read, Severity::warning,
            "`" + variable + "." + name + "` reads the lazy relationship " + short_name + "." +
                name + " of what `" + callee.qualified + "` (" + context.index.path_of(callee) +
                ":" + std::to_string(callee.line) +
                ") loads: under asyncio the lazy load raises MissingGreenlet; load it there with "
                "`.options(selectinload(" +
                short_name + "." + name + "))` (or `options=[...]` on get)"));
      }
    }
  }

  bool loads_eagerly(const FunctionFacts& callee, const std::string& relationship) const {
    return std::any_of(
        callee.eager_loads.begin(), callee.eager_loads.end(),
        [&](const std::string& eager) { return context.index.canonical(eager) == relationship; });
  }

  static TSNode attribute_read(TSNode body, const std::string& variable, const std::string& name,
                               std::string_view src) {
    TSNode found{};
    walk(body, [&](TSNode node) {
      if (!ts_node_is_null(found)) return false;
      if (is(node, "attribute") && node_text(field(node, "object"), src) == variable &&
          node_text(field(node, "attribute"), src) == name) {
        found = node;
        return false;
      }
      return true;
    });
    return found;
  }

  void function(TSNode def, const std::string& class_name, bool async_after) {
    std::string_view src = context.text();
    std::set<std::string> sessions =
        db::session_names(context.facts, def, src, class_name, &context.index);
    std::string_view body = node_text(field(def, "body"), src);
    walk(field(def, "body"), [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "lambda")) return false;
      if (!is(node, "call")) return true;
      if (is_select_call(context, node)) {
        on_select(node, body);
        return true;
      }
      TSNode callee = field(node, "function");
      if (!is(callee, "attribute")) return true;
      std::string object(node_text(field(callee, "object"), src));
      std::string_view method = node_text(field(callee, "attribute"), src);
      if (!sessions.count(object)) return true;
      if (method == "get") on_get(node, body);
      if (method == "refresh" && async_after) on_refresh(node, def, object, body);
      return true;
    });
  }
};

// The project's relationships, made once per run: every file the plan migrates asks.
const EagerModel& project_model(const ProjectIndex& index) {
  return *index.memo<EagerModel>(
      "db.eager_model", [&] { return std::make_shared<const EagerModel>(eager_model(index)); });
}

bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan& plan) {
  return migrates_in(facts, plan) && !project_model(index).relationships.empty();
}

PassResult run(const FileContext& context) {
  if (!migrates_in(context.facts, context.plan)) return {};
  const EagerModel& model = project_model(context.index);
  if (model.relationships.empty()) return {};
  Pass pass{context, model, {}, false, {}};
  scan_file_scopes(
      context.facts, context.root, context.text(), &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module() || !context.plan.migrates(scope.qualified)) return;
        const FunctionFacts* fn = context.index.function(scope.qualified);
        // Loader options need no await: a sync helper building the statement gets them too.
        bool async_after =
            is_async_function(scope.def) || context.plan.becomes_async(scope.qualified);
        pass.function(scope.def, fn ? fn->class_name : "", async_after);
        if (fn && async_after) pass.loaded_elsewhere(scope.def, *fn);
      },
      nullptr);
  if (!pass.changed) return std::move(pass.result);
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  imports.require_from("sqlalchemy.orm", "selectinload");
  for (const auto& [module_name, name] : pass.imports_needed)
    imports.require_from(module_name, name);
  std::vector<Edit> import_edits = imports.edits();
  pass.result.edits.insert(pass.result.edits.end(), import_edits.begin(), import_edits.end());
  return std::move(pass.result);
}

}  // namespace

TransformInfo db_eager_transform() {
  return TransformInfo{.id = kId,
                       .phase = "db",
                       .summary = "selectinload() where migrated code reads a relationship",
                       .explain = R"(Before:
    author = await db.get(Author, author_id)        # the route's response_model reads .books
After:
    author = await db.get(Author, author_id, options=[selectinload(Author.books)])

Under asyncio a lazy relationship load raises MissingGreenlet instead of running a query. In
code the db phase migrates, a model loaded with select(X), db.get(X, pk) or created and then
refreshed gets its lazy relationships loaded eagerly when they are read afterwards: by the
function itself (`team.heroes`), or by a response schema with a field of that name
(`class AuthorDetail(BaseModel): books: list[BookBrief]`, serialised by FastAPI after the
handler returns). select() gets `.options(selectinload(X.rel))`, get() gets
`options=[selectinload(X.rel)]`, and `await db.refresh(x)` (which leaves relationships lazy)
is followed by `await db.refresh(x, ["rel"])`. selectinload, not joinedload: joined collections
need .unique(). Relationships declared eager (lazy="selectin", ...) are not added. One level of
nesting is: when the loaded relationship's model has a lazy relationship read too (`for book in
author.books: book.reviews`, or a response schema's field), the option becomes
`selectinload(Author.books).selectinload(Book.reviews)` (Book imported when needed; never the
relationship leading back). Deeper levels and refresh() names: check with verify (AWV009).
A lazy relationship read on what another migrated function returns (`author =
get_author(db, id)`, then `author.books`) is reported at the read, naming the function that
loads it and the option to add there (unless it loads it eagerly already).)",
                       .triggers = {"relationship", "Relationship", "select(", ".get(", "refresh("},
                       .run = run,
                       .seeds = db_seeds,
                       .applies = applies};
}

}  // namespace awaitify
