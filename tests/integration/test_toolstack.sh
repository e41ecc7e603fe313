#!/bin/bash
# The toolstack verbs against pvpci-stored and pvpcid --store on a sim
# host of this project's virtio fixtures, with `pvpci front 1 run` as
# domain 1's pcifront connected through its own socket (<store>.d/1):
# a first attach before the frontend exists, hot attach and detach while
# it runs (its rescans checked line by line, the entries renumbered as
# libxl does), pci-list, refusals that write nothing, and every way of not
# answering: pvpcid stopped, the frontend stopped before or in the middle
# of a reconfiguration, a detach it does not answer (restored, or removed
# with -f), a frontend of the wrong version.  Then seizing on a fake sysfs
# tree, never /sys.
# TAP on stdout; every process under a time limit; events are waited for
# through watches and the frontend's output FIFO, never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"
. "$src/tests/integration/xenbus_lib.sh"

cat "$src"/fixtures/virtio-*.lspci >"$tmp/host.lspci"	# 00:01.0 ... 00:05.0
store_start
check "domain 1 introduced (its socket: sock.d/1), named guest1, owning its home" sh -c \
	"'$bin/store_client' introduce 1 && xenstore-write /local/domain/1/name guest1 &&
	 xenstore-chmod /local/domain/1 n1"
check "domain 2 introduced by pvpci domain-introduce, its home read-only to it" sh -c \
	"'$bin/pvpci' domain-introduce 2 && [ \"\$(XENSTORED_PATH='$tmp/sock.d/2' xenstore-read name)\" = Domain-2 ] &&
	 ! XENSTORED_PATH='$tmp/sock.d/2' xenstore-write name x 2>/dev/null"
if start --host "sim:$tmp/host.lspci" --store "$tmp/sock"; then
	ok "pvpcid --store serves"
else
	notok "pvpcid --store serves" "$(cat "$tmp/daemon.log")"
	finish
	exit 1
fi

# ---- assignable ----
check "assignable-add 00:02.0 00:03.0 00:04.0 (--host none: the store only)" sh -c \
	"for f in 00:03.0 00:02.0 00:04.0; do timeout 30 '$bin/pvpci' assignable-add \$f || exit 1; done"
pv assignable-list >"$tmp/out" 2>&1
same "assignable-list: xl's lines, by address, each with its trailing space" "$tmp/out" \
	"$(printf '0000:00:02.0 \n0000:00:03.0 \n0000:00:04.0 ')"
pv assignable-add 00:03.0 >"$tmp/out" 2>&1
same "assignable-add again: says so, exit 0" "$tmp/out" "pvpci assignable-add: 00:03.0 is assignable already"

untouched "attach of a function that is not assignable: refused, nothing written" \
	"0000:00:05.0 is not assignable" pv attach 1 00:05.0
pv attach 1 '00:03.*' >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q wildcard "$tmp/out"; then ok "a wildcard spec: usage error (2)"; else
	notok "a wildcard spec: usage error (2)" "exit $rc" "$(cat "$tmp/out")"; fi

# ---- first attach, before the frontend exists ----
check "attach 1 00:03.0@5: the domain's first, exit 0 once exported" pv attach 1 00:03.0@5
xenstore-ls -f "$BE1" | grep -vE "/(vdev-0|root-0|root_num) = " >"$tmp/out"
same "the backend directory as libxl writes it" "$tmp/out" "$BE1/frontend = \"$FE1\"
$BE1/frontend-id = \"1\"
$BE1/online = \"1\"
$BE1/state = \"3\"
$BE1/domain = \"guest1\"
$BE1/key-0 = \"0000:00:03.0\"
$BE1/dev-0 = \"0000:00:03.0\"
$BE1/vdevfn-0 = \"28\"
$BE1/opts-0 = \"msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict\"
$BE1/state-0 = \"3\"
$BE1/num_devs = \"1\""
xenstore-ls -fp "$FE1" >"$tmp/out"
same "the frontend directory as libxl writes it, domain 1's, dom0 reading" "$tmp/out" \
	"$FE1/backend = \"$BE1\"   (n1,r0)
$FE1/backend-id = \"0\"   (n1,r0)
$FE1/state = \"1\"   (n1,r0)"
if xenstore-ls -p /local/domain/0/backend/pci/1 | grep -q '^0 = "".*(n0,r1)$' &&
	xenstore-ls -p "$BE1" | grep -q '^frontend = .*(n0,r1)$'; then
	ok "the backend directory is dom0's, domain 1 reading"
