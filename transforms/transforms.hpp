#pragma once
// The written transforms; each lives in its own file and is listed in registry.cpp.
#include "awaitify/transform.hpp"

namespace awaitify {

TransformInfo db_provider_transform();          // AW101
TransformInfo db_session_transform();           // AW102
TransformInfo db_query_transform();             // AW103
TransformInfo db_io_transform();                // AW104
TransformInfo db_create_all_transform();        // AW105
TransformInfo db_eager_transform();             // AW106
TransformInfo db_drop_sync_transform();         // AW107
TransformInfo http_requests_transform();        // AW201
TransformInfo http_exceptions_transform();      // AW202
TransformInfo http_client_close_transform();    // AW203
TransformInfo files_open_transform();           // AW301
TransformInfo files_upload_transform();         // AW302
TransformInfo files_sleep_transform();          // AW303
TransformInfo files_os_transform();             // AW304
TransformInfo routes_async_transform();         // AW501
TransformInfo middleware_http_transform();      // AW601
TransformInfo middleware_dispatch_transform();  // AW602
TransformInfo lifespan_transform();             // AW701
TransformInfo tests_client_transform();         // AW801
TransformInfo tests_async_transform();          // AW802

// Shared by the middleware transforms: makes a function async and awaits every call of its
// call_next parameter (whatever it is named).
PassResult make_middleware_async(const FileContext& context, TSNode function_definition,
                                 size_t call_next_position, const std::string& id);

}  // namespace awaitify
