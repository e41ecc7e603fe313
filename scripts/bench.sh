#!/bin/sh
# make bench: every benchmark, each printing its floor beside its figure.
set -e
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
fixture=$here/fixtures/virtio-net.lspci
[ -f "$fixture" ] || fixture=$here/../shared/fixtures/pciutils/cap-vendor-virtio
echo "== engine (pinned to CPU 0)"
taskset -c 0 "$build/bench_engine" "sim:$fixture"
echo "== pvpcid --record's cost per op (pinned to CPU 0)"
taskset -c 0 "$build/bench_record" "$here/fixtures/virtio-net.lspci"
echo "== protocol (each process pins itself: CPU 0 for the headline, then unpinned)"
"$build/bench_proto" "$fixture"
