#pragma once
// One requests call as AW201 sees it: its arguments, whether httpx can take them, and the edits
// that turn them into httpx's. Where the two libraries differ in behaviour the edits keep
// requests' behaviour: redirects followed, no timeout, raw bodies as content=, client-level
// options (verify, cert, proxies, cookies) on a client of the call's own.
#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/index.hpp"

namespace awaitify::http {

struct Argument {
  TSNode node{};        // as written: a keyword_argument or an expression
  std::string keyword;  // the keyword, or the parameter a positional argument fills ("" for url)
  TSNode value{};
  bool positional = false;
};

struct RequestsCall {
  TSNode call{};
  std::string method;    // get, post, ..., request
  bool session = false;  // a method of a Session that becomes an AsyncClient (it carries defaults)
  std::vector<Argument> arguments;
  bool stream = false;         // stream=True
  bool redirects_off = false;  // the response of a redirect is returned as it is
  std::vector<const Argument*> client_options() const;  // verify=, cert=, proxies=, cookies=
  std::string refusal;  // why the call cannot move; empty when it can
  std::string todo;     // the `# TODO(awaitify): ...` text a refusal leaves above the statement
  const Argument* find(std::string_view keyword) const;
};

// Reads a call of requests.<method> (or of a Session's method when `session`).
RequestsCall read_requests_call(TSNode call, const std::string& method, bool session,
                                const ModuleFacts& facts, std::string_view src);

// How this file writes the migrated calls.
struct CallStyle {
  std::string lib = "httpx";     // the name the file uses for the httpx module
  std::string timeout = "None";  // for calls that had none (requests waits forever)
  std::string newline = "\n";
};

// Edits of the argument list (the callee and the await are the caller's): positional options
// as keywords, allow_redirects -> follow_redirects, requests' defaults made explicit,
// (connect, read) -> Timeout(read, connect=connect), data=<str|bytes> -> content=, auth classes
// of requests -> httpx's, client-level options and stream= dropped. For a stream, the verb
// goes first: client.stream("GET", url, ...).
std::vector<Edit> argument_edits(const RequestsCall& call, const CallStyle& style,
                                 const ModuleFacts& facts, std::string_view src);
// The client-level options as AsyncClient arguments ("verify=False, mounts={...}"); proxies
// become proxy= (one proxy for every scheme) or mounts= of transports.
std::string client_arguments(const RequestsCall& call, const CallStyle& style,
                             std::string_view src);

// An argument's removal, with the comma that separates it from its neighbour.
Edit remove_argument(TSNode argument, std::string_view src);
// Keyword arguments appended after the last argument that is not removed, one per line when
// the call's arguments are written one per line.
Edit append_arguments(TSNode call, const std::vector<TSNode>& removed,
                      const std::vector<std::string>& keywords, const CallStyle& style,
                      std::string_view src);
// Whether an expression is text or bytes: a string literal, json.dumps(...), x.encode(...).
bool is_text_or_bytes(TSNode value, const ModuleFacts& facts, std::string_view src);

}  // namespace awaitify::http
