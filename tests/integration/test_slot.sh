#!/bin/bash
# The slot topology through the store: pvpci-stored, pvpcid --store --mode
# slot on a sim host of 65 functions (copies of the virtio-net fixture,
# eight functions a device), the toolstack verbs, and `pvpci front 1 run`
# as domain 1's pcifront.  Both roots published; each function alone at
# function 0, 0000:00 then 0000:01, hot-attached one by one until both
# buses are full (64); the 65th refused with pciback's message in the
# backend's error node, the device and its 64 functions kept; two
# detached (one on each bus), the frontend closed and connected anew and
# pvpcid killed with -9 and restarted (no function moved), the holes
# filled again in order, and a full bus refused again.
# TAP on stdout; every process under a time limit; events come through
# watches, the verbs' own waits and the frontend's output FIFO; only the
# daemon's log, which has none, is polled.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"
front_limit=300
ERR1=/local/domain/0/error/backend/pci/1/0/error
FULL="No more space on root virtual PCI bus"

# host I: the I-th function of the sim host; guest I: the I-th slot.
host() { printf '0000:%02x:00.%d' $((0x10 + $1 / 8)) $(($1 % 8)); }
guest() { printf '0000:%02x:%02x.0' $(($1 / 32)) $(($1 % 32)); }
# guests I...: their addresses, a line each.
guests() { for i in "$@"; do guest "$i"; echo; done; }

hide=
for i in $(seq 0 64); do
	sed "1s/^[^ ]*/$(host "$i")/" "$src/fixtures/virtio-net.lspci"
	hide="$hide($(host "$i"))"
done >"$tmp/host.lspci"
store_start
check "domain 1 introduced" pv domain-introduce --name guest1 1
if start --host "sim:$tmp/host.lspci" --store "$tmp/sock" --mode slot --hide "$hide"; then
	ok "pvpcid --store --mode slot serves, the 65 functions assignable (--hide)"
else
	notok "pvpcid --store --mode slot serves" "$(cat "$tmp/daemon.log")"
	finish
	exit 1
fi

# ---- both roots, one function per slot ----
check "attach 1 $(host 0): the first" pv attach 1 "$(host 0)"
key "root-0 is bus 0" "$BE1/root-0" 0000:00
key "root-1 is bus 1, published before anything is there" "$BE1/root-1" 0000:01
key "root_num 2" "$BE1/root_num" 2
key "vdev-0: slot 0, function 0" "$BE1/vdev-0" 0000:00:00.00
front_start
front_sees "the frontend connects and finds it at 00:00.0" connected 0000:00:00.0
check "attach 1 $(host 1): function 1 of the same device, hot" pv attach 1 "$(host 1)"
front_sees "the frontend rescanned: function 1 alone in slot 1, as function 0" rescanned \
	0000:00:00.0 0000:00:01.0
key "vdev-1 0000:00:01.00" "$BE1/vdev-1" 0000:00:01.00

# ---- until both buses are full ----
t0=$(ms)
bad=
for ((i = 2; i < 64; i++)); do
	if ! pv attach 1 "$(host "$i")" >"$tmp/out" 2>&1; then bad="attach $(host "$i"): $(cat "$tmp/out")"; break; fi
	if ! front_next $((i + 1)) || [ "$(tail -1 "$tmp/block")" != "$(guest "$i")" ]; then
		bad="after attaching $(host "$i") the frontend saw: $(tail -3 "$tmp/block")"
		break
	fi
done
if [ -z "$bad" ]; then ok "62 more hot attached, each at the next slot, the frontend rescanning ($(($(ms) - t0)) ms)"; else
	notok "62 more hot attached" "$bad"; fi
same "the frontend's last scan: bus 0's 32 slots, then bus 1's" "$tmp/block" \
	"$(echo rescanned; guests $(seq 0 63))"
key "vdev-32: bus 1, slot 0" "$BE1/vdev-32" 0000:01:00.00
key "vdev-63: bus 1, slot 1f" "$BE1/vdev-63" 0000:01:1f.00
key "root_num still 2" "$BE1/root_num" 2

# ---- the 65th: refused alone ----
xenstore-ls -f "$BE1" >"$tmp/be.before"
pv attach 1 "$(host 64)" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "the backend refused it: 12 $FULL; nothing left behind" "$tmp/out"; then
	ok "attach of a 65th: exit 1, the backend's words, nothing left behind"
