/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Dirty tracking: every write path sets exactly the bits of the pages it
 * wrote (inline and out of line, across a region boundary), a failing
 * write sets none, reads set none, fetch-and-clear loses nothing to a
 * concurrent writer, and an external log gets bit gpa / 4096. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hugetest.h"
#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define MIB TU_MIB
#define PG 4096u
#define SPAN (16 * MIB)                  /* what the tests fetch over */
#define NPAGES (SPAN / PG)

/* [0,2M) and [2M,4M) tracked and adjacent, [8M,10M) untracked. */
static vmmem_space_t *
tracked_space(void)
{
	vmmem_region_spec_t specs[3] = {
		{ .name = "a", .start = { 0 }, .size = 2 * MIB, .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "b", .start = { 2 * MIB }, .size = 2 * MIB,
		  .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "c", .start = { 8 * MIB }, .size = 2 * MIB },
	};
	GError *err = NULL;
	vmmem_space_t *s = vmmem_space_new(specs, 3, NULL, &err);

	tu_assert_no_error(err);
	return s;
}

/* Fetch-and-clear over [0, SPAN): the dirty pages as a string "p,p,...". */
static char *
take_dirty(const vmmem_memory_t *m)
{
	uint64_t bits[NPAGES / 64];
	GError *err = NULL;
	GString *s = g_string_new(NULL);

	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), SPAN, bits, G_N_ELEMENTS(bits), &err));
	tu_assert_no_error(err);
	for (uint64_t p = 0; p < NPAGES; p++)
		if (bits[p / 64] & (UINT64_C(1) << (p % 64)))
			g_string_append_printf(s, "%s%" PRIu64, s->len ? "," : "", p);
	return g_string_free(s, FALSE);
}

#define assert_dirty(m, expect)                                                   \
	do {                                                                      \
		char *got_ = take_dirty(m);                                       \
		g_assert_cmpstr(got_, ==, (expect));                              \
		g_free(got_);                                                     \
	} while (0)

/* One case: a space, a snapshot, clean log. */
typedef struct {
	vmmem_space_t *s;
	const vmmem_memory_t *m;
	uint8_t buf[3 * PG];
	GError *err;
} fix_t;

static void
fix_setup(fix_t *f, gconstpointer data)
{
	(void)data;
	f->s = tracked_space();
	f->m = vmmem_space_get(f->s);
	memset(f->buf, 0xab, sizeof(f->buf));
	f->err = NULL;
	assert_dirty(f->m, "");
}

static void
fix_teardown(fix_t *f, gconstpointer data)
{
	(void)data;
	vmmem_space_put(f->s, f->m);
	vmmem_space_free(f->s);
}

static void
test_write_obj_inline_sets_its_page(fix_t *f, gconstpointer d)
{
	uint64_t v = 1;
	uint16_t h = 2;

	(void)d;
	g_assert_true(vmmem_memory_write_obj(f->m, G(5 * PG + 8), &v, 8, &f->err));
	g_assert_true(vmmem_memory_write_obj(f->m, G(2 * MIB + 2), &h, 2, &f->err));
	assert_dirty(f->m, "5,512");
	/* Fetched means clean: a second fetch is empty. */
	assert_dirty(f->m, "");
}

static void
test_write_obj_unaligned_across_pages(fix_t *f, gconstpointer d)
{
	uint64_t v = 1;

	(void)d;
	/* 8 bytes at 4 KiB - 4: the slow path, two pages. */
	g_assert_true(vmmem_memory_write_obj(f->m, G(PG - 4), &v, 8, &f->err));
	assert_dirty(f->m, "0,1");
}

static void
test_store_inline_and_out_of_line(fix_t *f, gconstpointer d)
{
	(void)d;
	g_assert_true(vmmem_memory_store_u32(f->m, G(7 * PG), 1, memory_order_release, &f->err));
	g_assert_true(vmmem_memory_store(f->m, G(9 * PG + 8), 8, 1, memory_order_relaxed, &f->err));
	g_assert_true(vmmem_memory_store_u8(f->m, G(3 * MIB), 1, memory_order_seq_cst, &f->err));
	tu_assert_no_error(f->err);
	assert_dirty(f->m, "7,9,768");
}

