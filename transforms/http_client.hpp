#pragma once
// Where a migrated call's client comes from. `shared`: one module-level AsyncClient that every
// migrated call of the module uses (connection pooling, as a requests Session gives). `scoped`:
// the statement moves into `async with AsyncClient() as client:` (what requests.get does
// under the hood: a session per call); a call with client-level options (verify=, cert=,
// proxies=, cookies=) always gets a scoped client of its own.
#include <tree_sitter/api.h>

#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/index.hpp"
#include "awaitify/result.hpp"
#include "awaitify/source.hpp"
#include "awaitify/transform.hpp"

namespace awaitify::http {

// A statement that runs inside `async with <client> as <name>:` after the rewrite.
struct ScopedWrap {
  TSNode statement{};
  std::string client;  // the constructor: "httpx.AsyncClient(verify=False)"
  std::string name;
};

// The statement a call's scoped client wraps: the call's statement in its block. Null, with
// `why`, when it cannot be wrapped: it shares its line with other code, it holds a multi-line
// string (re-indenting would change the string), or it is a definition.
TSNode wrap_statement(TSNode call, std::string_view src, std::string& why);

// Replaces every wrapped statement by its `async with` form, re-indented one level, carrying
// the edits made inside it along; the other edits are returned as they are.
Result<std::vector<Edit>> apply_wraps(const std::vector<Edit>& edits,
                                      const std::vector<ScopedWrap>& wraps,
                                      const SourceFile& source);

// The first candidate that is not an identifier anywhere in node, else the first with a number.
std::string free_name(TSNode node, std::string_view src,
                      const std::vector<std::string>& candidates);

// The module's shared client: a module-level `name = <lib>.AsyncClient(...)` it already has, or
// a new name for one.
struct SharedClient {
  std::string name;
  bool exists = false;
};
SharedClient shared_client(const ModuleFacts& facts, TSNode root, std::string_view src,
                           const std::string& lib_module);
// `name = <constructor>` and the closer's definition after the module's imports.
Edit shared_client_declaration(TSNode root, const SourceFile& source, const std::string& client,
                               const std::string& constructor, const std::string& closer);

// The name of the function that closes a new shared client `client`.
std::string closer_name(TSNode root, std::string_view src, const std::string& client);

// A module's `async def close_<client>()`: the app's lifespan calls it at shutdown (AW701).
struct ClientCloser {
  std::string module;     // dotted
  std::string name;       // close_http_client
  std::string client;     // http_client
  bool this_run = false;  // written by AW201 in this run (not in the index yet)
};
// The closers of the project's shared clients that nothing calls yet: those an earlier run
// wrote, and those AW201 writes in this run (read from the files as they were, with the
// analysis the pass uses). Computed once per run.
std::vector<ClientCloser> unwired_closers(const FileContext& context);

}  // namespace awaitify::http
