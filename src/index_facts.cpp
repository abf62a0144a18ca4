// Extraction of one file's index facts from its tree.
#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "awaitify/calls.hpp"
#include "awaitify/db.hpp"
#include "awaitify/index.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/lazy_load.hpp"
#include "awaitify/syntax.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

namespace fs = std::filesystem;

namespace {

const std::set<std::string, std::less<>>& builtin_names() {
  static const std::set<std::string, std::less<>> names{
      "open",   "input",    "print",        "len",        "range",   "map",       "filter",
      "sorted", "list",     "dict",         "set",        "tuple",   "str",       "int",
      "float",  "bool",     "isinstance",   "getattr",    "setattr", "enumerate", "zip",
      "sum",    "min",      "max",          "any",        "all",     "iter",      "next",
      "super",  "property", "staticmethod", "classmethod"};
  return names;
}

// The parts that are not empty, joined by dots, in one allocation.
std::string join(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size() + 1;
  std::string joined;
  joined.reserve(size);
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (!joined.empty()) joined += '.';
    joined += part;
  }
  return joined;
}

// The package that a relative import with `dots` leading dots starts from.
std::string relative_base(const ModuleFacts& facts, size_t dots) {
  std::string base = facts.module;
  size_t strip = facts.is_package ? dots - 1 : dots;
  for (size_t i = 0; i < strip; ++i) {
    size_t dot = base.rfind('.');
    base = dot == std::string::npos ? std::string() : base.substr(0, dot);
  }
  return base;
}

std::string imported_module(const ModuleFacts& facts, TSNode module_node, std::string_view src) {
  if (is(module_node, "dotted_name")) return std::string(node_text(module_node, src));
  // relative_import: import_prefix ("." / "..") and an optional dotted_name.
  size_t dots = 0;
  std::string rest;
  for (TSNode child : children(module_node)) {
    if (is(child, "import_prefix")) dots = node_text(child, src).size();
    if (is(child, "dotted_name")) rest = std::string(node_text(child, src));
  }
  return join({relative_base(facts, dots), rest});
}

void record_import(ModuleFacts& facts, TSNode node, std::string_view src) {
  for (TSNode child : named_children(node)) {
    if (is(child, "dotted_name")) {
      std::string name(node_text(child, src));
      std::string first = name.substr(0, name.find('.'));
      facts.imports[first] = first;
    } else if (is(child, "aliased_import")) {
      facts.imports[std::string(node_text(field(child, "alias"), src))] =
          std::string(node_text(field(child, "name"), src));
    }
  }
}

void record_from_import(ModuleFacts& facts, TSNode node, std::string_view src) {
  TSNode module_node = field(node, "module_name");
  std::string module = imported_module(facts, module_node, src);
  for (TSNode child : named_children(node)) {
    if (ts_node_eq(child, module_node)) continue;
    if (is(child, "wildcard_import")) facts.star_imports.push_back(module);
    if (is(child, "dotted_name")) {
      std::string name(node_text(child, src));
      facts.imports[name] = join({module, name});
      facts.import_lines[name] = ts_node_start_point(child).row + 1;
    } else if (is(child, "aliased_import")) {
      std::string local(node_text(field(child, "alias"), src));
      facts.imports[local] = join({module, node_text(field(child, "name"), src)});
      facts.import_lines[local] = ts_node_start_point(child).row + 1;
    }
  }
}

}  // namespace

TSNode annotated_type(TSNode annotation) {
  if (is(annotation, "type")) annotation = ts_node_named_child(annotation, 0);
  if (is(annotation, "generic_type")) {
    // Annotated[Session, Depends(...)]: the first argument is the type.
    TSNode args = ts_node_named_child(annotation, 1);
    TSNode first = ts_node_named_child(args, 0);
    return is(first, "type") ? ts_node_named_child(first, 0) : first;
  }
  if (is(annotation, "subscript")) return field(annotation, "subscript");
  return annotation;
}

