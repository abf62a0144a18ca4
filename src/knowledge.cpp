#include "awaitify/knowledge.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace awaitify {

namespace {

struct Entry {
  std::string_view name;
  bool prefix;  // matches the name and everything under it
  BlockingApi api;
};

constexpr BlockingApi kRequests{"outbound HTTP with requests", "migrate it with --phase http",
                                true};
constexpr BlockingApi kSleep{"a blocking sleep", "migrate it with --phase files (asyncio.sleep)",
                             true};
constexpr BlockingApi kOpen{"file I/O with open()", "migrate it with --phase files (aiofiles)",
                            true};
constexpr BlockingApi kProcess{"a subprocess",
                               "use asyncio.create_subprocess_exec or run_in_threadpool"};
constexpr BlockingApi kUrllib{"outbound HTTP with urllib",
                              "use httpx.AsyncClient or run_in_threadpool"};
constexpr BlockingApi kShutil{"file I/O with shutil", "it has no async form: run_in_threadpool"};
constexpr BlockingApi kUpload{"file I/O on UploadFile.file",
                              "migrate it with --phase files (await file.read())", true};
constexpr BlockingApi kFilesystem{"file I/O with no aiofiles form",
                                  "it has no async form: run_in_threadpool"};
constexpr BlockingApi kWaiting{"waiting on a thread or process",
                                "await asyncio.to_thread(...) or run_in_threadpool, or use asyncio's "
                                "own primitives"};
constexpr BlockingApi kSocket{"a blocking socket call", "use asyncio streams or run_in_threadpool"};

constexpr std::array kBlocking{
    Entry{"requests.get", false, kRequests},
    Entry{"requests.post", false, kRequests},
    Entry{"requests.put", false, kRequests},
    Entry{"requests.patch", false, kRequests},
    Entry{"requests.delete", false, kRequests},
    Entry{"requests.head", false, kRequests},
    Entry{"requests.options", false, kRequests},
    Entry{"requests.request", false, kRequests},
    Entry{"requests.api", true, kRequests},
    Entry{"requests.Session", true, kRequests},
    Entry{"requests.sessions.Session", true, kRequests},
    Entry{"fastapi.UploadFile.file", true, kUpload},
    Entry{"starlette.datastructures.UploadFile.file", true, kUpload},
    Entry{"time.sleep", false, kSleep},
    Entry{"builtins.open", false, kOpen},
    Entry{"io.open", false, kOpen},
    Entry{"subprocess.run", false, kProcess},
    Entry{"subprocess.call", false, kProcess},
    Entry{"subprocess.check_call", false, kProcess},
    Entry{"subprocess.check_output", false, kProcess},
    Entry{"subprocess.Popen", false, kProcess},
    Entry{"subprocess.getoutput", false, kProcess},
    Entry{"subprocess.getstatusoutput", false, kProcess},
    Entry{"os.system", false, kProcess},
    Entry{"os.popen", false, kProcess},
    Entry{"os.wait", false, kProcess},
    Entry{"os.waitpid", false, kProcess},
    Entry{"os.spawnl", false, kProcess},
    Entry{"os.spawnv", false, kProcess},
    Entry{"urllib.request.urlopen", false, kUrllib},
    Entry{"shutil.copyfileobj", false, kShutil},
    Entry{"shutil.copyfile", false, kShutil},
    Entry{"shutil.copy", false, kShutil},
    Entry{"shutil.copy2", false, kShutil},
    Entry{"shutil.copytree", false, kShutil},
    Entry{"shutil.rmtree", false, kShutil},
    Entry{"shutil.move", false, kShutil},
    Entry{"os.walk", false, kFilesystem},
    Entry{"threading.Thread.join", false, kWaiting},
    Entry{"threading.Event.wait", false, kWaiting},
    Entry{"multiprocessing.Process.join", false, kWaiting},
    Entry{"multiprocessing.context.Process.join", false, kWaiting},
    Entry{"pathlib.Path.read_text", false, kFilesystem},
    Entry{"pathlib.Path.write_text", false, kFilesystem},
    Entry{"pathlib.Path.read_bytes", false, kFilesystem},
    Entry{"pathlib.Path.write_bytes", false, kFilesystem},
    Entry{"socket.create_connection", false, kSocket},
    Entry{"socket.getaddrinfo", false, kSocket},
    Entry{"socket.gethostbyname", false, kSocket},
};

bool starts_with_segment(std::string_view name, std::string_view prefix) {
  return name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix &&
         name[prefix.size()] == '.';
}

template <size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& names) {
  for (std::string_view name : names) {
    if (value == name) return true;
  }
  return false;
}

}  // namespace

