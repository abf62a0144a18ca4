#pragma once
// The project index: facts extracted from each file while it is parsed (so trees need not stay
// in memory), combined once per run into a read-only model that transforms ask.
#include <tree_sitter/api.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "awaitify/source.hpp"
#include "awaitify/suppress.hpp"

namespace awaitify {

// Where a call stands, for the closure: some places cannot await.
enum class CallContext {
  plain,             // a statement or expression of a function body
  lambda,            // inside a lambda
  generator,         // inside a generator expression
  comprehension,     // inside a list/set/dict comprehension
  class_body,        // a class body, run at import
  default_argument,  // a parameter default, run at definition
  main_guard,        // under `if __name__ == "__main__":`
  module_level,      // other module-level code, run at import
};
const char* describe(CallContext context);

struct CallFact {
  std::string target;  // qualified name the call resolves to ("requests.get", "app.db.fetch")
  uint32_t line = 0;
  uint32_t column = 0;
  bool awaited = false;
  bool as_argument = false;  // the call's result is passed straight to another call
  CallContext context = CallContext::plain;
  std::string passed_to;  // references only: the callee the name is passed to
};

// A pass's verdict on one call of a function body, recorded while the tree is there so the pass
// can seed and report on a file it leaves unchanged without parsing it again (AW301: each
// open() and tempfile call, and whether it can move to aiofiles).
struct PassVerdict {
  std::string pass;            // the transform ID that recorded it
  uint32_t byte = 0;           // where the call starts, in the file's text
  std::string shown;           // the call as messages name it: "open()"
  std::string refusal;         // why it cannot move; empty when it can
  bool all_or_nothing = true;  // it moves only with every such call of its function
  bool async_only = false;     // it moves in code that is async anyway, and seeds nothing
};

struct FunctionFacts {
  std::string qualified;   // module.func or module.Class.method (module.<module> for top level)
  std::string class_name;  // qualified class, for methods
  uint32_t line = 0;
  // The header a `# awaitify: ignore` comment holds the whole function by: from its first
  // decorator to the line before its body (the def line when the body shares it).
  uint32_t first_line = 0, header_end_line = 0;
  uint32_t end_line = 0;  // its last line (nested definitions included)
  bool is_async = false;
  bool is_generator = false;
  bool is_module = false;               // the pseudo-function of module-level code
  std::vector<std::string> decorators;  // resolved, in order
  std::vector<CallFact> calls;          // resolved calls made by the body (nested defs excluded)
  std::vector<CallFact> blocking;       // calls the engine knows block the event loop
  std::vector<CallFact> references;     // names passed as values (`Depends(f)`, `map(f, xs)`)
  std::vector<CallFact> unresolved_methods;  // `obj.m()` on an object of unknown type: target "m"
  // The db phase: the function holds a sync session (a parameter annotated Session, or
  // `self.<attribute>` of its class), and its body would await once that is an AsyncSession.
  bool holds_session = false;
  bool session_awaits = false;
  // Why its session use cannot move to an AsyncSession as written ("`with db.connection()` at
  // line 24 ..."): the db phase keeps it, and what shares its session, sync. Empty when it can.
  std::string session_blocker;
  // The models its session loads (`select(X)`, `db.get(X, pk)`, `db.query(X)`), resolved, and
  // the relationships it loads eagerly (`selectinload(X.rel)`: "module.X.rel"), so a caller
  // reading a lazy relationship of what it returns can be told where to load it.
  std::vector<std::string> loaded_models;
  std::vector<std::string> eager_loads;
  // The resolved annotations of its parameters (type aliases not followed).
  std::vector<std::string> parameter_types;
  // What its parameters depend on: `Depends(get_db)` / `Annotated[T, Depends(get_db)]`, resolved.
  std::vector<std::string> dependencies;
  // Verdicts of the passes that record them (TransformInfo::record_verdicts), in body order.
  std::vector<PassVerdict> verdicts;

