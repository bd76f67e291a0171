#!/usr/bin/env python3
"""Omnibridge enterprise policy generator.

Reads a site file (see site.example.json) and writes, for Chrome, Chromium and Edge, policies that
force-install the Omnibridge extension, allow its native host (org.omnibridge.host) and push its
settings into the extension's managed storage:

  linux/<browser>/omnibridge.json       copy into the browser's policies/managed directory
  windows/omnibridge-<browser>.reg      import on the machine (HKLM), or push the same values by GPO
  windows/omnibridge.admx, windows/en-US/omnibridge.adml   Group Policy templates for the settings
  macos/omnibridge-<browser>.mobileconfig   install with your MDM (values are forced)
  WHERE.txt                             where each file goes

The settings are checked against the extension's managed_schema.json first: the browser drops keys
the schema does not declare without a word, so this script refuses them instead. Never put secrets
(CTI passwords, API tokens) here: they belong in the host's /etc/omnibridge/config.json.

usage: generate-policies.py SITE.json --out DIR [--schema managed_schema.json]
Python 3.8+, standard library only.
"""
import argparse
import json
import os
import plistlib
import re
import sys
import uuid

HOST_NAME = "org.omnibridge.host"
HERE = os.path.dirname(os.path.abspath(__file__))
ID_RE = re.compile(r"^[a-p]{32}$")

BROWSERS = {
    "chrome": {
        "name": "Google Chrome",
        "linux_dir": "/etc/opt/chrome/policies/managed",
        "reg_key": r"SOFTWARE\Policies\Google\Chrome",
        "mac_domain": "com.google.Chrome",
    },
    "chromium": {
        "name": "Chromium",
        "linux_dir": "/etc/chromium/policies/managed",
        "reg_key": None,  # Windows Chromium builds are not a deployment target
        "mac_domain": None,
    },
    "edge": {
        "name": "Microsoft Edge",
        "linux_dir": "/etc/opt/edge/policies/managed",
        "reg_key": r"SOFTWARE\Policies\Microsoft\Edge",
        "mac_domain": "com.microsoft.Edge",
    },
}


class SiteError(Exception):
    pass


def default_schema_path():
    for candidate in (os.path.join(HERE, "managed_schema.json"),
                      os.path.join(HERE, "..", "..", "extension", "managed_schema.json")):
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return None


def validate(value, schema, where):
    """Checks `value` against the draft-03-style schema Chrome uses for managed storage."""
    t = schema.get("type")
    if t == "object":
        if not isinstance(value, dict):
            raise SiteError("%s must be an object" % where)
        props = schema.get("properties", {})
        for key, sub in value.items():
            if key not in props:
                raise SiteError("%s.%s is not in the extension's managed schema (the browser would "
                                "drop it silently); known keys: %s" % (where, key, ", ".join(sorted(props))))
            validate(sub, props[key], "%s.%s" % (where, key))
    elif t == "array":
        if not isinstance(value, list):
            raise SiteError("%s must be a list" % where)
        for i, item in enumerate(value):
            validate(item, schema.get("items", {}), "%s[%d]" % (where, i))
    elif t == "string":
        if not isinstance(value, str):
            raise SiteError("%s must be a string" % where)
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SiteError("%s must be an integer" % where)
    elif t == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SiteError("%s must be a number" % where)
    elif t == "boolean":
        if not isinstance(value, bool):
            raise SiteError("%s must be true or false" % where)
    if "enum" in schema and value not in schema["enum"]:
        raise SiteError("%s must be one of %s" % (where, ", ".join(map(str, schema["enum"]))))


def check_site(site, schema):
    if not isinstance(site, dict):
        raise SiteError("the site file must be a JSON object")
    ext = site.get("extensionId")
    if not isinstance(ext, str) or not ID_RE.match(ext):
        raise SiteError("extensionId must be a 32-letter extension ID (a-p)")
    if not isinstance(site.get("updateUrl"), str) or not site["updateUrl"].startswith(("https://", "http://", "file://")):
        raise SiteError("updateUrl must be the update manifest URL of the extension's store or server")
    for name, override in site.get("browsers", {}).items():
        if name not in BROWSERS:
            raise SiteError("browsers.%s: unknown browser (chrome, chromium, edge)" % name)
        if "extensionId" in override and not ID_RE.match(str(override["extensionId"])):
            raise SiteError("browsers.%s.extensionId is not an extension ID" % name)
    validate(site.get("settings", {}), schema, "settings")
    for i, crm in enumerate(site.get("settings", {}).get("crm", [])):
        origin = crm.get("origin", "")
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise SiteError("settings.crm[%d].origin must be scheme://host[:port] with no path, got %r" % (i, origin))


