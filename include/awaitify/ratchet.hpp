#pragma once
// The ratchet (verify rule AWV010): modules already migrated must stay migrated. A module counts
// as migrated when the configuration's `migrated` globs name it, or when every path operation of
// its committed version (HEAD) is async — of the current file when it is new in a repository.
// In such a module a sync path operation, a blocking call in async code, a sync dependency that
// blocks and a sync Session are regressions.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/project_view.hpp"
#include "awaitify/verify.hpp"

namespace awaitify {

// Why a file counts as migrated ("every path operation was async at HEAD"), or nullopt.
std::optional<std::string> migrated_reason(const ProjectIndex& index, const ViewFile& file,
                                           const VerifyOptions& options);

// Whether a dependency hands out a sync Session: a sync function that calls a sessionmaker's
// instance (`SessionLocal()`) or Session itself (`Session(engine)`), as `get_db` does.
bool is_sync_session_provider(const ProjectIndex& index, const FunctionFacts& fn);

// A parameter that takes a sync Session: annotated Session (`db: Session`, also through
// Annotated and type aliases) or given by the sync provider (`db=Depends(get_db)`).
struct SessionParameter {
  TSNode node;       // the parameter
  std::string name;  // "db"
  std::string how;   // "is annotated `Session`", "depends on `get_db`, the sync Session provider"
};
// sessions: the parameters the index found annotated with a sync Session.
std::vector<SessionParameter> sync_session_parameters(const ProjectIndex& index,
                                                      const ModuleFacts& facts, TSNode def,
                                                      std::string_view src,
                                                      const std::set<std::string>& sessions);

}  // namespace awaitify
