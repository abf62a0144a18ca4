#include "awaitify/index.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "awaitify/engine.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;
namespace fs = std::filesystem;

namespace {

// Writes a small project and indexes it.
ProjectIndex index_of(const TempDir& dir, const std::map<std::string, std::string>& files) {
  std::vector<ModuleFacts> modules;
  for (const auto& [path, text] : files) write_file(dir.path() / path, text);
  for (const auto& [path, text] : files) {
    auto facts = facts_for(SourceFile((dir.path() / path).string(), text));
    EXPECT_TRUE(facts.ok());
    modules.push_back(*facts);
  }
  return ProjectIndex(std::move(modules));
}

}  // namespace

TEST(ModuleNames, FollowThePackageLayout) {
  TempDir dir;
  write_file(dir.path() / "src/app/__init__.py", "");
  write_file(dir.path() / "src/app/api/__init__.py", "");
  write_file(dir.path() / "src/app/api/items.py", "");
  write_file(dir.path() / "script.py", "");
  bool package = false;
  EXPECT_EQ(module_name_for((dir.path() / "src/app/api/items.py").string(), &package),
            "app.api.items");
  EXPECT_FALSE(package);
  EXPECT_EQ(module_name_for((dir.path() / "src/app/api/__init__.py").string(), &package),
            "app.api");
  EXPECT_TRUE(package);
  EXPECT_EQ(module_name_for((dir.path() / "script.py").string()), "script");
}

TEST(Index, ResolvesAbsoluteRelativeAndAliasedImports) {
  TempDir dir;
  ProjectIndex index =
      index_of(dir, {
                        {"app/__init__.py", "from .api import router\n"},
                        {"app/api.py", "from fastapi import APIRouter\nrouter = APIRouter()\n"},
                        {"app/sub/__init__.py", ""},
                        {"app/sub/mod.py",
                         "import requests as r\nfrom ..api import router\nfrom . import "
                         "helpers\nfrom .. import api as a\n"
                         "from sqlalchemy.orm import Session\nimport os.path\nfrom x import *\n"},
                    });
  const ModuleFacts* mod = index.module("app.sub.mod");
  ASSERT_NE(mod, nullptr);
  EXPECT_EQ(mod->resolve("r.get"), "requests.get");
  EXPECT_EQ(mod->resolve("router"), "app.api.router");
  EXPECT_EQ(mod->resolve("helpers.fetch"), "app.sub.helpers.fetch");
  EXPECT_EQ(mod->resolve("a.router"), "app.api.router");
  EXPECT_EQ(mod->resolve("Session"), "sqlalchemy.orm.Session");
  EXPECT_EQ(mod->resolve("os.path.exists"), "os.path.exists");
  EXPECT_EQ(mod->resolve("open"), "builtins.open");
  EXPECT_EQ(mod->resolve("unknown"), "");
  EXPECT_EQ(mod->star_imports, std::vector<std::string>{"x"});
  EXPECT_TRUE(index.is_fastapi_app_or_router("app.router"));  // re-exported by the package
  EXPECT_FALSE(index.is_fastapi_app("app.api.router"));
}

TEST(Index, KnowsAppsAndMiddlewareBases) {
  TempDir dir;
  ProjectIndex index = index_of(
      dir, {
               {"main.py",
                "import fastapi\nfrom starlette.middleware.base import BaseHTTPMiddleware as B\n"
                "app = fastapi.FastAPI()\nclass Base(B):\n    pass\nclass Timing(Base):\n    pass\n"
                "other = dict()\n"},
           });
  EXPECT_TRUE(index.is_fastapi_app("main.app"));
  EXPECT_FALSE(index.is_fastapi_app_or_router("main.other"));
  EXPECT_TRUE(index.derives_from("main.Timing", "starlette.middleware.base.BaseHTTPMiddleware"));
  EXPECT_FALSE(index.derives_from("main.other", "starlette.middleware.base.BaseHTTPMiddleware"));
}

TEST(Index, FollowsBlockingCallsAcrossModules) {
  TempDir dir;
  ProjectIndex index = index_of(
      dir,
      {
          {"svc/__init__.py", ""},
          {"svc/low.py", "import time\ndef wait():\n    time.sleep(1)\n"},
          {"svc/mid.py",
           "from .low import wait\ndef step():\n    return wait()\ndef pure():\n    return 1\n"},
          {"svc/loop.py", "def a():\n    return b()\ndef b():\n    return a()\n"},
      });
  EXPECT_EQ(index.blocking_chain("svc.mid.step"), "svc.mid.step -> svc.low.wait -> time.sleep (" +
                                                      (dir.path() / "svc/low.py").string() + ":3)");
  EXPECT_EQ(index.blocking_chain("svc.mid.pure"), "");
  EXPECT_EQ(index.blocking_chain("svc.loop.a"), "");  // a cycle terminates
  EXPECT_EQ(index.callers_of("svc.low.wait").size(), 1u);
}

