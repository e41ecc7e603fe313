#!/bin/bash
# pvpcid killed with -9 at random points of what it does for the toolstack
# and for guests, and restarted, many times over (issue 6: "Recovery,
# nothing lost").  First a save cut before its rename, for sure: the
# restarted pvpcid removes the temporary file and completes the attach.
# Then each iteration:
#  - an operation: attach (the function bound: its config space saved in
#    its state file) or detach, with no frontend or under a connected
#    `pvpci front 1 run` (hot: Reconfiguring), or MSI / MSI-X enable by a
#    one-shot frontend through the store; a hot one's frontend, drawn
#    too, either connects anew to the restarted pvpcid or, as Linux's
#    pcifront, keeps its page (`front --keep-page run`), and the
#    restarted pvpcid takes the connection over and carries the
#    reconfiguration on from where the states say;
#  - a kill point: strace, attached to pvpcid for the operation, sends it
#    SIGKILL at the Nth call of one system call (pwrite64: a config write,
#    mid-restore or the enable; write, fsync, rename: mid-save; read,
#    sendmsg...: mid-store-update or mid-op), or a plain kill after a
#    delay; drawn from bash's PRNG seeded with $PVPCI_RECOVERY_SEED (printed:
#    the same seed replays the same choices).  An operation that ends
#    before its point has pvpcid killed then;
#  - pvpcid restarted at once; then the verb completed (exit 0, its effect
#    there) or rolled back (exit 1, no effect); the store consistent
#    (num_devs and the dev-N entries, state-N 1, 3 or 5, no orphan key,
#    the /libxl/pci domid nodes those of the dev-N);
#  - converged to what the toolstack asked (the verb again, else detach -f
#    and again) and checked strictly: every state-N 3; every function the
#    domain has exported, with its state file, its saved registers holding
#    their saved bits, MSI and MSI-X off, and (one of them) reading right
#    through a frontend; every other function's config file byte for byte
#    as before the test (but memory and I/O decode: a restore turns them
#    off while it moves the BARs and puts back what it found, so one cut
#    short leaves them off, and they come back only through the host's
#    enable path, as a driver or a guest asks), with no state file;
#    nothing but state files in the state directory (a save torn by the
#    kill leaves a temporary file: the restarted pvpcid removes it).
# Then a state file truncated while pvpcid is down: reported, set aside,
# the function saved afresh; at the end everything detached, pvpcid stops
# on SIGTERM, and the store, the config files and the state directory are
# as at the start.  Functions: three PCIe endpoints with MSI and MSI-X on a
# fake sysfs tree (never /sys).  TAP: a line per iteration.
# PVPCI_RECOVERY_ITERATIONS (32) and PVPCI_RECOVERY_SECONDS (240: no new
# iteration after that) bound the run (about 110 s under ASan).
set -u
. "${PVPCI_SRC:?}/tests/integration/store_lib.sh"
dsock=$tmp/pvpcid.sock
. "$src/tests/integration/xenbus_lib.sh"
. "$src/tests/integration/fake_sysfs.sh"

command -v strace >/dev/null || skip_all "strace places the kill points"
iterations=${PVPCI_RECOVERY_ITERATIONS:-32}
budget_ms=$((${PVPCI_RECOVERY_SECONDS:-240} * 1000))
seed=${PVPCI_RECOVERY_SEED:-$(($(date +%s%N) / 1000 % 1000000))}
RANDOM=$seed
echo "# seed $seed (PVPCI_RECOVERY_SEED=$seed replays it)"
front_limit=120

root=$tmp/sys
state=$tmp/state
mkdir -p "$state"
fns="0000:03:00.0 0000:04:00.0 0000:05:00.0"
for f in $fns; do
	fake_endpoint "$root" "$f"
	fake_msi
	cp "$cfg" "$tmp/orig.$f"
done
cfg_of() { cfg=$root/devices/pci0000:00/$1/config; }

