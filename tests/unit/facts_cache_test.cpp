// .awaitify_cache/: facts come back field for field, anything but a good entry is a miss (then
// rewritten), an unwritable project runs without it, and a warm run prints what a cold one does.
#include "awaitify/facts_cache.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <set>
#include <thread>

#include "awaitify/engine.hpp"
#include "report_cli.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

// Field by field, so a failure names the field. The static_asserts keep this list complete.
static_assert(detail::field_count<CallFact>() == 7 && detail::field_count<FunctionFacts>() == 22 &&
                  detail::field_count<PassVerdict>() == 6 &&
                  detail::field_count<ClassFacts>() == 7 &&
                  detail::field_count<ModuleFacts>() == 20,
              "a facts struct changed: compare the new field in expect_same_* below");

void expect_same_calls(const std::vector<CallFact>& a, const std::vector<CallFact>& b,
                       const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(where + " #" + std::to_string(i));
    EXPECT_EQ(a[i].target, b[i].target);
    EXPECT_EQ(a[i].line, b[i].line);
    EXPECT_EQ(a[i].column, b[i].column);
    EXPECT_EQ(a[i].awaited, b[i].awaited);
    EXPECT_EQ(a[i].as_argument, b[i].as_argument);
    EXPECT_EQ(a[i].context, b[i].context);
    EXPECT_EQ(a[i].passed_to, b[i].passed_to);
  }
}

void expect_same_function(const FunctionFacts& a, const FunctionFacts& b) {
  SCOPED_TRACE(a.qualified);
  EXPECT_EQ(a.qualified, b.qualified);
  EXPECT_EQ(a.class_name, b.class_name);
  EXPECT_EQ(a.line, b.line);
  EXPECT_EQ(a.first_line, b.first_line);
  EXPECT_EQ(a.header_end_line, b.header_end_line);
  EXPECT_EQ(a.end_line, b.end_line);
  EXPECT_EQ(a.is_async, b.is_async);
  EXPECT_EQ(a.is_generator, b.is_generator);
  EXPECT_EQ(a.is_module, b.is_module);
  EXPECT_EQ(a.decorators, b.decorators);
  expect_same_calls(a.calls, b.calls, "calls");
  expect_same_calls(a.blocking, b.blocking, "blocking");
  expect_same_calls(a.references, b.references, "references");
  expect_same_calls(a.unresolved_methods, b.unresolved_methods, "unresolved_methods");
  EXPECT_EQ(a.holds_session, b.holds_session);
  EXPECT_EQ(a.session_awaits, b.session_awaits);
  EXPECT_EQ(a.session_blocker, b.session_blocker);
  EXPECT_EQ(a.loaded_models, b.loaded_models);
  EXPECT_EQ(a.eager_loads, b.eager_loads);
  EXPECT_EQ(a.parameter_types, b.parameter_types);
  EXPECT_EQ(a.dependencies, b.dependencies);
  ASSERT_EQ(a.verdicts.size(), b.verdicts.size());
  for (size_t i = 0; i < a.verdicts.size(); ++i) {
    SCOPED_TRACE("verdict #" + std::to_string(i));
    EXPECT_EQ(a.verdicts[i].pass, b.verdicts[i].pass);
    EXPECT_EQ(a.verdicts[i].byte, b.verdicts[i].byte);
    EXPECT_EQ(a.verdicts[i].shown, b.verdicts[i].shown);
    EXPECT_EQ(a.verdicts[i].refusal, b.verdicts[i].refusal);
    EXPECT_EQ(a.verdicts[i].all_or_nothing, b.verdicts[i].all_or_nothing);
    EXPECT_EQ(a.verdicts[i].async_only, b.verdicts[i].async_only);
  }
}

void expect_same_class(const ClassFacts& a, const ClassFacts& b) {
  SCOPED_TRACE(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.bases, b.bases);
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.insert_generated, b.insert_generated);
  EXPECT_EQ(a.update_generated, b.update_generated);
  EXPECT_EQ(a.eager_defaults, b.eager_defaults);
}

