#!/bin/bash
# The life of domain 1's PCI device, end to end: pvpci-stored, pvpcid
# --store, the toolstack verbs and `pvpci front 1 run` as the guest's
# pcifront (its own socket, <store>.d/1).
#  1. Seed 004's sequences with every key of the backend and frontend
#     directories checked at every step (full snapshots, permissions apart,
#     the channel numbers masked) and the states pvpcid went through:
#     two functions attached before the frontend exists, the frontend
#     connects, a third hot-attached, the middle one hot-detached (libxl's
#     renumbering), all detached.
#  2. 200 hot attach/detach cycles under a running frontend, then 50 of
#     first attach + detach of the last: no stale key (the whole store as
#     before), no fd leak, and (ASan, detect_leaks=1) pvpcid exits 0 on
#     SIGTERM with no sanitizer report.
#  3. A frontend killed with -9 mid-reconfiguration, for attach and detach,
#     at Reconfiguring (it never answered) and Reconfigured (it answered,
#     the backend did its part): the verb ends within its --timeout as
#     documented, nothing left behind, the functions restored, and a new
#     frontend connects (it resets the device its dead predecessor left
#     Connected) and the toolstack goes on.
#  4. pvpcid killed with -9 on a fake sysfs tree (never /sys: strace says
#     what it wrote) under a frontend that connects anew (Closing at once):
#     restarted, it restores the saved state over what was scribbled, says
#     Initialised, the frontend reconnects, and the function reads right.
#     (A frontend that keeps its page instead: test_adopt.sh.)
# TAP on stdout; every process under a time limit; events come through
# watches, the verbs' own waits and the frontend's output FIFO; only the
# daemon's log, which has none, is polled.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"
. "$src/tests/integration/fake_sysfs.sh"

cycles=${PVPCI_LIFECYCLES:-200}
cold_cycles=$((cycles / 4))
front_limit=600	# a frontend may live through all the cycles

# pvpcid as a job of this shell, not --background: its exit status is
# ours to see.  $dpid is its timeout; pid_of sets $pid once it serves.
fg_start() {
	timeout 600 "$bin/pvpcid" --socket "$dsock" --state-dir "$tmp/state" "$@" 2>>"$tmp/daemon.log" &
	dpid=$!
	bg_pids="$bg_pids $dpid"
}
pid_of() { [ -n "$pid" ] || pid=$(pgrep -P "$dpid"); }

# The log from here on: mark, then logged_since.  Lines without the
# program's name and the device's path; channel numbers as N.
mark() { log_mark=$(wc -l <"$tmp/daemon.log"); }
logged_since() {
	tail -n +$((log_mark + 1)) "$tmp/daemon.log" | sed -e 's/^pvpcid: //' -e "s|^$BE1: ||" \
		-e 's/(pci-op-ref [0-9]*, event-channel [0-9]*)/(pci-op-ref N, event-channel N)/'
}
# steplog DESCRIPTION EXPECTED: what pvpcid logged since the mark, once it
# has that many lines (10 s of polls at most: the verb may return a
# moment before the daemon's last line).
steplog() {
	local want
	want=$(printf '%s\n' "$2" | wc -l)
	for _ in $(seq 500); do [ "$(logged_since | wc -l)" -ge "$want" ] && break; sleep 0.02; done
	logged_since >"$tmp/steplog"
	same "$1" "$tmp/steplog" "$2"
}

