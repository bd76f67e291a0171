// The native-messaging transport on the one event loop: frames in from stdin, frames out to
// stdout. stdout carries frames only; nothing else in the process may write to it.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/json/value.hpp"

#include "nm/frame_codec.h"

namespace omnibridge::nm {

// Not thread-safe: every call on the loop's thread. Owns the two descriptors it is given.
class StdioChannel {
 public:
  struct Callbacks {
    // A frame's payload (a view valid during the call), or a skipped oversize frame's length.
    std::function<void(std::string_view payload)> on_payload;
    std::function<void(uint32_t length)> on_oversize;
    // stdin reached EOF (the browser closed the port) or failed; no more frames will come.
    std::function<void()> on_eof;
  };

  // Output queued past this is dropped with an error log: the browser has stopped reading.
  static constexpr size_t kMaxQueuedOutputBytes = 64 * 1024 * 1024;
  // Reading stdin pauses while more than this waits to be written (the browser is slow).
  static constexpr size_t kReadPauseBytes = 4 * 1024 * 1024;

  StdioChannel(boost::asio::io_context& loop, int in_fd, int out_fd, size_t max_frame_bytes,
               Callbacks callbacks);
  ~StdioChannel();
  StdioChannel(const StdioChannel&) = delete;
  StdioChannel& operator=(const StdioChannel&) = delete;

  void Start();

  // Serializes and queues one message. ResourceExhausted (and nothing written) when it exceeds
  // the browser's 1 MiB limit or the output queue is full; logged either way.
  absl::Status Send(const boost::json::value& message);
  absl::Status SendSerialized(std::string_view json);
  // Queues one message given as consecutive pieces of serialized JSON.
  absl::Status SendPieces(std::initializer_list<std::string_view> pieces);

  // Calls `done` once everything queued so far is written (or writing failed).
  void Flush(std::function<void()> done);

  size_t queued_bytes() const { return pending_.size() + writing_.size(); }

 private:
  void ReadMore();
  void WriteMore();

  boost::asio::posix::stream_descriptor in_;
  boost::asio::posix::stream_descriptor out_;
  FrameDecoder decoder_;
  Callbacks callbacks_;
  std::string read_buffer_;
  std::string pending_;
  std::string writing_;
  bool write_failed_ = false;
  bool read_paused_ = false;
  std::vector<std::function<void()>> flush_waiters_;
};

}  // namespace omnibridge::nm
