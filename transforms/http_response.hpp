#pragma once
// A response of a migrated call, where requests' and httpx's Response differ: ok -> not
// is_error (is_success would be 2xx only), reason -> reason_phrase, url -> str(url) (an
// httpx.URL is not a str), iter_content(n) -> iter_bytes(n) (aiter_bytes with `async for` in a
// stream), iter_lines -> (a)iter_lines (str, not bytes).
#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"

namespace awaitify::http {

struct ResponseNote {
  TSNode at{};
  std::string message;
  bool warning = false;
};

struct ResponseEdits {
  std::vector<Edit> edits;
  std::vector<ResponseNote> notes;
};

struct ResponseInfo {
  bool stream = false;         // the body of `async with client.stream(...) as name:`
  bool redirects_off = false;  // raise_for_status() raises on a 3xx in httpx
};

// Edits for one use of a response: `expression` is the name of a response, or the migrated
// call itself (`requests.get(url).ok`).
ResponseEdits response_use_edits(TSNode expression, const ResponseInfo& info, std::string_view src);
// Every use of `name` in body (nested functions excluded).
std::vector<TSNode> uses_of(TSNode body, const std::string& name, std::string_view src);
// Why a stream's body cannot move: it reads the whole body (content, text, json()), iterates
// other than with `for`, or passes the response on; empty when it can.
std::string response_refusal(TSNode body, const std::string& name, std::string_view src);
// `x.ok` -> `not x.is_error`, parenthesized where the operator around it binds tighter.
std::vector<Edit> negate_ok(TSNode attribute, std::string_view src);

}  // namespace awaitify::http
