#!/bin/sh
# Save/restore survives the death of whoever held the function (seed 000):
# on a fake sysfs tree (a temp dir, never /sys), `pvpci save` keeps the
# function's registers; a process binds it and lets a guest write all it
# can through the engine, the config file is scribbled over besides (what
# a reset or a wild device would do), the holder is killed with SIGKILL;
# then `pvpci restore` gives back the saved bytes.  Also: a corrupt state
# file is set aside and nothing written; no reset file means a clear
# refusal unless --no-reset-ok; D3hot comes back to D0; without writes=1
# nothing is written.  TAP on stdout; every program under `timeout`; no
# sleeping: the holder says when it is ready through a FIFO.
set -u
bin=${PVPCI_BIN:?}
pvpci="timeout 30 $bin/pvpci"
guest=$bin/sr_guest
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvpci-srkill.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
bdf=0000:03:00.0
root=$tmp/sys
spec="sysfs:$root,writes=1"
state=$tmp/state
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); echo "not ok $n - $1"; shift
	for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
}
check() {	# description, command...
	d=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$d"; else notok "$d" "$tmp/out"; fi
}

echo "1..17"

# The function, on a fake sysfs tree (fake_sysfs.sh: a PCIe endpoint with
# a config file, resource and reset, and no driver).
. "${PVPCI_SRC:?}/tests/integration/fake_sysfs.sh"
mkdir -p "$state"
fake_endpoint "$root" "$bdf"

file=$state/$bdf.state
check "pvpci save writes $bdf's state" $pvpci save --host "$spec" --state-dir "$state" "$bdf"
nregs=$(grep -c '^reg ' "$file" 2>/dev/null)
if [ "$nregs" = 18 ] && [ -z "$(differing "$file")" ]; then
	ok "the state holds the 18 registers of the set, as the device has them"
else
	notok "the state holds the 18 registers of the set ($nregs)" "$file"
fi
cp "$cfg" "$tmp/config.saved"
fullbytes "$cfg" "$tmp/full.saved"

# The holder: binds, lets the guest write everything, says "ready PID".
mkfifo "$tmp/ready"
timeout -s KILL 60 "$guest" "$spec" "$bdf" >"$tmp/ready" 2>"$tmp/guest.err" &
tpid=$!
gpid=
read -r word gpid <"$tmp/ready" || word=
if [ "$word" = ready ] && [ -n "$gpid" ]; then
	ok "a holder bound $bdf and a guest wrote every offset through the engine"
else
	notok "a holder bound $bdf" "$tmp/guest.err"
fi
# And what the guest could not reach, a wild device or a reset can, AER
# Capabilities and Control's unsaved bits too.
scribble
put 0x118 00 00 00 00
[ -n "$gpid" ] && kill -9 "$gpid"
wait "$tpid" 2>/dev/null	# dash reports the kill on stderr
st=$?
if [ "$st" -eq 137 ]; then
	ok "the holder died of SIGKILL between save and restore"
else
	notok "the holder died of SIGKILL (status $st)" "$tmp/guest.err"
fi
if [ -n "$(differing "$file")" ] && ! cmp -s "$tmp/config.saved" "$cfg"; then
	ok "the function's registers differ from the saved ones"
else
	notok "the function's registers differ from the saved ones"
fi

check "pvpci restore exits 0" $pvpci restore --host "$spec" --state-dir "$state" "$bdf"
differing "$file" >"$tmp/diff"
if [ ! -s "$tmp/diff" ]; then
	ok "every register of the set is back to its saved bits"
else
	notok "every register of the set is back to its saved bits" "$tmp/diff"
fi
fullbytes "$cfg" "$tmp/full.now"
check "BARs, ROM, cache line, latency and AER masks are the saved bytes (cmp)" \
	cmp "$tmp/full.saved" "$tmp/full.now"
cmd=$(od -An -j 4 -N 2 -t u2 "$cfg" | tr -d ' ')
if [ $((cmd & 0x0140)) -eq $((0x0140)) ]; then
	ok "Command's SERR and PERR enables are back"
else
	notok "Command's SERR and PERR enables are back (Command 0x$(printf %x "$cmd"))"
fi
if [ "$(cat "$dev/reset")" = 1 ]; then
	ok "restore reset the function through sysfs reset"
else
	notok "restore reset the function through sysfs reset"
fi

# D3hot comes back to D0 before the registers are written.
put 0x44 03 00
put 0x10 00 00 00 00
PVPCI_STATE_DIR=$state $pvpci restore --host "$spec" "$bdf" >"$tmp/out" 2>&1
pm=$(od -An -j $((0x44)) -N 1 -t u1 "$cfg" | tr -d ' ')
if [ $((pm & 3)) -eq 0 ] && [ -z "$(differing "$file")" ] && grep -q 'D3hot to D0' "$tmp/out"; then
	ok "a function in D3hot is brought to D0 and restored (state dir from PVPCI_STATE_DIR)"
else
	notok "a function in D3hot is brought to D0 and restored (PMCSR $pm)" "$tmp/out"
fi

# Read-only host spec: nothing written, and the reason said.
put 0x0c 00
cp "$cfg" "$tmp/before"
if ! $pvpci restore --host "sysfs:$root" --state-dir "$state" "$bdf" >"$tmp/out" 2>&1 &&
   grep -q 'writes are not enabled' "$tmp/out" && cmp -s "$tmp/before" "$cfg"; then
	ok "without writes=1 restore refuses and writes nothing"
else
	notok "without writes=1 restore refuses and writes nothing" "$tmp/out"
fi

# No reset available: refused, unless --no-reset-ok.
rm "$dev/reset"
if ! $pvpci restore --host "$spec" --state-dir "$state" "$bdf" >"$tmp/out" 2>&1 &&
   grep -q 'no function reset is available' "$tmp/out" && cmp -s "$tmp/before" "$cfg"; then
	ok "no reset file: restore refuses and writes nothing"
else
	notok "no reset file: restore refuses and writes nothing" "$tmp/out"
fi
check "no reset file: --no-reset-ok restores" \
	$pvpci restore --no-reset-ok --host "$spec" --state-dir "$state" "$bdf"
if [ -z "$(differing "$file")" ] && grep -q 'going on without one' "$tmp/out"; then
	ok "... with a warning, and the registers are back"
else
	notok "... with a warning, and the registers are back" "$tmp/out"
fi

# A corrupt state file is never used: set aside, nothing written.
sed 's/^reg cacheline 00c 1 ff 10$/reg cacheline 00c 1 ff 11/' "$file" >"$tmp/edited"
cp "$tmp/edited" "$file"
put 0x0c 00
cp "$cfg" "$tmp/before"
if ! $pvpci restore --no-reset-ok --host "$spec" --state-dir "$state" "$bdf" >"$tmp/out" 2>&1 &&
   grep -q 'checksum mismatch' "$tmp/out" && [ -f "$file.corrupt" ] && [ ! -e "$file" ] &&
   cmp -s "$tmp/before" "$cfg"; then
	ok "an edited state file is set aside as .corrupt and nothing is written"
else
	notok "an edited state file is set aside as .corrupt and nothing is written" "$tmp/out"
fi
if ! $pvpci restore --no-reset-ok --host "$spec" --state-dir "$state" "$bdf" >"$tmp/out" 2>&1 &&
   grep -q 'no saved state' "$tmp/out"; then
	ok "after that, restore says there is no saved state"
else
	notok "after that, restore says there is no saved state" "$tmp/out"
fi