void expect_same_facts(const ModuleFacts& a, const ModuleFacts& b) {
  SCOPED_TRACE(a.path);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.module, b.module);
  EXPECT_EQ(a.is_package, b.is_package);
  EXPECT_EQ(a.imports, b.imports);
  EXPECT_EQ(a.import_lines, b.import_lines);
  EXPECT_EQ(a.star_imports, b.star_imports);
  EXPECT_EQ(a.instances, b.instances);
  ASSERT_EQ(a.classes.size(), b.classes.size());
  for (auto i = a.classes.begin(), j = b.classes.begin(); i != a.classes.end(); ++i, ++j) {
    EXPECT_EQ(i->first, j->first);
    expect_same_class(i->second, j->second);
  }
  EXPECT_EQ(a.type_aliases, b.type_aliases);
  EXPECT_EQ(a.functions, b.functions);
  ASSERT_EQ(a.function_facts.size(), b.function_facts.size());
  for (size_t i = 0; i < a.function_facts.size(); ++i)
    expect_same_function(a.function_facts[i], b.function_facts[i]);
  EXPECT_EQ(a.relationships, b.relationships);
  EXPECT_EQ(a.relationship_targets, b.relationship_targets);
  EXPECT_EQ(a.engine_schemes, b.engine_schemes);
  EXPECT_EQ(a.maker_engines, b.maker_engines);
  EXPECT_EQ(a.overridden_dependencies, b.overridden_dependencies);
  EXPECT_EQ(a.override_lines, b.override_lines);
  EXPECT_EQ(a.parameter_dependency_lines, b.parameter_dependency_lines);
  EXPECT_EQ(a.parameter_names, b.parameter_names);
  EXPECT_EQ(a.suppressions.skip_file(), b.suppressions.skip_file());
}

const std::map<std::string, std::string> kProject = {
    {"pyproject.toml", "[project]\nname = 'shop'\n"},
    {"shop/__init__.py", "from .api import router\n"},
    {"shop/db.py",
     "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker, Session\n"
     "from typing import Annotated\nfrom fastapi import Depends\n\n"
     "engine = create_engine('sqlite:///shop.db')\nSessionLocal = sessionmaker(bind=engine)\n\n"
     "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n"
     "        db.close()\n\nSessionDep = Annotated[Session, Depends(get_db)]\n"},
    {"shop/models.py",
     "from sqlalchemy import Column, Integer, String, DateTime, ForeignKey, FetchedValue, func\n"
     "from sqlalchemy.orm import declarative_base, relationship\n\nBase = declarative_base()\n\n"
     "class User(Base):\n    __tablename__ = 'users'\n"
     "    __mapper_args__ = {'eager_defaults': True}\n"
     "    id = Column(Integer, primary_key=True)\n"
     "    created = Column(DateTime, server_default=func.now())\n"
     "    touched = Column(DateTime, server_onupdate=FetchedValue())\n"
     "    items = relationship('Item', back_populates='owner')\n"
     "    tags = relationship('Tag', lazy='selectin')\n\n"
     "class Item(Base):\n    __tablename__ = 'items'\n    id = Column(Integer, primary_key=True)\n"
     "    owner_id = Column(Integer, ForeignKey('users.id'))\n"
     "    owner = relationship('User', back_populates='items')\n"},
    {"shop/api.py",
     "import time\nimport requests as r\nfrom fastapi import APIRouter, Depends\n"
     "from sqlalchemy.orm import Session\nfrom .db import get_db, SessionDep\n"
     "from .models import *\nfrom . import models\n\nrouter = APIRouter()\n\n"
     "class Store:\n    def __init__(self, db: Session):\n        self.db = db\n"
     "        self.http = r.Session()\n\n    def first(self):\n"
     "        return self.db.query(models.User).first()\n\n"
     "@router.get('/users/{uid}')\ndef read_user(uid: int, db: Session = Depends(get_db)):\n"
     "    time.sleep(0.1)\n    user = db.get(models.User, uid)\n"
     "    names = [r.get(u).json() for u in ('a', 'b')]\n    f = lambda: open('x').read()\n"
     "    return {'user': user, 'names': sorted(map(str, names)), 'f': f}\n\n"
     "@router.post('/users')\nasync def create(db: SessionDep):\n    db.add(models.User())\n"
     "    db.commit()\n\ndef pages(n):\n    for i in range(n):\n        yield i\n\n"
     "if __name__ == '__main__':\n    print(Store(None).first())\n"},
    {"tests/conftest.py",
     "import pytest\nfrom fastapi.testclient import TestClient\nfrom shop.db import get_db\n"
     "from shop.api import router\n\n@pytest.fixture\ndef client(tmp_path, db=None):\n"
     "    router.dependency_overrides[get_db] = lambda: db\n    return TestClient(router)\n\n"
     "class TestThings:\n    def test_one(self, client, *, flag: bool = False):\n"
     "        def inner(a, b=1):\n            return a\n        assert client.get('/').ok\n"},
};

