#include <gtest/gtest.h>

#include "awaitify/imports.hpp"
#include "test_util.hpp"

using namespace awaitify;
using namespace awaitify::testing_util;

namespace {

template <typename Setup>
std::string edit_imports(const std::string& text, Setup setup, std::set<std::string> first_party = {"app"}) {
  Parsed parsed = parse(text);
  ImportEditor editor(parsed.source, parsed.root(), first_party);
  setup(editor);
  return apply_edits(text, editor.edits());
}

}  // namespace

TEST(ImportEditor, MergesIntoExistingFromImportInSortedPosition) {
  EXPECT_EQ(edit_imports("from x import b, c\n", [](ImportEditor& e) { e.require_from("x", "a"); }),
            "from x import a, b, c\n");
  EXPECT_EQ(edit_imports("from x import b, c\n", [](ImportEditor& e) { e.require_from("x", "d"); }),
            "from x import b, c, d\n");
}

TEST(ImportEditor, AppendsToAnUnsortedList) {
  EXPECT_EQ(edit_imports("from x import c, b\n", [](ImportEditor& e) { e.require_from("x", "a"); }),
            "from x import c, b, a\n");
}

TEST(ImportEditor, MergesIntoParenthesizedMultiLineImport) {
  EXPECT_EQ(edit_imports("from x import (\n    b,\n    d,\n)\n",
                         [](ImportEditor& e) {
                           e.require_from("x", "c");
                           e.require_from("x", "e");
                         }),
            "from x import (\n    b,\n    c,\n    d,\n    e,\n)\n");
}

TEST(ImportEditor, NothingWhenAlreadyImported) {
  std::string text = "from x import a\nimport os\n";
  EXPECT_EQ(edit_imports(text,
                         [](ImportEditor& e) {
                           e.require_from("x", "a");
                           e.require_module("os");
                         }),
            text);
}

// The only import goes and one of a later group arrives: it takes the place, without a blank
// line above it; a new import of an earlier group keeps the groups apart.
TEST(ImportEditor, NewGroupTakesThePlaceOfTheImportsThatGo) {
  auto swap = [](ImportEditor& e) {
    e.require_module("aiofiles.os");
    e.drop_if_unused("os");
  };
  EXPECT_EQ(edit_imports("import os\n\n\ndef f():\n    pass\n", swap),
            "import aiofiles.os\n\n\ndef f():\n    pass\n");
  EXPECT_EQ(edit_imports("import os\n\nfrom app import x\n\nx()\n", swap),
            "import aiofiles.os\n\nfrom app import x\n\nx()\n");
  auto both = [](ImportEditor& e) {
    e.require_module("json");
    e.require_module("aiofiles");
    e.drop_if_unused("load");
  };
  EXPECT_EQ(edit_imports("from json import load\n\n\ndef f():\n    pass\n", both),
            "import json\n\nimport aiofiles\n\n\ndef f():\n    pass\n");
}

TEST(ImportEditor, NewStatementAfterTheLastImportOfItsGroup) {
  std::string text = "import os\nimport sys\n\nfrom fastapi import FastAPI\n\nfrom app.db import x\n\nX = 1\n";
  EXPECT_EQ(edit_imports(text, [](ImportEditor& e) { e.require_from("contextlib", "asynccontextmanager"); }),
            "import os\nimport sys\nfrom contextlib import asynccontextmanager\n\nfrom fastapi import "
            "FastAPI\n\nfrom app.db import x\n\nX = 1\n");
  EXPECT_EQ(edit_imports(text, [](ImportEditor& e) { e.require_module("httpx"); }),
            "import os\nimport sys\n\nimport httpx\nfrom fastapi import FastAPI\n\nfrom app.db import "
            "x\n\nX = 1\n");
}

TEST(ImportEditor, SortedPositionInASortedGroupElseAfterTheLast) {
  EXPECT_EQ(edit_imports("import os\nimport sys\n", [](ImportEditor& e) { e.require_module("asyncio"); }),
            "import asyncio\nimport os\nimport sys\n");
  EXPECT_EQ(edit_imports("import sys\nimport os\n", [](ImportEditor& e) { e.require_module("asyncio"); }),
            "import sys\nimport os\nimport asyncio\n");
  EXPECT_EQ(edit_imports("from typing import Any\n", [](ImportEditor& e) { e.require_module("asyncio"); }),
            "import asyncio\nfrom typing import Any\n");
  EXPECT_EQ(edit_imports("import os\nfrom typing import Any\n",
                         [](ImportEditor& e) { e.require_from("contextlib", "contextmanager"); }),
            "import os\nfrom contextlib import contextmanager\nfrom typing import Any\n");
}

