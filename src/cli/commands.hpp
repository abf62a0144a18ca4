#pragma once
// The read-only commands and the pre-commit entry points: audit, verify and check. main.cpp
// registers them and hands over when one of them was given.
#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace awaitify::cli {

struct ReportOptions {
  std::vector<std::string> paths;
  std::vector<std::string> phases;
  std::vector<std::string> only;
  std::vector<std::string> skip;
  unsigned jobs = 0;
  int verbosity = 0;
  bool quiet = false;
  bool no_expand = false;
  std::string color = "auto";
  std::string format = "text";
  std::string config;
  bool show_diff = false;    // check --diff
  bool apply = false;        // check --apply
  bool no_estimate = false;  // audit --no-estimate
  bool no_cache = false;     // --no-cache: neither read nor write .awaitify_cache/
  std::map<std::string, std::string>
      settings;  // --http-client, --wrap-blocking, ... (as for apply)
};

// The log every command writes to stderr: errors only when quiet, more with each -v.
void configure_logging(bool quiet, int verbosity);

// --target LIBRARY=VERSION: why it is not a known target (empty when it is), as the
// configuration's `targets` table checks it.
std::string check_target_option(const std::string& spec);

class ReportCommands {
 public:
  // Adds the subcommands to app.
  explicit ReportCommands(CLI::App& app);
  // After parsing: the exit code of the command given, or nullopt when it was none of these.
  std::optional<int> run();

 private:
  CLI::App* audit_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* check_ = nullptr;
  ReportOptions audit_options_, verify_options_, check_options_;
};

}  // namespace awaitify::cli
