#!/bin/sh
# The daemons' messages: levels (--log-level, -v, -q), where they go
# (stderr, the journal's "<N>" lines when $JOURNAL_STREAM is stderr,
# syslog with --syslog), systemd's readiness (READY=1, STOPPING=1 on
# $NOTIFY_SOCKET), and pciback's own words for the events it shares with
# pvpcid, which operators grep for: "vpci: assign to virtual slot N [func
# F]", "registering for N", "seizing device", the verbose_request lines
# ("enable", "set bus master", "enable MSI-X", "MSI-X[i]: N") and "Driver
# tried to write to a read-only configuration space field".
# TAP on stdout; every process under a time limit; daemons waited for,
# never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_daemon.sh"
dsock=$tmp/dsock	# $tmp/sock is the store's
shared=${PVPCI_SHARED:-$src/../shared}
net="sim:$src/fixtures/virtio-net.lspci"

has() { # DESCRIPTION FILE LINE: FILE has LINE, whole
	if grep -qxF "$3" "$2"; then ok "$1"; else notok "$1" "no line '$3' in:" "$(cat "$2")"; fi
}
hasnt() { # DESCRIPTION FILE PATTERN: no line of FILE matches PATTERN
	if grep -q -e "$3" "$2"; then notok "$1" "$(grep -e "$3" "$2")"; else ok "$1"; fi
}
front() { timeout 30 "$bin/pvpci" front --socket "$dsock" "$@" >"$tmp/front.out" 2>&1; }

# ---- pciback's words, at the default level and with --verbose-requests ----
# virtio-net's Command has memory decode and bus master on (0x0406):
# each connection starts from that, restored after its reset.
if start --host "$net" --export 1:00:03.0 --verbose-requests; then
	ok "pvpcid --verbose-requests starts"
	front 1 write 00:00.0 4 2 0x0 && front 1 write 00:00.0 0x44 1 0x1 && front 1 msix 00:00.0 enable 0 2
	rc=$?
	if [ $rc -eq 0 ]; then ok "the frontend clears Command, writes a byte nothing covers, enables MSI-X"
	else notok "the frontend clears Command, writes a byte nothing covers, enables MSI-X" "$(cat "$tmp/front.out")"; fi
	stop
	log=$tmp/daemon.log
	has "pciback's vpci line: the function's virtual slot" "$log" \
		"pvpcid: 0000:00:03.0: vpci: assign to virtual slot 0"
	has "pciback's line when a domain gets a function" "$log" "pvpcid: 0000:00:03.0: registering for 1"
	has "verbose_request: decode off (pciback's 'disable')" "$log" "pvpcid: 0000:00:03.0: disable"
	has "verbose_request: 'clear bus master'" "$log" "pvpcid: 0000:00:03.0: clear bus master"
	has "verbose_request: 'enable MSI-X'" "$log" "pvpcid: 0000:00:03.0: enable MSI-X"
	has "verbose_request: 'MSI-X[1]: N'" "$log" "pvpcid: 0000:00:03.0: MSI-X[1]: 33"
	if grep -q "^pvpcid: warning: 0000:00:03.0: Driver tried to write to a read-only configuration space field at offset 0x44, size 1\. " "$log"; then
		ok "a write nothing takes: pciback's warning, with offset and size"
	else
		notok "a write nothing takes: pciback's warning, with offset and size" "$(cat "$log")"
	fi
	has "the signal and what pvpcid does then, at info level" "$log" \
		"pvpcid: Terminated: restoring every function and stopping"
else
	notok "pvpcid --verbose-requests starts" "$(cat "$tmp/daemon.log")"
fi
# The same function with Command 0x0400 (decode and bus master off).
sed '0,/^00: f4 1a 41 10 06 04/s//00: f4 1a 41 10 00 04/' "$src/fixtures/virtio-net.lspci" >"$tmp/off.lspci"
: >"$tmp/daemon.log"
if start --host "sim:$tmp/off.lspci" --export 1:00:03.0 --verbose-requests; then
	front 1 write 00:00.0 4 2 0x6 || notok "the frontend writes Command 0x6" "$(cat "$tmp/front.out")"
	stop
	has "verbose_request: decode on (pciback's 'enable')" "$tmp/daemon.log" "pvpcid: 0000:00:03.0: enable"
	has "verbose_request: 'set bus master'" "$tmp/daemon.log" "pvpcid: 0000:00:03.0: set bus master"
