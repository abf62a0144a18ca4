// AW701's edits: the lifespan definition, the constructor's lifespan= argument, and the
// registrations' lines removed.
#include <algorithm>
#include <cstdio>

#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "lifespan.hpp"

namespace awaitify::aw701 {

namespace {

std::string_view line_text(const SourceFile& source, uint32_t line) {
  const std::string& text = source.text();
  uint32_t start = source.line_start(line);
  size_t newline = text.find('\n', start);
  return std::string_view(text).substr(
      start, newline == std::string::npos ? std::string::npos : newline - start);
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool is_comment(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '#';
}

size_t blank_lines_above(const SourceFile& source, uint32_t line) {
  size_t count = 0;
  while (line > count + 1 && is_blank(line_text(source, line - count - 1))) ++count;
  return count;
}

using Lines = std::vector<std::pair<int, std::string>>;  // depth, text

Lines lifespan_lines(const App& app, const std::string& name, std::string_view src) {
  std::string annotation = dotted_name(field(app.constructor, "function"), src);
  Lines lines{{0, "@asynccontextmanager"}, {0, "async def " + name + "(app: " + annotation + "):"}};
  std::set<std::string> called;
  bool shutdown = false;
  for (const Handler& handler : app.handlers) {
    called.insert(handler.call.substr(0, handler.call.find('.')));
    shutdown |= !handler.startup;
    if (handler.startup)
      lines.push_back({1, (handler.awaited ? "await " : "") + handler.call + "()"});
  }
  // The existing lifespan may yield state for requests: it is passed on.
  Lines inner{{0, "yield"}};
  if (app.existing_lifespan) {
    std::string existing = dotted_name(field(*app.existing_lifespan, "value"), src);
    std::string state = called.count("state") || existing == "state" ? "lifespan_state" : "state";
    inner = {{0, "async with " + existing + "(app) as " + state + ":"}, {1, "yield " + state}};
  }
  if (!shutdown) {
    for (auto& [depth, text] : inner) lines.push_back({depth + 1, text});
    return lines;
  }
  // Shutdown work runs even when the app stops on an error after startup.
  lines.push_back({1, "try:"});
  for (auto& [depth, text] : inner) lines.push_back({depth + 2, text});
  lines.push_back({1, "finally:"});
  for (const Handler& handler : app.handlers) {
    if (!handler.startup)
      lines.push_back({2, (handler.awaited ? "await " : "") + handler.call + "()"});
  }
  return lines;
}

// ---------------------------------------------------------------- the constructor call

// `lifespan=NAME` after the last argument, in the call's layout: on a line of its own when
// the arguments are one per line (keeping a trailing comma), inline otherwise.
std::vector<Edit> append_keyword(TSNode call, const std::string& keyword,
                                 const FileContext& context) {
  const SourceFile& source = context.source;
  const std::string& text = source.text();
  TSNode list = field(call, "arguments");
  std::vector<TSNode> arguments = arguments_of(call);
  if (arguments.empty()) return {Edit::insert(ts_node_start_byte(list) + 1, keyword)};
  TSNode last = arguments.back();
  uint32_t after = ts_node_end_byte(last);
  uint32_t comma = after;
  while (comma < text.size() && (text[comma] == ' ' || text[comma] == '\t')) ++comma;
  bool trailing_comma = comma < text.size() && text[comma] == ',';
  if (ts_node_end_point(list).row == ts_node_end_point(last).row) {
    if (trailing_comma) return {Edit::insert(comma + 1, " " + keyword)};
    return {Edit::insert(after, ", " + keyword)};
  }
  size_t newline = text.find('\n', after);
  uint32_t line_end = static_cast<uint32_t>(newline);
  if (line_end > after && text[line_end - 1] == '\r') --line_end;
  std::string line = source.newline() + std::string(source.indent_at(ts_node_start_byte(last))) +
                     keyword + (trailing_comma ? "," : "");
  if (trailing_comma) return {Edit::insert(line_end, line)};
  return {Edit::insert(after, ","), Edit::insert(line_end, line)};
}

// Removes arguments with their separators: a run of them before a kept argument goes up to
// it; a run at the end goes from the kept argument before it.
std::vector<Edit> remove_arguments(const std::vector<TSNode>& arguments,
                                   const std::vector<TSNode>& dropped) {
  auto is_dropped = [&](size_t i) {
    return std::any_of(dropped.begin(), dropped.end(),
                       [&](TSNode d) { return ts_node_eq(d, arguments[i]); });
  };
  std::vector<Edit> edits;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (!is_dropped(i)) continue;
    size_t j = i;
    while (j + 1 < arguments.size() && is_dropped(j + 1)) ++j;
    if (j + 1 < arguments.size()) {
      edits.push_back(Edit::replace(ts_node_start_byte(arguments[i]),
                                    ts_node_start_byte(arguments[j + 1]), ""));
    } else if (i > 0) {
      edits.push_back(
          Edit::replace(ts_node_end_byte(arguments[i - 1]), ts_node_end_byte(arguments[j]), ""));
    }
    i = j;
  }
  return edits;
}

// ---------------------------------------------------------------- removing registrations

// Drops whole lines. Blank lines on both sides of a dropped block would pile up, so the larger
// run is kept; a block that ends the file takes the blank lines above it along.
Edit drop_lines(const LineRange& range, const SourceFile& source) {
  if (!range.replacement.empty()) return Edit::replace(range.start, range.end, range.replacement);
  const std::string& text = source.text();
  uint32_t first = source.position(range.start).line;
  size_t above = first > 1 ? blank_lines_above(source, first) : 0;
  std::vector<uint32_t> blank_ends;  // the end of each blank line below the block
  uint32_t end = range.end;
  while (end < text.size() && is_blank(line_text(source, source.position(end).line))) {
    size_t newline = text.find('\n', end);
    end = newline == std::string::npos ? static_cast<uint32_t>(text.size())
                                       : static_cast<uint32_t>(newline + 1);
    blank_ends.push_back(end);
  }
  if (end >= text.size()) {
    uint32_t start = above ? source.line_start(static_cast<uint32_t>(first - above)) : range.start;
    return Edit::replace(start, static_cast<uint32_t>(text.size()), "");
  }
  size_t drop = std::min(above, blank_ends.size());
  return Edit::replace(range.start, drop ? blank_ends[drop - 1] : range.end, "");
}

// Where a node's code ends: a decorator holds the comment that trails it on its line.
uint32_t code_end(TSNode node) {
  uint32_t end = ts_node_start_byte(node);
  for (TSNode child : children(node)) {
    if (!is(child, "comment")) end = std::max(end, ts_node_end_byte(child));
  }
  return end;
}

}  // namespace

std::optional<LineRange> whole_lines(TSNode node, const FileContext& context) {
  const SourceFile& source = context.source;
  const std::string& text = source.text();
  uint32_t start = source.line_start(source.position(ts_node_start_byte(node)).line);
  std::string_view before(text.data() + start, ts_node_start_byte(node) - start);
  if (before.find_first_not_of(" \t") != std::string_view::npos) return std::nullopt;
  uint32_t code = code_end(node);
  size_t newline = text.find('\n', code);
  uint32_t end = newline == std::string::npos ? static_cast<uint32_t>(text.size())
                                              : static_cast<uint32_t>(newline + 1);
  std::string_view after(text.data() + code, end - code);
  size_t rest = after.find_first_not_of(" \t\r\n");
  if (rest == std::string_view::npos) return LineRange{start, end, {}};
  if (after[rest] != '#') return std::nullopt;
  std::string comment(after.substr(rest, after.find_last_not_of("\r\n") + 1 - rest));
  return LineRange{start, end, std::string(before) + comment + source.newline()};
}

std::set<std::string> names_in_use(const FileContext& context) {
  std::set<std::string> names;
  walk_with_ancestors(context.root, [&](TSNode node, const std::vector<TSNode>& ancestors) {
    if (!is(node, "identifier")) return true;
    TSNode parent = ancestors.empty() ? TSNode{} : ancestors.back();
    bool attribute_name = is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node);
    bool keyword = is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node);
    if (!attribute_name && !keyword) names.emplace(node_text(node, context.text()));
    return true;
  });
  return names;
}

