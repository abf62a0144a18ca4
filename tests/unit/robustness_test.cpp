// Bad input and bad moments, driving the binary as users do (issue 9): every case ends with a
// clear error or a correct result, no file half-written, and every other file done or untouched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// Runs the binary in dir with a shell command line of arguments (prefix: e.g. setpriv ...).
Output run_cli(const fs::path& dir, const std::string& arguments, const std::string& prefix = "",
               const std::string& stdin_file = "") {
  fs::path err_file = fs::temp_directory_path() / ("awaitify-robust-err-" + std::to_string(::getpid()));
  std::string command = "cd " + quoted(dir.string()) + " && " + prefix + " " + AWAITIFY_BINARY + " " +
                        arguments + " 2>" + quoted(err_file.string());
  if (!stdin_file.empty()) command += " < " + quoted(stdin_file);
  Output output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.out.append(buffer, n);
  int status = ::pclose(pipe);
  output.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  output.err = read_file(err_file);
  fs::remove(err_file);
  return output;
}

// Starts `awaitify arguments...` in dir without waiting; stderr goes to err_file.
pid_t spawn_cli(const fs::path& dir, const std::vector<std::string>& arguments, const fs::path& err_file) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::chdir(dir.c_str()) != 0) ::_exit(127);
  int null = ::open("/dev/null", O_WRONLY);
  int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(null, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  std::vector<char*> argv{const_cast<char*>("awaitify")};
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  ::execv(AWAITIFY_BINARY, argv.data());
  ::_exit(127);
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits (at most 120 s) for an inotify event of `mask` on path; false on timeout.
class Watch {
 public:
  Watch(const fs::path& path, uint32_t mask) : fd_(::inotify_init1(IN_CLOEXEC)) {
    ::inotify_add_watch(fd_, path.c_str(), mask);
  }
  ~Watch() { ::close(fd_); }
  bool wait() {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 120000) <= 0) return false;
    char buffer[4096];
    return ::read(fd_, buffer, sizeof buffer) > 0;
  }

 private:
  int fd_;
};

const std::string kApp =
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/\")\ndef root():\n"
    "    return {\"ok\": True}\n\n\n@app.middleware(\"http\")\ndef timing(request, call_next):\n"
    "    response = call_next(request)\n    return response\n";

// What the routes and middleware phases make of any spelling of kApp: the same bytes with
// three words added.
std::string migrated(std::string text) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"def root", "async def root"},
                          {"def timing", "async def timing"},
                          {"= call_next(", "= await call_next("}}) {
    size_t at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  return text;
}
const std::string kAppAfter = migrated(kApp);

bool parses_cleanly(const std::string& text) {
  Parser parser;
  auto tree = parser.parse(text);
  return tree.ok() && count_syntax_errors(tree->root()) == 0;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> temp_files_in(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (contains(entry.path().filename().string(), ".awaitify-")) found.push_back(entry.path().string());
  }
  return found;
}

// Root reads every directory whatever its mode, so as root the binary runs as nobody
// (setpriv) for permissions to mean anything: the command prefix, "" when not root, or "skip".
std::string nobody_prefix() {
  if (::geteuid() != 0) return "";
  if (std::system("command -v setpriv >/dev/null 2>&1") != 0) return "skip";
  return "setpriv --reuid=65534 --regid=65534 --clear-groups";
}

// Hands a test folder to nobody; false when nobody cannot run the binary from there.
bool give_to_nobody(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (::chown(entry.path().c_str(), 65534, 65534) != 0) return false;
  }
  if (::chown(dir.c_str(), 65534, 65534) != 0) return false;
  return run_cli(dir, "--version", nobody_prefix()).status == 0;
}

}  // namespace

TEST(Robustness, EmptyCommentOnlyAndBomOnlyFilesAreNotErrors) {
  TempDir dir;
  write_file(dir.path() / "empty.py", "");
  write_file(dir.path() / "comments.py", "# only\n#   comments\n");
  write_file(dir.path() / "bom_only.py", "\xEF\xBB\xBF");
  write_file(dir.path() / "blank.py", "\n\n   \n\t\n");
  write_file(dir.path() / "app.py", kApp);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 0) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "empty.py"), "");
  EXPECT_EQ(read_file(dir.path() / "comments.py"), "# only\n#   comments\n");
  EXPECT_EQ(read_file(dir.path() / "bom_only.py"), "\xEF\xBB\xBF");
  EXPECT_EQ(read_file(dir.path() / "blank.py"), "\n\n   \n\t\n");
  EXPECT_EQ(read_file(dir.path() / "app.py"), kAppAfter);
  Output again = run_cli(dir.path(), "diff .");
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

