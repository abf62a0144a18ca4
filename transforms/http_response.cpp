#include "http_response.hpp"

#include "awaitify/syntax.hpp"

namespace awaitify::http {

namespace {

// Places where `not x` can stand as it is.
bool takes_not_bare(TSNode parent) {
  for (std::string_view kind :
       {"boolean_operator", "if_statement", "elif_clause", "while_statement", "assignment",
        "return_statement", "expression_statement", "argument_list", "keyword_argument",
        "parenthesized_expression", "conditional_expression", "list", "tuple", "set", "pair",
        "assert_statement", "lambda", "expression_list"}) {
    if (is(parent, kind)) return true;
  }
  return false;
}

Edit rename(TSNode attribute, const std::string& name) {
  TSNode identifier = field(attribute, "attribute");
  return Edit::replace(ts_node_start_byte(identifier), ts_node_end_byte(identifier), name);
}

// `r.x(...)`: the call, or null when the attribute is not called.
TSNode called(TSNode attribute) {
  TSNode call = ts_node_parent(attribute);
  return is(call, "call") && ts_node_eq(field(call, "function"), attribute) ? call : TSNode{};
}

bool has_arguments(TSNode call) {
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (!is(argument, "comment")) return true;
  }
  return false;
}

bool iterated_by_for(TSNode call) {
  TSNode loop = ts_node_parent(call);
  return is(loop, "for_statement") && ts_node_eq(field(loop, "right"), call);
}

// `str(r.url)` is needed wherever a str is: everywhere but `r.url.host`, f-strings and str().
bool needs_str(TSNode attribute, std::string_view src) {
  TSNode parent = ts_node_parent(attribute);
  if (is(parent, "attribute") || is(parent, "interpolation")) return false;
  if (is(parent, "argument_list")) {
    TSNode call = ts_node_parent(parent);
    if (node_text(field(call, "function"), src) == "str") return false;
  }
  return true;
}

void iteration_edits(TSNode attribute, const std::string& method, const ResponseInfo& info,
                     ResponseEdits& out) {
  TSNode call = called(attribute);
  if (ts_node_is_null(call)) return;
  if (method == "iter_lines" && has_arguments(call)) {
    out.notes.push_back(
        {call, "iter_lines() arguments have no httpx counterpart: left as it is", true});
    return;
  }
  std::string name = method == "iter_content" ? "iter_bytes" : "iter_lines";
  if (info.stream) {
    out.edits.push_back(rename(attribute, "a" + name));
    if (iterated_by_for(call))
      out.edits.push_back(Edit::insert(ts_node_start_byte(ts_node_parent(call)), "async "));
  } else if (name != method) {
    out.edits.push_back(rename(attribute, name));
  }
  if (name == "iter_lines") {
    out.notes.push_back(
        {call, "httpx's iter_lines yields str, not bytes as requests' does", false});
  }
}

}  // namespace

std::vector<Edit> negate_ok(TSNode attribute, std::string_view) {
  TSNode parent = ts_node_parent(attribute);
  Edit name = rename(attribute, "is_error");
  if (is(parent, "not_operator")) {
    return {Edit::replace(ts_node_start_byte(parent), ts_node_start_byte(attribute), ""), name};
  }
  if (takes_not_bare(parent)) return {Edit::insert(ts_node_start_byte(attribute), "not "), name};
  return {Edit::insert(ts_node_start_byte(attribute), "(not "), name,
          Edit::insert(ts_node_end_byte(attribute), ")")};
}

ResponseEdits response_use_edits(TSNode expression, const ResponseInfo& info,
                                 std::string_view src) {
  ResponseEdits out;
  TSNode attribute = ts_node_parent(expression);
  if (!is(attribute, "attribute") || !ts_node_eq(field(attribute, "object"), expression))
    return out;
  std::string name(node_text(field(attribute, "attribute"), src));
  if (name == "ok") {
    out.edits = negate_ok(attribute, src);
  } else if (name == "reason") {
    out.edits.push_back(rename(attribute, "reason_phrase"));
  } else if (name == "url" && needs_str(attribute, src)) {
    out.edits.push_back(Edit::insert(ts_node_start_byte(attribute), "str("));
    out.edits.push_back(Edit::insert(ts_node_end_byte(attribute), ")"));
  } else if (name == "iter_content" || name == "iter_lines") {
    TSNode call = called(attribute);
    bool decode =
        !ts_node_is_null(call) &&
        node_text(field(call, "arguments"), src).find("decode_unicode") != std::string_view::npos;
    if (decode)
      out.notes.push_back(
          {call, "iter_content(decode_unicode=...) left as it is: use aiter_text()", true});
    else
      iteration_edits(attribute, name, info, out);
  } else if (name == "raise_for_status" && info.redirects_off) {
    out.notes.push_back({attribute,
                         "redirects are not followed here, and httpx's raise_for_status() also "
                         "raises on a 3xx answer (requests' does not)",
                         true});
  } else if (name == "raw") {
    out.notes.push_back({attribute, "httpx has no raw file object: `.raw` left as it is", true});
  }
  return out;
}

std::vector<TSNode> uses_of(TSNode body, const std::string& name, std::string_view src) {
  std::vector<TSNode> uses;
  walk(body, [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "lambda") || is(node, "class_definition"))
      return false;
    if (!is(node, "identifier") || node_text(node, src) != name) return true;
    TSNode parent = ts_node_parent(node);
    bool attribute_name = is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node);
    bool keyword = is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node);
    bool target = is(parent, "assignment") && ts_node_eq(field(parent, "left"), node);
    if (!attribute_name && !keyword && !target) uses.push_back(node);
    return true;
  });
  return uses;
}

std::string response_refusal(TSNode body, const std::string& name, std::string_view src) {
  if (name.empty()) return "the stream is not bound to a name";
  for (TSNode use : uses_of(body, name, src)) {
    TSNode attribute = ts_node_parent(use);
    if (!is(attribute, "attribute")) return "the stream `" + name + "` is passed on";
    std::string member(node_text(field(attribute, "attribute"), src));
    if (member == "content" || member == "text" || member == "json" || member == "raw") {
      return "`" + name + "." + member + "` reads the whole stream (httpx needs `await " + name +
             ".aread()` first)";
    }
    if (member == "iter_content" || member == "iter_lines") {
      TSNode call = called(attribute);
      if (ts_node_is_null(call) || !iterated_by_for(call)) {
        return "`" + name + "." + member + "()` is not the iterable of a for loop";
      }
      if (member == "iter_lines" && has_arguments(call)) return "iter_lines() is given arguments";
      if (node_text(field(call, "arguments"), src).find("decode_unicode") !=
          std::string_view::npos) {
        return "iter_content(decode_unicode=...) needs aiter_text()";
      }
    }
  }
  return {};
}

}  // namespace awaitify::http
