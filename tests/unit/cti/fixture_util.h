// Test helpers shared by the cti and agent tests: AMI fixture files as parsed messages.
#pragma once

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cti/ami/ami_protocol.h"

namespace omnibridge::testing {

inline std::string ReadFixture(const std::string& relative) {
  std::ifstream in("tests/fixtures/ami/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A parsed packet, copied out of the parser's reusable message.
struct Packet {
  bool banner = false;
  std::vector<std::pair<std::string, std::string>> headers;

  std::string Get(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name)
        return v;
    }
    return {};
  }

  bool operator==(const Packet&) const = default;
};

inline Packet Copy(const cti::ami::AmiMessage& m) {
  Packet p;
  p.banner = m.is_banner();
  if (p.banner)
    p.headers.emplace_back("", std::string(m.banner()));
  for (size_t i = 0; i < m.size(); ++i) {
    p.headers.emplace_back(std::string(m.name(i)), std::string(m.value(i)));
  }
  return p;
}

// Parses `bytes` fed in chunks of `chunk` bytes (0 = all at once).
inline std::vector<Packet> ParseAll(std::string_view bytes, size_t chunk = 0, int* errors = nullptr,
                                    cti::ami::AmiParser::Limits limits = {}) {
  cti::ami::AmiParser parser(limits, /*expect_banner=*/true);
  std::vector<Packet> out;
  auto on_message = [&](const cti::ami::AmiMessage& m) { out.push_back(Copy(m)); };
  auto on_error = [&](const absl::Status&) {
    if (errors != nullptr)
      ++*errors;
  };
  if (chunk == 0)
    chunk = bytes.size() + 1;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    parser.Feed(bytes.substr(i, chunk), on_message, on_error);
  }
  return out;
}

// Feeds every event packet of an AMI transcript (server → client events only; actions and
// responses skipped) through TranslateEvent.
inline void ForEachTranscriptEvent(std::string_view bytes,
                                   const std::function<void(const cti::CtiEvent&)>& emit) {
  cti::ami::AmiParser parser(/*expect_banner=*/true);
  parser.Feed(
      bytes,
      [&](const cti::ami::AmiMessage& m) {
        if (m.is_banner() || !m.Has("Event"))
          return;
        cti::ami::TranslateEvent(m, /*snapshot=*/false, [&](const cti::CtiEvent& e) { emit(e); });
      },
      [](const absl::Status&) {});
}

}  // namespace omnibridge::testing