# snap DESCRIPTION EXPECTED: every node of the backend directory
# (/local/domain/0/backend/pci/1) and of the frontend's
# (/local/domain/1/device/pci) as `xenstore-ls -f` lists them, sorted,
# pci-op-ref and event-channel (a new grant each connection) as N, is
# EXPECTED (sorted too); and every node's permissions are its side's:
# dom0's with domain 1 reading, domain 1's with dom0 reading.
snap() {
	{ xenstore-ls -fp /local/domain/0/backend/pci/1 2>/dev/null
	  xenstore-ls -fp /local/domain/1/device/pci 2>/dev/null; } >"$tmp/tree"
	sed -E -e 's/ +\([^)]*\)$//' -e 's/^(.*\/(pci-op-ref|event-channel)) = "[0-9]+"$/\1 = "N"/' \
		"$tmp/tree" | sort >"$tmp/snap"
	grep -v -e '^/local/domain/0/.*(n0,r1)$' -e '^/local/domain/1/.*(n1,r0)$' "$tmp/tree" >"$tmp/perms"
	if [ -s "$tmp/perms" ]; then
		notok "$1" "permissions not their side's:" "$(cat "$tmp/perms")"
	else
		same "$1" "$tmp/snap" "$(printf '%s\n' "$2" | sed '/^$/d' | sort)"
	fi
}
# The expected nodes.  be STATE NUM_DEVS: the backend directory's own;
# entry N BDF VSLOT [permissive] [VDEVFN]: libxl's entry N and pvpcid's
# vdev-N; fe STATE [connected]: the frontend directory's, with what a
# connected frontend published.
be() {
	echo "/local/domain/0/backend/pci/1/0 = \"\""
	for kv in "frontend=$FE1" frontend-id=1 online=1 "state=$1" domain=Domain-1 "num_devs=$2" \
		root-0=0000:00 root_num=1; do
		echo "$BE1/${kv%%=*} = \"${kv#*=}\""
	done
}
entry() {
	echo "$BE1/key-$1 = \"$2\""
	echo "$BE1/dev-$1 = \"$2\""
	echo "$BE1/vdev-$1 = \"0000:00:$3.00\""
	echo "$BE1/opts-$1 = \"msitranslate=0,power_mgmt=0,permissive=${4:-0},rdm_policy=strict\""
	echo "$BE1/state-$1 = \"3\""
	[ -z "${5:-}" ] || echo "$BE1/vdevfn-$1 = \"$5\""
}
fe() {
	echo "/local/domain/1/device/pci/0 = \"\""
	echo "$FE1/backend = \"$BE1\""
	echo "$FE1/backend-id = \"0\""
	echo "$FE1/state = \"$1\""
	[ -z "${2:-}" ] || printf '%s\n' "$FE1/pci-op-ref = \"N\"" "$FE1/event-channel = \"N\"" "$FE1/magic = \"7\""
}
# The frontend exits with this status (10 s at most).
front_gone() {
	local rc
	timeout 10 tail --pid="$front_pid" -f /dev/null
	wait "$front_timeout"
	rc=$?
	if [ "$rc" -eq "$2" ]; then ok "$1"; else notok "$1" "exit $rc" "$(tail -3 "$tmp/front.err")"; fi
}
# count PATTERN: lines of pvpcid's log matching it (for wait_log's COUNT).
count() { grep -c -e "$1" "$tmp/daemon.log"; }
# counted DESCRIPTION PATTERN COUNT: the log has exactly COUNT such lines
# (once it has them, 10 s at most).
counted() {
	wait_log "$2" "$3"
	if [ "$(count "$2")" -eq "$3" ]; then ok "$1"; else
		notok "$1" "$(count "$2") lines match '$2', not $3" "$(tail -5 "$tmp/daemon.log")"; fi
}
sanitizer() { grep -l -e 'Sanitizer' -e 'runtime error' "$@" 2>/dev/null; }

cat "$src"/fixtures/virtio-*.lspci >"$tmp/host.lspci"	# 00:01.0 ... 00:05.0
store_start
check "pvpci domain-introduce 1: what xl create writes" pv domain-introduce 1
check "assignable-add 00:01.0 ... 00:05.0" sh -c \
	"for f in 1 2 3 4 5; do timeout 30 '$bin/pvpci' assignable-add 00:0\$f.0 || exit 1; done"
xs_all "$tmp/store.start"
fg_start --host "sim:$tmp/host.lspci" --store "$tmp/sock"

# ---- 1. seed 004's sequences, every key at every step ----
mark
check "attach 1 00:03.0: the domain's first, no frontend yet (pvpcid waited for)" pv attach 1 00:03.0
pid_of
wait_key "$BE1/state" 3
snap "the device made, entry 0 exported: backend Initialised, frontend Initialising" \
	"$(be 3 1; entry 0 0000:00:03.0 00; fe 1)"
steplog "pvpcid: probe, InitWait, export, Initialised" "new PCI device for domain 1
backend InitWait
frontend Initialising
0000:00:03.0: restored 10 registers
0000:00:03.0: vpci: assign to virtual slot 0
0000:00:03.0: registering for 1
backend Initialised"

mark
check "attach 1 00:04.0@7: the second, still no frontend (libxl's starting: no Reconfiguring)" \
	pv attach 1 00:04.0@7
