#include "nm/frame_codec.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace omnibridge::nm {

void FrameDecoder::FeedViews(
    std::string_view bytes,
    absl::FunctionRef<void(std::string_view payload, uint32_t oversize_length)> on_frame) {
  while (!bytes.empty()) {
    if (!in_payload_) {
      if (header_fill_ == 0 && bytes.size() >= kHeaderBytes) {
        // Fast path: a whole frame in the input is handed over in place.
        uint32_t length;
        std::memcpy(&length, bytes.data(), kHeaderBytes);
        if (length <= max_frame_bytes_ && bytes.size() - kHeaderBytes >= length) {
          on_frame(bytes.substr(kHeaderBytes, length), 0);
          bytes.remove_prefix(kHeaderBytes + length);
          continue;
        }
      }
      size_t take = std::min(kHeaderBytes - header_fill_, bytes.size());
      std::memcpy(header_ + header_fill_, bytes.data(), take);
      header_fill_ += take;
      bytes.remove_prefix(take);
      if (header_fill_ < kHeaderBytes)
        return;
      header_fill_ = 0;
      std::memcpy(&length_, header_, kHeaderBytes);  // native byte order, as Chrome writes it
      remaining_ = length_;
      skipping_ = length_ > max_frame_bytes_;
      in_payload_ = true;
      payload_.clear();
      if (!skipping_)
        payload_.reserve(length_);
    }
    size_t take = std::min<size_t>(remaining_, bytes.size());
    if (!skipping_)
      payload_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
    if (remaining_ == 0) {
      in_payload_ = false;
      if (skipping_) {
        on_frame(std::string_view(), length_);
      } else {
        on_frame(payload_, 0);
        // Keep a small buffer for the next partial frame; give back what a big one took.
        if (payload_.capacity() > 64 * 1024)
          payload_ = std::string();
        payload_.clear();
      }
    }
  }
}

void FrameDecoder::Feed(std::string_view bytes, std::vector<DecodedFrame>& out) {
  FeedViews(bytes, [&out](std::string_view payload, uint32_t oversize_length) {
    out.push_back(DecodedFrame{std::string(payload), oversize_length});
  });
}

absl::Status AppendFrame(std::string_view payload, std::string& out) {
  return AppendFramePieces({payload}, out);
}

absl::Status AppendFramePieces(std::initializer_list<std::string_view> pieces, std::string& out) {
  size_t total = 0;
  for (std::string_view piece : pieces)
    total += piece.size();
  if (total > kMaxOutboundFrameBytes) {
    return absl::ResourceExhaustedError(base::Cat("outbound message of ", total,
                                                  " bytes exceeds the browser's limit of ",
                                                  kMaxOutboundFrameBytes, " bytes"));
  }
  uint32_t length = static_cast<uint32_t>(total);
  char header[kHeaderBytes];
  std::memcpy(header, &length, kHeaderBytes);
  out.reserve(out.size() + kHeaderBytes + total);
  out.append(header, kHeaderBytes);
  for (std::string_view piece : pieces)
    out.append(piece);
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeFrame(std::string_view payload) {
  std::string out;
  absl::Status status = AppendFrame(payload, out);
  if (!status.ok())
    return status;
  return out;
}

}  // namespace omnibridge::nm
