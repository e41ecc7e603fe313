#!/bin/sh
# make demo: what a guest would see of real devices, beside what the host has.
# Until the daemon exists this is `pvpci view` over the fixtures: for each
# one the policy table (host value, guest value, policy of every register),
# then the guest's config space in lspci text decoded by the real lspci.
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
echo "demo: done"
