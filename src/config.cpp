#include "awaitify/config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>

#include "awaitify/discover.hpp"

namespace awaitify {

namespace fs = std::filesystem;

namespace {

// A recursive-descent reader over the whole text; `line` follows the position for messages.
class TomlReader {
 public:
  explicit TomlReader(std::string_view text) : text_(text) {}

  Result<TomlDocument> read() {
    TomlDocument document;
    std::string table;
    while (skip_blank_lines(), !at_end()) {
      if (peek() == '[') {
        bool array_table = peek(1) == '[';
        pos_ += array_table ? 2 : 1;
        auto key = read_key();
        if (!key) return key.error();
        skip_spaces();
        if (!consume(']') || (array_table && !consume(']')))
          return error("expected ']' after the table name");
        // Keys of an array of tables are kept under "name[]" (read, never configuration).
        table = *key + (array_table ? "[]" : "");
        document.tables.insert(table);
      } else {
        auto key = read_key();
        if (!key) return key.error();
        skip_spaces();
        if (!consume('=')) return error("expected '=' after the key '" + *key + "'");
        skip_spaces();
        auto value = read_value();
        if (!value) return value.error();
        document.values[table.empty() ? *key : table + "." + *key] = std::move(*value);
      }
      skip_spaces();
      if (peek() == '#') skip_comment();
      if (!at_end() && peek() != '\n' && peek() != '\r')
        return error("unexpected text after a value");
    }
    return document;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  Error error(const std::string& message) const {
    return Error{"line " + std::to_string(line_) + ": " + message};
  }
  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t') ++pos_;
  }
  void skip_comment() {
    while (!at_end() && peek() != '\n') ++pos_;
  }
  void skip_blank_lines() {  // spaces, newlines and comments
    for (;;) {
      skip_spaces();
      if (peek() == '#') skip_comment();
      if (peek() == '\r') ++pos_;
      if (peek() != '\n') return;
      ++pos_;
      ++line_;
    }
  }

  Result<std::string> read_key() {
    std::string key;
    for (;;) {
      skip_spaces();
      if (peek() == '"' || peek() == '\'') {
        auto part = read_string();
        if (!part) return part.error();
        key += part->text;
      } else {
        size_t start = pos_;
        while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_' || peek() == '-')
          ++pos_;
        if (pos_ == start) return error("expected a key");
        key += std::string(text_.substr(start, pos_ - start));
      }
      skip_spaces();
      if (!consume('.')) return key;
      key += '.';
    }
  }

  Result<TomlValue> read_string() {
    TomlValue value;
    value.kind = TomlValue::Kind::string;
    value.line = line_;
    char quote = peek();
    bool multiline = peek(1) == quote && peek(2) == quote;
    pos_ += multiline ? 3 : 1;
    if (multiline && peek() == '\n')
      ++pos_, ++line_;
    else if (multiline && peek() == '\r' && peek(1) == '\n')
      pos_ += 2, ++line_;
    for (;;) {
      if (at_end()) return error("unterminated string");
      char c = text_[pos_];
      if (c == quote && (!multiline || (peek(1) == quote && peek(2) == quote))) {
        pos_ += multiline ? 3 : 1;
        return value;
      }
      if (c == '\n') {
        if (!multiline) return error("unterminated string");
        ++line_;
      }
      ++pos_;
      if (c == '\\' && quote == '"') {
        char escaped = peek();
        ++pos_;
        switch (escaped) {
          case 'n':
            value.text += '\n';
            break;
          case 't':
            value.text += '\t';
            break;
          case 'r':
            value.text += '\r';
            break;
          case '"':
            value.text += '"';
            break;
          case '\\':
            value.text += '\\';
            break;
          case '\n':
            ++line_;
            while (std::isspace(static_cast<unsigned char>(peek()))) {
              if (peek() == '\n') ++line_;
              ++pos_;
            }
            break;
          default:
            value.text += '\\';
            value.text += escaped;
            break;  // \uXXXX kept as written
        }
        continue;
      }
      value.text += c;
    }
  }

