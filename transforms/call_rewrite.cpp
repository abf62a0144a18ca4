#include "call_rewrite.hpp"

#include <algorithm>

#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

bool runs_in_scope(CallContext context) {
  return context == CallContext::plain || context == CallContext::comprehension;
}

bool runs_in_scope(const Site& site) {
  return runs_in_scope(site.context);
}

// Whether the scope will be async when this run is done.
bool async_after(const ScopeInfo& scope, const Plan& plan) {
  if (scope.is_module()) return false;
  return is_async_function(scope.def) || plan.becomes_async(scope.qualified);
}

bool async_after(const FunctionFacts& fn, const Plan& plan) {
  return !fn.is_module && (fn.is_async || plan.becomes_async(fn.qualified));
}

std::string why_sync(bool module, const std::string& qualified, const Plan& plan) {
  if (module) return "it runs at module level, outside any function";
  std::vector<Stop> stops = plan.stops_for(qualified);
  if (stops.empty()) return "its function stays sync";
  return "its function stays sync: " + stops.front().reason + " (" + chain_text(stops.front()) +
         ")";
}

std::string why_sync(const ScopeInfo& scope, const Plan& plan) {
  return why_sync(scope.is_module(), scope.qualified, plan);
}

std::string left_message(const std::string& target, const std::string& why) {
  return "`" + target + "` left as it is: " + why;
}

}  // namespace

PassResult run_call_rewrite(const CallRewrite& rewrite, const FileContext& context) {
  PassResult result;
  std::string_view src = context.text();
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  bool changed = false;
  scan_file_scopes(
      context.facts, context.root, src, &context.index, nullptr,
      [&](const Site& site, const ScopeInfo& scope) {
        if (site.awaited || !rewrite.matches(site.target)) return;
        if (!rewrite.report_sync && !async_after(scope, context.plan)) return;
        if (!runs_in_scope(site) || !async_after(scope, context.plan)) {
          std::string why = runs_in_scope(site)
                                ? why_sync(scope, context.plan)
                                : std::string("it is inside ") + describe(site.context);
          result.findings.push_back(context.finding(rewrite.id, site.node, Severity::warning,
                                                    left_message(site.target, why)));
          return;
        }
        std::string why;
        std::vector<Edit> edits = rewrite.rewrite(site, context, why);
        if (edits.empty()) {
          result.findings.push_back(context.finding(rewrite.id, site.node, Severity::warning,
                                                    left_message(site.target, why)));
          return;
        }
        auto awaited = await_expression(site.node, true);
        if (!awaited) {
          result.findings.push_back(
              context.finding(rewrite.id, site.node, Severity::warning,
                              left_message(site.target, awaited.error().message)));
          return;
        }
        result.edits.insert(result.edits.end(), edits.begin(), edits.end());
        result.edits.insert(result.edits.end(), awaited->begin(), awaited->end());
        imports.ignore_uses_in(ts_node_start_byte(site.node), ts_node_end_byte(site.node));
        changed = true;
      });
  if (!changed) return result;
  if (rewrite.imports) rewrite.imports(imports);
  for (const auto& [local, target] : context.facts.imports) {
    for (const std::string& name : rewrite.drop_when_unused) {
      if (target == name) imports.drop_if_unused(local);
    }
  }
  std::vector<Edit> import_edits = imports.edits();
  result.edits.insert(result.edits.end(), import_edits.begin(), import_edits.end());
  return result;
}

std::vector<Seed> call_rewrite_seeds(const ProjectIndex& index,
                                     const std::function<bool(const std::string&)>& matches,
                                     const std::string& reason, const std::string& origin) {
  std::vector<Seed> seeds;
  for (const FunctionFacts* fn : index.functions()) {
    if (fn->is_async || fn->is_module) continue;
    for (const CallFact& call : fn->blocking) {
      if (call.context != CallContext::lambda && call.context != CallContext::generator &&
          matches(call.target)) {
        seeds.push_back(Seed{fn->qualified, reason, origin});
        break;
      }
    }
  }
  return seeds;
}

std::optional<std::vector<Finding>> call_rewrite_report(const CallRewrite& rewrite,
                                                        const SourceFile& source,
                                                        const ModuleFacts& facts,
                                                        const Plan& plan) {
  std::vector<Finding> findings;
  for (const FunctionFacts& fn : facts.function_facts) {
    // The scanner's order: the index keeps a body's calls in two lists, each in that order.
    std::vector<const CallFact*> calls;
    for (const auto* list : {&fn.calls, &fn.blocking}) {
      for (const CallFact& call : *list) {
        if (!call.awaited && rewrite.matches(call.target)) calls.push_back(&call);
      }
    }
    std::stable_sort(calls.begin(), calls.end(), [](const CallFact* a, const CallFact* b) {
      return std::pair(a->line, a->column) < std::pair(b->line, b->column);
    });
    bool async = async_after(fn, plan);
    for (const CallFact* call : calls) {
      if (!rewrite.report_sync && !async) continue;
      bool runs = runs_in_scope(call->context);
      if (runs && async) return std::nullopt;  // rewritten, or refused by what the tree shows
      std::string why = runs ? why_sync(fn.is_module, fn.qualified, plan)
                             : std::string("it is inside ") + describe(call->context);
      uint32_t byte = source.line_start(call->line) + call->column - 1;
      findings.push_back(Finding{rewrite.id, source.path(), source.position(byte),
                                 Severity::warning, left_message(call->target, why)});
    }
  }
  return findings;
}

TransformInfo with_call_rewrite_hooks(const CallRewrite& rewrite, TransformInfo transform) {
  transform.applies = [&rewrite](const ModuleFacts& facts, const ProjectIndex&, const Plan&) {
    return call_rewrite_applies(rewrite, facts);
  };
  transform.report_from_facts = [&rewrite](const SourceFile& source, const ModuleFacts& facts,
                                           const ProjectIndex&, const Plan& plan) {
    return call_rewrite_report(rewrite, source, facts, plan);
  };
  return transform;
}

bool call_rewrite_applies(const CallRewrite& rewrite, const ModuleFacts& facts) {
  auto matches = [&](const CallFact& call) { return rewrite.matches(call.target); };
  for (const FunctionFacts& fn : facts.function_facts) {
    if (std::any_of(fn.calls.begin(), fn.calls.end(), matches) ||
        std::any_of(fn.blocking.begin(), fn.blocking.end(), matches)) {
      return true;
    }
  }
  return false;
}

}  // namespace awaitify
