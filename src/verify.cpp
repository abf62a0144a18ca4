#include "awaitify/verify.hpp"

#include <algorithm>
#include <functional>

#include "awaitify/async_api.hpp"
#include "awaitify/calls.hpp"
#include "awaitify/knowledge.hpp"
#include "awaitify/ratchet.hpp"
#include "awaitify/rewrite.hpp"

namespace awaitify {

namespace {

constexpr const char* kSyncPathOperation = "AWV001";
constexpr const char* kSyncDependency = "AWV002";
constexpr const char* kNotAwaited = "AWV003";
constexpr const char* kBlocking = "AWV004";
constexpr const char* kSyncWith = "AWV005";
constexpr const char* kSyncTestClient = "AWV006";
constexpr const char* kNoMarker = "AWV007";
constexpr const char* kSyncMiddleware = "AWV008";
constexpr const char* kLazyLoad = "AWV009";
constexpr const char* kRegressed = "AWV010";

std::string short_name(const std::string& qualified) {
  return qualified.substr(qualified.rfind('.') + 1);
}

// What holds for the whole project, computed once per run.
struct ProjectFacts {
  std::string async_test;  // "path:line name" of an async test, or empty
  bool async_app = false;  // some path operation is async
  bool uses_anyio = false;
};

ProjectFacts project_facts(const ProjectView& project) {
  ProjectFacts facts;
  const ProjectIndex& index = project.index();
  for (const FunctionFacts* fn : index.functions()) {
    if (fn->is_async && !facts.async_app && index.is_path_operation(*fn)) facts.async_app = true;
    for (const std::string& decorator : fn->decorators)
      facts.uses_anyio |= decorator == "pytest.mark.anyio";
    facts.uses_anyio |= fn->name() == "anyio_backend";
    std::string path = index.path_of(*fn);
    if (fn->is_async && facts.async_test.empty() && is_test_path(path)) {
      auto roles = index.roles(*fn);
      if (std::find(roles.begin(), roles.end(), "test") != roles.end()) {
        facts.async_test = path + ":" + std::to_string(fn->line) + " " + fn->name();
      }
    }
  }
  return facts;
}

bool has_role(const std::vector<std::string>& roles, const char* role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

enum class WithKind { none, sync, async };

// Whether a call is the context manager of a `with` item, and of which kind of `with`.
WithKind with_kind(TSNode call) {
  TSNode up = ts_node_parent(call);
  if (is(up, "as_pattern")) up = ts_node_parent(up);
  if (!is(up, "with_item")) return WithKind::none;
  TSNode statement =
      ts_node_parent(ts_node_parent(up));  // with_item -> with_clause -> with_statement
  if (!is(statement, "with_statement")) return WithKind::none;
  return is(ts_node_child(statement, 0), "async") ? WithKind::async : WithKind::sync;
}

TSNode skip_parentheses_up(TSNode node, TSNode* child) {
  TSNode parent = ts_node_parent(node);
  *child = node;
  while (is(parent, "parenthesized_expression")) {
    *child = parent;
    parent = ts_node_parent(parent);
  }
  return parent;
}

// Whether a later use of `name` in the scope hands the coroutine on (awaits, passes, returns or
// stores it) rather than using it as if it were the result.
// consumes(call): the call takes an argument as a plain value (print, json.dumps): passing a
// coroutine there does not hand it on to something that may await it.
using Consumes = std::function<bool(TSNode call)>;

bool handed_on_later(const std::string& name, TSNode body, uint32_t after, std::string_view src,
                     bool async_scope, const Consumes& consumes) {
  bool handed = false;
  walk(body, [&](TSNode node) {
    if (handed) return false;
    if (!is(node, "identifier") || ts_node_start_byte(node) < after || node_text(node, src) != name)
      return true;
    TSNode child;
    TSNode parent = skip_parentheses_up(node, &child);
    static const char* const kHandOn[] = {"await",
                                          "argument_list",
                                          "keyword_argument",
                                          "return_statement",
                                          "yield",
                                          "list",
                                          "tuple",
                                          "set",
                                          "pair",
                                          "list_splat",
                                          "expression_list",
                                          "assignment",
                                          "lambda"};
    bool hands_on = false;
    for (const char* type : kHandOn) hands_on |= is(parent, type);
    if (is(parent, "assignment") && ts_node_eq(field(parent, "left"), child))
      hands_on = false;  // rebound
    TSNode arguments = is(parent, "keyword_argument") ? ts_node_parent(parent) : parent;
    if (is(arguments, "argument_list") && consumes(ts_node_parent(arguments))) hands_on = false;
    // An async def that returns the coroutine unawaited gives its caller a coroutine of a
    // coroutine.
    if (async_scope && is(parent, "return_statement")) hands_on = false;
    handed |= hands_on;
    return true;
  });
  return handed;
}

// How a coroutine call that is not awaited is misused, or nullopt when it is handed on (stored,
// passed along) and may be awaited elsewhere.
std::optional<std::string> coroutine_misuse(TSNode call, TSNode body, std::string_view src,
                                            bool async_scope, const Consumes& consumes) {
  TSNode child;
  TSNode parent = skip_parentheses_up(call, &child);
  if (is(parent, "expression_statement")) return "its result is discarded, so it never runs";
  // A sync def may hand a coroutine to its caller; an async def returning one is a forgotten await.
  if (is(parent, "return_statement")) {
    if (!async_scope) return std::nullopt;
    return "it is returned without await, so the caller gets a coroutine object";
  }
  if ((is(parent, "attribute") && ts_node_eq(field(parent, "object"), child)) ||
      (is(parent, "subscript") && ts_node_eq(field(parent, "value"), child)) ||
      (is(parent, "call") && ts_node_eq(field(parent, "function"), child))) {
    return "the coroutine object is used as if it were the result";
  }
  if (is(parent, "for_statement") || is(parent, "for_in_clause"))
    return "the coroutine object is iterated";
  if (is(parent, "if_statement") || is(parent, "while_statement") ||
      is(parent, "boolean_operator") || is(parent, "not_operator") ||
      is(parent, "comparison_operator") || is(parent, "elif_clause")) {
    return "the coroutine object is tested, and is always true";
  }
  if (is(parent, "assignment") && ts_node_eq(field(parent, "right"), child) &&
      is(field(parent, "left"), "identifier")) {
    std::string name(node_text(field(parent, "left"), src));
    if (!handed_on_later(name, body, ts_node_end_byte(parent), src, async_scope, consumes)) {
      return "it is assigned to `" + name + "` and never awaited";
    }
  }
  return std::nullopt;
}

bool marks_async_test(const std::string& resolved) {
  return resolved == "pytest.mark.asyncio" || resolved == "pytest.mark.anyio";
}

// `pytestmark = pytest.mark.asyncio` (or a list holding it) among a block's statements.
bool block_has_pytestmark(TSNode block, const ModuleFacts& facts, std::string_view src) {
  for (TSNode statement : named_children(block)) {
    TSNode assignment = ts_node_named_child(statement, 0);
    if (!is(statement, "expression_statement") || !is(assignment, "assignment")) continue;
    if (node_text(field(assignment, "left"), src) != "pytestmark") continue;
    bool found = false;
    walk(field(assignment, "right"), [&](TSNode node) {
      if (is(node, "attribute") && marks_async_test(facts.resolve(dotted_name(node, src))))
        found = true;
      return !found;
    });
    if (found) return true;
  }
  return false;
}

class FileChecker {
 public:
  FileChecker(const ProjectView& project, const ViewFile& file, const ProjectFacts& facts,
              const VerifyOptions& options)
      : project_(project),
        index_(project.index()),
        file_(file),
        facts_(*file.facts),
        project_facts_(facts),
        options_(options),
        src_(file.source.text()) {}

  std::vector<ReportItem> run();

 private:
  using Scope = ScanScope;
  void on_call(const Site& site, const Scope& scope, bool async_scope);
  void check_not_awaited(const Site& site, const Scope& scope, bool async_scope);
  void check_blocking(const Site& site, const Scope& scope);
  void check_with_names(TSNode body, const ScopeScanner& scanner);
  void check_lazy_loads(TSNode body, const ScopeScanner& scanner);
  void check_function(const Scope& scope);
  void check_test(const Scope& scope, const FunctionFacts& fn,
                  const std::vector<std::string>& roles);
  bool has_async_marker(TSNode def, const FunctionFacts& fn) const;
  void check_session_parameters(const Scope& scope);
  void check_sync_query(const Site& site);
  // A finding of `rule`; in a migrated module AWV010 reports sync path operations (AWV001) and
  // blocking calls in async code (AWV004) instead.
  void add(const char* rule, TSNode at, std::string message, std::string hint = {});
  // An AWV010 finding, for a problem `replaces` (a rule ID, or empty) would report otherwise.
  void add_regression(TSNode at, const std::string& message, std::string hint,
                      const std::string& replaces);
  void emit(const char* rule, TSNode at, std::string message, std::string hint,
            const std::string& replaces);
  // AWV010 is enabled and the module counts as migrated: whether, and why, computed once (it
  // may read the committed version), only when a finding asks.
  bool ratchet_applies();
  std::optional<std::optional<std::string>> migrated_;

  const ProjectView& project_;
  const ProjectIndex& index_;
  const ViewFile& file_;
  bool in_pytest_ = false;  // the scope being checked is a pytest test or fixture

  // A pytest test or fixture: `test*` or @fixture in test_*.py, *_test.py or conftest.py.
  bool is_pytest_code(TSNode def) const {
    if (!is_pytest_file(file_.source.path())) return false;
    if (node_text(field(def, "name"), src_).rfind("test", 0) == 0) return true;
    TSNode decorated = ts_node_parent(def);
    return is(decorated, "decorated_definition") &&
           node_text(decorated, src_)
                   .substr(0, ts_node_start_byte(def) - ts_node_start_byte(decorated))
                   .find("fixture") != std::string_view::npos;
  }
  const ModuleFacts& facts_;
  const ProjectFacts& project_facts_;
  const VerifyOptions& options_;
  std::string_view src_;
  std::vector<ReportItem> items_;
  std::set<std::pair<uint32_t, std::string>> reported_;  // (line, rule): one finding per line
};

const RuleInfo* rule_info(const std::string& id) {
  for (const RuleInfo& candidate : verify_rules()) {
    if (candidate.id == id) return &candidate;
  }
  return nullptr;
}

bool FileChecker::ratchet_applies() {
  if (!options_.enabled(kRegressed)) return false;
  if (!migrated_) migrated_ = migrated_reason(index_, file_, options_);
  return migrated_->has_value();
}

void FileChecker::add(const char* rule, TSNode at, std::string message, std::string hint) {
  bool regression = rule == std::string(kSyncPathOperation) || rule == std::string(kBlocking);
  if (regression && ratchet_applies()) return add_regression(at, message, std::move(hint), rule);
  if (options_.enabled(rule)) emit(rule, at, std::move(message), std::move(hint), {});
}

void FileChecker::add_regression(TSNode at, const std::string& message, std::string hint,
                                 const std::string& replaces) {
  // The replaced rule's fix says how to migrate this problem back; AWV010's own is general.
  const RuleInfo* replaced = rule_info(replaces);
  if (hint.empty() && replaced) hint = replaced->hint;
  emit(kRegressed, at, message + "; this module counts as migrated: " + **migrated_,
       std::move(hint), replaces);
}

void FileChecker::emit(const char* rule, TSNode at, std::string message, std::string hint,
                       const std::string& replaces) {
  Position position = file_.source.position(ts_node_start_byte(at));
  if (!reported_.insert({position.line, rule}).second) return;
  const RuleInfo* info = rule_info(rule);
  std::string_view line = std::string_view(src_).substr(file_.source.line_start(position.line));
  ReportItem item;
  item.rule = rule;
  item.path = file_.source.path();
  item.position = position;
  item.char_column = char_column(line.substr(0, line.find('\n')), position.column);
  item.severity = info ? info->severity : Severity::warning;
  item.message = std::move(message);
  item.hint = hint.empty() && info ? info->hint : std::move(hint);
  item.replaces = replaces;
  items_.push_back(std::move(item));
}

std::vector<ReportItem> FileChecker::run() {
  std::vector<TSNode> session_uses;
  auto prepare = [&](const Scope& scope, ScopeVisitor& visitor) {
    bool async_scope = !scope.is_module() && is_async_function(scope.def);
    session_uses.clear();
    in_pytest_ = !scope.is_module() && is_pytest_code(scope.def);
    visitor.call = [this, &scope, async_scope](const Site& site) {
      on_call(site, scope, async_scope);
    };
    // Tests keep the sync stack to set data up and check it (the db phase leaves them so):
    // a sync Session in an async test is not the app blocking its event loop.
    if (async_scope && !in_pytest_)
      visitor.session_use = [&](TSNode identifier) { session_uses.push_back(identifier); };
  };
  auto done = [&](const Scope& scope, const ScopeScanner& scanner) {
    check_with_names(scope.body(file_), scanner);
    if (!scope.is_module() && is_async_function(scope.def))
      check_lazy_loads(scope.body(file_), scanner);
    // In a migrated module AWV010 reports the session at its parameter instead.
    if (!session_uses.empty() && !ratchet_applies()) {
      // Session I/O calls are reported where they are; a session only passed around, once.
      TSNode use = session_uses.front();
      add(kBlocking, use,
          "async def `" + short_name(scope.qualified) + "` uses the sync Session `" +
              std::string(node_text(use, src_)) + "`, whose I/O blocks the event loop",
          "take an AsyncSession (Depends(get_session)) and await its I/O (awaitify apply --phase "
          "db)");
    }
    if (!scope.is_module()) check_function(scope);
    check_session_parameters(scope);
  };
  scan_scopes(index_, file_, prepare, done);
  return std::move(items_);
}

void FileChecker::on_call(const Site& site, const Scope& scope, bool async_scope) {
  if (site.context == CallContext::lambda || site.context == CallContext::default_argument) return;
  WithKind with = with_kind(site.node);
  if (with == WithKind::sync) {
    if (auto manager = async_context_manager(index_, site.target, true)) {
      std::string written(node_text(field(site.node, "function"), src_));
      add(kSyncWith, site.node,
          "`" + written + "(...)` is an async context manager" +
              (manager->what.empty() ? "" : " (" + manager->what + ")") +
              ", entered with a sync `with`",
          "write `async with` (inside an async def)");
      return;
    }
  }
  if (with == WithKind::none) check_not_awaited(site, scope, async_scope);
  if (async_scope && with != WithKind::async && !site.awaited) check_blocking(site, scope);
  if (!async_scope && !in_pytest_) check_sync_query(site);
}

// A `.query(` chain on a sync Session in sync code of a migrated module (in async code it is a
// blocking call, which AWV010 reports through add()).
void FileChecker::check_sync_query(const Site& site) {
  if (site.target.size() < 6 || site.target.compare(site.target.size() - 6, 6, ".query") != 0)
    return;
  auto api = blocking_call(index_, site.target);
  if (!api || api->kind != BlockingKind::session || !ratchet_applies()) return;
  std::string written(node_text(field(site.node, "function"), src_));
  add_regression(site.node, "`" + written + "(...)` runs a legacy query on the sync Session",
                 "build a `select()` and await it on an AsyncSession (awaitify apply --phase db)",
                 {});
}

// Parameters that take a sync Session, in a migrated module (pytest code keeps the sync stack).
void FileChecker::check_session_parameters(const Scope& scope) {
  if (in_pytest_ || scope.is_module()) return;
  std::vector<SessionParameter> parameters =
      sync_session_parameters(index_, facts_, scope.def, src_, scope.sessions);
  if (parameters.empty() || !ratchet_applies()) return;
  for (const SessionParameter& parameter : parameters) {
    add_regression(parameter.node,
                   "parameter `" + parameter.name + "` of `" + short_name(scope.qualified) + "` " +
                       parameter.how,
                   "take an AsyncSession (Depends(get_session)) and await its I/O (awaitify apply "
                   "--phase db)",
                   {});
  }
}

void FileChecker::check_not_awaited(const Site& site, const Scope& scope, bool async_scope) {
  if (site.awaited || site.as_argument) return;
  if (site.context == CallContext::generator || site.context == CallContext::comprehension) return;
  std::string what;
  std::string hint =
      async_scope ? "add `await`"
                  : "make the caller `async def` and await it (its callers too: awaitify apply "
                    "--phase services), or run it with asyncio.run(...) from sync code";
  const FunctionFacts* callee = index_.function(site.target);
  if (callee && callee->is_async && !callee->is_generator) {
    what = "`" + short_name(callee->qualified) + "` (an async def)";
  } else if (!callee) {
    auto api = coroutine_call(index_, site.target);
    if (!api) return;
    what = api->what;
    if (async_scope && api->hint != "await it") hint = api->hint;
  } else {
    return;
  }
  auto consumes = [this](TSNode receiver) {
    std::string target = facts_.resolve(dotted_name(field(receiver, "function"), src_));
    // Unknown callees and project functions may await what they get; runners run it.
    return !target.empty() && !index_.function(target) && !is_coroutine_runner(target);
  };
  auto misuse = coroutine_misuse(site.node, scope.body(file_), src_, async_scope, consumes);
  if (misuse) add(kNotAwaited, site.node, what + " is not awaited: " + *misuse, hint);
}

void FileChecker::check_blocking(const Site& site, const Scope& scope) {
  if (site.context == CallContext::class_body) return;
  if (in_pytest_ && site.target.rfind("sqlalchemy.orm.Session.", 0) == 0) return;
  std::string function = short_name(scope.qualified);
  if (auto api = blocking_call(index_, site.target)) {
    add(kBlocking, site.node, api->what + ", in async def `" + function + "` blocks the event loop",
        api->hint);
    return;
  }
  const FunctionFacts* callee = index_.function(site.target);
  if (!callee || callee->is_async) return;
  std::string chain = index_.blocking_chain(callee->qualified);
  if (chain.empty()) return;
  add(kBlocking, site.node,
      "`" + short_name(callee->qualified) + "` blocks (" + chain +
          ") and is called from async def `" + function + "`",
      "make `" + short_name(callee->qualified) +
          "` async and await it (awaitify apply --phase services), or call it "
          "with `await run_in_threadpool(" +
          short_name(callee->qualified) + ", ...)`");
}

// `with lock:` / `with session:` over a name that holds an async resource.
void FileChecker::check_with_names(TSNode body, const ScopeScanner& scanner) {
  walk(body, [&](TSNode node) {
    if (is(node, "function_definition") || is(node, "lambda")) return false;
    if (!is(node, "with_item") || with_kind(ts_node_named_child(node, 0)) != WithKind::sync)
      return true;
    TSNode value = ts_node_named_child(node, 0);
    if (is(value, "as_pattern")) value = ts_node_named_child(value, 0);
    if (!is(value, "identifier") && !is(value, "attribute")) return true;
    std::string dotted = dotted_name(value, src_);
    std::string target = scanner.resolve(dotted + ".__enter__");
    target = target.substr(0, target.size() - std::string(".__enter__").size());
    if (auto manager = async_context_manager(index_, target, false)) {
      add(kSyncWith, value,
          "`" + dotted + "` (" + manager->what +
              ") is an async context manager, entered with a sync `with`",
          "write `async with` (inside an async def)");
    }
    return true;
  });
}

void FileChecker::check_lazy_loads(TSNode body, const ScopeScanner& scanner) {
  std::function<std::string(const std::string&)> resolve = [&](const std::string& dotted) {
    return scanner.resolve(dotted);
  };
  for (const LazyRead& read :
       lazy_relationship_reads(body, src_, index_, project_.relationships(), resolve)) {
    std::string model = short_name(read.model);
    add(kLazyLoad, read.node,
        "`" + read.variable + "." + read.relationship + "` reads the relationship " + model + "." +
            read.relationship +
            " of an object loaded without eager loading; in async code the lazy load raises "
            "MissingGreenlet",
        "load it with the query: `.options(selectinload(" + model + "." + read.relationship +
            "))`, or `await " + read.variable + ".awaitable_attrs." + read.relationship + "`");
  }
}

void FileChecker::check_function(const Scope& scope) {
  const FunctionFacts* fn = index_.function(scope.qualified);
  if (!fn || fn->qualified != scope.qualified) return;
  std::vector<std::string> roles = index_.roles(*fn);
  TSNode name = field(scope.def, "name");
  std::string function = fn->name();
  if (!fn->is_async && has_role(roles, "path operation")) {
    std::string chain = index_.blocking_chain(fn->qualified);
    add(kSyncPathOperation, name,
        "path operation `" + function + "` is still `def`" +
            (chain.empty() ? "" : "; it blocks: " + chain),
        chain.empty() ? ""
                      : "migrate what blocks first, then make it `async def` (awaitify apply "
                        "--phase routes)");
  } else if (!fn->is_async && has_role(roles, "dependency")) {
    std::string message = "dependency `" + function + "` is still `def`" +
                          (fn->is_generator ? " (a generator dependency)" : "");
    // A sync dependency that does no I/O is fine in a migrated module (FastAPI runs it in its
    // thread pool), and the sync provider stays beside the async one while other modules use it.
    std::string chain = index_.blocking_chain(fn->qualified);
    if (!chain.empty() && !is_sync_session_provider(index_, *fn) && ratchet_applies())
      add_regression(name, message + "; it blocks: " + chain,
                     "migrate what blocks, then make it `async def`", kSyncDependency);
    else
      add(kSyncDependency, name, message);
  }
  if (!fn->is_async && has_role(roles, "middleware")) {
    add(kSyncMiddleware, name,
        "HTTP middleware `" + function + "` is `def`, but Starlette awaits it");
  }
  check_test(scope, *fn, roles);
}

bool FileChecker::has_async_marker(TSNode def, const FunctionFacts& fn) const {
  for (const std::string& decorator : fn.decorators) {
    if (marks_async_test(decorator)) return true;
  }
  if (const auto* parameters = project_.parameters(fn.qualified)) {
    if (std::count(parameters->begin(), parameters->end(), "anyio_backend")) return true;
  }
  if (block_has_pytestmark(file_.tree->root(), facts_, src_)) return true;
  for (TSNode up = ts_node_parent(def); !ts_node_is_null(up); up = ts_node_parent(up)) {
    if (!is(up, "class_definition")) continue;
    if (block_has_pytestmark(field(up, "body"), facts_, src_)) return true;
    TSNode decorated = ts_node_parent(up);
    if (!is(decorated, "decorated_definition")) continue;
    for (TSNode decorator : named_children(decorated)) {
      TSNode expression = ts_node_named_child(decorator, 0);
      if (is(expression, "call")) expression = field(expression, "function");
      if (is(decorator, "decorator") &&
          marks_async_test(facts_.resolve(dotted_name(expression, src_))))
        return true;
    }
  }
  return false;
}

void FileChecker::check_test(const Scope& scope, const FunctionFacts& fn,
                             const std::vector<std::string>& roles) {
  TSNode name = field(scope.def, "name");
  bool test = has_role(roles, "test");
  if (test && !fn.is_async && !project_facts_.async_test.empty() && project_facts_.async_app) {
    std::string via;
    if (project_.uses_test_client(fn, &via)) {
      add(kSyncTestClient, name,
          "sync test `" + fn.name() + "` uses TestClient" +
              (via.empty() ? "" : " (through the fixture `" + via + "`)") +
              " against an async app, while the project's tests are async (" +
              project_facts_.async_test + ")");
    }
  }
  if (!fn.is_async || project_.asyncio_auto_mode(file_.source.path())) return;
  if (test && !has_async_marker(scope.def, fn)) {
    add(kNoMarker, name,
        "async test `" + fn.name() +
            "` has no pytest.mark.asyncio or pytest.mark.anyio marker, so pytest does "
            "not run it");
  }
  bool plain_fixture = std::count(fn.decorators.begin(), fn.decorators.end(), "pytest.fixture") > 0;
  if (has_role(roles, "fixture") && plain_fixture && !project_facts_.uses_anyio) {
    add(kNoMarker, name,
        "async fixture `" + fn.name() +
            "` is declared with @pytest.fixture, which pytest-asyncio's strict mode "
            "does not await",
        "declare it with `@pytest_asyncio.fixture` (or set `asyncio_mode = auto`)");
  }
}

}  // namespace

const std::vector<RuleInfo>& verify_rules() {
  static const std::vector<RuleInfo> rules{
      {kSyncPathOperation, "sync-path-operation", "A path operation is still `def`",
       "make it `async def` once nothing in it blocks (awaitify apply --phase routes)",
       Severity::warning},
      {kSyncDependency, "sync-dependency", "A dependency (Depends) is still `def`",
       "make it `async def` once nothing in it blocks (await its I/O)", Severity::warning},
      {kNotAwaited, "coroutine-not-awaited",
       "A project async function or a known coroutine API is called without await", "add `await`",
       Severity::error},
      {kBlocking, "blocking-call-in-async-function",
       "A blocking call inside `async def` stalls the event loop",
       "use the async API, or move the call into `await run_in_threadpool(...)`", Severity::error},
      {kSyncWith, "sync-with-async-context-manager",
       "An async context manager entered with a sync `with`", "write `async with`",
       Severity::error},
      {kSyncTestClient, "sync-testclient-test",
       "A sync test uses TestClient against an async app while the project's tests are async",
       "make it `async def` with the pytest marker and use "
       "httpx.AsyncClient(transport=ASGITransport(app=app)) "
       "(awaitify apply --phase tests)",
       Severity::warning},
      {kNoMarker, "async-test-not-run",
       "An async test or fixture pytest will not run: no asyncio/anyio marker, or a plain "
       "@pytest.fixture, in "
       "strict mode",
       "add `@pytest.mark.asyncio` (or `pytestmark = pytest.mark.asyncio`), or set `asyncio_mode = "
       "auto`",
       Severity::error},
      {kSyncMiddleware, "sync-http-middleware", "HTTP middleware is `def`, but Starlette awaits it",
       "make it `async def` and `await call_next(request)` (awaitify apply --phase middleware)",
       Severity::error},
      {kLazyLoad, "lazy-load-in-async-code",
       "A relationship read in async code on an object loaded without eager loading",
       "load it with the query (`.options(selectinload(...))`), or `await "
       "obj.awaitable_attrs.name`",
       Severity::error},
      {kRegressed, "migrated-module-regressed",
       "A module already migrated has a sync path operation, a blocking call in async code or a "
       "sync Session again",
       "migrate it back (each finding names its fix), or drop the module from `migrated` if it "
       "must stay sync",
       Severity::error},
  };
  return rules;
}

bool is_verify_rule(const std::string& id) {
  for (const RuleInfo& rule : verify_rules()) {
    if (rule.id == id) return true;
  }
  return false;
}

std::vector<ReportItem> verify_file(const ProjectView& project, const ViewFile& file,
                                    const VerifyOptions& options) {
  ViewFile parsed;
  const ViewFile* current = with_tree(file, parsed);
  if (!file.facts || !current) return {};
  ProjectFacts facts = project_facts(project);
  return FileChecker(project, *current, facts, options).run();
}

Report verify(const ProjectView& project, const VerifyOptions& options) {
  Report report;
  report.command = "verify";
  report.rules = verify_rules();
  report.files = project.selected_count();
  report.errors = project.errors();
  ProjectFacts facts = project_facts(project);
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
    const ViewFile* current = with_tree(file, parsed);
    if (!file.facts || !current) continue;
    std::vector<ReportItem> items = FileChecker(project, *current, facts, options).run();
    report.items.insert(report.items.end(), items.begin(), items.end());
  }
  report.count_and_drop_suppressed(suppressions);
  report.sort();
  return report;
}

}  // namespace awaitify
