// AW701: an app's on_event handlers (`@app.on_event(...)`, `app.add_event_handler(...)`,
// `FastAPI(on_startup=[...], on_shutdown=[...])`) become one lifespan context manager.
//
// FastAPI skips every on_event handler once an app has lifespan=, so an app is converted whole
// or not at all: one registration the rewrite cannot move leaves the app as it is, with a
// finding. The handlers stay module functions (other callers keep working) and the lifespan
// calls them by name when it runs, so it can sit right before the app while they stay below.
#include "lifespan.hpp"

#include <string.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "awaitify/fastapi.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "http_client.hpp"
#include "transforms.hpp"

namespace awaitify::aw701 {

namespace {

constexpr const char* kId = "AW701";
constexpr const char* kNotTopLevel =
    "this handler is registered inside a block or function, not by a top-level statement";

struct Scan {
  std::vector<App> apps;
  std::vector<Finding> findings;  // registrations on routers, factories, apps of other modules
};

// What the object a handler is registered on is.
struct Owner {
  enum Kind { other, app_here, app_elsewhere, app_in_function, local, router } kind = other;
  std::string detail;  // the enclosing function, or the module of an imported app
};

std::string join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "." + b;
}

Finding refusal(const FileContext& context, TSNode at, const App& app, const std::string& why) {
  return context.finding(kId, at, Severity::warning, "`" + app.name + "` left as it is: " + why);
}

// ---------------------------------------------------------------- reading the source

// The positional argument at `position`, else the keyword argument `keyword`; null when absent.
TSNode argument(TSNode call, size_t position, std::string_view keyword, std::string_view src) {
  size_t index = 0;
  for (TSNode arg : arguments_of(call)) {
    if (is(arg, "keyword_argument")) {
      if (node_text(field(arg, "name"), src) == keyword) return field(arg, "value");
    } else if (index++ == position) {
      return arg;
    }
  }
  return TSNode{};
}

// `X.method(...)`: X's dotted name and the method, or empty strings.
std::pair<std::string, std::string> method_call(TSNode call, std::string_view src) {
  if (!is(call, "call")) return {};
  TSNode function = field(call, "function");
  if (!is(function, "attribute")) return {};
  return {dotted_name(field(function, "object"), src),
          std::string(node_text(field(function, "attribute"), src))};
}

// A plain string literal's text; nullopt for f-strings, escapes, concatenations and names,
// whose value the rewrite would have to guess.
std::optional<std::string> string_literal(TSNode node, std::string_view src) {
  if (!is(node, "string")) return std::nullopt;
  if (node_text(ts_node_child(node, 0), src).find_first_of("fF") != std::string_view::npos) {
    return std::nullopt;
  }
  std::string text;
  for (TSNode child : named_children(node)) {
    if (is(child, "string_content"))
      text += node_text(child, src);
    else if (!is(child, "string_start") && !is(child, "string_end"))
      return std::nullopt;
  }
  return text;
}

// ---------------------------------------------------------------- what a registration is on

bool is_parameter(TSNode def, const std::string& name, std::string_view src) {
  for (size_t i = 0;; ++i) {
    auto parameter = parameter_name(def, i, src);
    if (!parameter) return false;
    if (*parameter == name) return true;
  }
}

struct LocalBinding {
  std::string function;     // the enclosing function's name
  std::string constructor;  // qualified, when the name is assigned from a call
};

// Whether `name` is a parameter or a local of a function around `at` (which then shadows any
// module-level binding), and what constructs it.
std::optional<LocalBinding> local_binding(const std::string& name, TSNode at,
                                          const FileContext& context) {
  std::string_view src = context.text();
  for (auto scope = enclosing_function(at); scope; scope = enclosing_function(*scope)) {
    if (!is(*scope, "function_definition")) continue;
    LocalBinding binding{std::string(node_text(field(*scope, "name"), src)), {}};
    bool bound = is_parameter(*scope, name, src);
    walk(field(*scope, "body"), [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda")) {
        return false;
      }
      if (is(node, "assignment") && node_text(field(node, "left"), src) == name) {
        bound = true;
        TSNode right = field(node, "right");
        if (is(right, "call")) {
          binding.constructor = context.facts.resolve(dotted_name(field(right, "function"), src));
        }
      }
      return true;
    });
    if (bound) return binding;
  }
  return std::nullopt;
}

