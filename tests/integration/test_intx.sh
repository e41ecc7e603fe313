#!/bin/bash
# Shared INTx: a function whose legacy interrupt line another host
# function uses is refused for export, saying why, unless the operator
# accepts the risk (pvpcid --allow-shared-intx, --export ...,
# allow_shared_intx=1, or pvpci attach ...,allow_shared_intx=1), which is
# logged as a warning; a function with Interrupt Pin 0 (MSI only) is never
# refused.
#  1. pvpcid --export on a fake sysfs tree (a temp dir, never /sys): three
#     endpoints on IRQ 11 (their irq files), two with INTA, one with pin 0
#     and MSI; the refused one untouched (its config file, no state file).
#  2. Through the store, a sim host whose dump says each function's IRQ
#     (lspci -v's Flags line): a first attach refused (the device closed,
#     as pciback closes it, nothing left behind), accepted with
#     allow_shared_intx=1; a hot attach refused alone (the device and the
#     guest's function kept), accepted with the option.
# TAP on stdout; every process under a time limit; events come through
# watches, the verbs' own waits and the frontend's output FIFO; only the
# daemon's log, which has none, is polled.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"
. "$src/tests/integration/fake_sysfs.sh"
ERR1=/local/domain/0/error/backend/pci/1/0/error
WHY="Xen does not security-support passing through a device that shares resources with another (SUPPORT.md); to accept the risk, attach it with allow_shared_intx=1 or run pvpcid --allow-shared-intx"

# ---- 1. pvpcid --export on a fake sysfs tree ----
root=$tmp/sysfs
for f in 04 05 06; do
	fake_endpoint "$root" 0000:00:$f.0
	echo 11 >"$dev/irq"
done
fake_msi
put 0x3d 00	# 06.0: MSI and MSI-X, no INTx; its irq file still says 11
cp "$root/devices/pci0000:00/0000:00:04.0/config" "$tmp/cfg.04"
host="sysfs:$root,writes=1"
: >"$tmp/daemon.log"
if start --host "$host" --export 1:0000:00:04.0; then
	notok "--export of 04.0 (INTA, IRQ 11, as 05.0): refused"
	stop
else
	if grep -qF "pvpcid: error: export 0000:00:04.0 to domain 1: 0000:00:04.0: its legacy interrupt (INTx, IRQ 11) is shared with 0000:00:05.0: $WHY" \
		"$tmp/daemon.log"; then
		ok "--export of 04.0 (INTA, IRQ 11, as 05.0): refused, saying why and how to accept it"
	else
		notok "--export of 04.0: refused, saying why" "$(cat "$tmp/daemon.log")"
	fi
fi
if cmp -s "$tmp/cfg.04" "$root/devices/pci0000:00/0000:00:04.0/config" && [ -z "$(ls "$tmp/state")" ]; then
	ok "the refused function was not touched: its config file as it was, no state file"
else
	notok "the refused function was not touched" "$(ls "$tmp/state")"
fi
: >"$tmp/daemon.log"
if start --host "$host" --export 1:0000:00:06.0; then
	if PVPCI_SOCKET=$dsock timeout 30 "$bin/pvpci" front 1 list >"$tmp/out" 2>&1 &&
		[ "$(cut -d" " -f1 "$tmp/out")" = "0000:00:00.0" ] && ! grep -q "legacy interrupt" "$tmp/daemon.log"; then
		ok "06.0 (pin 0, MSI): exported on the same IRQ without a word; the frontend finds it"
	else
		notok "06.0 (pin 0, MSI): exported without a word" "$(cat "$tmp/out" "$tmp/daemon.log")"
	fi
	stop
else
	notok "06.0 (pin 0, MSI): exported" "$(cat "$tmp/daemon.log")"
fi
for how in "--export 1:0000:00:04.0,allow_shared_intx=1" "--allow-shared-intx --export 1:0000:00:04.0"; do
	: >"$tmp/daemon.log"
	# shellcheck disable=SC2086
	if start --host "$host" $how && grep -qF "pvpcid: warning: 0000:00:04.0: its legacy interrupt (INTx, IRQ 11) is shared with 0000:00:05.0: exported anyway (allow_shared_intx), which Xen does not security-support" \
		"$tmp/daemon.log" && PVPCI_SOCKET=$dsock timeout 30 "$bin/pvpci" front 1 list >"$tmp/out" 2>&1 &&
		[ "$(cut -d" " -f1 "$tmp/out")" = "0000:00:00.0" ]; then
		ok "$how: exported, with a warning"
	else
		notok "$how: exported, with a warning" "$(cat "$tmp/daemon.log")"
	fi
	stop
done
: >"$tmp/daemon.log"
if start --host "$host" --export 1:0000:00:04.0,allow_shared_intx=2; then
	notok "allow_shared_intx=2: a usage error"
	stop
else
	if grep -q "expected DOMID:BDF\[@VSLOT\]\[,permissive=1\]\[,allow_shared_intx=1\]" "$tmp/daemon.log"; then
		ok "allow_shared_intx=2: a usage error"
	else
		notok "allow_shared_intx=2: a usage error" "$(cat "$tmp/daemon.log")"
	fi
