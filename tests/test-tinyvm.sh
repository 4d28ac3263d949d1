#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: examples/tinyvm, a KVM VM whose RAM is vmmem memory, runs to its
# PASS verdict once per shipped config, with and without --backend; with
# the private memory of the mmap config --backend is refused, naming the
# region. Skips only where tinyvm exits 77 (no usable /dev/kvm: it says
# why) or, for the hugetlbfs config, where huge pages are missing.
set -u
top_src="${VMMEM_TOP_SRCDIR:-.}"
top_build="${VMMEM_TOP_BUILDDIR:-.}"
tinyvm="$top_build/examples/tinyvm"
hugepages=/sys/kernel/mm/hugepages/hugepages-2048kB
lock="${TMPDIR:-/tmp}/vmmem-test-hugepages.lock"
n=0
failed=0
mounted=

cleanup() {
	if [ -n "$mounted" ]; then
		umount "$mounted" 2>/dev/null
		rmdir "$mounted" 2>/dev/null
	fi
}
trap cleanup EXIT

echo "1..6"

# Why the hugetlbfs config cannot run here, in huge_why (empty: it can).
# As root, a missing hugetlbfs mount is made for the run (mount-dir =
# auto finds it in /proc/mounts), as the C huge-page tests do.
huge_why=
free=$(cat "$hugepages/free_hugepages" 2>/dev/null || echo 0)
if [ "$free" -lt 4 ]; then
	huge_why="the hugetlbfs config needs 4 free 2 MiB huge pages, $free are (echo 16 > /proc/sys/vm/nr_hugepages)"
elif ! grep -q ' hugetlbfs .*pagesize=2M' /proc/mounts; then
	if [ "$(id -u)" = 0 ] &&
		mounted=$(mktemp -d "${TMPDIR:-/tmp}/tinyvm-hugetlbfs.XXXXXX") &&
		mount -t hugetlbfs -o pagesize=2M none "$mounted" 2>/dev/null; then
		:
	else
		[ -n "$mounted" ] && rmdir "$mounted"
		mounted=
		huge_why="no hugetlbfs mount of 2 MiB pages (mount -t hugetlbfs -o pagesize=2M none /dev/hugepages)"
	fi
fi

# run CONFIG EXPECT [ARGS...]: EXPECT is pass or refused.
run() {
	config=$1
	expect=$2
	shift 2
	n=$((n + 1))
	name="tinyvm --config examples/tinyvm-$config.conf${1:+ $*}: $expect"
	if [ "$config" = hugetlbfs ]; then
		if [ -n "$huge_why" ]; then
			echo "ok $n - $name # SKIP $huge_why"
			return
		fi
	fi
	if [ "$config" = hugetlbfs ] && command -v flock >/dev/null; then
		# The huge-page pool is machine-wide: take the test suite's lock.
		out=$(flock "$lock" "$tinyvm" --config "$top_src/examples/tinyvm-$config.conf" "$@" 2>&1)
	else
		out=$("$tinyvm" --config "$top_src/examples/tinyvm-$config.conf" "$@" 2>&1)
	fi
	rc=$?
	verdict=$(printf '%s\n' "$out" | grep '^tinyvm: \(PASS\|FAIL\|SKIP\|REFUSED\)' | tail -1)
	if [ $rc -eq 77 ]; then
		echo "ok $n - $name # SKIP ${verdict#tinyvm: SKIP: }"
		return
	fi
	case "$expect" in
	pass)
		printf '%s\n' "$verdict" | grep -q '^tinyvm: PASS (' && [ $rc -eq 0 ]
		ok=$?
		;;
	refused)
		printf '%s\n' "$verdict" | grep -q "^tinyvm: REFUSED: --backend: .*region 'low' .*cannot be shared" &&
			[ $rc -eq 2 ]
		ok=$?
		;;
	esac
	if [ $ok -eq 0 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit status $rc)"
		failed=$((failed + 1))
	fi
	printf '%s\n' "$out" | sed 's/^/# /'
}

run mmap pass
run mmap refused --backend
run memfd pass
run memfd pass --backend
run hugetlbfs pass
run hugetlbfs pass --backend
[ $failed -eq 0 ]
