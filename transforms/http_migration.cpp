#include "http_migration.hpp"

#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_response.hpp"

namespace awaitify::http {

namespace {

std::string context_refusal(const Site& site) {
  // Module-level code is reported as such by the pass: it is never async.
  if (site.context == CallContext::plain || site.context == CallContext::comprehension ||
      site.context == CallContext::module_level || site.context == CallContext::main_guard) {
    return {};
  }
  return std::string("it is inside ") + describe(site.context);
}

// A stream must be the item of a `with` (its body is what reads it); a plain response must not
// be one (an httpx response is not a sync context manager).
std::string with_refusal(const RequestsCall& call, std::string_view src) {
  TSNode with = sole_with_as_statement(call.call);
  TSNode parent = ts_node_parent(call.call);
  bool item = is(parent, "with_item") ||
              (is(parent, "as_pattern") && is(ts_node_parent(parent), "with_item"));
  if (call.stream && ts_node_is_null(with)) {
    return "stream=True outside `with ... as response:` (the only item of its with)";
  }
  if (!call.stream && item) return "the response is used as a context manager";
  if (call.stream) {
    std::string name = with_target(call.call, src);
    return response_refusal(field(with, "body"), name, src);
  }
  return {};
}

RequestsCall read_call(const Site& site, const std::string& method, const ModuleFacts& facts,
                       std::string_view src) {
  RequestsCall call = read_requests_call(site.node, method, false, facts, src);
  if (call.refusal.empty()) call.refusal = context_refusal(site);
  if (call.refusal.empty()) call.refusal = with_refusal(call, src);
  return call;
}

}  // namespace

bool ScopeMigration::migrates_any() const {
  for (const RequestsCall& call : calls) {
    if (call.refusal.empty()) return true;
  }
  for (const SessionUse& session : sessions) {
    if (session.refusal.empty()) return true;
  }
  return false;
}

std::vector<ScopeSites> file_sites(const ModuleFacts& facts, TSNode root, std::string_view src,
                                   const ProjectIndex* index) {
  std::vector<ScopeSites> scopes;
  // scan_file_scopes announces a scope, then reports its calls, one scope at a time.
  scan_file_scopes(
      facts, root, src, index,
      [&](const ScopeInfo& scope) {
        scopes.push_back({scope, {}});
      },
      [&](const Site& site, const ScopeInfo&) { scopes.back().sites.push_back(site); });
  return scopes;
}

ScopeMigration analyze_scope(const ScopeSites& scope, const ModuleFacts& facts,
                             std::string_view src) {
  ScopeMigration result;
  std::vector<TSNode> members;
  for (const Site& site : scope.sites) {
    if (site.awaited) continue;
    if (std::string method = requests_function(site.target); !method.empty()) {
      result.calls.push_back(read_call(site, method, facts, src));
    } else if (is_session_constructor(site.target)) {
      SessionUse session;
      if (scope.scope.is_module()) {
        session.constructor = site.node;
        session.refusal =
            "a module-level Session is shared by code the engine would have to migrate at once";
      } else {
        session = read_session(site.node, field(scope.scope.def, "body"), facts, src);
        if (session.refusal.empty()) session.refusal = context_refusal(site);
      }
      result.sessions.push_back(std::move(session));
    } else if (!session_member(site.target).empty()) {
      members.push_back(site.node);
    }
  }
  for (TSNode member : members) {
    TSNode object = field(field(member, "function"), "object");
    bool known = false;
    for (const SessionUse& session : result.sessions) {
      known |= is(object, "identifier") && node_text(object, src) == session.name;
    }
    if (!known) result.unfollowed.push_back(member);
  }
  return result;
}

TSNode sole_with_as_statement(TSNode call) {
  TSNode pattern = ts_node_parent(call);
  if (!is(pattern, "as_pattern")) return TSNode{};
  TSNode item = ts_node_parent(pattern);
  TSNode clause = ts_node_parent(item);
  TSNode with = ts_node_parent(clause);
  if (!is(item, "with_item") || !is(clause, "with_clause") || !is(with, "with_statement"))
    return TSNode{};
  if (named_children(clause).size() != 1) return TSNode{};
  return with;
}

std::string with_target(TSNode call, std::string_view src) {
  TSNode pattern = ts_node_parent(call);
  if (!is(pattern, "as_pattern")) return {};
  TSNode target = field(pattern, "alias");
  if (is(target, "as_pattern_target")) target = ts_node_named_child(target, 0);
  return is(target, "identifier") ? std::string(node_text(target, src)) : std::string();
}

}  // namespace awaitify::http
