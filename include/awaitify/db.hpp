#pragma once
// What SQLAlchemy/SQLModel code does with a sync Session, as the db phase needs it: which
// expressions of a function hold a session, which `query()` chains it builds and how each ends,
// which session calls are I/O. The index records a summary per function (whether the body
// would await under AsyncSession); the db passes ask the same analysis for the edits.
#include <tree_sitter/api.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "awaitify/index.hpp"

namespace awaitify::db {

// session_parameters() of definitions of one tree, by node (TSNode::id), as a caller that
// already asked them keeps them (extraction asks each definition up to three times).
using SessionParameters = std::unordered_map<const void*, std::set<std::string>>;

// The expressions of a function that hold a sync session: its parameters annotated Session
// ("db") and, in a method, `self.<attribute>` typed Session by its class's __init__ ("self.db").
// `known`: the parameters already asked of this module's facts without an index.
std::set<std::string> session_names(const ModuleFacts& facts, TSNode def, std::string_view src,
                                    const std::string& class_name,
                                    const ProjectIndex* index = nullptr,
                                    const SessionParameters* known = nullptr);

// Functions of a module that build and return a query without running it (`def _filtered(self)
// -> Query: q = self.db.query(X) ... return q`): qualified name -> the session expression the
// query was built on ("self.db"), and its entity count.
struct QueryHelper {
  std::string session;
  int entities = -1;
};
using QueryHelpers = std::map<std::string, QueryHelper>;

// One use of a legacy Query, from where it starts to where it ends.
struct QueryChain {
  TSNode start{};  // `db.query(X)` (head), a query variable, or a call of a query helper
  TSNode head{};   // the `db.query(...)` call when the chain starts there, else null
  TSNode top{};    // the outermost node of the chain (the terminal call when there is one)
  std::vector<TSNode> links;  // chain method calls (filter, order_by, ...), inner to outer
  std::string session;        // the session expression that runs it; empty when unknown
  int entities = -1;          // 1: one mapped entity (scalars); >1 or 0: rows; -1: unknown
  bool joined_eager = false;  // options(joinedload(...)): entities need .unique()
  std::string terminal;       // all, first, one, one_or_none, scalar, count, get, delete, update
  TSNode terminal_call{};
  bool iterated = false;    // `for x in <chain>:`
  std::string unsupported;  // a method the rewrite table does not cover
  TSNode unsupported_call{};
  // Whether running the chain needs an await (a terminal or an iteration).
  bool runs() const { return !terminal.empty() || iterated; }
};

struct FunctionScope {
  std::set<std::string> sessions;  // session_names()
  std::string class_name;          // qualified class of a method, else empty
  const QueryHelpers* helpers = nullptr;
  std::string_view src;
};

// Every query chain of a function body (nested functions excluded), in document order.
std::vector<QueryChain> query_chains(TSNode def, const FunctionScope& scope);
// Session calls that are I/O under AsyncSession (`db.commit()`, `self.db.refresh(x)`,
// `session.exec(...)`): the call nodes, in document order. `query` is not one: its chains are.
std::vector<TSNode> session_io_calls(TSNode def, const FunctionScope& scope);
// Whether the function body would await something once its session is an AsyncSession.
bool awaits_under_async_session(TSNode def, const FunctionScope& scope);
// Why the function's session calls cannot all be awaited once it is an AsyncSession, or empty:
// `db.connection()` hands out a Connection whose own calls would need awaits too (unless it is a
// statement of its own, which uses nothing it returns), and a `with`
// over a session call other than begin()/begin_nested() has no async form.
std::string session_blocker(TSNode def, const FunctionScope& scope);
// What the function's session loads and which relationships it loads eagerly
// (FunctionFacts::loaded_models, eager_loads), resolved by resolve.
struct ModelLoads {
  std::vector<std::string> models, eager;
};
ModelLoads model_loads(TSNode def, const FunctionScope& scope,
                       const std::function<std::string(const std::string&)>& resolve);

QueryHelpers find_query_helpers(const ModuleFacts& facts, TSNode root, std::string_view src,
                                const SessionParameters* known = nullptr);

// Session methods that are I/O under AsyncSession (awaited), and the ones that stay sync.
bool is_async_session_io(std::string_view method);

}  // namespace awaitify::db