Owner classify_owner(const std::string& owner, TSNode at, const FileContext& context) {
  std::string first = owner.substr(0, owner.find('.'));
  if (auto local = local_binding(first, at, context)) {
    if (owner != first) return {};
    if (is_router_constructor(local->constructor)) return {Owner::router, {}};
    if (is_fastapi_constructor(local->constructor))
      return {Owner::app_in_function, local->function};
    return {Owner::local, local->function};
  }
  std::string qualified = context.facts.resolve(owner);
  if (qualified.empty()) return {};
  std::string type = context.index.instance_type(qualified).value_or("");
  auto here = context.facts.instances.find(owner);
  bool defined_here =
      here != context.facts.instances.end() && qualified == join(context.facts.module, owner);
  if (type.empty() && defined_here) type = here->second;
  if (is_router_constructor(type)) return {Owner::router, {}};
  if (!is_fastapi_constructor(type)) return {};
  if (defined_here) return {Owner::app_here, {}};
  std::string canonical = context.index.canonical(qualified);
  return {Owner::app_elsewhere, canonical.substr(0, canonical.rfind('.'))};
}

// A call project_calls_to may be asked about: as written and through re-exports.
struct AppCall {
  std::string site;  // "path:line"
  std::string target, canonical;
};

// Every call in the project to FastAPI() or to an on_event/add_event_handler method, in the
// index's order. The index keeps call sites for project functions only; these are methods of
// apps and library constructors, so the scopes' own call facts are read, once per run.
const std::vector<AppCall>& app_calls(const ProjectIndex& index) {
  return *index.memo<std::vector<AppCall>>("lifespan.app_calls", [&] {
    auto calls = std::make_shared<std::vector<AppCall>>();
    auto wanted = [](const std::string& target) {
      return is_fastapi_constructor(target) || target.ends_with(".on_event") ||
             target.ends_with(".add_event_handler");
    };
    // Thousands of calls name the same target (builtins.len, ...): each is made canonical
    // once, and only a wanted one's canonical name is kept.
    std::unordered_map<std::string_view, std::optional<std::string>> by_target;
    for (const FunctionFacts* fn : index.functions()) {
      for (const CallFact& call : fn->calls) {
        auto [known, added] = by_target.try_emplace(call.target);
        if (added) {
          std::string canonical = index.canonical(call.target);
          if (wanted(call.target) || wanted(canonical)) known->second = std::move(canonical);
        }
        if (known->second) {
          calls->push_back(AppCall{index.path_of(*fn) + ":" + std::to_string(call.line),
                                   call.target, *known->second});
        }
      }
    }
    return calls;
  });
}

// Calls anywhere in the project to one of `targets` (through re-exports too), as "path:line";
// the targets are FastAPI() or app methods app_calls keeps.
std::vector<std::string> project_calls_to(const ProjectIndex& index,
                                          const std::set<std::string>& targets) {
  std::vector<std::string> sites;
  for (const AppCall& call : app_calls(index)) {
    if (targets.count(call.target) || targets.count(call.canonical)) sites.push_back(call.site);
  }
  return sites;
}

// Where the project creates FastAPI apps.
std::vector<std::string> app_sites(const ProjectIndex& index) {
  return project_calls_to(index, {"fastapi.FastAPI", "fastapi.applications.FastAPI"});
}

std::string router_message(const std::string& owner, const std::string& handler,
                           const FileContext& context) {
  std::string message =
      "on_event handler on the router `" + owner +
      "`: FastAPI runs it only in an app that includes this router; left as it is";
  std::vector<std::string> apps = app_sites(context.index);
  if (apps.size() == 1) {
    return message + "; the project has one app (" + apps.front() + "): call " + handler +
           " from its lifespan by hand";
  }
  return message + ": call " + handler + " from that app's lifespan by hand";
}

// Reports a registration this file cannot convert (on a router, a factory's app, an app of
// another module). Returns false for registrations on an app created here.
bool report_foreign(const Owner& owner, const std::string& owner_text, TSNode at,
                    const std::string& handler_name, const FileContext& context, Scan& scan) {
  std::string handler = handler_name.empty() ? "the handler" : "`" + handler_name + "()`";
  std::string message;
  switch (owner.kind) {
    case Owner::app_here:
      return false;
    case Owner::other:
      return true;
    case Owner::router:
      message = router_message(owner_text, handler, context);
      break;
    case Owner::app_elsewhere:
      message = "on_event handler on `" + owner_text + "` of `" + owner.detail +
                "`: left as it is; the lifespan is written where the app is created, and handlers "
                "registered from other modules are not moved yet: call " +
                handler + " from it by hand";
      break;
    case Owner::app_in_function:
      message = "event handler on an app created inside `" + owner.detail +
                "()`: left as it is (app factories are not migrated yet); move the handlers into a "
                "lifespan passed to FastAPI(lifespan=...) by hand";
      break;
    case Owner::local:
      message = "event handler on `" + owner_text + "`, a local name of `" + owner.detail +
                "()`: left as it is; move it into the app's lifespan by hand";
      break;
  }
  scan.findings.push_back(context.finding(kId, at, Severity::warning, message));
  return true;
}

