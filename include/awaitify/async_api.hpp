#pragma once
// What verify and audit know about libraries, beyond knowledge.hpp (which the transforms use to
// decide what blocks): the types values hold (an AsyncSession, an httpx.AsyncClient, a
// pathlib.Path), the calls that return coroutines, the async context managers, and the wider set
// of blocking calls — everything ruff's ASYNC2xx rules catch, plus what they miss.
#include <optional>
#include <string>
#include <string_view>

#include "awaitify/index.hpp"

namespace awaitify {

// The library type a name stands for, by a short name ("AsyncSession", "Session",
// "httpx.AsyncClient", "pathlib.Path", "TestClient", ...), or empty. `name` is qualified, as the
// call scanner resolves it: a type (a parameter annotation), the callee whose call made a value
// (`c = httpx.AsyncClient()` gives c the name "httpx.AsyncClient"), or a module-level instance
// (followed through the index to its constructor).
std::string known_type(const ProjectIndex& index, const std::string& name);

enum class BlockingKind {
  http,
  sleep,
  file,
  process,
  path,
  input,
  shutil,
  socket,
  session,
  thread
};

struct ApiNote {
  // blocking_call: "`time.sleep`, a blocking sleep"; coroutine_call: the call
  // ("`AsyncSession.commit`"); async_context_manager: the resource's type, when known
  // ("AsyncSession"), else empty.
  std::string what;
  std::string hint;  // the fix
  BlockingKind kind = BlockingKind::http;
};

// A call that blocks the event loop (target as resolved), or nullopt.
std::optional<ApiNote> blocking_call(const ProjectIndex& index, const std::string& target);
// A library call whose result must be awaited (AsyncSession I/O, httpx.AsyncClient verbs,
// asyncio.sleep, UploadFile.read, ...), or nullopt. Project async functions are the index's.
std::optional<ApiNote> coroutine_call(const ProjectIndex& index, const std::string& target);
// A context manager that only works with `async with`: `target` is a call's callee, or (when
// `called` is false) a name used directly as the context manager (`with lock:`).
std::optional<ApiNote> async_context_manager(const ProjectIndex& index, const std::string& target,
                                             bool called);
// Calls that start threads or processes (threading.Thread, multiprocessing, concurrent.futures).
bool starts_thread_or_process(std::string_view target);
// `TestClient(app)` or a method of a TestClient.
bool is_test_client_call(const ProjectIndex& index, const std::string& target);

}  // namespace awaitify
