#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: bench/compare (what `make bench` runs) without the Rust peer. With
# the peer folder absent it says the peer is optional and where it comes
# from, installs nothing (apt-get and sudo are stubs that record a call),
# and runs vmmem-bench alone; with a peer that cannot be built it does the
# same after saying why. Tiny guest and timing: only the shape is checked.
set -u
src=${VMMEM_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${VMMEM_TOP_BUILDDIR:-$src}
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmmem-bench-compare.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
for s in apt-get sudo; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/installs"\nexit 1\n' "$s" "$tmp" >"$tmp/bin/$s"
	chmod +x "$tmp/bin/$s"
done
export VMMEM_PROVIDER_PATH="$build/providers/mmap/.libs"
opts="--guest-size 16M --min-time 0.0005 --reps 1 --filter _hot_r1 --filter raw_volatile"
n=0
fail=0
check() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		fail=1
		echo "not ok $n - $1 (exit $rc)"
		sed 's/^/# stderr: /' "$tmp/err" | head -20
		sed 's/^/# stdout: /' "$tmp/out" | head -10
		[ -f "$tmp/installs" ] && sed 's/^/# installs: /' "$tmp/installs"
	fi
}
# compare WORKDIR ARGS...: runs bench/compare; sets $rc, fills out and err.
compare() {
	w=$1
	shift
	# shellcheck disable=SC2086
	PATH="$tmp/bin:$PATH" python3 "$src/bench/compare" --vmmem "$build/bench/vmmem-bench" \
		--work-dir "$tmp/$w" "$@" -- $opts >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

compare absent --peer-dir "$tmp/no-such-peer"
check "without the peer folder it exits 0 and runs vmmem-bench alone" \
	'[ $rc -eq 0 ] && [ -s "$tmp/absent/vmmem.txt" ] && [ ! -e "$tmp/absent/rust.txt" ] &&
	 grep -q "^read_obj_u64_hot_r1  *ns/op  *[0-9.]*  *-  " "$tmp/out"'
check "it says the peer is optional, why it is left out and where it comes from" \
	'grep -q "Rust peer is optional and left out: no Rust peer at $tmp/no-such-peer" "$tmp/err" &&
	 grep -q "shared/peers/rust-vm-memory" "$tmp/err" && grep -q "VMMEM_RUST_PEER_DIR" "$tmp/err"'
check "it installs nothing when the peer is absent" '[ ! -e "$tmp/installs" ]'
check "targets against Rust are skipped, not failed or missing" \
	'grep -q "^SKIP read_obj_u64_hot_r1 vs Rust (time ratio) (no Rust peer)$" "$tmp/out" &&
	 grep -q "^# targets: .* skipped (no Rust peer)$" "$tmp/out" &&
	 grep -q "^\(PASS\|FAIL\) read_obj_u64_hot_r1 vs raw_volatile_read_u64_hot" "$tmp/out"'

# A peer folder that cannot be built offline: cargo fails (and, where the
# Debian registry is missing, the stubbed apt-get fails first).
mkdir -p "$tmp/peer/src" "$tmp/peer/.cargo"
printf '[package]\nname = "vmm-peer-bench"\nversion = "0.1.0"\n' >"$tmp/peer/Cargo.toml"
CARGO=/bin/false compare unbuildable --peer-dir "$tmp/peer"
check "a peer that cannot be built: vmmem-bench runs alone, exit 0, saying why" \
	'[ $rc -eq 0 ] && [ -s "$tmp/unbuildable/vmmem.txt" ] &&
	 grep -q "Rust peer is optional and left out: \(cannot install librust-vm-memory-dev\|cargo build --offline of the peer failed\)" "$tmp/err"'

echo "1..$n"
exit $fail
