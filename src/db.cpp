#include "awaitify/db.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify::db {

namespace {

template <size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// Methods of a legacy Query that Select has under the same name: the chain keeps them.
bool is_chain_method(std::string_view method) {
  static constexpr std::array<std::string_view, 19> kNames{
      "filter",      "filter_by",       "where",    "order_by",
      "limit",       "offset",          "join",     "outerjoin",
      "options",     "distinct",        "group_by", "having",
      "select_from", "with_entities",   "params",   "execution_options",
      "correlate",   "with_for_update", "as_scalar"};
  return one_of(method, kNames);
}

bool is_terminal(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kNames{
      "all", "first", "one", "one_or_none", "scalar", "count", "get", "delete", "update"};
  return one_of(method, kNames);
}

// Methods that turn a query into a clause without running it.
bool is_clause_method(std::string_view method) {
  static constexpr std::array<std::string_view, 4> kNames{"subquery", "scalar_subquery", "cte",
                                                          "exists"};
  return one_of(method, kNames);
}

TSNode unparenthesized_parent(TSNode node) {
  TSNode parent = ts_node_parent(node);
  while (is(parent, "parenthesized_expression")) parent = ts_node_parent(parent);
  return parent;
}

// One mapped entity (`X`, `models.X`) rather than columns (`X.id`, `func.count()`): a name
// whose last part is capitalised, by convention the class of a model.
bool looks_like_entity(TSNode argument, std::string_view src) {
  std::string dotted = dotted_name(argument, src);
  if (dotted.empty()) return false;
  std::string last = dotted.substr(dotted.rfind('.') + 1);
  return !last.empty() && std::isupper(static_cast<unsigned char>(last[0]));
}

int entity_count(TSNode call, std::string_view src) {
  std::vector<TSNode> positional;
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "keyword_argument") || is(argument, "comment")) continue;
    if (is(argument, "list_splat")) return -1;
    positional.push_back(argument);
  }
  if (positional.size() == 1 && looks_like_entity(positional[0], src)) return 1;
  return static_cast<int>(positional.size()) == 1 ? 0 : static_cast<int>(positional.size());
}

bool has_string_argument(TSNode call) {
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "string") || is(argument, "concatenated_string")) return true;
  }
  return false;
}

class ChainFinder {
 public:
  ChainFinder(const FunctionScope& scope, std::vector<QueryChain>& out)
      : scope_(scope), out_(out) {}