  Result<TomlValue> read_value() {
    char c = peek();
    if (c == '"' || c == '\'') return read_string();
    if (c == '[') return read_array();
    if (c == '{') return read_inline_table();
    TomlValue value;
    value.line = line_;
    size_t start = pos_;
    while (!at_end() && peek() != ',' && peek() != ']' && peek() != '}' && peek() != '\n' &&
           peek() != '\r' && peek() != '#') {
      // A bare value ends at a space, except the one between a date and a time.
      bool date_time = pos_ - start == 10 && text_[start + 4] == '-' &&
                       std::isdigit(static_cast<unsigned char>(peek(1)));
      if ((peek() == ' ' || peek() == '\t') && !date_time) break;
      ++pos_;
    }
    value.text = std::string(text_.substr(start, pos_ - start));
    while (!value.text.empty() && std::isspace(static_cast<unsigned char>(value.text.back())))
      value.text.pop_back();
    if (value.text.empty()) return error("expected a value");
    if (value.text == "true" || value.text == "false") {
      value.kind = TomlValue::Kind::boolean;
      value.boolean = value.text == "true";
    } else if (std::isdigit(static_cast<unsigned char>(value.text[0])) || value.text[0] == '-' ||
               value.text[0] == '+' || value.text == "inf" || value.text == "nan") {
      value.kind = TomlValue::Kind::number;  // numbers and dates
    } else {
      return error("cannot read the value '" + value.text + "'");
    }
    return value;
  }

  Result<TomlValue> read_array() {
    TomlValue array;
    array.kind = TomlValue::Kind::array;
    array.line = line_;
    ++pos_;
    for (;;) {
      skip_blank_lines();
      if (consume(']')) return array;
      auto item = read_value();
      if (!item) return item.error();
      array.items.push_back(std::move(*item));
      skip_blank_lines();
      if (consume(']')) return array;
      if (!consume(',')) return error("expected ',' or ']' in an array");
    }
  }

