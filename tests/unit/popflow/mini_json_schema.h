// A small JSON Schema (draft 2020-12) validator for tests: exactly the keywords
// docs/popflow.schema.json uses. An unknown keyword is an error, so the schema cannot silently
// grow a rule this validator (and so the agreement test) ignores.
#pragma once

#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "boost/json.hpp"

namespace omnibridge::popflow::testing {

class MiniJsonSchema {
 public:
  explicit MiniJsonSchema(boost::json::value root) : root_(std::move(root)) {}

  // True when `instance` is valid; else false with the first reason in `why`.
  bool Validate(const boost::json::value& instance, std::string* why) const {
    why->clear();
    return Check(root_, instance, "$", why);
  }

 private:
  static bool IsNumber(const boost::json::value& v) {
    return v.is_int64() || v.is_uint64() || v.is_double();
  }

  static double Num(const boost::json::value& v) {
    if (v.is_int64())
      return static_cast<double>(v.get_int64());
    if (v.is_uint64())
      return static_cast<double>(v.get_uint64());
    return v.get_double();
  }

  static size_t CodePoints(std::string_view s) {
    size_t n = 0;
    for (char c : s)
      n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  }

  static bool TypeIs(std::string_view type, const boost::json::value& v) {
    if (type == "object")
      return v.is_object();
    if (type == "array")
      return v.is_array();
    if (type == "string")
      return v.is_string();
    if (type == "boolean")
      return v.is_bool();
    if (type == "null")
      return v.is_null();
    if (type == "number")
      return IsNumber(v);
    if (type == "integer")
      return IsNumber(v) && std::trunc(Num(v)) == Num(v);
    return false;
  }

  static bool Equal(const boost::json::value& a, const boost::json::value& b) {
    if (IsNumber(a) && IsNumber(b))
      return Num(a) == Num(b);
    return a == b;
  }

  bool Fail(std::string* why, const std::string& where, const std::string& what) const {
    if (why->empty())
      *why = where + ": " + what;
    return false;
  }

  bool Check(const boost::json::value& schema, const boost::json::value& v, const std::string& at,
             std::string* why) const {
    if (schema.is_bool())
      return schema.get_bool() || Fail(why, at, "false schema");
    const boost::json::object& s = schema.as_object();
    static const std::set<std::string> kAnnotations = {"$schema",     "$id",      "title",
                                                       "description", "$comment", "$defs"};
    for (const auto& kv : s) {
      std::string k(kv.key());
      const boost::json::value& arg = kv.value();
      if (kAnnotations.count(k))
        continue;
      if (k == "$ref") {
        std::string ref(arg.as_string());
        const std::string prefix = "#/$defs/";
        if (ref.rfind(prefix, 0) != 0)
          return Fail(why, at, "unsupported $ref " + ref);
        const boost::json::value* target =
            root_.as_object().at("$defs").as_object().if_contains(ref.substr(prefix.size()));
        if (target == nullptr)
          return Fail(why, at, "dangling $ref " + ref);
        if (!Check(*target, v, at, why))
          return false;
      } else if (k == "type") {
        bool ok = false;
        if (arg.is_string()) {
          ok = TypeIs(arg.get_string(), v);
        } else {
          for (const auto& t : arg.as_array())
            ok = ok || TypeIs(t.as_string(), v);
        }
        if (!ok)
          return Fail(why, at, "wrong type");
      } else if (k == "enum") {
        bool ok = false;
        for (const auto& e : arg.as_array())
          ok = ok || Equal(e, v);
        if (!ok)
          return Fail(why, at, "not in enum");
      } else if (k == "const") {
        if (!Equal(arg, v))
          return Fail(why, at, "not the const");
      } else if (k == "required") {
        if (!v.is_object())
          continue;
        for (const auto& r : arg.as_array()) {
          if (!v.get_object().contains(r.as_string())) {
            return Fail(why, at, "missing " + std::string(r.as_string()));
          }
        }
      } else if (k == "properties") {
        if (!v.is_object())
          continue;
        for (const auto& p : arg.as_object()) {
          if (const boost::json::value* child = v.get_object().if_contains(p.key())) {
            if (!Check(p.value(), *child, at + "." + std::string(p.key()), why))
              return false;
          }
        }
      } else if (k == "additionalProperties") {
        if (!v.is_object())
          continue;
        const boost::json::value* props = s.if_contains("properties");
        for (const auto& p : v.get_object()) {
          if (props != nullptr && props->as_object().contains(p.key()))
            continue;
          if (!Check(arg, p.value(), at + "." + std::string(p.key()), why))
            return false;
        }
      } else if (k == "propertyNames") {
        if (!v.is_object())
          continue;
        for (const auto& p : v.get_object()) {
          if (!Check(arg, boost::json::value(p.key()), at + "{" + std::string(p.key()) + "}",
                     why)) {
            return false;
          }
        }
      } else if (k == "minProperties" || k == "maxProperties") {
        if (!v.is_object())
          continue;
        double n = static_cast<double>(v.get_object().size());
        if (k == "minProperties" ? n < Num(arg) : n > Num(arg))
          return Fail(why, at, k);
      } else if (k == "items") {
        if (!v.is_array())
          continue;
        size_t i = 0;
        for (const auto& item : v.get_array()) {
          if (!Check(arg, item, at + "[" + std::to_string(i++) + "]", why))
            return false;
        }
      } else if (k == "minItems" || k == "maxItems") {
        if (!v.is_array())
          continue;
        double n = static_cast<double>(v.get_array().size());
        if (k == "minItems" ? n < Num(arg) : n > Num(arg))
          return Fail(why, at, k);
      } else if (k == "minLength" || k == "maxLength") {
        if (!v.is_string())
          continue;
        double n = static_cast<double>(CodePoints(v.get_string()));
        if (k == "minLength" ? n < Num(arg) : n > Num(arg))
          return Fail(why, at, k);
      } else if (k == "pattern") {
        if (!v.is_string())
          continue;
        std::regex re(std::string(arg.as_string()), std::regex::ECMAScript);
        if (!std::regex_search(std::string(v.get_string()), re))
          return Fail(why, at, "pattern");
      } else if (k == "minimum" || k == "maximum") {
        if (!IsNumber(v))
          continue;
        if (k == "minimum" ? Num(v) < Num(arg) : Num(v) > Num(arg))
          return Fail(why, at, k);
      } else if (k == "allOf") {
        for (const auto& sub : arg.as_array()) {
          if (!Check(sub, v, at, why))
            return false;
        }
      } else if (k == "anyOf" || k == "oneOf") {
        int matches = 0;
        for (const auto& sub : arg.as_array()) {
          std::string ignored;
          if (Check(sub, v, at, &ignored))
            ++matches;
        }
        if (k == "anyOf" ? matches == 0 : matches != 1) {
          return Fail(why, at, k + " matched " + std::to_string(matches));
        }
      } else if (k == "not") {
        std::string ignored;
        if (Check(arg, v, at, &ignored))
          return Fail(why, at, "matches a 'not'");
      } else if (k == "if") {
        std::string ignored;
        bool cond = Check(arg, v, at, &ignored);
        const boost::json::value* branch = s.if_contains(cond ? "then" : "else");
        if (branch != nullptr && !Check(*branch, v, at, why))
          return false;
      } else if (k == "then" || k == "else") {
        continue;  // handled with "if"
      } else {
        return Fail(why, at, "validator does not support keyword " + k);
      }
    }
    return true;
  }

  boost::json::value root_;
};

}  // namespace omnibridge::popflow::testing