TEST(ImportEditor, NewGroupGoesAfterTheGroupBeforeIt) {
  EXPECT_EQ(edit_imports("import os\n\nx = 1\n", [](ImportEditor& e) { e.require_module("httpx"); }),
            "import os\n\nimport httpx\n\nx = 1\n");
  EXPECT_EQ(edit_imports("from fastapi import FastAPI\n", [](ImportEditor& e) { e.require_module("asyncio"); }),
            "import asyncio\n\nfrom fastapi import FastAPI\n");
}

TEST(ImportEditor, SeveralNamesFromOneNewModuleShareOneStatement) {
  EXPECT_EQ(edit_imports("import os\n",
                         [](ImportEditor& e) {
                           e.require_from("sqlalchemy", "select");
                           e.require_from("sqlalchemy", "func");
                         }),
            "import os\n\nfrom sqlalchemy import func, select\n");
}

TEST(ImportEditor, NoImportsYetGoesAfterTheDocstring) {
  EXPECT_EQ(edit_imports("\"\"\"Doc.\"\"\"\nx = 1\n", [](ImportEditor& e) { e.require_module("asyncio"); }),
            "\"\"\"Doc.\"\"\"\n\nimport asyncio\n\nx = 1\n");
}

TEST(ImportEditor, KeepsCrlf) {
  EXPECT_EQ(edit_imports("import os\r\nx = 1\r\n", [](ImportEditor& e) { e.require_module("sys"); }),
            "import os\r\nimport sys\r\nx = 1\r\n");
}

TEST(ImportEditor, RemovesAnImportWithoutUsers) {
  EXPECT_EQ(edit_imports("import requests\nimport os\nos.getcwd()\n",
                         [](ImportEditor& e) { e.drop_if_unused("requests"); }),
            "import os\nos.getcwd()\n");
  EXPECT_EQ(edit_imports("from x import a, b, c\nb()\n",
                         [](ImportEditor& e) {
                           e.drop_if_unused("c");
                         }),
            "from x import a, b\nb()\n");
  EXPECT_EQ(edit_imports("from x import a, b\nb()\n", [](ImportEditor& e) { e.drop_if_unused("a"); }),
            "from x import b\nb()\n");
}

TEST(ImportEditor, RemovesSeveralNamesOfOneStatement) {
  auto drop = [](std::vector<std::string> names) {
    return [names](ImportEditor& e) {
      for (const std::string& name : names) e.drop_if_unused(name);
    };
  };
  EXPECT_EQ(edit_imports("from requests import Session, get\nx = 1\n", drop({"get", "Session"})), "x = 1\n");
  EXPECT_EQ(edit_imports("from x import a, b, c\na()\n", drop({"b", "c"})), "from x import a\na()\n");
  EXPECT_EQ(edit_imports("from x import a, b, c\nc()\n", drop({"a", "b"})), "from x import c\nc()\n");
  EXPECT_EQ(edit_imports("from x import a, b, c\nb()\n", drop({"a", "c"})), "from x import b\nb()\n");
}

TEST(ImportEditor, KeepsAnImportThatIsStillUsed) {
  std::string used = "import requests\nrequests.get('u')\n";
  EXPECT_EQ(edit_imports(used, [](ImportEditor& e) { e.drop_if_unused("requests"); }), used);
  std::string exported = "from x import a\n__all__ = ['a']\n";
  EXPECT_EQ(edit_imports(exported, [](ImportEditor& e) { e.drop_if_unused("a"); }), exported);
  std::string attribute_only = "import get\nobj.get()\n";
  EXPECT_EQ(edit_imports(attribute_only, [](ImportEditor& e) { e.drop_if_unused("get"); }), "obj.get()\n");
}

TEST(ImportEditor, UsesInsideARewrittenRangeDoNotKeepAnImport) {
  std::string text = "import time\ndef f():\n    time.sleep(1)\n";
  EXPECT_EQ(edit_imports(text,
                         [&](ImportEditor& e) {
                           e.ignore_uses_in(static_cast<uint32_t>(text.find("time.sleep")),
                                            static_cast<uint32_t>(text.find("(1)")));
                           e.drop_if_unused("time");
                         }),
            "def f():\n    time.sleep(1)\n");
}

// A file whose last line is an import with no newline: an import added after that line starts
// one, in its group and in a later one, where it used to join that line
// (`from pydantic import Fieldfrom starlette.concurrency import ...`).
TEST(ImportEditor, AddsALineAfterAnUnterminatedLastImport) {
  EXPECT_EQ(edit_imports("import os\nfrom pydantic import Field",
                         [](ImportEditor& e) {
                           e.require_from("starlette.concurrency", "run_in_threadpool");
                         }),
            "import os\nfrom pydantic import Field\nfrom starlette.concurrency import "
            "run_in_threadpool\n");
  EXPECT_EQ(edit_imports("import os", [](ImportEditor& e) { e.require_module("aiofiles"); }),
            "import os\n\nimport aiofiles\n");
}
