#pragma once
// What the engine knows about libraries: which calls block the event loop, which constructors
// make FastAPI apps and routers, which annotations are sync SQLAlchemy sessions.
#include <optional>
#include <string>
#include <string_view>

namespace awaitify {

struct BlockingApi {
  std::string_view what;  // the kind of call, for messages ("outbound HTTP with requests")
  std::string_view fix;   // the phase or manual fix that migrates it
  // A phase rewrites it (requests, open, time.sleep, UploadFile.file); the others (subprocess,
  // urllib, shutil, sockets) have no async form the engine writes.
  bool phase_migrates = false;
};

// Whether a call to this qualified name blocks ("requests.get", "time.sleep", "builtins.open").
std::optional<BlockingApi> blocking_api(std::string_view qualified);
// Whether a blocking call hands back something whose own use blocks (a file from open(), a
// process from Popen, a response from urlopen, a socket, a requests Session, the lazy
// generator of os.walk): running the call
// alone in the thread pool leaves that I/O on the event loop.
bool returns_blocking_resource(std::string_view qualified);
// pytest's default file names for tests and fixtures: test_*.py, *_test.py, conftest.py.
bool is_pytest_file(std::string_view path);
bool is_fastapi_constructor(std::string_view qualified);
// starlette's run_in_threadpool, as starlette and fastapi export it.
bool is_threadpool_runner(std::string_view qualified);
bool is_router_constructor(std::string_view qualified);
bool is_sync_session_type(std::string_view qualified);
// Session methods that perform I/O (a missed await on them silently does nothing).
bool is_session_io_method(std::string_view method);
bool is_route_decorator_method(std::string_view method);
// Calls that take a coroutine and run it (asyncio.run, gather, create_task, anyio.run, ...).
bool is_coroutine_runner(std::string_view qualified);
bool is_coroutine_runner_method(std::string_view method);
constexpr std::string_view kBaseHttpMiddleware = "starlette.middleware.base.BaseHTTPMiddleware";

}  // namespace awaitify
