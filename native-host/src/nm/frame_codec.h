// Native-messaging framing: a 32-bit length in native byte order, then that many bytes of UTF-8
// JSON. The decoder is incremental (any chunking, 1-byte writes included) and never trusts a
// length: a frame over the cap is skipped byte by byte without being buffered, so frame sync is
// kept and memory stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace omnibridge::nm {

// Chrome refuses host→browser messages over 1 MiB (kMaximumNativeMessageSize) and kills the port.
inline constexpr size_t kMaxOutboundFrameBytes = 1024 * 1024;
// Default cap on browser→host messages (config nm.maxFrameBytes); Chrome itself allows 64 MiB.
inline constexpr size_t kDefaultMaxInboundFrameBytes = 1024 * 1024;
inline constexpr size_t kHeaderBytes = 4;

// One decoder output: either a complete payload, or the notice that an oversize frame of
// `oversize_length` bytes was skipped (payload empty).
struct DecodedFrame {
  std::string payload;
  uint32_t oversize_length = 0;

  bool oversize() const { return oversize_length != 0; }
};

// Not thread-safe; one per input stream.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxInboundFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // Consumes `bytes`, calling `on_frame(payload, oversize_length)` for every frame completed by
  // them, in order: `oversize_length` is 0 for a frame within the cap, else the skipped frame's
  // length (payload empty). A frame lying whole inside `bytes` is passed as a view into `bytes`,
  // without a copy; views are valid only during the call.
  void FeedViews(
      std::string_view bytes,
      absl::FunctionRef<void(std::string_view payload, uint32_t oversize_length)> on_frame);

  // Consumes `bytes`, appending every frame completed by them to `out` in order.
  void Feed(std::string_view bytes, std::vector<DecodedFrame>& out);

  // True when no partial header or payload is pending (a clean place for EOF).
  bool idle() const { return header_fill_ == 0 && !in_payload_; }

 private:
  size_t max_frame_bytes_;
  unsigned char header_[kHeaderBytes] = {};
  size_t header_fill_ = 0;
  bool in_payload_ = false;
  bool skipping_ = false;
  uint32_t length_ = 0;
  uint32_t remaining_ = 0;
  std::string payload_;
};

// Appends header + payload to `out`. ResourceExhausted when `payload` exceeds the 1 MiB limit
// Chrome enforces on host→browser frames (nothing is appended then).
absl::Status AppendFrame(std::string_view payload, std::string& out);

// Appends one frame whose payload is the concatenation of `pieces` (no intermediate copy).
absl::Status AppendFramePieces(std::initializer_list<std::string_view> pieces, std::string& out);

// Convenience form of AppendFrame for one frame.
absl::StatusOr<std::string> EncodeFrame(std::string_view payload);

}  // namespace omnibridge::nm
