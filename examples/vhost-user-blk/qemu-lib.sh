# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Shell functions shared by tests/test-vhost-user-blk-qemu.sh and demo.sh:
# find (or install) QEMU, a kernel and busybox, build the initramfs and
# the image, boot QEMU against vmmem-vhost-user-blk. Sourced; expects
# $backend (the program) and $work (a scratch directory).

VUB_LIBDIR=${VUB_LIBDIR:-${top_srcdir:-.}/examples/vhost-user-blk}
VUB_DISK_ID=1a2b3c4d
VUB_P1_KIB=16384   # vda1: sectors 2048 + 32768
VUB_P2_KIB=32768   # vda2: sectors 34816 + 65536, at 17 MiB
VUB_DISK_KIB=65536
VUB_PATTERN_MIB=8
VUB_BOOT_TIMEOUT=${VUB_BOOT_TIMEOUT:-120}
# Request queues, and as many vCPUs (Linux uses one queue per CPU).
VUB_QUEUES=${VUB_QUEUES:-1}
# Non-empty: the disk sits behind a virtual IOMMU (intel-iommu with a
# device IOTLB, the device on a PCIe root port with ATS, iommu_platform=on,
# the guest booted with intel_iommu=on): the backend sees IOVAs only.
VUB_IOMMU=${VUB_IOMMU:-}
VUB_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
vub_qemu_rc=none
vub_backend_rc=none
vub_backend_pid=
vub_qemu_pid=
# In the build tree (make check sets it; demo.sh and manual runs do not).
if [ -z "${VMMEM_PROVIDER_PATH:-}" ] && [ -n "${top_builddir:-}" ] &&
	[ -d "$top_builddir/providers/mmap/.libs" ]; then
	VMMEM_PROVIDER_PATH=$top_builddir/providers/mmap/.libs:$top_builddir/providers/memfd/.libs
	export VMMEM_PROVIDER_PATH
fi

vub_kernel() { ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1; }

vub_missing() {
	m=""
	command -v qemu-system-x86_64 >/dev/null 2>&1 || m="$m qemu-system-x86"
	[ -n "$(vub_kernel)" ] || m="$m linux-image-amd64"
	command -v busybox >/dev/null 2>&1 || m="$m busybox-static"
	command -v cpio >/dev/null 2>&1 || m="$m cpio"
	command -v sfdisk >/dev/null 2>&1 || m="$m fdisk"
	command -v python3 >/dev/null 2>&1 || m="$m python3"
	echo "$m"
}

# Prints nothing and succeeds when everything is there (installing what
# is missing where we can: root and apt-get); otherwise prints why not.
vub_need_tools() {
	m=$(vub_missing)
	if [ -n "$m" ]; then
		if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
			timeout 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				-o DPkg::Lock::Timeout=300 $m >/dev/null 2>&1 ||
				{ timeout 300 apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null 2>&1 &&
				  timeout 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
					-o DPkg::Lock::Timeout=300 $m >/dev/null 2>&1; }
		fi
		m=$(vub_missing)
		if [ -n "$m" ]; then
			echo "not installed and could not be installed (need root and apt-get):$m"
			return 1
		fi
	fi
	k=$(basename "$(vub_kernel)"); k=${k#vmlinuz-}
	[ -d "/lib/modules/$k" ] || { echo "no /lib/modules/$k for the kernel in /boot"; return 1; }
	for mod in $VUB_MODULES; do
		modinfo -k "$k" -n "$mod" >/dev/null 2>&1 || { echo "kernel $k has no module $mod"; return 1; }
	done
	return 0
}

vub_make_image() {
	rm -f "$1"
	truncate -s "${VUB_DISK_KIB}K" "$1" || return 1
	sfdisk -q "$1" >/dev/null <<EOF
label: dos
label-id: 0x$VUB_DISK_ID
start=2048, size=32768, type=83
start=34816, size=65536, type=83
EOF
}

# Clears the STOP flag a previous boot's host side left in sector 1.
vub_clear_stop() {
	dd if=/dev/zero of="$1" bs=512 seek=1 count=1 conv=notrunc 2>/dev/null
}

vub_image_md5() {
	dd if="$1" bs=1M skip=17 count=$VUB_PATTERN_MIB 2>/dev/null | md5sum | cut -d' ' -f1
}

# vub_initrd_base DIR: a fresh DIR with busybox and the six modules (the
# caller writes DIR/init, then vub_initrd_pack).
vub_initrd_base() {
	dir=$1
	k=$(basename "$(vub_kernel)"); k=${k#vmlinuz-}
	rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" || return 1
	cp "$(command -v busybox)" "$dir/bin/busybox" || return 1
	for mod in $VUB_MODULES; do
		f=$(modinfo -k "$k" -n "$mod") || return 1
		case $f in
		*.xz) xz -dc "$f" >"$dir/lib/$mod.ko" ;;
		*.zst) zstd -qdc "$f" >"$dir/lib/$mod.ko" ;;
		*) cp "$f" "$dir/lib/$mod.ko" ;;
		esac || { echo "# cannot copy $f"; return 1; }
	done
}

