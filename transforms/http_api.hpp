#pragma once
// What the http phase knows about requests and httpx: which qualified names are requests
// calls, sessions and exceptions, and what they become in httpx. Names are resolved by the
// scanner first (`import requests as r`, `from requests import get, Session`), so everything
// here works on qualified names ("requests.get", "requests.exceptions.HTTPError").
#include <string>
#include <string_view>
#include <vector>

#include "awaitify/index.hpp"

namespace awaitify::http {

// "get", "post", ..., "request" for requests.get / requests.api.get / ...; empty otherwise.
std::string requests_function(std::string_view target);
// requests.Session(), requests.sessions.Session(), requests.session().
bool is_session_constructor(std::string_view target);
// "get" for requests.Session.get (what the scanner makes of `session.get` on a local Session);
// "close", "mount", ... for the other methods; empty when target is not a Session member.
std::string session_member(std::string_view target);
bool is_request_method(std::string_view method);  // get, post, ..., request
// The HTTP verb a method sends ("GET" for get); empty for "request" (the call names it).
std::string http_verb(std::string_view method);
// The keyword names of a requests call's positional parameters after the URL: get(url, params),
// post(url, data, json), put/patch(url, data); request(method, url) takes none after the URL.
std::vector<std::string> positional_keywords(std::string_view method);
// Whether a name is a keyword that requests.request() accepts.
bool is_requests_keyword(std::string_view keyword);

// requests.Response / requests.models.Response.
bool is_response_type(std::string_view target);
// The short name of a requests exception ("HTTPError" for requests.HTTPError and
// requests.exceptions.HTTPError); empty when the target is none.
std::string requests_exception(std::string_view target);
// What an except clause catches instead: httpx class names ("HTTPStatusError"), or
// "json.JSONDecodeError"; empty when requests' exception has no httpx counterpart.
std::vector<std::string> httpx_exceptions(std::string_view requests_name);
// The one class a raise site constructs instead (ConnectionError -> ConnectError).
std::string httpx_raise_class(std::string_view requests_name);

// The async HTTP library a project uses: the --http-library setting when given, else the one
// the project already imports (httpx2 before httpx), else httpx.
std::string choose_library(const ProjectIndex& index, const std::string& setting);
// Whether a qualified name belongs to that library ("httpx.AsyncClient.get").
bool is_library_target(std::string_view target);

}  // namespace awaitify::http
