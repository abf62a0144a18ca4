// AW304 (only with --aiofiles-os): os and os.path calls that touch the file system, in code that
// is or becomes async, -> `await aiofiles.os.<same>(...)` / `await aiofiles.os.path.<same>(...)`.
// They are cheap, so by default they stay, and they never make a function async.
#include <array>
#include <string_view>

#include "awaitify/syntax.hpp"
#include "call_rewrite.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW304";
constexpr const char* kSetting = "aiofiles-os";

// What aiofiles 24.1 has in aiofiles.os and aiofiles.os.path (link, sendfile and statvfs where
// the os module has them, as on Linux). getcwd and abspath are left out: they read no disk, and
// a trip to the thread pool costs more than they do.
constexpr std::array<std::string_view, 18> kOs{
    "stat",    "rename",   "renames", "replace",    "remove",   "unlink",
    "mkdir",   "makedirs", "rmdir",   "removedirs", "symlink",  "readlink",
    "listdir", "scandir",  "access",  "link",       "sendfile", "statvfs"};
constexpr std::array<std::string_view, 11> kOsPath{
    "exists",   "isfile",   "isdir",    "islink",   "ismount",     "getsize",
    "getmtime", "getatime", "getctime", "samefile", "sameopenfile"};

template <size_t N>
bool listed(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::string_view candidate : names) {
    if (name == candidate) return true;
  }
  return false;
}

// "os.path.exists" -> "aiofiles.os.path.exists"; empty for calls aiofiles has no form of.
std::string aiofiles_name(const std::string& target) {
  std::string_view name(target);
  if (name.rfind("os.path.", 0) == 0 && listed(name.substr(8), kOsPath))
    return "aiofiles." + target;
  if (name.rfind("os.", 0) == 0 && listed(name.substr(3), kOs)) return "aiofiles." + target;
  return {};
}

bool matches(const std::string& target) {
  return !aiofiles_name(target).empty();
}

std::vector<Edit> to_aiofiles(const Site& site, const FileContext&, std::string&) {
  TSNode function = field(site.node, "function");
  return {Edit::replace(ts_node_start_byte(function), ts_node_end_byte(function),
                        aiofiles_name(site.target))};
}

// The imports whose names the rewritten calls may have been the last uses of.
std::vector<std::string> os_imports() {
  std::vector<std::string> names{"os", "os.path"};
  for (std::string_view name : kOs) names.push_back("os." + std::string(name));
  for (std::string_view name : kOsPath) names.push_back("os.path." + std::string(name));
  return names;
}

const CallRewrite& rewrite() {
  static const CallRewrite rewrite{
      kId, matches, to_aiofiles,
      [](ImportEditor& imports) { imports.require_module("aiofiles.os"); }, os_imports(),
      // A call left in sync code blocks nothing worth a finding: these are cheap.
      false};
  return rewrite;
}

// Without the setting the engine does not run it (TransformInfo::enabled_by).
PassResult run(const FileContext& context) {
  return run_call_rewrite(rewrite(), context);
}

}  // namespace

TransformInfo files_os_transform() {
  return with_call_rewrite_hooks(
      rewrite(),
      TransformInfo{
          .id = kId,
          .phase = "files",
          .summary = "with --aiofiles-os: os / os.path file system calls -> await aiofiles.os",
          .explain = R"(Only with --aiofiles-os (or `aiofiles-os = true` in [tool.awaitify]).
Before:
    async def remove_upload(path: str) -> None:
        if os.path.exists(path):
            os.remove(path)
After:
    async def remove_upload(path: str) -> None:
        if await aiofiles.os.path.exists(path):
            await aiofiles.os.remove(path)

In code that is async (already, or made so by the closure), the calls aiofiles 24.1 has run in
its thread pool: os.stat, rename, renames, replace, remove, unlink, mkdir, makedirs, rmdir,
removedirs, symlink, readlink, listdir, scandir, access, link, sendfile, statvfs, and
os.path.exists, isfile, isdir, islink, ismount, getsize, getmtime, getatime, getctime,
samefile, sameopenfile; awaited with the right precedence (`(await aiofiles.os.stat(p)).st_size`).
`import aiofiles.os` is added once; `import os` / `from os.path import exists` go when nothing
else uses them. os.getcwd and os.path.abspath stay: they read no disk. os.walk, shutil and the
rest of os have no aiofiles form (--wrap-blocking runs them in the thread pool).

These calls are cheap: without the flag nothing changes, and with it they never make a function
async, and those in sync code stay without a finding. In async code, a call inside a lambda or
a generator expression stays, with a finding. `with await aiofiles.os.scandir(p) as it:` opens
the directory in the thread pool; each step of iterating it still reads on the event loop.)",
          .triggers = {"os"},
          .run = run,
          .enabled_by = kSetting});
}

}  // namespace awaitify