static void
test_write_slice_across_region_boundary(fix_t *f, gconstpointer d)
{
	(void)d;
	/* 3 pages from 2 MiB - 4 KiB - 1 (the last byte of page 510): 510 to 513. */
	g_assert_true(vmmem_memory_write_slice(f->m, G(2 * MIB - PG - 1), f->buf, 3 * PG, &f->err));
	assert_dirty(f->m, "510,511,512,513");
	/* Inside one region (the inline path). */
	g_assert_true(vmmem_memory_write_slice(f->m, G(10 * PG), f->buf, 100, &f->err));
	g_assert_true(vmmem_memory_write_slice_slow(f->m, G(20 * PG), f->buf, PG, &f->err));
	assert_dirty(f->m, "10,20");
}

static void
test_write_partial_prefix_marks_what_it_wrote(fix_t *f, gconstpointer d)
{
	size_t done = 0;

	(void)d;
	/* From 4 MiB - 4 KiB into the hole at 4 MiB: one page written. */
	g_assert_true(vmmem_memory_write(f->m, G(4 * MIB - PG), f->buf, 3 * PG, &done, &f->err));
	g_assert_cmpuint(done, ==, PG);
	assert_dirty(f->m, "1023");
}

static void
test_failing_writes_mark_nothing(fix_t *f, gconstpointer d)
{
	uint64_t v = 1;
	size_t done = 7;

	(void)d;
	g_assert_false(vmmem_memory_write_slice(f->m, G(4 * MIB - PG), f->buf, 2 * PG, &f->err));
	g_clear_error(&f->err);
	g_assert_false(vmmem_memory_write_obj(f->m, G(4 * MIB - 4), &v, 8, &f->err));
	g_clear_error(&f->err);
	g_assert_false(vmmem_memory_store_u64(f->m, G(PG + 4), 1, memory_order_relaxed, &f->err));
	g_clear_error(&f->err);
	g_assert_false(vmmem_memory_write(f->m, G(5 * MIB), f->buf, 8, &done, &f->err));
	g_clear_error(&f->err);
	g_assert_false(vmmem_memory_write_slice(f->m, G(UINT64_MAX - 7), f->buf, 16, &f->err));
	g_clear_error(&f->err);
	assert_dirty(f->m, "");
}

static void
test_reads_mark_nothing(fix_t *f, gconstpointer d)
{
	uint64_t v;
	size_t done;
	int p[2];

	(void)d;
	g_assert_true(vmmem_memory_read_obj(f->m, G(8), &v, 8, &f->err));
	g_assert_true(vmmem_memory_read_slice(f->m, G(2 * MIB - 8), f->buf, 64, &f->err));
	g_assert_true(vmmem_memory_load_u64(f->m, G(16), &v, memory_order_acquire, &f->err));
	g_assert_true(vmmem_memory_read(f->m, G(PG), f->buf, PG, &done, &f->err));
	g_assert_cmpint(pipe(p), ==, 0);
	g_assert_true(vmmem_memory_write_all_to_fd(f->m, G(3 * PG), p[1], 64, &f->err));
	close(p[0]);
	close(p[1]);
	tu_assert_no_error(f->err);
	assert_dirty(f->m, "");
}

static void
test_read_from_fd_marks_bytes_that_arrived(fix_t *f, gconstpointer d)
{
	int fd = memfd_create("src", MFD_CLOEXEC);
	size_t done = 0;

	(void)d;
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, f->buf, 2 * PG), ==, 2 * PG);
	lseek(fd, 0, SEEK_SET);
	g_assert_true(vmmem_memory_read_from_fd(f->m, G(2 * MIB - PG), fd, 2 * PG, &done, &f->err));
	g_assert_cmpuint(done, ==, 2 * PG);
	assert_dirty(f->m, "511,512");
	/* Exact form at end of file after one page: fails, but the page
	 * that arrived is in guest memory, so it is logged. */
	lseek(fd, PG, SEEK_SET);
	g_assert_false(vmmem_memory_read_exact_from_fd(f->m, G(30 * PG), fd, 3 * PG, &f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_SHORT_TRANSFER, "end of file");
	assert_dirty(f->m, "30");
	close(fd);
}

