#pragma once
// A transform is one pass: it reads one parsed file plus the index and returns edits and
// findings. Every transform is registered once, in the table in transforms/registry.cpp.
#include <tree_sitter/api.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/index.hpp"
#include "awaitify/plan.hpp"
#include "awaitify/source.hpp"

namespace awaitify {

enum class Severity { note, warning, error };

struct Finding {
  std::string id;  // transform or rule ID, e.g. AW501
  std::string path;
  Position position;
  Severity severity = Severity::note;
  std::string message;
  // A choice the run made for the whole project (which lifespan manager the tests use): the
  // summary says it once, even without -v.
  bool summary = false;
};

// Choices a user makes for a run (`--http-client scoped`, `--wrap-blocking`, targets), by name.
struct Settings {
  std::map<std::string, std::string> values;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  bool flag(const std::string& key) const { return get(key) == "true"; }
};

struct TransformInfo;

struct FileContext {
  const SourceFile& source;
  TSNode root;
  const ModuleFacts& facts;
  const ProjectIndex& index;
  const Plan& plan;
  const Settings* settings = nullptr;
  // The transforms this run selected (null outside a run). A pass whose right result depends
  // on another pass of the run (AW202 rewrites except clauses only where AW201 migrates the
  // calls) asks runs(id).
  const std::vector<const TransformInfo*>* transforms = nullptr;
  // `facts` when they are of this very text (no earlier pass of the run changed the file),
  // else null: a pass that needs facts of the current text extracts them only then.
  const ModuleFacts* current_facts = nullptr;

  std::string_view text() const { return source.text(); }
  std::string setting(const std::string& key, const std::string& fallback = "") const {
    return settings ? settings->get(key, fallback) : fallback;
  }
  Finding finding(std::string id, TSNode at, Severity severity, std::string message) const;
  bool runs(std::string_view id) const;
};

struct PassResult {
  std::vector<Edit> edits;
  std::vector<Finding> findings;
};

using TransformFn = std::function<PassResult(const FileContext&)>;
// The functions a transform makes async, decided from the index before any pass runs, so the
// closure (AW401) can make their callers await them across files.
// The user's settings are given too: some seeds depend on them (--wrap-blocking).
using SeedFn =
    std::function<std::vector<Seed>(const ProjectIndex&, const Settings&, const SeedScope&)>;
using AppliesFn = std::function<bool(const ModuleFacts&, const ProjectIndex&, const Plan&)>;
// Records the pass's verdicts on one function (FunctionFacts::verdicts) while extraction has
// the tree; the module's other facts are complete. Called for every function of every file.
using RecordVerdictsFn =
    std::function<void(TSNode def, std::string_view src, const ModuleFacts&, FunctionFacts&)>;
// Whether record_verdicts may record anything in a module, told from its whole text and facts
// before any of its functions is asked (a function's text is part of the module's): false
// spares every call.
using VerdictsPossibleFn = std::function<bool(std::string_view src, const ModuleFacts&)>;
// What the pass reports on a file it leaves unchanged, from the index facts of that very text;
// nullopt when it may change the file, which is then parsed and the pass run on the tree.
using ReportFromFactsFn = std::function<std::optional<std::vector<Finding>>(
    const SourceFile&, const ModuleFacts&, const ProjectIndex&, const Plan&)>;
// Reads what the pass needs of a file while extraction has its tree, and keeps it for the rest
// of the run, so the file is not parsed again for it (the tests model's read of a test file).
// Given the file's complete facts; asked in the runs that select the pass, of each file whose
// facts are extracted (not taken from the cache).
using ReadWithTreeFn = std::function<void(const ModuleFacts&, std::string_view, TSNode root)>;

// Written with designated initializers (`.id = ..., .run = ...`): every field after `explain`
// may be left out.
struct TransformInfo {
  std::string id;  // stable: AW1xx db, AW2xx http, AW3xx files, AW4xx services, ...
  std::string phase;
  std::string summary;  // one line
  std::string explain;  // before/after, conditions and limits
  // A file whose text contains none of these strings cannot match: the pass is skipped.
  std::vector<std::string> triggers = {};
  TransformFn run = {};  // empty while the transform is planned, not written
  SeedFn seeds = {};
  // Whether the pass can apply to a file, from the index facts of the text it was read with:
  // a file where it cannot is not parsed for it. Asked only while no earlier pass of the run
  // has changed the file. Empty: the triggers decide alone.
  AppliesFn applies = {};
  // A setting the pass needs to be "true" to do anything (AW304's aiofiles-os): without it,
  // no file is parsed for the pass.
  std::string enabled_by = {};
  // Together, these spare the parse of a file the pass only reports on (AW301 reports each
  // open() it leaves in a sync function): see RecordVerdictsFn and ReportFromFactsFn.
  RecordVerdictsFn record_verdicts = {};
  ReportFromFactsFn report_from_facts = {};
  ReadWithTreeFn read_with_tree = {};
  VerdictsPossibleFn verdicts_possible = {};  // empty: every function is asked
  bool implemented() const { return static_cast<bool>(run); }
};

struct PhaseInfo {
  std::string name;
  std::string summary;
};

// The SPEC's phases, in migration order.
const std::vector<PhaseInfo>& phase_table();
// Every transform, written or planned, in phase order.
const std::vector<TransformInfo>& transform_table();
const TransformInfo* find_transform(std::string_view id);

inline bool FileContext::runs(std::string_view id) const {
  if (!transforms) return false;
  for (const TransformInfo* transform : *transforms) {
    if (transform->id == id) return true;
  }
  return false;
}
// The closure pass (AW401): it runs after the selected passes whenever the plan has work.
const TransformInfo& closure_transform();

}  // namespace awaitify
