#pragma once
// AW701's pieces: lifespan.cpp finds an app's event handlers and decides whether the app can
// move to a lifespan; lifespan_write.cpp writes the edits that move it.
#include <tree_sitter/api.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "awaitify/edit.hpp"
#include "awaitify/transform.hpp"

namespace awaitify::aw701 {

struct Handler {
  bool startup = true;
  std::string call;  // a name or dotted name, called as written
  bool awaited = false;
};

// Whole lines to drop, or to replace (with the comment a dropped decorator line carried).
struct LineRange {
  uint32_t start = 0;
  uint32_t end = 0;
  std::string replacement;
};

// An app created by a top-level `name = FastAPI(...)` statement of the file.
struct App {
  std::string name;
  TSNode statement{};
  TSNode constructor{};
  bool created_twice = false;
  std::vector<Handler> handlers;            // in the order FastAPI runs them
  std::vector<LineRange> lines;             // registrations to remove
  std::vector<TSNode> event_arguments;      // on_startup= / on_shutdown=
  std::optional<TSNode> existing_lifespan;  // a lifespan= keyword argument
  std::vector<Finding> refusals;            // any one leaves the app unchanged
};

// The apps of the file that move to a lifespan: every app with event handlers or a shared HTTP
// client to close (AW701), or only those with a shared client to close (AW203, the http
// phase's part: FastAPI skips on_event handlers once lifespan= is set, so their handlers move
// too). Findings carry AW701's ID.
enum class Apps { with_handlers_or_clients, with_unclosed_clients };
PassResult convert_apps(const FileContext& context, Apps which);

// A call's arguments, without the comments between them.
std::vector<TSNode> arguments_of(TSNode call);

// The lines a statement or decorator takes, when nothing else shares them; a trailing comment
// is kept on a line of its own.
std::optional<LineRange> whole_lines(TSNode node, const FileContext& context);

// Every name the file binds or uses: the lifespan's name must be none of them.
std::set<std::string> names_in_use(const FileContext& context);
// `lifespan`, else `app_lifespan`, else `_lifespan_2`, `_lifespan_3`, ...
std::string lifespan_name(const std::set<std::string>& taken);

// The lifespan definition, before the statement that creates the app.
Edit lifespan_insertion(const App& app, const std::string& name, const FileContext& context);
// `--target fastapi=0.92` and older: FastAPI() has no lifespan= before 0.93.
bool fastapi_before_lifespan(const FileContext& context);

// The constructor gets lifespan=NAME and loses on_startup=/on_shutdown=; before FastAPI 0.93,
// `app.router.lifespan_context = NAME` follows the statement instead.
std::vector<Edit> constructor_edits(const App& app, const std::string& name,
                                    const FileContext& context);
// Drops the registrations' lines without leaving piles of blank lines behind.
std::vector<Edit> line_removals(std::vector<LineRange> ranges, const SourceFile& source);

}  // namespace awaitify::aw701
