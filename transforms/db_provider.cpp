// AW101: beside the sync `create_engine` / `sessionmaker` / `get_db`, the async ones:
// `create_async_engine` on the async driver, `async_sessionmaker(..., class_=AsyncSession,
// expire_on_commit=False)` and `async def get_session()`. The sync stack stays (other code may
// still use it). Tests that override `get_db` get the same override for `get_session`.
#include <map>

#include "awaitify/knowledge.hpp"
#include "awaitify/syntax.hpp"
#include "db_model.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

using namespace aw10x;

constexpr const char* kUrlHelper = "async_database_url";

struct Work {
  const FileContext& context;
  const SyncStack& stack;
  PassResult result;
  ImportEditor imports;
  std::set<std::string> engines_done;  // sync engine names whose sibling is written
  std::set<std::string> makers_done;
  bool url_helper = false;
  std::string_view src() const { return context.text(); }
};

std::string url_helper_text() {
  return std::string("def ") + kUrlHelper + R"((url):
    """The same database through its asyncio driver, for the async engine."""
    url = make_url(url)
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+pysqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
        "postgresql+psycopg2": "postgresql+asyncpg",
        "mysql": "mysql+aiomysql",
        "mysql+pymysql": "mysql+aiomysql",
        "mysql+mysqldb": "mysql+aiomysql",
    }
    return url.set(drivername=drivers.get(url.drivername, url.drivername))


)";
}

// The URL argument of the async engine: a literal with its driver swapped, or the expression
// passed through async_database_url().
std::string async_url(Work& work, const Engine& engine, TSNode url) {
  std::string text(node_text(url, work.src()));
  if (is(url, "string")) {
    size_t scheme_end = text.find("://");
    size_t quote = text.find_first_of("'\"");
    if (scheme_end != std::string::npos && quote != std::string::npos && quote < scheme_end) {
      size_t scheme_start = text.find_first_not_of("'\"", quote);
      std::string scheme = text.substr(scheme_start, scheme_end - scheme_start);
      std::string rest = text.substr(scheme_end + 3);
      bool nothing_after = !rest.empty() && (rest[0] == '"' || rest[0] == '\'');
      if (scheme.rfind("sqlite", 0) == 0 && (nothing_after || rest.rfind("/:memory:", 0) == 0 ||
                                             rest.find("mode=memory") != std::string::npos)) {
        work.result.findings.push_back(work.context.finding(
            kProviderId, url, Severity::warning,
            "an in-memory SQLite database belongs to one engine: the async engine opens a "
            "different, empty "
            "database, so data written through `" +
                engine.name + "` is not seen through the async one (use a file)"));
      }
      if (auto driver = async_scheme(scheme))
        return text.substr(0, scheme_start) + *driver + text.substr(scheme_end);
      work.result.findings.push_back(work.context.finding(
          kProviderId, url, Severity::warning,
          "no known asyncio driver for `" + scheme + "`: the URL is kept as it is"));
      return text;
    }
  }
  work.url_helper = true;
  return std::string(kUrlHelper) + "(" + text + ")";
}

bool dropped_engine_option(Work& work, TSNode argument) {
  std::string name(node_text(field(argument, "name"), work.src()));
  std::string value(node_text(field(argument, "value"), work.src()));
  bool dropped = name == "creator" || name == "module" || name == "strategy" ||
                 (name == "poolclass" && (value.find("QueuePool") != std::string::npos &&
                                          value.find("AsyncAdapted") == std::string::npos));
  if (dropped) {
    work.result.findings.push_back(work.context.finding(
        kProviderId, argument, Severity::warning,
        "`" + name + "=" + value +
            "` does not exist for the async engine: left out of it; check its replacement"));
  }
  return dropped;
}

