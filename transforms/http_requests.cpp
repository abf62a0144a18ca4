// AW201: requests calls -> awaited httpx.AsyncClient calls in code that is or becomes async.
// The functions whose requests calls can move are the seeds: the closure (AW401) makes their
// callers await them. Each call keeps requests' behaviour where httpx's differs (see
// http_call.hpp); what cannot move is reported, with a TODO where the fix is manual.
#include <algorithm>
#include <map>
#include <set>

#include "awaitify/engine.hpp"
#include "awaitify/imports.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_client.hpp"
#include "http_migration.hpp"
#include "http_response.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace http;

constexpr const char* kId = "AW201";

std::string why_sync(const ScopeInfo& scope, const Plan& plan) {
  if (scope.is_module()) return "it runs at module level, outside any function";
  std::vector<Stop> stops = plan.stops_for(scope.qualified);
  if (stops.empty()) return "its function stays sync";
  return "its function stays sync: " + stops.front().reason + " (" + chain_text(stops.front()) +
         ")";
}

class RequestsPass {
 public:
  explicit RequestsPass(const FileContext& context)
      : context_(context),
        src_(context.text()),
        shared_(context.setting("http-client", "shared") != "scoped") {
    lib_module_ = choose_library(context.index, context.setting("http-library"));
    style_.lib = lib_module_;
    for (const auto& [local, target] : context.facts.imports) {
      if (target == lib_module_) style_.lib = local;  // `import httpx as hx`
    }
    style_.timeout = context.setting("http-timeout", "None");
    style_.newline = context.source.newline();
    for (uint32_t line = 1; line <= context.source.line_count(); ++line) {
      uint32_t start = context.source.line_start(line);
      size_t end = src_.find('\n', start);
      long length = static_cast<long>((end == std::string_view::npos ? src_.size() : end) - start);
      line_limit_ = std::max(line_limit_, length);
    }
  }

  PassResult run() {
    for (const ScopeSites& scope :
         file_sites(context_.facts, context_.root, src_, &context_.index)) {
      ScopeMigration migration = analyze_scope(scope, context_.facts, src_);
      migrate_scope(scope.scope, migration);
    }
    if (edits_.empty()) return std::move(result_);
    finish();
    return std::move(result_);
  }

 private:
  void migrate_scope(const ScopeInfo& scope, const ScopeMigration& migration) {
    for (TSNode member : migration.unfollowed) {
      warn(member, "`" + callee_text(member) +
                       "` left as it is: a Session the engine cannot follow (an attribute, a "
                       "parameter or a module-level session); migrate it by hand");
    }
    bool async_after = !scope.is_module() && (is_async_function(scope.def) ||
                                              context_.plan.becomes_async(scope.qualified));
    if (!async_after) {
      // What keeps a call from moving says more than the function staying sync (it may stay
      // sync only because of that call).
      for (const RequestsCall& call : migration.calls)
        refuse(call.call, or_sync(call.refusal, scope), call.todo);
      for (const SessionUse& session : migration.sessions) {
        refuse(session.constructor, or_sync(session.refusal, scope), session.todo);
      }
      return;
    }
    scope_ = scope;
    migrated_.clear();
    for (const RequestsCall& call : migration.calls) {
      if (call.refusal.empty())
        migrate_call(call);
      else
        refuse(call.call, call.refusal, call.todo);
    }
    for (const SessionUse& session : migration.sessions) {
      if (session.refusal.empty())
        migrate_session(session);
      else
        refuse(session.constructor, session.refusal, session.todo);
    }
    if (!migrated_.empty()) {
      rewrite_responses();
      rewrite_annotations();
    }
  }

  // ------------------------------------------------------------ one call

  void migrate_call(const RequestsCall& call) {
    call_mark_ = edits_.size();
    std::string options = client_arguments(call, style_, src_);
    bool scoped = !shared_ || !options.empty();
    std::string constructor = style_.lib + ".AsyncClient(" + options + ")";
    std::string client;
    if (call.stream) {
      client = scoped ? free_name(scope_.def, src_, {"client", "http_client"}) : shared_name();
      TSNode with = sole_with_as_statement(call.call);
      add({Edit::insert(ts_node_start_byte(with), "async ")});
      if (scoped)
        add({Edit::insert(ts_node_start_byte(ts_node_parent(ts_node_parent(call.call))),
                          constructor + " as " + client + ", ")});
      rename_callee(call.call, client + ".stream");
      add(argument_edits(call, style_, context_.facts, src_));
      stream_uses(call, with);
      finish_call(call, false);
      return;
    }
    if (scoped) {
      std::string why;
      client = scoped_client(call.call, constructor, why);
      if (client.empty()) return refuse(call.call, why, "");
    } else {
      client = shared_name();
    }
    rename_callee(call.call, client + "." + call.method);
    add(argument_edits(call, style_, context_.facts, src_));
    finish_call(call, true);
  }

