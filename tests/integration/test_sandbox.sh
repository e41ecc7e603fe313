#!/bin/bash
# The daemons in their sandbox, as /proc shows it (README: Least
# privilege; what the filter refuses is tests/unit/test_sandbox.c's):
# every thread of pvpci-stored and pvpcid has no_new_privs and the seccomp
# filter; pvpci-stored keeps no capability, nor pvpcid on a sim host; on a
# sysfs host pvpcid keeps CAP_SYS_ADMIN alone (when it had it: run as
# root), in its bounding set too; --no-sandbox keeps all.  And a sandboxed
# pvpcid serves: a function of a fake sysfs tree attached, read past 64
# bytes and written through a frontend, detached and restored.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"
. "$src/tests/integration/fake_sysfs.sh"

# field PID NAME: NAME's value in /proc/PID/status.
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# The capabilities the test itself has: what a daemon can keep of them.
mine=$((0x$(field $$ CapEff)))
sysadmin=$((1 << 21))
# sandboxed DESCRIPTION PID CAPS: every thread of PID has no_new_privs and
# the filter, and exactly CAPS (hex) effective, permitted and bounding.
sandboxed() {
	local t bad=
	for t in /proc/"$2"/task/*; do
		t=${t##*/}
		[ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$2/task/$t/status")" = 1 ] || bad="$bad thread $t: NoNewPrivs;"
		[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$2/task/$t/status")" = 2 ] || bad="$bad thread $t: Seccomp;"
	done
	for f in CapEff CapPrm CapBnd; do
		[ $((0x$(field "$2" $f))) = $(($3)) ] || bad="$bad $f $(field "$2" $f), expected $(printf %016x $(($3)));"
	done
	[ $((0x$(field "$2" CapInh) | 0x$(field "$2" CapAmb))) = 0 ] || bad="$bad inheritable or ambient left;"
	if [ -z "$bad" ]; then
		ok "$1 ($(ls /proc/"$2"/task | wc -l) threads; CapEff $(field "$2" CapEff))"
	else
		notok "$1" "$bad"
	fi
}

store_start
sandboxed "pvpci-stored: no_new_privs, the filter, no capability" "$store_pid" 0
check "pvpci domain-introduce 1" pv domain-introduce 1

start --host "sim:$src/fixtures/virtio-net.lspci" --store "$tmp/sock"
sandboxed "pvpcid on a sim host, libxenstore's reader thread too: no capability" "$pid" 0
stop

root=$tmp/sys
bdf=0000:03:00.0
fake_endpoint "$root" "$bdf"
cp "$cfg" "$tmp/cfg.before"
start --host "sysfs:$root,writes=1" --store "$tmp/sock"
sandboxed "pvpcid on a sysfs host: CAP_SYS_ADMIN alone, when it had it" "$pid" $((mine & sysadmin))
check "assignable-add $bdf" pv assignable-add "$bdf"
check "attach 1 $bdf" pv attach 1 "$bdf"
one_shot() { XENSTORED_PATH=$tmp/sock.d/1 timeout 30 "$bin/pvpci" front --socket "$dsock" 1 "$@"; }
one_shot read 00:00.0 0x100 4 >"$tmp/out" 2>&1
same "a frontend reads AER's header at 0x100 through it" "$tmp/out" 0x00010001
check "a frontend writes the cache line size through it" one_shot write 00:00.0 0x0c 1 0x20
released=$(grep -c "$BE1: released" "$tmp/daemon.log")
check "detach 1 $bdf" pv detach 1 "$bdf"
wait_log "$BE1: released" $((released + 1))
if cmp -s "$tmp/cfg.before" "$cfg" && [ -z "$(ls "$tmp/state")" ]; then
	ok "released: the config file as before, no state file"
else
	notok "released: the config file as before" "$(cmp -l "$tmp/cfg.before" "$cfg" | head -3)" "$(ls "$tmp/state")"
fi
stop

start --host "sim:$src/fixtures/virtio-net.lspci" --store "$tmp/sock" --no-sandbox
if [ "$(field "$pid" Seccomp)" = 0 ] && [ "$(field "$pid" NoNewPrivs)" = 0 ] &&
	[ $((0x$(field "$pid" CapEff))) = "$mine" ]; then
	ok "pvpcid --no-sandbox: no filter, every capability it had"
else
	notok "pvpcid --no-sandbox" "$(grep -E '^(Cap|NoNew|Seccomp)' "/proc/$pid/status")"
fi
stop
if grep -q -e Sanitizer -e 'runtime error' -e 'sandbox:' "$tmp/daemon.log"; then
	notok "no sandbox error or sanitizer report" "$(grep -e Sanitizer -e 'runtime error' -e 'sandbox:' "$tmp/daemon.log" | head -5)"
else
	ok "no sandbox error or sanitizer report"
fi
store_stop
finish
