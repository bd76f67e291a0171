// The Chromium-family host manifest: rendered from manifests/org.omnibridge.host.json.in (the
// template CMake fills too, compiled in) and checked the way Chromium parses it
// (research/native-messaging.md §3).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace omnibridge::install {

// The extension IDs Omnibridge ships under (manifests/extension-id.txt, compiled in).
std::vector<std::string> ShippedExtensionIds();

// chrome-extension://<id>/ for each id.
std::vector<std::string> OriginsFor(const std::vector<std::string>& extension_ids);

// Manifest text for `host_path` (absolute) allowing `extension_ids`. Strict JSON.
std::string RenderManifest(std::string_view host_path,
                           const std::vector<std::string>& extension_ids);

// A manifest as Chromium would read it.
struct ManifestCheck {
  bool parsed = false;      // strict JSON object
  std::string parse_error;  // when !parsed
  std::string name;
  std::string path;  // the host executable it names
  std::vector<std::string> allowed_origins;
  // Field problems Chromium rejects the whole manifest for ("not found" in the browser), each a
  // short phrase: "\"type\" is not \"stdio\"".
  std::vector<std::string> field_errors;
  // Entries of allowed_origins that fail to parse (no trailing slash, wildcard, not an ID).
  std::vector<std::string> bad_origins;
};

// `absolute_paths`: POSIX rule that `path` must be absolute (Windows allows relative).
ManifestCheck CheckManifest(std::string_view text, bool absolute_paths = true);

// True if `id` is 32 characters a–p (the Chromium extension ID alphabet).
bool IsExtensionId(std::string_view id);

}  // namespace omnibridge::install
