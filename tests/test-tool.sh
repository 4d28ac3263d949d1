#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# The vmmem tool: providers, check and layout, help for every command,
# --version, progress and totals of layout, what check finds without
# mapping, and the exit codes --help documents (0 ok, 1 bad
# configuration/memory, 2 usage).
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

echo 1..38

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
check "an unknown option is a usage error naming it and the command, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "^vmmem check: Unknown option --frob" && has "$err" "vmmem check --help"'

run layout x.conf --frob
check "an unknown option after the file is refused too, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "Unknown option --frob" && [ -z "$out" ]'

printf '[region a]\nstart = 0\nsize = 64K\n' >"$tmp/-dash.conf"
(cd "$tmp" && VMMEM_PROVIDER_PATH="$mmap_dir" "$tool" check -- -dash.conf >"$tmp/out" 2>"$tmp/err")
rc=$?; out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
check "after --, a FILE that starts with '-' is a file, not an option" \
	eval '[ $rc -eq 0 ] && [ "$out" = "-dash.conf: ok, 1 region" ]'

run --frob
check "an unknown option before any command is a usage error naming it, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "unknown option .--frob."'

run help
check "help is --help: usage, every command, exit 0" \
	eval '[ $rc -eq 0 ] && has "$out" "Usage: vmmem COMMAND" && has "$out" "^  providers" &&
	      has "$out" "^  check" && has "$out" "^  layout" && has "$out" "^  help"'

for c in providers check layout; do
	run help $c
	help_out=$out
	run $c --help
	check "help $c and $c --help print the same usage of $c, exit 0" \
		eval '[ $rc -eq 0 ] && [ "$out" = "$help_out" ] && has "$out" "vmmem $c .OPTION" &&
		      has "$out" "-h, --help" && [ -z "$err" ]'
done
run layout --help
check "layout --help describes --hotplug, --progress and --no-progress" \
	eval 'has "$out" "^  --hotplug " && has "$out" "^  --progress " && has "$out" "^  --no-progress "'
run providers --help
check "providers --help describes NAME and --verbose" \
	eval 'has "$out" "vmmem providers .OPTION.*\[NAME\]" && has "$out" "-v, --verbose"'

run help frobnicate
check "help of an unknown command is a usage error naming it, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "unknown command .frobnicate." && [ -z "$out" ]'

run layout --progress --no-progress x.conf
check "layout --progress with --no-progress is a usage error, exit 2" \
	eval '[ $rc -eq 2 ] && has "$err" "contradict"'

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

printf '[region a]\nstart = 0\nsize = 64K\npath = %s/absent.bin\n' "$tmp" >"$tmp/absent.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/absent.conf"
check "check of an mmap path = FILE that does not exist names region, file and reason, exit 1" \
	eval '[ $rc -eq 1 ] && [ -z "$out" ] && has "$err" "\[region a\] path = .$tmp/absent.bin.: No such file"'

head -c 4096 /dev/zero >"$tmp/short.bin"
sed "s|absent.bin|short.bin|" "$tmp/absent.conf" >"$tmp/short.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/short.conf"
check "check of an mmap path = FILE shorter than the region says both sizes, exit 1" \
	eval '[ $rc -eq 1 ] && has "$err" "short.bin. is 0x1000 bytes; the region needs 0x10000 bytes"'

printf '[region a]\nstart = 0\nsize = 64K\npath = /dev/zero\n' >"$tmp/dev.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/dev.conf"
check "check says plainly that a path = FILE that is not a regular file is checked only by mapping" \
	eval '[ $rc -eq 0 ] && has "$out" "^not checked without mapping: region .a.: path = ./dev/zero. is not a regular file"'

printf '[region a]\nstart = 0\nsize = 64K\nfd = 7\n' >"$tmp/fd.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run check "$tmp/fd.conf"
check "check says plainly that fd = N is not checked" \
	eval '[ $rc -eq 0 ] && has "$out" "^not checked without mapping: region .a.: fd = 7 must be open"'

# Huge pages: what the regions mapped at start need (the hotplug one is
# left out) against what the 2 MiB pool has free now.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hdir=$VMMEM_TOP_BUILDDIR/providers/hugetlbfs/.libs
if [ -r "$hp/free_hugepages" ]; then
	printf '[region a]\nstart = 0\nsize = 4M\nprovider = hugetlbfs\npage-size = 2M\n[region b]\nstart = 1T\nsize = 1T\nprovider = hugetlbfs\npage-size = 2M\nhotplug = true\n' >"$tmp/huge.conf"
	VMMEM_PROVIDER_PATH="$hdir" run check "$tmp/huge.conf"
	check "check counts the 2M huge pages the regions mapped at start need against the free ones" \
		eval '[ $rc -eq 0 ] && has "$out" "^huge pages 2M: 2 needed by 1 region mapped at start, [0-9]* free and unreserved now"'
	printf '[region a]\nstart = 0\nsize = 1T\nprovider = hugetlbfs\npage-size = 2M\n' >"$tmp/huge-big.conf"
	VMMEM_PROVIDER_PATH="$hdir" run check "$tmp/huge-big.conf"
	check "check says plainly when there are not enough free huge pages now (a report, exit 0)" \
		eval '[ $rc -eq 0 ] && has "$out" "^huge pages 2M: NOT ENOUGH now: 524288 needed by 1 region"'
else
	n=$((n + 2))
	echo "ok $((n - 1)) # SKIP no 2 MiB huge page pool ($hp)"
	echo "ok $n # SKIP no 2 MiB huge page pool ($hp)"
fi

# ---- layout ----
VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/good.conf"
check "layout prints one row per region: start, end, size, provider, page size, sharing, fd, hugetlbfs, dirty, hotplug" \
	eval '[ $rc -eq 0 ] &&
	      has "$out" "^REGION  *START  *END  *SIZE  *PROVIDER  *PAGE-SIZE  *SHARING  *FD  *HUGETLBFS  *DIRTY  *HOTPLUG$" &&
	      has "$out" "^low  *0x0000000000000000 0x000000000000ffff 64K  *mmap  *4K  *private  *-  *-  *no  *-$" &&
	      has "$out" "^high  *0x0000000100000000 0x00000001001fffff 2M  *mmap  *4K  *shared  *-  *-  *no  *-$" &&
	      has "$out" "^total: 2112K in 2 regions, resident 0 (mincore)$" &&
	      [ "$(printf "%s\n" "$out" | wc -l)" -eq 4 ] && [ -z "$err" ]'

printf '[region ram]\nstart = 0\nsize = 8M\nprefault = yes\n' >"$tmp/prefault.conf"
VMMEM_PROVIDER_PATH="$mmap_dir" run layout "$tmp/prefault.conf"
check "layout of a prefaulted region ends with its total and resident size; no progress off a terminal" \
	eval '[ $rc -eq 0 ] && has "$out" "^total: 8M in 1 region, resident 8M (mincore)$" && [ -z "$err" ]'
VMMEM_PROVIDER_PATH="$mmap_dir" run layout --progress "$tmp/prefault.conf"
check "layout --progress reports on stderr even in a pipe, ending with the size mapped and the time" \
	eval '[ $rc -eq 0 ] && has "$err" "^vmmem: mapped 1 region, 8.0 MiB, in [0-9.]* s$" &&
	      has "$out" "resident 8M (mincore)"'

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
