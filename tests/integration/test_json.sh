#!/bin/bash
# --json of view, front ... lspci, list and assignable-list: each document
# parses, is valid against its schema in doc/schema/, and says what the
# verb's text says (json_check.py).  view: every dump of fixtures/ and
# ../shared/fixtures/pciutils, its bytes against the lspci text and what
# lspci -F reads of it, its rows against the table; strings with quotes,
# backslashes and bytes that are not UTF-8.  front lspci: through a pvpcid
# in every topology.  list and assignable-list: through pvpci-stored and
# pvpcid --store.  Errors: the exit code and stderr of the text, nothing
# on stdout.
# TAP on stdout; every process under a time limit; the daemons are waited
# for, never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
shared=${PVPCI_SHARED:-$src/../shared}
schema=$src/doc/schema
pv() { timeout 30 "$bin/pvpci" "$@"; }
# jcheck KIND PREFIX ARGS...: json_check.py's lines as TAP, PREFIX before each.
jcheck() {
	local kind=$1 prefix=$2
	shift 2
	timeout 60 python3 "$src/tests/integration/json_check.py" "$kind" "$@" >"$tmp/check" 2>&1
	sed -e "s/^ok - /ok - $prefix: /" -e "s/^not ok - /not ok - $prefix: /" "$tmp/check" >"$tmp/check.tap"
	tap_from "$tmp/check.tap"
}
# same_failure DESC ARGS...: pvpci ARGS fails with --json as it does
# without (exit code, stderr), and prints nothing on stdout.  --json is
# added at the end, where every verb takes it.
same_failure() {
	local d=$1 rc rcj
	shift
	pv "$@" >"$tmp/t.out" 2>"$tmp/t.err"
	rc=$?
	pv "$@" --json >"$tmp/j.out" 2>"$tmp/j.err"
	rcj=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -eq "$rcj" ] && [ ! -s "$tmp/j.out" ] && [ -s "$tmp/j.err" ] &&
		cmp -s "$tmp/t.err" "$tmp/j.err"; then
		ok "$d: exit $rcj as without --json, the same message, nothing on stdout"
	else
		notok "$d: exit as without --json, the same message, nothing on stdout" \
			"exit $rc / --json $rcj" "$(head -3 "$tmp/j.out")" "$(cat "$tmp/t.err")" "$(cat "$tmp/j.err")"
	fi
}
have_lspci=
command -v lspci >/dev/null 2>&1 && have_lspci=1

