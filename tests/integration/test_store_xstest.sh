#!/bin/sh
# pvpci-stored against Xen's own test-xenstore (xen-utils-4.17): every
# test passes, many times over, in random order, as dom0 and as a domain.
# TAP on stdout.
. "$(dirname "$0")/store_lib.sh"
xst=
for c in /usr/lib/xen-4.17/bin/test-xenstore /usr/lib/xen-*/bin/test-xenstore; do
	[ -x "$c" ] && xst=$c && break
done
[ -n "$xst" ] || skip_all "test-xenstore (xen-utils) is not installed"

# Every test of the list ran and none failed.
all_passed() {
	timeout 60 "$xst" "$@" >"$tmp/xst.out" 2>&1 || return 1
	! grep -q failed "$tmp/xst.out" || return 1
	timeout 10 "$xst" -l | cut -d: -f1 | sed 's/ *$//' | while IFS= read -r t; do
		grep -q "^$t *:" "$tmp/xst.out" || { echo "$t did not run"; return 1; }
	done
}
store_start
check "test-xenstore: all $(timeout 10 "$xst" -l | wc -l) tests pass" all_passed
cp "$tmp/xst.out" "$tmp/first.out"
while IFS= read -r l; do echo "#   $l"; done <"$tmp/first.out"
check "test-xenstore -i 50: all pass, 50 times each" all_passed -i 50
check "test-xenstore -r 2: random tests for 2 s" timeout 60 "$xst" -r 2
check "it leaves the store as it found it" sh -c "! timeout 10 xenstore-exists /local/domain/0/xenstore-test"

check "domain 5 introduced" timeout 10 "$bin/store_client" introduce 5
check "test-xenstore as domain 5 fails while /local/domain/5 is not its own" fails as_dom 5 all_passed
check "dom0 gives it /local/domain/5 (n5)" sh -c "timeout 10 xenstore-write /local/domain/5 '' &&
	timeout 10 xenstore-chmod /local/domain/5 n5"
check "test-xenstore as domain 5: all pass" as_dom 5 all_passed
store_stop
finish
