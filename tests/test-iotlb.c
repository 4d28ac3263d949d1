/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The IOVA address space: IOTLB entries, accesses by IOVA through every
 * family, misses and denials that move nothing, invalidations that split
 * entries and that readers never outlive, the miss handler, dirty bits by
 * guest page and hotplug under translation. Frontend-address targets are
 * tested with the vhost-user messages in test-vhost-user. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define MIB TU_MIB
#define KIB UINT64_C(1024)
#define PAGE UINT64_C(4096)

/* [0,2M) hole [4M,6M), filled with tu_pattern(). */
static vmmem_memory_t *
mem2(void)
{
	return tu_memory_new(tu_default_provider(), tu_layout2, 2);
}

static vmmem_iotlb_t *
tlb_new(size_t max_entries)
{
	vmmem_iotlb_options_t o = { sizeof(o), VMMEM_IOTLB_TARGET_GUEST, max_entries };
	GError *err = NULL;
	vmmem_iotlb_t *t = vmmem_iotlb_new(&o, &err);

	tu_assert_no_error(err);
	g_assert_nonnull(t);
	return t;
}

static void
map(vmmem_iotlb_t *t, uint64_t iova, uint64_t size, uint64_t gpa, vmmem_iotlb_perm_t perm)
{
	GError *err = NULL;

	g_assert_true(vmmem_iotlb_update(t, iova, size, gpa, perm, &err));
	tu_assert_no_error(err);
}

