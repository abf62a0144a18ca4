// AW301: `with open(...) as f:` -> `async with aiofiles.open(...) as f:` in code that is or
// becomes async, with every use of f in the block awaited (read, write, seek, ...), `for line
// in f` -> `async for`, json.load(f) -> json.loads(await f.read()) and json.dump(obj, f) ->
// await f.write(json.dumps(obj)). A file object used any other way (passed to csv.reader, to a
// function the engine cannot follow, kept after the block) is a refusal: the whole `with`
// stays as it is and the function is not seeded, so it is not made async for nothing.
// tempfile's files and directory move the same way to aiofiles.tempfile's, in async code.
// `open(p).read()` without `with` (also readline/readlines/write/writelines), the value of an
// assignment, an expression statement or a return, moves its statement into
// `async with aiofiles.open(p) as f:` with the call awaited as `await f.read()`.
#include <algorithm>
#include <map>
#include <set>

#include "awaitify/calls.hpp"
#include "awaitify/engine.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "http_client.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW301";

bool is_open(const std::string& target) {
  return target == "builtins.open" || target == "io.open";
}

// tempfile's files and directory, which aiofiles.tempfile has under the same names; empty for
// anything else.
std::string tempfile_name(const std::string& target) {
  for (const char* name :
       {"NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "TemporaryDirectory"}) {
    if (target == std::string("tempfile.") + name) return name;
  }
  return {};
}

// What aiofiles' wrapper of a temporary file hands through without a call: any other attribute
// of the sync object (`tmp.file`, `tmp.delete`) is missing on it.
bool is_proxied_attribute(std::string_view attribute) {
  return attribute == "name" || attribute == "mode" || attribute == "closed";
}

bool is_awaitable_method(std::string_view method) {
  for (std::string_view name : {"read", "readline", "readlines", "write", "writelines", "seek",
                                "flush", "truncate", "tell", "close"}) {
    if (method == name) return true;
  }
  return false;
}

// One `with open(...) as name:` and what its block does with name.
struct OpenUse {
  TSNode with_statement{};
  TSNode call{};                         // open(...)
  std::string name;                      // the file object
  std::vector<TSNode> awaited_calls;     // name.read(...), ...
  std::vector<TSNode> for_statements;    // for x in name:
  std::vector<TSNode> json_loads;        // json.load(name)
  std::vector<TSNode> json_dumps;        // json.dump(obj, name, ...)
  std::vector<TSNode> copies;            // shutil.copyfileobj(source, name[, length]) statements
  std::string opener = "aiofiles.open";  // what replaces the call's function
  std::string shown = "open()";          // the call, for messages
  // tempfile's: rewritten only in code that is async anyway (tempfile does not count as
  // blocking, so it seeds nothing), and its refusals hold no open() back.
  bool temporary = false;
  bool directory = false;  // TemporaryDirectory: the name is a path, not a file
  TSNode chained{};        // open(...).read(...) without `with`: the call on the file
  TSNode statement{};      // that one-liner's statement, which moves into `async with`
  bool in_lambda = false;  // a one-liner in a lambda: reported, holds nothing back
  std::string refusal;     // empty when the whole `with` can move
};

// How the block uses the file object; sets use.refusal when some use cannot move.
void classify_uses(OpenUse& use, TSNode block, const ModuleFacts& facts, std::string_view src) {
  walk(block, [&](TSNode node) {
    if (!use.refusal.empty()) return false;
    if (!is(node, "identifier") || node_text(node, src) != use.name) return true;
    TSNode parent = ts_node_parent(node);
    if (is(parent, "attribute") && ts_node_eq(field(parent, "object"), node)) {
      std::string attribute(node_text(field(parent, "attribute"), src));
      TSNode call = ts_node_parent(parent);
      bool called = is(call, "call") && ts_node_eq(field(call, "function"), parent);
      if (called && is_awaitable_method(attribute))
        use.awaited_calls.push_back(call);
      else if (called)
        use.refusal = "`" + use.name + "." + attribute + "()` has no aiofiles counterpart";
      else if (use.temporary && !is_proxied_attribute(attribute))
        use.refusal = "`" + use.name + "." + attribute + "` is missing on aiofiles' temporary file";
      return true;  // name, mode, closed: plain attributes
    }
    if (is(parent, "for_statement") && ts_node_eq(field(parent, "right"), node)) {
      use.for_statements.push_back(parent);
      return true;
    }
    TSNode args = parent;
    TSNode call = ts_node_parent(args);
    if (is(args, "argument_list") && is(call, "call")) {
      std::string target = facts.resolve(dotted_name(field(call, "function"), src));
      std::vector<TSNode> positional = named_children(args);
      if (target == "json.load" && positional.size() == 1) {
        use.json_loads.push_back(call);
        return true;
      }
      if (target == "json.dump" && positional.size() >= 2 && ts_node_eq(positional[1], node)) {
        use.json_dumps.push_back(call);
        return true;
      }
      // Copied into, as a statement of its own: a read/write loop that awaits the writes.
      TSNode statement = ts_node_parent(call);
      bool copy = target == "shutil.copyfileobj" && is(statement, "expression_statement") &&
                  positional.size() >= 2 && positional.size() <= 3 &&
                  ts_node_eq(positional[1], node) && node_text(positional[0], src) != use.name;
      if (copy && !alone_on_its_lines(statement, src, true)) {
        // `with open(p) as f: shutil.copyfileobj(src, f)`: a loop cannot follow the colon.
        use.refusal = "`shutil.copyfileobj()` shares its line with other code (line " +
                      std::to_string(ts_node_start_point(call).row + 1) +
                      "): the loop that replaces it needs lines of its own";
        return true;
      }
      if (copy) {
        use.copies.push_back(call);
        return true;
      }
      use.refusal = "`" + use.name + "` is passed to `" +
                    std::string(node_text(field(call, "function"), src)) +
                    "`, which the engine cannot follow";
      return true;
    }
    use.refusal = "`" + use.name + "` is used in a way aiofiles does not support (line " +
                  std::to_string(ts_node_start_point(node).row + 1) + ")";
    return true;
  });
}

// `open(...).read(...)`: the call made on the file open() returns. Null otherwise.
TSNode chained_call(TSNode open_call) {
  TSNode attribute = ts_node_parent(open_call);
  TSNode call = ts_node_parent(attribute);
  if (!is(attribute, "attribute") || !ts_node_eq(field(attribute, "object"), open_call) ||
      !is(call, "call") || !ts_node_eq(field(call, "function"), attribute)) {
    return TSNode{};
  }
  return call;
}

bool is_one_liner_method(std::string_view method) {
  for (std::string_view name : {"read", "readline", "readlines", "write", "writelines"}) {
    if (method == name) return true;
  }
  return false;
}

bool ends_its_line(TSNode statement, std::string_view src) {
  for (size_t i = ts_node_end_byte(statement); i < src.size(); ++i) {
    if (src[i] == '\n' || src[i] == '\r' || src[i] == '#') return true;
    if (src[i] != ' ' && src[i] != '\t') return false;
  }
  return true;
}

// Between the call and its statement, an expression that may not evaluate the call (or may
// evaluate it apart from the rest): hoisting the open() out of it would open a file the code
// never opened. Empty when there is none.
std::string conditional_ancestor(TSNode call, TSNode statement) {
  for (TSNode node = ts_node_parent(call); !ts_node_eq(node, statement);
       node = ts_node_parent(node)) {
    if (is(node, "conditional_expression")) return "a conditional expression (`a if c else b`)";
    if (is(node, "boolean_operator")) return "an `and`/`or`, which may skip it";
  }
  return {};
}

// `open(p).read()` without `with`: the statement moves into `async with aiofiles.open(p) as f:`.
// Only a statement that runs the call once, unconditionally, and nothing after it on its line:
// an assignment or expression statement, or a return.
void classify_one_liner(OpenUse& use, TSNode chained, CallContext context, TSNode def,
                        std::string_view src) {
  std::string method(node_text(field(field(chained, "function"), "attribute"), src));
  std::string shown = "`open(...)." + method + "()`";
  std::string why;
  TSNode statement = http::wrap_statement(chained, src, why);
  if (!is_one_liner_method(method)) {
    use.refusal = shown + " has no aiofiles counterpart";
  } else if (context != CallContext::plain) {
    use.refusal = shown + " is inside " + describe(context) + ", which `async with` cannot wrap";
  } else if (ts_node_is_null(statement)) {
    use.refusal = shown + " cannot move into `async with`: " + why;
  } else if (!is(statement, "expression_statement") && !is(statement, "return_statement")) {
    use.refusal = shown +
                  " is part of a compound statement's header; only an assignment, an expression "
                  "statement or a return moves into `async with`";
  } else if (!ends_its_line(statement, src)) {
    use.refusal = shown +
                  " cannot move into `async with`: its statement shares a line with "
                  "other code";
  } else if (std::string where = conditional_ancestor(chained, statement); !where.empty()) {
    use.refusal = shown + " is inside " + where + ": moving it into `async with` would open " +
                  "the file where the code may not";
  } else {
    use.chained = chained;
    use.statement = statement;
    use.name = http::free_name(def, src, {"f", "file", "fh"});
  }
}

// Two one-liners in one statement would need nested `async with` blocks: both stay.
void refuse_shared_statements(std::vector<OpenUse>& uses) {
  for (OpenUse& use : uses) {
    if (ts_node_is_null(use.statement)) continue;
    for (const OpenUse& other : uses) {
      if (&other != &use && !ts_node_is_null(other.statement) &&
          ts_node_eq(other.statement, use.statement)) {
        use.refusal = "another open() shares its statement";
      }
    }
  }
}

// Every `open()` call in one function body (nested functions excluded), as OpenUses; an open()
// that is not the only item of a `with ... as name:` is a refusal.
std::vector<OpenUse> open_uses(TSNode def, const ModuleFacts& facts, std::string_view src,
                               const ProjectIndex* index) {
  std::vector<OpenUse> uses;
  ScopeScanner scanner(facts, src, facts.module, "", session_parameters(facts, def, src, index),
                       false);
  ScopeVisitor visitor;
  visitor.call = [&](const Site& site) {
    std::string temporary = tempfile_name(site.target);
    if (!is_open(site.target) && temporary.empty()) return;
    OpenUse use;
    use.call = site.node;
    if (!temporary.empty()) {
      use.temporary = true;
      use.directory = temporary == "TemporaryDirectory";
      use.opener = "aiofiles.tempfile." + temporary;
      use.shown = "tempfile." + temporary + "()";
    }
    TSNode chained = use.temporary ? TSNode{} : chained_call(site.node);
    if (site.context == CallContext::lambda) {
      // It runs when the lambda is called, not with the function: reported, and it holds
      // nothing else back.
      if (ts_node_is_null(chained)) return;
      use.refusal = "`open(...)." +
                    std::string(node_text(field(field(chained, "function"), "attribute"), src)) +
                    "()` is inside a lambda, which cannot await";
      use.in_lambda = true;
      uses.push_back(use);
      return;
    }
    if (!ts_node_is_null(chained)) {
      classify_one_liner(use, chained, site.context, def, src);
      uses.push_back(use);
      return;
    }
    TSNode pattern = ts_node_parent(site.node);
    TSNode item = ts_node_parent(pattern);
    TSNode clause = ts_node_parent(item);
    TSNode with = ts_node_parent(clause);
    TSNode target = is(pattern, "as_pattern") ? field(pattern, "alias") : TSNode{};
    if (is(target, "as_pattern_target")) target = ts_node_named_child(target, 0);
    if (!is(pattern, "as_pattern") || !is(item, "with_item") || !is(with, "with_statement") ||
        !is(target, "identifier")) {
      use.refusal = use.temporary
                        ? "it is not used as `with " + use.shown.substr(0, use.shown.size() - 1) +
                              "...) as name:`, the one form aiofiles.tempfile has"
                        : "open() is used neither as `with open(...) as name:` nor as "
                          "`open(...).read()` in a "
                          "statement of its own";
    } else if (is(ts_node_child(with, 0), "async")) {
      // `async with open(...)` fails when it runs (a file is no async context manager); the
      // pass would write a second `async`. The code is left for its author to fix.
      use.refusal =
          "it is already under `async with`, which a file opened with open() does not "
          "support";
    } else if (named_children(clause).size() != 1) {
      use.refusal = "the `with` also manages other context managers";
    } else if (site.context != CallContext::plain) {
      use.refusal = std::string("it is inside ") + describe(site.context);
    } else {
      use.with_statement = with;
      use.name = std::string(node_text(target, src));
      if (!use.directory) classify_uses(use, field(with, "body"), facts, src);
    }
    uses.push_back(use);
  };
  scanner.scan_function(def, visitor);
  refuse_shared_statements(uses);
  return uses;
}

// What the seeds and the report need of a use; the index facts keep them (record_verdicts).
PassVerdict verdict_of(const OpenUse& use) {
  // tempfile's moves only in async code, and a one-liner in a lambda is reported alone: neither
  // holds the function's open() calls back.
  return PassVerdict{kId,         ts_node_start_byte(use.call),     use.shown,
                     use.refusal, !use.in_lambda && !use.temporary, use.temporary};
}

std::vector<PassVerdict> verdicts_of(const std::vector<OpenUse>& uses) {
  std::vector<PassVerdict> verdicts;
  for (const OpenUse& use : uses) verdicts.push_back(verdict_of(use));
  return verdicts;
}

bool all_convertible(const std::vector<PassVerdict>& verdicts) {
  bool any = false;
  for (const PassVerdict& verdict : verdicts) {
    if (verdict.pass != kId || !verdict.all_or_nothing) continue;
    if (!verdict.refusal.empty()) return false;
    any = true;
  }
  return any;
}

// The arguments of json.dump(obj, f, ...) after the file: the options json.dumps takes too.
std::string json_options(TSNode call, std::string_view src) {
  std::string options;
  std::vector<TSNode> arguments = named_children(field(call, "arguments"));
  for (size_t i = 2; i < arguments.size(); ++i)
    options += ", " + std::string(node_text(arguments[i], src));
  return options;
}

void add(PassResult& result, const std::vector<Edit>& edits) {
  result.edits.insert(result.edits.end(), edits.begin(), edits.end());
}

// `json.load` -> `json.loads` keeps the module's spelling (`js.load` -> `js.loads`); a bare
// `load` from `from json import load` becomes `json.loads`, since `loads` may not be imported.
std::string json_function(TSNode call, const std::string& name, std::string_view src,
                          std::set<std::string>& bare_names) {
  TSNode function = field(call, "function");
  if (is(function, "attribute"))
    return std::string(node_text(field(function, "object"), src)) + "." + name;
  bare_names.insert(std::string(node_text(function, src)));
  return "json." + name;
}

// `upload.file` where `upload` is an UploadFile parameter of the function: read it through
// UploadFile's own async read(). Empty otherwise.
std::string upload_parameter(TSNode source, TSNode function, std::string_view src) {
  if (!is(source, "attribute") || node_text(field(source, "attribute"), src) != "file") return {};
  TSNode object = field(source, "object");
  if (!is(object, "identifier")) return {};
  for (TSNode param : named_children(field(function, "parameters"))) {
    if (!is(param, "typed_parameter") && !is(param, "typed_default_parameter")) continue;
    TSNode name =
        is(param, "typed_parameter") ? ts_node_named_child(param, 0) : field(param, "name");
    std::string type = dotted_name(annotated_type(field(param, "type")), src);
    bool upload = type == "UploadFile" ||
                  (type.size() > 11 && type.substr(type.size() - 11) == ".UploadFile");
    if (upload && node_text(name, src) == node_text(object, src))
      return std::string(node_text(object, src));
  }
  return {};
}

// `shutil.copyfileobj(source, out)` -> a loop reading chunks and awaiting each write.
Edit copy_loop(TSNode call, const OpenUse& use, const FileContext& context) {
  std::string_view src = context.text();
  std::vector<TSNode> arguments = named_children(field(call, "arguments"));
  TSNode statement = ts_node_parent(call);
  std::string indent(context.source.indent_at(ts_node_start_byte(statement)));
  std::string size =
      arguments.size() == 3 ? std::string(node_text(arguments[2], src)) : "1024 * 1024";
  auto function = enclosing_function(call);
  std::string_view body = function ? node_text(*function, src) : src;
  std::string chunk = body.find("chunk") == std::string_view::npos ? "chunk" : "_awaitify_chunk";
  std::string upload = function ? upload_parameter(arguments[0], *function, src) : "";
  std::string read = upload.empty()
                         ? std::string(node_text(arguments[0], src)) + ".read(" + size + ")"
                         : "await " + upload + ".read(" + size + ")";
  return Edit::replace(ts_node_start_byte(statement), ts_node_end_byte(statement),
                       "while " + chunk + " := " + read + ":\n" + indent + "    await " + use.name +
                           ".write(" + chunk + ")");
}

// `open(p).read(n)` -> `await f.read(n)` (parenthesized where the result is used further),
// its statement wrapped in `async with aiofiles.open(p) as f:`. The edit stops before the
// arguments, which other edits of the pass may touch.
void rewrite_one_liner(const OpenUse& use, std::string_view src, PassResult& result,
                       std::vector<http::ScopedWrap>& wraps) {
  TSNode function = field(use.chained, "function");
  std::string method(node_text(field(function, "attribute"), src));
  bool parenthesize = await_needs_parentheses(use.chained);
  std::string callee = (parenthesize ? "(await " : "await ") + use.name + "." + method;
  add(result, {Edit::replace(ts_node_start_byte(use.chained), ts_node_end_byte(function), callee)});
  if (parenthesize) add(result, {Edit::insert(ts_node_end_byte(use.chained), ")")});
  std::string opener = "aiofiles.open" + std::string(node_text(field(use.call, "arguments"), src));
  wraps.push_back(http::ScopedWrap{use.statement, opener, use.name});
}

void rewrite_use(const OpenUse& use, const FileContext& context, PassResult& result,
                 std::set<std::string>& json_names, std::vector<http::ScopedWrap>& wraps) {
  std::string_view src = context.text();
  if (!ts_node_is_null(use.chained)) {
    rewrite_one_liner(use, src, result, wraps);
    return;
  }
  for (TSNode call : use.copies) add(result, {copy_loop(call, use, context)});
  add(result, {Edit::insert(ts_node_start_byte(use.with_statement), "async ")});
  TSNode function = field(use.call, "function");
  add(result,
      {Edit::replace(ts_node_start_byte(function), ts_node_end_byte(function), use.opener)});
  for (TSNode call : use.awaited_calls) {
    if (auto edits = await_expression(call, true)) add(result, *edits);
  }
  for (TSNode loop : use.for_statements)
    add(result, {Edit::insert(ts_node_start_byte(loop), "async ")});
  for (TSNode call : use.json_loads) {
    std::string wrapped =
        json_function(call, "loads", src, json_names) + "(await " + use.name + ".read())";
    add(result, {Edit::replace(ts_node_start_byte(call), ts_node_end_byte(call), wrapped)});
  }
  for (TSNode call : use.json_dumps) {
    std::string dumps = json_function(call, "dumps", src, json_names);
    std::string payload(node_text(named_children(field(call, "arguments"))[0], src));
    std::string options = json_options(call, src);
    std::string text = "await " + use.name + ".write(" + dumps + "(" + payload + options + "))";
    add(result, {Edit::replace(ts_node_start_byte(call), ts_node_end_byte(call), text)});
  }
}

// Why a use stays as it is; empty when it moves.
std::string why_left(const PassVerdict& use, const std::vector<PassVerdict>& uses, bool async_after,
                     const std::string& function, const Plan& plan) {
  if (!use.refusal.empty()) return use.refusal;
  if (!async_after) {
    auto stops = plan.stops_for(function);
    return stops.empty() ? "its function stays sync"
                         : "its function stays sync: " + stops.front().reason + " (" +
                               chain_text(stops.front()) + ")";
  }
  if (use.all_or_nothing && !all_convertible(uses))
    return "another open() in the same function cannot move";
  return {};
}

// tempfile in sync code blocks no event loop: nothing to say, nothing to move.
bool quiet(const PassVerdict& use, bool async_after) {
  return use.async_only && !async_after;
}

std::string left_message(const PassVerdict& use, const std::string& why) {
  return use.shown + " left as it is: " + why;
}

// tempfile_moved: a tempfile call was rewritten, so its import may have lost its last use.
void add_imports(const FileContext& context, const std::set<std::string>& json_names,
                 bool tempfile_moved, PassResult& result) {
  ImportEditor imports(context.source, context.root, context.index.first_party_packages());
  imports.require_module("aiofiles");
  if (!json_names.empty()) imports.require_module("json");
  for (const std::string& name : json_names) imports.drop_if_unused(name);
  for (const auto& [local, target] : context.facts.imports) {
    bool tempfile = tempfile_moved && (target == "tempfile" || !tempfile_name(target).empty());
    if (target == "shutil" || target == "shutil.copyfileobj" || tempfile)
      imports.drop_if_unused(local);
  }
  for (const Edit& edit : result.edits) imports.ignore_uses_in(edit.start, edit.end);
  add(result, imports.edits());
}

PassResult run_pass(const FileContext& context) {
  PassResult result;
  std::string_view src = context.text();
  bool changed = false;
  bool tempfile_moved = false;
  std::set<std::string> json_names;     // `load`/`dump` imported bare and rewritten as json.*
  std::vector<http::ScopedWrap> wraps;  // one-liners' statements, moved into `async with`
  scan_file_scopes(
      context.facts, context.root, src, &context.index,
      [&](const ScopeInfo& scope) {
        if (scope.is_module()) return;
        std::vector<OpenUse> uses = open_uses(scope.def, context.facts, src, &context.index);
        std::vector<PassVerdict> verdicts = verdicts_of(uses);
        bool async_after =
            is_async_function(scope.def) || context.plan.becomes_async(scope.qualified);
        for (size_t i = 0; i < uses.size(); ++i) {
          const OpenUse& use = uses[i];
          if (quiet(verdicts[i], async_after)) continue;
          std::string why =
              why_left(verdicts[i], verdicts, async_after, scope.qualified, context.plan);
          if (!why.empty()) {
            result.findings.push_back(
                context.finding(kId, use.call, Severity::warning, left_message(verdicts[i], why)));
            continue;
          }
          rewrite_use(use, context, result, json_names, wraps);
          changed = true;
          tempfile_moved = tempfile_moved || use.temporary;
        }
      },
      nullptr);
  if (changed && !wraps.empty()) {
    auto wrapped = http::apply_wraps(result.edits, wraps, context.source);
    if (!wrapped) {
      result.edits.clear();
      result.findings.push_back(
          context.finding(kId, context.root, Severity::error, wrapped.error().message));
      return result;
    }
    result.edits = std::move(*wrapped);
  }
  if (changed) add_imports(context, json_names, tempfile_moved, result);
  return result;
}

// Seeds: sync functions whose every open() can move, from the verdicts the index facts keep;
// a function with an open() that cannot move is not made async for it.
std::vector<Seed> open_seeds(const ProjectIndex& index, const Settings&, const SeedScope& scope) {
  std::map<std::string, std::vector<const FunctionFacts*>> candidates;  // by file, in order
  for (const FunctionFacts* fn : index.functions()) {
    if (fn->is_async || fn->is_module) continue;
    for (const CallFact& call : fn->blocking) {
      if (is_open(call.target) && call.context == CallContext::plain) {
        candidates[index.path_of(*fn)].push_back(fn);
        break;
      }
    }
  }
  std::vector<Seed> result;
  for (const auto& [path, functions] : candidates) {
    if (!scope.covers(path)) continue;  // its seeds would be dropped
    for (const FunctionFacts* fn : functions) {
      if (all_convertible(fn->verdicts))
        result.push_back(Seed{fn->qualified, "opens files with open() (AW301)", kId});
    }
  }
  return result;
}

bool calls_open(const FunctionFacts& fn) {
  auto opens = [](const CallFact& call) {
    return is_open(call.target) || !tempfile_name(call.target).empty();
  };
  return std::any_of(fn.calls.begin(), fn.calls.end(), opens) ||
         std::any_of(fn.blocking.begin(), fn.blocking.end(), opens);
}

// The pass looks at open() calls in functions only; the index resolved every call of a
// function's body the way the pass does.
void record_open_verdicts(TSNode def, std::string_view src, const ModuleFacts& facts,
                          FunctionFacts& fn) {
  if (fn.is_module || !calls_open(fn)) return;
  std::vector<PassVerdict> verdicts = verdicts_of(open_uses(def, facts, src, nullptr));
  fn.verdicts.insert(fn.verdicts.end(), verdicts.begin(), verdicts.end());
}

// What run_pass reports on a file where no open() moves, in the same order: the file is not
// parsed again for the pass (most open() calls are in functions that stay sync).
std::optional<std::vector<Finding>> report_from_facts(const SourceFile& source,
                                                      const ModuleFacts& facts, const ProjectIndex&,
                                                      const Plan& plan) {
  std::vector<Finding> findings;
  for (const FunctionFacts& fn : facts.function_facts) {
    if (fn.is_module) continue;
    bool async_after = fn.is_async || plan.becomes_async(fn.qualified);
    for (const PassVerdict& use : fn.verdicts) {
      if (use.pass != kId || quiet(use, async_after)) continue;
      std::string why = why_left(use, fn.verdicts, async_after, fn.qualified, plan);
      if (why.empty()) return std::nullopt;  // it moves: the pass runs on the tree
      findings.push_back(Finding{kId, source.path(), source.position(use.byte), Severity::warning,
                                 left_message(use, why)});
    }
  }
  return findings;
}

}  // namespace

