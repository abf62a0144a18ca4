#include "awaitify/fastapi.hpp"

#include "awaitify/calls.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

// `X.method(...)` decorator: X's dotted name and the method, or empty strings.
std::pair<std::string, std::string> decorator_call(TSNode decorator, std::string_view src) {
  TSNode expression = ts_node_named_child(decorator, 0);
  if (!is(expression, "call")) return {};
  TSNode function = field(expression, "function");
  if (!is(function, "attribute")) return {};
  return {dotted_name(field(function, "object"), src),
          std::string(node_text(field(function, "attribute"), src))};
}

// Resolves a name used in a decorator: module bindings, or an assignment `app = FastAPI()` in
// an enclosing function (an app factory).
std::string owner_type(TSNode decorator, const std::string& owner, const FileContext& context) {
  std::string_view src = context.text();
  for (auto scope = enclosing_function(decorator); scope; scope = enclosing_function(*scope)) {
    if (!is(*scope, "function_definition")) continue;
    std::string found;
    walk(field(*scope, "body"), [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "class_definition")) return false;
      if (is(node, "assignment") && node_text(field(node, "left"), src) == owner &&
          is(field(node, "right"), "call")) {
        found = context.facts.resolve(dotted_name(field(field(node, "right"), "function"), src));
      }
      return true;
    });
    if (!found.empty()) return found;
  }
  std::string qualified = context.facts.resolve(owner);
  if (qualified.empty()) return {};
  auto type = context.index.instance_type(qualified);
  if (!type && qualified.rfind(context.facts.module + ".", 0) == 0) {
    auto local = context.facts.instances.find(owner);
    if (local != context.facts.instances.end()) return local->second;
  }
  return type.value_or("");
}

}  // namespace

std::string qualified_name(TSNode function_definition, const FileContext& context) {
  std::string_view src = context.text();
  std::string name(node_text(field(function_definition, "name"), src));
  for (TSNode up = ts_node_parent(function_definition); !ts_node_is_null(up);
       up = ts_node_parent(up)) {
    if (is(up, "function_definition") || is(up, "class_definition")) {
      name = std::string(node_text(field(up, "name"), src)) + "." + name;
    }
  }
  return context.facts.module.empty() ? name : context.facts.module + "." + name;
}

std::vector<TSNode> decorators_of(TSNode function_definition) {
  TSNode parent = ts_node_parent(function_definition);
  if (!is(parent, "decorated_definition")) return {};
  std::vector<TSNode> result;
  for (TSNode child : named_children(parent)) {
    if (is(child, "decorator")) result.push_back(child);
  }
  return result;
}

bool is_path_operation_decorator(TSNode decorator, const FileContext& context) {
  auto [owner, method] = decorator_call(decorator, context.text());
  if (owner.empty() || !is_route_decorator_method(method)) return false;
  std::string type = owner_type(decorator, owner, context);
  return is_fastapi_constructor(type) || is_router_constructor(type);
}

bool is_http_middleware_decorator(TSNode decorator, const FileContext& context) {
  auto [owner, method] = decorator_call(decorator, context.text());
  if (owner.empty() || method != "middleware") return false;
  TSNode call = ts_node_named_child(decorator, 0);
  TSNode first = ts_node_named_child(field(call, "arguments"), 0);
  if (!is(first, "string") ||
      node_text(first, context.text()).find("http") == std::string_view::npos) {
    return false;
  }
  return is_fastapi_constructor(owner_type(decorator, owner, context));
}

std::optional<std::string> parameter_name(TSNode function_definition, size_t n,
                                          std::string_view src) {
  size_t index = 0;
  TSNode parameters = field(function_definition, "parameters");
  if (ts_node_is_null(parameters)) return std::nullopt;  // `lambda: ...`
  for (TSNode param : named_children(parameters)) {
    TSNode name = param;
    if (is(param, "typed_parameter"))
      name = ts_node_named_child(param, 0);
    else if (is(param, "default_parameter") || is(param, "typed_default_parameter"))
      name = field(param, "name");
    if (!is(name, "identifier")) return std::nullopt;  // *args, **kwargs, / or *
    if (index++ == n) return std::string(node_text(name, src));
  }
  return std::nullopt;
}

