# shellcheck shell=sh disable=SC2034
# Sourced by the integration scripts, directly or through store_lib.sh and
# tap_daemon.sh (both may be): TAP lines and counts, a private directory
# removed at exit, and the background processes still running then
# ($pid, $store_pid and the list $bg_pids) killed.  Sourcing it twice is
# harmless.  End a script with finish (tap_done is the same).
[ -n "${tap_lib_sourced:-}" ] && return 0
tap_lib_sourced=1
src=${PVPCI_SRC:?}
bin=${PVPCI_BIN:?}
tmp=$(mktemp -d)
pid=
store_pid=
bg_pids=
n=0
fails=0
cleanup() {
	for p in $pid $store_pid $bg_pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# Every line of every diagnostic behind "# ", so TAP readers take it as one.
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
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
tap_done() { finish; }
