// The tests phase's reading of one file: its tests and fixtures, where it builds TestClients,
// and every use of a name that may hold one. Plain data (byte ranges, no tree nodes), so the
// model can keep it after the tree is gone and join files into units.
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "tests_client.hpp"

namespace awaitify::aw80x {

namespace {

// The methods that send a request: awaited on an AsyncClient.
bool is_request_method(std::string_view name) {
  static const std::set<std::string, std::less<>> names{
      "get", "post", "put", "patch", "delete", "head", "options", "request", "send"};
  return names.count(name) > 0;
}

// What both clients have and use the same way (no await).
bool is_shared_member(std::string_view name) {
  static const std::set<std::string, std::less<>> names{
      "headers", "cookies",          "base_url",    "params",    "auth",
      "timeout", "follow_redirects", "event_hooks", "is_closed", "build_request"};
  return names.count(name) > 0;
}

Range range_of(TSNode node) {
  return Range{ts_node_start_byte(node), ts_node_end_byte(node), ts_node_start_point(node).row + 1};
}

bool is_scope(TSNode node) {
  return is(node, "function_definition") || is(node, "lambda") || is(node, "class_definition");
}

// A string literal's plain text; nullopt for f-strings, concatenations and other expressions.
std::optional<std::string> literal(TSNode node, std::string_view src) {
  if (!is(node, "string")) return std::nullopt;
  std::string text;
  for (TSNode child : named_children(node)) {
    if (is(child, "string_content"))
      text += node_text(child, src);
    else if (!is(child, "string_start") && !is(child, "string_end"))
      return std::nullopt;
  }
  return text;
}

// The n-th ancestor of a node a walk is at (1: its parent), from the walk's ancestors (the
// walk's root first); above the root, tree-sitter's parents.
TSNode ancestor_at(const std::vector<TSNode>& ancestors, size_t n) {
  if (n <= ancestors.size()) return ancestors[ancestors.size() - n];
  TSNode up = ancestors.empty() ? TSNode{} : ancestors.front();
  for (size_t above = n - ancestors.size(); above > 0 && !ts_node_is_null(up); --above)
    up = ts_node_parent(up);
  return up;
}

class Reader {
 public:
  Reader(const ModuleFacts& facts, std::string_view src, TSNode root)
      : facts_(facts),
        src_(src),
        root_(root),
        may_build_client_(src.find("TestClient") != std::string_view::npos) {}

  FileFacts read() {
    out_.path = normal_path(facts_.path);
    out_.module = facts_.module;
    out_.test_file = is_pytest_file(facts_.path);
    read_markers();
    read_module_clients();
    walk(root_, [&](TSNode node) {
      if (is(node, "function_definition")) read_function(node);
      return true;
    });
    read_module_uses();
    return std::move(out_);
  }

 private:
  std::string resolve(TSNode expression) const {
    return facts_.resolve(dotted_name(expression, src_));
  }
  // Only a name TestClient resolves to can build one: a text without that word builds none.
  bool builds_client(TSNode node) const {
    return may_build_client_ && is(node, "call") &&
           is_test_client(resolve(field(node, "function")));
  }

  std::string qualified(TSNode def) const {
    std::string name(node_text(field(def, "name"), src_));
    for (TSNode up = ts_node_parent(def); !ts_node_is_null(up); up = ts_node_parent(up)) {
      if (is(up, "function_definition") || is(up, "class_definition")) {
        name = std::string(node_text(field(up, "name"), src_)) + "." + name;
      }
    }
    return facts_.module.empty() ? name : facts_.module + "." + name;
  }

  // ------------------------------------------------------------ markers and names

