// Fuzzes the AMI parser, the event translator and the agent model behind them: any byte stream
// from the CTI link must neither crash, nor grow memory past the limits, nor stall framing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/agent_model.h"
#include "base/clock.h"
#include "base/log.h"
#include "cti/ami/ami_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omnibridge;
  static const bool quiet = [] {
    base::SetLogToStderr(false);
    return true;
  }();
  (void)quiet;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks the chunking, so line and packet boundaries land anywhere.
  size_t chunk = 1;
  if (!input.empty()) {
    chunk = 1 + static_cast<uint8_t>(input.front()) * 7;
    input.remove_prefix(1);
  }
  cti::ami::AmiParser::Limits limits;
  limits.max_line_bytes = 256;
  limits.max_headers = 32;
  limits.max_packet_bytes = 4096;
  cti::ami::AmiParser parser(limits, /*expect_banner=*/true);

  agent::AgentConfig config;
  config.agent_id = "1001";
  config.interfaces = {"Local/1001@agents/n", "Local/1001@omnibridge-task/n"};
  config.reason_codes = {"Break", "Lunch"};
  base::FakeClock clock;
  agent::AgentModel model(config, &clock);
  agent::Effects effects;
  model.OnLinkStatus(cti::LinkStatus{cti::LinkState::kUp, "ami", ""}, effects);

  for (size_t i = 0; i < input.size(); i += chunk) {
    parser.Feed(
        input.substr(i, chunk),
        [&](const cti::ami::AmiMessage& m) {
          if (m.size() > limits.max_headers)
            abort();
          for (size_t k = 0; k < m.size(); ++k)
            (void)m.Find(m.name(k));
          const bool snapshot = m.Has("ActionID");
          cti::ami::TranslateEvent(m, snapshot,
                                   [&](const cti::CtiEvent& e) { model.OnEvent(e, effects); });
        },
        [](const absl::Status&) {});
    if (parser.buffered_bytes() > limits.max_line_bytes)
      abort();
    if (effects.frames.size() > 10000)
      effects.frames.clear();
    if (effects.commands.size() > 10000)
      effects.commands.clear();
  }
  // Framing recovers: after any garbage, a blank line and one packet parse.
  bool seen = false;
  parser.Feed(
      "\r\n\r\nEvent: Probe\r\n\r\n",
      [&](const cti::ami::AmiMessage& m) { seen |= m.Get("Event") == "Probe"; },
      [](const absl::Status&) {});
  if (!seen)
    abort();
  return 0;
}
