#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# bench/blk-vs-qsd.sh: the same guest workload against vmmem-vhost-user-blk
# and against qemu-storage-daemon's vhost-user-blk export, on the same
# image, in one run. QEMU 7.2 (TCG) boots Debian's kernel with a busybox
# initramfs holding bench/blk-io (built here with gcc -static), which runs
# O_DIRECT sequential 1 MiB and random 4 KiB writes and reads on /dev/vda.
# bench/blk-vs-qsd.py samples the backend's CPU time around each workload;
# the table gives CPU time per virtio request and guest-visible throughput
# per backend, and the ratio ours / qsd. See bench/README.md.
set -u

usage() {
	cat <<EOF
usage: bench/blk-vs-qsd.sh [options]
  --rounds N        boots per backend, alternating the backends (default 3)
  --backends LIST   among: ours qsd-threads qsd-io_uring (the host page cache:
                    cache.direct=off) and ours-direct qsd-io_uring-direct
                    qsd-native-direct (O_DIRECT on the image: cache.direct=on);
                    default: the first three. --direct-too adds the other three.
  --depth D         requests in flight in the guest (Linux AIO; default 1)
  --seq-ops N       1 MiB I/Os per sequential workload (default 512)
  --rand-ops N      4 KiB I/Os per random workload (default 6000)
  --max-seconds S   cap on each workload (default 60)
  --span-mib M      the part of the 256 MiB disk the workloads cover (default 192)
  --workloads LIST  among: seqwrite seqread randwrite randread (default: all four)
  --work DIR        image, initramfs and logs (default bench/blk-work in the build tree)
  --raw FILE        raw lines (default DIR/raw.txt)
  --smoke           a tiny run (one round, ours and qsd-threads, a few I/Os)
  --keep            keep the work directory (image, initramfs, logs)
EOF
}

rounds=3 backends="ours qsd-threads qsd-io_uring" depth=1 seq_ops=512 rand_ops=6000
max_s=60 span=192 raw= keep= workloads= work=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--backends) backends=$2; shift ;;
	--depth) depth=$2; shift ;;
	--seq-ops) seq_ops=$2; shift ;;
	--rand-ops) rand_ops=$2; shift ;;
	--max-seconds) max_s=$2; shift ;;
	--span-mib) span=$2; shift ;;
	--workloads) workloads=$2; shift ;;
	--raw) raw=$2; shift ;;
	--work) work=$2; shift ;;
	--direct-too) backends="$backends ours-direct qsd-io_uring-direct qsd-native-direct" ;;
	--smoke) rounds=1 backends="ours qsd-threads" seq_ops=8 rand_ops=200 max_s=20 ;;
	--keep) keep=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

top_builddir=${VMMEM_TOP_BUILDDIR:-$(pwd)}
top_srcdir=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
VUB_LIBDIR=$top_srcdir/examples/vhost-user-blk
. "$VUB_LIBDIR/qemu-lib.sh"
here=$top_srcdir/bench
DISK_MIB=256
PAUSE_MS=400

die() { echo "blk-vs-qsd: $*" >&2; exit 1; }
[ -x "$backend" ] || die "$backend is not built (run make)"
why=$(vub_need_tools) || die "$why"
command -v qemu-storage-daemon >/dev/null 2>&1 || die "qemu-storage-daemon is missing (apt-get install qemu-system-x86)"
command -v gcc >/dev/null 2>&1 || die "gcc is missing"
[ "$span" -le "$DISK_MIB" ] || die "--span-mib $span: the disk has $DISK_MIB MiB"