else
	notok "pvpcid starts on a function with decode off" "$(cat "$tmp/daemon.log")"
fi

# Functions of one physical slot share a virtual one (the "func" form).
if [ -f "$shared/fixtures/pciutils/tree-asus-p6t6" ]; then
	: >"$tmp/daemon.log"
	# (06:00.x share IRQ 11 with other functions: accepted here)
	if start --host "sim:$shared/fixtures/pciutils/tree-asus-p6t6" --allow-shared-intx --export 1:06:00.0 \
		--export 1:06:00.1 --export 1:07:00.0; then
		stop
		has "06:00.0: a slot of its own" "$tmp/daemon.log" \
			"pvpcid: 0000:06:00.0: vpci: assign to virtual slot 0"
		has "06:00.1 joins it, with its function (pciback's func form)" "$tmp/daemon.log" \
			"pvpcid: 0000:06:00.1: vpci: assign to virtual slot 0 func 1"
		has "07:00.0: the next slot" "$tmp/daemon.log" "pvpcid: 0000:07:00.0: vpci: assign to virtual slot 1"
	else
		notok "pvpcid exports 06:00.0, 06:00.1 and 07:00.0" "$(cat "$tmp/daemon.log")"
	fi
	: >"$tmp/daemon.log"
	if start --host "sim:$shared/fixtures/pciutils/tree-asus-p6t6" --allow-shared-intx --mode slot \
		--export 1:06:00.0 --export 1:06:00.1; then
		stop
		has "--mode slot: pciback's slot.c line, slot and bus" "$tmp/daemon.log" \
			"pvpcid: 0000:06:00.1: slot: assign to virtual slot 1, bus 0"
	else
		notok "pvpcid --mode slot exports 06:00.0 and 06:00.1" "$(cat "$tmp/daemon.log")"
	fi
fi

# ---- levels ----
: >"$tmp/daemon.log"
if start --host "$net" --export 1:00:03.0 -q; then
	stop
	hasnt "-q: no info lines" "$tmp/daemon.log" "registering for\|Terminated"
else
	notok "pvpcid -q starts" "$(cat "$tmp/daemon.log")"
fi
: >"$tmp/daemon.log"
if start --host "$net" --export 1:00:03.0 --log-level debug; then
	stop
	has "--log-level debug: the debug lines too" "$tmp/daemon.log" \
		"pvpcid: 0000:00:03.0 -> domain 1 0000:00:00.0"
else
	notok "pvpcid --log-level debug starts" "$(cat "$tmp/daemon.log")"
fi
: >"$tmp/daemon.log"
if start --host "$net" --export 1:00:03.0; then
	stop
	hasnt "the default (info): no debug lines" "$tmp/daemon.log" " -> domain "
else
	notok "pvpcid starts" "$(cat "$tmp/daemon.log")"
fi
for d in pvpcid pvpci-stored; do
	timeout 10 "$bin/$d" --socket "$tmp/x" --log-level loud >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "--log-level loud: expected err, warning, notice, info, debug or 0-7" "$tmp/out"; then
		ok "$d --log-level loud: exit 2 and why"
	else
		notok "$d --log-level loud: exit 2 and why" "exit $rc" "$(cat "$tmp/out")"
	fi
done

# ---- the journal: stderr is the stream $JOURNAL_STREAM names ----
: >"$tmp/journal"
ino=$(stat -c '%d:%i' "$tmp/journal")
# shellcheck disable=SC2016
if JOURNAL_STREAM=$ino timeout 30 sh -c 'exec "$@" 2>>"$0"' "$tmp/journal" "$bin/pvpcid" --background \
	--pidfile "$tmp/pid" --socket "$dsock" --state-dir "$tmp/state" --host "$net" --export 1:00:03.0; then
	pid=$(cat "$tmp/pid")
	stop
	has "under the journal: '<6>' and no name (the journal adds it)" "$tmp/journal" \
		"<6>0000:00:03.0: registering for 1"