  std::string name() const { return qualified.substr(qualified.rfind('.') + 1); }
};

struct BlockingPath {
  std::vector<std::string> functions;  // project functions, outermost first
  CallFact call;                       // the blocking call made by the last one
  std::string path;                    // the file that makes it
};

struct ClassFacts {
  std::string name;
  std::vector<std::string> bases;                 // qualified
  std::map<std::string, std::string> attributes;  // self.x set in __init__ -> its type
  std::vector<std::string> fields;                // `name: T` in the class body (pydantic, models)
  // Mapped columns the database fills: on INSERT (server_default=, a positional FetchedValue(),
  // Computed) and on UPDATE (server_onupdate=, Computed). A flush expires them (unless the
  // mapper has eager_defaults), and reading one then is a lazy load.
  std::set<std::string> insert_generated;
  std::set<std::string> update_generated;
  bool eager_defaults = false;  // `__mapper_args__ = {"eager_defaults": True}`
};

// Everything a file contributes to the index. .awaitify_cache/ stores every field of it and of
// the structs it holds (src/facts_cache.cpp): a field added, removed or changed in meaning here,
// in ClassFacts, FunctionFacts or CallFact needs the same change there and kFactsCacheFormat
// bumped (include/awaitify/facts_cache.hpp). The build fails when a field is added without it.
struct ModuleFacts {
  std::string path;
  std::string module;  // dotted module name
  bool is_package = false;
  std::map<std::string, std::string> imports;       // local name -> qualified name
  std::map<std::string, uint32_t> import_lines;     // local name -> line of the import binding it
  std::vector<std::string> star_imports;            // modules imported with *
  std::map<std::string, std::string> instances;     // top-level name -> qualified constructor
  std::map<std::string, ClassFacts> classes;        // top-level classes
  std::map<std::string, std::string> type_aliases;  // `X = Annotated[T, ...]` / `X = T`: X -> T
  std::vector<std::string> functions;               // top-level function names
  std::vector<FunctionFacts> function_facts;        // every function and method
  // relationship() / Relationship() attributes of its model classes: qualified class ->
  // attribute -> loaded eagerly by default (lazy="selectin", ...).
  std::map<std::string, std::map<std::string, bool>> relationships;
  // What each of those relationships points to, as written: a resolved dotted name, or the
  // bare class name of `relationship("Book")` / `Mapped[list["Book"]]`.
  std::map<std::string, std::map<std::string, std::string>> relationship_targets;
  // Module-level engines and session makers: engine -> the scheme of its literal URL ("" when
  // the URL is not a literal), maker -> the engine it binds.
  std::map<std::string, std::string> engine_schemes;
  std::map<std::string, std::string> maker_engines;
  // Dependencies this module overrides: `app.dependency_overrides[get_db] = ...`, resolved.
  std::vector<std::string> overridden_dependencies;
  std::map<std::string, uint32_t> override_lines;  // overridden dependency -> its first line
  // The lines of `Depends(...)` in parameter lists (each a FunctionFacts::dependencies entry),
  // to tell them from the ones elsewhere (a type alias, a decorator's dependencies=).
  std::set<uint32_t> parameter_dependency_lines;
  // Its `# awaitify:` comments: a skip-file module and ignored lines are left as they are.
  Suppressions suppressions;
  // pytest files only (test_*.py, *_test.py, conftest.py): the parameter names of every function
  // and method, nested ones too, by qualified name; fixtures are requested by parameter name.
  std::map<std::string, std::vector<std::string>> parameter_names;

