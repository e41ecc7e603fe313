# Sourced by the store's integration tests (test_store_*.sh): TAP output
# and a private pvpci-stored on a temporary socket, its log checked when
# it stops.  Every process runs under a time limit; the server is waited
# for, never slept on.
set -u
src=${PVPCI_SRC:?}
bin=${PVPCI_BIN:?}
tmp=$(mktemp -d)
pid=
n=0
fails=0
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { d=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$d"; else notok "$d" "$(head -5 "$tmp/out")"; fi; }
# fails COMMAND...: succeeds when the command fails.
fails() { ! "$@"; }
# Numbered TAP from "ok - ..." / "not ok - ..." lines in a file.
tap_from() {
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		"not ok - "*) notok "${l#not ok - }" ;;
		*) echo "# $l" ;;
		esac
	done <"$1"
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
finish() { echo "1..$n"; [ "$fails" -eq 0 ]; }

# Start pvpci-stored at $tmp/sock (domains at $tmp/sock.d/N); it returns
# once it serves.  Clients find it through XENSTORED_PATH.
store_start() {
	rm -f "$tmp/pid"
	if timeout 30 "$bin/pvpci-stored" --background --pidfile "$tmp/pid" --socket "$tmp/sock" \
		"$@" 2>>"$tmp/stored.log"; then
		pid=$(cat "$tmp/pid")
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
	kill "$pid" 2>/dev/null
	if timeout 20 tail --pid="$pid" -f /dev/null && [ ! -e "$tmp/sock" ] &&
		grep -q 'stopping' "$tmp/stored.log" &&
		! grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/stored.log"; then
		ok "pvpci-stored stops cleanly on SIGTERM, its sockets removed"
	else
		notok "pvpci-stored stops cleanly on SIGTERM, its sockets removed" \
			"$(tail -5 "$tmp/stored.log")"
	fi
	pid=
}
# Run as domain N: its socket instead of dom0's (a shell function too).
as_dom() { (XENSTORED_PATH="$tmp/sock.d/$1"; export XENSTORED_PATH; shift; "$@"); }
