// AW202: requests exceptions -> httpx exceptions, in except clauses and raise sites, where the
// code they guard raises httpx's exceptions once this run is done (see http_reach.hpp). An
// except clause that kept requests' names around migrated calls would no longer catch what the
// code raises, and one that took httpx's names around calls still made with requests would
// miss their errors: so the rule is per try statement, by what its body reaches. A body that
// reaches both libraries catches both.
#include <optional>
#include <set>

#include "awaitify/imports.hpp"
#include "awaitify/syntax.hpp"
#include "http_api.hpp"
#include "http_call.hpp"
#include "http_migration.hpp"
#include "http_reach.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace http;

constexpr const char* kId = "AW202";

// Response methods whose errors come from the call that made the response, wherever it was.
bool is_response_method_call(TSNode node, std::string_view src) {
  if (!is(node, "call") || !is(field(node, "function"), "attribute")) return false;
  std::string_view method = node_text(field(field(node, "function"), "attribute"), src);
  return method == "raise_for_status" || method == "json";
}

bool within(TSNode node, TSNode outer) {
  return ts_node_start_byte(node) >= ts_node_start_byte(outer) &&
         ts_node_end_byte(node) <= ts_node_end_byte(outer);
}

// The try statements of a scope (those of nested functions and classes are theirs).
std::vector<TSNode> try_statements(TSNode body) {
  std::vector<TSNode> found;
  walk(body, [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
      return false;
    if (is(node, "try_statement")) found.push_back(node);
    return true;
  });
  return found;
}

// The exception classes an except clause names, and the node holding them.
TSNode caught_types(TSNode clause) {
  TSNode value = field(clause, "value");
  if (ts_node_is_null(value)) return value;  // a bare `except:`
  if (is(value, "as_pattern")) value = ts_node_named_child(value, 0);
  if (is(value, "parenthesized_expression")) value = ts_node_named_child(value, 0);
  return value;
}

std::vector<TSNode> elements(TSNode types) {
  if (!is(types, "tuple")) return {types};
  std::vector<TSNode> result;
  for (TSNode element : named_children(types)) {
    if (!is(element, "comment")) result.push_back(element);
  }
  return result;
}

class ExceptionsPass {
 public:
  explicit ExceptionsPass(const FileContext& context)
      : context_(context),
        src_(context.text()),
        extracted_(context.current_facts
                       ? std::nullopt
                       : std::optional(extract_facts(context.source, context.root))),
        current_(context.current_facts ? *context.current_facts : *extracted_),
        reach_(context, current_) {
    lib_module_ = choose_library(context.index, context.setting("http-library"));
    lib_ = lib_module_;
    for (const auto& [local, target] : current_.imports) {
      if (target == lib_module_) lib_ = local;
    }
  }

  PassResult run() {
    for (const ScopeSites& scope : file_sites(current_, context_.root, src_, &context_.index))
      visit_scope(scope);
    if (edits_.empty()) return std::move(result_);
    ImportEditor imports(context_.source, context_.root, context_.index.first_party_packages());
    if (uses_lib_ && lib_ == lib_module_) imports.require_module(lib_module_);
    if (uses_json_) imports.require_module("json");
    for (const auto& [start, end] : ignored_) imports.ignore_uses_in(start, end);
    for (const auto& [local, target] : current_.imports) {
      if (target == "requests" || target.rfind("requests.", 0) == 0) imports.drop_if_unused(local);
    }
    result_.edits = std::move(edits_);
    std::vector<Edit> import_edits = imports.edits();
    result_.edits.insert(result_.edits.end(), import_edits.begin(), import_edits.end());
    return std::move(result_);
  }

 private:
  void visit_scope(const ScopeSites& scope) {
    TSNode body = scope.scope.is_module() ? context_.root : field(scope.scope.def, "body");
    Reach whole = reach_of(scope, body);
    for (TSNode statement : try_statements(body)) {
      TSNode guarded = field(statement, "body");
      Reach reach = reach_of(scope, guarded);
      // raise_for_status()/json() raise what the call that made the response raises.
      bool reads_response = false;
      walk(guarded, [&](TSNode node) {
        reads_response |= is_response_method_call(node, src_);
        return !reads_response;
      });
      if (reads_response) reach |= whole;
      for (TSNode clause : named_children(statement)) {
        if (is(clause, "except_clause")) rewrite_clause(clause, reach);
      }
    }
    if (!whole.migrated()) return;
    for (const Site& site : scope.sites) {
      std::string name = requests_exception(site.target);
      if (!name.empty()) rewrite_raise(site, name);
    }
    report_bare_raises(body);
  }

