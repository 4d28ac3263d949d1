#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The man pages: each one formats without a single groff warning
# (groff -ww -man -z), and vmmem-providers(7) documents exactly the options
# each built-in provider describes (`vmmem providers --verbose`), so a new
# option cannot land undocumented nor a removed one stay. SKIP when groff
# is missing. TAP output.
set -u

src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
pages="man/vmmem.1 man/vmmem.conf.5 man/vmmem-providers.7"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-man.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff is not installed (apt-get install groff-base)"
	exit 0
fi

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $1"
	sed 's/^/# /' "$tmp/out" | head -20
}

for p in $pages; do
	if [ ! -f "$src/$p" ]; then
		echo "missing" >"$tmp/out"
		not_ok "$p exists"
		continue
	fi
	# -Tutf8 and C locale: as man(1) formats for a terminal.
	if LC_ALL=C groff -ww -man -z -Tutf8 "$src/$p" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
		ok "$p formats without warnings"
	else
		not_ok "$p formats without warnings"
	fi
done

# The keys each built-in provider describes, from the providers themselves:
# `vmmem providers --verbose` prints "    KEY = TYPE   default: ..." under
# the provider's own line.
tool=${VMMEM_TOP_BUILDDIR:+$VMMEM_TOP_BUILDDIR/tools/vmmem}
# section PROVIDER: the ".SS PROVIDER" part of vmmem-providers(7).
section() {
	awk -v name="$1" '$0 == ".SS " name { on = 1; next } on && /^\.S[SH] / { on = 0 } on' \
		"$src/man/vmmem-providers.7"
}
# man_keys PROVIDER: the option keys its section documents: the tag line
# after each .TP, '.BI "KEY = " ...' or '.BR "KEY = ...' (a mention in the
# text is not an entry), with the man page's \- unescaped.
man_keys() {
	section "$1" | awk 'prev == ".TP" { print } { prev = $0 }' |
		sed -n 's/^\.B[IR]* "\([^ "]*\) =.*/\1/p' | sed 's/\\-/-/g'
}

if [ -z "$tool" ] || [ ! -x "$tool" ]; then
	n=$((n + 1))
	echo "ok $n - vmmem-providers(7) agrees with the providers # SKIP the vmmem tool is not built (run under make check)"
elif ! "$tool" providers --verbose >"$tmp/verbose" 2>"$tmp/out"; then
	not_ok "vmmem providers --verbose runs"
else
	for prov in mmap memfd hugetlbfs; do
		awk -v name="$prov" '/^[^ ]/ { cur = $1 } cur == name && /^    [^ ]+ = / { print $1 }' \
			"$tmp/verbose" >"$tmp/described"
		man_keys "$prov" >"$tmp/documented"
		missing=$(grep -vxF -f "$tmp/documented" "$tmp/described")
		extra=$(grep -vxF -f "$tmp/described" "$tmp/documented")
		if [ -s "$tmp/described" ] && [ -z "$missing" ] && [ -z "$extra" ]; then
			ok "vmmem-providers(7) documents exactly the options $prov describes ($(echo $(cat "$tmp/described")))"
		else
			{
				echo "described by vmmem providers --verbose: $(echo $(cat "$tmp/described"))"
				echo "documented in the man page: $(echo $(cat "$tmp/documented"))"
				echo "not in the man page: ${missing:-none}; not in the provider: ${extra:-none}"
			} >"$tmp/out"
			not_ok "vmmem-providers(7) documents exactly the options $prov describes"
		fi
	done
fi

echo "1..$n"
exit $fail
