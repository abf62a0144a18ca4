// The command line: a thin layer that turns options into a run and a run into output and exit
// codes (0 nothing to do / success, 1 changes shown, 2 usage or input error).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "awaitify/config.hpp"
#include "awaitify/discover.hpp"
#include "awaitify/emit.hpp"
#include "awaitify/engine.hpp"
#include "awaitify/facts_cache.hpp"
#include "awaitify/verify.hpp"
#include "commands.hpp"
#include "interactive.hpp"
#include "pass_settings.hpp"

namespace {

using namespace awaitify;

constexpr int kExitOk = 0;
constexpr int kExitChanges = 1;
constexpr int kExitError = 2;
constexpr int kExitInterrupted = 130;

struct CommonOptions {
  std::vector<std::string> paths;
  std::vector<std::string> phases;
  std::vector<std::string> only;
  std::vector<std::string> skip;
  unsigned jobs = 0;
  int verbosity = 0;
  bool quiet = false;
  std::string color = "auto";
  bool no_expand = false;
  bool no_cache = false;
  std::string format = "text";
  bool interactive = false;  // apply --interactive
  Settings settings;
};

// sqlalchemy=1.4|2.0, fastapi=MAJOR.MINOR[.PATCH].
void add_common_options(CLI::App& command, CommonOptions& options) {
  command.add_option("paths", options.paths, "files or directories (default: .); - reads stdin");
  // One value per occurrence, so `--phase db src/` does not take src/ as a phase.
  command.add_option("--phase", options.phases, "run only this phase (repeatable; default: all)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--only", options.only, "run only these transform IDs (comma-separated)")
      ->delimiter(',')
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--skip", options.skip, "skip these transform IDs (comma-separated)")
      ->delimiter(',')
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--jobs,-j", options.jobs, "worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  command.add_flag("-v,--verbose", options.verbosity, "more detail (repeat for more)");
  command.add_flag("-q,--quiet", options.quiet, "only errors");
  command.add_option("--color", options.color, "colour the diff: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  awaitify::cli::add_pass_settings(command, options.settings.values);
  command.add_flag("--no-cache", options.no_cache,
                   "neither read nor write the index facts kept in .awaitify_cache/");
  command.add_flag("--no-expand", options.no_expand,
                   "never change callers outside PATHS: a function whose callers are outside "
                   "stays sync, and they are listed");
}

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::note:
      return "note";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "note";
}

void report_findings(const FileOutcome& outcome) {
  for (const Finding& finding : outcome.findings) {
    std::string line = finding.path + ":" + std::to_string(finding.position.line) + ":" +
                       std::to_string(finding.position.column) + ": " + finding.id + " " +
                       severity_name(finding.severity) + ": " + finding.message;
    if (finding.severity == Severity::note)
      spdlog::debug("{}", line);
    else
      spdlog::warn("{}", line);
  }
}

std::string colorize(const std::string& diff) {
  std::istringstream lines(diff);
  std::string line, out;
  while (std::getline(lines, line)) {
    const char* color = "";
    if (line.rfind("---", 0) == 0 || line.rfind("+++", 0) == 0)
      color = "\033[1m";
    else if (!line.empty() && line[0] == '-')
      color = "\033[31m";
    else if (!line.empty() && line[0] == '+')
      color = "\033[32m";
    else if (line.rfind("@@", 0) == 0)
      color = "\033[36m";
    out += *color ? std::string(color) + line + "\033[0m\n" : line + "\n";
  }
  return out;
}

struct Totals {
  size_t files = 0, changed = 0, errors = 0, findings = 0, skipped = 0;
  std::map<std::string, int> edits;
  std::map<std::string, size_t> suppressed;  // by rule: `# awaitify: ignore` comments honoured
};

Totals summarize(const std::vector<FileOutcome>& outcomes) {
  Totals totals;
  totals.files = outcomes.size();
  for (const FileOutcome& outcome : outcomes) {
    if (outcome.input_error) spdlog::error("awaitify: error: {}", *outcome.input_error);
    if (outcome.engine_error) spdlog::error("awaitify: error: {}", *outcome.engine_error);
    totals.errors += (outcome.input_error || outcome.engine_error) ? 1 : 0;
    totals.changed += outcome.changed() ? 1 : 0;
    totals.findings += outcome.findings.size();
    totals.skipped += outcome.skipped ? 1 : 0;
    for (const std::string& warning : outcome.directive_warnings) {
      spdlog::warn("awaitify: warning: {}", warning);
    }
    report_findings(outcome);
    for (const auto& [id, count] : outcome.edits_by_transform) totals.edits[id] += count;
  }
  return totals;
}

// "; 2 suppressed (AW201 ×1, AW501 ×1); 1 file skipped", as audit and verify say it.
std::string suppression_notes(const Totals& totals) {
  std::string text, rules;
  size_t total = 0;
  for (const auto& [id, count] : totals.suppressed) {
    rules += (rules.empty() ? "" : ", ") + id + " ×" + std::to_string(count);
    total += count;
  }
  if (total) text += "; " + std::to_string(total) + " suppressed (" + rules + ")";
  if (totals.skipped) {
    text += "; " + std::to_string(totals.skipped) + (totals.skipped == 1 ? " file" : " files") +
            " skipped";
  }
  return text;
}

// The run's project-wide choices, once each (the findings that say them repeat per file).
void report_choices(const std::vector<FileOutcome>& outcomes) {
  std::set<std::string> said;
  for (const FileOutcome& outcome : outcomes) {
    for (const Finding& finding : outcome.findings) {
      std::string line = finding.id + ": " + finding.message;
      if (finding.summary && said.insert(line).second) spdlog::info("awaitify: {}", line);
    }
  }
}

void print_summary(const Totals& totals, const char* verb) {
  std::string per_transform;
  for (const auto& [id, count] : totals.edits) {
    per_transform +=
        (per_transform.empty() ? " (" : ", ") + id + ": " + std::to_string(count) + " edits";
  }
  if (!per_transform.empty()) per_transform += ")";
  spdlog::info("awaitify: {} files checked, {} {}{}, {} findings, {} errors{}", totals.files,
               totals.changed, verb, per_transform, totals.findings, totals.errors,
               suppression_notes(totals));
}

Result<std::vector<const TransformInfo*>> selection_of(const CommonOptions& options) {
  Selection selection;
  selection.phases = options.phases;
  selection.only.insert(options.only.begin(), options.only.end());
  selection.skip.insert(options.skip.begin(), options.skip.end());
  return select_transforms(selection);
}

int run_stdin(const std::vector<const TransformInfo*>& transforms, bool apply) {
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto source = SourceFile::from_bytes("stdin.py", bytes);
  if (!source) {
    spdlog::error("awaitify: error: {}", source.error().message);
    return kExitError;
  }
  auto facts = facts_for(*source);
  if (!facts) {
    spdlog::error("awaitify: error: {}", facts.error().message);
    if (apply) std::cout << bytes;
    return kExitError;
  }
  std::vector<ModuleFacts> modules{*facts};
  ProjectIndex index(std::move(modules));
  Plan plan = build_plan(index, collect_seeds(index, transforms, {"stdin.py"}, 1), PlanOptions{});
  FileOutcome outcome = transform_source(*source, index, plan, transforms);
  Totals totals = summarize({outcome});
  totals.suppressed = count_suppressed(plan, {outcome});
  if (apply)
    std::cout << (outcome.changed() ? outcome.result_bytes() : bytes);
  else
    std::cout << unified_diff("stdin.py", source->text(), outcome.result);
  if (totals.errors) return kExitError;
  return (!apply && outcome.changed()) ? kExitChanges : kExitOk;
}

enum class Mode { diff, apply, plan };

// The selected files and the rest of their project (indexed, written only when pulled in).
Result<std::pair<std::vector<std::string>, std::vector<std::string>>> files_and_context(
    const std::vector<std::string>& paths) {
  auto files = discover(paths);
  if (!files) return files.error();
  std::string root = find_project_root(paths);
  std::vector<std::string> unreadable;
  auto context = discover_project(root, unreadable);
  if (!context) return context.error();
  // The run goes on without them, but never silently: callers there are not seen.
  for (const std::string& warning : unreadable) spdlog::warn("awaitify: warning: {}", warning);
  std::vector<std::string> rest = std::move(*context);
  spdlog::debug("awaitify: {} Python files selected, {} in the project at {}", files->size(),
                rest.size(), root);
  return std::make_pair(std::move(*files), std::move(rest));
}

int print_plan(const RunResult& result, const CommonOptions& options) {
  std::cout << (options.format == "json" ? result.plan.to_json() : result.plan.describe());
  return kExitOk;
}

void report_pulled_in(const Plan& plan, bool apply) {
  for (const std::string& path : plan.pulled_in()) {
    spdlog::warn(
        "awaitify: {} is outside the selected paths but {}: callers there must await "
        "functions made async, or it shares a session with the selected code "
        "(`awaitify plan` says which; --no-expand refuses instead)",
        path, apply ? "was changed" : "would change");
  }
}

// `[tool.awaitify]` of the nearest pyproject.toml, under the command line: its phases, only and
// skip apply when the command line names none, its settings unless a flag overrides them.
// Verify rule IDs in only/skip concern audit/verify/check, not the rewrites.
Result<CommonOptions> with_config(const CommonOptions& options,
                                  const std::vector<std::string>& paths, Config& config) {
  auto found = find_config(paths);
  if (!found) return found.error();
  config = *found;
  if (!config.path.empty()) spdlog::debug("awaitify: configuration from {}", config.path);
  CommonOptions merged = options;
  if (merged.phases.empty()) merged.phases = config.phases;
  auto transform_ids = [](const std::vector<std::string>& ids) {
    std::vector<std::string> kept;
    for (const std::string& id : ids) {
      if (!is_verify_rule(id)) kept.push_back(id);
    }
    return kept;
  };
  if (merged.only.empty()) merged.only = transform_ids(config.only);
  if (merged.skip.empty()) merged.skip = transform_ids(config.skip);
  Settings settings;
  settings.values = config.settings;
  for (const auto& [key, value] : options.settings.values) settings.values[key] = value;
  merged.settings = settings;
  return merged;
}

// `awaitify: indexing 1200/1600 files` on one line of a terminal, rewritten in place.
void print_progress(const char* stage, size_t done, size_t total) {
  if (done != total && done % 50 != 0) return;
  std::cerr << "\r\033[Kawaitify: " << stage << " " << done << "/" << total << " files"
            << std::flush;
}

// "2 of 3 change sets applied, 1 rejected", and why sets were left unasked.
void report_review(const cli::Review& review) {
  std::string stopped;
  if (review.stopped) {
    stopped = review.accepted ? " (the review stopped early: only the sets accepted were written)"
                              : " (the review stopped early: nothing written)";
  }
  spdlog::info("awaitify: {} of {} change sets applied, {} rejected{}", review.accepted,
               review.sets, review.rejected, stopped);
}

std::string bytes_on_disk(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A file the run would write whose bytes are no longer those the review showed (edited while
// it was open). Checked for every file before any is written: a set may span several files,
// and writing some of them would split it.
std::optional<std::string> changed_since_review(const cli::Review& review,
                                                const std::vector<FileOutcome>& outcomes) {
  for (const FileOutcome& outcome : outcomes) {
    auto shown = review.originals.find(outcome.path);
    if (shown != review.originals.end() && shown->second != outcome.original.bytes())
      return outcome.path;
    if (outcome.changed() && bytes_on_disk(outcome.path) != outcome.original.bytes())
      return outcome.path;
  }
  return std::nullopt;
}

// apply --interactive: asks about each change set of `result` (the run with nothing held), then
// replaces it by the run that holds the rejected sets, the one to write. An exit code when the
// command ends here with nothing written: Ctrl-C, no set accepted, a file edited meanwhile.
std::optional<int> review_and_rerun(const std::vector<std::string>& selected,
                                    const std::vector<const TransformInfo*>& transforms,
                                    const RunOptions& run_options, bool color, RunResult& result,
                                    cli::Review& review) {
  RunOptions quiet_options = run_options;
  quiet_options.progress = {};
  auto run_held = [&](const std::set<std::string>& held) {
    RunOptions held_options = quiet_options;
    held_options.held = held;
    return run(selected, transforms, held_options);
  };
  auto style = [color](const std::string& diff) { return color ? colorize(diff) : diff; };
  cli::ReviewIo io{std::cin, std::cout, style, !::isatty(STDIN_FILENO)};
  review = cli::review_change_sets(result, run_held, io);
  if (review.interrupted) {
    spdlog::error("awaitify: interrupted: nothing written");
    return kExitInterrupted;
  }
  if (review.accepted == 0) {
    // Files that could not be read or parsed are still reported, and still an input error.
    Totals totals = summarize(result.outcomes);
    if (review.sets == 0)
      spdlog::info("awaitify: nothing to change");
    else
      report_review(review);
    return totals.errors ? kExitError : kExitOk;
  }
  if (!review.held.empty()) result = run_held(review.held);
  if (interrupted()) {
    spdlog::error("awaitify: interrupted: nothing written");
    return kExitInterrupted;
  }
  if (auto path = changed_since_review(review, result.outcomes)) {
    spdlog::error("awaitify: error: {} changed on disk during the review; nothing written", *path);
    return kExitError;
  }
  return std::nullopt;
}

int run_files(const CommonOptions& command_line, Mode mode) {
  bool apply = mode == Mode::apply;
  std::vector<std::string> config_paths =
      command_line.paths.empty() || command_line.paths == std::vector<std::string>{"-"}
          ? std::vector<std::string>{"."}
          : command_line.paths;
  Config config;
  auto configured = with_config(command_line, config_paths, config);
  if (!configured) {
    spdlog::error("awaitify: error: {}", configured.error().message);
    return kExitError;
  }
  const CommonOptions& options = *configured;
  auto transforms = selection_of(options);
  if (!transforms) {
    spdlog::error("awaitify: error: {}", transforms.error().message);
    return kExitError;
  }
  std::vector<std::string> paths =
      options.paths.empty() ? std::vector<std::string>{"."} : options.paths;
  if (paths == std::vector<std::string>{"-"}) {
    if (options.interactive) {
      spdlog::error(
          "awaitify: error: --interactive reads its answers on stdin, so it cannot read the "
          "source there too: give the file's path instead of -");
      return kExitError;
    }
    return run_stdin(*transforms, apply);
  }
  auto files = files_and_context(paths);
  if (!files) {
    spdlog::error("awaitify: error: {}", files.error().message);
    return kExitError;
  }
  if (apply) install_interrupt_handlers();
  std::vector<std::string> selected = config.filter(files->first);
  if (selected.empty()) {
    spdlog::error("awaitify: error: every Python file under the paths is excluded by {}",
                  config.path);
    return kExitError;
  }
  RunOptions run_options{options.jobs, !options.no_expand, files->second, options.settings, {}};
  std::unique_ptr<FactsCache> cache;
  if (!options.no_cache) cache = std::make_unique<FactsCache>(find_project_root(paths));
  run_options.cache = cache.get();
  // The review compares every file's text between runs; diff and apply need changed ones only.
  run_options.keep_unchanged_texts = options.interactive;
  bool show_progress =
      !options.quiet && ::isatty(STDERR_FILENO) && files->second.size() + selected.size() > 200;
  if (show_progress) run_options.progress = print_progress;
  RunResult result = run(selected, *transforms, run_options);
  if (show_progress) std::cerr << "\r\033[K" << std::flush;
  if (cache && !interrupted()) cache->prune();
  if (mode == Mode::plan) return print_plan(result, options);
  bool color = options.color == "always" || (options.color == "auto" && ::isatty(STDOUT_FILENO));
  std::optional<cli::Review> review;
  if (options.interactive) {
    review.emplace();
    auto ended = review_and_rerun(selected, *transforms, run_options, color, result, *review);
    if (ended) return *ended;
  }
  const std::vector<FileOutcome>& outcomes = result.outcomes;
  Totals totals = summarize(outcomes);
  totals.suppressed = count_suppressed(result.plan, outcomes);
  report_pulled_in(result.plan, apply);
  size_t written = 0;
  for (const FileOutcome& outcome : outcomes) {
    if (!outcome.changed()) continue;
    if (!apply) {
      std::string diff = unified_diff(outcome.path, outcome.original.text(), outcome.result);
      std::cout << (color ? colorize(diff) : diff);
      continue;
    }
    if (interrupted()) {
      spdlog::error("awaitify: interrupted: {} files written, the rest untouched", written);
      return kExitInterrupted;
    }
    Status status =
        write_atomically(outcome.path, outcome.original.bytes(), outcome.result_bytes());
    if (!status) {
      spdlog::error("awaitify: error: {}", status.error().message);
      ++totals.errors;
    } else {
      ++written;
    }
  }
  std::cout.flush();
  report_choices(outcomes);
  print_summary(totals, apply ? "changed" : "would change");
  if (review) report_review(*review);
  if (totals.errors) return kExitError;
  return (!apply && totals.changed) ? kExitChanges : kExitOk;
}

int list_transforms() {
  for (const PhaseInfo& phase : phase_table()) {
    bool any_written = false;
    for (const TransformInfo& transform : transform_table()) {
      any_written |= transform.phase == phase.name && transform.implemented();
    }
    std::cout << phase.name << (any_written ? "" : " (planned)") << " — " << phase.summary << "\n";
    for (const TransformInfo& transform : transform_table()) {
      if (transform.phase != phase.name) continue;
      std::cout << "  " << transform.id << "  " << (transform.implemented() ? "ready  " : "planned")
                << "  " << transform.summary << "\n";
    }
  }
  return kExitOk;
}

int explain_transform(const std::string& id) {
  const TransformInfo* transform = find_transform(id);
  if (!transform) {
    std::cerr << "awaitify: error: unknown transform ID '" << id << "' (see 'awaitify list')\n";
    return kExitError;
  }
  std::cout << transform->id << " (" << transform->phase << ", "
            << (transform->implemented() ? "ready" : "planned") << "): " << transform->summary
            << "\n\n"
            << transform->explain << "\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"awaitify: migrates synchronous FastAPI applications to async code, phase by phase"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "awaitify 0.1.0");
  CommonOptions diff_options, apply_options, plan_options;
  CLI::App* diff = app.add_subcommand("diff", "dry run: unified diff on stdout, summary on stderr");
  add_common_options(*diff, diff_options);
  CLI::App* apply =
      app.add_subcommand("apply", "edit files in place (atomically), summary on stderr");
  add_common_options(*apply, apply_options);
  apply->add_flag("--interactive", apply_options.interactive,
                  "show one change set at a time (a function made async with every await and "
                  "import it needs) and apply only those accepted: y, n, a(ll), q(uit)");
  CLI::App* plan = app.add_subcommand(
      "plan",
      "the async closure as a tree: which functions become async and why, and where it stops");
  add_common_options(*plan, plan_options);
  plan->add_option("--format", plan_options.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_subcommand("list", "phases and transforms with their IDs and one-line summaries");
  std::string explain_id;
  CLI::App* explain =
      app.add_subcommand("explain", "a transform's before/after, conditions and limits");
  explain->add_option("ID", explain_id, "transform ID, e.g. AW501")->required();
  awaitify::cli::ReportCommands report_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitError;
  }
  if (app.got_subcommand("list")) return list_transforms();
  if (app.got_subcommand("explain")) return explain_transform(explain_id);
  if (auto code = report_commands.run()) return *code;
  const CommonOptions& options = diff->parsed()    ? diff_options
                                 : apply->parsed() ? apply_options
                                                   : plan_options;
  cli::configure_logging(options.quiet, options.verbosity);
  return run_files(options, diff->parsed()    ? Mode::diff
                            : apply->parsed() ? Mode::apply
                                              : Mode::plan);
}
