#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# demo.sh: QEMU boots Linux with a disk served by vmmem-vhost-user-blk and
# does I/O on it; prints what happened in a few lines. Exit 0 only when
# every check passed. Installs QEMU, a kernel and busybox when missing
# (as root, with apt-get). Run from a built tree, or set
# VMMEM_TOP_BUILDDIR to one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
top_builddir=${VMMEM_TOP_BUILDDIR:-$top_srcdir}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
VUB_LIBDIR=$here
. "$here/qemu-lib.sh"

say() { printf '  %-14s %s\n' "$1" "$2"; }
fail() { echo "vhost-user-blk demo: FAILED: $*"; exit 1; }

[ -x "$backend" ] || fail "$backend is not built (run make)"
why=$(vub_need_tools) || fail "$why"
work=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-blk-demo.XXXXXX")
trap 'vub_cleanup' EXIT INT TERM

echo "vhost-user-blk demo: QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p') (TCG) + vmmem-vhost-user-blk"
t0=$(date +%s.%N)
vub_make_image "$work/disk.img" || fail "sfdisk"
vub_make_initrd "$work/initrd.gz" "$work/initrd" || fail "initramfs"
vub_boot "$work" || fail "QEMU exited $vub_qemu_rc (console: $(tail -c 300 "$work/console.log" | tr -cd '[:print:]'))"
t1=$(date +%s.%N)

con=$work/console.log
g() { grep -a "VMMEM $1" "$con" | tr -cd '[:print:]\n' | sed "s/.*VMMEM $1 //" | head -1; }
parts=$(grep -a "VMMEM part" "$con" | tr -cd '[:print:]\n' | sed 's/.*VMMEM part //' |
	awk '{ printf "%s%s %d MiB", sep, $1, $2 / 1024; sep = ", " }')
wrote=$(g pattern) back=$(g readback) host=$(vub_image_md5 "$work/disk.img")
stats=$(sed -n 's/.*session ended: //p' "$work/backend.log")

say "guest kernel" "Linux $(g kernel), virtio_blk over vhost-user-pci"
say "guest disk" "$parts; disk id 0x$(g diskid), serial $(g serial)"
say "memory table" "$(sed -n 's/.*memory table after \([A-Z_]*\):.*/\1/p' "$work/backend.log" |
	sort | uniq -c | awk '{ printf "%s%d x %s", sep, $1, $2; sep = ", " }') from QEMU; the regions:"
tac "$work/backend.log" | sed -n '/memory table after/q;p' | tac | grep 'region' |
	sed 's/.*region /                 region /'
say "backend I/O" "$stats"
verdict=FAIL
[ -n "$wrote" ] && [ "$wrote" = "$back" ] && [ "$wrote" = "$host" ] && verdict=OK
say "md5" "$verdict: guest wrote $wrote, read back ${back:-none}, image holds ${host:-none}"
say "time" "$(echo "$t1 $t0" | awk '{ printf "%.1f s", $1 - $2 }') (image, initramfs, boot, I/O, power-off)"

vub_partitions_ok "$con" || fail "the guest did not see the partitions sfdisk wrote"
[ "$(g diskid)" = "$VUB_DISK_ID" ] || fail "disk identifier"
[ "$verdict" = OK ] || fail "md5 mismatch"
vub_backend_clean "$work/backend.log" || fail "backend: $(tail -3 "$work/backend.log")"
echo "vhost-user-blk demo: OK"