else
	notok "attach of a 65th: exit 1, the backend's words, nothing left behind" "exit $rc" "$(cat "$tmp/out")"
fi
key "the error node as pciback's xenbus_dev_fatal writes it" "$ERR1" "12 $FULL"
if wait_log "$BE1: $(host 64): $FULL (buses 00 and 01: their 64 slots are in use)"; then
	ok "pvpcid's log says which function, and why"
else
	notok "pvpcid's log says which function, and why" "$(tail -3 "$tmp/daemon.log")"
fi
front_sees "the frontend rescanned: the same 64" rescanned $(guests $(seq 0 63))
if wait_key "$BE1/state" 4; then ok "the device is Connected again"; else
	notok "the device is Connected again" "state $got"; fi
xenstore-ls -f "$BE1" >"$tmp/be.after"
if cmp -s "$tmp/be.before" "$tmp/be.after"; then ok "the backend directory is as before the attach"; else
	notok "the backend directory is as before the attach" "$(diff "$tmp/be.before" "$tmp/be.after")"; fi
check "the 65th is nobody's" fails xenstore-read "/libxl/pci/0000-18-00-0/domid"
if grep -q "exported to domain 1 at" <(grep "$(host 64)" "$tmp/daemon.log"); then
	notok "pvpcid never bound it" "$(grep "$(host 64)" "$tmp/daemon.log")"
else
	ok "pvpcid never bound it"
fi

# ---- holes on both buses; a new frontend; filled in order ----
check "detach 1 $(host 5) (00:05.0)" pv detach 1 "$(host 5)"
front_sees "the frontend rescanned: 00:05.0 gone" rescanned $(guests $(seq 0 4) $(seq 6 63))
check "detach 1 $(host 42) (01:0a.0)" pv detach 1 "$(host 42)"
holes=$(guests $(seq 0 4) $(seq 6 41) $(seq 43 63))
front_sees "the frontend rescanned: 01:0a.0 gone" rescanned $holes
kill "$front_pid"
if timeout 10 tail --pid="$front_pid" -f /dev/null && wait_key "$BE1/state" 6; then
	ok "the frontend, SIGTERM, closes; the backend Closed"
else
	notok "the frontend, SIGTERM, closes; the backend Closed" "state $got" "$(tail -3 "$tmp/front.err")"
fi
front_start
front_sees "a new frontend finds every function where the last one saw it" connected $holes
kill -9 "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
if IFS= read -r -t 10 line <&3 && [ "$line" = "backend gone: reconnecting" ]; then
	ok "pvpcid killed with -9: the frontend waits"
else
	notok "pvpcid killed with -9: the frontend waits" "${line:-}" "$(tail -3 "$tmp/front.err")"
fi
if start --host "sim:$tmp/host.lspci" --store "$tmp/sock" --mode slot; then ok "pvpcid restarted"; else
	notok "pvpcid restarted" "$(tail -5 "$tmp/daemon.log")"; fi
front_sees "it picks the 62 up where the guest saw them; the frontend reconnects and rescans" rescanned $holes
check "attach 1 $(host 64): there is room now" pv attach 1 "$(host 64)"
front_sees "it takes the first hole, 00:05.0" rescanned $(guests $(seq 0 41) $(seq 43 63))
key "vdev-62 says so" "$BE1/vdev-62" 0000:00:05.00
check "attach 1 $(host 42) again" pv attach 1 "$(host 42)"
front_sees "it takes the other hole, 01:0a.0" rescanned $(guests $(seq 0 63))
key "vdev-63 says so" "$BE1/vdev-63" 0000:01:0a.00
pv attach 1 "$(host 5)" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "refused it: 12 $FULL" "$tmp/out"; then ok "full again: $(host 5) refused"; else
	notok "full again: $(host 5) refused" "exit $rc" "$(cat "$tmp/out")"; fi
front_sees "the frontend rescanned: the same 64" rescanned $(guests $(seq 0 63))
pv list 1 >"$tmp/out" 2>&1
if [ "$(grep -c '\.0 0000:1' "$tmp/out")" -eq 64 ] && grep -qx "05.0 $(host 64)" "$tmp/out"; then
	ok "list 1: 64 functions, $(host 64) at 05.0"
else
	notok "list 1: 64 functions, $(host 64) at 05.0" "$(head -5 "$tmp/out")"
fi

stop_clean
store_stop
finish
