#pragma once
// Configuration for every command (diff, apply and plan too): `[tool.awaitify]` in the nearest
// pyproject.toml above the paths (or a file given with --config), read with a small TOML reader
// that covers what pyproject files use (tables, dotted keys, strings, numbers, booleans, arrays,
// inline tables).
//
//   [tool.awaitify]
//   phases = ["db", "http"]        # default phases (the command line's --phase wins)
//   only = ["AW501"]               # transform or verify rule IDs
//   skip = ["AWV006"]
//   include = ["app/**"]           # globs, relative to the config file's directory
//   exclude = ["app/legacy/**", "*_pb2.py"]
//   http-client = "shared"         # the passes' settings, as --http-client, --http-timeout,
//   http-timeout = 10              # --http-library and --wrap-blocking
//   http-library = "httpx"
//   wrap-blocking = true
//   targets = { sqlalchemy = "1.4" }  # library versions to write for, as --target sqlalchemy=1.4
//                                     # (also a [tool.awaitify.targets] table)
//   aiofiles-os = true             # --aiofiles-os (drop-sync likewise)
//   migrated = ["app/routers/**"]  # modules that must stay migrated (verify rule AWV010)
//
// Any other key in the table is an error that names it.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/result.hpp"

namespace awaitify {

struct TomlValue {
  enum class Kind { string, boolean, number, array, table, other };
  Kind kind = Kind::other;
  std::string text;  // a string's contents, or the token as written
  bool boolean = false;
  std::vector<TomlValue> items;             // array
  std::map<std::string, TomlValue> fields;  // inline table
  uint32_t line = 0;
};

struct TomlDocument {
  std::map<std::string, TomlValue> values;  // full dotted key ("tool.awaitify.phases") -> value
  std::set<std::string> tables;             // every [table] header seen
  // The keys directly or indirectly under a table ("tool.awaitify" -> "phases", "x.y").
  std::vector<std::string> keys_under(const std::string& table) const;
};

Result<TomlDocument> parse_toml(std::string_view text);

struct Config {
  std::string path;  // the file it came from; empty: no configuration
  std::string base;  // the directory include/exclude globs are relative to
  std::vector<std::string> phases, only, skip, include, exclude;
  std::vector<std::string> migrated;  // globs, as include/exclude: modules declared migrated
  std::map<std::string, std::string> settings;  // "http-client" -> "shared", "wrap-blocking" ->
                                                // "true", "target.sqlalchemy" -> "1.4"

  // Whether a file (a path as discover() gives it) passes include and exclude.
  bool selects(const std::string& file) const;
  std::vector<std::string> filter(const std::vector<std::string>& files) const;
  // The `migrated` glob a file matches (the first one), or empty.
  std::string migrated_glob(const std::string& file) const;

 private:
  std::string relative_to_base(const std::string& file) const;
};

// The library versions the passes can write for (`--target sqlalchemy=1.4`, `targets = {
// sqlalchemy = "1.4" }`): library -> versions, the default last.
const std::map<std::string, std::vector<std::string>>& known_targets();
// Why a target is not one of them ("unknown target 'fastapi' (known: sqlalchemy = 1.4 or
// 2.0)"); empty when it is.
std::string target_problem(const std::string& library, const std::string& version);

// The [tool.awaitify] table of the nearest pyproject.toml above the first path that has one; an
// empty Config when there is none. Errors: a file that does not parse, an unknown key, a value of
// the wrong type — each naming the file, line and key.
Result<Config> find_config(const std::vector<std::string>& paths);
// --config FILE: its [tool.awaitify] table, or its top-level keys when it has no such table.
Result<Config> load_config(const std::string& file);

}  // namespace awaitify
