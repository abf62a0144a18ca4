#pragma once
// The tests phase (AW801, AW802): TestClient -> httpx.AsyncClient over ASGITransport, and the
// tests, fixtures and helpers that use the client become async.
//
// A client object is shared: a fixture builds it and many tests call it, a test hands it to a
// helper. Everything that holds one client object forms a *unit*, and a unit converts as a
// whole or not at all (a test left calling a TestClient that became an AsyncClient would get
// coroutines). Which names hold which client crosses files (fixtures live in conftest.py), so
// tests_facts.cpp reads each test file once into plain facts and tests_model.cpp joins them
// into units; the passes then edit their own file by asking the model.
#include <tree_sitter/api.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "awaitify/index.hpp"
#include "awaitify/plan.hpp"
#include "awaitify/transform.hpp"

namespace awaitify::aw80x {

constexpr const char* kClientId = "AW801";
constexpr const char* kAsyncId = "AW802";

struct Range {
  uint32_t start = 0;
  uint32_t end = 0;
  uint32_t line = 0;  // 1-based, for messages that point at another file
};

// ---------------------------------------------------------------- one file's facts

enum class UseKind {
  request,    // client.get(...) and the other HTTP methods: awaited
  allowed,    // an attribute both clients have (client.headers, client.cookies, ...)
  websocket,  // client.websocket_connect(...): httpx has none
  stream,     // client.stream(...): an async context manager in httpx, not rewritten yet
  returned,   // return/yield client: a fixture hands it on
  passed,     // helper(client): the helper's parameter holds it too
  refused,    // any other use; `why` says what it is
};

// An occurrence of a name that may hold a client (a parameter, a local bound to a
// construction, a module-level client).
struct Use {
  std::string function;  // qualified; the module name for module-level code
  std::string name;
  UseKind kind = UseKind::refused;
  Range range;         // request/websocket/stream: the call; otherwise the name
  std::string callee;  // passed: the project function (canonical)
  int position = -1;   // passed: the positional slot, or -1 with `keyword`
  std::string keyword;
  std::string why;             // refused: what the use is
  bool module_client = false;  // the name is a module-level client of the file
};

enum class ConstructionKind { with_item, assignment, returned };

struct Construction {
  std::string function;  // qualified; the module name for a module-level client
  std::string name;      // the name it is bound to ("" for `return TestClient(...)`)
  ConstructionKind kind = ConstructionKind::assignment;
  Range call;
  std::string why;  // set when this construction cannot be rewritten
};

struct Parameter {
  std::string name;
  std::optional<Range> client_annotation;  // `client: TestClient`
};

struct FunctionInfo {
  std::string qualified;
  std::string name;
  Range def;
  bool is_async = false;
  bool is_test = false;  // collected by pytest
  bool is_fixture = false;
  std::string fixture_name;  // name= or the function's name
  std::string scope = "function";
  bool scope_known = true;  // scope= is a string literal
  std::string loop_scope;   // loop_scope= of a pytest_asyncio fixture, when given
  bool autouse = false;
  std::vector<Parameter> parameters;
  std::optional<Range> client_return_annotation;  // `-> TestClient`
  std::set<std::string> rebound;  // names assigned from something other than a TestClient
};

struct FileFacts {
  std::string path;  // normalised
  std::string module;
  bool test_file = false;  // test_*.py, *_test.py or conftest.py
  std::vector<FunctionInfo> functions;
  std::vector<Construction> constructions;
  std::vector<Use> uses;
  std::string name_conflict;   // a name the rewrite adds (AsyncClient, ...) bound to something else
  bool anyio_marks = false;    // pytest.mark.anyio or an anyio_backend fixture
  bool asyncio_marks = false;  // pytest.mark.asyncio or pytest_asyncio
  bool asgi_lifespan = false;  // imports asgi_lifespan

