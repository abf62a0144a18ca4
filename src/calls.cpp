#include "awaitify/calls.hpp"

#include <utility>

#include "awaitify/knowledge.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

// The types the scope scanner tests each node against (NodeType: by symbol, not by name).
struct ScannedTypes {
  NodeType function_definition{"function_definition"}, assignment{"assignment"},
      as_pattern{"as_pattern"}, call{"call"}, yield{"yield"}, identifier{"identifier"},
      lambda{"lambda"}, generator_expression{"generator_expression"},
      list_comprehension{"list_comprehension"}, set_comprehension{"set_comprehension"},
      dictionary_comprehension{"dictionary_comprehension"}, class_definition{"class_definition"},
      if_statement{"if_statement"}, string{"string"};
};

// Whether a string literal can hold code: only an f-string has interpolations. A prefix of
// r, b and u letters only is a plain string; anything else is looked into.
bool may_hold_code(TSNode string, std::string_view src) {
  for (char c : node_text(string, src)) {
    if (c == '"' || c == '\'') return false;
    if (c != 'r' && c != 'R' && c != 'b' && c != 'B' && c != 'u' && c != 'U') return true;
  }
  return true;
}

// Whether anything below a node can matter to the scan: a call or a definition needs a '(', an
// assignment (which may rebind a local) an '=' or, bare (`x: int`), a ':', a generator a
// `yield`. A node whose text holds none of them is not walked into: many of a file's nodes are
// below such nodes (names, attribute chains, conditions, literals), and each step of the walk
// costs more than a look at the bytes. Each look ends at the first byte that may matter.
bool may_hold_scanned_code(TSNode node, std::string_view src) {
  std::string_view text = node_text(node, src);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '(' || c == '=' || c == ':') return true;
    if (c == 'y' && text.compare(i, 5, "yield") == 0) return true;
  }
  return false;
}

const ScannedTypes& scanned() {
  static const ScannedTypes types;
  return types;
}

bool is_main_guard(TSNode if_statement, std::string_view src) {
  std::string condition(node_text(field(if_statement, "condition"), src));
  std::string compact;
  for (char c : condition) {
    if (c != ' ' && c != '\'' && c != '"') compact += c;
  }
  return compact == "__name__==__main__" || compact == "__main__==__name__";
}

// The call that receives node as an argument, if any.
TSNode receiving_call(TSNode node) {
  TSNode parent = ts_node_parent(node);
  if (is(parent, "keyword_argument")) parent = ts_node_parent(parent);
  if (!is(parent, "argument_list")) return TSNode{};
  return ts_node_parent(parent);
}

bool is_awaited(TSNode node) {
  TSNode parent = ts_node_parent(node);
  while (is(parent, "parenthesized_expression")) parent = ts_node_parent(parent);
  return is(parent, "await");
}

}  // namespace

const char* describe(CallContext context) {
  switch (context) {
    case CallContext::plain:
      return "a function body";
    case CallContext::lambda:
      return "a lambda";
    case CallContext::generator:
      return "a generator expression";
    case CallContext::comprehension:
      return "a comprehension";
    case CallContext::class_body:
      return "a class body";
    case CallContext::default_argument:
      return "a parameter default";
    case CallContext::main_guard:
      return "the __main__ block";
    case CallContext::module_level:
      return "module-level code";
  }
  return "";
}

ScopeScanner::ScopeScanner(const ModuleFacts& facts, std::string_view src, std::string scope,
                           std::string self_class, std::set<std::string> sessions,
                           bool module_scope)
    : facts_(facts),
      src_(src),
      scope_(std::move(scope)),
      self_class_(std::move(self_class)),
      sessions_(std::move(sessions)),
      module_scope_(module_scope) {}