# vub_initrd_pack DIR OUT: DIR/init made executable, DIR packed into OUT.
vub_initrd_pack() {
	chmod +x "$1/init"
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$2"
}

# vub_make_initrd OUT DIR: busybox, the six virtio modules in dependency
# order and an /init that does the I/O (vmmem.mode= on the kernel command
# line picks the hotplug or migration loop).
vub_make_initrd() {
	out=$1 dir=$2
	vub_initrd_base "$dir" || return 1
	{
		cat <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $VUB_MODULES; do insmod /lib/\$m.ko || echo "VMMEM insmod \$m failed"; done
i=0
while [ ! -b /dev/vda2 ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done
echo "VMMEM kernel \$(uname -r)"
grep vda /proc/partitions | while read maj min blocks name; do echo "VMMEM part \$name \$blocks"; done
echo "VMMEM diskid \$(od -A n -t x4 -j 440 -N 4 /dev/vda | tr -d ' ')"
echo "VMMEM serial \$(cat /sys/block/vda/serial)"
echo "VMMEM maxseg \$(cat /sys/block/vda/queue/max_segments)"
# The IOMMU the kernel found, and the DMA domain type of the disk's group.
echo "VMMEM iommu \$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')group \$(cat /sys/block/vda/device/../iommu_group/type 2>/dev/null || echo none)"
# One read from each CPU: Linux maps each CPU to its own request queue.
for c in \$(seq 0 \$((\$(grep -c ^processor /proc/cpuinfo) - 1))); do
	taskset -c \$c dd if=/dev/vda1 of=/dev/null bs=64k count=4 iflag=direct 2>/dev/null
done
EOF
		cat <<EOF
dd if=/dev/urandom of=/tmp/pat bs=1M count=$VUB_PATTERN_MIB 2>/dev/null
pat=\$(md5sum </tmp/pat | cut -d' ' -f1)
echo "VMMEM pattern \$pat"
dd if=/tmp/pat of=/dev/vda2 bs=1M conv=fsync 2>/dev/null || echo "VMMEM write failed"
sync
echo 3 >/proc/sys/vm/drop_caches
echo "VMMEM readback \$(dd if=/dev/vda2 bs=1M count=$VUB_PATTERN_MIB 2>/dev/null | md5sum | cut -d' ' -f1)"
# The host ends a loop by writing STOP into sector 1 of the image.
stop() { [ "\$(dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c 4)" = STOP ]; }
case "\$(cat /proc/cmdline)" in
*vmmem.mode=hotplug*)
	# Write and read back 1 MiB of vda1 until told to stop, onlining
	# hotplugged memory as it comes.
	one=\$(head -c 1048576 /tmp/pat | md5sum | cut -d' ' -f1)
	i=0 fail=0 on=0
	while [ \$i -lt 2000 ] && ! stop; do
		for b in /sys/devices/system/memory/memory*; do
			if [ "\$(cat \$b/state)" = offline ] && echo online_movable >\$b/state 2>/dev/null; then
				on=\$((on + 1)); echo "VMMEM onlined \${b##*/}"
			fi
		done
		dd if=/tmp/pat of=/dev/vda1 bs=64k count=16 oflag=direct 2>/dev/null || fail=\$((fail + 1))
		[ "\$(dd if=/dev/vda1 bs=64k count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)" = "\$one" ] || fail=\$((fail + 1))
		i=\$((i + 1)); echo "VMMEM round \$i failures \$fail"
	done
	echo "VMMEM hotplug rounds \$i failures \$fail onlined \$on" ;;
*vmmem.mode=migrate*)
	# Read the pattern back until told to stop: the backend writes guest
	# memory all through the migration.
	i=0 fail=0
	while [ \$i -lt 2000 ] && ! stop; do
		[ "\$(dd if=/dev/vda2 bs=1M count=$VUB_PATTERN_MIB iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)" = "\$pat" ] || fail=\$((fail + 1))
		i=\$((i + 1)); echo "VMMEM round \$i failures \$fail"
	done
	echo "VMMEM migrate rounds \$i failures \$fail" ;;
esac
echo "VMMEM done"
poweroff -f
EOF
	} >"$dir/init"
	vub_initrd_pack "$dir" "$out"
}