# pvpcid in the background on the fake tree; $pid once it serves.  No leak
# check: it dies by SIGKILL, and LeakSanitizer does not work under strace.
daemon_start() {
	rm -f "$tmp/pid"
	pid=
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 30 "$bin/pvpcid" --background \
		--pidfile "$tmp/pid" --socket "$dsock" --state-dir "$state" --host "sysfs:$root,writes=1" \
		--store "$tmp/sock" 2>>"$tmp/daemon.log" && pid=$(cat "$tmp/pid")
}
# arm SYSCALL N: strace on every thread of pvpcid sends it SIGKILL at the
# Nth SYSCALL from now; returns once every thread is traced (5 s at most:
# /proc has no event for it).
arm() {
	timeout 120 strace -f -qq -o /dev/null -p "$pid" -e trace="$1" -e inject="$1:signal=KILL:when=$2" \
		2>>"$tmp/strace.err" &
	tracer=$!
	for _ in $(seq 500); do traced && return 0; sleep 0.01; done
	return 1
}
traced() {
	local t
	for t in /proc/"$pid"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*0$' "$t" 2>/dev/null && return 1
	done
	return 0
}
one_shot() { XENSTORED_PATH=$tmp/sock.d/1 timeout 30 "$bin/pvpci" front --socket "$dsock" --timeout 3000 1 "$@"; }
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
without() { local x out=; for x in $1; do [ "$x" = "$2" ] || out="$out $x"; done; echo $out; }
count() { echo $#; }
listed() { pv list 1 2>/dev/null | awk 'NR > 1 { print $2 }' | sort | tr '\n' ' ' | sed 's/ $//'; }
sorted() { printf '%s\n' $1 | sort | tr '\n' ' ' | sed 's/ $//'; }
bad() { echo "$*" >>"$tmp/bad"; }
bs() { xenstore-read "$BE1/state" 2>/dev/null; }

# guest_of BDF: where domain 1 sees it (its vdev-N), as `pvpci front` takes
# it, in $g.
guest_of() {
	local i num s
	num=$(xenstore-read "$BE1/num_devs" 2>/dev/null) || return 1
	for ((i = 0; i < num; i++)); do
		[ "$(xenstore-read "$BE1/dev-$i" 2>/dev/null)" = "$1" ] || continue
		s=$(xenstore-read "$BE1/vdev-$i" 2>/dev/null) || return 1
		g=${s#0000:}
		g=${g%.*}.$((10#${s##*.}))
		return 0
	done
	return 1
}

# settled: with no frontend running, pvpcid has done what the last events
# asked: the device is gone, or the backend Initialised (no frontend yet)
# or Closed with its frontend; every function with a state file is listed
# (its release done: the file goes last) and every entry exported (state-N
# 3) has one.
settled() {
	local b f i num
	if xenstore-exists "$BE1"; then
		b=$(bs) f=$(xenstore-read "$FE1/state" 2>/dev/null)
		{ [ "$b" = 3 ] && [ "$f" = 1 ]; } || { [ "$b" = 6 ] && [ "$f" = 6 ]; } || return 1
	fi
	num=$(xenstore-read "$BE1/num_devs" 2>/dev/null) || num=0
	entries=
	for ((i = 0; i < num; i++)); do
		f=$(xenstore-read "$BE1/dev-$i" 2>/dev/null)
		entries="$entries $f"
		[ "$(xenstore-read "$BE1/state-$i" 2>/dev/null)" != 3 ] || [ -e "$state/$f.state" ] || return 1
	done
	for f in $(cd "$state" && ls | sed -n 's/\.state$//p'); do
		has "$entries" "$f" || return 1
	done
}
# settle: until settled (10 s of polls at most: the states are several
# nodes and files, and pvpcid's log says nothing when it is done).
settle() {
	for _ in $(seq 500); do
		settled && return 0
		sleep 0.02
	done
	bad "did not settle: backend $(bs), frontend $(xenstore-read "$FE1/state" 2>/dev/null)," \
		"entries$entries, state files: $(ls "$state" | tr '\n' ' ')"
	return 1
}

# consistent STRICT: domain 1's backend directory and /libxl/pci as the
# protocol allows (STRICT: converged: every state-N 3, and exactly the
# functions of $want).  Problems go to $tmp/bad.
consistent() {
	local strict=$1 num i v doms devs= k idx
	doms=$(xenstore-ls -f /libxl/pci 2>/dev/null |
		sed -n 's|^/libxl/pci/\(....\)-\(..\)-\(..\)-\(.\)/domid = "\(.*\)"$|\1:\2:\3.\4=\5|p' | sort | tr '\n' ' ')
	if ! xenstore-exists "$BE1"; then
		[ -z "$doms" ] || bad "domid nodes with no backend directory: $doms"
		! xenstore-exists "$FE1" || bad "a frontend directory with no backend directory"
		[ "$strict" = 0 ] || [ -z "$want" ] || bad "no backend directory, but the toolstack wants $want"
		return
	fi
	! xenstore-exists /local/domain/0/backend/pci/2 || bad "a backend directory for domain 2"
	num=$(xenstore-read "$BE1/num_devs" 2>/dev/null)
	case $num in '' | *[!0-9]*) bad "num_devs '$num'"; return ;; esac
	for ((i = 0; i < num; i++)); do
		for k in dev key state opts; do
			xenstore-exists "$BE1/$k-$i" || bad "$k-$i missing (num_devs $num)"
		done
		v=$(xenstore-read "$BE1/state-$i" 2>/dev/null)
		case $strict:$v in 0:1 | 0:3 | 0:5 | 1:3) ;; *) bad "state-$i is '$v'" ;; esac
		if [ "$v" = 3 ] || [ "$strict" = 1 ]; then
			xenstore-exists "$BE1/vdev-$i" || bad "entry $i exported (state 3) with no vdev-$i"
		fi
		devs="$devs $(xenstore-read "$BE1/dev-$i" 2>/dev/null)=1"
	done
	xenstore-ls -f "$BE1" | sed -n 's|^.*/\(dev\|key\|vdev\|vdevfn\|state\|opts\|name\)-\([0-9]*\) = .*|\1 \2|p' >"$tmp/keys"
	while read -r k idx; do
		[ "$idx" -lt "$num" ] || bad "orphan $k-$idx (num_devs $num)"
	done <"$tmp/keys"
	[ "$(sorted "$devs")" = "$(sorted "$doms")" ] || bad "domid nodes '$doms', entries '$devs'"
	if [ "$strict" = 1 ] && [ "$(listed)" != "$(sorted "$want")" ]; then
		bad "pvpci list 1: '$(listed)', the toolstack wants '$want'"
	fi
}
msi_bits() { od -An -j $((0x92)) -N 2 -t u2 "$cfg" | tr -d ' '; }
msix_bits() { od -An -j $((0xa2)) -N 2 -t u2 "$cfg" | tr -d ' '; }
# known: every function in the state the toolstack asked for (see the top).
known() {
	local f d
	for f in $fns; do
		cfg_of "$f"
		if has "$want" "$f"; then
			if [ ! -f "$state/$f.state" ]; then
				bad "$f is attached, but has no state file"
			else
				d=$(differing "$state/$f.state")
				[ -z "$d" ] || bad "$f: $d"
			fi
		else
			[ ! -e "$state/$f.state" ] || bad "$f is not attached, but its state file is there"
			d=$(cmp -l "$tmp/orig.$f" "$cfg" | while read -r at was now; do
				# Command's decode bits apart (see the top)
				[ "$at" = 5 ] && [ $((0$was & ~3)) = $((0$now & ~3)) ] ||
					printf '0x%x: 0x%x, was 0x%x; ' $((at - 1)) $((0$now)) $((0$was))
			done)
			[ -z "$d" ] || bad "$f is not attached, its config not as before: $d"
		fi
		[ $(($(msi_bits) & 1)) -eq 0 ] || bad "$f: MSI left enabled"
		[ $(($(msix_bits) & 0x8000)) -eq 0 ] || bad "$f: MSI-X left enabled"
	done
	d=$(cd "$state" && ls -A | grep -v '\.state$' | tr '\n' ' ')
	[ -z "$d" ] || bad "in the state directory: $d"
}
# run_front K: a `front 1 run` frontend, connected, seeing K functions.
run_front() {
	front_start
	front_next "$1" && [ "$(head -1 "$tmp/block")" = connected ] && return 0
	bad "the frontend did not connect: $(cat "$tmp/block"; tail -2 "$tmp/front.err")"
	return 1
}
# stop_front: SIGTERM; it closes and exits (20 s: it may be reconnecting).
stop_front() {
	[ -n "$front_pid" ] || front_pid=$(pgrep -P "$front_timeout")
	kill "$front_pid" 2>/dev/null
	if ! timeout 20 tail --pid="$front_timeout" -f /dev/null; then
		bad "the frontend did not exit on SIGTERM: $(tail -2 "$tmp/front.err")"
		kill -9 "$front_pid" 2>/dev/null
	fi
	wait "$front_timeout" 2>/dev/null
	exec 3<&-
}

# converge: what the toolstack wants ($want), by the verbs (and the
# frontend a Closed device needs for an attach); says what it took in $how.
converge() {
	local f now front=0
	now=$(listed)
	for f in $fns; do
		if has "$want" "$f" && ! has "$now" "$f"; then
			if [ "$(bs)" = 6 ] || [ "$(bs)" = 4 ]; then
				run_front "$(count $now)" || return 1
				front=1
			fi
			if pv attach --timeout 5000 1 "$f" >"$tmp/conv.out" 2>&1; then
				how="$how, attach again"
			else
				how="$how, detach -f and attach again ($(head -1 "$tmp/conv.out"))"
				pv detach -f --timeout 2000 1 "$f" >/dev/null 2>&1
				pv attach --timeout 5000 1 "$f" >"$tmp/conv.out" 2>&1 ||
					bad "attach $f: $(cat "$tmp/conv.out")"
			fi
			[ "$front" = 0 ] || { stop_front; front=0; }
			settle
		elif ! has "$want" "$f" && has "$now" "$f"; then
			if pv detach --timeout 5000 1 "$f" >"$tmp/conv.out" 2>&1; then
				how="$how, detach again"
			else
				how="$how, detach -f ($(head -1 "$tmp/conv.out"))"
				pv detach -f --timeout 2000 1 "$f" >"$tmp/conv.out" 2>&1 ||
					bad "detach -f $f: $(cat "$tmp/conv.out")"
			fi
			settle
		fi
		now=$(listed)
	done
}

# The kill points: a system call and how far into the operation (at most).
points="pwrite64:20 pwrite64:20 pread64:120 write:20 write:20 read:25 openat:8 fsync:3 rename:2 unlink:2 recvmsg:2 sendto:2"
set -- $points
npoints=$#

store_start
check "pvpci domain-introduce 1" pv domain-introduce 1
for f in $fns; do pv assignable-add "$f" >/dev/null 2>&1 || bad "assignable-add $f"; done
xs_all "$tmp/store.start"
daemon_start || { notok "pvpcid starts on the fake tree" "$(tail -3 "$tmp/daemon.log")"; finish; exit 1; }
grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/"$pid"/status | tr '\n' ' ' | sed 's/^/# pvpcid: /; s/\t/ /g'
echo

# A save cut at its fsync, before its rename: the attach's bind left a
# temporary file; the restarted pvpcid removes it and takes the entry in.
: >"$tmp/bad"
f=0000:03:00.0
arm fsync 1 || bad "strace did not attach"
pv attach --timeout 5000 1 "$f" >"$tmp/op.out" 2>&1 &
opid=$!
timeout 20 tail --pid="$pid" -f /dev/null || bad "pvpcid was not killed at its first fsync"
wait "$tracer" 2>/dev/null
tmpfile=$(cd "$state" && ls | grep "^$f\.state\.tmp\.")
[ -n "$tmpfile" ] || bad "no temporary file left: $(ls "$state")"
daemon_start || bad "pvpcid did not restart"
wait "$opid" || bad "attach: $(cat "$tmp/op.out")"
want=$f
settle
consistent 1
known
if [ ! -s "$tmp/bad" ] && grep -q "^pvpcid: $state: 1 temporary file of a save that died removed$" "$tmp/daemon.log"; then
	ok "a save killed before its rename: $tmpfile left, removed at the restart, the attach completed"
else
	notok "a save killed before its rename: its temporary file removed, the attach completed" \
		"$(cat "$tmp/bad")" "$(tail -5 "$tmp/daemon.log")"
fi

t_start=$(ms)
at_point=0 at_return=0 delayed=0 running=0 completed=0 rolled=0 forced=0 torn=0
for ((i = 1; i <= iterations; i++)); do
	if [ $(($(ms) - t_start)) -gt "$budget_ms" ]; then
		echo "# time budget spent after $((i - 1)) iterations"
		break
	fi
	: >"$tmp/bad"
	how=
	nwant=$(count $want)
	r=$((RANDOM % 100))
	if [ "$nwant" = 0 ] || { [ "$nwant" -lt 3 ] && [ "$r" -lt 35 ]; }; then
		op=attach
	elif [ "$r" -lt 65 ]; then
		op=detach
	elif [ "$r" -lt 82 ]; then
		op=msi
	else
		op=msix
	fi
	if [ "$op" = attach ]; then
		set -- $(for f in $fns; do has "$want" "$f" || echo "$f"; done)
	else
		set -- $want
	fi
	k=$((RANDOM % $# + 1))
	f=${!k}
	hot=0
	case $op in
	attach)
		b=$(bs)
		if [ "$b" = 6 ] || { [ "$b" = 3 ] && [ $((RANDOM % 2)) = 1 ]; }; then hot=1; fi ;;
	detach) hot=$((RANDOM % 2)) ;;
	esac
	set -- $points
	k=$((RANDOM % npoints + 1))
	point=${!k}
	sc=${point%:*}
	nth=$((RANDOM % ${point#*:} + 1))
	delay=
	[ $((RANDOM % 8)) != 0 ] || { delay=$((RANDOM % 300)); point="after ${delay} ms"; }
	[ -n "$delay" ] || point="at $sc #$nth"
	front_args=
	[ "$hot" = 0 ] || [ $((RANDOM % 2)) = 0 ] || front_args=--keep-page
	what="$([ "$hot" = 1 ] && echo "hot ")$op $f${front_args:+ (a frontend that keeps its page)}, SIGKILL $point"

	# The operation, under its kill point.
	if [ "$hot" = 1 ] && ! run_front "$nwant"; then
		notok "$i: $what" "$(cat "$tmp/bad")"
		break
	fi
	if [ "$op" = msi ] || [ "$op" = msix ]; then
		guest_of "$f" || bad "$f: no vdev"
	fi
	tracer=
	if [ -z "$delay" ] && ! arm "$sc" "$nth"; then
		notok "$i: $what" "strace did not attach: $(tail -2 "$tmp/strace.err")"
		break
	fi
	t_op=$(ms)
	case $op in
	attach) pv attach -v --timeout 3000 1 "$f" >"$tmp/op.out" 2>&1 & ;;
	detach) pv detach -v --timeout 3000 1 "$f" >"$tmp/op.out" 2>&1 & ;;
	msi) one_shot msi "$g" enable >"$tmp/op.out" 2>&1 & ;;
	msix) one_shot msix "$g" enable 0 1 >"$tmp/op.out" 2>&1 & ;;
	esac
	opid=$!
	if [ -n "$delay" ]; then
		sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
		if kill -0 "$opid" 2>/dev/null; then when="with the verb running"; running=$((running + 1))
		else when="after the verb"; fi
		kill -9 "$pid" 2>/dev/null
		delayed=$((delayed + 1))
	else
		timeout 60 tail --pid="$pid" -f /dev/null &
		tw=$!
		wait -n "$opid" "$tw"
		if kill -0 "$pid" 2>/dev/null; then
			# The verb returned first: killed then, wherever it was
			# (a detach with no frontend returns before pvpcid restores).
			when="as the verb returned"
			at_return=$((at_return + 1))
			kill -9 "$pid"
		else
			kill -0 "$opid" 2>/dev/null && when="its point reached, the verb running" ||
				when="its point reached"
			at_point=$((at_point + 1))
			kill -0 "$opid" 2>/dev/null && running=$((running + 1))
		fi
		wait "$tw" 2>/dev/null
	fi
	timeout 20 tail --pid="$pid" -f /dev/null
	if [ -n "$tracer" ]; then kill "$tracer" 2>/dev/null; wait "$tracer" 2>/dev/null; fi
	daemon_start || bad "pvpcid did not restart: $(tail -3 "$tmp/daemon.log")"
	wait "$opid"
	rc=$?
	t_op=$(($(ms) - t_op))
	[ "$hot" = 0 ] || stop_front
	settle

	# The verb completed or rolled back; the store consistent.
	now=$(listed)
	case $op:$rc in
	attach:0) has "$now" "$f" || bad "attach exit 0, but $f is not listed"; completed=$((completed + 1))
		want=$(sorted "$want $f"); how="completed" ;;
	attach:*) has "$now" "$f" && bad "attach exit $rc, but $f is listed: $(cat "$tmp/op.out")"
		rolled=$((rolled + 1)); want=$(sorted "$want $f"); how="exit $rc, rolled back" ;;
	detach:0) has "$now" "$f" && bad "detach exit 0, but $f is listed"; completed=$((completed + 1))
		want=$(without "$want" "$f"); how="completed" ;;
	detach:*) has "$now" "$f" || bad "detach exit $rc, but $f is gone: $(cat "$tmp/op.out")"
		rolled=$((rolled + 1)); want=$(without "$want" "$f"); how="exit $rc, rolled back" ;;
	*) how="exit $rc" ;;
	esac
	consistent 0
	[ -z "$(ls "$state" | grep '\.tmp\.')" ] || bad "a temporary file left after the restart"
	grep -q "temporary file.* removed" "$tmp/daemon.log" && torn=$(grep -c "temporary file.* removed" "$tmp/daemon.log")

	# Converged, and every device in a known state.
	converge
	case $how in *"-f"*) forced=$((forced + 1)) ;; esac
	consistent 1
	known
	set -- $want
	if [ $# -gt 0 ]; then
		k=$((RANDOM % $# + 1))
		rf=${!k}
		if ! guest_of "$rf"; then
			bad "$rf: no vdev"
		elif ! v=$(one_shot read "$g" 0 4 2>&1) || [ "$v" != 0x56781234 ]; then
			bad "$rf at $g reads '$v' through a frontend"
		fi
		settle
	fi
	kill -0 "$pid" 2>/dev/null || bad "pvpcid died: $(tail -3 "$tmp/daemon.log")"
	if [ -s "$tmp/bad" ]; then
		notok "$i: $what ($when): $how" "$(cat "$tmp/bad")" "the operation: exit $rc after $t_op ms: $(cat "$tmp/op.out")" \
			"pvpcid: $(tail -8 "$tmp/daemon.log")"
		break
	fi
	ok "$i: $what ($when): $how; consistent, converged${want:+ to $want}, devices known"
done
echo "# kills: $at_point at their point, $at_return as the verb returned, $delayed after a delay;" \
	"$running with the verb running; verbs completed $completed, rolled back $rolled;" \
	"detach -f needed $forced; torn saves cleaned $torn;" \
	"connections taken over $(grep -c ': the frontend.s page [0-9]* and event channel [0-9]* taken over$' "$tmp/daemon.log")"

# A state file truncated while pvpcid is down: not trusted.
: >"$tmp/bad"
[ -n "$want" ] || { pv attach --timeout 5000 1 0000:04:00.0 >/dev/null 2>&1; want=0000:04:00.0; settle; }
set -- $want
f=$1
kill -9 "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
head -c 100 "$state/$f.state" >"$tmp/trunc" && cp "$tmp/trunc" "$state/$f.state"
daemon_start || bad "pvpcid did not restart"
settle
if wait_log "$state/$f.state is corrupt (.*); set aside as $state/$f.state.corrupt, not used" &&
	[ -f "$state/$f.state.corrupt" ] && [ "$(grep -c '^reg ' "$state/$f.state")" = 18 ] &&
	has "$(listed)" "$f"; then
	ok "a truncated state file: reported, set aside as .corrupt, the function saved afresh and exported"
else
	notok "a truncated state file: reported, set aside, saved afresh" "$(ls "$state")" "$(tail -5 "$tmp/daemon.log")"
fi
rm -f "$state/$f.state.corrupt"

# Everything detached; pvpcid stops; all as at the start.
want=
converge
consistent 1
known
kill "$pid"
timeout 20 tail --pid="$pid" -f /dev/null
pid=
if grep -q "Terminated: restoring every function and stopping" "$tmp/daemon.log" && [ ! -s "$tmp/bad" ]; then
	ok "all detached: every config file as before the test, the state directory empty; pvpcid stops on SIGTERM"
else
	notok "all detached, pvpcid stops" "$(cat "$tmp/bad")" "$(tail -3 "$tmp/daemon.log")"
fi
xs_all "$tmp/store.now"
store_changes "$tmp/store.start" "$tmp/store.now" >"$tmp/changes"
same "the whole store as at the start (but /local/domain/1/device, which the last detach takes)" "$tmp/changes" \
	"$(grep -q '^/local/domain/1/device = ' "$tmp/store.start" && echo '- /local/domain/1/device = ""')"
if grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/daemon.log"; then
	notok "no AddressSanitizer / UBSan report from any pvpcid" "$(grep -A5 -e Sanitizer -e 'runtime error' "$tmp/daemon.log" | head -10)"
else
	ok "no AddressSanitizer / UBSan report from any pvpcid"
fi
store_stop
finish
