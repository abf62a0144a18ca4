#include "awaitify/git_baseline.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "awaitify/source.hpp"

namespace awaitify {

namespace {

namespace fs = std::filesystem;

// Runs a program (no shell: arguments pass as they are; posix_spawn, safe beside the parser
// threads) with stdin and stderr on /dev/null and returns its stdout, or nullopt when it cannot
// start or exits non-zero.
std::optional<std::string> run_for_output(const std::vector<std::string>& arguments) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t child = 0;
  int spawned = ::posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    ::close(out[0]);
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

}  // namespace

Baseline committed_baseline(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(fs::path(path), error).lexically_normal();
  if (error) return {};
  std::string directory = absolute.parent_path().string();
  // `HEAD:./name` is resolved from the directory git runs in, so no path above it is needed.
  auto bytes =
      run_for_output({"git", "-C", directory, "show", "HEAD:./" + absolute.filename().string()});
  Baseline baseline;
  if (!bytes) {
    // Not at HEAD: a new file of a repository, or no repository at all.
    baseline.versioned =
        run_for_output({"git", "-C", directory, "rev-parse", "--is-inside-work-tree"}) ==
        std::optional<std::string>("true\n");
    return baseline;
  }
  auto source = SourceFile::from_bytes(path, std::move(*bytes));
  if (!source) return {};
  baseline.versioned = true;
  baseline.committed = source->text();
  return baseline;
}

}  // namespace awaitify
