#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: vmmem-hotplug-bench builds, lists its lines and measures each one
# once on a tiny memory, so that it cannot rot. The numbers mean nothing
# here (timings are never asserted in tests), only the shape is checked.
set -u
bench="${VMMEM_TOP_BUILDDIR:-.}/bench/vmmem-hotplug-bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..2"

"$bench" --list >"$tmp/list" 2>&1
n=$(wc -l <"$tmp/list")
for need in space_read_obj_ratio_r1 space_read_obj_ratio_r512 snapshot_get_put_ns_held1 \
	snapshot_get_put_ns_held64 dirty_write_obj_ratio dirty_write_slice_4k_ratio \
	hotplug_add_region_us_r8 hotplug_add_region_us_r509 hotplug_add_region_us_r32764 \
	hotplug_read_ratio_t1 hotplug_read_ratio_t2; do
	grep -q "^$need " "$tmp/list" || missing="${missing:-} $need"
done
if [ -z "${missing:-}" ] && [ "$n" -ge 20 ]; then
	echo "ok 1 - --list names every line ($n)"
else
	echo "not ok 1 - --list names every line (missing:${missing:-} of $n)"
fi

"$bench" --guest-size 16M --min-time 0.0005 --reps 1 --reader-secs 0.02 >"$tmp/out" 2>"$tmp/err"
rc=$?
bad=$(awk 'NF != 3 || $2 !~ /^[0-9.]+$/' "$tmp/out")
got=$(wc -l <"$tmp/out")
if [ $rc -eq 0 ] && [ -z "$bad" ] && [ "$got" -eq "$n" ]; then
	echo "ok 2 - a tiny run measures all $n lines, each 'name value unit'"
else
	echo "not ok 2 - a tiny run measures all $n lines (rc=$rc, got $got)"
	sed 's/^/# /' "$tmp/err" "$tmp/out" | head -40
fi