snap "entry 1 with vdevfn-1 38, at slot 7, Initialised; the backend stays Initialised" \
	"$(be 3 2; entry 0 0000:00:03.0 00; entry 1 0000:00:04.0 07 0 38; fe 1)"
steplog "pvpcid: entry 1 attached as it sets up" "attaching dev-1
0000:00:04.0: restored 10 registers
0000:00:04.0: vpci: assign to virtual slot 7
0000:00:04.0: registering for 1"

mark
front_start
front_sees "the frontend connects and finds both, at 00.0 and 07.0" connected 0000:00:00.0 0000:00:07.0
snap "both Connected, pci-op-ref, event-channel and magic 7 published" \
	"$(be 4 2; entry 0 0000:00:03.0 00; entry 1 0000:00:04.0 07 0 38; fe 4 connected)"
steplog "pvpcid: Initialised meets Initialised, Connected" "frontend Initialised
domain 1: frontend connected (pci-op-ref N, event-channel N)
backend Connected
frontend Connected"

mark
check "attach 1 00:01.0,permissive=1: hot" pv attach 1 00:01.0,permissive=1
front_sees "the frontend rescanned: three" rescanned 0000:00:00.0 0000:00:01.0 0000:00:07.0
snap "entry 2, permissive, at slot 1; Connected again" \
	"$(be 4 3; entry 0 0000:00:03.0 00; entry 1 0000:00:04.0 07 0 38; entry 2 0000:00:01.0 01 1; fe 4 connected)"
steplog "pvpcid: seed 004's attach (steps 4 and 6)" "frontend Reconfiguring
attaching dev-2
0000:00:01.0: restored 10 registers
0000:00:01.0: vpci: assign to virtual slot 1
0000:00:01.0: registering for 1
backend Reconfigured
frontend Connected
backend Connected"

mark
check "detach 1 00:04.0: the middle one, hot" pv detach 1 00:04.0
front_sees "the frontend rescanned: 07.0 gone" rescanned 0000:00:00.0 0000:00:01.0
snap "entry 2 moved down to 1 (vdevfn-1 gone with its entry), num_devs 2" \
	"$(be 4 2; entry 0 0000:00:03.0 00; entry 1 0000:00:01.0 01 1; fe 4 connected)"
steplog "pvpcid: seed 004's detach (steps 4 and 6), the function restored" "frontend Reconfiguring
detaching dev-1
0000:00:04.0: restored 10 registers
backend Reconfigured
frontend Connected
backend Connected"
check "00:04.0 is nobody's" fails xenstore-exists /libxl/pci/0000-00-04-0/domid

check "detach 1 00:03.0: the first" pv detach 1 00:03.0
front_sees "the frontend rescanned: 01.0 left" rescanned 0000:00:01.0
snap "entry 1 moved down to 0, num_devs 1" "$(be 4 1; entry 0 0000:00:01.0 01 1; fe 4 connected)"
mark
check "detach 1 00:01.0: the last" pv detach 1 00:01.0
front_sees "the frontend rescanned: nothing" rescanned
if IFS= read -r -t 10 line <&3 && [ "$line" = "backend closing" ]; then
	ok "the frontend saw the device go"
else
	notok "the frontend saw the device go" "${line:-}"
fi
front_gone "... and exited 0" 0
snap "both directories gone" ""
wait_log "$BE1: released"
logged_since | grep -v -e '^domain 1: frontend \(disconnected\|went away\)$' >"$tmp/steplog"
same "pvpcid: the last detached, then the device released" "$tmp/steplog" "frontend Reconfiguring
detaching dev-0
0000:00:01.0: restored 10 registers
backend Reconfigured
frontend Connected
backend Connected
released"
xs_all "$tmp/store.now"
store_changes "$tmp/store.start" "$tmp/store.now" >"$tmp/changes"
same "the whole store as before the first attach, but /local/domain/1/device: libxl's path cleanup takes it with the last device" \
	"$tmp/changes" '- /local/domain/1/device = ""'

