#!/bin/sh
# pvpci-stored against the xenstore-utils tools, through XENSTORED_PATH
# as with the real xenstored: read, write, ls, list, exists, rm, chmod, a
# xenstore-watch that sees events, and a domain (its own socket) refused
# what its permissions do not give it.  TAP on stdout.
. "$(dirname "$0")/store_lib.sh"
command -v xenstore-read >/dev/null || skip_all "xenstore-utils is not installed"
T="timeout 10"

store_start
check "xenstore-write two keys" $T xenstore-write /tt/a 1 /tt/b "two words"
check "xenstore-read them" sh -c "[ \"\$($T xenstore-read /tt/a /tt/b)\" = \"\$(printf '1\ntwo words')\" ]"
check "xenstore-list" sh -c "[ \"\$($T xenstore-list /tt)\" = \"\$(printf 'a\nb')\" ]"
check "xenstore-ls" sh -c "[ \"\$($T xenstore-ls /tt)\" = \"\$(printf 'a = \"1\"\nb = \"two words\"')\" ]"
check "xenstore-exists: there" $T xenstore-exists /tt/a
check "xenstore-exists: not there" sh -c "! $T xenstore-exists /tt/nope"
check "xenstore-read of an absent key fails" sh -c "! $T xenstore-read /tt/nope"
check "xenstore-chmod n0 r1" $T xenstore-chmod /tt/a n0 r1
check "xenstore-ls -p shows it" sh -c "$T xenstore-ls -p /tt | grep -q '^a = \"1\" .*(n0,r1)\$'"
check "xenstore-rm, recursive" $T xenstore-rm /tt
check "gone" sh -c "! $T xenstore-exists /tt/a && ! $T xenstore-exists /tt"
check "the store's first nodes are there, closed (n0)" \
	sh -c "$T xenstore-ls -p / | grep -q '^local = \"\" .*(n0)\$' && $T xenstore-exists /local/domain/0"

# xenstore-watch: the event at once, then each change below.
mkfifo "$tmp/events"
$T xenstore-watch -n 3 /w >"$tmp/events" 2>"$tmp/watch.err" &
wpid=$!
exec 3<"$tmp/events"
read_event() { IFS= read -r ev <&3 || ev="(none)"; [ "$ev" = "$1" ]; }
check "xenstore-watch /w fires at once" read_event /w
check "writing /w/a fires /w/a" sh -c "$T xenstore-write /w/a x"
check "  and xenstore-watch prints it" read_event /w/a
check "removing /w fires /w" sh -c "$T xenstore-rm /w"
check "  and xenstore-watch prints it" read_event /w
check "xenstore-watch -n 3 exits 0 after three events" wait "$wpid"
exec 3<&-

# A domain: its socket appears when it is introduced.
check "domain 1 introduced (xs_introduce_domain)" $T "$bin/store_client" introduce 1
check "its socket is $tmp/sock.d/1, mode 0600" sh -c "[ \"\$(stat -c %a '$tmp/sock.d/1')\" = 600 ]"
check "dom0 makes /local/domain/1 domain 1's (n1)" \
	sh -c "$T xenstore-write /local/domain/1 '' && $T xenstore-chmod /local/domain/1 n1"
check "domain 1 writes data/x, relative to /local/domain/1" as_dom 1 $T xenstore-write data/x hi
check "dom0 reads /local/domain/1/data/x" sh -c "[ \"\$($T xenstore-read /local/domain/1/data/x)\" = hi ]"
check "owned by domain 1 (n1)" sh -c "$T xenstore-ls -p /local/domain/1 | grep -q 'x = \"hi\" .*(n1)\$'"
check "domain 1 may not read /local/domain/0" fails as_dom 1 $T xenstore-read /local/domain/0
as_dom 1 $T xenstore-ls / >"$tmp/ls" 2>&1
check "domain 1 may not list / (Permission denied)" grep -q 'Permission denied' "$tmp/ls"
check "domain 1 may not write /tool/x" fails as_dom 1 $T xenstore-write /tool/x y
check "  and there is no /tool/x" fails $T xenstore-exists /tool/x
as_dom 1 $T xenstore-chmod data/x n0 >"$tmp/chmod" 2>&1
check "domain 1 may not give its node to dom0 (Operation not permitted)" \
	grep -q 'not permitted' "$tmp/chmod"
check "domain 1 may open it to domain 2" as_dom 1 $T xenstore-chmod data/x n1 r2
check "domain 1 released" $T "$bin/store_client" release 1
check "its socket is gone" sh -c "[ ! -e '$tmp/sock.d/1' ]"
check "domain 1 cannot connect any more" fails as_dom 1 $T xenstore-read data/x
store_stop
finish
