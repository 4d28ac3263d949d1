#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Quick start, step 1: install what is missing (Debian/Ubuntu), configure,
# build, and run the demos: examples/two-regions, then the main one, a QEMU
# guest whose disk vmmem-vhost-user-blk serves. Safe to run again.
set -eu
cd "$(dirname "$0")"

need=""
command -v autoreconf >/dev/null 2>&1 || need="$need autoconf"
command -v automake >/dev/null 2>&1 || need="$need automake"
command -v libtoolize >/dev/null 2>&1 || need="$need libtool"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
pkg-config --exists 'glib-2.0 >= 2.68' 2>/dev/null || need="$need libglib2.0-dev"
# For the demo: QEMU, a guest kernel, busybox for its initramfs, sfdisk.
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
ls /boot/vmlinuz-* >/dev/null 2>&1 || need="$need linux-image-amd64"
[ -x /bin/busybox ] || need="$need busybox-static"
command -v cpio >/dev/null 2>&1 || need="$need cpio"
command -v sfdisk >/dev/null 2>&1 || need="$need fdisk"
command -v python3 >/dev/null 2>&1 || need="$need python3"
if [ -n "$need" ]; then
	echo "build.sh: installing:$need"
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --quiet
make -s -j"$(nproc 2>/dev/null || echo 2)"
echo "build.sh: running examples/two-regions"
VMMEM_PROVIDER_PATH="$PWD/providers/mmap/.libs" ./examples/two-regions
# The main demo: a real QEMU guest whose disk is served by
# vmmem-vhost-user-blk; exits non-zero unless every check passed.
echo "build.sh: running examples/vhost-user-blk/demo.sh"
exec ./examples/vhost-user-blk/demo.sh