  void read_markers() {
    for (const auto& [local, target] : facts_.imports) {
      if (target.rfind("asgi_lifespan", 0) == 0) out_.asgi_lifespan = true;
      if (target.rfind("pytest_asyncio", 0) == 0) out_.asyncio_marks = true;
    }
    for (TSNode statement : named_children(root_)) {
      TSNode assignment = ts_node_named_child(statement, 0);
      if (!is(assignment, "assignment") ||
          node_text(field(assignment, "left"), src_) != "pytest_plugins")
        continue;
      walk(field(assignment, "right"), [&](TSNode node) {
        out_.anyio_marks |=
            is(node, "string") && literal(node, src_) == std::optional<std::string>("anyio");
        return true;
      });
    }
    // Resolving keeps the last name: only `....anyio` and `....asyncio` can be the marks, so a
    // text without those words has none, and its tree is not walked for them.
    bool may_mark = src_.find("anyio") != std::string_view::npos ||
                    src_.find("asyncio") != std::string_view::npos;
    if (may_mark) {
      walk(root_, [&](TSNode node) {
        if (!is(node, "attribute")) return true;
        std::string_view last = node_text(field(node, "attribute"), src_);
        if (last != "anyio" && last != "asyncio") return true;
        std::string target = resolve(node);
        out_.anyio_marks |= target == "pytest.mark.anyio";
        out_.asyncio_marks |= target == "pytest.mark.asyncio";
        return true;
      });
    }
    static const std::map<std::string, std::string> added{
        {"AsyncClient", "httpx.AsyncClient"},
        {"ASGITransport", "httpx.ASGITransport"},
        {"LifespanManager", "asgi_lifespan.LifespanManager"},
        {"pytest_asyncio", "pytest_asyncio"}};
    for (const auto& [name, wanted] : added) {
      std::string bound = facts_.resolve(name);
      if (!bound.empty() && bound != wanted && out_.name_conflict.empty())
        out_.name_conflict = name;
    }
  }

  // ------------------------------------------------------------ module-level clients

  // `client = TestClient(app)` as a top-level statement: a client every function may use.
  void read_module_clients() {
    for (TSNode statement : named_children(root_)) {
      TSNode assignment = ts_node_named_child(statement, 0);
      if (!is(statement, "expression_statement") || !is(assignment, "assignment")) continue;
      TSNode left = field(assignment, "left");
      TSNode right = field(assignment, "right");
      if (!is(left, "identifier") || !builds_client(right)) continue;
      std::string name(node_text(left, src_));
      out_.constructions.push_back({facts_.module, name, ConstructionKind::assignment,
                                    range_of(right),
                                    rewrite_problem(right, ConstructionKind::assignment)});
      module_clients_.insert(name);
    }
    if (!may_build_client_) return;  // builds_client is false everywhere
    walk(root_, [&](TSNode node) {
      if (is(node, "function_definition")) return false;
      if (builds_client(node) && !module_client_call(node)) {
        out_.constructions.push_back({facts_.module, "", ConstructionKind::assignment,
                                      range_of(node),
                                      "a TestClient built at import time, outside a top-level "
                                      "`name = TestClient(...)` statement"});
      }
      return true;
    });
  }

  bool module_client_call(TSNode call) const {
    TSNode assignment = ts_node_parent(call);
    return is(assignment, "assignment") &&
           is(ts_node_parent(ts_node_parent(assignment)), "module") &&
           is(field(assignment, "left"), "identifier") &&
           module_clients_.count(std::string(node_text(field(assignment, "left"), src_)));
  }

  // Uses of module-level clients in module-level code: a request there runs at import time.
  void read_module_uses() {
    if (module_clients_.empty()) return;
    walk_with_ancestors(root_, [&](TSNode node, const std::vector<TSNode>& ancestors) {
      if (is(node, "function_definition")) return false;
      if (is(node, "identifier") && module_clients_.count(std::string(node_text(node, src_)))) {
        Use use = classify(node, facts_.module, ancestors);
        use.module_client = true;
        if (use.kind == UseKind::request) {
          use.kind = UseKind::refused;
          use.why = "a request made at import time, outside any function";
        }
        if (!binding_site(node, ancestors)) out_.uses.push_back(use);
      }
      return true;
    });
  }

  // ------------------------------------------------------------ functions

  void read_function(TSNode def) {
    FunctionInfo fn;
    fn.qualified = qualified(def);
    fn.name = std::string(node_text(field(def, "name"), src_));
    fn.def = range_of(def);
    fn.is_async = is(ts_node_child(def, 0), "async");
    read_decorators(def, fn);
    fn.is_test =
        !fn.is_fixture && out_.test_file && fn.name.rfind("test", 0) == 0 && collected(def);
    read_parameters(def, fn);
    TSNode returns = field(def, "return_type");
    if (!ts_node_is_null(returns) && is_test_client(resolve(ts_node_named_child(returns, 0)))) {
      fn.client_return_annotation = range_of(ts_node_named_child(returns, 0));
    }
    std::set<std::string> bound = read_bindings(def, fn);
    read_uses(def, fn, bound);
    out_.functions.push_back(std::move(fn));
  }

  // pytest collects test functions at module level and methods of Test* classes.
  bool collected(TSNode def) const {
    TSNode holder = ts_node_parent(def);
    if (is(holder, "decorated_definition")) holder = ts_node_parent(holder);
    if (is(holder, "module")) return true;
    if (!is(holder, "block") || !is(ts_node_parent(holder), "class_definition")) return false;
    TSNode cls = ts_node_parent(holder);
    return node_text(field(cls, "name"), src_).substr(0, 4) == "Test" &&
           enclosing_function(cls) == std::nullopt;
  }

