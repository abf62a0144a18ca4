#include "awaitify/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>

#include "awaitify/facts_cache.hpp"
#include "awaitify/ignore_edits.hpp"
#include "awaitify/parallel.hpp"
#include "awaitify/syntax.hpp"
#include "awaitify/tree_memory.hpp"
#include "awaitify/word_search.hpp"

namespace awaitify {

namespace {

// Wall time of the run's stages, reported with -vv.
class Stopwatch {
 public:
  // Seconds since the start or the previous lap.
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// The passes' trigger words, all looked for in one reading of the text (word_search.hpp), only
// when a pass asks. The search is built once per thread for the run's list of passes.
class TriggerWords {
 public:
  explicit TriggerWords(const std::vector<const TransformInfo*>& transforms)
      : words_(words_of(transforms)) {}

  // Forgets what it found: the text changed.
  void read(std::string_view text) {
    text_ = text;
    found_.reset();
  }

  // Whether the text read holds one of the transform's triggers (true when it has none).
  bool triggered(const TransformInfo& transform) {
    if (transform.triggers.empty()) return true;
    if (!found_) found_ = words_->search.find_in(text_);
    auto at = std::find(words_->transforms.begin(), words_->transforms.end(), &transform);
    const std::vector<size_t>& ids = words_->ids.at(at - words_->transforms.begin());
    return std::any_of(ids.begin(), ids.end(), [&](size_t id) { return (*found_)[id]; });
  }

 private:
  struct Words {
    std::vector<const TransformInfo*> transforms;
    std::vector<std::vector<std::string>> triggers;  // each transform's, when built
    WordSearch search;
    std::vector<std::vector<size_t>> ids;  // each transform's words, in search.words()

    // Passes are compared by their words too: a test's pass may have the address of another.
    bool built_for(const std::vector<const TransformInfo*>& others) const {
      if (others != transforms) return false;
      for (size_t i = 0; i < others.size(); ++i) {
        if (others[i]->triggers != triggers[i]) return false;
      }
      return true;
    }
  };

  // Shared: a run on this thread with other passes, while this one is in use, builds anew.
  static std::shared_ptr<const Words> words_of(
      const std::vector<const TransformInfo*>& transforms) {
    thread_local std::shared_ptr<const Words> built;
    if (built && built->built_for(transforms)) return built;
    std::vector<std::string> words;
    std::vector<std::vector<std::string>> triggers;
    std::vector<std::vector<size_t>> ids;
    for (const TransformInfo* transform : transforms) {
      triggers.push_back(transform->triggers);
      ids.emplace_back();
      for (const std::string& word : transform->triggers) {
        auto known = std::find(words.begin(), words.end(), word);
        ids.back().push_back(static_cast<size_t>(known - words.begin()));
        if (known == words.end()) words.push_back(word);
      }
    }
    built = std::make_shared<const Words>(
        Words{transforms, std::move(triggers), WordSearch(words), std::move(ids)});
    return built;
  }

