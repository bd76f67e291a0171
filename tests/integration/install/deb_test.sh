#!/bin/sh
# The .deb and .tar.gz build with CPack in a scratch dir (nothing lands on this machine), list the
# host, the example config and exactly the system-wide manifests `install --system` would write,
# with Depends from shlibdeps and no maintainer scripts; unpacked into a throw-away root
# (dpkg -x; and as root `dpkg --root` install + remove) they register the host.
# usage: deb_test.sh <build dir> <omni_install_driver> <manifests/extension-id.txt>
set -eu
build=$1 driver=$2 idfile=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$scratch"
cpack --config "$build/CPackConfig.cmake" -G "DEB;TGZ" -B "$scratch/out" >cpack.log 2>&1 ||
  { cat cpack.log; fail "cpack"; }
deb=$(ls out/*.deb) tgz=$(ls out/*.tar.gz)

# What the package must hold: the host, the example config, and the manifests of
# `install --system` (the one table in native-host/src/install/locations.cc).
"$driver" install --system --root / --dry-run --host-path /usr/bin/omnibridge-host >plan.txt
sed -n 's/^would write \([^ ]*\) .*/.\1/p' plan.txt | sort >want-manifests.txt
[ -s want-manifests.txt ] || fail "install --system --dry-run named no manifest"
dpkg-deb -c "$deb" | awk '{print $6}' >contents.txt
grep 'org.omnibridge.host.json$' contents.txt | sort >have-manifests.txt
diff -u want-manifests.txt have-manifests.txt || fail "package manifests differ from install --system"
for f in ./usr/bin/omnibridge-host ./etc/omnibridge/config.json.example \
         ./usr/share/omnibridge/policies/generate-policies.py \
         ./usr/share/omnibridge/policies/managed_schema.json; do
  grep -qx "$f" contents.txt || fail "$f not in the package"
done
dpkg-deb -c "$deb" | awk 'substr($1, 9, 1) == "w" { print; bad = 1 } END { exit bad }' ||
  fail "world-writable entries in the package"

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
case "$depends" in *libc6*) ;; *) fail "Depends lacks libc6 (shlibdeps did not run)";; esac
mkdir ctrl && dpkg-deb -e "$deb" ctrl
for s in preinst postinst prerm postrm; do
  [ ! -e "ctrl/$s" ] || fail "maintainer script $s: dpkg alone must own the manifests"
done

tar -tzf "$tgz" | grep -q 'etc/chromium/native-messaging-hosts/org.omnibridge.host.json$' ||
  fail "tar.gz lacks the Chromium manifest"
tar -tzf "$tgz" | grep -q 'usr/bin/omnibridge-host$' || fail "tar.gz lacks the host"

# Unpacked into a throw-away root: each manifest names /usr/bin/omnibridge-host and every shipped
# extension ID, and that binary (from the root) answers hello as the browser would start it.
check_root() {
  root=$1
  ids=$(grep -E '^[a-p]{32}$' "$idfile")
  for m in $(cat want-manifests.txt); do
    f="$root/${m#./}"
    [ -f "$f" ] || fail "$f missing after unpacking"
    python3 - "$f" $ids <<'PY' || fail "bad manifest $f"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["name"] == "org.omnibridge.host", m
assert m["type"] == "stdio" and m["description"], m
assert m["path"] == "/usr/bin/omnibridge-host", m
assert m["allowed_origins"] == ["chrome-extension://%s/" % i for i in sys.argv[2:]], m
PY
  done
  [ -x "$root/usr/bin/omnibridge-host" ] || fail "host not executable in $root"
  origin="chrome-extension://$(echo "$ids" | head -n1)/"
  HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" XDG_STATE_HOME="$scratch/state" \
    python3 - "$root/usr/bin/omnibridge-host" "$origin" <<'PY' || fail "unpacked host does not answer hello"
import json, struct, subprocess, sys
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
body = json.dumps({"type": "hello", "id": "1", "protocol": 1, "settings": {}}).encode()
p.stdin.write(struct.pack("=I", len(body)) + body)
p.stdin.flush()
n = struct.unpack("=I", p.stdout.read(4))[0]
reply = json.loads(p.stdout.read(n))
p.stdin.close()
p.wait(timeout=5)
assert reply.get("type") == "hello" and reply.get("re") == "1", reply
print("hello from the unpacked host:", reply.get("version"))
PY
}

dpkg -x "$deb" "$scratch/root-x"
check_root "$scratch/root-x"

if [ "$(id -u)" = 0 ]; then
  # dpkg itself, on a throw-away root: installs, owns, and on removal deletes the manifests.
  r="$scratch/root-dpkg"
  mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers"
  : >"$r/var/lib/dpkg/status"
  mkdir -p "$r/var/log"
  dpkg_root() { dpkg --root="$r" --log="$r/var/log/dpkg.log" "$@"; }  # not the machine's /var/log/dpkg.log
  dpkg_root --force-depends --force-script-chrootless -i "$deb" >dpkg-i.log 2>&1 ||
    { cat dpkg-i.log; fail "dpkg --root -i"; }
  check_root "$r"
  dpkg_root -S /etc/chromium/native-messaging-hosts/org.omnibridge.host.json |
    grep -q '^omnibridge-host:' || fail "dpkg does not own the Chromium manifest"
  dpkg_root --force-depends --force-script-chrootless -r omnibridge-host >dpkg-r.log 2>&1 ||
    { cat dpkg-r.log; fail "dpkg --root -r"; }
  for m in $(cat want-manifests.txt); do
    [ ! -e "$r/${m#./}" ] || fail "$m left after dpkg -r"
  done
  [ ! -e "$r/usr/bin/omnibridge-host" ] || fail "host left after dpkg -r"
  echo "dpkg --root install/remove: ok"
else
  echo "not root: dpkg --root install/remove skipped (dpkg -x checked)"
fi
echo "PASS: $(basename "$deb") $(basename "$tgz")"
