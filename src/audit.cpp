#include "awaitify/audit.hpp"

#include <algorithm>
#include <sstream>

#include "awaitify/async_api.hpp"
#include "awaitify/emit.hpp"
#include "awaitify/engine.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/rewrite.hpp"

namespace awaitify {

namespace {

constexpr const char* kSyncRoutes = "AWA001";
constexpr const char* kSyncDependencies = "AWA002";
constexpr const char* kSession = "AWA003";
constexpr const char* kRequests = "AWA004";
constexpr const char* kOpen = "AWA005";
constexpr const char* kBlocking = "AWA006";
constexpr const char* kThreads = "AWA007";
constexpr const char* kSyncWith = "AWA008";
constexpr const char* kOnEvent = "AWA009";
constexpr const char* kMiddleware = "AWA010";
constexpr const char* kTestClient = "AWA011";

RunOptions run_options(const EstimateOptions& estimate) {
  RunOptions options;
  options.cache = estimate.cache;
  options.jobs = estimate.jobs;
  options.expand = estimate.expand;
  options.context_paths = estimate.context_paths;
  options.settings = estimate.settings;
  options.index = estimate.index;
  options.keep_unchanged_texts = false;  // the estimate counts changed lines only
  return options;
}

bool has_role(const std::vector<std::string>& roles, const char* role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

bool inside_sync_with(TSNode call) {
  TSNode statement = with_statement_of(call);
  return !ts_node_is_null(statement) && !is(ts_node_child(statement, 0), "async");
}

// Which checklist group a call belongs to (blocking calls by kind), or nullptr.
const char* call_group(const ProjectIndex& index, const Site& site, std::string* what) {
  if (starts_thread_or_process(site.target)) {
    *what = "`" + site.target + "` starts a thread or process";
    return kThreads;
  }
  auto api = blocking_call(index, site.target);
  if (!api) return nullptr;
  *what = api->what;
  bool upload = starts_with(site.target, "fastapi.UploadFile.file") ||
                starts_with(site.target, "starlette.datastructures.UploadFile.file");
  switch (api->kind) {
    case BlockingKind::session:
      return kSession;
    case BlockingKind::http:
      return starts_with(site.target, "requests.") ||
                     api->what.find("requests") != std::string::npos
                 ? kRequests
                 : kBlocking;
    case BlockingKind::file:
      return upload ? kBlocking : kOpen;
    case BlockingKind::path:
      return nullptr;  // os.path / pathlib checks: verify reports them in async code
    case BlockingKind::sleep:
    case BlockingKind::process:
    case BlockingKind::input:
    case BlockingKind::shutil:
    case BlockingKind::socket:
    case BlockingKind::thread:
      return kBlocking;
  }
  return nullptr;
}

// A sync `with` over something that does I/O: a file, a Session, an HTTP client, a TestClient.
std::optional<std::string> sync_io_context(const ProjectIndex& index, const Site& site) {
  if (!inside_sync_with(site.node)) return std::nullopt;
  if (auto api = blocking_call(index, site.target)) return api->what;
  static const std::set<std::string> io_types{"Session",    "requests.Session", "httpx.Client",
                                              "TestClient", "socket.socket",    "Connection"};
  std::string type = known_type(index, site.target);
  if (io_types.count(type)) return "`" + site.target + "` (" + type + ")";
  return std::nullopt;
}

class FileAudit {
 public:
  FileAudit(const ProjectView& project, const ViewFile& file, std::vector<ReportItem>& items)
      : project_(project),
        index_(project.index()),
        file_(file),
        src_(file.source.text()),
        items_(items) {}

  void run() {
    auto prepare = [&](const ScanScope&, ScopeVisitor& visitor) {
      visitor.call = [&](const Site& site) { on_call(site); };
    };
    auto done = [&](const ScanScope& scope, const ScopeScanner&) {
      if (!scope.is_module()) check_function(scope);
    };
    scan_scopes(index_, file_, prepare, done);
  }

 private:
  void add(const char* group, TSNode at, std::string message) {
    Position position = file_.source.position(ts_node_start_byte(at));
    if (!reported_.insert({position.line, position.column, group}).second) return;
    std::string_view line = std::string_view(src_).substr(file_.source.line_start(position.line));
    ReportItem item;
    item.rule = group;
    item.path = file_.source.path();
    item.position = position;
    item.char_column = char_column(line.substr(0, line.find('\n')), position.column);
    item.severity = Severity::note;
    item.message = std::move(message);
    items_.push_back(std::move(item));
  }

  void on_call(const Site& site) {
    std::string what;
    if (const char* group = call_group(index_, site, &what)) add(group, site.node, what);
    if (auto io = sync_io_context(index_, site)) add(kSyncWith, site.node, "`with` over " + *io);
    check_event_registration(site);
  }

  // `app.add_event_handler("startup", f)` and `FastAPI(on_startup=[...])`.
  void check_event_registration(const Site& site) {
    size_t dot = site.target.rfind('.');
    std::string owner = dot == std::string::npos ? "" : site.target.substr(0, dot);
    // Module-level code sees `app` as what made it (fastapi.FastAPI); functions see app.main.app.
    bool app = is_fastapi_constructor(owner) || is_router_constructor(owner) ||
               index_.is_fastapi_app_or_router(owner);
    if (app && site.target.substr(dot + 1) == "add_event_handler") {
      add(kOnEvent, site.node, "add_event_handler registers a startup/shutdown handler");
      return;
    }
    if (!is_fastapi_constructor(site.target) && !is_router_constructor(site.target)) return;
    for (TSNode argument : named_children(field(site.node, "arguments"))) {
      if (!is(argument, "keyword_argument")) continue;
      std::string_view name = node_text(field(argument, "name"), src_);
      if (name == "on_startup" || name == "on_shutdown") {
        add(kOnEvent, argument, std::string(name) + "= handlers");
      }
    }
  }

  void check_function(const ScanScope& scope) {
    const FunctionFacts* fn = index_.function(scope.qualified);
    if (!fn || fn->qualified != scope.qualified) return;
    std::vector<std::string> roles = index_.roles(*fn);
    TSNode name = field(scope.def, "name");
    std::string function = "`" + fn->name() + "`";
    if (!fn->is_async && has_role(roles, "path operation"))
      add(kSyncRoutes, name, "path operation " + function);
    else if (!fn->is_async && has_role(roles, "dependency"))
      add(kSyncDependencies, name, "dependency " + function);
    if (has_role(roles, "event handler")) add(kOnEvent, name, "@on_event handler " + function);
    if (!fn->is_async && has_role(roles, "middleware"))
      add(kMiddleware, name, "middleware " + function);
    std::string via;
    if (!fn->is_async && has_role(roles, "test") && project_.uses_test_client(*fn, &via)) {
      add(kTestClient, name,
          "test " + function +
              (via.empty() ? "" : " (TestClient through the fixture `" + via + "`)"));
    }
    for (const std::string& session : scope.sessions) {
      add(kSession, name, "function " + function + " takes the sync Session `" + session + "`");
    }
  }

  const ProjectView& project_;
  const ProjectIndex& index_;
  const ViewFile& file_;
  std::string_view src_;
  std::vector<ReportItem>& items_;
  std::set<std::tuple<uint32_t, uint32_t, std::string>> reported_;
};

}  // namespace

const std::vector<RuleInfo>& audit_groups() {
  static const std::vector<RuleInfo> groups{
      {kSyncRoutes, "sync-route-handlers", "Sync route handlers",
       "awaitify diff --phase routes (handlers that still block stay sync and say why)",
       Severity::note},
      {kSyncDependencies, "sync-dependencies", "Sync dependencies",
       "make them async def once nothing in them blocks", Severity::note},
      {kSession, "sync-session", "Sync Session use and query() chains", "awaitify diff --phase db",
       Severity::note},
      {kRequests, "requests-calls", "requests calls", "awaitify diff --phase http", Severity::note},
      {kOpen, "open-calls", "open() and other blocking file opens", "awaitify diff --phase files",
       Severity::note},
      {kBlocking, "blocking-calls",
       "Blocking calls (sleep, subprocess, os.system, urllib, shutil, socket, ...)",
       "await asyncio.sleep / asyncio.create_subprocess_exec, or run_in_threadpool",
       Severity::note},
      {kThreads, "threads-and-processes",
       "Threads and processes (threading, multiprocessing, concurrent.futures)",
       "asyncio tasks, asyncio.to_thread or run_in_threadpool", Severity::note},
      {kSyncWith, "sync-context-managers", "Sync context managers over I/O",
       "async with (aiofiles.open, AsyncSession, httpx.AsyncClient)", Severity::note},
      {kOnEvent, "on-event", "on_event handlers", "awaitify diff --phase lifespan", Severity::note},
      {kMiddleware, "sync-middleware", "Sync middleware", "awaitify diff --phase middleware",
       Severity::note},
      {kTestClient, "testclient-tests", "TestClient tests", "awaitify diff --phase tests",
       Severity::note},
  };
  return groups;
}

Report audit(const ProjectView& project) {
  Report report;
  report.command = "audit";
  report.rules = audit_groups();
  report.files = project.selected_count();
  report.errors = project.errors();
  std::map<std::string, Suppressions> suppressions;
  for (const ViewFile& file : project.files()) {
    if (file.suppressions.skip_file()) {
      report.skipped_files.push_back(file.source.path());
      continue;
    }
    for (const std::string& warning : file.suppressions.warnings(file.source.path())) {
      report.warnings.push_back(warning);
    }
    suppressions[file.source.path()] = file.suppressions;
    ViewFile parsed;
    if (const ViewFile* current = with_tree(file, parsed))
      FileAudit(project, *current, report.items).run();
  }
  report.count_and_drop_suppressed(suppressions);
  report.sort();
  return report;
}

std::pair<int, int> changed_lines(const std::string& path, std::string_view before,
                                  std::string_view after) {
  int added = 0, removed = 0;
  std::istringstream lines(unified_diff(path, before, after));
  std::string line;
  for (int number = 0; std::getline(lines, line); ++number) {
    if (number < 2) continue;  // the ---/+++ header
    if (!line.empty() && line[0] == '+') ++added;
    if (!line.empty() && line[0] == '-') ++removed;
  }
  return {added, removed};
}

void estimate_phases(Report& report, const std::vector<std::string>& files,
                     const EstimateOptions& options) {
  std::map<std::string, ModuleEstimate> modules;
  for (const ReportItem& item : report.items) {
    modules[item.path].path = item.path;
    ++modules[item.path].items;
  }
  std::set<std::string> skipped(report.skipped_files.begin(), report.skipped_files.end());
  std::vector<std::string> selected;
  for (const std::string& file : files) {
    if (!skipped.count(file)) selected.push_back(file);
  }
  for (const PhaseInfo& phase : phase_table()) {
    if (!options.phases.empty() && std::find(options.phases.begin(), options.phases.end(),
                                             phase.name) == options.phases.end()) {
      continue;
    }
    auto transforms = select_transforms(Selection{{phase.name}, {}, {}});
    bool written =
        transforms && std::any_of(transforms->begin(), transforms->end(),
                                  [](const TransformInfo* t) { return t->implemented(); });
    if (!written) {
      report.planned_phases.push_back(phase.name);
      continue;
    }
    report.phases.push_back(phase.name);
    RunResult result = run(selected, *transforms, run_options(options));
    for (const FileOutcome& outcome : result.outcomes) {
      if (!outcome.changed() || skipped.count(outcome.path)) continue;
      auto [added, removed] = changed_lines(outcome.path, outcome.original.text(), outcome.result);
      ModuleEstimate& module = modules[outcome.path];
      module.path = outcome.path;
      module.lines[phase.name] += added + removed;
    }
  }
  report.modules.clear();
  for (auto& [path, module] : modules) report.modules.push_back(std::move(module));
}

}  // namespace awaitify
