#include "awaitify/lazy_load.hpp"

#include <optional>
#include <set>

#include "awaitify/async_api.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

constexpr std::string_view kEagerOptions[] = {"selectinload", "joinedload", "subqueryload",
                                              "immediateload", "contains_eager"};

bool mentions_eager_loading(std::string_view text) {
  for (std::string_view option : kEagerOptions) {
    if (text.find(option) != std::string_view::npos) return true;
  }
  return false;
}

bool is_relationship_call(const std::string& callee) {
  return callee == "sqlalchemy.orm.relationship" ||
         callee == "sqlalchemy.orm.relationships.relationship" || callee == "sqlmodel.Relationship";
}

bool is_select(const std::string& callee) {
  return callee == "sqlalchemy.select" || callee == "sqlalchemy.future.select" ||
         callee == "sqlmodel.select" || callee == "sqlalchemy.sql.expression.select";
}

struct Loaded {
  std::string model;
  bool eager = false;
};

// Walks one async body in document order, tracking which names hold model objects.
class Tracker {
 public:
  Tracker(std::string_view src, const ProjectIndex& index, const Relationships& relationships,
          const std::function<std::string(const std::string&)>& resolve)
      : src_(src), index_(index), relationships_(relationships), resolve_(resolve) {}

  std::vector<LazyRead> run(TSNode body) {
    walk(body, [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "class_definition")) return false;
      if (is(node, "assignment")) on_assignment(node);
      if (is(node, "for_statement")) on_for(node);
      if (is(node, "list_comprehension") || is(node, "set_comprehension") ||
          is(node, "dictionary_comprehension") || is(node, "generator_expression")) {
        // The loop variables first: the body comes before the `for` in the text.
        for (TSNode clause : named_children(node)) {
          if (is(clause, "for_in_clause")) on_for(clause);
        }
      }
      if (is(node, "call")) on_refresh(node);
      if (is(node, "attribute")) on_attribute(node);
      return true;
    });
    return reads_;
  }

 private:
  std::string model_of(TSNode expression) const {
    std::string qualified = index_.canonical(resolve_(dotted_name(expression, src_)));
    return relationships_.classes.count(qualified) ? qualified : std::string();
  }

  // select(Model)... with its options; nullopt when it is not a select of a model.
  std::optional<Loaded> statement(TSNode expression) const {
    std::optional<Loaded> found;
    walk(expression, [&](TSNode node) {
      if (found) return false;
      if (is(node, "call") && is_select(resolve_(dotted_name(field(node, "function"), src_)))) {
        std::string model = model_of(ts_node_named_child(field(node, "arguments"), 0));
        if (!model.empty()) found = Loaded{model, false};
      }
      if (is(node, "identifier")) {
        auto it = statements_.find(std::string(node_text(node, src_)));
        if (it != statements_.end()) found = it->second;
      }
      return !found;
    });
    if (found) found->eager |= mentions_eager_loading(node_text(expression, src_));
    return found;
  }

  // `await session.get(Model, id)`, `await session.execute(select(Model)...)`, ...
  std::optional<Loaded> async_load(TSNode expression) const {
    std::optional<Loaded> found;
    walk(expression, [&](TSNode node) {
      if (found || !is(node, "await")) return !found;
      TSNode call = ts_node_named_child(node, 0);
      if (!is(call, "call") || !is(field(call, "function"), "attribute")) return true;
      std::string target = resolve_(dotted_name(field(call, "function"), src_));
      std::string method = target.substr(target.rfind('.') + 1);
      if (target.find('.') == std::string::npos ||
          known_type(index_, target.substr(0, target.rfind('.'))) != "AsyncSession")
        return true;
      TSNode first = ts_node_named_child(field(call, "arguments"), 0);
      if (method == "get" || method == "get_one") {
        std::string model = model_of(first);
        if (!model.empty()) found = Loaded{model, mentions_eager_loading(node_text(call, src_))};
      } else if (method == "execute" || method == "scalars" || method == "scalar" ||
                 method == "exec") {
        if (!ts_node_is_null(first)) found = statement(first);
      }
      return !found;
    });
    return found;
  }

  void on_assignment(TSNode assignment) {
    TSNode left = field(assignment, "left");
    TSNode right = field(assignment, "right");
    if (!is(left, "identifier") || ts_node_is_null(right)) return;
    std::string name(node_text(left, src_));
    loaded_.erase(name);
    statements_.erase(name);
    if (auto load = async_load(right)) {
      loaded_[name] = *load;
    } else if (auto root = root_name(right); root && loaded_.count(*root)) {
      loaded_[name] = loaded_[*root];  // user = result.scalar_one()
    } else if (auto stmt = statement(right); stmt && !has_await(right)) {
      statements_[name] = *stmt;
    }
  }

  void on_for(TSNode loop) {
    TSNode left = field(loop, "left");
    auto root = root_name(field(loop, "right"));
    if (is(left, "identifier") && root && loaded_.count(*root))
      loaded_[std::string(node_text(left, src_))] = loaded_[*root];
  }

  // `await session.refresh(user, ["items"])` loads those relationships.
  void on_refresh(TSNode call) {
    TSNode function = field(call, "function");
    if (!is(function, "attribute") || node_text(field(function, "attribute"), src_) != "refresh")
      return;
    TSNode first = ts_node_named_child(field(call, "arguments"), 0);
    if (!is(first, "identifier")) return;
    auto it = loaded_.find(std::string(node_text(first, src_)));
    if (it == loaded_.end()) return;
    if (ts_node_named_child_count(field(call, "arguments")) == 1)
      it->second.eager = true;  // refreshes everything
    else
      refreshed_.insert(it->first + "." + std::string(node_text(field(call, "arguments"), src_)));
  }

  void on_attribute(TSNode attribute) {
    TSNode object = field(attribute, "object");
    if (!is(object, "identifier")) return;
    std::string variable(node_text(object, src_));
    auto it = loaded_.find(variable);
    if (it == loaded_.end() || it->second.eager) return;
    std::string name(node_text(field(attribute, "attribute"), src_));
    const auto& relations = relationships_.classes.at(it->second.model);
    auto relation = relations.find(name);
    if (relation == relations.end() || relation->second) return;
    TSNode parent = ts_node_parent(attribute);
    if (is(parent, "assignment") && ts_node_eq(field(parent, "left"), attribute))
      return;  // a write
    for (const std::string& refreshed : refreshed_) {
      if (refreshed.rfind(variable + ".", 0) == 0 &&
          refreshed.find("\"" + name + "\"") != std::string::npos)
        return;
      if (refreshed.rfind(variable + ".", 0) == 0 &&
          refreshed.find("'" + name + "'") != std::string::npos)
        return;
    }
    if (!reported_.insert(variable + "." + name).second) return;
    reads_.push_back({attribute, variable, it->second.model, name});
  }

  std::optional<std::string> root_name(TSNode expression) const {
    TSNode node = expression;
    while (!ts_node_is_null(node)) {
      if (is(node, "identifier")) return std::string(node_text(node, src_));
      if (is(node, "call"))
        node = field(node, "function");
      else if (is(node, "attribute"))
        node = field(node, "object");
      else if (is(node, "subscript"))
        node = field(node, "value");
      else
        return std::nullopt;
    }
    return std::nullopt;
  }

  bool has_await(TSNode expression) const {
    bool found = false;
    walk(expression, [&](TSNode node) {
      found |= is(node, "await");
      return !found;
    });
    return found;
  }

  std::string_view src_;
  const ProjectIndex& index_;
  const Relationships& relationships_;
  const std::function<std::string(const std::string&)>& resolve_;
  std::map<std::string, Loaded> loaded_;
  std::map<std::string, Loaded> statements_;
  std::set<std::string> refreshed_;
  std::set<std::string> reported_;
  std::vector<LazyRead> reads_;
};

}  // namespace