  // What a local dotted name means in this module ("r.get" -> "requests.get", "helper" ->
  // "pkg.mod.helper", "open" -> "builtins.open"), or empty when it is not bound here.
  std::string resolve(const std::string& dotted) const;
};

// The dotted module name of a file, from its package layout: the directories above it that
// hold an __init__.py form the package path.
std::string module_name_for(const std::string& path, bool* is_package = nullptr);

// Parameters annotated with a sync SQLAlchemy/SQLModel Session (also Annotated[Session, ...]).
// Type aliases (`SessionDep = Annotated[Session, Depends(get_db)]`) are followed in the module
// and, when an index is given, across modules.
class ProjectIndex;
std::set<std::string> session_parameters(const ModuleFacts& facts, TSNode def, std::string_view src,
                                         const ProjectIndex* index = nullptr);

// The type node an annotation names: `Session`, `Annotated[Session, ...]`, `Optional[X]`.
TSNode annotated_type(TSNode annotation);

// Extracts the facts of one parsed file.
ModuleFacts extract_facts(const SourceFile& source, TSNode root);
// A file's `# awaitify:` comments: those of its facts when they are of this very file (null or
// another file's: read from the text, only when it holds a directive).
Suppressions comments_of(const SourceFile& source, const ModuleFacts* facts);

// Points into the index's own facts, which it holds for as long as it lives.
struct CallSite {
  const FunctionFacts* caller = nullptr;  // the scope that makes the call (maybe <module>)
  const std::string* file = nullptr;      // the path of the file it is in
  const CallFact* call = nullptr;

  const std::string& path() const { return *file; }
  const CallFact& fact() const { return *call; }
};

class ProjectIndex {
 public:
  ProjectIndex() = default;
  // `jobs`: threads for the part of the work that can be shared (callers of each function).
  explicit ProjectIndex(std::vector<ModuleFacts> modules, unsigned jobs = 1);
  // Holds pointers into its own maps: movable, not copyable.
  ProjectIndex(const ProjectIndex&) = delete;
  ProjectIndex& operator=(const ProjectIndex&) = delete;
  ProjectIndex(ProjectIndex&&) = default;
  ProjectIndex& operator=(ProjectIndex&&) = default;

  const ModuleFacts* module(const std::string& dotted) const;
  const ModuleFacts* module_for_path(const std::string& path) const;
  // Follows re-exports (`from .api import router` in a package) to where a name is defined.
  std::string canonical(const std::string& qualified) const;
  // The qualified constructor a module-level name was bound to (`app = FastAPI()` gives
  // "fastapi.FastAPI"), following imports across modules.
  std::optional<std::string> instance_type(const std::string& qualified) const;
  bool is_fastapi_app(const std::string& qualified) const;
  bool is_fastapi_app_or_router(const std::string& qualified) const;
  // Whether a class is (or derives, through project classes, from) the given qualified base.
  bool derives_from(const std::string& qualified_class, const std::string& base) const;
  const FunctionFacts* function(const std::string& qualified) const;
  // function(caller.calls[call].target) for a function of this index, found once when the index
  // was built (a pass that asks it of every call of a file would find them all again).
  const FunctionFacts* callee(const FunctionFacts& caller, size_t call) const;
  // What a type alias stands for (qualified), following imports; the name itself when it is
  // not an alias.
  std::string alias_target(const std::string& qualified) const;
  // How a project function blocks, as far as calls can be resolved: the chain of project
  // functions from it to the one that makes the blocking call, and that call. nullopt when it
  // does not block (or is async).
  std::optional<BlockingPath> blocking_path(const std::string& qualified) const;
  // The same as text: "svc.load -> svc.read -> builtins.open (svc.py:12)", or empty.
  std::string blocking_chain(const std::string& qualified) const;
  // Every resolved call to a function, as "path:line".
  std::vector<std::string> callers_of(const std::string& qualified) const;
  // Every resolved call to a project function, and every place its name is passed as a value.
  const std::vector<CallSite>& call_sites_of(const std::string& qualified) const;
  const std::vector<CallSite>& references_to(const std::string& qualified) const;
  // The file that defines a project function.
  std::string path_of(const FunctionFacts& function) const;
  // Whether another project module imports this one (a module nobody imports is a script).
  bool imported_by_project(const std::string& module) const;
  // A path operation: decorated with get/post/.../api_route of a FastAPI app or APIRouter.
  bool is_path_operation(const FunctionFacts& function) const;
  // Methods of the same name in classes above and below this method's class: a caller that
  // holds the base type may run any of them.
  std::vector<const FunctionFacts*> related_methods(const FunctionFacts& method) const;
  // The top-level package names of the project's modules (the "local" import group).
  const std::set<std::string>& first_party_packages() const;
  // Calls `obj.name(...)` whose object the index could not type: any method of that name may
  // be what runs there.
  const std::vector<CallSite>& unresolved_calls_named(const std::string& method) const;
  // What FastAPI, Starlette and pytest make of a function: "path operation", "dependency",
  // "middleware", "event handler", "test", "fixture" (several may apply).
  std::vector<std::string> roles(const FunctionFacts& function) const;
  // Every module of the project.
  std::vector<const ModuleFacts*> modules() const;
  // Every function of the project, in module order.
  std::vector<const FunctionFacts*> functions() const;