// `async_engine = create_async_engine(<async url>, <the same options>)` after the sync one.
std::optional<std::string> write_engine(Work& work, const std::string& name) {
  const Engine* engine = work.stack.engine(name);
  std::string sibling = sibling_name(work.context.facts, name);
  if (work.engines_done.count(name) || !work.context.facts.resolve(sibling).empty()) {
    work.engines_done.insert(name);
    return sibling;
  }
  if (!engine) return std::nullopt;
  std::vector<std::string> arguments;
  bool url_seen = false;
  bool pooled = false;
  for (TSNode argument : named_children(field(engine->call, "arguments"))) {
    if (is(argument, "comment")) continue;
    bool keyword = is(argument, "keyword_argument");
    if (!url_seen && (!keyword || node_text(field(argument, "name"), work.src()) == "url")) {
      url_seen = true;
      TSNode url = keyword ? field(argument, "value") : argument;
      arguments.push_back((keyword ? "url=" : "") + async_url(work, *engine, url));
      continue;
    }
    if (keyword && dropped_engine_option(work, argument)) continue;
    if (keyword && node_text(field(argument, "name"), work.src()) == "poolclass") pooled = true;
    arguments.push_back(std::string(node_text(argument, work.src())));
  }
  if (!pooled && is_pytest_file(work.context.facts.path)) {
    // pytest-asyncio runs each test in an event loop of its own, and a pooled connection
    // opened in one loop fails in the next ("attached to a different loop").
    arguments.push_back("poolclass=NullPool");
    work.imports.require_from("sqlalchemy.pool", "NullPool");
    work.result.findings.push_back(work.context.finding(
        kProviderId, engine->call, Severity::note,
        "the tests' async engine gets poolclass=NullPool: each test runs in an event loop of its "
        "own, and a pooled connection cannot move to another loop"));
  }
  std::string text = sibling + " = create_async_engine(";
  for (size_t i = 0; i < arguments.size(); ++i) text += (i ? ", " : "") + arguments[i];
  text += ")";
  work.result.edits.push_back(Edit::insert(ts_node_end_byte(engine->statement), "\n" + text));
  if (work.url_helper) {
    // Two blank lines around the new top-level def, as around the file's own.
    uint32_t at = ts_node_start_byte(engine->statement);
    std::string_view before = work.src().substr(0, at);
    int blank = 0;
    while (before.size() >= 2 && before.substr(before.size() - 2) == "\n\n" && blank < 2) {
      before.remove_suffix(1);
      ++blank;
    }
    work.result.edits.push_back(Edit::insert(at, std::string(2 - blank, '\n') + url_helper_text()));
    work.imports.require_from("sqlalchemy.engine", "make_url");
  }
  work.imports.require_from("sqlalchemy.ext.asyncio", "create_async_engine");
  work.engines_done.insert(name);
  return sibling;
}

// `AsyncSessionLocal = async_sessionmaker(async_engine, class_=AsyncSession,
// expire_on_commit=False, <the other options>)` after the sync maker.
std::optional<std::string> write_maker(Work& work, const std::string& name) {
  const Maker* maker = work.stack.maker(name);
  std::string sibling = sibling_name(work.context.facts, name);
  if (work.makers_done.count(name) || !work.context.facts.resolve(sibling).empty()) {
    work.makers_done.insert(name);
    return sibling;
  }
  if (!maker || maker->engine.empty()) return std::nullopt;
  auto engine = write_engine(work, maker->engine);
  if (!engine) return std::nullopt;
  // SQLAlchemy 1.4 has no async_sessionmaker: its sessionmaker makes AsyncSessions with class_=.
  bool legacy = work.context.setting("target.sqlalchemy") == "1.4";
  std::string factory = legacy ? "sessionmaker" : "async_sessionmaker";
  std::string text =
      sibling + " = " + factory + "(" + *engine + ", class_=AsyncSession, expire_on_commit=False";
  for (TSNode argument : named_children(field(maker->call, "arguments"))) {
    if (!is(argument, "keyword_argument")) continue;
    std::string key(node_text(field(argument, "name"), work.src()));
    std::string value(node_text(field(argument, "value"), work.src()));
    if (key == "bind" || key == "class_") continue;
    if (key == "expire_on_commit" || key == "autocommit") {
      work.result.findings.push_back(work.context.finding(
          kProviderId, argument, Severity::warning,
          "`" + key + "=" + value + "` is not carried over: " +
              (key == "autocommit"
                   ? std::string("it no longer exists in SQLAlchemy 2.0")
                   : std::string("an attribute expired by commit() cannot be loaded lazily under "
                                 "asyncio (MissingGreenlet), so the async maker keeps them"))));
      continue;
    }
    text += ", " + key + "=" + value;
  }
  text += ")";
  work.result.edits.push_back(Edit::insert(ts_node_end_byte(maker->statement), "\n" + text));
  if (legacy)
    work.imports.require_from("sqlalchemy.orm", "sessionmaker");
  else
    work.imports.require_from("sqlalchemy.ext.asyncio", "async_sessionmaker");
  work.imports.require_from("sqlalchemy.ext.asyncio", "AsyncSession");
  work.makers_done.insert(name);
  return sibling;
}