std::string lifespan_name(const std::set<std::string>& taken) {
  for (const char* name : {"lifespan", "app_lifespan"}) {
    if (!taken.count(name)) return name;
  }
  for (int n = 2;; ++n) {
    std::string name = "_lifespan_" + std::to_string(n);
    if (!taken.count(name)) return name;
  }
}

// Before the app statement and the comment lines right above it, with the file's blank lines
// around a definition (two at the top level).
Edit lifespan_insertion(const App& app, const std::string& name, const FileContext& context) {
  const SourceFile& source = context.source;
  const std::string& nl = source.newline();
  uint32_t line = source.position(ts_node_start_byte(app.statement)).line;
  while (line > 1 && is_comment(line_text(source, line - 1))) --line;
  size_t wanted = is(ts_node_parent(app.statement), "module") ? 2 : 1;
  std::string indent(source.indent_at(ts_node_start_byte(app.statement)));
  std::string unit = file_indent_unit(context.root, context.source);
  std::string text;
  for (size_t i = line > 1 ? blank_lines_above(source, line) : wanted; i < wanted; ++i) text += nl;
  for (const auto& [depth, code] : lifespan_lines(app, name, context.text())) {
    text += indent;
    for (int i = 0; i < depth; ++i) text += unit;
    text += code + nl;
  }
  for (size_t i = 0; i < wanted; ++i) text += nl;
  return Edit::insert(source.line_start(line), text);
}