namespace {

// `engine = create_engine("sqlite:///x.db")`, `SessionLocal = sessionmaker(bind=engine)`.
void record_engine(ModuleFacts& facts, const std::string& name, const std::string& constructor,
                   TSNode call, std::string_view src) {
  bool engine = constructor == "sqlalchemy.create_engine" ||
                constructor == "sqlalchemy.engine.create_engine" ||
                constructor == "sqlmodel.create_engine";
  bool maker = constructor == "sqlalchemy.orm.sessionmaker" ||
               constructor == "sqlalchemy.orm.session.sessionmaker";
  if (!engine && !maker) return;
  TSNode first{};
  for (TSNode argument : named_children(field(call, "arguments"))) {
    std::string_view key =
        is(argument, "keyword_argument") ? node_text(field(argument, "name"), src) : "";
    if (!is(argument, "keyword_argument") && ts_node_is_null(first)) first = argument;
    if (key == (engine ? "url" : "bind")) first = field(argument, "value");
  }
  if (maker) {
    if (is(first, "identifier")) facts.maker_engines[name] = std::string(node_text(first, src));
    return;
  }
  std::string scheme;
  if (is(first, "string")) {
    std::string text(node_text(first, src));
    size_t quote = text.find_first_of("'\"");
    size_t end = text.find("://");
    if (quote != std::string::npos && end != std::string::npos && quote < end) {
      size_t start = text.find_first_not_of("'\"", quote);
      scheme = text.substr(start, end - start);
    }
  }
  facts.engine_schemes[name] = scheme;
}

void record_assignment(ModuleFacts& facts, TSNode statement, std::string_view src) {
  TSNode expr = ts_node_named_child(statement, 0);
  if (!is(expr, "assignment")) return;
  TSNode left = field(expr, "left");
  TSNode right = field(expr, "right");
  if (is(left, "identifier") && is(right, "subscript")) {
    std::string target = facts.resolve(dotted_name(annotated_type(right), src));
    if (!target.empty()) facts.type_aliases[std::string(node_text(left, src))] = target;
    return;
  }
  if (!is(left, "identifier") || !is(right, "call")) return;
  std::string constructor = facts.resolve(dotted_name(field(right, "function"), src));
  if (!constructor.empty()) facts.instances[std::string(node_text(left, src))] = constructor;
  record_engine(facts, std::string(node_text(left, src)), constructor, right, src);
}

// `self.x = param` (param annotated) or `self.x = Cls(...)` in __init__: x's type.
void record_attribute_types(const ModuleFacts& facts, ClassFacts& cls, TSNode node,
                            std::string_view src) {
  for (TSNode child : named_children(field(node, "body"))) {
    auto def = definition_of(child);
    if (!def || node_text(field(*def, "name"), src) != "__init__") continue;
    std::map<std::string, std::string> parameters;
    for (TSNode param : named_children(field(*def, "parameters"))) {
      if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
      TSNode name =
          is(param, "typed_parameter") ? ts_node_named_child(param, 0) : field(param, "name");
      std::string type = facts.resolve(dotted_name(annotated_type(field(param, "type")), src));
      if (auto alias = facts.type_aliases.find(type.substr(type.rfind('.') + 1));
          alias != facts.type_aliases.end())
        type = alias->second;
      if (!type.empty()) parameters[std::string(node_text(name, src))] = type;
    }
    walk(field(*def, "body"), [&](TSNode n) {
      if (is(n, "function_definition") || is(n, "class_definition") || is(n, "lambda"))
        return false;
      if (!is(n, "assignment")) return true;
      TSNode left = field(n, "left");
      TSNode right = field(n, "right");
      if (!is(left, "attribute") || node_text(field(left, "object"), src) != "self") return true;
      std::string attribute(node_text(field(left, "attribute"), src));
      std::string type;
      if (is(right, "identifier") && parameters.count(std::string(node_text(right, src))))
        type = parameters[std::string(node_text(right, src))];
      else if (is(right, "call"))
        type = facts.resolve(dotted_name(field(right, "function"), src));
      if (!type.empty()) cls.attributes[attribute] = type;
      return true;
    });
  }
}

// `created_at = Column(DateTime, server_default=func.now())`, `mapped_column(Computed(...))`,
// SQLModel's `Field(sa_column=Column(..., server_onupdate=FetchedValue()))`: by the text of the
// column's call, which is cheap and names these keywords only for server-side values.
void record_server_generated(ClassFacts& cls, TSNode assignment, std::string_view src) {
  std::string name(node_text(field(assignment, "left"), src));
  TSNode right = field(assignment, "right");
  if (ts_node_is_null(right)) return;  // `text: Mapped[str]`
  std::string_view text = node_text(right, src);
  if (name == "__mapper_args__") {
    cls.eager_defaults = text.find("eager_defaults") != std::string_view::npos &&
                         text.find("True") != std::string_view::npos;
    return;
  }
  if (!is(right, "call")) return;
  bool computed = text.find("Computed(") != std::string_view::npos;
  bool on_update = text.find("server_onupdate") != std::string_view::npos;
  bool on_insert = text.find("server_default") != std::string_view::npos ||
                   (!on_update && text.find("FetchedValue(") != std::string_view::npos);
  if (computed || on_insert) cls.insert_generated.insert(name);
  if (computed || on_update) cls.update_generated.insert(name);
}

void record_class(ModuleFacts& facts, TSNode node, std::string_view src) {
  ClassFacts cls;
  cls.name = std::string(node_text(field(node, "name"), src));
  TSNode bases = field(node, "superclasses");
  if (!ts_node_is_null(bases)) {
    for (TSNode base : named_children(bases)) {
      std::string resolved = facts.resolve(dotted_name(base, src));
      if (!resolved.empty()) cls.bases.push_back(resolved);
    }
  }
  record_attribute_types(facts, cls, node, src);
  for (TSNode line : named_children(field(node, "body"))) {
    TSNode assignment = ts_node_named_child(line, 0);
    if (!is(line, "expression_statement") || !is(assignment, "assignment")) continue;
    if (!is(field(assignment, "left"), "identifier")) continue;
    record_server_generated(cls, assignment, src);
    if (ts_node_is_null(field(assignment, "type"))) continue;
    cls.fields.emplace_back(node_text(field(assignment, "left"), src));
  }
  std::string name = cls.name;
  facts.classes[name] = std::move(cls);
}

void record_top_level(ModuleFacts& facts, TSNode block, std::string_view src) {
  for (TSNode statement : named_children(block)) {
    std::string_view type = kind(statement);
    if (type == "import_statement")
      record_import(facts, statement, src);
    else if (type == "import_from_statement")
      record_from_import(facts, statement, src);
    else if (type == "expression_statement")
      record_assignment(facts, statement, src);
    else if (type == "class_definition")
      record_class(facts, statement, src);
    else if (type == "function_definition")
      facts.functions.emplace_back(node_text(field(statement, "name"), src));
    else if (type == "decorated_definition") {
      TSNode def = field(statement, "definition");
      if (is(def, "class_definition")) record_class(facts, def, src);
      if (is(def, "function_definition"))
        facts.functions.emplace_back(node_text(field(def, "name"), src));
    } else if (type == "if_statement" || type == "try_statement" || type == "block" ||
               type == "else_clause" || type == "except_clause" || type == "finally_clause") {
      // Imports guarded by `try:`/`if TYPE_CHECKING:` still bind names.
      for (TSNode child : named_children(statement)) {
        if (is(child, "block"))
          record_top_level(facts, child, src);
        else if (is(child, "else_clause") || is(child, "except_clause") ||
                 is(child, "finally_clause") || is(child, "elif_clause"))
          record_top_level(facts, child, src);
      }
    }
  }
}

}  // namespace