TransformInfo files_open_transform() {
  return TransformInfo{
      .id = kId,
      .phase = "files",
      .summary =
          "with open() / open().read() / tempfile -> async with aiofiles, file calls awaited",
      .explain = R"(Before:
    def save_order(order: dict, path: str) -> None:
        with open(path, "w") as f:
            json.dump(order, f, indent=2)
After:
    async def save_order(order: dict, path: str) -> None:
        async with aiofiles.open(path, "w") as f:
            await f.write(json.dumps(order, indent=2))

In the block, f.read/readline/readlines/write/writelines/seek/flush/truncate/tell/close are
awaited and `for line in f` becomes `async for`; json.load(f) becomes
json.loads(await f.read()); `shutil.copyfileobj(src, f)` becomes a loop awaiting each write
(`while chunk := src.read(n): await f.write(chunk)`, reading an UploadFile parameter's `.file`
through its async read()). The function becomes async through the closure (AW401): its
callers await it, across modules. `import aiofiles` is added once.

A one-liner without `with`, `open(p).read()` (or readline, readlines, write, writelines),
that is the value of an assignment, an expression statement or a return, moves its statement
into an `async with` of its own, under a name the function does not use yet:
    data = open(path).read()
becomes
    async with aiofiles.open(path) as f:
        data = await f.read()
and `return open(path).read()` becomes `async with ...: return await f.read()`. The file is
now closed when the statement ends; before, it stayed open until garbage collection. The open()
moves to the start of the statement: it runs before the rest of the statement's expression.

In code that is async anyway (already, or made so by the closure), `with tempfile.X(...) as f:`
becomes `async with aiofiles.tempfile.X(...) as f:` for NamedTemporaryFile, TemporaryFile,
SpooledTemporaryFile and TemporaryDirectory, with f's I/O awaited as for open() (a
TemporaryDirectory's name is a path: only the `with` changes). Of the file's attributes only
name, mode and closed pass through aiofiles' wrapper. tempfile does not make a function async:
in sync code it stays, without a finding. `import tempfile` goes when nothing else uses it.

Refusals (the `with` stays, with a finding, and the function is not made async for it): open()
outside `with ... as name:` and not such a one-liner, a `with` that manages other context
managers too, `async with open(...)` (which fails when it runs: left for its author), the file object passed to a function the engine cannot follow (csv.reader,
shutil.copyfileobj, ...) or used in another way, a `shutil.copyfileobj(src, f)` that shares
its line with other code (`with open(p, "wb") as f: shutil.copyfileobj(src, f)`: its loop
needs lines of its own), any other open() in the same function that
cannot move, and a function the closure keeps sync. A one-liner stays where moving the open()
ahead of its statement would open a file the code may not open, or open it apart from the rest:
inside a conditional expression, `and`/`or`, a comprehension or generator expression, the
header of `if`/`while`/`for`/`with`, a statement sharing its line, or beside another open() in
the same statement. In a lambda it stays too (reported; it does not hold the function back).
A tempfile call in async code stays, with a finding, when it is not `with tempfile.X(...) as
name:` (`tmp = tempfile.NamedTemporaryFile()`: aiofiles.tempfile has only the `async with`
form), when the `with` manages other context managers too, or when the file is used in a way
aiofiles does not support (`tmp.file`, passed to csv.reader, ...); it holds no open() back.)",
      .triggers = {"open(", "tempfile"},
      .run = run_pass,
      .seeds = open_seeds,
      .record_verdicts = record_open_verdicts,
      .report_from_facts = report_from_facts};
}

}  // namespace awaitify
