// How a project runs its async tests, read from pytest's configuration and the tests
// themselves: pytest-asyncio in strict mode (its default: every async test needs its marker),
// in auto mode (none needed), or anyio's pytest plugin (pytest.mark.anyio).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "awaitify/discover.hpp"
#include "tests_client.hpp"

namespace awaitify::aw80x {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string trim(std::string text) {
  size_t start = text.find_first_not_of(" \t\r");
  size_t end = text.find_last_not_of(" \t\r");
  return start == std::string::npos ? std::string() : text.substr(start, end - start + 1);
}

std::string unquote(std::string value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

// The `key = value` lines of one [section] of an ini or toml file; an ini value continued on
// indented lines is joined. nullopt when the file has no such section.
std::optional<std::map<std::string, std::string>> section_values(const std::string& text,
                                                                  const std::string& section) {
  std::map<std::string, std::string> values;
  bool found = false, inside = false;
  std::string last;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '#' || stripped[0] == ';') continue;
    if (stripped[0] == '[') {
      inside = stripped == "[" + section + "]";
      found |= inside;
      continue;
    }
    if (!inside) continue;
    size_t equals = stripped.find_first_of("=:");
    bool continued = (line[0] == ' ' || line[0] == '\t') && !last.empty();
    if (continued || equals == std::string::npos) {
      if (!last.empty()) values[last] += " " + stripped;
      continue;
    }
    last = trim(stripped.substr(0, equals));
    values[last] = unquote(trim(stripped.substr(equals + 1)));
  }
  if (!found) return std::nullopt;
  return values;
}

// pytest's own order: the first of these files that has its section configures the run.
std::map<std::string, std::string> pytest_ini(const fs::path& root) {
  static const std::vector<std::pair<std::string, std::string>> candidates{
      {"pytest.ini", "pytest"}, {".pytest.ini", "pytest"}, {"pyproject.toml", "tool.pytest.ini_options"},
      {"tox.ini", "pytest"}, {"setup.cfg", "tool:pytest"}};
  for (const auto& [file, section] : candidates) {
    if (!fs::exists(root / file)) continue;
    if (auto values = section_values(read_text(root / file), section)) return *values;
  }
  return {};
}

bool declares_asgi_lifespan(const fs::path& root) {
  std::vector<fs::path> files{root / "pyproject.toml", root / "setup.cfg", root / "setup.py"};
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("requirements", 0) == 0 && entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  for (const fs::path& file : files) {
    if (!fs::exists(file)) continue;
    std::string text = read_text(file);
    if (text.find("asgi-lifespan") != std::string::npos || text.find("asgi_lifespan") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

PytestSetup read_pytest_setup(const ProjectIndex& index, const std::vector<std::shared_ptr<const FileFacts>>& files) {
  (void)index;
  PytestSetup setup;
  bool anyio = false, asyncio = false;
  std::string a_test;
  for (const auto& file : files) {
    anyio |= file->anyio_marks;
    asyncio |= file->asyncio_marks;
    setup.asgi_lifespan |= file->asgi_lifespan;
    if (a_test.empty() && file->test_file) a_test = file->path;
  }
  if (a_test.empty()) return setup;
  fs::path root = find_project_root({a_test});
  std::map<std::string, std::string> ini = pytest_ini(root);
  std::string addopts = ini["addopts"];
  bool auto_mode = ini["asyncio_mode"] == "auto" || addopts.find("asyncio-mode=auto") != std::string::npos ||
                   addopts.find("asyncio_mode=auto") != std::string::npos;
  setup.default_loop_scope = ini["asyncio_default_fixture_loop_scope"];
  // anyio's plugin loads itself when anyio is installed; `-p anyio` says the project relies on it.
  anyio |= addopts.find("-p anyio") != std::string::npos || addopts.find("-panyio") != std::string::npos;
  if (auto_mode) setup.runner = Runner::asyncio_auto;
  else if (anyio && !asyncio) setup.runner = Runner::anyio;
  setup.asgi_lifespan |= declares_asgi_lifespan(root);
  return setup;
}

}  // namespace awaitify::aw80x