# vub_start_backend WORK [backend options]: starts it (with
# $VUB_BACKEND_ARGS too), waits for its socket (10 s).
vub_start_backend() {
	w=$1; shift
	rm -f "$w/blk.sock"
	# shellcheck disable=SC2086
	"$backend" --socket "$w/blk.sock" --image "$w/disk.img" --queues "$VUB_QUEUES" --once \
		${VUB_BACKEND_ARGS:-} "$@" \
		>>"$w/backend.log" 2>&1 &
	vub_backend_pid=$!
	i=0
	while [ ! -S "$w/blk.sock" ]; do
		i=$((i + 1))
		[ $i -le 100 ] && kill -0 "$vub_backend_pid" 2>/dev/null || { echo "# backend did not start"; return 1; }
		sleep 0.1
	done
}

# Waits up to $2 s for the backend to exit by itself, then SIGINT, then
# SIGKILL; sets vub_backend_rc.
vub_wait_backend() {
	i=0
	while kill -0 "$vub_backend_pid" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$vub_backend_pid" 2>/dev/null; then
		echo "# backend still running after QEMU left: SIGINT"
		kill -INT "$vub_backend_pid"; sleep 2
		kill -KILL "$vub_backend_pid" 2>/dev/null
	fi
	wait "$vub_backend_pid"; vub_backend_rc=$?
	vub_backend_pid=
}

vub_qemu_args() {
	# $1: work dir, $2: -m option
	if [ -n "$VUB_IOMMU" ]; then
		# ATS needs a PCIe device: on a root port, not on pcie.0.
		echo "-machine q35,accel=tcg,kernel-irqchip=split,memory-backend=mem"
		echo "-device intel-iommu,intremap=off,device-iotlb=on -device pcie-root-port,id=rp0,bus=pcie.0,chassis=1"
		dev="vhost-user-blk-pci,bus=rp0,iommu_platform=on,ats=on"
	else
		echo "-machine q35,accel=tcg,memory-backend=mem"
		dev=vhost-user-blk-pci
	fi
	echo "-object memory-backend-memfd,id=mem,size=256M,share=on"
	echo "-m $2 -smp $VUB_QUEUES -nographic -no-reboot -kernel $(vub_kernel) -initrd $1/initrd.gz"
	echo "-chardev socket,id=c0,path=$1/blk.sock -device $dev,chardev=c0,num-queues=$VUB_QUEUES"
}

vub_qmp() { python3 "$VUB_LIBDIR/qmp.py" "$@"; }

# vub_qemu WORK CONSOLE MODE [QEMU options]: one QEMU in the background
# ($vub_qemu_pid), its console to WORK/CONSOLE, within the timeout.
vub_qemu() {
	w=$1 con=$2 mode=$3; shift 3
	# shellcheck disable=SC2046
	timeout -k 5 "$VUB_BOOT_TIMEOUT" qemu-system-x86_64 $(vub_qemu_args "$w" "256M,slots=4,maxmem=1G") \
		-append "console=ttyS0 quiet panic=-1 vmmem.mode=$mode${VUB_IOMMU:+ intel_iommu=on}" "$@" \
		</dev/null >"$w/$con" 2>>"$w/qemu.log" &
	vub_qemu_pid=$!
}

