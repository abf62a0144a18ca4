#pragma once
// The units `apply --interactive` offers: the plan's accepted seeds grouped so that each group
// can be held or released whole through PlanOptions::held, and every combination the user picks
// is one the plan itself produces (consistent, like `# awaitify: ignore` on a definition).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "awaitify/plan.hpp"

namespace awaitify {

struct ChangeSet {
  std::vector<std::string> seeds;   // qualified; held or released together
  std::set<std::string> functions;  // every function the set changes (seeds and their callers)
  std::string path;                 // where its first seed is defined: the order of the sets
  uint32_t line = 0;
};

// Seeds whose changes share a function, or that form one seed group or change unit, are one set:
// releasing one while holding the other would leave that function changed for one and kept for
// the other, or the group or unit half-migrated.
// Sets are ordered by (path, line) of their first seed.
std::vector<ChangeSet> change_sets(const Plan& plan);

// The seeds of every set not released (released[i] for sets[i]): what to hold in a run.
std::set<std::string> held_seeds(const std::vector<ChangeSet>& sets,
                                 const std::vector<bool>& released);

}  // namespace awaitify