static void
test_region_family_marks_guest_pages(fix_t *f, gconstpointer d)
{
	const vmmem_region_t *b = vmmem_memory_region(f->m, 1);
	uint32_t v = 1;
	size_t done;

	(void)d;
	g_assert_true(vmmem_region_write_obj(b, vmmem_region_addr(PG), &v, 4, &f->err));
	g_assert_true(vmmem_region_store(b, vmmem_region_addr(3 * PG), 4, 1, memory_order_relaxed,
					 &f->err));
	g_assert_true(vmmem_region_write_slice(b, vmmem_region_addr(5 * PG - 1), f->buf, 2, &f->err));
	g_assert_true(vmmem_region_write(b, vmmem_region_addr(2 * MIB - 10), f->buf, 100, &done,
					 &f->err));
	g_assert_cmpuint(done, ==, 10);
	tu_assert_no_error(f->err);
	assert_dirty(f->m, "513,515,516,517,1023");
}

/* Raw pointers: the caller writes, then marks (the rule in dirty.h). */
static void
test_mark_dirty_after_raw_write(fix_t *f, gconstpointer d)
{
	vmmem_slice_t sl;
	struct iovec iov[2];
	size_t n;

	(void)d;
	g_assert_true(vmmem_memory_get_slice(f->m, G(40 * PG), 16, &sl, &f->err));
	memset(sl.host, 1, sl.len);
	assert_dirty(f->m, ""); /* the library cannot see this write */
	vmmem_memory_mark_dirty(f->m, G(40 * PG), 16);
	g_assert_true(vmmem_memory_get_iovec(f->m, G(2 * MIB - 8), 16, iov, 2, &n, &f->err));
	g_assert_cmpuint(n, ==, 2);
	memset(iov[1].iov_base, 2, iov[1].iov_len);
	vmmem_memory_mark_dirty(f->m, G(2 * MIB), iov[1].iov_len);
	assert_dirty(f->m, "40,512");
}

