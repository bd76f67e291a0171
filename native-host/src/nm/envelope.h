// Validation without a DOM, and the top-level members of a message as raw JSON text. The host
// answers `ping` from these spans (the payload is echoed byte for byte, never re-serialized), so
// the echo path costs one validating pass and one copy; every other message is parsed into a DOM.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace omnibridge::nm {

// Validates `text` as one JSON document: syntax, UTF-8, nesting ≤ kMaxJsonDepth (message.h).
// Errors carry the wire codes invalid_json, invalid_utf8 or too_deep.
absl::Status ValidateJson(std::string_view text);

// The members the envelope is made of, as raw JSON spans of a validated top-level object.
struct Envelope {
  std::string_view type_raw;     // e.g. "\"ping\"" (with its quotes); empty when absent
  std::string_view id_raw;       // e.g. "\"7\"" or "7"; empty when absent
  std::string_view payload_raw;  // any JSON value; empty when absent
  // False when a key uses escapes or a member repeats: such messages take the DOM path.
  bool simple = true;
};

// Scans the top level of `validated` (which ValidateJson accepted). not_object when it is not an
// object.
absl::StatusOr<Envelope> ScanEnvelope(std::string_view validated);

}  // namespace omnibridge::nm
