#include "popflow/expr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace omnibridge::popflow {

namespace json = boost::json;

enum class Op {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kNot,
  kAnd,
  kOr,
};

struct ExprNode {
  enum class Kind { kLiteral, kRoot, kMember, kIndex, kUnary, kBinary, kCall };
  Kind kind = Kind::kLiteral;
  size_t offset = 0;  // byte offset of the token that best explains an error here
  int height = 1;     // of the subtree; bounds the evaluator's recursion
  json::value literal;
  std::string name;  // root name, member name or function name
  Op op = Op::kEq;
  std::vector<std::shared_ptr<const ExprNode>> children;
};

namespace {

// Integral results are stored as integers, so 1 + 1 serializes as 2, not 2E0, in HTTP bodies
// and frames.
json::value MakeNumber(double d) {
  if (std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
    return json::value(static_cast<int64_t>(d));
  }
  return json::value(d);
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

enum class Tok {
  kEnd,
  kNumber,
  kString,
  kIdent,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kOp,  // text holds the operator
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string text;  // identifier, operator, or decoded string literal
  double number = 0;
};

bool IsIdentStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }

bool IsIdentChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  bool Next(Token* tok, ExprError* error) {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    tok->offset = pos_;
    tok->text.clear();
    if (pos_ >= text_.size()) {
      tok->kind = Tok::kEnd;
      return true;
    }
    char c = text_[pos_];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Number(tok, error);
    }
    if (c == '\'' || c == '"') {
      return String(tok, error);
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) {
        ++pos_;
      }
      tok->kind = Tok::kIdent;
      tok->text = std::string(text_.substr(start, pos_ - start));
      return true;
    }
    auto single = [&](Tok kind) {
      tok->kind = kind;
      tok->text = std::string(1, c);
      ++pos_;
      return true;
    };
    switch (c) {
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case '[':
        return single(Tok::kLBracket);
      case ']':
        return single(Tok::kRBracket);
      case ',':
        return single(Tok::kComma);
      case '.':
        return single(Tok::kDot);
      default:
        break;
    }
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (std::string_view op : kTwo) {
      if (text_.substr(pos_, 2) == op) {
        tok->kind = Tok::kOp;
        tok->text = std::string(op);
        pos_ += 2;
        return true;
      }
    }
    if (std::string_view("<>+-*/%!").find(c) != std::string_view::npos) {
      return single(Tok::kOp);
    }
    if (c == '=') {
      error->column = ColumnOf(text_, pos_);
      error->message = "'=' is not an operator here; compare with '=='";
      return false;
    }
    error->column = ColumnOf(text_, pos_);
    error->message = absl::StrCat("unexpected character '", std::string(1, c), "'");
    return false;
  }

 private:
  bool Number(Token* tok, ExprError* error) {
    size_t start = pos_;
    while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
    if (pos_ + 1 < text_.size() && text_[pos_] == '.' &&
        absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_ + 1]))) {
      ++pos_;
      while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t save = pos_;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        while (pos_ < text_.size() &&
               absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
          ++pos_;
        }
      } else {
        pos_ = save;
      }
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    double value = 0;
    if (!absl::SimpleAtod(Av(digits), &value) || !std::isfinite(value)) {
      error->column = ColumnOf(text_, start);
      error->message = "number out of range";
      return false;
    }
    if (pos_ < text_.size() && IsIdentChar(text_[pos_])) {
      error->column = ColumnOf(text_, pos_);
      error->message = "unexpected character after number";
      return false;
    }
    tok->kind = Tok::kNumber;
    tok->number = value;
    return true;
  }

  bool String(Token* tok, ExprError* error) {
    char quote = text_[pos_];
    size_t start = pos_;
    ++pos_;
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        tok->kind = Tok::kString;
        tok->text = std::move(out);
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) {
          break;
        }
        char e = text_[pos_ + 1];
        switch (e) {
          case '\\':
          case '\'':
          case '"':
            out.push_back(e);
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 't':
            out.push_back('\t');
            break;
          default:
            error->column = ColumnOf(text_, pos_);
            error->message = absl::StrCat("unknown escape '\\", std::string(1, e), "'");
            return false;
        }
        pos_ += 2;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    error->column = ColumnOf(text_, start);
    error->message = "unterminated string";
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser (recursive descent; depth bounded so hostile input cannot exhaust the stack)

using NodePtr = std::shared_ptr<ExprNode>;

constexpr std::string_view kRoots[] = {"interaction", "agent", "vars", "nodes", "trigger", "flow"};

struct FunctionSpec {
  std::string_view name;
  int min_args;
  int max_args;  // -1: variadic
};

constexpr FunctionSpec kFunctions[] = {
    {"lower", 1, 1},     {"upper", 1, 1},      {"trim", 1, 1},      {"length", 1, 1},
    {"contains", 2, 2},  {"startsWith", 2, 2}, {"endsWith", 2, 2},  {"replace", 3, 3},
    {"slice", 2, 3},     {"concat", 1, 16},    {"number", 1, 1},    {"string", 1, 1},
    {"e164", 1, 2},      {"digits", 1, 1},     {"coalesce", 1, 16}, {"isEmpty", 1, 1},
    {"exists", 1, 1},    {"join", 2, 2},       {"split", 2, 2},     {"formatDate", 1, 3},
    {"now", 0, 0},       {"round", 1, 2},      {"floor", 1, 1},     {"ceil", 1, 1},
    {"abs", 1, 1},       {"min", 2, 16},       {"max", 2, 16},      {"if", 3, 3},
    {"urlEncode", 1, 1}, {"indexOf", 2, 2},    {"padStart", 3, 3},
};