else
	notok "the backend directory is dom0's, domain 1 reading" "$(xenstore-ls -p /local/domain/0/backend/pci/1 | head -3)"
fi
key "its function is domain 1's" /libxl/pci/0000-00-03-0/domid 1
key "pvpcid placed it at VSLOT 5" "$BE1/vdev-0" "0000:00:05.00"
pv assignable-list >"$tmp/out" 2>&1
same "assignable-list: 00:03.0 no longer" "$tmp/out" "$(printf '0000:00:02.0 \n0000:00:04.0 ')"

front_start
if front_next 1; then
	same "pvpci front 1 run (as domain 1) connects and sees it at 00:05.0" "$tmp/block" "connected
0000:00:05.0"
else
	notok "pvpci front 1 run (as domain 1) connects and sees it at 00:05.0" "$(cat "$tmp/front.err")"
fi
key "the frontend is Connected" "$FE1/state" 4

# ---- hot attach ----
check "attach 1 00:02.0,permissive=1: hot, exit 0 once the frontend rescanned" pv attach 1 00:02.0,permissive=1
front_next 2
same "the frontend rescanned: both functions" "$tmp/block" "rescanned
0000:00:00.0
0000:00:05.0"
key "opts-1 says permissive" "$BE1/opts-1" "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict"
key "the backend is Connected again" "$BE1/state" 4
pv list 1 >"$tmp/out" 2>&1
same "list 1: xl's table, vdev from the backend" "$tmp/out" "Vdev Device
05.0 0000:00:03.0
00.0 0000:00:02.0"
untouched "attach of a function the domain has: refused, nothing written" \
	"attached to domain 1 already" pv attach 1 00:02.0
check "attach 1 00:04.0: a third" pv attach 1 00:04.0
front_next 3
same "the frontend rescanned: three" "$tmp/block" "rescanned
0000:00:00.0
0000:00:01.0
0000:00:05.0"

# ---- detach the first: libxl's renumbering ----
check "detach 1 00:03.0: exit 0 once the frontend let it go" pv detach 1 00:03.0
front_next 2
same "the frontend rescanned: 00:05.0 gone" "$tmp/block" "rescanned
0000:00:00.0
0000:00:01.0"
entries >"$tmp/out"
same "entries 1 and 2 moved down to 0 and 1, vdevfn-0 gone with its entry, nothing at 2" "$tmp/out" \
	"$(printf '%s\n' "$BE1/dev-0 = \"0000:00:02.0\"" "$BE1/dev-1 = \"0000:00:04.0\"" \
		"$BE1/key-0 = \"0000:00:02.0\"" "$BE1/key-1 = \"0000:00:04.0\"" \
		"$BE1/opts-0 = \"msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict\"" \
		"$BE1/opts-1 = \"msitranslate=0,power_mgmt=0,permissive=0,rdm_policy=strict\"" \
		"$BE1/state-0 = \"3\"" "$BE1/state-1 = \"3\"" \
		"$BE1/vdev-0 = \"0000:00:00.00\"" "$BE1/vdev-1 = \"0000:00:01.00\"" | sort)"
key "num_devs 2" "$BE1/num_devs" 2
check "00:03.0 is nobody's again" fails xenstore-read /libxl/pci/0000-00-03-0/domid
pv list 1 >"$tmp/out" 2>&1
same "list 1 after it" "$tmp/out" "Vdev Device
00.0 0000:00:02.0
01.0 0000:00:04.0"

# ---- a frontend that does not answer ----
kill -STOP "$front_pid"
untouched "hot attach, the frontend stopped: fails after --timeout, the store exactly as before" \
	"did not take it in 1000 ms.*nothing left behind" pv attach --timeout 1000 1 00:03.0

# The frontend dies in the middle: it answered Reconfiguring (played here,
# as pcifront would), the backend exported, then nothing.
exported=$(grep -c "0000:00:03.0: registering for 1" "$tmp/daemon.log")
pv attach --timeout 1000 1 00:03.0 >"$tmp/attach.out" 2>&1 &
apid=$!
if wait_key "$BE1/state" 7 && XENSTORED_PATH=$tmp/sock.d/1 xenstore-write device/pci/0/state 7; then
	wait "$apid"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "nothing left behind" "$tmp/attach.out" &&
		[ "$(grep -c "0000:00:03.0: registering for 1" "$tmp/daemon.log")" -eq $((exported + 1)) ]; then
		ok "hot attach, the frontend gone mid-reconfiguration: fails, rolled back"
	else
		notok "hot attach, the frontend gone mid-reconfiguration: fails, rolled back" "exit $rc" "$(cat "$tmp/attach.out")"
	fi
