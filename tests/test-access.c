/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The guest-memory family (vmmem_memory_*): lookup, iteration and every
 * copy/atomic access over layouts of 1, 2 and 3 regions with holes,
 * adjacent regions and the top of the address space. Runs once per
 * provider (see testutil.h). */
#include <inttypes.h>
#include <string.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)

/* ---- layout, lookup, iteration ---- */

static void
test_iteration_in_order(const tu_provider_t *p)
{
	/* Given out of order: the memory sorts them. */
	const tu_range_t shuffled[3] = { tu_layout3[2], tu_layout3[0], tu_layout3[1] };
	vmmem_memory_t *mem = tu_memory_new(p, shuffled, 3);

	g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 3);
	for (size_t i = 0; i < 3; i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		g_assert_nonnull(r);
		g_assert_cmphex(vmmem_region_start(r).raw, ==, tu_layout3[i].start);
		g_assert_cmphex(vmmem_region_size(r), ==, tu_layout3[i].size);
		g_assert_cmphex(vmmem_region_last_addr(r).raw, ==,
				tu_layout3[i].start + tu_layout3[i].size - 1);
	}
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(mem, 0)), ==, "r1");
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(mem, 2)), ==, "r0");
	g_assert_null(vmmem_memory_region(mem, 3));
	g_assert_cmphex(vmmem_memory_last_addr(mem).raw, ==, 5 * TU_2M - 1);
	vmmem_memory_unref(mem);
}

static void
test_num_regions_per_layout(const tu_provider_t *p)
{
	const tu_range_t *layouts[] = { tu_layout1, tu_layout2, tu_layout3 };

	for (size_t n = 1; n <= 3; n++) {
		vmmem_memory_t *mem = tu_memory_new(p, layouts[n - 1], n);
		g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, n);
		g_assert_cmphex(vmmem_memory_last_addr(mem).raw, ==,
				layouts[n - 1][n - 1].start + layouts[n - 1][n - 1].size - 1);
		vmmem_memory_unref(mem);
	}
}

static void
test_find_region_first_and_last_byte(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);

	for (size_t i = 0; i < 3; i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		uint64_t first = tu_layout3[i].start, last = first + tu_layout3[i].size - 1;
		vmmem_region_addr_t off = vmmem_region_addr(12345);

		g_assert_true(vmmem_memory_find_region(mem, G(first)) == r);
		g_assert_true(vmmem_memory_find_region(mem, G(last)) == r);
		g_assert_true(vmmem_memory_to_region(mem, G(first), &off) == r);
		g_assert_cmphex(off.raw, ==, 0);
		g_assert_true(vmmem_memory_to_region(mem, G(last), &off) == r);
		g_assert_cmphex(off.raw, ==, tu_layout3[i].size - 1);
		g_assert_true(vmmem_region_contains(r, G(first)));
		g_assert_true(vmmem_region_contains(r, G(last)));
		g_assert_false(vmmem_region_contains(r, G(last + 1)));
		g_assert_true(vmmem_region_to_offset(r, G(last), &off));
		g_assert_cmphex(off.raw, ==, tu_layout3[i].size - 1);
	}
	vmmem_memory_unref(mem);
}

static void
test_find_region_holes_are_null(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	const uint64_t holes[] = { 0, TU_2M - 1, 4 * TU_2M, 4 * TU_2M + 1, 100 * TU_2M,
				   UINT64_MAX - 1, UINT64_MAX };
	vmmem_region_addr_t off = vmmem_region_addr(777);

	for (size_t i = 0; i < G_N_ELEMENTS(holes); i++) {
		g_assert_null(vmmem_memory_find_region(mem, G(holes[i])));
		g_assert_null(vmmem_memory_to_region(mem, G(holes[i]), &off));
		g_assert_cmphex(off.raw, ==, 777); /* untouched */
	}
	vmmem_memory_unref(mem);
}