// ---------------------------------------------------------------- collecting handlers

App* app_named(Scan& scan, const std::string& name) {
  for (App& app : scan.apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

// Whether a handler registered by name is a coroutine function, as far as the index knows:
// a project function (`connect`, `db.close`) or a method of a module-level instance of a
// project class (`cache.warm`).
std::optional<bool> is_async_handler(const std::string& dotted, const FileContext& context) {
  const ProjectIndex& index = context.index;
  std::string qualified = context.facts.resolve(dotted);
  if (qualified.empty()) return std::nullopt;
  if (const FunctionFacts* fn = index.function(index.canonical(qualified))) return fn->is_async;
  size_t dot = qualified.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  auto type = index.instance_type(qualified.substr(0, dot));
  if (!type) return std::nullopt;
  const FunctionFacts* method = index.function(index.canonical(*type) + qualified.substr(dot));
  if (!method) return std::nullopt;
  return method->is_async;
}

// A handler given as an expression (add_event_handler, on_startup=[...]): called as written.
void add_named_handler(App& app, TSNode expression, bool startup, const FileContext& context) {
  if (is(expression, "lambda")) {
    app.refusals.push_back(
        refusal(context, expression, app,
                "this handler is a lambda; define it with def and register the function"));
    return;
  }
  std::string call = dotted_name(expression, context.text());
  if (call.empty()) {
    app.refusals.push_back(
        refusal(context, expression, app, "this handler is not a name or a dotted name"));
    return;
  }
  auto awaited = is_async_handler(call, context);
  if (!awaited) {
    std::string why = "cannot tell whether `" + call +
                      "` is async (it is not defined in the project), so the lifespan would not "
                      "know whether to await it";
    app.refusals.push_back(refusal(context, expression, app, why));
    return;
  }
  app.handlers.push_back({startup, call, *awaited});
}

// true for startup, false for shutdown; nullopt (with a refusal) for anything else.
std::optional<bool> startup_event(App& app, TSNode event, TSNode call, const FileContext& context) {
  if (ts_node_is_null(event)) {
    app.refusals.push_back(refusal(context, call, app, "the event name is missing"));
    return std::nullopt;
  }
  auto name = string_literal(event, context.text());
  if (!name) {
    app.refusals.push_back(refusal(context, event, app, "the event name is not a string literal"));
    return std::nullopt;
  }
  if (*name == "startup" || *name == "shutdown") return *name == "startup";
  app.refusals.push_back(refusal(
      context, event, app, "unknown event '" + *name + "' (FastAPI has startup and shutdown)"));
  return std::nullopt;
}

void add_decorated_handler(App& app, TSNode decorator, TSNode call, const FileContext& context) {
  std::string_view src = context.text();
  TSNode decorated = ts_node_parent(decorator);
  TSNode def = field(decorated, "definition");
  auto startup = startup_event(app, argument(call, 0, "event_type", src), call, context);
  if (!startup) return;
  if (!is(ts_node_parent(decorated), "module") || !is(def, "function_definition")) {
    app.refusals.push_back(refusal(context, decorator, app, kNotTopLevel));
    return;
  }
  if (!ts_node_eq(decorators_of(def).front(), decorator)) {
    app.refusals.push_back(
        refusal(context, decorator, app,
                "another decorator wraps this handler, so its name does not call the function "
                "FastAPI registered"));
    return;
  }
  std::string name(node_text(field(def, "name"), src));
  const auto& functions = context.facts.functions;
  if (std::count(functions.begin(), functions.end(), name) > 1) {
    std::string why = "the name `" + name +
                      "` is defined more than once in this module, and the lifespan calls "
                      "handlers by name";
    app.refusals.push_back(refusal(context, decorator, app, why));
    return;
  }
  auto line = whole_lines(decorator, context);
  if (!line) {
    app.refusals.push_back(
        refusal(context, decorator, app, "this decorator shares its line with other code"));
    return;
  }
  app.handlers.push_back({*startup, name, is_async_function(def)});
  app.lines.push_back(*line);
}

void add_registered_handler(App& app, TSNode call, const FileContext& context) {
  std::string_view src = context.text();
  TSNode statement = ts_node_parent(call);
  if (!is(statement, "expression_statement") || !is(ts_node_parent(statement), "module")) {
    app.refusals.push_back(refusal(context, call, app, kNotTopLevel));
    return;
  }
  auto startup = startup_event(app, argument(call, 0, "event_type", src), call, context);
  if (!startup) return;
  TSNode handler = argument(call, 1, "func", src);
  auto line = whole_lines(statement, context);
  if (ts_node_is_null(handler) || !line) {
    std::string why = ts_node_is_null(handler)
                          ? "the handler is missing"
                          : "this registration shares its line with other code";
    app.refusals.push_back(refusal(context, call, app, why));
    return;
  }
  size_t known = app.handlers.size();
  add_named_handler(app, handler, *startup, context);
  if (app.handlers.size() > known) app.lines.push_back(*line);
}

void read_constructor_arguments(App& app, const FileContext& context) {
  std::string_view src = context.text();
  for (TSNode arg : arguments_of(app.constructor)) {
    if (!is(arg, "keyword_argument")) continue;
    std::string_view keyword = node_text(field(arg, "name"), src);
    if (keyword == "lifespan") app.existing_lifespan = arg;
    if (keyword != "on_startup" && keyword != "on_shutdown") continue;
    app.event_arguments.push_back(arg);
    TSNode list = field(arg, "value");
    if (!is(list, "list") && !is(list, "tuple")) {
      app.refusals.push_back(
          refusal(context, list, app, std::string(keyword) + "= is not a list of handlers"));
      continue;
    }
    for (TSNode element : named_children(list)) {
      if (!is(element, "comment"))
        add_named_handler(app, element, keyword == "on_startup", context);
    }
  }
}

void find_apps(const FileContext& context, Scan& scan) {
  std::string_view src = context.text();
  for (TSNode statement : named_children(context.root)) {
    TSNode assignment = ts_node_named_child(statement, 0);
    if (!is(statement, "expression_statement") || !is(assignment, "assignment")) continue;
    TSNode left = field(assignment, "left");
    TSNode right = field(assignment, "right");
    if (!is(left, "identifier") || !is(right, "call")) continue;
    std::string constructor = context.facts.resolve(dotted_name(field(right, "function"), src));
    if (!is_fastapi_constructor(constructor)) continue;
    std::string name(node_text(left, src));
    if (App* existing = app_named(scan, name)) {
      existing->created_twice = true;
      continue;
    }
    App app;
    app.name = name;
    app.statement = statement;
    app.constructor = right;
    read_constructor_arguments(app, context);
    scan.apps.push_back(std::move(app));
  }
}

void visit_registration(TSNode at, TSNode call, bool decorator, const FileContext& context,
                        Scan& scan) {
  std::string_view src = context.text();
  auto [owner_text, method] = method_call(call, src);
  if (owner_text.empty() || (method != "on_event" && method != "add_event_handler")) return;
  Owner owner = classify_owner(owner_text, at, context);
  std::string handler =
      decorator
          ? std::string(node_text(field(field(ts_node_parent(at), "definition"), "name"), src))
          : dotted_name(argument(call, 1, "func", src), src);
  if (report_foreign(owner, owner_text, at, handler, context, scan)) return;
  App* app = app_named(scan, owner_text);
  if (!app) {
    std::string message = "`" + owner_text +
                          "` left as it is: it is not created by a top-level "
                          "statement";
    scan.findings.push_back(context.finding(kId, at, Severity::warning, message));
  } else if (decorator && method == "on_event") {
    add_decorated_handler(*app, at, call, context);
  } else if (!decorator && method == "add_event_handler") {
    add_registered_handler(*app, call, context);
  } else {
    app->refusals.push_back(
        refusal(context, at, *app, method + " is used here in a form the rewrite does not know"));
  }
}

// `FastAPI(on_startup=[...])` inside a function: an app factory, not converted yet.
void visit_constructor(TSNode call, const FileContext& context, Scan& scan) {
  std::string_view src = context.text();
  if (!is_fastapi_constructor(context.facts.resolve(dotted_name(field(call, "function"), src))))
    return;
  auto scope = enclosing_function(call);
  if (!scope || !is(*scope, "function_definition")) return;
  bool events = !ts_node_is_null(argument(call, SIZE_MAX, "on_startup", src)) ||
                !ts_node_is_null(argument(call, SIZE_MAX, "on_shutdown", src));
  if (!events) return;
  Owner owner{Owner::app_in_function, std::string(node_text(field(*scope, "name"), src))};
  report_foreign(owner, "", call, "", context, scan);
}

Scan scan_file(const FileContext& context) {
  Scan scan;
  find_apps(context, scan);
  walk(context.root, [&](TSNode node) {
    if (is(node, "decorator")) {
      visit_registration(node, ts_node_named_child(node, 0), true, context, scan);
      return false;
    }
    if (is(node, "call")) {
      visit_registration(node, node, false, context, scan);
      visit_constructor(node, context, scan);
    }
    return true;
  });
  return scan;
}

// ---------------------------------------------------------------- deciding per app

void refuse_if_registered_elsewhere(App& app, const FileContext& context) {
  std::string qualified = join(context.facts.module, app.name);
  for (const std::string& site : project_calls_to(
           context.index, {qualified + ".on_event", qualified + ".add_event_handler"})) {
    if (site.rfind(context.facts.path + ":", 0) == 0) continue;
    std::string why = "handlers for it are also registered in another module (" + site +
                      "); all of an app's handlers must move together, since FastAPI skips "
                      "on_event handlers once lifespan= is set";
    app.refusals.push_back(refusal(context, app.statement, app, why));
    return;
  }
}

// `app.router.lifespan_context = ...` at the top level: the app's lifespan before FastAPI 0.93.
bool sets_lifespan_context(const App& app, const FileContext& context) {
  std::string target = app.name + ".router.lifespan_context";
  for (TSNode statement : named_children(context.root)) {
    TSNode assignment = ts_node_named_child(statement, 0);
    if (is(statement, "expression_statement") && is(assignment, "assignment") &&
        dotted_name(field(assignment, "left"), context.text()) == target)
      return true;
  }
  return false;
}

// Refusals that only matter when the app has a lifespan to get.
void check_convertible(App& app, const FileContext& context) {
  if (sets_lifespan_context(app, context)) {
    app.refusals.push_back(refusal(context, app.statement, app,
                                   "it sets router.lifespan_context already; add the handlers to "
                                   "that lifespan by hand"));
  }
  if (app.created_twice) {
    app.refusals.push_back(
        refusal(context, app.statement, app, "it is created by more than one statement"));
  }
  if (app.existing_lifespan &&
      dotted_name(field(*app.existing_lifespan, "value"), context.text()).empty()) {
    app.refusals.push_back(refusal(context, *app.existing_lifespan, app,
                                   "its lifespan= is not a name the new lifespan could enter"));
  }
  refuse_if_registered_elsewhere(app, context);
}

Finding broken_today(const App& app, const std::string& name, const FileContext& context) {
  std::string existing = dotted_name(field(*app.existing_lifespan, "value"), context.text());
  return context.finding(
      kId, *app.existing_lifespan, Severity::warning,
      "broken today: this app has lifespan= and on_event handlers, and FastAPI skips on_event "
      "handlers when lifespan= is set, so they never ran; now `" +
          name + "` runs them and enters `" + existing + "` (check that they should run)");
}

// ---------------------------------------------------------------- the pass

// The async engines of the sync engines this module uses (its own, or imported by name): the
// lifespan disposes them at shutdown, as the app's handlers dispose the sync ones.
// Each: (the module text to import it from, or empty when it is defined here; its name).
std::vector<std::pair<std::string, std::string>> async_engines_to_dispose(
    const FileContext& context) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& [engine, scheme] : context.facts.engine_schemes) {
    if (auto sibling = aw10x::async_engine_of(context, context.facts, engine))
      found.emplace_back("", *sibling);
  }
  for (const auto& [local, qualified] : context.facts.imports) {
    size_t dot = qualified.rfind('.');
    if (dot == std::string::npos || local != qualified.substr(dot + 1)) continue;
    const ModuleFacts* module = context.index.module(qualified.substr(0, dot));
    if (!module) continue;
    // The facts tell first whether the name is an engine there; the import is then found in
    // the tree (most imports name no engine).
    auto sibling = aw10x::async_engine_of(context, *module, local);
    if (!sibling) continue;
    std::string from = aw10x::from_module_binding(context, local);
    if (!from.empty()) found.emplace_back(from, *sibling);
  }
  return found;
}