void write_project(const fs::path& root) {
  for (const auto& [path, text] : kProject) write_file(root / path, text);
}

ModuleFacts fresh_facts(const SourceFile& source) {
  auto facts = facts_for(source);
  EXPECT_TRUE(facts.ok()) << (facts.ok() ? "" : facts.error().message);
  return facts.ok() ? *facts : ModuleFacts{};
}

SourceFile load(const fs::path& path) {
  auto source = SourceFile::load(path.string());
  EXPECT_TRUE(source.ok());
  return source.ok() ? *source : SourceFile();
}

// The files of the cache folder whose names end with `extension`.
std::vector<fs::path> cache_files(const fs::path& root, const std::string& extension) {
  std::vector<fs::path> found;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(root / kFactsCacheDirectory, ignored)) {
    if (entry.path().extension() == extension) found.push_back(entry.path());
  }
  return found;
}

std::vector<fs::path> packs(const fs::path& root) {
  return cache_files(root, ".pack");
}

// What a run over the whole project asks of the cache: every Python file's facts, extracted and
// stored on a miss. Returns the number of misses.
size_t index_project(const fs::path& root, FactsCache& cache) {
  size_t misses = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".py") continue;
    SourceFile source = load(entry.path());
    if (cache.load(source)) continue;
    ++misses;
    cache.store(source, fresh_facts(source));
  }
  return misses;
}

}  // namespace

TEST(FactsCache, RoundTripsEveryFieldOfRealFacts) {
  TempDir dir;
  write_project(dir.path());
  FactsCache cache(dir.path().string());
  bool relationships = false, generated = false, overrides = false, parameters = false,
       blocking = false, sessions = false, targets = false, loads = false, verdicts = false;
  for (const auto& [path, text] : kProject) {
    if (fs::path(path).extension() != ".py") continue;
    SourceFile source = load(dir.path() / path);
    ModuleFacts facts = fresh_facts(source);
    EXPECT_FALSE(cache.load(source)) << path << ": nothing stored yet";
    cache.store(source, facts);
    auto loaded = cache.load(source);
    ASSERT_TRUE(loaded) << path;
    expect_same_facts(facts, *loaded);
    relationships |= !facts.relationships.empty();
    targets |= !facts.relationship_targets.empty();
    overrides |= !facts.override_lines.empty();
    parameters |= !facts.parameter_names.empty();
    for (const auto& [name, cls] : facts.classes)
      generated |= !cls.insert_generated.empty() && cls.eager_defaults;
    for (const FunctionFacts& fn : facts.function_facts) {
      blocking |= !fn.blocking.empty();
      sessions |= fn.holds_session && !fn.dependencies.empty();
      loads |= !fn.loaded_models.empty();
      verdicts |= !fn.verdicts.empty();
    }
  }
  // The round trip means something only if the facts had these to lose.
  EXPECT_TRUE(relationships && generated && overrides && parameters && blocking && sessions &&
              targets && loads && verdicts);
  std::string ignore = read_file(dir.path() / kFactsCacheDirectory / ".gitignore");
  EXPECT_NE(ignore.find("\n*\n"), std::string::npos) << ignore;
}

