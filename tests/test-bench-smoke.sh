#!/bin/sh
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# TAP: vmmem-bench still builds, lists and measures every line the Rust
# peer has (and our extra ones), so the benchmark cannot rot. Tiny guest
# memory and timing: the numbers mean nothing, only the shape is checked.
set -u
bench="${VMMEM_TOP_BUILDDIR:-.}/bench/vmmem-bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Every line: the peer's (README "What each line means"), then our extras.
expected="
read_obj_u64_rand_r1 write_obj_u64_rand_r1 read_obj_u64_hot_r1 write_obj_u64_hot_r1
load_u64_hot_r1 store_u64_hot_r1 find_region_rand_r1
read_slice_rand_4k write_slice_rand_4k read_slice_hot_4k write_slice_hot_4k
read_slice_rand_64k write_slice_rand_64k read_slice_hot_64k write_slice_hot_64k
read_slice_rand_1m write_slice_rand_1m read_slice_hot_1m write_slice_hot_1m
read_obj_u64_rand_r8 write_obj_u64_rand_r8 read_obj_u64_hot_r8 write_obj_u64_hot_r8
load_u64_hot_r8 store_u64_hot_r8 find_region_rand_r8
write_slice_4k_straddle_r8 read_slice_4k_straddle_r8 write_slice_4k_inside_r8 read_slice_4k_inside_r8
read_obj_u64_rand_r64 write_obj_u64_rand_r64 read_obj_u64_hot_r64 write_obj_u64_hot_r64
load_u64_hot_r64 store_u64_hot_r64 find_region_rand_r64
read_obj_u64_rand_r512 write_obj_u64_rand_r512 read_obj_u64_hot_r512 write_obj_u64_hot_r512
load_u64_hot_r512 store_u64_hot_r512 find_region_rand_r512
prng_only raw_volatile_read_u64_rand raw_volatile_write_u64_rand
raw_volatile_read_u64_hot raw_volatile_write_u64_hot
memcpy_rand_read_4k memcpy_rand_write_4k memcpy_hot_4k
memcpy_rand_read_64k memcpy_rand_write_64k memcpy_hot_64k
memcpy_rand_read_1m memcpy_rand_write_1m memcpy_hot_1m
find_region_hot_r1 find_region_hot_r8 find_region_hot_r64 find_region_hot_r512
read_obj_u64_hot_r4096 write_obj_u64_hot_r4096 load_u64_hot_r4096 store_u64_hot_r4096
find_region_rand_r4096 find_region_hot_r4096 get_iovec_3regions
read_obj_u64_hot_table_r1 write_obj_u64_hot_table_r1 load_u64_hot_table_r1 store_u64_hot_table_r1
read_obj_u64_hot_table_r512 write_obj_u64_hot_table_r512 load_u64_hot_table_r512 store_u64_hot_table_r512
read_obj_u64_hot_table_r4096 write_obj_u64_hot_table_r4096 load_u64_hot_table_r4096 store_u64_hot_table_r4096
read_from_fd_pipe_64k raw_read_pipe_64k write_to_fd_pipe_64k raw_write_pipe_64k
"
n_expected=$(echo $expected | wc -w)
echo "1..5"

ok() { echo "ok $1 - $2"; }
not_ok() { echo "not ok $1 - $2"; shift 2; for l in "$@"; do echo "# $l"; done; }

# 1. --list names every line exactly once, with its unit, and nothing else.
"$bench" --list >"$tmp/list" 2>"$tmp/list.err"
bad=""
for n in $expected; do
	c=$(awk -v n="$n" '$1 == n && ($2 == "ns/op" || $2 == "GB/s") && NF == 2' "$tmp/list" | wc -l)
	[ "$c" -eq 1 ] || bad="$bad $n($c)"
done
lines=$(wc -l <"$tmp/list")
if [ -z "$bad" ] && [ "$lines" -eq "$n_expected" ]; then
	ok 1 "--list names all $n_expected lines once, each with a unit"
else
	not_ok 1 "--list names all $n_expected lines once, each with a unit" \
		"missing or repeated:$bad" "lines: $lines"
fi

# 2. A full tiny run measures every line once, numeric value, right unit;
#    metadata only on stderr, prefixed with '#'.
"$bench" --guest-size 16M --min-time 0.0005 --reps 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
bad=""
for n in $expected; do
	unit=$(awk -v n="$n" '$1 == n { print $2 }' "$tmp/list")
	c=$(awk -v n="$n" -v u="$unit" \
		'$1 == n && NF == 3 && $2 ~ /^[0-9]+\.[0-9][0-9]$/ && $3 == u' "$tmp/out" | wc -l)
	[ "$c" -eq 1 ] || bad="$bad $n"
done
if [ $rc -eq 0 ] && [ -z "$bad" ] && [ "$(wc -l <"$tmp/out")" -eq "$n_expected" ]; then
	ok 2 "a tiny run prints every line once as 'name value unit'"
else
	not_ok 2 "a tiny run prints every line once as 'name value unit'" \
		"exit $rc; bad:$bad" "$(head -5 "$tmp/err")"
fi
if grep -qv '^#' "$tmp/err" || ! grep -q '^# vmmem .*min_time=0.0005s reps=1' "$tmp/err"; then
	not_ok 3 "stderr holds only '#' metadata lines with the settings" "$(head -5 "$tmp/err")"
else
	ok 3 "stderr holds only '#' metadata lines with the settings"
fi

# 4. --filter (repeatable) runs exactly the lines that match one of them,
# also where a matching line is timed in alternation with others (a slice
# line and its memcpy limit, straddle and inside).
"$bench" --guest-size 16M --min-time 0.0005 --reps 1 \
	--filter straddle --filter prng_only --filter memcpy_hot_64k --filter table_r512 \
	>"$tmp/filt" 2>/dev/null
got=$(awk '{ print $1 }' "$tmp/filt" | sort | tr '\n' ' ')
want="load_u64_hot_table_r512 memcpy_hot_64k prng_only read_obj_u64_hot_table_r512 \
read_slice_4k_straddle_r8 store_u64_hot_table_r512 write_obj_u64_hot_table_r512 \
write_slice_4k_straddle_r8 "
if [ "$got" = "$want" ]; then
	ok 4 "repeated --filter runs exactly the matching lines"
else
	not_ok 4 "repeated --filter runs exactly the matching lines" "got: $got" "want: $want"
fi

# 5. A bad option is refused with a message and exit status 2.
"$bench" --reps 0 >/dev/null 2>"$tmp/bad"
rc=$?
if [ $rc -eq 2 ] && grep -q "bad --reps" "$tmp/bad"; then
	ok 5 "a bad option value exits 2 and names the option"
else
	not_ok 5 "a bad option value exits 2 and names the option" "exit $rc" "$(cat "$tmp/bad")"
fi