bool fastapi_before_lifespan(const FileContext& context) {
  std::string version = context.setting("target.fastapi");
  if (version.empty()) return false;
  int major = 0, minor = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) < 1) return false;
  return std::pair(major, minor) < std::pair(0, 93);
}

namespace {

// `app.router.lifespan_context = NAME` on the line after the statement that creates the app.
Edit lifespan_context_assignment(const App& app, const std::string& name,
                                 const FileContext& context) {
  const SourceFile& source = context.source;
  const std::string& text = source.text();
  std::string line = std::string(source.indent_at(ts_node_start_byte(app.statement))) + app.name +
                     ".router.lifespan_context = " + name;
  size_t newline = text.find('\n', ts_node_end_byte(app.statement));
  if (newline == std::string::npos)
    return Edit::insert(static_cast<uint32_t>(text.size()), source.newline() + line);
  return Edit::insert(static_cast<uint32_t>(newline + 1), line + source.newline());
}

}  // namespace

std::vector<Edit> constructor_edits(const App& app, const std::string& name,
                                    const FileContext& context) {
  std::string keyword = "lifespan=" + name;
  std::vector<TSNode> dropped = app.event_arguments;
  std::vector<Edit> edits;
  if (fastapi_before_lifespan(context)) {
    edits = remove_arguments(arguments_of(app.constructor), dropped);
    edits.push_back(lifespan_context_assignment(app, name, context));
    return edits;
  }
  if (app.existing_lifespan) {
    TSNode value = field(*app.existing_lifespan, "value");
    edits.push_back(Edit::replace(ts_node_start_byte(value), ts_node_end_byte(value), name));
  } else if (!dropped.empty()) {
    // on_startup= gives its place to lifespan=.
    edits.push_back(Edit::replace(ts_node_start_byte(dropped.front()),
                                  ts_node_end_byte(dropped.front()), keyword));
    dropped.erase(dropped.begin());
  } else {
    return append_keyword(app.constructor, keyword, context);
  }
  std::vector<Edit> removed = remove_arguments(arguments_of(app.constructor), dropped);
  edits.insert(edits.end(), removed.begin(), removed.end());
  return edits;
}

std::vector<Edit> line_removals(std::vector<LineRange> ranges, const SourceFile& source) {
  std::sort(ranges.begin(), ranges.end(),
            [](const LineRange& a, const LineRange& b) { return a.start < b.start; });
  std::vector<LineRange> merged;
  for (LineRange& range : ranges) {
    if (!merged.empty() && merged.back().end == range.start) {
      merged.back().end = range.end;
      merged.back().replacement += range.replacement;
    } else {
      merged.push_back(std::move(range));
    }
  }
  std::vector<Edit> edits;
  for (const LineRange& range : merged) edits.push_back(drop_lines(range, source));
  return edits;
}

}  // namespace awaitify::aw701
