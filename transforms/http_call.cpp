#include "http_call.hpp"

#include <algorithm>
#include <optional>

#include "awaitify/syntax.hpp"
#include "http_api.hpp"

namespace awaitify::http {

namespace {

bool is_comment(TSNode node) {
  return is(node, "comment");
}

std::vector<TSNode> argument_nodes(TSNode call) {
  std::vector<TSNode> nodes;
  for (TSNode child : named_children(field(call, "arguments"))) {
    if (!is_comment(child)) nodes.push_back(child);
  }
  return nodes;
}

std::string text(TSNode node, std::string_view src) {
  return std::string(node_text(node, src));
}

std::string join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const std::string& part : parts) joined += (joined.empty() ? "" : ", ") + part;
  return joined;
}

// A plain string literal's value ("https" for "https"); nullopt for f-strings and the rest.
std::optional<std::string> literal_string(TSNode node, std::string_view src) {
  if (!is(node, "string")) return std::nullopt;
  if (node_text(ts_node_child(node, 0), src).find_first_of("fFbB") != std::string_view::npos) {
    return std::nullopt;
  }
  std::string value;
  for (TSNode child : named_children(node)) {
    if (is(child, "string_content"))
      value += node_text(child, src);
    else if (!is(child, "string_start") && !is(child, "string_end"))
      return std::nullopt;
  }
  return value;
}

// The proxies dict's pairs as (scheme pattern, proxy expression); nullopt when it is not a
// dict literal with string keys.
std::optional<std::vector<std::pair<std::string, std::string>>> proxy_pairs(TSNode value,
                                                                            std::string_view src) {
  if (!is(value, "dictionary")) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (TSNode pair : named_children(value)) {
    if (is_comment(pair)) continue;
    if (!is(pair, "pair")) return std::nullopt;
    auto key = literal_string(field(pair, "key"), src);
    if (!key) return std::nullopt;
    std::string pattern = key->find("://") == std::string::npos ? *key + "://" : *key;
    pairs.emplace_back(pattern, text(field(pair, "value"), src));
  }
  return pairs;
}

// Why requests' auth= value cannot be handed to httpx as it is written; empty when it can.
std::string auth_refusal(TSNode value, const ModuleFacts& facts, std::string_view src) {
  if (is(value, "tuple") || is(value, "none")) return {};
  if (is(value, "call")) {
    std::string target = facts.resolve(dotted_name(field(value, "function"), src));
    if (target == "requests.auth.HTTPBasicAuth" || target == "requests.auth.HTTPDigestAuth")
      return {};
  }
  return "auth= is not a (user, password) tuple or a requests auth class with an httpx twin";
}

void read_keyword(RequestsCall& call, Argument argument, const ModuleFacts& facts,
                  std::string_view src) {
  const std::string& keyword = argument.keyword;
  std::string value = text(argument.value, src);
  if (!is_requests_keyword(keyword) || keyword == "method" || keyword == "url") {
    if (keyword != "url" && keyword != "method")
      call.refusal = "`" + keyword + "=` is not an option requests takes";
  } else if (keyword == "hooks") {
    call.refusal = "hooks= has no per-request form in httpx";
    call.todo =
        "hooks= has no per-request form in httpx: give an AsyncClient event_hooks= (async "
        "callables)";
  } else if (keyword == "auth") {
    if (std::string why = auth_refusal(argument.value, facts, src); !why.empty()) {
      call.refusal = why;
      call.todo =
          "auth= was written for requests: pass an httpx.Auth (or a (user, password) tuple)";
    }
  } else if (keyword == "stream") {
    if (value == "True")
      call.stream = true;
    else if (value != "False")
      call.refusal = "stream= is not a literal True or False";
  } else if (keyword == "proxies" && !proxy_pairs(argument.value, src)) {
    call.refusal = "proxies= is not a dict literal with string keys";
    call.todo =
        "proxies= is client-level in httpx: give this call an AsyncClient(proxy=...) or mounts=";
  } else if (call.session && (keyword == "verify" || keyword == "cert" || keyword == "proxies")) {
    call.refusal = "`" + keyword + "=` on one request of a session is client-level in httpx";
  } else if (keyword == "allow_redirects") {
    call.redirects_off = value == "False";
  }
  call.arguments.push_back(std::move(argument));
}

bool is_option(const Argument& argument, bool session) {
  const std::string& k = argument.keyword;
  return k == "verify" || k == "cert" || k == "proxies" || (k == "cookies" && !session);
}

std::string keyword_for(const Argument& argument, const ModuleFacts& facts, std::string_view src) {
  if (argument.keyword == "data" && is_text_or_bytes(argument.value, facts, src)) return "content";
  if (argument.keyword == "allow_redirects") return "follow_redirects";
  return argument.keyword;
}

