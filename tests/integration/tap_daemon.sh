# shellcheck shell=sh disable=SC2034
# Sourced by the integration scripts that run pvpcid: TAP lines and
# counts, a private directory removed at exit (with the daemon, if one is
# still running), and pvpcid started in the background and stopped with a
# bounded wait, never slept on.  End a script with tap_done.
src=${PVPCI_SRC:?}
bin=${PVPCI_BIN:?}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
tap_done() { echo "1..$n"; [ "$fails" -eq 0 ]; }

# Start pvpcid with ARGS on $tmp/sock, its stderr added to $tmp/daemon.log;
# it returns once it serves.
start() {
	rm -f "$tmp/pid" "$tmp/sock"
	mkdir -p "$tmp/state"
	timeout 30 "$bin/pvpcid" --background --pidfile "$tmp/pid" --socket "$tmp/sock" \
		--state-dir "$tmp/state" "$@" 2>>"$tmp/daemon.log" && pid=$(cat "$tmp/pid")
}
# SIGTERM and wait (bounded) for it to restore everything and exit.
stop() {
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	timeout 20 tail --pid="$pid" -f /dev/null
	rc=$?
	pid=
	return $rc
}
