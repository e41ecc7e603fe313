#!/bin/sh
# The libFuzzer targets of tests/fuzz: built with clang, AddressSanitizer
# and UBSan in a meson build directory of their own (-Dfuzzing=true), and
# run.
#
#   fuzz.sh build DIR              configure (once) and build them
#   fuzz.sh run DIR SECONDS        run each SECONDS seconds, new inputs kept in
#                                  DIR/corpus/<target>, crashes in
#                                  DIR/artifacts/<target>; prints per target the
#                                  executions and the crashes
#   fuzz.sh check DIR [SECONDS]    for make check: TAP, each target over its
#                                  seed corpus (tests/fuzz/corpus/<target>, every
#                                  file replayed) and then fuzzing, SECONDS (5)
#                                  at most; skipped when clang is missing
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
targets="ops dump quirks store_wire store_db record"
mode=${1:?usage: fuzz.sh build|run|check DIR [SECONDS]}
dir=${2:?usage: fuzz.sh build|run|check DIR [SECONDS]}
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac

build() {
	if [ ! -f "$dir/build.ninja" ]; then
		log=$(mktemp)
		if ! CC=clang meson setup "$dir" "$src" -Dfuzzing=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dbuildtype=debugoptimized >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			return 1
		fi
		rm -f "$log"
	fi
	ninja -C "$dir" fuzz >"$dir/fuzz-build.log" 2>&1 || { tail -n 40 "$dir/fuzz-build.log" >&2; return 1; }
}

# Options of each target: the inputs the wire target frames need room.
opts() {
	case $1 in
	store_wire) echo "-max_len=16384 -dict=$src/tests/fuzz/store.dict" ;;
	store_db) echo "-max_len=4096 -dict=$src/tests/fuzz/store.dict" ;;
	dump) echo "-max_len=16384 -dict=$src/tests/fuzz/dump.dict" ;;
	record) echo "-max_len=16384 -dict=$src/tests/fuzz/record.dict" ;;
	*) echo "-max_len=4096" ;;
	esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

case $mode in
build)
	mkdir -p "$(dirname "$dir")"
	build || exit 1
	for t in $targets; do echo "$dir/tests/fuzz/fuzz_$t"; done
	;;
run)
	secs=${3:?usage: fuzz.sh run DIR SECONDS}
	mkdir -p "$(dirname "$dir")"
	build || exit 1
	total=0
	printf '%-12s %12s %10s %8s\n' target executions exec/s crashes
	for t in $targets; do
		mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
		before=$(ls "$dir/artifacts/$t" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
		# Fork mode goes on after a crash (each one saved), so a run of
		# SECONDS counts them all rather than stopping at the first.
		# shellcheck disable=SC2046
		"$dir/tests/fuzz/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
			-max_total_time="$secs" -timeout=10 $(opts "$t") \
			-artifact_prefix="$dir/artifacts/$t/" "$dir/corpus/$t" "$src/tests/fuzz/corpus/$t" \
			>"$dir/$t.log" 2>&1
		after=$(ls "$dir/artifacts/$t" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
		execs=$(sed -n 's/^#\([0-9][0-9]*\):.*/\1/p' "$dir/$t.log" | tail -n 1)
		printf '%-12s %12s %10s %8s\n' "$t" "${execs:-?}" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" \
			"$((after - before))"
		total=$((total + after - before))
	done
	[ "$total" -eq 0 ] || { echo "crashing inputs: $dir/artifacts/<target>/ (logs: $dir/<target>.log)"; exit 1; }
	;;
check)
	secs=${3:-${FUZZ_CHECK_SECONDS:-5}}
	if ! command -v clang >/dev/null 2>&1; then
		echo "1..0 # SKIP clang is not installed (scripts/deps.sh installs it)"
		exit 0
	fi
	echo "1..$(echo $targets | wc -w)"
	mkdir -p "$(dirname "$dir")"
	err=$(mktemp)
	if ! build 2>"$err"; then
		sed 's/^/# /' "$err"
		rm -f "$err"
		for t in $targets; do echo "not ok - fuzz_$t: the fuzz build failed"; done
		exit 1
	fi
	rm -f "$err"
	fails=0
	for t in $targets; do
		work=$(mktemp -d)
		mkdir -p "$dir/artifacts/$t"
		# New inputs go to the first directory (thrown away); the seeds
		# are read, replayed and never written.
		# shellcheck disable=SC2046
		if "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 $(opts "$t") \
			-artifact_prefix="$dir/artifacts/$t/" "$work" "$src/tests/fuzz/corpus/$t" \
			>"$dir/$t.log" 2>&1; then
			runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$dir/$t.log")
			echo "ok - fuzz_$t: ${runs:-?}, 0 crashes"
		else
			fails=$((fails + 1))
			echo "not ok - fuzz_$t: crashed (input and log: $dir/artifacts/$t/, $dir/$t.log)"
			grep -E 'ERROR|invariant broken|SUMMARY|runtime error' "$dir/$t.log" | head -n 8 | sed 's/^/# /'
		fi
		rm -rf "$work"
	done
	[ "$fails" -eq 0 ]
	;;
*)
	echo "usage: fuzz.sh build|run|check DIR [SECONDS]" >&2
	exit 2
	;;
esac
