#!/bin/bash
# Record and replay end to end: pvpcid --record under the demo's frontend
# workload (pvpci front list, read, msix, lspci) and a write followed by
# the read that sees it on one connection (front_ops); the record replayed
# by pvpci replay with no difference; replayed under another policy
# (--permissive, --quirks, --mode passthrough), reporting exactly the ops
# whose answers that policy changes, which the test works out from the
# record itself; damaged records (cut mid-line, cut at a line, a field
# spoiled, a dump cut short, not a record) refused with exit 2 and the
# line; and a record made through the store with functions hot attached
# and detached under a running frontend, replayed with no difference.
# TAP on stdout; every process under a time limit, waited for, never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"

replay() { timeout 60 "$bin/pvpci" replay "$@"; }
front() { PVPCI_SOCKET=$dsock timeout 20 "$bin/pvpci" front 1 "$@"; }
# replay_rc DESCRIPTION RC ARGS...: pvpci replay ARGS exits RC; its
# output in $tmp/replay.out.
replay_rc() {
	local d=$1 want=$2 rc
	shift 2
	replay "$@" >"$tmp/replay.out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d"; else notok "$d" "exit $rc, not $want" "$(tail -5 "$tmp/replay.out")"; fi
}
# The ops the replay says differ: "K L" (op number, record line) a line.
differing() { sed -n 's/^op \([0-9]*\) (line \([0-9]*\),.*/\1 \2/p' "$tmp/replay.out"; }
# The same for the op lines of the record that awk's CONDITION picks ($0
# the line, $5 the op's device): their numbers among the ops, and lines.
ops_where() { awk "/^[0-9]+ op / { k++; if ($1) print k, NR }" "$2"; }
# same_ops DESCRIPTION EXPECTED: the replay's differing ops are those.
same_ops() {
	differing >"$tmp/got"
	if [ -s "$tmp/got" ] && [ "$(cat "$tmp/got")" = "$2" ]; then ok "$1"; else
		notok "$1" "the replay says:" "$(cat "$tmp/got")" "expected:" "$2"; fi
}

# ---- the demo's workload, recorded ----
cat "$src/fixtures/virtio-net.lspci" "$src/fixtures/virtio-blk.lspci" >"$tmp/host"
rec=$tmp/rec
if start --host "sim:$tmp/host" --export 1:00:03.0 --export 1:00:02.0 --record "$rec"; then
	ok "pvpcid --record starts"
else
	notok "pvpcid --record starts" "$(cat "$tmp/daemon.log")"
	finish
	exit 1
fi
front list >/dev/null
front read 00:00.0 0 4 >/dev/null
front read 00:00.0 0x100 4 >/dev/null 2>&1
front msix 00:00.0 enable 0 1 2 >/dev/null 2>&1
front lspci >/dev/null
# A write to a byte no register covers (the vendor capability's body),
# dropped, and the read that sees it, before the frontend goes.
PVPCI_SOCKET=$dsock timeout 20 "$bin/front_ops" "$dsock" 1 "w 00:00.0 0x44 4 0x12345678" \
	"r 00:00.0 0x44 2" >"$tmp/ops.out" 2>&1
check "the write is dropped: the read after it sees 0" grep -qx 'err=0 value=0x0' "$tmp/ops.out"
check "pvpcid stops" stop
if [ "$(head -1 "$rec")" = "pvpci-record 1" ] && tail -1 "$rec" | grep -q '^[0-9]* end$' &&
	[ "$(grep -c '^[0-9]* export dom=1 ' "$rec")" -eq 2 ] && [ "$(grep -c '^[0-9]* op ' "$rec")" -gt 500 ]; then
	ok "the record: its header, both exports, $(grep -c '^[0-9]* op ' "$rec") ops, its end line"
else
	notok "the record: its header, both exports, the ops, its end line" "$(head -3 "$rec")" "$(tail -3 "$rec")"
fi
nops=$(grep -c '^[0-9]* op ' "$rec")

replay_rc "pvpci replay: exit 0" 0 "$rec"
check "... every answer as recorded, no note" grep -qx "replayed $nops ops of $rec: every answer as recorded" \
	"$tmp/replay.out"

# The read after the dropped write is the one op permissive changes.
want=$(ops_where '$0 ~ / conf_read 0000:00:00.0 off=0x44 size=2 /' "$rec")
replay_rc "replay --permissive: exit 1" 1 --permissive "$rec"
same_ops "... exactly the read after the dropped write differs ($want)" "$want"
grep -A2 "^op ${want%% *} " "$tmp/replay.out" >"$tmp/the_op"
check "... recorded 0, replayed what was written" grep -qx '  replayed: err=0 value=0x5678' "$tmp/the_op"
check "... and the summary says one" grep -q "^replayed $nops ops of $rec: 1 differs, 0 other events differ (the first at line ${want##* })" "$tmp/replay.out"

printf '# virtio-net: its vendor capability\n1af4:1041 0x44:4:0xffffffff\n' >"$tmp/quirks"
replay_rc "replay --quirks: exit 1" 1 --quirks "$tmp/quirks" "$rec"
same_ops "... the same op differs" "$want"
check "... with a note that the quirk's field was not in the record" grep -q "^note: .*quirk fields: the record's quirks=-, the replay's 0x44:4" "$tmp/replay.out"

