#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# vmmem-vhost-user-blk against a hostile frontend and guest
# (tests/vhost-user-blk-frontend.py): bad descriptors and buffers end in
# IOERR or a stopped queue with a message naming the cause, never a crash
# or a hang; SET_LOG_BASE's reply; IN data lands in the dirty log; and with
# VIRTIO_F_ACCESS_PLATFORM the frontend plays the vIOMMU (IOTLB misses,
# updates, invalidation, denial, a miss never answered).
set -u
top_builddir=${VMMEM_TOP_BUILDDIR:-$(pwd)}
top_srcdir=${VMMEM_TOP_SRCDIR:-$(dirname "$0")/..}
backend=$top_builddir/examples/vhost-user-blk/vmmem-vhost-user-blk
python3 -c 'import os, socket; os.eventfd; os.memfd_create; socket.send_fds' 2>/dev/null ||
	{ echo "1..0 # SKIP python3 >= 3.10 (os.eventfd, socket.send_fds) is not installed"; exit 0; }
[ -x "$backend" ] || { echo "Bail out! $backend is not built"; exit 1; }
if [ -z "${VMMEM_PROVIDER_PATH:-}" ]; then
	VMMEM_PROVIDER_PATH=$top_builddir/providers/mmap/.libs
	export VMMEM_PROVIDER_PATH
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-blk-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT
timeout -k 5 120 python3 "$top_srcdir/tests/vhost-user-blk-frontend.py" "$backend" "$work"