const FunctionSpec* FindFunction(std::string_view name) {
  for (const FunctionSpec& f : kFunctions) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

class Parser {
 public:
  Parser(std::string_view text, const ExprLimits& limits)
      : text_(text), lexer_(text), limits_(limits) {}

  NodePtr ParseAll(ExprError* error) {
    error_ = error;
    if (!Advance()) {
      return nullptr;
    }
    if (tok_.kind == Tok::kEnd) {
      return Fail(tok_.offset, "empty expression");
    }
    NodePtr n = Or();
    if (n == nullptr) {
      return nullptr;
    }
    if (tok_.kind != Tok::kEnd) {
      return Fail(tok_.offset, absl::StrCat("unexpected ", Describe(tok_)));
    }
    return n;
  }

 private:
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kNumber:
        return "number";
      case Tok::kString:
        return "string";
      default:
        return absl::StrCat("'", t.text, "'");
    }
  }

  NodePtr Fail(size_t offset, std::string message) {
    if (error_->message.empty()) {
      error_->column = ColumnOf(text_, offset);
      error_->message = std::move(message);
    }
    return nullptr;
  }

  bool Advance() { return lexer_.Next(&tok_, error_); }

  bool IsOp(std::string_view op) const { return tok_.kind == Tok::kOp && tok_.text == op; }

  bool IsWord(std::string_view w) const { return tok_.kind == Tok::kIdent && tok_.text == w; }

  // Guards recursion: every production that can nest goes through Enter().
  struct DepthGuard {
    int* depth;

    ~DepthGuard() { --*depth; }
  };

  bool Enter(size_t offset) {
    if (++depth_ > limits_.max_depth) {
      Fail(offset, absl::StrCat("expression nested deeper than ", limits_.max_depth));
      return false;
    }
    return true;
  }

  // Sets the height from the children and refuses trees too tall to evaluate safely: a flat
  // chain such as 1+1+1+... parses in a loop but evaluates recursively.
  NodePtr Finish(NodePtr n) {
    for (const auto& c : n->children) {
      n->height = std::max(n->height, c->height + 1);
    }
    if (n->height > 4 * limits_.max_depth) {
      return Fail(n->offset, absl::StrCat("expression nested deeper than ", 4 * limits_.max_depth));
    }
    return n;
  }

  NodePtr MakeBinary(Op op, size_t offset, NodePtr l, NodePtr r) {
    auto n = std::make_shared<ExprNode>();
    n->kind = ExprNode::Kind::kBinary;
    n->op = op;
    n->offset = offset;
    n->children = {std::move(l), std::move(r)};
    return Finish(n);
  }

  NodePtr Or() {
    DepthGuard g{&depth_};
    if (!Enter(tok_.offset)) {
      return nullptr;
    }
    NodePtr l = And();
    while (l && (IsOp("||") || IsWord("or"))) {
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr r = And();
      if (!r) {
        return nullptr;
      }
      l = MakeBinary(Op::kOr, off, l, r);
    }
    return l;
  }

  NodePtr And() {
    NodePtr l = Not();
    while (l && (IsOp("&&") || IsWord("and"))) {
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr r = Not();
      if (!r) {
        return nullptr;
      }
      l = MakeBinary(Op::kAnd, off, l, r);
    }
    return l;
  }

  NodePtr Not() {
    if (IsOp("!") || IsWord("not")) {
      DepthGuard g{&depth_};
      if (!Enter(tok_.offset)) {
        return nullptr;
      }
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr operand = Not();
      if (!operand) {
        return nullptr;
      }
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::kUnary;
      n->op = Op::kNot;
      n->offset = off;
      n->children = {operand};
      return Finish(n);
    }
    return Comparison();
  }

  NodePtr Comparison() {
    NodePtr l = Additive();
    if (!l) {
      return nullptr;
    }
    static constexpr std::pair<std::string_view, Op> kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe},
                                                               {"<", Op::kLt},  {"<=", Op::kLe},
                                                               {">", Op::kGt},  {">=", Op::kGe}};
    for (const auto& [text, op] : kOps) {
      if (IsOp(text)) {
        size_t off = tok_.offset;
        if (!Advance()) {
          return nullptr;
        }
        NodePtr r = Additive();
        if (!r) {
          return nullptr;
        }
        // Chained comparisons (a < b < c) read naturally but mean something else; refuse them.
        for (const auto& [text2, op2] : kOps) {
          if (IsOp(text2)) {
            return Fail(tok_.offset, "comparisons cannot be chained; use 'and'");
          }
        }
        return MakeBinary(op, off, l, r);
      }
    }
    return l;
  }

  NodePtr Additive() {
    NodePtr l = Multiplicative();
    while (l && (IsOp("+") || IsOp("-"))) {
      Op op = IsOp("+") ? Op::kAdd : Op::kSub;
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr r = Multiplicative();
      if (!r) {
        return nullptr;
      }
      l = MakeBinary(op, off, l, r);
    }
    return l;
  }

  NodePtr Multiplicative() {
    NodePtr l = Unary();
    while (l && (IsOp("*") || IsOp("/") || IsOp("%"))) {
      Op op = IsOp("*") ? Op::kMul : IsOp("/") ? Op::kDiv : Op::kMod;
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr r = Unary();
      if (!r) {
        return nullptr;
      }
      l = MakeBinary(op, off, l, r);
    }
    return l;
  }

  NodePtr Unary() {
    if (IsOp("-")) {
      DepthGuard g{&depth_};
      if (!Enter(tok_.offset)) {
        return nullptr;
      }
      size_t off = tok_.offset;
      if (!Advance()) {
        return nullptr;
      }
      NodePtr operand = Unary();
      if (!operand) {
        return nullptr;
      }
      auto n = std::make_shared<ExprNode>();
      n->kind = ExprNode::Kind::kUnary;
      n->op = Op::kNeg;
      n->offset = off;
      n->children = {operand};
      return Finish(n);
    }
    if (IsOp("!") || IsWord("not")) {
      return Not();
    }
    return Postfix();
  }

  NodePtr Postfix() {
    NodePtr n = Primary();
    int chain = 0;
    while (n && (tok_.kind == Tok::kDot || tok_.kind == Tok::kLBracket)) {
      // Long member chains do not recurse while parsing, but they do while evaluating.
      if (++chain > 4 * limits_.max_depth) {
        return Fail(tok_.offset, "path too long");
      }
      if (tok_.kind == Tok::kDot) {
        if (!Advance()) {
          return nullptr;
        }
        if (tok_.kind != Tok::kIdent) {
          return Fail(tok_.offset, "expected a name after '.'");
        }
        auto m = std::make_shared<ExprNode>();
        m->kind = ExprNode::Kind::kMember;
        m->offset = tok_.offset;
        m->name = tok_.text;
        m->children = {n};
        n = Finish(m);
        if (!Advance()) {
          return nullptr;
        }
      } else {
        DepthGuard g{&depth_};
        if (!Enter(tok_.offset)) {
          return nullptr;
        }
        size_t off = tok_.offset;
        if (!Advance()) {
          return nullptr;
        }
        NodePtr index = Or();
        if (!index) {
          return nullptr;
        }
        if (tok_.kind != Tok::kRBracket) {
          return Fail(tok_.offset, "expected ']'");
        }
        if (!Advance()) {
          return nullptr;
        }
        auto m = std::make_shared<ExprNode>();
        m->kind = ExprNode::Kind::kIndex;
        m->offset = off;
        m->children = {n, index};
        n = Finish(m);
      }
    }
    return n;
  }

  NodePtr Primary() {
    auto n = std::make_shared<ExprNode>();
    n->offset = tok_.offset;
    switch (tok_.kind) {
      case Tok::kNumber:
        n->kind = ExprNode::Kind::kLiteral;
        n->literal = MakeNumber(tok_.number);
        if (!Advance()) {
          return nullptr;
        }
        return n;
      case Tok::kString:
        if (tok_.text.size() > limits_.max_string) {
          return Fail(tok_.offset, "string too long");
        }
        n->kind = ExprNode::Kind::kLiteral;
        n->literal = json::string(tok_.text);
        if (!Advance()) {
          return nullptr;
        }
        return n;
      case Tok::kLParen: {
        DepthGuard g{&depth_};
        if (!Enter(tok_.offset)) {
          return nullptr;
        }
        if (!Advance()) {
          return nullptr;
        }
        NodePtr inner = Or();
        if (!inner) {
          return nullptr;
        }
        if (tok_.kind != Tok::kRParen) {
          return Fail(tok_.offset, "expected ')'");
        }
        if (!Advance()) {
          return nullptr;
        }
        return inner;
      }
      case Tok::kIdent:
        break;
      default:
        return Fail(tok_.offset, absl::StrCat("unexpected ", Describe(tok_)));
    }
    std::string word = tok_.text;
    size_t off = tok_.offset;
    if (!Advance()) {
      return nullptr;
    }
    if (word == "true" || word == "false") {
      n->kind = ExprNode::Kind::kLiteral;
      n->literal = (word == "true");
      return n;
    }
    if (word == "null") {
      n->kind = ExprNode::Kind::kLiteral;
      n->literal = nullptr;
      return n;
    }
    if (word == "and" || word == "or" || word == "not") {
      return Fail(off, absl::StrCat("unexpected '", word, "'"));
    }
    if (tok_.kind == Tok::kLParen) {
      const FunctionSpec* spec = FindFunction(word);
      if (spec == nullptr) {
        return Fail(off, absl::StrCat("unknown function '", word, "'"));
      }
      DepthGuard g{&depth_};
      if (!Enter(off)) {
        return nullptr;
      }
      if (!Advance()) {
        return nullptr;
      }
      n->kind = ExprNode::Kind::kCall;
      n->name = word;
      if (tok_.kind != Tok::kRParen) {
        while (true) {
          NodePtr arg = Or();
          if (!arg) {
            return nullptr;
          }
          n->children.push_back(arg);
          if (tok_.kind == Tok::kComma) {
            if (!Advance()) {
              return nullptr;
            }
            continue;
          }
          break;
        }
      }
      if (tok_.kind != Tok::kRParen) {
        return Fail(tok_.offset, "expected ',' or ')'");
      }
      if (!Advance()) {
        return nullptr;
      }
      int argc = static_cast<int>(n->children.size());
      if (argc < spec->min_args || (spec->max_args >= 0 && argc > spec->max_args)) {
        std::string want = spec->min_args == spec->max_args
                               ? absl::StrCat(spec->min_args)
                               : absl::StrCat(spec->min_args, " to ", spec->max_args);
        return Fail(off, absl::StrCat(word, "() takes ", want, " argument",
                                      spec->max_args == 1 ? "" : "s", ", got ", argc));
      }
      return Finish(n);
    }
    for (std::string_view root : kRoots) {
      if (word == root) {
        n->kind = ExprNode::Kind::kRoot;
        n->name = word;
        return n;
      }
    }
    return Fail(off, absl::StrCat("unknown name '", word,
                                  "' (paths start with interaction, agent, vars, nodes, trigger "
                                  "or flow; text needs quotes)"));
  }

  std::string_view text_;
  Lexer lexer_;
  const ExprLimits& limits_;
  Token tok_;
  ExprError* error_ = nullptr;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Values

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double AsDouble(const json::value& v) {
  if (v.is_int64()) {
    return static_cast<double>(v.get_int64());
  }
  if (v.is_uint64()) {
    return static_cast<double>(v.get_uint64());
  }
  return v.get_double();
}