static void
test_untracked_region_is_not_reported(fix_t *f, gconstpointer d)
{
	const vmmem_region_t *c = vmmem_memory_region(f->m, 2);
	uint64_t v = 1, bits[8];

	(void)d;
	g_assert_false(vmmem_region_dirty_tracking(c));
	g_assert_true(vmmem_memory_write_obj(f->m, G(8 * MIB), &v, 8, &f->err));
	g_assert_true(vmmem_memory_write_obj(f->m, G(0), &v, 8, &f->err));
	assert_dirty(f->m, "0");
	g_assert_false(vmmem_region_fetch_dirty(f->m, c, bits, 8, &f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_UNSUPPORTED, "region 'c' has no dirty tracking");
	g_assert_false(vmmem_memory_page_is_dirty(f->m, G(8 * MIB)));
}

static void
test_region_fetch_and_page_query(fix_t *f, gconstpointer d)
{
	const vmmem_region_t *b = vmmem_memory_region(f->m, 1);
	uint64_t v = 1, bits[8] = { 0 };

	(void)d;
	g_assert_true(vmmem_memory_write_obj(f->m, G(2 * MIB + 3 * PG), &v, 8, &f->err));
	g_assert_true(vmmem_memory_page_is_dirty(f->m, G(2 * MIB + 3 * PG + 100)));
	g_assert_false(vmmem_memory_page_is_dirty(f->m, G(2 * MIB + 4 * PG)));
	g_assert_false(vmmem_region_fetch_dirty(f->m, b, bits, 7, &f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_NO_SPACE, "'b'", "8 bitmap words");
	g_assert_true(vmmem_region_fetch_dirty(f->m, b, bits, 8, &f->err));
	g_assert_cmphex(bits[0], ==, 1u << 3);
	for (int i = 1; i < 8; i++)
		g_assert_cmphex(bits[i], ==, 0);
	g_assert_false(vmmem_memory_page_is_dirty(f->m, G(2 * MIB + 3 * PG)));
}

static void
test_fetch_argument_errors(fix_t *f, gconstpointer d)
{
	uint64_t bits[4];

	(void)d;
	g_assert_false(vmmem_memory_fetch_dirty(f->m, G(100), PG, bits, 4, &f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_INVALID_ARGUMENT, "0x64", "4 KiB pages");
	g_assert_false(vmmem_memory_fetch_dirty(f->m, G(0), 300 * PG, bits, 4, &f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_NO_SPACE, "5 bitmap words", "only 4");
	g_assert_false(vmmem_memory_fetch_dirty(f->m, G(UINT64_MAX - PG + 1), 2 * PG, bits, 4,
						&f->err));
	tu_assert_error(&f->err, VMMEM_ERROR_INVALID_ARGUMENT, "inside 2^64");
}

/* ---- outside the fixture ---- */

static void
test_hot_added_region_is_tracked_and_starts_clean(void)
{
	vmmem_space_t *s = tracked_space();
	vmmem_region_spec_t dimm = { .name = "dimm", .start = { 4 * MIB }, .size = 2 * MIB,
				     .flags = VMMEM_SPEC_DIRTY_TRACKING };
	vmmem_region_spec_t far = { .name = "far", .start = { UINT64_C(1) << 40 }, .size = 2 * MIB,
				    .flags = VMMEM_SPEC_DIRTY_TRACKING };
	const vmmem_memory_t *m;
	GError *err = NULL;
	uint64_t v = 1;

	/* Pages of the DIMM were written (as untracked bits) before it
	 * existed: the hot-added region must not inherit them. */
	m = vmmem_space_get(s);
	vmmem_memory_mark_dirty(m, G(4 * MIB), 2 * MIB);
	vmmem_space_put(s, m);
	g_assert_true(vmmem_space_add_region(s, &dimm, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(s);
	assert_dirty(m, "");
	g_assert_true(vmmem_memory_write_obj(m, G(5 * MIB), &v, 8, &err));
	assert_dirty(m, "1280");
	vmmem_space_put(s, m);
	/* Beyond the guest span (64 GiB by default) tracking is refused. */
	g_assert_false(vmmem_space_add_region(s, &far, &err));
	tu_assert_error(&err, VMMEM_ERROR_UNSUPPORTED, "'far'", "guest span");
	vmmem_space_free(s);
}

static void
test_immutable_memory_tracks_too(void)
{
	vmmem_region_spec_t specs[2] = {
		{ .name = "lo", .start = { 0 }, .size = 2 * MIB, .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "hi", .start = { 6 * MIB }, .size = 2 * MIB },
	};
	GError *err = NULL;
	vmmem_memory_t *m = vmmem_memory_new(specs, 2, &err);
	vmmem_memory_t *plain;
	uint64_t v = 1, bits[64];

	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_write_obj(m, G(3 * PG), &v, 8, &err));
	g_assert_true(vmmem_memory_write_obj(m, G(6 * MIB), &v, 8, &err));
	assert_dirty(m, "3");
	vmmem_memory_unref(m);
	specs[0].flags = 0;
	plain = vmmem_memory_new(specs, 2, &err);
	g_assert_false(vmmem_memory_fetch_dirty(plain, G(0), PG, bits, 64, &err));
	tu_assert_error(&err, VMMEM_ERROR_UNSUPPORTED, "no region of this memory has dirty tracking");
	vmmem_memory_unref(plain);
}

static void
test_huge_page_region_reports_per_huge_page(void)
{
	vmmem_region_spec_t spec = { .name = "huge", .start = { 0 }, .size = 4 * MIB,
				     .provider = "memfd", .flags = VMMEM_SPEC_DIRTY_TRACKING };
	struct vmmem_provider_option opt = { "page-size", "2M" };
	vmmem_space_t *s;
	const vmmem_memory_t *m;
	GError *err = NULL;
	uint64_t v = 1, bits[1];

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	spec.options = &opt;
	spec.n_options = 1;
	s = vmmem_space_new(&spec, 1, NULL, &err);
	tu_assert_no_error(err);
	m = vmmem_space_get(s);
	g_assert_cmphex(vmmem_region_page_size(vmmem_memory_region(m, 0)), ==, MiB(2));
	g_assert_true(vmmem_memory_write_obj(m, G(3 * MIB + 8), &v, 8, &err));
	g_assert_true(vmmem_memory_page_is_dirty(m, G(2 * MIB)));
	g_assert_true(vmmem_region_fetch_dirty(m, vmmem_memory_region(m, 0), bits, 1, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(bits[0], ==, 2); /* the second 2 MiB page */
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

static void
count_destroy(void *p)
{
	(*(int *)p)++;
}

/* The vhost-user log: bit gpa / 4096, byte p / 8, bit p % 8. */
static void
test_external_log_gets_bit_per_guest_page(void)
{
	vmmem_space_t *s = tracked_space();
	const vmmem_memory_t *m;
	uint8_t *log = aligned_alloc(8, 512); /* 4096 pages: 16 MiB */
	int destroyed = 0;
	GError *err = NULL;
	uint8_t buf[64] = { 0 };
	uint64_t v = 1, bits[1];

	memset(log, 0, 512);
	g_assert_false(vmmem_space_set_log(s, log + 1, 8, NULL, NULL, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "8-byte aligned");
	g_assert_false(vmmem_space_set_log(s, log, 12, NULL, NULL, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "multiple of 8");
	g_assert_true(vmmem_space_set_log(s, log, 512, count_destroy, &destroyed, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(s);
	/* Across the boundary of a and b, and into untracked c: an external
	 * log takes every write. */
	g_assert_true(vmmem_memory_write_slice(m, G(2 * MIB - 32), buf, 64, &err));
	g_assert_true(vmmem_memory_write_obj(m, G(8 * MIB + 3 * PG), &v, 8, &err));
	g_assert_true(vmmem_region_write_obj(vmmem_memory_region(m, 0), vmmem_region_addr(9 * PG),
					     &v, 8, &err));
	/* Its owner reads it, not us. */
	g_assert_false(vmmem_memory_fetch_dirty(m, G(0), PG, bits, 1, &err));
	tu_assert_error(&err, VMMEM_ERROR_UNSUPPORTED, "external");
	vmmem_space_put(s, m);
	g_assert_cmphex(log[511 / 8], ==, 1u << (511 % 8));
	g_assert_cmphex(log[512 / 8], ==, 1u << (512 % 8));
	g_assert_cmphex(log[2051 / 8], ==, 1u << (2051 % 8));
	g_assert_cmphex(log[9 / 8], ==, 1u << (9 % 8));
	for (int i = 0; i < 512; i++)
		if (i != 511 / 8 && i != 512 / 8 && i != 2051 / 8 && i != 1)
			g_assert_cmphex(log[i], ==, 0);

	/* Logging off: nothing reaches the buffer, and it is released. */
	memset(log, 0, 512);
	g_assert_true(vmmem_space_set_log(s, NULL, 0, NULL, NULL, &err));
	g_assert_cmpint(destroyed, ==, 1);
	m = vmmem_space_get(s);
	g_assert_true(vmmem_memory_write_obj(m, G(PG), &v, 8, &err));
	g_assert_true(vmmem_region_write_obj(vmmem_memory_region(m, 1), vmmem_region_addr(0), &v,
					     8, &err));
	vmmem_space_put(s, m);
	g_assert_true(tu_all(log, 512, 0));
	/* ... and on again. */
	g_assert_true(vmmem_space_set_log(s, log, 512, NULL, NULL, &err));
	m = vmmem_space_get(s);
	g_assert_true(vmmem_memory_store_u16(m, G(3 * MIB), 1, memory_order_relaxed, &err));
	vmmem_space_put(s, m);
	g_assert_cmphex(log[768 / 8], ==, 1u << (768 % 8));
	vmmem_space_free(s);
	free(log);
}

/* ---- fetch-and-clear under a concurrent writer ---- */

struct race {
	const vmmem_memory_t *m;
	volatile int stop;
	uint8_t written[1024];  /* pages of region a the writer wrote */
	uint8_t fetched[1024];
	uint64_t writes, fetches;
};

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	uint64_t x = 88172645463325252ull;
	GError *err = NULL;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint64_t page, v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		page = x % 512;
		v = x;
		/* Record first: a page recorded but not yet written can only
		 * make the check stricter, never hide a loss. */
		r->written[page] = 1;
		if (x & 1)
			g_assert_true(vmmem_memory_write_obj(r->m, G(page * PG + (x >> 40) % 512 * 8),
							     &v, 8, &err));
		else
			g_assert_true(vmmem_memory_write_slice(r->m, G(page * PG), &v, sizeof(v),
							       &err));
		r->writes++;
	}
	return NULL;
}

static void
race_fetch(struct race *r)
{
	uint64_t bits[512 / 64];
	GError *err = NULL;

	g_assert_true(vmmem_memory_fetch_dirty(r->m, G(0), 512 * PG, bits, 8, &err));
	for (int p = 0; p < 512; p++)
		if (bits[p / 64] & (UINT64_C(1) << (p % 64)))
			r->fetched[p] = 1;
	r->fetches++;
}

static void
test_fetch_under_concurrent_writer_loses_nothing(void)
{
	vmmem_space_t *s = tracked_space();
	struct race r = { 0 };
	pthread_t t;
	gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC / 2;

	r.m = vmmem_space_get(s);
	race_fetch(&r);
	memset(r.fetched, 0, sizeof(r.fetched));
	g_assert_cmpint(pthread_create(&t, NULL, race_writer, &r), ==, 0);
	while (g_get_monotonic_time() < until)
		race_fetch(&r);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	race_fetch(&r); /* the writes after the last fetch */
	for (int p = 0; p < 512; p++)
		g_assert_cmpint(r.fetched[p], ==, r.written[p]);
	g_test_message("%" G_GUINT64_FORMAT " writes, %" G_GUINT64_FORMAT " fetches", r.writes,
		       r.fetches);
	g_assert_cmpuint(r.writes, >, 0);
	vmmem_space_put(s, r.m);
	vmmem_space_free(s);
}

#define FIX(path, fn) g_test_add("/dirty/" path, fix_t, NULL, fix_setup, fn, fix_teardown)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	FIX("write-obj/inline-sets-its-page", test_write_obj_inline_sets_its_page);
	FIX("write-obj/unaligned-sets-both-pages", test_write_obj_unaligned_across_pages);
	FIX("store/inline-and-out-of-line", test_store_inline_and_out_of_line);
	FIX("write-slice/across-region-boundary", test_write_slice_across_region_boundary);
	FIX("write/partial-prefix-marks-what-it-wrote", test_write_partial_prefix_marks_what_it_wrote);
	FIX("write/failing-writes-mark-nothing", test_failing_writes_mark_nothing);
	FIX("read/reads-mark-nothing", test_reads_mark_nothing);
	FIX("read-from-fd/marks-bytes-that-arrived", test_read_from_fd_marks_bytes_that_arrived);
	FIX("region/family-marks-guest-pages", test_region_family_marks_guest_pages);
	FIX("raw/mark-dirty-after-slice-and-iovec-writes", test_mark_dirty_after_raw_write);
	FIX("fetch/untracked-region-not-reported", test_untracked_region_is_not_reported);
	FIX("fetch/region-bitmap-and-page-query", test_region_fetch_and_page_query);
	FIX("fetch/argument-errors", test_fetch_argument_errors);
	g_test_add_func("/dirty/hotplug/added-region-tracked-and-starts-clean",
			test_hot_added_region_is_tracked_and_starts_clean);
	g_test_add_func("/dirty/memory/immutable-memory-tracks-too", test_immutable_memory_tracks_too);
	g_test_add_func("/dirty/huge/region-reports-per-huge-page",
			test_huge_page_region_reports_per_huge_page);
	g_test_add_func("/dirty/external/bit-per-guest-page-on-off-on",
			test_external_log_gets_bit_per_guest_page);
	g_test_add_func("/dirty/fetch/concurrent-writer-loses-nothing",
			test_fetch_under_concurrent_writer_loses_nothing);
	return g_test_run();
}