std::string ScopeScanner::resolve(const std::string& dotted) const {
  if (dotted.empty()) return {};
  size_t dot = dotted.find('.');
  std::string_view first = std::string_view(dotted).substr(0, dot);
  std::string_view rest =
      dot == std::string::npos ? std::string_view() : std::string_view(dotted).substr(dot);
  if (!rest.empty() && !locals_.empty()) {
    if (auto local = locals_.find(first); local != locals_.end()) {
      std::string resolved;
      resolved.reserve(local->second.size() + rest.size());
      return resolved.append(local->second).append(rest);
    }
  }
  if (first == "self" && !self_class_.empty() && !rest.empty()) {
    // `self.db.query`: an attribute whose type __init__ tells.
    std::string class_name = self_class_.substr(self_class_.rfind('.') + 1);
    auto cls = facts_.classes.find(class_name);
    size_t second = rest.find('.', 1);
    if (cls != facts_.classes.end() && second != std::string::npos) {
      auto attribute = cls->second.attributes.find(std::string(rest.substr(1, second - 1)));
      if (attribute != cls->second.attributes.end())
        return attribute->second + std::string(rest.substr(second));
    }
    return self_class_ + std::string(rest);
  }
  if (first == "cls" && !self_class_.empty() && !rest.empty())
    return self_class_ + std::string(rest);
  return facts_.resolve(dotted);
}

ScopeScanner::Level ScopeScanner::deeper(const Level& outer, TSNode node) const {
  const ScannedTypes& types = scanned();
  TSSymbol symbol = ts_node_symbol(node);
  Level level = outer;
  if (types.lambda.of(symbol))
    level.enclosing = CallContext::lambda;
  else if (types.generator_expression.of(symbol))  // eager ones become list comprehensions
    level.enclosing =                              // (context_of)
        is_eager_generator(node, src_) ? CallContext::comprehension : CallContext::generator;
  else if (types.list_comprehension.of(symbol) || types.set_comprehension.of(symbol) ||
           types.dictionary_comprehension.of(symbol))
    level.enclosing = CallContext::comprehension;
  else if (types.class_definition.of(symbol))
    level.enclosing = CallContext::class_body;
  else if (module_scope_ && types.if_statement.of(symbol) && is_main_guard(node, src_))
    level.main_guard = true;
  return level;
}

void ScopeScanner::track_levels(const std::vector<TSNode>& ancestors) {
  // A walk visits a node before its children: only the last ancestor can be new.
  if (levels_.size() > ancestors.size()) levels_.resize(ancestors.size());
  while (levels_.size() < ancestors.size()) {
    size_t i = levels_.size();
    levels_.push_back(i == 0 ? Level{} : deeper(levels_[i - 1], ancestors[i]));
  }
}

TSNode ScopeScanner::ancestor(size_t up) const {
  if (!ancestors_ || up == 0 || up > ancestors_->size()) return TSNode{};
  return (*ancestors_)[ancestors_->size() - up];
}

// is_awaited and receiving_call for the node scan() is visiting.
bool ScopeScanner::awaited_here(TSNode) const {
  size_t up = 1;
  while (is(ancestor(up), "parenthesized_expression")) ++up;
  return is(ancestor(up), "await");
}

TSNode ScopeScanner::receiving_call_here(TSNode) const {
  size_t up = 1;
  if (is(ancestor(up), "keyword_argument")) ++up;
  if (!is(ancestor(up), "argument_list")) return TSNode{};
  return ancestor(up + 1);
}

CallContext ScopeScanner::context_of(TSNode node) const {
  if (ancestors_) {
    // node is the visited call or one of its arguments (between them: argument_list,
    // keyword_argument, list or tuple, which change nothing).
    const Level& level = levels_.back();
    if (level.enclosing) return *level.enclosing;
    if (level.main_guard) return CallContext::main_guard;
    return module_scope_ ? CallContext::module_level : CallContext::plain;
  }
  CallContext context = module_scope_ ? CallContext::module_level : CallContext::plain;
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up) && !ts_node_eq(up, root_);
       up = ts_node_parent(up)) {
    if (is(up, "lambda")) return CallContext::lambda;
    // A generator a builtin reads whole (`sum(f(x) for x in xs)`) becomes a list comprehension
    // when something in it must be awaited: for the closure it is one.
    if (is(up, "generator_expression")) {
      return is_eager_generator(up, src_) ? CallContext::comprehension : CallContext::generator;
    }
    if (is(up, "list_comprehension") || is(up, "set_comprehension") ||
        is(up, "dictionary_comprehension")) {
      return CallContext::comprehension;
    }
    if (is(up, "class_definition")) return CallContext::class_body;
    if (module_scope_ && is(up, "if_statement") && is_main_guard(up, src_)) {
      context = CallContext::main_guard;
    }
  }
  return context;
}