TEST(Robustness, NulByteIsAClearErrorAndTheFileIsLeftAsItWas) {
  TempDir dir;
  std::string with_nul = kApp;
  with_nul.insert(with_nul.find("return {"), std::string("x = 1\0\n    ", 11));
  write_file(dir.path() / "nul.py", with_nul);
  write_file(dir.path() / "good.py", kApp);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 2);
  EXPECT_TRUE(contains(apply.err, "awaitify: error: nul.py:8:")) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "nul.py"), with_nul);
  EXPECT_EQ(read_file(dir.path() / "good.py"), kAppAfter);
  // Editor use: stdin gets the same error, and its bytes back unchanged.
  Output stdin_run = run_cli(dir.path(), "apply -", "", (dir.path() / "nul.py").string());
  EXPECT_EQ(stdin_run.status, 2);
  EXPECT_EQ(stdin_run.out, with_nul);
}

TEST(Robustness, InvalidUtf8IsAClearErrorWithItsPosition) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> cases{
      {"truncated.py", kApp + "x = '\xE2\x82'\n"},       // a 3-byte sequence cut short
      {"overlong.py", kApp + "x = '\xC0\xAF'\n"},        // an overlong '/'
      {"surrogate.py", kApp + "x = '\xED\xA0\x80'\n"},   // a UTF-16 surrogate
      {"latin1.py", "# -*- coding: latin-1 -*-\n" + kApp + "x = 'caf\xE9'\n"},
      {"cut_at_end.py", kApp + "x = 1  # \xF0\x9F\x98"},  // the file ends inside a character
  };
  for (const auto& [name, text] : cases) write_file(dir.path() / name, text);
  write_file(dir.path() / "good.py", kApp);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 2);
  for (const auto& [name, text] : cases) {
    EXPECT_TRUE(contains(apply.err, "awaitify: error: " + name + ":")) << name << "\n" << apply.err;
    EXPECT_EQ(read_file(dir.path() / name), text) << name;
  }
  EXPECT_TRUE(contains(apply.err, "not valid UTF-8")) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "good.py"), kAppAfter);
}

TEST(Robustness, BomCrlfMixedLineEndingsAndTabsKeepEveryOtherByte) {
  TempDir dir;
  std::string crlf;
  for (char c : kApp) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  // Mixed: every other line ends in CRLF.
  std::string mixed;
  bool cr = false;
  for (char c : kApp) {
    if (c == '\n' && (cr = !cr)) mixed += '\r';
    mixed += c;
  }
  std::string tabs = kApp;
  for (size_t at = tabs.find("\n    "); at != std::string::npos; at = tabs.find("\n    ", at)) {
    tabs.replace(at + 1, 4, "\t");
  }
  std::vector<std::pair<std::string, std::string>> cases{
      {"bom_crlf.py", "\xEF\xBB\xBF" + crlf},
      {"mixed.py", mixed},
      {"tabs.py", tabs},
      {"tabs_crlf_bom.py", "\xEF\xBB\xBF" + [&] {
         std::string text;
         for (char c : tabs) text += c == '\n' ? std::string("\r\n") : std::string(1, c);
         return text;
       }()},
  };
  for (const auto& [name, text] : cases) write_file(dir.path() / name, text);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 0) << apply.err;
  for (const auto& [name, text] : cases) EXPECT_EQ(read_file(dir.path() / name), migrated(text)) << name;
  Output again = run_cli(dir.path(), "diff .");
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

TEST(Robustness, OldMacLineEndingsAreAClearErrorNotASilentSkip) {
  // Python reads a lone CR as a newline, tree-sitter-python does not: it sees one long line
  // with MISSING newline tokens. Such a file is refused by name and left as it was, never
  // passed over as if there were nothing to migrate.
  TempDir dir;
  std::string cr = kApp;
  for (char& c : cr) c = c == '\n' ? '\r' : c;
  write_file(dir.path() / "cr.py", cr);
  write_file(dir.path() / "good.py", kApp);
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 2) << apply.err;
  EXPECT_TRUE(contains(apply.err, "awaitify: error: cr.py:1:")) << apply.err;
  EXPECT_TRUE(contains(apply.err, "syntax error (invalid syntax); file left unchanged"))
      << apply.err;
  EXPECT_EQ(read_file(dir.path() / "cr.py"), cr);
  EXPECT_EQ(read_file(dir.path() / "good.py"), kAppAfter);
}

