#pragma once
// The passes' settings as command-line options (--http-client, --target, --wrap-blocking, ...),
// the same for diff, apply, plan and check, and the same as the [tool.awaitify] keys.
#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace awaitify::cli {

// Adds the options to command; each one given sets its key in values.
void add_pass_settings(CLI::App& command, std::map<std::string, std::string>& values);

}  // namespace awaitify::cli
