#!/bin/bash
# pvpcid killed with -9 under a frontend that keeps its page, as Linux's
# xen-pcifront does (once Connected it never connects again: it goes on
# with the pci-op-ref and event-channel it published), and restarted: the
# new pvpcid finds the device Connected with its frontend Connected and
# takes the connection over without a word from the frontend.  The
# frontend (pcifront_keep, the library's frontend with keep_page, as
# domain 1 through pvpci-stored) sets its function up (bus master off,
# the cache line size, MSI); then
#  1. pvpcid killed: nothing of what the guest set up is restored; the
#     restarted pvpcid takes the function over as it is, the same
#     frontend's next reads answer what it wrote (the Command register's
#     virtual bits too), its MSI is known to be on (a second enable is
#     refused) and its page and event channel are those it published;
#     neither side's state moved;
#  2. pvpcid stopped (SIGSTOP) with an op in flight (the frontend posted
#     a read and kicked), killed, restarted: that read is answered, the
#     right byte;
#  3. the MSI interrupt taken over is given back at the guest's disable
#     (the Enable bit off in the function, the number free again);
#  4. the frontend goes: its function reset and restored as for any
#     guest that leaves, the guest's view file gone; detached, the config
#     file as before the attach.
# The function is a PCIe endpoint with MSI on a fake sysfs tree (never
# /sys).  Every process under a time limit; the frontend's answers come
# through a FIFO; only the daemon's log, which has no event, is polled.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/xenbus_lib.sh"
. "$src/tests/integration/fake_sysfs.sh"

root=$tmp/sys
bdf=0000:03:00.0
state=$tmp/state
fake_endpoint "$root" "$bdf"
fake_msi
cp "$cfg" "$tmp/cfg.before"

run_pvpcid() {
	rm -f "$tmp/pid"
	timeout 170 "$bin/pvpcid" --background --pidfile "$tmp/pid" --socket "$dsock" --state-dir "$state" \
		--host "sysfs:$root,writes=1" --store "$tmp/sock" 2>>"$tmp/daemon.log" 3>&- 4>&- && pid=$(cat "$tmp/pid")
}
# kill9: pvpcid gone for good (SIGKILL works on a stopped process too).
kill9() {
	kill -9 "$pid"
	timeout 20 tail --pid="$pid" -f /dev/null
	pid=
}
# byte OFF: the config file's byte at OFF, as 0xNN.
byte() { printf '0x%02x' "$(od -An -j $(($1)) -N 1 -t u1 "$cfg")"; }
# logged_since: the daemon's log after the mark, "pvpcid: " and the device's path cut.
mark() { marked=$(wc -l <"$tmp/daemon.log"); }
logged_since() { tail -n +$((marked + 1)) "$tmp/daemon.log" | sed -e 's/^pvpcid: //' -e "s|^$BE1: ||"; }

# The frontend: commands into fd 4, its answers out of fd 3.
front() {
	mkfifo "$tmp/front.in" "$tmp/front.out"
	exec 3<>"$tmp/front.out"
	XENSTORED_PATH=$tmp/sock.d/1 timeout 170 "$bin/pcifront_keep" "$dsock" 1 <"$tmp/front.in" >"$tmp/front.out" \
		2>>"$tmp/front.err" &
	front_pid=$!
	bg_pids="$bg_pids $front_pid"
	exec 4>"$tmp/front.in"
}
# ask COMMAND: its answer (the line after "sent", if any) in $got (30 s).
ask() {
	local line
	got=
	echo "$*" >&4
	while IFS= read -r -t 30 line <&3; do
		[ "$line" = sent ] && continue
		got=$line
		return 0
	done
	return 1
}
# answers DESCRIPTION COMMAND EXPECTED
answers() {
	if ask "$2" && [ "$got" = "$3" ]; then ok "$1"; else notok "$1" "'$2' answered '$got', expected '$3'" "$(tail -3 "$tmp/front.err")"; fi
}

store_start
check "domain-introduce 1" pv domain-introduce 1
run_pvpcid || { notok "pvpcid serves" "$(tail -3 "$tmp/daemon.log")"; finish; exit 1; }
check "assignable-add, attach 1 $bdf" sh -c "timeout 30 '$bin/pvpci' assignable-add $bdf && timeout 30 '$bin/pvpci' attach 1 $bdf"
front
if IFS= read -r -t 30 line <&3 && [ "$line" = connected ]; then ok "the frontend connects through xenbus"; else
	notok "the frontend connects" "${line:-}" "$(cat "$tmp/front.err")"; finish; exit 1; fi
answers "it reads the function's IDs" "read 00:00.0 0 4" 0x56781234
answers "it turns bus master off, memory decode on" "write 00:00.0 4 2 0x2" ok
answers "... sets the cache line size" "write 00:00.0 0xc 1 0x10" ok
answers "... enables MSI: interrupt 32" "msi 00:00.0 enable" "irq 32"
ask page
page=$got
published="ref $(xenstore-read "$FE1/pci-op-ref") port $(xenstore-read "$FE1/event-channel")"
if [ "$page" = "$published" ] && [ "$(byte 0x04)" = 0x42 ] && [ "$(byte 0x0c)" = 0x10 ] && [ "$(byte 0x92)" = 0x81 ]; then
	ok "the function holds what the guest set up (bus master off, cache line 0x10, MSI on); $page published"