TEST(Robustness, AFiftyMegabyteFileIsRefusedClearlyAndTheOthersStillRun) {
  TempDir dir;
  std::string block;
  for (int i = 0; i < 100; ++i) {
    block += "def helper_" + std::to_string(i) + "(x, y=2):\n    total = x + y * " + std::to_string(i) +
             "\n    return [total, str(total), {\"k\": total}]\n\n\n";
  }
  std::string big = kApp + "\n\n";
  while (big.size() < 50u << 20) big += block;
  write_file(dir.path() / "big.py", big);
  write_file(dir.path() / "good.py", kApp);
  auto start = std::chrono::steady_clock::now();
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 2);
  EXPECT_TRUE(contains(apply.err, "awaitify: error: big.py: too large to migrate (50 MB")) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "big.py"), big);
  EXPECT_EQ(read_file(dir.path() / "good.py"), kAppAfter);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(Robustness, TenThousandLevelsOfNestingDoNotCrash) {
  TempDir dir;
  const int depth = 10000;
  auto repeat = [](const std::string& text, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += text;
    return out;
  };
  std::vector<std::pair<std::string, std::string>> expressions{
      {"parens", repeat("(", depth) + "1" + repeat(")", depth)},
      {"calls", repeat("f(", depth) + "1" + repeat(")", depth)},
      {"lists", repeat("[", depth) + repeat("]", depth)},
      {"dicts", repeat("{1: ", depth) + "1" + repeat("}", depth)},
      {"attributes", "a" + repeat(".b", depth) + "()"},
      {"calls_on_calls", "a" + repeat("()", depth)},
      {"binary", "1" + repeat(" + 1", depth)},
      {"lambdas", repeat("lambda: ", depth) + "1"},
      {"call_next", repeat("f(call_next(", depth) + "1" + repeat("))", depth)},
      {"not", repeat("not ", depth) + "x"},
      {"unary", repeat("-", depth) + "1"},
  };
  for (const auto& [name, expression] : expressions) {
    write_file(dir.path() / (name + ".py"), kApp + "\n\n@app.get(\"/deep\")\ndef deep():\n    return " +
                                                expression + "\n");
  }
  // Every file is migrated: the walks are iterative, so depth is no reason to give up.
  Output diff = run_cli(dir.path(), "diff .");
  EXPECT_EQ(diff.status, 1) << diff.err;
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 0) << apply.err;
  for (const auto& [name, expression] : expressions) {
    std::string text =
        kApp + "\n\n@app.get(\"/deep\")\ndef deep():\n    return " + expression + "\n";
    std::string after = read_file(dir.path() / (name + ".py"));
    std::string expected = migrated(text);
    expected.replace(expected.find("def deep"), 8, "async def deep");
    EXPECT_EQ(after, expected) << name;
    EXPECT_TRUE(parses_cleanly(after)) << name;
  }
  Output again = run_cli(dir.path(), "diff .");
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

TEST(Robustness, SymlinkLoopsAreSkippedInDirectoriesAndNamedWhenGiven) {
  TempDir dir;
  write_file(dir.path() / "pkg/good.py", kApp);
  fs::create_symlink("loop.py", dir.path() / "loop.py");          // a file link to itself
  fs::create_symlink("..", dir.path() / "pkg/up");                 // a directory cycle
  fs::create_symlink("pkg", dir.path() / "again");                 // a second way in
  fs::create_symlink("ping.py", dir.path() / "pong.py");           // two links to each other
  fs::create_symlink("pong.py", dir.path() / "ping.py");
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 0) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "pkg/good.py"), kAppAfter);
  Output named = run_cli(dir.path(), "diff loop.py");
  EXPECT_EQ(named.status, 2);
  EXPECT_EQ(named.err, "awaitify: error: loop.py: cannot be read: Too many levels of symbolic links\n");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "loop.py"));
}

