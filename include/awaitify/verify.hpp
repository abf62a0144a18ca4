#pragma once
// awaitify verify: the post-migration checklist and the async pitfalls, as rules with stable IDs
// (docs/rules.md has each with a before/after and its fix):
//   AWV001 a path operation still `def`          AWV005 a sync `with` over an async resource
//   AWV002 a dependency still `def`              AWV006 a sync TestClient test in an async suite
//   AWV003 a coroutine that is never awaited     AWV007 an async test pytest will not run
//   AWV004 a blocking call inside `async def`    AWV008 HTTP middleware still `def`
//   AWV009 a relationship lazy-loaded in async code
#include <set>
#include <string>
#include <vector>

#include "awaitify/project_view.hpp"
#include "awaitify/report.hpp"

namespace awaitify {

const std::vector<RuleInfo>& verify_rules();
bool is_verify_rule(const std::string& id);

struct VerifyOptions {
  std::set<std::string> only;  // rule IDs; empty: every rule
  std::set<std::string> skip;
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