else
	notok "pvpcid starts with stderr the journal" "$(cat "$tmp/journal")"
fi
: >"$tmp/daemon.log"
export JOURNAL_STREAM=1:1
if start --host "$net" --export 1:00:03.0; then
	unset JOURNAL_STREAM
	stop
	has "a JOURNAL_STREAM that is not stderr: plain lines" "$tmp/daemon.log" \
		"pvpcid: 0000:00:03.0: registering for 1"
else
	unset JOURNAL_STREAM
	notok "pvpcid starts" "$(cat "$tmp/daemon.log")"
fi

# ---- systemd's readiness: READY=1 once serving, STOPPING=1 at SIGTERM ----
for d in pvpcid pvpci-stored; do
	case $d in
	pvpcid) args="--socket $dsock --state-dir $tmp/state --host $net --export 1:00:03.0" ;;
	*) args="--socket $tmp/xs" ;;
	esac
	# shellcheck disable=SC2086
	if timeout 60 python3 "$src/tests/integration/dgram_run.py" "$tmp/notify" 30 "READY=1,,STOPPING=1" -- \
		"$bin/$d" $args >"$tmp/notify.out" 2>"$tmp/notify.err"; then
		ok "$d: READY=1 on \$NOTIFY_SOCKET, STOPPING=1 at SIGTERM, exit 0"
	else
		notok "$d: READY=1 on \$NOTIFY_SOCKET, STOPPING=1 at SIGTERM, exit 0" \
			"$(cat "$tmp/notify.out" "$tmp/notify.err")"
	fi
done

# ---- --syslog: to /dev/log, here a socket of the test's own in a mount
# namespace of pvpcid's own (skipped where one cannot be made) ----
mkdir -p "$tmp/dev"
: >"$tmp/dev/null"
# shellcheck disable=SC2016
if unshare -m sh -c 'mount --make-rprivate / && mount --bind /dev/null "$1/null" && mount --bind "$1" /dev' \
	sh "$tmp/dev" 2>/dev/null; then
	# shellcheck disable=SC2016
	if timeout 60 python3 "$src/tests/integration/dgram_run.py" "$tmp/dev/log" 30 \
		"registering for 1,,Terminated" -- unshare -m sh -c \
		'mount --make-rprivate / && mount --bind /dev/null "$1/null" && mount --bind "$1" /dev && shift && exec "$@"' \
		sh "$tmp/dev" "$bin/pvpcid" --syslog --socket "$dsock" --state-dir "$tmp/state" --host "$net" \
		--export 1:00:03.0 >"$tmp/syslog.out" 2>"$tmp/syslog.err"; then
		if grep -q '^<30>.* pvpcid\[[0-9]*\]: 0000:00:03\.0: registering for 1$' "$tmp/syslog.out"; then
			ok "--syslog: facility daemon, level info, 'pvpcid[PID]:', the message"
		else
			notok "--syslog: facility daemon, level info, 'pvpcid[PID]:', the message" "$(cat "$tmp/syslog.out")"
		fi
		if [ ! -s "$tmp/syslog.err" ]; then ok "--syslog: nothing on stderr"
		else notok "--syslog: nothing on stderr" "$(cat "$tmp/syslog.err")"; fi
	else
		notok "pvpcid --syslog: its lines reach /dev/log" "$(cat "$tmp/syslog.out" "$tmp/syslog.err")"
	fi
else
	ok "# SKIP --syslog: no private mount namespace here"
fi

# ---- seizing: --hide with a store ----
. "$src/tests/integration/store_lib.sh"
store_start
: >"$tmp/daemon.log"
if start --host "$net" --store "$tmp/sock" --hide '(0000:00:03.0)'; then
	stop
	has "--hide: pciback's 'seizing device'" "$tmp/daemon.log" "pvpcid: 0000:00:03.0: seizing device"
else
	notok "pvpcid --store --hide starts" "$(cat "$tmp/daemon.log")"
fi
store_stop
tap_done
