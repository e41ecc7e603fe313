# shellcheck shell=sh
# Sourced by the scripts that need a PCIe function a backend may write:
# a fake sysfs tree in a temporary directory (never /sys), as
# `--host sysfs:ROOT,writes=1` reads it, and the checks of its config file
# against a saved state (test_saverestore_kill.sh, test_lifecycle.sh).
# POSIX sh.

# fake_endpoint ROOT BDF: under ROOT, BDF as a PCIe endpoint 1234:5678
# (subsystem 1af4:abcd), class 0x020000: BAR 0 memory, BARs 2/3 64-bit
# prefetchable, BAR 4 I/O, ROM; PM at 0x40, PCI Express v2 at 0x50, AER
# at 0x100; INTA on a line of its own (its irq file: 16 for the first
# endpoint made, 17 for the next...); a resource file, enable, and a reset
# file (what the kernel writes there: the last "1").  No driver link:
# writable with writes=1
# (the sysfs backend's rule).  Sets $dev (its directory) and $cfg (its
# config file), which put and differing use.
fake_endpoint() {
	dev=$1/devices/pci0000:00/$2
	cfg=$dev/config
	mkdir -p "$1/bus/pci/devices" "$dev"
	ln -s "../../../devices/pci0000:00/$2" "$1/bus/pci/devices/$2"
	head -c 4096 /dev/zero >"$cfg"
	put 0x00 34 12 78 56 46 01 10 00 01 00 00 02 10 40 00 00
	put 0x10 00 00 b0 fe 00 00 00 00 0c 00 00 00 02 00 00 00 01 c0 00 00
	put 0x2c f4 1a cd ab 00 00 00 fe 40
	put 0x3c 0b 01
	put 0x40 01 50 03 00 08 00
	put 0x50 10 00 02 00 c0 8f 00 10 17 28
	put 0x60 42 00
	put 0x78 15 04
	put 0x80 23 00
	put 0x100 01 00 01 00 00 00 00 00 00 00 40 00 30 20 46 00
	put 0x114 00 20 00 00 e0 01 00 00
	cat >"$dev/resource" <<EOF
0x00000000feb00000 0x00000000feb00fff 0x0000000000040200
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x0000000200000000 0x00000002000fffff 0x000000000014220c
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x000000000000c000 0x000000000000c01f 0x0000000000040101
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x00000000fe000000 0x00000000fe00ffff 0x0000000000046200
EOF
	echo 0 >"$dev/enable"
	: >"$dev/reset"
	fake_irqs=$((${fake_irqs:-0} + 1))
	echo $((15 + fake_irqs)) >"$dev/irq"
}

# fake_msi: the endpoint fake_endpoint made last ($cfg) gets MSI (64-bit,
# one vector) at 0x90 and MSI-X (4 entries: the table at BAR 0 + 0, the
# PBA at BAR 0 + 0x800) at 0xa0, chained after PCI Express; both off.
fake_msi() {
	put 0x51 90
	put 0x90 05 a0 80 00
	put 0xa0 11 00 03 00 00 00 00 00 00 08 00 00
}

# put OFFSET BYTE... : hex bytes into $cfg at OFFSET.
put() {
	off=$(($1)); shift
	for b in "$@"; do printf "\\$(printf %03o "0x$b")"; done |
		dd of="$cfg" bs=1 seek="$off" conv=notrunc status=none
}

# scribble: what a guest's leftover state, a reset or a wild device leaves
# in the registers the save covers: cache line and latency, every BAR,
# the ROM, Device Control, AER's masks and severity; only bits the save
# has, so a restore gives back every byte.
scribble() {
	put 0x0c ff ff
	put 0x10 ff ff ff ff 00 00 00 00 ff ff ff ff ff ff ff ff 00 00 00 00
	put 0x30 00 00 00 00
	put 0x58 00 00
	put 0x108 ff ff ff ff 00 00 00 00
	put 0x114 ff ff ff ff
}

# differing STATEFILE: the registers of a state file, each compared under
# its mask with $cfg as it is now (od reads the little-endian bytes);
# prints the ones that differ.
differing() {
	while read -r tag key off size mask val; do
		[ "$tag" = reg ] || continue
		now=$(od -An -j $((0x$off)) -N "$size" -t "u$size" "$cfg" | tr -d ' ')
		if [ $((now & 0x$mask)) -ne $((0x$val & 0x$mask)) ]; then
			printf '%s at 0x%s: now 0x%x, saved 0x%s (mask 0x%s)\n' "$key" "$off" "$now" "$val" "$mask"
		fi
	done <"$1"
}

# fullbytes FILE OUT: the bytes of FILE whose every bit is in the set
# (BARs, ROM, cache line, latency, AER masks and severity), for cmp.
fullbytes() {
	{ dd if="$1" bs=1 skip=$((0x0c)) count=2 status=none
	  dd if="$1" bs=1 skip=$((0x10)) count=24 status=none
	  dd if="$1" bs=1 skip=$((0x30)) count=4 status=none
	  dd if="$1" bs=1 skip=$((0x108)) count=8 status=none
	  dd if="$1" bs=1 skip=$((0x114)) count=4 status=none; } >"$2"
}
