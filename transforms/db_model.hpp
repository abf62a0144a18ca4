#pragma once
// What the db phase's passes share: which functions migrate together (one session passed
// between them), the sync providers (engine, sessionmaker, `get_db`) of a module and the names
// of their async siblings.
#include <tree_sitter/api.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/imports.hpp"
#include "awaitify/transform.hpp"

namespace awaitify::aw10x {

constexpr const char* kProviderId = "AW101";
constexpr const char* kSessionId = "AW102";
constexpr const char* kQueryId = "AW103";
constexpr const char* kIoId = "AW104";

// The seeds of the db phase: every function holding a sync session, grouped so that the
// functions one session passes through migrate together; with them, the providers they depend
// on and the modules overriding those providers (both change without becoming async).
std::vector<Seed> db_seeds(const ProjectIndex& index, const Settings& settings,
                           const SeedScope& scope);

// The name of the async sibling of a module-level name: get_db -> get_session,
// get_session -> get_async_session, engine -> async_engine, SessionLocal -> AsyncSessionLocal.
// A name already bound in the module is skipped, unless it is that sibling from an earlier run.
std::string sibling_name(const ModuleFacts& facts, const std::string& name);

// The name of the async sibling of a sync provider (`get_db` -> `get_session`) when this run
// writes it (the provider is in the plan) or an earlier run did; nullopt otherwise.
std::optional<std::string> async_provider(const ProjectIndex& index, const Plan& plan,
                                          const std::string& target);

// Whether the plan migrates a function of the file (a member of an accepted session group):
// the passes that change only such functions need not parse a file where it is false.
bool migrates_in(const ModuleFacts& facts, const Plan& plan);
// The same as a TransformInfo::applies (AW103, AW104: only migrated functions change).
bool applies_where_plan_migrates(const ModuleFacts& facts, const ProjectIndex& index,
                                 const Plan& plan);

// The type alias a function's session parameter is annotated with (`SessionDep`), or empty.
std::string session_alias(const ProjectIndex& index, const FunctionFacts& fn);

// The asyncio driver of a sync URL scheme (sqlite -> sqlite+aiosqlite); the scheme itself when
// it already names one; nullopt when the engine knows none.
std::optional<std::string> async_scheme(const std::string& scheme);
// The URL scheme of the engine a provider opens sessions on, when it has no asyncio driver.
std::string scheme_without_async_driver(const ProjectIndex& index, const FunctionFacts& provider);

// The name of the async sibling of a module's sync engine when the module holds it after this
// run: written by an earlier run, or by the db phase now (a provider of the module migrates).
std::optional<std::string> async_engine_of(const FileContext& context, const ModuleFacts& module,
                                           const std::string& engine);

// Whether a qualified type is SQLModel's (its AsyncSession lives elsewhere).
bool is_sqlmodel(const std::string& qualified);

// The module-level statements of a file that build the sync stack.
struct Engine {
  std::string name;
  TSNode statement{};  // expression_statement holding the assignment
  TSNode call{};       // create_engine(...)
  bool sqlmodel = false;
};
struct Maker {
  std::string name;
  TSNode statement{};
  TSNode call{};
  std::string engine;  // the name passed as bind (empty: unknown)
};
struct Provider {
  std::string name;
  TSNode def{};           // the function_definition
  TSNode outer{};         // the decorated_definition, or def
  std::string maker;      // `db = SessionLocal()` / `with SessionLocal() as db`
  std::string engine;     // `with Session(engine) as session`
  bool sqlmodel = false;  // Session comes from sqlmodel
};
struct SyncStack {
  std::vector<Engine> engines;
  std::vector<Maker> makers;
  std::vector<Provider> providers;
  const Engine* engine(const std::string& name) const;
  const Maker* maker(const std::string& name) const;
  const Provider* provider(const std::string& name) const;
};
SyncStack find_sync_stack(const FileContext& context);

// The text of the import statement's module that binds `local` (`..database` in
// `from ..database import get_db`), or empty.
std::string from_module_binding(const FileContext& context, const std::string& local);

// The AsyncSession import a file needs: SQLModel's when it uses SQLModel's Session.
void require_async_session(ImportEditor& imports, bool sqlmodel);

}  // namespace awaitify::aw10x