std::set<std::string> session_parameters(const ModuleFacts& facts, TSNode def, std::string_view src,
                                         const ProjectIndex* index) {
  std::set<std::string> names;
  TSNode params = field(def, "parameters");
  for (TSNode param : named_children(params)) {
    if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
    std::string type = facts.resolve(dotted_name(annotated_type(field(param, "type")), src));
    if (auto alias =
            facts.type_aliases.find(dotted_name(annotated_type(field(param, "type")), src));
        alias != facts.type_aliases.end()) {
      type = alias->second;
    } else if (index && !type.empty()) {
      type = index->alias_target(type);
    }
    if (!is_sync_session_type(type)) continue;
    TSNode name =
        is(param, "typed_parameter") ? ts_node_named_child(param, 0) : field(param, "name");
    names.emplace(node_text(name, src));
  }
  return names;
}

namespace {

CallFact fact_of(const Site& site) {
  TSPoint at = ts_node_start_point(site.node);
  return CallFact{site.target,      at.row + 1,   at.column + 1, site.awaited,
                  site.as_argument, site.context, site.passed_to};
}

// What the scan learns of each definition for the steps after it: its slot in
// ModuleFacts::function_facts (the passes' verdicts, recorded once the module's facts are
// complete), and its session parameters, which the db facts and the query helpers ask again.
struct FunctionDefs {
  std::vector<std::pair<size_t, TSNode>> slots;
  db::SessionParameters session_parameters;
};

// `node`: the module, or the function_definition whose body is scanned.
void record_scope(ModuleFacts& facts, size_t slot, TSNode node, const std::string& scope,
                  const std::string& self_class, const std::set<std::string>& sessions,
                  bool module_scope, std::string_view src, FunctionDefs& defs);

// `parent`: the definition's (a decorated_definition when it has decorators).
void record_function(ModuleFacts& facts, TSNode def, TSNode parent, const std::string& scope,
                     const std::vector<std::string>& decorators, const std::string& class_name,
                     std::string_view src, FunctionDefs& defs) {
  FunctionFacts fn;
  std::string name(node_text(field(def, "name"), src));
  fn.qualified = (class_name.empty() ? scope : class_name) + "." + name;
  fn.class_name = class_name;
  fn.line = ts_node_start_point(def).row + 1;
  bool decorated = !ts_node_is_null(parent) && is(parent, "decorated_definition");
  fn.first_line = decorated ? ts_node_start_point(parent).row + 1 : fn.line;
  uint32_t body_line = ts_node_start_point(field(def, "body")).row + 1;
  fn.header_end_line = body_line > fn.line ? body_line - 1 : fn.line;
  fn.end_line = ts_node_end_point(def).row + 1;
  fn.is_async = is(ts_node_child(def, 0), "async");
  fn.decorators = decorators;
  size_t slot = facts.function_facts.size();
  std::string qualified = fn.qualified;  // the scope's name: the vector may grow in the scan
  facts.function_facts.push_back(std::move(fn));
  defs.slots.emplace_back(slot, def);
  std::string self_class = class_name.empty() ? "" : class_name;
  // The top-level facts that resolve the annotations are complete: the scan adds none.
  const std::set<std::string>& sessions = defs.session_parameters[def.id] =
      session_parameters(facts, def, src);
  record_scope(facts, slot, def, qualified, self_class, sessions, false, src, defs);
}

void record_scope(ModuleFacts& facts, size_t slot, TSNode node, const std::string& scope,
                  const std::string& self_class, const std::set<std::string>& sessions,
                  bool module_scope, std::string_view src, FunctionDefs& defs) {
  // Calls go to this scope's facts; nested definitions get facts of their own (recorded after
  // the scan, since recording them grows the vector that holds this scope's facts).
  FunctionFacts collected;
  std::vector<std::tuple<TSNode, std::vector<std::string>, std::string, TSNode>> nested;
  ScopeScanner scanner(facts, src, scope, self_class, sessions, module_scope);
  ScopeVisitor visitor;
  visitor.call = [&](const Site& site) {
    bool runs_here = site.context != CallContext::lambda;
    (site.blocking && runs_here ? collected.blocking : collected.calls).push_back(fact_of(site));
  };
  visitor.reference = [&](const Site& site) { collected.references.push_back(fact_of(site)); };
  visitor.unresolved_method = [&](const Site& site) {
    collected.unresolved_methods.push_back(fact_of(site));
  };
  visitor.definition = [&](TSNode def, const std::vector<std::string>& decorators,
                           const std::string& class_name) {
    nested.emplace_back(def, decorators, class_name, scanner.visited_parent());
  };
  // Whether a function is a generator comes from the same walk (the module is never one).
  bool yields = false;
  if (!module_scope) visitor.yield = [&](TSNode) { yields = true; };
  visitor.session_use = [&](TSNode identifier) {
    TSPoint at = ts_node_start_point(identifier);
    if (collected.blocking.empty() ||
        collected.blocking.back().target != "sqlalchemy.orm.Session") {
      CallFact use;
      use.target = "sqlalchemy.orm.Session";
      use.line = at.row + 1;
      use.column = at.column + 1;
      collected.blocking.push_back(use);
    }
  };
  if (module_scope)
    scanner.scan(node, visitor);
  else
    scanner.scan_function(node, visitor);
  FunctionFacts& fn = facts.function_facts[slot];
  fn.is_generator = yields;
  fn.calls = std::move(collected.calls);
  fn.blocking = std::move(collected.blocking);
  fn.references = std::move(collected.references);
  fn.unresolved_methods = std::move(collected.unresolved_methods);
  for (const auto& [def, decorators, class_name, parent] : nested) {
    record_function(facts, def, parent, scope, decorators, class_name, src, defs);
  }
}

// `Depends(X)` in a parameter's default or in its `Annotated[T, Depends(X)]`: X, resolved.
std::vector<std::string> parameter_dependencies(const ModuleFacts& facts, TSNode def,
                                                std::string_view src, std::set<uint32_t>& lines) {
  std::vector<std::string> found;
  walk(field(def, "parameters"), [&](TSNode node) {
    if (!is(node, "call")) return true;
    std::string callee = facts.resolve(dotted_name(field(node, "function"), src));
    if (callee != "fastapi.Depends" && callee != "fastapi.params.Depends") return true;
    TSNode argument = ts_node_named_child(field(node, "arguments"), 0);
    if (is(argument, "keyword_argument")) argument = field(argument, "value");
    std::string target = facts.resolve(dotted_name(argument, src));
    if (target.empty()) return false;
    found.push_back(target);
    lines.insert(ts_node_start_point(argument).row + 1);
    return false;
  });
  return found;
}

FunctionFacts* function_named(ModuleFacts& facts, const std::string& qualified) {
  for (FunctionFacts& fn : facts.function_facts) {
    if (fn.qualified == qualified) return &fn;
  }
  return nullptr;
}

void record_overrides(ModuleFacts& facts, TSNode root, std::string_view src) {
  if (src.find("dependency_overrides") == std::string_view::npos) return;  // no walk
  walk(root, [&](TSNode node) {
    if (!is(node, "assignment")) return true;
    TSNode left = field(node, "left");
    if (!is(left, "subscript")) return true;
    TSNode value = field(left, "value");
    if (!is(value, "attribute") ||
        node_text(field(value, "attribute"), src) != "dependency_overrides")
      return true;
    std::string target = facts.resolve(dotted_name(field(left, "subscript"), src));
    if (target.empty()) return true;
    facts.overridden_dependencies.push_back(target);
    facts.override_lines.emplace(target, ts_node_start_point(node).row + 1);
    return true;
  });
}

// What the db phase asks of each function and method: whether it holds a sync session, whether
// its body would await under AsyncSession, and what it depends on.
void record_session_facts(ModuleFacts& facts, TSNode root, std::string_view src,
                          const db::SessionParameters& known) {
  record_overrides(facts, root, src);
  db::QueryHelpers helpers = db::find_query_helpers(facts, root, src, &known);
  auto record = [&](TSNode def, const std::string& class_name) {
    std::string name(node_text(field(def, "name"), src));
    FunctionFacts* fn =
        function_named(facts, (class_name.empty() ? facts.module : class_name) + "." + name);
    if (!fn) return;
    fn->dependencies = parameter_dependencies(facts, def, src, facts.parameter_dependency_lines);
    for (TSNode param : named_children(field(def, "parameters"))) {
      if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
      std::string type = facts.resolve(dotted_name(annotated_type(field(param, "type")), src));
      if (!type.empty()) fn->parameter_types.push_back(type);
    }
    db::FunctionScope scope{db::session_names(facts, def, src, class_name, nullptr, &known),
                            class_name, &helpers, src};
    fn->holds_session = !scope.sessions.empty();
    fn->session_awaits = fn->holds_session && db::awaits_under_async_session(def, scope);
    if (fn->holds_session) fn->session_blocker = db::session_blocker(def, scope);
    db::ModelLoads loads = db::model_loads(
        def, scope, [&](const std::string& dotted) { return facts.resolve(dotted); });
    fn->loaded_models = std::move(loads.models);
    fn->eager_loads = std::move(loads.eager);
  };
  for (TSNode child : named_children(root)) {
    if (auto def = definition_of(child)) {
      record(*def, "");
      continue;
    }
    TSNode cls = is(child, "decorated_definition") ? field(child, "definition") : child;
    if (!is(cls, "class_definition")) continue;
    std::string class_name = facts.module + "." + std::string(node_text(field(cls, "name"), src));
    for (TSNode member : named_children(field(cls, "body"))) {
      if (auto method = definition_of(member)) record(*method, class_name);
    }
  }
}

// Parameter names of every function in a file, by qualified name: nested functions are named
// through the functions and classes around them (as fixtures and tests are requested).
void record_parameter_names(ModuleFacts& facts, TSNode root, std::string_view src) {
  walk(root, [&](TSNode node) {
    if (!is(node, "function_definition")) return true;
    std::string name(node_text(field(node, "name"), src));
    for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up)) {
      if (is(up, "function_definition") || is(up, "class_definition")) {
        name = std::string(node_text(field(up, "name"), src)) + "." + name;
      }
    }
    std::vector<std::string> parameters;
    for (TSNode param : named_children(field(node, "parameters"))) {
      TSNode id = param;
      if (is(param, "typed_parameter"))
        id = ts_node_named_child(param, 0);
      else if (is(param, "default_parameter") || is(param, "typed_default_parameter"))
        id = field(param, "name");
      if (is(id, "identifier")) parameters.emplace_back(node_text(id, src));
    }
    facts.parameter_names[facts.module + "." + name] = std::move(parameters);
    return true;
  });
}

}  // namespace

