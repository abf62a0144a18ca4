// Shared by AW601 and AW602: a middleware function made async with its call_next awaited.
#include "awaitify/fastapi.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify {

PassResult make_middleware_async(const FileContext& context, TSNode def, size_t call_next_position,
                                 const std::string& id) {
  PassResult result;
  std::string_view src = context.text();
  auto call_next = parameter_name(def, call_next_position, src);
  if (!call_next) {
    result.findings.push_back(context.finding(
        id, field(def, "name"), Severity::warning,
        "left as it is: no call_next parameter at position " + std::to_string(call_next_position + 1)));
    return result;
  }
  std::vector<TSNode> other_uses;
  std::vector<TSNode> calls = calls_of_name(def, *call_next, src, &other_uses);
  std::vector<Edit> awaits;
  for (TSNode call : calls) {
    auto edits = await_expression(call);
    if (!edits) {
      result.findings.push_back(context.finding(
          id, call, Severity::warning,
          "left as it is: `" + *call_next + "(...)` cannot be awaited here: " + edits.error().message));
      return result;
    }
    awaits.insert(awaits.end(), edits->begin(), edits->end());
  }
  for (TSNode use : other_uses) {
    result.findings.push_back(context.finding(
        id, use, Severity::warning,
        "`" + *call_next + "` is passed along here; whoever calls it must now await it"));
  }
  result.edits = make_async(def);
  result.edits.insert(result.edits.end(), awaits.begin(), awaits.end());
  if (auto blocking = blocking_reason(def, context)) {
    result.findings.push_back(context.finding(
        id, field(def, "name"), Severity::warning,
        "now async but still blocks the event loop: " + *blocking));
  }
  return result;
}

}  // namespace awaitify