static void
test_get_host_address(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r2 = vmmem_memory_region(mem, 2);
	GError *err = NULL;
	uint8_t *h;

	h = vmmem_memory_get_host_address(mem, G(4 * TU_2M + 0x123), &err);
	g_assert_no_error(err);
	g_assert_true(h == (uint8_t *)vmmem_region_host(r2) + 0x123);
	g_assert_cmpuint(*h, ==, tu_pattern(4 * TU_2M + 0x123));

	g_assert_null(vmmem_memory_get_host_address(mem, G(2 * TU_2M), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x400000");
	g_assert_null(vmmem_memory_get_host_address(mem, G(UINT64_MAX), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0xffffffffffffffff");
	vmmem_memory_unref(mem);
}

static void
test_check_range(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);

	g_assert_true(vmmem_memory_check_range(mem, G(0), TU_2M));
	g_assert_true(vmmem_memory_check_range(mem, G(0), 2 * TU_2M)); /* two adjacent */
	g_assert_true(vmmem_memory_check_range(mem, G(TU_2M - 1), 2));
	g_assert_false(vmmem_memory_check_range(mem, G(0), 2 * TU_2M + 1)); /* into the hole */
	g_assert_false(vmmem_memory_check_range(mem, G(2 * TU_2M), 1));
	g_assert_true(vmmem_memory_check_range(mem, G(5 * TU_2M - 1), 1));
	g_assert_false(vmmem_memory_check_range(mem, G(5 * TU_2M - 1), 2));
	/* Zero length is always in range, even in a hole or at 2^64 - 1. */
	g_assert_true(vmmem_memory_check_range(mem, G(3 * TU_2M), 0));
	g_assert_true(vmmem_memory_check_range(mem, G(UINT64_MAX), 0));
	g_assert_false(vmmem_memory_check_range(mem, G(UINT64_MAX), 2));
	g_assert_false(vmmem_memory_check_range(mem, G(0), SIZE_MAX));
	vmmem_memory_unref(mem);
}

static void
test_check_range_top(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_top, 2);

	g_assert_true(vmmem_memory_check_range(mem, G(UINT64_MAX), 1));
	g_assert_true(vmmem_memory_check_range(mem, G(UINT64_MAX - 2 * TU_2M + 1), 2 * TU_2M));
	g_assert_false(vmmem_memory_check_range(mem, G(UINT64_MAX), 2)); /* wraps */
	g_assert_false(vmmem_memory_check_range(mem, G(UINT64_MAX - 2 * TU_2M + 1),
						2 * TU_2M + 1));
	vmmem_memory_unref(mem);
}

/* ---- read / write: as far as contiguous ---- */

static void
test_read_across_three_adjacent_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	uint64_t at = 2 * TU_2M - 100;
	size_t len = TU_2M + 200, done = 0;
	uint8_t *buf = g_malloc(len);
	GError *err = NULL;

	g_assert_true(vmmem_memory_read(mem, G(at), buf, len, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, len);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpuint(buf[i], ==, tu_pattern(at + i));
	g_free(buf);
	vmmem_memory_unref(mem);
}

static void
test_read_stops_at_hole(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint8_t buf[64];
	size_t done = 99;
	GError *err = NULL;

	/* 16 bytes before the hole at 4M: those 16, then stop. */
	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_true(vmmem_memory_read(mem, G(2 * TU_2M - 16), buf, sizeof(buf), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 16);
	for (size_t i = 0; i < 16; i++)
		g_assert_cmpuint(buf[i], ==, tu_pattern(2 * TU_2M - 16 + i));
	g_assert_true(tu_all(buf + 16, sizeof(buf) - 16, 0xee));
	vmmem_memory_unref(mem);
}

static void
test_read_first_and_last_byte(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout2, 2);

	for (size_t i = 0; i < 2; i++) {
		uint64_t first = tu_layout2[i].start, last = first + tu_layout2[i].size - 1;
		uint8_t b[2] = { 0, 0 };
		size_t done = 0;

		g_assert_true(vmmem_memory_read(mem, G(first), b, 1, &done, NULL));
		g_assert_cmpuint(done, ==, 1);
		g_assert_cmpuint(b[0], ==, tu_pattern(first));
		/* Two bytes at the last one: only one is there. */
		g_assert_true(vmmem_memory_read(mem, G(last), b, 2, &done, NULL));
		g_assert_cmpuint(done, ==, 1);
		g_assert_cmpuint(b[0], ==, tu_pattern(last));
	}
	vmmem_memory_unref(mem);
}

static void
test_read_hole_is_invalid_address(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout2, 2);
	uint8_t buf[16];
	size_t done = 99;
	GError *err = NULL;

	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_memory_read(mem, G(TU_2M), buf, sizeof(buf), &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x200000");
	g_assert_cmpuint(done, ==, 0);
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	g_assert_false(vmmem_memory_read(mem, G(UINT64_MAX), buf, 1, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0xffffffffffffffff");
	vmmem_memory_unref(mem);
}

static void
test_write_across_regions_and_stop_at_hole(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint8_t buf[64];
	size_t done = 0;
	GError *err = NULL;

	/* From 8 bytes before the r0/r1 boundary, across it. */
	tu_fill(buf, sizeof(buf), 0xa5);
	g_assert_true(vmmem_memory_write(mem, G(TU_2M - 8), buf, 16, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 16);
	/* 16 bytes before the hole: only those are written. */
	g_assert_true(vmmem_memory_write(mem, G(2 * TU_2M - 16), buf, sizeof(buf), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 16);

	g_assert_true(tu_all((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 0)) + TU_2M - 8,
			     8, 0xa5));
	g_assert_true(tu_all(vmmem_region_host(vmmem_memory_region(mem, 1)), 8, 0xa5));
	g_assert_true(tu_all((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 1)) + TU_2M - 16,
			     16, 0xa5));
	/* Nothing else changed. */
	{
		vmmem_memory_t *ref = mem;
		const vmmem_region_t *r1 = vmmem_memory_region(ref, 1);
		const uint8_t *h1 = vmmem_region_host(r1);
		for (uint64_t k = 8; k < TU_2M - 16; k += 4093)
			g_assert_cmpuint(h1[k], ==, tu_pattern(TU_2M + k));
	}
	vmmem_memory_unref(mem);
}

static void
test_write_hole_leaves_memory_unchanged(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint8_t buf[32];
	size_t done = 99;
	GError *err = NULL;

	tu_fill(buf, sizeof(buf), 0x5a);
	g_assert_false(vmmem_memory_write(mem, G(3 * TU_2M), buf, sizeof(buf), &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_cmpuint(done, ==, 0);
	g_assert_false(vmmem_memory_write(mem, G(UINT64_MAX), buf, 2, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

static void
test_zero_length_touches_nothing(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const uint64_t addrs[] = { 0, TU_2M, 3 * TU_2M, 5 * TU_2M, UINT64_MAX };
	uint8_t buf[1] = { 0x77 };
	struct iovec iov[1];
	vmmem_slice_t sl;
	size_t done, n_iov;

	for (size_t i = 0; i < G_N_ELEMENTS(addrs); i++) {
		GError *err = NULL;
		vmmem_guest_addr_t a = G(addrs[i]);

		done = 99;
		g_assert_true(vmmem_memory_read(mem, a, buf, 0, &done, &err));
		g_assert_cmpuint(done, ==, 0);
		done = 99;
		g_assert_true(vmmem_memory_write(mem, a, buf, 0, &done, &err));
		g_assert_cmpuint(done, ==, 0);
		g_assert_true(vmmem_memory_read_slice(mem, a, buf, 0, &err));
		g_assert_true(vmmem_memory_write_slice(mem, a, buf, 0, &err));
		g_assert_true(vmmem_memory_read_obj(mem, a, buf, 0, &err));
		g_assert_true(vmmem_memory_write_obj(mem, a, buf, 0, &err));
		g_assert_true(vmmem_memory_get_slice(mem, a, 0, &sl, &err));
		g_assert_cmpuint(sl.len, ==, 0);
		g_assert_true(vmmem_memory_get_iovec(mem, a, 0, iov, 1, &n_iov, &err));
		g_assert_cmpuint(n_iov, ==, 0);
		g_assert_true(vmmem_memory_read_from_fd(mem, a, -1, 0, &done, &err));
		g_assert_true(vmmem_memory_read_exact_from_fd(mem, a, -1, 0, &err));
		g_assert_true(vmmem_memory_write_to_fd(mem, a, -1, 0, &done, &err));
		g_assert_true(vmmem_memory_write_all_to_fd(mem, a, -1, 0, &err));
		g_assert_no_error(err);
		g_assert_cmpuint(buf[0], ==, 0x77);
	}
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

/* ---- placement: guest-adjacent regions back to back in host memory ---- */

/* The built-in providers let the core move their mappings, so guest-
 * adjacent regions end up back to back in host memory (a slice across the
 * boundary is then one memcpy), each still aligned to its page size; the
 * pinned test provider's mappings stay where it put them (its destroy()
 * aborts otherwise). Regions across a hole are never joined. */
static void
test_adjacent_regions_are_back_to_back(const tu_provider_t *p)
{
	const struct {
		const tu_range_t *ranges;
		size_t n;
	} layouts[] = { { tu_layout_adj3, 3 }, { tu_layout3, 3 }, { tu_layout_top, 2 } };
	bool movable = p->module == NULL;

	for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
		vmmem_memory_t *mem = tu_memory_new(p, layouts[l].ranges, layouts[l].n);
		size_t n = vmmem_memory_num_regions(mem);

		for (size_t i = 0; i < n; i++) {
			const vmmem_region_t *r = vmmem_memory_region(mem, i);
			uintptr_t host = (uintptr_t)vmmem_region_host(r);

			g_assert_cmpuint(host & (vmmem_region_page_size(r) - 1), ==, 0);
			if (i + 1 < n && movable &&
			    vmmem_region_last_addr(r).raw + 1 ==
				    vmmem_region_start(vmmem_memory_region(mem, i + 1)).raw)
				g_assert_true(host + vmmem_region_size(r) ==
					      (uintptr_t)vmmem_region_host(vmmem_memory_region(mem, i + 1)));
		}
		/* The fill pattern went in through each region's host pointer
		 * after placement: reading it back through the guest view
		 * shows every mapping is where its region says. */
		tu_assert_pattern(mem);
		vmmem_memory_unref(mem);
	}
}

/* A 4 KiB slice with 2 KiB on each side of a region boundary, the case
 * placement makes one memcpy: the bytes land in both regions, and a read
 * gets them back. */
static void
test_slice_straddling_a_boundary(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	uint64_t at = 2 * TU_2M - 2048;
	uint8_t out[4096], in[4096];
	GError *err = NULL;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 5);
	g_assert_true(vmmem_memory_write_slice(mem, G(at), out, sizeof(out), &err));
	g_assert_no_error(err);
	g_assert_cmpmem((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 0)) + TU_2M - 2048,
			2048, out, 2048);
	g_assert_cmpmem(vmmem_region_host(vmmem_memory_region(mem, 1)), 2048, out + 2048, 2048);
	tu_assert_pattern_except(mem, at, sizeof(out));
	g_assert_true(vmmem_memory_read_slice(mem, G(at), in, sizeof(in), &err));
	g_assert_no_error(err);
	g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
	vmmem_memory_unref(mem);
}

/* ---- read_slice / write_slice: all or nothing ---- */

static void
test_read_slice_across_three_adjacent_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	uint64_t at = 2 * TU_2M - 3;
	size_t len = TU_2M + 6;
	uint8_t *buf = g_malloc(len);
	GError *err = NULL;

	g_assert_true(vmmem_memory_read_slice(mem, G(at), buf, len, &err));
	g_assert_no_error(err);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpuint(buf[i], ==, tu_pattern(at + i));
	g_free(buf);
	vmmem_memory_unref(mem);
}

static void
test_write_slice_across_three_adjacent_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	uint64_t at = 2 * TU_2M - 3;
	size_t len = TU_2M + 6;
	uint8_t *buf = g_malloc(len);
	GError *err = NULL;

	tu_fill(buf, len, 0xc3);
	g_assert_true(vmmem_memory_write_slice(mem, G(at), buf, len, &err));
	g_assert_no_error(err);
	g_assert_true(tu_all((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 0)) + TU_2M - 3, 3,
			     0xc3));
	g_assert_true(tu_all(vmmem_region_host(vmmem_memory_region(mem, 1)), TU_2M, 0xc3));
	g_assert_true(tu_all(vmmem_region_host(vmmem_memory_region(mem, 2)), 3, 0xc3));
	tu_assert_pattern_except(mem, at, len);
	g_free(buf);
	vmmem_memory_unref(mem);
}

static void
test_read_slice_hole_leaves_buffer_unchanged(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint8_t buf[0x40];
	GError *err = NULL;

	/* Starts 0x10 bytes before the hole at 4M. */
	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_memory_read_slice(mem, G(2 * TU_2M - 0x10), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "0x40 bytes", "only 0x10");
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	/* Starting in the hole: no byte is backed at the start address. */
	g_assert_false(vmmem_memory_read_slice(mem, G(3 * TU_2M), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000", "not backed");
	g_assert_true(tu_all(buf, sizeof(buf), 0xee));
	vmmem_memory_unref(mem);
}

static void
test_write_slice_hole_leaves_memory_unchanged(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	size_t len = TU_2M + 0x20;
	uint8_t *buf = g_malloc(len);
	GError *err = NULL;

	tu_fill(buf, len, 0x5a);
	/* Crosses r0 -> r1 (adjacent) and then runs into the hole at 4M:
	 * nothing of it may land, not even the part in r0. */
	g_assert_false(vmmem_memory_write_slice(mem, G(TU_2M - 0x10), buf, len, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "0x200020 bytes",
			"only 0x200010");
	g_assert_false(vmmem_memory_write_slice(mem, G(5 * TU_2M - 1), buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0xa00000", "only 0x1");
	tu_assert_pattern(mem);
	g_free(buf);
	vmmem_memory_unref(mem);
}

static void
test_slice_ops_overflow_past_2_64(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint8_t buf[2] = { 0xee, 0xee };
	struct iovec iov[2];
	size_t n_iov;
	GError *err = NULL;

	g_assert_false(vmmem_memory_read_slice(mem, G(UINT64_MAX), buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "0xffffffffffffffff");
	g_assert_false(vmmem_memory_write_slice(mem, G(UINT64_MAX), buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "0xffffffffffffffff");
	g_assert_false(vmmem_memory_read_slice(mem, G(4 * TU_2M), buf, SIZE_MAX, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW);
	g_assert_false(vmmem_memory_get_iovec(mem, G(UINT64_MAX), 2, iov, 2, &n_iov, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW);
	g_assert_true(tu_all(buf, 2, 0xee));
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

static void
test_top_of_address_space(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_top, 2);
	uint8_t buf[4] = { 0xee, 0xee, 0xee, 0xee }, b;
	size_t done = 0;
	uint64_t v;
	GError *err = NULL;

	g_assert_cmphex(vmmem_memory_last_addr(mem).raw, ==, UINT64_MAX);
	g_assert_true(vmmem_memory_find_region(mem, G(UINT64_MAX)) == vmmem_memory_region(mem, 1));
	/* The last byte is readable and writable. */
	g_assert_true(vmmem_memory_read_slice(mem, G(UINT64_MAX), &b, 1, &err));
	g_assert_cmpuint(b, ==, tu_pattern(UINT64_MAX));
	g_assert_true(vmmem_memory_read_obj(mem, G(UINT64_MAX), &b, 1, &err));
	g_assert_cmpuint(b, ==, tu_pattern(UINT64_MAX));
	g_assert_true(vmmem_memory_load(mem, G(UINT64_MAX - 7), 8, memory_order_seq_cst, &v, &err));
	g_assert_no_error(err);
	/* read/write copy what is there: one byte. */
	g_assert_true(vmmem_memory_read(mem, G(UINT64_MAX), buf, 4, &done, &err));
	g_assert_cmpuint(done, ==, 1);
	g_assert_cmpuint(buf[0], ==, tu_pattern(UINT64_MAX));
	g_assert_true(tu_all(buf + 1, 3, 0xee));
	/* Exact ops past 2^64 overflow and change nothing. */
	tu_fill(buf, 4, 0x11);
	g_assert_false(vmmem_memory_write_slice(mem, G(UINT64_MAX), buf, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "0xffffffffffffffff");
	g_assert_false(vmmem_memory_write_obj(mem, G(UINT64_MAX - 1), buf, 4, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW);
	tu_assert_pattern(mem);
	/* A write across both top regions up to the last byte works. */
	g_assert_true(vmmem_memory_write_slice(mem, G(UINT64_MAX - TU_2M - 1), buf, 2, &err));
	g_assert_no_error(err);
	g_assert_true(vmmem_memory_write(mem, G(UINT64_MAX), buf, 4, &done, &err));
	g_assert_cmpuint(done, ==, 1);
	g_assert_no_error(err);
	{
		uint8_t *last = (uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 1)) + TU_2M - 1;
		g_assert_cmphex(*last, ==, 0x11);
		*last = tu_pattern(UINT64_MAX); /* so the check below covers the rest */
	}
	tu_assert_pattern_except(mem, UINT64_MAX - TU_2M - 1, 2);
	vmmem_memory_unref(mem);
}

/* ---- read_obj / write_obj ---- */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void
test_obj_roundtrip(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	struct desc d = { 0x1122334455667788ull, 0x99aabbcc, 0xddee, 0x0102 }, back;
	uint64_t u64 = 0x0123456789abcdefull, u64b = 0;
	uint16_t u16 = 0xbeef, u16b = 0;
	GError *err = NULL;

	/* A struct straddling the r0/r1 boundary. */
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(mem, G(TU_2M - 5), &d, &err));
	g_assert_true(VMMEM_MEMORY_READ_OBJ(mem, G(TU_2M - 5), &back, &err));
	g_assert_no_error(err);
	g_assert_cmpmem(&d, sizeof(d), &back, sizeof(back));
	/* Aligned u64 (the inline path) and a misaligned u16. */
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(mem, G(4 * TU_2M + 8), &u64, &err));
	g_assert_true(VMMEM_MEMORY_READ_OBJ(mem, G(4 * TU_2M + 8), &u64b, &err));
	g_assert_cmphex(u64b, ==, u64);
	g_assert_cmpmem((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 2)) + 8, 8, &u64, 8);
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(mem, G(0x101), &u16, &err));
	g_assert_true(VMMEM_MEMORY_READ_OBJ(mem, G(0x101), &u16b, &err));
	g_assert_no_error(err);
	g_assert_cmphex(u16b, ==, u16);
	vmmem_memory_unref(mem);
}

static void
test_obj_hole_fails_unchanged(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint64_t v = 0xeeeeeeeeeeeeeeeeull;
	struct desc d;
	GError *err = NULL;

	g_assert_false(VMMEM_MEMORY_READ_OBJ(mem, G(3 * TU_2M), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_cmphex(v, ==, 0xeeeeeeeeeeeeeeeeull);
	/* Half before the hole. */
	memset(&d, 0x33, sizeof(d));
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(mem, G(2 * TU_2M - 4), &d, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "0x10 bytes", "only 0x4");
	/* At the hole's first byte: nothing is backed at the start. */
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(mem, G(2 * TU_2M), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x400000");
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

/* <vmmem/error.h>: INVALID_ADDRESS is "no byte is backed at the start
 * address", whichever family is asked; PARTIAL_RANGE is a range that
 * starts backed and runs into a hole. */
static void
test_hole_at_start_is_invalid_address_in_every_family(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint64_t hole = 3 * TU_2M, v = 0;
	uint8_t buf[16] = { 0 };
	struct iovec iov[2];
	size_t n = 0;
	vmmem_slice_t s;
	GError *err = NULL;

	g_assert_false(vmmem_memory_read_slice(mem, G(hole), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_write_slice(mem, G(hole), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(VMMEM_MEMORY_READ_OBJ(mem, G(hole), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(mem, G(hole), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_get_slice(mem, G(hole), sizeof(buf), &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_get_iovec(mem, G(hole), sizeof(buf), iov, 2, &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_write_all_to_fd(mem, G(hole), -1, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_read_exact_from_fd(mem, G(hole), -1, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	/* One byte backed at the start makes it a partial range instead. */
	g_assert_false(vmmem_memory_write_slice(mem, G(2 * TU_2M - 1), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "only 0x1");
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

/* ---- atomics ---- */

static void
test_load_store_every_width_and_order(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const memory_order loads[] = { memory_order_relaxed, memory_order_acquire,
				       memory_order_seq_cst };
	const memory_order stores[] = { memory_order_relaxed, memory_order_release,
					memory_order_seq_cst };
	uint8_t *h = (uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 1)) + 0x40;
	uint64_t base = TU_2M + 0x40;
	GError *err = NULL;

	for (size_t o = 0; o < 3; o++) {
		uint8_t v8 = 0;
		uint16_t v16 = 0;
		uint32_t v32 = 0;
		uint64_t v64 = 0, raw;

		g_assert_true(vmmem_memory_store_u8(mem, G(base), 0xa0 + o, stores[o], &err));
		g_assert_true(vmmem_memory_load_u8(mem, G(base), &v8, loads[o], &err));
		g_assert_cmphex(v8, ==, 0xa0 + o);
		g_assert_cmphex(h[0], ==, 0xa0 + o);
		g_assert_true(vmmem_memory_store_u16(mem, G(base + 2), 0xb1b2 + o, stores[o], &err));
		g_assert_true(vmmem_memory_load_u16(mem, G(base + 2), &v16, loads[o], &err));
		g_assert_cmphex(v16, ==, 0xb1b2 + o);
		g_assert_true(vmmem_memory_store_u32(mem, G(base + 4), 0xc1c2c3c4 + o, stores[o],
						     &err));
		g_assert_true(vmmem_memory_load_u32(mem, G(base + 4), &v32, loads[o], &err));
		g_assert_cmphex(v32, ==, 0xc1c2c3c4 + o);
		g_assert_true(vmmem_memory_store_u64(mem, G(base + 8), 0xd1d2d3d4d5d6d7d8ull + o,
						     stores[o], &err));
		g_assert_true(vmmem_memory_load_u64(mem, G(base + 8), &v64, loads[o], &err));
		g_assert_cmphex(v64, ==, 0xd1d2d3d4d5d6d7d8ull + o);
		memcpy(&raw, h + 8, 8);
		g_assert_cmphex(raw, ==, 0xd1d2d3d4d5d6d7d8ull + o);
		/* The generic entry points agree. */
		g_assert_true(vmmem_memory_store(mem, G(base + 16), 4, 0x12345678, stores[o], &err));
		g_assert_true(vmmem_memory_load(mem, G(base + 16), 4, loads[o], &v64, &err));
		g_assert_cmphex(v64, ==, 0x12345678);
		g_assert_no_error(err);
	}
	vmmem_memory_unref(mem);
}

static void
test_atomic_misaligned(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint16_t v16 = 7;
	uint32_t v32 = 7;
	uint64_t v64 = 7;
	GError *err = NULL;

	g_assert_false(vmmem_memory_load_u16(mem, G(0x101), &v16, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "0x101");
	g_assert_false(vmmem_memory_load_u32(mem, G(0x102), &v32, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "0x102");
	g_assert_false(vmmem_memory_load_u64(mem, G(0x104), &v64, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "0x104");
	/* Across the r0/r1 boundary: misaligned, not a crossing. */
	g_assert_false(vmmem_memory_store_u64(mem, G(TU_2M - 4), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED);
	g_assert_false(vmmem_memory_store_u32(mem, G(0x106), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED);
	g_assert_cmpuint(v16, ==, 7);
	g_assert_cmpuint(v32, ==, 7);
	g_assert_cmpuint(v64, ==, 7);
	g_assert_false(vmmem_memory_load(mem, G(0), 3, memory_order_seq_cst, &v64, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "3");
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

static void
test_atomic_hole(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	uint64_t v = 7;
	uint8_t b = 7;
	GError *err = NULL;

	g_assert_false(vmmem_memory_load_u64(mem, G(2 * TU_2M), &v, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x400000");
	g_assert_false(vmmem_memory_store_u64(mem, G(3 * TU_2M + 8), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600008");
	g_assert_false(vmmem_memory_load_u8(mem, G(UINT64_MAX), &b, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0xffffffffffffffff");
	g_assert_false(vmmem_memory_store_u8(mem, G(UINT64_MAX), 1, memory_order_seq_cst, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	g_assert_cmpuint(v, ==, 7);
	g_assert_cmpuint(b, ==, 7);
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

/* ---- get_slice / get_iovec ---- */

static void
test_get_slice_inside_one_region(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s;
	GError *err = NULL;

	g_assert_true(vmmem_memory_get_slice(mem, G(TU_2M + 0x100), TU_2M - 0x100, &s, &err));
	g_assert_no_error(err);
	g_assert_true(s.host == (uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 1)) + 0x100);
	g_assert_cmpuint(s.len, ==, TU_2M - 0x100);
	g_assert_cmpuint(s.host[0], ==, tu_pattern(TU_2M + 0x100));
	g_assert_cmpuint(s.host[s.len - 1], ==, tu_pattern(2 * TU_2M - 1));
	vmmem_memory_unref(mem);
}

static void
test_get_slice_crosses_region(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s = { NULL, 42 };
	GError *err = NULL;

	g_assert_false(vmmem_memory_get_slice(mem, G(TU_2M - 8), 16, &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_CROSSES_REGION, "r0", "r1", "0x200000");
	g_assert_cmpuint(s.len, ==, 42);
	vmmem_memory_unref(mem);
}

static void
test_get_slice_unbacked(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	vmmem_slice_t s;
	GError *err = NULL;

	g_assert_false(vmmem_memory_get_slice(mem, G(3 * TU_2M), 16, &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_get_slice(mem, G(5 * TU_2M - 8), 16, &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0xa00000");
	g_assert_false(vmmem_memory_get_slice(mem, G(4 * TU_2M), SIZE_MAX, &s, &err));
	g_assert_nonnull(err);
	g_clear_error(&err);
	vmmem_memory_unref(mem);
}

static void
test_get_iovec_across_three_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	struct iovec iov[4];
	size_t n = 0;
	GError *err = NULL;

	g_assert_true(vmmem_memory_get_iovec(mem, G(2 * TU_2M - 0x10), TU_2M + 0x20, iov, 4, &n,
					     &err));
	g_assert_no_error(err);
	g_assert_cmpuint(n, ==, 3);
	g_assert_true(iov[0].iov_base ==
		      (uint8_t *)vmmem_region_host(vmmem_memory_region(mem, 0)) + TU_2M - 0x10);
	g_assert_cmpuint(iov[0].iov_len, ==, 0x10);
	g_assert_true(iov[1].iov_base == vmmem_region_host(vmmem_memory_region(mem, 1)));
	g_assert_cmpuint(iov[1].iov_len, ==, TU_2M);
	g_assert_true(iov[2].iov_base == vmmem_region_host(vmmem_memory_region(mem, 2)));
	g_assert_cmpuint(iov[2].iov_len, ==, 0x10);
	vmmem_memory_unref(mem);
}

static void
test_get_iovec_no_space_reports_needed(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	struct iovec iov[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	size_t n = 0;
	GError *err = NULL;

	g_assert_false(vmmem_memory_get_iovec(mem, G(2 * TU_2M - 0x10), TU_2M + 0x20, iov, 2, &n,
					      &err));
	tu_assert_error(&err, VMMEM_ERROR_NO_SPACE, "need 3", "only 2");
	g_assert_cmpuint(n, ==, 3);
	/* Never written past max_iov. */
	g_assert_null(iov[2].iov_base);
	vmmem_memory_unref(mem);
}

static void
test_get_iovec_hole(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	struct iovec iov[4];
	size_t n = 9;
	GError *err = NULL;

	g_assert_false(vmmem_memory_get_iovec(mem, G(2 * TU_2M - 0x10), 0x20, iov, 4, &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "only 0x10");
	g_assert_cmpuint(n, ==, 0);
	vmmem_memory_unref(mem);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	tu_add_per_provider("/access/layout/iteration-in-address-order", test_iteration_in_order);
	tu_add_per_provider("/access/layout/num-regions-and-last-addr", test_num_regions_per_layout);
	tu_add_per_provider("/access/find-region/first-and-last-byte",
			    test_find_region_first_and_last_byte);
	tu_add_per_provider("/access/find-region/holes-are-null", test_find_region_holes_are_null);
	tu_add_per_provider("/access/get-host-address/backed-and-hole", test_get_host_address);
	tu_add_per_provider("/access/check-range/holes-adjacent-and-overflow", test_check_range);
	tu_add_per_provider("/access/check-range/top-of-address-space", test_check_range_top);

	tu_add_per_provider("/access/read/across-three-adjacent-regions",
			    test_read_across_three_adjacent_regions);
	tu_add_per_provider("/access/read/stops-at-hole", test_read_stops_at_hole);
	tu_add_per_provider("/access/read/first-and-last-byte", test_read_first_and_last_byte);
	tu_add_per_provider("/access/read/hole-is-invalid-address",
			    test_read_hole_is_invalid_address);
	tu_add_per_provider("/access/write/across-regions-and-stops-at-hole",
			    test_write_across_regions_and_stop_at_hole);
	tu_add_per_provider("/access/write/hole-leaves-memory-unchanged",
			    test_write_hole_leaves_memory_unchanged);
	tu_add_per_provider("/access/zero-length/touches-nothing-anywhere",
			    test_zero_length_touches_nothing);

	tu_add_per_provider("/access/placement/adjacent-regions-back-to-back",
			    test_adjacent_regions_are_back_to_back);
	tu_add_per_provider("/access/placement/slice-straddling-a-boundary",
			    test_slice_straddling_a_boundary);
	tu_add_per_provider("/access/read-slice/across-three-adjacent-regions",
			    test_read_slice_across_three_adjacent_regions);
	tu_add_per_provider("/access/write-slice/across-three-adjacent-regions",
			    test_write_slice_across_three_adjacent_regions);
	tu_add_per_provider("/access/read-slice/hole-leaves-buffer-unchanged",
			    test_read_slice_hole_leaves_buffer_unchanged);
	tu_add_per_provider("/access/write-slice/hole-leaves-memory-unchanged",
			    test_write_slice_hole_leaves_memory_unchanged);
	tu_add_per_provider("/access/exact/overflow-past-2-64", test_slice_ops_overflow_past_2_64);
	tu_add_per_provider("/access/top-of-address-space/last-byte-and-overflow",
			    test_top_of_address_space);

	tu_add_per_provider("/access/obj/roundtrip-straddling-and-aligned", test_obj_roundtrip);
	tu_add_per_provider("/access/obj/hole-fails-unchanged", test_obj_hole_fails_unchanged);
	tu_add_per_provider("/access/hole-at-start/invalid-address-in-every-family",
			    test_hole_at_start_is_invalid_address_in_every_family);

	tu_add_per_provider("/access/atomic/every-width-and-order",
			    test_load_store_every_width_and_order);
	tu_add_per_provider("/access/atomic/misaligned", test_atomic_misaligned);
	tu_add_per_provider("/access/atomic/hole-is-invalid-address", test_atomic_hole);

	tu_add_per_provider("/access/get-slice/inside-one-region", test_get_slice_inside_one_region);
	tu_add_per_provider("/access/get-slice/crosses-adjacent-regions",
			    test_get_slice_crosses_region);
	tu_add_per_provider("/access/get-slice/unbacked", test_get_slice_unbacked);
	tu_add_per_provider("/access/get-iovec/across-three-regions",
			    test_get_iovec_across_three_regions);
	tu_add_per_provider("/access/get-iovec/no-space-reports-needed",
			    test_get_iovec_no_space_reports_needed);
	tu_add_per_provider("/access/get-iovec/hole", test_get_iovec_hole);

	return g_test_run();
}
