// `omnibridge-host route --config FILE`: the routing server (DESIGN.md "Router").
//
// Loads FILE (strict: any bad key stops the start), opens the journal, connects to the ACD with
// the `cti.*` keys, serves the webhooks and the status pages on `route.listen`, and runs until
// SIGINT/SIGTERM. On start it prints one line to stdout, {"listen":"<host>:<port>"} (the real port
// when route.listen asked for port 0), and nothing more; logs go to stderr.
//
// Exit codes: 0 after a signal, 2 bad arguments or configuration, 1 start failed (port in use,
// journal locked by another router, ...).
#pragma once

#include <string>
#include <vector>

namespace omnibridge::routing {

// `args` are the words after "route" (e.g. {"--config", "/etc/omnibridge/route.json"}).
int RunRoute(const std::vector<std::string>& args);

}  // namespace omnibridge::routing
