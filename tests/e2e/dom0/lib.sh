# shellcheck shell=sh
# dom0's helpers for make e2e (tests/e2e): results on the console in the
# lines runner.py reads, domUs created and driven through their console,
# and the xenstore directories of the kernel's pciback.
#
# Lines for the host (each whole on one line):
#   E2E-BEGIN N TITLE          scenario N starts
#   E2E-CHECK ok|FAIL N TEXT   one check of it
#   E2E-PASS N TEXT | E2E-FAIL N TEXT   its result, the first failed check as reason
#   E2E-INFO TEXT  E2E-DIFF N TEXT  E2E-BENCH TEXT   evidence
# Everything else on the console is the kernels' and Xen's, kept in the
# host's log.

cr=$(printf '\r')
now() { cut -d' ' -f1 /proc/uptime; }
info() { echo "E2E-INFO [$(now)] $*"; }
since() { echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }'; }

# wait_until SECONDS COMMAND...: true once COMMAND is, false when the
# time runs out.  For conditions no line announces (a socket, a sysfs
# file); lines are waited for by reading them (on).
wait_until() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
}

# ---- scenarios and their checks ----
scen=
scen_fail=
scen_t0=
begin() {
	scen=$1
	shift
	scen_fail=
	scen_t0=$(date +%s)
	echo "E2E-BEGIN $scen $*"
}
# ok TEXT / bad TEXT: one check's outcome; the first bad one is the reason.
ok() { echo "E2E-CHECK ok $scen $*"; }
bad() {
	echo "E2E-CHECK FAIL $scen $*"
	[ -n "$scen_fail" ] || scen_fail=$*
}
# check TEXT COMMAND...: ok when COMMAND succeeds, else bad with its first
# lines of output.
check() {
	_t=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		ok "$_t"
	else
		bad "$_t: $(head -3 /tmp/check.out | tr '\n' ' ')"
	fi
}
end() {
	_s=$(($(date +%s) - scen_t0))
	if [ -n "$scen_fail" ]; then
		echo "E2E-FAIL $scen $scen_fail (${_s} s)"
	else
		echo "E2E-PASS $scen $* (${_s} s)"
	fi
}

# ---- domUs ----
# The kernel's xen-pciback is driven by libxl (pci = [...] in a domU's
# config, as an operator does); pvpcid by pvpci attach and detach.
# domu_create NAME [CFG-LINE...]: a PV domU of our kernel and domu.cpio,
# created paused (xl create -p) for the backend's directories to be
# written first, with the IOMMU on for it (passthrough: a function can be
# assigned to it, and so have MSI).  Prints nothing; xl's words go to
# /tmp/NAME.xl.
domu_create() {
	_n=$1
	shift
	{
		echo "name = \"$_n\""
		echo 'type = "pv"'
		echo 'kernel = "/e2e/vmlinux"'
		echo 'ramdisk = "/e2e/domu.cpio"'
		echo 'extra = "console=hvc0 rdinit=/init quiet loglevel=4"'
		echo 'memory = 128'
		echo 'vcpus = 1'
		echo 'on_crash = "preserve"'
		echo 'passthrough = "enabled"'
		for l in "$@"; do echo "$l"; done
	} >"/tmp/$_n.cfg"
	_t=$(now)
	timeout 60 xl create -p "/tmp/$_n.cfg" >"/tmp/$_n.xl" 2>&1 ||
		{ cat "/tmp/$_n.xl"; return 1; }
	info "domU $_n is domain $(domid "$_n"), made in $(since "$_t") s"
}
domid() { xl domid "$1" 2>/dev/null; }

# domu_start NAME: unpause it and wait (at most 90 s) for its agent.
domu_start() {
	_t=$(now)
	xl unpause "$1" || return 1
	on_wait "$1" 90 '@@E2E-AGENT-READY' >/dev/null || return 1
	info "domU $1 up in $(since "$_t") s"
}

domu_destroy() {
	_t=$(now)
	xl destroy "$1" >/dev/null 2>&1
	wait_until 30 sh -c "! xl domid $1"
	info "domU $1 destroyed in $(since "$_t") s"
}

# The domU's console: xenconsoled's pty for it.  Lines come back with \r.
_tty() { xenstore-read "/local/domain/$(domid "$1")/console/tty" 2>/dev/null; }