vub_wait_qemu() {
	wait "$vub_qemu_pid"; vub_qemu_rc=$?
	vub_qemu_pid=
	[ "$vub_qemu_rc" = 124 ] && echo "# QEMU timed out after $VUB_BOOT_TIMEOUT s"
	[ "$vub_qemu_rc" = 0 ]
}

# vub_boot WORK [MODE]: backend + one QEMU boot to power-off. MODE
# hotplug adds and removes a DIMM over QMP while the guest does I/O
# (vub_qmp_rc: the QMP script's verdict).
vub_boot() {
	w=$1 mode=${2:-plain}
	: >"$w/backend.log"
	: >"$w/qemu.log"
	vub_clear_stop "$w/disk.img"
	vub_start_backend "$w" || return 1
	vub_qemu "$w" console.log "$mode" -qmp "unix:$w/qmp.sock,server=on,wait=off"
	vub_qmp_rc=0
	if [ "$mode" = hotplug ]; then
		vub_qmp hotplug "$w/qmp.sock" "$w/console.log" "$w/backend.log" "$w/disk.img"
		vub_qmp_rc=$?
	fi
	vub_wait_qemu; r=$?
	[ -s "$w/qemu.log" ] && sed 's/^/# qemu: /' "$w/qemu.log" | head -20
	vub_wait_backend "$w" 15
	return $r
}

# vub_migrate WORK: the guest reads its disk in a loop while QEMU
# migrates it to a file; a destination QEMU with a fresh backend on the
# same image resumes it from there.
vub_migrate() {
	w=$1
	: >"$w/backend.log"
	: >"$w/qemu.log"
	vub_clear_stop "$w/disk.img"
	vub_start_backend "$w" || return 1
	vub_qemu "$w" console.log migrate -qmp "unix:$w/qmp.sock,server=on,wait=off"
	vub_qmp migrate "$w/qmp.sock" "$w/console.log" "$w/migration.bin"
	vub_migrate_rc=$?
	vub_wait_qemu
	vub_src_qemu_rc=$vub_qemu_rc
	vub_wait_backend "$w" 15
	vub_src_backend_rc=$vub_backend_rc
	mv "$w/backend.log" "$w/backend-src.log"
	: >"$w/backend.log"
	[ "$vub_migrate_rc" = 0 ] || return 1
	vub_start_backend "$w" || return 1
	vub_qemu "$w" console-dst.log migrate -qmp "unix:$w/qmp-dst.sock,server=on,wait=off" \
		-incoming "exec:cat $w/migration.bin"
	vub_qmp stop "$w/disk.img" "$w/console-dst.log"
	vub_stop_rc=$?
	vub_wait_qemu; r=$?
	[ -s "$w/qemu.log" ] && sed 's/^/# qemu: /' "$w/qemu.log" | head -20
	vub_wait_backend "$w" 15
	[ $r = 0 ] && [ $vub_stop_rc = 0 ]
}

vub_partitions_ok() {
	grep -aq "VMMEM done" "$1" &&
		grep -aq "VMMEM part vda $VUB_DISK_KIB" "$1" &&
		grep -aq "VMMEM part vda1 $VUB_P1_KIB" "$1" &&
		grep -aq "VMMEM part vda2 $VUB_P2_KIB" "$1"
}

vub_backend_clean() {
	[ "$vub_backend_rc" = 0 ] && ! grep -q "stopped:" "$1" && grep -q "session ended" "$1"
}

vub_cleanup() {
	[ -n "$vub_qemu_pid" ] && kill -KILL "$vub_qemu_pid" 2>/dev/null
	[ -n "$vub_backend_pid" ] && kill -KILL "$vub_backend_pid" 2>/dev/null
	[ -n "${work:-}" ] && [ -z "${VUB_KEEP:-}" ] && rm -rf "$work"
}
