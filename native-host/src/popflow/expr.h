// Internal: the PopFlow expression and template language (tokenizer, parser, evaluator).
//
// Flows come from users, so this is a small closed language evaluated by our own code: no eval,
// no loops, no user-defined functions, no regular expressions (no ReDoS). Every input is bounded:
// source length, nesting depth, and the size of every string or list a function produces. Errors
// carry the 1-based column (in characters) of the offending token so the designer can point at it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/json.hpp"

namespace omnibridge::popflow {

// Debian's Abseil is built with its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so
// std::string_view must be converted at Abseil calls.
inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

struct ExprLimits {
  size_t max_length = 4096;               // bytes of one expression or template
  int max_depth = 32;                     // nesting of parentheses, calls, operators
  size_t max_string = size_t{64} * 1024;  // bytes of any string a value may hold
  size_t max_list = 1000;                 // items of a list produced by split()
  int max_template_parts = 256;           // {{ }} segments in one template
};

// A parse or evaluation error: `column` is 1-based, counted in characters of the source text.
struct ExprError {
  int column = 0;
  std::string message;
};

struct ExprNode;  // defined in expr.cc

// What an expression may read: the root objects (interaction, agent, vars, nodes, trigger, flow)
// and the instant now() returns. Not owned.
struct Scope {
  const boost::json::object* roots = nullptr;
  absl::Time now = absl::UnixEpoch();
};

// A parsed expression. Immutable and cheap to copy (shared tree), so flows can share it across
// runs.
class Expression {
 public:
  Expression() = default;

  bool empty() const { return root_ == nullptr; }

  const std::string& source() const { return source_; }

  // Evaluates against `scope`. On failure returns false and fills `error` (column relative to
  // the expression's own text).
  bool Evaluate(const Scope& scope, const ExprLimits& limits, boost::json::value* out,
                ExprError* error) const;

 private:
  friend bool ParseExpression(std::string_view, const ExprLimits&, Expression*, ExprError*);
  std::shared_ptr<const ExprNode> root_;
  std::string source_;
};

// Parses `text` as a whole expression. Returns false and fills `error` on failure.
bool ParseExpression(std::string_view text, const ExprLimits& limits, Expression* out,
                     ExprError* error);

// A template: literal text with {{ expression }} segments. Values render as text (null as "",
// numbers in shortest form, lists and objects as compact JSON).
class Template {
 public:
  Template() = default;

  const std::string& source() const { return source_; }

  bool empty() const { return source_.empty(); }

  // True when the template is one {{ }} segment and nothing else (renders the value unchanged).
  bool IsSingleExpression() const { return parts_.size() == 1 && !parts_[0].is_literal; }

  // Renders to text. `encode` percent-encodes every substituted value (RFC 3986 unreserved
  // characters kept), used for URLs so data from a caller cannot add query parameters or path
  // segments.
  bool Render(const Scope& scope, const ExprLimits& limits, bool encode, std::string* out,
              ExprError* error) const;
  // Evaluates a single-expression template to its value (not text); for other templates renders
  // text into a string value.
  bool RenderValue(const Scope& scope, const ExprLimits& limits, boost::json::value* out,
                   ExprError* error) const;

 private:
  friend bool ParseTemplate(std::string_view, const ExprLimits&, Template*, ExprError*);

  struct Part {
    bool is_literal = true;
    std::string literal;
    Expression expr;
    int column = 1;  // column of the part's first character in the template
  };

  std::vector<Part> parts_;
  std::string source_;
};

bool ParseTemplate(std::string_view text, const ExprLimits& limits, Template* out,
                   ExprError* error);

// Calls a built-in function on values already computed (the format node uses this so that it
// and the expression functions behave the same).
bool CallFunction(std::string_view name, const std::vector<boost::json::value>& args,
                  const Scope& scope, const ExprLimits& limits, boost::json::value* out,
                  ExprError* error);

// Helpers shared with the engine.
bool Truthy(const boost::json::value& v);
// Text form used by templates and switch: null → "", true/false, shortest number, else JSON.
std::string ToText(const boost::json::value& v);
// Percent-encodes all but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view s);
// Normalises a phone number to E.164 ("+<digits>"); "" when it cannot. `country` is a calling
// code ("1", "+44") applied to national numbers.
std::string ToE164(std::string_view number, std::string_view country);
// Column (1-based, in characters) of byte offset `offset` in `text`.
int ColumnOf(std::string_view text, size_t offset);

}  // namespace omnibridge::popflow
