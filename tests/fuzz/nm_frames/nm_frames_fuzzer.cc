// Fuzzes what the browser controls: the byte stream on stdin. The first byte picks a chunk size
// so the decoder sees every kind of split; frames go through validation and the session's
// dispatch (hello, ping, errors) exactly as in the host, with a small cap to reach the oversize
// path.
#include <cstdint>
#include <string_view>
#include <vector>

#include "boost/json/serialize.hpp"

#include "app/host_session.h"
#include "nm/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t chunk = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  omnibridge::nm::FrameDecoder decoder(/*max_frame_bytes=*/4096);
  omnibridge::app::HostSession session(
      {"0.0.0", {"ping"}, nullptr}, [](const boost::json::value& message) {
        // Every reply must be encodable within the browser's limit or refused cleanly.
        std::string out;
        return omnibridge::nm::AppendFrame(boost::json::serialize(message), out);
      });
  std::vector<omnibridge::nm::DecodedFrame> frames;
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    frames.clear();
    decoder.Feed(stream.substr(pos, chunk), frames);
    for (auto& frame : frames)
      session.OnFrame(std::move(frame));
  }
  return 0;
}