  const FunctionInfo* function(const std::string& qualified) const;
};

// pytest's fixture scopes, narrowest first: function 0 ... session 4.
int scope_rank(const std::string& scope);

// What TestClient(...) resolves to must be one of these.
bool is_test_client(const std::string& qualified);
bool is_pytest_fixture_decorator(const std::string& qualified);
std::string normal_path(const std::string& path);

// Reads one parsed file. `facts` resolves its names (the index's facts of the file).
FileFacts read_file_facts(const ModuleFacts& facts, std::string_view text, TSNode root);
// The same, read once per path and content: the model's read of a file when the text is the
// one the model read, else a read of `root` (a tree of `text`), kept for the next ask.
std::shared_ptr<const FileFacts> file_facts(const ModuleFacts& facts, std::string_view text,
                                            TSNode root);
// The model's read of a file it is sure to read (a test file, one importing TestClient), taken
// while extraction has the tree (TransformInfo::read_with_tree): the model then finds it kept.
void read_while_parsed(const ModuleFacts& facts, std::string_view text, TSNode root);
// The read kept for this text of the file (by the model or a pass), or null: nothing is parsed.
std::shared_ptr<const FileFacts> kept_file_facts(const ModuleFacts& facts, std::string_view text);

// ---------------------------------------------------------------- the project's units

enum class Runner { asyncio_strict, asyncio_auto, anyio };

struct PytestSetup {
  Runner runner = Runner::asyncio_strict;
  std::string default_loop_scope;  // asyncio_default_fixture_loop_scope ("" when unset)
  bool asgi_lifespan = false;      // the project already uses asgi-lifespan
};

struct Unit {
  std::string key;                         // "local:f:name", "global:module.name"
  std::string location;                    // "path:line" of its first construction
  std::vector<std::string> refusals;       // why it stays a TestClient (from the files)
  std::set<std::string> needs_async;       // functions that must be async (call or enter it)
  std::vector<std::string> not_async_yet;  // needs_async functions not async today
};

// The tests phase's passes apply only to the files its model may hold (AppliesFn).
bool in_test_code(const ModuleFacts& facts, const ProjectIndex& index, const Plan& plan);

class Model {
 public:
  // The model of the index's project. Files are read from disk (the text the index was built
  // from); `current`, when given, stands in for a file that is not on disk (stdin). The call
  // that builds it reads the test files on `jobs` threads (0: every core).
  static std::shared_ptr<const Model> of(const ProjectIndex& index,
                                         const FileContext* current = nullptr, unsigned jobs = 1);
  // Whether the model may hold a file (it is among the files the tests phase reads): a pass
  // of the tests phase has nothing to do anywhere else.
  static bool may_hold(const ProjectIndex& index, const std::string& path);
  // Whether a pass on the file at `path` works with the run's one model, of(index) (which reads
  // files from disk): a file that is not on disk (stdin, unit tests) gets a model of its own
  // text when its pass runs.
  static bool run_model_reads(const std::string& path);

  const PytestSetup& setup() const { return setup_; }
  // The unit a name holds in a function (qualified; the module name at module level), if any.
  const Unit* unit_of(const std::string& function, const std::string& name) const;
  // The unit a fixture hands to the tests that request it.
  const Unit* provided_by(const std::string& fixture) const;
  const FunctionInfo* function(const std::string& qualified) const;
  // The facts of a file the tests phase reads (a test file, a conftest.py, a file that imports
  // TestClient, or a neighbour of a test file); nullptr for any other file.
  const FileFacts* file(const std::string& path) const;
  // Why a unit stays a TestClient in this run (empty when it converts): its refusals, or a
  // function that must become async and that the plan does not make async.
  std::string refusal(const Unit& unit, const Plan& plan) const;
  // The functions the units that can convert need async (AW802's seeds).
  std::vector<Seed> seeds() const;
  // The fixture pytest gives `requester` for a parameter name: its own module's, else the
  // nearest conftest.py's up the directories (a fixture overriding its own name gets the outer
  // one). Fixtures imported into a conftest and pytest_plugins are not followed.
  const FunctionInfo* fixture_for(const FunctionInfo& requester, const std::string& name) const;
  // The fixtures a test or fixture requests (its parameters, and autouse fixtures in scope).
  std::vector<const FunctionInfo*> requested_fixtures(const FunctionInfo& function) const;
  // The event loop scope an async test or fixture needs: the widest scope of the async
  // fixtures it depends on (and its own, for a fixture). "function" when nothing is wider.
  std::string loop_scope(const FunctionInfo& function, const Plan& plan) const;
  bool async_after(const FunctionInfo& function, const Plan& plan) const;

 private:
  friend class ModelBuilder;
  PytestSetup setup_;
  std::map<std::string, std::shared_ptr<const FileFacts>> files_;  // by normalised path
  std::map<std::string, const FunctionInfo*> functions_;
  std::map<std::string, std::string> function_paths_;
  std::map<std::string, std::shared_ptr<Unit>> units_;                   // by root key
  std::map<std::pair<std::string, std::string>, std::string> bindings_;  // (function, name) -> unit
  std::map<std::string, std::string> providers_;                         // fixture -> unit
  std::vector<std::pair<std::string, const FunctionInfo*>> autouse_;     // (path, fixture)
};

// ---------------------------------------------------------------- rewriting helpers

// `TestClient(app, base_url=...)` -> `AsyncClient(transport=ASGITransport(app=app), ...)`, or
// why it cannot be rewritten. `app` receives the app expression.
Result<std::string> async_client_call(TSNode call, std::string_view src, TSNode* app = nullptr);

}  // namespace awaitify::aw80x
