#!/bin/sh
# --verbose-requests on both sides: pvpcid logs every op it serves and
# `pvpci front` every op it sends, each with the value read (a conf_read)
# or the count sent and the answer (enable_msix).
# TAP on stdout; every process under a time limit; the daemon is waited
# for, never slept on.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_daemon.sh"

check() { # DESCRIPTION FILE LINE: FILE has LINE, whole
	if grep -qxF "$3" "$2"; then ok "$1"; else notok "$1" "no line '$3' in:" "$(cat "$2")"; fi
}
# front DESCRIPTION ARGS...: pvpci front --verbose-requests ARGS exits 0
front() {
	d=$1; shift
	if timeout 30 "$bin/pvpci" front --socket "$tmp/sock" --verbose-requests "$@" \
		>"$tmp/front.out" 2>"$tmp/front.log"; then
		ok "$d"
	else
		notok "$d" "$(cat "$tmp/front.log")"
	fi
}

if ! start --host "sim:$src/fixtures/virtio-net.lspci" --export 1:00:03.0 --verbose-requests; then
	notok "pvpcid --verbose-requests starts" "$(cat "$tmp/daemon.log")"
	tap_done
	exit 1
fi
ok "pvpcid --verbose-requests starts"

front "pvpci front --verbose-requests reads" 1 read 00:00.0 0 4
check "pvpci front prints the value" "$tmp/front.out" "0x10411af4"
check "the frontend logs the read and its value" "$tmp/front.log" \
	"pvpci front: 0000:00:00.0: conf_read 4 bytes at 0x0 = 10411af4 -> 0 (success)"
front "pvpci front --verbose-requests enables MSI-X" 1 msix 00:00.0 enable 0 2
check "the frontend logs the entries it asked for and the answer" "$tmp/front.log" \
	"pvpci front: 0000:00:00.0: enable_msix value 2 info 0 -> 0, value 0"

if stop; then ok "pvpcid stops on SIGTERM"; else notok "pvpcid stops on SIGTERM"; fi
check "the backend logs the read of the host function and its value" "$tmp/daemon.log" \
	"pvpcid: 0000:00:03.0: read 4 bytes at 0x0 = 10411af4"
check "the backend logs each MSI-X vector it bound" "$tmp/daemon.log" \
	"pvpcid: 0000:00:03.0: MSI-X[1]: 33"
tap_done