  void read_decorators(TSNode def, FunctionInfo& fn) {
    TSNode parent = ts_node_parent(def);
    if (!is(parent, "decorated_definition")) return;
    for (TSNode decorator : named_children(parent)) {
      if (!is(decorator, "decorator")) continue;
      TSNode expression = ts_node_named_child(decorator, 0);
      TSNode call = is(expression, "call") ? expression : TSNode{};
      if (!is_pytest_fixture_decorator(
              resolve(ts_node_is_null(call) ? expression : field(call, "function")))) {
        continue;
      }
      fn.is_fixture = true;
      fn.fixture_name = fn.name;
      if (!ts_node_is_null(call)) read_fixture_arguments(call, fn);
    }
    if (fn.is_fixture && fn.fixture_name == "anyio_backend") out_.anyio_marks = true;
  }

  void read_fixture_arguments(TSNode call, FunctionInfo& fn) const {
    for (TSNode argument : named_children(field(call, "arguments"))) {
      if (is(argument, "comment")) continue;
      if (!is(argument, "keyword_argument")) {
        fn.scope_known = false;  // the old positional scope, or *args
        continue;
      }
      std::string_view keyword = node_text(field(argument, "name"), src_);
      TSNode value = field(argument, "value");
      auto text = literal(value, src_);
      if (keyword == "name" && text) fn.fixture_name = *text;
      if (keyword == "scope") {
        if (text)
          fn.scope = *text;
        else
          fn.scope_known = false;
      }
      if (keyword == "loop_scope" && text) fn.loop_scope = *text;
      if (keyword == "autouse") fn.autouse = node_text(value, src_) == "True";
    }
  }

  void read_parameters(TSNode def, FunctionInfo& fn) const {
    for (TSNode param : named_children(field(def, "parameters"))) {
      Parameter parameter;
      TSNode name = param;
      TSNode type{};
      if (is(param, "typed_parameter")) {
        name = ts_node_named_child(param, 0);
        type = field(param, "type");
      } else if (is(param, "default_parameter") || is(param, "typed_default_parameter")) {
        name = field(param, "name");
        type = field(param, "type");
      }
      if (!is(name, "identifier")) {
        // *args, **kwargs, `*` and `/`: nothing can be handed to them by position after this.
        if (!is(param, "comment")) fn.parameters.push_back({"*", std::nullopt});
        continue;
      }
      parameter.name = std::string(node_text(name, src_));
      TSNode annotation = ts_node_is_null(type) ? type : ts_node_named_child(type, 0);
      if (!ts_node_is_null(annotation) && is_test_client(resolve(annotation))) {
        parameter.client_annotation = range_of(annotation);
      }
      fn.parameters.push_back(parameter);
    }
  }

  // ------------------------------------------------------------ constructions and bindings

  // Records the function's constructions; returns the names they bind, and notes in
  // fn.rebound the names also bound to anything else.
  std::set<std::string> read_bindings(TSNode def, FunctionInfo& fn) {
    std::set<std::string> bound;
    walk(field(def, "body"), [&](TSNode node) {
      if (is_scope(node)) return false;
      if (builds_client(node)) {
        Construction construction = construction_at(node, fn);
        if (!construction.name.empty()) bound.insert(construction.name);
        out_.constructions.push_back(std::move(construction));
      }
      note_rebinding(node, fn);
      return true;
    });
    return bound;
  }

