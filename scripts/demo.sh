#!/bin/bash
# make demo: what a guest would see of real devices, beside what the host has.
# First `pvpci view` over the fixtures: for each one the policy table (host
# value, guest value, policy of every register), then the guest's config
# space in lspci text decoded by the real lspci.  Then the protocol: pvpcid
# exports this machine's captured virtio functions to domain 1 and a
# user-space pcifront reads them through the shared page, pvpcid recording
# it all, and pvpci replay runs the record again on simulated devices built
# from it, with no difference.  Last, the whole
# system: pvpci-stored as the xenstore, pvpcid following it, the xl-style
# verbs passing functions to domain 1 while its frontend runs, hot attach
# and detach through Reconfiguring / Reconfigured.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
pvpci=$build/pvpci
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
[ -x "$pvpci" ] || fail "$pvpci is not built"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fixtures=$(ls "$here"/fixtures/*.lspci 2>/dev/null || true)
[ -d "$here/../shared/fixtures/pciutils" ] && fixtures="$fixtures $here/../shared/fixtures/pciutils/cap-vendor-virtio $here/../shared/fixtures/pciutils/cap-rebar"
[ -n "$fixtures" ] || fail "no fixtures found"

for f in $fixtures; do
	name=$(basename "$f")
	echo "=================================================================="
	echo "== $name: the host's config space and what a guest sees, register by register"
	echo "=================================================================="
	timeout 20 "$pvpci" view --host "sim:$f" --format table || fail "pvpci view --format table on $name"
	timeout 20 "$pvpci" view --host "sim:$f" >"$tmp/$name.guest" || fail "pvpci view on $name"
	if command -v lspci >/dev/null 2>&1; then
		echo "== $name: the guest's view decoded by the real lspci -F -vv"
		timeout 20 lspci -F "$tmp/$name.guest" -vv 2>/dev/null || fail "lspci -F could not read the guest view of $name"
	fi
	echo
done
pvpcid=$build/pvpcid
net=$here/fixtures/virtio-net.lspci
if [ -x "$pvpcid" ] && [ -f "$net" ]; then
	echo "=================================================================="
	echo "== the PV protocol: pvpcid exports two functions to domain 1 (vpci),"
	echo "== pvpci front speaks pciif.h to it over the local transport,"
	echo "== pvpcid --record keeps every op with its answer"
	echo "=================================================================="
	cat "$net" "$here/fixtures/virtio-blk.lspci" >"$tmp/host"
	timeout 20 "$pvpcid" --background --pidfile "$tmp/pid" --socket "$tmp/sock" --state-dir "$tmp/state" \
		--host "sim:$tmp/host" --export 1:00:03.0 --export 1:00:02.0 --verbose-requests \
		--record "$tmp/record" 2>"$tmp/daemon.log" ||
		fail "pvpcid did not start: $(cat "$tmp/daemon.log")"
	trap 'kill $(cat "$tmp/pid") 2>/dev/null || true; rm -rf "$tmp"' EXIT
	front="timeout 20 $pvpci front --socket $tmp/sock 1"
	echo "\$ pvpci front 1 list"
	$front list || fail "front list"
	echo "\$ pvpci front 1 read 00:00.0 0 4      # vendor and device ID"
	$front read 00:00.0 0 4 || fail "front read"
	echo "\$ pvpci front 1 read 00:00.0 0x100 4  # past a conventional function's config space"
	$front read 00:00.0 0x100 4 || true
	echo "\$ pvpci front 1 msix 00:00.0 enable 0 1 2"
	$front msix 00:00.0 enable 0 1 2 || true
	echo "\$ pvpci front 1 lspci | lspci -F - -vv   # the guest's lspci"
	$front lspci >"$tmp/front.lspci" || fail "front lspci"
	if command -v lspci >/dev/null 2>&1; then
		timeout 20 lspci -F "$tmp/front.lspci" -vv 2>/dev/null || fail "lspci -F could not read what the frontend saw"
	else
		cat "$tmp/front.lspci"
	fi
	kill "$(cat "$tmp/pid")"
	timeout 20 tail --pid="$(cat "$tmp/pid")" -f /dev/null
	echo "== what pvpcid said (--verbose-requests), last lines:"
	tail -8 "$tmp/daemon.log"
	echo "== what it recorded (--record): the backend, each function's config space before the"
	echo "== first op, every op with its answer ($(grep -c '^[0-9]* op ' "$tmp/record") of them), a few lines:"
	sed -n '/^start /,/^backend /p' "$tmp/record"
	grep -m1 '^[0-9]* export ' "$tmp/record"
	grep -m1 -A3 '^[0-9]* export ' "$tmp/record" | tail -3
	echo "..."
	grep -m2 '^[0-9]* op ' "$tmp/record"
	grep -m1 ' enable_msix ' "$tmp/record"
	tail -1 "$tmp/record"
	echo "\$ pvpci replay record      # the same ops on simulated devices built from the record"
	timeout 60 "$pvpci" replay "$tmp/record" || fail "the replay of the record differs"
fi

stored=$build/pvpci-stored
if [ -x "$stored" ] && [ -x "$pvpcid" ] && [ -f "$net" ]; then
	echo "=================================================================="
	echo "== the whole system: pvpci-stored (xenstore), pvpcid following it,"
	echo "== the toolstack verbs, and domain 1's pcifront through xenbus"
	echo "=================================================================="
	w=$tmp/sys
	mkdir -p "$w"
	cat "$here"/fixtures/virtio-*.lspci >"$w/host"
	export XENSTORED_PATH=$w/xs
	pids=
	trap 'kill $pids 2>/dev/null || true; rm -rf "$tmp"' EXIT
	timeout 20 "$stored" --socket "$XENSTORED_PATH" --background --pidfile "$w/stored.pid" 2>"$w/stored.log" ||
		fail "pvpci-stored did not start: $(cat "$w/stored.log")"
	pids="$(cat "$w/stored.pid")"
	timeout 20 "$pvpcid" --store "$XENSTORED_PATH" --host "sim:$w/host" --socket "$w/pv" --state-dir "$w/state" \
		--background --pidfile "$w/pvpcid.pid" 2>"$w/pvpcid.log" || fail "pvpcid did not start: $(cat "$w/pvpcid.log")"
	pids="$(cat "$w/pvpcid.pid") $pids"
	run() { echo "\$ $*"; timeout 30 "$@" || fail "$*"; }
	show_backend() {
		echo "\$ xenstore-ls /local/domain/0/backend/pci/1/0"
		timeout 10 xenstore-ls /local/domain/0/backend/pci/1/0 2>/dev/null | grep -v '^\(frontend\|online\|domain\)' || echo "(no backend directory)"
	}
	# states: the xenbus state changes pvpcid saw since the last call.
	seen=0
	states() {
		local n
		n=$(wc -l <"$w/pvpcid.log")
		sed -n "$((seen + 1)),${n}p" "$w/pvpcid.log" | grep -E ': (backend|frontend) [A-Z]' |
			sed 's|^pvpcid: /local/domain/0/backend/pci/1/0: |  xenbus: |'
		seen=$n
	}
	run "$pvpci" domain-introduce --name guest1 1
	run "$pvpci" assignable-add 00:03.0
	run "$pvpci" assignable-add 00:02.0
	run "$pvpci" assignable-add 00:04.0
	run "$pvpci" assignable-list
	echo "== two functions for domain 1 before its frontend starts"
	run "$pvpci" attach 1 00:03.0
	run "$pvpci" attach 1 00:02.0
	states
	show_backend
	echo "\$ pvpci front 1 run &      # domain 1's pcifront, through the store as domain 1"
	mkfifo "$w/front.out"
	XENSTORED_PATH=$w/xs.d/1 timeout 60 "$pvpci" front --socket "$w/pv" 1 run >"$w/front.out" 2>&1 &
	pids="$! $pids"
	exec 3<"$w/front.out"
	# front_lines N: the frontend's next N lines (10 s each at most).
	front_lines() { local l; for ((i = 0; i < $1; i++)); do IFS= read -r -t 10 l <&3 || fail "the frontend stopped talking"; echo "  guest: $l"; done; }
	front_lines 3
	states
	echo "== hot attach of a third while the guest runs"
	run "$pvpci" attach 1 00:04.0
	front_lines 4
	states
	run "$pvpci" list 1
	echo "== hot detach of the first; the entries after it move down"
	run "$pvpci" detach 1 00:03.0
	front_lines 3
	states
	show_backend
	echo "== the rest, and the directories go"
	run "$pvpci" detach 1 00:02.0
	front_lines 2
	run "$pvpci" detach 1 00:04.0
	front_lines 1
	states
	show_backend
	run "$pvpci" assignable-list
	kill $pids 2>/dev/null || true
	for p in $pids; do timeout 20 tail --pid="$p" -f /dev/null; done
	pids=
	echo "== pvpcid stopped cleanly; its last words:"
	tail -3 "$w/pvpcid.log"
fi
echo "demo: done"