const char* TypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "text";
    case json::kind::array:
      return "list";
    case json::kind::object:
      return "object";
  }
  return "?";
}

std::string NumberText(double d) {
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::trunc(d) == d && std::fabs(d) < 9.0e15) {
    return absl::StrCat(static_cast<int64_t>(d));
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  if (res.ec != std::errc()) {
    return absl::StrCat(d);
  }
  return std::string(buf, res.ptr);
}

bool ValuesEqual(const json::value& a, const json::value& b) {
  if (IsNumber(a) && IsNumber(b)) {
    return AsDouble(a) == AsDouble(b);
  }
  if (a.kind() != b.kind()) {
    return false;
  }
  switch (a.kind()) {
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) {
        return false;
      }
      for (size_t i = 0; i < x.size(); ++i) {
        if (!ValuesEqual(x[i], y[i])) {
          return false;
        }
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) {
        return false;
      }
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !ValuesEqual(kv.value(), *other)) {
          return false;
        }
      }
      return true;
    }
    default:
      return a == b;
  }
}

// Code points of a UTF-8 string (invalid bytes count as one each), so slice() and length() never
// split a character.
std::vector<std::string_view> CodePoints(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    if (i + len > s.size()) {
      len = 1;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    }
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

bool ParseTimeZone(std::string_view tz, absl::TimeZone* out) {
  if (tz.empty() || tz == "UTC" || tz == "Z" || tz == "utc") {
    *out = absl::UTCTimeZone();
    return true;
  }
  // Fixed offsets only: named zones would need the tz database from disk, and this module does
  // no I/O.
  if (tz.size() != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':') {
    return false;
  }
  int h = 0;
  int m = 0;
  if (!absl::SimpleAtoi(Av(tz.substr(1, 2)), &h) || !absl::SimpleAtoi(Av(tz.substr(4, 2)), &m) ||
      h > 14 || m > 59) {
    return false;
  }
  int seconds = (h * 3600 + m * 60) * (tz[0] == '-' ? -1 : 1);
  *out = absl::FixedTimeZone(seconds);
  return true;
}

bool ParseInstant(const json::value& v, absl::Time* out) {
  if (IsNumber(v)) {
    double d = AsDouble(v);
    if (!std::isfinite(d) || std::fabs(d) > 1e13) {
      return false;
    }
    *out = absl::FromUnixMillis(static_cast<int64_t>(d * 1000));
    return true;
  }
  if (!v.is_string()) {
    return false;
  }
  std::string s(v.get_string());
  std::string err;
  for (const char* fmt : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M:%E*SZ",
                          "%Y-%m-%d%ET%H:%M%Ez", "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(fmt, s, absl::UTCTimeZone(), out, &err)) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Evaluator

class Evaluator {
 public:
  Evaluator(std::string_view source, const Scope& scope, const ExprLimits& limits, ExprError* error)
      : source_(source), scope_(scope), limits_(limits), error_(error) {}

  bool Eval(const ExprNode& n, json::value* out) {
    switch (n.kind) {
      case ExprNode::Kind::kLiteral:
        *out = n.literal;
        return true;
      case ExprNode::Kind::kRoot: {
        const json::value* v = scope_.roots ? scope_.roots->if_contains(n.name) : nullptr;
        *out = v ? *v : json::value(nullptr);
        return true;
      }
      case ExprNode::Kind::kMember: {
        // Paths are read without copying the whole parent where possible.
        const json::value* v = Resolve(n);
        if (v != nullptr) {
          *out = *v;
          return true;
        }
        json::value base;
        if (!Eval(*n.children[0], &base)) {
          return false;
        }
        const json::value* m = base.is_object() ? base.get_object().if_contains(n.name) : nullptr;
        *out = m ? *m : json::value(nullptr);
        return true;
      }
      case ExprNode::Kind::kIndex: {
        json::value base;
        json::value index;
        if (!Eval(*n.children[0], &base) || !Eval(*n.children[1], &index)) {
          return false;
        }
        *out = nullptr;
        if (base.is_object() && index.is_string()) {
          if (const json::value* m = base.get_object().if_contains(index.get_string())) {
            *out = *m;
          }
        } else if (base.is_array() && IsNumber(index)) {
          double d = AsDouble(index);
          const auto& arr = base.get_array();
          if (d < 0) {
            d += static_cast<double>(arr.size());
          }
          if (d >= 0 && d < static_cast<double>(arr.size()) && std::trunc(d) == d) {
            *out = arr[static_cast<size_t>(d)];
          }
        } else if (!base.is_null() && !index.is_null()) {
          return Fail(n, absl::StrCat("cannot index ", TypeName(base), " with ", TypeName(index)));
        }
        return true;
      }
      case ExprNode::Kind::kUnary: {
        json::value v;
        if (!Eval(*n.children[0], &v)) {
          return false;
        }
        if (n.op == Op::kNot) {
          *out = !Truthy(v);
          return true;
        }
        if (!IsNumber(v)) {
          return Fail(n, absl::StrCat("cannot negate ", TypeName(v)));
        }
        *out = MakeNumber(-AsDouble(v));
        return true;
      }
      case ExprNode::Kind::kBinary:
        return Binary(n, out);
      case ExprNode::Kind::kCall:
        return Call(n, out);
    }
    return Fail(n, "bad expression");
  }

 private:
  // Follows root.member.member without copies; nullptr when the path leaves plain objects.
  const json::value* Resolve(const ExprNode& n) {
    if (n.kind == ExprNode::Kind::kRoot) {
      return scope_.roots ? scope_.roots->if_contains(n.name) : nullptr;
    }
    if (n.kind != ExprNode::Kind::kMember) {
      return nullptr;
    }
    const json::value* base = Resolve(*n.children[0]);
    if (base == nullptr || !base->is_object()) {
      return nullptr;
    }
    return base->get_object().if_contains(n.name);
  }

  bool Fail(const ExprNode& n, std::string message) {
    error_->column = ColumnOf(source_, n.offset);
    error_->message = std::move(message);
    return false;
  }

  bool CheckString(const ExprNode& n, const std::string& s) {
    if (s.size() > limits_.max_string) {
      return Fail(n, absl::StrCat("text longer than ", limits_.max_string, " bytes"));
    }
    return true;
  }

  bool SetString(const ExprNode& n, const std::string& s, json::value* out) {
    if (!CheckString(n, s)) {
      return false;
    }
    *out = json::string(s);
    return true;
  }

  bool Binary(const ExprNode& n, json::value* out) {
    json::value l;
    if (!Eval(*n.children[0], &l)) {
      return false;
    }
    if (n.op == Op::kAnd || n.op == Op::kOr) {
      bool lt = Truthy(l);
      if (n.op == Op::kAnd && !lt) {
        *out = false;
        return true;
      }
      if (n.op == Op::kOr && lt) {
        *out = true;
        return true;
      }
      json::value r;
      if (!Eval(*n.children[1], &r)) {
        return false;
      }
      *out = Truthy(r);
      return true;
    }
    json::value r;
    if (!Eval(*n.children[1], &r)) {
      return false;
    }
    switch (n.op) {
      case Op::kEq:
        *out = ValuesEqual(l, r);
        return true;
      case Op::kNe:
        *out = !ValuesEqual(l, r);
        return true;
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        int cmp = 0;
        if (IsNumber(l) && IsNumber(r)) {
          double a = AsDouble(l);
          double b = AsDouble(r);
          cmp = a < b ? -1 : a > b ? 1 : 0;
        } else if (l.is_string() && r.is_string()) {
          int c = std::string_view(l.get_string()).compare(std::string_view(r.get_string()));
          cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
        } else {
          return Fail(n, absl::StrCat("cannot compare ", TypeName(l), " with ", TypeName(r),
                                      " (use number() or string())"));
        }
        bool result = n.op == Op::kLt   ? cmp < 0
                      : n.op == Op::kLe ? cmp <= 0
                      : n.op == Op::kGt ? cmp > 0
                                        : cmp >= 0;
        *out = result;
        return true;
      }
      case Op::kAdd:
        if (l.is_string() && r.is_string()) {
          return SetString(n, absl::StrCat(Av(l.get_string()), Av(r.get_string())), out);
        }
        [[fallthrough]];
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod: {
        if (!IsNumber(l) || !IsNumber(r)) {
          return Fail(
              n, absl::StrCat("arithmetic needs numbers, got ", TypeName(l), " and ", TypeName(r),
                              n.op == Op::kAdd ? " (use concat() for text)" : ""));
        }
        double a = AsDouble(l);
        double b = AsDouble(r);
        double v = 0;
        switch (n.op) {
          case Op::kAdd:
            v = a + b;
            break;
          case Op::kSub:
            v = a - b;
            break;
          case Op::kMul:
            v = a * b;
            break;
          case Op::kDiv:
            if (b == 0) {
              return Fail(n, "division by zero");
            }
            v = a / b;
            break;
          default:
            if (b == 0) {
              return Fail(n, "division by zero");
            }
            v = std::fmod(a, b);
            break;
        }
        if (!std::isfinite(v)) {
          return Fail(n, "number out of range");
        }
        *out = MakeNumber(v);
        return true;
      }
      default:
        return Fail(n, "bad operator");
    }
  }

  bool Text(const ExprNode& n, const json::value& v, std::string* out) {
    *out = ToText(v);
    return CheckString(n, *out);
  }

  bool NeedString(const ExprNode& n, const json::value& v, int arg, std::string* out) {
    if (v.is_null()) {
      out->clear();
      return true;
    }
    if (v.is_string()) {
      *out = std::string(v.get_string());
      return true;
    }
    if (IsNumber(v) || v.is_bool()) {
      *out = ToText(v);
      return true;
    }
    return Fail(n, absl::StrCat(n.name, "() argument ", arg, " must be text, got ", TypeName(v)));
  }

  bool NeedNumber(const ExprNode& n, const json::value& v, int arg, double* out) {
    if (IsNumber(v)) {
      *out = AsDouble(v);
      return true;
    }
    return Fail(n,
                absl::StrCat(n.name, "() argument ", arg, " must be a number, got ", TypeName(v)));
  }

  bool Call(const ExprNode& n, json::value* out) {
    const std::string& f = n.name;
    // if() evaluates only the branch it takes, so a guarded expression never fails on the other.
    if (f == "if") {
      json::value c;
      if (!Eval(*n.children[0], &c)) {
        return false;
      }
      return Eval(*n.children[Truthy(c) ? 1 : 2], out);
    }
    if (f == "coalesce") {
      for (const auto& child : n.children) {
        json::value v;
        if (!Eval(*child, &v)) {
          return false;
        }
        if (!v.is_null() && !(v.is_string() && v.get_string().empty())) {
          *out = std::move(v);
          return true;
        }
      }
      *out = nullptr;
      return true;
    }
    std::vector<json::value> args(n.children.size());
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (!Eval(*n.children[i], &args[i])) {
        return false;
      }
    }
    std::string s;
    std::string t;
    if (f == "lower" || f == "upper" || f == "trim" || f == "digits" || f == "urlEncode") {
      if (!NeedString(n, args[0], 1, &s)) {
        return false;
      }
      if (f == "lower") {
        absl::AsciiStrToLower(&s);
      } else if (f == "upper") {
        absl::AsciiStrToUpper(&s);
      } else if (f == "trim") {
        s = std::string(absl::StripAsciiWhitespace(s));
      } else if (f == "digits") {
        std::string d;
        for (char c : s) {
          if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
            d.push_back(c);
          }
        }
        s = std::move(d);
      } else {
        s = PercentEncode(s);
      }
      return SetString(n, s, out);
    }
    if (f == "length") {
      const json::value& v = args[0];
      if (v.is_string()) {
        *out = static_cast<int64_t>(CodePoints(v.get_string()).size());
      } else if (v.is_array()) {
        *out = static_cast<int64_t>(v.get_array().size());
      } else if (v.is_object()) {
        *out = static_cast<int64_t>(v.get_object().size());
      } else if (v.is_null()) {
        *out = 0;
      } else {
        *out = static_cast<int64_t>(ToText(v).size());
      }
      return true;
    }
    if (f == "contains") {
      if (args[0].is_array()) {
        bool found = false;
        for (const auto& item : args[0].get_array()) {
          if (ValuesEqual(item, args[1])) {
            found = true;
            break;
          }
        }
        *out = found;
        return true;
      }
      if (args[0].is_object()) {
        if (!NeedString(n, args[1], 2, &t)) {
          return false;
        }
        *out = args[0].get_object().contains(t);
        return true;
      }
      if (!NeedString(n, args[0], 1, &s) || !NeedString(n, args[1], 2, &t)) {
        return false;
      }
      *out = absl::StrContains(s, t);
      return true;
    }
    if (f == "startsWith" || f == "endsWith" || f == "indexOf") {
      if (!NeedString(n, args[0], 1, &s) || !NeedString(n, args[1], 2, &t)) {
        return false;
      }
      if (f == "startsWith") {
        *out = absl::StartsWith(s, t);
      } else if (f == "endsWith") {
        *out = absl::EndsWith(s, t);
      } else {
        size_t pos = s.find(t);
        if (pos == std::string::npos) {
          *out = -1;
        } else {
          *out = static_cast<int64_t>(CodePoints(std::string_view(s).substr(0, pos)).size());
        }
      }
      return true;
    }
    if (f == "replace") {
      std::string to;
      if (!NeedString(n, args[0], 1, &s) || !NeedString(n, args[1], 2, &t) ||
          !NeedString(n, args[2], 3, &to)) {
        return false;
      }
      if (t.empty()) {
        return Fail(n, "replace() needs non-empty text to find");
      }
      // Bound the result before building it: each occurrence may grow the text.
      size_t count = 0;
      for (size_t pos = s.find(t); pos != std::string::npos; pos = s.find(t, pos + t.size())) {
        ++count;
      }
      if (to.size() > t.size() && s.size() + count * (to.size() - t.size()) > limits_.max_string) {
        return Fail(n, absl::StrCat("text longer than ", limits_.max_string, " bytes"));
      }
      return SetString(n, absl::StrReplaceAll(s, {{t, to}}), out);
    }
    if (f == "slice") {
      double start = 0;
      if (!NeedNumber(n, args[1], 2, &start)) {
        return false;
      }
      std::vector<json::value> items;
      std::vector<std::string_view> cps;
      bool is_list = args[0].is_array();
      size_t size = 0;
      if (is_list) {
        size = args[0].get_array().size();
      } else {
        if (!NeedString(n, args[0], 1, &s)) {
          return false;
        }
        cps = CodePoints(s);
        size = cps.size();
      }
      double end = static_cast<double>(size);
      if (args.size() > 2 && !args[2].is_null() && !NeedNumber(n, args[2], 3, &end)) {
        return false;
      }
      auto clamp = [size](double i) -> size_t {
        if (!std::isfinite(i)) {
          return i > 0 ? size : 0;
        }
        double d = std::trunc(i);
        if (d < 0) {
          d += static_cast<double>(size);
        }
        if (d < 0) {
          return 0;
        }
        if (d > static_cast<double>(size)) {
          return size;
        }
        return static_cast<size_t>(d);
      };
      size_t a = clamp(start);
      size_t b = clamp(end);
      if (is_list) {
        json::array arr;
        for (size_t i = a; i < b; ++i) {
          arr.push_back(args[0].get_array()[i]);
        }
        *out = std::move(arr);
        return true;
      }
      std::string r;
      for (size_t i = a; i < b; ++i) {
        r.append(cps[i]);
      }
      return SetString(n, r, out);
    }
    if (f == "concat") {
      std::string r;
      for (const auto& v : args) {
        if (!Text(n, v, &s)) {
          return false;
        }
        r += s;
        if (!CheckString(n, r)) {
          return false;
        }
      }
      return SetString(n, r, out);
    }
    if (f == "number") {
      if (IsNumber(args[0])) {
        *out = MakeNumber(AsDouble(args[0]));
      } else if (args[0].is_string()) {
        double d = 0;
        std::string_view sv = Sv(absl::StripAsciiWhitespace(Av(args[0].get_string())));
        if (!sv.empty() && absl::SimpleAtod(Av(sv), &d) && std::isfinite(d)) {
          *out = MakeNumber(d);
        } else {
          *out = nullptr;
        }
      } else if (args[0].is_bool()) {
        *out = args[0].get_bool() ? 1 : 0;
      } else {
        *out = nullptr;
      }
      return true;
    }
    if (f == "string") {
      if (!Text(n, args[0], &s)) {
        return false;
      }
      return SetString(n, s, out);
    }
    if (f == "e164") {
      if (!NeedString(n, args[0], 1, &s)) {
        return false;
      }
      if (args.size() > 1 && !NeedString(n, args[1], 2, &t)) {
        return false;
      }
      return SetString(n, ToE164(s, t), out);
    }
    if (f == "isEmpty") {
      *out = !Truthy(args[0]) && !(IsNumber(args[0])) && !args[0].is_bool();
      return true;
    }
    if (f == "exists") {
      *out = !args[0].is_null();
      return true;
    }
    if (f == "join") {
      if (!args[0].is_array()) {
        return Fail(n, absl::StrCat("join() argument 1 must be a list, got ", TypeName(args[0])));
      }
      if (!NeedString(n, args[1], 2, &t)) {
        return false;
      }
      std::string r;
      bool first = true;
      for (const auto& v : args[0].get_array()) {
        if (!first) {
          r += t;
        }
        first = false;
        if (!Text(n, v, &s)) {
          return false;
        }
        r += s;
        if (!CheckString(n, r)) {
          return false;
        }
      }
      return SetString(n, r, out);
    }
    if (f == "split") {
      if (!NeedString(n, args[0], 1, &s) || !NeedString(n, args[1], 2, &t)) {
        return false;
      }
      if (t.empty()) {
        return Fail(n, "split() needs a non-empty separator");
      }
      json::array arr;
      for (absl::string_view piece : absl::StrSplit(s, t)) {
        if (arr.size() >= limits_.max_list) {
          return Fail(n, absl::StrCat("split() gives more than ", limits_.max_list, " items"));
        }
        arr.emplace_back(json::string(Sv(piece)));
      }
      *out = std::move(arr);
      return true;
    }
    if (f == "formatDate") {
      absl::Time when;
      if (!ParseInstant(args[0], &when)) {
        return Fail(n, "formatDate() needs an ISO 8601 date or Unix seconds");
      }
      std::string pattern = "%Y-%m-%dT%H:%M:%SZ";
      bool custom_pattern = args.size() > 1 && !args[1].is_null();
      if (custom_pattern && !NeedString(n, args[1], 2, &pattern)) {
        return false;
      }
      absl::TimeZone tz = absl::UTCTimeZone();
      if (args.size() > 2 && !args[2].is_null()) {
        if (!NeedString(n, args[2], 3, &t)) {
          return false;
        }
        if (!ParseTimeZone(t, &tz)) {
          return Fail(n, "formatDate() time zone must be UTC or an offset like +02:00");
        }
        if (!custom_pattern) {
          pattern = "%Y-%m-%dT%H:%M:%S%Ez";
        }
      }
      if (pattern.size() > 256) {
        return Fail(n, "formatDate() pattern too long");
      }
      return SetString(n, absl::FormatTime(pattern, when, tz), out);
    }
    if (f == "now") {
      *out =
          json::string(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", scope_.now, absl::UTCTimeZone()));
      return true;
    }
    if (f == "round" || f == "floor" || f == "ceil" || f == "abs") {
      double d = 0;
      if (!NeedNumber(n, args[0], 1, &d)) {
        return false;
      }
      if (f == "round") {
        double places = 0;
        if (args.size() > 1 && !NeedNumber(n, args[1], 2, &places)) {
          return false;
        }
        places = std::clamp(std::trunc(places), 0.0, 10.0);
        double scale = std::pow(10.0, places);
        d = std::round(d * scale) / scale;
      } else if (f == "floor") {
        d = std::floor(d);
      } else if (f == "ceil") {
        d = std::ceil(d);
      } else {
        d = std::fabs(d);
      }
      if (!std::isfinite(d)) {
        return Fail(n, "number out of range");
      }
      *out = MakeNumber(d);
      return true;
    }
    if (f == "min" || f == "max") {
      double best = 0;
      for (size_t i = 0; i < args.size(); ++i) {
        double d = 0;
        if (!NeedNumber(n, args[i], static_cast<int>(i + 1), &d)) {
          return false;
        }
        if (i == 0 || (f == "min" ? d < best : d > best)) {
          best = d;
        }
      }
      *out = MakeNumber(best);
      return true;
    }
    if (f == "padStart") {
      double width = 0;
      if (!NeedString(n, args[0], 1, &s) || !NeedNumber(n, args[1], 2, &width) ||
          !NeedString(n, args[2], 3, &t)) {
        return false;
      }
      if (width > 256) {
        return Fail(n, "padStart() width above 256");
      }
      if (t.empty()) {
        return SetString(n, s, out);
      }
      auto have = CodePoints(s).size();
      std::string pad;
      auto pad_cps = CodePoints(t);
      for (size_t i = 0; have + i < static_cast<size_t>(std::max(0.0, width)); ++i) {
        pad.append(pad_cps[i % pad_cps.size()]);
      }
      return SetString(n, pad + s, out);
    }
    return Fail(n, absl::StrCat("unknown function '", f, "'"));
  }

  std::string_view source_;
  const Scope& scope_;
  const ExprLimits& limits_;
  ExprError* error_;
};

}  // namespace

