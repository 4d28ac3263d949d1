#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The exported ABI: core/libvmmem.sym is the one list of it. Every VMMEM_API
# definition in core/ is in the script, every script entry is exported
# from libvmmem.so under a version node of the script, nothing else is
# exported, only vmmem_ names (never the internal vmmem__ ones), the *_slow
# entry points of the inline paths sit in the script's inline-paths
# section, and a provider module exports exactly vmmem_provider_entry.
# A failure names each symbol and what to do with it. TAP output.
set -u

: "${NM:=nm}"
: "${READELF:=readelf}"
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
lib="$build/.libs/libvmmem.so"
prov="$build/providers/mmap/.libs/mmap.so"
script="$src/core/libvmmem.sym"
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
# comment TEXT: each line of TEXT as a TAP comment.
comment() { printf '%s\n' "$1" | grep -v '^$' | sed 's/^/# /'; }
# only_in A B: the lines of list A that are not in list B.
only_in() {
	printf '%s\n' "$1" | ONLY_IN_B=$2 awk '
		BEGIN { n = split(ENVIRON["ONLY_IN_B"], b, "\n"); for (i = 1; i <= n; i++) seen[b[i]] = 1 }
		$0 != "" && !($0 in seen)'
}

# In a sanitizer build the compiler adds an ODR indicator per exported
# global (__odr_asan.vmmem_something): it is ASan's, named after one of
# ours, and not part of the ABI, so only those exact companions are dropped.
# A --coverage build (make coverage) links libgcov, which exports its
# __gcov_* state and its helper mangle_path: not ours either.
drop_asan() { grep -v -e '^__odr_asan[._]vmmem_' -e '^__gcov_' -e '^mangle_path@*$'; }

# Defined dynamic symbols as NAME@VERSION (NAME@ when unversioned); the
# version nodes themselves (absolute symbols) are not exports.
versioned_symbols() {
	$NM -D --defined-only "$1" | awk 'NF >= 3 && $2 != "A" { print $3 }' |
		sed -e 's/@@*/@/' -e '/@/!s/$/@/' | drop_asan | sort -u
}

