#!/bin/sh
# installer/policies/generate-policies.py: the committed examples are what it generates from
# site.example.json; every output parses; settings the extension's managed schema does not
# declare, wrong types and bad IDs are refused (the browser would drop them silently).
# usage: policies_test.sh <repo root>
set -eu
repo=$1
gen="$repo/installer/policies/generate-policies.py"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$gen" "$repo/installer/policies/site.example.json" --out "$scratch/out" \
  --schema "$repo/extension/managed_schema.json" >/dev/null
diff -r "$repo/installer/policies/examples" "$scratch/out" ||
  fail "installer/policies/examples is stale: rerun generate-policies.py site.example.json --out examples"

python3 - "$scratch/out" "$repo/extension/managed_schema.json" <<'PY' || fail "outputs do not parse"
import json, plistlib, sys, xml.dom.minidom
out, schema = sys.argv[1], json.load(open(sys.argv[2]))
for b in ("chrome", "chromium", "edge"):
    p = json.load(open("%s/linux/%s/omnibridge.json" % (out, b)))
    assert p["NativeMessagingAllowlist"] == ["org.omnibridge.host"], p
    (ext, s), = p["3rdparty"]["extensions"].items()
    assert p["ExtensionSettings"][ext]["installation_mode"] == "force_installed"
    assert set(s) <= set(schema["properties"]), s
for b in ("chrome", "edge"):
    m = plistlib.load(open("%s/macos/omnibridge-%s.mobileconfig" % (out, b), "rb"))
    assert len(m["PayloadContent"]) == 2
    reg = open("%s/windows/omnibridge-%s.reg" % (out, b), encoding="utf-8", newline="").read()
    assert reg.startswith("Windows Registry Editor Version 5.00\r\n"), reg[:60]
    assert "\\3rdparty\\extensions\\" in reg and '"1"="org.omnibridge.host"' in reg
xml.dom.minidom.parse(out + "/windows/omnibridge.admx")
xml.dom.minidom.parse(out + "/windows/en-US/omnibridge.adml")
PY

refuse() {
  what=$1 site=$2
  printf '%s' "$site" >"$scratch/bad.json"
  if python3 "$gen" "$scratch/bad.json" --out "$scratch/bad" \
      --schema "$repo/extension/managed_schema.json" 2>"$scratch/err" >/dev/null; then
    fail "accepted $what"
  fi
  grep -q "$3" "$scratch/err" || { cat "$scratch/err"; fail "$what: message lacks '$3'"; }
}
base='"extensionId": "gdnblmkijkafmbbpidakmcghmgeepcbe", "updateUrl": "https://example.com/u.xml"'
refuse "an undeclared key" "{$base, \"settings\": {\"ctiPassword\": \"x\"}}" "not in the extension's managed schema"
refuse "a string port" "{$base, \"settings\": {\"cti\": {\"ami\": {\"port\": \"5038\"}}}}" "must be an integer"
refuse "an unknown adapter" "{$base, \"settings\": {\"crm\": [{\"origin\": \"https://a.example\", \"adapter\": \"sap\"}]}}" "must be one of"
refuse "an origin with a path" "{$base, \"settings\": {\"crm\": [{\"origin\": \"https://a.example/x\", \"adapter\": \"generic\"}]}}" "no path"
refuse "a bad extension ID" '{"extensionId": "abc", "updateUrl": "https://example.com/u.xml"}' "32-letter"
echo "PASS"