std::string ModuleFacts::resolve(const std::string& dotted) const {
  if (dotted.empty()) return {};
  size_t dot = dotted.find('.');
  std::string first = dotted.substr(0, dot);
  std::string_view rest =
      dot == std::string::npos ? std::string_view() : std::string_view(dotted).substr(dot + 1);
  if (auto it = imports.find(first); it != imports.end()) return join({it->second, rest});
  bool defined_here = instances.count(first) || classes.count(first) || type_aliases.count(first) ||
                      std::find(functions.begin(), functions.end(), first) != functions.end();
  if (defined_here) return join({module, first, rest});
  if (builtin_names().count(first)) return join({"builtins", first, rest});
  return {};
}

Suppressions comments_of(const SourceFile& source, const ModuleFacts* facts) {
  if (facts && facts->path == source.path()) return facts->suppressions;
  if (source.text().find("awaitify:") == std::string::npos) return {};
  return Suppressions::from_text(source.text());
}

std::string module_name_for(const std::string& path, bool* is_package) {
  fs::path file = fs::absolute(fs::path(path)).lexically_normal();
  std::vector<std::string> parts;
  bool package = file.filename() == "__init__.py";
  if (!package) parts.push_back(file.stem().string());
  for (fs::path dir = file.parent_path(); fs::exists(dir / "__init__.py") && dir.has_filename();
       dir = dir.parent_path()) {
    parts.push_back(dir.filename().string());
  }
  if (is_package) *is_package = package;
  std::string name;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) name = join({name, *it});
  return name;
}

