// The one table of phases and transforms: the source of truth for `awaitify list`, --only and
// --skip, and the order passes run in. A transform without a function is planned: listed as
// such, never run, never reported as done.
#include <algorithm>

#include "transforms.hpp"

namespace awaitify {

namespace {

TransformInfo planned(std::string id, std::string phase, std::string summary) {
  return TransformInfo{.id = std::move(id),
                       .phase = std::move(phase),
                       .summary = std::move(summary),
                       .explain = "Planned: not written yet. Selecting it changes nothing."};
}

std::vector<TransformInfo> build_table() {
  return {
      // The Session annotations change last: the query and I/O passes find the sessions by them.
      db_provider_transform(),
      db_query_transform(),
      db_io_transform(),
      db_create_all_transform(),
      db_eager_transform(),
      db_session_transform(),
      // Last: it reads what the other db passes left of the sync stack's uses.
      db_drop_sync_transform(),
      http_requests_transform(),
      http_exceptions_transform(),
      http_client_close_transform(),
      files_open_transform(),
      files_upload_transform(),
      files_sleep_transform(),
      files_os_transform(),
      closure_transform(),
      routes_async_transform(),
      planned("AW502", "routes", "dependencies (Depends(f)) become async def when nothing blocks"),
      middleware_http_transform(),
      middleware_dispatch_transform(),
      lifespan_transform(),
      tests_client_transform(),
      tests_async_transform(),
  };
}

}  // namespace

const std::vector<PhaseInfo>& phase_table() {
  static const std::vector<PhaseInfo> phases{
      {"db", "SQLAlchemy/SQLModel: async engine and session, select(), awaited session I/O"},
      {"http", "requests -> httpx.AsyncClient"},
      {"files", "open -> aiofiles, UploadFile reads, time.sleep -> asyncio.sleep"},
      {"services", "the async closure: callers of async functions await them, across modules"},
      {"routes", "path operations and dependencies become async def"},
      {"middleware", "HTTP middleware becomes async def with await call_next"},
      {"lifespan", "on_event handlers -> one lifespan context manager"},
      {"tests", "TestClient -> httpx.AsyncClient over ASGITransport, async tests"},
  };
  return phases;
}

const std::vector<TransformInfo>& transform_table() {
  static const std::vector<TransformInfo> table = build_table();
  return table;
}

const TransformInfo* find_transform(std::string_view id) {
  const auto& table = transform_table();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const TransformInfo& info) { return info.id == id; });
  return it == table.end() ? nullptr : &*it;
}

}  // namespace awaitify
