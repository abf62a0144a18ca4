#pragma once
// Runs the awaitify binary the way a user or a hook would, for the audit/verify/check tests.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "test_util.hpp"

namespace awaitify::testing_util {

struct CliOutput {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs `awaitify <arguments>` (or, with raw, the command line as given) in dir.
inline CliOutput run_awaitify(const std::filesystem::path& dir, const std::string& arguments,
                              bool raw = false) {
  std::filesystem::path err_file = dir / ".awaitify-stderr";
  std::string binary = AWAITIFY_BINARY;
  std::string bin_dir = std::filesystem::path(binary).parent_path().string();
  std::string command = "cd '" + dir.string() + "' && PATH='" + bin_dir + "':\"$PATH\" " +
                        (raw ? arguments : binary + " " + arguments) + " 2>'" + err_file.string() +
                        "'";
  CliOutput output;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.out.append(buffer, n);
  int status = ::pclose(pipe);
  output.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  output.err = read_file(err_file);
  std::filesystem::remove(err_file);
  return output;
}

}  // namespace awaitify::testing_util
