#pragma once
// `apply --interactive`: one change set at a time, as a diff against what is accepted so far,
// with a y/n/a/q answer read from a line of input. Nothing is written here: the review ends with
// the seeds to hold, and apply runs the engine once more with them and writes the result.
#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>

#include "awaitify/engine.hpp"

namespace awaitify::cli {

struct Review {
  std::set<std::string> held;  // seeds of every set not accepted
  size_t sets = 0, accepted = 0, rejected = 0;
  bool stopped = false;      // q, or the input ended: the sets not yet answered were rejected
  bool interrupted = false;  // Ctrl-C: nothing may be written
  // The bytes of each file as the review read them: what is written must start from them.
  std::map<std::string, std::string> originals;
};

// Runs the engine with the given seeds held (the plain run's options otherwise).
using HeldRun = std::function<RunResult(const std::set<std::string>& held)>;
// Where the review talks: answers come a line at a time from `answers`; sets, diffs and
// questions go to `out`, diffs through `style` (colour).
struct ReviewIo {
  std::istream& answers;
  std::ostream& out;
  std::function<std::string(const std::string& diff)> style;
  bool echo_answers = false;  // answers piped in: each is printed after its question
};

// Offers the change sets of `plain` (the run with nothing held) in order. Each is shown as the
// difference between the run with the sets accepted so far plus this one released and the run
// with only those accepted; the first set accepted also brings the changes that make no
// function async (they exist with every set held, and each set may rely on them).
Review review_change_sets(const RunResult& plain, const HeldRun& run_held, const ReviewIo& io);

}  // namespace awaitify::cli