// The project modules that importing `from` runs: what it imports, transitively (with the
// packages around them).
std::set<std::string> modules_imported_by(const ProjectIndex& index, const std::string& from) {
  std::set<std::string> seen{from};
  std::vector<std::string> pending{from};
  auto visit = [&](std::string name) {
    for (;;) {
      if (index.module(name) && seen.insert(name).second) pending.push_back(name);
      size_t dot = name.rfind('.');
      if (dot == std::string::npos) return;
      name.resize(dot);
    }
  };
  while (!pending.empty()) {
    const ModuleFacts* module = index.module(pending.back());
    pending.pop_back();
    if (!module) continue;
    for (const auto& [local, target] : module->imports) visit(target);
    for (const std::string& star : module->star_imports) visit(star);
  }
  return seen;
}

// The local name this file binds a module to (`from app import clients`), or empty.
std::string module_binding(const std::string& module, const FileContext& context) {
  for (const auto& [local, target] : context.facts.imports) {
    if (target == module) return local;
  }
  return {};
}

// The shared HTTP clients (AW201) this module's apps use, closed at shutdown: those of the
// modules the app's module imports.
std::vector<http::ClientCloser> closers_for(const FileContext& context,
                                            std::vector<Finding>& findings,
                                            const std::set<std::string>& taken) {
  std::vector<http::ClientCloser> closers;
  std::set<std::string> reached = modules_imported_by(context.index, context.facts.module);
  for (const http::ClientCloser& closer : http::unwired_closers(context)) {
    if (!reached.count(closer.module)) continue;
    bool here = closer.module == context.facts.module;
    if (!here && modules_imported_by(context.index, closer.module).count(context.facts.module)) {
      findings.push_back(
          context.finding(kId, context.root, Severity::warning,
                          "`" + closer.module + "." + closer.name +
                              "()` is not called at shutdown: " + closer.module +
                              " imports this module, and importing it here would be circular; "
                              "close the client in the lifespan by hand"));
      continue;
    }
    if (!here && module_binding(closer.module, context).empty() && taken.count(closer.name) &&
        context.facts.resolve(closer.name) != closer.module + "." + closer.name) {
      findings.push_back(context.finding(
          kId, context.root, Severity::warning,
          "`" + closer.module + "." + closer.name + "()` is not called at shutdown: the name `" +
              closer.name + "` is taken in this module; close the client in the lifespan by hand"));
      continue;
    }
    closers.push_back(closer);
  }
  return closers;
}