  // The edits every migrated call shares: its response used in place, the await, notes.
  void finish_call(const RequestsCall& call, bool await) {
    ResponseInfo info{false, call.redirects_off};
    add_response(response_use_edits(call.call, info, src_));
    if (await) {
      auto awaited = await_expression(call.call, true);
      if (awaited) add(*awaited);
    }
    note_params(call);
    break_long_call(call.call);
    if (ts_node_is_null(migrated_first_)) migrated_first_ = call.call;
    migrated_.push_back(call);
    uses_lib_ = true;
  }

  // A one-line call that the rewrite makes longer than any line of the file (and than 99
  // columns) gets its arguments on a line of their own, as black lays out a statement's call.
  // Only a call that is its statement's value: inside an expression the break reads worse.
  void break_long_call(TSNode call) {
    if (ts_node_start_point(call).row != ts_node_end_point(call).row) return;
    TSNode parent = ts_node_parent(call);
    if (!is(parent, "assignment") && !is(parent, "return_statement") &&
        !is(parent, "expression_statement") && !is(parent, "as_pattern")) {
      return;
    }
    TSNode arguments = field(call, "arguments");
    if (named_children(arguments).empty()) return;
    const SourceFile& source = context_.source;
    uint32_t line_start = source.line_start(source.position(ts_node_start_byte(call)).line);
    size_t line_end = src_.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = src_.size();
    long length = static_cast<long>(line_end - line_start);
    for (size_t i = call_mark_; i < edits_.size(); ++i) {
      if (edits_[i].start >= line_start && edits_[i].end <= line_end) {
        length += static_cast<long>(edits_[i].text.size()) -
                  static_cast<long>(edits_[i].end - edits_[i].start);
      }
    }
    for (const ScopedWrap& wrap : wraps_) {
      if (ts_node_start_byte(call) >= ts_node_start_byte(wrap.statement) &&
          ts_node_end_byte(call) <= ts_node_end_byte(wrap.statement))
        length += 4;
    }
    if (length <= line_limit_) return;
    std::string indent(source.indent_at(ts_node_start_byte(call)));
    const std::string& nl = source.newline();
    // The break after `(` goes before what the arguments gain at their start (`"GET", `).
    edits_.insert(edits_.begin() + static_cast<long>(call_mark_),
                  Edit::insert(ts_node_start_byte(arguments) + 1, nl + indent + "    "));
    edits_.push_back(Edit::insert(ts_node_end_byte(arguments) - 1, nl + indent));
  }

  // The name of the client a scoped call's statement runs under; empty with `why` when the
  // statement cannot be wrapped or already runs under a different client.
  std::string scoped_client(TSNode call, const std::string& constructor, std::string& why) {
    TSNode statement = wrap_statement(call, src_, why);
    if (ts_node_is_null(statement)) return {};
    uint32_t start = ts_node_start_byte(statement), end = ts_node_end_byte(statement);
    for (const ScopedWrap& wrap : wraps_) {
      uint32_t wrap_start = ts_node_start_byte(wrap.statement),
               wrap_end = ts_node_end_byte(wrap.statement);
      if (start >= wrap_start && end <= wrap_end) {
        if (wrap.client == constructor) return wrap.name;
        why = "another call of its statement needs a client with other options";
        return {};
      }
      if (start <= wrap_start && end >= wrap_end) {
        why = "a call inside its statement already runs under a client of its own";
        return {};
      }
    }
    std::string name = free_name(scope_.def, src_, {"client", "http_client"});
    wraps_.push_back(ScopedWrap{statement, constructor, name});
    return name;
  }

  void rename_callee(TSNode call, const std::string& text) {
    TSNode callee = field(call, "function");
    add({Edit::replace(ts_node_start_byte(callee), ts_node_end_byte(callee), text)});
    ignore(callee);
  }

