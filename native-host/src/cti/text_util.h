// Small ASCII helpers on std::string_view, internal to cti/ and agent/.
//
// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so absl::string_view is a type
// of its own and absl's string functions do not take std::string_view; Av() bridges the two.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/strings/string_view.h"

namespace omnibridge::cti::text {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i]))
      return false;
  }
  return true;
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

inline bool ContainsIgnoreCase(std::string_view s, std::string_view needle) {
  if (needle.size() > s.size())
    return false;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (EqualsIgnoreCase(s.substr(i, needle.size()), needle))
      return true;
  }
  return false;
}

}  // namespace omnibridge::cti::text