  // `raise requests.Timeout`: httpx's exceptions cannot be raised without a message.
  void report_bare_raises(TSNode body) {
    walk(body, [&](TSNode node) {
      if (is(node, "function_definition") || is(node, "class_definition") || is(node, "lambda"))
        return false;
      if (!is(node, "raise_statement")) return true;
      TSNode raised = ts_node_named_child(node, 0);
      if (!is(raised, "identifier") && !is(raised, "attribute")) return false;
      std::string name = requests_exception(current_.resolve(dotted_name(raised, src_)));
      if (!name.empty()) {
        warn(raised, "`" + std::string(node_text(raised, src_)) +
                         "` left as it is: httpx's exceptions are raised with a message (`raise " +
                         lib_ + "." + httpx_raise_class(name) + "(\"...\")`)");
      }
      return false;
    });
  }

  Reach reach_of(const ScopeSites& scope, TSNode range) {
    Reach reach;
    for (const Site& site : scope.sites) {
      if (within(site.node, range)) reach |= reach_.of_site(site);
    }
    return reach;
  }

  // ------------------------------------------------------------ except clauses

  void rewrite_clause(TSNode clause, const Reach& reach) {
    TSNode types = caught_types(clause);
    if (!reach.httpx || ts_node_is_null(types)) return;
    // What the clause catches already: a second run, or code that named httpx's classes, must
    // not get them twice.
    std::set<std::string> caught;
    for (TSNode element : elements(types))
      caught.insert(current_.resolve(dotted_name(element, src_)));
    for (TSNode element : elements(types)) {
      std::string dotted = dotted_name(element, src_);
      std::string target = current_.resolve(dotted);
      if (target.empty() &&
          (dotted == "OSError" || dotted == "IOError" || dotted == "EnvironmentError")) {
        warn(element, "requests' exceptions are OSErrors, httpx's are not: `" + dotted +
                          "` no longer catches the HTTP errors of this try body");
      }
      std::string name = requests_exception(target);
      if (name.empty()) continue;
      std::vector<std::string> names = httpx_exceptions(name);
      if (names.empty()) {
        warn(element, "`" + std::string(node_text(element, src_)) +
                          "` has no httpx counterpart: left as it is");
        continue;
      }
      std::vector<std::string> missing;
      for (const std::string& httpx_name : names) {
        std::string full =
            httpx_name.rfind("json.", 0) == 0 ? httpx_name : lib_module_ + "." + httpx_name;
        if (caught.insert(full).second) missing.push_back(httpx_name);
      }
      replace_caught(element, missing, is(types, "tuple"), !reach.requests);
    }
  }

  // One caught class -> its httpx classes (those the clause does not catch yet); where the
  // body still reaches requests too, both.
  void replace_caught(TSNode element, const std::vector<std::string>& names, bool in_tuple,
                      bool only_httpx) {
    if (names.empty() && !only_httpx) return;
    if (only_httpx) ignored_.emplace_back(ts_node_start_byte(element), ts_node_end_byte(element));
    if (names.empty()) {
      edits_.push_back(remove_argument(element, src_));  // caught already by another name
      return;
    }
    std::string text = only_httpx ? "" : std::string(node_text(element, src_));
    for (const std::string& name : names) text += (text.empty() ? "" : ", ") + qualified(name);
    size_t count = names.size() + (only_httpx ? 0 : 1);
    if (!in_tuple && count > 1) text = "(" + text + ")";
    edits_.push_back(Edit::replace(ts_node_start_byte(element), ts_node_end_byte(element), text));
  }

  // ------------------------------------------------------------ raise sites

  void rewrite_raise(const Site& site, const std::string& name) {
    TSNode callee = field(site.node, "function");
    std::string replacement = httpx_raise_class(name);
    if (replacement.empty()) {
      return warn(site.node, "`" + std::string(node_text(callee, src_)) +
                                 "` has no httpx counterpart: left as it is");
    }
    TSNode arguments = field(site.node, "arguments");
    if (replacement == "HTTPStatusError") {
      std::string response = keyword_value(arguments, "response");
      if (response.empty()) {
        return warn(site.node,
                    "`" + std::string(node_text(callee, src_)) +
                        "` left as it is: httpx.HTTPStatusError needs request= and response=");
      }
      if (keyword_value(arguments, "request").empty()) {
        TSNode closing = ts_node_child(arguments, ts_node_child_count(arguments) - 1);
        edits_.push_back(
            Edit::insert(ts_node_start_byte(closing), ", request=" + response + ".request"));
      }
    } else if (!keyword_value(arguments, "response").empty()) {
      return warn(site.node, "`" + std::string(node_text(callee, src_)) +
                                 "` left as it is: httpx." + replacement + " takes no response=");
    }
    edits_.push_back(Edit::replace(ts_node_start_byte(callee), ts_node_end_byte(callee),
                                   qualified(replacement)));
    ignored_.emplace_back(ts_node_start_byte(callee), ts_node_end_byte(callee));
  }