TEST(Robustness, ApplyRefusesAReadOnlyFileAndStillDoesTheOthers) {
  TempDir dir;
  write_file(dir.path() / "locked.py", kApp);
  write_file(dir.path() / "open.py", kApp);
  ::chmod((dir.path() / "locked.py").c_str(), 0444);
  Output diff = run_cli(dir.path(), "diff locked.py");  // a dry run still shows the change
  EXPECT_EQ(diff.status, 1) << diff.err;
  Output apply = run_cli(dir.path(), "apply .");
  EXPECT_EQ(apply.status, 2);
  EXPECT_TRUE(contains(apply.err, "awaitify: error: locked.py: read-only file; not changed")) << apply.err;
  EXPECT_EQ(read_file(dir.path() / "locked.py"), kApp);
  struct stat info {};
  ::stat((dir.path() / "locked.py").c_str(), &info);
  EXPECT_EQ(info.st_mode & 0777, 0444u);
  EXPECT_EQ(read_file(dir.path() / "open.py"), kAppAfter);
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

TEST(Robustness, UnreadableDirectoriesAndFilesAreClearErrors) {
  std::string prefix = nobody_prefix();
  if (prefix == "skip")
    GTEST_SKIP() << "running as root without setpriv: permissions do not apply to root";
  TempDir dir;
  fs::path project = dir.path() / "project";
  write_file(project / "pyproject.toml", "");
  write_file(project / "secret/hidden.py", kApp);
  write_file(project / "open/good.py", kApp);
  write_file(project / "unreadable.py", kApp);
  if (!prefix.empty() && !give_to_nobody(dir.path())) {
    GTEST_SKIP() << "nobody cannot run " << AWAITIFY_BINARY
                 << " (a parent directory is not searchable)";
  }
  ::chmod((project / "secret").c_str(), 0);
  ::chmod((project / "unreadable.py").c_str(), 0);

  // A directory under the paths: the run stops before touching anything.
  Output walk = run_cli(project, "apply .", prefix);
  EXPECT_EQ(walk.status, 2);
  EXPECT_TRUE(contains(walk.err, "awaitify: error: secret: cannot be read: Permission denied")) << walk.err;
  EXPECT_EQ(read_file(project / "open/good.py"), kApp);
  // Named directly: the same error, not "no such file".
  Output named = run_cli(project, "diff secret/hidden.py", prefix);
  EXPECT_EQ(named.status, 2);
  EXPECT_TRUE(contains(named.err, "secret/hidden.py: cannot be read: Permission denied")) << named.err;
  // An unreadable file among readable ones: reported, the others still run.
  Output files = run_cli(project, "apply unreadable.py open/good.py", prefix);
  EXPECT_EQ(files.status, 2);
  EXPECT_TRUE(contains(files.err, "awaitify: error: unreadable.py: cannot be read")) << files.err;
  EXPECT_EQ(read_file(project / "open/good.py"), kAppAfter);
  ::chmod((project / "secret").c_str(), 0755);
  ::chmod((project / "unreadable.py").c_str(), 0644);
  EXPECT_EQ(read_file(project / "secret/hidden.py"), kApp);
  EXPECT_EQ(read_file(project / "unreadable.py"), kApp);
}

TEST(Robustness, AnUnreadableDirectoryOutsideTheSelectionIsNamedAndTheRestOfTheProjectIndexed) {
  // The whole project is indexed so that the closure sees every caller: a project directory
  // that cannot be read is left out with a warning naming it, and every other one still counts.
  std::string prefix = nobody_prefix();
  if (prefix == "skip") GTEST_SKIP() << "running as root without setpriv";
  TempDir dir;
  fs::path project = dir.path() / "project";
  write_file(project / "pyproject.toml", "");
  write_file(project / "app/__init__.py", "");
  write_file(project / "app/svc.py", "import time\n\n\ndef pause():\n    time.sleep(1)\n");
  write_file(project / "jobs/__init__.py", "");
  write_file(project / "jobs/nightly.py",
             "from app.svc import pause\n\n\ndef run():\n    pause()\n    return 1\n");
  write_file(project / "data/pgdata/loader.py", "x = 1\n");
  if (!prefix.empty() && !give_to_nobody(dir.path()))
    GTEST_SKIP() << "nobody cannot run the binary";
  ::chmod((project / "data/pgdata").c_str(), 0);
  const std::string warning =
      "awaitify: warning: data/pgdata: cannot be read (Permission denied); its Python files are "
      "not "
      "indexed";
  Output diff = run_cli(project, "diff app/svc.py", prefix);
  EXPECT_EQ(diff.status, 1) << diff.err;
  EXPECT_TRUE(contains(diff.err, warning)) << diff.err;
  // The readable rest of the project is still indexed: the caller in jobs/ is pulled in.
  EXPECT_TRUE(contains(diff.out, "+async def pause():")) << diff.out;
  EXPECT_TRUE(contains(diff.out, "+++ b/jobs/nightly.py")) << diff.out;
  EXPECT_TRUE(contains(diff.out, "+    await pause()")) << diff.out;
  Output check = run_cli(project, "check app/svc.py", prefix);
  EXPECT_EQ(check.status, 1) << check.err;
  EXPECT_TRUE(contains(check.out + check.err, warning)) << check.out << check.err;
  Output json = run_cli(project, "check --format json app/svc.py", prefix);
  EXPECT_TRUE(contains(json.out, "data/pgdata: cannot be read (Permission denied)")) << json.out;
  Output sarif = run_cli(project, "verify --format sarif app", prefix);
  EXPECT_TRUE(contains(sarif.err, warning)) << sarif.err;
  ::chmod((project / "data/pgdata").c_str(), 0755);
}

TEST(Robustness, ApplyNeverOverwritesAFileChangedOnDiskDuringTheRun) {
  TempDir dir;
  write_file(dir.path() / "a.py", kApp);
  write_file(dir.path() / "b.py", kApp);
  // A slow file read after a.py (one job, sorted order) leaves time to edit a.py mid-run.
  std::string slow = kApp;
  for (int i = 0; slow.size() < 300000; ++i) {
    slow += "\n\ndef helper_" + std::to_string(i) + "(x):\n    return [x, str(x), {\"k\": x}]\n";
  }
  write_file(dir.path() / "z_slow.py", slow);
  std::string edited = kApp + "# edited by hand while awaitify ran\n";
  fs::path err = dir.path() / "err.txt";
  Watch read_done(dir.path() / "a.py", IN_CLOSE_NOWRITE);
  pid_t pid = spawn_cli(dir.path(), {"apply", "--jobs", "1", "a.py", "b.py", "z_slow.py"}, err);
  ASSERT_TRUE(read_done.wait()) << "a.py was never read";
  {
    std::ofstream out(dir.path() / "a.py", std::ios::binary | std::ios::app);
    out << "# edited by hand while awaitify ran\n";
  }
  int code = wait_exit_code(pid);
  std::string errors = read_file(err);
  std::string a = read_file(dir.path() / "a.py");
  // The hand edit is never lost: either the file was refused (the current engine), or it was
  // read again and the edit migrated with the rest.
  EXPECT_TRUE(a == edited || a == migrated(edited)) << a;
  if (a == edited) {
    EXPECT_EQ(code, 2);
    EXPECT_TRUE(contains(errors, "a.py: changed on disk since it was read; not overwritten")) << errors;
  }
  EXPECT_EQ(read_file(dir.path() / "b.py"), kAppAfter);
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
}

// `apply` and `check --apply` write the same way, so they stop the same way.
struct Interruption {
  int signal;
  std::vector<std::string> command;
};

class InterruptedApply : public ::testing::TestWithParam<Interruption> {};

TEST_P(InterruptedApply, EveryFileIsWrittenWholeOrUntouchedAndNoTempFileIsLeft) {
  TempDir dir;
  const int count = 400;  // each write is fsynced: a few seconds in all
  for (int i = 0; i < count; ++i) write_file(dir.path() / ("m" + std::to_string(10000 + i) + ".py"), kApp);
  fs::path err = dir.path().parent_path() / (dir.path().filename().string() + ".err");
  Watch first_write(dir.path(), IN_MOVED_TO);
  pid_t pid = spawn_cli(dir.path(), GetParam().command, err);
  ASSERT_TRUE(first_write.wait()) << "no file was ever written";
  ::kill(pid, GetParam().signal);
  int code = wait_exit_code(pid);
  std::string errors = read_file(err);
  fs::remove(err);
  int written = 0, untouched = 0;
  for (int i = 0; i < count; ++i) {
    std::string text = read_file(dir.path() / ("m" + std::to_string(10000 + i) + ".py"));
    if (text == kAppAfter) ++written;
    else if (text == kApp) ++untouched;
    else ADD_FAILURE() << "m" << 10000 + i << ".py is half-written:\n" << text;
  }
  EXPECT_EQ(code, 130) << errors;
  EXPECT_GT(written, 0);
  EXPECT_GT(untouched, 0) << "the signal did not stop the run";
  EXPECT_TRUE(contains(errors, "interrupted")) << errors;
  EXPECT_TRUE(temp_files_in(dir.path()).empty());
  // What was left is done by the next run.
  Output rest = run_cli(dir.path(), "apply .");
  EXPECT_EQ(rest.status, 0) << rest.err;
  EXPECT_EQ(run_cli(dir.path(), "diff .").out, "");
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptedApply,
                         ::testing::Values(Interruption{SIGINT, {"apply", "."}},
                                           Interruption{SIGTERM, {"apply", "."}},
                                           Interruption{SIGINT, {"check", "--apply", "."}},
                                           Interruption{SIGTERM, {"check", "--apply", "."}}),
                         [](const ::testing::TestParamInfo<Interruption>& info) {
                           std::string name = info.param.signal == SIGINT ? "SIGINT" : "SIGTERM";
                           return name +
                                  (info.param.command[0] == "check" ? "_check_apply" : "_apply");
                         });
