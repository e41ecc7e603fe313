# shellcheck shell=sh disable=SC2034
# Sourced by the integration scripts that run pvpcid: tap_lib.sh, and
# pvpcid started in the background and stopped with a bounded wait, never
# slept on.  End a script with tap_done.
. "${PVPCI_SRC:?}/tests/integration/tap_lib.sh"
# pvpcid's socket; a script that runs a store too sets another first.
dsock=${dsock:-$tmp/sock}

# Start pvpcid with ARGS on $dsock, its stderr added to $tmp/daemon.log;
# it returns once it serves.
start() {
	rm -f "$tmp/pid" "$dsock"
	mkdir -p "$tmp/state"
	timeout 30 "$bin/pvpcid" --background --pidfile "$tmp/pid" --socket "$dsock" \
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