TEST(FactsCache, PruneRemovesTheEntriesARunDidNotAskFor) {
  TempDir dir;
  write_project(dir.path());
  fs::path api = dir.path() / "shop/api.py";
  fs::path models = dir.path() / "shop/models.py";
  {
    FactsCache first(dir.path().string());
    EXPECT_EQ(first.prune(), 0u) << "nothing asked: nothing is known to be stale";
    first.store(load(api), fresh_facts(load(api)));
    first.store(load(models), fresh_facts(load(models)));
  }
  FactsCache second(dir.path().string());
  EXPECT_EQ(second.prune(), 0u);
  ASSERT_TRUE(second.load(load(api)));  // models.py was deleted, say: only api.py is asked for
  EXPECT_EQ(second.prune(), 1u);
  FactsCache third(dir.path().string());
  EXPECT_TRUE(third.load(load(api)));
  EXPECT_FALSE(third.load(load(models))) << "its entry was removed";
  EXPECT_TRUE(fs::exists(dir.path() / kFactsCacheDirectory / ".gitignore"));
}

TEST(FactsCache, ChangedBytesOrPackageLayoutAreMisses) {
  TempDir dir;
  write_project(dir.path());
  FactsCache cache(dir.path().string());
  fs::path api = dir.path() / "shop/api.py";
  cache.store(load(api), fresh_facts(load(api)));
  ASSERT_TRUE(cache.load(load(api)));
  write_file(api, kProject.at("shop/api.py") + "\n");
  EXPECT_FALSE(cache.load(load(api))) << "one byte more";
  write_file(api, kProject.at("shop/api.py"));
  EXPECT_TRUE(cache.load(load(api)));
  fs::remove(dir.path() / "shop/__init__.py");  // shop.api is now the module api
  EXPECT_FALSE(cache.load(load(api)));
  EXPECT_EQ(content_hash(load(api)), content_hash(load(api).bytes()));
}

// Content hashes tell apart texts that differ in one byte, or in length only, at every length
// around the 16-byte blocks the hash reads; a BOM counts as the bytes it is in the file.
TEST(FactsCache, ContentHashesTellTextsApart) {
  std::set<uint64_t> seen;
  size_t texts = 0;
  for (size_t length = 0; length <= 40; ++length) {
    std::string text(length, 'a');
    seen.insert(content_hash(text));
    ++texts;
    for (size_t at = 0; at < length; ++at) {
      std::string changed = text;
      changed[at] = 'b';
      seen.insert(content_hash(changed));
      ++texts;
      changed[at] = '\0';
      seen.insert(content_hash(changed));
      ++texts;
    }
  }
  EXPECT_EQ(seen.size(), texts);
  EXPECT_EQ(content_hash(std::string_view()), content_hash(std::string()));
  EXPECT_EQ(content_hash("x = 1\n"), content_hash(std::string("x = 1\n")));
  SourceFile with_bom("a.py", "x = 1\n", /*bom=*/true);
  EXPECT_EQ(content_hash(with_bom), content_hash("\xEF\xBB\xBFx = 1\n"));
  EXPECT_NE(content_hash(with_bom), content_hash(SourceFile("a.py", "x = 1\n")));
}

TEST(FactsCache, DamagedPacksAreMissesAndGetRewritten) {
  TempDir dir;
  write_project(dir.path());
  SourceFile source = load(dir.path() / "shop/models.py");
  ModuleFacts facts = fresh_facts(source);
  {
    FactsCache cache(dir.path().string());
    cache.store(source, facts);
  }
  ASSERT_EQ(packs(dir.path()).size(), 1u);
  fs::path pack = packs(dir.path()).front();
  std::string good = read_file(pack);
  // The pack is a header, the entry, its directory record (32 bytes) and the footer (32).
  std::string entry = good.substr(8, good.size() - 8 - 64);
  ASSERT_TRUE(
      decode_facts(entry, facts.path, facts.module, facts.is_package, content_hash(source)));
  std::string in_entry = good, in_directory = good, in_footer = good;
  in_entry[8 + entry.size() / 2] ^= 0x20;
  in_directory[good.size() - 64 + 4] ^= 0x20;
  in_footer[good.size() - 2] ^= 0x20;
  std::string garbage(good.size(), '\xAB');
  for (const std::string& bad :
       {std::string(), good.substr(0, 3), good.substr(0, good.size() / 2),
        good.substr(0, good.size() - 1), good + "x", "x" + good, in_entry, in_directory, in_footer,
        garbage, std::string("AWPK") + std::string(good.size() - 4, '\0')}) {
    SCOPED_TRACE(std::to_string(bad.size()) + " bytes");
    for (const fs::path& old : packs(dir.path())) fs::remove(old);
    write_file(pack, bad);
    {
      FactsCache cache(dir.path().string());
      EXPECT_FALSE(cache.load(source));
      cache.store(source, facts);
      auto loaded = cache.load(source);
      ASSERT_TRUE(loaded);
      expect_same_facts(facts, *loaded);
      cache.prune();
    }
    EXPECT_EQ(packs(dir.path()).size(), 1u) << "the damaged pack is merged away";
    FactsCache next(dir.path().string());
    auto loaded = next.load(source);
    ASSERT_TRUE(loaded);
    expect_same_facts(facts, *loaded);
  }
  // Another format or file: the bytes of a good entry under another key.
  EXPECT_FALSE(
      decode_facts(entry, facts.path + "x", facts.module, facts.is_package, content_hash(source)));
  EXPECT_FALSE(
      decode_facts(entry, facts.path, facts.module, !facts.is_package, content_hash(source)));
  EXPECT_FALSE(decode_facts(entry.substr(0, entry.size() - 1), facts.path, facts.module,
                            facts.is_package, content_hash(source)));
}

