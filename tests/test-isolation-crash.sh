#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# tests/test-isolation with one case crashing (SIGSEGV) in its child: the
# TAP says one failure, naming the signal, and every other case still
# runs and passes; the plan still counts every case.
set -u

: "${VMMEM_TOP_BUILDDIR:?run under make check}"
prog="$VMMEM_TOP_BUILDDIR/tests/test-isolation"

if [ "${VMMEM_TEST_NO_ISOLATE:-}" = 1 ]; then
	echo "1..0 # SKIP VMMEM_TEST_NO_ISOLATE=1: a crash would end the whole program"
	exit 0
fi

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-isolation-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

check() {
	name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		failed=1
		echo "not ok $n - $name"
		sed 's/^/# /' "$tmp/out"
	fi
}
count() { grep -c -- "$1" "$tmp/out"; }

echo 1..8
VMMEM_TEST_ISOLATION_CRASH=1 "$prog" >"$tmp/out" 2>&1
rc=$?
check "the program fails" [ "$rc" -ne 0 ]
check "the plan counts all 8 cases" [ "$(count '^1\.\.8$')" -eq 1 ]
check "exactly one case is not ok" [ "$(count '^not ok')" -eq 1 ]
check "the crashing case is the one, named with SIGSEGV" \
	grep -q '^not ok [0-9]* /isolation/crash/kills-only-its-child - .*killed by SIGSEGV' "$tmp/out"
check "the 7 other cases report ok" [ "$(count '^ok [0-9]* /isolation/')" -eq 7 ]
check "the case after the crash ran" grep -q '^# isolation: case after the crash ran' "$tmp/out"
check "a skip in the child is a skip with its reason" \
	grep -q '^ok [0-9]* /isolation/skip/is-a-skip-with-its-reason # SKIP isolation: skipped on purpose' "$tmp/out"
check "no Bail out" [ "$(count '^Bail out')" -eq 0 ]
exit $failed