// -----------------------------------------------------------------------------------------------

int ColumnOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  int column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return column;
}

bool ParseExpression(std::string_view text, const ExprLimits& limits, Expression* out,
                     ExprError* error) {
  *error = ExprError{};
  if (text.size() > limits.max_length) {
    error->column = 1;
    error->message = absl::StrCat("expression longer than ", limits.max_length, " bytes");
    return false;
  }
  Parser parser(text, limits);
  auto root = parser.ParseAll(error);
  if (root == nullptr) {
    if (error->message.empty()) {
      error->message = "invalid expression";
    }
    return false;
  }
  out->root_ = std::move(root);
  out->source_ = std::string(text);
  return true;
}

bool Expression::Evaluate(const Scope& scope, const ExprLimits& limits, json::value* out,
                          ExprError* error) const {
  *error = ExprError{};
  if (root_ == nullptr) {
    *out = nullptr;
    return true;
  }
  Evaluator ev(source_, scope, limits, error);
  return ev.Eval(*root_, out);
}

bool CallFunction(std::string_view name, const std::vector<json::value>& args, const Scope& scope,
                  const ExprLimits& limits, json::value* out, ExprError* error) {
  *error = ExprError{};
  const FunctionSpec* spec = FindFunction(name);
  int argc = static_cast<int>(args.size());
  if (spec == nullptr || argc < spec->min_args || (spec->max_args >= 0 && argc > spec->max_args)) {
    error->column = 1;
    error->message = absl::StrCat("bad call of ", Av(name), "()");
    return false;
  }
  ExprNode call;
  call.kind = ExprNode::Kind::kCall;
  call.name = std::string(name);
  for (const json::value& a : args) {
    auto lit = std::make_shared<ExprNode>();
    lit->literal = a;
    call.children.push_back(std::move(lit));
  }
  Evaluator ev("", scope, limits, error);
  return ev.Eval(call, out);
}

