#include "awaitify/async_api.hpp"

#include <cctype>
#include <map>
#include <set>

#include "awaitify/knowledge.hpp"

namespace awaitify {

namespace {

using Names = std::set<std::string, std::less<>>;

std::pair<std::string, std::string> split_last(const std::string& qualified) {
  size_t dot = qualified.rfind('.');
  if (dot == std::string::npos) return {"", qualified};
  return {qualified.substr(0, dot), qualified.substr(dot + 1)};
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix;
}

// Types, and callees whose call makes a value of the type.
const std::map<std::string, std::string, std::less<>>& type_table() {
  static const std::map<std::string, std::string, std::less<>> table{
      {"sqlalchemy.ext.asyncio.AsyncSession", "AsyncSession"},
      {"sqlalchemy.ext.asyncio.session.AsyncSession", "AsyncSession"},
      {"sqlmodel.ext.asyncio.session.AsyncSession", "AsyncSession"},
      // A module-level `SessionLocal = async_sessionmaker(...)`: what its call makes.
      {"sqlalchemy.ext.asyncio.async_sessionmaker", "AsyncSession"},
      {"sqlalchemy.ext.asyncio.session.async_sessionmaker", "AsyncSession"},
      {"sqlalchemy.ext.asyncio.async_scoped_session", "AsyncSession"},
      {"sqlalchemy.ext.asyncio.create_async_engine", "AsyncEngine"},
      {"sqlalchemy.ext.asyncio.engine.create_async_engine", "AsyncEngine"},
      {"sqlalchemy.ext.asyncio.AsyncEngine", "AsyncEngine"},
      {"sqlalchemy.ext.asyncio.AsyncConnection", "AsyncConnection"},
      {"sqlalchemy.orm.Session", "Session"},
      {"sqlalchemy.orm.session.Session", "Session"},
      {"sqlmodel.Session", "Session"},
      {"sqlmodel.orm.session.Session", "Session"},
      {"sqlalchemy.orm.scoped_session", "Session"},
      // A module-level `SessionLocal = sessionmaker(...)`: what its call makes.
      {"sqlalchemy.orm.sessionmaker", "Session"},
      {"sqlalchemy.orm.session.sessionmaker", "Session"},
      {"sqlalchemy.create_engine", "Engine"},
      {"sqlalchemy.engine.create_engine", "Engine"},
      {"sqlmodel.create_engine", "Engine"},
      {"sqlalchemy.Engine", "Engine"},
      {"sqlalchemy.engine.Engine", "Engine"},
      {"sqlalchemy.Connection", "Connection"},
      {"sqlalchemy.engine.Connection", "Connection"},
      {"httpx.AsyncClient", "httpx.AsyncClient"},
      {"httpx.Client", "httpx.Client"},
      {"requests.Session", "requests.Session"},
      {"requests.session", "requests.Session"},
      {"requests.sessions.Session", "requests.Session"},
      {"aiofiles.open", "aiofiles.file"},
      {"aiofiles.threadpool.open", "aiofiles.file"},
      {"pathlib.Path", "pathlib.Path"},
      {"pathlib.PosixPath", "pathlib.Path"},
      {"pathlib.WindowsPath", "pathlib.Path"},
      {"pathlib.PurePath", "pathlib.Path"},
      {"pathlib.PurePosixPath", "pathlib.Path"},
      {"pathlib.PureWindowsPath", "pathlib.Path"},
      {"socket.socket", "socket.socket"},
      {"socket.create_connection", "socket.socket"},
      {"socket.create_server", "socket.socket"},
      {"fastapi.UploadFile", "UploadFile"},
      {"starlette.datastructures.UploadFile", "UploadFile"},
      {"fastapi.Request", "Request"},
      {"starlette.requests.Request", "Request"},
      {"fastapi.WebSocket", "WebSocket"},
      {"starlette.websockets.WebSocket", "WebSocket"},
      {"fastapi.testclient.TestClient", "TestClient"},
      {"starlette.testclient.TestClient", "TestClient"},
      {"threading.Thread", "threading.Thread"},
      {"threading.Timer", "threading.Thread"},
      {"asyncio.Lock", "asyncio.Lock"},
      {"asyncio.Semaphore", "asyncio.Lock"},
      {"asyncio.BoundedSemaphore", "asyncio.Lock"},
      {"asyncio.Condition", "asyncio.Lock"},
      {"aiohttp.ClientSession", "aiohttp.ClientSession"},
  };
  return table;
}

// `engine.begin()` gives a connection: the type of a method's result, where it matters.
std::string method_result(const std::string& type, const std::string& method) {
  if ((type == "Engine" || type == "AsyncEngine") && (method == "begin" || method == "connect")) {
    return type == "Engine" ? "Connection" : "AsyncConnection";
  }
  return {};
}

std::string known_type(const ProjectIndex& index, const std::string& name, int depth) {
  if (name.empty() || depth > 8) return {};
  const auto& table = type_table();
  if (auto it = table.find(name); it != table.end()) return it->second;
  std::string alias = index.alias_target(name);  // follows imports and type aliases
  if (alias != name) return known_type(index, alias, depth + 1);
  if (auto constructor = index.instance_type(name))
    return known_type(index, *constructor, depth + 1);
  auto [owner, method] = split_last(name);
  if (!owner.empty()) {
    std::string result = method_result(known_type(index, owner, depth + 1), method);
    if (!result.empty()) return result;
  }
  // A project class deriving from a known one (`class Api(httpx.AsyncClient)`).
  std::string canonical = index.canonical(name);
  auto [module_name, class_name] = split_last(canonical);
  const ModuleFacts* module = index.module(module_name);
  if (!module || !module->classes.count(class_name)) return {};
  for (const auto& [base, type] : table) {
    if (std::isupper(static_cast<unsigned char>(split_last(base).second[0])) &&
        index.derives_from(canonical, base)) {
      return type;
    }
  }
  return {};
}

ApiNote note(std::string what, std::string hint, BlockingKind kind = BlockingKind::http) {
  return ApiNote{std::move(what), std::move(hint), kind};
}

constexpr const char* kHttpHint =
    "use a shared httpx.AsyncClient and await the call (awaitify apply --phase http migrates "
    "requests)";
constexpr const char* kSleepHint = "use `await asyncio.sleep(...)` (awaitify apply --phase files)";
constexpr const char* kOpenHint =
    "use `async with aiofiles.open(...)` and await its reads and writes (awaitify apply --phase "
    "files), or move the work into `await run_in_threadpool(...)`";
constexpr const char* kProcessHint =
    "use `await asyncio.create_subprocess_exec(...)`, or `await run_in_threadpool(...)`";
constexpr const char* kPathHint =
    "use anyio.Path / aiofiles.os, or move the call into `await run_in_threadpool(...)`";
constexpr const char* kInputHint = "do not read the terminal in async code; pass the value in";
constexpr const char* kShutilHint = "move the call into `await run_in_threadpool(...)`";
constexpr const char* kSocketHint =
    "use asyncio streams (`await asyncio.open_connection(...)`), or run_in_threadpool";
constexpr const char* kSessionHint =
    "use an AsyncSession and await its I/O (awaitify apply --phase db), or keep this function sync";
constexpr const char* kThreadHint = "use `await asyncio.to_thread(thread.join)`";

const Names& http_functions() {
  static const Names names{"requests.get",     "requests.post",    "requests.put",
                           "requests.patch",   "requests.delete",  "requests.head",
                           "requests.options", "requests.request", "httpx.get",
                           "httpx.post",       "httpx.put",        "httpx.patch",
                           "httpx.delete",     "httpx.head",       "httpx.options",
                           "httpx.request",    "httpx.stream",     "urllib.request.urlopen",
                           "urllib3.request"};
  return names;
}

const Names& process_functions() {
  static const Names names{"subprocess.run",
                           "subprocess.call",
                           "subprocess.check_call",
                           "subprocess.check_output",
                           "subprocess.getoutput",
                           "subprocess.getstatusoutput",
                           "subprocess.Popen",
                           "os.system",
                           "os.popen",
                           "os.posix_spawn",
                           "os.posix_spawnp",
                           "os.spawnl",
                           "os.spawnle",
                           "os.spawnlp",
                           "os.spawnlpe",
                           "os.spawnv",
                           "os.spawnve",
                           "os.spawnvp",
                           "os.spawnvpe",
                           "os.wait",
                           "os.wait3",
                           "os.wait4",
                           "os.waitid",
                           "os.waitpid"};
  return names;
}

const Names& path_functions() {
  static const Names names{
      "os.path.exists",   "os.path.lexists",  "os.path.isfile",     "os.path.isdir",
      "os.path.islink",   "os.path.ismount",  "os.path.isjunction", "os.path.getsize",
      "os.path.getmtime", "os.path.getatime", "os.path.getctime",   "os.path.samefile",
      "os.path.realpath", "os.path.abspath",  "os.path.expanduser", "os.listdir",
      "os.scandir",       "os.stat",          "os.remove",          "os.unlink",
      "os.rename",        "os.replace",       "os.makedirs",        "os.mkdir",
      "os.rmdir",         "os.walk"};
  return names;
}

const Names& path_methods() {
  // ruff's ASYNC240 list, and open (ASYNC230).
  static const Names names{
      "absolute", "chmod",       "cwd",         "exists",          "expanduser",     "glob",
      "group",    "hardlink_to", "home",        "is_block_device", "is_char_device", "is_dir",
      "is_fifo",  "is_file",     "is_junction", "is_mount",        "is_socket",      "is_symlink",
      "iterdir",  "lchmod",      "link_to",     "lstat",           "mkdir",          "open",
      "owner",    "read_bytes",  "read_text",   "readlink",        "rename",         "replace",
      "resolve",  "rglob",       "rmdir",       "samefile",        "stat",           "symlink_to",
      "touch",    "unlink",      "walk",        "write_bytes",     "write_text"};
  return names;
}

const Names& shutil_functions() {
  static const Names names{"shutil.copyfileobj",    "shutil.copyfile", "shutil.copymode",
                           "shutil.copystat",       "shutil.copy",     "shutil.copy2",
                           "shutil.copytree",       "shutil.rmtree",   "shutil.move",
                           "shutil.disk_usage",     "shutil.chown",    "shutil.make_archive",
                           "shutil.unpack_archive", "shutil.which"};
  return names;
}

const Names& socket_functions() {
  static const Names names{"socket.create_connection", "socket.create_server",
                           "socket.getaddrinfo",       "socket.gethostbyname",
                           "socket.gethostbyname_ex",  "socket.gethostbyaddr",
                           "socket.getnameinfo",       "socket.getfqdn"};
  return names;
}

const std::map<std::string, Names, std::less<>>& blocking_methods() {
  static const std::map<std::string, Names, std::less<>> methods{
      {"requests.Session",
       {"get", "post", "put", "patch", "delete", "head", "options", "request", "send"}},
      {"httpx.Client",
       {"close", "delete", "get", "head", "options", "patch", "post", "put", "request", "send",
        "stream"}},
      {"Engine", {"connect", "begin", "dispose", "raw_connection"}},
      {"Connection",
       {"execute", "scalar", "scalars", "commit", "rollback", "exec_driver_sql", "close"}},
      {"socket.socket",
       {"connect", "accept", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto",
        "sendfile"}},
      {"threading.Thread", {"join"}},
  };
  return methods;
}

const std::map<std::string, Names, std::less<>>& coroutine_methods() {
  static const std::map<std::string, Names, std::less<>> methods{
      {"AsyncSession",
       {"commit", "rollback", "flush", "refresh", "delete", "close", "execute", "scalar", "scalars",
        "get", "get_one", "merge", "run_sync", "stream", "stream_scalars", "connection",
        "invalidate", "reset", "exec"}},
      {"AsyncConnection",
       {"execute", "scalar", "scalars", "stream", "stream_scalars", "commit", "rollback", "close",
        "run_sync", "start", "invalidate", "exec_driver_sql"}},
      {"AsyncEngine", {"dispose"}},
      {"httpx.AsyncClient",
       {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "aclose"}},
      {"aiohttp.ClientSession", {"close"}},
      {"aiofiles.file",
       {"read", "write", "readline", "readlines", "seek", "tell", "truncate", "flush", "close"}},
      {"UploadFile", {"read", "write", "seek", "close"}},
      {"Request", {"body", "json", "form"}},
      {"WebSocket",
       {"accept", "receive", "send", "receive_text", "send_text", "receive_bytes", "send_bytes",
        "receive_json", "send_json", "close"}},
      {"asyncio.Lock", {"acquire"}},
  };
  return methods;
}

bool in(const std::map<std::string, Names, std::less<>>& table, const std::string& type,
        const std::string& method) {
  auto it = table.find(type);
  return it != table.end() && it->second.count(method) > 0;
}

std::string quoted(const std::string& target) {
  return "`" + (target.rfind("builtins.", 0) == 0 ? target.substr(9) : target) + "`";
}

// How a type is named in messages.
std::string display(const std::string& type) {
  if (type == "aiofiles.file") return "AsyncFile";
  if (type == "asyncio.Lock") return "asyncio lock";
  return type;
}

}  // namespace

std::string known_type(const ProjectIndex& index, const std::string& name) {
  return known_type(index, name, 0);
}

std::optional<ApiNote> blocking_call(const ProjectIndex& index, const std::string& target) {
  if (target.empty()) return std::nullopt;
  auto [owner, method] = split_last(target);
  std::string type = owner.empty() ? "" : known_type(index, owner);
  if (http_functions().count(target) || starts_with(target, "requests.api.") ||
      starts_with(target, "requests.Session.") || type == "requests.Session" ||
      type == "httpx.Client") {
    if (!type.empty() && !in(blocking_methods(), type, method)) return std::nullopt;
    return note(quoted(type.empty() ? target : type + "." + method) + ", a blocking HTTP call",
                kHttpHint, BlockingKind::http);
  }
  if (target == "time.sleep")
    return note("`time.sleep`, a blocking sleep", kSleepHint, BlockingKind::sleep);
  if (target == "builtins.open" || target == "io.open" || target == "io.open_code" ||
      target == "codecs.open" || (type == "pathlib.Path" && method == "open")) {
    return note(quoted(type == "pathlib.Path" ? "Path.open" : target) + ", blocking file I/O",
                kOpenHint, BlockingKind::file);
  }
  if (process_functions().count(target)) {
    return note(quoted(target) + ", a blocking subprocess call", kProcessHint,
                BlockingKind::process);
  }
  if (path_functions().count(target) || (type == "pathlib.Path" && path_methods().count(method))) {
    return note(
        quoted(type == "pathlib.Path" ? "Path." + method : target) + ", blocking file-system I/O",
        kPathHint, BlockingKind::path);
  }
  if (target == "builtins.input")
    return note("`input`, which blocks on the terminal", kInputHint, BlockingKind::input);
  if (shutil_functions().count(target)) {
    return note(quoted(target) + ", blocking file I/O", kShutilHint, BlockingKind::shutil);
  }
  if (socket_functions().count(target) ||
      (type == "socket.socket" && in(blocking_methods(), type, method))) {
    return note(quoted(type.empty() ? target : "socket." + method) + ", a blocking socket call",
                kSocketHint, BlockingKind::socket);
  }
  bool session_io =
      (type == "Session" || owner == "sqlalchemy.orm.Session") && is_session_io_method(method);
  if (session_io ||
      ((type == "Engine" || type == "Connection") && in(blocking_methods(), type, method))) {
    return note(quoted((type.empty() ? "Session" : type) + "." + method) + ", sync SQLAlchemy I/O",
                kSessionHint, BlockingKind::session);
  }
  if ((method == "create_all" || method == "drop_all") &&
      target.find(".metadata.") != std::string::npos) {
    return note(
        quoted("metadata." + method) + ", sync SQLAlchemy DDL",
        "run it on an async engine: `async with engine.begin() as conn: await conn.run_sync(...)`",
        BlockingKind::session);
  }
  if (type == "threading.Thread" && method == "join") {
    return note("`Thread.join`, which blocks until the thread ends", kThreadHint,
                BlockingKind::thread);
  }
  // What knowledge.hpp knows besides (UploadFile.file I/O, ...).
  if (auto api = blocking_api(target)) {
    return note(quoted(target) + ", " + std::string(api->what), std::string(api->fix),
                BlockingKind::file);
  }
  return std::nullopt;
}

std::optional<ApiNote> coroutine_call(const ProjectIndex& index, const std::string& target) {
  static const Names functions{"asyncio.sleep",
                               "asyncio.wait_for",
                               "asyncio.wait",
                               "asyncio.to_thread",
                               "asyncio.create_subprocess_exec",
                               "asyncio.create_subprocess_shell",
                               "asyncio.open_connection",
                               "asyncio.start_server",
                               "anyio.sleep",
                               "anyio.to_thread.run_sync",
                               "anyio.run_process",
                               "anyio.open_file",
                               "starlette.concurrency.run_in_threadpool",
                               "fastapi.concurrency.run_in_threadpool"};
  if (functions.count(target) || starts_with(target, "aiofiles.os.") ||
      starts_with(target, "aiofiles.ospath.")) {
    return note(quoted(target), "await it");
  }
  if (target == "aiofiles.open" || target == "aiofiles.threadpool.open") {
    return note("`aiofiles.open(...)`",
                "write `async with aiofiles.open(...) as f:` (or `f = await aiofiles.open(...)`)");
  }
  auto [owner, method] = split_last(target);
  if (owner.empty()) return std::nullopt;
  std::string type = known_type(index, owner);
  if (in(coroutine_methods(), type, method))
    return note(quoted(display(type) + "." + method), "await it");
  return std::nullopt;
}

std::optional<ApiNote> async_context_manager(const ProjectIndex& index, const std::string& target,
                                             bool called) {
  if (target.empty()) return std::nullopt;
  std::string type = known_type(index, target);
  if (!called) {
    static const Names types{"AsyncSession", "AsyncConnection", "httpx.AsyncClient", "asyncio.Lock",
                             "aiohttp.ClientSession"};
    if (types.count(type)) return note(display(type), "use `async with`");
    return std::nullopt;
  }
  static const Names functions{"aiofiles.open",
                               "aiofiles.threadpool.open",
                               "asyncio.timeout",
                               "asyncio.timeout_at",
                               "asyncio.TaskGroup",
                               "anyio.create_task_group",
                               "contextlib.AsyncExitStack"};
  if (functions.count(target) || starts_with(target, "aiofiles.tempfile.")) {
    return note("", "use `async with`");
  }
  static const Names constructed{"AsyncSession", "httpx.AsyncClient", "aiohttp.ClientSession"};
  if (constructed.count(type)) return note(type, "use `async with`");
  auto [owner, method] = split_last(target);
  std::string owner_type = owner.empty() ? "" : known_type(index, owner);
  bool async_method =
      ((owner_type == "AsyncEngine") && (method == "begin" || method == "connect")) ||
      (owner_type == "AsyncSession" && (method == "begin" || method == "begin_nested")) ||
      (owner_type == "httpx.AsyncClient" && method == "stream") ||
      (owner_type == "aiohttp.ClientSession" && method != "close");
  if (async_method) return note(owner_type + "." + method, "use `async with`");
  if (const FunctionFacts* fn = index.function(target)) {
    for (const std::string& decorator : fn->decorators) {
      if (decorator == "contextlib.asynccontextmanager") {
        return note("@asynccontextmanager", "use `async with`");
      }
    }
  }
  return std::nullopt;
}

bool starts_thread_or_process(std::string_view target) {
  return target == "threading.Thread" || target == "threading.Timer" ||
         starts_with(target, "multiprocessing.") || starts_with(target, "concurrent.futures.") ||
         target == "os.fork";
}

bool is_test_client_call(const ProjectIndex& index, const std::string& target) {
  if (known_type(index, target) == "TestClient") return true;
  auto [owner, method] = split_last(target);
  return !owner.empty() && known_type(index, owner) == "TestClient";
}

}  // namespace awaitify