void ScopeScanner::track_assignment(TSNode assignment) {
  TSNode left = field(assignment, "left");
  TSNode right = field(assignment, "right");
  if (!is(left, "identifier")) return;
  std::string name(node_text(left, src_));
  std::string type = is(right, "call") ? resolve(dotted_name(field(right, "function"), src_)) : "";
  if (type.empty())
    locals_.erase(name);  // rebound to something else
  else
    locals_[name] = type;
}

void ScopeScanner::visit_arguments(TSNode call, const std::string& callee,
                                   const ScopeVisitor& visitor) {
  if (!visitor.reference) return;
  auto visit_value = [&](TSNode value) {
    if (!is(value, "identifier") && !is(value, "attribute")) return;
    std::string target = resolve(dotted_name(value, src_));
    if (target.empty()) return;
    visitor.reference(Site{value, std::move(target), false, false, context_of(value), callee});
  };
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "keyword_argument")) argument = field(argument, "value");
    if (is(argument, "list") || is(argument, "tuple")) {
      for (TSNode element : named_children(argument)) visit_value(element);
    } else {
      visit_value(argument);
    }
  }
}

bool ScopeScanner::handed_to_runner(TSNode call) const {
  TSNode receiver = ancestors_ ? receiving_call_here(call) : receiving_call(call);
  if (ts_node_is_null(receiver)) return false;
  TSNode function = field(receiver, "function");
  std::string target = resolve(dotted_name(function, src_));
  if (!target.empty()) return is_coroutine_runner(target);
  // `loop.run_until_complete(f())`, `tg.create_task(f())` on untyped objects.
  return is(function, "attribute") &&
         is_coroutine_runner_method(node_text(field(function, "attribute"), src_));
}

bool ScopeScanner::library_chain(TSNode object) const {
  // `db.query(X).filter(...)`, `self.db.query(X)...`: a chain built on a session or on a library
  // call returns library objects, never a project class.
  for (TSNode node = object; is(node, "call") || is(node, "attribute");) {
    if (is(node, "attribute")) {
      node = field(node, "object");
      continue;
    }
    TSNode function = field(node, "function");
    std::string dotted = dotted_name(function, src_);
    if (!dotted.empty()) {
      if (sessions_.count(dotted.substr(0, dotted.find('.')))) return true;
      std::string target = resolve(dotted);
      std::string owner = target.substr(0, target.rfind('.'));
      if (is_sync_session_type(owner) || target.rfind("sqlalchemy.", 0) == 0 ||
          target.rfind("sqlmodel.", 0) == 0) {
        return true;
      }
      return false;
    }
    node = function;
  }
  return false;
}

void ScopeScanner::visit_call(TSNode call, const ScopeVisitor& visitor) {
  TSNode function = field(call, "function");
  std::string dotted = dotted_name(function, src_);
  std::string target;
  bool blocking = false;
  size_t dot = dotted.find('.');
  std::string_view method = std::string_view(dotted).substr(dotted.rfind('.') + 1);
  if (dot != std::string::npos && !sessions_.empty() && sessions_.count(dotted.substr(0, dot)) &&
      is_session_io_method(method)) {
    target = "sqlalchemy.orm.Session." + std::string(method);
    blocking = true;
  } else {
    target = resolve(dotted);
    std::string_view owner = std::string_view(target).substr(0, target.rfind('.'));
    if (target.find('.') != std::string::npos && is_sync_session_type(owner) &&
        is_session_io_method(method)) {
      // self.db.query(...) on a typed attribute
      target = "sqlalchemy.orm.Session." + std::string(method);
      blocking = true;
    } else {
      blocking = !target.empty() && blocking_api(target).has_value();
    }
  }
  if (target.empty() && is(function, "attribute")) {
    TSNode object = field(function, "object");
    std::string method(node_text(field(function, "attribute"), src_));
    if (is(object, "call")) {
      // `ItemService(db).list()`: a method of the class just constructed.
      std::string type = resolve(dotted_name(field(object, "function"), src_));
      if (!type.empty()) target = type + "." + method;
    }
    if (target.empty() && visitor.unresolved_method && !library_chain(object)) {
      // passed_to carries the receiver's name, when it is a plain name, for the plan to judge.
      std::string receiver =
          is(object, "identifier") ? std::string(node_text(object, src_)) : std::string();
      visitor.unresolved_method(
          Site{call, method, false, awaited_here(call), context_of(call), receiver});
    }
  }
  if (!target.empty() && visitor.call) {
    Site site{call, target, blocking, awaited_here(call), context_of(call), {}};
    site.as_argument = handed_to_runner(call);
    visitor.call(site);
  }
  visit_arguments(call, target, visitor);
}

