#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "awaitify/emit.hpp"

namespace awaitify {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int) { g_interrupted = 1; }

std::string errno_text() { return std::strerror(errno); }

bool still_holds(const std::string& path, std::string_view expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str() == expected;
}

}  // namespace

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (written == 0) return false;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

bool interrupted() { return g_interrupted != 0; }

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

Status write_atomically(const std::string& path, std::string_view expected, std::string_view bytes) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Error{path + ": " + errno_text()};
  // The rename below would replace a read-only file (it needs only the directory to be
  // writable, and root passes every check): honour the file's own mode instead.
  if ((info.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0) {
    return Error{path + ": read-only file; not changed (make it writable to apply)"};
  }
  std::filesystem::path target(path);
  std::string temp = (target.parent_path() / ("." + target.filename().string() + ".awaitify-XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return Error{path + ": cannot create a temporary file beside it: " + errno_text()};
  auto fail = [&](const std::string& why) {
    ::close(fd);
    ::unlink(temp.c_str());
    return Error{path + ": " + why};
  };
  if (!write_all(fd, bytes)) return fail("write failed: " + errno_text());
  if (::fchmod(fd, info.st_mode & 07777) != 0) return fail("cannot keep the file mode: " + errno_text());
  if (::fchown(fd, info.st_uid, info.st_gid) != 0) { /* not owner: the new file is ours */ }
  if (::fsync(fd) != 0) return fail("fsync failed: " + errno_text());
  if (!still_holds(path, expected)) {
    return fail("changed on disk since it was read; not overwritten (run again)");
  }
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return Error{path + ": close failed: " + errno_text()};
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(temp.c_str());
    return Error{path + ": rename failed: " + why};
  }
  int dir = ::open(target.parent_path().empty() ? "." : target.parent_path().c_str(), O_RDONLY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

}  // namespace awaitify