jcheck schemas "doc/schema" "$schema"/*.json

# ---- view, on every dump ----
files=$(ls "$src"/fixtures/*.lspci)
if [ -d "$shared/fixtures/pciutils" ]; then
	files="$files $(ls "$shared"/fixtures/pciutils/*)"
else
	echo "# $shared/fixtures/pciutils is absent: checking this project's fixtures only"
fi
# view_case NAME ARGS...: the three outputs of pvpci view ARGS, checked.
view_case() {
	local name=$1 lf=
	shift
	if ! pv view --json "$@" >"$tmp/view.json" 2>"$tmp/view.err"; then
		notok "$name: view --json exits 0" "$(cat "$tmp/view.err")"
		return
	fi
	pv view "$@" >"$tmp/view.txt" 2>"$tmp/view.txt.err"
	pv view --format table "$@" >"$tmp/view.table" 2>/dev/null
	if ! cmp -s "$tmp/view.err" "$tmp/view.txt.err"; then
		notok "$name: view --json says on stderr what view says" "$(diff "$tmp/view.txt.err" "$tmp/view.err")"
	fi
	if [ -n "$have_lspci" ]; then
		timeout 30 lspci -F "$tmp/view.txt" -xxxx >"$tmp/view.lspci" 2>/dev/null
		lf=$tmp/view.lspci
	fi
	jcheck view "$name" "$schema/pvpci-view.schema.json" "$tmp/view.json" "$tmp/view.txt" \
		"$tmp/view.table" "$tmp/view.err" $lf
}
for f in $files; do
	view_case "view $(basename "$f")" --host "sim:$f"
done
[ -n "$have_lspci" ] || echo "# lspci is not installed: the bytes are not checked against lspci -F"
net=$src/fixtures/virtio-net.lspci
view_case "view --permissive virtio-net" --permissive --host "sim:$net"
printf '1af4:1041 0x44:4:0x0000ffff\n' >"$tmp/quirks"
view_case "view --quirks virtio-net" --quirks "$tmp/quirks" --host "sim:$net"
view_case "view virtio-net 00:03.0 (named)" --host "sim:$net" 00:03.0
pv view --json --host "sim:$net" --quirks "$tmp/quirks" >"$tmp/q.json" 2>/dev/null
jcheck schema "view --quirks: the quirk is a passthrough register" "$schema/pvpci-view.schema.json" "$tmp/q.json" \
	"{'functions.0.registers.32.name': 'quirk', 'functions.0.registers.32.offset': 0x44,
	  'functions.0.registers.32.policy': 'passthrough'}"
pv view --format json --host "sim:$net" >"$tmp/f.json" 2>&1
if cmp -s "$tmp/f.json" "$tmp/view.json"; then ok "view --format json is view --json"; else
	notok "view --format json is view --json" "$(diff "$tmp/view.json" "$tmp/f.json" | head -5)"; fi

# Strings: a host spec (a file name) and a dump's description with quotes,
# a backslash, UTF-8, a tab and bytes that are not UTF-8.
weird="$tmp/we\"ird\\na me$(printf '\t\xff\xc3\xa9').lspci"
{ printf '00:03.0 Caf\xc3\xa9 "quoted" \\ back \xff end \xe2\x80\xa8\n'; sed 1d "$net"; } >"$weird"
want=$(python3 -c 'import os, sys
p = os.fsencode(sys.argv[1]).decode("utf-8", "replace")
print(repr({"host": "sim:" + p, "functions.0.description": "Caf\u00e9 \"quoted\" \\ back \ufffd end \u2028"}))' "$weird")
pv view --json --host "sim:$weird" >"$tmp/w.json" 2>"$tmp/w.err"
jcheck schema "view of a file named with quotes, a tab and bytes that are not UTF-8" \
	"$schema/pvpci-view.schema.json" "$tmp/w.json" "$want"
if grep -q -F '\ufffd' "$tmp/w.json" && grep -q -F '\u2028' "$tmp/w.json" && grep -q -F '\t' "$tmp/w.json"; then
	ok "view --json: a byte that is not UTF-8 as \\ufffd, U+2028 and a tab escaped"
else
	notok "view --json: a byte that is not UTF-8 as \\ufffd, U+2028 and a tab escaped" "$(grep -a host "$tmp/w.json")"
fi

# Failures: the same exit and message as the text, nothing on stdout.
asus=$shared/fixtures/pciutils/tree-asus-p6t6
same_failure "view of a dump that is not there" view --host "sim:$tmp/absent"
same_failure "view of a function that is not there" view --host "sim:$net" 00:1f.7
[ -f "$asus" ] && same_failure "view of a bridge, named" view --host "sim:$asus" 00:01.0
same_failure "view of a malformed address" view --host "sim:$net" 00:zz.0
same_failure "view with a bad quirks file" view --host "sim:$net" --quirks "$tmp/absent"
same_failure "view --format xml" view --format xml --host "sim:$net"

# ---- front ... lspci, through pvpcid ----
cat "$src"/fixtures/virtio-*.lspci >"$tmp/host.lspci"	# 00:01.0 ... 00:05.0
fronts="$tmp/host.lspci"
[ -f "$shared/fixtures/pciutils/cap-pcie-2" ] && fronts="$fronts $shared/fixtures/pciutils/cap-pcie-2"
for f in $fronts; do
	name=$(basename "$f")
	pv view --json --host "sim:$f" >"$tmp/fview.json" 2>/dev/null
	exports=$(python3 -c 'import json, sys
print(" ".join("--export 1:" + f["bdf"] for f in json.load(open(sys.argv[1]))["functions"] if f["exportable"]))' \
		"$tmp/fview.json")
	for mode in passthrough vpci slot; do
		# shellcheck disable=SC2086
		if ! start --host "sim:$f" --mode $mode $exports; then
			notok "front $name $mode: pvpcid starts" "$(tail -3 "$tmp/daemon.log")"
			continue
		fi
		PVPCI_SOCKET=$dsock pv front 1 lspci >"$tmp/front.txt" 2>&1
		PVPCI_SOCKET=$dsock pv front --json 1 lspci >"$tmp/front.json" 2>"$tmp/front.err"
		PVPCI_SOCKET=$dsock pv front 1 lspci --json >"$tmp/front2.json" 2>&1
		stop
		if [ "$mode" = passthrough ]; then
			jcheck front "front $name $mode" "$schema/pvpci-front-lspci.schema.json" "$tmp/front.json" \
				"$tmp/front.txt" "$tmp/fview.json"
		else
			jcheck front "front $name $mode" "$schema/pvpci-front-lspci.schema.json" "$tmp/front.json" \
				"$tmp/front.txt"
		fi
		if cmp -s "$tmp/front.json" "$tmp/front2.json"; then
			ok "front $name $mode: --json after lspci is the same"
		else
			notok "front $name $mode: --json after lspci is the same" "$(head -3 "$tmp/front2.json")"
		fi
	done
done
same_failure "front lspci with no backend" front --socket "$tmp/absent.sock" 1 lspci
PVPCI_SOCKET=$dsock pv front --json 1 read 00:00.0 0 4 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'option of lspci' "$tmp/out"; then ok "front --json read: usage error (2)"; else
	notok "front --json read: usage error (2)" "exit $rc" "$(cat "$tmp/out")"; fi

# ---- list and assignable-list, through the store and pvpcid --store ----
store_start
check "domain 1 introduced" pv domain-introduce 1
if start --host "sim:$tmp/host.lspci" --store "$tmp/sock"; then
	ok "pvpcid --store serves"
else
	notok "pvpcid --store serves" "$(tail -3 "$tmp/daemon.log")"
	finish
	exit 1
fi
pv assignable-list --json >"$tmp/al.json" 2>&1
pv assignable-list -n >"$tmp/al.txt" 2>&1
jcheck assignable "assignable-list, none" "$schema/pvpci-assignable-list.schema.json" "$tmp/al.json" "$tmp/al.txt"
check "assignable-add 00:02.0 (named \"disk\" \\ n), 00:03.0, 00:04.0 (named net)" sh -c \
	"$bin/pvpci assignable-add --name 'disk \"2\" \\ n' 00:02.0 && $bin/pvpci assignable-add 00:03.0 &&
	 $bin/pvpci assignable-add --name net 00:04.0"
pv assignable-list --json >"$tmp/al.json" 2>&1
pv assignable-list -n >"$tmp/al.txt" 2>&1
jcheck assignable "assignable-list" "$schema/pvpci-assignable-list.schema.json" "$tmp/al.json" "$tmp/al.txt"
jcheck schema "assignable-list: names and null" "$schema/pvpci-assignable-list.schema.json" "$tmp/al.json" \
	"{'functions.0.name': 'disk \"2\" \\\\ n', 'functions.1.name': None, 'functions.2.bdf': '0000:00:04.0'}"
pv list --json 1 >"$tmp/l.json" 2>&1
pv list 1 >"$tmp/l.txt" 2>&1
jcheck list "list of a domain without functions" "$schema/pvpci-list.schema.json" "$tmp/l.json" "$tmp/l.txt"
check "attach 1 00:03.0@5 and 00:04.0" sh -c "$bin/pvpci attach 1 00:03.0@5 && $bin/pvpci attach 1 00:04.0"
pv list --json 1 >"$tmp/l.json" 2>&1
pv list 1 >"$tmp/l.txt" 2>&1
jcheck list "list 1" "$schema/pvpci-list.schema.json" "$tmp/l.json" "$tmp/l.txt"
jcheck schema "list 1: 00:03.0 at slot 5" "$schema/pvpci-list.schema.json" "$tmp/l.json" \
	"{'domid': 1, 'functions.0.bdf': '0000:00:03.0', 'functions.0.vslot': 5, 'functions.0.vdevfn': 40}"
pv assignable-list --json >"$tmp/al.json" 2>&1
pv assignable-list -n >"$tmp/al.txt" 2>&1
jcheck assignable "assignable-list, two attached" "$schema/pvpci-assignable-list.schema.json" "$tmp/al.json" "$tmp/al.txt"
pv --store "$tmp/sock" list --json 1 >"$tmp/l2.json" 2>&1
if cmp -s "$tmp/l.json" "$tmp/l2.json"; then ok "--store before the verb: the same document"; else
	notok "--store before the verb: the same document" "$(head -3 "$tmp/l2.json")"; fi
same_failure "list of domain 0" list 0
same_failure "list with no domain" list
same_failure "assignable-list with an argument" assignable-list 1
same_failure "list, a store that is not there" --store "$tmp/absent.sock" list 1
same_failure "assignable-list, a store that is not there" --store "$tmp/absent.sock" assignable-list
pv attach --json 1 00:02.0 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'not an option of this verb' "$tmp/out"; then ok "attach --json: usage error (2)"; else
	notok "attach --json: usage error (2)" "exit $rc" "$(cat "$tmp/out")"; fi
stop
store_stop
finish
