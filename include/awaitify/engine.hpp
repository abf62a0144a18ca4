#pragma once
// One run: read and parse every file (in parallel, extracting index facts and dropping trees),
// build the index once, then run the selected passes on each file that can match.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "awaitify/index.hpp"
#include "awaitify/result.hpp"
#include "awaitify/source.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

class FactsCache;

struct Selection {
  std::vector<std::string> phases;  // empty: every phase
  std::set<std::string> only;       // transform IDs; empty: all of the phases'
  std::set<std::string> skip;
};

// The transforms a selection runs, in phase order; an Error names an unknown phase or ID.
Result<std::vector<const TransformInfo*>> select_transforms(const Selection& selection);

struct FileOutcome {
  std::string path;
  SourceFile original;
  std::string result;  // the new text (without BOM); equal to original.text() when unchanged
  std::vector<Finding> findings;
  std::map<std::string, int> edits_by_transform;
  std::optional<std::string> input_error;   // the file could not be read or parsed: untouched
  std::optional<std::string> engine_error;  // a pass misbehaved: the file is left untouched
  bool skipped = false;                     // `# awaitify: skip-file`: no pass ran
  // The `# awaitify: ignore` comments whose lines' edits were dropped: (rule, "path:line"). The
  // plan lists those that kept functions out of the closure (Plan::suppressed).
  std::set<std::pair<std::string, std::string>> suppressed;
  std::vector<std::string> directive_warnings;  // Suppressions::warnings: unreadable, unknown IDs

  bool changed() const { return !input_error && !engine_error && result != original.text(); }
  std::string result_bytes() const;  // with the BOM when the original had one
};

struct RunOptions {
  unsigned jobs = 0;   // 0: every core
  bool expand = true;  // the closure may change callers outside the selected files
  // Other files of the project: indexed (so the closure sees every caller) but written only
  // when the closure pulls them in.
  std::vector<std::string> context_paths;
  Settings settings;
  // Called as files are done ("indexing" / "rewriting", done, total), from worker threads one
  // at a time; empty: no progress reports.
  std::function<void(const char* stage, size_t done, size_t total)> progress;
  // Index facts of unchanged files from .awaitify_cache/ (and new ones stored there); null: none.
  FactsCache* cache = nullptr;
  // Seeds the plan keeps as they are, with everything that depends on them (PlanOptions::held).
  std::set<std::string> held{};
  // The index of exactly these files, built already (check's ProjectView): the run uses it
  // instead of reading the whole project again. Null: the run builds its own.
  const ProjectIndex* index = nullptr;
  // Whether the outcome of a file the run leaves as it is keeps its text (`original` and
  // `result`). A command that only prints or writes what changed turns it off: on a large
  // project those texts would be held to the end of the run for nothing.
  bool keep_unchanged_texts = true;
};

struct RunResult {
  std::vector<FileOutcome> outcomes;  // the selected files in order, then files pulled in
  Plan plan;
};

// Runs the transforms over a set of files.
RunResult run(const std::vector<std::string>& paths,
              const std::vector<const TransformInfo*>& transforms, const RunOptions& options = {});

// The seeds of the selected transforms, limited to functions defined in the selected files,
// found on `jobs` threads (0: every core).
std::vector<Seed> collect_seeds(const ProjectIndex& index,
                                const std::vector<const TransformInfo*>& transforms,
                                const std::set<std::string>& selected_paths, unsigned jobs = 0,
                                const Settings& settings = Settings{});

// What `# awaitify: ignore` comments suppressed in a run, by rule: each comment once per rule,
// whether it held a function in the plan or dropped a pass's edits (or both).
std::map<std::string, size_t> count_suppressed(const Plan& plan,
                                               const std::vector<FileOutcome>& outcomes);

// Runs the passes over one file already read (tests, stdin).
FileOutcome transform_source(const SourceFile& source, const ProjectIndex& index, const Plan& plan,
                             const std::vector<const TransformInfo*>& transforms,
                             const Settings& settings = {});

// Parses and extracts facts for one file; an Error is the user-facing reason it cannot be used.
Result<ModuleFacts> facts_for(const SourceFile& source);
// The same through a cache (may be null): a hit skips the parse, a miss is stored. A file that
// is parsed is read by the `read_with_tree` of those of `transforms` that have one.
Result<ModuleFacts> facts_for(const SourceFile& source, FactsCache* cache,
                              const std::vector<const TransformInfo*>& transforms = {});

}  // namespace awaitify
