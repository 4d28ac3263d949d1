#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# Every source file says its licence in an SPDX line: the first line of a C
# file (.c, .h, the .in template of a header, the linker version script);
# the first line of a '#'-commented file (Makefile.am, configure.ac,
# Makefiles, pkg-config and example config templates), or the second after
# a '#!' line; the first line of a man page, as a roff comment. In a git
# checkout the files are the tracked ones; in an unpacked tarball (make
# distcheck) they are the same names found on disk, without the files the
# autotools generate. TAP output, one line per file.
set -u

src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
c_line='/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */'
hash_line='# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause'
roff_line='.\" SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause'
list=$(mktemp "${TMPDIR:-/tmp}/vmmem-spdx.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -f "$list"' EXIT

if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1 &&
	[ "$(cd "$(git -C "$src" rev-parse --show-toplevel)" && pwd -P)" = "$(cd "$src" && pwd -P)" ]; then
	git -C "$src" ls-files >"$list"
else
	(cd "$src" && find . -type f ! -path './autom4te.cache/*' ! -path './build-aux/*' \
		! -path './m4/*' ! -path './_*' ! -path '*/.deps/*' ! -path '*/.libs/*' \
		! -name Makefile.in ! -name config.h.in ! -name configure ! -name aclocal.m4 \
		! -name config.status ! -name libtool ! -name config.h |
		sed 's|^\./||') >"$list"
fi

# generated FILE: true for what configure or libtool wrote in a tree built
# in place (Makefile from Makefile.in, the libtool wrapper scripts).
generated() {
	case $1 in *.in) return 1 ;; esac
	[ -f "$src/$1.in" ] ||
		sed 5q "$src/$1" 2>/dev/null | grep -Eqi 'generated (automatically )?by|temporary wrapper script'
}

# kind FILE: prints "c", "hash" or nothing (not a file that needs the line).
kind() {
	case $1 in
	tests/fuzz/corpus/*) ;; # fuzz inputs: data, byte for byte what the fuzzer found
	*.c | *.h | *.sym | include/vmmem/version.h.in) echo c ;;
	*.am | *.ac | Makefile | */Makefile | *.pc.in | *.conf | *.sh) echo hash ;;
	man/*.[1-8]) echo roff ;;
	*.md | *.log | *.trs | *.tar.gz | LICENSE-* | NEWS | .gitignore | */.keep) ;;
	*) head -c 2 "$src/$1" 2>/dev/null | grep -q '^#!' && echo hash ;;
	esac
}

n=0
fail=0
while read -r f; do
	[ -f "$src/$f" ] || continue
	generated "$f" && continue
	k=$(kind "$f")
	[ -n "$k" ] || continue
	first=$(sed -n 1p "$src/$f")
	second=$(sed -n 2p "$src/$f")
	n=$((n + 1))
	if [ "$k" = c ] && [ "$first" = "$c_line" ]; then
		echo "ok $n - $f"
	elif [ "$k" = roff ] && [ "$first" = "$roff_line" ]; then
		echo "ok $n - $f"
	elif [ "$k" = hash ] && { [ "$first" = "$hash_line" ] ||
		{ case $first in '#!'*) true ;; *) false ;; esac && [ "$second" = "$hash_line" ]; }; }; then
		echo "ok $n - $f"
	else
		fail=1
		if [ "$k" = c ]; then want="first line '$c_line'"
		elif [ "$k" = roff ]; then want="first line '$roff_line'"; else
			want="first line (second after #!) '$hash_line'"
		fi
		echo "not ok $n - $f: needs $want"
		echo "# found: $first"
	fi
done <"$list"
if [ $n -eq 0 ]; then
	echo "1..0 # SKIP no source files found under $src"
	exit 0
fi
echo "1..$n"
exit $fail