// A run writes one pack, however many files it extracts; runs that change a few files add small
// packs, which a run over the whole project merges once they pile up, dropping stale entries.
TEST(FactsCache, EachRunWritesOnePackAndPacksAreMergedWhenTheyPileUp) {
  TempDir dir;
  write_project(dir.path());
  // Enough project that one small file's stale entries stay under a quarter of the bytes: the
  // packs pile up and are merged by their number.
  for (int i = 0; i < 12; ++i)
    write_file(dir.path() / ("shop/more_" + std::to_string(i) + ".py"), kProject.at("shop/api.py"));
  fs::path small = dir.path() / "shop/version.py";
  write_file(small, "VERSION = 0\n");
  const size_t files = 5 + 12 + 1;
  {
    FactsCache cold(dir.path().string());
    EXPECT_EQ(index_project(dir.path(), cold), files);
    EXPECT_EQ(cold.prune(), 0u);
  }
  EXPECT_EQ(packs(dir.path()).size(), 1u);
  EXPECT_TRUE(cache_files(dir.path(), ".tmp").empty());
  size_t most_packs = 0, merges = 0, entries = files;
  for (int change = 1; change <= 12; ++change) {
    write_file(small, "VERSION = " + std::to_string(change) + "\n");
    FactsCache cache(dir.path().string());
    EXPECT_EQ(index_project(dir.path(), cache), 1u) << "only the changed file is extracted";
    size_t removed = cache.prune();
    // Without a merge, the small file's old entry stays beside its new one.
    entries = removed > 0 ? files : entries + 1;
    merges += removed > 0;
    EXPECT_EQ(cache.entry_count(), entries) << "change " << change;
    most_packs = std::max(most_packs, packs(dir.path()).size());
  }
  EXPECT_EQ(merges, 1u) << "one merge, when a ninth pack came";
  EXPECT_EQ(most_packs, kFactsCacheMaxPacks);
  FactsCache warm(dir.path().string());
  EXPECT_EQ(index_project(dir.path(), warm), 0u);
  EXPECT_EQ(cache_files(dir.path(), ".tmp").size(), 0u);

  // A change to a large part of the project: its stale entries are merged away at once.
  for (int i = 0; i < 12; ++i)
    write_file(dir.path() / ("shop/more_" + std::to_string(i) + ".py"),
               kProject.at("shop/api.py") + "# changed\n");
  FactsCache changed(dir.path().string());
  EXPECT_EQ(index_project(dir.path(), changed), 12u);
  EXPECT_GE(changed.prune(), 12u);
  EXPECT_EQ(changed.entry_count(), files);
  EXPECT_EQ(packs(dir.path()).size(), 1u);
}

