#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# End to end: QEMU 7.2 (TCG) boots Debian's kernel with a busybox
# initramfs and a vhost-user-blk disk served by vmmem-vhost-user-blk. The
# guest reads the partition table and the disk identifier sfdisk wrote,
# the serial (GET_ID), writes a random pattern to the second partition,
# drops its caches, reads it back; the host checks the image holds the
# pattern. Every wait has a timeout. SKIPs, saying why, only where QEMU,
# a kernel or busybox are missing and cannot be installed.
set -u

top_builddir=${VMMEM_TOP_BUILDDIR:-$(pwd)}
top_srcdir=${VMMEM_TOP_SRCDIR:-$(dirname "$0")/..}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
. "$top_srcdir/examples/vhost-user-blk/qemu-lib.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

why=$(vub_need_tools) || skip_all "$why"
[ -x "$backend" ] || skip_all "$backend is not built"

work=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-blk-test.XXXXXX")
trap 'vub_cleanup' EXIT INT TERM

echo "1..18"
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
failed=0

vub_make_image "$work/disk.img" || { echo "Bail out! sfdisk failed"; exit 1; }
vub_make_initrd "$work/initrd.gz" "$work/initrd" || { echo "Bail out! initramfs: see above"; exit 1; }

# The first boot with two queues and two vCPUs, so that both are used.
start=$(date +%s)
VUB_QUEUES=2
vub_boot "$work" || true
VUB_QUEUES=1
end=$(date +%s)
echo "# boot and I/O took $((end - start)) s (QEMU exit $vub_qemu_rc, backend exit $vub_backend_rc)"
grep -a 'VMMEM' "$work/console.log" | tr -cd '[:print:]\n' | sed 's/.*VMMEM/# guest: VMMEM/' | head -40
sed 's/^/# backend: /' "$work/backend.log" | head -40

con=$work/console.log
check "guest powered off in time and saw vda with both partitions ($VUB_P1_KIB + $VUB_P2_KIB KiB)" \
	vub_partitions_ok "$con"
check "guest read the disk identifier $VUB_DISK_ID" grep -aq "VMMEM diskid $VUB_DISK_ID" "$con"
check "guest read the serial (GET_ID) vmmem-blk" grep -aq "VMMEM serial vmmem-blk" "$con"
check "guest negotiated SEG_MAX: 126 segments per request (not 1)" grep -aq "VMMEM maxseg 126" "$con"
wrote=$(sed -n 's/.*VMMEM pattern \([0-9a-f]\{32\}\).*/\1/p' "$con" | tr -d '\r' | head -1)
read_back=$(sed -n 's/.*VMMEM readback \([0-9a-f]\{32\}\).*/\1/p' "$con" | tr -d '\r' | head -1)
echo "# pattern md5 ${wrote:-none}, read back ${read_back:-none}"
check "guest read back the pattern it wrote, after dropping caches" \
	test -n "$wrote" -a "$wrote" = "$read_back"
host=$(vub_image_md5 "$work/disk.img")
echo "# image's second partition md5 $host"
check "the image holds exactly the pattern the guest wrote" test -n "$wrote" -a "$host" = "$wrote"
check "the backend received the guest memory table" grep -q "memory table after" "$work/backend.log"
check "the backend stopped no queue and exited 0 when QEMU closed the socket" \
	vub_backend_clean "$work/backend.log"
check "both request queues served the guest (multiqueue)" \
	grep -Eq "requests per queue: 0: [1-9][0-9]* 1: [1-9]" "$work/backend.log"

# ---- memory hotplug during I/O ----------------------------------------------
echo "# hotplug: QMP object-add memory-backend-memfd + device_add pc-dimm, later device_del"
# This boot's backend bypasses the host page cache (--direct) where the
# image's file system takes O_DIRECT: the guest's I/O, checked by md5,
# then moves between guest memory and the disk with no copy in between.
direct=
dd if=/dev/zero of="$work/direct-probe" bs=4096 count=1 oflag=direct 2>/dev/null && direct=--direct
rm -f "$work/direct-probe"
VUB_BACKEND_ARGS=$direct vub_boot "$work" hotplug || true
con=$work/console.log
grep -a 'VMMEM hotplug\|VMMEM onlined' "$con" | tr -cd '[:print:]\n' | sed 's/^/# guest: /'
grep 'MEM_REG' "$work/backend.log" | sed 's/^/# backend: /'
check "hotplug: QEMU sent ADD_MEM_REG for the DIMM, the guest onlined it, QEMU sent REM_MEM_REG" \
	test "$vub_qmp_rc" = 0
check "hotplug: guest I/O never failed while memory came and went" \
	grep -aq "VMMEM hotplug rounds [0-9]* failures 0 onlined [1-9]" "$con"
check "hotplug: the guest powered off and the backend ended cleanly" \
	eval 'vub_partitions_ok "$con" && vub_backend_clean "$work/backend.log"'
grep 'hot-added' "$work/backend.log" | sed 's/^/# backend: /'
check "hotplug: requests had their data buffers in the hot-added DIMM (the guest onlined it movable)" \
	grep -Eq "^vmmem-vhost-user-blk: [1-9][0-9]* IN/OUT requests had data buffers in hot-added memory" \
	"$work/backend.log"
if [ -n "$direct" ]; then
	grep 'O_DIRECT' "$work/backend.log" | sed 's/^/# backend: /'
	check "hotplug with --direct: the guest's requests went through O_DIRECT" \
		grep -Eq "^vmmem-vhost-user-blk: [1-9][0-9]* of the IN/OUT requests went through O_DIRECT" \
		"$work/backend.log"
else
	ok "hotplug with --direct # SKIP $work's file system does not take O_DIRECT"
fi

# ---- live migration while the guest reads its disk ---------------------------
echo "# migration: migrate to exec:cat > FILE while the guest reads, resume on a fresh backend"
vub_migrate "$work"; mig=$?
grep -ah "VMMEM migrate" "$work/console.log" "$work/console-dst.log" 2>/dev/null | tr -cd '[:print:]\n' | sed 's/^/# guest: /'
grep 'SET_LOG_BASE\|LOG_ALL' "$work/backend-src.log" 2>/dev/null | sed 's/^/# source backend: /'
check "migration: the source backend got SET_LOG_BASE and logged under VHOST_F_LOG_ALL" \
	grep -q "dirty logging (VHOST_F_LOG_ALL) on" "$work/backend-src.log"
check "migration: completed, and the destination guest went on reading" test "$mig" = 0
check "migration: every read before, during and after the migration had the right md5" \
	grep -aq "VMMEM migrate rounds [0-9]* failures 0" "$work/console-dst.log"
check "migration: both backends ended cleanly" \
	eval '[ "$vub_src_backend_rc" = 0 ] && vub_backend_clean "$work/backend.log"'
exit $failed
