#!/bin/sh
# This machine's own PCI functions are untouched by a run of the sysfs
# backend's unit tests: every config byte (bar the Status register, which
# the hardware may change on its own), the driver binding and `enable` are
# the same after as before.  Only reads here; the functions are real
# hardware (the machine's disk and network).  TAP on stdout.
#
# `pvpci view --host sysfs` and `pvpci capture` run here too, under the
# same before/after check, and the real lspci reads what view prints.
set -u

devices=/sys/bus/pci/devices
bin=${PVPCI_BIN:-build}/test_hostdev_sysfs

set -- $(ls "$devices" 2>/dev/null)
if [ $# -eq 0 ]; then
	echo "1..0 # SKIP $devices is empty or absent"
	exit 0
fi
ndev=$#
echo "1..$((4 + 2 * ndev))"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvpci-sysfs-real.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# What we compare: the config bytes, the driver's name and `enable`.
snapshot() {	# dir
	mkdir -p "$1"
	for bdf in $(ls "$devices"); do
		cat "$devices/$bdf/config" >"$1/$bdf.config" 2>/dev/null
		drv=
		[ -L "$devices/$bdf/driver" ] && drv=$(basename "$(readlink "$devices/$bdf/driver")")
		en=$(cat "$devices/$bdf/enable" 2>/dev/null)
		echo "driver=$drv enable=$en" >"$1/$bdf.state"
	done
}

snapshot "$tmp/before"

n=1
if [ -x "$bin" ]; then
	if CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$tmp/unit.log" 2>&1; then
		echo "ok $n - $bin passed"
	else
		echo "not ok $n - $bin failed"
		sed 's/^/# /' "$tmp/unit.log"
	fi
else
	echo "not ok $n - $bin is not built"
fi

pvpci=${PVPCI_BIN:-build}/pvpci
n=$((n + 1))
if timeout 30 "$pvpci" view --host sysfs >"$tmp/view" 2>"$tmp/view.err" &&
   timeout 30 "$pvpci" view --host sysfs --format table >"$tmp/table" 2>>"$tmp/view.err"; then
	echo "ok $n - pvpci view --host sysfs (both formats) exits 0"
else
	echo "not ok $n - pvpci view --host sysfs failed"
	sed 's/^/# /' "$tmp/view.err"
fi
n=$((n + 1))
# The guest view keeps every exportable function's IDs and class, as the
# real lspci reads them from the machine.
if command -v lspci >/dev/null 2>&1; then
	timeout 30 lspci -n 2>/dev/null | sort >"$tmp/real.n"
	timeout 30 lspci -F "$tmp/view" -n 2>/dev/null | sort >"$tmp/view.n"
	extra=$(comm -13 "$tmp/real.n" "$tmp/view.n")
	if [ -s "$tmp/view.n" ] && [ -z "$extra" ]; then
		echo "ok $n - lspci -F reads the guest view; IDs and class as the machine's ($(wc -l <"$tmp/view.n") functions)"
	else
		echo "not ok $n - guest view IDs differ from the machine's"
		echo "$extra" | sed 's/^/# /'
	fi
else
	echo "ok $n # SKIP lspci is not installed"
fi
n=$((n + 1))
if timeout 30 "$pvpci" capture "$@" >"$tmp/capture" 2>"$tmp/capture.err" &&
   [ "$(grep -c '^[0-9a-f]\{4\}:' "$tmp/capture")" -eq "$ndev" ]; then
	echo "ok $n - pvpci capture of every function"
else
	echo "not ok $n - pvpci capture failed"
	sed 's/^/# /' "$tmp/capture.err"
fi

snapshot "$tmp/after"

for bdf in "$@"; do
	n=$((n + 1))
	# cmp -l numbers bytes from 1: 7 and 8 are the Status register (0x06).
	diffs=$(cmp -l "$tmp/before/$bdf.config" "$tmp/after/$bdf.config" 2>&1 |
		awk '$1 != 7 && $1 != 8')
	if [ -z "$diffs" ]; then
		echo "ok $n - $bdf config unchanged ($(wc -c <"$tmp/before/$bdf.config") bytes)"
	else
		echo "not ok $n - $bdf config changed"
		echo "$diffs" | sed 's/^/# /'
	fi
	n=$((n + 1))
	if cmp -s "$tmp/before/$bdf.state" "$tmp/after/$bdf.state"; then
		echo "ok $n - $bdf binding and enable unchanged ($(cat "$tmp/before/$bdf.state"))"
	else
		echo "not ok $n - $bdf: $(cat "$tmp/before/$bdf.state") -> $(cat "$tmp/after/$bdf.state")"
	fi
done
