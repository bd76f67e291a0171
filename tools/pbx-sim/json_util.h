// Bridges between absl::string_view (Debian's Abseil is built without std::string_view) and
// Boost.JSON's string_view.
#pragma once

#include "absl/strings/string_view.h"
#include "boost/json/string.hpp"
#include "boost/json/string_view.hpp"

namespace omnibridge::pbxsim {

inline boost::json::string_view J(absl::string_view s) { return {s.data(), s.size()}; }

inline absl::string_view A(boost::json::string_view s) { return {s.data(), s.size()}; }

inline absl::string_view A(const boost::json::string& s) { return {s.data(), s.size()}; }

}  // namespace omnibridge::pbxsim
