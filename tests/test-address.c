/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Address and endian value types: checked arithmetic that never wraps and
 * fixed-endian integers with the right byte layout in memory. */
#include <string.h>

#include <vmmem/vmmem.h>
#include "isolate.h"

static void
test_checked_add(void)
{
	vmmem_guest_addr_t out = vmmem_guest_addr(42);
	vmmem_region_addr_t rout = vmmem_region_addr(42);

	g_assert_true(vmmem_guest_addr_checked_add(vmmem_guest_addr(0x1000), 0x234, &out));
	g_assert_cmphex(out.raw, ==, 0x1234);
	g_assert_true(vmmem_guest_addr_checked_add(vmmem_guest_addr(UINT64_MAX - 1), 1, &out));
	g_assert_cmphex(out.raw, ==, UINT64_MAX);
	out.raw = 42;
	g_assert_false(vmmem_guest_addr_checked_add(vmmem_guest_addr(UINT64_MAX), 1, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_false(vmmem_guest_addr_checked_add(vmmem_guest_addr(2), UINT64_MAX - 1, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_false(vmmem_region_addr_checked_add(vmmem_region_addr(UINT64_MAX), 1, &rout));
	g_assert_cmphex(rout.raw, ==, 42);
	g_assert_true(vmmem_region_addr_checked_add(vmmem_region_addr(1), 2, &rout));
	g_assert_cmphex(rout.raw, ==, 3);
}

static void
test_checked_sub(void)
{
	vmmem_guest_addr_t out = vmmem_guest_addr(42);
	vmmem_region_addr_t rout = vmmem_region_addr(42);

	g_assert_true(vmmem_guest_addr_checked_sub(vmmem_guest_addr(0x1234), 0x234, &out));
	g_assert_cmphex(out.raw, ==, 0x1000);
	g_assert_true(vmmem_guest_addr_checked_sub(vmmem_guest_addr(5), 5, &out));
	g_assert_cmphex(out.raw, ==, 0);
	out.raw = 42;
	g_assert_false(vmmem_guest_addr_checked_sub(vmmem_guest_addr(0), 1, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_false(vmmem_guest_addr_checked_sub(vmmem_guest_addr(5), UINT64_MAX, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_false(vmmem_region_addr_checked_sub(vmmem_region_addr(3), 4, &rout));
	g_assert_cmphex(rout.raw, ==, 42);
}

static void
test_align(void)
{
	vmmem_guest_addr_t out = vmmem_guest_addr(42);

	g_assert_cmphex(vmmem_guest_addr_align_down(vmmem_guest_addr(0x1fff), 0x1000).raw, ==,
			0x1000);
	g_assert_cmphex(vmmem_guest_addr_align_down(vmmem_guest_addr(0x2000), 0x1000).raw, ==,
			0x2000);
	g_assert_cmphex(vmmem_guest_addr_align_down(vmmem_guest_addr(UINT64_MAX), 0x200000).raw,
			==, UINT64_MAX - 0x1fffff);
	g_assert_true(vmmem_guest_addr_align_up(vmmem_guest_addr(0x1001), 0x1000, &out));
	g_assert_cmphex(out.raw, ==, 0x2000);
	g_assert_true(vmmem_guest_addr_align_up(vmmem_guest_addr(0x2000), 0x1000, &out));
	g_assert_cmphex(out.raw, ==, 0x2000);
	g_assert_true(vmmem_guest_addr_align_up(vmmem_guest_addr(UINT64_MAX - 0xfff), 0x1000, &out));
	g_assert_cmphex(out.raw, ==, UINT64_MAX - 0xfff);
	/* Rounding up past the last page would wrap to 0: refused. */
	out.raw = 42;
	g_assert_false(vmmem_guest_addr_align_up(vmmem_guest_addr(UINT64_MAX - 0xffe), 0x1000, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_false(vmmem_guest_addr_align_up(vmmem_guest_addr(UINT64_MAX), 2, &out));
	g_assert_cmphex(out.raw, ==, 42);
	g_assert_true(vmmem_guest_addr_align_up(vmmem_guest_addr(UINT64_MAX), 1, &out));
	g_assert_cmphex(out.raw, ==, UINT64_MAX);
	g_assert_true(vmmem_guest_addr_is_aligned(vmmem_guest_addr(0x200000), 0x200000));
	g_assert_false(vmmem_guest_addr_is_aligned(vmmem_guest_addr(0x201000), 0x200000));
	g_assert_cmphex(vmmem_region_addr_align_down(vmmem_region_addr(0x17), 8).raw, ==, 0x10);
}

static void
test_distance_and_compare(void)
{
	uint64_t d = 42;

	g_assert_true(vmmem_guest_addr_distance(vmmem_guest_addr(0x1000), vmmem_guest_addr(0x3000),
						&d));
	g_assert_cmphex(d, ==, 0x2000);
	g_assert_true(vmmem_guest_addr_distance(vmmem_guest_addr(0), vmmem_guest_addr(UINT64_MAX),
						&d));
	g_assert_cmphex(d, ==, UINT64_MAX);
	d = 42;
	g_assert_false(vmmem_guest_addr_distance(vmmem_guest_addr(0x3000), vmmem_guest_addr(0x1000),
						 &d));
	g_assert_cmphex(d, ==, 42);
	g_assert_cmpint(vmmem_guest_addr_compare(vmmem_guest_addr(1), vmmem_guest_addr(2)), <, 0);
	g_assert_cmpint(vmmem_guest_addr_compare(vmmem_guest_addr(2), vmmem_guest_addr(2)), ==, 0);
	g_assert_cmpint(vmmem_guest_addr_compare(vmmem_guest_addr(UINT64_MAX), vmmem_guest_addr(0)),
			>, 0);
	/* Not a subtraction: would overflow int for these. */
	g_assert_cmpint(vmmem_region_addr_compare(vmmem_region_addr(0), vmmem_region_addr(UINT64_MAX)),
			==, -1);
}

static void
test_endian_byte_layout(void)
{
	vmmem_le16_t l16 = vmmem_cpu_to_le16(0x0102);
	vmmem_le32_t l32 = vmmem_cpu_to_le32(0x01020304);
	vmmem_le64_t l64 = vmmem_cpu_to_le64(0x0102030405060708ull);
	vmmem_be16_t b16 = vmmem_cpu_to_be16(0x0102);
	vmmem_be32_t b32 = vmmem_cpu_to_be32(0x01020304);
	vmmem_be64_t b64 = vmmem_cpu_to_be64(0x0102030405060708ull);
	const uint8_t le[8] = { 8, 7, 6, 5, 4, 3, 2, 1 }, be[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	g_assert_cmpuint(sizeof(l16), ==, 2);
	g_assert_cmpuint(sizeof(l32), ==, 4);
	g_assert_cmpuint(sizeof(b64), ==, 8);
	g_assert_cmpmem(&l16, 2, le + 6, 2);
	g_assert_cmpmem(&l32, 4, le + 4, 4);
	g_assert_cmpmem(&l64, 8, le, 8);
	g_assert_cmpmem(&b16, 2, be, 2);
	g_assert_cmpmem(&b32, 4, be, 4);
	g_assert_cmpmem(&b64, 8, be, 8);
}

static void
test_endian_roundtrip_from_bytes(void)
{
	const uint8_t bytes[8] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 };
	vmmem_le64_t l64;
	vmmem_be64_t b64;
	vmmem_le32_t l32;
	vmmem_be32_t b32;
	vmmem_le16_t l16;
	vmmem_be16_t b16;

	memcpy(&l64, bytes, 8);
	memcpy(&b64, bytes, 8);
	memcpy(&l32, bytes, 4);
	memcpy(&b32, bytes, 4);
	memcpy(&l16, bytes, 2);
	memcpy(&b16, bytes, 2);
	g_assert_cmphex(vmmem_le64_to_cpu(l64), ==, 0x0123456789abcdefull);
	g_assert_cmphex(vmmem_be64_to_cpu(b64), ==, 0xefcdab8967452301ull);
	g_assert_cmphex(vmmem_le32_to_cpu(l32), ==, 0x89abcdef);
	g_assert_cmphex(vmmem_be32_to_cpu(b32), ==, 0xefcdab89);
	g_assert_cmphex(vmmem_le16_to_cpu(l16), ==, 0xcdef);
	g_assert_cmphex(vmmem_be16_to_cpu(b16), ==, 0xefcd);
	g_assert_cmphex(vmmem_be32_to_cpu(vmmem_cpu_to_be32(0xdeadbeef)), ==, 0xdeadbeef);
	g_assert_cmphex(vmmem_le16_to_cpu(vmmem_cpu_to_le16(0xffff)), ==, 0xffff);
}

static void
test_error_code_names(void)
{
	g_assert_cmpstr(vmmem_error_code_name(VMMEM_ERROR_PARTIAL_RANGE), ==,
			"VMMEM_ERROR_PARTIAL_RANGE");
	g_assert_cmpstr(vmmem_error_code_name(VMMEM_ERROR_UNSUPPORTED), ==,
			"VMMEM_ERROR_UNSUPPORTED");
	g_assert_cmpstr(vmmem_error_code_name(0), ==, "unknown");
	g_assert_cmpstr(vmmem_error_code_name(-1), ==, "unknown");
	g_assert_cmpstr(vmmem_error_code_name(1000), ==, "unknown");
	g_assert_cmpint(vmmem_error_get_errno(NULL), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/address/checked-add/overflow-leaves-out-unchanged", test_checked_add);
	g_test_add_func("/address/checked-sub/underflow-leaves-out-unchanged", test_checked_sub);
	g_test_add_func("/address/align/up-refuses-wrap-down-rounds", test_align);
	g_test_add_func("/address/distance-and-compare", test_distance_and_compare);
	g_test_add_func("/endian/cpu-to-byte-layout", test_endian_byte_layout);
	g_test_add_func("/endian/bytes-to-cpu", test_endian_roundtrip_from_bytes);
	g_test_add_func("/error/code-names", test_error_code_names);
	return g_test_run();
}