  // A stream's body: iter_content -> aiter_bytes under `async for`, and the other differences.
  void stream_uses(const RequestsCall& call, TSNode with) {
    ResponseInfo info{true, call.redirects_off};
    std::string name = with_target(call.call, src_);
    for (TSNode use : uses_of(field(with, "body"), name, src_))
      add_response(response_use_edits(use, info, src_));
  }

  // ------------------------------------------------------------ sessions

  // requests' mounted HTTPAdapter(max_retries=n) as the client's transport: one for every URL
  // when http:// and https:// get the same, else one per mounted prefix.
  std::string transport_argument(const std::vector<RetryMount>& mounts) const {
    if (mounts.empty()) return {};
    std::map<std::string, std::string> by_prefix;  // a later mount of a prefix replaces it
    for (const RetryMount& mount : mounts) by_prefix[mount.prefix] = mount.retries;
    auto transport = [&](const std::string& retries) {
      return style_.lib + ".AsyncHTTPTransport(retries=" + retries + ")";
    };
    if (by_prefix.size() == 2 && by_prefix.count("http://") && by_prefix.count("https://") &&
        by_prefix["http://"] == by_prefix["https://"])
      return ", transport=" + transport(by_prefix["https://"]);
    std::string entries;
    for (const auto& [prefix, retries] : by_prefix)
      entries += (entries.empty() ? "" : ", ") + ("\"" + prefix + "\": " + transport(retries));
    return ", mounts={" + entries + "}";
  }

  // The whole lines of a statement that stands alone on them.
  Edit statement_removal(TSNode statement) const {
    const SourceFile& source = context_.source;
    uint32_t start = source.line_start(source.position(ts_node_start_byte(statement)).line);
    size_t newline = src_.find('\n', ts_node_end_byte(statement));
    uint32_t end = newline == std::string_view::npos ? static_cast<uint32_t>(src_.size())
                                                     : static_cast<uint32_t>(newline + 1);
    return Edit::replace(start, end, "");
  }

  void migrate_session(const SessionUse& session) {
    TSNode arguments = field(session.constructor, "arguments");
    rename_callee(session.constructor, style_.lib + ".AsyncClient");
    // A session's uses may reach code the engine does not see: its client keeps requests'
    // defaults for every request, not only the ones rewritten here.
    add({Edit::replace(ts_node_start_byte(arguments), ts_node_end_byte(arguments),
                       "(follow_redirects=True, timeout=" + style_.timeout +
                           transport_argument(session.mounts) + ")")});
    for (const RetryMount& mount : session.mounts) {
      add({statement_removal(mount.statement)});
      ignore(mount.statement);  // its HTTPAdapter import may go
    }
    if (!ts_node_is_null(session.with_statement))
      add({Edit::insert(ts_node_start_byte(session.with_statement), "async ")});
    for (const RequestsCall& call : session.calls) {
      call_mark_ = edits_.size();
      add(argument_edits(call, style_, context_.facts, src_));
      TSNode with = call.stream ? sole_with_as_statement(call.call) : TSNode{};
      if (!ts_node_is_null(with)) {
        add({Edit::insert(ts_node_start_byte(with), "async ")});
        TSNode attribute = field(field(call.call, "function"), "attribute");
        add({Edit::replace(ts_node_start_byte(attribute), ts_node_end_byte(attribute), "stream")});
        stream_uses(call, with);
      }
      finish_call(call, ts_node_is_null(with));
    }
    for (TSNode close : session.closes) {
      TSNode attribute = field(field(close, "function"), "attribute");
      add({Edit::replace(ts_node_start_byte(attribute), ts_node_end_byte(attribute), "aclose")});
      if (auto awaited = await_expression(close, true)) add(*awaited);
    }
    if (ts_node_is_null(session.with_statement) && session.closes.empty()) {
      note(session.constructor, "`" + session.name + "` is never closed: `await " + session.name +
                                    ".aclose()` when done, or use `async with`");
    }
    uses_lib_ = true;
  }

  // ------------------------------------------------------------ responses and annotations

  // `r = <migrated call>`: r's uses in the function, when every binding of r is such a call.
  void rewrite_responses() {
    std::map<std::string, ResponseInfo> names;
    for (const RequestsCall& call : migrated_) {
      TSNode parent = ts_node_parent(call.call);
      if (call.stream || !is(parent, "assignment") || !is(field(parent, "left"), "identifier"))
        continue;
      std::string name(node_text(field(parent, "left"), src_));
      names[name].redirects_off |= call.redirects_off;
    }
    TSNode body = field(scope_.def, "body");
    for (const auto& [name, info] : names) {
      if (!only_bound_by_migrated_calls(body, name)) continue;
      for (TSNode use : uses_of(body, name, src_))
        add_response(response_use_edits(use, info, src_));
    }
  }

