#pragma once
// Shared rewriting helpers: every transform makes functions async, inserts awaits and
// re-indents through these, never on its own.
#include <tree_sitter/api.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/result.hpp"
#include "awaitify/source.hpp"

namespace awaitify {

bool is_async_function(TSNode function_definition);
// `def f(...)` -> `async def f(...)`; decorators, comments and annotations are untouched.
// Empty when the function is already async.
std::vector<Edit> make_async(TSNode function_definition);

// Awaits a call (or any expression) with the right precedence: `f()` -> `await f()`, and
// `f().x` / `f()[0]` / `f()()` -> `(await f()).x`. No edit when it is already awaited. Refused
// (an Error saying why) inside a lambda, or inside a generator expression, or inside a
// comprehension whose function stays sync (`async_function_ok` says whether the enclosing
// function is or becomes async).
// With the source text, a call inside a generator expression that a builtin consumes whole
// (`sum(f(x) for x in xs)`, see is_eager_generator) is awaited too: the generator expression
// becomes a list comprehension (`sum([await f(x) for x in xs])`), which the consumer reads the
// same way, where an await would have made it an async generator.
Result<std::vector<Edit>> await_expression(TSNode expression, bool enclosing_becomes_async = true,
                                           std::string_view src = {});

// A generator expression that is the argument of a builtin reading it whole and at once (sum,
// list, tuple, set, frozenset, sorted, min, max, dict, str.join): as a list it means the same.
// any() and all() stop early, so they are not among them.
bool is_eager_generator(TSNode generator_expression, std::string_view src);

// Whether `await expression` needs parentheses where the expression stands: it is the object
// of an attribute, a subscript or a call (`(await f()).x`).
bool await_needs_parentheses(TSNode expression);

// `fn(a, b)` -> `await run_in_threadpool(fn, a, b)` (parenthesized when the result is used
// further). With whole_chain, a method chain ending at this call's outermost trailer is moved
// as one: `db.query(X).all()` -> `await run_in_threadpool(db.query(X).all)`.
std::vector<Edit> wrap_in_threadpool(TSNode call, std::string_view src, bool whole_chain);
// `f(x)` -> `asyncio.run(f(x))`.
std::vector<Edit> wrap_in_asyncio_run(TSNode call);

// Re-indents every line of a block of text from one indentation to another. Lines that do not
// start with `from` (continuation lines inside strings, say) keep their relative indentation.
std::string reindent(std::string_view block, std::string_view from, std::string_view to);

// The file's indentation step, from its first indented block; four spaces when it has none.
std::string file_indent_unit(TSNode root, const SourceFile& source);

}  // namespace awaitify
