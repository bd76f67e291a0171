#include <exception>
#include <system_error>

#include "absl/strings/str_cat.h"
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/io.hpp>

#include "base/log.h"
#include "popflow/io/popflow_io.h"

namespace omnibridge::popflow {

namespace bp = boost::process;

AppLauncher::AppLauncher(std::map<std::string, AppSpec> apps) : apps_(std::move(apps)) {}

AppLauncher::~AppLauncher() {
  // Launched apps belong to the agent now: leave them running, just stop tracking them.
  for (auto& c : children_) {
    c->detach();
  }
}

std::vector<std::string> AppLauncher::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, spec] : apps_) {
    names.push_back(name);
  }
  return names;
}

void AppLauncher::Reap() {
  for (auto it = children_.begin(); it != children_.end();) {
    std::error_code ec;
    // running() waits with WNOHANG, which also reaps an exited child.
    if (!(*it)->running(ec)) {
      it = children_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::Status AppLauncher::Launch(const AppLaunch& launch) {
  Reap();
  auto it = apps_.find(launch.app);
  if (it == apps_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("'", launch.app, "' is not in the administrator's allowlist"));
  }
  if (children_.size() >= 32) {
    return absl::ResourceExhaustedError("too many launched apps still running");
  }
  std::vector<std::string> args = it->second.args;
  args.insert(args.end(), launch.args.begin(), launch.args.end());
  try {
    // bp::exe + bp::args: execve() of that path with that argv. No shell parses anything, and
    // stdin/stdout/stderr are /dev/null so the app cannot write into the protocol on stdout.
    std::error_code ec;
    auto child = std::make_unique<bp::child>(bp::exe = it->second.path, bp::args = args,
                                             bp::std_in<bp::null, bp::std_out> bp::null,
                                             bp::std_err > bp::null, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot start ", it->second.path, ": ", ec.message()));
    }
    OMNI_LOG(kInfo, "popflow", "launched '", launch.app, "' (", it->second.path, ") pid ",
             child->id(), " for run ", launch.run_id);
    children_.push_back(std::move(child));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot start ", it->second.path, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace omnibridge::popflow
