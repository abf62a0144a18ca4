// A requests Session bound in a function, and whether every use of it has an AsyncClient
// counterpart: request methods (awaited), close (-> aclose), headers/auth/params/cookies.
#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_migration.hpp"

namespace awaitify::http {

namespace {

// Session attributes httpx sets only when the client is created (or has none of).
bool is_client_level_attribute(std::string_view name) {
  for (std::string_view attribute :
       {"verify", "cert", "proxies", "hooks", "adapters", "trust_env", "stream"}) {
    if (name == attribute) return true;
  }
  return false;
}

// How `name = requests.Session()` or `with requests.Session() as name:` binds the session;
// sets session.refusal when it is neither.
void read_binding(SessionUse& session, std::string_view src) {
  TSNode call = session.constructor;
  TSNode parent = ts_node_parent(call);
  if (named_children(field(call, "arguments")).size() > 0) {
    session.refusal = "requests.Session() is given arguments";
  } else if (is(parent, "assignment") && is(field(parent, "left"), "identifier") &&
             ts_node_eq(field(parent, "right"), call)) {
    session.name = std::string(node_text(field(parent, "left"), src));
  } else if (TSNode with = with_statement_of(call);
             !ts_node_is_null(with) && !with_target(call, src).empty()) {
    session.with_statement = with;
    session.name = with_target(call, src);
  } else {
    session.refusal = "requests.Session() is not bound by `with ... as name:` or `name = ...`";
  }
}

bool inside_nested_scope(TSNode node, TSNode body) {
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up) && !ts_node_eq(up, body);
       up = ts_node_parent(up)) {
    if (is(up, "function_definition") || is(up, "lambda") || is(up, "class_definition"))
      return true;
  }
  return false;
}

// One use of the session's name: fills calls/closes, or says why it cannot move.
std::string read_use(SessionUse& session, TSNode identifier, const ModuleFacts& facts,
                     std::string_view src) {
  TSNode parent = ts_node_parent(identifier);
  if (is(parent, "attribute") && ts_node_eq(field(parent, "object"), identifier)) {
    std::string attribute(node_text(field(parent, "attribute"), src));
    TSNode call = ts_node_parent(parent);
    bool called = is(call, "call") && ts_node_eq(field(call, "function"), parent);
    if (called && is_request_method(attribute)) {
      RequestsCall request = read_requests_call(call, attribute, true, facts, src);
      if (request.refusal.empty() && request.stream && ts_node_is_null(with_statement_of(call))) {
        request.refusal = "stream=True outside `with ... as response:`";
      }
      if (!request.refusal.empty())
        return "`" + session.name + "." + attribute + "()`: " + request.refusal;
      session.calls.push_back(request);
      return {};
    }
    if (called && attribute == "close") {
      session.closes.push_back(call);
      return {};
    }
    if (attribute == "mount") {
      session.todo =
          "custom transport adapters have no httpx form here: give AsyncClient a transport= "
          "(AsyncHTTPTransport(retries=n) for retries)";
      return "`" + session.name + ".mount()` installs a requests adapter";
    }
    if (called) return "`" + session.name + "." + attribute + "()` has no AsyncClient counterpart";
    if (is_client_level_attribute(attribute)) {
      return "`" + session.name + "." + attribute + "` is set when an httpx client is created";
    }
    return {};  // headers, auth, params, cookies, max_redirects: the same on AsyncClient
  }
  return "`" + session.name +
         "` is passed on or stored, and the code receiving it expects a sync Session";
}

}  // namespace

SessionUse read_session(TSNode constructor, TSNode body, const ModuleFacts& facts,
                        std::string_view src) {
  SessionUse session;
  session.constructor = constructor;
  read_binding(session, src);
  if (!session.refusal.empty()) return session;
  TSNode binding = ts_node_is_null(session.with_statement)
                       ? field(ts_node_parent(constructor), "left")
                       : field(ts_node_parent(constructor), "alias");
  walk(body, [&](TSNode node) {
    if (!session.refusal.empty()) return false;
    if (!is(node, "identifier") || node_text(node, src) != session.name) return true;
    if (ts_node_start_byte(node) >= ts_node_start_byte(binding) &&
        ts_node_end_byte(node) <= ts_node_end_byte(binding)) {
      return true;
    }
    TSNode parent = ts_node_parent(node);
    bool attribute_name = is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node);
    bool keyword = is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node);
    if (attribute_name || keyword) return true;
    if (inside_nested_scope(node, body)) {
      session.refusal = "`" + session.name + "` is used inside a nested function or lambda";
    } else if (is(parent, "assignment") && ts_node_eq(field(parent, "left"), node)) {
      session.refusal = "`" + session.name + "` is bound again";
    } else {
      session.refusal = read_use(session, node, facts, src);
    }
    return true;
  });
  return session;
}

}  // namespace awaitify::http