void ScopeScanner::visit_definition(TSNode def, const ScopeVisitor& visitor) {
  // Parameter defaults run here, in the enclosing scope, when the def is executed. Their own
  // walk does not keep ancestors: context_of looks them up.
  const std::vector<TSNode>* ancestors = std::exchange(ancestors_, nullptr);
  for (TSNode param : named_children(field(def, "parameters"))) {
    if (!is(param, "default_parameter") && !is(param, "typed_default_parameter")) continue;
    walk(field(param, "value"), [&](TSNode node) {
      if (is(node, "call")) {
        std::string target = resolve(dotted_name(field(node, "function"), src_));
        if (!target.empty() && visitor.call) {
          visitor.call(Site{node,
                            target,
                            blocking_api(target).has_value(),
                            is_awaited(node),
                            CallContext::default_argument,
                            {}});
        }
        visit_arguments(node, target, visitor);  // `db = Depends(get_db)`
      }
      return !is(node, "lambda");
    });
  }
  ancestors_ = ancestors;
  if (!visitor.definition) return;
  std::string class_name;
  size_t holder = 1;
  if (is(ancestor(holder), "decorated_definition")) ++holder;
  if (is(ancestor(holder), "block") && is(ancestor(holder + 1), "class_definition")) {
    std::string prefix = scope_;
    // Classes nested in classes: name the whole chain (below the body scanned).
    std::vector<std::string> names;
    for (size_t up = holder + 1; up < ancestors_->size(); ++up) {
      TSNode node = ancestor(up);
      if (is(node, "class_definition"))
        names.insert(names.begin(), std::string(node_text(field(node, "name"), src_)));
    }
    class_name = prefix;
    for (const std::string& name : names) class_name += (class_name.empty() ? "" : ".") + name;
  }
  visitor.definition(def, resolved_decorators(def, *this, src_), class_name);
}

void ScopeScanner::track_with_target(TSNode as_pattern) {
  // `with requests.Session() as s:` binds s to what the call returns (for a context manager
  // written as a class, the class itself in the common case).
  TSNode value = ts_node_named_child(as_pattern, 0);
  TSNode target = field(as_pattern, "alias");
  if (ts_node_is_null(target)) target = ts_node_named_child(as_pattern, 1);
  if (is(target, "as_pattern_target")) target = ts_node_named_child(target, 0);
  if (!is(value, "call") || !is(target, "identifier")) return;
  std::string type = resolve(dotted_name(field(value, "function"), src_));
  if (!type.empty()) locals_[std::string(node_text(target, src_))] = type;
}

void ScopeScanner::add_parameter_types(TSNode def) {
  for (TSNode param : named_children(field(def, "parameters"))) {
    if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
    TSNode name =
        is(param, "typed_parameter") ? ts_node_named_child(param, 0) : field(param, "name");
    std::string type = facts_.resolve(dotted_name(annotated_type(field(param, "type")), src_));
    if (!type.empty() && is(name, "identifier")) locals_[std::string(node_text(name, src_))] = type;
  }
}

void ScopeScanner::scan_function(TSNode def, const ScopeVisitor& visitor) {
  add_parameter_types(def);
  scan_body(field(def, "body"), visitor);
}

void ScopeScanner::scan(TSNode body, const ScopeVisitor& visitor) {
  TSNode owner = ts_node_parent(body);
  if (is(owner, "function_definition")) add_parameter_types(owner);
  scan_body(body, visitor);
}