bool is_pytest_file(std::string_view path) {
  std::string_view file = path.substr(path.rfind('/') + 1);
  auto ends_with = [&](std::string_view end) {
    return file.size() > end.size() && file.substr(file.size() - end.size()) == end;
  };
  return file == "conftest.py" || ends_with("_test.py") ||
         (file.substr(0, 5) == "test_" && ends_with(".py"));
}

bool returns_blocking_resource(std::string_view qualified) {
  static constexpr std::array<std::string_view, 10> kNames{"builtins.open",
                                                           "os.walk",
                                                           "io.open",
                                                           "subprocess.Popen",
                                                           "os.popen",
                                                           "os.fdopen",
                                                           "urllib.request.urlopen",
                                                           "socket.create_connection",
                                                           "requests.Session",
                                                           "requests.sessions.Session"};
  return std::find(kNames.begin(), kNames.end(), qualified) != kNames.end();
}

std::optional<BlockingApi> blocking_api(std::string_view qualified) {
  for (const Entry& entry : kBlocking) {
    // A prefix entry names a module or class: its members block, not the name itself.
    if (entry.prefix ? starts_with_segment(qualified, entry.name) : qualified == entry.name) {
      return entry.api;
    }
  }
  return std::nullopt;
}

bool is_fastapi_constructor(std::string_view qualified) {
  static constexpr std::array<std::string_view, 2> kNames{"fastapi.FastAPI",
                                                          "fastapi.applications.FastAPI"};
  return one_of(qualified, kNames);
}

bool is_threadpool_runner(std::string_view qualified) {
  static constexpr std::array<std::string_view, 2> kNames{"starlette.concurrency.run_in_threadpool",
                                                          "fastapi.concurrency.run_in_threadpool"};
  return one_of(qualified, kNames);
}

bool is_router_constructor(std::string_view qualified) {
  static constexpr std::array<std::string_view, 2> kNames{"fastapi.APIRouter",
                                                          "fastapi.routing.APIRouter"};
  return one_of(qualified, kNames);
}

bool is_sync_session_type(std::string_view qualified) {
  static constexpr std::array<std::string_view, 5> kNames{
      "sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlmodel.Session",
      "sqlmodel.orm.session.Session", "sqlalchemy.orm.scoped_session"};
  return one_of(qualified, kNames);
}

bool is_session_io_method(std::string_view method) {
  static constexpr std::array<std::string_view, 24> kNames{"commit",
                                                           "rollback",
                                                           "flush",
                                                           "refresh",
                                                           "delete",
                                                           "close",
                                                           "execute",
                                                           "scalar",
                                                           "scalars",
                                                           "get",
                                                           "get_one",
                                                           "merge",
                                                           "run_sync",
                                                           "stream",
                                                           "stream_scalars",
                                                           "connection",
                                                           "invalidate",
                                                           "reset",
                                                           "query",
                                                           "exec",
                                                           "begin",
                                                           "begin_nested",
                                                           "bulk_save_objects",
                                                           "bulk_insert_mappings"};
  return one_of(method, kNames);
}

bool is_route_decorator_method(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kNames{
      "get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route"};
  return one_of(method, kNames);
}

bool is_coroutine_runner(std::string_view qualified) {
  static constexpr std::array<std::string_view, 13> kNames{
      "asyncio.run",
      "asyncio.gather",
      "asyncio.create_task",
      "asyncio.ensure_future",
      "asyncio.wait_for",
      "asyncio.wait",
      "asyncio.shield",
      "asyncio.as_completed",
      "asyncio.run_coroutine_threadsafe",
      "asyncio.timeout",
      "anyio.run",
      "trio.run",
      "starlette.concurrency.run_until_first_complete"};
  return one_of(qualified, kNames);
}

bool is_coroutine_runner_method(std::string_view method) {
  static constexpr std::array<std::string_view, 5> kNames{
      "run_until_complete", "create_task", "ensure_future", "start_soon", "add_task"};
  return one_of(method, kNames);
}

}  // namespace awaitify