// `async def get_session(): async with AsyncSessionLocal() as session: yield session` after the
// sync provider. Returns the sibling's name, or nullopt (with a finding) when it cannot.
std::optional<std::string> write_provider(Work& work, const Provider& provider) {
  std::string sibling = sibling_name(work.context.facts, provider.name);
  if (!work.context.facts.resolve(sibling).empty()) return sibling;  // an earlier run wrote it
  std::string opener;
  if (!provider.maker.empty()) {
    if (auto maker = write_maker(work, provider.maker)) opener = *maker + "()";
  } else if (auto engine = write_engine(work, provider.engine)) {
    opener = "AsyncSession(" + *engine + ", expire_on_commit=False)";
    require_async_session(work.imports, provider.sqlmodel);
  }
  if (opener.empty()) {
    work.result.findings.push_back(
        work.context.finding(kProviderId, field(provider.def, "name"), Severity::warning,
                             "no async sibling written for `" + provider.name +
                                 "`: the engine it opens sessions on is not built in this module"));
    return std::nullopt;
  }
  std::string text = "\n\n\nasync def " + sibling + "():\n    async with " + opener +
                     " as session:\n        yield session";
  work.result.edits.push_back(Edit::insert(ts_node_end_byte(provider.outer), text));
  return sibling;
}

struct Override {
  TSNode statement{};
  TSNode key{};    // get_db in dependency_overrides[get_db]
  TSNode value{};  // the override
  std::string sibling;
};

// `app.dependency_overrides[get_db] = override_get_db` where get_db has an async sibling and the
// module does not override that sibling yet.
std::vector<Override> overrides_to_mirror(const FileContext& context) {
  std::string_view src = context.text();
  std::vector<Override> found;
  std::set<std::string> overridden;
  walk(context.root, [&](TSNode node) {
    if (!is(node, "assignment")) return true;
    TSNode left = field(node, "left");
    if (!is(left, "subscript")) return true;
    TSNode target = field(left, "value");
    if (!is(target, "attribute") ||
        node_text(field(target, "attribute"), src) != "dependency_overrides")
      return true;
    TSNode key = field(left, "subscript");
    std::string resolved = context.facts.resolve(dotted_name(key, src));
    overridden.insert(context.index.canonical(resolved));
    auto sibling = async_provider(context.index, context.plan, resolved);
    if (sibling && is(ts_node_parent(node), "expression_statement")) {
      found.push_back(Override{ts_node_parent(node), key, field(node, "right"), *sibling});
    }
    return true;
  });
  std::vector<Override> missing;
  for (const Override& override_ : found) {
    std::string key =
        context.index.canonical(context.facts.resolve(dotted_name(override_.key, src)));
    std::string sibling = key.substr(0, key.rfind('.') + 1) + override_.sibling;
    if (!overridden.count(sibling)) missing.push_back(override_);
  }
  return missing;
}

