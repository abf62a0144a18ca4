#include "http_client.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_migration.hpp"

namespace awaitify::http {

namespace {

bool is_definition(TSNode node) {
  return is(node, "function_definition") || is(node, "class_definition") ||
         is(node, "decorated_definition");
}

bool is_import(TSNode node) {
  return is(node, "import_statement") || is(node, "import_from_statement") ||
         is(node, "future_import_statement");
}

bool line_starts_at(uint32_t start, std::string_view src) {
  while (start > 0 && (src[start - 1] == ' ' || src[start - 1] == '\t')) --start;
  return start == 0 || src[start - 1] == '\n';
}

bool starts_its_line(TSNode node, const SourceFile& source) {
  uint32_t start = ts_node_start_byte(node);
  return source.indent_at(start).size() == start - source.line_start(source.position(start).line);
}

// One indentation level: the statement's indentation past its block owner's.
std::string indent_unit(TSNode statement, const SourceFile& source) {
  std::string_view inner = source.indent_at(ts_node_start_byte(statement));
  TSNode owner = ts_node_parent(ts_node_parent(statement));
  std::string_view outer =
      ts_node_is_null(owner) ? std::string_view() : source.indent_at(ts_node_start_byte(owner));
  if (inner.size() > outer.size() && inner.substr(0, outer.size()) == outer) {
    return std::string(inner.substr(outer.size()));
  }
  return "    ";
}

bool inside(const Edit& edit, uint32_t start, uint32_t end) {
  return edit.start >= start && edit.end <= end;
}

Result<std::string> wrapped_text(const ScopedWrap& wrap, const std::vector<Edit>& edits,
                                 const SourceFile& source) {
  uint32_t start = ts_node_start_byte(wrap.statement);
  uint32_t end = ts_node_end_byte(wrap.statement);
  EditSet local;
  for (const Edit& edit : edits) {
    if (!inside(edit, start, end)) continue;
    Status added = local.add(Edit{edit.start - start, edit.end - start, edit.text});
    if (!added) return added.error();
  }
  auto applied = local.apply(std::string_view(source.text()).substr(start, end - start));
  if (!applied) return applied.error();
  std::string indent(source.indent_at(start));
  std::string deeper = indent + indent_unit(wrap.statement, source);
  return "async with " + wrap.client + " as " + wrap.name + ":" + source.newline() + deeper +
         reindent(*applied, indent, deeper);
}

}  // namespace

TSNode wrap_statement(TSNode call, std::string_view src, std::string& why) {
  TSNode statement = call;
  while (!ts_node_is_null(ts_node_parent(statement)) && !is(ts_node_parent(statement), "block")) {
    statement = ts_node_parent(statement);
  }
  if (ts_node_is_null(ts_node_parent(statement))) {
    why = "it is not inside a block";
  } else if (is_definition(statement)) {
    why = "it is part of a definition";
  } else if (!line_starts_at(ts_node_start_byte(statement), src)) {
    why = "its statement shares a line with other code";
  } else if (holds_multiline_string(statement)) {
    why =
        "its statement holds a multi-line string, which re-indenting for `async with` would change";
  } else {
    return statement;
  }
  return TSNode{};
}

Result<std::vector<Edit>> apply_wraps(const std::vector<Edit>& edits,
                                      const std::vector<ScopedWrap>& wraps,
                                      const SourceFile& source) {
  std::vector<Edit> result;
  for (const Edit& edit : edits) {
    bool wrapped = false;
    for (const ScopedWrap& wrap : wraps) {
      uint32_t start = ts_node_start_byte(wrap.statement);
      uint32_t end = ts_node_end_byte(wrap.statement);
      if (inside(edit, start, end))
        wrapped = true;
      else if (edit.start < end && edit.end > start)
        return Error{"internal error: an edit straddles a wrapped statement"};
    }
    if (!wrapped) result.push_back(edit);
  }
  for (const ScopedWrap& wrap : wraps) {
    if (!starts_its_line(wrap.statement, source))
      return Error{"internal error: a wrapped statement does not start its line"};
    auto text = wrapped_text(wrap, edits, source);
    if (!text) return text.error();
    result.push_back(
        Edit::replace(ts_node_start_byte(wrap.statement), ts_node_end_byte(wrap.statement), *text));
  }
  return result;
}

std::string free_name(TSNode node, std::string_view src,
                      const std::vector<std::string>& candidates) {
  std::set<std::string> taken;
  walk(node, [&](TSNode child) {
    if (is(child, "identifier")) taken.insert(std::string(node_text(child, src)));
    return true;
  });
  for (const std::string& candidate : candidates) {
    if (!taken.count(candidate)) return candidate;
  }
  for (int i = 2;; ++i) {
    std::string candidate = candidates.front() + "_" + std::to_string(i);
    if (!taken.count(candidate)) return candidate;
  }
}

SharedClient shared_client(const ModuleFacts& facts, TSNode root, std::string_view src,
                           const std::string& lib_module) {
  // Only a client built without options: one with a base_url, headers or auth was made for
  // other requests, and reusing it would send those along.
  for (TSNode statement : named_children(root)) {
    TSNode assignment = ts_node_named_child(statement, 0);
    if (!is(statement, "expression_statement") || !is(assignment, "assignment")) continue;
    TSNode left = field(assignment, "left"), right = field(assignment, "right");
    if (!is(left, "identifier") || !is(right, "call")) continue;
    if (facts.resolve(dotted_name(field(right, "function"), src)) != lib_module + ".AsyncClient")
      continue;
    if (named_children(field(right, "arguments")).empty())
      return SharedClient{std::string(node_text(left, src)), true};
  }
  return SharedClient{free_name(root, src, {"http_client", "_http_client"}), false};
}

namespace {

// The closer replaces the client it closes: an app's lifespan can run more than once in one
// process (each TestClient of a test suite runs it), and a closed AsyncClient cannot reopen.
// Connections then never outlive the event loop that opened them.
std::string closer_definition(const std::string& closer, const std::string& client,
                              const std::string& constructor, const std::string& unit,
                              const std::string& nl) {
  return "async def " + closer + "() -> None:" + nl + unit + "\"\"\"Closes `" + client +
         "` at the app's shutdown; a later start gets a new client.\"\"\"" + nl + unit + "global " +
         client + nl + unit + "await " + client + ".aclose()" + nl + unit + client + " = " +
         constructor + nl;
}

}  // namespace

Edit shared_client_declaration(TSNode root, const SourceFile& source, const std::string& client,
                               const std::string& constructor, const std::string& closer) {
  const std::string& nl = source.newline();
  std::string statements =
      client + " = " + constructor + nl + nl + nl +
      closer_definition(closer, client, constructor, file_indent_unit(root, source), nl);
  std::vector<TSNode> top = named_children(root);
  auto last_import = std::find_if(top.rbegin(), top.rend(), is_import);
  size_t next = last_import == top.rend() ? 0 : static_cast<size_t>(top.rend() - last_import);
  // A comment on the import's own line belongs to it.
  while (next < top.size() && next > 0 && is(top[next], "comment") &&
         ts_node_start_point(top[next]).row == ts_node_end_point(top[next - 1]).row) {
    ++next;
  }
  if (next >= top.size()) {
    return Edit::insert(static_cast<uint32_t>(source.text().size()), nl + nl + statements);
  }
  TSNode before = top[next];
  uint32_t at = source.line_start(source.position(ts_node_start_byte(before)).line);
  return Edit::insert(at, statements + nl + nl);
}

std::string closer_name(TSNode root, std::string_view src, const std::string& client) {
  return free_name(root, src, {"close_" + client});
}

namespace {

// An earlier run's closer: a top-level `async def close_<client>()` that awaits
// `<client>.aclose()` on the module's AsyncClient.
std::optional<ClientCloser> written_closer(const ModuleFacts& module, const FunctionFacts& fn) {
  std::string name = fn.name();
  if (!fn.is_async || fn.is_module || !fn.class_name.empty() || name.rfind("close_", 0) != 0 ||
      fn.qualified != module.module + "." + name) {
    return std::nullopt;
  }
  std::string client = name.substr(6);
  auto instance = module.instances.find(client);
  if (instance == module.instances.end() || !is_library_target(instance->second) ||
      instance->second.substr(instance->second.find('.') + 1) != "AsyncClient") {
    return std::nullopt;
  }
  std::string aclose = module.module + "." + client + ".aclose";
  bool closes = std::any_of(fn.calls.begin(), fn.calls.end(),
                            [&](const CallFact& call) { return call.target == aclose; });
  if (!closes) return std::nullopt;
  return ClientCloser{module.module, name, client, false};
}

// The closer AW201 writes in this module in this run: when a call of a function that is or
// becomes async moves to a new shared client.
std::optional<ClientCloser> closer_this_run(const ModuleFacts& module, const FileContext& context,
                                            const std::string& lib_module) {
  if (!context.plan.covers(module.path)) return std::nullopt;  // AW201 does not go there
  auto source = SourceFile::load(module.path);
  if (!source) return std::nullopt;
  Parser parser;
  auto tree = parser.parse(source->text());
  if (!tree) return std::nullopt;
  std::string_view src = source->text();
  SharedClient client = shared_client(module, tree->root(), src, lib_module);
  if (client.exists) return std::nullopt;
  for (const ScopeSites& scope : file_sites(module, tree->root(), src, &context.index)) {
    if (scope.scope.is_module()) continue;
    if (!is_async_function(scope.scope.def) && !context.plan.becomes_async(scope.scope.qualified))
      continue;
    ScopeMigration migration = analyze_scope(scope, module, src);
    for (const RequestsCall& call : migration.calls) {
      if (call.refusal.empty() && call.client_options().empty()) {
        return ClientCloser{module.module, closer_name(tree->root(), src, client.name), client.name,
                            true};
      }
    }
  }
  return std::nullopt;
}

std::vector<ClientCloser> find_unwired_closers(const FileContext& context, bool predict) {
  const ProjectIndex& index = context.index;
  std::vector<ClientCloser> found;
  std::set<std::string> calls_requests;
  for (const ModuleFacts* module : index.modules()) {
    for (const FunctionFacts& fn : module->function_facts) {
      if (auto closer = written_closer(*module, fn)) {
        if (index.callers_of(fn.qualified).empty() && index.references_to(fn.qualified).empty())
          found.push_back(*closer);
      }
      if (fn.is_module) continue;
      for (const auto* list : {&fn.blocking, &fn.calls}) {
        for (const CallFact& call : *list) {
          if (call.target.rfind("requests.", 0) == 0) calls_requests.insert(module->path);
        }
      }
    }
  }
  if (predict) {
    std::string lib = choose_library(index, context.setting("http-library"));
    for (const std::string& path : calls_requests) {
      const ModuleFacts* module = index.module_for_path(path);
      if (auto closer = module ? closer_this_run(*module, context, lib) : std::nullopt)
        found.push_back(*closer);
    }
  }
  std::sort(found.begin(), found.end(), [](const ClientCloser& a, const ClientCloser& b) {
    return std::tie(a.module, a.name) < std::tie(b.module, b.name);
  });
  return found;
}

}  // namespace

std::vector<ClientCloser> unwired_closers(const FileContext& context) {
  bool predict = context.runs("AW201") && context.setting("http-client", "shared") != "scoped";
  std::string key = std::string("http.unwired_closers:") + (predict ? "predicted:" : "") +
                    context.setting("http-library");
  return *context.index.memo<std::vector<ClientCloser>>(key, [&] {
    return std::make_shared<const std::vector<ClientCloser>>(
        find_unwired_closers(context, predict));
  });
}

}  // namespace awaitify::http
