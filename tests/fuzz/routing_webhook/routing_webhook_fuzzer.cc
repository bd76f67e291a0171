// Untrusted webhook input: the first byte picks the source kind (and the signature path), the rest
// is the body and, for the signature path, the header. Every mapping must return a Status, never
// crash, and whatever it accepts must respect the documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"

#include "routing/webhook.h"

using namespace omnibridge::routing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t selector = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (selector >= 0xF0) {
    // "<header>\n<body>" against the signature check.
    const size_t nl = rest.find('\n');
    std::string_view header = rest.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    static Authenticator auth(1000);
    Source source;
    source.name = "fuzz";
    source.secret = "fuzz-secret-0123456789";
    source.queue = "digital";
    source.auth = (selector & 1) ? AuthMode::kBearer : AuthMode::kSignature;
    (void)auth.Verify(source, header, header, body, absl::FromUnixSeconds(1'800'000'000));
    return 0;
  }
  const SourceKind kind = static_cast<SourceKind>(selector % 4);
  auto intake = ParsePayload(kind, rest);
  if (intake.ok()) {
    if (intake->crm_id.empty() || intake->crm_id.size() > kMaxCrmIdBytes ||
        intake->subject.size() > kMaxSubjectBytes || intake->customer_name.size() > kMaxNameBytes ||
        intake->customer_address.size() > kMaxAddressBytes)
      std::abort();
    if (intake->channel != "chat" && intake->channel != "email" && intake->channel != "sms" &&
        intake->channel != "social")
      std::abort();
    for (char c : intake->subject) {
      if (static_cast<unsigned char>(c) < 0x20)
        std::abort();
    }
    (void)InteractionIdFor("fuzz", intake->crm_id);
  }
  return 0;
}
