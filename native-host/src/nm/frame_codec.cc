#include "nm/frame_codec.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace omnibridge::nm {

void FrameDecoder::Feed(std::string_view bytes, std::vector<DecodedFrame>& out) {
  while (!bytes.empty()) {
    if (!in_payload_) {
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
    if (remaining_ == 0)
      Complete(out);
  }
}

void FrameDecoder::Complete(std::vector<DecodedFrame>& out) {
  in_payload_ = false;
  DecodedFrame frame;
  if (skipping_) {
    frame.oversize_length = length_;
  } else {
    frame.payload = std::move(payload_);
    payload_ = std::string();
  }
  out.push_back(std::move(frame));
}

absl::Status AppendFrame(std::string_view payload, std::string& out) {
  if (payload.size() > kMaxOutboundFrameBytes) {
    return absl::ResourceExhaustedError(base::Cat("outbound message of ", payload.size(),
                                                  " bytes exceeds the browser's limit of ",
                                                  kMaxOutboundFrameBytes, " bytes"));
  }
  uint32_t length = static_cast<uint32_t>(payload.size());
  char header[kHeaderBytes];
  std::memcpy(header, &length, kHeaderBytes);
  out.append(header, kHeaderBytes);
  out.append(payload);
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
