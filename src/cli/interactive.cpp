#include "interactive.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

#include "awaitify/change_sets.hpp"
#include "awaitify/emit.hpp"

namespace awaitify::cli {

namespace {

// A file's text once the run's passes went over it (as read when they changed nothing or failed).
std::string text_after(const FileOutcome& outcome) {
  return outcome.changed() ? outcome.result : outcome.original.text();
}

bool changes_anything(const RunResult& result) {
  return std::any_of(result.outcomes.begin(), result.outcomes.end(),
                     [](const FileOutcome& outcome) { return outcome.changed(); });
}

// What a run changes beyond the texts accepted so far (`accepted`: path -> text; a file not in
// it is as read).
struct Difference {
  std::string diff;
  std::vector<std::string> files;
  std::map<std::string, std::string> texts;  // the run's text of each file it touches
};

Difference difference(const std::map<std::string, std::string>& accepted, const RunResult& run) {
  Difference difference;
  for (const FileOutcome& outcome : run.outcomes) {
    auto known = accepted.find(outcome.path);
    std::string before = known == accepted.end() ? outcome.original.text() : known->second;
    std::string after = text_after(outcome);
    if (before == after) continue;
    difference.diff += unified_diff(outcome.path, before, after);
    difference.files.push_back(outcome.path);
    difference.texts[outcome.path] = std::move(after);
  }
  return difference;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// "module-level code of m" for the index's name of a module's top level ("m.<module>").
std::string readable(const std::string& function) {
  const std::string top_level = ".<module>";
  if (function.size() <= top_level.size() ||
      function.compare(function.size() - top_level.size(), top_level.size(), top_level) != 0)
    return function;
  return "module-level code of " + function.substr(0, function.size() - top_level.size());
}

// "makes async a, b; awaits the calls of c; changes d" for the header of a set.
std::string what_it_does(const ChangeSet& set, const Plan& plan) {
  std::vector<std::string> made_async, repaired, other;
  for (const std::string& function : set.functions) {
    if (plan.becomes_async(function))
      made_async.push_back(function);
    else if (plan.repairs(function))
      repaired.push_back(function);
    else if (plan.migrates(function))
      other.push_back(readable(function));
  }
  std::vector<std::string> parts;
  if (!made_async.empty()) parts.push_back("makes async " + joined(made_async));
  if (!repaired.empty()) parts.push_back("awaits the calls of " + joined(repaired));
  if (!other.empty()) parts.push_back("changes " + joined(other));
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : "; ") + part;
  return text.empty() ? "changes that make no function async" : text;
}

enum class Answer { yes, no, all, quit, end_of_input, interrupted };

std::string trimmed_lower(const std::string& line) {
  std::string text;
  for (char c : line) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// Asks until a line says y(es), n(o), a(ll) or q(uit). Ctrl-C interrupts the read itself.
Answer read_answer(const ReviewIo& io) {
  std::ostream& out = io.out;
  for (;;) {
    out << "Apply this change set? [y,n,a(ll),q(uit)] " << std::flush;
    std::string line;
    if (!std::getline(io.answers, line)) {
      out << "\n";
      return interrupted() ? Answer::interrupted : Answer::end_of_input;
    }
    if (io.echo_answers) out << line << "\n";
    std::string word = trimmed_lower(line);
    if (word == "y" || word == "yes") return Answer::yes;
    if (word == "n" || word == "no") return Answer::no;
    if (word == "a" || word == "all") return Answer::all;
    if (word == "q" || word == "quit") return Answer::quit;
    out << "Please answer y (apply this set), n (leave it as it is), a (apply it and every set "
           "after it) or q (apply none of the sets after it).\n";
  }
}

void print_header(std::ostream& out, size_t number, size_t total, const ChangeSet& set,
                  const Plan& plan, const Difference& shown, bool brings_unseeded) {
  out << "awaitify: change set " << number << " of " << total << ": " << what_it_does(set, plan)
      << "\n  files: " << joined(shown.files) << "\n";
  if (brings_unseeded) {
    out << "  with it come the changes that make no function async (module-level additions "
           "such as a provider, a client, a lifespan): the first set applied brings them\n";
  }
}

// One set with no seeds stands for a run whose changes make no function async.
std::vector<ChangeSet> sets_to_offer(const RunResult& plain) {
  std::vector<ChangeSet> sets = change_sets(plain.plan);
  if (sets.empty() && changes_anything(plain)) sets.emplace_back();
  return sets;
}

}  // namespace

Review review_change_sets(const RunResult& plain, const HeldRun& run_held, const ReviewIo& io) {
  Review review;
  for (const FileOutcome& outcome : plain.outcomes)
    review.originals[outcome.path] = outcome.original.bytes();
  std::vector<ChangeSet> sets = sets_to_offer(plain);
  review.sets = sets.size();
  std::vector<bool> released(sets.size(), false);
  // Whether the first set applied brings changes of its own that belong to no set.
  bool unseeded_pending = false;
  if (!sets.empty() && !sets.front().seeds.empty())
    unseeded_pending = changes_anything(run_held(held_seeds(sets, released)));
  std::map<std::string, std::string> accepted_texts;
  for (size_t k = 0; k < sets.size(); ++k) {
    if (interrupted()) {
      review.interrupted = true;
      return review;
    }
    released[k] = true;
    RunResult preview = sets[k].seeds.empty() ? plain : run_held(held_seeds(sets, released));
    Difference shown = difference(accepted_texts, preview);
    if (shown.files.empty()) continue;  // nothing of its own beyond what is accepted: kept
    print_header(io.out, k + 1, sets.size(), sets[k], plain.plan, shown,
                 unseeded_pending && review.accepted == 0);
    io.out << io.style(shown.diff);
    Answer answer = read_answer(io);
    if (answer == Answer::interrupted) {
      review.interrupted = true;
      return review;
    }
    if (answer == Answer::yes || answer == Answer::all) {
      for (auto& [path, text] : shown.texts) accepted_texts[path] = std::move(text);
      ++review.accepted;
    } else {
      released[k] = false;
      ++review.rejected;
    }
    size_t rest = sets.size() - k - 1;
    if (answer == Answer::all) {
      std::fill(released.begin() + static_cast<long>(k), released.end(), true);
      review.accepted += rest;
      break;
    }
    if (answer == Answer::quit || answer == Answer::end_of_input) {
      review.rejected += rest;
      review.stopped = true;
      break;
    }
  }
  review.held = held_seeds(sets, released);
  return review;
}

}  // namespace awaitify::cli