[ -n "$work" ] || work=$top_builddir/bench/blk-work
[ -n "$raw" ] || raw=$work/raw.txt
mkdir -p "$work" || die "cannot create $work"
run_qemu_pid= run_backend_pid=
cleanup() {
	[ -n "$run_qemu_pid" ] && kill -KILL "$run_qemu_pid" 2>/dev/null
	[ -n "$run_backend_pid" ] && kill -KILL "$run_backend_pid" 2>/dev/null
	[ -n "$keep" ] || rm -rf "$work/initrd" "$work/initrd.gz" "$work/disk.img" "$work/blk-io"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The guest program, static: the initramfs has no libc.
gcc -static -O2 -Wall -o "$work/blk-io" "$here/blk-io.c" ||
	die "gcc -static failed (is libc6-dev's libc.a installed?)"

# The image: random data (reads move real bytes, not holes), in the host's
# page cache before the first run so that no run pays for the disk.
head -c $((DISK_MIB << 20)) /dev/urandom >"$work/disk.img" || die "cannot write the image"
cat "$work/disk.img" >/dev/null

vub_initrd_base "$work/initrd" || die "initramfs"
cp "$work/blk-io" "$work/initrd/bin/blk-io"
cat >"$work/initrd/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $VUB_MODULES; do insmod /lib/\$m.ko || echo "BENCH insmod \$m failed"; done
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done
q=/sys/block/vda/queue
echo none >\$q/scheduler 2>/dev/null
echo "BENCH info max_segments \$(cat \$q/max_segments) max_sectors_kb \$(cat \$q/max_sectors_kb) max_segment_size \$(cat \$q/max_segment_size) scheduler \$(cat \$q/scheduler | tr ' ' ,) features \$(cat /sys/block/vda/device/features)"
/bin/blk-io /dev/vda $span $depth $seq_ops $rand_ops $max_s $PAUSE_MS $workloads || echo "BENCH done rc 1"
poweroff -f
EOF
vub_initrd_pack "$work/initrd" "$work/initrd.gz" || die "initramfs"

# start_backend NAME SOCKET: the backend in the background, its pid in
# run_backend_pid, its socket there.
start_backend() {
	rm -f "$2"
	case $1 in
	ours|ours-direct)
		[ "$1" = ours ] && direct= || direct=--direct
		"$backend" --socket "$2" --image "$work/disk.img" --queues 1 --once $direct ${BLK_OURS_ARGS:-} \
			>"$work/backend.log" 2>&1 & ;;
	qsd-threads|qsd-io_uring|qsd-io_uring-direct|qsd-native-direct)
		aio=${1#qsd-}; aio=${aio%-direct}
		case $1 in *-direct) direct=on ;; *) direct=off ;; esac
		qemu-storage-daemon \
			--blockdev "driver=file,node-name=disk,filename=$work/disk.img,aio=$aio,cache.direct=$direct" \
			--export "type=vhost-user-blk,id=exp0,node-name=disk,addr.type=unix,addr.path=$2,writable=on,num-queues=1,logical-block-size=512" \
			>"$work/backend.log" 2>&1 & ;;
	*) die "unknown backend $1 (ours, qsd-threads, qsd-io_uring, ours-direct, qsd-io_uring-direct, qsd-native-direct)" ;;
	esac
	run_backend_pid=$!
	i=0
	while [ ! -S "$2" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$run_backend_pid" 2>/dev/null; then
			sed 's/^/# backend: /' "$work/backend.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

stop_backend() {
	# Ours exits by itself when QEMU closes the socket (--once); qsd
	# serves until told to stop.
	i=0
	while kill -0 "$run_backend_pid" 2>/dev/null && [ $i -lt 30 ]; do
		[ "$1" = ours ] || kill -TERM "$run_backend_pid" 2>/dev/null
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$run_backend_pid" 2>/dev/null
	wait "$run_backend_pid" 2>/dev/null
	run_backend_pid=
}

# one_run ROUND BACKEND: one boot; appends its 'run ...' lines to $raw.
one_run() {
	sock=$work/blk.sock
	start_backend "$2" "$sock" || { echo "# $2: the backend did not start" >&2; return 1; }
	budget=$((60 + 4 * max_s + 4))
	timeout -k 5 $budget qemu-system-x86_64 \
		-machine q35,accel=tcg,memory-backend=mem \
		-object memory-backend-memfd,id=mem,size=256M,share=on -m 256M -smp 1 \
		-nographic -no-reboot -kernel "$(vub_kernel)" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1" \
		-chardev "socket,id=c0,path=$sock" -device vhost-user-blk-pci,chardev=c0,num-queues=1 \
		</dev/null >"$work/console.log" 2>"$work/qemu.log" &
	run_qemu_pid=$!
	echo "# round $1 $2: backend pid $run_backend_pid, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"
	python3 "$here/blk-vs-qsd.py" sample "$work/console.log" "$run_backend_pid" $budget >"$work/sample.txt"
	src=$?
	wait "$run_qemu_pid"; qrc=$?
	run_qemu_pid=
	stop_backend "$2"
	info=$(grep -a 'BENCH info' "$work/console.log" | tr -d '\r' | sed 's/.*BENCH info //' | head -1)
	[ -n "$info" ] && echo "# round $1 $2: guest queue: $info" | tee -a "$raw"
	sed "s/^/run $1 $2 /" "$work/sample.txt" | tee -a "$raw"
	if [ $src != 0 ] || [ $qrc != 0 ]; then
		echo "# round $1 $2: sampler exit $src, QEMU exit $qrc; console tail:" >&2
		tail -c 600 "$work/console.log" | tr -cd '[:print:]\n' | sed 's/^/#   /' >&2
		sed 's/^/# backend: /' "$work/backend.log" | tail -5 >&2
		return 1
	fi
}

{
	echo "# blk-vs-qsd $(date -u +%FT%TZ): $(uname -r), $(nproc) CPUs, QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p')"
	echo "# rounds $rounds, backends: $backends; workloads: ${workloads:-all}; depth $depth, seq-ops $seq_ops x 1 MiB, rand-ops $rand_ops x 4 KiB, span $span MiB of $DISK_MIB, max $max_s s per workload"
	echo "# ours[-direct]: $backend --socket S --image IMG --queues 1 --once [--direct]"
	echo "# qsd-AIO[-direct]: qemu-storage-daemon --blockdev driver=file,node-name=disk,filename=IMG,aio=AIO,cache.direct=off|on --export type=vhost-user-blk,id=exp0,node-name=disk,addr.type=unix,addr.path=S,writable=on,num-queues=1,logical-block-size=512"
} | tee "$raw"

failed=0
set -- $backends
nb=$#
r=1
while [ $r -le "$rounds" ]; do
	# Rotate the order each round: no backend always runs first.
	k=0
	while [ $k -lt $nb ]; do
		idx=$(( (k + r - 1) % nb + 1 ))
		eval "b=\${$idx}"
		one_run "$r" "$b" || failed=1
		k=$((k + 1))
	done
	r=$((r + 1))
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$raw"
echo
python3 "$here/blk-vs-qsd.py" summary "$raw" | tee "$work/summary.txt"
exit $failed
