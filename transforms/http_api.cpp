#include "http_api.hpp"

#include <array>
#include <utility>

namespace awaitify::http {

namespace {

constexpr std::array<std::string_view, 8> kMethods{"get",    "post", "put",     "patch",
                                                   "delete", "head", "options", "request"};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The member name after one of the prefixes, or empty.
std::string member_after(std::string_view target,
                         std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes) {
    if (starts_with(target, prefix) && target.size() > prefix.size()) {
      std::string_view rest = target.substr(prefix.size());
      if (rest.find('.') == std::string_view::npos) return std::string(rest);
    }
  }
  return {};
}

// requests exception -> what an except clause catches in httpx. ConnectionError covers connect
// timeouts in requests (ConnectTimeout derives from both), so it maps to both httpx classes.
const std::vector<std::pair<std::string_view, std::vector<std::string>>>& exception_table() {
  static const std::vector<std::pair<std::string_view, std::vector<std::string>>> table{
      {"RequestException", {"HTTPError"}},
      {"HTTPError", {"HTTPStatusError"}},
      {"ConnectionError", {"ConnectError", "ConnectTimeout"}},
      {"Timeout", {"TimeoutException"}},
      {"ConnectTimeout", {"ConnectTimeout"}},
      {"ReadTimeout", {"ReadTimeout"}},
      {"SSLError", {"ConnectError"}},
      {"ProxyError", {"ProxyError"}},
      {"TooManyRedirects", {"TooManyRedirects"}},
      {"ContentDecodingError", {"DecodingError"}},
      {"ChunkedEncodingError", {"RemoteProtocolError"}},
      {"InvalidURL", {"InvalidURL"}},
      {"JSONDecodeError", {"json.JSONDecodeError"}},
  };
  return table;
}

}  // namespace

std::string requests_function(std::string_view target) {
  std::string method = member_after(target, {"requests.", "requests.api."});
  return is_request_method(method) ? method : std::string();
}

bool is_session_constructor(std::string_view target) {
  return target == "requests.Session" || target == "requests.sessions.Session" ||
         target == "requests.session" || target == "requests.sessions.session";
}

std::string session_member(std::string_view target) {
  return member_after(target, {"requests.Session.", "requests.sessions.Session."});
}

bool is_request_method(std::string_view method) {
  for (std::string_view name : kMethods) {
    if (method == name) return true;
  }
  return false;
}

std::string http_verb(std::string_view method) {
  if (method == "request" || method.empty()) return {};
  std::string verb(method);
  for (char& c : verb) c = static_cast<char>(c - ('a' - 'A'));
  return verb;
}

std::vector<std::string> positional_keywords(std::string_view method) {
  if (method == "get") return {"params"};
  if (method == "post") return {"data", "json"};
  if (method == "put" || method == "patch") return {"data"};
  return {};
}

bool is_requests_keyword(std::string_view keyword) {
  static constexpr std::array<std::string_view, 16> kKeywords{
      "method", "url",     "params",          "data",    "headers", "cookies", "files",
      "auth",   "timeout", "allow_redirects", "proxies", "hooks",   "stream",  "verify",
      "cert",   "json"};
  for (std::string_view name : kKeywords) {
    if (keyword == name) return true;
  }
  return false;
}

bool is_response_type(std::string_view target) {
  return target == "requests.Response" || target == "requests.models.Response";
}

std::string requests_exception(std::string_view target) {
  std::string name = member_after(target, {"requests.exceptions.", "requests."});
  for (const auto& [requests_name, httpx_names] : exception_table()) {
    if (name == requests_name) return name;
  }
  return {};
}

std::vector<std::string> httpx_exceptions(std::string_view requests_name) {
  for (const auto& [name, httpx_names] : exception_table()) {
    if (name == requests_name) return httpx_names;
  }
  return {};
}

std::string httpx_raise_class(std::string_view requests_name) {
  std::vector<std::string> names = httpx_exceptions(requests_name);
  return names.empty() ? std::string() : names.front();
}

std::string choose_library(const ProjectIndex& index, const std::string& setting) {
  if (!setting.empty()) return setting;
  // httpx is the fallback anyway; only httpx2 changes the choice. Asked by every http pass of
  // every file: the project is searched once.
  return *index.memo<std::string>("http.library", [&] {
    for (const ModuleFacts* module : index.modules()) {
      for (const auto& [local, target] : module->imports) {
        if (target == "httpx2" || starts_with(target, "httpx2."))
          return std::make_shared<const std::string>("httpx2");
      }
    }
    return std::make_shared<const std::string>("httpx");
  });
}

bool is_library_target(std::string_view target) {
  return target == "httpx" || target == "httpx2" || starts_with(target, "httpx.") ||
         starts_with(target, "httpx2.");
}

}  // namespace awaitify::http
