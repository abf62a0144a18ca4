#pragma once
// FastAPI and Starlette shapes that several transforms recognise, decided through the index.
#include <optional>
#include <string>
#include <vector>

#include <tree_sitter/api.h>

#include "awaitify/transform.hpp"

namespace awaitify {

// The qualified name of a function or method node: module, enclosing classes and functions.
std::string qualified_name(TSNode function_definition, const FileContext& context);
// The decorators of a function_definition (empty when it has none).
std::vector<TSNode> decorators_of(TSNode function_definition);
// `@X.get(...)`, `@X.api_route(...)`, ... where X is bound to FastAPI() or APIRouter().
bool is_path_operation_decorator(TSNode decorator, const FileContext& context);
// `@X.middleware("http")` where X is bound to FastAPI().
bool is_http_middleware_decorator(TSNode decorator, const FileContext& context);
// The name of the n-th positional parameter (0-based), if it has one.
std::optional<std::string> parameter_name(TSNode function_definition, size_t n, std::string_view src);
// Why a function body blocks the event loop (first reason found), or nullopt. Looks at calls
// the engine knows block, calls into project functions that block, and a sync Session parameter
// used in the body. Nested functions and lambdas are not part of the body.
std::optional<std::string> blocking_reason(TSNode function_definition, const FileContext& context);
// Every call `name(...)` in a function body (nested definitions that rebind name excluded), and
// every other use of the name (passed along, stored) in `other_uses`.
std::vector<TSNode> calls_of_name(TSNode function_definition, const std::string& name,
                                  std::string_view src, std::vector<TSNode>* other_uses = nullptr);

}  // namespace awaitify