# on_wait NAME SECONDS PATTERN: read the domU's console until a line
# contains PATTERN (printing the lines before it) or the time runs out.
on_wait() {
	_tty=$(_tty "$1") || return 1
	_end=$(($(date +%s) + $2))
	_pat=$3
	exec 3<>"$_tty"
	stty -F "$_tty" raw -echo 2>/dev/null
	while :; do
		_left=$((_end - $(date +%s)))
		[ "$_left" -gt 0 ] || { exec 3<&-; echo "on_wait $1: no '$_pat' in $2 s" >&2; return 124; }
		IFS= read -r -t "$_left" _line <&3 || continue
		_line=${_line%"$cr"}
		case $_line in *"$_pat"*) exec 3<&-; return 0 ;; esac
		printf '%s\n' "$_line"
	done
}

# on NAME SECONDS COMMAND: run COMMAND (one line of sh) in the domU; its
# output on stdout, its exit status (124 when it did not end in time).
# onz: the same for long output, which comes compressed (domu/init).
on_seq=0
# A stream that does not decode (bytes lost on the way: seen once in a
# dozen runs) is asked for again, at most twice, and said.
onz() {
	for _try in 1 2 3; do
		_z=z
		on "$@" >/tmp/onz.b64
		_rc=$?
		_z=
		[ "$_rc" -lt 124 ] || return "$_rc"
		if base64 -d </tmp/onz.b64 2>/dev/null | gunzip >/tmp/onz.out 2>/dev/null; then
			cat /tmp/onz.out
			return "$_rc"
		fi
		info "on $1: the output of '$3' came garbled ($(wc -c </tmp/onz.b64) bytes); again"
		cp /tmp/onz.b64 /tmp/onz.bad.$_try
	done
	return 126
}
on() {
	_dom=$1 _secs=$2
	shift 2
	on_seq=$((on_seq + 1))
	_tag=${_z:-}$on_seq
	_tty=$(_tty "$_dom") || { echo "on $_dom: no console" >&2; return 125; }
	_end=$(($(date +%s) + _secs))
	_in=
	exec 3<>"$_tty"
	stty -F "$_tty" raw -echo 2>/dev/null
	printf '%s %s\n' "$_tag" "$*" >&3
	while :; do
		_left=$((_end - $(date +%s)))
		if [ "$_left" -le 0 ]; then
			exec 3<&-
			echo "on $_dom: '$*' did not end in $_secs s" >&2
			return 124
		fi
		IFS= read -r -t "$_left" _line <&3 || continue
		_line=${_line%"$cr"}
		case $_line in
		*"@@E2E-BEGIN $_tag") _in=1 ;;
		*"@@E2E-END $_tag "*)
			exec 3<&-
			return "${_line##* }" ;;
		*) [ -n "$_in" ] && printf '%s\n' "$_line" ;;
		esac
	done
}

# ---- config space ----
# The bytes of a config file as one hex byte per line: what the
# comparisons diff.  A result short of the file's size is made again, at
# most twice, and said: a tool that dies (as dom0's did on TCG's XSAVE,
# e2e.sh) must not pass for a difference.
cfg_bytes() {
	_sz=$(wc -c <"$1")
	for _try in 1 2 3; do
		od -An -tx1 -v "$1" | tr -s ' ' '\n' | grep . >/tmp/cfg_bytes.out
		[ "$(wc -l </tmp/cfg_bytes.out)" = "$_sz" ] && { cat /tmp/cfg_bytes.out; return 0; }
		echo "E2E-INFO [$(now)] reading $1's bytes in dom0 came short (a tool crashed); again" >&2
	done
	return 1
}
lspci_bytes() { sed -n 's/^[0-9a-f][0-9a-f]*: //p' | tr -s ' ' '\n' | grep .; }

# cfg_diff NAME A B: dword by dword, each difference as
# "OFF: A-VALUE B-VALUE" (little-endian dwords, as lspci and setpci show
# them); lengths that differ are said.
cfg_diff() {
	awk -v name="$1" '
	FNR == 1 { f++ }
	f == 1 { a[FNR - 1] = $1; na = FNR }
	f == 2 { b[FNR - 1] = $1; nb = FNR }
	END {
		n = na < nb ? na : nb
		for (o = 0; o < n; o += 4) {
			va = a[o + 3] a[o + 2] a[o + 1] a[o]
			vb = b[o + 3] b[o + 2] b[o + 1] b[o]
			if (va != vb)
				printf "%s %03x: %s %s\n", name, o, va, vb
		}
		if (na != nb)
			printf "%s size: %d %d\n", name, na, nb
	}' "$2" "$3"
}