TEST(Index, SessionParameterUseIsBlocking) {
  TempDir dir;
  ProjectIndex index =
      index_of(dir, {
                        {"repo.py",
                         "from typing import Annotated\nfrom sqlalchemy.orm import Session\n"
                         "def load(db: Session):\n    return db.query(X).all()\n"
                         "def add(db: Annotated[Session, Depends(get_db)]):\n    db.commit()\n"
                         "def only_add(db: Session):\n    db.add(x)\n"},
                    });
  EXPECT_NE(index.blocking_chain("repo.load"), "");
  EXPECT_NE(index.blocking_chain("repo.add"), "");
  // Any use of a sync Session counts: the db phase is what migrates it.
  EXPECT_NE(index.blocking_chain("repo.only_add"), "");
}

TEST(Index, MethodsCallThroughSelf) {
  TempDir dir;
  ProjectIndex index = index_of(dir, {
                                         {"svc.py",
                                          "import requests\nclass Client:\n    def fetch(self):\n  "
                                          "      return requests.get('u')\n"
                                          "    def run(self):\n        return self.fetch()\n"},
                                     });
  EXPECT_NE(index.blocking_chain("svc.Client.run"), "");
}

TEST(Index, MethodsOfModuleAndLocalInstances) {
  TempDir dir;
  ProjectIndex index =
      index_of(dir, {
                        {"pkg/__init__.py", ""},
                        {"pkg/pricing.py",
                         "class Catalog:\n    def load(self):\n        return open('p').read()\n"
                         "    def price(self):\n        return self.load()\n"
                         "catalog = Catalog()\n"
                         "def total():\n    return catalog.price()\n"},
                        {"pkg/orders.py",
                         "from .pricing import catalog, Catalog\n"
                         "def quote():\n    return catalog.price()\n"
                         "def local():\n    c = Catalog()\n    return c.price()\n"
                         "def rebound():\n    c = Catalog()\n    c = 3\n    return c.price()\n"
                         // A bare annotation rebinds the name too, in a block that holds no
                         // call and no '=' (which the scan does not walk below otherwise).
                         "def annotated(flag):\n    c = Catalog()\n    if flag:\n        c: int\n"
                         "    return c.price()\n"},
                    });
  EXPECT_NE(index.blocking_chain("pkg.pricing.total"), "");
  EXPECT_EQ(index.blocking_chain("pkg.orders.quote")
                .rfind("pkg.orders.quote -> pkg.pricing.Catalog.price -> "
                       "pkg.pricing.Catalog.load -> builtins.open",
                       0),
            0u);
  EXPECT_NE(index.blocking_chain("pkg.orders.local"), "");
  EXPECT_EQ(index.blocking_chain("pkg.orders.rebound"), "");
  EXPECT_EQ(index.blocking_chain("pkg.orders.annotated"), "");
}

TEST(Index, ResolvesTypedParametersAttributesAndConstructedObjects) {
  TempDir dir;
  ProjectIndex index =
      index_of(dir, {
                        {"svc.py",
                         "from sqlalchemy.orm import Session\n"
                         "class Books:\n"
                         "    def __init__(self, db: Session):\n        self.db = db\n"
                         "    def count(self):\n        return self.db.query(B).count()\n"
                         "    def pure(self):\n        return 1\n"
                         "def by_param(books: Books):\n    return books.count()\n"
                         "def by_constructor(db):\n    return Books(db).count()\n"
                         "def pure_only(books: Books):\n    return books.pure()\n"},
                    });
  EXPECT_EQ(index.blocking_chain("svc.Books.count")
                .rfind("svc.Books.count -> sqlalchemy.orm.Session.query", 0),
            0u);
  EXPECT_NE(index.blocking_chain("svc.by_param"), "");
  EXPECT_NE(index.blocking_chain("svc.by_constructor"), "");
  EXPECT_EQ(index.blocking_chain("svc.pure_only"), "");
  EXPECT_EQ(index.callers_of("svc.Books.count").size(), 2u);
}

TEST(Index, RecordsWhatCannotBeResolved) {
  TempDir dir;
  ProjectIndex index = index_of(dir, {{"m.py", "def f(thing):\n    return thing.save()\n"}});
  ASSERT_EQ(index.unresolved_calls_named("save").size(), 1u);
  EXPECT_EQ(index.unresolved_calls_named("save").front().caller->qualified, "m.f");
}