# The names the script lists, and those of its inline-paths section (from
# its "Inline paths only" comment to the next comment, "local:" or "}").
script_symbols() {
	sed 's,/\*.*\*/,,' "$script" | awk '
		/^[ \t]*\/\*/ { incomment = 1 }
		incomment { if ($0 ~ /\*\//) incomment = 0; next }
		/^[ \t]*[A-Za-z_][A-Za-z0-9_]*;[ \t]*$/ { gsub(/[ \t;]/, ""); print }' | sort -u
}
inline_section() {
	awk '
		/Inline paths only/ { on = 1; next }
		on && (/^[ \t]*\/\*/ || /^[ \t]*local:/ || /^[ \t]*}/) { on = 0 }
		on && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;[ \t]*$/ { gsub(/[ \t;]/, ""); print }' "$script" |
		sort -u
}
script_nodes() {
	awk '/^[ \t]*[A-Za-z_][A-Za-z0-9_.]*[ \t]*\{/ { sub(/[ \t]*\{.*/, ""); gsub(/[ \t]/, ""); print }' \
		"$script" | sort -u
}

# What the code means to export: the global symbols of default visibility
# in the library's objects (VMMEM_API; everything else is built hidden).
api_symbols() {
	find "$build/core" -path '*/.libs/*' -name 'libvmmem_la-*.o' -exec $READELF -sW {} + |
		awk '$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" { print $8 }' | drop_asan | sort -u
}

echo "1..11"
if [ -f "$lib" ] && vsyms=$(versioned_symbols "$lib") && [ -n "$vsyms" ]; then
	ok "libvmmem.so has defined dynamic symbols"
else
	not_ok "libvmmem.so has defined dynamic symbols ($lib)"
	vsyms=""
fi
libsyms=$(printf '%s\n' "$vsyms" | sed 's/@.*//' | grep -v '^$' | sort -u)

if [ -f "$script" ] && scriptsyms=$(script_symbols) && [ -n "$scriptsyms" ]; then
	ok "core/libvmmem.sym lists symbols"
else
	not_ok "core/libvmmem.sym lists symbols ($script)"
	scriptsyms=""
fi
nodes=$(script_nodes)

api=$(api_symbols)
if [ -n "$api" ]; then ok "the library's objects define VMMEM_API symbols"; else
	not_ok "the library's objects define VMMEM_API symbols (no core/.libs/libvmmem_la-*.o under $build)"
fi

# The merge check: a new VMMEM_API function that is not in the script is
# silently local, so compare with the objects, not only with nm -D.
missing=$(only_in "$api" "$scriptsyms")
if [ -z "$missing" ]; then ok "every VMMEM_API symbol is in core/libvmmem.sym"; else
	not_ok "every VMMEM_API symbol is in core/libvmmem.sym"
	for s in $missing; do
		echo "# missing from core/libvmmem.sym: $s (add \"	$s;\" to the VMMEM_0.1 node, in sorted order)"
	done
fi

stale=$(only_in "$scriptsyms" "$libsyms")
if [ -z "$stale" ]; then ok "every symbol of core/libvmmem.sym is exported"; else
	not_ok "every symbol of core/libvmmem.sym is exported"
	for s in $stale; do
		echo "# listed in core/libvmmem.sym but not exported by libvmmem.so: $s (removed, renamed, or not VMMEM_API?)"
	done
fi

extra=$(only_in "$libsyms" "$scriptsyms")
if [ -z "$extra" ]; then ok "libvmmem.so exports nothing beyond core/libvmmem.sym"; else
	not_ok "libvmmem.so exports nothing beyond core/libvmmem.sym"
	for s in $extra; do echo "# exported but not in core/libvmmem.sym: $s"; done
fi

unversioned=""
for v in $vsyms; do
	node=${v#*@}
	printf '%s\n' "$nodes" | grep -qxF "$node" || unversioned="$unversioned $v"
done
if [ -z "$unversioned" ]; then ok "every export carries a version node of the script ($(echo $nodes))"; else
	not_ok "every export carries a version node of the script ($(echo $nodes))"
	comment "$(printf '%s\n' $unversioned)"
fi

bad=$(printf '%s\n' "$libsyms" | grep -v '^vmmem_' | grep -v '^$')
internal=$(printf '%s\n' "$libsyms" | grep '^vmmem__')
if [ -z "$bad" ] && [ -z "$internal" ]; then
	ok "every libvmmem symbol starts with vmmem_, none with the internal vmmem__"
else
	not_ok "every libvmmem symbol starts with vmmem_, none with the internal vmmem__"
	comment "$bad"
	comment "$internal"
fi

# The entry points that exist only for the inline paths are marked as such.
inl=$(inline_section)
slow=$(printf '%s\n' "$scriptsyms" | grep '_slow$')
unmarked=$(only_in "$slow" "$inl")
if [ -n "$inl" ] && [ -z "$unmarked" ]; then
	ok "every *_slow entry point is in the inline-paths section of core/libvmmem.sym"
else
	not_ok "every *_slow entry point is in the inline-paths section of core/libvmmem.sym"
	for s in $unmarked; do echo "# move $s under the \"Inline paths only\" comment"; done
fi

# A positive control: the checks above would pass on empty lists.
missing=""
for s in vmmem_memory_new vmmem_memory_read_slice_slow vmmem_region_read vmmem_slice_read \
	vmmem_memory_find_region_slow vmmem_memory_log_write_slow vmmem_space_get vmmem_error_quark \
	vmmem_error_code_message vmmem_version; do
	printf '%s\n' "$libsyms" | grep -qx "$s" || missing="$missing $s"
done
if [ -z "$missing" ]; then ok "the public API is exported"; else
	not_ok "the public API is exported (missing:$missing)"
fi

if [ -f "$prov" ] && provsyms=$($NM -D --defined-only "$prov" | awk 'NF >= 3 { print $3 }' |
	drop_asan | sort -u) && [ "$provsyms" = "vmmem_provider_entry" ]; then
	ok "mmap.so exports exactly vmmem_provider_entry"
else
	not_ok "mmap.so exports exactly vmmem_provider_entry ($prov)"
	comment "${provsyms:-}"
fi
exit $fail
