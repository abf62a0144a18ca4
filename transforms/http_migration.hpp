#pragma once
// What AW201 can migrate in one scope (a function, or module-level code): its requests calls
// and its Sessions, each with the reason it cannot move when it cannot. The seeds, the pass
// and AW202 (which must know which calls raise httpx's exceptions after the run) all read a
// scope through analyze_scope, so they agree.
#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <vector>

#include "awaitify/calls.hpp"
#include "awaitify/index.hpp"
#include "http_call.hpp"

namespace awaitify::http {

// `with requests.Session() as s:` or `s = requests.Session()`, and what the function does
// with s. One use the engine cannot move leaves the whole session as it is.
// `s.mount("https://", HTTPAdapter(max_retries=n))`: httpx retries failed connections (what
// requests' max_retries=n retries) in its transport.
struct RetryMount {
  TSNode statement{};  // removed; the client gets the transport
  std::string prefix;  // "https://"
  std::string retries;
};

struct SessionUse {
  TSNode constructor{};     // requests.Session()
  TSNode with_statement{};  // null for the assignment form
  std::string name;
  std::vector<RequestsCall> calls;  // s.get(...), s.request(...), ...
  std::vector<TSNode> closes;       // s.close()
  std::vector<RetryMount> mounts;
  std::string refusal;
  std::string todo;
};

struct ScopeMigration {
  std::vector<RequestsCall> calls;  // requests.get(...) and friends, refused ones included
  std::vector<SessionUse> sessions;
  // Calls of Session methods on something that is not a session of this scope (an attribute,
  // a parameter, a module-level session): the engine cannot follow them.
  std::vector<TSNode> unfollowed;
  bool migrates_any() const;
};

// One scope of a file with the calls the scanner resolved in it.
struct ScopeSites {
  ScopeInfo scope;
  std::vector<Site> sites;
};
// Every scope of a file (module level first), with its calls, resolved as the index does.
std::vector<ScopeSites> file_sites(const ModuleFacts& facts, TSNode root, std::string_view src,
                                   const ProjectIndex* index);

ScopeMigration analyze_scope(const ScopeSites& scope, const ModuleFacts& facts,
                             std::string_view src);

// The session bound by this requests.Session() call, with its uses in the scope's body.
SessionUse read_session(TSNode constructor, TSNode body, const ModuleFacts& facts,
                        std::string_view src);

// `with <call> as name:` when the call is the only item of a with statement: the statement,
// else null.
TSNode sole_with_as_statement(TSNode call);
// The name a with item binds (`as name`), or empty.
std::string with_target(TSNode call, std::string_view src);

}  // namespace awaitify::http
