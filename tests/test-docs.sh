#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# make docs (docs/build-api) passes on the headers as they are (every
# public symbol documented) and fails, naming it and its header, on a
# public function, a macro or a struct member added without a comment.
# On copies of include/ and docs/. TAP output; SKIP without doxygen.
set -u
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
command -v doxygen >/dev/null 2>&1 || { echo "1..0 # SKIP doxygen not installed"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-docs-test.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
n=0
fail=0
# run NAME WANT GREP DESCRIPTION: build-api over $tmp/NAME exits WANT, saying GREP.
run() {
	sh "$tmp/$1/docs/build-api" "$tmp/$1" "$tmp/$1" "$tmp/$1/out" test >"$tmp/$1.log" 2>&1
	rc=$?
	n=$((n + 1))
	if [ $rc -eq "$2" ] && grep -q -- "$3" "$tmp/$1.log"; then
		echo "ok $n - $4"
	else
		fail=1
		echo "not ok $n - $4 (exit $rc, wanted $2 and '$3')"
		sed 's/^/# /' "$tmp/$1.log"
	fi
}
for v in same added macro member; do
	mkdir -p "$tmp/$v/include" && cp -R "$src/include/vmmem" "$tmp/$v/include/" &&
		cp "$build/include/vmmem/version.h" "$tmp/$v/include/vmmem/" &&
		cp -R "$src/docs" "$tmp/$v/docs" && chmod -R u+w "$tmp/$v" || { echo "Bail out! copy"; exit 1; }
	rm -rf "$tmp/$v/docs/api"
done
sed 's|^#endif /\* VMMEM_SIZE_H \*/|VMMEM_API int vmmem_docs_test_undocumented(void);\n&|' \
	"$src/include/vmmem/size.h" >"$tmp/added/include/vmmem/size.h"
sed 's|^#endif /\* VMMEM_SIZE_H \*/|#define VMMEM_DOCS_TEST_MACRO 1\n&|' \
	"$src/include/vmmem/size.h" >"$tmp/macro/include/vmmem/size.h"
sed 's|^\([[:space:]]*\)size_t struct_size;\(.*\)$|&\n\1int docs_test_member;|' \
	"$src/include/vmmem/space.h" >"$tmp/member/include/vmmem/space.h"
cmp -s "$src/include/vmmem/size.h" "$tmp/added/include/vmmem/size.h" &&
	{ echo "Bail out! the edit of size.h matched nothing: update the test to the header"; exit 1; }
cmp -s "$src/include/vmmem/space.h" "$tmp/member/include/vmmem/space.h" &&
	{ echo "Bail out! the edit of space.h matched nothing: update the test to the header"; exit 1; }
run same 0 'every public symbol documented' "the headers as they are pass: every public symbol is documented"
run added 1 'vmmem_docs_test_undocumented (include/vmmem/size.h:' "a public function without a comment fails, named with its header"
run macro 1 'VMMEM_DOCS_TEST_MACRO (include/vmmem/size.h:' "a public macro without a comment fails, named"
run member 1 'vmmem_space_options.docs_test_member (include/vmmem/space.h:' "a struct member without a comment fails, named with its struct"
echo "1..$n"
exit $fail