  Construction construction_at(TSNode call, const FunctionInfo& fn) const {
    Construction construction{fn.qualified, "", ConstructionKind::assignment, range_of(call), {}};
    TSNode parent = ts_node_parent(call);
    if (is(parent, "as_pattern") && is(ts_node_parent(parent), "with_item")) {
      construction.kind = ConstructionKind::with_item;
      TSNode target = field(parent, "alias");
      if (is(target, "as_pattern_target")) target = ts_node_named_child(target, 0);
      TSNode clause = ts_node_parent(ts_node_parent(parent));
      size_t items = 0;
      for (TSNode item : named_children(clause)) items += is(item, "with_item") ? 1 : 0;
      if (!is(target, "identifier"))
        construction.why = "the client is not bound to a plain name";
      else
        construction.name = std::string(node_text(target, src_));
      if (items > 1) {
        construction.why =
            "the with statement enters other context managers too; an async with "
            "cannot enter sync ones (split the statement)";
      }
    } else if (is(parent, "assignment") && ts_node_eq(field(parent, "right"), call) &&
               is(field(parent, "left"), "identifier")) {
      construction.name = std::string(node_text(field(parent, "left"), src_));
    } else if (is(parent, "return_statement") || is(parent, "yield")) {
      construction.kind = ConstructionKind::returned;
      if (!fn.is_fixture) {
        construction.why = "`" + fn.name +
                           "` returns a new TestClient and is no fixture: its callers "
                           "would have to enter the AsyncClient themselves";
      }
    } else if (is(parent, "with_item")) {
      construction.kind = ConstructionKind::with_item;
      construction.why = "`with TestClient(...)` without `as NAME` runs the lifespan only";
    } else {
      construction.why = "TestClient(...) is used here without being bound to a name";
    }
    if (construction.why.empty()) construction.why = rewrite_problem(call, construction.kind);
    return construction;
  }

  // Why the call itself cannot become an AsyncClient(...) (empty when it can).
  std::string rewrite_problem(TSNode call, ConstructionKind kind) const {
    TSNode app{};
    auto rewritten = async_client_call(call, src_, &app);
    if (!rewritten) return rewritten.error().message;
    if (kind == ConstructionKind::with_item && dotted_name(app, src_).empty()) {
      return "the app is the expression `" + std::string(node_text(app, src_)) +
             "`: LifespanManager and ASGITransport need the same app object (bind it to a name "
             "first)";
    }
    return {};
  }

  void note_rebinding(TSNode node, FunctionInfo& fn) const {
    auto rebind = [&](TSNode target) {
      walk(target, [&](TSNode name) {
        if (is(name, "identifier")) fn.rebound.emplace(node_text(name, src_));
        return !is(name, "attribute") && !is(name, "subscript");
      });
    };
    if (is(node, "assignment") && !builds_client(field(node, "right"))) rebind(field(node, "left"));
    if (is(node, "augmented_assignment") || is(node, "for_statement") ||
        is(node, "for_in_clause")) {
      rebind(field(node, "left"));
    }
    if (is(node, "named_expression")) rebind(field(node, "name"));
    if (is(node, "as_pattern") && !builds_client(ts_node_named_child(node, 0)))
      rebind(field(node, "alias"));
  }

  // ------------------------------------------------------------ uses

  void read_uses(TSNode def, const FunctionInfo& fn, const std::set<std::string>& bound) {
    std::set<std::string, std::less<>> names(bound.begin(), bound.end());
    std::set<std::string> locals(bound);
    for (const Parameter& parameter : fn.parameters) {
      names.insert(parameter.name);
      locals.insert(parameter.name);
    }
    std::set<std::string, std::less<>> globals;
    for (const std::string& name : module_clients_) {
      if (!locals.count(name) && !fn.rebound.count(name)) globals.insert(name);
    }
    names.insert(globals.begin(), globals.end());
    // The walk keeps each node's ancestors: tree-sitter finds a node's parent by searching down
    // from the root, and a use is judged by the nodes above it.
    walk_with_ancestors(field(def, "body"), [&](TSNode node, const std::vector<TSNode>& ancestors) {
      if (!is(node, "identifier")) return true;
      std::string_view name = node_text(node, src_);
      if (!names.count(name) || binding_site(node, ancestors) || !reference(node, ancestors))
        return true;
      Use use = classify(node, fn.qualified, ancestors);
      use.module_client = globals.count(name) > 0;
      out_.uses.push_back(std::move(use));
      return true;
    });
  }

