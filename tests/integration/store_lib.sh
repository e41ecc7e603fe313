# Sourced by the integration tests that need a store (test_store_*.sh):
# tap_lib.sh, and a private pvpci-stored on a temporary socket, its log
# checked when it stops.  Every process runs under a time limit; the
# server is waited for, never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_lib.sh"

# Start pvpci-stored at $tmp/sock (domains at $tmp/sock.d/N); it returns
# once it serves.  Clients find it through XENSTORED_PATH.
store_start() {
	rm -f "$tmp/stored.pid"
	if timeout 30 "$bin/pvpci-stored" --background --pidfile "$tmp/stored.pid" --socket "$tmp/sock" \
		"$@" 2>>"$tmp/stored.log"; then
		store_pid=$(cat "$tmp/stored.pid")
		export XENSTORED_PATH="$tmp/sock"
		ok "pvpci-stored serves at $tmp/sock"
	else
		notok "pvpci-stored serves at $tmp/sock" "$(tail -3 "$tmp/stored.log")"
		finish
		exit 1
	fi
}
# SIGTERM; it must go (bounded wait), cleanly, with no sanitizer report.
store_stop() {
	kill "$store_pid" 2>/dev/null
	if timeout 20 tail --pid="$store_pid" -f /dev/null && [ ! -e "$tmp/sock" ] &&
		grep -q 'stopping' "$tmp/stored.log" &&
		! grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/stored.log"; then
		ok "pvpci-stored stops cleanly on SIGTERM, its sockets removed"
	else
		notok "pvpci-stored stops cleanly on SIGTERM, its sockets removed" \
			"$(tail -5 "$tmp/stored.log")"
	fi
	store_pid=
}
# Run as domain N: its socket instead of dom0's (a shell function too).
as_dom() { (XENSTORED_PATH="$tmp/sock.d/$1"; export XENSTORED_PATH; shift; "$@"); }