  // A value derived from the whole index (the tests phase's model of the test files), computed
  // once by whichever caller asks first, whatever the thread, and kept as long as the index.
  template <class T>
  std::shared_ptr<const T> memo(const std::string& key,
                                const std::function<std::shared_ptr<const T>()>& make) const {
    return std::static_pointer_cast<const T>(
        memo_value(key, [&]() -> std::shared_ptr<const void> { return make(); }));
  }

 private:
  void resolve_session_registries();
  struct Memo {
    // Each value is made under a lock of its own, so a thread that asks for one value does not
    // wait while another is made; a value may be made from others (never from itself).
    struct Entry {
      std::mutex mutex;
      bool made = false;
      std::shared_ptr<const void> value;
    };
    std::mutex mutex;  // guards `entries` only
    std::map<std::string, std::shared_ptr<Entry>> entries;
  };
  std::shared_ptr<const void> memo_value(
      const std::string& key, const std::function<std::shared_ptr<const void>()>& make) const;
  std::shared_ptr<Memo> memo_ = std::make_shared<Memo>();
  // Methods by their short name (a view of their qualified name), in qualified-name order
  // (related_methods).
  std::unordered_map<std::string_view, std::vector<const FunctionFacts*>> methods_by_name_;
  std::optional<BlockingPath> blocking_path(const std::string& qualified, int depth,
                                            std::vector<std::string>& seen) const;
  std::map<std::string, ModuleFacts> modules_;
  // modules_ by name, hashed: canonical() looks up every prefix of every name it is asked.
  // The views are modules_' keys (a map's nodes stay put, moves included).
  std::unordered_map<std::string_view, const ModuleFacts*> module_by_name_;
  std::set<std::string> first_party_packages_;  // the first part of each module's name
  std::map<std::string, std::string> path_to_module_;
  // Each function by its qualified name (a view of its own facts' name: the facts stay put),
  // hashed: function() is asked for every call the passes and the plan look at.
  std::unordered_map<std::string_view, std::pair<const ModuleFacts*, size_t>> functions_;
  // The sites of the calls of each function; the keys, like those of references_ and
  // unresolved_methods_, are views of names in the facts.
  std::unordered_map<std::string_view, std::vector<CallSite>> call_sites_;
  // callee(): each function's callees, in the order of its calls, from where the function's
  // pair (by address, sorted) says they start.
  std::vector<std::pair<const FunctionFacts*, size_t>> first_callee_;
  std::vector<const FunctionFacts*> callees_;
  std::unordered_map<std::string_view, std::vector<CallSite>> references_;
  std::set<std::string> imported_modules_;
  std::unordered_map<std::string_view, std::vector<CallSite>> unresolved_methods_;
};

}  // namespace awaitify
