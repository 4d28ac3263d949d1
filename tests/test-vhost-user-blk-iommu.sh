#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# End to end behind a virtual IOMMU: QEMU 7.2 (TCG) with intel-iommu
# (intremap=off, device-iotlb=on, kernel-irqchip=split), the
# vhost-user-blk disk on a PCIe root port with iommu_platform=on and
# ats=on, Debian's kernel booted with intel_iommu=on. The backend then
# negotiates VIRTIO_F_ACCESS_PLATFORM and sees I/O virtual addresses only:
# it asks QEMU for each translation with IOTLB_MISS on the backend request
# channel and gets IOTLB_MSG updates, and the guest's IOTLB flushes as
# invalidations. The guest writes a random pattern, drops its caches and
# reads it back, with two queues; the host checks the image. First, a backend that
# withholds ACCESS_PLATFORM (--no-iommu) must be refused by QEMU: the
# device really is behind the IOMMU. SKIPs, saying why, only where QEMU,
# its intel-iommu, a kernel or busybox are missing.
set -u

top_builddir=${VMMEM_TOP_BUILDDIR:-$(pwd)}
top_srcdir=${VMMEM_TOP_SRCDIR:-$(dirname "$0")/..}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
. "$top_srcdir/examples/vhost-user-blk/qemu-lib.sh"

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

why=$(vub_need_tools) || skip_all "$why"
[ -x "$backend" ] || skip_all "$backend is not built"
qemu-system-x86_64 -device help 2>/dev/null | grep -q '"intel-iommu"' ||
	skip_all "qemu-system-x86_64 has no intel-iommu device"
k=$(basename "$(vub_kernel)"); k=${k#vmlinuz-}
if [ -r "/boot/config-$k" ] && ! grep -q '^CONFIG_INTEL_IOMMU=y' "/boot/config-$k"; then
	skip_all "kernel $k is not built with CONFIG_INTEL_IOMMU=y (the initramfs loads no IOMMU driver)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-blk-iommu.XXXXXX")
trap 'vub_cleanup' EXIT INT TERM

echo "1..11"
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
failed=0
VUB_IOMMU=1

vub_make_image "$work/disk.img" || { echo "Bail out! sfdisk failed"; exit 1; }
vub_make_initrd "$work/initrd.gz" "$work/initrd" || { echo "Bail out! initramfs: see above"; exit 1; }

# ---- without ACCESS_PLATFORM, QEMU refuses the device -------------------------
: >"$work/backend.log"
: >"$work/qemu.log"
vub_start_backend "$work" --no-iommu || { echo "Bail out! backend did not start"; exit 1; }
vub_qemu "$work" console.log plain
vub_wait_qemu
vub_wait_backend "$work" 15
sed 's/^/# qemu: /' "$work/qemu.log" | head -5
check "a backend without VIRTIO_F_ACCESS_PLATFORM: QEMU refuses iommu_platform=on (exit $vub_qemu_rc)" \
	eval '[ "$vub_qemu_rc" = 1 ] && grep -q "iommu_platform=true is not supported by the device" "$work/qemu.log"'

# ---- the boot behind the IOMMU ------------------------------------------------
# Two queues and two vCPUs: two queues park on misses at once, and each
# must resume on its own update (asking again on every update multiplied
# the misses until QEMU dropped the backend channel).
start=$(date +%s)
VUB_QUEUES=2
vub_boot "$work" || true
VUB_QUEUES=1
end=$(date +%s)
echo "# boot and I/O behind intel-iommu took $((end - start)) s (QEMU exit $vub_qemu_rc, backend exit $vub_backend_rc)"
con=$work/console.log
log=$work/backend.log
grep -a 'VMMEM' "$con" | tr -cd '[:print:]\n' | sed 's/.*VMMEM/# guest: VMMEM/' | head -20
grep -v 'region [0-9]' "$log" | sed 's/^/# backend: /' | head -30

check "guest powered off in time and saw vda with both partitions ($VUB_P1_KIB + $VUB_P2_KIB KiB)" \
	vub_partitions_ok "$con"
check "the guest kernel runs its disk behind the IOMMU (dmar0, a DMA translation domain)" \
	grep -aEq "VMMEM iommu dmar0 .*group DMA" "$con"
check "ACCESS_PLATFORM negotiated: the backend's guest addresses are IOVAs" \
	grep -q "VIRTIO_F_ACCESS_PLATFORM on" "$log"
wrote=$(sed -n 's/.*VMMEM pattern \([0-9a-f]\{32\}\).*/\1/p' "$con" | tr -d '\r' | head -1)
read_back=$(sed -n 's/.*VMMEM readback \([0-9a-f]\{32\}\).*/\1/p' "$con" | tr -d '\r' | head -1)
echo "# pattern md5 ${wrote:-none}, read back ${read_back:-none}"
check "guest read back the pattern it wrote, after dropping caches" \
	test -n "$wrote" -a "$wrote" = "$read_back"
host=$(vub_image_md5 "$work/disk.img")
echo "# image's second partition md5 $host"
check "the image holds exactly the pattern the guest wrote" test -n "$wrote" -a "$host" = "$wrote"
check "guest read the disk identifier and the serial through IOVAs" \
	eval 'grep -aq "VMMEM diskid $VUB_DISK_ID" "$con" && grep -aq "VMMEM serial vmmem-blk" "$con"'
stats=$(sed -n 's/.*IOTLB: \([0-9]*\) misses sent, \([0-9]*\) updates and \([0-9]*\) invalidations received, \([0-9]*\) waits timed out.*/\1 \2 \3 \4/p' "$log")
set -- $stats 0 0 0 0
misses=$1 updates=$2 invals=$3 timeouts=$4
echo "# IOTLB: $misses misses sent, $updates updates, $invals invalidations, $timeouts timeouts"
check "the backend sent IOTLB misses and QEMU answered them with updates ($misses misses, $updates updates)" \
	eval '[ "$misses" -gt 0 ] && [ "$updates" -ge "$misses" ]'
check "the guest's IOTLB flushes reached the backend as invalidations ($invals), and no miss went unanswered" \
	eval '[ "$invals" -gt 0 ] && [ "$timeouts" = 0 ]'
check "the backend stopped no queue and exited 0 when QEMU closed the socket" \
	vub_backend_clean "$log"
check "both request queues served the guest by IOVA" \
	grep -Eq "requests per queue: 0: [1-9][0-9]* 1: [1-9]" "$log"
exit $failed