  bool only_bound_by_migrated_calls(TSNode body, const std::string& name) {
    bool only = true;
    walk(body, [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "lambda")) return false;
      if (!is(node, "assignment") || node_text(field(node, "left"), src_) != name) return only;
      TSNode right = field(node, "right");
      bool migrated = false;
      for (const RequestsCall& call : migrated_) migrated |= ts_node_eq(call.call, right);
      only &= migrated;
      return only;
    });
    return only;
  }

  // `-> requests.Response` in a function whose calls now return httpx responses.
  void rewrite_annotations() {
    walk(scope_.def, [&](TSNode node) {
      if (is(node, "block")) return false;
      if (!is(node, "type")) return true;
      walk(node, [&](TSNode inner) {
        if (!is(inner, "attribute") && !is(inner, "identifier")) return true;
        if (!is_response_type(context_.facts.resolve(dotted_name(inner, src_)))) return true;
        add({Edit::replace(ts_node_start_byte(inner), ts_node_end_byte(inner),
                           style_.lib + ".Response")});
        ignore(inner);
        return false;
      });
      return false;
    });
  }

  void add_response(const ResponseEdits& edits) {
    add(edits.edits);
    for (const ResponseNote& n : edits.notes) {
      if (n.warning)
        warn(n.at, n.message);
      else
        note(n.at, n.message);
    }
  }

  // requests drops a None parameter and sends True as "True"; httpx sends "" and "true".
  void note_params(const RequestsCall& call) {
    const Argument* params = call.find("params");
    if (!params || !is(params->value, "dictionary")) return;
    for (TSNode pair : named_children(params->value)) {
      if (!is(pair, "pair")) continue;
      TSNode value = field(pair, "value");
      if (is(value, "none"))
        warn(value, "params value None: requests leaves the parameter out, httpx sends it empty");
      if (is(value, "true") || is(value, "false")) {
        warn(value, "params value " + std::string(node_text(value, src_)) +
                        ": requests sends it capitalized, httpx in lower case");
      }
    }
  }

  // ------------------------------------------------------------ refusals, findings, output

  std::string or_sync(const std::string& refusal, const ScopeInfo& scope) const {
    return refusal.empty() ? why_sync(scope, context_.plan) : refusal;
  }

  void refuse(TSNode call, const std::string& why, const std::string& todo) {
    warn(call, "`" + callee_text(call) + "` left as it is: " + why);
    if (todo.empty()) return;
    TSNode statement = call;
    while (!ts_node_is_null(ts_node_parent(statement)) && !is(ts_node_parent(statement), "block")) {
      statement = ts_node_parent(statement);
    }
    uint32_t line = context_.source.position(ts_node_start_byte(statement)).line;
    uint32_t at = context_.source.line_start(line);
    std::string indent(context_.source.indent_at(ts_node_start_byte(statement)));
    std::string comment = "# TODO(awaitify): " + todo;
    if (line > 1) {
      uint32_t previous = context_.source.line_start(line - 1);
      std::string_view text = std::string_view(src_).substr(previous, at - previous);
      if (text.find(comment) != std::string_view::npos) return;  // left by an earlier run
    }
    add({Edit::insert(at, indent + comment + context_.source.newline())});
  }

  std::string shared_name() {
    if (shared_client_.name.empty()) {
      shared_client_ = shared_client(context_.facts, context_.root, src_, lib_module_);
    }
    uses_shared_ = true;
    return shared_client_.name;
  }

  // Without AW202 in the run, an except clause of requests' exceptions around these calls no
  // longer catches what they raise. Those of this file are named; callers elsewhere are not.
  void report_stale_excepts() {
    walk(context_.root, [&](TSNode node) {
      if (!is(node, "except_clause")) return true;
      TSNode types = field(node, "value");
      if (is(types, "as_pattern")) types = ts_node_named_child(types, 0);
      walk(types, [&](TSNode element) {
        if (!is(element, "identifier") && !is(element, "attribute")) return true;
        std::string target = context_.facts.resolve(dotted_name(element, src_));
        if (requests_exception(target).empty()) return !is(element, "attribute");
        warn(element, "`" + std::string(node_text(element, src_)) +
                          "` still names requests' exception: AW202 (not selected in this run) "
                          "moves except clauses to httpx's");
        return false;
      });
      return true;
    });
  }

  void finish() {
    if (!context_.runs("AW202")) report_stale_excepts();
    ImportEditor imports(context_.source, context_.root, context_.index.first_party_packages());
    if (uses_lib_ && style_.lib == lib_module_) imports.require_module(lib_module_);
    for (const auto& [start, end] : ignored_) imports.ignore_uses_in(start, end);
    for (const auto& [local, target] : context_.facts.imports) {
      if (target == "requests" || target.rfind("requests.", 0) == 0) imports.drop_if_unused(local);
    }
    std::vector<Edit> edits = imports.edits();
    if (uses_shared_ && !shared_client_.exists) {
      std::string closer = closer_name(context_.root, src_, shared_client_.name);
      note(migrated_first_, "`" + shared_client_.name + "` is one AsyncClient for the module; `" +
                                closer +
                                "()` closes it, called from the lifespan of the app that "
                                "uses it (AW203)");
      edits.push_back(shared_client_declaration(context_.root, context_.source, shared_client_.name,
                                                style_.lib + ".AsyncClient()", closer));
    }
    auto wrapped = apply_wraps(edits_, wraps_, context_.source);
    if (!wrapped) {
      result_.findings.push_back(
          context_.finding(kId, context_.root, Severity::error, wrapped.error().message));
      return;
    }
    result_.edits = std::move(*wrapped);
    result_.edits.insert(result_.edits.end(), edits.begin(), edits.end());
  }

  std::string callee_text(TSNode call) const {
    return std::string(node_text(field(call, "function"), src_));
  }
  void add(const std::vector<Edit>& edits) {
    edits_.insert(edits_.end(), edits.begin(), edits.end());
  }
  void ignore(TSNode node) {
    ignored_.emplace_back(ts_node_start_byte(node), ts_node_end_byte(node));
  }
  void warn(TSNode at, const std::string& message) {
    result_.findings.push_back(context_.finding(kId, at, Severity::warning, message));
  }
  void note(TSNode at, const std::string& message) {
    result_.findings.push_back(context_.finding(kId, at, Severity::note, message));
  }

  const FileContext& context_;
  std::string_view src_;
  bool shared_;
  std::string lib_module_;
  CallStyle style_;
  SharedClient shared_client_;
  bool uses_shared_ = false;
  bool uses_lib_ = false;
  ScopeInfo scope_;
  std::vector<RequestsCall> migrated_;
  size_t call_mark_ = 0;  // edits_ from here on belong to the call being migrated
  long line_limit_ = 99;
  TSNode migrated_first_{};
  std::vector<Edit> edits_;
  std::vector<ScopedWrap> wraps_;
  std::vector<std::pair<uint32_t, uint32_t>> ignored_;
  PassResult result_;
};