// Where the lifespan imports a closer from: relative to this module's package when the file
// imports its package's modules that way.
std::string closer_import_module(const http::ClientCloser& closer, const FileContext& context) {
  bool relative_style = false;
  for (TSNode statement : named_children(context.root)) {
    TSNode module = field(statement, "module_name");
    if (is(statement, "import_from_statement") && is(module, "relative_import"))
      relative_style = true;
  }
  const std::string& here = context.facts.module;
  std::string package =
      context.facts.is_package
          ? here
          : here.substr(0, here.rfind('.') == std::string::npos ? 0 : here.rfind('.'));
  if (!relative_style || package.empty() || closer.module.rfind(package + ".", 0) != 0)
    return closer.module;
  return closer.module.substr(package.size());
}

Finding closer_note(const App& app, const std::vector<http::ClientCloser>& closers,
                    const FileContext& context) {
  std::string names;
  for (const http::ClientCloser& closer : closers)
    names += (names.empty() ? "" : ", ") + ("`" + closer.module + "." + closer.client + "`");
  return context.finding(
      kId, app.statement, Severity::note,
      "the lifespan closes the shared HTTP client" + std::string(closers.size() > 1 ? "s " : " ") +
          names + " at shutdown (its connections belong to the event loop that opened them)");
}

Finding unclosed_clients(const App& app, const std::vector<http::ClientCloser>& closers,
                         const FileContext& context) {
  std::string names;
  for (const http::ClientCloser& closer : closers)
    names += (names.empty() ? "" : ", ") + ("`" + closer.module + "." + closer.name + "()`");
  return context.finding(kId, app.statement, Severity::warning,
                         "this app gets no lifespan, so nothing calls " + names +
                             " at shutdown; call it from the app's shutdown by hand");
}

}  // namespace