namespace {

// `relationship("Book")` / `relationship(Book)`, else the class in `Mapped[list["Book"]]`.
std::string relationship_target(const ModuleFacts& facts, TSNode assignment, TSNode call,
                                std::string_view src) {
  TSNode first = ts_node_named_child(field(call, "arguments"), 0);
  if (is(first, "string")) {
    std::string text(node_text(first, src));
    return text.size() > 2 ? text.substr(1, text.size() - 2) : std::string();
  }
  if (is(first, "identifier") || is(first, "attribute"))
    return facts.resolve(dotted_name(first, src));
  TSNode type = field(assignment, "type");
  if (ts_node_is_null(type)) return {};
  std::string found;
  walk(type, [&](TSNode node) {
    if (is(node, "string")) {
      std::string text(node_text(node, src));
      if (text.size() > 2) found = text.substr(1, text.size() - 2);
      return false;
    }
    if (is(node, "identifier")) {
      // The class, not the wrappers around it (Mapped, List/list, Optional, Set/set).
      std::string resolved = facts.resolve(std::string(node_text(node, src)));
      bool wrapper = resolved.empty();
      for (const char* library : {"builtins.", "typing.", "sqlalchemy.", "collections."})
        wrapper = wrapper || resolved.rfind(library, 0) == 0;
      if (!wrapper) found = resolved;
    }
    return true;
  });
  return found;
}

}  // namespace

void Relationships::collect(const ModuleFacts& facts, TSNode root, std::string_view src) {
  for (TSNode statement : named_children(root)) {
    TSNode cls = is(statement, "decorated_definition") ? field(statement, "definition") : statement;
    if (!is(cls, "class_definition")) continue;
    std::string qualified = facts.module + "." + std::string(node_text(field(cls, "name"), src));
    for (TSNode line : named_children(field(cls, "body"))) {
      TSNode assignment = ts_node_named_child(line, 0);
      if (!is(line, "expression_statement") || !is(assignment, "assignment")) continue;
      TSNode left = field(assignment, "left");
      TSNode right = field(assignment, "right");
      if (!is(left, "identifier") || !is(right, "call")) continue;
      if (!is_relationship_call(facts.resolve(dotted_name(field(right, "function"), src))))
        continue;
      std::string_view text = node_text(right, src);
      // lazy="dynamic"/"write_only" attributes are query objects, "noload" never loads: reading
      // them does no I/O.
      if (text.find("dynamic") != std::string_view::npos ||
          text.find("write_only") != std::string_view::npos ||
          text.find("noload") != std::string_view::npos) {
        continue;
      }
      bool eager = false;
      for (std::string_view lazy : {"selectin", "joined", "subquery", "immediate"}) {
        eager |= text.find(lazy) != std::string_view::npos;
      }
      classes[qualified][std::string(node_text(left, src))] = eager;
      std::string target = relationship_target(facts, assignment, right, src);
      if (!target.empty()) targets[qualified][std::string(node_text(left, src))] = target;
    }
  }
}

void Relationships::merge(const Relationships& other) {
  for (const auto& [cls, relations] : other.classes)
    classes[cls].insert(relations.begin(), relations.end());
  for (const auto& [cls, relations] : other.targets)
    targets[cls].insert(relations.begin(), relations.end());
}

std::vector<LazyRead> lazy_relationship_reads(
    TSNode body, std::string_view src, const ProjectIndex& index,
    const Relationships& relationships,
    const std::function<std::string(const std::string&)>& resolve) {
  if (relationships.classes.empty()) return {};
  return Tracker(src, index, relationships, resolve).run(body);
}

}  // namespace awaitify