PassResult run_pass(const FileContext& context) {
  return RequestsPass(context).run();
}

// A file can hold a requests call only through an import that leads to requests (directly or
// through a project module that re-exports it).
bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan&) {
  return std::any_of(facts.imports.begin(), facts.imports.end(), [&](const auto& import) {
    for (const std::string& target : {import.second, index.canonical(import.second)}) {
      if (target == "requests" || target.rfind("requests.", 0) == 0) return true;
    }
    return false;
  });
}

// Sync functions with a requests call or session that can move. Their files are parsed again
// here, once each, so a function whose every call is refused is not made async for nothing.
std::vector<Seed> requests_seeds(const ProjectIndex& index, const Settings&,
                                 const SeedScope& scope) {
  std::map<std::string, std::set<std::string>> candidates;
  for (const FunctionFacts* fn : index.functions()) {
    if (fn->is_async || fn->is_module) continue;
    // Requests calls are in `blocking`; a Session's constructor is in `calls`.
    for (const auto* list : {&fn->blocking, &fn->calls}) {
      for (const CallFact& call : *list) {
        if (call.target.rfind("requests.", 0) == 0)
          candidates[index.path_of(*fn)].insert(fn->qualified);
      }
    }
  }
  std::vector<Seed> result;
  for (const auto& [path, functions] : candidates) {
    if (!scope.covers(path)) continue;  // its seeds would be dropped: not parsed
    auto source = SourceFile::load(path);
    const ModuleFacts* facts = index.module_for_path(path);
    if (!source || !facts) continue;
    Parser parser;
    auto tree = parser.parse(source->text());
    if (!tree) continue;
    for (const ScopeSites& scope : file_sites(*facts, tree->root(), source->text(), &index)) {
      if (!functions.count(scope.scope.qualified)) continue;
      if (analyze_scope(scope, *facts, source->text()).migrates_any()) {
        result.push_back(Seed{scope.scope.qualified, "calls requests (AW201)", kId});
      }
    }
  }
  return result;
}

}  // namespace