bool ParseTemplate(std::string_view text, const ExprLimits& limits, Template* out,
                   ExprError* error) {
  *error = ExprError{};
  if (text.size() > limits.max_length) {
    error->column = 1;
    error->message = absl::StrCat("template longer than ", limits.max_length, " bytes");
    return false;
  }
  Template t;
  t.source_ = std::string(text);
  size_t pos = 0;
  std::string literal;
  size_t literal_start = 0;  // where the pending literal text begins, for error columns
  while (pos < text.size()) {
    if (literal.empty())
      literal_start = pos;
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      literal.append(text.substr(pos));
      break;
    }
    literal.append(text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      error->column = ColumnOf(text, open);
      error->message = "'{{' without a closing '}}'";
      return false;
    }
    if (!literal.empty()) {
      Template::Part lit;
      lit.literal = std::move(literal);
      lit.column = ColumnOf(text, literal_start);
      t.parts_.push_back(std::move(lit));
      literal.clear();
    }
    std::string_view inner = text.substr(open + 2, close - open - 2);
    Template::Part part;
    part.is_literal = false;
    part.column = ColumnOf(text, open + 2);
    ExprError inner_error;
    if (!ParseExpression(inner, limits, &part.expr, &inner_error)) {
      error->column = part.column + inner_error.column - 1;
      error->message = inner_error.message;
      return false;
    }
    t.parts_.push_back(std::move(part));
    if (static_cast<int>(t.parts_.size()) > limits.max_template_parts) {
      error->column = ColumnOf(text, open);
      error->message = "too many {{ }} segments";
      return false;
    }
    pos = close + 2;
  }
  if (!literal.empty()) {
    Template::Part lit;
    lit.literal = std::move(literal);
    lit.column = ColumnOf(text, literal_start);
    t.parts_.push_back(std::move(lit));
  }
  *out = std::move(t);
  return true;
}