void mirror_override(Work& work, const Override& override_) {
  std::string_view src = work.src();
  std::string value(node_text(override_.value, src));
  const Provider* provider = work.stack.provider(value);
  std::optional<std::string> sibling_value =
      provider ? write_provider(work, *provider) : std::nullopt;
  std::string key(node_text(override_.key, src));
  if (!sibling_value) {
    work.result.findings.push_back(work.context.finding(
        kProviderId, override_.statement, Severity::error,
        "`" + key + "` is overridden with `" + value + "`, which the engine cannot mirror for `" +
            override_.sibling + "`: migrated code depends on `" + override_.sibling +
            "`, so without an override of it, it reaches the real database; add one"));
    return;
  }
  std::string sibling_key = override_.sibling;
  if (is(override_.key, "attribute")) {
    sibling_key =
        std::string(node_text(field(override_.key, "object"), src)) + "." + override_.sibling;
  } else {
    std::string module = from_module_binding(work.context, key);
    if (!module.empty()) work.imports.require_from(module, override_.sibling);
  }
  std::string statement(node_text(override_.statement, src));
  std::string target(
      node_text(field(field(ts_node_named_child(override_.statement, 0), "left"), "value"), src));
  uint32_t start = ts_node_start_byte(override_.statement);
  size_t line_start = src.rfind('\n', start == 0 ? 0 : start - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string indent(src.substr(line_start, start - line_start));
  work.result.edits.push_back(
      Edit::insert(ts_node_end_byte(override_.statement),
                   "\n" + indent + target + "[" + sibling_key + "] = " + *sibling_value));
}

// Providers change when the plan migrates them (functions of this file), overrides of them
// where the file assigns app.dependency_overrides.
bool applies(const ModuleFacts& facts, const ProjectIndex&, const Plan& plan) {
  return migrates_in(facts, plan) || !facts.overridden_dependencies.empty();
}

PassResult run(const FileContext& context) {
  SyncStack stack = find_sync_stack(context);
  Work work{
      context, stack,
      {},      ImportEditor(context.source, context.root, context.index.first_party_packages()),
      {},      {},
      false};
  for (const Provider& provider : stack.providers) {
    if (context.plan.migrates(context.facts.module + "." + provider.name))
      write_provider(work, provider);
  }
  for (const Override& override_ : overrides_to_mirror(context)) mirror_override(work, override_);
  if (work.result.edits.empty()) return std::move(work.result);
  std::vector<Edit> import_edits = work.imports.edits();
  work.result.edits.insert(work.result.edits.end(), import_edits.begin(), import_edits.end());
  return std::move(work.result);
}

}  // namespace

TransformInfo db_provider_transform() {
  return TransformInfo{
      .id = kProviderId,
      .phase = "db",
      .summary = "async engine, async_sessionmaker and get_session beside the sync ones",
      .explain = R"(Before:
    engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
    SessionLocal = sessionmaker(bind=engine, autoflush=False)

    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
After (the sync stack stays: code not migrated yet still uses it):
    engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
    async_engine = create_async_engine(async_database_url(DATABASE_URL), connect_args={"check_same_thread": False})
    SessionLocal = sessionmaker(bind=engine, autoflush=False)
    AsyncSessionLocal = async_sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False, autoflush=False)

    def get_db(): ...

    async def get_session():
        async with AsyncSessionLocal() as session:
            yield session

Written when migrated code depends on the provider (see AW102). A literal URL gets its asyncio
driver (sqlite -> sqlite+aiosqlite, postgresql / postgresql+psycopg2 -> postgresql+asyncpg,
mysql / mysql+pymysql -> mysql+aiomysql); a URL from a variable or settings goes through a
small `async_database_url()` written beside the engine, so the conversion is visible. An
in-memory SQLite URL is reported: the async engine would open a different, empty database.
Engine options the async engine lacks (creator, module, a sync QueuePool) are left out and
reported. `expire_on_commit=False` is required, not style: an attribute expired by commit()
cannot be loaded lazily under asyncio (MissingGreenlet). `with Session(engine) as session:`
providers (SQLModel) get `AsyncSession(async_engine, expire_on_commit=False)`. With
`--target sqlalchemy=1.4`, which has no async_sessionmaker, the maker is
`sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False, ...)`.
A module that overrides the sync provider (`app.dependency_overrides[get_db] = override_get_db`)
gets the same override for the async one, with an async sibling of its override; an override
the engine cannot mirror is an error, since migrated code would reach the real database.
An async engine written in a test file (test_*.py, *_test.py, conftest.py) gets
poolclass=NullPool unless it names a pool: pytest-asyncio runs each test in an event loop of its
own, and a pooled connection opened in one loop fails in the next.
The sync stack stays unless --drop-sync is given: then AW107 removes it once nothing in the
project uses it.)",
      .triggers = {"create_engine", "sessionmaker", "dependency_overrides", "Session("},
      .run = run,
      .seeds = db_seeds,
      .applies = applies};
}

}  // namespace awaitify
