#!/bin/sh
# For every dump in fixtures/ and ../shared/fixtures/pciutils: the guest's
# view from `pvpci view` is read back by the real `lspci -F`, keeps each
# exported function's IDs and class, shows no broken chain and no hidden
# capability, and shows every capability the policy keeps.
# TAP on stdout; every process under a time limit.
set -u
src=${PVPCI_SRC:?}
bin=${PVPCI_BIN:?}
shared=${PVPCI_SHARED:-$src/../shared}
pvpci="timeout 30 $bin/pvpci"
lspci="timeout 30 lspci"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

command -v lspci >/dev/null 2>&1 || { echo "1..0 # SKIP lspci is not installed"; exit 0; }

# The names lspci gives the capabilities pvpci keeps (ext 0x100 may be a
# relinked ID 0 header, which lspci calls Null).
# Matched at the start of the name: "Secondary PCI Express" is not "Express".
kept='^[^ ]+ [^ ]+ (Power Management|MSI:|MSI-X:|Express|Vital Product Data|Vendor Specific|Advanced Error Reporting|Designated Vendor-Specific|Null)'

# "BDF OFFSET NAME" for each capability line of `lspci -vvv` output.
caps() {
	awk '/^[0-9a-f]/ { dev = $1 } /^\tCapabilities: \[/ {
		off = $2; gsub(/[\[\]]/, "", off); sub(/^\tCapabilities: \[[^]]*\] /, ""); print dev, off, $0 }' "$1"
}

files=$(ls "$src"/fixtures/*.lspci 2>/dev/null)
if [ -d "$shared/fixtures/pciutils" ]; then
	files="$files $(ls "$shared"/fixtures/pciutils/*)"
else
	echo "# $shared/fixtures/pciutils is absent: checking this project's fixtures only"
fi

for f in $files; do
	name=$(basename "$f")
	if ! $pvpci view --host "sim:$f" >"$tmp/guest" 2>"$tmp/err"; then
		notok "$name: pvpci view exits 0" "$(cat "$tmp/err")"
		continue
	fi
	ok "$name: pvpci view exits 0"
	$lspci -F "$f" -n >"$tmp/host.n" 2>/dev/null
	if ! $lspci -F "$tmp/guest" -n >"$tmp/guest.n" 2>"$tmp/lerr"; then
		notok "$name: lspci -F reads the guest view" "$(cat "$tmp/lerr")"
		continue
	fi
	# Every function pvpci exported, and nothing else, with host IDs and class.
	exported=$(grep -c '^[0-9a-f]\{4\}:' "$tmp/guest")
	refused=$(grep -c 'not exportable' "$tmp/err")
	total=$(grep -c . "$tmp/host.n")
	missing=$(grep -v -x -F -f "$tmp/host.n" "$tmp/guest.n")
	if [ -z "$missing" ] && [ "$exported" -eq "$(grep -c . "$tmp/guest.n")" ] &&
	   [ $((exported + refused)) -eq "$total" ] && [ "$exported" -gt 0 -o "$refused" -gt 0 ]; then
		ok "$name: $exported functions keep IDs and class ($refused bridges refused)"
	else
		notok "$name: functions keep IDs and class" "exported $exported refused $refused of $total" "$missing"
	fi
	$lspci -F "$tmp/guest" -vvv >"$tmp/guest.v" 2>/dev/null
	$lspci -F "$f" -vvv >"$tmp/host.v" 2>/dev/null
	if grep -q -E '<chain (broken|looped)>|<access denied>' "$tmp/guest.v"; then
		notok "$name: no broken chain in the guest view" "$(grep -E 'chain|denied' "$tmp/guest.v" | head -3)"
	else
		ok "$name: no broken chain in the guest view"
	fi
	caps "$tmp/guest.v" >"$tmp/guest.caps"
	hidden=$(grep -v -E "$kept" "$tmp/guest.caps")
	if [ -z "$hidden" ]; then
		ok "$name: no hidden capability is shown ($(grep -c . "$tmp/guest.caps") shown)"
	else
		notok "$name: no hidden capability is shown" "$hidden"
	fi
	# Kept capabilities decode with the values a new guest must see:
	# interrupts off until it asks, the function in D0, PME off.
	wrong=$(grep -E 'MSI(-X)?: Enable\+|Status: D[123]|PME-Enable\+|Masked\+' "$tmp/guest.v")
	if [ -z "$wrong" ]; then
		ok "$name: MSI/MSI-X Enable-, PM D0 and PME-Enable- as a new guest sees them"
	else
		notok "$name: MSI/MSI-X Enable-, PM D0 and PME-Enable- as a new guest sees them" "$wrong"
	fi
	# Every capability the host has and the policy keeps is shown at the
	# same offset, for the functions exported (a chain cut on the host is
	# cut for the guest too).
	caps "$tmp/host.v" | grep -E "$kept" | grep -v ' Null' >"$tmp/host.kept"
	lost=""
	while read -r dev off rest; do
		grep -q -i "^$dev " "$tmp/guest.n" 2>/dev/null || grep -q "^$dev " "$tmp/guest.caps" || continue
		grep -q "^$dev $off " "$tmp/guest.caps" || lost="$lost $dev[$off]"
	done <"$tmp/host.kept"
	if [ -z "$lost" ]; then
		ok "$name: every kept capability is shown"
	else
		notok "$name: every kept capability is shown" "lost:$lost"
	fi
done
# Quirks through the CLI: a field nothing handles becomes a passthrough
# field; a malformed file and a quirk over a handled register are refused.
net=$src/fixtures/virtio-net.lspci
printf '# virtio-net\n1af4:1041 0x44:4:0x0000ffff\n' >"$tmp/quirks"
if $pvpci view --host "sim:$net" --quirks "$tmp/quirks" --format table 2>/dev/null |
   grep -q '^  0x044  4 *quirk .* passthrough$'; then
	ok "quirks: a quirk adds a passthrough field"
else
	notok "quirks: a quirk adds a passthrough field"
fi
printf '1af4:1041 0x40:4:0xffffffff\n' >"$tmp/quirks"
if ! $pvpci view --host "sim:$net" --quirks "$tmp/quirks" >/dev/null 2>"$tmp/err" &&
   grep -q 'overlaps' "$tmp/err"; then
	ok "quirks: a quirk over a handled register is refused"
else
	notok "quirks: a quirk over a handled register is refused" "$(cat "$tmp/err")"
fi
printf '\n# fine\nnot a quirk\n' >"$tmp/quirks"
if ! $pvpci view --host "sim:$net" --quirks "$tmp/quirks" >/dev/null 2>"$tmp/err" &&
   grep -q 'line 3' "$tmp/err"; then
	ok "quirks: a malformed line is named by its number"
else
	notok "quirks: a malformed line is named by its number" "$(cat "$tmp/err")"
fi
echo "1..$n"
[ "$fails" -eq 0 ]
