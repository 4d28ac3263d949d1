#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The kit for third-party providers, end to end, the way an outside author
# uses it: install vmmem into a staging root, build
# examples/provider-skeleton out of tree with its own Makefile against the
# installed pkg-config file, install it into providerdir, and use it from
# a config file through the installed `vmmem` tool and a small consumer
# program built against the installed library.
set -u

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
bail() { echo "Bail out! $*"; exit 1; }

: "${VMMEM_TOP_BUILDDIR:?run under make check}" "${VMMEM_TOP_SRCDIR:?run under make check}"
: "${CC:=cc}" "${MAKE:=make}" "${NM:=nm}"
command -v pkg-config >/dev/null 2>&1 || { echo "1..0 # SKIP pkg-config is not installed"; exit 0; }

echo 1..11
stage=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-kit-XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

# 1. Install. The outer make's jobserver is not ours to use.
if env -u MAKEFLAGS -u MFLAGS $MAKE -C "$VMMEM_TOP_BUILDDIR" install DESTDIR="$root" \
	>"$stage/install.log" 2>&1; then
	ok "make install DESTDIR=... installs vmmem"
else
	tail -20 "$stage/install.log" | sed 's/^/# /'
	bail "make install failed"
fi

pc=$(find "$root" -name vmmem.pc | head -1)
[ -n "$pc" ] || bail "no vmmem.pc installed"
pcdir=$(dirname "$pc")
prefix=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=prefix vmmem)
# The .pc file names the final prefix; a copy points into the staging root
# (--define-variable would move glib-2.0's prefix too).
mkdir "$stage/pc" || bail "mkdir"
for f in vmmem.pc vmmem-provider.pc; do
	[ -f "$pcdir/$f" ] || bail "no $f installed beside $pc"
	sed "s|^prefix=.*|prefix=$root$prefix|" "$pcdir/$f" >"$stage/pc/$f"
done
PKG_CONFIG=pkg-config
PKG_CONFIG_PATH="$stage/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
libdir=$($PKG_CONFIG --variable=libdir vmmem)
providerdir=$($PKG_CONFIG --variable=providerdir vmmem)
tool=$(find "$root" -type f -name vmmem -perm -u+x | head -1)

