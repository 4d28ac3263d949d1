/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The region family (vmmem_region_*, region-relative addresses, never
 * crossing into a neighbour) and the slice family (vmmem_slice_*) over a
 * slice of guest memory. Runs once per provider (see testutil.h). */
#include <string.h>

#include "testutil.h"
#include "isolate.h"

#define R(x) vmmem_region_addr(x)
#define G(x) vmmem_guest_addr(x)

/* Region r1 of layout3 sits at [2M, 4M), with r0 adjacent below it: an
 * access off its end must not spill into r2 or wrap into r0. */
static const vmmem_region_t *
r1_of(vmmem_memory_t *mem)
{
	return vmmem_memory_region(mem, 1);
}

static void
test_region_read_write_relative(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r = r1_of(mem);
	uint8_t buf[16], out[16];
	size_t done = 0;
	GError *err = NULL;

	g_assert_true(vmmem_region_read(r, R(0x10), buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 16);
	for (size_t i = 0; i < 16; i++)
		g_assert_cmpuint(buf[i], ==, tu_pattern(TU_2M + 0x10 + i));
	tu_fill(buf, sizeof(buf), 0x42);
	g_assert_true(vmmem_region_write(r, R(TU_2M - 16), buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 16);
	g_assert_true(vmmem_memory_read_slice(mem, G(2 * TU_2M - 16), out, 16, &err));
	g_assert_no_error(err);
	g_assert_true(tu_all(out, 16, 0x42));
	tu_assert_pattern_except(mem, 2 * TU_2M - 16, 16);
	vmmem_memory_unref(mem);
}

static void
test_region_read_clamps_at_end(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r0 = vmmem_memory_region(mem, 0);
	uint8_t buf[16];
	size_t done = 0;
	GError *err = NULL;

	/* r1 follows directly in guest memory; the region family stops anyway. */
	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_true(vmmem_region_read(r0, R(TU_2M - 4), buf, sizeof(buf), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 4);
	g_assert_true(tu_all(buf + 4, 12, 0xee));
	g_assert_true(vmmem_region_write(r0, R(TU_2M - 4), buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 4);
	tu_assert_pattern_except(mem, TU_2M - 4, 4);
	vmmem_memory_unref(mem);
}

static void
test_region_outside_is_invalid_address(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r = r1_of(mem);
	uint8_t buf[4] = { 0xee, 0xee, 0xee, 0xee };
	size_t done = 9;
	GError *err = NULL;

	g_assert_false(vmmem_region_read(r, R(TU_2M), buf, 4, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "'r1'", "0x200000");
	g_assert_cmpuint(done, ==, 0);
	g_assert_false(vmmem_region_write(r, R(UINT64_MAX), buf, 4, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "'r1'", "0xffffffffffffffff");
	g_assert_true(tu_all(buf, 4, 0xee));
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

static void
test_region_slice_all_or_nothing(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r0 = vmmem_memory_region(mem, 0);
	uint8_t buf[0x20];
	GError *err = NULL;

	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_region_read_slice(r0, R(TU_2M - 0x10), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "'r0'", "0x20 bytes", "only 0x10",
			"0x200000");
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	g_assert_false(vmmem_region_write_slice(r0, R(TU_2M - 0x10), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "'r0'");
	/* Offsets near 2^64 must not wrap back into the region; no byte
	 * there is mapped, so it is INVALID_ADDRESS, as in every family. */
	g_assert_false(vmmem_region_write_slice(r0, R(UINT64_MAX), buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	g_assert_false(vmmem_region_read_slice(r0, R(0x10), buf, SIZE_MAX, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE);
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	tu_assert_pattern(mem);
	/* The whole region at once is fine. */
	{
		uint8_t *all = g_malloc(TU_2M);
		g_assert_true(vmmem_region_read_slice(r0, R(0), all, TU_2M, &err));
		g_assert_no_error(err);
		g_assert_cmpuint(all[TU_2M - 1], ==, tu_pattern(TU_2M - 1));
		g_free(all);
	}
	vmmem_memory_unref(mem);
}

static void
test_region_obj_and_atomics(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r = r1_of(mem);
	uint64_t v = 0x1122334455667788ull, back = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;
	uint8_t v8 = 0;
	GError *err = NULL;

	g_assert_true(VMMEM_REGION_WRITE_OBJ(r, R(0x100), &v, &err));
	g_assert_true(VMMEM_REGION_READ_OBJ(r, R(0x100), &back, &err));
	g_assert_cmphex(back, ==, v);
	g_assert_true(vmmem_memory_load_u64(mem, G(TU_2M + 0x100), &back, memory_order_seq_cst, &err));
	g_assert_cmphex(back, ==, v);
	g_assert_false(VMMEM_REGION_READ_OBJ(r, R(TU_2M - 4), &back, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "'r1'");
	g_assert_cmphex(back, ==, v);

	g_assert_true(vmmem_region_store_u8(r, R(0x201), 0xab, memory_order_relaxed, &err));
	g_assert_true(vmmem_region_load_u8(r, R(0x201), &v8, memory_order_relaxed, &err));
	g_assert_cmphex(v8, ==, 0xab);
	g_assert_true(vmmem_region_store_u16(r, R(0x202), 0xabcd, memory_order_release, &err));
	g_assert_true(vmmem_region_load_u16(r, R(0x202), &v16, memory_order_acquire, &err));
	g_assert_cmphex(v16, ==, 0xabcd);
	g_assert_true(vmmem_region_store_u32(r, R(0x204), 0x01234567, memory_order_seq_cst, &err));
	g_assert_true(vmmem_region_load_u32(r, R(0x204), &v32, memory_order_seq_cst, &err));
	g_assert_cmphex(v32, ==, 0x01234567);
	g_assert_true(vmmem_region_store_u64(r, R(TU_2M - 8), 7, memory_order_seq_cst, &err));
	g_assert_true(vmmem_region_load_u64(r, R(TU_2M - 8), &back, memory_order_seq_cst, &err));
	g_assert_cmphex(back, ==, 7);
	g_assert_no_error(err);

	g_assert_false(vmmem_region_load_u32(r, R(0x202), &v32, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "'r1'", "0x202");
	g_assert_false(vmmem_region_store_u64(r, R(0x204), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED);
	g_assert_false(vmmem_region_store_u64(r, R(TU_2M), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	g_assert_cmphex(v32, ==, 0x01234567);
	vmmem_memory_unref(mem);
}

static void
test_region_get_slice(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r = r1_of(mem);
	vmmem_slice_t s = { NULL, 0 };
	GError *err = NULL;

	g_assert_true(vmmem_region_get_slice(r, R(0x1000), TU_2M - 0x1000, &s, &err));
	g_assert_no_error(err);
	g_assert_true(s.host == (uint8_t *)vmmem_region_host(r) + 0x1000);
	g_assert_cmpuint(s.len, ==, TU_2M - 0x1000);
	g_assert_false(vmmem_region_get_slice(r, R(0x1000), TU_2M, &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "'r1'");
	g_assert_true(vmmem_region_get_slice(r, R(UINT64_MAX), 0, &s, &err));
	g_assert_cmpuint(s.len, ==, 0);
	vmmem_memory_unref(mem);
}

static void
test_region_zero_length(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r = r1_of(mem);
	uint8_t b = 0x77;
	size_t done = 9;
	GError *err = NULL;

	for (uint64_t off = 0; off < 3; off++) {
		uint64_t o = off == 0 ? 0 : off == 1 ? TU_2M : UINT64_MAX;
		g_assert_true(vmmem_region_read(r, R(o), &b, 0, &done, &err));
		g_assert_cmpuint(done, ==, 0);
		g_assert_true(vmmem_region_write(r, R(o), &b, 0, &done, &err));
		g_assert_true(vmmem_region_read_slice(r, R(o), &b, 0, &err));
		g_assert_true(vmmem_region_write_slice(r, R(o), &b, 0, &err));
		g_assert_true(vmmem_region_read_obj(r, R(o), &b, 0, &err));
		g_assert_true(vmmem_region_write_obj(r, R(o), &b, 0, &err));
		g_assert_no_error(err);
	}
	g_assert_cmpuint(b, ==, 0x77);
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

/* ---- slices (taken from guest memory) ---- */

static vmmem_slice_t
slice_of(vmmem_memory_t *mem, uint64_t addr, size_t len)
{
	vmmem_slice_t s;
	GError *err = NULL;

	g_assert_true(vmmem_memory_get_slice(mem, G(addr), len, &s, &err));
	g_assert_no_error(err);
	return s;
}

static void
test_slice_read_write(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s = slice_of(mem, 4 * TU_2M + 0x100, 0x100);
	uint8_t buf[0x20];
	size_t done = 0;
	GError *err = NULL;

	g_assert_true(vmmem_slice_read(s, 0xf0, buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 0x10);
	for (size_t i = 0; i < 0x10; i++)
		g_assert_cmpuint(buf[i], ==, tu_pattern(4 * TU_2M + 0x1f0 + i));
	tu_fill(buf, sizeof(buf), 0x99);
	g_assert_true(vmmem_slice_write(s, 0xf0, buf, sizeof(buf), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 0x10);
	/* Only the slice's last 0x10 bytes changed, not the guest bytes after it. */
	tu_assert_pattern_except(mem, 4 * TU_2M + 0x1f0, 0x10);
	g_assert_false(vmmem_slice_read(s, 0x100, buf, 1, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "slice offset 0x100");
	g_assert_false(vmmem_slice_write(s, SIZE_MAX, buf, 1, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	vmmem_memory_unref(mem);
}

static void
test_slice_all_or_nothing(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s = slice_of(mem, 0x1000, 0x100), sub = { NULL, 0 };
	uint8_t buf[0x20];
	GError *err = NULL;

	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_slice_read_slice(s, 0xf0, buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "slice offset 0xf0", "0x20 bytes",
			"only 0x10", "slice offset 0x100");
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	g_assert_false(vmmem_slice_write_slice(s, 0xf0, buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE);
	g_assert_false(vmmem_slice_write_slice(s, SIZE_MAX, buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	g_assert_false(vmmem_slice_write_slice(s, 0x10, buf, SIZE_MAX, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE);
	tu_assert_pattern(mem);
	g_assert_true(vmmem_slice_write_slice(s, 0xe0, buf, sizeof(buf), &err));
	g_assert_no_error(err);
	tu_assert_pattern_except(mem, 0x10e0, 0x20);
	g_assert_true(vmmem_slice_get_slice(s, 0x80, 0x80, &sub, &err));
	g_assert_true(sub.host == s.host + 0x80);
	g_assert_false(vmmem_slice_get_slice(s, 0x80, 0x81, &sub, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE);
	vmmem_memory_unref(mem);
}

static void
test_slice_obj_and_atomics(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s = slice_of(mem, TU_2M, 0x100);
	uint64_t v = 0xcafef00d12345678ull, back = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;
	uint8_t v8 = 0;
	GError *err = NULL;

	g_assert_true(VMMEM_SLICE_WRITE_OBJ(s, 0x8, &v, &err));
	g_assert_true(VMMEM_SLICE_READ_OBJ(s, 0x8, &back, &err));
	g_assert_cmphex(back, ==, v);
	g_assert_true(vmmem_memory_load_u64(mem, G(TU_2M + 8), &back, memory_order_seq_cst, &err));
	g_assert_cmphex(back, ==, v);
	g_assert_false(VMMEM_SLICE_READ_OBJ(s, 0xfc, &back, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE);
	g_assert_cmphex(back, ==, v);

	g_assert_true(vmmem_slice_store_u8(s, 1, 0x12, memory_order_relaxed, &err));
	g_assert_true(vmmem_slice_load_u8(s, 1, &v8, memory_order_relaxed, &err));
	g_assert_cmphex(v8, ==, 0x12);
	g_assert_true(vmmem_slice_store_u16(s, 2, 0x3456, memory_order_release, &err));
	g_assert_true(vmmem_slice_load_u16(s, 2, &v16, memory_order_acquire, &err));
	g_assert_cmphex(v16, ==, 0x3456);
	g_assert_true(vmmem_slice_store_u32(s, 4, 0x789abcde, memory_order_seq_cst, &err));
	g_assert_true(vmmem_slice_load_u32(s, 4, &v32, memory_order_seq_cst, &err));
	g_assert_cmphex(v32, ==, 0x789abcde);
	g_assert_true(vmmem_slice_store_u64(s, 0xf8, 5, memory_order_seq_cst, &err));
	g_assert_true(vmmem_slice_load_u64(s, 0xf8, &back, memory_order_seq_cst, &err));
	g_assert_cmphex(back, ==, 5);
	g_assert_no_error(err);

	g_assert_false(vmmem_slice_load_u16(s, 3, &v16, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "slice offset 0x3");
	g_assert_false(vmmem_slice_store_u64(s, 4, 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED);
	g_assert_false(vmmem_slice_store_u64(s, 0x100, 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	g_assert_false(vmmem_slice_load(s, 0, 5, memory_order_seq_cst, &back, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT);
	g_assert_cmphex(v16, ==, 0x3456);
	vmmem_memory_unref(mem);
}

static void
test_slice_zero_length(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout1, 1);
	vmmem_slice_t s = slice_of(mem, 0, 0x10);
	uint8_t b = 0x77;
	size_t done = 9;
	GError *err = NULL;

	g_assert_true(vmmem_slice_read(s, 0x10, &b, 0, &done, &err));
	g_assert_cmpuint(done, ==, 0);
	g_assert_true(vmmem_slice_write(s, SIZE_MAX, &b, 0, &done, &err));
	g_assert_true(vmmem_slice_read_slice(s, SIZE_MAX, &b, 0, &err));
	g_assert_true(vmmem_slice_write_slice(s, 0x10, &b, 0, &err));
	g_assert_true(vmmem_slice_write_obj(s, 0x11, &b, 0, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(b, ==, 0x77);
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tu_add_per_provider("/families/region/read-write-relative-addresses",
			    test_region_read_write_relative);
	tu_add_per_provider("/families/region/read-write-stop-at-region-end",
			    test_region_read_clamps_at_end);
	tu_add_per_provider("/families/region/outside-is-invalid-address",
			    test_region_outside_is_invalid_address);
	tu_add_per_provider("/families/region/slice-all-or-nothing",
			    test_region_slice_all_or_nothing);
	tu_add_per_provider("/families/region/obj-and-atomics", test_region_obj_and_atomics);
	tu_add_per_provider("/families/region/get-slice", test_region_get_slice);
	tu_add_per_provider("/families/region/zero-length-touches-nothing",
			    test_region_zero_length);
	tu_add_per_provider("/families/slice/read-write-clamp", test_slice_read_write);
	tu_add_per_provider("/families/slice/all-or-nothing", test_slice_all_or_nothing);
	tu_add_per_provider("/families/slice/obj-and-atomics", test_slice_obj_and_atomics);
	tu_add_per_provider("/families/slice/zero-length-touches-nothing", test_slice_zero_length);
	return g_test_run();
}