fi

# ---- 2. through the store, on a sim host ----
# 00:02.0 to 00:07.0 on IRQ 10 (lspci -v says), 00:08.0 alone on 5.
for f in "0000:00:02.0 10" "0000:00:03.0 10" "0000:00:04.0 10" "0000:00:05.0 10" "0000:00:06.0 10" \
	"0000:00:07.0 10" "0000:00:08.0 5"; do
	sed -e "1s/^[^ ]*/${f% *}/" -e "1a\\	Flags: bus master, fast devsel, latency 0, IRQ ${f#* }" \
		-e 's/^30: 00 00 00 00 40 00 00 00 00 00 00 00 00 00/30: 00 00 00 00 40 00 00 00 00 00 00 00 0a 01/' \
		"$src/fixtures/virtio-net.lspci"
done >"$tmp/host.lspci"
store_start
check "domain 1 introduced" pv domain-introduce 1
: >"$tmp/daemon.log"
if start --host "sim:$tmp/host.lspci" --store "$tmp/sock" --hide "(00:02.0)(00:03.0)(00:08.0)"; then
	ok "pvpcid --store serves"
else
	notok "pvpcid --store serves" "$(cat "$tmp/daemon.log")"
	finish
	exit 1
fi
# untouched_but_error DESCRIPTION TEXT COMMAND...: the command fails (exit
# 1) saying TEXT, and once the device (if any) is Connected again the
# store is as it was but the backend's error node.
untouched_but_error() {
	local d=$1 pat=$2 rc
	shift 2
	xenstore-ls -f / | grep -v "^/local/domain/0/error" >"$tmp/before"
	"$@" >"$tmp/out" 2>&1
	rc=$?
	! xenstore-exists "$BE1" || wait_key "$BE1/state" 4
	xenstore-ls -f / | grep -v "^/local/domain/0/error" >"$tmp/after"
	if [ "$rc" -eq 1 ] && grep -qF "$pat" "$tmp/out" && cmp -s "$tmp/before" "$tmp/after"; then
		ok "$d"
	else
		notok "$d" "exit $rc" "$(cat "$tmp/out")" "$(diff "$tmp/before" "$tmp/after")"
	fi
}
msg="0000:00:02.0: its legacy interrupt (INTx, IRQ 10) is shared with 0000:00:03.0, 0000:00:04.0, 0000:00:05.0, 0000:00:06.0 and 1 more: $WHY"
untouched_but_error "attach 1 00:02.0, the first: refused, the backend closed, nothing left behind" \
	"the backend is Closing: 1 $msg; nothing left behind" pv attach 1 00:02.0
key "the error node says why" "$ERR1" "1 $msg"
check "attach 1 00:02.0,allow_shared_intx=1" pv attach 1 00:02.0,allow_shared_intx=1
key "opts-0: libxl's line, and allow_shared_intx=1" "$BE1/opts-0" \
	"msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict,allow_shared_intx=1"
if wait_log "pvpcid: warning: 0000:00:02.0: its legacy interrupt (INTx, IRQ 10) is shared with 0000:00:03.0, 0000:00:04.0, 0000:00:05.0, 0000:00:06.0 and 1 more: exported anyway"; then
	ok "pvpcid's log warns"
else
	notok "pvpcid's log warns" "$(tail -3 "$tmp/daemon.log")"
fi
front_start
front_sees "the frontend connects and finds it" connected 0000:00:00.0
msg="0000:00:03.0: its legacy interrupt (INTx, IRQ 10) is shared with 0000:00:02.0, 0000:00:04.0, 0000:00:05.0, 0000:00:06.0 and 1 more: $WHY"
untouched_but_error "hot attach of 00:03.0: refused alone, nothing left behind" \
	"the backend refused it: 1 $msg; nothing left behind" pv attach 1 00:03.0
key "the error node says why" "$ERR1" "1 $msg"
front_sees "the frontend rescanned: what it had" rescanned 0000:00:00.0
if wait_key "$BE1/state" 4; then ok "the device is Connected again"; else notok "the device is Connected again" "state $got"; fi
check "attach 1 00:08.0 (alone on IRQ 5)" pv attach 1 00:08.0
front_sees "the frontend rescanned: two" rescanned 0000:00:00.0 0000:00:01.0
check "attach 1 00:03.0,allow_shared_intx=1" pv attach 1 00:03.0,allow_shared_intx=1
front_sees "the frontend rescanned: three" rescanned 0000:00:00.0 0000:00:01.0 0000:00:02.0
if [ "$(grep -c "exported anyway" "$tmp/daemon.log")" -eq 2 ] && ! grep -q "00:08.0: its legacy" "$tmp/daemon.log"; then
	ok "one warning for each function accepted, none for the one alone"
else
	notok "one warning for each function accepted, none for the one alone" "$(grep "legacy" "$tmp/daemon.log")"
fi

stop_clean
store_stop
finish
