#!/bin/sh
# Through the protocol: for every dump in fixtures/ and
# ../shared/fixtures/pciutils, a pvpcid exporting every exportable function
# to domain 1 and `pvpci front 1 lspci` reading them over the local
# transport show the same bytes as `pvpci view`, in every topology.
# passthrough: the same text, addresses included.  vpci: the same bytes,
# every function on 0000:00, functions of one physical slot together in
# one virtual slot with their function numbers.  slot: the same bytes,
# each function alone at function 0 of the next slot, 0000:00 then
# 0000:01 (the first 64 functions).
# TAP on stdout; every process under a time limit; the daemon is waited for,
# never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_daemon.sh"
shared=${PVPCI_SHARED:-$src/../shared}

files=$(ls "$src"/fixtures/*.lspci 2>/dev/null)
[ -d "$shared/fixtures/pciutils" ] && files="$files $(ls "$shared"/fixtures/pciutils/*)"

for f in $files; do
	name=$(basename "$f")
	timeout 30 "$bin/pvpci" view --host "sim:$f" >"$tmp/view" 2>/dev/null
	for mode in passthrough vpci slot; do
		# Every exportable function; in vpci and slot only as many as fit.
		exports=$(grep '^[0-9a-f]\{4\}:' "$tmp/view" | cut -d' ' -f1 |
			awk -v mode=$mode '{ slot = substr($1, 1, 10)
				if (mode == "slot" && nfns == 64) next
				if (!(slot in seen)) { if (mode == "vpci" && nslots == 32) next; seen[slot] = 1; nslots++ }
				nfns++
				printf " --export 1:%s", $1 }')
		if [ -z "$exports" ]; then
			ok "$name $mode: nothing exportable (# bridges only)"
			continue
		fi
		: >"$tmp/daemon.log"
		# The bytes are what is compared here: functions of a whole
		# machine's dump that share a line interrupt are exported too.
		# shellcheck disable=SC2086
		if ! start --host "sim:$f" --mode $mode --allow-shared-intx $exports; then
			notok "$name $mode: pvpcid starts" "$(cat "$tmp/daemon.log")"
			continue
		fi
		if ! PVPCI_SOCKET="$tmp/sock" timeout 60 "$bin/pvpci" front 1 lspci >"$tmp/front" 2>"$tmp/ferr"; then
			notok "$name $mode: pvpci front lspci exits 0" "$(cat "$tmp/ferr")"
			stop
			continue
		fi
		stop
		# The view of just the exported functions, in the order the guest scans.
		python3 - "$tmp/view" "$tmp/front" "$mode" "$exports" >"$tmp/cmp" <<'EOF'
import sys
view, front, mode, exports = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
# A function's block: its address, then its bytes.  The description after
# the address is left out: the view has the host's text, the guest only
# the bytes it reads (the same IDs and class, named from pci.ids).
def blocks(t):
    out = []
    for b in t.split('\n\n'):
        lines = b.strip('\n').split('\n')
        if lines[0]:
            out.append(lines[0].split(' ', 1)[0] + ' ' + '\n'.join(l for l in lines[1:] if not l.startswith('\t')))
    return out
wanted = [e.split(':', 1)[1] for e in exports.split() if e != '--export']
vb = {b.split(' ', 1)[0]: b for b in blocks(view)}
fb = blocks(front)
bad = []
if len(fb) != len(wanted):
    bad.append('front shows %d functions, %d exported' % (len(fb), len(wanted)))
if mode == 'passthrough':
    exp = sorted(wanted)
    got = [b.split(' ', 1)[0] for b in fb]
    if got != exp:
        bad.append('addresses %s, expected %s' % (got, exp))
    for b in fb:
        if b != vb.get(b.split(' ', 1)[0]):
            bad.append('%s differs from pvpci view' % b.split(' ', 1)[0])
elif mode == 'slot':
    for i, (h, b) in enumerate(zip(wanted, fb)):
        g, rest = b.split(' ', 1)
        if rest != vb[h].split(' ', 1)[1]:
            bad.append('%s (host %s) differs from pvpci view' % (g, h))
        want = '0000:%02x:%02x.0' % (i // 32, i % 32)
        if g != want:
            bad.append('host %s at %s, expected %s' % (h, g, want))
else:
    slots = {}
    for h, b in zip(wanted, fb):
        g, rest = b.split(' ', 1)
        if rest != vb[h].split(' ', 1)[1]:
            bad.append('%s (host %s) differs from pvpci view' % (g, h))
        if not g.startswith('0000:00:') or g[-1] != h[-1]:
            bad.append('host %s at %s: not on bus 0 with its function number' % (h, g))
        slots.setdefault(h[:10], set()).add(g[:10])
    for s, gs in slots.items():
        if len(gs) != 1:
            bad.append('functions of slot %s spread over %s' % (s, sorted(gs)))
if bad:
    print('\n'.join(bad))
EOF
		if [ -s "$tmp/cmp" ]; then
			notok "$name $mode: front lspci equals pvpci view" "$(head -5 "$tmp/cmp")"
		else
			ok "$name $mode: $(grep -c '^[0-9a-f]\{4\}:' "$tmp/front") functions, front lspci equals pvpci view"
		fi
		if grep -q 'frontend went away' "$tmp/daemon.log" && grep -q 'stopping' "$tmp/daemon.log"; then
			ok "$name $mode: the daemon saw the frontend go and stopped cleanly"
		else
			notok "$name $mode: the daemon saw the frontend go and stopped cleanly" "$(tail -3 "$tmp/daemon.log")"
		fi
	done
done

tap_done
