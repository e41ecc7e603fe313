#!/bin/bash
# make e2e, make e2e-bench: the real Linux xen-pcifront in a PV domU under
# the real Xen, booted in QEMU (TCG) on this Debian 12 machine, served by
# pvpcid (and by the kernel's xen-pciback for reference).
#
#   e2e.sh run     the scenarios (dom0/scenarios.sh); TAP in BUILD/e2e.tap
#   e2e.sh bench [FILE]   the config-read benchmark (dom0/bench.sh); dom0
#                  sources FILE first (its BENCH_ settings)
#   e2e.sh shell   the same machine with a shell on dom0's console
#   e2e.sh script FILE   dom0 runs FILE (sourced after lib.sh) and powers off
#   e2e.sh images  fetch and build only
#
# Installs what it needs (qemu-system-x86, the build's packages), fetches
# Debian's hypervisor, kernel and busybox-static with apt-get download into
# the cache ($PVPCI_E2E_CACHE, else ~/.cache/pvpci-e2e), builds pvpci
# without sanitizers in BUILD ($E2E_BUILD, else build-e2e) and the images
# in BUILD/images.  Whatever stops it before the scenarios ran is a
# failure in the TAP file and in the last line, never a silent skip.
set -uo pipefail
mode=${1:-run}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${E2E_BUILD:-$src/build-e2e}
case $build in /*) ;; *) build=$PWD/$build ;; esac
cache=${PVPCI_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pvpci-e2e}
tap=$build/e2e.tap
[ "$mode" = bench ] && tap=$build/e2e-bench.tap
mkdir -p "$build" "$cache"
printf 'not ok 1 - e2e did not finish\n1..1\n' >"$tap"

die() {
	echo "e2e: FAIL: $*" >&2
	printf 'not ok 1 - e2e could not run: %s\n1..1\n' "$*" >"$tap"
	echo "0 passed, 1 failed"
	exit 1
}
step() { echo "e2e: $*"; }

# ---- what this machine needs ----
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
"$src/scripts/deps.sh" || die "scripts/deps.sh failed"
# A fresh machine may have no package lists yet.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	step "apt-get update"
	$SUDO apt-get update -qq >&2 || die "apt-get update failed (no network?)"
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	step "installing qemu-system-x86"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
fi

# ---- Debian's packages, unpacked into the cache ----
# The hypervisor must be the version of the tools this machine has
# (xen-utils-4.17, which scripts/deps.sh installed): xl and libxenctrl
# speak its domctl interface.
xenver=$(dpkg-query -W -f='${Version}' xen-utils-4.17 2>/dev/null) || die "xen-utils-4.17 is not installed"
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$kpkg" ] || die "apt-cache knows no linux-image-amd64 (apt-get update?)"
pkgs="$kpkg xen-hypervisor-4.17-amd64=$xenver busybox-static"
stamp=$cache/unpacked.list
if [ "$(cat "$stamp" 2>/dev/null)" != "$pkgs" ]; then
	step "fetching $pkgs"
	rm -rf "$cache/debs" "$cache/unpacked" "$stamp"
	mkdir -p "$cache/debs"
	(cd "$cache/debs" && apt-get download $pkgs >"$cache/download.log" 2>&1) || {
		tail -5 "$cache/download.log" >&2
		die "apt-get download $pkgs failed (no network, or run apt-get update)"
	}
	for d in "$cache"/debs/*.deb; do dpkg -x "$d" "$cache/unpacked" || die "dpkg -x $d failed"; done
	echo "$pkgs" >"$stamp"
fi

# ---- pvpci, without sanitizers (dom0 runs it) ----
step "building pvpci in $build"
[ -f "$build/build.ninja" ] || meson setup "$build" >"$build/setup.log" 2>&1 ||
	die "meson setup $build failed: $(tail -3 "$build/setup.log")"
ninja -j2 -C "$build" pvpci pvpcid e2e-cfgread >"$build/ninja.log" 2>&1 || die "ninja -C $build failed: $(tail -5 "$build/ninja.log")"

step "building the images"
rm -f "$build/extra.sh"
if [ "$mode" = script ]; then
	cp "${2:?e2e.sh script FILE}" "$build/extra.sh" || die "no script $2"
elif [ "$mode" = bench ] && [ -n "${2:-}" ]; then
	cp "$2" "$build/extra.sh" || die "no file $2"
fi
"$src/tests/e2e/images.sh" "$cache/unpacked" "$build" "$build/images" || die "images.sh failed"
[ "$mode" = images ] && exit 0

# ---- the machine ----
# Xen on TCG: SMAP's emulation crashes dom0 (smap=0); the hypervisor goes
# uncompressed to QEMU's multiboot loader, dom0's kernel and initramfs as
# its modules (no comma in dom0's arguments: it would split them).  Three
# emulated PCI functions of the outer machine for dom0 to hand out:
# e1000e (00:04.0), nvme (00:05.0), edu (00:06.0); dom0 has no driver
# for any of them.  An emulated VT-d IOMMU (intel-iommu, with interrupt
# remapping): Xen assigns a function to a domU (XEN_DOMCTL_assign_device)
# only through one, and maps a domU's MSI or MSI-X pirq only for a
# function assigned to it.  No network: -nodefaults, -nic none.
# The CPU is TCG's max without XSAVE: with it, dom0's short-lived
# processes died of SIGSEGV or SIGABRT once in 50 to 100 while a domU
# ran (busybox od in a loop, 600 or 1500 runs a boot, each boot alone on
# the machine: 9 to 28 deaths with max, with max,vendor=GenuineIntel,
# without FSGSBASE, PCID, AVX or XSAVEOPT/XSAVEC/XSAVES, and with one TCG
# thread), none in 2100 with max,-xsave, nor with qemu64, which has no
# XSAVE either: register state did not survive Xen's switches between
# domains on TCG's XSAVE.  Xen then uses FXSAVE.  E2E_CPU overrides it,
# E2E_TCG_THREAD=single TCG's threads.
img=$build/images
xen_args="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all noreboot smap=0 ${E2E_XEN_EXTRA:-}"
dom0_args="console=hvc0 earlyprintk=xen rdinit=/init e2e=$mode"
if [ "$mode" = bench ]; then
	# dom0 on CPU 0, the domU on CPU 1 (bench.sh): the figures compare.
	xen_args="$xen_args dom0_max_vcpus=1 dom0_vcpus_pin"
else
	xen_args="$xen_args dom0_max_vcpus=2"
fi
qemu=(qemu-system-x86_64 -machine q35 -accel tcg,thread=${E2E_TCG_THREAD:-multi} -cpu ${E2E_CPU:-max,-xsave} -smp 2 -m 2048
	-nodefaults -display none -vga none -nic none -no-reboot
	-kernel "$img/xen.elf" -append "$xen_args"
	-initrd "$img/vmlinux $dom0_args,$img/dom0.cpio"
	-device intel-iommu,intremap=on
	-device e1000e,addr=0x4
	-drive if=none,id=nvm,file=null-co://,format=raw -device nvme,addr=0x5,serial=e2e,drive=nvm
	-device edu,addr=0x6 ${E2E_QEMU_EXTRA:-})

if [ "$mode" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio
fi

case $mode in
script)	expect="script" total=${E2E_TIMEOUT:-900} ;;
bench)	expect="bench" total=${E2E_TIMEOUT:-1200} ;;
*)	expect="4a 1 2 3 4 5 6" total=${E2E_TIMEOUT:-1500} ;;
esac
step "booting Xen in QEMU (at most $total s; console in $build/e2e-$mode.log)"
python3 "$src/tests/e2e/runner.py" --log "$build/e2e-$mode.log" --tap "$tap" \
	--expect "$expect" --total-timeout "$total" -- \
	timeout -s KILL "$((total + 30))" "${qemu[@]}" -serial stdio