# 2. pkg-config exports providerdir, and the installed mmap provider is in it.
case "$providerdir" in
"$root"/*) if [ -f "$providerdir/mmap.so" ]; then
		ok "pkg-config --variable=providerdir vmmem names where providers are installed"
	else
		not_ok "providerdir $providerdir holds mmap.so" "$(ls -la "$providerdir" 2>&1)"
	fi ;;
*) not_ok "providerdir is under the staging root" "providerdir=$providerdir" ;;
esac

# 2b. Providers need no GLib: vmmem-provider.pc requires and links nothing.
pflags="$($PKG_CONFIG --cflags --libs vmmem-provider 2>&1)"
if printf '%s' "$pflags" | grep -q -- "-I$root$prefix/include" &&
	! printf '%s' "$pflags" | grep -Eq 'glib|(^| )-l'; then
	ok "pkg-config --cflags --libs vmmem-provider is the include directory alone, no GLib"
else
	not_ok "pkg-config --cflags --libs vmmem-provider is the include directory alone, no GLib" \
		"got: $pflags"
fi

# 3. The skeleton builds out of tree with its own Makefile.
build="$stage/skeleton"
mkdir "$build" || bail "mkdir"
cp "$VMMEM_TOP_SRCDIR/examples/provider-skeleton/skeleton.c" \
	"$VMMEM_TOP_SRCDIR/examples/provider-skeleton/Makefile" "$build/" || bail "cp"
chmod u+w "$build"/*   # distcheck's srcdir is read-only; so are the copies
if env -u MAKEFLAGS -u MFLAGS $MAKE -C "$build" CC="$CC" PKG_CONFIG="$PKG_CONFIG" \
	>"$stage/build.log" 2>&1 && [ -f "$build/skeleton.so" ]; then
	ok "the skeleton builds against the installed vmmem"
else
	not_ok "the skeleton builds against the installed vmmem" "$(tail -20 "$stage/build.log")"
fi

# 4. It exports exactly the entry point.
exports=$($NM -D --defined-only "$build/skeleton.so" 2>/dev/null | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | grep -v '^_' | sort | tr '\n' ' ')
if [ "$exports" = "vmmem_provider_entry " ]; then
	ok "the skeleton exports only vmmem_provider_entry"
else
	not_ok "the skeleton exports only vmmem_provider_entry" "exports: $exports"
fi

# 5. make install puts it into providerdir, where `vmmem providers` finds it.
env -u MAKEFLAGS -u MFLAGS $MAKE -C "$build" PKG_CONFIG="$PKG_CONFIG" install \
	>"$stage/skinstall.log" 2>&1
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
VMMEM_PROVIDER_PATH="$providerdir"
export LD_LIBRARY_PATH VMMEM_PROVIDER_PATH
out=$("$tool" providers 2>&1)
if [ -f "$providerdir/skeleton.so" ] &&
	echo "$out" | grep -q "^skeleton  *1.0  *ABI 1.2  *$providerdir/skeleton.so"; then
	ok "installed, the skeleton is listed by the installed vmmem providers"
else
	not_ok "installed, the skeleton is listed by the installed vmmem providers" \
		"$(cat "$stage/skinstall.log")" "$out"
fi

# 6. A config that names it by absolute path validates.
conf="$stage/kit.conf"
cat >"$conf" <<CONF
[provider skeleton]
module = $build/skeleton.so     # the freshly built file, not the installed copy

[region low]
start = 0
size = 64K
provider = mmap

[region filled]
start = 1M
size = 64K
provider = skeleton
fill = 0xa5
CONF
out=$("$tool" check "$conf" 2>&1)
if [ "$out" = "$conf: ok, 2 regions" ]; then
	ok "vmmem check accepts a region using the skeleton"
else
	not_ok "vmmem check accepts a region using the skeleton" "$out"
fi

# 7. vmmem layout maps it and says which provider backs which region.
out=$("$tool" layout "$conf" 2>&1)
if echo "$out" | grep -q "^filled  *0x0000000000100000 0x000000000010ffff 64K  *skeleton  *4K  *private"; then
	ok "vmmem layout shows the skeleton region"
else
	not_ok "vmmem layout shows the skeleton region" "$out"
fi

# 8. The skeleton's validate() is what vmmem check runs: a bad fill fails.
sed 's/^fill = 0xa5/fill = 300/' "$conf" >"$stage/bad.conf"
out=$("$tool" check "$stage/bad.conf" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "\[region filled\].*fill = '300' is not a byte"; then
	ok "vmmem check reports the skeleton's rejection of fill = 300 (exit 1)"
else
	not_ok "vmmem check reports the skeleton's rejection of fill = 300 (exit 1)" "rc=$rc" "$out"
fi

# 9-10. A consumer built against the installed library reads the fill and
# writes through the skeleton's memory.
cat >"$stage/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vmmem/vmmem.h>

int
main(int argc, char **argv)
{
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new_from_config(argv[1], &error);
	unsigned char first = 0, last = 0, back[6] = "";
	const unsigned char msg[6] = "hello";
	vmmem_guest_addr_t base = vmmem_guest_addr(0x100000);

	if (!mem) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	if (!vmmem_memory_read_slice(mem, base, &first, 1, &error) ||
	    !vmmem_memory_read_slice(mem, vmmem_guest_addr(0x10ffff), &last, 1, &error) ||
	    !vmmem_memory_write_slice(mem, vmmem_guest_addr(0x100100), msg, sizeof(msg), &error) ||
	    !vmmem_memory_read_slice(mem, vmmem_guest_addr(0x100100), back, sizeof(back), &error)) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	printf("provider=%s first=0x%02x last=0x%02x back=%s\n",
	       vmmem_region_provider_name(vmmem_memory_find_region(mem, base)), first, last,
	       (const char *)back);
	vmmem_memory_unref(mem);
	return argc == 2 ? 0 : 1;
}
C
# The build's own CFLAGS/LDFLAGS: a consumer of a sanitizer build of
# vmmem must link the sanitizer runtime too.
# shellcheck disable=SC2046,SC2086
if $CC ${VMMEM_BUILD_CFLAGS:-} -o "$stage/consumer" "$stage/consumer.c" \
	$($PKG_CONFIG --cflags --libs vmmem) ${VMMEM_BUILD_LDFLAGS:-} \
	>"$stage/cc.log" 2>&1; then
	ok "a consumer compiles and links with pkg-config --cflags --libs vmmem"
else
	not_ok "a consumer compiles and links with pkg-config --cflags --libs vmmem" "$(head -5 "$stage/cc.log" | tr "\n" " ")"
fi
out=$("$stage/consumer" "$conf" 2>&1)
if [ "$out" = "provider=skeleton first=0xa5 last=0xa5 back=hello" ]; then
	ok "the consumer sees the skeleton's fill byte and reads back what it wrote"
else
	not_ok "the consumer sees the skeleton's fill byte and reads back what it wrote" "$out"
fi
exit $failed
