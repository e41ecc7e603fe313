#!/bin/sh
# The systemd units, installed into a temporary DESTDIR by `meson install`:
# - `systemd-analyze verify` accepts them (with ExecStart pointed at the
#   staged daemons and MANPATH at the staged man pages, so that it checks
#   that the commands exist and that Documentation= names pages that do);
# - their ExecStart lines, with the paths under /run and /var moved into
#   the test's directory, start the daemons: pvpci-stored serves, and
#   pvpcid, following it, says READY=1 as Type=notify wants;
# - the ordering and the Xen conditions are what the README says.
# TAP on stdout; every process under a time limit.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_lib.sh"

command -v systemd-analyze >/dev/null || skip_all "no systemd-analyze"
dest=$tmp/root
meson introspect "$bin" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "sbindir", "mandir", "systemdunitdir"):
    v = o[k]
    if k == "systemdunitdir" and not v:
        v = "lib/systemd/system"
    if k != "prefix" and not v.startswith("/"):
        v = o["prefix"] + "/" + v
    print("%s=%s" % (k, v))' >"$tmp/dirs" || { echo "Bail out! meson introspect failed"; exit 1; }
. "$tmp/dirs"

check "meson install --destdir" timeout 120 meson install --no-rebuild --quiet -C "$bin" --destdir "$dest"
units=$dest$systemdunitdir
for u in pvpci-stored.service pvpcid.service; do
	if [ -f "$units/$u" ] && grep -q "^ExecStart=$sbindir/" "$units/$u"; then
		ok "$u installed in $systemdunitdir, ExecStart in $sbindir"
	else
		notok "$u installed in $systemdunitdir, ExecStart in $sbindir" "$(ls -l "$units" 2>&1)"
	fi
	sed "s|^ExecStart=$sbindir/|ExecStart=$dest$sbindir/|" "$units/$u" >"$tmp/$u"
done
for p in man1/pvpci.1 man8/pvpcid.8 man8/pvpci-stored.8; do
	[ -f "$dest$mandir/$p" ] || notok "man page $p installed in $mandir"
done

# Relative paths: verify takes them as files to load, not unit names.
if (cd "$tmp" && MANPATH=$dest$mandir timeout 60 systemd-analyze verify ./pvpci-stored.service \
	./pvpcid.service) >"$tmp/verify" 2>&1 && [ ! -s "$tmp/verify" ]; then
	ok "systemd-analyze verify: both units, not a word"
else
	notok "systemd-analyze verify: both units, not a word" "$(cat "$tmp/verify")"
fi
# It does look: a unit with a mistake in it is refused.
sed 's/^ProtectHome=yes/ProtectHome=perhaps/; s|^ExecStart=[^ ]*|ExecStart=/nonexistent/pvpcid|' \
	"$tmp/pvpcid.service" >"$tmp/broken.service"
if (cd "$tmp" && MANPATH=$dest$mandir timeout 60 systemd-analyze verify ./broken.service) >"$tmp/verify" 2>&1 ||
	[ -s "$tmp/verify" ]; then
	ok "systemd-analyze verify complains of a broken copy"
else
	notok "systemd-analyze verify complains of a broken copy"
fi

# What the README promises of the units.
u=$units/pvpcid.service
s=$units/pvpci-stored.service
check "pvpcid: after pvpci-stored and xenstored, wants pvpci-stored" sh -c \
	"grep -qx 'After=pvpci-stored.service xenstored.service proc-xen.mount' '$u' && grep -qx 'Wants=pvpci-stored.service' '$u'"
check "pvpci-stored: not on a Xen host (dom0 or driver domain), before pvpcid" sh -c \
	"grep -qx 'ConditionPathExists=!/proc/xen/capabilities' '$s' && grep -qx 'ConditionPathExists=!/dev/xen/xenbus' '$s' && grep -qx 'Before=pvpcid.service' '$s'"
check "both Type=notify, with a runtime directory; pvpcid a state directory" sh -c \
	"grep -qx 'Type=notify' '$u' && grep -qx 'Type=notify' '$s' && grep -qx 'StateDirectory=pvpci' '$u' &&
	 grep -qx 'RuntimeDirectory=pvpci' '$u' && grep -qx 'RuntimeDirectory=xenstored' '$s'"

# Their command lines, run as the units would: /run and /var paths moved
# into $tmp, /etc/default/pvpcid absent (the default host: this machine's
# sysfs, read-only; nothing is attached, so nothing is even read), and,
# as root, under the unit's capability bounding set and no_new_privs
# (setpriv), which the daemons' own sandbox must get along with.
cmdline() { # UNIT: its ExecStart, the unit's paths replaced
	bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$1" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_\(.\)/+\1/p' |
		tr '\n' ',')
	[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
		printf 'setpriv --bounding-set -all%s --no-new-privs ' "${bset:+,${bset%,}}"
	sed -n 's/^ExecStart=//p' "$1" | sed -e "s|/run/xenstored/socket|$tmp/xs|g" \
		-e "s|\${PVPCID_STORE}|$tmp/xs|g" -e "s|/run/pvpci/|$tmp/|g" -e "s|/var/lib/pvpci|$tmp/state|g" \
		-e "s|\$PVPCID_ARGS||g"
}
mkdir -p "$tmp/state"
s=$tmp/pvpci-stored.service	# the staged copies: ExecStart in $dest
u=$tmp/pvpcid.service
# shellcheck disable=SC2046
if timeout 30 $(cmdline "$s") --background --pidfile "$tmp/stored.pid" 2>"$tmp/stored.log"; then
	store_pid=$(cat "$tmp/stored.pid")
	ok "pvpci-stored.service's ExecStart serves (as root: its bounding set, no_new_privs)"
	# shellcheck disable=SC2046
	if timeout 60 python3 "$src/tests/integration/dgram_run.py" "$tmp/notify" 30 "READY=1,,STOPPING=1" -- \
		$(cmdline "$u") >"$tmp/notify.out" 2>&1; then
		ok "pvpcid.service's ExecStart follows the store and says READY=1, then STOPPING=1"
	else
		notok "pvpcid.service's ExecStart follows the store and says READY=1, then STOPPING=1" \
			"$(cmdline "$u")" "$(cat "$tmp/notify.out")"
	fi
	kill "$store_pid"
	timeout 20 tail --pid="$store_pid" -f /dev/null
	store_pid=
else
	notok "pvpci-stored.service's ExecStart serves (as root: its bounding set, no_new_privs)" "$(cmdline "$s")" "$(cat "$tmp/stored.log")"
fi
finish
