// AW801: TestClient -> httpx.AsyncClient over ASGITransport, with the lifespan kept, and every
// request on the client awaited. The functions that now await become async through AW802 (its
// seeds put them in the plan); a client converts only when all of them do (tests_model.cpp).
#include "tests_client.hpp"

#include "awaitify/imports.hpp"
#include "awaitify/rewrite.hpp"
#include "awaitify/syntax.hpp"
#include "transforms.hpp"

namespace awaitify::aw80x {

namespace {

constexpr const char* kDefaultBaseUrl = "\"http://testserver\"";

struct ClientArguments {
  std::string app, base_url, follow_redirects;
  std::vector<std::string> client_keywords;  // headers=..., cookies=... as written
  std::vector<std::string>
      transport_keywords;  // raise_app_exceptions=..., root_path=..., client=...
};

// TestClient's keywords and where they go: the AsyncClient, or the ASGITransport (renamed).
std::optional<std::string> place_keyword(std::string_view keyword, const std::string& value,
                                         ClientArguments& out) {
  if (keyword == "app")
    out.app = value;
  else if (keyword == "base_url")
    out.base_url = value;
  else if (keyword == "follow_redirects")
    out.follow_redirects = value;
  else if (keyword == "headers" || keyword == "cookies")
    out.client_keywords.push_back(std::string(keyword) + "=" + value);
  else if (keyword == "raise_server_exceptions")
    out.transport_keywords.push_back("raise_app_exceptions=" + value);
  else if (keyword == "root_path" || keyword == "client")
    out.transport_keywords.push_back(std::string(keyword) + "=" + value);
  else
    return "TestClient's `" + std::string(keyword) +
           "=` has no AsyncClient or ASGITransport counterpart";
  return std::nullopt;
}

Result<ClientArguments> client_arguments(TSNode call, std::string_view src, TSNode* app) {
  ClientArguments out;
  size_t position = 0;
  for (TSNode argument : named_children(field(call, "arguments"))) {
    if (is(argument, "comment"))
      return Error{"a comment among TestClient's arguments would be lost"};
    if (is(argument, "list_splat") || is(argument, "dictionary_splat")) {
      return Error{"TestClient gets *args or **kwargs, whose keywords cannot be mapped"};
    }
    if (is(argument, "keyword_argument")) {
      TSNode value = field(argument, "value");
      std::string_view keyword = node_text(field(argument, "name"), src);
      if (keyword == "app" && app) *app = value;
      if (auto problem = place_keyword(keyword, std::string(node_text(value, src)), out))
        return Error{*problem};
      continue;
    }
    if (position == 0 && app) *app = argument;
    if (position == 0)
      out.app = std::string(node_text(argument, src));
    else if (position == 1)
      out.base_url = std::string(node_text(argument, src));
    else
      return Error{"TestClient gets more positional arguments than app and base_url"};
    ++position;
  }
  if (out.app.empty()) return Error{"TestClient is called without an app"};
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// ---------------------------------------------------------------- the pass

class ClientPass {
 public:
  ClientPass(const FileContext& context, std::shared_ptr<const Model> model)
      : context_(context),
        src_(context.text()),
        model_(std::move(model)),
        here_(file_facts(context.facts, src_, context.root)) {}

  PassResult run() {
    for (const Construction& construction : here_->constructions) convert(construction);
    for (const FunctionInfo& fn : here_->functions) convert_annotations(fn);
    for (const Use& use : here_->uses) convert(use);
    if (edits_.empty()) return std::move(result_);
    result_.edits = import_edits();
    result_.edits.insert(result_.edits.end(), edits_.begin(), edits_.end());
    return std::move(result_);
  }

 private:
  TSNode node_at(const Range& range) const {
    return ts_node_named_descendant_for_byte_range(context_.root, range.start, range.end);
  }

  // The unit a construction belongs to, or nullptr (with a finding) when it stays.
  const Unit* convertible(const Construction& construction) {
    TSNode call = node_at(construction.call);
    const Unit* unit = construction.name.empty()
                           ? model_->provided_by(construction.function)
                           : model_->unit_of(construction.function, construction.name);
    if (!construction.why.empty()) {
      warn(call, "TestClient left as it is: " + construction.why);
      reported_.insert(unit);
      return nullptr;
    }
    std::string why = unit ? refusal(*unit) : "the tests phase did not read this file";
    if (!why.empty()) {
      warn(call, "TestClient left as it is: " + why);
      reported_.insert(unit);
      return nullptr;
    }
    return unit;
  }

  // Why a unit stays (empty when it converts), asked once per unit: a unit may hold thousands
  // of functions the plan is checked for.
  const std::string& refusal(const Unit& unit) {
    auto [it, added] = refusals_.emplace(&unit, std::string());
    if (added) it->second = model_->refusal(unit, context_.plan);
    return it->second;
  }

  bool converts(const std::string& function, const std::string& name) {
    const Unit* unit = model_->unit_of(function, name);
    return unit && refusal(*unit).empty();
  }

  void convert(const Construction& construction) {
    if (!convertible(construction)) return;
    TSNode call = node_at(construction.call);
    auto text = async_client_call(call, src_);
    if (!text) return warn(call, "TestClient left as it is: " + text.error().message);
    replace(field(call, "function"), call, *text);
    need_transport_ = true;
    if (construction.kind == ConstructionKind::with_item) enter_lifespan(call);
    if (construction.function == context_.facts.module) {
      note(call,
           "a module-level client: TestClient(app) without `with` never ran the lifespan, and the "
           "AsyncClient does not either; it binds no event loop when created, so tests on any loop "
           "can share it");
    }
  }

  // `with TestClient(app) as c:` ran the app's startup and shutdown; ASGITransport does not.
  void enter_lifespan(TSNode call) {
    TSNode item = ts_node_parent(ts_node_parent(call));
    TSNode statement = ts_node_parent(ts_node_parent(item));
    TSNode app{};
    (void)async_client_call(call, src_, &app);
    edits_.push_back(Edit::insert(ts_node_start_byte(statement), "async "));
    std::string app_text(node_text(app, src_));
    std::string choice = context_.setting("lifespan-manager", "auto");
    bool asgi_lifespan =
        choice == "asgi-lifespan" || (choice == "auto" && model_->setup().asgi_lifespan);
    if (asgi_lifespan) {
      edits_.push_back(
          Edit::insert(ts_node_start_byte(item), "LifespanManager(" + app_text + "), "));
      need_lifespan_ = true;
      std::string why = choice == "asgi-lifespan" ? "--lifespan-manager asgi-lifespan"
                                                  : "the project uses asgi-lifespan";
      summary_note(statement,
                   "lifespan kept: asgi_lifespan.LifespanManager runs the app's startup and "
                   "shutdown around the test clients, as `with TestClient(app)` did (" +
                       why + ")");
      return;
    }
    edits_.push_back(Edit::insert(ts_node_start_byte(item),
                                  app_text + ".router.lifespan_context(" + app_text + "), "));
    std::string why =
        choice == "router"
            ? "--lifespan-manager router"
            : "the project does not use asgi-lifespan; --lifespan-manager asgi-lifespan "
              "uses its LifespanManager";
    summary_note(statement,
                 "lifespan kept: the app's own lifespan context (app.router.lifespan_context) runs "
                 "its startup and shutdown around the test clients, as `with TestClient(app)` did "
                 "(" +
                     why + ")");
  }

  void convert_annotations(const FunctionInfo& fn) {
    for (const Parameter& parameter : fn.parameters) {
      if (parameter.client_annotation && converts(fn.qualified, parameter.name)) {
        TSNode annotation = node_at(*parameter.client_annotation);
        replace(annotation, annotation, "AsyncClient");
        need_client_ = true;
      }
    }
    const Unit* provided = model_->provided_by(fn.qualified);
    if (fn.client_return_annotation && provided && refusal(*provided).empty()) {
      TSNode annotation = node_at(*fn.client_return_annotation);
      replace(annotation, annotation, "AsyncClient");
      need_client_ = true;
    }
  }

  void convert(const Use& use) {
    const Unit* unit = model_->unit_of(use.function, use.name);
    if (!unit) return;
    bool stays = !refusal(*unit).empty();
    TSNode call = node_at(use.range);
    if (stays && use.kind == UseKind::websocket) {
      warn(call, "`" + use.name +
                     ".websocket_connect(...)` has no httpx counterpart: this test stays sync "
                     "with its TestClient");
    } else if (stays && use.kind == UseKind::stream) {
      warn(call, "`" + use.name +
                     ".stream(...)` is not rewritten yet (httpx: `async with client.stream(...)`): "
                     "the client stays a TestClient");
    } else if (stays && use.kind == UseKind::request && reported_.insert(unit).second) {
      // The client is built in another file (a conftest.py): say here why these requests stay.
      warn(call, "`" + use.name + "` stays a TestClient: " + refusal(*unit));
    } else if (!stays && use.kind == UseKind::request) {
      auto awaited = await_expression(call, true);
      if (!awaited) return warn(call, "this request cannot be awaited: " + awaited.error().message);
      edits_.insert(edits_.end(), awaited->begin(), awaited->end());
    }
  }

  // `name` replaces `whole`; uses of the TestClient name inside `old` no longer count.
  void replace(TSNode old, TSNode whole, const std::string& text) {
    std::string dotted = dotted_name(old, src_);
    replaced_names_.insert(dotted.substr(0, dotted.find('.')));
    ignored_.emplace_back(ts_node_start_byte(old), ts_node_end_byte(old));
    edits_.push_back(Edit::replace(ts_node_start_byte(whole), ts_node_end_byte(whole), text));
  }

  std::vector<Edit> import_edits() const {
    ImportEditor imports(context_.source, context_.root, context_.index.first_party_packages());
    // In module order: new statements that land in one place keep it.
    if (need_lifespan_) imports.require_from("asgi_lifespan", "LifespanManager");
    if (need_transport_) imports.require_from("httpx", "ASGITransport");
    if (need_transport_ || need_client_) imports.require_from("httpx", "AsyncClient");
    for (const auto& [start, end] : ignored_) imports.ignore_uses_in(start, end);
    for (const std::string& name : replaced_names_) imports.drop_if_unused(name);
    return imports.edits();
  }

  void warn(TSNode at, std::string message) {
    result_.findings.push_back(
        context_.finding(kClientId, at, Severity::warning, std::move(message)));
  }
  void note(TSNode at, std::string message) {
    result_.findings.push_back(context_.finding(kClientId, at, Severity::note, std::move(message)));
  }
  void summary_note(TSNode at, std::string message) {
    note(at, std::move(message));
    result_.findings.back().summary = true;
  }

  const FileContext& context_;
  std::string_view src_;
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const FileFacts> here_;  // the model's read when the text is the one it read
  PassResult result_;
  std::vector<Edit> edits_;
  std::set<std::string> replaced_names_;
  std::vector<std::pair<uint32_t, uint32_t>> ignored_;
  std::map<const Unit*, std::string> refusals_;
  std::set<const Unit*> reported_;  // units whose refusal this file already reports
  bool need_transport_ = false, need_client_ = false, need_lifespan_ = false;
};

PassResult run(const FileContext& context) {
  auto model = Model::of(context.index, &context);
  if (!model->file(context.source.path())) return {};  // not test code
  return ClientPass(context, std::move(model)).run();
}

// What the pass reports on a file it leaves unchanged, told from the model's read of this very
// text: nothing, when the file builds no TestClient, annotates nothing with it, and none of the
// names it uses holds a client of the model (a test's parameter named like a fixture that
// yields no client, say: the pass passes over such a use). Without that read (a text the model
// did not read, or a file not on disk, which gets a model of its own), the file is parsed and
// the pass run.
std::optional<std::vector<Finding>> report_from_facts(const SourceFile& source,
                                                      const ModuleFacts& facts,
                                                      const ProjectIndex& index, const Plan&) {
  auto here = kept_file_facts(facts, source.text());
  if (!here) return std::nullopt;
  auto annotated = [](const FunctionInfo& fn) {
    return fn.client_return_annotation ||
           std::any_of(fn.parameters.begin(), fn.parameters.end(),
                       [](const Parameter& parameter) { return parameter.client_annotation; });
  };
  if (!here->constructions.empty() ||
      std::any_of(here->functions.begin(), here->functions.end(), annotated))
    return std::nullopt;
  if (here->uses.empty()) return std::vector<Finding>{};
  if (!Model::run_model_reads(source.path())) return std::nullopt;
  auto model = Model::of(index);
  for (const Use& use : here->uses) {
    if (model->unit_of(use.function, use.name)) return std::nullopt;
  }
  return std::vector<Finding>{};
}

}  // namespace

Result<std::string> async_client_call(TSNode call, std::string_view src, TSNode* app) {
  auto arguments = client_arguments(call, src, app);
  if (!arguments) return arguments.error();
  std::vector<std::string> transport{"app=" + arguments->app};
  transport.insert(transport.end(), arguments->transport_keywords.begin(),
                   arguments->transport_keywords.end());
  std::vector<std::string> client{
      "transport=ASGITransport(" + join(transport) + ")",
      "base_url=" + (arguments->base_url.empty() ? kDefaultBaseUrl : arguments->base_url)};
  client.insert(client.end(), arguments->client_keywords.begin(), arguments->client_keywords.end());
  // TestClient follows redirects by default; AsyncClient does not.
  client.push_back("follow_redirects=" + (arguments->follow_redirects.empty()
                                              ? std::string("True")
                                              : arguments->follow_redirects));
  return "AsyncClient(" + join(client) + ")";
}

}  // namespace awaitify::aw80x

namespace awaitify {

TransformInfo tests_client_transform() {
  return TransformInfo{
      .id = aw80x::kClientId,
      .phase = "tests",
      .summary = "TestClient -> httpx.AsyncClient over ASGITransport, lifespan kept",
      .explain = R"(Before:
    from fastapi.testclient import TestClient

    @pytest.fixture
    def client():
        with TestClient(app) as c:
            yield c

    def test_items(client):
        assert client.get("/items").json() == []
After (with AW802, which makes the functions async):
    from httpx import ASGITransport, AsyncClient

    @pytest_asyncio.fixture
    async def client():
        async with app.router.lifespan_context(app), AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver", follow_redirects=True) as c:
            yield c

    @pytest.mark.asyncio
    async def test_items(client):
        assert (await client.get("/items")).json() == []

TestClient must resolve to fastapi.testclient.TestClient or starlette.testclient.TestClient.
Its base_url=, headers=, cookies= and follow_redirects= go to the AsyncClient (follow_redirects
defaults to True, as TestClient's did); raise_server_exceptions=, root_path= and client= go to
the ASGITransport. AsyncClient(app=...) is never written (httpx 0.28 removed it). A
`with TestClient(app) as c:` ran the lifespan, which ASGITransport does not: it becomes
`async with app.router.lifespan_context(app), AsyncClient(...) as c:` (the app's own lifespan,
no new dependency), or `async with LifespanManager(app), AsyncClient(...) as c:` when the
project already uses asgi-lifespan (a test file imports it, or its requirements or
pyproject.toml name it). --lifespan-manager asgi-lifespan|router picks one for every project.
Every request on the client (get, post, put, patch, delete, head, options, request, send) is
awaited, parenthesized where the response is used further. Annotations `: TestClient` on
converted clients become AsyncClient; the TestClient import goes when nothing uses it.

A client is followed through the names that hold it: fixtures that yield or return it (found
by name through conftest.py files), test and fixture parameters that request them, helpers it
is passed to, and module-level clients used in their own module. Everything holding one client
converts together, or nothing does.

Refusals (the client stays a TestClient, with a finding): client.websocket_connect(...) (no
httpx counterpart: the test stays sync, the file may keep both imports), client.stream(...)
(not written yet), attributes only TestClient has, the client stored, returned by a function
that is no fixture, passed to code outside the test files or used in a lambda; a with
statement that enters other context managers too; an app given as an expression; TestClient
keywords without counterpart (backend=); a function that would have to become async and
cannot (see AW401's stops); and every client whose tests AW802 does not make async (it must
run too).)",
      .run = aw80x::run,
      .applies = aw80x::in_test_code,
      .report_from_facts = aw80x::report_from_facts,
      .read_with_tree = aw80x::read_while_parsed};
}

}  // namespace awaitify
