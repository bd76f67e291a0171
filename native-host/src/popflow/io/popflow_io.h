// omni_popflow_io: the thin executors that do PopFlow's I/O, kept out of the pure core.
//   DirectoryFlowStorage  FlowStorage on a directory (one JSON file per flow, atomic replace)
//   AppLauncher           launchApp: admin-allowlisted programs, argv as given, no shell
//   HttpExecutor          httpRequest/logActivity via http: Boost.Beast over the host's io_context,
//                         credentials resolved by name here and nowhere else
//   ParsePopflowConfig    the `popflow` config subtree (apps, credentials, enterprise flows)
// All run on the host's event loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/json.hpp"

#include "popflow/flow_store.h"
#include "popflow/popflow.h"

namespace boost::process {
class child;
}

namespace omnibridge::popflow {

// ------------------------------------------------------------------------------------------
// Configuration

struct AppSpec {
  std::string path;               // absolute path of the program
  std::vector<std::string> args;  // fixed arguments before the flow's own
};

struct Credential {
  enum class Type { kBearer, kBasic, kHeader };
  Type type = Type::kBearer;
  // Requests using this credential must start with this URL (scheme://host[:port]/path...), so
  // a flow cannot send the secret anywhere else.
  std::string base_url;
  std::string header;    // kHeader: the header's name (e.g. X-Api-Key)
  std::string username;  // kBasic
  std::string secret;    // token, password or header value
};

struct PopflowConfig {
  std::map<std::string, AppSpec> apps;
  std::map<std::string, Credential> credentials;
  boost::json::array enterprise_flows;
};

// Parses `popflow` (see docs/popflow.md, "Host configuration"). `apps` and `flows` must come from
// the administrator's layers (system file, managed storage), never from the user's own file:
// pass those in `admin`; `credentials` may come from either (`merged`). *File keys are read
// here, so secrets can live in 0600 files.
absl::StatusOr<PopflowConfig> ParsePopflowConfig(const boost::json::object& admin,
                                                 const boost::json::object& merged);

// ------------------------------------------------------------------------------------------
// Storage

class DirectoryFlowStorage final : public FlowStorage {
 public:
  // Creates `dir` (mode 0700) when missing.
  static absl::StatusOr<std::unique_ptr<DirectoryFlowStorage>> Create(std::string dir);

  absl::StatusOr<std::vector<std::string>> List() override;
  absl::StatusOr<std::string> Read(std::string_view key) override;
  absl::Status Write(std::string_view key, std::string_view data) override;
  absl::Status Remove(std::string_view key) override;

 private:
  explicit DirectoryFlowStorage(std::string dir) : dir_(std::move(dir)) {}

  std::string PathOf(std::string_view key) const;
  std::string dir_;
};

// ------------------------------------------------------------------------------------------
// Launching apps

class AppLauncher {
 public:
  explicit AppLauncher(std::map<std::string, AppSpec> apps);
  ~AppLauncher();

  // Names the engine may launch (EngineOptions::allowed_apps).
  std::vector<std::string> Names() const;

  // Starts the program configured under `launch.app` with its fixed args then `launch.args`,
  // stdin/stdout/stderr to /dev/null (stdout is the protocol), without a shell. Returns once the
  // process started (or failed to); does not wait for it to exit.
  absl::Status Launch(const AppLaunch& launch);

  // Reaps children that exited (called by Launch too), so none stay zombies.
  void Reap();

  size_t running() const { return children_.size(); }

 private:
  std::map<std::string, AppSpec> apps_;
  std::list<std::unique_ptr<boost::process::child>> children_;
};

// ------------------------------------------------------------------------------------------
// HTTP

class HttpExecutor {
 public:
  struct Options {
    size_t max_body = size_t{1024} * 1024;  // response bodies above this fail the request
  };

  using Done = std::function<void(uint64_t request_id, HttpResult result)>;

  // `io` must outlive the executor and every request in flight.
  HttpExecutor(boost::asio::io_context& io, std::map<std::string, Credential> credentials,
               Options options);

  HttpExecutor(boost::asio::io_context& io, std::map<std::string, Credential> credentials)
      : HttpExecutor(io, std::move(credentials), Options()) {}

  ~HttpExecutor();

  // Performs `request` asynchronously; `done` runs on the io_context exactly once (also for
  // requests refused before any I/O: unknown credential, URL outside its base URL, bad URL).
  void Execute(const HttpRequest& request, Done done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits an http(s) URL. Exposed for tests.
struct ParsedUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string target;  // path + query, at least "/"
};

absl::StatusOr<ParsedUrl> ParseHttpUrl(std::string_view url);

}  // namespace omnibridge::popflow