else
	notok "the function holds what the guest set up" "page '$page', published '$published'" \
		"Command $(byte 0x04), cache line $(byte 0x0c), MSI control $(byte 0x92)"
fi

# ---- 1. killed between two ops ----
kill9
if [ "$(byte 0x04)" = 0x42 ] && [ "$(byte 0x0c)" = 0x10 ] && [ -f "$state/$bdf.state" ] && [ -f "$state/$bdf.guest" ]; then
	ok "pvpcid killed with -9: the function as the guest left it, its saved state and the guest's view kept"
else
	notok "pvpcid killed: the function as the guest left it" "$(ls "$state")" "Command $(byte 0x04)"
fi
mark
run_pvpcid
answers "restarted: the same frontend reads the Command register as it wrote it (the device: 0x0142)" "read 00:00.0 4 2" 0x0002
answers "... the cache line size it wrote" "read 00:00.0 0xc 1" 0x10
answers "... a second MSI enable is refused: the one it had is known" "msi 00:00.0 enable" "err -5"
answers "... the same page and event channel" page "$page"
logged_since >"$tmp/steplog"
if awk 'BEGIN { w[1] = "^0000:03:00.0: registering for 1 \\(taken over as its guest left it\\)$"
		w[2] = "^picked up from an earlier run: 1 function, its frontend still connected$"
		w[3] = "^domain 1: frontend connected \\(pci-op-ref 1, event-channel 1\\): it kept its page"
		w[4] = "^the frontend.s page 1 and event channel 1 taken over$"; k = 1 }
	k <= 4 && $0 ~ w[k] { k++ } END { exit k != 5 }' "$tmp/steplog" &&
	! grep -q -e 'restored' -e 'backend \(Initialised\|Closing\|Closed\)' -e 'frontend \(Initialised\|Closing\|Closed\)' "$tmp/steplog"; then
	ok "pvpcid took the function and the connection over; nothing restored, no state written by either side"
else
	notok "pvpcid took the function and the connection over" "$(cat "$tmp/steplog")"
fi
key "the backend Connected" "$BE1/state" 4
key "the frontend Connected" "$FE1/state" 4
if [ "$(byte 0x04)" = 0x42 ] && [ "$(byte 0x0c)" = 0x10 ] && [ "$(byte 0x92)" = 0x81 ]; then
	ok "the function still as the guest set it up"
else
	notok "the function still as the guest set it up" "Command $(byte 0x04), cache line $(byte 0x0c), MSI control $(byte 0x92)"
fi

# ---- 2. killed with an op in flight ----
kill -STOP "$pid"
echo "read 00:00.0 0xc 1" >&4
if IFS= read -r -t 30 line <&3 && [ "$line" = sent ]; then
	kill9
	mark
	run_pvpcid
	if IFS= read -r -t 30 line <&3 && [ "$line" = 0x10 ]; then
		ok "a read in flight when pvpcid died is answered by the next one: 0x10"
	else
		notok "a read in flight is answered by the next pvpcid" "${line:-}" "$(tail -3 "$tmp/front.err")"
	fi
else
	notok "the frontend posts a read" "${line:-}"
fi
answers "... and the next read too" "read 00:00.0 0 4" 0x56781234

# ---- 3. the MSI taken over, given back ----
answers "the guest disables MSI" "msi 00:00.0 disable" ok
if [ "$(byte 0x92)" = 0x80 ]; then ok "MSI Enable off in the function"; else notok "MSI Enable off" "MSI control $(byte 0x92)"; fi
answers "enabled again: interrupt 32, the number taken over and given back" "msi 00:00.0 enable" "irq 32"

# ---- 4. the frontend goes ----
resets=$(grep -c "$bdf: restored 18 registers after a function reset" "$tmp/daemon.log")
exec 4>&-
timeout 20 tail --pid="$front_pid" -f /dev/null
wait_key "$BE1/state" 6
if wait_log "$bdf: restored 18 registers after a function reset" $((resets + 1)) && [ ! -e "$state/$bdf.guest" ] &&
	[ -z "$(differing "$state/$bdf.state")" ] && [ "$(byte 0x92)" = 0x80 ]; then
	ok "the frontend closes: the function reset and restored, MSI off, the guest's view gone"
else
	notok "the frontend closes: the function reset and restored" "$(ls "$state")" "$(differing "$state/$bdf.state")"
fi
check "detach 1 $bdf" pv detach 1 "$bdf"
wait_log "$BE1: released"
if [ ! -e "$state/$bdf.state" ] && cmp -s "$tmp/cfg.before" "$cfg" && [ -z "$(ls -A "$state")" ]; then
	ok "released: the state directory empty, the config file as before the attach"
else
	notok "released" "$(ls -A "$state")" "$(cmp -l "$tmp/cfg.before" "$cfg" | head -5)"
fi
kill "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
pid=
if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err"; then
	notok "no sanitizer report" "$(grep -h -A3 -e Sanitizer -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err" | head -8)"
else
	ok "no sanitizer report from pvpcid or the frontend"
fi
store_stop
finish
