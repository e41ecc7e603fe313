# shellcheck shell=bash disable=SC2034,SC2154
# Sourced by the bash scripts that drive pvpcid --store through the
# toolstack verbs with `pvpci front 1 run` as domain 1's pcifront
# (test_toolstack.sh, test_lifecycle.sh, test_recovery.sh), after
# store_lib.sh (and tap_daemon.sh where it runs pvpcid): the checks of
# store keys and of the frontend's output, and the waits on them.  Events are followed through watches and the
# frontend's output FIFO; only a log, which has no event, is polled.

BE1=/local/domain/0/backend/pci/1/0
FE1=/local/domain/1/device/pci/0
BE2=/local/domain/0/backend/pci/2/0
pv() { timeout 30 "$bin/pvpci" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# same DESCRIPTION FILE EXPECTED: the file holds exactly that text.
same() {
	if [ "$(cat "$2")" = "$3" ]; then ok "$1"; else notok "$1" "got:" "$(cat "$2")" "expected:" "$3"; fi
}
# key DESCRIPTION PATH VALUE: the store's PATH reads VALUE.
key() {
	v=$(xenstore-read "$2" 2>&1)
	if [ "$v" = "$3" ]; then ok "$1"; else notok "$1" "$2 = '$v', expected '$3'"; fi
}
# wait_key PATH VALUE...: until PATH reads one of the VALUEs, following its
# watch (10 s at most); the value it read is in $got.
wait_key() {
	local fifo=$tmp/watch.fifo w rc=1 path=$1 v
	shift
	got=
	rm -f "$fifo"
	mkfifo "$fifo"
	timeout 10 xenstore-watch "$path" >"$fifo" 2>/dev/null &
	w=$!
	while read -r _; do
		got=$(xenstore-read "$path" 2>/dev/null)
		for v in "$@"; do [ "$got" = "$v" ] && rc=0; done
		[ "$rc" -eq 0 ] && break
	done <"$fifo"
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	rm -f "$fifo"
	return $rc
}
# wait_log PATTERN [COUNT]: pvpcid's log has COUNT (1) lines matching it
# (a log has no event: 10 s of 20 ms polls).
wait_log() {
	for _ in $(seq 500); do
		[ "$(grep -c -e "$1" "$tmp/daemon.log")" -ge "${2:-1}" ] && return 0
		sleep 0.02
	done
	return 1
}
# untouched DESCRIPTION PATTERN COMMAND...: the command fails (exit 1) in
# less than 5 s saying PATTERN, and the whole store is as it was.
untouched() {
	local d=$1 pat=$2 rc t0 t
	shift 2
	xenstore-ls -f / >"$tmp/before"
	t0=$(ms)
	"$@" >"$tmp/out" 2>&1
	rc=$?
	t=$(($(ms) - t0))
	xenstore-ls -f / >"$tmp/after"
	if [ "$rc" -eq 1 ] && [ "$t" -lt 5000 ] && grep -q "$pat" "$tmp/out" && cmp -s "$tmp/before" "$tmp/after"; then
		ok "$d (${t} ms)"
	else
		notok "$d" "exit $rc in $t ms" "$(cat "$tmp/out")" "$(diff "$tmp/before" "$tmp/after")"
	fi
}
# The whole store, as `xenstore-ls -f` lists it, into a file.
xs_all() { xenstore-ls -f / >"$1"; }
# store_changes BEFORE AFTER: the nodes only one of the two listings has,
# "- node" or "+ node", sorted.
store_changes() {
	comm -3 <(sort "$1") <(sort "$2") | sed -e 's/^\t/+ /' -e 't' -e 's/^/- /'
}
# The toolstack's entry keys of domain 1's device, sorted.
entries() { xenstore-ls -f "$BE1" | grep -E "^$BE1/(dev|key|vdev|vdevfn|state|opts|name)-[0-9]+ = " | sort; }

# The frontend, as domain 1 (`pvpci front 1 run` under timeout: its pid is
# $front_timeout, the frontend's own $front_pid once front_next has read
# its first block); its output comes through a FIFO on fd 3.  $front_args
# (none when unset) go before the domain: --keep-page, say.
front_start() {
	rm -f "$tmp/front.fifo"
	mkfifo "$tmp/front.fifo"
	exec 3<>"$tmp/front.fifo"
	XENSTORED_PATH=$tmp/sock.d/1 timeout "${front_limit:-120}" "$bin/pvpci" front --socket "$dsock" ${front_args:-} 1 run \
		>"$tmp/front.fifo" 2>>"$tmp/front.err" &
	front_timeout=$!
	front_pid=
	bg_pids="$bg_pids $front_timeout"
}
# front_next K: its next block, a line and K functions (10 s a line at
# most), the functions' addresses only (their names come from pci.ids).
front_next() {
	local i line
	: >"$tmp/block"
	for ((i = 0; i <= $1; i++)); do
		IFS= read -r -t 10 line <&3 || return 1
		if [ "$i" -eq 0 ]; then echo "$line"; else echo "${line%% *}"; fi >>"$tmp/block"
	done
	[ -n "$front_pid" ] || front_pid=$(pgrep -P "$front_timeout")
}
# front_sees DESCRIPTION LINE ADDRESS...: the frontend's next block is exactly
# that line (connected, rescanned) and those functions.
front_sees() {
	local d=$1
	shift
	if front_next $(($# - 1)); then
		same "$d" "$tmp/block" "$(printf '%s\n' "$@")"
	else
		notok "$d" "$(cat "$tmp/block")" "$(tail -3 "$tmp/front.err")"
	fi
}
# Stop pvpcid; it must say it stops, and neither it nor the frontend may
# have a sanitizer report.
stop_clean() {
	if stop && grep -q stopping "$tmp/daemon.log"; then ok "pvpcid stops"; else notok "pvpcid stops"; fi
	if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err" 2>/dev/null; then
		notok "no sanitizer report from pvpcid or the frontend" \
			"$(grep -h -A3 -e Sanitizer -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err" | head -8)"
	else
		ok "no sanitizer report from pvpcid or the frontend"
	fi
}
