#pragma once
// The committed version of a file, for the ratchet (verify rule AWV010): a module whose
// committed path operations were all async must stay so.
#include <string>

#include "awaitify/verify.hpp"

namespace awaitify {

// The text of `path` at HEAD in the git repository that holds it (`git show HEAD:./name`, run
// in the file's directory without a shell); `versioned` without a text when the file is in a
// repository but not at HEAD (new, untracked, no commit yet); neither when there is no
// repository to ask (not in one, git missing) or the committed bytes are not valid UTF-8.
Baseline committed_baseline(const std::string& path);

}  // namespace awaitify
