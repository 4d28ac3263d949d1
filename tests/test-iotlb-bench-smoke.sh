#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: vmmem-iotlb-bench builds, lists its lines and measures each one
# once on a small memory, so that it cannot rot. The numbers mean nothing
# here (timings are never asserted in tests), only the shape is checked.
set -u
bench="${VMMEM_TOP_BUILDDIR:-.}/bench/vmmem-iotlb-bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "1..2"

"$bench" --list >"$tmp/list" 2>&1
n=$(wc -l <"$tmp/list")
for need in iova_read_obj_u64_hot read_obj_u64_hot iova_read_obj_ratio \
	iova_read_obj_ratio_spread_2m iova_read_obj_ratio_spread_4k iotlb_miss_refill_us_e64 \
	iotlb_miss_refill_us_e2048 iotlb_invalidate_us_readers0 iotlb_invalidate_us_readers2; do
	grep -q "^$need " "$tmp/list" || missing="${missing:-} $need"
done
if [ -z "${missing:-}" ] && [ "$n" -ge 13 ]; then
	echo "ok 1 - --list names every line ($n)"
else
	echo "not ok 1 - --list names every line (missing:${missing:-} of $n)"
fi

"$bench" --guest-size 16M --min-time 0.0005 --reps 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
bad=$(awk 'NF != 3 || $2 !~ /^[0-9.]+$/' "$tmp/out")
got=$(wc -l <"$tmp/out")
if [ $rc -eq 0 ] && [ -z "$bad" ] && [ "$got" -eq "$n" ]; then
	echo "ok 2 - a small run measures all $n lines, each 'name value unit'"
else
	echo "not ok 2 - a small run measures all $n lines (rc=$rc, got $got)"
	sed 's/^/# /' "$tmp/err" "$tmp/out" | head -40
fi
