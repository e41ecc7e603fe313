# shellcheck shell=sh
# tests/e2e/e2e.sh script tests/e2e/stress-tools.sh: how often dom0's
# short-lived processes die while a domU runs (N runs of od | tr).  It
# measured the deaths on TCG's XSAVE that e2e.sh's choice of CPU avoids:
# E2E_CPU=max gives one in 50 to 100, the default none.  dom0 runs it
# after lib.sh and scenarios.sh.
N=1500
domu_create p || bad "xl create p failed"
domu_start p || bad "domU p did not come up"
# The domU keeps its CPU busy, so that Xen switches between domains.
on p 10 "(while :; do cat /proc/interrupts; done) >/dev/null 2>&1 &" >/dev/null
f=/sys/bus/pci/devices/$E1/config
n=0 dead=0 t0=$(date +%s)
while [ $n -lt $N ]; do
	n=$((n + 1))
	v=$(od -An -tu1 -j 52 -N1 $f | tr -d ' ')
	rc=$?
	[ -n "$v" ] || { dead=$((dead + 1)); info "run $n: nothing read (status $rc)"; }
done
info "$dead of $n runs of od | tr died, in $(($(date +%s) - t0)) s"
domu_destroy p
[ "$dead" = 0 ] && ok "no tool died in $n runs" || bad "$dead of $n runs died"
end "tools stress done"