  Result<TomlValue> read_inline_table() {
    TomlValue table;
    table.kind = TomlValue::Kind::table;
    table.line = line_;
    ++pos_;
    for (;;) {
      skip_spaces();
      if (consume('}')) return table;
      auto key = read_key();
      if (!key) return key.error();
      skip_spaces();
      if (!consume('=')) return error("expected '=' in an inline table");
      skip_spaces();
      auto value = read_value();
      if (!value) return value.error();
      table.fields[*key] = std::move(*value);
      skip_spaces();
      if (consume('}')) return table;
      if (!consume(',')) return error("expected ',' or '}' in an inline table");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys{
      "phases",      "only",         "skip",         "include",       "exclude",
      "http-client", "http-timeout", "http-library", "wrap-blocking", "lifespan-manager",
      "drop-sync",   "targets",      "aiofiles-os",  "migrated"};
  return keys;
}

std::string known_targets_text() {
  std::string text;
  for (const auto& [library, versions] : known_targets()) {
    std::string choices;
    for (const std::string& version : versions)
      choices += (choices.empty() ? "" : " or ") + version;
    if (versions.empty()) choices = "a version (0.92)";
    text += (text.empty() ? "" : ", ") + library + " = " + choices;
  }
  return text;
}

// "pyproject.toml:7: [tool.awaitify] 'targets.sqlalchemy'": where a key's value is, for messages.
using WhereOf = std::function<std::string(const std::string& key, uint32_t line)>;

// One library version (`sqlalchemy = "1.4"`): a string, or a number as TOML reads `1.4`.
Status add_target(const std::string& library, const TomlValue& value, const WhereOf& where_of,
                  Config& config) {
  std::string where = where_of("targets." + library, value.line);
  bool scalar = value.kind == TomlValue::Kind::string || value.kind == TomlValue::Kind::number;
  std::string problem =
      scalar ? target_problem(library, value.text) : "a version must be a string, e.g. \"1.4\"";
  if (!problem.empty()) return Error{where + ": " + problem};
  config.settings["target." + library] = value.text;
  return ok_status();
}

// `targets = { sqlalchemy = "1.4" }`, or `[tool.awaitify.targets]` / `targets.sqlalchemy = ...`
// (key "targets.sqlalchemy").
Status add_targets(const std::string& key, const TomlValue& value, const WhereOf& where_of,
                   Config& config) {
  if (key != "targets") return add_target(key.substr(key.find('.') + 1), value, where_of, config);
  if (value.kind != TomlValue::Kind::table) {
    return Error{where_of(key, value.line) +
                 " must be a table of library versions, e.g. targets = { sqlalchemy = \"1.4\" } "
                 "(known: " +
                 known_targets_text() + ")"};
  }
  for (const auto& [library, version] : value.fields) {
    Status added = add_target(library, version, where_of, config);
    if (!added) return added;
  }
  return ok_status();
}

Result<std::vector<std::string>> string_list(const TomlValue& value, const std::string& where) {
  if (value.kind == TomlValue::Kind::string) return std::vector<std::string>{value.text};
  if (value.kind != TomlValue::Kind::array) return Error{where + " must be a list of strings"};
  std::vector<std::string> result;
  for (const TomlValue& item : value.items) {
    if (item.kind != TomlValue::Kind::string) return Error{where + " must be a list of strings"};
    result.push_back(item.text);
  }
  return result;
}

// The passes' settings: a value checked as the command line checks it; nullopt for other keys.
std::optional<Result<std::string>> setting_value(const std::string& key, const TomlValue& value,
                                                 const std::string& where) {
  if (key == "wrap-blocking" || key == "drop-sync" || key == "aiofiles-os") {
    if (value.kind != TomlValue::Kind::boolean)
      return Result<std::string>(Error{where + " must be true or false"});
    return Result<std::string>(value.boolean ? std::string("true") : std::string("false"));
  }
  if (key == "http-timeout") {
    if (value.kind != TomlValue::Kind::number && value.kind != TomlValue::Kind::string)
      return Result<std::string>(Error{where + " must be a number of seconds"});
    return Result<std::string>(value.text);
  }
  static const std::map<std::string, std::set<std::string>> choices{
      {"http-client", {"shared", "scoped"}},
      {"http-library", {"httpx", "httpx2"}},
      {"lifespan-manager", {"asgi-lifespan", "router"}}};
  auto it = choices.find(key);
  if (it == choices.end()) return std::nullopt;
  if (value.kind != TomlValue::Kind::string || !it->second.count(value.text)) {
    std::string allowed;
    for (const std::string& choice : it->second)
      allowed += (allowed.empty() ? "" : " or ") + choice;
    return Result<std::string>(Error{where + " must be " + allowed});
  }
  return Result<std::string>(value.text);
}

Result<Config> config_from(const TomlDocument& document, const std::string& table,
                           const std::string& path) {
  Config config;
  config.path = path;
  config.base = fs::absolute(fs::path(path)).parent_path().lexically_normal().string();
  std::string prefix = table.empty() ? "" : table + ".";
  for (const std::string& key : document.keys_under(table)) {
    const TomlValue& value = document.values.at(prefix + key);
    auto where_of = [&](const std::string& name, uint32_t line) {
      return path + ":" + std::to_string(line) + ": " + (table.empty() ? "" : "[" + table + "] ") +
             "'" + name + "'";
    };
    std::string where = where_of(key, value.line);
    if (key == "targets" || key.rfind("targets.", 0) == 0) {
      Status added = add_targets(key, value, where_of, config);
      if (!added) return added.error();
      continue;
    }
    if (!known_keys().count(key)) {
      return Error{
          path + ":" + std::to_string(value.line) + ": unknown key '" + key + "'" +
          (table.empty() ? "" : " in [" + table + "]") +
          " (known: phases, only, skip, include, exclude, http-client, http-timeout, "
          "http-library, wrap-blocking, lifespan-manager, drop-sync, targets, aiofiles-os, "
          "migrated)"};
    }
    if (auto setting = setting_value(key, value, where)) {
      if (!*setting) return setting->error();
      config.settings[key] = **setting;
      continue;
    }
    auto list = string_list(value, where);
    if (!list) return list.error();
    if (key == "phases")
      config.phases = *list;
    else if (key == "only")
      config.only = *list;
    else if (key == "skip")
      config.skip = *list;
    else if (key == "include")
      config.include = *list;
    else if (key == "migrated")
      config.migrated = *list;
    else
      config.exclude = *list;
  }
  return config;
}

// Gitignore-style: a pattern without '/' matches any component of the path (a directory name
// excludes everything under it); one with '/' matches the path or a directory above the file.
bool glob_matches(const std::string& pattern, const std::string& relative) {
  std::string cleaned = pattern;
  if (cleaned.rfind("./", 0) == 0) cleaned = cleaned.substr(2);
  while (!cleaned.empty() && cleaned.back() == '/') cleaned.pop_back();
  if (!cleaned.empty() && cleaned[0] == '/') cleaned = cleaned.substr(1);
  if (cleaned.empty()) return false;
  bool anchored = cleaned.find('/') != std::string::npos;
  size_t start = 0;
  for (;;) {
    size_t slash = relative.find('/', start);
    std::string prefix = relative.substr(0, slash);
    std::string component =
        relative.substr(start, slash == std::string::npos ? slash : slash - start);
    if (gitignore_glob_match(cleaned, anchored ? prefix : component)) return true;
    if (slash == std::string::npos) return false;
    start = slash + 1;
  }
}

}  // namespace

const std::map<std::string, std::vector<std::string>>& known_targets() {
  // The db phase writes `sessionmaker(class_=AsyncSession)` for 1.4, `async_sessionmaker` for
  // 2.0. The lifespan phase sets app.router.lifespan_context before FastAPI 0.93: any version
  // (no list) is a target there.
  static const std::map<std::string, std::vector<std::string>> targets{
      {"fastapi", {}}, {"sqlalchemy", {"1.4", "2.0"}}};
  return targets;
}

std::string target_problem(const std::string& library, const std::string& version) {
  auto known = known_targets().find(library);
  if (known == known_targets().end()) {
    return "unknown target '" + library + "' (known: " + known_targets_text() + ")";
  }
  const std::vector<std::string>& versions = known->second;
  if (std::find(versions.begin(), versions.end(), version) != versions.end()) return {};
  static const std::regex number(R"(\d+\.\d+(\.\d+)?)");
  if (versions.empty() && std::regex_match(version, number)) return {};
  return "unknown " + library + " version '" + version + "' (known: " + known_targets_text() + ")";
}

std::vector<std::string> TomlDocument::keys_under(const std::string& table) const {
  std::vector<std::string> keys;
  std::string prefix = table.empty() ? "" : table + ".";
  for (const auto& [key, value] : values) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string rest = key.substr(prefix.size());
    // Top level (no table): only keys outside every table.
    if (table.empty() && tables.count(key.substr(0, key.rfind('.')))) continue;
    keys.push_back(rest);
  }
  return keys;
}

Result<TomlDocument> parse_toml(std::string_view text) {
  return TomlReader(text).read();
}

std::string Config::relative_to_base(const std::string& file) const {
  if (base.empty()) return file;
  fs::path absolute = fs::absolute(fs::path(file)).lexically_normal();
  return absolute.lexically_relative(base).generic_string();
}

bool Config::selects(const std::string& file) const {
  if (include.empty() && exclude.empty()) return true;
  std::string relative = relative_to_base(file);
  if (relative.rfind("..", 0) == 0) return true;  // outside the configured project: not filtered
  for (const std::string& pattern : exclude) {
    if (glob_matches(pattern, relative)) return false;
  }
  if (include.empty()) return true;
  for (const std::string& pattern : include) {
    if (glob_matches(pattern, relative)) return true;
  }
  return false;
}

std::string Config::migrated_glob(const std::string& file) const {
  if (migrated.empty()) return {};
  std::string relative = relative_to_base(file);
  if (relative.rfind("..", 0) == 0) return {};  // outside the configured project
  for (const std::string& pattern : migrated) {
    if (glob_matches(pattern, relative)) return pattern;
  }
  return {};
}

std::vector<std::string> Config::filter(const std::vector<std::string>& files) const {
  std::vector<std::string> kept;
  for (const std::string& file : files) {
    if (selects(file)) kept.push_back(file);
  }
  return kept;
}

Result<Config> load_config(const std::string& file) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return Error{file + ": no such configuration file"};
  auto document = parse_toml(read_text(file));
  if (!document) return Error{file + ": " + document.error().message};
  bool has_table =
      document->tables.count("tool.awaitify") || !document->keys_under("tool.awaitify").empty();
  return config_from(*document, has_table ? "tool.awaitify" : "", file);
}

Result<Config> find_config(const std::vector<std::string>& paths) {
  std::error_code error;
  fs::path start = fs::absolute(paths.empty() ? "." : paths.front(), error).lexically_normal();
  if (!fs::is_directory(start, error)) start = start.parent_path();
  for (fs::path dir = start;; dir = dir.parent_path()) {
    fs::path candidate = dir / "pyproject.toml";
    if (fs::is_regular_file(candidate, error)) {
      std::string text = read_text(candidate);
      if (text.find("tool.awaitify") != std::string::npos) {
        std::string shown = fs::relative(candidate, fs::current_path(), error).string();
        if (error || shown.empty()) shown = candidate.string();
        auto document = parse_toml(text);
        if (!document) return Error{shown + ": " + document.error().message};
        if (document->tables.count("tool.awaitify") ||
            !document->keys_under("tool.awaitify").empty()) {
          auto config = config_from(*document, "tool.awaitify", shown);
          if (config) config->base = dir.string();
          return config;
        }
      }
    }
    if (!dir.has_relative_path()) break;
  }
  return Config{};
}

}  // namespace awaitify
