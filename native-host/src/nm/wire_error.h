// The closed list of error codes that reach the extension. Every error frame's `code` comes from
// WireCodeOf(), so the wire vocabulary is stable whatever the status text says.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace omnibridge::nm {

enum class WireCode {
  kBadFrame,
  kFrameTooLarge,
  kInvalidUtf8,
  kInvalidJson,
  kTooDeep,
  kNotObject,
  kMissingType,
  kUnknownType,
  kInvalidRequest,
  kHandshakeRequired,
  kProtocolMismatch,
  kOriginRefused,
  kConfigInvalid,
  kNotAvailable,
  kCtiDown,
  kNotFound,
  kFailedPrecondition,
  kInternal,
};

// The stable identifier sent as `code`, e.g. "frame_too_large".
std::string_view WireCodeName(WireCode code);

// A status carrying `code` as its wire code (canonical code chosen to match).
absl::Status WireError(WireCode code, std::string_view message);
// Debian's Abseil has its own string_view type; these overloads accept every string kind.
absl::Status WireError(WireCode code, absl::string_view message);
absl::Status WireError(WireCode code, const std::string& message);
absl::Status WireError(WireCode code, const char* message);

// The wire code of any status: the one attached by WireError(), else derived from the canonical
// code (InvalidArgument → invalid_request, Unavailable → cti_down, …).
WireCode WireCodeOf(const absl::Status& status);

}  // namespace omnibridge::nm
