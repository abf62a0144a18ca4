#include "awaitify/ratchet.hpp"

#include "awaitify/async_api.hpp"
#include "awaitify/source.hpp"
#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

// At least one path operation, and every one `async def`.
bool every_path_operation_async(const ProjectIndex& index, const ModuleFacts& facts) {
  size_t routes = 0;
  for (const FunctionFacts& fn : facts.function_facts) {
    if (!index.is_path_operation(fn)) continue;
    if (!fn.is_async) return false;
    ++routes;
  }
  return routes > 0;
}

// The committed version's facts, read with the same module name as the current file, so its
// decorators resolve to the project's apps and routers as the index knows them.
bool committed_every_path_operation_async(const ProjectIndex& index, const ViewFile& file,
                                          std::string committed) {
  SourceFile source(file.source.path(), std::move(committed));
  Parser parser;
  auto tree = parser.parse(source.text());
  return tree && every_path_operation_async(index, extract_facts(source, tree->root()));
}

std::string parameter_name(TSNode parameter, std::string_view src) {
  if (is(parameter, "typed_parameter"))
    return std::string(node_text(ts_node_named_child(parameter, 0), src));
  if (is(parameter, "typed_default_parameter") || is(parameter, "default_parameter"))
    return std::string(node_text(field(parameter, "name"), src));
  return {};
}

// `Depends(get_db)` / `Security(get_db)` inside a parameter (its default or an Annotated
// annotation) whose provider hands out a sync Session: the provider's name, or empty.
std::string sync_provider_dependency(const ProjectIndex& index, const ModuleFacts& facts,
                                     TSNode parameter, std::string_view src) {
  std::string provider;
  walk(parameter, [&](TSNode node) {
    if (!provider.empty()) return false;
    if (!is(node, "call")) return true;
    std::string callee = facts.resolve(dotted_name(field(node, "function"), src));
    if (callee != "fastapi.Depends" && callee != "fastapi.Security") return true;
    TSNode argument = ts_node_named_child(field(node, "arguments"), 0);
    if (ts_node_is_null(argument) || is(argument, "keyword_argument")) return true;
    std::string written = dotted_name(argument, src);
    std::string target = facts.resolve(written);
    const FunctionFacts* fn = index.function(target);
    if (!fn) fn = index.function(index.canonical(target));
    if (fn && is_sync_session_provider(index, *fn)) provider = written;
    return true;
  });
  return provider;
}

}  // namespace

std::optional<std::string> migrated_reason(const ProjectIndex& index, const ViewFile& file,
                                           const VerifyOptions& options) {
  if (!file.facts) return std::nullopt;
  if (options.migrated_glob) {
    std::string glob = options.migrated_glob(file.source.path());
    if (!glob.empty()) return "it matches `" + glob + "` in the configuration's `migrated`";
  }
  Baseline baseline = options.baseline ? options.baseline(file.source.path()) : Baseline{};
  if (baseline.committed) {
    if (!committed_every_path_operation_async(index, file, std::move(*baseline.committed)))
      return std::nullopt;
    return std::string("every path operation was async at HEAD");
  }
  // A new file of a repository is held from its first commit on; without a repository there
  // is no history to hold a module to, only the configuration.
  if (!baseline.versioned || !every_path_operation_async(index, *file.facts)) return std::nullopt;
  return std::string("it is new (not at HEAD) and every path operation in it is async");
}

bool is_sync_session_provider(const ProjectIndex& index, const FunctionFacts& fn) {
  if (fn.is_async) return false;
  for (const CallFact& call : fn.calls) {
    if (known_type(index, call.target) == "Session") return true;
    auto constructor = index.instance_type(call.target);
    if (constructor && (*constructor == "sqlalchemy.orm.sessionmaker" ||
                        *constructor == "sqlalchemy.orm.session.sessionmaker"))
      return true;
  }
  return false;
}

std::vector<SessionParameter> sync_session_parameters(const ProjectIndex& index,
                                                      const ModuleFacts& facts, TSNode def,
                                                      std::string_view src,
                                                      const std::set<std::string>& sessions) {
  std::vector<SessionParameter> found;
  for (TSNode parameter : named_children(field(def, "parameters"))) {
    std::string name = parameter_name(parameter, src);
    if (name.empty()) continue;
    if (sessions.count(name)) {
      found.push_back({parameter, name, "is annotated with the sync `Session`"});
      continue;
    }
    std::string provider = sync_provider_dependency(index, facts, parameter, src);
    if (!provider.empty())
      found.push_back(
          {parameter, name, "depends on `" + provider + "`, the sync Session provider"});
  }
  return found;
}

}  // namespace awaitify
