#include "awaitify/imports.hpp"

#include <algorithm>
#include <set>
#include <map>

#include "awaitify/syntax.hpp"

namespace awaitify {

namespace {

enum Group { kFuture = 0, kStdlib = 1, kThirdParty = 2, kLocal = 3 };

// Python 3.11's sys.stdlib_module_names (public ones).
bool is_stdlib(const std::string& top) {
  static const std::set<std::string> names{
      "abc", "aifc", "antigravity", "argparse", "array", "ast", "asynchat", "asyncio", "asyncore",
      "atexit", "audioop", "base64", "bdb", "binascii", "bisect", "builtins", "bz2", "cProfile",
      "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop",
      "collections", "colorsys", "compileall", "concurrent", "configparser", "contextlib",
      "contextvars", "copy", "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses",
      "datetime", "dbm", "decimal", "difflib", "dis", "distutils", "doctest", "email",
      "encodings", "ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp", "fileinput",
      "fnmatch", "fractions", "ftplib", "functools", "gc", "genericpath", "getopt", "getpass",
      "gettext", "glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http",
      "idlelib", "imaplib", "imghdr", "imp", "importlib", "inspect", "io", "ipaddress",
      "itertools", "json", "keyword", "lib2to3", "linecache", "locale", "logging", "lzma",
      "mailbox", "mailcap", "marshal", "math", "mimetypes", "mmap", "modulefinder", "msilib",
      "msvcrt", "multiprocessing", "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path",
      "numbers", "opcode", "operator", "optparse", "os", "ossaudiodev", "pathlib", "pdb",
      "pickle", "pickletools", "pipes", "pkgutil", "platform", "plistlib", "poplib", "posix",
      "posixpath", "pprint", "profile", "pstats", "pty", "pwd", "py_compile", "pyclbr", "pydoc",
      "pydoc_data", "pyexpat", "queue", "quopri", "random", "re", "readline", "reprlib",
      "resource", "rlcompleter", "runpy", "sched", "secrets", "select", "selectors", "shelve",
      "shlex", "shutil", "signal", "site", "smtpd", "smtplib", "sndhdr", "socket", "socketserver",
      "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse", "ssl", "stat", "statistics",
      "string", "stringprep", "struct", "subprocess", "sunau", "symtable", "sys", "sysconfig",
      "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile", "termios", "textwrap", "this",
      "threading", "time", "timeit", "tkinter", "token", "tokenize", "tomllib", "trace",
      "traceback", "tracemalloc", "tty", "turtle", "turtledemo", "types", "typing", "unicodedata",
      "unittest", "urllib", "uu", "uuid", "venv", "warnings", "wave", "weakref", "webbrowser",
      "winreg", "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp", "zipfile",
      "zipimport", "zlib", "zoneinfo"};
  return names.count(top) > 0;
}

std::string top_level(const std::string& module) { return module.substr(0, module.find('.')); }

bool is_sorted_names(const std::vector<std::string>& names) {
  return std::is_sorted(names.begin(), names.end());
}

}  // namespace

ImportEditor::ImportEditor(const SourceFile& source, TSNode root, std::set<std::string> first_party)
    : source_(source), root_(root), first_party_(std::move(first_party)) {
  std::string_view src = source_.text();
  for (TSNode node : named_children(root_)) {
    Statement statement;
    statement.node = node;
    if (is(node, "import_from_statement") || is(node, "future_import_statement")) {
      statement.is_from = true;
      TSNode module = field(node, "module_name");
      statement.module = is(node, "future_import_statement")
                             ? "__future__"
                             : std::string(node_text(module, src));
      for (TSNode child : named_children(node)) {
        if (ts_node_eq(child, module)) continue;
        if (is(child, "dotted_name")) {
          std::string name(node_text(child, src));
          statement.names.push_back({name, name, child});
        } else if (is(child, "aliased_import")) {
          statement.names.push_back({std::string(node_text(field(child, "name"), src)),
                                     std::string(node_text(field(child, "alias"), src)), child});
        }
      }
    } else if (is(node, "import_statement")) {
      for (TSNode child : named_children(node)) {
        if (is(child, "dotted_name")) {
          std::string name(node_text(child, src));
          statement.names.push_back({name, top_level(name), child});
        } else if (is(child, "aliased_import")) {
          statement.names.push_back({std::string(node_text(field(child, "name"), src)),
                                     std::string(node_text(field(child, "alias"), src)), child});
        }
      }
      statement.module = statement.names.empty() ? "" : statement.names.front().name;
    } else {
      continue;
    }
    statement.group = group_of(statement.module);
    statements_.push_back(std::move(statement));
  }
}

int ImportEditor::group_of(const std::string& module) const {
  if (module == "__future__") return kFuture;
  if (module.empty() || module.front() == '.') return kLocal;
  std::string top = top_level(module);
  if (first_party_.count(top)) return kLocal;
  return is_stdlib(top) ? kStdlib : kThirdParty;
}

void ImportEditor::require_from(const std::string& module, const std::string& name) {
  std::pair<std::string, std::string> wanted{module, name};
  if (std::find(wanted_from_.begin(), wanted_from_.end(), wanted) == wanted_from_.end()) {
    wanted_from_.push_back(wanted);
  }
}

void ImportEditor::require_module(const std::string& module) {
  if (std::find(wanted_modules_.begin(), wanted_modules_.end(), module) == wanted_modules_.end()) {
    wanted_modules_.push_back(module);
  }
}

void ImportEditor::drop_if_unused(const std::string& name) { dropped_.push_back(name); }

const ImportEditor::Statement* ImportEditor::from_statement(const std::string& module) const {
  for (const Statement& statement : statements_) {
    if (statement.is_from && statement.module == module) return &statement;
  }
  return nullptr;
}

uint32_t ImportEditor::line_end(uint32_t byte) const {
  const std::string& text = source_.text();
  size_t newline = text.find('\n', byte);
  return newline == std::string::npos ? static_cast<uint32_t>(text.size())
                                      : static_cast<uint32_t>(newline + 1);
}

Edit ImportEditor::insert_after_line(uint32_t byte, const std::string& text) const {
  uint32_t at = line_end(byte);
  const std::string& source = source_.text();
  bool unterminated = at == source.size() && at > 0 && source[at - 1] != '\n';
  return Edit::insert(at, unterminated ? source_.newline() + text : text);
}

std::vector<Edit> ImportEditor::merge_into(const Statement& statement,
                                           std::vector<std::string> names) const {
  std::vector<std::string> existing;
  for (const ImportedName& imported : statement.names) existing.push_back(imported.local);
  bool sorted = is_sorted_names(existing);
  std::sort(names.begin(), names.end());
  std::string_view src = source_.text();
  bool multiline = ts_node_start_point(statement.node).row != ts_node_end_point(statement.node).row;
  std::vector<Edit> edits;
  for (const std::string& name : names) {
    // Before the first existing name that sorts after it, or after the last one.
    const ImportedName* before = nullptr;
    if (sorted) {
      for (const ImportedName& imported : statement.names) {
        if (imported.local > name) {
          before = &imported;
          break;
        }
      }
    }
    if (before && multiline && source_.position(ts_node_start_byte(before->node)).column > 1 &&
        src.substr(source_.line_start(source_.position(ts_node_start_byte(before->node)).line),
                   ts_node_start_byte(before->node) -
                       source_.line_start(source_.position(ts_node_start_byte(before->node)).line))
                .find_first_not_of(" \t") == std::string_view::npos) {
      // One name per line: a line of its own, indented like its neighbour.
      std::string indent(source_.indent_at(ts_node_start_byte(before->node)));
      edits.push_back(Edit::insert(ts_node_start_byte(before->node),
                                   name + "," + source_.newline() + indent));
    } else if (before) {
      edits.push_back(Edit::insert(ts_node_start_byte(before->node), name + ", "));
    } else {
      const ImportedName& last = statement.names.back();
      uint32_t at = ts_node_end_byte(last.node);
      if (multiline && at < src.size() && src[at] == ',') {
        std::string indent(source_.indent_at(ts_node_start_byte(last.node)));
        edits.push_back(Edit::insert(at + 1, source_.newline() + indent + name + ","));
      } else {
        edits.push_back(Edit::insert(at, ", " + name));
      }
    }
  }
  return edits;
}

const ImportEditor::Statement* ImportEditor::sorted_neighbour(int group, bool is_from,
                                                              const std::string& module) const {
  // isort's default: in a group, `import x` lines come before `from x import y` lines, each
  // kind sorted by module. Only a group that already follows that order gets a sorted place.
  std::vector<const Statement*> same_kind;
  const Statement* first_from = nullptr;
  for (const Statement& statement : statements_) {
    if (statement.group != group) continue;
    if (statement.is_from && !first_from) first_from = &statement;
    if (statement.is_from == is_from) same_kind.push_back(&statement);
  }
  bool sorted = std::is_sorted(same_kind.begin(), same_kind.end(),
                               [](const Statement* a, const Statement* b) { return a->module < b->module; });
  if (sorted) {
    for (const Statement* statement : same_kind) {
      if (statement->module > module) return statement;
    }
  }
  if (!is_from && same_kind.empty()) return first_from;
  // Sorted after every plain import: still before the from-imports, when they follow them.
  bool plain_first = !same_kind.empty() && first_from &&
                     ts_node_start_byte(same_kind.back()->node) < ts_node_start_byte(first_from->node);
  if (!is_from && sorted && plain_first) return first_from;
  return nullptr;
}

std::vector<Edit> ImportEditor::insert_statement(int group, const std::string& text,
                                                 const Placement& placement) const {
  const std::string& nl = source_.newline();
  bool is_from = text.rfind("from ", 0) == 0;
  std::string module = text.substr(is_from ? 5 : 7);
  module = module.substr(0, module.find(' '));
  if (const Statement* before = sorted_neighbour(group, is_from, module)) {
    uint32_t at = source_.line_start(source_.position(ts_node_start_byte(before->node)).line);
    return {Edit::insert(at, text + nl)};
  }
  const Statement* last_same = nullptr;
  const Statement* last_before = nullptr;
  const Statement* first_after = nullptr;
  const Statement* last_gone = nullptr;  // removed, in this group or one before it
  for (const Statement& statement : statements_) {
    if (placement.gone.count(&statement)) {
      if (statement.group <= group) last_gone = &statement;
      continue;
    }
    if (statement.group == group) last_same = &statement;
    if (statement.group < group) last_before = &statement;
    if (statement.group > group && !first_after) first_after = &statement;
  }
  if (last_same) return {insert_after_line(ts_node_end_byte(last_same->node), text + nl)};
  if (last_before) {
    return {insert_after_line(ts_node_end_byte(last_before->node), nl + text + nl)};
  }
  // Every import before it goes: it takes their place, and the blank lines after them stay
  // as they are (else the file would start with one), unless a new import of an earlier group
  // takes that place first.
  bool earlier_new = !placement.new_groups.empty() && *placement.new_groups.begin() < group;
  if (last_gone) {
    std::string inserted = last_gone->group == group || !earlier_new ? text + nl : nl + text + nl;
    return {insert_after_line(ts_node_end_byte(last_gone->node), inserted)};
  }
  if (first_after) {
    uint32_t at = source_.line_start(source_.position(ts_node_start_byte(first_after->node)).line);
    return {Edit::insert(at, text + nl + nl)};
  }
  // No imports: after the module docstring, if any, else at the top; then as many blank lines
  // as the code below wants (two before a def or class, PEP 8's rule).
  TSNode first = ts_node_named_child(root_, 0);
  while (!ts_node_is_null(first) && is(first, "comment")) first = ts_node_next_named_sibling(first);
  bool docstring = !ts_node_is_null(first) && is(first, "expression_statement") &&
                   is(ts_node_named_child(first, 0), "string");
  TSNode code = docstring ? ts_node_next_named_sibling(first) : first;
  while (!ts_node_is_null(code) && is(code, "comment")) code = ts_node_next_named_sibling(code);
  bool definition = is(code, "function_definition") || is(code, "class_definition") ||
                    is(code, "decorated_definition");
  size_t wanted = ts_node_is_null(code) ? 0 : definition ? 2 : 1;
  uint32_t at = docstring ? line_end(ts_node_end_byte(first))
                          : ts_node_is_null(first) ? static_cast<uint32_t>(source_.text().size())
                                                   : source_.line_start(source_.position(ts_node_start_byte(first)).line);
  // Blank lines already there between the insertion point and the code.
  size_t present = 0;
  const std::string& rest = source_.text();
  for (uint32_t i = at; i < rest.size() && (rest[i] == '\n' || rest[i] == '\r'); ++i) present += rest[i] == '\n';
  std::string before = docstring ? nl : "";
  std::string after = nl;
  for (size_t i = present; i < wanted; ++i) after += nl;
  return {Edit::insert(at, before + text + after)};
}

bool ImportEditor::used_elsewhere(const std::string& local) const {
  std::string_view src = source_.text();
  bool used = false;
  walk(root_, [&](TSNode node) {
    if (used) return false;
    if (is(node, "import_statement") || is(node, "import_from_statement")) return false;
    uint32_t at = ts_node_start_byte(node);
    for (const auto& [start, end] : ignored_) {
      if (at >= start && at < end) return false;
    }
    if (is(node, "identifier") && node_text(node, src) == local) {
      TSNode parent = ts_node_parent(node);
      bool attribute_name = is(parent, "attribute") && ts_node_eq(field(parent, "attribute"), node);
      bool keyword = is(parent, "keyword_argument") && ts_node_eq(field(parent, "name"), node);
      if (!attribute_name && !keyword) used = true;
    }
    // A name listed in __all__ or a string annotation counts as a use.
    if (is(node, "string_content") && node_text(node, src) == local) used = true;
    return true;
  });
  return used;
}

std::vector<Edit> ImportEditor::removal(const Statement& statement, const std::vector<bool>& dropped) const {
  size_t kept = static_cast<size_t>(std::count(dropped.begin(), dropped.end(), false));
  if (kept == dropped.size()) return {};
  if (kept == 0) {
    uint32_t start = source_.line_start(source_.position(ts_node_start_byte(statement.node)).line);
    return {Edit::replace(start, line_end(ts_node_end_byte(statement.node)), "")};
  }
  // The names that end the list go with the comma before them; any other with the one after
  // it. Treating the tail as one run keeps the edits apart (`a, b, c` dropping b and c).
  size_t tail = dropped.size();
  while (tail > 0 && dropped[tail - 1]) --tail;
  std::vector<Edit> edits;
  for (size_t i = 0; i < tail; ++i) {
    if (!dropped[i]) continue;
    edits.push_back(Edit::replace(ts_node_start_byte(statement.names[i].node),
                                  ts_node_start_byte(statement.names[i + 1].node), ""));
  }
  if (tail < dropped.size()) {
    edits.push_back(Edit::replace(ts_node_end_byte(statement.names[tail - 1].node),
                                  ts_node_end_byte(statement.names.back().node), ""));
  }
  return edits;
}

std::vector<Edit> ImportEditor::edits() const {
  std::vector<Edit> edits;
  // Names wanted from a module the file already imports from are merged; others are grouped
  // into one new statement per module.
  std::map<std::string, std::vector<std::string>> merge, fresh;
  std::vector<std::string> fresh_order;
  for (const auto& [module, name] : wanted_from_) {
    const Statement* existing = from_statement(module);
    bool present = false;
    for (const Statement& statement : statements_) {
      if (!statement.is_from || statement.module != module) continue;
      for (const ImportedName& imported : statement.names) present |= imported.local == name;
    }
    if (present) continue;
    if (existing) {
      merge[module].push_back(name);
    } else {
      if (!fresh.count(module)) fresh_order.push_back(module);
      fresh[module].push_back(name);
    }
  }
  std::vector<std::string> unused;
  for (const std::string& local : dropped_) {
    if (!used_elsewhere(local)) unused.push_back(local);
  }
  auto is_unused = [&](const ImportedName& imported) {
    return std::find(unused.begin(), unused.end(), imported.local) != unused.end();
  };
  std::set<const Statement*> rebuilt;
  for (const auto& [module, names] : merge) {
    const Statement& statement = *from_statement(module);
    bool drops = std::any_of(statement.names.begin(), statement.names.end(), is_unused);
    if (!drops) {
      auto merged = merge_into(statement, names);
      edits.insert(edits.end(), merged.begin(), merged.end());
      continue;
    }
    // Names leave and arrive in one statement: write it again, once.
    std::vector<std::string> kept;
    for (const ImportedName& imported : statement.names) {
      if (!is_unused(imported)) kept.emplace_back(node_text(imported.node, source_.text()));
    }
    bool sorted = std::is_sorted(kept.begin(), kept.end());
    std::vector<std::string> added = names;
    std::sort(added.begin(), added.end());
    kept.insert(kept.end(), added.begin(), added.end());
    if (sorted) std::sort(kept.begin(), kept.end());
    std::string line = "from " + module + " import ";
    for (size_t i = 0; i < kept.size(); ++i) line += (i ? ", " : "") + kept[i];
    edits.push_back(Edit::replace(ts_node_start_byte(statement.node), ts_node_end_byte(statement.node), line));
    rebuilt.insert(&statement);
  }
  std::vector<std::pair<int, std::string>> added;  // new statements: group, text
  for (const std::string& module : fresh_order) {
    std::vector<std::string> names = fresh[module];
    std::sort(names.begin(), names.end());
    std::string line = "from " + module + " import ";
    for (size_t i = 0; i < names.size(); ++i) line += (i ? ", " : "") + names[i];
    added.emplace_back(group_of(module), line);
  }
  for (const std::string& module : wanted_modules_) {
    bool present = false;
    for (const Statement& statement : statements_) {
      if (statement.is_from) continue;
      for (const ImportedName& imported : statement.names) {
        present |= imported.name == module && imported.local == top_level(module);
      }
    }
    if (!present) added.emplace_back(group_of(module), "import " + module);
  }
  Placement placement;
  for (const Statement& statement : statements_) {
    if (!rebuilt.count(&statement) && !statement.names.empty() &&
        std::all_of(statement.names.begin(), statement.names.end(), is_unused))
      placement.gone.insert(&statement);
  }
  for (const auto& [group, line] : added) placement.new_groups.insert(group);
  for (const auto& [group, line] : added) {
    auto inserted = insert_statement(group, line, placement);
    edits.insert(edits.end(), inserted.begin(), inserted.end());
  }
  for (const Statement& statement : statements_) {
    if (rebuilt.count(&statement)) continue;
    std::vector<bool> dropped(statement.names.size(), false);
    for (size_t i = 0; i < statement.names.size(); ++i) {
      dropped[i] = std::find(unused.begin(), unused.end(), statement.names[i].local) != unused.end();
    }
    auto removed = removal(statement, dropped);
    edits.insert(edits.end(), removed.begin(), removed.end());
  }
  return edits;
}

}  // namespace awaitify