  void visit(TSNode node, int depth = 0) {
    // Deeper than any real chain: stop rather than exhaust the stack.
    if (depth > kMaxDepth) return;
    if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda") ||
        is(node, "decorated_definition")) {
      return;
    }
    if (is(node, "assignment")) return visit_assignment(node, depth);
    if (auto chain = start_at(node)) out_.push_back(*chain);
    for (TSNode child : named_children(node)) visit(child, depth + 1);
  }

  void visit_body(TSNode def) {
    for (TSNode child : named_children(field(def, "body"))) visit(child);
  }

 private:
  struct Variable {
    std::string session;
    int entities = -1;
  };

  static constexpr int kMaxDepth = 500;

  void visit_assignment(TSNode node, int depth) {
    TSNode left = field(node, "left");
    TSNode right = field(node, "right");
    if (!ts_node_is_null(right)) visit(right, depth + 1);
    if (!is(left, "identifier")) {
      if (!ts_node_is_null(left)) visit(left, depth + 1);
      return;
    }
    std::string name(node_text(left, scope_.src));
    const QueryChain* chain = chain_ending_at(right);
    if (chain && !chain->runs() && chain->unsupported.empty() && !ends_in_clause(*chain)) {
      variables_[name] = Variable{chain->session, chain->entities};
    } else {
      variables_.erase(name);
    }
  }

  bool ends_in_clause(const QueryChain& chain) const {
    TSNode parent = ts_node_parent(chain.top);
    return is(parent, "attribute") &&
           is_clause_method(node_text(field(parent, "attribute"), scope_.src));
  }

  const QueryChain* chain_ending_at(TSNode node) const {
    if (ts_node_is_null(node)) return nullptr;
    for (auto it = out_.rbegin(); it != out_.rend(); ++it) {
      if (ts_node_eq(it->top, node)) return &*it;
    }
    return nullptr;
  }

  // A chain starts at `S.query(...)`, at a query variable, or at a call of a query helper.
  std::optional<QueryChain> start_at(TSNode node) {
    QueryChain chain;
    chain.start = node;
    if (is(node, "call")) {
      TSNode function = field(node, "function");
      if (!is(function, "attribute")) return helper_call(node, function);
      std::string object(node_text(field(function, "object"), scope_.src));
      std::string method(node_text(field(function, "attribute"), scope_.src));
      if (method == "query" && scope_.sessions.count(object)) {
        chain.head = node;
        chain.session = object;
        chain.entities = entity_count(node, scope_.src);
        return climb(chain);
      }
      return helper_call(node, function);
    }
    if (is(node, "identifier")) {
      auto variable = variables_.find(std::string(node_text(node, scope_.src)));
      if (variable == variables_.end()) return std::nullopt;
      TSNode parent = ts_node_parent(node);
      // The name being bound, a keyword, or an attribute name is not a use of the variable.
      if (is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node))
        return std::nullopt;
      if (is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node))
        return std::nullopt;
      chain.session = variable->second.session;
      chain.entities = variable->second.entities;
      return climb(chain);
    }
    return std::nullopt;
  }

  std::optional<QueryChain> helper_call(TSNode call, TSNode function) {
    if (!scope_.helpers) return std::nullopt;
    std::string dotted = dotted_name(function, scope_.src);
    std::string qualified;
    if (dotted.rfind("self.", 0) == 0 && !scope_.class_name.empty()) {
      qualified = scope_.class_name + "." + dotted.substr(5);
    }
    auto helper = scope_.helpers->find(qualified);
    if (qualified.empty() || helper == scope_.helpers->end()) return std::nullopt;
    QueryChain chain;
    chain.start = call;
    // The helper's query runs on its own `self.<attribute>`, which this method shares.
    chain.session = helper->second.session.rfind("self.", 0) == 0 ? helper->second.session : "";
    chain.entities = helper->second.entities;
    return climb(chain);
  }

  QueryChain climb(QueryChain chain) {
    TSNode node = chain.start;
    for (;;) {
      TSNode parent = ts_node_parent(node);
      TSNode grandparent = ts_node_parent(parent);
      bool method_call = is(parent, "attribute") && ts_node_eq(field(parent, "object"), node) &&
                         is(grandparent, "call") &&
                         ts_node_eq(field(grandparent, "function"), parent);
      if (!method_call) break;
      std::string method(node_text(field(parent, "attribute"), scope_.src));
      if (is_chain_method(method)) {
        bool string_target = (method == "join" || method == "outerjoin" || method == "options" ||
                              method == "select_from") &&
                             has_string_argument(grandparent);
        if (string_target) {
          chain.unsupported = method + "() with a string argument";
          chain.unsupported_call = grandparent;
          node = grandparent;
          break;
        }
        if (method == "with_entities") chain.entities = entity_count(grandparent, scope_.src);
        if (method == "options" &&
            node_text(field(grandparent, "arguments"), scope_.src).find("joinedload") !=
                std::string_view::npos) {
          chain.joined_eager = true;
        }
        chain.links.push_back(grandparent);
        node = grandparent;
        continue;
      }
      if (is_terminal(method)) {
        chain.terminal = method;
        chain.terminal_call = grandparent;
        node = grandparent;
        break;
      }
      if (!is_clause_method(method)) {
        chain.unsupported = method + "()";
        chain.unsupported_call = grandparent;
        node = grandparent;
      }
      break;
    }
    chain.top = node;
    if (chain.terminal.empty() && chain.unsupported.empty()) {
      TSNode parent = unparenthesized_parent(node);
      bool loop = (is(parent, "for_statement") || is(parent, "for_in_clause")) &&
                  ts_node_eq(field(parent, "right"), node);
      chain.iterated = loop;
    }
    return chain;
  }

  const FunctionScope& scope_;
  std::vector<QueryChain>& out_;
  std::map<std::string, Variable> variables_;
};

}  // namespace