// The one edit an argument that stays needs, if any.
std::optional<Edit> argument_edit(const Argument& argument, const CallStyle& style,
                                  const ModuleFacts& facts, std::string_view src) {
  std::string keyword = keyword_for(argument, facts, src);
  if (argument.positional) return Edit::insert(ts_node_start_byte(argument.value), keyword + "=");
  if (keyword != argument.keyword) {
    TSNode name = field(argument.node, "name");
    return Edit::replace(ts_node_start_byte(name), ts_node_end_byte(name), keyword);
  }
  TSNode value = argument.value;
  if (keyword == "timeout" && is(value, "tuple")) {
    std::vector<TSNode> parts;
    for (TSNode part : named_children(value)) {
      if (!is_comment(part)) parts.push_back(part);
    }
    if (parts.size() != 2) return std::nullopt;
    return Edit::replace(
        ts_node_start_byte(value), ts_node_end_byte(value),
        style.lib + ".Timeout(" + text(parts[1], src) + ", connect=" + text(parts[0], src) + ")");
  }
  if (keyword == "auth" && is(value, "call")) {
    TSNode callee = field(value, "function");
    std::string target = facts.resolve(dotted_name(callee, src));
    std::string twin = target == "requests.auth.HTTPBasicAuth" ? "BasicAuth" : "DigestAuth";
    return Edit::replace(ts_node_start_byte(callee), ts_node_end_byte(callee),
                         style.lib + "." + twin);
  }
  return std::nullopt;
}

// The keywords that make requests' defaults explicit where httpx's differ.
std::vector<std::string> default_keywords(const RequestsCall& call, const CallStyle& style) {
  std::vector<std::string> keywords;
  bool head = call.method == "head";
  if (!call.find("allow_redirects")) {
    // requests.head does not follow redirects; everything else does. A session's client
    // follows them already.
    if (!call.session && !head) keywords.push_back("follow_redirects=True");
    if (call.session && head) keywords.push_back("follow_redirects=False");
  }
  if (!call.session && !call.find("timeout")) keywords.push_back("timeout=" + style.timeout);
  return keywords;
}

bool starts_its_line(TSNode node, std::string_view src) {
  uint32_t start = ts_node_start_byte(node);
  while (start > 0 && (src[start - 1] == ' ' || src[start - 1] == '\t')) --start;
  return start == 0 || src[start - 1] == '\n';
}

std::string indentation_of(TSNode node, std::string_view src) {
  uint32_t end = ts_node_start_byte(node);
  uint32_t start = end;
  while (start > 0 && (src[start - 1] == ' ' || src[start - 1] == '\t')) --start;
  return std::string(src.substr(start, end - start));
}

}  // namespace

const Argument* RequestsCall::find(std::string_view keyword) const {
  for (const Argument& argument : arguments) {
    if (argument.keyword == keyword) return &argument;
  }
  return nullptr;
}

std::vector<const Argument*> RequestsCall::client_options() const {
  std::vector<const Argument*> options;
  for (const Argument& argument : arguments) {
    if (is_option(argument, session)) options.push_back(&argument);
  }
  return options;
}

RequestsCall read_requests_call(TSNode call, const std::string& method, bool session,
                                const ModuleFacts& facts, std::string_view src) {
  RequestsCall result;
  result.call = call;
  result.method = method;
  result.session = session;
  result.redirects_off = method == "head";
  std::vector<std::string> names = positional_keywords(method);
  size_t leading = method == "request" ? 2 : 1;  // (method,) url
  size_t position = 0;
  bool has_url = false;
  for (TSNode node : argument_nodes(call)) {
    if (is(node, "list_splat") || is(node, "dictionary_splat")) {
      result.refusal =
          "it passes *args or **kwargs, which may carry options httpx takes differently";
      continue;
    }
    if (is(node, "keyword_argument")) {
      Argument argument{node, text(field(node, "name"), src), field(node, "value"), false};
      if (argument.keyword == "allow_redirects") result.redirects_off = false;
      has_url |= argument.keyword == "url";
      read_keyword(result, std::move(argument), facts, src);
      continue;
    }
    if (position < leading) {
      has_url |= position + 1 == leading;
      result.arguments.push_back(Argument{node, "", node, true});
    } else if (position - leading < names.size()) {
      read_keyword(result, Argument{node, names[position - leading], node, true}, facts, src);
    } else {
      result.refusal = "it passes more positional arguments than requests." + method + "() takes";
    }
    ++position;
  }
  if (!has_url && result.refusal.empty()) result.refusal = "it names no URL the engine can see";
  return result;
}

std::vector<Edit> argument_edits(const RequestsCall& call, const CallStyle& style,
                                 const ModuleFacts& facts, std::string_view src) {
  std::vector<Edit> edits;
  std::vector<TSNode> removed;
  for (const Argument& argument : call.arguments) {
    if (argument.keyword == "url" || argument.keyword.empty()) continue;
    if (argument.keyword == "stream" || is_option(argument, call.session)) {
      removed.push_back(argument.node);
      edits.push_back(remove_argument(argument.node, src));
    } else if (auto edit = argument_edit(argument, style, facts, src)) {
      edits.push_back(*edit);
    }
  }
  if (call.stream) {
    std::string verb = http_verb(call.method);
    std::vector<TSNode> nodes = argument_nodes(call.call);
    if (!verb.empty() && !nodes.empty())
      edits.push_back(Edit::insert(ts_node_start_byte(nodes.front()), "\"" + verb + "\", "));
  }
  std::vector<std::string> keywords = default_keywords(call, style);
  if (!keywords.empty())
    edits.push_back(append_arguments(call.call, removed, keywords, style, src));
  return edits;
}