else
	notok "hot attach, the frontend gone mid-reconfiguration: the backend went Reconfiguring" "$(xenstore-ls -f "$BE1")"
	wait "$apid"
fi
if wait_log "$BE1: 0000:00:03.0 is no longer listed: released"; then
	ok "pvpcid released the function no entry lists any more"
else
	notok "pvpcid released the function no entry lists any more" "$(tail -5 "$tmp/daemon.log")"
fi
check "00:03.0 is nobody's" fails xenstore-read /libxl/pci/0000-00-03-0/domid
kill -CONT "$front_pid"
front_next 2
same "the frontend, back, rescans: the two it had" "$tmp/block" "rescanned
0000:00:00.0
0000:00:01.0"
if wait_key "$BE1/state" 4; then
	xenstore-ls -f / >"$tmp/after"
	if cmp -s "$tmp/before" "$tmp/after"; then ok "then the store is as before the attach"; else
		notok "then the store is as before the attach" "$(diff "$tmp/before" "$tmp/after")"; fi
else
	notok "the backend Connected again" "$(xenstore-ls -f "$BE1" | grep state)"
fi

# ---- a detach the frontend does not answer ----
kill -STOP "$front_pid"
untouched "detach, the frontend stopped: fails, state-1 and the backend restored, the store as before" \
	"did not let it go in 1000 ms.*restored as it was" pv detach --timeout 1000 1 00:04.0
check "detach -f, the frontend stopped: exit 0" pv detach -f --timeout 1000 1 00:04.0
entries >"$tmp/out"
same "the entry removed anyway" "$tmp/out" "$(printf '%s\n' "$BE1/dev-0 = \"0000:00:02.0\"" \
	"$BE1/key-0 = \"0000:00:02.0\"" \
	"$BE1/opts-0 = \"msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict\"" \
	"$BE1/state-0 = \"3\"" "$BE1/vdev-0 = \"0000:00:00.00\"" | sort)"
key "num_devs 1" "$BE1/num_devs" 1
key "the backend Connected" "$BE1/state" 4
if wait_log "$BE1: 0000:00:04.0 is no longer listed: released"; then
	ok "pvpcid released it"
else
	notok "pvpcid released it" "$(tail -5 "$tmp/daemon.log")"
fi
kill -CONT "$front_pid"

# ---- detach the last: the directories go ----
check "detach 1 00:02.0, the last" pv detach 1 00:02.0
front_next 0
same "the frontend rescanned: nothing left" "$tmp/block" "rescanned"
check "backend and frontend directories removed, and their empty parents" \
	fails sh -c 'xenstore-exists /local/domain/0/backend || xenstore-exists /local/domain/1/device'
key "the domain's own keys kept" /local/domain/1/name guest1
if IFS= read -r -t 10 line <&3 && [ "$line" = "backend closing" ] &&
	timeout 10 tail --pid="$front_timeout" -f /dev/null; then
	ok "the frontend saw its device go and exited"
else
	notok "the frontend saw its device go and exited" "${line:-}" "$(cat "$tmp/front.err")"
fi
wait_log "$BE1: released" && ok "pvpcid released the device" || notok "pvpcid released the device" "$(tail -3 "$tmp/daemon.log")"

# ---- a frontend of another version ----
check "attach 2 00:05.0,seize=1: seized then attached" pv attach 2 00:05.0,seize=1
key "a domain with no name is Domain-2" "$BE2/domain" Domain-2
key "seize=1 made it assignable" /libxl/pci/0000-00-05-0/driver_path ""
check "domain 2's frontend publishes magic 6 (by hand)" env XENSTORED_PATH="$tmp/sock.d/2" \
	xenstore-write device/pci/0/pci-op-ref 1 device/pci/0/event-channel 1 device/pci/0/magic 6 \
	device/pci/0/state 3
if wait_key "$BE2/state" 5; then ok "the backend goes Closing"; else notok "the backend goes Closing" "$(xenstore-ls -f "$BE2")"; fi
key "xenbus_dev_fatal's error node" /local/domain/0/error/backend/pci/2/0/error \
	"14 version mismatch (6/7) with pcifront - halting xen-pciback"
check "detach 2 00:05.0: nobody connected, removed at once" pv detach --timeout 1000 2 00:05.0
check "its directories gone" fails xenstore-exists "$BE2"
check "assignable-remove 00:05.0" pv assignable-remove 00:05.0
check "assignable-remove 00:05.0 again: not assignable" fails pv assignable-remove 00:05.0

