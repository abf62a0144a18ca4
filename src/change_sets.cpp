#include "awaitify/change_sets.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "awaitify/union_find.hpp"

namespace awaitify {

namespace {

// Joins change i with the first change that had the same key (none when the key is empty).
void join_by(const std::string& key, size_t i, std::map<std::string, size_t>& first,
             UnionFind& groups) {
  if (key.empty()) return;
  auto [at, added] = first.emplace(key, i);
  if (!added) groups.unite(i, at->second);
}

// Joins changes that touch one function, share a seed group or share a change unit.
UnionFind connected_changes(const std::vector<SeedChange>& changes) {
  UnionFind groups(changes.size());
  std::map<std::string, size_t> by_function, by_group, by_unit;
  for (size_t i = 0; i < changes.size(); ++i) {
    for (const std::string& function : changes[i].functions)
      join_by(function, i, by_function, groups);
    join_by(changes[i].group, i, by_group, groups);
    join_by(changes[i].change_unit, i, by_unit, groups);
  }
  return groups;
}

void add_change(ChangeSet& set, const SeedChange& change) {
  bool first =
      set.seeds.empty() || std::tie(change.path, change.line) < std::tie(set.path, set.line);
  if (first) {
    set.path = change.path;
    set.line = change.line;
  }
  if (std::find(set.seeds.begin(), set.seeds.end(), change.seed) == set.seeds.end())
    set.seeds.push_back(change.seed);
  set.functions.insert(change.functions.begin(), change.functions.end());
}

}  // namespace

std::vector<ChangeSet> change_sets(const Plan& plan) {
  const std::vector<SeedChange>& changes = plan.changes();
  UnionFind groups = connected_changes(changes);
  std::map<size_t, ChangeSet> by_root;
  for (size_t i = 0; i < changes.size(); ++i) add_change(by_root[groups.find(i)], changes[i]);
  std::vector<ChangeSet> sets;
  for (auto& [root, set] : by_root) sets.push_back(std::move(set));
  std::stable_sort(sets.begin(), sets.end(), [](const ChangeSet& a, const ChangeSet& b) {
    return std::tie(a.path, a.line) < std::tie(b.path, b.line);
  });
  return sets;
}

std::set<std::string> held_seeds(const std::vector<ChangeSet>& sets,
                                 const std::vector<bool>& released) {
  std::set<std::string> held;
  for (size_t i = 0; i < sets.size(); ++i) {
    if (i < released.size() && released[i]) continue;
    held.insert(sets[i].seeds.begin(), sets[i].seeds.end());
  }
  return held;
}

}  // namespace awaitify