# ---- 2. cycles: no stale key, no leak ----
check "attach 1 00:03.0, a frontend: the device the cycles run under" pv attach 1 00:03.0
front_start
front_sees "the frontend connects" connected 0000:00:00.0
xs_all "$tmp/store.hot"
fds() { set -- "/proc/$1/fd/"*; echo $#; }
fds_d=$(fds "$pid")
fds_s=$(fds "$store_pid")
t0=$(ms)
bad=
for ((i = 1; i <= cycles; i++)); do
	if ! pv attach 1 00:02.0 >"$tmp/out" 2>&1; then bad="attach: $(cat "$tmp/out")"; break; fi
	if ! front_next 2 || [ "$(tr '\n' ' ' <"$tmp/block")" != "rescanned 0000:00:00.0 0000:00:01.0 " ]; then
		bad="after the attach the frontend saw: $(cat "$tmp/block")"
		break
	fi
	if ! pv detach 1 00:02.0 >"$tmp/out" 2>&1; then bad="detach: $(cat "$tmp/out")"; break; fi
	if ! front_next 1 || [ "$(tr '\n' ' ' <"$tmp/block")" != "rescanned 0000:00:00.0 " ]; then
		bad="after the detach the frontend saw: $(cat "$tmp/block")"
		break
	fi
done
if [ -z "$bad" ]; then
	ok "$cycles hot attach + detach cycles of 00:02.0, the frontend rescanning each ($(($(ms) - t0)) ms)"
else
	notok "$cycles hot attach + detach cycles: cycle $i failed" "$bad"
fi
xs_all "$tmp/store.now"
if cmp -s "$tmp/store.hot" "$tmp/store.now"; then ok "no stale key: the whole store as before the cycles"; else
	notok "no stale key: the whole store as before the cycles" "$(diff "$tmp/store.hot" "$tmp/store.now")"; fi
# (The store closes a verb's connection when it sees it go: no event of
# ours, 2 s of polls at most.)
# Fewer than before is no leak: a verb's connection the store had not seen
# go yet when the count before was taken.
for _ in $(seq 100); do
	[ "$(fds "$pid")" -le "$fds_d" ] && [ "$(fds "$store_pid")" -le "$fds_s" ] && break
	sleep 0.02
done
if [ "$(fds "$pid")" -le "$fds_d" ] && [ "$(fds "$store_pid")" -le "$fds_s" ]; then
	ok "no fd leak: pvpcid holds $fds_d, pvpci-stored $fds_s, as before"
else
	notok "no fd leak" "pvpcid $fds_d -> $(fds "$pid"), pvpci-stored $fds_s -> $(fds "$store_pid")"
fi
released=$(count "$BE1: released")
check "detach the last: the frontend goes" pv detach 1 00:03.0
front_gone "the frontend exited 0" 0
wait_log "$BE1: released" $((released += 1))
xs_all "$tmp/store.cold"
t0=$(ms)
bad=
for ((i = 1; i <= cold_cycles; i++)); do
	pv attach 1 00:05.0 >"$tmp/out" 2>&1 || { bad="attach: $(cat "$tmp/out")"; break; }
	pv detach 1 00:05.0 >"$tmp/out" 2>&1 || { bad="detach: $(cat "$tmp/out")"; break; }
done
if [ -z "$bad" ]; then
	ok "$cold_cycles cycles of first attach + detach of the last, no frontend ($(($(ms) - t0)) ms)"
else
	notok "$cold_cycles cycles of first attach + detach of the last: cycle $i failed" "$bad"
fi
wait_log "$BE1: released" $((released + cold_cycles))
xs_all "$tmp/store.now"
if cmp -s "$tmp/store.cold" "$tmp/store.now"; then ok "no stale key: the whole store as before them"; else
	notok "no stale key: the whole store as before them" "$(diff "$tmp/store.cold" "$tmp/store.now")"; fi
# The toolstack removes the device and makes it again before pvpcid saw
# it go (pvpcid stopped meanwhile): a new device all the same.
check "attach 1 00:05.0" pv attach 1 00:05.0
released=$(count "$BE1: released")
kill -STOP "$pid"
check "pvpcid stopped: detach 1 00:05.0 (no frontend: at once)" pv detach 1 00:05.0
pv attach --timeout 5000 1 00:04.0 >"$tmp/out" 2>&1 &
apid=$!
wait_key "$BE1/state" 1
kill -CONT "$pid"
wait "$apid"
rc=$?
if [ "$rc" -eq 0 ] && wait_log "$BE1: released" $((released + 1)) &&
	[ "$(xenstore-read "$BE1/vdev-0")" = 0000:00:00.00 ]; then
	ok "... attach 1 00:04.0 meanwhile: pvpcid lets the old device go and probes the new one"
else
	notok "... attach 1 00:04.0 meanwhile: pvpcid lets the old device go and probes the new one" "exit $rc" \
		"$(cat "$tmp/out")" "$(tail -5 "$tmp/daemon.log")"
fi
check "detach 1 00:04.0" pv detach 1 00:04.0
if xenstore-ls -f /libxl/pci | grep -q '/domid = '; then
	notok "no /libxl/pci node has a domid" "$(xenstore-ls -f /libxl/pci | grep domid)"
else
	ok "no /libxl/pci node has a domid"
fi

# ---- 3. the frontend killed mid-reconfiguration ----
check "attach 1 00:03.0, a frontend" pv attach 1 00:03.0
front_start
front_sees "the frontend connects" connected 0000:00:00.0

# vanish VERB BDF AT: the frontend, stopped, killed with -9 once the
# backend is at AT (7: it never answered; 8: it answered Reconfiguring,
# written here as pcifront writes it, and the backend did its part) while
# `pvpci VERB --timeout 1500 1 BDF` waits.  $vrc, $vms, $tmp/vout: how it
# ended; $tmp/changes: what it changed in the store (store_changes).
vanish() {
	local vpid
	xs_all "$tmp/before"
	kill -STOP "$front_pid"
	t0=$(ms)
	pv "$1" --timeout 1500 1 "$2" >"$tmp/vout" 2>&1 &
	vpid=$!
	if ! wait_key "$BE1/state" 7; then
		notok "$1 $2: the backend Reconfiguring" "$(xenstore-read "$BE1/state")"
	elif [ "$3" = 8 ] && ! { XENSTORED_PATH=$tmp/sock.d/1 xenstore-write device/pci/0/state 7 &&
		wait_key "$BE1/state" 8; }; then
		notok "$1 $2: the backend Reconfigured" "$(xenstore-read "$BE1/state")"
	fi
	kill -9 "$front_pid"
	wait "$front_timeout" 2>/dev/null
	wait "$vpid"
	vrc=$?
	vms=$(($(ms) - t0))
	xs_all "$tmp/after"
	store_changes "$tmp/before" "$tmp/after" >"$tmp/changes"
}
# ended DESCRIPTION RC PATTERN [CHANGES]: the verb exited RC within its
# --timeout (1 s to spare) saying PATTERN, and changed exactly CHANGES in
# the store (when given).
ended() {
	if [ "$vrc" -eq "$2" ] && [ "$vms" -lt 2500 ] && grep -q -e "$3" "$tmp/vout" &&
		{ [ $# -lt 4 ] || [ "$(cat "$tmp/changes")" = "$4" ]; }; then
		ok "$1 ($vms ms, --timeout 1500)"
	else
		notok "$1" "exit $vrc in $vms ms" "$(cat "$tmp/vout")" "$(cat "$tmp/changes")"
	fi
}
# Then: pvpcid saw the frontend go and reset and restored the function the
# domain kept (00:03.0), as for any guest that goes; and a new frontend
# connects, resetting the device its dead predecessor left Connected,
# and finds FUNCTIONS.
again() {
	if wait_log "domain 1: frontend went away" $((gone += 1)) &&
		wait_log "0000:00:03.0: restored 10 registers after a function reset" $((resets += 1)); then
		ok "pvpcid saw the frontend go; 00:03.0 reset and restored"
	else
		notok "pvpcid saw the frontend go; 00:03.0 reset and restored" "$(tail -5 "$tmp/daemon.log")"
	fi
	mark
	front_start
	front_sees "a new frontend connects, resetting the device first, and finds ${*:-nothing}" connected "$@"
	steplog "... pvpcid: Closing, Closed, then a new connection" "frontend Closing
backend Closing
frontend Closed
backend Closed
frontend Initialised
backend Initialised
domain 1: frontend connected (pci-op-ref N, event-channel N)
backend Connected
frontend Connected"
}

gone=$(count "frontend went away")
resets=$(count "0000:00:03.0: restored 10 registers after a function reset")
exported=$(count "0000:00:02.0 exported")
vanish attach 00:02.0 7
ended "hot attach, the frontend killed at Reconfiguring: fails, the store exactly as before" 1 \
	"nothing left behind" ""
counted "... pvpcid never exported it" "0000:00:02.0 exported" "$exported"
again 0000:00:00.0
check "the toolstack goes on: attach 1 00:02.0" pv attach 1 00:02.0
front_sees "the frontend rescanned: both" rescanned 0000:00:00.0 0000:00:01.0

vanish detach 00:02.0 7
ended "hot detach, the frontend killed at Reconfiguring: fails, the store exactly as before" 1 \
	"restored as it was" ""
again 0000:00:00.0 0000:00:01.0

detached=$(count "0000:00:02.0: restored 10 registers$")
vanish detach 00:02.0 8
ended "hot detach, the frontend killed at Reconfigured: the backend let it go, so removed, exit 0 with a warning" 0 \
	"warning: .*the backend let 0000:00:02.0 go: removing it"
snap "... only entry 0 left, the backend Connected, the frontend's last word Reconfiguring" \
	"$(be 4 1; entry 0 0000:00:03.0 00; fe 7 connected)"
check "... 00:02.0 is nobody's" fails xenstore-exists /libxl/pci/0000-00-02-0/domid
counted "... pvpcid detached it and restored its config space" "0000:00:02.0: restored 10 registers$" \
	$((detached + 1))
again 0000:00:00.0

check "attach 1 00:02.0 again" pv attach 1 00:02.0
front_sees "the frontend rescanned: both" rescanned 0000:00:00.0 0000:00:01.0
# Earlier cycles may have released 00:05.0 the same way (a detach of the
# last function seen between the toolstack's two writes): count from here.
released05=$(count "$BE1: 0000:00:05.0 is no longer listed: released")
vanish attach 00:05.0 8
ended "hot attach, the frontend killed at Reconfigured: fails, the store as before but the frontend's last word" 1 \
	"nothing left behind" "$(printf '%s\n' "- $FE1/state = \"4\"" "+ $FE1/state = \"7\"")"
counted "... pvpcid released what it had exported" "$BE1: 0000:00:05.0 is no longer listed: released" \
	$((released05 + 1))
key "... and stays Connected (no Reconfigured for a frontend that is gone)" "$BE1/state" 4
again 0000:00:00.0 0000:00:01.0

check "detach 1 00:02.0" pv detach 1 00:02.0
front_sees "the frontend rescanned" rescanned 0000:00:00.0
released=$(count "$BE1: released")
check "detach 1 00:03.0, the last" pv detach 1 00:03.0
front_next 0
IFS= read -r -t 10 line <&3
front_gone "the frontend exited 0" 0
wait_log "$BE1: released" $((released + 1))

# ---- the end of pvpcid's run: SIGTERM ----
pid_of
kill "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
wait "$dpid"
rc=$?
pid=
if [ "$rc" -eq 0 ] && grep -q "Terminated: restoring every function and stopping" "$tmp/daemon.log"; then
	ok "pvpcid exits 0 on SIGTERM"
else
	notok "pvpcid exits 0 on SIGTERM" "exit $rc" "$(tail -5 "$tmp/daemon.log")"
fi
if grep -qa __asan_init "$bin/pvpcid"; then
	echo "# pvpcid is built with AddressSanitizer (ASAN_OPTIONS=${ASAN_OPTIONS:-})"
fi
if [ -n "$(sanitizer "$tmp/daemon.log" "$tmp/front.err")" ]; then
	notok "no LeakSanitizer / AddressSanitizer / UBSan report from pvpcid or the frontends" \
		"$(grep -h -A8 -e Sanitizer -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err" | head -20)"
else
	ok "no LeakSanitizer / AddressSanitizer / UBSan report from pvpcid or the frontends"
fi
xs_all "$tmp/store.now"
store_changes "$tmp/store.start" "$tmp/store.now" >"$tmp/changes"
same "the whole store as at the start (but /local/domain/1/device)" "$tmp/changes" '- /local/domain/1/device = ""'

# ---- 4. pvpcid killed with -9 and restarted, on a fake sysfs tree ----
root=$tmp/sys
bdf=0000:03:00.0
fake_endpoint "$root" "$bdf"
state=$tmp/state.sysfs
mkdir -p "$state"
dsock=$tmp/pvpcid2.sock
check "pvpci capture of $bdf before the attach" sh -c "timeout 30 '$bin/pvpci' capture --host 'sysfs:$root' $bdf >'$tmp/cap.before'"
cp "$cfg" "$tmp/cfg.before"
# pvpcid under strace, which follows it into the background: every file it
# creates, opens for writing or writes, with the paths of the fds.  (Leak
# checking does not work under ptrace.)
traced_start() {
	rm -f "$tmp/pid"
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 300 strace -f -qq -y -o "$1" \
		-e trace=open,openat,creat,truncate,ftruncate,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,pwrite64,pwritev,pwritev2 \
		"$bin/pvpcid" --background --pidfile "$tmp/pid" --socket "$dsock" --state-dir "$state" \
		--host "sysfs:$root,writes=1" --store "$tmp/sock" --verbose-requests 2>>"$tmp/daemon.log" &
	tpid=$!
	bg_pids="$bg_pids $tpid"
}
one_shot() { XENSTORED_PATH=$tmp/sock.d/1 timeout 30 "$bin/pvpci" front --socket "$dsock" 1 "$@"; }

# The pidfile: its parent writes it once pvpcid serves, and is strace's
# to wait for, not ours (10 s of polls at most).
pidfile() {
	for _ in $(seq 500); do [ -s "$tmp/pid" ] && break; sleep 0.02; done
	pid=$(cat "$tmp/pid")
}
# closed K: the guest went (its function reset and restored: the K-th
# time) and the backend is Closed.
closed() {
	wait_log "$bdf: restored 18 registers after a function reset" "$1" && wait_key "$BE1/state" 6
}

traced_start "$tmp/strace.1"
check "assignable-add $bdf" pv assignable-add "$bdf"
check "attach 1 $bdf (--host sysfs:ROOT,writes=1)" pv attach 1 "$bdf"
pidfile
file=$state/$bdf.state
if [ "$(grep -c '^reg ' "$file" 2>/dev/null)" = 18 ] && [ -z "$(differing "$file")" ]; then
	ok "binding saved its 18 registers in $bdf.state"
else
	notok "binding saved its 18 registers in $bdf.state" "$(cat "$file")"
fi
front_start
front_sees "the frontend connects" connected 0000:00:00.0
resets=0
kill "$front_pid"
front_gone "the frontend, SIGTERM, closes and exits 0" 0
closed $((resets += 1))
# `front run` takes no requests: one-shot frontends write, each through
# xenbus anew, from the Closed the last one left.
for w in "0x0c 1 0x20" "0x0d 1 0x80" "0x58 2 0x2010" "0x10 4 0xffffffff" "0x04 2 0x0147"; do
	# shellcheck disable=SC2086
	if one_shot write 00:00.0 $w >"$tmp/out" 2>&1 && closed $((resets += 1)); then
		ok "a frontend writes $w through the protocol and closes"
	else
		notok "a frontend writes $w through the protocol and closes" "$(cat "$tmp/out")"
	fi
done
if grep -q 'pwrite64([0-9]*<.*/config>, " ", 1, 12) = 1' "$tmp/strace.1" &&
	grep -q 'pwrite64([0-9]*<.*/config>, "\\200", 1, 13) = 1' "$tmp/strace.1"; then
	ok "the guest's cache line and latency writes reached the device's config file"
else
	notok "the guest's cache line and latency writes reached the device's config file"
fi
differing "$file" >"$tmp/diff"
if [ ! -s "$tmp/diff" ] && [ "$(cat "$dev/reset")" = 1 ]; then
	ok "each time its guest went: reset (sysfs reset) and restored"
else
	notok "each time its guest went: reset (sysfs reset) and restored" "$(cat "$tmp/diff")"
fi
front_start
front_sees "front run connects again" connected 0000:00:00.0
scribble
n_diff=$(differing "$file" | wc -l)
kill -9 "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
wait "$tpid"
# It connects anew (no --keep-page): Closing first, before pvpcid is back,
# which then finds a frontend that left (not one to take over as it is).
if IFS= read -r -t 10 line <&3 && [ "$line" = "backend gone: reconnecting" ] && wait_key "$FE1/state" 5; then
	ok "pvpcid killed with -9 under a connected frontend, $n_diff registers scribbled over: the frontend waits, Closing"
else
	notok "pvpcid killed with -9: the frontend waits" "${line:-}" "$(tail -3 "$tmp/front.err")"
fi
if [ -f "$file" ] && [ "$(differing "$file" | wc -l)" -eq "$n_diff" ] && [ "$n_diff" -ge 10 ]; then
	ok "nothing restored them: the state file left behind, the registers as scribbled"
else
	notok "nothing restored them" "$(ls "$state")" "$(differing "$file")"
fi
mark
traced_start "$tmp/strace.2"
front_sees "restarted, pvpcid picks the device up and the frontend reconnects and rescans" rescanned 0000:00:00.0
pidfile
differing "$file" >"$tmp/diff"
if [ ! -s "$tmp/diff" ]; then ok "every register of the state file is back to its saved bits"; else
	notok "every register of the state file is back to its saved bits" "$(cat "$tmp/diff")"; fi
timeout 30 "$bin/pvpci" capture --host "sysfs:$root" "$bdf" >"$tmp/cap.after"
if cmp -s "$tmp/cap.before" "$tmp/cap.after" && cmp -s "$tmp/cfg.before" "$cfg"; then
	ok "pvpci capture as before the attach, every byte of the config file too"
else
	notok "pvpci capture as before the attach" "$(diff "$tmp/cap.before" "$tmp/cap.after")" \
		"$(cmp -l "$tmp/cfg.before" "$cfg" | head -5)"
fi
logged_since | grep -v -e ' request ' -e '^domain 1 granted' >"$tmp/steplog"
if awk 'BEGIN { w[1] = "^0000:03:00.0: restored 18 registers$"; w[2] = "^0000:03:00.0: registering for 1$"
		w[3] = "^picked up from an earlier run: 1 function$"; w[4] = "^backend Initialised$"
		w[5] = "^frontend Initialised$"; w[6] = "^domain 1: frontend connected"; w[7] = "^backend Connected$"; k = 1 }
	k <= 7 && $0 ~ w[k] { k++ } END { exit k != 8 }' "$tmp/steplog"; then
	ok "pvpcid: restored from the state file, exported, picked up, Initialised; the frontend Initialised; Connected"