namespace {

// About how many functions a text defines (each `def ` counted, in strings too): the facts'
// vector of functions is sized once, not grown by moving every function's facts again and
// again into memory new to the process (each page of it a page fault).
size_t likely_definitions(std::string_view src) {
  size_t count = 0;
  for (size_t at = src.find("def "); at != std::string_view::npos; at = src.find("def ", at + 4))
    ++count;
  return count;
}

}  // namespace

// Last, so that a pass judges each function with the facts of the whole module at hand.
void record_verdicts(ModuleFacts& facts, const FunctionDefs& defs, std::string_view src) {
  for (const TransformInfo& transform : transform_table()) {
    if (!transform.record_verdicts) continue;
    if (transform.verdicts_possible && !transform.verdicts_possible(src, facts)) continue;
    for (const auto& [slot, def] : defs.slots) {
      transform.record_verdicts(def, src, facts, facts.function_facts[slot]);
    }
  }
}

ModuleFacts extract_facts(const SourceFile& source, TSNode root) {
  ModuleFacts facts;
  facts.path = source.path();
  facts.module = module_name_for(source.path(), &facts.is_package);
  std::string_view src = source.text();
  record_top_level(facts, root, src);
  facts.function_facts.reserve(1 + likely_definitions(src));
  FunctionFacts top;
  top.qualified = join({facts.module, "<module>"});
  top.is_module = true;
  facts.function_facts.push_back(top);
  FunctionDefs defs;
  record_scope(facts, 0, root, facts.module, "", {}, true, src, defs);
  record_session_facts(facts, root, src, defs.session_parameters);
  Relationships relationships;
  relationships.collect(facts, root, src);
  facts.relationships = std::move(relationships.classes);
  facts.relationship_targets = std::move(relationships.targets);
  // Most files have no directive: their comments are not walked.
  if (src.find("awaitify:") != std::string_view::npos) {
    facts.suppressions = Suppressions::from_tree(root, src);
  }
  if (is_pytest_file(facts.path)) record_parameter_names(facts, root, src);
  record_verdicts(facts, defs, src);
  return facts;
}

}  // namespace awaitify