void ScopeScanner::scan_body(TSNode body, const ScopeVisitor& visitor) {
  root_ = body;
  walk_with_ancestors(body, [&](TSNode node, const std::vector<TSNode>& ancestors) {
    // Punctuation and keywords: nothing below is looked at. Skipping a leaf keeps track_levels'
    // view right, since the next node visited is a sibling or higher.
    if (!is_named(node) && ts_node_child_count(node) == 0) return true;
    ancestors_ = &ancestors;
    track_levels(ancestors);
    const ScannedTypes& types = scanned();
    TSSymbol symbol = ts_node_symbol(node);
    if (types.function_definition.of(symbol)) {
      visit_definition(node, visitor);
      return false;
    }
    // The parts of a plain string literal (start, content, escapes, end) hold no code.
    if (types.string.of(symbol)) return may_hold_code(node, src_);
    if (types.assignment.of(symbol)) track_assignment(node);
    if (types.as_pattern.of(symbol)) track_with_target(node);
    if (types.call.of(symbol)) visit_call(node, visitor);
    if (visitor.yield && types.yield.of(symbol) &&
        std::none_of(ancestors.begin(), ancestors.end(),
                     [](TSNode up) { return is(up, "lambda") || is(up, "class_definition"); })) {
      visitor.yield(node);
    }
    bool uses_sessions = visitor.session_use && !sessions_.empty();
    if (uses_sessions && types.identifier.of(symbol) &&
        sessions_.count(std::string(node_text(node, src_)))) {
      TSNode parent = ancestor(1);
      bool attribute_name = is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node);
      bool keyword = is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node);
      if (!attribute_name && !keyword) visitor.session_use(node);
    }
    // A use of a session parameter is a name alone: with such parameters, everything is walked.
    return uses_sessions || ts_node_child_count(node) == 0 || may_hold_scanned_code(node, src_);
  });
  ancestors_ = nullptr;
  levels_.clear();
}

namespace {

struct PendingScope {
  ScopeInfo info;
  std::string self_class;
  std::set<std::string> sessions;
};

}  // namespace

void scan_file_scopes(const ModuleFacts& facts, TSNode root, std::string_view src,
                      const ProjectIndex* index,
                      const std::function<void(const ScopeInfo&)>& on_scope,
                      const std::function<void(const Site&, const ScopeInfo&)>& on_call) {
  std::vector<PendingScope> pending{{ScopeInfo{facts.module + ".<module>", TSNode{}}, "", {}}};
  while (!pending.empty()) {
    PendingScope scope = std::move(pending.back());
    pending.pop_back();
    if (on_scope) on_scope(scope.info);
    bool module_scope = scope.info.is_module();
    std::string name = module_scope ? facts.module : scope.info.qualified;
    ScopeScanner scanner(facts, src, name, scope.self_class, scope.sessions, module_scope);
    ScopeVisitor visitor;
    visitor.call = [&](const Site& site) {
      if (on_call) on_call(site, scope.info);
    };
    std::vector<PendingScope> nested;
    visitor.definition = [&](TSNode def, const std::vector<std::string>&,
                             const std::string& class_name) {
      std::string qualified = (class_name.empty() ? name : class_name) + "." +
                              std::string(node_text(field(def, "name"), src));
      nested.push_back(
          {ScopeInfo{qualified, def}, class_name, session_parameters(facts, def, src, index)});
    };
    if (module_scope)
      scanner.scan(root, visitor);
    else
      scanner.scan_function(scope.info.def, visitor);
    // Visit nested scopes in document order.
    pending.insert(pending.end(), nested.rbegin(), nested.rend());
  }
}

std::vector<std::string> resolved_decorators(TSNode def, const ScopeScanner& scope,
                                             std::string_view src) {
  std::vector<std::string> result;
  TSNode parent = scope.visited_parent();
  if (ts_node_is_null(parent)) parent = ts_node_parent(def);
  if (!is(parent, "decorated_definition")) return result;
  for (TSNode decorator : named_children(parent)) {
    if (!is(decorator, "decorator")) continue;
    TSNode expression = ts_node_named_child(decorator, 0);
    if (is(expression, "call")) expression = field(expression, "function");
    result.push_back(scope.resolve(dotted_name(expression, src)));
  }
  return result;
}

}  // namespace awaitify
