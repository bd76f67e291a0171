// The agent-session mode: started by the browser with the caller's origin as first argument.
#pragma once

#include <string>
#include <vector>

namespace omnibridge::app {

// Runs the host on stdin/stdout until the browser closes stdin. Returns the process exit code:
// 0 on EOF, 2 when the origin is refused.
int RunHost(const std::vector<std::string>& args);

// The pinned extension IDs compiled in (manifests/extension-id.txt), as chrome-extension://
// origins.
std::vector<std::string> BuiltInAllowedOrigins();

}  // namespace omnibridge::app
