#pragma once
// Output of a run: unified diffs for review, and atomic in-place writes.
#include <string>
#include <string_view>

#include "awaitify/result.hpp"

namespace awaitify {

// A unified diff (`--- a/path`, `+++ b/path`, hunks with `context` lines) that `git apply` and
// `patch -p1` accept; empty when the texts are equal. Line endings are part of the lines, and a
// missing final newline is marked as diff does.
std::string unified_diff(const std::string& path, std::string_view before, std::string_view after,
                         int context = 3);

// Replaces a file's content atomically: a temporary file in the same directory, fsync, rename.
// Keeps the file's mode. Refuses (an Error, nothing written) when the file on disk no longer
// holds `expected`, the bytes that were read and transformed.
Status write_atomically(const std::string& path, std::string_view expected, std::string_view bytes);

// Writes every byte at the file offset of `fd`, again after EINTR; false on any other failure.
bool write_all(int fd, std::string_view bytes);

// Set by SIGINT/SIGTERM: writes stop between files, so every file is done or untouched.
bool interrupted();
void install_interrupt_handlers();

}  // namespace awaitify
