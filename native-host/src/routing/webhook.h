// Webhook intake of the route mode, without I/O: sources (config `route.sources`), request
// authentication (HMAC signature with a timestamp and replay protection, or a bearer token) and
// the payload mappings of each source kind onto one Intake (docs/routing.md lists them).
//
// Not thread-safe; lives on the event-loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/json/object.hpp"

namespace omnibridge::routing {

enum class SourceKind { kGeneric, kSalesforce, kZendesk, kOracle };
std::string_view SourceKindName(SourceKind kind);

// How a source proves itself. DESIGN.md: the signature, or a bearer token where the CRM can only
// send that.
enum class AuthMode { kSignature, kBearer };

// One entry of `route.sources`.
struct Source {
  std::string name;  // the path segment of POST /v1/webhooks/<name>
  SourceKind kind = SourceKind::kGeneric;
  AuthMode auth = AuthMode::kSignature;
  std::string secret;                         // HMAC key, or the bearer token
  std::string queue;                          // default queue
  std::map<std::string, std::string> queues;  // channel → queue
  // The queue for `channel`.
  const std::string& QueueFor(std::string_view channel) const;
};

// Parses `route.sources` (secretFile read here). Errors name the key, e.g.
// "route.sources[1].kind: must be generic, salesforce, zendesk or oracle".
absl::StatusOr<std::vector<Source>> ParseSources(const boost::json::value* sources);

// Largest sizes the router accepts (bytes of UTF-8), so that the virtual call's variables fit an
// AMI line once percent-encoded.
inline constexpr size_t kMaxCrmIdBytes = 200;
inline constexpr size_t kMaxSubjectBytes = 300;
inline constexpr size_t kMaxNameBytes = 120;
inline constexpr size_t kMaxAddressBytes = 160;
inline constexpr size_t kMaxUrlEncodedBytes = 990;

// A new digital work item as the router sees it, whatever the CRM's payload looked like.
struct Intake {
  std::string crm_id;   // the CRM's id for the work item (idempotency key with the source)
  std::string channel;  // chat | email | sms | social
  std::string subject;
  std::string customer_name;
  std::string customer_address;
  std::string url;        // https (http only on loopback hosts, for demos)
  std::string data_json;  // the "data" object as JSON text ("" when absent)
  bool closed = false;    // the CRM says the work item is closed (optional "status": "closed")
};

// Maps a payload of `kind` onto an Intake. kInvalidArgument with a message for people when the
// body is not JSON, too deep, has no id, an unknown channel or a bad URL.
absl::StatusOr<Intake> ParsePayload(SourceKind kind, std::string_view body);

// "Name <address>" (either part may be empty), as OB_CUSTOMER carries it.
std::string CustomerLine(std::string_view name, std::string_view address);

// The interaction id of (source, CRM id): "ob-" + 24 hex digits of SHA-256. Deterministic, so a
// lost journal still cannot give one work item two ids (and Asterisk refuses a second virtual
// call with the same ChannelId while the first lives).
std::string InteractionIdFor(std::string_view source, std::string_view crm_id);

// Lowercase hex HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Base64 (standard alphabet, padded) HMAC-SHA256(key, data).
std::string HmacSha256Base64(std::string_view key, std::string_view data);

// Verifies requests and remembers the signatures it accepted for the tolerance window, so a
// replayed request is refused.
class Authenticator {
 public:
  static constexpr absl::Duration kTolerance = absl::Minutes(5);

  explicit Authenticator(size_t max_remembered = 2'000'000) : max_remembered_(max_remembered) {}

  // `signature_header`: X-Omnibridge-Signature (empty when absent); `authorization`: the
  // Authorization header. kUnauthenticated with what is wrong ("signature does not match",
  // "timestamp outside the 5-minute tolerance", "replayed request"...). Only a request that
  // passes is remembered.
  absl::Status Verify(const Source& source, std::string_view signature_header,
                      std::string_view authorization, std::string_view body, absl::Time now);

  // Zendesk's own webhook signing (a source of kind zendesk with auth "signature" may use it
  // instead of X-Omnibridge-Signature): X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret,
  // timestamp + body)) with X-Zendesk-Webhook-Signature-Timestamp (ISO 8601, or unix seconds).
  // Same tolerance and replay protection.
  absl::Status VerifyZendesk(const Source& source, std::string_view signature_b64,
                             std::string_view timestamp, std::string_view body, absl::Time now);

  size_t remembered() const { return seen_.size(); }

 private:
  void Forget(absl::Time now);
  absl::Status Remember(const Source& source, const std::string& mac, absl::Time when,
                        absl::Time now);

  struct Seen {
    absl::Time expires;
    std::string key;
  };

  size_t max_remembered_;
  absl::flat_hash_set<std::string> seen_;
  std::deque<Seen> order_;
};

}  // namespace omnibridge::routing
