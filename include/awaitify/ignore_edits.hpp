#pragma once
// `# awaitify: ignore` / `ignore[AW201]` on a line, for the rewrites (diff, apply, check).
//
// Functions are held by the plan: a comment on a def line (or its decorators) keeps the function
// out of the closure, and so does one on a line where a blocking call makes a transform of its
// phase seed it, or on a call that would have to be awaited (see plan.cpp). What is left reaches
// a pass: its edits that start on an ignored line are dropped only when nothing can break:
//   - the edit is not an await put in front of code that stays as it is (that code returns a
//     coroutine now, and the call would be left unawaited);
//   - it is inside a function (module-level code — a shared client, an engine — is used from
//     elsewhere); if it changes the header (decorators, def line) the pass changes nothing else
//     in the function; if it is in the body, no other change of the pass in the function is on
//     a line that uses a name its statement binds (`with open(p) as f` and `await f.read()`);
//   - the imports its code uses stay (an import the pass would drop as unused is kept), and
//     the rest of the pass's edits still parse.
// Otherwise the pass's edits stay and a warning says why the comment could not be honoured.
#include <tree_sitter/api.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "awaitify/source.hpp"
#include "awaitify/suppress.hpp"
#include "awaitify/transform.hpp"

namespace awaitify {

// Drops the findings of `rule` on the lines the comments ignore it on.
void drop_ignored_findings(const std::string& rule, const Suppressions& comments,
                           std::vector<Finding>& findings);

// Applies the comments to one pass's result over `source` (parsed as `root`): drops the edits
// and findings of `rule` on ignored lines, or keeps the edits and adds a warning. The ignored
// lines whose edits were dropped go into `suppressed` as (rule, line).
void honour_ignores(const std::string& rule, const SourceFile& source, TSNode root,
                    const Suppressions& comments, PassResult& pass,
                    std::set<std::pair<std::string, uint32_t>>& suppressed);

}  // namespace awaitify
