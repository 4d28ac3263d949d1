#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# abi/check catches what it is for. The library is built from core/ with
# $CC five times: as it is (the baseline), and with the public headers
# changed in one way each. The checker must pass an unchanged build and an
# added function, and fail a field inserted into vmmem_region_spec_t, a
# field added to vmmem_space_options_t and two fields of the inline view
# swapped (its _Static_asserts taken out of the copy), unless the soname
# changed with the break. TAP output; SKIP without abigail-tools.
set -u

src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
: "${CC:=cc}"
check="$src/abi/check"
if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
	echo "1..0 # SKIP abidw/abidiff not installed (Debian: abigail-tools)"
	exit 0
fi
[ -f "$build/config.h" ] && [ -f "$build/include/vmmem/version.h" ] ||
	{ echo "Bail out! configure first: no $build/config.h or include/vmmem/version.h"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-abi-test.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
comment() { sed 's/^/# /' "$1"; }

# variant NAME: a copy of the public headers in $tmp/NAME/include.
variant() {
	mkdir -p "$tmp/$1/include" && cp -R "$src/include/vmmem" "$tmp/$1/include/" &&
		cp "$build/include/vmmem/version.h" "$tmp/$1/include/vmmem/"
}
# lib NAME SONAME [EXTRA.c]: libvmmem.so from core/ with NAME's headers.
# -O0 keeps it quick; both sides of each comparison are built the same way.
lib() {
	# shellcheck disable=SC2086
	$CC -shared -fPIC -g -O0 -w -fvisibility=hidden -DHAVE_CONFIG_H \
		-DVMMEM_PROVIDERDIR='"/nonexistent"' -DVMMEM_SYSCONFDIR='"/nonexistent"' \
		-I"$build" -I"$tmp/$1/include" ${GLIB_CFLAGS:-$(pkg-config --cflags glib-2.0)} \
		"$src"/core/*.c ${3:-} -Wl,--version-script="$src/core/libvmmem.sym" \
		-Wl,-soname,"$2" -o "$tmp/$1/libvmmem.so" >"$tmp/$1/build.log" 2>&1
}
# expect NAME WANT(0|1) GREP DESCRIPTION: abi/check of NAME's library
# against the baseline exits WANT, and its report mentions GREP.
expect() {
	"$check" --baseline "$tmp/base.abi" --headers "$tmp/$1/include/vmmem" \
		"$tmp/$1/libvmmem.so" >"$tmp/$1/report" 2>&1
	rc=$?
	if [ $rc -eq "$2" ] && grep -q -- "$3" "$tmp/$1/report"; then
		ok "$4"
	else
		not_ok "$4 (abi/check exited $rc, wanted $2 and '$3' in its report)"
		comment "$tmp/$1/report"
	fi
}

for v in base same added spec opts view spec-bumped; do variant $v || { echo "Bail out! copy headers"; exit 1; }; done
printf '%s\n' '#include <vmmem/visibility.h>' 'VMMEM_API int vmmem_abi_test_added(int x);' \
	'int vmmem_abi_test_added(int x) { return x + 1; }' >"$tmp/added/added.c"
# A field in the middle of a struct callers allocate and fill in.
sed 's|^\(\tuint64_t size;  *\)/\* bytes|\tuint32_t abi_test_new;\n&|' \
	"$src/include/vmmem/memory.h" >"$tmp/spec/include/vmmem/memory.h"
cp "$tmp/spec/include/vmmem/memory.h" "$tmp/spec-bumped/include/vmmem/memory.h"
# A field at the end of a struct_size struct (it fits in the padding).
sed 's|^\tuint32_t flags; /\* VMMEM_SPACE_\* \*/|&\n\tuint32_t abi_test_extra;|' \
	"$src/include/vmmem/space.h" >"$tmp/opts/include/vmmem/space.h"
# The view's base and last_off swapped: same size, other offsets.
awk '/VMMEM__STATIC_ASSERT\((offsetof|sizeof)/ { next }
	/^\tuint64_t base;$/ { held = $0; next }
	/^\tuint64_t last_off;$/ && held != "" { print; print held; held = ""; next }
	{ print }' "$src/include/vmmem/view.h" >"$tmp/view/include/vmmem/view.h"
for edit in spec/memory.h opts/space.h view/view.h; do
	if cmp -s "$src/include/vmmem/${edit#*/}" "$tmp/${edit%%/*}/include/vmmem/${edit#*/}"; then
		echo "Bail out! the edit of ${edit#*/} matched nothing: update the test to the header"
		exit 1
	fi
done

# Two at a time on two cores.
lib base libvmmem.so.0 & p1=$!
lib same libvmmem.so.0 & p2=$!
wait $p1 && wait $p2 || { cat "$tmp"/base/build.log "$tmp"/same/build.log; echo "Bail out! build"; exit 1; }
lib added libvmmem.so.0 "$tmp/added/added.c" & p1=$!
lib spec libvmmem.so.0 & p2=$!
wait $p1 && wait $p2 || { cat "$tmp"/added/build.log "$tmp"/spec/build.log; echo "Bail out! build"; exit 1; }
lib opts libvmmem.so.0 & p1=$!
lib view libvmmem.so.0 & p2=$!
wait $p1 && wait $p2 || { cat "$tmp"/opts/build.log "$tmp"/view/build.log; echo "Bail out! build"; exit 1; }
lib spec-bumped libvmmem.so.1 || { cat "$tmp"/spec-bumped/build.log; echo "Bail out! build"; exit 1; }

if "$check" --write "$tmp/base.abi" --headers "$tmp/base/include/vmmem" "$tmp/base/libvmmem.so" >"$tmp/write.log" 2>&1 &&
	grep -q "name='vmmem_fast_view'" "$tmp/base.abi"; then
	ok "abi/check --write records the public types, the inline view included"
else
	not_ok "abi/check --write records the public types, the inline view included"
	comment "$tmp/write.log"
fi
expect same 0 'no ABI change' "an unchanged build passes"
expect added 0 'no ABI change' "an added function passes"
expect spec 1 'abi_test_new' "a field inserted into vmmem_region_spec_t fails"
expect opts 1 'abi_test_extra' "a field added to vmmem_space_options_t fails"
expect view 1 'vmmem_fast_view' "two fields of the inline view swapped fail"
expect spec-bumped 0 'soname with it' "the same break passes when the soname changes with it"
echo "1..$n"
exit $fail
