#!/bin/sh
# The exported ABI: libvmmem exports only vmmem_ names (never the internal
# vmmem__ ones) and a provider module exports exactly vmmem_provider_entry.
# TAP output.
set -u

: "${NM:=nm}"
build=${VMMEM_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
lib="$build/.libs/libvmmem.so"
prov="$build/providers/mmap/.libs/mmap.so"
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

# Defined dynamic symbols, one name a line. In a sanitizer build the
# compiler adds an ODR indicator per exported global
# (__odr_asan.vmmem_something): it is ASan's, named after one of ours, and
# not part of the ABI, so only those exact companions are dropped. A
# --coverage build (make coverage) links libgcov, which exports its
# __gcov_* state and its helper mangle_path: dropped when __gcov_* is there.
symbols() {
	syms=$($NM -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' |
		grep -v '^__odr_asan[._]vmmem_' | sort -u)
	case $syms in
	*__gcov_*) printf '%s\n' "$syms" | grep -v -e '^__gcov_' -e '^mangle_path$' ;;
	*) printf '%s\n' "$syms" ;;
	esac
}

echo "1..6"
if [ -f "$lib" ] && libsyms=$(symbols "$lib") && [ -n "$libsyms" ]; then
	ok "libvmmem.so has defined dynamic symbols"
else
	not_ok "libvmmem.so has defined dynamic symbols ($lib)"
	libsyms=""
fi

bad=$(printf '%s\n' "$libsyms" | grep -v '^vmmem_' | grep -v '^$')
if [ -z "$bad" ]; then ok "every libvmmem symbol starts with vmmem_"; else
	not_ok "every libvmmem symbol starts with vmmem_"
	printf '%s\n' "$bad" | sed 's/^/# /'
fi

internal=$(printf '%s\n' "$libsyms" | grep '^vmmem__')
if [ -z "$internal" ]; then ok "no internal vmmem__ symbol is exported"; else
	not_ok "no internal vmmem__ symbol is exported"
	printf '%s\n' "$internal" | sed 's/^/# /'
fi

# A positive control: the check above would pass on an empty list.
missing=""
for s in vmmem_memory_new vmmem_memory_read_slice_slow vmmem_region_read vmmem_slice_read \
	vmmem_memory_find_region_slow vmmem_memory_log_write_slow vmmem_space_get vmmem_error_quark \
	vmmem_version; do
	printf '%s\n' "$libsyms" | grep -qx "$s" || missing="$missing $s"
done
if [ -z "$missing" ]; then ok "the public API is exported"; else
	not_ok "the public API is exported (missing:$missing)"
fi

if [ -f "$prov" ] && provsyms=$(symbols "$prov"); then
	ok "mmap.so has a dynamic symbol table"
else
	not_ok "mmap.so has a dynamic symbol table ($prov)"
	provsyms=""
fi
if [ "$provsyms" = "vmmem_provider_entry" ]; then
	ok "mmap.so exports exactly vmmem_provider_entry"
else
	not_ok "mmap.so exports exactly vmmem_provider_entry"
	printf '%s\n' "$provsyms" | sed 's/^/# /'
fi
exit $fail