PassResult convert_apps(const FileContext& context, Apps which) {
  bool all = which == Apps::with_handlers_or_clients;
  Scan scan = scan_file(context);
  std::vector<std::pair<std::string, std::string>> engines = async_engines_to_dispose(context);
  bool disposes = false;
  PassResult result;
  if (all) result.findings = std::move(scan.findings);
  // The names the file uses (for the lifespan's) and the clients to close matter with an app.
  std::set<std::string> taken;
  std::vector<http::ClientCloser> closers;
  if (!scan.apps.empty()) {
    taken = names_in_use(context);
    closers = closers_for(context, result.findings, taken);
  }
  bool closes = false;
  std::vector<Edit> edits;
  std::vector<LineRange> lines;
  for (App& app : scan.apps) {
    bool had_handlers = !app.handlers.empty();
    if (!all && closers.empty()) continue;
    if (!had_handlers && app.refusals.empty() && closers.empty()) continue;
    check_convertible(app, context);
    if (!app.refusals.empty()) {
      result.findings.insert(result.findings.end(), app.refusals.begin(), app.refusals.end());
      if (!closers.empty()) result.findings.push_back(unclosed_clients(app, closers, context));
      continue;
    }
    std::string name = lifespan_name(taken);
    taken.insert(name);
    for (const http::ClientCloser& closer : closers) {
      std::string module = module_binding(closer.module, context);
      app.handlers.push_back(
          {false, module.empty() ? closer.name : module + "." + closer.name, true});
      closes = true;
    }
    if (!closers.empty()) result.findings.push_back(closer_note(app, closers, context));
    for (const auto& [from, engine] : engines) {
      app.handlers.push_back({false, engine + ".dispose", true});
      disposes = true;
    }
    if (app.existing_lifespan && had_handlers)
      result.findings.push_back(broken_today(app, name, context));
    edits.push_back(lifespan_insertion(app, name, context));
    std::vector<Edit> constructor = constructor_edits(app, name, context);
    edits.insert(edits.end(), constructor.begin(), constructor.end());
    lines.insert(lines.end(), app.lines.begin(), app.lines.end());
  }
  std::stable_sort(result.findings.begin(), result.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::pair(a.position.line, a.position.column) <
                            std::pair(b.position.line, b.position.column);
                   });
  if (edits.empty()) return result;
  // The import goes first: when it lands where the lifespan does, it must come before it.
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  imports.require_from("contextlib", "asynccontextmanager");
  for (const http::ClientCloser& closer : closers) {
    if (closes && closer.module != context.facts.module &&
        module_binding(closer.module, context).empty())
      imports.require_from(closer_import_module(closer, context), closer.name);
  }
  for (const auto& [from, engine] : engines) {
    if (disposes && !from.empty()) imports.require_from(from, engine);
  }
  result.edits = imports.edits();
  result.edits.insert(result.edits.end(), edits.begin(), edits.end());
  std::vector<Edit> removals = line_removals(std::move(lines), context.source);
  result.edits.insert(result.edits.end(), removals.begin(), removals.end());
  return result;
}