else
	notok "pvpcid: restored, exported, picked up, Initialised, Connected" "$(cat "$tmp/steplog")"
fi
snap "the device as before pvpcid died, both Connected" "$(be 4 1; entry 0 $bdf 00; fe 4 connected)"
resets=0
kill "$front_pid"
front_gone "the frontend closes" 0
closed $((resets += 1))
one_shot read 00:00.0 0 4 >"$tmp/out" 2>&1
same "a read through a frontend: vendor 1234, device 5678" "$tmp/out" 0x56781234
closed $((resets += 1))
one_shot read 00:00.0 0x2c 4 >"$tmp/out" 2>&1
same "... subsystem 1af4:abcd" "$tmp/out" 0xabcd1af4
closed $((resets += 1))
released=$(count "$BE1: released")
check "detach 1 $bdf (no frontend connected: at once)" pv detach 1 "$bdf"
check "assignable-remove $bdf" pv assignable-remove "$bdf"
wait_log "$BE1: released" $((released + 1))
if [ ! -e "$file" ] && cmp -s "$tmp/cfg.before" "$cfg"; then
	ok "released: its state file gone, its config file as before the attach"
else
	notok "released: its state file gone, its config file as before" "$(ls "$state")" \
		"$(cmp -l "$tmp/cfg.before" "$cfg" | head -5)"
