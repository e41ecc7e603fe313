#!/bin/sh
# Install the Debian packages the build, the tests and the demo need, when
# they are missing.  Needs root (or sudo) only when something is missing.
set -e
pkgs="gcc make meson ninja-build pkg-config python3 libcmocka-dev libpci-dev pciutils pci.ids libxen-dev"
# The man pages' linters and systemd-analyze for the units (test_man.sh, test_units.sh).
pkgs="$pkgs mandoc groff-base man-db systemd"
# pvpci-stored's real clients in its tests: the xenstore tools, test-xenstore.
pkgs="$pkgs xenstore-utils xen-utils-4.17"
# The --json test checks its documents with jsonschema too (it has a validator of its own).
pkgs="$pkgs python3-jsonschema"
# The libFuzzer targets (tests/fuzz: make fuzz, and make check): clang and its runtimes.
pkgs="$pkgs clang libclang-rt-14-dev"
[ "${1:-}" = "--check-only" ] && check_only=1 || check_only=
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ -n "$check_only" ]; then
	echo "missing packages:$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
