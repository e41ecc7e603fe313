# shellcheck shell=sh
# make e2e-bench (tests/e2e), run by dom0's /init after scenarios.sh's
# helpers: a domU reads the whole config space of the outer machine's
# e1000e (4096 bytes: 1024 pcifront ops of 4 bytes) N times with cfgread,
# through the kernel's xen-pciback (domU "bk"), then through pvpcid (domU
# "bp"), in this one boot.  dom0 runs on CPU 0 (e2e.sh: dom0_max_vcpus=1
# dom0_vcpus_pin), each domU on CPU 1; R rounds each, the median taken.
# Prints E2E-BENCH lines, then E2E-PASS bench with both rates and the
# ratio pvpcid / kernel (above 1: pvpcid is faster).

BENCH_N=${BENCH_N:-20}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}

# bench_reads NAME GUESTBDF: R rounds of cfgread N in the domU, each
# round's line as E2E-BENCH; $rate is the median of full reads per second.
bench_reads() {
	_r=0
	rate=
	: >$out/rates
	while [ $_r -lt "$BENCH_ROUNDS" ]; do
		_r=$((_r + 1))
		_l=$(on "$1" 900 "cfgread $BENCH_N /sys/bus/pci/devices/$2/config") ||
			{ bad "$1: cfgread failed: $_l"; return 1; }
		echo "E2E-BENCH $1 round $_r: $_l"
		echo "$_l" | sed -n 's/.*: \([0-9.]*\) reads\/s.*/\1/p' >>$out/rates
	done
	rate=$(sort -n $out/rates | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
}

bench_main() {
	begin bench "full config space reads of e1000e from a domU: the kernel's xen-pciback, then pvpcid"
	pin='cpus = "1"'
	tsc='tsc_mode = "native"'

	modprobe xen-pciback hide="($E1)" || bad "modprobe xen-pciback failed"
	domu_create bk "$pin" "$tsc" "pci = [ '$E1' ]" || bad "xl create bk failed"
	domu_start bk || bad "domU bk did not come up"
	bench_reads bk 0000:00:00.0
	kr=$rate
	domu_destroy bk
	rmmod xen-pciback || bad "rmmod xen-pciback failed"

	pvpcid_start --host "sysfs:,writes=1" || bad "pvpcid did not start: $(tail -2 $out/pvpcid.log)"
	domu_create bp "$pin" "$tsc" || bad "xl create bp failed"
	pd=$(domid bp)
	sysfs_attach "$pd" $E1
	g=$(vdev_of "$pd" $E1)
	domu_start bp || bad "domU bp did not come up"
	bench_reads bp "$g"
	pr=$rate
	domu_destroy bp
	pvpcid_stop

	ratio=$(echo "$pr $kr" | awk '$2 > 0 { printf "%.2f", $1 / $2 }')
	echo "E2E-BENCH kernel xen-pciback: ${kr:-?} full reads/s ($(echo "${kr:-0}" | awk '{ printf "%.0f", $1 * 1024 }') ops/s)"
	echo "E2E-BENCH pvpcid:             ${pr:-?} full reads/s ($(echo "${pr:-0}" | awk '{ printf "%.0f", $1 * 1024 }') ops/s)"
	echo "E2E-BENCH ratio pvpcid/kernel: ${ratio:-?}"
	[ -n "$kr" ] && [ -n "$pr" ] || bad "a rate is missing"
	end "kernel ${kr:-?} reads/s, pvpcid ${pr:-?} reads/s, ratio ${ratio:-?} ($BENCH_N reads of 4096 bytes, median of $BENCH_ROUNDS)"
}
