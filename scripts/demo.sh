#!/bin/sh
# make demo: what a guest would see of real devices, beside what the host has.
# First `pvpci view` over the fixtures: for each one the policy table (host
# value, guest value, policy of every register), then the guest's config
# space in lspci text decoded by the real lspci.  Then the protocol: pvpcid
# exports this machine's captured virtio functions to domain 1 and a
# user-space pcifront reads them through the shared page.
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
	echo "== pvpci front speaks pciif.h to it over the local transport"
	echo "=================================================================="
	cat "$net" "$here/fixtures/virtio-blk.lspci" >"$tmp/host"
	timeout 20 "$pvpcid" --background --pidfile "$tmp/pid" --socket "$tmp/sock" --state-dir "$tmp/state" \
		--host "sim:$tmp/host" --export 1:00:03.0 --export 1:00:02.0 --verbose-requests 2>"$tmp/daemon.log" ||
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
fi
echo "demo: done"
