#pragma once
// awaitify audit: what is still sync, grouped by the migration checklist (AWA001..AWA011), and a
// per-module table of what each phase would change there, so a team can plan the order.
#include <string>
#include <vector>

#include "awaitify/project_view.hpp"
#include "awaitify/report.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

const std::vector<RuleInfo>& audit_groups();

// The checklist items of the view's selected files (suppressed ones counted and dropped).
Report audit(const ProjectView& project);

class FactsCache;

struct EstimateOptions {
  std::vector<std::string> phases;         // the table's phases; empty: every phase
  std::vector<std::string> context_paths;  // the rest of the project, as for a run
  unsigned jobs = 0;
  bool expand = true;
  Settings settings;            // user choices for the passes (http-client, wrap-blocking, ...)
  FactsCache* cache = nullptr;  // index facts of unchanged files (each phase's run reads them)
  // The index of the selected and context files, built already (audit's ProjectView): each
  // phase's run plans on it instead of reading the project again. Null: each builds its own.
  const ProjectIndex* index = nullptr;
};

// Fills the per-module table: each phase is run alone through the engine, in memory, on the
// files as they are now, and the changed lines (added + removed) are counted per file. Phases
// without a written transform are listed as planned. Files with no item and no change are left
// out of the table.
void estimate_phases(Report& report, const std::vector<std::string>& files,
                     const EstimateOptions& options);

// Lines added and removed between two texts (as a unified diff counts them).
std::pair<int, int> changed_lines(const std::string& path, std::string_view before,
                                  std::string_view after);

}  // namespace awaitify
