// audit, verify and check: options in, a Report out, rendered as text, JSON or SARIF; exit codes
// 0 nothing found, 1 something found (or, for check, something to migrate), 2 usage or input error.
#include "commands.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>

#include "awaitify/audit.hpp"
#include "awaitify/config.hpp"
#include "awaitify/discover.hpp"
#include "awaitify/emit.hpp"
#include "awaitify/engine.hpp"
#include "awaitify/facts_cache.hpp"
#include "awaitify/git_baseline.hpp"
#include "awaitify/verify.hpp"
#include "pass_settings.hpp"

namespace awaitify::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;
constexpr int kExitError = 2;
constexpr int kExitInterrupted = 130;

void add_options(CLI::App& command, ReportOptions& options, bool transforms) {
  command.add_option("paths", options.paths, "files or directories (default: .)");
  if (transforms) {
    command.add_option("--phase", options.phases, "run only this phase (repeatable; default: all)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  command
      .add_option("--only", options.only,
                  "only these IDs: transforms (AW...) or verify rules (AWV...)")
      ->delimiter(',')
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--skip", options.skip, "skip these IDs (comma-separated)")
      ->delimiter(',')
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--format", options.format, "text, json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  command.add_option("--config", options.config,
                     "read [tool.awaitify] (or top-level keys) from this TOML file");
  command.add_option("--jobs,-j", options.jobs, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_flag("-v,--verbose", options.verbosity, "more detail (repeat for more)");
  command.add_flag("-q,--quiet", options.quiet, "findings only: no hints, no summary");
  command.add_option("--color", options.color, "colour the text output: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  command.add_flag("--no-cache", options.no_cache,
                   "neither read nor write the index facts kept in .awaitify_cache/");
  if (!transforms) return;
  command.add_flag("--no-expand", options.no_expand,
                   "never change callers outside PATHS (as for diff/apply)");
  // The passes' settings, as diff and apply take them (also in [tool.awaitify]).
  add_pass_settings(command, options.settings);
}

RunOptions run_options(unsigned jobs, bool expand, const std::vector<std::string>& context,
                       const Settings& settings, FactsCache* cache) {
  RunOptions options;
  options.cache = cache;
  options.jobs = jobs;
  options.expand = expand;
  options.context_paths = context;
  options.settings = settings;
  options.keep_unchanged_texts = false;  // only what changes is reported or written
  return options;
}

bool use_color(const std::string& setting) {
  if (setting == "always") return true;
  if (setting == "never") return false;
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") &&
         !(term && std::string(term) == "dumb");
}

// What to run, from the command line over the configuration: phases, transforms, verify rules.
struct Plan {
  Config config;
  std::vector<std::string> phases;
  std::vector<const TransformInfo*> transforms;
  VerifyOptions rules;
  bool run_verify = true;
  Settings settings;
};

Result<Plan> make_plan(const ReportOptions& options, const std::vector<std::string>& paths) {
  Plan plan;
  auto config = options.config.empty() ? find_config(paths) : load_config(options.config);
  if (!config) return config.error();
  plan.config = *config;
  if (!config->path.empty()) spdlog::debug("awaitify: configuration from {}", config->path);
  plan.phases = options.phases.empty() ? config->phases : options.phases;
  plan.settings.values = config->settings;
  for (const auto& [key, value] : options.settings) plan.settings.values[key] = value;
  std::vector<std::string> only = options.only.empty() ? config->only : options.only;
  std::vector<std::string> skip = options.skip.empty() ? config->skip : options.skip;
  Selection selection;
  selection.phases = plan.phases;
  bool only_transforms = false;
  for (const std::string& id : only) {
    if (is_verify_rule(id))
      plan.rules.only.insert(id);
    else if (find_transform(id))
      selection.only.insert(id), only_transforms = true;
    else
      return Error{"unknown transform or rule ID '" + id +
                   "' (see 'awaitify list' and docs/rules.md)"};
  }
  for (const std::string& id : skip) {
    if (is_verify_rule(id))
      plan.rules.skip.insert(id);
    else if (find_transform(id))
      selection.skip.insert(id);
    else
      return Error{"unknown transform or rule ID '" + id +
                   "' (see 'awaitify list' and docs/rules.md)"};
  }
  // AWV010: the modules the configuration declares migrated, and each file's committed
  // version (git HEAD) to detect the others.
  plan.rules.migrated_glob = [config = plan.config](const std::string& path) {
    return config.migrated_glob(path);
  };
  plan.rules.baseline = committed_baseline;
  auto transforms = select_transforms(selection);
  if (!transforms) return transforms.error();
  // --only naming rules alone runs no transform, and naming transforms alone runs no rule.
  if (only.empty() || only_transforms) plan.transforms = *transforms;
  plan.run_verify = only.empty() || !plan.rules.only.empty();
  return plan;
}

struct Files {
  std::vector<std::string> selected;
  std::vector<std::string> context;
  std::vector<std::string> warnings;  // project directories that could not be read
  std::string root;                   // the project's
};

Result<Files> find_files(const std::vector<std::string>& paths, const Config& config) {
  auto selected = discover(paths);
  if (!selected) return selected.error();
  std::string root = find_project_root(paths);
  std::vector<std::string> unreadable;
  auto context = discover_project(root, unreadable);
  if (!context) return context.error();
  Files files{config.filter(*selected), std::move(*context), std::move(unreadable), root};
  spdlog::debug(
      "awaitify: {} Python files selected ({} left out by include/exclude), {} in the project at "
      "{}",
      files.selected.size(), selected->size() - files.selected.size(), files.context.size(), root);
  return files;
}

void add_warnings(Report& report, const Files& files) {
  report.warnings.insert(report.warnings.begin(), files.warnings.begin(), files.warnings.end());
}

int print(const Report& report, const ReportOptions& options, Format format) {
  if (format == Format::text) {
    for (const std::string& error : report.errors) spdlog::error("awaitify: error: {}", error);
  }
  // SARIF has no place for them: they go to stderr, never nowhere.
  if (format == Format::sarif) {
    for (const std::string& warning : report.warnings)
      spdlog::warn("awaitify: warning: {}", warning);
  }
  TextOptions text{use_color(options.color), !options.quiet, !options.quiet};
  std::cout << render(report, format, text);
  std::cout.flush();
  return report.errors.empty() ? kExitOk : kExitError;
}

int run_verify(const ReportOptions& options, const Plan& plan, const Files& files, Format format,
               FactsCache* cache) {
  ProjectView view =
      ProjectView::load(files.selected, files.context, options.jobs, cache, /*keep_trees=*/false);
  Report report = verify(view, plan.rules);
  add_warnings(report, files);
  int status = print(report, options, format);
  return status != kExitOk ? status : report.items.empty() ? kExitOk : kExitFound;
}

int run_audit(const ReportOptions& options, const Plan& plan, const Files& files, Format format,
              FactsCache* cache) {
  ProjectView view =
      ProjectView::load(files.selected, files.context, options.jobs, cache, /*keep_trees=*/false);
  Report report = audit(view);
  add_warnings(report, files);
  if (!options.no_estimate) {
    estimate_phases(report, files.selected,
                    EstimateOptions{plan.phases, files.context, options.jobs, !options.no_expand,
                                    plan.settings, cache, &view.index()});
  }
  int status = print(report, options, format);
  bool changes = std::any_of(report.modules.begin(), report.modules.end(),
                             [](const ModuleEstimate& module) { return module.total() > 0; });
  return status != kExitOk ? status : (report.items.empty() && !changes) ? kExitOk : kExitFound;
}

uint32_t first_changed_line(std::string_view before, std::string_view after) {
  size_t common = 0;
  while (common < before.size() && common < after.size() && before[common] == after[common])
    ++common;
  uint32_t line = 1;
  for (size_t i = 0; i < common; ++i) line += before[i] == '\n';
  return line;
}

// check: the engine's changes (written with --apply) and verify's findings, one line per file.
// With --apply, SIGINT/SIGTERM stop the writes between files, as for `apply`: false then.
bool add_changes(Report& report, const RunResult& result, const ReportOptions& options,
                 std::map<std::string, FileStatus>& files) {
  size_t written_files = 0;
  for (const auto& [rule, count] : count_suppressed(result.plan, result.outcomes))
    report.suppressed[rule] += count;
  for (const FileOutcome& outcome : result.outcomes) {
    if (outcome.input_error) report.errors.push_back(*outcome.input_error);
    if (outcome.engine_error) report.errors.push_back(*outcome.engine_error);
    // verify reported them already when it ran.
    for (const std::string& warning : outcome.directive_warnings) {
      if (std::find(report.warnings.begin(), report.warnings.end(), warning) ==
          report.warnings.end())
        report.warnings.push_back(warning);
    }
    if (!outcome.changed()) continue;
    FileStatus& status = files[outcome.path];
    status.path = outcome.path;
    for (const auto& [id, count] : outcome.edits_by_transform) status.edits[id] += count;
    std::tie(status.added, status.removed) =
        changed_lines(outcome.path, outcome.original.text(), outcome.result);
    status.first_changed_line = first_changed_line(outcome.original.text(), outcome.result);
    if (options.show_diff)
      status.diff = unified_diff(outcome.path, outcome.original.text(), outcome.result);
    if (options.apply) {
      if (interrupted()) {
        spdlog::error("awaitify: interrupted: {} files written, the rest untouched", written_files);
        return false;
      }
      Status written =
          write_atomically(outcome.path, outcome.original.bytes(), outcome.result_bytes());
      if (!written)
        report.errors.push_back(written.error().message);
      else
        ++written_files;
    }
  }
  for (const std::string& path : result.plan.pulled_in()) {
    report.warnings.push_back(
        path + " is outside the given files but " +
        (options.apply ? "was changed" : "would change") +
        " because callers there must await functions made async (--no-expand refuses instead)");
  }
  return true;
}

int run_check(const ReportOptions& options, const Plan& plan, const Files& files, Format format,
              FactsCache* cache) {
  if (options.apply) install_interrupt_handlers();
  ProjectView view = ProjectView::load(files.selected, files.context, options.jobs, cache);
  Report report;
  if (plan.run_verify && !options.apply)
    report = verify(view, plan.rules);
  else
    report.errors = view.errors();
  report.command = "check";
  add_warnings(report, files);
  report.applied = options.apply;
  report.files = files.selected.size();
  for (const ViewFile& file : view.files()) {
    if (file.suppressions.skip_file() &&
        std::find(report.skipped_files.begin(), report.skipped_files.end(), file.source.path()) ==
            report.skipped_files.end()) {
      report.skipped_files.push_back(file.source.path());
    }
  }
  std::map<std::string, FileStatus> statuses;
  if (!plan.transforms.empty()) {
    RunOptions run_with =
        run_options(options.jobs, !options.no_expand, files.context, plan.settings, cache);
    run_with.index = &view.index();  // the project is read once, for verify and the run alike
    RunResult result = run(files.selected, plan.transforms, run_with);
    std::set<std::string> known(report.errors.begin(), report.errors.end());
    if (!add_changes(report, result, options, statuses)) return kExitInterrupted;
    // The view and the run both report unreadable files: once is enough.
    std::vector<std::string> errors;
    for (const std::string& error : report.errors) {
      if (std::find(errors.begin(), errors.end(), error) == errors.end()) errors.push_back(error);
    }
    report.errors = errors;
    for (const auto& [path, status] : statuses) {
      for (const auto& [id, count] : status.edits) {
        if (!report.rule(id)) {
          const TransformInfo* transform = find_transform(id);
          report.rules.push_back({id, transform ? transform->phase : "",
                                  transform ? transform->summary : id,
                                  "awaitify apply --only " + id, Severity::warning});
        }
      }
    }
  }
  for (const ReportItem& item : report.items) {
    FileStatus& status = statuses[item.path];
    status.path = item.path;
    status.findings.push_back(item.rule + " at " + std::to_string(item.position.line) + ":" +
                              std::to_string(item.position.column));
  }
  for (auto& [path, status] : statuses) report.file_status.push_back(std::move(status));
  int code = print(report, options, format);
  bool found = !report.file_status.empty();
  return code != kExitOk ? code : found ? kExitFound : kExitOk;
}

int run_command(const std::string& command, const ReportOptions& options) {
  configure_logging(options.quiet, options.verbosity);
  Format format = *parse_format(options.format);
  std::vector<std::string> paths =
      options.paths.empty() ? std::vector<std::string>{"."} : options.paths;
  if (std::find(paths.begin(), paths.end(), "-") != paths.end()) {
    spdlog::error("awaitify: error: {} reads files, not stdin ('-')", command);
    return kExitError;
  }
  auto plan = make_plan(options, paths);
  if (!plan) {
    spdlog::error("awaitify: error: {}", plan.error().message);
    return kExitError;
  }
  auto files = find_files(paths, plan->config);
  if (!files) {
    spdlog::error("awaitify: error: {}", files.error().message);
    return kExitError;
  }
  std::unique_ptr<FactsCache> cache;
  if (!options.no_cache) cache = std::make_unique<FactsCache>(files->root);
  int code = command == "verify"  ? run_verify(options, *plan, *files, format, cache.get())
             : command == "audit" ? run_audit(options, *plan, *files, format, cache.get())
                                  : run_check(options, *plan, *files, format, cache.get());
  if (cache && code != kExitInterrupted) cache->prune();
  return code;
}

}  // namespace

std::string check_target_option(const std::string& spec) {
  size_t equals = spec.find('=');
  if (equals == std::string::npos) return "expected LIBRARY=VERSION, e.g. sqlalchemy=1.4";
  return target_problem(spec.substr(0, equals), spec.substr(equals + 1));
}

ReportCommands::ReportCommands(CLI::App& app) {
  audit_ = app.add_subcommand(
      "audit",
      "what is still sync, grouped by the migration checklist, with a per-module "
      "estimate of each phase (exit 1 when anything is left)");
  add_options(*audit_, audit_options_, true);
  audit_->add_flag("--no-estimate", audit_options_.no_estimate,
                   "skip the per-module table (no engine runs)");
  verify_ =
      app.add_subcommand("verify",
                         "the post-migration checklist: blocking calls in async code, coroutines "
                         "never awaited, sync handlers and tests left (exit 1 on findings)");
  add_options(*verify_, verify_options_, false);
  check_ = app.add_subcommand(
      "check",
      "for pre-commit and CI: exit 1 when a selected phase would change a file or "
      "verify finds a problem; one line per file");
  add_options(*check_, check_options_, true);
  check_->add_flag("--diff", check_options_.show_diff, "show the changes as a unified diff");
  check_->add_flag(
      "--apply", check_options_.apply,
      "write the changes (no verify) and exit 1 when files changed, as pyupgrade does");
}

std::optional<int> ReportCommands::run() {
  if (audit_->parsed()) return run_command("audit", audit_options_);
  if (verify_->parsed()) return run_command("verify", verify_options_);
  if (check_->parsed()) return run_command("check", check_options_);
  return std::nullopt;
}

void configure_logging(bool quiet, int verbosity) {
  auto logger = spdlog::get("awaitify");
  if (!logger) logger = spdlog::stderr_color_mt("awaitify");
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  if (quiet)
    spdlog::set_level(spdlog::level::err);
  else if (verbosity >= 2)
    spdlog::set_level(spdlog::level::trace);
  else if (verbosity == 1)
    spdlog::set_level(spdlog::level::debug);
  else
    spdlog::set_level(spdlog::level::info);
}

}  // namespace awaitify::cli
