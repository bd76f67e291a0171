#include "nm/wire_error.h"

#include <array>

#include "absl/strings/cord.h"

namespace omnibridge::nm {
namespace {

constexpr absl::string_view kPayloadUrl = "omnibridge.org/wire-code";

absl::string_view Absl(std::string_view s) { return {s.data(), s.size()}; }

struct CodeInfo {
  WireCode code;
  std::string_view name;
  absl::StatusCode canonical;
};

constexpr std::array<CodeInfo, 18> kCodes = {{
    {WireCode::kBadFrame, "bad_frame", absl::StatusCode::kInvalidArgument},
    {WireCode::kFrameTooLarge, "frame_too_large", absl::StatusCode::kResourceExhausted},
    {WireCode::kInvalidUtf8, "invalid_utf8", absl::StatusCode::kInvalidArgument},
    {WireCode::kInvalidJson, "invalid_json", absl::StatusCode::kInvalidArgument},
    {WireCode::kTooDeep, "too_deep", absl::StatusCode::kInvalidArgument},
    {WireCode::kNotObject, "not_object", absl::StatusCode::kInvalidArgument},
    {WireCode::kMissingType, "missing_type", absl::StatusCode::kInvalidArgument},
    {WireCode::kUnknownType, "unknown_type", absl::StatusCode::kUnimplemented},
    {WireCode::kInvalidRequest, "invalid_request", absl::StatusCode::kInvalidArgument},
    {WireCode::kHandshakeRequired, "handshake_required", absl::StatusCode::kFailedPrecondition},
    {WireCode::kProtocolMismatch, "protocol_mismatch", absl::StatusCode::kFailedPrecondition},
    {WireCode::kOriginRefused, "origin_refused", absl::StatusCode::kPermissionDenied},
    {WireCode::kConfigInvalid, "config_invalid", absl::StatusCode::kFailedPrecondition},
    {WireCode::kNotAvailable, "not_available", absl::StatusCode::kUnimplemented},
    {WireCode::kCtiDown, "cti_down", absl::StatusCode::kUnavailable},
    {WireCode::kNotFound, "not_found", absl::StatusCode::kNotFound},
    {WireCode::kFailedPrecondition, "failed_precondition", absl::StatusCode::kFailedPrecondition},
    {WireCode::kInternal, "internal", absl::StatusCode::kInternal},
}};

const CodeInfo& Info(WireCode code) {
  for (const CodeInfo& info : kCodes) {
    if (info.code == code)
      return info;
  }
  return kCodes.back();
}

}  // namespace

std::string_view WireCodeName(WireCode code) { return Info(code).name; }

absl::Status WireError(WireCode code, std::string_view message) {
  absl::Status status(Info(code).canonical, Absl(message));
  status.SetPayload(kPayloadUrl, absl::Cord(Absl(Info(code).name)));
  return status;
}

absl::Status WireError(WireCode code, absl::string_view message) {
  return WireError(code, std::string_view(message.data(), message.size()));
}

absl::Status WireError(WireCode code, const std::string& message) {
  return WireError(code, std::string_view(message));
}

absl::Status WireError(WireCode code, const char* message) {
  return WireError(code, std::string_view(message));
}

WireCode WireCodeOf(const absl::Status& status) {
  if (auto payload = status.GetPayload(kPayloadUrl)) {
    std::string name(*payload);
    for (const CodeInfo& info : kCodes) {
      if (info.name == name)
        return info.code;
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return WireCode::kInvalidRequest;
    case absl::StatusCode::kResourceExhausted:
      return WireCode::kFrameTooLarge;
    case absl::StatusCode::kUnimplemented:
      return WireCode::kNotAvailable;
    case absl::StatusCode::kUnavailable:
      return WireCode::kCtiDown;
    case absl::StatusCode::kNotFound:
      return WireCode::kNotFound;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return WireCode::kFailedPrecondition;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return WireCode::kOriginRefused;
    default:
      return WireCode::kInternal;
  }
}

}  // namespace omnibridge::nm
