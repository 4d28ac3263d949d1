#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# `vmmem providers NAME` and `vmmem providers --verbose`: every option of
# a provider with its type, default and description, as the provider
# describes it; a NAME that is missing or fails to load is exit 1 with
# the reason, bad arguments exit 2. TAP output.
set -u

: "${VMMEM_TOP_BUILDDIR:?run under make check}" "${VMMEM_TEST_PROVIDERS_DIR:?run under make check}"
tool="$VMMEM_TOP_BUILDDIR/tools/vmmem"
lib="$VMMEM_TOP_BUILDDIR/providers"
path="$lib/mmap/.libs:$lib/memfd/.libs:$lib/hugetlbfs/.libs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-tool-providers.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
run() {
	VMMEM_PROVIDER_PATH=${P:-$path} "$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
check() {
	name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		failed=1
		echo "not ok $n - $name"
		echo "# rc=$rc"
		printf '%s\n' "$out" | sed 's/^/# stdout: /'
		printf '%s\n' "$err" | sed 's/^/# stderr: /'
	fi
}
has() { printf '%s\n' "$1" | grep -q -- "$2"; }
count() { printf '%s\n' "$1" | grep -c -- "$2"; }

run providers mmap
check "providers NAME prints the provider's line and each option's type and default" \
	eval '[ $rc -eq 0 ] && has "$out" "^mmap  *1\.0  *ABI [0-9.]*  *$lib/mmap/\.libs/mmap\.so$" &&
	      has "$out" "^    offset = SIZE  *default: 0$" &&
	      has "$out" "^    path = PATH  *default: none$" &&
	      has "$out" "^    fd = INTEGER  *default: none$" &&
	      has "$out" "^    allocate = BOOL  *default: yes$" && [ -z "$err" ]'
check "providers NAME prints a description under every option (7 for mmap)" \
	eval '[ "$(count "$out" "^    [a-z-]* = ")" -eq 7 ] && [ "$(count "$out" "^        [^ ]")" -eq 7 ] &&
	      ! has "$out" "not described"'

run providers hugetlbfs
check "an enum option shows the words it takes" \
	eval '[ $rc -eq 0 ] && has "$out" "^    prefault = yes|no|touch  *default: no, yes with reserve = no$"'

run providers --verbose
check "providers --verbose describes the options of every provider" \
	eval '[ $rc -eq 0 ] && has "$out" "^search path:" &&
	      [ "$(count "$out" "^  options:$")" -eq 3 ] &&
	      has "$out" "^    seal = BOOL  *default: yes$" &&
	      has "$out" "^    keep-file = BOOL  *default: no$" &&
	      has "$out" "^    shared = BOOL "'

run providers
check "providers without --verbose keeps one line of option names" \
	eval '[ $rc -eq 0 ] && has "$out" "^             options: shared, path, fd, offset, prefault, reserve, allocate$" &&
	      ! has "$out" "default:"'

run providers no-such-provider
check "providers NAME of a provider not in the path is exit 1, naming it and the path" \
	eval '[ $rc -eq 1 ] && [ -z "$out" ] && has "$err" "no provider .no-such-provider. in the search path $lib/mmap/.libs:"'

P="$VMMEM_TEST_PROVIDERS_DIR" run providers abi-major
check "providers NAME of a file that fails to load is exit 1 with the path and why" \
	eval '[ $rc -eq 1 ] && has "$err" "$VMMEM_TEST_PROVIDERS_DIR/abi-major\.so: .*built for provider ABI"'

run providers mmap memfd
check "providers with two names is a usage error, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "too many arguments, starting at .memfd."'
run providers --frob
check "providers with an unknown option is a usage error naming it, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "[Uu]nknown option .*--frob"'

echo "1..$n"
exit $failed