// A run that stops early (Ctrl-C) keeps what it extracted; a folder of the entry-per-file format
// of earlier releases is cleaned up by the first run over the whole project.
TEST(FactsCache, AnInterruptedRunKeepsItsPackAndOldEntriesAreRemoved) {
  TempDir dir;
  write_project(dir.path());
  write_file(dir.path() / kFactsCacheDirectory / "0123456789abcdef.facts", "AWFC old entry");
  {
    FactsCache interrupted(dir.path().string());
    SourceFile api = load(dir.path() / "shop/api.py");
    interrupted.store(api, fresh_facts(api));
  }  // no prune: the run was interrupted
  EXPECT_EQ(packs(dir.path()).size(), 1u);
  EXPECT_EQ(cache_files(dir.path(), ".facts").size(), 1u);
  FactsCache next(dir.path().string());
  EXPECT_EQ(index_project(dir.path(), next), 4u) << "api.py's facts were kept";
  next.prune();
  EXPECT_TRUE(cache_files(dir.path(), ".facts").empty());
  EXPECT_EQ(packs(dir.path()).size(), 1u);
  EXPECT_EQ(next.entry_count(), 5u);
}

TEST(FactsCache, AProjectThatCannotBeWrittenRunsWithoutIt) {
  TempDir dir;
  write_project(dir.path());
  write_file(dir.path() / kFactsCacheDirectory, "not a folder");  // works as root too
  FactsCache cache(dir.path().string());
  SourceFile source = load(dir.path() / "shop/api.py");
  cache.store(source, fresh_facts(source));
  EXPECT_FALSE(cache.load(source));
  CliOutput run = run_awaitify(dir.path(), "check -v shop/api.py");
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.err.find("running without the cache"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("awaitify: error"), std::string::npos) << run.err;
}

// A disk that fills while a run writes its pack (here a file size limit, which cuts a write off
// where a full disk would): the entries written whole before it stay and are published, the one
// cut off is dropped, nothing after it is stored, and no temporary file is left behind.
TEST(FactsCache, AWriteCutOffMidEntryKeepsTheWholeEntriesBeforeIt) {
  TempDir dir;
  write_project(dir.path());
  const std::vector<std::string> names = {"shop/api.py", "shop/models.py", "shop/db.py"};
  std::vector<SourceFile> sources;
  std::vector<ModuleFacts> facts;
  std::vector<size_t> entry_sizes;
  for (const std::string& name : names) {
    sources.push_back(load(dir.path() / name));
    facts.push_back(fresh_facts(sources.back()));
    entry_sizes.push_back(encode_facts(facts.back(), content_hash(sources.back())).size());
  }
  constexpr size_t kHeader = 8, kDirectoryAndFooter = 32 + 32;
  ASSERT_GT(entry_sizes[1] / 2, kDirectoryAndFooter) << "the directory fits where entry 2 was";
  struct Case {
    size_t limit;          // bytes the pack may have
    size_t whole_entries;  // written before the limit, and published
  };
  const Case cases[] = {
      {kHeader / 2, 0},                                    // the header is cut off
      {kHeader + entry_sizes[0] / 2, 0},                   // the first entry is
      {kHeader + entry_sizes[0] + entry_sizes[1] / 2, 1},  // the second is
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("a pack of at most " + std::to_string(c.limit) + " bytes");
    fs::remove_all(dir.path() / kFactsCacheDirectory);
    // The limit holds for the whole process: a child writes the pack under it.
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing
      // The folder and its marker files are made before the limit, as on a disk that filled
      // later.
      {
        FactsCache setup(dir.path().string());
        setup.store(sources[0], facts[0]);
      }
      for (const fs::path& pack : packs(dir.path())) fs::remove(pack);
      rlimit limit{};
      getrlimit(RLIMIT_FSIZE, &limit);
      limit.rlim_cur = static_cast<rlim_t>(c.limit);
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
      FactsCache limited(dir.path().string());
      for (size_t i = 0; i < sources.size(); ++i) limited.store(sources[i], facts[i]);
      limited.prune();
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    EXPECT_TRUE(cache_files(dir.path(), ".tmp").empty());
    EXPECT_EQ(packs(dir.path()).size(), c.whole_entries > 0 ? 1u : 0u);
    FactsCache next(dir.path().string());
    EXPECT_EQ(next.entry_count(), c.whole_entries);
    for (size_t i = 0; i < sources.size(); ++i) {
      auto loaded = next.load(sources[i]);
      ASSERT_EQ(loaded.has_value(), i < c.whole_entries) << names[i];
      if (loaded) expect_same_facts(facts[i], *loaded);
    }
  }
}

