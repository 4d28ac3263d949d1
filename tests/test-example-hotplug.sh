#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: examples/hotplug, the device thread that keeps serving requests
# while a DIMM is hot-added and removed, runs to its "ok" verdict.
set -u
ex="${VMMEM_TOP_BUILDDIR:-.}/examples/hotplug"
echo "1..1"
out=$("$ex" 0.5 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^ok$' &&
	printf '%s\n' "$out" | grep -q ' 0 bad bytes$'; then
	echo "ok 1 - examples/hotplug serves requests through hotplug with no bad byte"
	printf '%s\n' "$out" | sed 's/^/# /'
else
	echo "not ok 1 - examples/hotplug serves requests through hotplug with no bad byte (rc=$rc)"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
[ $rc -eq 0 ]