TEST(Index, KnowsTheRolesOfFunctions) {
  TempDir dir;
  ProjectIndex index =
      index_of(dir, {
                        {"main.py",
                         "from fastapi import FastAPI, Depends\nimport pytest\n"
                         "app = FastAPI()\n"
                         "def get_db():\n    yield 1\n"
                         "@app.get('/')\ndef root(db=Depends(get_db)):\n    return 1\n"
                         "@app.middleware('http')\nasync def mw(request, call_next):\n    return "
                         "await call_next(request)\n"
                         "@app.on_event('startup')\ndef boot():\n    pass\n"},
                        {"test_main.py",
                         "import pytest\n@pytest.fixture\ndef client():\n    return 1\ndef "
                         "test_root(client):\n    pass\n"},
                    });
  auto roles = [&](const std::string& name) { return index.roles(*index.function(name)); };
  EXPECT_EQ(roles("main.root"), std::vector<std::string>{"path operation"});
  EXPECT_EQ(roles("main.get_db"), std::vector<std::string>{"dependency"});
  EXPECT_EQ(roles("main.mw"), std::vector<std::string>{"middleware"});
  EXPECT_EQ(roles("main.boot"), std::vector<std::string>{"event handler"});
  EXPECT_EQ(roles("test_main.client"), std::vector<std::string>{"fixture"});
  EXPECT_EQ(roles("test_main.test_root"), std::vector<std::string>{"test"});
}

TEST(Index, KnowsWhatEachRelationshipPointsTo) {
  TempDir dir;
  ProjectIndex index = index_of(
      dir, {{"models.py",
             "from typing import List, Optional\n"
             "from sqlalchemy.orm import Mapped, relationship\n"
             "from other import Tag\n\n"
             "class Review(Base):\n    pass\n\n"
             "class Book(Base):\n"
             "    reviews: Mapped[List[Review]] = relationship()\n"
             "    author: Mapped[Optional[\"Author\"]] = relationship(back_populates='books')\n"
             "    tags = relationship(Tag)\n"
             "    shelf = relationship('Shelf')\n"}});
  const ModuleFacts* models = index.module("models");
  ASSERT_NE(models, nullptr);
  const auto& targets = models->relationship_targets.at("models.Book");
  EXPECT_EQ(targets.at("reviews"), "models.Review");  // not typing.List nor sqlalchemy's Mapped
  EXPECT_EQ(targets.at("author"), "Author");          // a class named by a string
  EXPECT_EQ(targets.at("tags"), "other.Tag");
  EXPECT_EQ(targets.at("shelf"), "Shelf");
}

// callee() answers, from what the index found when it was built, what function() finds for the
// call's target: for every call of every function of the sample apps, on one thread and two.
TEST(Index, TheCalleeOfEachCallIsTheFunctionItsTargetNames) {
  size_t calls = 0, resolved = 0;
  for (const auto& app : fs::directory_iterator(fs::path(AWAITIFY_FIXTURES) / "apps")) {
    std::vector<ModuleFacts> modules;
    for (const auto& entry : fs::recursive_directory_iterator(app.path())) {
      if (entry.path().extension() != ".py") continue;
      auto facts = facts_for(SourceFile(entry.path().string(), read_file(entry.path())));
      ASSERT_TRUE(facts.ok()) << entry.path();
      modules.push_back(*facts);
    }
    for (unsigned jobs : {1u, 2u}) {
      ProjectIndex index(modules, jobs);
      for (const FunctionFacts* fn : index.functions()) {
        for (size_t i = 0; i < fn->calls.size(); ++i) {
          ASSERT_EQ(index.callee(*fn, i), index.function(fn->calls[i].target))
              << fn->qualified << " calls " << fn->calls[i].target;
          ++calls;
          resolved += index.callee(*fn, i) != nullptr;
        }
      }
      // A function of another index (a copy) is answered too, by looking its callees up.
      FunctionFacts copy = *index.functions().back();
      for (size_t i = 0; i < copy.calls.size(); ++i)
        EXPECT_EQ(index.callee(copy, i), index.function(copy.calls[i].target));
    }
  }
  EXPECT_GT(calls, 500u);
  EXPECT_GT(resolved, 100u);
}

// A value of the memo is made once, by the first thread to ask, and the others that ask for it
// get that value; a thread that asks for another value meanwhile is not held up.
TEST(Index, MemoMakesEachValueOnceAndOneValueDoesNotWaitForAnother) {
  ProjectIndex index;
  std::promise<void> slow_started, fast_made;
  std::shared_future<void> fast_done = fast_made.get_future().share();
  std::atomic<int> slow_makes{0};
  auto ask_slow = [&] {
    return *index.memo<bool>("slow", [&] {
      ++slow_makes;
      slow_started.set_value();
      // Made while another thread asks for another value (a lock shared by every value would
      // hold that thread up until this one is made: then this waits out its 10 seconds).
      bool other_in_time =
          fast_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
      return std::make_shared<const bool>(other_in_time);
    });
  };
  std::future<bool> first = std::async(std::launch::async, ask_slow);
  slow_started.get_future().wait();
  std::future<bool> second = std::async(std::launch::async, ask_slow);  // waits for the first's
  EXPECT_EQ(*index.memo<int>("fast", [] { return std::make_shared<const int>(2); }), 2);
  fast_made.set_value();
  EXPECT_TRUE(first.get()) << "the other value waited for this one to be made";
  EXPECT_TRUE(second.get());
  EXPECT_EQ(slow_makes, 1);
  EXPECT_EQ(*index.memo<int>("fast", [] { return std::make_shared<const int>(3); }), 2);
}