namespace {

// The line of the first `x.method(...)` call in the function as the text is now (earlier
// passes of the run may have moved it from where the index saw it), else `fallback`.
uint32_t current_line(TSNode function_definition, const std::string& method, std::string_view src,
                      uint32_t fallback) {
  uint32_t line = 0;
  walk(field(function_definition, "body"), [&](TSNode node) {
    if (line) return false;
    TSNode callee = is(node, "call") ? field(node, "function") : TSNode{};
    if (!ts_node_is_null(callee) && is(callee, "attribute") &&
        node_text(field(callee, "attribute"), src) == method)
      line = ts_node_start_point(node).row + 1;
    return true;
  });
  return line ? line : fallback;
}

// Session I/O the index found on a session the function makes itself (`SessionLocal()`,
// another module's scoped_session), which a scan of the file alone cannot tell from other calls.
std::optional<std::string> session_made_here(const FileContext& context, TSNode function_definition,
                                             const std::string& qualified) {
  const FunctionFacts* fn = context.index.function(qualified);
  if (!fn) return std::nullopt;
  for (const CallFact& call : fn->blocking) {
    constexpr std::string_view kSession = "sqlalchemy.orm.Session.";
    if (call.target.rfind(kSession, 0) != 0) continue;
    std::string method = call.target.substr(kSession.size());
    uint32_t line = current_line(function_definition, method, context.text(), call.line);
    return "it makes sync Session I/O (`Session." + method + "`, line " + std::to_string(line) +
           ") on a session it opens itself: the db phase migrates sessions received as a "
           "dependency (`Depends(get_db)`); receive it so, or keep this function sync";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> blocking_reason(TSNode function_definition, const FileContext& context) {
  std::string_view src = context.text();
  std::set<std::string> sessions =
      session_parameters(context.facts, function_definition, src, &context.index);
  std::optional<std::string> reason;
  auto line_of = [](TSNode node) { return std::to_string(ts_node_start_point(node).row + 1); };
  ScopeVisitor visitor;
  visitor.session_use = [&](TSNode identifier) {
    if (reason) return;
    reason = "it uses the sync Session `" + std::string(node_text(identifier, src)) + "` (line " +
             line_of(identifier) + "); migrate it with --phase db first";
  };
  visitor.call = [&](const Site& site) {
    if (reason || site.context == CallContext::lambda) return;
    if (auto api = blocking_api(site.target)) {
      reason = "it calls `" + site.target + "` (line " + line_of(site.node) + "), " +
               std::string(api->what) + "; " + std::string(api->fix);
    } else if (auto path = context.index.blocking_path(site.target)) {
      auto last = blocking_api(path->call.target);
      reason = "it calls `" + site.target + "` (line " + line_of(site.node) +
               "), which blocks: " + context.index.blocking_chain(site.target) +
               (last ? "; " + std::string(last->fix) : std::string("; migrate it with --phase db"));
    }
  };
  ScopeScanner scanner(context.facts, src, qualified_name(function_definition, context), "",
                       sessions, false);
  scanner.scan_function(function_definition, visitor);
  if (!reason)
    reason = session_made_here(context, function_definition,
                               qualified_name(function_definition, context));
  return reason;
}

std::vector<TSNode> calls_of_name(TSNode function_definition, const std::string& name,
                                  std::string_view src, std::vector<TSNode>* other_uses) {
  std::vector<TSNode> calls;
  walk(field(function_definition, "body"), [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "lambda")) {
      // A nested scope that takes a parameter of the same name shadows it.
      for (size_t i = 0;; ++i) {
        auto parameter = parameter_name(node, i, src);
        if (!parameter) return true;
        if (*parameter == name) return false;
      }
    }
    if (!is(node, "identifier") || node_text(node, src) != name) return true;
    TSNode parent = ts_node_parent(node);
    if (is(parent, "call") && ts_node_eq(field(parent, "function"), node)) {
      calls.push_back(parent);
    } else if (other_uses &&
               !(is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node)) &&
               !(is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node))) {
      other_uses->push_back(node);
    }
    return true;
  });
  return calls;
}

Finding FileContext::finding(std::string id, TSNode at, Severity severity,
                             std::string message) const {
  return Finding{std::move(id), source.path(), source.position(ts_node_start_byte(at)), severity,
                 std::move(message)};
}

}  // namespace awaitify