  std::shared_ptr<const Words> words_;
  std::string_view text_;
  std::optional<std::vector<bool>> found_;
};

std::string syntax_error_message(const SourceFile& source, TSNode error) {
  Position at = source.position(ts_node_start_byte(error));
  std::string what = ts_node_is_missing(error) ? std::string("missing ") + ts_node_type(error)
                                               : std::string("invalid syntax");
  return source.path() + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
         ": syntax error (" + what + "); file left unchanged";
}

// A tests-phase transform that seeds the closure (AW802) makes the tests and fixtures it
// reaches async with their pytest marker; only then may they join the closure.
bool tests_join_closure(const std::vector<const TransformInfo*>& transforms) {
  return std::any_of(transforms.begin(), transforms.end(), [](const TransformInfo* transform) {
    return transform->phase == "tests" && transform->implemented() && transform->seeds;
  });
}

const ModuleFacts& empty_facts() {
  static const ModuleFacts facts;
  return facts;
}

// Names the ignored lines whose edits a pass dropped by the comment's line in the file as read,
// as the plan names them: passes move lines, not comments, so the k-th directive now is the
// k-th directive then.
void record_suppressed(const std::set<std::pair<std::string, uint32_t>>& dropped,
                       const std::vector<uint32_t>& now, const std::vector<uint32_t>& then,
                       FileOutcome& outcome) {
  for (const auto& [rule, line] : dropped) {
    auto at = std::find(now.begin(), now.end(), line);
    bool same = at != now.end() && now.size() == then.size();
    uint32_t original = same ? then[at - now.begin()] : line;
    outcome.suppressed.insert({rule, outcome.path + ":" + std::to_string(original)});
  }
}

}  // namespace

Result<std::vector<const TransformInfo*>> select_transforms(const Selection& selection) {
  for (const std::string& phase : selection.phases) {
    const auto& phases = phase_table();
    bool known = std::any_of(phases.begin(), phases.end(),
                             [&](const PhaseInfo& info) { return info.name == phase; });
    if (!known) return Error{"unknown phase '" + phase + "' (see 'awaitify list')"};
  }
  for (const auto* ids : {&selection.only, &selection.skip}) {
    for (const std::string& id : *ids) {
      if (!find_transform(id))
        return Error{"unknown transform ID '" + id + "' (see 'awaitify list')"};
    }
  }
  std::vector<const TransformInfo*> selected;
  for (const TransformInfo& transform : transform_table()) {
    bool in_phase = selection.phases.empty() ||
                    std::find(selection.phases.begin(), selection.phases.end(), transform.phase) !=
                        selection.phases.end();
    bool in_only = selection.only.empty() || selection.only.count(transform.id);
    if (in_phase && in_only && !selection.skip.count(transform.id)) selected.push_back(&transform);
  }
  return selected;
}

std::string FileOutcome::result_bytes() const {
  return original.has_bom() ? "\xEF\xBB\xBF" + result : result;
}

namespace {

Result<ModuleFacts> parse_and_extract(const SourceFile& source,
                                      const std::vector<const TransformInfo*>& transforms) {
  TreeMemoryScope tree_memory;  // before the parser and the tree: it outlives them
  Parser parser;
  auto tree = parser.parse(source.text());
  if (!tree) return Error{source.path() + ": " + tree.error().message};
  if (auto error = first_syntax_error(tree->root())) {
    return Error{syntax_error_message(source, *error)};
  }
  ModuleFacts facts = extract_facts(source, tree->root());
  for (const TransformInfo* transform : transforms) {
    if (transform->read_with_tree) transform->read_with_tree(facts, source.text(), tree->root());
  }
  return facts;
}

}  // namespace

Result<ModuleFacts> facts_for(const SourceFile& source) {
  return parse_and_extract(source, {});
}

Result<ModuleFacts> facts_for(const SourceFile& source, FactsCache* cache,
                              const std::vector<const TransformInfo*>& transforms) {
  if (cache) {
    if (auto cached = cache->load(source)) return std::move(*cached);
  }
  auto extracted = parse_and_extract(source, transforms);
  if (!cache) return extracted;
  // Only facts are stored: a file that does not parse is parsed again, and reported, each run.
  if (extracted) cache->store(source, *extracted);
  return extracted;
}

FileOutcome transform_source(const SourceFile& source, const ProjectIndex& index, const Plan& plan,
                             const std::vector<const TransformInfo*>& selected,
                             const Settings& settings) {
  TreeMemoryScope tree_memory;  // before the parser and the trees: it outlives them
  // The closure pass runs last, after every seeding pass, whenever the plan has work (as
  // selected, when it is).
  std::vector<const TransformInfo*> transforms;
  const TransformInfo* closure = plan.empty() ? nullptr : &closure_transform();
  for (const TransformInfo* transform : selected) {
    if (transform->id == closure_transform().id)
      closure = transform;
    else
      transforms.push_back(transform);
  }
  if (closure) transforms.push_back(closure);
  FileOutcome outcome{source.path(), source, source.text(), {}, {}, {}, {}, false, {}, {}};
  const ModuleFacts* facts = index.module_for_path(source.path());
  Suppressions comments = comments_of(source, facts);
  outcome.directive_warnings = comments.warnings(source.path());
  // No pass touches it; the plan keeps its functions as they are (plan.cpp).
  if (comments.skip_file()) {
    outcome.skipped = true;
    return outcome;
  }
  const std::vector<uint32_t> directive_lines = comments.lines();
  TriggerWords triggers(transforms);
  triggers.read(source.text());
  Parser parser;
  std::optional<Tree> tree;
  // The text as the passes left it: the source itself until one changes it (no copy).
  std::optional<SourceFile> edited;
  const SourceFile* current = &source;
  // Facts of this very text (two files of one module name share an entry in the index): until
  // a pass changes the file, they tell which passes cannot apply without parsing it.
  bool own_facts = facts && facts->path == source.path();
  for (const TransformInfo* transform : transforms) {
    if (!transform->implemented() || !triggers.triggered(*transform)) continue;
    if (!transform->enabled_by.empty() && !settings.flag(transform->enabled_by)) continue;
    if (own_facts && transform->applies && !transform->applies(*facts, index, plan)) continue;
    // A pass that tells from the facts what it reports on a file it leaves unchanged is not
    // run there, nor the file parsed for it.
    if (own_facts && transform->report_from_facts) {
      if (auto findings = transform->report_from_facts(source, *facts, index, plan)) {
        drop_ignored_findings(transform->id, comments, *findings);
        outcome.findings.insert(outcome.findings.end(), findings->begin(), findings->end());
        continue;
      }
    }
    if (!tree) {
      auto parsed = parser.parse(current->text());
      if (!parsed) {
        outcome.input_error = source.path() + ": " + parsed.error().message;
        return outcome;
      }
      tree.emplace(std::move(*parsed));
    }
    FileContext context{*current,  tree->root(), facts ? *facts : empty_facts(), index, plan,
                        &settings, &selected,    own_facts ? facts : nullptr};
    PassResult pass = transform->run(context);
    if (!comments.empty()) {
      std::set<std::pair<std::string, uint32_t>> dropped;
      honour_ignores(transform->id, *current, tree->root(), comments, pass, dropped);
      record_suppressed(dropped, comments.lines(), directive_lines, outcome);
    }
    outcome.findings.insert(outcome.findings.end(), pass.findings.begin(), pass.findings.end());
    if (pass.edits.empty()) continue;
    EditSet edits;
    Status added = edits.add_all(pass.edits);
    auto applied = added ? edits.apply(current->text()) : Result<std::string>(added.error());
    if (!applied) {
      outcome.engine_error = source.path() + ": " + transform->id + ": " + applied.error().message;
      return outcome;
    }
    // Only what the edits touched is parsed again: the passes' edits are small ('async ',
    // 'await ', a name), and the file's first parse is most of the work.
    auto reparsed = parser.reparse(std::move(*tree), *current, edits.edits(), *applied);
    if (!reparsed || count_syntax_errors(reparsed->root()) > 0) {
      outcome.engine_error = source.path() + ": engine bug: " + transform->id +
                             " produced code that does not parse; file left unchanged";
      return outcome;
    }
    outcome.edits_by_transform[transform->id] += static_cast<int>(pass.edits.size());
    edited.emplace(source.path(), std::move(*applied), source.has_bom());
    current = &*edited;
    triggers.read(current->text());
    own_facts = false;
    tree.emplace(std::move(*reparsed));
    // The comments' lines move with the code an earlier pass added above them.
    if (!comments.empty()) comments = Suppressions::from_tree(tree->root(), current->text());
  }
  if (edited) outcome.result = edited->text();
  return outcome;
}

std::map<std::string, size_t> count_suppressed(const Plan& plan,
                                               const std::vector<FileOutcome>& outcomes) {
  std::set<std::pair<std::string, std::string>> items = plan.suppressed();
  for (const FileOutcome& outcome : outcomes)
    items.insert(outcome.suppressed.begin(), outcome.suppressed.end());
  std::map<std::string, size_t> counts;
  for (const auto& [rule, at] : items) ++counts[rule];
  return counts;
}

std::vector<Seed> collect_seeds(const ProjectIndex& index,
                                const std::vector<const TransformInfo*>& transforms,
                                const std::set<std::string>& selected_paths, unsigned jobs,
                                const Settings& settings) {
  // Each transform's seeds read the index only: they are found side by side, kept in order.
  // Transforms that share a seed function (the db phase's passes share one) get its answer,
  // found once: it depends on nothing but the index, the settings and the scope.
  using SeedPointer = std::vector<Seed> (*)(const ProjectIndex&, const Settings&, const SeedScope&);
  std::vector<size_t> found_by(transforms.size());
  for (size_t i = 0; i < transforms.size(); ++i) {
    found_by[i] = i;
    const SeedPointer* pointer =
        transforms[i]->seeds ? transforms[i]->seeds.target<SeedPointer>() : nullptr;
    for (size_t j = 0; pointer && j < i; ++j) {
      const SeedPointer* earlier =
          transforms[j]->seeds ? transforms[j]->seeds.target<SeedPointer>() : nullptr;
      if (earlier && *earlier == *pointer) {
        found_by[i] = j;
        break;
      }
    }
  }
  std::vector<std::vector<Seed>> found(transforms.size());
  parallel_for(transforms.size(), jobs, [&](size_t i) {
    if (transforms[i]->seeds && found_by[i] == i)
      found[i] = transforms[i]->seeds(index, settings, {&selected_paths, jobs});
  });
  for (size_t i = 0; i < transforms.size(); ++i)
    if (found_by[i] != i) found[i] = found[found_by[i]];
  std::vector<Seed> seeds;
  std::set<std::string> grouped;
  for (std::vector<Seed>& offered : found) {
    // A group comes in whole when one of its members is in the selected paths.
    std::set<std::string> selected_groups;
    auto selected = [&](const Seed& seed) {
      const FunctionFacts* fn = index.function(seed.function);
      return fn && selected_paths.count(index.path_of(*fn)) > 0;
    };
    for (const Seed& seed : offered) {
      if (!seed.group.empty() && selected(seed)) selected_groups.insert(seed.group);
    }
    for (Seed& seed : offered) {
      bool wanted = seed.group.empty() ? selected(seed) : selected_groups.count(seed.group) > 0;
      // Passes of one phase may offer the same group (each can run alone): keep it once.
      if (wanted && !seed.group.empty() &&
          !grouped.insert(seed.function + "\n" + seed.group).second)
        continue;
      if (wanted) seeds.push_back(std::move(seed));
    }
  }
  return seeds;
}

namespace {

// Serialises progress reports from the worker threads.
class Progress {
 public:
  Progress(const RunOptions& options, const char* stage, size_t total)
      : report_(options.progress), stage_(stage), total_(total) {}
  void step() {
    if (!report_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    report_(stage_, ++done_, total_);
  }

 private:
  const std::function<void(const char*, size_t, size_t)>& report_;
  const char* stage_;
  size_t total_;
  size_t done_ = 0;
  std::mutex mutex_;
};

}  // namespace

namespace {

// An unchanged file's outcome keeps its path, findings and notes; its text goes (both copies).
void release_unchanged_text(FileOutcome& outcome) {
  if (outcome.changed() || outcome.input_error || outcome.engine_error) return;
  // Swapped out, not assigned: assigning an empty string keeps the old capacity.
  SourceFile emptied(outcome.path, std::string(), outcome.original.has_bom());
  std::swap(outcome.original, emptied);
  std::string().swap(outcome.result);
}

// The plan over an index, then the passes over the selected files and those the plan pulls in.
// A source not read yet (a context file, or every file when the index was given) is read now.
RunResult plan_and_rewrite(const std::vector<std::string>& paths,
                           const std::vector<std::string>& all,
                           std::vector<std::optional<SourceFile>>& sources,
                           const std::vector<std::optional<uint64_t>>& indexed_hashes,
                           const std::vector<size_t>& text_sizes, std::vector<std::string>& errors,
                           const ProjectIndex& index,
                           const std::vector<const TransformInfo*>& transforms,
                           const RunOptions& options) {
  RunResult result;
  std::set<std::string> selected(paths.begin(), paths.end());
  PlanOptions plan_options{selected, options.expand};
  plan_options.tests_join_closure = tests_join_closure(transforms);
  plan_options.held = options.held;
  Stopwatch planning;
  std::vector<Seed> seeds =
      collect_seeds(index, transforms, selected, options.jobs, options.settings);
  double seeding = planning.lap();
  result.plan = build_plan(index, std::move(seeds), plan_options);
  spdlog::debug("awaitify: seeds {:.2f} s, plan {:.2f} s", seeding, planning.lap());
  std::vector<size_t> chosen;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i < paths.size() || result.plan.pulled_in().count(all[i])) chosen.push_back(i);
  }
  // Only the files that could not be indexed are still held: those of context files that the
  // plan leaves alone go now.
  for (size_t i = paths.size(); i < all.size(); ++i) {
    if (!result.plan.pulled_in().count(all[i])) sources[i].reset();
  }
  result.outcomes.resize(chosen.size());
  Stopwatch rewriting_time;
  Progress rewriting(options, "rewriting", chosen.size());
  // The largest files first: the work on a file grows with its size, and a large file taken
  // last would keep one core busy after the others ran out of files.
  std::vector<size_t> order(chosen.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return text_sizes[chosen[a]] > text_sizes[chosen[b]];
  });
  parallel_for(chosen.size(), options.jobs, [&](size_t n) {
    struct Step {
      Progress& progress;
      ~Step() { progress.step(); }
    } step{rewriting};
    size_t k = order[n];
    size_t i = chosen[k];
    if (!sources[i] && errors[i].empty()) {
      auto source = SourceFile::load(all[i]);
      if (!source)
        errors[i] = source.error().message;
      else if (indexed_hashes[i] && content_hash(*source) != *indexed_hashes[i])
        errors[i] = all[i] + ": changed on disk since it was read; not overwritten";
      else
        sources[i] = std::move(*source);
    }
    if (!errors[i].empty()) {
      FileOutcome& outcome = result.outcomes[k];
      outcome.path = all[i];
      if (sources[i]) outcome.original = std::move(*sources[i]);
      outcome.result = outcome.original.text();
      outcome.input_error = errors[i];
      return;
    }
    result.outcomes[k] =
        transform_source(*sources[i], index, result.plan, transforms, options.settings);
    if (!options.keep_unchanged_texts) release_unchanged_text(result.outcomes[k]);
    sources[i].reset();
  });
  spdlog::debug("awaitify: rewrote {} files in {:.2f} s", chosen.size(), rewriting_time.lap());
  return result;
}

}  // namespace

