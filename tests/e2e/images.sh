#!/bin/bash
# make e2e: the boot images.  From the Debian packages fetch.sh unpacked
# and this machine's own binaries (the same Debian 12): Xen's hypervisor
# as an ELF file QEMU's multiboot loader takes, the kernel, and two
# initramfs archives (cpio, uncompressed: the guest's time is dearer than
# the disk's):
#   dom0.cpio  busybox, Xen's tools (xl, xenstored, xenconsoled,
#              xen-init-dom0, xenstore-*), pvpcid and pvpci, lspci, the
#              modules dom0 loads, the fixtures, tests/e2e/dom0/*, and
#              the domU's kernel (vmlinux) and initramfs under /e2e
#   domu.cpio  busybox, lspci, xenstore-*, cfgread, xen-pcifront and
#              the drivers the MSI scenario binds, tests/e2e/domu/init
# Usage: images.sh UNPACKED BUILD OUT
set -euo pipefail
x=$1 build=$2 out=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
kver=$(basename "$(ls -d "$x"/lib/modules/*-amd64 | head -1)")
bb=$x/bin/busybox
mkdir -p "$out"
stage=$out/stage
rm -rf "$stage"

# copy_elf ROOT FILE[=DEST]...: each file where it is on this machine (or
# at DEST), with the shared libraries it needs (ldd's list, and
# libgcc_s.so.1, which glibc loads behind ldd's back for pthread_cancel
# and xl needs).
copy_elf() {
	local root=$1 f l dest
	shift
	for f in "$@"; do
		dest=${f#*=}
		f=${f%%=*}
		mkdir -p "$root$(dirname "$dest")"
		cp -L "$f" "$root$dest"
		for l in $(ldd "$f" | awk '/=> \//{print $3} /^\t\//{print $1}'); do
			[ -e "$root$l" ] && continue
			mkdir -p "$root$(dirname "$l")"
			cp -L "$l" "$root$l"
		done
	done
	l=/usr/lib/x86_64-linux-gnu/libgcc_s.so.1
	[ -e "$root$l" ] || { mkdir -p "$root$(dirname "$l")"; cp -L "$l" "$root$l"; }
}

# base ROOT: busybox with a link per applet, the directories /init mounts.
base() {
	local root=$1 a
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,root,var/log,var/lib,var/run}
	mknod -m 600 "$root/dev/console" c 5 1
	cp "$bb" "$root/bin/busybox"
	for a in $("$bb" --list); do
		[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
	done
}

# modules ROOT NAME...: the modules and what they depend on, with a
# modules.dep that busybox's modprobe reads.
full_dep=$out/modules.dep.all
if [ ! -s "$full_dep" ] || [ "$full_dep" -ot "$x/lib/modules/$kver" ]; then
	"$bb" depmod -b "$x" "$kver"
	cp "$x/lib/modules/$kver/modules.dep" "$full_dep"
fi
modules() {
	local root=$1 want m path deps seen= d
	shift
	want=("$@")
	while [ ${#want[@]} -gt 0 ]; do
		m=${want[0]}
		want=("${want[@]:1}")
		case " $seen " in *" $m "*) continue ;; esac
		seen="$seen $m"
		path=$(grep -E "(^|/)${m}\\.ko:" "$full_dep" | head -1) ||
			{ echo "images.sh: no module $m in $kver" >&2; exit 1; }
		deps=${path#*:}
		path=${path%%:*}
		mkdir -p "$root/lib/modules/$kver/$(dirname "$path")"
		cp "$x/lib/modules/$kver/$path" "$root/lib/modules/$kver/$path"
		for d in $deps; do
			d=$(basename "$d" .ko)
			want+=("$d")
		done
	done
	cp "$x/lib/modules/$kver"/modules.{order,builtin} "$root/lib/modules/$kver/" 2>/dev/null || true
	"$bb" depmod -b "$root" "$kver"
}

cpio_of() {
	(cd "$1" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0) >"$2.tmp" 2>/dev/null
	mv "$2.tmp" "$2"
}

# ---- domU ----
d=$stage/domu
base "$d"
copy_elf "$d" /usr/bin/lspci /usr/bin/setpci /usr/bin/xenstore "$build/e2e-cfgread=/usr/bin/cfgread"
for t in read write ls list exists rm; do ln -sf xenstore "$d/usr/bin/xenstore-$t"; done
[ -f /usr/share/misc/pci.ids ] && install -D -m 644 /usr/share/misc/pci.ids "$d/usr/share/misc/pci.ids"
modules "$d" xen-pcifront e1000e nvme
install -m 755 "$src/tests/e2e/domu/init" "$d/init"
install -m 755 "$src/tests/e2e/domu/capture" "$d/usr/bin/e2e-capture"
install -m 755 "$src/tests/e2e/domu/nic" "$d/usr/bin/e2e-nic"
cpio_of "$d" "$out/domu.cpio"

# The kernel as the ELF file inside Debian's bzImage: Xen's and xl's
# loaders take it as it is, where they would spend 10-20 s of emulated
# time undoing its xz compression at every boot of dom0 and of each domU.
vmlinux=$out/vmlinux
if [ ! -s "$vmlinux" ] || [ "$vmlinux" -ot "$x/boot/vmlinuz-$kver" ]; then
	python3 - "$x/boot/vmlinuz-$kver" "$vmlinux.tmp" <<'PY'
import lzma, struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
setup = (b[0x1f1] or 4) + 1                  # boot protocol: setup_sects
off, length = struct.unpack_from('<II', b, 0x248)   # payload_offset, payload_length
p = b[setup * 512 + off:][:length]
if p[:6] == b'\xfd7zXZ\x00':
    v = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(p)
elif p[:2] == b'\x1f\x8b':
    v = zlib.decompressobj(31).decompress(p)
else:
    sys.exit(f'{sys.argv[1]}: a payload this script does not know ({p[:6].hex()})')
if v[:4] != b'\x7fELF':
    sys.exit(f'{sys.argv[1]}: the payload is not an ELF file')
open(sys.argv[2], 'wb').write(v)
PY
	mv "$vmlinux.tmp" "$vmlinux"
fi

# ---- dom0 ----
r=$stage/dom0
base "$r"
xbin=/usr/lib/xen-4.17/bin
copy_elf "$r" $xbin/xl $xbin/xenstored $xbin/xenconsoled $xbin/xen-init-dom0 \
	/usr/bin/xenstore /usr/bin/lspci /usr/bin/setpci "$build/pvpcid=/usr/bin/pvpcid" "$build/pvpci=/usr/bin/pvpci"
# E2E_DOM0_FILES="FILE[=DEST] ...": more programs for dom0, for whoever
# works on these (strace; another build's pvpcid to compare in one boot).
# shellcheck disable=SC2086
[ -z "${E2E_DOM0_FILES:-}" ] || copy_elf "$r" $E2E_DOM0_FILES
for t in read write ls list exists rm chmod watch; do ln -sf xenstore "$r/usr/bin/xenstore-$t"; done
[ -f /usr/share/misc/pci.ids ] && install -D -m 644 /usr/share/misc/pci.ids "$r/usr/share/misc/pci.ids"
modules "$r" xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-pciback pci-stub
mkdir -p "$r/etc/xen" "$r/e2e/fixtures"
printf 'autoballoon="off"\n' >"$r/etc/xen/xl.conf"
install -m 755 "$src"/tests/e2e/dom0/init "$r/init"
install -m 644 "$src"/tests/e2e/dom0/*.sh "$r/e2e/"
[ -f "$build/extra.sh" ] && install -m 644 "$build/extra.sh" "$r/e2e/extra.sh"
cp "$src"/fixtures/*.lspci "$r/e2e/fixtures/"
# Scenario 1's simulated functions: the virtio dumps, each at its own
# address, moved to bus 0x10, which the outer machine does not have (a
# toolstack on Xen gives a guest the resources of the host's function at
# the address it attaches: there must be none).
sed 's/^0000:00:/0000:10:/' "$src"/fixtures/virtio-*.lspci >"$r/e2e/fixtures/sim.lspci"
cp "$vmlinux" "$r/e2e/vmlinux"
cp "$out/domu.cpio" "$r/e2e/domu.cpio"
cpio_of "$r" "$out/dom0.cpio"

# ---- the hypervisor (dom0's kernel is $vmlinux) ----
zcat "$x"/boot/xen-4.17-amd64.gz >"$out/xen.elf"
rm -rf "$stage"
echo "images.sh: $(du -h "$out/dom0.cpio" | cut -f1) dom0, $(du -h "$out/domu.cpio" | cut -f1) domU, kernel $kver"
