// AW302: UploadFile.file.read() -> await UploadFile.read() (and seek, write, close).
#include "awaitify/syntax.hpp"
#include "call_rewrite.hpp"
#include "transforms.hpp"

namespace awaitify {

namespace {

constexpr const char* kId = "AW302";

// `upload.file.read(...)` on a parameter typed UploadFile: the methods UploadFile itself has
// as coroutines.
bool is_upload_file_io(const std::string& target) {
  for (const char* owner :
       {"fastapi.UploadFile.file.", "starlette.datastructures.UploadFile.file."}) {
    std::string prefix(owner);
    if (target.rfind(prefix, 0) != 0) continue;
    std::string method = target.substr(prefix.size());
    return method == "read" || method == "seek" || method == "write" || method == "close";
  }
  return false;
}

std::vector<Edit> drop_file_attribute(const Site& site, const FileContext& context,
                                      std::string& why) {
  // function: attribute(object: attribute(object: X, attribute: file), attribute: read)
  TSNode function = field(site.node, "function");
  TSNode file_attribute = field(function, "object");
  if (!is(file_attribute, "attribute") ||
      node_text(field(file_attribute, "attribute"), context.text()) != "file") {
    why = "the call does not go through `.file`";
    return {};
  }
  TSNode upload = field(file_attribute, "object");
  return {Edit::replace(ts_node_end_byte(upload), ts_node_end_byte(file_attribute), "")};
}

const CallRewrite& rewrite() {
  static const CallRewrite rewrite{kId, is_upload_file_io, drop_file_attribute, nullptr, {}};
  return rewrite;
}

PassResult run(const FileContext& context) {
  return run_call_rewrite(rewrite(), context);
}

std::vector<Seed> seeds(const ProjectIndex& index, const Settings&, const SeedScope&) {
  return call_rewrite_seeds(index, is_upload_file_io, "reads an UploadFile (AW302)", kId);
}

}  // namespace

TransformInfo files_upload_transform() {
  return with_call_rewrite_hooks(
      rewrite(),
      TransformInfo{
          .id = kId,
          .phase = "files",
          .summary = "UploadFile.file.read()/seek()/write()/close() -> await UploadFile.read()/...",
          .explain = R"(Before:
    @router.post("/upload")
    def upload(file: UploadFile):
        data = file.file.read()
After:
    @router.post("/upload")
    async def upload(file: UploadFile):
        data = await file.read()

Matches calls through `.file` of a parameter annotated UploadFile (fastapi or starlette). The
function becomes async through the closure (AW401). shutil.copyfileobj(file.file, out) is not
rewritten yet: it stays, with the route kept sync (AW501) and a finding from the closure.)",
          .triggers = {".file."},
          .run = run,
          .seeds = seeds});
}

}  // namespace awaitify
