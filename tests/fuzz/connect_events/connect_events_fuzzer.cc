// Fuzzes the Connect API's request validation: POST /v1/events bodies (ParseEventBody) and the
// Authorization header parsing. Invariants: never crashes or throws; a valid body's normalised
// form (ToJson) is itself valid and parses to the same event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boost/json.hpp"

#include "connect/connect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omnibridge::connect;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto token = BearerToken(input)) {
    if (token->empty() || token->front() == ' ' || token->back() == ' ')
      std::abort();
    (void)TokenMatches(*token, input);
  }

  absl::StatusOr<ConnectEvent> event = ParseEventBody(input);
  if (!event.ok()) {
    if (event.status().code() != absl::StatusCode::kInvalidArgument)
      std::abort();
    return 0;
  }
  const boost::json::object normal = event->ToJson();
  const std::string text = boost::json::serialize(normal);
  absl::StatusOr<ConnectEvent> again = ParseEventBody(text);
  if (!again.ok())
    std::abort();
  // Same event (numbers in `data` may move by a rounding step: Boost.JSON 1.81's double parsing
  // is not correctly rounded, so exact JSON equality is not an invariant).
  if (again->kind != event->kind || again->name != event->name ||
      again->interaction.at("interactionId") != event->interaction.at("interactionId") ||
      again->interaction.size() != event->interaction.size() ||
      again->data.size() != event->data.size()) {
    std::abort();
  }
  if (!event->interaction.contains("interactionId"))
    std::abort();
  return 0;
}