static void
test_update_bad_arguments_refused(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_iotlb_options_t bad = { sizeof(bad), (vmmem_iotlb_target_t)7, 0 };
	GError *err = NULL;

	g_assert_false(vmmem_iotlb_update(t, 0x1000, 0, 0, VMMEM_IOTLB_RW, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "0x1000", "size is 0");
	g_assert_false(vmmem_iotlb_update(t, 0x1000, 0x1000, 0, VMMEM_IOTLB_NONE, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "perm 0");
	g_assert_false(vmmem_iotlb_update(t, 0x1000, 0x1000, 0, (vmmem_iotlb_perm_t)4, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "perm 4");
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 0);
	g_assert_null(vmmem_iotlb_new(&bad, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "target 7");
	vmmem_iotlb_free(t);
}

/* An entry may end exactly at 2^64 - 1; one that would wrap is refused,
 * for its IOVAs and for its target alike. */
static void
test_update_entries_that_wrap_refused(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iotlb_entry_t e;
	vmmem_iova_t io;
	uint64_t v = 0, top = UINT64_MAX - PAGE + 1;

	g_assert_false(vmmem_iotlb_update(t, top, PAGE + 1, 0, VMMEM_IOTLB_RW, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "0xfffffffffffff000", "2^64");
	g_assert_false(vmmem_iotlb_update(t, UINT64_MAX, 2, 0, VMMEM_IOTLB_RW, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "2^64");
	g_assert_false(vmmem_iotlb_update(t, 0, 2, UINT64_MAX, VMMEM_IOTLB_RW, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "target 0xffffffffffffffff");
	g_assert_false(vmmem_iotlb_update(t, 2, UINT64_MAX, 0, VMMEM_IOTLB_RW, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "2^64");
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 0);

	/* Ending at the top is exact, not a wrap. */
	map(t, top, PAGE, 0x3000, VMMEM_IOTLB_RW);
	g_assert_true(vmmem_iotlb_lookup(t, UINT64_MAX, &e));
	g_assert_cmphex(e.iova, ==, top);
	g_assert_cmphex(e.size, ==, PAGE);
	g_assert_false(vmmem_iotlb_lookup(t, 0, NULL));
	/* The largest entry there is: 2^64 - 1 bytes from 0. */
	map(t, 0, UINT64_MAX, 0, VMMEM_IOTLB_READ);
	g_assert_true(vmmem_iotlb_lookup(t, UINT64_MAX - 1, &e));
	g_assert_cmphex(e.size, ==, UINT64_MAX);
	/* What it overlapped is replaced; the last byte of the old entry stays. */
	g_assert_true(vmmem_iotlb_lookup(t, UINT64_MAX, &e));
	g_assert_cmphex(e.size, ==, 1);
	g_assert_cmphex(e.target, ==, 0x3000 + PAGE - 1);
	map(t, top, PAGE, 0x3000, VMMEM_IOTLB_RW);

	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_read_obj(&io, UINT64_MAX - 7, &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_read_obj(m, G(0x3ff8), &e.iova, 8, NULL));
	g_assert_cmphex(v, ==, e.iova);
	/* An access that would pass 2^64 is refused before translation. */
	g_assert_false(vmmem_iova_read_slice(&io, UINT64_MAX - 7, &v, 16, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "0xfffffffffffffff8", "2^64");
	g_assert_false(vmmem_iova_check_range(&io, UINT64_MAX, 2, VMMEM_IOTLB_READ));
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

static void
test_hit_accesses_land_at_target(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint64_t v = 0x1122334455667788, r = 0, iova = 0x7f0000000000;
	uint32_t w = 0;
	uint8_t buf[300], want[300];
	vmmem_slice_t sl;
	struct iovec iov[4];
	size_t n = 0, done = 0;
	vmmem_guest_addr_t gpa;
	uint64_t plen = 0;

	map(t, iova, 64 * KIB, 0x10000, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_write_obj(&io, iova + 0x40, &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_read_obj(m, G(0x10040), &r, 8, NULL));
	g_assert_cmphex(r, ==, v);
	r = 0;
	g_assert_true(VMMEM_IOVA_READ_OBJ(&io, iova + 0x40, &r, &err));
	g_assert_cmphex(r, ==, v);
	/* The typed atomics. */
	g_assert_true(vmmem_iova_store_u32(&io, iova + 0x80, 0xdeadbeef, memory_order_release, &err));
	g_assert_true(vmmem_iova_load_u32(&io, iova + 0x80, &w, memory_order_acquire, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(w, ==, 0xdeadbeef);
	g_assert_true(vmmem_memory_load_u32(m, G(0x10080), &w, memory_order_relaxed, NULL));
	g_assert_cmphex(w, ==, 0xdeadbeef);
	g_assert_false(vmmem_iova_load_u32(&io, iova + 0x81, &w, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_MISALIGNED, "0x7f0000000081");
	/* Slices, copies and the zero-copy family. */
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = tu_pattern(0x11000 + i);
	g_assert_true(vmmem_iova_read_slice(&io, iova + 0x1000, buf, sizeof(buf), &err));
	g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));
	g_assert_true(vmmem_iova_read(&io, iova + 0x1000, buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, sizeof(buf));
	g_assert_true(vmmem_iova_get_slice(&io, iova + 0x1000, 300, VMMEM_IOTLB_READ, &sl, &err));
	g_assert_true(sl.host == (uint8_t *)vmmem_region_host(vmmem_memory_region(m, 0)) + 0x11000);
	g_assert_true(vmmem_iova_get_iovec(&io, iova, 64 * KIB, VMMEM_IOTLB_WRITE, iov, 4, &n, &err));
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(iov[0].iov_len, ==, 64 * KIB);
	g_assert_true(vmmem_iova_translate(&io, iova + 8, 1 * MIB, VMMEM_IOTLB_READ, &gpa, &plen,
					   &err));
	g_assert_cmphex(gpa.raw, ==, 0x10008);
	g_assert_cmphex(plen, ==, 64 * KIB - 8);
	g_assert_true(vmmem_iova_check_range(&io, iova, 64 * KIB, VMMEM_IOTLB_WRITE));
	g_assert_false(vmmem_iova_check_range(&io, iova, 64 * KIB + 1, VMMEM_IOTLB_WRITE));
	g_assert_true(vmmem_iova_check_range(&io, 12345, 0, VMMEM_IOTLB_WRITE));
	tu_assert_no_error(err);
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

static void
test_miss_reports_iova_and_access_kind(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint64_t v = 0;
	vmmem_guest_addr_t gpa;
	uint64_t plen;

	map(t, 0x10000, PAGE, 0x1000, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_read_obj(&io, 0xabc000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xabc000", "(read)");
	g_assert_false(vmmem_iova_write_obj(&io, 0xabc008, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xabc008", "(write)");
	g_assert_false(vmmem_iova_store_u16(&io, 0xabc010, 1, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xabc010", "(write)");
	g_assert_false(vmmem_iova_translate(&io, 0xf000, 16, VMMEM_IOTLB_READ, &gpa, &plen, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xf000");
	/* A target the memory does not back is the memory's error, with the IOVA. */
	map(t, 0x20000, PAGE, 3 * MIB, VMMEM_IOTLB_RW);
	g_assert_false(vmmem_iova_read_obj(&io, 0x20000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "IOVA 0x20000", "0x300000");
	g_assert_false(vmmem_iova_check_range(&io, 0x20000, 8, VMMEM_IOTLB_READ));
	g_assert_cmpstr(vmmem_error_code_name(VMMEM_ERROR_IOTLB_MISS), ==, "VMMEM_ERROR_IOTLB_MISS");
	g_assert_cmpstr(vmmem_error_code_name(VMMEM_ERROR_IOTLB_DENIED), ==,
			"VMMEM_ERROR_IOTLB_DENIED");
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* Every write path, through a read-only entry: denied, naming the IOVA
 * and the write, and guest memory keeps every byte. */
static void
test_write_through_read_only_entry_moves_nothing(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint64_t v = ~UINT64_C(0);
	uint8_t buf[100];
	size_t done = 7, n;
	vmmem_slice_t sl;
	struct iovec iov[2];

	memset(buf, 0xee, sizeof(buf));
	map(t, 0x10000, PAGE, 0x1000, VMMEM_IOTLB_READ);
	map(t, 0x20000, PAGE, 0x2000, VMMEM_IOTLB_WRITE);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_read_obj(&io, 0x10000, &v, 8, &err)); /* warms the hit */
	g_assert_false(vmmem_iova_write_obj(&io, 0x10000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10000", "read only");
	g_assert_false(vmmem_iova_write_obj(&io, 0x10010, buf, 24, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10010");
	g_assert_false(vmmem_iova_write_slice(&io, 0x10020, buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10020");
	g_assert_false(vmmem_iova_write(&io, 0x10030, buf, sizeof(buf), &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10030");
	g_assert_cmpuint(done, ==, 0);
	g_assert_false(vmmem_iova_store_u64(&io, 0x10040, 1, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10040");
	g_assert_false(vmmem_iova_store_u8(&io, 0x10041, 1, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write", "IOVA 0x10041");
	g_assert_false(vmmem_iova_get_slice(&io, 0x10000, 16, VMMEM_IOTLB_WRITE, &sl, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write");
	g_assert_false(vmmem_iova_get_iovec(&io, 0x10000, 16, VMMEM_IOTLB_WRITE, iov, 2, &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "write");
	g_assert_false(vmmem_iova_check_range(&io, 0x10000, 16, VMMEM_IOTLB_WRITE));
	/* And a read through a write-only entry. */
	g_assert_false(vmmem_iova_read_obj(&io, 0x20000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "read", "IOVA 0x20000", "write only");
	vmmem_iova_end(&io);
	tu_assert_pattern(m);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* Two adjacent IOVA pages mapped to guest pages far apart. */
static void
test_access_across_two_entries_works(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint8_t buf[2 * PAGE], want[2 * PAGE], back[64];
	struct iovec iov[2];
	size_t n = 0;
	vmmem_slice_t sl;
	uint64_t v;

	map(t, 0x100000, PAGE, 0x5000, VMMEM_IOTLB_RW);
	map(t, 0x101000, PAGE, 4 * MIB + 0x9000, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	for (size_t i = 0; i < PAGE; i++) {
		want[i] = tu_pattern(0x5000 + i);
		want[PAGE + i] = tu_pattern(4 * MIB + 0x9000 + i);
	}
	g_assert_true(vmmem_iova_read_slice(&io, 0x100000, buf, sizeof(buf), &err));
	tu_assert_no_error(err);
	g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));
	/* A write across the boundary lands in both. */
	memset(buf, 0x5a, 64);
	g_assert_true(vmmem_iova_write_slice(&io, 0x101000 - 32, buf, 64, &err));
	g_assert_true(vmmem_memory_read_slice(m, G(0x6000 - 32), back, 32, NULL));
	g_assert_true(tu_all(back, 32, 0x5a));
	g_assert_true(vmmem_memory_read_slice(m, G(4 * MIB + 0x9000), back, 32, NULL));
	g_assert_true(tu_all(back, 32, 0x5a));
	/* An unaligned value across the boundary too. */
	g_assert_true(vmmem_iova_read_obj(&io, 0x101000 - 3, &v, 8, &err));
	g_assert_cmphex(v, ==, 0x5a5a5a5a5a5a5a5a);
	/* iovecs: one per guest range; a slice cannot span both. */
	g_assert_true(vmmem_iova_get_iovec(&io, 0x100800, PAGE, VMMEM_IOTLB_READ, iov, 2, &n, &err));
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(iov[0].iov_len, ==, PAGE / 2);
	g_assert_cmpuint(iov[1].iov_len, ==, PAGE / 2);
	g_assert_false(vmmem_iova_get_iovec(&io, 0x100800, PAGE, VMMEM_IOTLB_READ, iov, 1, &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_NO_SPACE, "need 2 iovecs");
	g_assert_cmpuint(n, ==, 2);
	g_assert_false(vmmem_iova_get_slice(&io, 0x100800, PAGE, VMMEM_IOTLB_READ, &sl, &err));
	tu_assert_error(&err, VMMEM_ERROR_CROSSES_REGION, "IOVA 0x100800", "0x101000");
	tu_assert_no_error(err);
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* Adjacent entries whose targets are contiguous too make one guest range:
 * a slice over both works. */
static void
test_contiguous_entries_join(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	vmmem_slice_t sl;
	vmmem_guest_addr_t gpa;
	uint64_t plen = 0;

	map(t, 0x100000, PAGE, 0x5000, VMMEM_IOTLB_RW);
	map(t, 0x101000, PAGE, 0x6000, VMMEM_IOTLB_READ);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_get_slice(&io, 0x100800, PAGE, VMMEM_IOTLB_READ, &sl, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(sl.len, ==, PAGE);
	g_assert_true(vmmem_iova_translate(&io, 0x100000, 3 * PAGE, VMMEM_IOTLB_READ, &gpa, &plen,
					   &err));
	g_assert_cmphex(gpa.raw, ==, 0x5000);
	g_assert_cmphex(plen, ==, 2 * PAGE);
	/* For a write, the second is read-only: the first guest range ends. */
	g_assert_true(vmmem_iova_translate(&io, 0x100000, 3 * PAGE, VMMEM_IOTLB_WRITE, &gpa, &plen,
					   &err));
	g_assert_cmphex(plen, ==, PAGE);
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* Partial hits: the first entry is there, the second is missing or
 * read-only; nothing moves, the error names the second's IOVA. */
static void
test_partial_hit_moves_nothing(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint8_t buf[256];
	size_t done = 0;
	uint64_t v = 0;

	memset(buf, 0x77, sizeof(buf));
	map(t, 0x100000, PAGE, 0x5000, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_write_slice(&io, 0x101000 - 128, buf, 256, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0x101000", "(write)");
	g_assert_false(vmmem_iova_write_obj(&io, 0x101000 - 4, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0x101000");
	g_assert_false(vmmem_iova_read_slice(&io, 0x101000 - 128, buf, 256, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0x101000", "(read)");
	g_assert_true(tu_all(buf, sizeof(buf), 0x77)); /* the caller's buffer too */
	/* The prefix copies stop at the miss and report what they moved. */
	g_assert_true(vmmem_iova_read(&io, 0x101000 - 128, buf, 256, &done, &err));
	g_assert_cmpuint(done, ==, 128);
	memset(buf, 0x77, sizeof(buf));
	vmmem_iova_end(&io);
	tu_assert_pattern(m);

	map(t, 0x101000, PAGE, 4 * MIB, VMMEM_IOTLB_READ);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_write_slice(&io, 0x101000 - 128, buf, 256, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "IOVA 0x101000", "write");
	g_assert_true(vmmem_iova_write(&io, 0x101000 - 128, buf, 256, &done, &err));
	g_assert_cmpuint(done, ==, 128);
	vmmem_iova_end(&io);
	tu_assert_pattern_except(m, 0x6000 - 128, 128);

	/* Second entry backed by a hole in guest memory: PARTIAL_RANGE. */
	map(t, 0x101000, PAGE, 3 * MIB, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	memset(buf, 0x11, sizeof(buf));
	g_assert_false(vmmem_iova_write_slice(&io, 0x101000 - 128, buf, 256, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "IOVA 0x101000", "0x300000");
	vmmem_iova_end(&io);
	tu_assert_pattern_except(m, 0x6000 - 128, 128);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* An aligned value that would straddle two separate guest ranges would
 * tear: refused; the same over contiguous targets moves in one access. */
static void
test_split_aligned_value_refused(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;
	uint64_t v = 0, want = 0;

	map(t, 0x1000, 4, 0x8000, VMMEM_IOTLB_RW);
	map(t, 0x1004, 4, 0x9004, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_read_obj(&io, 0x1000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_CROSSES_REGION, "IOVA 0x1000", "one access");
	g_assert_false(vmmem_iova_load_u64(&io, 0x1000, &v, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_CROSSES_REGION, "IOVA 0x1000");
	g_assert_false(vmmem_iova_store_u64(&io, 0x1000, 1, memory_order_relaxed, &err));
	tu_assert_error(&err, VMMEM_ERROR_CROSSES_REGION, "IOVA 0x1000");
	vmmem_iova_end(&io);
	tu_assert_pattern(m);
	map(t, 0x1004, 4, 0x8004, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_load_u64(&io, 0x1000, &v, memory_order_relaxed, &err));
	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_read_obj(m, G(0x8000), &want, 8, NULL));
	g_assert_cmphex(v, ==, want);
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

static void
test_invalidate_range_splits_entries(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iotlb_entry_t e;
	vmmem_iova_t io;
	uint8_t b;

	map(t, 0x100000, 16 * PAGE, 0x20000, VMMEM_IOTLB_RW);
	map(t, 0x200000, PAGE, 0x40000, VMMEM_IOTLB_READ);
	g_assert_true(vmmem_iotlb_invalidate(t, 0x104000, 4 * PAGE, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 3);
	g_assert_true(vmmem_iotlb_lookup(t, 0x100000, &e));
	g_assert_cmphex(e.size, ==, 4 * PAGE);
	g_assert_cmphex(e.target, ==, 0x20000);
	g_assert_false(vmmem_iotlb_lookup(t, 0x104000, NULL));
	g_assert_false(vmmem_iotlb_lookup(t, 0x107fff, NULL));
	g_assert_true(vmmem_iotlb_lookup(t, 0x108000, &e));
	g_assert_cmphex(e.iova, ==, 0x108000);
	g_assert_cmphex(e.size, ==, 8 * PAGE);
	g_assert_cmphex(e.target, ==, 0x28000); /* the right part keeps its target */
	g_assert_cmpint(e.perm, ==, VMMEM_IOTLB_RW);

	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_read_obj(&io, 0x105000, &b, 1, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0x105000");
	g_assert_true(vmmem_iova_read_obj(&io, 0x108001, &b, 1, &err));
	g_assert_cmpuint(b, ==, tu_pattern(0x28001));
	vmmem_iova_end(&io);

	/* A range with no entry is no error; size 0 and wraps are. */
	g_assert_true(vmmem_iotlb_invalidate(t, 0x900000, PAGE, &err));
	tu_assert_no_error(err);
	g_assert_false(vmmem_iotlb_invalidate(t, 0x100000, 0, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "size is 0");
	g_assert_false(vmmem_iotlb_invalidate(t, UINT64_MAX, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW, "2^64");
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 3);

	/* Covering several entries whole and one in part. */
	g_assert_true(vmmem_iotlb_invalidate(t, 0x0, 0x10a000, &err));
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 2);
	g_assert_true(vmmem_iotlb_lookup(t, 0x10a000, &e));
	g_assert_cmphex(e.target, ==, 0x2a000);
	g_assert_true(vmmem_iotlb_invalidate_all(t, &err));
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 0);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

static void
test_update_replaces_overlapped_parts(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_iotlb_entry_t e;

	map(t, 0x10000, 4 * PAGE, 0x100000, VMMEM_IOTLB_RW);
	map(t, 0x11000, PAGE, 0x500000, VMMEM_IOTLB_READ);
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 3);
	g_assert_true(vmmem_iotlb_lookup(t, 0x11800, &e));
	g_assert_cmphex(e.target, ==, 0x500000);
	g_assert_cmpint(e.perm, ==, VMMEM_IOTLB_READ);
	g_assert_true(vmmem_iotlb_lookup(t, 0x12000, &e));
	g_assert_cmphex(e.iova, ==, 0x12000);
	g_assert_cmphex(e.target, ==, 0x102000);
	g_assert_true(vmmem_iotlb_lookup(t, 0x10fff, &e));
	g_assert_cmphex(e.size, ==, PAGE);
	vmmem_iotlb_free(t);
}

static void
test_full_iotlb_evicts_others(void)
{
	vmmem_iotlb_t *t = tlb_new(4);

	for (uint64_t i = 0; i < 10; i++)
		map(t, i * PAGE, PAGE, i * PAGE, VMMEM_IOTLB_RW);
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 4);
	g_assert_true(vmmem_iotlb_lookup(t, 9 * PAGE, NULL)); /* the newest stays */
	vmmem_iotlb_free(t);
}

static void
test_invalidate_inside_read_section_refused(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	GError *err = NULL;
	vmmem_iova_t io;

	map(t, 0, PAGE, 0, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iotlb_invalidate(t, 0, PAGE, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "read section");
	g_assert_false(vmmem_iotlb_invalidate_all(t, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "read section");
	/* Updates are fine there (a miss handler makes them). */
	map(t, PAGE, PAGE, PAGE, VMMEM_IOTLB_RW);
	vmmem_iova_end(&io);
	g_assert_true(vmmem_iotlb_invalidate_all(t, &err));
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* ---- the miss handler ---- */

struct handler_state {
	unsigned calls;
	uint64_t iova;
	vmmem_iotlb_perm_t access;
	vmmem_iotlb_fault_t fault;
	bool fill;
	vmmem_iotlb_perm_t fill_perm;
};

static vmmem_iotlb_action_t
handler(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_perm_t access, vmmem_iotlb_fault_t fault,
	void *data)
{
	struct handler_state *h = data;

	h->calls++;
	h->iova = iova;
	h->access = access;
	h->fault = fault;
	if (h->fill) {
		/* An identity map of the page, as an in-process vIOMMU would. */
		uint64_t page = iova & ~(PAGE - 1);

		g_assert_true(vmmem_iotlb_update(tlb, page, PAGE, page - 0x100000 + 0x10000,
						 h->fill_perm, NULL));
	}
	return VMMEM_IOTLB_RETRY;
}

static void
test_miss_handler_fills_and_retries(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	struct handler_state h = { .fill = true, .fill_perm = VMMEM_IOTLB_RW };
	GError *err = NULL;
	vmmem_iova_t io;
	uint8_t buf[2 * PAGE];

	vmmem_iotlb_set_miss_handler(t, handler, &h);
	vmmem_iova_begin(&io, t, m);
	/* Two pages, two misses, one retry each. */
	g_assert_true(vmmem_iova_read_slice(&io, 0x100800, buf, PAGE + 16, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(h.calls, ==, 2);
	g_assert_cmphex(h.iova, ==, 0x101000);
	g_assert_cmpint(h.access, ==, VMMEM_IOTLB_READ);
	g_assert_cmpint(h.fault, ==, VMMEM_IOTLB_FAULT_MISS);
	g_assert_cmpuint(buf[0], ==, tu_pattern(0x10800));
	g_assert_cmpuint(buf[PAGE], ==, tu_pattern(0x11800));
	/* Warm now: no more calls. */
	g_assert_true(vmmem_iova_read_slice(&io, 0x100800, buf, PAGE + 16, &err));
	g_assert_cmpuint(h.calls, ==, 2);
	vmmem_iova_end(&io);
	g_assert_cmpuint(vmmem_iotlb_num_entries(t), ==, 2);

	/* A denial reaches the handler as DENIED, with the write. */
	map(t, 0x105000, PAGE, 0x15000, VMMEM_IOTLB_READ);
	h.calls = 0;
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_store_u32(&io, 0x105010, 0x01020304, memory_order_relaxed, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(h.calls, ==, 1);
	g_assert_cmpint(h.fault, ==, VMMEM_IOTLB_FAULT_DENIED);
	g_assert_cmpint(h.access, ==, VMMEM_IOTLB_WRITE);
	vmmem_iova_end(&io);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

static void
test_miss_handler_retries_are_bounded(void)
{
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *m = mem2();
	struct handler_state h = { .fill = false };
	GError *err = NULL;
	vmmem_iova_t io;
	uint64_t v;

	vmmem_iotlb_set_miss_handler(t, handler, &h);
	vmmem_iova_begin(&io, t, m);
	g_assert_false(vmmem_iova_read_obj(&io, 0x42000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0x42000", "(read)");
	g_assert_cmpuint(h.calls, ==, VMMEM_IOTLB_MAX_RETRIES);
	/* A handler that fills with the wrong permission ends in DENIED. */
	h.calls = 0;
	h.fill = true;
	h.fill_perm = VMMEM_IOTLB_READ;
	g_assert_false(vmmem_iova_write_obj(&io, 0x142000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_DENIED, "IOVA 0x142000", "write");
	g_assert_cmpuint(h.calls, ==, VMMEM_IOTLB_MAX_RETRIES);
	vmmem_iova_end(&io);
	tu_assert_pattern(m);
	vmmem_memory_unref(m);
	vmmem_iotlb_free(t);
}

/* ---- dirty bits, hotplug ---- */

static void
test_dirty_bits_by_guest_page(void)
{
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = 2 * MIB,
				  .flags = VMMEM_SPEC_DIRTY_TRACKING };
	GError *err = NULL;
	vmmem_space_t *sp = vmmem_space_new(&s, 1, NULL, &err);
	vmmem_iotlb_t *t = tlb_new(0);
	uint64_t bits[8] = { 0 }, v = 1;
	uint8_t buf[64] = { 0 };
	const vmmem_memory_t *m;
	vmmem_iova_t io;

	tu_assert_no_error(err);
	m = vmmem_space_get(sp);
	/* IOVA pages 0 and 1 -> guest pages 7 and 3. */
	map(t, 0, PAGE, 7 * PAGE, VMMEM_IOTLB_RW);
	map(t, PAGE, PAGE, 3 * PAGE, VMMEM_IOTLB_RW);
	map(t, 2 * PAGE, PAGE, 20 * PAGE, VMMEM_IOTLB_RW);
	map(t, 3 * PAGE, PAGE, 30 * PAGE, VMMEM_IOTLB_RW);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_write_obj(&io, 8, &v, 8, &err)); /* refills the hit */
	g_assert_true(vmmem_iova_write_obj(&io, 16, &v, 8, &err)); /* the inline path */
	g_assert_true(vmmem_iova_store_u32(&io, 24, 5, memory_order_relaxed, &err));
	g_assert_true(vmmem_iova_write_slice(&io, PAGE - 32, buf, 64, &err));
	g_assert_true(vmmem_iova_store_u16(&io, PAGE + 2, 9, memory_order_relaxed, &err));
	tu_assert_no_error(err);
	/* A raw write through a slice, then marked. */
	vmmem_iova_mark_dirty(&io, 2 * PAGE + 100, 2 * PAGE);
	vmmem_iova_mark_dirty(&io, 40 * PAGE, PAGE); /* no entry: ignored */
	vmmem_iova_end(&io);
	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 64 * 8 * PAGE, bits, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(bits[0], ==, (UINT64_C(1) << 7) | (UINT64_C(1) << 3) | (UINT64_C(1) << 20) |
					     (UINT64_C(1) << 30));
	/* The inline write path (a warm hit) marks the page too. */
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_write_obj(&io, 8, &v, 8, &err)); /* refills the hit */
	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 64 * 8 * PAGE, bits, 8, &err));
	g_assert_cmphex(bits[0], ==, UINT64_C(1) << 7);
	g_assert_true(vmmem_iova_write_obj(&io, 64, &v, 8, &err));
	g_assert_true(vmmem_iova_store_u16(&io, 2 * PAGE + 6, 1, memory_order_relaxed, &err));
	g_assert_true(vmmem_iova_store_u16(&io, 2 * PAGE + 8, 1, memory_order_relaxed, &err));
	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 64 * 8 * PAGE, bits, 8, &err));
	g_assert_cmphex(bits[0], ==, (UINT64_C(1) << 7) | (UINT64_C(1) << 20));
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	vmmem_iotlb_free(t);
	vmmem_space_free(sp);
}

/* Translation ends at a guest address; each section uses the memory it
 * began with, so a region hot-added or removed meanwhile changes nothing
 * for it, and the next section sees the change. */
static void
test_hotplug_under_translation(void)
{
	vmmem_region_spec_t ram = { .name = "ram", .start = { 0 }, .size = 2 * MIB };
	vmmem_region_spec_t dimm = { .name = "dimm", .start = { 4 * MIB }, .size = 2 * MIB };
	GError *err = NULL;
	vmmem_space_t *sp = vmmem_space_new(&ram, 1, NULL, &err);
	vmmem_iotlb_t *t = tlb_new(0);
	vmmem_memory_t *before;
	const vmmem_memory_t *m;
	vmmem_iova_t io, old;
	uint64_t v = 0xfeedface, r = 0;

	tu_assert_no_error(err);
	map(t, 0x80000000, 2 * MIB, 4 * MIB, VMMEM_IOTLB_RW);
	before = vmmem_space_ref_memory(sp);
	vmmem_iova_begin(&old, t, before);
	g_assert_false(vmmem_iova_write_obj(&old, 0x80000000, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "IOVA 0x80000000", "0x400000");
	vmmem_iova_end(&old);

	g_assert_true(vmmem_space_add_region(sp, &dimm, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, t, m);
	g_assert_true(vmmem_iova_write_obj(&io, 0x80000000, &v, 8, &err));
	tu_assert_no_error(err);
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	/* The old snapshot still has no dimm. */
	vmmem_iova_begin(&old, t, before);
	g_assert_false(vmmem_iova_read_obj(&old, 0x80000000, &r, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "IOVA 0x80000000");
	vmmem_iova_end(&old);
	vmmem_memory_unref(before);

	/* A section that holds the dimm's snapshot keeps reading it while
	 * the region is removed (the removal waits only for get/put holders;
	 * this one holds a reference). */
	before = vmmem_space_ref_memory(sp);
	g_assert_true(vmmem_space_remove_region(sp, "dimm", &err));
	tu_assert_no_error(err);
	vmmem_iova_begin(&old, t, before);
	g_assert_true(vmmem_iova_read_obj(&old, 0x80000000, &r, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(r, ==, v);
	vmmem_iova_end(&old);
	vmmem_memory_unref(before);
	vmmem_iotlb_free(t);
	vmmem_space_free(sp);
}

/* ---- concurrency ---- */

#define GOOD UINT64_C(0x600d600d600d600d)
#define POISON UINT64_C(0xbadbadbadbadbad0)

struct race {
	vmmem_iotlb_t *t;
	vmmem_memory_t *m;
	int stop;          /* __atomic */
	uint64_t reads[2], hits[2], misses[2], bad[2];
};

static struct race race;

static void *
reader(void *arg)
{
	size_t id = (size_t)(uintptr_t)arg;

	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		vmmem_iova_t io;

		vmmem_iova_begin(&io, race.t, race.m);
		for (int k = 0; k < 16; k++) {
			uint64_t v = 0;

			race.reads[id]++;
			if (vmmem_iova_load_u64(&io, 0x40000000 + 8 * (uint64_t)k, &v,
						memory_order_acquire, NULL)) {
				race.hits[id]++;
				if (v != GOOD)
					race.bad[id]++;
			} else {
				race.misses[id]++;
			}
		}
		vmmem_iova_end(&io);
	}
	return NULL;
}

/* The writer maps IOVA page X to guest page A (holding GOOD), invalidates
 * it, and only then poisons A; before the next update it restores A. A
 * reader that used the translation after the invalidation returned would
 * read POISON. */
static void
test_invalidation_while_two_readers_run(void)
{
	pthread_t th[2];
	GError *err = NULL;
	uint64_t cycles = 0;
	gint64 end;

	race.t = tlb_new(0);
	race.m = mem2();
	for (int k = 0; k < 16; k++)
		g_assert_true(vmmem_memory_store_u64(race.m, G(0x7000 + 8 * (uint64_t)k), GOOD,
						     memory_order_relaxed, NULL));
	for (size_t i = 0; i < 2; i++)
		g_assert_cmpint(pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)i), ==, 0);
	end = g_get_monotonic_time() + 300 * 1000;
	while (g_get_monotonic_time() < end || cycles < 20) {
		for (int k = 0; k < 16; k++)
			vmmem_memory_store_u64(race.m, G(0x7000 + 8 * (uint64_t)k), GOOD,
					       memory_order_relaxed, NULL);
		/* Publication orders the stores above before any reader's hit. */
		map(race.t, 0x40000000, PAGE, 0x7000, VMMEM_IOTLB_READ);
		usleep(50);
		g_assert_true(vmmem_iotlb_invalidate(race.t, 0x40000000, PAGE, &err));
		tu_assert_no_error(err);
		for (int k = 0; k < 16; k++)
			vmmem_memory_store_u64(race.m, G(0x7000 + 8 * (uint64_t)k), POISON,
					       memory_order_relaxed, NULL);
		cycles++;
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < 2; i++) {
		g_test_message("reader %zu: %" G_GUINT64_FORMAT " reads, %" G_GUINT64_FORMAT
			       " hits, %" G_GUINT64_FORMAT " misses",
			       i, race.reads[i], race.hits[i], race.misses[i]);
		g_assert_cmpuint(race.bad[i], ==, 0);
		g_assert_cmpuint(race.reads[i], >, 0);
	}
	g_test_message("%" G_GUINT64_FORMAT " update/invalidate cycles", cycles);
	vmmem_memory_unref(race.m);
	vmmem_iotlb_free(race.t);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/iotlb/update/bad-arguments-refused", test_update_bad_arguments_refused);
	g_test_add_func("/iotlb/update/entries-that-wrap-2^64-refused-ending-at-top-works",
			test_update_entries_that_wrap_refused);
	g_test_add_func("/iotlb/update/replaces-overlapped-parts",
			test_update_replaces_overlapped_parts);
	g_test_add_func("/iotlb/update/full-iotlb-evicts-others", test_full_iotlb_evicts_others);
	g_test_add_func("/iotlb/hit/every-family-lands-at-target", test_hit_accesses_land_at_target);
	g_test_add_func("/iotlb/miss/reports-iova-and-access-kind",
			test_miss_reports_iova_and_access_kind);
	g_test_add_func("/iotlb/denied/write-through-read-only-entry-moves-nothing",
			test_write_through_read_only_entry_moves_nothing);
	g_test_add_func("/iotlb/partial/access-across-two-entries-works",
			test_access_across_two_entries_works);
	g_test_add_func("/iotlb/partial/contiguous-entries-join", test_contiguous_entries_join);
	g_test_add_func("/iotlb/partial/second-entry-missing-or-read-only-moves-nothing",
			test_partial_hit_moves_nothing);
	g_test_add_func("/iotlb/partial/aligned-value-over-two-guest-ranges-refused",
			test_split_aligned_value_refused);
	g_test_add_func("/iotlb/invalidate/range-splits-partly-covered-entries",
			test_invalidate_range_splits_entries);
	g_test_add_func("/iotlb/invalidate/inside-read-section-refused",
			test_invalidate_inside_read_section_refused);
	g_test_add_func("/iotlb/miss-handler/fills-entry-and-retries",
			test_miss_handler_fills_and_retries);
	g_test_add_func("/iotlb/miss-handler/retries-are-bounded",
			test_miss_handler_retries_are_bounded);
	g_test_add_func("/iotlb/dirty/set-by-guest-page-after-translation",
			test_dirty_bits_by_guest_page);
	g_test_add_func("/iotlb/hotplug/each-section-uses-its-own-memory",
			test_hotplug_under_translation);
	g_test_add_func("/iotlb/concurrency/invalidation-while-two-readers-run",
			test_invalidation_while_two_readers_run);
	return g_test_run();
}
