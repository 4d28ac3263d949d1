#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The vmmem tool: providers, check and layout, --help, --version, and the
# exit codes --help documents (0 ok, 1 bad configuration/memory, 2 usage).
set -u

: "${VMMEM_TOP_BUILDDIR:?run under make check}" "${VMMEM_TEST_PROVIDERS_DIR:?run under make check}"
tool="$VMMEM_TOP_BUILDDIR/tools/vmmem"   # the libtool wrapper: runs uninstalled
mmap_dir="$VMMEM_TOP_BUILDDIR/providers/mmap/.libs"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-tool-XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# run ARGS...: sets $rc, $out (stdout) and $err (stderr).
run() {
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
# check NAME CONDITION...: one TAP line; on failure shows what the tool said.
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

echo 1..19

run --help
check "--help prints usage and the exit codes on stdout, exit 0" \
	eval '[ $rc -eq 0 ] && has "$out" "Usage: vmmem COMMAND" && has "$out" "2  usage error" && [ -z "$err" ]'

run --version
check "--version prints the version, exit 0" \
	eval '[ $rc -eq 0 ] && has "$out" "^vmmem [0-9][0-9.]* (provider ABI 1\.2)$"'

run
check "no command is a usage error, exit 2, on stderr" \
	eval '[ $rc -eq 2 ] && has "$err" "a command is needed" && [ -z "$out" ]'

run frobnicate
check "an unknown command is a usage error naming it, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "unknown command .frobnicate."'

run check --frob x.conf
check "an unknown option is a usage error naming it, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "unknown option .--frob."'

run layout a.conf b.conf
check "too many arguments is a usage error, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "too many arguments"'

# ---- providers ----
VMMEM_PROVIDER_PATH="$mmap_dir:$VMMEM_TEST_PROVIDERS_DIR" run providers
check "providers lists mmap with name, version, ABI and path" \
	eval '[ $rc -eq 0 ] && has "$out" "^mmap  *1\.0  *ABI 1\.2  *$mmap_dir/mmap\.so$"'
check "providers gives each file that fails to load with the reason" \
	eval 'has "$out" "abi-major\.so: .*built for provider ABI 2\.[0-9]" &&
	      has "$out" "no-entry\.so: .*no symbol vmmem_provider_entry" &&
	      has "$out" "undefined-symbol\.so: .*undefined symbol"'

# ---- check ----
cat >"$tmp/good.conf" <<CONF
[region low]     # comment
start = 0
size = 64K
[region high]
start = 4G
size = 2M
provider = mmap
shared = yes
CONF
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/good.conf"
check "check prints 'FILE: ok, N regions', exit 0" \
	eval '[ $rc -eq 0 ] && [ "$out" = "$tmp/good.conf: ok, 2 regions" ] && [ -z "$err" ]'

VMMEM_CONFIG="$tmp/good.conf" VMMEM_PROVIDER_PATH="$mmap_dir" run check
check "check without FILE reads \$VMMEM_CONFIG" \
	eval '[ $rc -eq 0 ] && [ "$out" = "$tmp/good.conf: ok, 2 regions" ]'

printf '[region a]\nstart = 0\nsize = 12Q\n' >"$tmp/bad.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/bad.conf"
check "check of a bad file prints the error on stderr, exit 1" \
	eval '[ $rc -eq 1 ] && [ -z "$out" ] && has "$err" "^vmmem: $tmp/bad.conf: \[region a\] size = .12Q.: unknown suffix"'

printf '[region a]\nstart = 0\nsize = 8K\n[region b]\nstart = 4K\nsize = 4K\n' >"$tmp/overlap.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/overlap.conf"
check "check reports overlapping regions by name, exit 1" \
	eval '[ $rc -eq 1 ] && has "$err" "regions .a. .* and .b. .* overlap"'

printf '[provider refuser]\nmodule = %s/create-fails.so\n[region a]\nstart = 0\nsize = 4K\nprovider = refuser\n' \
	"$VMMEM_TEST_PROVIDERS_DIR" >"$tmp/refuser.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/refuser.conf"
check "check maps nothing: a provider whose create() fails still checks ok" \
	eval '[ $rc -eq 0 ] && has "$out" "ok, 1 region$"'

# A FIFO would block open() and read() forever; timeout turns a hang into
# a failure (rc 124) instead of a stuck test run.
mkfifo "$tmp/fifo.conf"
rc=0
VMMEM_PROVIDER_PATH="$mmap_dir" timeout 20 "$tool" check "$tmp/fifo.conf" >"$tmp/out" 2>"$tmp/err" || rc=$?
out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
check "check of a FIFO refuses it as not a regular file without blocking, exit 1" \
	eval '[ $rc -eq 1 ] && has "$err" "$tmp/fifo.conf: it is a FIFO, not a regular file"'

# ---- layout ----
VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/good.conf"
check "layout prints one row per region: start, end, size, provider, page size, sharing, fd, hugetlbfs, dirty, hotplug" \
	eval '[ $rc -eq 0 ] &&
	      has "$out" "^REGION  *START  *END  *SIZE  *PROVIDER  *PAGE-SIZE  *SHARING  *FD  *HUGETLBFS  *DIRTY  *HOTPLUG$" &&
	      has "$out" "^low  *0x0000000000000000 0x000000000000ffff 64K  *mmap  *4K  *private  *-  *-  *no  *-$" &&
	      has "$out" "^high  *0x0000000100000000 0x00000001001fffff 2M  *mmap  *4K  *shared  *-  *-  *no  *-$" &&
	      [ "$(printf "%s\n" "$out" | wc -l)" -eq 3 ]'

printf '[memory]\ndirty-tracking = true\n[region ram]\nstart = 0\nsize = 2M\n[region dimm]\nstart = 1G\nsize = 2M\nhotplug = true\n' >"$tmp/hot.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run layout --hotplug "$tmp/hot.conf"
check "layout --hotplug builds a space and hot-adds the hotplug regions" \
	eval '[ $rc -eq 0 ] &&
	      has "$out" "^hot-added region .dimm. in [0-9.]* us$" &&
	      has "$out" "^ram  *0x0000000000000000 .* yes  *-$" &&
	      has "$out" "^dimm  *0x0000000040000000 .* yes  *added$" &&
	      has "$out" "^space: 2 regions, generation 2"'
VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/hot.conf"
check "layout without --hotplug maps only the regions present from the start" \
	eval '[ $rc -eq 0 ] && ! has "$out" "^dimm" && has "$out" "^ram "'

VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/refuser.conf"
check "layout reports a provider that fails to map, exit 1" \
	eval '[ $rc -eq 1 ] && has "$err" "refuses every region"'

VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/missing.conf"
check "layout of a missing file names it, exit 1" \
	eval '[ $rc -eq 1 ] && has "$err" "$tmp/missing.conf: No such file"'

exit $failed