bool Template::Render(const Scope& scope, const ExprLimits& limits, bool encode, std::string* out,
                      ExprError* error) const {
  *error = ExprError{};
  out->clear();
  for (const Part& p : parts_) {
    if (p.is_literal) {
      out->append(p.literal);
    } else {
      json::value v;
      ExprError e;
      if (!p.expr.Evaluate(scope, limits, &v, &e)) {
        error->column = p.column + e.column - 1;
        error->message = e.message;
        return false;
      }
      std::string text = ToText(v);
      out->append(encode ? PercentEncode(text) : text);
    }
    if (out->size() > limits.max_string) {
      error->column = p.column;
      error->message = absl::StrCat("text longer than ", limits.max_string, " bytes");
      return false;
    }
  }
  return true;
}

bool Template::RenderValue(const Scope& scope, const ExprLimits& limits, json::value* out,
                           ExprError* error) const {
  if (IsSingleExpression()) {
    ExprError e;
    if (!parts_[0].expr.Evaluate(scope, limits, out, &e)) {
      error->column = parts_[0].column + e.column - 1;
      error->message = e.message;
      return false;
    }
    return true;
  }
  std::string text;
  if (!Render(scope, limits, false, &text, error)) {
    return false;
  }
  *out = json::string(text);
  return true;
}

