#!/bin/sh
# `meson install` (what `make install` runs) into a temporary DESTDIR, then
# what a packager and a frontend author rely on:
# - every file where the prefix says: pvpci in bindir, the daemons in
#   sbindir, libpvpci.so.0 with its soname, libpvpci.a, every header of
#   include/pvpci under includedir/pvpci, pvpci.pc;
# - the shared library exports exactly what the installed headers declare
#   (each function, found by the compiler's -aux-info, and each extern
#   object) and nothing else (-fvisibility=hidden and PVPCI_API);
# - each installed header compiles on its own with only pkg-config's flags;
# - tests/install/tiny_front.c, built out of the tree with only
#   `pkg-config --cflags --libs pvpci` against the DESTDIR, links the
#   shared library and reads a function through the installed pvpcid.
# TAP on stdout; every process under a time limit.
set -u
. "${PVPCI_SRC:?}/tests/integration/tap_daemon.sh"

command -v pkg-config >/dev/null || skip_all "no pkg-config"
cc=${CC:-cc}
dest=$tmp/root

# The build's own directories and sanitizers, as meson was set up.
meson introspect "$bin" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "libdir", "includedir", "mandir", "datadir", "b_sanitize"):
    v = o[k]
    if k not in ("prefix", "b_sanitize") and not v.startswith("/"):
        v = o["prefix"] + "/" + v
    print("%s=%s" % (k, v))' >"$tmp/dirs" || { echo "Bail out! meson introspect failed"; exit 1; }
. "$tmp/dirs"
san=
[ "$b_sanitize" != none ] && san="-fsanitize=$b_sanitize"

check "meson install --destdir" timeout 120 meson install --no-rebuild --quiet -C "$bin" --destdir "$dest"

missing=
for f in "$bindir/pvpci" "$sbindir/pvpcid" "$sbindir/pvpci-stored" "$libdir/libpvpci.so.0" \
	"$libdir/libpvpci.so" "$libdir/libpvpci.a" "$libdir/pkgconfig/pvpci.pc"; do
	[ -e "$dest$f" ] || missing="$missing $f"
done
for h in "$src"/include/pvpci/*.h; do
	[ -f "$dest$includedir/pvpci/${h##*/}" ] || missing="$missing $includedir/pvpci/${h##*/}"
done
for j in "$src"/doc/schema/*.schema.json; do
	[ -f "$dest$datadir/pvpci/schema/${j##*/}" ] || missing="$missing $datadir/pvpci/schema/${j##*/}"
done
if [ -z "$missing" ]; then ok "binaries, library, every header of include/pvpci, pvpci.pc and the JSON schemas installed"
else notok "binaries, library, every header of include/pvpci, pvpci.pc and the JSON schemas installed" "missing:$missing"; fi
for h in "$dest$includedir"/pvpci/*.h; do
	[ -f "$src/include/pvpci/${h##*/}" ] || notok "no header installed that is not public" "${h##*/}"
done

soname=$(readelf -d "$dest$libdir/libpvpci.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = libpvpci.so.0 ]; then ok "soname libpvpci.so.0"
else notok "soname libpvpci.so.0" "got '$soname'"; fi

export PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags pvpci) && libs=$(pkg-config --libs pvpci)
check "pkg-config --cflags --libs pvpci" test -n "$libs"
case " $cflags " in
*" -I$dest$includedir "*) ok "pkg-config's cflags name the installed includedir" ;;
*) notok "pkg-config's cflags name the installed includedir" "cflags: $cflags" ;;
esac