bool is_async_session_io(std::string_view method) {
  // query() chains are AW103's; bulk_* methods, which AsyncSession lacks, run through run_sync.
  return method != "query" && is_session_io_method(method);
}

std::set<std::string> session_names(const ModuleFacts& facts, TSNode def, std::string_view src,
                                    const std::string& class_name, const ProjectIndex* index,
                                    const SessionParameters* known) {
  const std::set<std::string>* asked = nullptr;
  if (known && !index) {
    if (auto kept = known->find(def.id); kept != known->end()) asked = &kept->second;
  }
  std::set<std::string> names = asked ? *asked : session_parameters(facts, def, src, index);
  if (class_name.empty()) return names;
  auto cls = facts.classes.find(class_name.substr(class_name.rfind('.') + 1));
  if (cls == facts.classes.end()) return names;
  for (const auto& [attribute, type] : cls->second.attributes) {
    std::string resolved = index ? index->alias_target(type) : type;
    if (is_sync_session_type(resolved) || is_sync_session_type(type))
      names.insert("self." + attribute);
  }
  return names;
}

std::vector<QueryChain> query_chains(TSNode def, const FunctionScope& scope) {
  std::vector<QueryChain> chains;
  if (scope.sessions.empty() && (!scope.helpers || scope.helpers->empty())) return chains;
  ChainFinder finder(scope, chains);
  finder.visit_body(def);
  return chains;
}

std::vector<TSNode> session_io_calls(TSNode def, const FunctionScope& scope) {
  std::vector<TSNode> calls;
  if (scope.sessions.empty()) return calls;
  walk(field(def, "body"), [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
      return false;
    if (!is(node, "call")) return true;
    TSNode function = field(node, "function");
    if (!is(function, "attribute")) return true;
    std::string object(node_text(field(function, "object"), scope.src));
    if (scope.sessions.count(object) &&
        is_async_session_io(node_text(field(function, "attribute"), scope.src))) {
      calls.push_back(node);
    }
    return true;
  });
  return calls;
}

bool awaits_under_async_session(TSNode def, const FunctionScope& scope) {
  if (!session_io_calls(def, scope).empty()) return true;
  for (const QueryChain& chain : query_chains(def, scope)) {
    if (chain.runs() && !chain.session.empty()) return true;
  }
  return false;
}

std::string session_blocker(TSNode def, const FunctionScope& scope) {
  std::string blocker;
  for (TSNode call : session_io_calls(def, scope)) {
    std::string method(node_text(field(field(call, "function"), "attribute"), scope.src));
    std::string where = " at line " + std::to_string(ts_node_start_point(call).row + 1);
    std::string spelled = "`" + std::string(node_text(field(call, "function"), scope.src)) + "()`";
    // `db.connection(execution_options=...)` as a statement sets the transaction up and uses
    // nothing it returns: awaited, it is the same.
    bool statement = is(ts_node_parent(call), "expression_statement");
    if (method == "connection" && !statement) {
      blocker = spelled + where +
                " hands out a Connection whose calls would need awaits too (migrate it by hand: "
                "`connection = await db.connection()`, then `await connection.execute(...)`)";
    } else if (!ts_node_is_null(with_statement_of(call)) && method != "begin" &&
               method != "begin_nested") {
      blocker = "`with " + spelled.substr(1) + where + " has no async form the engine knows";
    }
    if (!blocker.empty()) break;
  }
  return blocker;
}

