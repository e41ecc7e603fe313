# shellcheck shell=sh
# make e2e-bench (tests/e2e), run by dom0's /init after scenarios.sh's
# helpers: a domU reads the whole config space of the outer machine's
# e1000e (4096 bytes: 1024 pcifront ops of 4 bytes) N times with cfgread,
# through the kernel's xen-pciback (domU "bk"), then through pvpcid (domU
# "bp"), in this one boot.  dom0 runs on CPU 0 (e2e.sh: dom0_max_vcpus=1
# dom0_vcpus_pin), each domU on CPU 1; R rounds each, the median taken.
# Prints E2E-BENCH lines, then E2E-PASS bench with both rates and the
# ratio pvpcid / kernel (above 1: pvpcid is faster).
# For pvpcid it also says what its serving thread did per op, counted by
# the kernel (so not slowed as strace would): sleeps (voluntary context
# switches: each a wake-up by a kick), read and write calls (the kick's
# read and the config read; the unmask's write), and CPU time.
# e2e.sh bench FILE sources FILE first: BENCH_POLL="0 1000" adds a
# pvpcid run with each --poll-us value after the default's (the headline);
# BENCH_MORE names a function of FILE's run after those, which may call
# bench_pvpcid itself (with another pvpcid given to dom0 by e2e.sh's
# E2E_DOM0_FILES as BENCH_PVPCID, say, to compare two builds in one boot).

BENCH_N=${BENCH_N:-20}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_POLL=${BENCH_POLL:-}
BENCH_MORE=${BENCH_MORE:-}
BENCH_PVPCID=/usr/bin/pvpcid
# scenarios.sh's pvpcid_start runs the one bench_pvpcid was told to.
pvpcid() { "$BENCH_PVPCID" "$@"; }

# bench_reads NAME GUESTBDF: R rounds of cfgread N in the domU, each
# round's line as E2E-BENCH; $rate is the median of full reads per second.
bench_reads() {
	_r=0
	rate=
	: >$out/rates
	while [ $_r -lt "$BENCH_ROUNDS" ]; do
		_r=$((_r + 1))
		_l=$(on "$1" 900 "cfgread $BENCH_N /sys/bus/pci/devices/$2/config") || {
			bad "$1: cfgread failed: $_l"
			# pcifront gives up on an op after 2 s ("not responding"):
			# what a loaded host can make of a slow backend.
			info "$1: the domU's kernel said: $(on "$1" 60 "dmesg | grep -i -e pcifront -e pciback | tail -3" | tr '\n' ' ')"
			return 1
		}
		echo "E2E-BENCH $1 round $_r: $_l"
		echo "$_l" | sed -n 's/.*: \([0-9.]*\) reads\/s.*/\1/p' >>$out/rates
	done
	rate=$(sort -n $out/rates | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
}

# thread_counts PID: its main thread's voluntary context switches, read
# and write calls, and CPU ticks (user + system), on one line.
thread_counts() {
	_t=/proc/$1/task/$1
	echo "$(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' $_t/status)" \
		"$(sed -n 's/^syscr: //p' $_t/io)" "$(sed -n 's/^syscw: //p' $_t/io)" \
		"$(sed 's/.*) //' $_t/stat | awk '{ print $12 + $13 }')"
}

# bench_pvpcid LABEL ARGS...: the domU bp served by a pvpcid started with
# ARGS; $pr is its median rate; its counts per op, its rate and its ratio
# to the kernel's ($kr) are said.
bench_pvpcid() {
	_label=$1
	shift
	pr=
	pvpcid_start --host "sysfs:,writes=1" "$@" ||
		{ bad "pvpcid did not start: $(tail -2 $out/pvpcid.log)"; return 1; }
	domu_create bp "$pin" "$tsc" || bad "xl create bp failed"
	pd=$(domid bp)
	sysfs_attach "$pd" $E1
	g=$(vdev_of "$pd" $E1)
	if domu_start bp; then
		_pid=$(cat /run/pvpcid.pid)
		_c0=$(thread_counts "$_pid")
		bench_reads bp "$g"
		pr=$rate
		_c1=$(thread_counts "$_pid")
		echo "$_c0 $_c1 $((BENCH_ROUNDS * BENCH_N * 1024)) $(getconf CLK_TCK 2>/dev/null || echo 100)" |
			awk -v l="$_label" '{ n = $9
			printf "E2E-BENCH pvpcid %s per op: %.3f sleeps, %.3f reads, %.3f writes, %.1f us of CPU\n",
				l, ($5 - $1) / n, ($6 - $2) / n, ($7 - $3) / n, ($8 - $4) * 1e6 / $10 / n }'
	else
		bad "domU bp did not come up"
	fi
	domu_destroy bp
	pvpcid_stop
	bench_line "pvpcid $_label:" "$pr"
	echo "E2E-BENCH ratio pvpcid $_label/kernel: $(bench_ratio "$pr" "$kr")"
}

bench_line() {	# WHO RATE
	echo "E2E-BENCH $1 ${2:-?} full reads/s ($(echo "${2:-0}" | awk '{ printf "%.0f", $1 * 1024 }') ops/s)"
}
bench_ratio() { echo "$1 $2" | awk '$2 > 0 { printf "%.2f", $1 / $2 }'; }

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
	# bk's destruction left e1000e in Xen's quarantine (its default):
	# taken back as an operator does, then pvpcid's runs find it dom0's.
	to_dom0 $E1

	bench_pvpcid default
	hr=$pr
	for p in $BENCH_POLL; do
		bench_pvpcid "--poll-us $p" --poll-us "$p"
	done
	[ -z "$BENCH_MORE" ] || $BENCH_MORE
	pr=$hr

	ratio=$(bench_ratio "$pr" "$kr")
	bench_line "kernel xen-pciback:" "$kr"
	bench_line "pvpcid:            " "$pr"
	echo "E2E-BENCH ratio pvpcid/kernel: ${ratio:-?}"
	[ -n "$kr" ] && [ -n "$pr" ] || bad "a rate is missing"
	end "kernel ${kr:-?} reads/s, pvpcid ${pr:-?} reads/s, ratio ${ratio:-?} ($BENCH_N reads of 4096 bytes, median of $BENCH_ROUNDS)"
}
