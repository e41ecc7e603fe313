#!/bin/sh
# The daemons' messages: levels (--log-level, -v, -q), where they go
# (stderr, the journal's "<N>" lines when $JOURNAL_STREAM is stderr,
# syslog with --syslog), systemd's readiness (READY=1, STOPPING=1 on
# $NOTIFY_SOCKET).
# TAP on stdout; every process under a time limit; daemons waited for,
# never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_daemon.sh"
net="sim:$src/fixtures/virtio-net.lspci"

has() { # DESCRIPTION FILE LINE: FILE has LINE, whole
	if grep -qxF "$3" "$2"; then ok "$1"; else notok "$1" "no line '$3' in:" "$(cat "$2")"; fi
}
hasnt() { # DESCRIPTION FILE PATTERN: no line of FILE matches PATTERN
	if grep -q -e "$3" "$2"; then notok "$1" "$(grep -e "$3" "$2")"; else ok "$1"; fi
}

# ---- levels ----
: >"$tmp/daemon.log"
if start --host "$net" --export 1:00:03.0 -q; then
	stop
	hasnt "-q: no info lines" "$tmp/daemon.log" "exported to domain\|Terminated"
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
		"<6>0000:00:03.0 exported to domain 1 at 0000:00:00.0"
else
	notok "pvpcid starts with stderr the journal" "$(cat "$tmp/journal")"
fi
: >"$tmp/daemon.log"
export JOURNAL_STREAM=1:1
if start --host "$net" --export 1:00:03.0; then
	unset JOURNAL_STREAM
	stop
	has "a JOURNAL_STREAM that is not stderr: plain lines" "$tmp/daemon.log" \
		"pvpcid: 0000:00:03.0 exported to domain 1 at 0000:00:00.0"
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
		"exported to domain 1,,Terminated" -- unshare -m sh -c \
		'mount --make-rprivate / && mount --bind /dev/null "$1/null" && mount --bind "$1" /dev && shift && exec "$@"' \
		sh "$tmp/dev" "$bin/pvpcid" --syslog --socket "$dsock" --state-dir "$tmp/state" --host "$net" \
		--export 1:00:03.0 >"$tmp/syslog.out" 2>"$tmp/syslog.err"; then
		if grep -q '^<30>.* pvpcid\[[0-9]*\]: 0000:00:03\.0 exported to domain 1 at 0000:00:00\.0$' "$tmp/syslog.out"; then
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

tap_done
