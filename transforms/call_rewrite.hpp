#pragma once
// The shape several transforms share: a blocking library call becomes its awaited async form
// in every function that is (or, by the plan, becomes) async. The functions that make such a
// call are the transform's seeds, so their callers await them through the closure (AW401).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "awaitify/calls.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

struct CallRewrite {
  std::string id;
  std::function<bool(const std::string& target)> matches;
  // Edits turning the call into the expression to await (the helper adds the await). Empty:
  // this call cannot be rewritten; `why` says so in a finding.
  std::function<std::vector<Edit>(const Site&, const FileContext&, std::string& why)> rewrite;
  // What the rewritten calls need imported.
  std::function<void(ImportEditor&)> imports;
  // Qualified names whose imports go when no use is left ("time", "time.sleep").
  std::vector<std::string> drop_when_unused;
  // Whether a call left in code that stays sync gets a finding. Off for calls that are cheap
  // (os.path.exists): in sync code they are no problem to report.
  bool report_sync = true;
};

PassResult run_call_rewrite(const CallRewrite& rewrite, const FileContext& context);
// Sync functions that make a matching call where it runs (not in a lambda).
std::vector<Seed> call_rewrite_seeds(const ProjectIndex& index,
                                     const std::function<bool(const std::string&)>& matches,
                                     const std::string& reason, const std::string& origin);

// Whether a call rewrite can touch a file: the index recorded a call it matches (the pass sees
// the same calls, resolved by the same scanner). An AppliesFn for the rewrite's transform.
bool call_rewrite_applies(const CallRewrite& rewrite, const ModuleFacts& facts);
// The transform of a call rewrite, with the two above as its applies and report_from_facts.
// `rewrite` outlives it (each is a function's static).
TransformInfo with_call_rewrite_hooks(const CallRewrite& rewrite, TransformInfo transform);
// What run_call_rewrite reports on a file where it rewrites no call, from the same facts;
// nullopt when a call may be rewritten.
std::optional<std::vector<Finding>> call_rewrite_report(const CallRewrite& rewrite,
                                                        const SourceFile& source,
                                                        const ModuleFacts& facts, const Plan& plan);

}  // namespace awaitify
