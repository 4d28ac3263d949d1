#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The public headers as consumers meet them: each header of include/vmmem/
# on its own (and twice, for its include guard) compiles without a warning
# as C11 and C17 and as C++11, C++17 and C++20, with gcc/clang and
# g++/clang++ at -Wall -Wextra -Werror; a consumer uses the typed atomics
# with C's memory_order and with C++'s std::memory_order; and a provider
# needs no GLib: <vmmem/provider.h>, a provider written with
# VMMEM_PROVIDER_DEFINE() (in C and C++) and the built-in providers compile
# with only -I include. A compiler that is not installed is a SKIP, saying so.
# TAP output.
set -u

: "${CC:=cc}"
: "${GLIB_CFLAGS:=$(pkg-config --cflags glib-2.0 2>/dev/null)}"
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-headers.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
warn="-Wall -Wextra -Werror"

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1))
	fail=1
	echo "not ok $n - $1"
	sed 's/^/# /' "$tmp/out" | head -20
}

# The installed set: every header in the source tree and the generated
# version.h, each named as a consumer includes it.
headers=$( (cd "$src/include" && ls vmmem/*.h; [ -f "$build/include/vmmem/version.h" ] &&
	echo vmmem/version.h) | sort -u)
if [ -z "$headers" ]; then echo "Bail out! no headers under $src/include"; exit 1; fi

have() { command -v "$1" >/dev/null 2>&1; }

# compile DESC LANG COMPILER STD FILE FLAGS...: one TAP line.
compile() {
	desc=$1 lang=$2 comp=$3 std=$4 file=$5
	shift 5
	if ! have "$comp"; then skip "$desc" "$comp is not installed"; return; fi
	# shellcheck disable=SC2086
	if "$comp" -x "$lang" -std="$std" $warn "$@" -c "$file" -o "$tmp/out.o" >"$tmp/out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

c_compilers=$CC
[ "$CC" = clang ] || c_compilers="$c_compilers clang"
cxx_compilers="g++ clang++"
inc="-I$build/include -I$src/include"

# ---- each header on its own -------------------------------------------------
for h in $headers; do
	tu="$tmp/$(echo "$h" | tr / -).c"
	printf '#include <%s>\n#include <%s>\n' "$h" "$h" >"$tu"
	for comp in $c_compilers; do
		for std in c11 c17; do
			# shellcheck disable=SC2086
			compile "<$h> alone, $comp -std=$std" c "$comp" "$std" "$tu" $inc $GLIB_CFLAGS
		done
	done
	for comp in $cxx_compilers; do
		for std in c++11 c++17 c++20; do
			# shellcheck disable=SC2086
			compile "<$h> alone, $comp -std=$std" c++ "$comp" "$std" "$tu" $inc $GLIB_CFLAGS
		done
	done
done

# ---- a consumer's atomics in each language ----------------------------------
cat >"$tmp/atomics.c" <<'EOF'
#include <vmmem/vmmem.h>
#ifdef __cplusplus
#define ORDER(o) std::memory_order_##o
#else
#define ORDER(o) memory_order_##o
#endif
bool consumer_atomics(const vmmem_memory_t *mem, vmmem_slice_t s, GError **error);
bool
consumer_atomics(const vmmem_memory_t *mem, vmmem_slice_t s, GError **error)
{
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	vmmem_memory_order_t o = ORDER(acquire);

	return vmmem_memory_load_u32(mem, vmmem_guest_addr(0x1000), &v32, o, error) &&
	       vmmem_memory_store_u64(mem, vmmem_guest_addr(0x1008), v64, ORDER(release), error) &&
	       vmmem_slice_load_u64(s, 8, &v64, ORDER(seq_cst), error) &&
	       vmmem_slice_store_u16(s, 2, (uint16_t)v32, ORDER(relaxed), error);
}
EOF
for comp in $c_compilers; do
	# shellcheck disable=SC2086
	compile "typed atomics with C's memory_order, $comp -std=c11" c "$comp" c11 \
		"$tmp/atomics.c" $inc $GLIB_CFLAGS
done
for comp in $cxx_compilers; do
	for std in c++11 c++20; do
		# shellcheck disable=SC2086
		compile "typed atomics with std::memory_order, $comp -std=$std" c++ "$comp" "$std" \
			"$tmp/atomics.c" $inc $GLIB_CFLAGS
	done
done

# ---- providers need no GLib -------------------------------------------------
printf '#include <vmmem/provider.h>\n' >"$tmp/provider.c"
compile "<vmmem/provider.h> with only -I include, $CC -std=c11" c "$CC" c11 "$tmp/provider.c" \
	-I"$src/include"
compile "<vmmem/provider.h> with only -I include, g++ -std=c++17" c++ g++ c++17 "$tmp/provider.c" \
	-I"$src/include"
if "$CC" -E -I"$src/include" "$tmp/provider.c" >"$tmp/out" 2>&1 && ! grep -q 'glib' "$tmp/out"; then
	ok "<vmmem/provider.h> pulls in no GLib header"
else
	not_ok "<vmmem/provider.h> pulls in no GLib header"
fi
# VMMEM_PROVIDER_DEFINE() as a provider in C or C++ writes it: callbacks,
# an option table (or none) and the macro; nothing else, and no GLib.
cat >"$tmp/define.c" <<'EOF2'
#include <vmmem/provider.h>
static int
define_create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out,
	      char *err, size_t len)
{
	(void)req;
	(void)out;
	return vmmem_provider_fail(err, len, ENOSYS, "maps nothing");
}
static void
define_destroy(struct vmmem_provider_mapping *m)
{
	(void)m;
}
#ifdef WITH_OPTIONS
static int
define_validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	bool b;
	const char *v = vmmem_provider_option(req, "flag");

	return !v || vmmem_provider_parse_bool(v, &b) ? 0 : vmmem_provider_fail(err, len, EINVAL, "no");
}
static const struct vmmem_provider_option_desc define_options[] = {
	{ "flag", VMMEM_PROVIDER_OPTION_BOOL, "no", "an option", NULL },
	{ "mode", VMMEM_PROVIDER_OPTION_ENUM, "a", "a choice", "a|b" },
	VMMEM_PROVIDER_OPTIONS_END,
};
VMMEM_PROVIDER_DEFINE("define", "1.0", "a test", define_options, define_create, define_destroy,
		      define_validate)
#else
VMMEM_PROVIDER_DEFINE("define", "1.0", NULL, NULL, define_create, define_destroy, NULL)
#endif
EOF2
for opt in WITH_OPTIONS NO_OPTIONS; do
	for comp in $c_compilers; do
		compile "VMMEM_PROVIDER_DEFINE ($opt), $comp -std=c11, only -I include" c "$comp" c11 \
			"$tmp/define.c" -I"$src/include" -D$opt
	done
	for comp in $cxx_compilers; do
		for std in c++11 c++17 c++20; do
			compile "VMMEM_PROVIDER_DEFINE ($opt), $comp -std=$std, only -I include" c++ \
				"$comp" "$std" "$tmp/define.c" -I"$src/include" -D$opt
		done
	done
done

for f in providers/mmap/mmap.c providers/memfd/memfd.c providers/hugetlbfs/hugetlbfs.c \
	providers/common/hugepages.c examples/provider-skeleton/skeleton.c; do
	compile "$f with only -I include" c "$CC" gnu11 "$src/$f" -I"$src/include" -Wno-unused-parameter
done

echo "1..$n"
exit $fail