def browser_site(site, browser):
    override = site.get("browsers", {}).get(browser, {})
    return override.get("extensionId", site["extensionId"]), override.get("updateUrl", site["updateUrl"])


def policy_dict(site, browser):
    ext, update_url = browser_site(site, browser)
    policy = {
        "ExtensionSettings": {
            ext: {"installation_mode": "force_installed", "update_url": update_url,
                  "toolbar_pin": "force_pinned"}
        },
        "ExtensionInstallForcelist": ["%s;%s" % (ext, update_url)],
        "NativeMessagingAllowlist": [HOST_NAME],
    }
    if site.get("restrictNativeHosts"):
        # Only system-wide hosts, and no host but ours: the package's manifests are system-wide.
        policy["NativeMessagingBlocklist"] = ["*"]
        policy["NativeMessagingUserLevelHosts"] = False
    if site.get("settings"):
        policy["3rdparty"] = {"extensions": {ext: site["settings"]}}
    return policy


def reg_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reg_values(key, settings, out):
    """3rdparty values as registry values: objects as subkeys, lists of strings as 1..n values,
    lists of objects as JSON strings (Chrome parses them through the schema)."""
    plain, subkeys = [], []
    for name, value in settings.items():
        if isinstance(value, dict):
            subkeys.append((name, value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            subkeys.append((name, value))
        elif isinstance(value, list):
            plain.append((name, reg_string(json.dumps(value, separators=(",", ":")))))
        elif isinstance(value, bool):
            plain.append((name, "dword:%08x" % int(value)))
        elif isinstance(value, int):
            plain.append((name, "dword:%08x" % value))
        else:
            plain.append((name, reg_string(str(value))))
    if plain:
        out.append("[HKEY_LOCAL_MACHINE\\%s]" % key)
        out.extend("%s=%s" % (reg_string(n), v) for n, v in plain)
        out.append("")
    for name, value in subkeys:
        if isinstance(value, dict):
            reg_values(key + "\\" + name, value, out)
        else:
            out.append("[HKEY_LOCAL_MACHINE\\%s\\%s]" % (key, name))
            out.extend('"%d"=%s' % (i + 1, reg_string(v)) for i, v in enumerate(value))
            out.append("")


def reg_file(site, browser):
    info = BROWSERS[browser]
    ext, update_url = browser_site(site, browser)
    policy = policy_dict(site, browser)
    key = info["reg_key"]
    out = ["Windows Registry Editor Version 5.00", "",
           "; Omnibridge for %s: force-install the extension, allow its native host, push its settings." % info["name"],
           "; Generated by generate-policies.py; import with `reg import` as an administrator.", "",
           "[HKEY_LOCAL_MACHINE\\%s]" % key,
           '"ExtensionSettings"=%s' % reg_string(json.dumps(policy["ExtensionSettings"], separators=(",", ":")))]
    if "NativeMessagingUserLevelHosts" in policy:
        out.append('"NativeMessagingUserLevelHosts"=dword:00000000')
    out.append("")
    for name in ("ExtensionInstallForcelist", "NativeMessagingAllowlist", "NativeMessagingBlocklist"):
        if name in policy:
            out.append("[HKEY_LOCAL_MACHINE\\%s\\%s]" % (key, name))
            out.extend('"%d"=%s' % (i + 1, reg_string(v)) for i, v in enumerate(policy[name]))
            out.append("")
    if site.get("settings"):
        reg_values("%s\\3rdparty\\extensions\\%s\\policy" % (key, ext), site["settings"], out)
    return "\r\n".join(out) + "\r\n"


def mobileconfig(site, browser):
    info = BROWSERS[browser]
    ext, _ = browser_site(site, browser)
    policy = policy_dict(site, browser)
    settings = policy.pop("3rdparty", None)
    seed = "omnibridge:%s:%s" % (browser, ext)

    def payload(domain, values, kind):
        return {
            "PayloadType": "com.apple.ManagedClient.preferences",
            "PayloadIdentifier": "org.omnibridge.policy.%s.%s" % (browser, kind),
            "PayloadUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, seed + ":" + kind)).upper(),
            "PayloadVersion": 1,
            "PayloadDisplayName": "Omnibridge %s (%s)" % (kind, info["name"]),
            "PayloadContent": {domain: {"Forced": [{"mcx_preference_settings": values}]}},
        }

    content = [payload(info["mac_domain"], policy, "browser")]
    if settings:
        # Managed storage on macOS: the domain <browser bundle id>.extensions.<extension id>.
        content.append(payload("%s.extensions.%s" % (info["mac_domain"], ext),
                               settings["extensions"][ext], "settings"))
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": "org.omnibridge.policy.%s" % browser,
        "PayloadUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, seed)).upper(),
        "PayloadDisplayName": "Omnibridge for %s" % info["name"],
        "PayloadDescription": "Installs the Omnibridge extension, allows its native host and sets its CTI and CRM settings.",
        "PayloadOrganization": "Omnibridge",
        "PayloadScope": "System",
        "PayloadContent": content,
    }
    return plistlib.dumps(profile, sort_keys=True)


def fill_template(name, values):
    with open(os.path.join(HERE, "templates", name), encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise SiteError("template %s: unfilled %s" % (name, ", ".join(sorted(set(leftover)))))
    return text


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    kwargs = {} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""}
    with open(path, mode, **kwargs) as f:
        f.write(data)
    os.chmod(path, 0o644)


def generate(site, out):
    written = []
    where = ["Where each file goes (Omnibridge enterprise policies)", ""]
    for browser, info in BROWSERS.items():
        rel = "linux/%s/omnibridge.json" % browser
        write(os.path.join(out, rel), json.dumps(policy_dict(site, browser), indent=2) + "\n")
        where.append("%-40s -> %s/omnibridge.json (Linux, %s)" % (rel, info["linux_dir"], info["name"]))
        written.append(rel)
        if info["reg_key"]:
            rel = "windows/omnibridge-%s.reg" % browser
            write(os.path.join(out, rel), reg_file(site, browser))
            where.append("%-40s -> reg import (Windows, %s; HKLM\\%s)" % (rel, info["name"], info["reg_key"]))
            written.append(rel)
        if info["mac_domain"]:
            rel = "macos/omnibridge-%s.mobileconfig" % browser
            write(os.path.join(out, rel), mobileconfig(site, browser))
            where.append("%-40s -> your MDM (macOS, %s)" % (rel, info["name"]))
            written.append(rel)
    chrome_id, _ = browser_site(site, "chrome")
    edge_id, _ = browser_site(site, "edge")
    values = {"CHROME_EXTENSION_ID": chrome_id, "EDGE_EXTENSION_ID": edge_id}
    write(os.path.join(out, "windows/omnibridge.admx"), fill_template("omnibridge.admx.in", values))
    write(os.path.join(out, "windows/en-US/omnibridge.adml"), fill_template("omnibridge.adml.in", values))
    where.append("%-40s -> %%SystemRoot%%\\PolicyDefinitions\\ (or the central store)" % "windows/omnibridge.admx")
    where.append("%-40s -> %%SystemRoot%%\\PolicyDefinitions\\en-US\\" % "windows/en-US/omnibridge.adml")
    written += ["windows/omnibridge.admx", "windows/en-US/omnibridge.adml"]
    write(os.path.join(out, "WHERE.txt"), "\n".join(where) + "\n")
    return written


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", help="site file (see site.example.json)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--schema", default=default_schema_path(), help="the extension's managed_schema.json")
    args = parser.parse_args(argv)
    try:
        if not args.schema:
            raise SiteError("managed_schema.json not found: pass --schema")
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        with open(args.site, encoding="utf-8") as f:
            site = json.load(f)
        check_site(site, schema)
        for rel in generate(site, args.out):
            print(os.path.join(args.out, rel))
    except (SiteError, OSError, ValueError) as e:
        print("generate-policies: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
