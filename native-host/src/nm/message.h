// Inbound message validation: every payload from the browser is untrusted.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace omnibridge::nm {

// Deeper JSON is refused with `too_deep` (the protocol's messages are a few levels deep).
inline constexpr int kMaxJsonDepth = 64;

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Validates and parses one payload: UTF-8, JSON, depth ≤ kMaxJsonDepth, an object with a string
// `type`. Errors carry a wire code (invalid_utf8, invalid_json, too_deep, not_object,
// missing_type) and say what is wrong.
absl::StatusOr<boost::json::object> ParseInboundMessage(std::string_view payload);

// The request id of a message (`id`, a string or number), empty when absent or not scalar.
std::string RequestIdOf(const boost::json::object& message);

}  // namespace omnibridge::nm
