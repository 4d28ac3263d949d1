#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# bench/blk-vs-qsd.sh --smoke: one boot against vmmem-vhost-user-blk and
# one against qemu-storage-daemon, a few I/Os each. Checks that the bench
# runs and prints well-formed lines (every workload for both backends,
# with requests, time and CPU time), not how fast anything is. SKIPs,
# saying why, where QEMU, qsd, a kernel or gcc -static are missing.
set -u
top_builddir=${VMMEM_TOP_BUILDDIR:-$(pwd)}
top_srcdir=${VMMEM_TOP_SRCDIR:-$(dirname "$0")/..}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
VUB_LIBDIR=$top_srcdir/examples/vhost-user-blk
. "$VUB_LIBDIR/qemu-lib.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
why=$(vub_need_tools) || skip_all "$why"
[ -x "$backend" ] || skip_all "$backend is not built"
command -v qemu-storage-daemon >/dev/null 2>&1 || skip_all "qemu-storage-daemon is not installed"
work=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-blk-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Link into the work directory, never to /dev/null: ld replaces its output
# file, and as root that deletes the device.
printf 'int main(void){return 0;}\n' | gcc -static -x c -o "$work/static-probe" - 2>/dev/null ||
	skip_all "gcc -static cannot link (no libc.a)"
out=$work/out.txt

echo "1..4"
VMMEM_TOP_BUILDDIR=$top_builddir VMMEM_TOP_SRCDIR=$top_srcdir \
	timeout -k 5 600 sh "$top_srcdir/bench/blk-vs-qsd.sh" --smoke --work "$work/bench" --raw "$work/raw.txt" >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
[ $rc = 0 ] && echo "ok 1 - blk-vs-qsd.sh --smoke exits 0" || echo "not ok 1 - blk-vs-qsd.sh --smoke exits $rc"

# run ROUND BACKEND NAME ops N bytes B usec T reqs R cpu_ns C ticks K
wellformed=$(grep -cE '^run 1 (ours|qsd-threads) (seqwrite-1M|seqread-1M|randwrite-4k|randread-4k) ops [1-9][0-9]* bytes [1-9][0-9]* usec [1-9][0-9]* reqs [1-9][0-9]* cpu_ns [1-9][0-9]* ticks [0-9]+$' "$work/raw.txt")
[ "$wellformed" = 8 ] && echo "ok 2 - 8 well-formed run lines (4 workloads x 2 backends)" ||
	echo "not ok 2 - $wellformed well-formed run lines, 8 expected"

rows=$(grep -cE '^(seqwrite-1M|seqread-1M|randwrite-4k|randread-4k) +(ours|qsd-threads) +1 ' "$out")
[ "$rows" = 8 ] && echo "ok 3 - the summary has a row per workload and backend" ||
	echo "not ok 3 - the summary has $rows rows, 8 expected"
seg=$(grep -c 'guest queue: max_segments 126 ' "$work/raw.txt")
[ "$seg" = 2 ] && echo "ok 4 - both guests took 126 segments per request (SEG_MAX)" ||
	echo "not ok 4 - $seg of 2 guests saw max_segments 126"