namespace {

PassResult run(const FileContext& context) {
  return convert_apps(context, Apps::with_handlers_or_clients);
}

bool names_any(const std::string& target, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view name) {
    return target == name || (target.ends_with(name) && target.size() > name.size() &&
                              target[target.size() - name.size() - 1] == '.');
  });
}

bool names_app_call(const std::string& target) {
  return names_any(target, {"FastAPI", "on_event", "add_event_handler"});
}

// Whether a text (a function's, or the whole module's: no function of a module whose text
// holds none of these words records a verdict) may hold a call naming FastAPI, on_event or
// add_event_handler, as written or through a name the module imports them as
// (`from fastapi import FastAPI as F`).
bool mentions_app_call(std::string_view text, const ModuleFacts& facts) {
  auto holds = [&](std::string_view word) {
    return memmem(text.data(), text.size(), word.data(), word.size()) != nullptr;
  };
  if (holds("FastAPI") || holds("_event")) return true;
  return std::any_of(facts.imports.begin(), facts.imports.end(), [&](const auto& import) {
    return names_app_call(import.second) && holds(import.first);
  });
}

// The calls the index records miss some a function makes: those of its signature (annotations,
// a method call on an unknown object in a default) and those of a name it imports itself
// (`from fastapi import FastAPI` in a factory). Each call of the function, signature included
// and nested definitions excluded, that names FastAPI, on_event or add_event_handler, as
// written or resolved, is recorded as a verdict of this pass, which holds the file for the
// pass (report_from_facts). A function whose text names none of them is not walked.
void record_verdicts(TSNode def, std::string_view src, const ModuleFacts& facts,
                     FunctionFacts& fn) {
  if (!mentions_app_call(node_text(def, src), facts)) return;
  walk(def, [&](TSNode node) {
    if (is(node, "function_definition")) return ts_node_eq(node, def);
    if (!is(node, "call")) return true;
    std::string written = dotted_name(field(node, "function"), src);
    if (!written.empty() && (names_app_call(written) || names_app_call(facts.resolve(written)))) {
      PassVerdict verdict;
      verdict.pass = kId;
      verdict.byte = ts_node_start_byte(node);
      verdict.shown = written + "()";
      fn.verdicts.push_back(std::move(verdict));
    }
    return true;
  });
}

