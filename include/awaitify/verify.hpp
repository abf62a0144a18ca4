#pragma once
// awaitify verify: the post-migration checklist and the async pitfalls, as rules with stable IDs
// (docs/rules.md has each with a before/after and its fix):
//   AWV001 a path operation still `def`          AWV005 a sync `with` over an async resource
//   AWV002 a dependency still `def`              AWV006 a sync TestClient test in an async suite
//   AWV003 a coroutine that is never awaited     AWV007 an async test pytest will not run
//   AWV004 a blocking call inside `async def`    AWV008 HTTP middleware still `def`
//   AWV009 a relationship lazy-loaded in async code
//   AWV010 a migrated module regressed: a sync route, a blocking call or a sync Session back in it
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "awaitify/project_view.hpp"
#include "awaitify/report.hpp"

namespace awaitify {

const std::vector<RuleInfo>& verify_rules();
bool is_verify_rule(const std::string& id);

// What version control knows of a file, for AWV010.
struct Baseline {
  bool versioned = false;                // the file is in a repository (committed or not)
  std::optional<std::string> committed;  // its text at HEAD, when it is there
};

struct VerifyOptions {
  std::set<std::string> only;  // rule IDs; empty: every rule
  std::set<std::string> skip;
  // AWV010: the `migrated` glob of the configuration a file matches, or empty (unset: none).
  std::function<std::string(const std::string& path)> migrated_glob;
  // AWV010: a file's committed version (unset: none, and no repository).
  std::function<Baseline(const std::string& path)> baseline;
  bool enabled(const std::string& rule) const {
    return (only.empty() || only.count(rule)) && !skip.count(rule);
  }
};

// The findings of one selected file, before suppression comments are applied.
std::vector<ReportItem> verify_file(const ProjectView& project, const ViewFile& file,
                                    const VerifyOptions& options = {});

// Every selected file of the view: findings sorted, suppressed ones counted and dropped,
// skip-file files skipped, input errors listed.
Report verify(const ProjectView& project, const VerifyOptions& options = {});

}  // namespace awaitify