TransformInfo http_requests_transform() {
  return TransformInfo{.id = kId,
                       .phase = "http",
                       .summary = "requests calls -> awaited httpx.AsyncClient calls",
                       .explain = R"(Before:
    def fetch_rate(currency):
        response = requests.get(URL, params={"currency": currency})
        response.raise_for_status()
        return response.json()
After (--http-client shared, the default):
    http_client = httpx.AsyncClient()

    async def fetch_rate(currency):
        response = await http_client.get(URL, params={"currency": currency}, follow_redirects=True, timeout=None)
        response.raise_for_status()
        return response.json()
After (--http-client scoped):
    async def fetch_rate(currency):
        async with httpx.AsyncClient() as client:
            response = await client.get(URL, params={"currency": currency}, follow_redirects=True, timeout=None)
        response.raise_for_status()
        return response.json()

requests.get/post/put/patch/delete/head/options/request, called as requests.get, r.get
(`import requests as r`) or get (`from requests import get`), in code that is or becomes async.
The function becomes async through the closure (AW401): its callers await it, across modules.
Behaviour is kept where the libraries differ: redirects are followed as requests does
(allow_redirects= becomes follow_redirects=; requests.head follows none); a call without a
timeout gets timeout=None (requests waits forever, httpx 5 s; --http-timeout sets another);
a (connect, read) tuple becomes httpx.Timeout(read, connect=connect); data= with str/bytes
becomes content=; verify=, cert=, proxies= and cookies= are client-level in httpx, so such a
call gets `async with httpx.AsyncClient(...)` of its own (proxies -> proxy= or mounts= of
AsyncHTTPTransport); requests.auth.HTTPBasicAuth/HTTPDigestAuth -> httpx.BasicAuth/DigestAuth.
On the response: ok -> not is_error (is_success is 2xx only), reason -> reason_phrase,
url -> str(url), iter_content(n) -> iter_bytes(n). `with requests.get(url, stream=True) as r:`
becomes `async with client.stream("GET", url) as r:` with `async for ... in r.aiter_bytes(n)`
(aiter_lines yields str, not bytes). requests.Session() -> httpx.AsyncClient(
follow_redirects=True, timeout=None), its `with` -> `async with`, its requests awaited,
close() -> await aclose(), `session.mount("https://", HTTPAdapter(max_retries=n))` -> the
client's transport=httpx.AsyncHTTPTransport(retries=n) (both schemes alike) or mounts={...}:
httpx retries failed connections as requests' max_retries=n does. requests.Response annotations -> httpx.Response. `import requests`
goes when nothing uses it; `import httpx` is added once. A one-line call the rewrite makes
longer than the file's longest line (and 99 columns) gets its arguments on a line of their own.
Run it with AW202 (--phase http does): without it, except clauses of requests' exceptions stop
matching what migrated calls raise; those of the file are reported.

--http-library httpx2 uses httpx2; a project that already imports httpx2 gets it by default.

The shared client comes with `async def close_http_client()`, which closes it and puts a new
one in its place: AW203 (same phase) calls it at shutdown from the lifespan of each app that
imports the module, so pooled connections are closed in the event loop that opened them, and
an app that starts again in the same process (each TestClient of a test suite) gets a fresh
client. An existing module-level AsyncClient() without options is reused as it is.

Reported, not rewritten (a finding; a `# TODO(awaitify)` where the fix is manual): hooks=,
auth= objects written for requests, session.mount() of other adapters (a urllib3 Retry), proxies= that is not a dict
literal, **kwargs, stream=True outside `with ... as r:` or a stream whose body is read whole,
Session objects held in attributes, parameters or at module level, a session used in a way
AsyncClient does not support, calls in a lambda or generator expression, at module level or in
a function the closure keeps sync. Also reported: params values None/True/False (sent
differently), raise_for_status() where redirects are not followed (httpx raises on 3xx).)",
                       .triggers = {"requests"},
                       .run = run_pass,
                       .seeds = requests_seeds,
                       .applies = applies};
}

}  // namespace awaitify
