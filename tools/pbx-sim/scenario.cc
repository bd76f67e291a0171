#include "scenario.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "boost/json.hpp"

#include "base/log.h"
#include "base/status_macros.h"
#include "json_util.h"

namespace omnibridge::pbxsim {
namespace {

namespace json = boost::json;

absl::Status Bad(absl::string_view where, absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": key \"", key, "\": ", what));
}

absl::Status Str(const json::object& o, absl::string_view where, absl::string_view key,
                 std::string* out) {
  const json::value* v = o.if_contains(J(key));
  if (v == nullptr)
    return absl::OkStatus();
  if (!v->is_string())
    return Bad(where, key, "must be a string");
  *out = std::string(v->as_string());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<double>> Num(const json::object& o, absl::string_view where,
                                          absl::string_view key) {
  const json::value* v = o.if_contains(J(key));
  if (v == nullptr)
    return std::optional<double>();
  if (!v->is_number())
    return Bad(where, key, "must be a number");
  double d = v->to_number<double>();
  if (d < 0 || d > 1e7)
    return Bad(where, key, "must be from 0 to 10000000");
  return std::optional<double>(d);
}

}  // namespace

absl::StatusOr<CallRequest> ParseCallRequest(const json::object& o, absl::string_view where) {
  CallRequest r;
  for (const auto& kv : o) {
    static constexpr absl::string_view kKnown[] = {
        "cmd",    "at",           "repeat",      "every",         "from",    "name",
        "to",     "queue",        "channel",     "interactionId", "subject", "customer",
        "crmUrl", "offerTimeout", "answerAfter", "duration"};
    bool known = false;
    for (absl::string_view k : kKnown)
      known = known || kv.key() == J(k);
    if (!known)
      return Bad(where, A(kv.key()), "unknown key");
  }
  OMNI_RETURN_IF_ERROR(Str(o, where, "from", &r.from));
  OMNI_RETURN_IF_ERROR(Str(o, where, "name", &r.name));
  OMNI_RETURN_IF_ERROR(Str(o, where, "to", &r.to));
  OMNI_RETURN_IF_ERROR(Str(o, where, "queue", &r.queue));
  OMNI_RETURN_IF_ERROR(Str(o, where, "channel", &r.channel));
  OMNI_RETURN_IF_ERROR(Str(o, where, "interactionId", &r.interaction_id));
  OMNI_RETURN_IF_ERROR(Str(o, where, "subject", &r.subject));
  OMNI_RETURN_IF_ERROR(Str(o, where, "customer", &r.customer));
  OMNI_RETURN_IF_ERROR(Str(o, where, "crmUrl", &r.crm_url));
  if (r.channel.empty())
    return Bad(where, "channel", "must not be empty");
  if (r.to.find_first_of("@/;, ") != std::string::npos) {
    return Bad(where, "to", "must be a plain extension");
  }
  OMNI_ASSIGN_OR_RETURN(auto offer_timeout, Num(o, where, "offerTimeout"));
  if (offer_timeout)
    r.offer_timeout = static_cast<int>(*offer_timeout);
  OMNI_ASSIGN_OR_RETURN(auto answer_after, Num(o, where, "answerAfter"));
  if (answer_after)
    r.answer_after = static_cast<int>(*answer_after);
  OMNI_ASSIGN_OR_RETURN(auto duration, Num(o, where, "duration"));
  if (duration)
    r.duration = static_cast<int>(*duration);
  return r;
}

absl::StatusOr<Scenario> ParseScenario(absl::string_view text, absl::string_view origin) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value root = json::parse(J(text), ec, {}, options);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not valid JSON: ", ec.message()));
  }
  const json::object* obj = root.if_object();
  if (obj == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(origin, ": not an object"));
  for (const auto& kv : *obj) {
    if (kv.key() != "calls")
      return Bad(origin, A(kv.key()), "unknown key");
  }
  const json::value* calls = obj->if_contains("calls");
  if (calls == nullptr || !calls->is_array())
    return Bad(origin, "calls", "must be a list");
  Scenario scenario;
  size_t i = 0;
  for (const json::value& c : calls->as_array()) {
    std::string where = absl::StrCat(origin, ": calls[", i++, "]");
    const json::object* co = c.if_object();
    if (co == nullptr)
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    ScenarioCall call;
    OMNI_ASSIGN_OR_RETURN(call.request, ParseCallRequest(*co, where));
    OMNI_ASSIGN_OR_RETURN(auto at, Num(*co, where, "at"));
    call.at_seconds = at.value_or(0);
    OMNI_ASSIGN_OR_RETURN(auto repeat, Num(*co, where, "repeat"));
    call.repeat = static_cast<int>(repeat.value_or(1));
    if (call.repeat < 1 || call.repeat > 100000) {
      return Bad(where, "repeat", "must be from 1 to 100000");
    }
    OMNI_ASSIGN_OR_RETURN(auto every, Num(*co, where, "every"));
    call.every_seconds = every.value_or(0);
    if (call.repeat > 1 && call.every_seconds <= 0) {
      return Bad(where, "every", "must be over 0 when repeat is over 1");
    }
    scenario.calls.push_back(std::move(call));
  }
  return scenario;
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().size() > (8 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": scenario over 8 MiB"));
  }
  return ParseScenario(buffer.str(), path);
}

void RunScenario(const Scenario& scenario, Scheduler* scheduler, Pbx* pbx) {
  for (const ScenarioCall& call : scenario.calls) {
    for (int n = 0; n < call.repeat; ++n) {
      double at = call.at_seconds + n * call.every_seconds;
      CallRequest request = call.request;
      scheduler->After(absl::Milliseconds(static_cast<int64_t>(at * 1000)), [pbx, request] {
        auto info = pbx->PlaceCall(request);
        if (!info.ok()) {
          OMNI_LOG(kWarning, "scenario", "call failed: ", info.status().message());
        } else {
          OMNI_LOG(kInfo, "scenario", request.channel, " call ", info->linkedid, " into ",
                   request.queue.empty() ? "(default queue)" : request.queue);
        }
      });
    }
  }
}

}  // namespace omnibridge::pbxsim