bool Truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return false;
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return AsDouble(v) != 0;
    case json::kind::string:
      return !v.get_string().empty();
    case json::kind::array:
      return !v.get_array().empty();
    case json::kind::object:
      return !v.get_object().empty();
  }
  return false;
}

std::string ToText(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return absl::StrCat(v.get_int64());
    case json::kind::uint64:
      return absl::StrCat(v.get_uint64());
    case json::kind::double_:
      return NumberText(v.get_double());
    case json::kind::string:
      return std::string(v.get_string());
    default:
      return json::serialize(v);
  }
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string ToE164(std::string_view number, std::string_view country) {
  std::string_view trimmed = Sv(absl::StripAsciiWhitespace(Av(number)));
  // Strip a "sip:"/"tel:" scheme and a SIP host part, which CTI events often carry.
  if (absl::StartsWithIgnoreCase(Av(trimmed), "sip:") ||
      absl::StartsWithIgnoreCase(Av(trimmed), "tel:")) {
    trimmed.remove_prefix(4);
  }
  if (size_t at = trimmed.find('@'); at != std::string_view::npos) {
    trimmed = trimmed.substr(0, at);
  }
  bool international = false;
  std::string digits;
  for (size_t i = 0; i < trimmed.size(); ++i) {
    char c = trimmed[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == '+' && digits.empty() && !international) {
      international = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') {
      continue;
    } else {
      return "";  // letters, '*', '#', extensions: not a dialable E.164 number
    }
  }
  if (!international && absl::StartsWith(digits, "00")) {
    digits.erase(0, 2);
    international = true;
  }
  if (!international) {
    std::string cc;
    for (char c : country) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        cc.push_back(c);
      }
    }
    if (cc.empty() || cc.size() > 3) {
      return "";
    }
    // National trunk prefix "0" (most of Europe) or "1" (NANP) before the national number.
    bool nanp_trunk = cc == "1" && digits.size() == 11 && digits[0] == '1';
    bool zero_trunk = cc != "1" && !digits.empty() && digits[0] == '0';
    if (nanp_trunk || zero_trunk) {
      digits.erase(0, 1);
    }
    digits = cc + digits;
  }
  if (digits.size() < 7 || digits.size() > 15 || digits[0] == '0') {
    return "";
  }
  return "+" + digits;
}

}  // namespace omnibridge::popflow
