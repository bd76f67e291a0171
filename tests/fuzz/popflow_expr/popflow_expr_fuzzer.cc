// Fuzzes the PopFlow expression and template language: any text a user can type into a flow must
// parse or fail with a column, and anything that parses must evaluate or fail, within the limits
// (no crash, no unbounded recursion, no value above max_string).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "boost/json.hpp"

#include "base/log.h"
#include "popflow/expr.h"

namespace {

namespace json = boost::json;
using omnibridge::popflow::ExprError;
using omnibridge::popflow::ExprLimits;

const json::object& Roots() {
  static const json::object* roots = new json::object(json::parse(R"({
        "interaction": {"interactionId": "i-1", "ani": "+1 (415) 555-0100", "queue": "vip",
                        "callerName": "Ada", "data": {"tags": ["a", "b"], "n": 5, "s": "x,y"}},
        "agent": {"id": "1001"},
        "vars": {"count": 3, "list": [1, 2, 3], "big": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
        "nodes": {"s": {"count": 1, "ids": ["003"]}},
        "trigger": {"event": "interaction.offered"}, "flow": {"name": "f", "version": 1}})")
                                                          .as_object());
  return *roots;
}

void CheckError(const ExprError& e, std::string_view text) {
  // Every error points inside the text (or just past its end) and says something.
  if (e.message.empty() || e.column < 1 || static_cast<size_t>(e.column) > text.size() + 1) {
    std::fprintf(stderr, "bad error: column %d of %zu bytes: %s\n", e.column, text.size(),
                 e.message.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omnibridge::popflow;
  static const bool quiet = [] {
    omnibridge::base::SetLogToStderr(false);
    return true;
  }();
  (void)quiet;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ExprLimits limits;
  limits.max_string = 4096;  // small, so growth limits are reached often
  Scope scope{&Roots(), absl::FromUnixSeconds(1'790'000'000)};

  Expression expr;
  ExprError error;
  if (ParseExpression(text, limits, &expr, &error)) {
    json::value out;
    if (expr.Evaluate(scope, limits, &out, &error)) {
      if (out.is_string() && out.get_string().size() > limits.max_string)
        std::abort();
      (void)ToText(out);
    } else {
      CheckError(error, text);
    }
  } else {
    CheckError(error, text);
  }

  Template tpl;
  if (ParseTemplate(text, limits, &tpl, &error)) {
    std::string rendered;
    if (tpl.Render(scope, limits, /*encode=*/size % 2 == 0, &rendered, &error)) {
      if (rendered.size() > limits.max_string)
        std::abort();
    } else {
      CheckError(error, text);
    }
  } else {
    CheckError(error, text);
  }

  std::string e164 = ToE164(text, size > 2 ? text.substr(0, 2) : "1");
  if (!e164.empty() && (e164[0] != '+' || e164.size() > 16))
    std::abort();
  return 0;
}