# What the installed headers declare: functions as the compiler sees them
# (-aux-info lists every prototype with the header it came from), objects
# from their extern lines.
for h in "$dest$includedir"/pvpci/*.h; do echo "#include <pvpci/${h##*/}>"; done >"$tmp/all.c"
# shellcheck disable=SC2086
if timeout 60 $cc -std=c11 $cflags -aux-info "$tmp/aux" -c "$tmp/all.c" -o "$tmp/all.o" 2>"$tmp/err"; then
	grep "^/\* $dest$includedir/pvpci/.* \*/ extern " "$tmp/aux" |
		sed -n 's/^.* \*\/ extern [^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\) (.*/\1/p' >"$tmp/declared"
	sed -n 's/^PVPCI_API extern [^;]*[ *]\([A-Za-z_][A-Za-z0-9_]*\)\(\[\]\)\{0,1\};.*/\1/p' \
		"$dest$includedir"/pvpci/*.h >>"$tmp/declared"
	sort -u "$tmp/declared" -o "$tmp/declared"
	nm -D --defined-only "$dest$libdir/libpvpci.so" | awk '{print $3}' |
		grep -v '^__odr_asan\.' | sort -u >"$tmp/exported"
	nd=$(wc -l <"$tmp/declared")
	not_exported=$(comm -23 "$tmp/declared" "$tmp/exported")
	undeclared=$(comm -13 "$tmp/declared" "$tmp/exported")
	if [ "$nd" -gt 100 ] && [ -z "$not_exported" ]; then
		ok "every one of the $nd functions and objects the headers declare is exported"
	else
		notok "every function and object the headers declare is exported (PVPCI_API)" \
			"$nd declared; not exported:" "$not_exported"
	fi
	if [ -z "$undeclared" ]; then ok "nothing exported that the headers do not declare"
	else notok "nothing exported that the headers do not declare" "$undeclared"; fi
else
	notok "the installed headers compile together" "$(head -5 "$tmp/err")"
fi

bad=
for h in "$dest$includedir"/pvpci/*.h; do
	printf '#include <pvpci/%s>\n' "${h##*/}" >"$tmp/one.c"
	# shellcheck disable=SC2086
	timeout 60 $cc -std=c11 -Wall -Wextra -Werror -Wstrict-prototypes $cflags -fsyntax-only \
		"$tmp/one.c" 2>"$tmp/err" || bad="$bad ${h##*/}: $(head -2 "$tmp/err")"
done
if [ -z "$bad" ]; then ok "each installed header compiles alone with pkg-config's cflags"
else notok "each installed header compiles alone with pkg-config's cflags" "$bad"; fi

# A frontend out of the tree: only pkg-config (and the build's sanitizers,
# which the ASan library needs in the program too).
# shellcheck disable=SC2086
if timeout 60 $cc -std=c11 -Wall -Wextra -Werror $san $cflags -o "$tmp/tiny_front" \
	"$src/tests/install/tiny_front.c" $libs 2>"$tmp/err"; then
	ok "tiny_front builds with pkg-config --cflags --libs pvpci"
	if readelf -d "$tmp/tiny_front" | grep -q 'NEEDED.*\[libpvpci\.so\.0\]'; then
		ok "tiny_front links libpvpci.so.0"
	else
		notok "tiny_front links libpvpci.so.0" "$(readelf -d "$tmp/tiny_front" | grep NEEDED)"
	fi
	# The installed pvpcid serves it.
	bin=$dest$sbindir
	if start --host "sim:$src/fixtures/virtio-net.lspci" --export 1:00:03.0; then
		LD_LIBRARY_PATH="$dest$libdir" timeout 30 "$tmp/tiny_front" "$dsock" 1 >"$tmp/out" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && [ "$(cat "$tmp/out")" = "0000:00:00.0 1af4:1041" ]; then
			ok "tiny_front reads the virtio-net function through the installed pvpcid"
		else
			notok "tiny_front reads the virtio-net function through the installed pvpcid" \
				"exit $rc" "$(cat "$tmp/out")"
		fi
		stop
	else
		notok "the installed pvpcid starts" "$(cat "$tmp/daemon.log")"
	fi
else
	notok "tiny_front builds with pkg-config --cflags --libs pvpci" "$(head -5 "$tmp/err")"
fi
tap_done
