#include "pass_settings.hpp"

#include "commands.hpp"

namespace awaitify::cli {

void add_pass_settings(CLI::App& command, std::map<std::string, std::string>& values) {
  command
      .add_option_function<std::string>(
          "--http-client", [&values](const std::string& v) { values["http-client"] = v; },
          "requests -> httpx: one shared AsyncClient closed in the lifespan, or async with per "
          "call")
      ->check(CLI::IsMember({"shared", "scoped"}));
  command.add_option_function<std::string>(
      "--http-timeout", [&values](const std::string& v) { values["http-timeout"] = v; },
      "timeout for migrated HTTP calls that had none (default: none, as requests)");
  command
      .add_option_function<std::string>(
          "--http-library", [&values](const std::string& v) { values["http-library"] = v; },
          "the async HTTP client module: httpx or httpx2")
      ->check(CLI::IsMember({"httpx", "httpx2"}));
  command
      .add_option_function<std::string>(
          "--lifespan-manager", [&values](const std::string& v) { values["lifespan-manager"] = v; },
          "what runs the app's lifespan around a migrated test client: asgi-lifespan "
          "(LifespanManager) or router (app.router.lifespan_context); default: asgi-lifespan "
          "when the project uses it")
      ->check(CLI::IsMember({"asgi-lifespan", "router"}));
  command
      .add_option_function<std::vector<std::string>>(
          "--target",
          [&values](const std::vector<std::string>& targets) {
            for (const std::string& target : targets) {
              size_t equals = target.find('=');
              values["target." + target.substr(0, equals)] = target.substr(equals + 1);
            }
          },
          "library versions to write for: sqlalchemy=1.4 (sessionmaker(class_=AsyncSession)) or "
          "sqlalchemy=2.0 (the default: async_sessionmaker); fastapi=VERSION (before 0.93: "
          "app.router.lifespan_context = lifespan instead of FastAPI(lifespan=...))")
      ->check(check_target_option)
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_flag_callback(
      "--wrap-blocking", [&values] { values["wrap-blocking"] = "true"; },
      "wrap blocking calls with no async form in run_in_threadpool");
  command.add_flag_callback(
      "--drop-sync", [&values] { values["drop-sync"] = "true"; },
      "db phase: remove get_db, the sync sessionmaker and engine once "
      "nothing in the project uses them");
  command.add_flag_callback(
      "--aiofiles-os", [&values] { values["aiofiles-os"] = "true"; },
      "files phase: os and os.path file system calls in async code become await aiofiles.os "
      "calls");
}

}  // namespace awaitify::cli
