#!/bin/bash
# pvpcid's --transport on a machine without Xen (where Xen is, make e2e
# runs it for real): xen is refused with a clear message, the default is
# local (it serves its socket), a bad name and --export with xen are bad
# usage, and --help says it.
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/tap_daemon.sh"

if [ -e /dev/xen/gntdev ] && [ -e /dev/xen/evtchn ]; then
	skip_all "this machine is a Xen host: make e2e tests the xen transport"
fi
sim=sim:$src/fixtures/virtio-net.lspci
# run EXPECTED_RC EXPECTED_STDERR ARGS...: pvpcid exits with the code and says exactly that.
run() {
	local want_rc=$1 want=$2 rc
	shift 2
	timeout 30 "$bin/pvpcid" --socket "$dsock" --state-dir "$tmp/state" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$(cat "$tmp/err")" = "$want" ]; then
		ok "pvpcid $*: exit $rc, \"$want\""
	else
		notok "pvpcid $*: exit $want_rc, \"$want\"" "exit $rc: $(head -3 "$tmp/err")"
	fi
}
mkdir -p "$tmp/state"
store_start
run 1 "pvpcid: error: no /dev/xen/gntdev: not a Xen host; use --transport local" \
	--transport xen --host "$sim" --store "$tmp/sock"
[ -e "$dsock" ] && notok "... and listens nowhere" || ok "... and listens nowhere"
run 2 "pvpcid: --transport is local or xen" --transport tcp --host "$sim"
run 2 "pvpcid: --export needs --transport local: on Xen, attach with
        \`pvpci attach DOMID BDF\` as xl pci-attach does" --transport xen --host "$sim" --export 1:00:03.0
if timeout 10 "$bin/pvpcid" --help | grep -q -- "--transport local|xen"; then
	ok "--help says --transport"
else
	notok "--help says --transport"
fi
start --host "$sim" --store "$tmp/sock"
if [ -n "$pid" ] && [ -S "$dsock" ]; then
	ok "no --transport here: local, serving $dsock"
else
	notok "no --transport here: local" "$(tail -3 "$tmp/daemon.log")"
fi
stop
start --host "$sim" --store "$tmp/sock" --transport local
[ -n "$pid" ] && [ -S "$dsock" ] && ok "--transport local: serving $dsock" || notok "--transport local"
stop
finish
