#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The provider ABI grows without breaking plugins (SQLite's iVersion
# rule, docs/provider-abi.md): tests/providers/abi-compat.c built against
#  - a header of the next minor, generated from <vmmem/provider.h> with the
#    minor raised and one more trailing member in the mapping, the ops, the
#    descriptor and the option description: it loads, maps, is given no
#    room for the member this core lacks, and its options are read with
#    its own element size;
#  - the frozen ABI 1.1 header, whose mapping has no struct_size: it loads
#    and maps;
#  - our header with a descriptor or a mapping too small, and the next
#    minor's header with the major raised: each is refused with a message
#    that names the plugin's path.
# Through the vmmem tool (providers, layout). TAP output.
set -u

: "${VMMEM_TOP_BUILDDIR:?run under make check}" "${CC:=cc}"
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
tool="$VMMEM_TOP_BUILDDIR/tools/vmmem"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-provider-abi.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
run() {
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
check() {
	name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		failed=1
		echo "not ok $n - $name"
		echo "# rc=$rc"
		printf '%s\n' "$out" | sed 's/^/# stdout: /'
		printf '%s\n' "$err" | sed 's/^/# stderr: /'
	fi
}
has() { printf '%s\n' "$1" | grep -q -- "$2"; }

minor=$(sed -n 's/^#define VMMEM_PROVIDER_ABI_MINOR \([0-9]*\)$/\1/p' "$src/include/vmmem/provider.h")
major=$(sed -n 's/^#define VMMEM_PROVIDER_ABI_MAJOR \([0-9]*\)$/\1/p' "$src/include/vmmem/provider.h")
[ -n "$minor" ] && [ -n "$major" ] || { echo "Bail out! no ABI version in provider.h"; exit 1; }
next=$((minor + 1))

# The next minor's header: each struct that crosses the ABI gets one more
# member at its end, as a later minor would append it.
mkdir -p "$tmp/future/vmmem" "$tmp/major/vmmem" "$tmp/plugins"
awk -v next_minor="$next" '
	/^#define VMMEM_PROVIDER_ABI_MINOR / { print "#define VMMEM_PROVIDER_ABI_MINOR " next_minor; next }
	/^struct vmmem_provider_mapping \{/ { add = "\tuint64_t future_member;" }
	/^struct vmmem_provider_ops \{/ { add = "\tvoid (*future_op)(void);" }
	/^struct vmmem_provider \{/ { add = "\tconst char *future_field;" }
	/^struct vmmem_provider_option_desc \{/ { add = "\tconst char *future_unit;" }
	/^};/ && add != "" { print add; add = "" }
	{ print }' "$src/include/vmmem/provider.h" >"$tmp/future/vmmem/provider.h"
sed "s/^#define VMMEM_PROVIDER_ABI_MAJOR .*/#define VMMEM_PROVIDER_ABI_MAJOR $((major + 1))/" \
	"$tmp/future/vmmem/provider.h" >"$tmp/major/vmmem/provider.h"
n_added=$(grep -c 'future_member;\|future_op)(void);\|future_field;\|future_unit;' "$tmp/future/vmmem/provider.h")

# build NAME HEADER-DIR DEFINE: tests/providers/abi-compat.c as NAME.so.
build() {
	"$CC" -std=gnu11 -Wall -shared -fPIC -fvisibility=hidden -I"$2" -I"$src/include" -D"$3" \
		-o "$tmp/plugins/$1.so" "$src/tests/providers/abi-compat.c" >"$tmp/cc.$1" 2>&1
}
n=$((n + 1))
if [ "$n_added" -eq 4 ] && build abi-future "$tmp/future" ABI_FUTURE &&
	build abi-old "$src/tests/providers/abi-1.1" ABI_OLD &&
	build abi-tiny-descriptor "$src/include" ABI_TINY_DESCRIPTOR &&
	build abi-tiny-mapping "$src/include" ABI_TINY_MAPPING &&
	build abi-major "$tmp/major" ABI_FUTURE; then
	echo "ok $n - the providers build against the next minor's header ($major.$next), the 1.1 header and ours"
else
	echo "not ok $n - the providers build against the next minor's header, the 1.1 header and ours"
	echo "# members added to the future header: $n_added of 4"
	cat "$tmp"/cc.* 2>/dev/null | sed 's/^/# /' | head -30
	echo "1..$n"
	exit 1
fi
plugins=$tmp/plugins

# conf PROVIDER: a 2 MiB region from that plugin, named by path.
conf() {
	printf '[provider p]\nmodule = %s/%s.so\n[region ram]\nstart = 0\nsize = 2M\nprovider = p\n' \
		"$plugins" "$1" >"$tmp/$1.conf"
	echo "$tmp/$1.conf"
}

# ---- a provider of the next minor ----
VMMEM_PROVIDER_PATH="$plugins" run providers
check "a provider built for ABI $major.$next is listed as loaded" \
	eval 'has "$out" "^abi-future  *9\.9  *ABI $major\.$next  *$plugins/abi-future\.so$" &&
	      ! has "$out" "abi-future\.so: "'

run layout "$(conf abi-future)"
check "a provider built for ABI $major.$next maps a region in this core" \
	eval '[ $rc -eq 0 ] && has "$out" "^ram  *0x0000000000000000 0x00000000001fffff 2M  *abi-future  *4K  *private  *-  *-  *no "'
check "the core gives it no room for the mapping member it lacks, and it writes none" \
	eval 'has "$err" "abi-compat: mapping room [0-9]* of [0-9]* bytes, future member not written" &&
	      [ "$(echo "$err" | sed -n "s/.*room \([0-9]*\) of \([0-9]*\) .*/\1 \2/p" | awk "{ print (\$1 < \$2) }")" = 1 ]'

VMMEM_PROVIDER_PATH="$plugins" run providers abi-future
check "its options are read with its own, larger, element size" \
	eval '[ $rc -eq 0 ] && has "$out" "^    fill = INTEGER  *default: 0x5a$" &&
	      has "$out" "^        the byte every page starts with$" &&
	      has "$out" "^    speed = fast|slow  *default: fast$" &&
	      has "$out" "^        how hard to try$"'
check "an option type newer than the core is shown as a plain value" \
	eval 'has "$out" "^    timeout = VALUE  *default: 1s$"'

# ---- a provider of ABI 1.1 ----
run layout "$(conf abi-old)"
check "a provider built against the ABI 1.1 header (no mapping struct_size) maps a region" \
	eval '[ $rc -eq 0 ] && has "$out" "^ram  *0x0000000000000000 0x00000000001fffff 2M  *abi-old  *4K  *private  *-  *-  *no "'
VMMEM_PROVIDER_PATH="$plugins" run providers abi-old
check "its options, which it does not describe, are listed as such" \
	eval '[ $rc -eq 0 ] && has "$out" "ABI 1\.1  *$plugins/abi-old\.so$" &&
	      has "$out" "^    fill = VALUE  *default: none$" &&
	      has "$out" "(not described by the provider)"'

# ---- refused, naming the plugin ----
run layout "$(conf abi-tiny-descriptor)"
check "a descriptor too small to hold ops is refused, naming the plugin path" \
	eval '[ $rc -eq 1 ] && has "$err" "provider $plugins/abi-tiny-descriptor\.so: descriptor size [0-9]* is too small"'
run layout "$(conf abi-tiny-mapping)"
check "a mapping declared smaller than ABI 1.2's is refused, naming the plugin path" \
	eval '[ $rc -eq 1 ] && has "$err" "($plugins/abi-tiny-mapping\.so) declares a mapping struct_size of 8"'
run layout "$(conf abi-major)"
check "a provider of another major is refused, naming the plugin path and both versions" \
	eval '[ $rc -eq 1 ] && has "$err" "provider $plugins/abi-major\.so was built for provider ABI $((major + 1))\.$next; this vmmem .* loads ABI $major\.x"'

echo "1..$n"
exit $failed