namespace {

bool is_loader_name(std::string_view name) {
  return name == "selectinload" || name == "joinedload" || name == "subqueryload" ||
         name == "immediateload";
}

// `selectinload(X.rel)` as imported from sqlalchemy.orm (resolved), or the same method on the
// loader a call returns (`selectinload(X.a).selectinload(Y.b)`, which has no name to resolve).
bool is_loader_option(const std::string& resolved, const std::string& dotted,
                      std::string_view name) {
  if (!is_loader_name(name)) return false;
  if (dotted.empty()) return true;
  std::string module = resolved.substr(0, resolved.rfind('.'));
  return module == "sqlalchemy.orm" || module == "sqlalchemy.orm.strategy_options";
}

void add_once(std::vector<std::string>& list, std::string value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end())
    list.push_back(std::move(value));
}

}  // namespace

ModelLoads model_loads(TSNode def, const FunctionScope& scope,
                       const std::function<std::string(const std::string&)>& resolve) {
  ModelLoads loads;
  if (scope.sessions.empty()) return loads;
  walk(field(def, "body"), [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
      return false;
    if (!is(node, "call")) return true;
    TSNode function = field(node, "function");
    TSNode first = ts_node_named_child(field(node, "arguments"), 0);
    std::string dotted = dotted_name(function, scope.src);
    std::string_view name = is(function, "attribute")
                                ? node_text(field(function, "attribute"), scope.src)
                                : node_text(function, scope.src);
    std::string target = resolve(dotted);
    if (is_loader_option(target, dotted, name)) {
      for (TSNode argument : named_children(field(node, "arguments"))) {
        if (is(argument, "attribute"))
          add_once(loads.eager, resolve(dotted_name(argument, scope.src)));
      }
      return true;
    }
    if (ts_node_is_null(first)) return true;
    bool select = target == "sqlalchemy.select" || target == "sqlmodel.select" ||
                  target == "sqlalchemy.future.select";
    bool session_load =
        is(function, "attribute") &&
        scope.sessions.count(std::string(node_text(field(function, "object"), scope.src))) &&
        (name == "get" || name == "get_one" || name == "query");
    if (select || session_load) add_once(loads.models, resolve(dotted_name(first, scope.src)));
    return true;
  });
  return loads;
}

QueryHelpers find_query_helpers(const ModuleFacts& facts, TSNode root, std::string_view src,
                                const SessionParameters* known) {
  QueryHelpers helpers;
  auto consider = [&](TSNode def, const std::string& class_name) {
    FunctionScope scope{session_names(facts, def, src, class_name, nullptr, known), class_name,
                        nullptr, src};
    if (scope.sessions.empty()) return;
    std::vector<QueryChain> chains = query_chains(def, scope);
    for (const QueryChain& chain : chains) {
      if (chain.runs() || !chain.unsupported.empty() || chain.session.empty()) continue;
      TSNode parent = unparenthesized_parent(chain.top);
      bool returned = is(parent, "return_statement");
      if (!returned && is(chain.top, "identifier")) returned = is(parent, "return_statement");
      if (returned) {
        std::string name(node_text(field(def, "name"), src));
        std::string owner = class_name.empty() ? facts.module : class_name;
        helpers[owner + "." + name] = QueryHelper{chain.session, chain.entities};
      }
    }
  };
  for (TSNode child : named_children(root)) {
    auto def = definition_of(child);
    if (def) {
      consider(*def, "");
      continue;
    }
    if (!is(child, "class_definition")) continue;
    std::string class_name = facts.module + "." + std::string(node_text(field(child, "name"), src));
    for (TSNode member : named_children(field(child, "body"))) {
      if (auto method = definition_of(member)) consider(*method, class_name);
    }
  }
  return helpers;
}

}  // namespace awaitify::db