  // An identifier that refers to a variable (not an attribute's or keyword's name). The
  // ancestors are the walk's, from its root to the identifier's parent.
  bool reference(TSNode identifier, const std::vector<TSNode>& ancestors) const {
    TSNode parent = ancestor_at(ancestors, 1);
    if (is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), identifier)) return false;
    if (is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), identifier))
      return false;
    return true;
  }

  // Where a construction binds its name: not a use.
  bool binding_site(TSNode identifier, const std::vector<TSNode>& ancestors) const {
    TSNode parent = ancestor_at(ancestors, 1);
    if (is(parent, "as_pattern_target")) return true;
    return is(parent, "assignment") && ts_node_eq(field(parent, "left"), identifier);
  }

  // `ancestors`: from the scope's body (or the module) down to the identifier's parent.
  Use classify(TSNode identifier, const std::string& function,
               const std::vector<TSNode>& ancestors) const {
    Use use;
    use.function = function;
    use.name = std::string(node_text(identifier, src_));
    use.range = range_of(identifier);
    if (auto nested = nested_scope(ancestors)) {
      use.why = "used inside " + *nested + ", which cannot await it";
      return use;
    }
    TSNode parent = ancestor_at(ancestors, 1);
    if (is(parent, "attribute") && ts_node_eq(field(parent, "object"), identifier))
      return member_use(use, parent, ancestor_at(ancestors, 2));
    if (is(parent, "argument_list") || is(parent, "keyword_argument"))
      return argument_use(use, identifier, ancestors);
    if (is(parent, "return_statement") || is(parent, "yield")) {
      use.kind = UseKind::returned;
      return use;
    }
    use.why = "used as a value (`" + std::string(node_text(parent, src_)).substr(0, 60) + "`)";
    return use;
  }

  // A lambda, generator expression or nested definition between a name and its scope (the
  // nearest): `ancestors` goes from the scope's body, or its module, down to the name's parent.
  std::optional<std::string> nested_scope(const std::vector<TSNode>& ancestors) const {
    for (auto up = ancestors.rbegin(); up != ancestors.rend(); ++up) {
      if (is(*up, "lambda")) return "a lambda";
      if (is(*up, "generator_expression")) return "a generator expression";
      if (is(*up, "function_definition") || is(*up, "class_definition"))
        return "a nested definition";
    }
    return std::nullopt;
  }

  // `call`: the attribute's parent.
  Use member_use(Use use, TSNode attribute, TSNode call) const {
    std::string member(node_text(field(attribute, "attribute"), src_));
    bool called = is(call, "call") && ts_node_eq(field(call, "function"), attribute);
    if (called) use.range = range_of(call);
    if (called && is_request_method(member))
      use.kind = UseKind::request;
    else if (called && member == "websocket_connect")
      use.kind = UseKind::websocket;
    else if (called && member == "stream")
      use.kind = UseKind::stream;
    else if (is_shared_member(member))
      use.kind = UseKind::allowed;
    else
      use.why = "`." + member + (called ? "()`" : "`") +
                " has no AsyncClient counterpart the rewrite knows";
    return use;
  }

  Use argument_use(Use use, TSNode identifier, const std::vector<TSNode>& ancestors) const {
    TSNode argument = identifier;
    size_t argument_depth = 0;  // how far above the identifier the argument is
    if (is(ancestor_at(ancestors, 1), "keyword_argument")) {
      argument = ancestor_at(ancestors, 1);
      argument_depth = 1;
      use.keyword = std::string(node_text(field(argument, "name"), src_));
    }
    TSNode arguments = ancestor_at(ancestors, argument_depth + 1);
    TSNode call = ancestor_at(ancestors, argument_depth + 2);
    std::string callee = resolve(field(call, "function"));
    if (use.keyword.empty()) {
      int position = 0;
      for (TSNode other : named_children(arguments)) {
        if (ts_node_eq(other, argument)) break;
        if (is(other, "keyword_argument") || is(other, "comment")) continue;
        // After *xs, the slot an argument lands in is not known.
        position = is(other, "list_splat") || is(other, "dictionary_splat") ? -1000 : position + 1;
      }
      use.position = position;
    }
    use.kind = UseKind::passed;
    use.callee = callee;
    if (callee.empty() || use.position < -1) {
      use.kind = UseKind::refused;
      use.why = "passed to `" + std::string(node_text(field(call, "function"), src_)) +
                "`, which the rewrite cannot follow";
    }
    return use;
  }

  const ModuleFacts& facts_;
  std::string_view src_;
  TSNode root_;
  bool may_build_client_;  // the text has the word TestClient
  FileFacts out_;
  std::set<std::string> module_clients_;
};

}  // namespace

bool is_test_client(const std::string& qualified) {
  return qualified == "fastapi.testclient.TestClient" ||
         qualified == "starlette.testclient.TestClient";
}

bool is_pytest_fixture_decorator(const std::string& qualified) {
  return qualified == "pytest.fixture" || qualified == "pytest_asyncio.fixture" ||
         qualified == "_pytest.fixtures.fixture";
}

std::string normal_path(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

const FunctionInfo* FileFacts::function(const std::string& qualified) const {
  for (const FunctionInfo& fn : functions) {
    if (fn.qualified == qualified) return &fn;
  }
  return nullptr;
}

FileFacts read_file_facts(const ModuleFacts& facts, std::string_view text, TSNode root) {
  return Reader(facts, text, root).read();
}

}  // namespace awaitify::aw80x
