#!/bin/sh
# make e2e's runner (tests/e2e/runner.py) against fake machines: a machine
# that dies of a signal of its own before E2E-DONE is booted again once,
# and only then; a scenario's failure, a machine that ends quietly, a
# second death and a missed deadline are results.
. "$PVPCI_SRC/tests/integration/tap_lib.sh"

# A fake machine: its console lines, dying of SIGSEGV on the boots listed
# in $tmp/die (1 2 ...), the boots counted in $tmp/boots.
cat >"$tmp/machine" <<'M'
#!/bin/sh
n=$(($(cat "$T/boots" 2>/dev/null || echo 0) + 1))
echo $n >"$T/boots"
echo "E2E-DOM0-READY 1 mode=run"
case " $(cat "$T/die") " in *" $n "*) echo "oops"; kill -SEGV $$ ;; esac
case $(cat "$T/how") in
hang)	exec sleep 60 ;;
quiet)	exit 0 ;;
esac
echo "E2E-BEGIN 1 one"
echo "E2E-$(cat "$T/how") 1 as told"
echo "E2E-DONE 2"
M
chmod +x "$tmp/machine"
export T="$tmp"

# run DIE HOW [runner options]: the runner's output in $tmp/run.out, its status in $rc
run() {
	rm -f "$tmp/boots"
	echo "$1" >"$tmp/die"
	echo "$2" >"$tmp/how"
	shift 2
	timeout 60 python3 "$src/tests/e2e/runner.py" --log "$tmp/log" --tap "$tmp/tap" --expect 1 "$@" \
		-- timeout -s KILL 30 "$tmp/machine" >"$tmp/run.out" 2>&1
	rc=$?
}
said() { grep -q "$1" "$tmp/run.out"; }
boots() { [ "$(cat "$tmp/boots")" = "$1" ]; }

run "1" PASS
check "died once, booted again: its scenario's pass counts" test "$rc" = 0
check "the second boot was said" said "died of signal 11 before E2E-DONE: booting it again, once"
check "two boots" boots 2
check "the log keeps both boots" test "$(grep -c 'E2E-DOM0-READY' "$tmp/log")" = 2
check "the TAP file has the pass" grep -q "^ok 1 - e2e 1: as told" "$tmp/tap"

run "1 2" PASS
check "died twice: a failure" test "$rc" = 1
check "and said why" said "e2e 1: FAIL no result: the machine stopped (status -11) before E2E-DONE"
check "no third boot" boots 2

run "" FAIL
check "a scenario that fails is a failure" test "$rc" = 1
check "not booted again for it" boots 1
check "its reason in the last lines" said "e2e 1: FAIL as told"

run "" quiet
check "a machine that ends without E2E-DONE fails" test "$rc" = 1
check "not booted again for it (status 0 is not a death)" boots 1

run "" hang --boot-timeout 30 --scenario-timeout 1 --total-timeout 2
check "a deadline missed is a failure" test "$rc" = 1
check "not booted again after the runner stopped it" boots 1
check "the last line counts it" test "$(tail -1 "$tmp/run.out")" = "0 passed, 1 failed"
finish
