#!/bin/sh
# install.sh: `meson install` puts npgw, npgwctl, npgw-agent (launcher and
# package) and the systemd units in place, and the units pass
# `systemd-analyze verify` (offline: syntax, known options, executables).
#
#   install.sh BUILD_DIR
set -u
build=$1
tmp=$(mktemp -d /tmp/npgw-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passes=0
fails=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
	'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
if DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild >"$tmp/install.log" 2>&1; then
	ok "meson install into a DESTDIR"
else
	bad "meson install"
	cat "$tmp/install.log"
fi
root=$tmp/root$prefix
for f in bin/npgw bin/npgwctl bin/npgw-agent lib/systemd/system/npgw.service \
	lib/systemd/system/npgw-agent.service share/npgw/agent/npgw_agent/sync.py \
	share/npgw/npgw-node.yaml; do
	if [ -e "$root/$f" ]; then ok "installed $f"; else bad "not installed: $f"; fi
done
[ -x "$root/bin/npgw-agent" ] && ok "npgw-agent is executable" || bad "npgw-agent is not executable"

# the installed launcher runs (its package put where it will be)
if PYTHONPATH="$root/share/npgw/agent" "$root/bin/npgw-agent" --help >"$tmp/help" 2>&1 &&
	grep -q -- '--kubeconfig FILE' "$tmp/help" && grep -q -- '--socket PATH' "$tmp/help"; then
	ok "npgw-agent --help"
else
	bad "npgw-agent --help"
	cat "$tmp/help"
fi
# a bad kubeconfig is refused with its name and exit status 2
echo 'not: [a kubeconfig' >"$tmp/kc"
PYTHONPATH="$root/share/npgw/agent" "$root/bin/npgw-agent" --kubeconfig "$tmp/kc" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "$tmp/kc" "$tmp/out"; then ok "a bad kubeconfig: exit 2, named"; else
	bad "a bad kubeconfig: exit $rc"
	cat "$tmp/out"
fi

# systemd-analyze verify, with the units' paths pointing into the DESTDIR
if command -v systemd-analyze >/dev/null 2>&1; then
	for u in npgw.service npgw-agent.service; do
		sed "s#$prefix/bin/#$root/bin/#g" "$root/lib/systemd/system/$u" >"$tmp/$u"
		grep -q '^Type=notify' "$tmp/npgw.service" 2>/dev/null || true
	done
	if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$tmp/npgw.service" \
		"$tmp/npgw-agent.service" >"$tmp/verify" 2>&1 && [ ! -s "$tmp/verify" ]; then
		ok "systemd-analyze verify: no complaint about either unit"
	else
		bad "systemd-analyze verify"
		cat "$tmp/verify"
	fi
	grep -q '^Type=notify' "$tmp/npgw.service" && grep -q '^RuntimeDirectory=npgw' "$tmp/npgw.service" &&
		grep -q '^StateDirectory=npgw' "$tmp/npgw.service" &&
		ok "npgw.service: Type=notify, RuntimeDirectory=npgw, StateDirectory=npgw" ||
		bad "npgw.service lacks Type=notify, RuntimeDirectory or StateDirectory"
else
	bad "systemd-analyze is not installed (systemd)"
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
