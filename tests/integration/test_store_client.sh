#!/bin/sh
# pvpci-stored through libxenstore (store_client.c): transactions and
# their EAGAIN conflicts between two dom0 connections; a domain's
# connection, its rights, watches, limits and release.  TAP on stdout.
. "$(dirname "$0")/store_lib.sh"
store_start
timeout 60 "$bin/store_client" check "$tmp/sock.d" >"$tmp/client.out" 2>&1
rc=$?
tap_from "$tmp/client.out"
[ "$rc" -eq 0 ] && ok "store_client exits 0" || notok "store_client exits 0" "exit $rc"
store_stop
finish