# ---- pvpcid stopped: nobody answers ----
if stop && grep -q stopping "$tmp/daemon.log"; then ok "pvpcid stops"; else notok "pvpcid stops"; fi
untouched "attach with no backend: fails after --timeout, says why, the store exactly as before" \
	"did not export it in 1000 ms.*is pvpcid --store running.*nothing left behind" \
	pv attach --timeout 1000 1 00:02.0
if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err"; then
	notok "no sanitizer report from pvpcid or the frontend" "$(grep -h -A3 -e Sanitizer -e 'runtime error' "$tmp/daemon.log" "$tmp/front.err" | head -8)"
else
	ok "no sanitizer report from pvpcid or the frontend"
fi

# ---- seizing on a fake sysfs tree ----
root=$tmp/sysfs
mkdir -p "$root/bus/pci/devices" "$root/bus/pci/drivers/virtio-pci" "$root/bus/pci/drivers/pci-stub"
for d in virtio-pci pci-stub; do : >"$root/bus/pci/drivers/$d/bind"; : >"$root/bus/pci/drivers/$d/unbind"; done
for f in 0000:00:03.0:0x020000 0000:00:00.0:0x060400; do
	b=${f%:*}
	mkdir -p "$root/devices/pci0000:00/$b"
	ln -s "../../../devices/pci0000:00/$b" "$root/bus/pci/devices/$b"
	ln -s ../../../bus/pci/drivers/virtio-pci "$root/devices/pci0000:00/$b/driver"
	echo "${f##*:}" >"$root/devices/pci0000:00/$b/class"
	echo "(null)" >"$root/devices/pci0000:00/$b/driver_override"
done
dev=$root/devices/pci0000:00/0000:00:03.0
drv=$root/bus/pci/drivers
check "assignable-remove 00:03.0 (recorded only, --host none: nothing to give back)" \
	pv assignable-remove 00:03.0
# Every file the verbs open for writing, traced: none under /sys.  (Leak
# checking does not work under ptrace.)
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=open,openat -o "$tmp/strace" \
	timeout 30 "$bin/pvpci" assignable-add --host "sysfs:$root" 0000:00:03.0 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$drv/virtio-pci/unbind")" = 0000:00:03.0 ] &&
	[ "$(cat "$dev/driver_override")" = pci-stub ] && [ "$(cat "$drv/pci-stub/bind")" = 0000:00:03.0 ]; then
	ok "assignable-add --host sysfs:ROOT: unbound from virtio-pci, driver_override pci-stub, bound to pci-stub"
else
	notok "assignable-add --host sysfs:ROOT: unbound, driver_override, bound" "exit $rc" "$(cat "$tmp/out")"
fi
if grep -E 'O_WRONLY|O_RDWR' "$tmp/strace" | grep -q '"/sys'; then
	notok "nothing under /sys opened for writing" "$(grep -E 'O_WRONLY|O_RDWR' "$tmp/strace" | grep '"/sys')"
else
	ok "nothing under /sys opened for writing"
fi
key "driver_path: where it came from" /libxl/pci/0000-00-03-0/driver_path "$(realpath "$drv/virtio-pci")"
pv assignable-add --host "sysfs:$root" 0000:00:00.0 >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "bridge" "$tmp/out" && ! xenstore-exists /libxl/pci/0000-00-00-0; then
	ok "a bridge is refused, not recorded"
else
	notok "a bridge is refused, not recorded" "exit $rc" "$(cat "$tmp/out")"
fi
ln -sfn ../../../bus/pci/drivers/pci-stub "$dev/driver"	# as the kernel would have
check "assignable-remove -r --host sysfs:ROOT" pv assignable-remove -r --host "sysfs:$root" 0000:00:03.0
if [ "$(cat "$drv/pci-stub/unbind")" = 0000:00:03.0 ] && [ "$(cat "$dev/driver_override")" = "" ] &&
	[ "$(cat "$drv/virtio-pci/bind")" = 0000:00:03.0 ]; then
	ok "unbound from pci-stub, driver_override cleared, rebound to virtio-pci"
else
	notok "unbound from pci-stub, driver_override cleared, rebound to virtio-pci" \
		"$(head "$drv/pci-stub/unbind" "$dev/driver_override" "$drv/virtio-pci/bind")"
fi
check "its node is gone" fails xenstore-exists /libxl/pci/0000-00-03-0

store_stop
finish
