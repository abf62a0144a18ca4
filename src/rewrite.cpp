#include "awaitify/rewrite.hpp"

#include "awaitify/syntax.hpp"

namespace awaitify {

bool await_needs_parentheses(TSNode expression) {
  TSNode parent = ts_node_parent(expression);
  if (ts_node_is_null(parent)) return false;
  // `f().x`, `f()[i]`, `f()(...)`: await binds looser than these trailers.
  if (is(parent, "attribute")) return ts_node_eq(field(parent, "object"), expression);
  if (is(parent, "subscript")) return ts_node_eq(field(parent, "value"), expression);
  if (is(parent, "call")) return ts_node_eq(field(parent, "function"), expression);
  return false;
}

namespace {

std::optional<std::string> refusal(TSNode expression, bool enclosing_becomes_async,
                                   std::string_view src, std::vector<TSNode>& eager) {
  for (TSNode up = ts_node_parent(expression); !ts_node_is_null(up); up = ts_node_parent(up)) {
    if (is(up, "lambda")) return "the call is inside a lambda, which cannot await";
    if (is(up, "generator_expression") && !src.empty() && is_eager_generator(up, src)) {
      if (!enclosing_becomes_async)
        return "the call is inside a comprehension of a function that stays sync";
      eager.push_back(up);
      continue;
    }
    if (is(up, "generator_expression")) {
      return "the call is inside a generator expression; awaiting there makes it an async "
             "generator";
    }
    bool comprehension = is(up, "list_comprehension") || is(up, "set_comprehension") ||
                         is(up, "dictionary_comprehension");
    if (comprehension && !enclosing_becomes_async) {
      return "the call is inside a comprehension of a function that stays sync";
    }
    if (is(up, "function_definition")) {
      if (!enclosing_becomes_async && !is_async_function(up)) {
        return "the enclosing function stays sync";
      }
      return std::nullopt;
    }
  }
  return "the call is at module level, outside any function";
}

}  // namespace

bool is_async_function(TSNode function_definition) {
  return is(ts_node_child(function_definition, 0), "async");
}

std::vector<Edit> make_async(TSNode function_definition) {
  if (is_async_function(function_definition)) return {};
  return {Edit::insert(ts_node_start_byte(function_definition), "async ")};
}

bool is_eager_generator(TSNode generator_expression, std::string_view src) {
  TSNode consumer = ts_node_parent(generator_expression);
  if (is(consumer, "argument_list")) {
    // `sum((f(x) for x in xs), 0)`: the generator is the first of the arguments.
    if (!ts_node_eq(ts_node_named_child(consumer, 0), generator_expression)) return false;
    consumer = ts_node_parent(consumer);
  }
  if (!is(consumer, "call")) return false;
  TSNode function = field(consumer, "function");
  if (is(function, "attribute")) {
    return node_text(field(function, "attribute"), src) == "join" &&
           is(field(function, "object"), "string");
  }
  std::string_view name = node_text(function, src);
  for (std::string_view eager :
       {"sum", "list", "tuple", "set", "frozenset", "sorted", "min", "max", "dict"}) {
    if (name == eager) return true;
  }
  return false;
}

Result<std::vector<Edit>> await_expression(TSNode expression, bool enclosing_becomes_async,
                                           std::string_view src) {
  TSNode parent = ts_node_parent(expression);
  if (is(parent, "await")) return std::vector<Edit>{};
  if (is(parent, "parenthesized_expression") && is(ts_node_parent(parent), "await")) {
    return std::vector<Edit>{};
  }
  std::vector<TSNode> eager;
  if (auto why = refusal(expression, enclosing_becomes_async, src, eager)) return Error{*why};
  uint32_t start = ts_node_start_byte(expression);
  uint32_t end = ts_node_end_byte(expression);
  std::vector<Edit> edits;
  // `sum(x for x in xs)` -> `sum([x for x in xs])`; `sum((x for x in xs), 0)` -> `sum([...], 0)`.
  // The brackets go first: `[` and `await ` may be inserted at one offset, in that order.
  for (TSNode generator : eager) {
    uint32_t open = ts_node_start_byte(generator);
    uint32_t close = ts_node_end_byte(generator) - 1;
    bool own_parentheses = is(ts_node_parent(generator), "argument_list");
    edits.push_back(own_parentheses ? Edit::replace(open, open + 1, "[")
                                    : Edit::insert(open + 1, "["));
    edits.push_back(own_parentheses ? Edit::replace(close, close + 1, "]")
                                    : Edit::insert(close, "]"));
  }
  if (await_needs_parentheses(expression)) {
    edits.push_back(Edit::insert(start, "(await "));
    edits.push_back(Edit::insert(end, ")"));
  } else {
    edits.push_back(Edit::insert(start, "await "));
  }
  return edits;
}

std::vector<Edit> wrap_in_threadpool(TSNode call, std::string_view src, bool whole_chain) {
  TSNode outer = call;
  while (whole_chain) {
    TSNode parent = ts_node_parent(outer);
    TSNode grandparent = ts_node_parent(parent);
    if (!is(parent, "attribute") || !ts_node_eq(field(parent, "object"), outer) ||
        !is(grandparent, "call") || !ts_node_eq(field(grandparent, "function"), parent)) {
      break;
    }
    outer = grandparent;
  }
  std::string function(node_text(field(outer, "function"), src));
  TSNode arguments = field(outer, "arguments");
  std::string inner(node_text(arguments, src));
  if (is(arguments, "argument_list") && inner.size() >= 2)
    inner = inner.substr(1, inner.size() - 2);
  bool has_arguments = inner.find_first_not_of(" \t\r\n") != std::string::npos;
  std::string wrapped = "run_in_threadpool(" + function + (has_arguments ? ", " + inner : "") + ")";
  wrapped = await_needs_parentheses(outer) ? "(await " + wrapped + ")" : "await " + wrapped;
  return {Edit::replace(ts_node_start_byte(outer), ts_node_end_byte(outer), wrapped)};
}

std::vector<Edit> wrap_in_asyncio_run(TSNode call) {
  return {Edit::insert(ts_node_start_byte(call), "asyncio.run("),
          Edit::insert(ts_node_end_byte(call), ")")};
}

std::string reindent(std::string_view block, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (pos <= block.size()) {
    size_t end = block.find('\n', pos);
    std::string_view line =
        block.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.substr(0, from.size()) == from) {
      out.append(to);
      out.append(line.substr(from.size()));
    } else {
      out.append(line);
    }
    if (end == std::string_view::npos) break;
    out.push_back('\n');
    pos = end + 1;
  }
  return out;
}

// The file's indentation step, from its first indented block; four spaces when it has none.
std::string file_indent_unit(TSNode root, const SourceFile& source) {
  std::string unit = "    ";
  bool found = false;
  walk(root, [&](TSNode node) {
    if (found) return false;
    if (!is(node, "block")) return true;
    TSNode owner = ts_node_parent(node);
    if (ts_node_start_point(node).row == ts_node_start_point(owner).row) return true;
    std::string_view inner = source.indent_at(ts_node_start_byte(node));
    std::string_view outer = source.indent_at(ts_node_start_byte(owner));
    if (inner.size() > outer.size() && inner.substr(0, outer.size()) == outer) {
      unit = std::string(inner.substr(outer.size()));
      found = true;
    }
    return !found;
  });
  return unit;
}

}  // namespace awaitify