// What the pass reports on a file it leaves unchanged, told from the facts: nothing, when the
// file neither builds an app (a call naming FastAPI) nor registers a handler (a call of a
// method named on_event or add_event_handler, resolved or not), among the calls the index
// records or those this pass records itself (its verdicts).
std::optional<std::vector<Finding>> report_from_facts(const SourceFile&, const ModuleFacts& facts,
                                                      const ProjectIndex&, const Plan&) {
  auto constructs_or_registers = [](const CallFact& call) { return names_app_call(call.target); };
  auto recorded_here = [](const FunctionFacts& fn) {
    return std::any_of(fn.verdicts.begin(), fn.verdicts.end(),
                       [](const PassVerdict& verdict) { return verdict.pass == kId; });
  };
  for (const FunctionFacts& fn : facts.function_facts) {
    for (const auto* calls : {&fn.calls, &fn.blocking, &fn.unresolved_methods}) {
      if (std::any_of(calls->begin(), calls->end(), constructs_or_registers)) return std::nullopt;
    }
    if (recorded_here(fn)) return std::nullopt;
  }
  return std::vector<Finding>{};
}

}  // namespace

std::vector<TSNode> arguments_of(TSNode call) {
  std::vector<TSNode> result;
  for (TSNode child : named_children(field(call, "arguments"))) {
    if (!is(child, "comment")) result.push_back(child);
  }
  return result;
}

}  // namespace awaitify::aw701

namespace awaitify {

TransformInfo lifespan_transform() {
  return TransformInfo{
      .id = aw701::kId,
      .phase = "lifespan",
      .summary = "@app.on_event / add_event_handler / on_startup= -> one lifespan context manager",
      .explain = R"(Before:
    app = FastAPI()

    @app.on_event("startup")
    def connect(): ...

    @app.on_event("shutdown")
    async def close(): ...
After:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        connect()
        try:
            yield
        finally:
            await close()


    app = FastAPI(lifespan=lifespan)

    def connect(): ...

    async def close(): ...

All of an app's handlers move together (FastAPI skips on_event handlers once lifespan= is
set): @app.on_event("startup"/"shutdown"), app.add_event_handler(...) and
FastAPI(on_startup=[...], on_shutdown=[...]), in the order FastAPI ran them. The handlers stay
module functions (other callers keep working) and the lifespan calls them by name, awaiting
the async ones; `yield` is inside try/finally when there is shutdown work. The lifespan goes
right before the statement that creates the app, which gets lifespan=...; it is named
lifespan, or app_lifespan (then _lifespan_2, ...) when the name is taken. An app that
already has lifespan= keeps it: the new lifespan enters it around the yield, and the app is
reported as broken today (its on_event handlers never ran).

With --target fastapi=VERSION before 0.93 (FastAPI() has no lifespan= there), the statement
that creates the app is followed by `app.router.lifespan_context = lifespan`.

The shared HTTP clients the http phase writes (AW201's close_http_client(), in the app's module
or a module it imports) are closed at shutdown, after the app's own shutdown handlers; an app
with no handlers gets a lifespan for that alone.

Refusals (the app is left as it is, with a finding): a handler that is a lambda or not a
(dotted) name, or whose async-ness the index cannot tell; an event name that is not a string
literal; a registration inside a block or function, or wrapped by another decorator; handlers
registered on the same app from another module; an app created inside a function (factory);
an app that sets router.lifespan_context already.
Handlers on routers (router.on_event) are reported and left as they are.)",
      .triggers = {"on_event", "add_event_handler", "on_startup", "on_shutdown", "FastAPI"},
      .run = aw701::run,
      .record_verdicts = aw701::record_verdicts,
      .report_from_facts = aw701::report_from_facts,
      .verdicts_possible = aw701::mentions_app_call};
}

}  // namespace awaitify
