#include <dtl/dtl.hpp>

#include <algorithm>
#include <vector>

#include "awaitify/emit.hpp"

namespace awaitify {

namespace {

struct Lines {
  std::vector<std::string> lines;  // without the '\n'
  bool final_newline = true;
};

Lines split_lines(std::string_view text) {
  Lines result;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      result.lines.emplace_back(text.substr(pos));
      result.final_newline = false;
      break;
    }
    result.lines.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return result;
}

struct Op {
  char type;  // ' ', '-', '+'
  const std::string* line;
  size_t old_index;  // lines consumed from the old file before this op
  size_t new_index;
};

std::vector<Op> edit_script(const Lines& a, const Lines& b) {
  dtl::Diff<std::string, std::vector<std::string>> diff(a.lines, b.lines);
  diff.compose();
  std::vector<Op> ops;
  size_t old_index = 0, new_index = 0;
  for (const auto& [line, info] : diff.getSes().getSequence()) {
    (void)line;
    if (info.type == dtl::SES_COMMON) {
      ops.push_back({' ', &a.lines[info.beforeIdx - 1], old_index++, new_index++});
    } else if (info.type == dtl::SES_DELETE) {
      ops.push_back({'-', &a.lines[info.beforeIdx - 1], old_index++, new_index});
    } else {
      ops.push_back({'+', &b.lines[info.afterIdx - 1], old_index, new_index++});
    }
  }
  return ops;
}

std::string range(size_t start, size_t count) {
  // Unified diff numbers lines from 1; an empty range names the line before it.
  size_t first = count == 0 ? start : start + 1;
  return std::to_string(first) + (count == 1 ? "" : "," + std::to_string(count));
}

void print_hunk(std::string& out, const std::vector<Op>& ops, size_t begin, size_t end,
                const Lines& a, const Lines& b) {
  size_t old_count = 0, new_count = 0;
  for (size_t i = begin; i < end; ++i) {
    if (ops[i].type != '+') ++old_count;
    if (ops[i].type != '-') ++new_count;
  }
  out += "@@ -" + range(ops[begin].old_index, old_count) + " +" +
         range(ops[begin].new_index, new_count) + " @@\n";
  // Within a run of changes, removed lines come before added ones, as reviewers expect.
  std::vector<Op> ordered(ops.begin() + static_cast<long>(begin), ops.begin() + static_cast<long>(end));
  for (size_t i = 0; i < ordered.size();) {
    size_t j = i;
    while (j < ordered.size() && ordered[j].type != ' ') ++j;
    std::stable_partition(ordered.begin() + static_cast<long>(i), ordered.begin() + static_cast<long>(j),
                          [](const Op& op) { return op.type == '-'; });
    i = j == i ? i + 1 : j;
  }
  for (const Op& op : ordered) {
    out += op.type;
    out += *op.line;
    out += '\n';
    bool last_old = op.type != '+' && op.old_index + 1 == a.lines.size() && !a.final_newline;
    bool last_new = op.type != '-' && op.new_index + 1 == b.lines.size() && !b.final_newline;
    if (last_old || last_new) out += "\\ No newline at end of file\n";
  }
}

}  // namespace

std::string unified_diff(const std::string& path, std::string_view before, std::string_view after,
                         int context) {
  if (before == after) return {};
  Lines a = split_lines(before), b = split_lines(after);
  std::vector<Op> ops = edit_script(a, b);
  // When only the final newline differs on a line both sides share, show it as a change.
  if (a.final_newline != b.final_newline && !ops.empty() && ops.back().type == ' ') {
    Op last = ops.back();
    ops.back().type = '-';
    ops.push_back({'+', &b.lines.back(), last.old_index + 1, last.new_index});
  }
  // An absolute path (a file outside the current directory) keeps one slash after a/ and b/.
  std::string shown = !path.empty() && path.front() == '/' ? path.substr(1) : path;
  std::string out = "--- a/" + shown + "\n+++ b/" + shown + "\n";
  size_t i = 0;
  auto ctx = static_cast<size_t>(context);
  while (i < ops.size()) {
    while (i < ops.size() && ops[i].type == ' ') ++i;
    if (i == ops.size()) break;
    size_t begin = i >= ctx ? i - ctx : 0;
    size_t end = i;
    // Extend over changes separated by at most 2 * context common lines.
    for (;;) {
      while (end < ops.size() && ops[end].type != ' ') ++end;
      size_t common = end;
      while (common < ops.size() && ops[common].type == ' ') ++common;
      if (common < ops.size() && common - end <= 2 * ctx) {
        end = common;
        continue;
      }
      end = std::min(ops.size(), end + ctx);
      break;
    }
    print_hunk(out, ops, begin, end, a, b);
    i = end;
  }
  return out;
}

}  // namespace awaitify
