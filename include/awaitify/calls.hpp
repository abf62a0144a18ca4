#pragma once
// One scope's calls, as the index records them and as the closure pass finds them again: both
// go through this scanner, so "what does this call resolve to" has one answer.
#include <tree_sitter/api.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/index.hpp"

namespace awaitify {

struct Site {
  TSNode node;            // the call, or the name passed as a value
  std::string target;     // what it resolves to (qualified)
  bool blocking = false;  // a call the engine knows blocks the event loop
  bool awaited = false;
  CallContext context = CallContext::plain;
  std::string passed_to;  // for references: the call the name is an argument of
  // The call is handed to something that runs coroutines (`asyncio.gather(f())`,
  // `asyncio.run(main())`, `loop.run_until_complete(f())`): not a forgotten await.
  bool as_argument = false;
};

struct ScopeVisitor {
  std::function<void(const Site&)> call;
  std::function<void(const Site&)> reference;
  // A nested def (method when class_name is set) with its decorators resolved in this scope.
  std::function<void(TSNode def, const std::vector<std::string>& decorators,
                     const std::string& class_name)>
      definition;
  // `obj.name(...)` where obj's type is unknown: Site.target is just the method name.
  std::function<void(const Site&)> unresolved_method;
  // A use of a parameter holding a sync Session (blocking in itself).
  std::function<void(TSNode identifier)> session_use;
  // A `yield` of the scope itself (not of a lambda or class body in it): the scope is a
  // generator.
  std::function<void(TSNode yield)> yield;
};

class ScopeScanner {
 public:
  // scope: the qualified name of the scope (module, or function); self_class: the class of
  // `self` in a method; sessions: parameters holding a sync Session.
  ScopeScanner(const ModuleFacts& facts, std::string_view src, std::string scope,
               std::string self_class, std::set<std::string> sessions, bool module_scope);
  // Scans a body (a block, or the module node) in document order.
  void scan(TSNode body, const ScopeVisitor& visitor);
  // scan of a function's body, its definition known: not asked of ts_node_parent, which
  // searches down from the root.
  void scan_function(TSNode def, const ScopeVisitor& visitor);
  // Inside a visitor's callback: the parent of the node visited.
  TSNode visited_parent() const { return ancestor(1); }
  // What a dotted name used in this scope means, with the locals seen so far.
  std::string resolve(const std::string& dotted) const;

 private:
  void scan_body(TSNode body, const ScopeVisitor& visitor);
  void visit_definition(TSNode def, const ScopeVisitor& visitor);
  void visit_call(TSNode call, const ScopeVisitor& visitor);
  void visit_arguments(TSNode call, const std::string& callee, const ScopeVisitor& visitor);
  void track_assignment(TSNode assignment);
  // `service: BookService` makes `service.list()` a call of BookService.list.
  void add_parameter_types(TSNode def);
  void track_with_target(TSNode as_pattern);
  CallContext context_of(TSNode node) const;
  bool library_chain(TSNode object) const;
  bool handed_to_runner(TSNode call) const;
  // While scan() walks, each node's ancestors (from the body down) and what each level means
  // for the context of the code it holds, kept instead of asked of ts_node_parent, which
  // searches down from the root every time.
  struct Level {
    std::optional<CallContext> enclosing;  // the innermost lambda, comprehension, class body...
    bool main_guard = false;               // inside `if __name__ == "__main__":`
  };
  void track_levels(const std::vector<TSNode>& ancestors);
  Level deeper(const Level& outer, TSNode node) const;
  TSNode ancestor(size_t up) const;  // 1: the visited node's parent; null above the body
  bool awaited_here(TSNode call) const;
  TSNode receiving_call_here(TSNode call) const;

  const ModuleFacts& facts_;
  std::string_view src_;
  std::string scope_;
  std::string self_class_;
  std::set<std::string> sessions_;
  bool module_scope_;
  TSNode root_{};
  // `svc = ItemService(db)`: svc -> its class (looked up by views of names)
  std::map<std::string, std::string, std::less<>> locals_;
  const std::vector<TSNode>* ancestors_ = nullptr;
  std::vector<Level> levels_;  // levels_[i]: ancestors 1..i considered (0 is the body)
};

// One scope of a file, as scan_file_scopes visits it.
struct ScopeInfo {
  std::string qualified;  // module.<module> for module-level code, else the function's name
  TSNode def{};           // the function_definition; null for module-level code
  bool is_module() const { return ts_node_is_null(def); }
};

// Visits module-level code and then every function and method of a file (nested ones too),
// resolving calls exactly as the index did: on_scope for each scope before its calls, on_call
// for each call with the scope that makes it.
void scan_file_scopes(const ModuleFacts& facts, TSNode root, std::string_view src,
                      const ProjectIndex* index,
                      const std::function<void(const ScopeInfo&)>& on_scope,
                      const std::function<void(const Site&, const ScopeInfo&)>& on_call);

// The resolved decorators of a function_definition, in order ("pkg.main.app.get"); inside a
// callback of `scope`'s scan, the definition being the node visited.
std::vector<std::string> resolved_decorators(TSNode def, const ScopeScanner& scope,
                                             std::string_view src);

}  // namespace awaitify