RunResult run(const std::vector<std::string>& paths,
              const std::vector<const TransformInfo*>& transforms, const RunOptions& options) {
  std::set<std::string> selected(paths.begin(), paths.end());
  std::vector<std::string> all = paths;
  for (const std::string& path : options.context_paths) {
    if (!selected.count(path)) all.push_back(path);
  }
  // With an index of these files given, only the selected files are read here (their facts
  // for the error a file that cannot be parsed gets), the others when the plan pulls them in.
  size_t to_read = options.index ? paths.size() : all.size();
  std::vector<std::optional<SourceFile>> sources(all.size());
  std::vector<std::optional<ModuleFacts>> facts(all.size());
  std::vector<std::string> errors(all.size());
  // The texts are not held from here to the rewriting (peak memory): a file is read again
  // then, and must still be the text its facts came from.
  std::vector<std::optional<uint64_t>> indexed_hashes(all.size());
  std::vector<size_t> text_sizes(all.size(), 0);  // of the files read here: the rewriting's order
  Stopwatch indexing_time;
  Progress indexing(options, "indexing", to_read);
  parallel_for(to_read, options.jobs, [&](size_t i) {
    struct Step {
      Progress& progress;
      ~Step() { progress.step(); }
    } step{indexing};
    auto source = SourceFile::load(all[i]);
    if (!source) {
      errors[i] = source.error().message;
      return;
    }
    auto extracted = facts_for(*source, options.cache, transforms);
    if (!extracted) {
      errors[i] = extracted.error().message;
      sources[i] = std::move(*source);  // the outcome shows it as read
      return;
    }
    facts[i] = std::move(*extracted);
    indexed_hashes[i] = content_hash(*source);
    text_sizes[i] = source->text().size();
  });
  if (options.index) {
    return plan_and_rewrite(paths, all, sources, indexed_hashes, text_sizes, errors, *options.index,
                            transforms, options);
  }
  std::vector<ModuleFacts> modules;
  for (auto& module : facts) {
    if (module) modules.push_back(std::move(*module));
  }
  double reading = indexing_time.lap();
  ProjectIndex index(std::move(modules), options.jobs);
  spdlog::debug("indexed {} files ({} selected): facts {:.2f} s, index {:.2f} s", all.size(),
                paths.size(), reading, indexing_time.lap());
  if (options.cache) {
    spdlog::debug("awaitify: index facts in {}: {} from the cache, {} extracted (this run so far)",
                  options.cache->directory(), options.cache->hits(), options.cache->misses());
  }
  return plan_and_rewrite(paths, all, sources, indexed_hashes, text_sizes, errors, index,
                          transforms, options);
}

}  // namespace awaitify
