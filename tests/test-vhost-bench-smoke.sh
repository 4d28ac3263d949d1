#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: vmmem-vhost-bench builds, lists and measures each of its lines, so
# the benchmark cannot rot. Tiny timing: only the shape is checked.
set -u
bench="${VMMEM_TOP_BUILDDIR:-.}/bench/vmmem-vhost-bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
expected="vhost_gpa_to_va_rand_r1 vhost_uva_to_va_rand_r1 vhost_gpa_to_va_rand_r8
vhost_uva_to_va_rand_r8 vhost_gpa_to_va_rand_r509 vhost_uva_to_va_rand_r509 vhost_add_mem_reg_us
vhost_add_mem_reg_us_no_readers"
n_expected=$(echo $expected | wc -w)
echo "1..3"

"$bench" --list >"$tmp/list" 2>/dev/null
bad=""
for n in $expected; do
	c=$(awk -v n="$n" '$1 == n && NF == 2' "$tmp/list" | wc -l)
	[ "$c" -eq 1 ] || bad="$bad $n"
done
# The DPDK peer's lines exist only where DPDK's headers were found.
if [ -z "$bad" ] && [ "$(grep -cv dpdk "$tmp/list")" -eq "$n_expected" ]; then
	echo "ok 1 - --list names all $n_expected lines once"
else
	echo "not ok 1 - --list names all $n_expected lines once"; echo "# missing:$bad"
fi

"$bench" --min-time 0.0005 --reps 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
bad=""
for n in $expected; do
	c=$(awk -v n="$n" '$1 == n && NF == 3 && $2 ~ /^[0-9]+\.[0-9][0-9]$/' "$tmp/out" | wc -l)
	[ "$c" -eq 1 ] || bad="$bad $n"
done
if [ $rc -eq 0 ] && [ -z "$bad" ]; then
	echo "ok 2 - a tiny run prints every line once as 'name value unit'"
else
	echo "not ok 2 - a tiny run prints every line once as 'name value unit'"
	echo "# exit $rc; bad:$bad"; sed 's/^/# /' "$tmp/err" | head -5
fi

"$bench" --reps 0 >/dev/null 2>"$tmp/bad"
if [ $? -eq 2 ] && grep -q "bad --reps" "$tmp/bad"; then
	echo "ok 3 - a bad option value exits 2 and names the option"
else
	echo "not ok 3 - a bad option value exits 2 and names the option"
fi