fi
kill "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
wait "$tpid"
pid=
grep -h -E 'O_WRONLY|O_RDWR|O_CREAT|^[0-9]+ +(creat|truncate|ftruncate|rename|renameat2?|unlink|unlinkat|mkdir|mkdirat|pwrite64|pwritev2?)\(' \
	"$tmp/strace.1" "$tmp/strace.2" | grep -v ' = -1 ' >"$tmp/writes"
if grep -q '/config>' "$tmp/writes" && ! grep -q -e '"/sys' -e '</sys' "$tmp/writes" &&
	! grep -v -e "\"$tmp/" -e "<$tmp/" "$tmp/writes" | grep -q .; then
	ok "strace: both pvpcids wrote only under $tmp (the fake tree, the state dir, pidfile and socket), nothing under /sys"
else
	notok "strace: both pvpcids wrote only under $tmp" "$(grep -e /sys "$tmp/writes" | head -5)" \
		"$(grep -v -e "\"$tmp/" -e "<$tmp/" "$tmp/writes" | head -5)"
fi
xs_all "$tmp/store.now"
store_changes "$tmp/store.start" "$tmp/store.now" >"$tmp/changes"
same "the whole store as at the start (but /local/domain/1/device)" "$tmp/changes" '- /local/domain/1/device = ""'

store_stop
finish
