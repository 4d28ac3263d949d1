#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The man pages: each one formats without a single groff warning
# (groff -ww -man -z), and vmmem-providers(7) documents every option each
# built-in provider accepts (its options[] list), so a new option cannot
# land undocumented. SKIP when groff is missing. TAP output.
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

# options SOURCE: the names in the provider's options[] list, one a line.
options() {
	sed -n '/options\[\] = {/,/};/p' "$1" | tr -d '\n' | grep -o '"[^"]*"' | tr -d '"'
}
# section PROVIDER: the ".SS PROVIDER" part of vmmem-providers(7).
section() {
	awk -v name="$1" '$0 == ".SS " name { on = 1; next } on && /^\.S[SH] / { on = 0 } on' \
		"$src/man/vmmem-providers.7"
}

for prov in mmap memfd hugetlbfs; do
	opts=$(options "$src/providers/$prov/$prov.c")
	section "$prov" >"$tmp/section"
	missing=""
	for o in $opts; do
		# An option is documented as ".BI "NAME = " ..." or ".BR "NAME = ...",
		# with the man page's \- for a hyphen.
		m=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -Eq "^\.B[IR]? \"?$m( |=|\")" "$tmp/section" || missing="$missing $o"
	done
	if [ -n "$opts" ] && [ -z "$missing" ]; then
		ok "vmmem-providers(7) documents every $prov option ($(echo $opts))"
	else
		echo "options: $(echo $opts); undocumented:${missing:- (no options[] found)}" >"$tmp/out"
		not_ok "vmmem-providers(7) documents every $prov option"
	fi
done

echo "1..$n"
exit $fail