std::string client_arguments(const RequestsCall& call, const CallStyle& style,
                             std::string_view src) {
  std::vector<std::string> parts;
  std::string verify;
  for (const Argument* option : call.client_options()) {
    if (option->keyword != "proxies")
      parts.push_back(option->keyword + "=" + text(option->value, src));
    if (option->keyword == "verify") verify = ", verify=" + text(option->value, src);
  }
  const Argument* proxies = call.find("proxies");
  if (!proxies) return join(parts);
  auto pairs = *proxy_pairs(proxies->value, src);
  bool same = !pairs.empty() && std::all_of(pairs.begin(), pairs.end(), [&](const auto& pair) {
    return pair.second == pairs.front().second;
  });
  bool every_scheme =
      std::any_of(pairs.begin(), pairs.end(), [](const auto& p) { return p.first == "all://"; }) ||
      (std::any_of(pairs.begin(), pairs.end(),
                   [](const auto& p) { return p.first == "http://"; }) &&
       std::any_of(pairs.begin(), pairs.end(),
                   [](const auto& p) { return p.first == "https://"; }));
  if (same && every_scheme) {
    parts.push_back("proxy=" + pairs.front().second);
  } else {
    // A mounted transport does not take the client's verify=: it gets its own.
    std::string mounts = "mounts={";
    for (size_t i = 0; i < pairs.size(); ++i) {
      mounts += (i ? ", " : "") + std::string("\"") + pairs[i].first + "\": " + style.lib +
                ".AsyncHTTPTransport(proxy=" + pairs[i].second + verify + ")";
    }
    parts.push_back(mounts + "}");
  }
  return join(parts);
}

Edit remove_argument(TSNode argument, std::string_view src) {
  uint32_t start = ts_node_start_byte(argument);
  uint32_t end = ts_node_end_byte(argument);
  // Written on a line of its own: the line goes, with the comment that ends it.
  if (starts_its_line(argument, src)) {
    size_t after = src.find_first_not_of(" \t", end);
    if (after != std::string_view::npos && src[after] == ',')
      after = src.find_first_not_of(" \t", after + 1);
    if (after != std::string_view::npos && src[after] == '#') after = src.find('\n', after);
    if (after != std::string_view::npos && (src[after] == '\n' || src[after] == '\r')) {
      size_t line_end = src.find('\n', after);
      uint32_t line_start = start;
      while (line_start > 0 && src[line_start - 1] != '\n') --line_start;
      return Edit::replace(line_start, static_cast<uint32_t>(line_end + 1), "");
    }
  }
  TSNode previous = ts_node_prev_named_sibling(argument);
  while (!ts_node_is_null(previous) && is_comment(previous))
    previous = ts_node_prev_named_sibling(previous);
  if (!ts_node_is_null(previous)) return Edit::replace(ts_node_end_byte(previous), end, "");
  TSNode next = ts_node_next_named_sibling(argument);
  if (!ts_node_is_null(next)) return Edit::replace(start, ts_node_start_byte(next), "");
  return Edit::replace(start, end, "");
}

Edit append_arguments(TSNode call, const std::vector<TSNode>& removed,
                      const std::vector<std::string>& keywords, const CallStyle& style,
                      std::string_view src) {
  TSNode last{};
  for (TSNode node : argument_nodes(call)) {
    bool gone =
        std::any_of(removed.begin(), removed.end(), [&](TSNode r) { return ts_node_eq(r, node); });
    if (!gone) last = node;
  }
  std::string text;
  if (ts_node_is_null(last)) {
    for (const std::string& keyword : keywords) text += (text.empty() ? "" : ", ") + keyword;
    return Edit::insert(ts_node_start_byte(field(call, "arguments")) + 1, text);
  }
  bool own_lines =
      starts_its_line(last, src) && ts_node_start_point(last).row != ts_node_start_point(call).row;
  for (const std::string& keyword : keywords) {
    text += own_lines ? "," + style.newline + indentation_of(last, src) + keyword : ", " + keyword;
  }
  return Edit::insert(ts_node_end_byte(last), text);
}

bool is_text_or_bytes(TSNode value, const ModuleFacts& facts, std::string_view src) {
  if (is(value, "string") || is(value, "concatenated_string")) return true;
  if (!is(value, "call")) return false;
  TSNode callee = field(value, "function");
  if (facts.resolve(dotted_name(callee, src)) == "json.dumps") return true;
  return is(callee, "attribute") && node_text(field(callee, "attribute"), src) == "encode";
}

}  // namespace awaitify::http
