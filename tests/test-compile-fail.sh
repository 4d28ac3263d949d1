#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The type-safety promises of <vmmem/address.h> and <vmmem/endian.h>: each
# file in tests/compile-fail/ must fail to compile, with a message about the
# type mismatch, and must compile with -DCONTROL (the correct spelling), so
# a failure is the type error and not a broken include path. TAP output.
set -u

: "${CC:=cc}"
: "${GLIB_CFLAGS:=$(pkg-config --cflags glib-2.0 2>/dev/null)}"
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
dir="$src/tests/compile-fail"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-compile-fail.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0

compile() { # file, extra flags...; output in $tmp/out
	f=$1
	shift
	# shellcheck disable=SC2086
	$CC $GLIB_CFLAGS -I"$src/include" -I"$build/include" "$@" -c "$f" -o "$tmp/out.o" \
		>"$tmp/out" 2>&1
}

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $1"
	sed 's/^/# /' "$tmp/out"
}

# must_fail DESC FILE PATTERN [FLAGS...]: fails to compile, output matches
# the extended regex PATTERN.
must_fail() {
	desc=$1 file=$2 pat=$3
	shift 3
	if compile "$file" "$@"; then
		not_ok "$desc: compiled but must not"
	elif grep -Eq "$pat" "$tmp/out"; then
		ok "$desc"
	else
		not_ok "$desc: failed, but not with a message matching /$pat/"
	fi
}

must_compile() {
	desc=$1 file=$2
	shift 2
	if compile "$file" "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

echo "1..6"
addr="$dir/wrong-address-type.c"
endian="$dir/wrong-endian-use.c"
must_compile "control: guest address built from the region offset compiles" "$addr" -DCONTROL
must_fail "region address passed as guest address is rejected" "$addr" \
	"incompatible.*vmmem_guest_addr_t|vmmem_guest_addr_t.*incompatible|expected .vmmem_guest_addr_t"
must_compile "control: le32 converted with vmmem_le32_to_cpu compiles" "$endian" -DCONTROL
must_fail "le32 in arithmetic is rejected" "$endian" \
	"invalid operands.*vmmem_le32_t|vmmem_le32_t.*invalid operands|invalid operands to binary" -DARITH
must_fail "le32 assigned to uint32_t is rejected" "$endian" \
	"incompatible.*vmmem_le32_t|vmmem_le32_t.*incompatible" -DASSIGN
# Without any macro the file stops at #error: proves the macros select.
must_fail "endian file without a case stops at #error" "$endian" "define CONTROL, ARITH or ASSIGN"
exit $fail
