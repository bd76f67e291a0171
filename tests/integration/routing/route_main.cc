// `route --config FILE` as omnibridge-host runs it (routing::RunRoute), in a binary of its own so
// the integration tests and the benchmark do not depend on app/main.cc's mode dispatch.
#include <string>
#include <vector>

#include "routing/route_mode.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "route")
    args.erase(args.begin());
  return omnibridge::routing::RunRoute(args);
}
