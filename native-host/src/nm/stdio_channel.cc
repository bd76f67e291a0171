#include "nm/stdio_channel.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/buffer.hpp"
#include "boost/asio/write.hpp"
#include "boost/json/serialize.hpp"

#include "base/log.h"
#include <fcntl.h>

namespace omnibridge::nm {

namespace {
// Chrome writes in 4 KiB pieces; a larger buffer lets bulk input arrive in fewer reads.
constexpr size_t kReadChunkBytes = 256 * 1024;
constexpr int kPipeBytes = 1024 * 1024;
}  // namespace

StdioChannel::StdioChannel(boost::asio::io_context& loop, int in_fd, int out_fd,
                           size_t max_frame_bytes, Callbacks callbacks)
    : in_(loop, in_fd),
      out_(loop, out_fd),
      decoder_(max_frame_bytes),
      callbacks_(std::move(callbacks)) {
  read_buffer_.resize(kReadChunkBytes);
  // Larger pipes mean fewer wake-ups per megabyte; refused (not a pipe, limit) is harmless.
  ::fcntl(in_fd, F_SETPIPE_SZ, kPipeBytes);
  ::fcntl(out_fd, F_SETPIPE_SZ, kPipeBytes);
}

StdioChannel::~StdioChannel() = default;

void StdioChannel::Start() { ReadMore(); }

void StdioChannel::ReadMore() {
  // Backpressure: while the browser has not taken what we wrote, stop taking requests from it,
  // rather than queueing without bound or dropping replies.
  if (queued_bytes() > kReadPauseBytes) {
    read_paused_ = true;
    return;
  }
  in_.async_read_some(
      boost::asio::buffer(read_buffer_), [this](const boost::system::error_code& ec, size_t n) {
        if (ec) {
          if (ec != boost::asio::error::eof) {
            OMNI_LOG(kWarning, "nm", "stdin read failed: ", ec.message());
          }
          if (!decoder_.idle()) {
            OMNI_LOG(kWarning, "nm", "stdin closed in the middle of a frame; it is dropped");
          }
          if (callbacks_.on_eof)
            callbacks_.on_eof();
          return;
        }
        decoder_.FeedViews(std::string_view(read_buffer_.data(), n),
                           [this](std::string_view payload, uint32_t oversize_length) {
                             if (oversize_length != 0) {
                               callbacks_.on_oversize(oversize_length);
                             } else {
                               callbacks_.on_payload(payload);
                             }
                           });
        ReadMore();
      });
}

absl::Status StdioChannel::Send(const boost::json::value& message) {
  return SendSerialized(boost::json::serialize(message));
}

absl::Status StdioChannel::SendPieces(std::initializer_list<std::string_view> pieces) {
  if (write_failed_)
    return absl::UnavailableError("stdout is closed");
  size_t total = 0;
  for (std::string_view piece : pieces)
    total += piece.size();
  if (queued_bytes() + total > kMaxQueuedOutputBytes) {
    OMNI_LOG(kError, "nm", "output queue full (", queued_bytes(),
             " bytes): the browser is not reading; message dropped");
    return absl::ResourceExhaustedError("output queue full");
  }
  absl::Status status = AppendFramePieces(pieces, pending_);
  if (!status.ok()) {
    OMNI_LOG(kError, "nm", "refused to send: ", status.message());
    return status;
  }
  if (writing_.empty())
    WriteMore();
  return absl::OkStatus();
}

absl::Status StdioChannel::SendSerialized(std::string_view json) { return SendPieces({json}); }

void StdioChannel::WriteMore() {
  if (pending_.empty() || write_failed_) {
    if (writing_.empty()) {
      auto waiters = std::move(flush_waiters_);
      flush_waiters_.clear();
      for (auto& done : waiters)
        done();
    }
    return;
  }
  writing_.swap(pending_);
  boost::asio::async_write(out_, boost::asio::buffer(writing_),
                           [this](const boost::system::error_code& ec, size_t) {
                             writing_.clear();
                             if (read_paused_ && queued_bytes() <= kReadPauseBytes) {
                               read_paused_ = false;
                               ReadMore();
                             }
                             if (ec) {
                               OMNI_LOG(kWarning, "nm", "stdout write failed: ", ec.message());
                               write_failed_ = true;
                               pending_.clear();
                             }
                             WriteMore();
                           });
}

void StdioChannel::Flush(std::function<void()> done) {
  if (writing_.empty() && pending_.empty()) {
    done();
    return;
  }
  flush_waiters_.push_back(std::move(done));
}

}  // namespace omnibridge::nm