// Runs started together on a cold cache each publish a pack of their own; the next run reads
// them all, prints the same, extracts nothing, and merges the duplicate entries away.
TEST(FactsCache, RunsAtTheSameTimeShareTheCache) {
  TempDir dir;
  write_project(dir.path());
  CliOutput uncached = run_awaitify(dir.path(), "diff shop --no-cache");
  constexpr int kRuns = 4;
  std::vector<std::thread> runs;
  for (int i = 0; i < kRuns; ++i) {
    runs.emplace_back([&, i] {
      std::string command = "cd '" + dir.path().string() + "' && " + AWAITIFY_BINARY +
                            " diff shop > .out" + std::to_string(i) + " 2> .err" +
                            std::to_string(i);
      EXPECT_EQ(WEXITSTATUS(std::system(command.c_str())), uncached.status);
    });
  }
  for (std::thread& run : runs) run.join();
  for (int i = 0; i < kRuns; ++i) {
    EXPECT_EQ(read_file(dir.path() / (".out" + std::to_string(i))), uncached.out);
    EXPECT_EQ(read_file(dir.path() / (".err" + std::to_string(i))), uncached.err);
  }
  EXPECT_GE(packs(dir.path()).size(), 1u);
  CliOutput warm = run_awaitify(dir.path(), "diff shop -v");
  EXPECT_EQ(warm.out, uncached.out);
  EXPECT_NE(warm.err.find(" 0 extracted"), std::string::npos) << warm.err;
  EXPECT_EQ(packs(dir.path()).size(), 1u);
  EXPECT_EQ(FactsCache(dir.path().string()).entry_count(), 5u);
  EXPECT_TRUE(cache_files(dir.path(), ".tmp").empty());
}

// The golden-like check of record: every command, cold then warm, prints the same bytes, and
// the same as with --no-cache.
TEST(FactsCache, WarmRunsPrintWhatColdRunsPrint) {
  for (const std::string& command : std::vector<std::string>{
           "check tests/conftest.py shop/api.py", "check --format json shop/api.py",
           "diff shop/db.py", "audit shop", "verify shop/api.py", "plan shop/api.py"}) {
    SCOPED_TRACE(command);
    TempDir dir;
    write_project(dir.path());
    CliOutput uncached = run_awaitify(dir.path(), command + " --no-cache");
    EXPECT_FALSE(fs::exists(dir.path() / kFactsCacheDirectory));
    CliOutput cold = run_awaitify(dir.path(), command);
    EXPECT_EQ(FactsCache(dir.path().string()).entry_count(), 5u)
        << "one entry per Python file of the project";
    EXPECT_EQ(packs(dir.path()).size(), 1u);
    CliOutput warm = run_awaitify(dir.path(), command);
    for (const CliOutput* run : {&cold, &warm}) {
      EXPECT_EQ(run->status, uncached.status);
      EXPECT_EQ(run->out, uncached.out);
      EXPECT_EQ(run->err, uncached.err);
    }
    CliOutput verbose = run_awaitify(dir.path(), command + " -v");
    EXPECT_NE(verbose.err.find(" 0 extracted"), std::string::npos) << verbose.err;
  }
}

// Suppression comments are read from the source again on a hit, not stored: a warm run must
// hold the same files and lines back as a cold one.
TEST(FactsCache, SuppressionsOfAHitAreTheSourcesOwn) {
  TempDir dir;
  write_file(dir.path() / "pyproject.toml", "[project]\nname = \"x\"\n");
  write_file(dir.path() / "legacy.py",
             "# awaitify: skip-file\nimport time\n\n\ndef f():\n    time.sleep(1)  # awaitify: "
             "ignore[AW303]\n");
  FactsCache cache(dir.path().string());
  SourceFile source = load(dir.path() / "legacy.py");
  ModuleFacts facts = fresh_facts(source);
  ASSERT_TRUE(facts.suppressions.skip_file());
  cache.store(source, facts);
  auto loaded = cache.load(source);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->suppressions.skip_file());
  EXPECT_TRUE(loaded->suppressions.suppresses(6, "AW303"));
  EXPECT_FALSE(loaded->suppressions.suppresses(6, "AW501"));
}