# Passthrough: the guest's addresses 00:00.0 and 00:01.0 are gone, and
# the scan's reads at 00:02.0 and 00:03.0 find the functions there.
want=$(ops_where '$5 ~ /^0000:00:0[0-3]\.0$/' "$rec")
replay_rc "replay --mode passthrough: exit 1" 1 --mode passthrough "$rec"
same_ops "... exactly the ops at 00:00.0 to 00:03.0 differ ($(echo "$want" | wc -l) of $nops)" "$want"
check "... and the exports are said elsewhere" grep -q "^differs: line [0-9]*, .*: exported at 0000:00:03.0; the record has it at 0000:00:00.0" "$tmp/replay.out"

# ---- damaged records: exit 2, the line said ----
size=$(stat -c %s "$rec")
head -c $((size - 30)) "$rec" >"$tmp/cut"
last=$(wc -l <"$tmp/cut")
replay_rc "cut mid-line: exit 2" 2 "$tmp/cut"
check "... line $((last + 1)) said" grep -q "^pvpci replay: $tmp/cut: line $((last + 1)): " "$tmp/replay.out"
head -n -1 "$rec" >"$tmp/noend"
replay_rc "cut at a line (no end line): exit 2" 2 "$tmp/noend"
check "... said at its last line, with --partial to replay it" \
	grep -q "line $(wc -l <"$tmp/noend"): the record ends without its end line.*--partial" "$tmp/replay.out"
replay_rc "... --partial replays it: exit 0" 0 --partial "$tmp/noend"
bad=$(grep -n ' op dom=1 conf_read 0000:00:00.0 off=0x8 size=4 ' "$rec" | head -1 | cut -d: -f1)
sed "${bad}s/size=4/size=four/" "$rec" >"$tmp/spoiled"
replay_rc "a field spoiled: exit 2" 2 "$tmp/spoiled"
check "... line $bad: size=four" grep -qx "pvpci replay: $tmp/spoiled: line $bad: size=four: expected a 32-bit number" "$tmp/replay.out"
dump=$(grep -n '^30: ' "$rec" | head -1 | cut -d: -f1)
sed "${dump}d" "$rec" >"$tmp/nodumpline"
replay_rc "a dump with a line taken out: exit 2" 2 "$tmp/nodumpline"
check "... its first line said" grep -q "line $(grep -n ' export dom=1' "$rec" | head -1 | cut -d: -f1 | xargs expr 1 +): the dump does not give every byte" "$tmp/replay.out"
replay_rc "a config dump, not a record: exit 2" 2 "$src/fixtures/virtio-net.lspci"
check "... line 1 said" grep -q "line 1: not a pvpci record" "$tmp/replay.out"
replay_rc "no such file: exit 2" 2 "$tmp/nonexistent"
replay_rc "no file named: exit 2" 2

# ---- through the store: hot attach and detach while recording ----
cat "$src"/fixtures/virtio-*.lspci >"$tmp/host3"
store_start
pv domain-introduce 1 >/dev/null
for f in 02 03 04; do pv assignable-add 00:$f.0 >/dev/null; done
rec2=$tmp/rec2
: >"$tmp/daemon.log"
if start --host "sim:$tmp/host3" --store "$tmp/sock" --record "$rec2"; then
	ok "pvpcid --store --record starts"
else
	notok "pvpcid --store --record starts" "$(cat "$tmp/daemon.log")"
fi
check "attach 1 00:03.0" pv attach 1 00:03.0
front_start
front_next 1 && ok "the frontend connects" || notok "the frontend connects" "$(cat "$tmp/block")"
check "attach 1 00:02.0: hot" pv attach 1 00:02.0
front_next 2 && ok "... the frontend rescans" || notok "... the frontend rescans" "$(cat "$tmp/block")"
check "detach 1 00:03.0: hot" pv detach 1 00:03.0
front_next 1 && ok "... the frontend rescans" || notok "... the frontend rescans" "$(cat "$tmp/block")"
check "attach 1 00:04.0: hot" pv attach 1 00:04.0
front_next 2 && ok "... the frontend rescans" || notok "... the frontend rescans" "$(cat "$tmp/block")"
check "pvpcid stops" stop
kill "$front_timeout" 2>/dev/null
store_stop
if awk '/^[0-9]+ connect dom=1$/ { c = 1 } c && /^[0-9]+ export dom=1 host=0000:00:04.0 / { e = 1 }
	c && /^[0-9]+ unexport dom=1 host=0000:00:03.0$/ { u = 1 } END { exit !(e && u) }' "$rec2"; then
	ok "the record has functions appearing and going after the frontend connected"
else
	notok "the record has functions appearing and going after the frontend connected" \
		"$(grep -v '^[0-9a-f]*:\|Region\|^$' "$rec2" | grep -v ' op ' | head -20)"
fi
replay_rc "its replay: exit 0" 0 "$rec2"
check "... every answer as recorded" grep -q "^replayed [0-9]* ops of $rec2: every answer as recorded$" "$tmp/replay.out"
if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/daemon.log"; then
	notok "no sanitizer report from pvpcid" "$(grep -m3 -e Sanitizer -e 'runtime error' "$tmp/daemon.log")"
else
	ok "no sanitizer report from pvpcid"
fi
finish