  std::string keyword_value(TSNode arguments, std::string_view keyword) const {
    for (TSNode argument : named_children(arguments)) {
      if (is(argument, "keyword_argument") && node_text(field(argument, "name"), src_) == keyword) {
        return std::string(node_text(field(argument, "value"), src_));
      }
    }
    return {};
  }

  // "HTTPError" -> "httpx.HTTPError"; "json.JSONDecodeError" stays as it is (and needs json).
  std::string qualified(const std::string& name) {
    if (name.rfind("json.", 0) == 0) {
      uses_json_ = true;
      return name;
    }
    uses_lib_ = true;
    return lib_ + "." + name;
  }

  void warn(TSNode at, const std::string& message) {
    result_.findings.push_back(context_.finding(kId, at, Severity::warning, message));
  }

  const FileContext& context_;
  std::string_view src_;
  std::optional<ModuleFacts> extracted_;  // when the file changed since the index read it
  const ModuleFacts& current_;
  ReachFinder reach_;
  std::string lib_module_;
  std::string lib_;
  bool uses_lib_ = false;
  bool uses_json_ = false;
  std::vector<Edit> edits_;
  std::vector<std::pair<uint32_t, uint32_t>> ignored_;
  PassResult result_;
};

PassResult run_pass(const FileContext& context) {
  return ExceptionsPass(context).run();
}

// Every change and finding needs a try body or function that reaches httpx.
bool applies(const ModuleFacts& facts, const ProjectIndex& index, const Plan&) {
  return may_reach_http(facts, index);
}

}  // namespace

TransformInfo http_exceptions_transform() {
  return TransformInfo{.id = kId,
                       .phase = "http",
                       .summary = "requests exceptions -> httpx exceptions",
                       .explain = R"(Before:
    try:
        data = clients.fetch_rate(currency)      # makes a requests call that AW201 migrates
    except requests.HTTPError as exc:
        ...
    except requests.RequestException:
        ...
After:
    try:
        data = await clients.fetch_rate(currency)
    except httpx.HTTPStatusError as exc:
        ...
    except httpx.HTTPError:
        ...

RequestException -> HTTPError, HTTPError -> HTTPStatusError, ConnectionError ->
(ConnectError, ConnectTimeout), Timeout -> TimeoutException, ConnectTimeout, ReadTimeout,
SSLError -> ConnectError, ProxyError, TooManyRedirects, ContentDecodingError -> DecodingError,
ChunkedEncodingError -> RemoteProtocolError, InvalidURL, JSONDecodeError ->
json.JSONDecodeError; as requests.X, requests.exceptions.X or imported names.

Where: an except clause changes when its try body reaches httpx once this run is done: an
httpx call, or a project function that (through its callers' chain, across modules) makes a
requests call AW201 migrates in this run (AW201 selected, the function is or becomes async,
the call one AW201 can move). A body that reaches only requests calls that stay keeps
requests' names; one that reaches both catches both: `except (requests.Timeout,
httpx.TimeoutException)`. raise_for_status()/json() in a try body count as the calls of their
function. A raise site (a requests exception constructed anywhere in a function) changes when
its function reaches httpx only: HTTPError(msg, response=r) -> HTTPStatusError(msg,
response=r, request=r.request). `import requests` goes when nothing uses it.

Reported: an except OSError around code that now raises httpx's exceptions (requests'
exceptions are OSErrors, httpx's are not), exceptions with no httpx counterpart, HTTPError
raised without response= (httpx.HTTPStatusError needs request and response). Not mapped:
requests' RequestException also covers JSON decoding errors of response.json(); httpx raises
json.JSONDecodeError there, which httpx.HTTPError does not catch.)",
                       .triggers = {"requests"},
                       .run = run_pass,
                       .applies = applies};
}

}  // namespace awaitify
