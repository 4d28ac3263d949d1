/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Creating a guest memory: every layout error is VMMEM_ERROR_INVALID_LAYOUT
 * with a message naming the region and value, unknown provider options are
 * refused naming the key, and a failed creation leaves nothing mapped. */
#include <string.h>

#include "testutil.h"

#include <errno.h>
#include <sys/mman.h>
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)

/* Lines in /proc/self/maps: a mapping left behind by a failed creation
 * shows up here. Shared objects are left out: the first region of a case
 * loads its provider, which stays mapped under VMMEM_NO_DLCLOSE (the
 * valgrind run), and each case runs in a fresh child. */
static size_t
count_mappings(void)
{
	char *text = NULL, **lines;
	size_t n = 0;

	g_assert_true(g_file_get_contents("/proc/self/maps", &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++)
		n += **l && !g_str_has_suffix(*l, ".so");
	g_strfreev(lines);
	g_free(text);
	return n;
}

/* Creates from `specs`, expecting failure with `code` and each string. */
static void
expect_fail(const vmmem_region_spec_t *specs, size_t n, int code, const char *s1, const char *s2,
	    const char *s3)
{
	GError *err = NULL;
	size_t before = count_mappings();
	vmmem_memory_t *mem = vmmem_memory_new(specs, n, &err);

	g_assert_null(mem);
	tu_assert_error(&err, code, s1 ? s1 : "", s2 ? s2 : "", s3 ? s3 : "");
#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator maps memory of its own while the error is built,
	 * so the count says nothing there; the plain build checks it. */
	(void)before;
	g_test_message("mapping count not compared under AddressSanitizer");
#else
	/* valgrind's allocator does the same (its preload is in LD_PRELOAD). */
	if (g_getenv("LD_PRELOAD") && strstr(g_getenv("LD_PRELOAD"), "vgpreload"))
		g_test_message("mapping count not compared under valgrind");
	else
		g_assert_cmpuint(count_mappings(), ==, before);
#endif
}

static void
test_no_regions(void)
{
	vmmem_region_spec_t one = { .name = "a", .start = { 0 }, .size = TU_2M };

	expect_fail(NULL, 0, VMMEM_ERROR_INVALID_LAYOUT, "at least one region", NULL, NULL);
	expect_fail(&one, 0, VMMEM_ERROR_INVALID_LAYOUT, "at least one region", NULL, NULL);
}

static void
test_zero_size(void)
{
	vmmem_region_spec_t s[2] = {
		{ .name = "ok", .start = { 0 }, .size = TU_2M },
		{ .name = "empty", .start = { 2 * TU_2M }, .size = 0 },
	};

	expect_fail(s, 2, VMMEM_ERROR_INVALID_LAYOUT, "'empty'", "size 0", "0x400000");
}

static void
test_past_2_64(void)
{
	vmmem_region_spec_t s[1] = {
		{ .name = "top", .start = { UINT64_MAX - TU_2M + 2 }, .size = TU_2M },
	};
	vmmem_region_spec_t exact[1] = {
		{ .name = "top", .start = { UINT64_MAX - TU_2M + 1 }, .size = TU_2M },
	};
	GError *err = NULL;
	vmmem_memory_t *mem;

	expect_fail(s, 1, VMMEM_ERROR_INVALID_LAYOUT, "'top'", "0xffffffffffe00001", "2^64");
	/* Ending exactly at 2^64 is fine. */
	mem = vmmem_memory_new(exact, 1, &err);
	g_assert_no_error(err);
	g_assert_cmphex(vmmem_memory_last_addr(mem).raw, ==, UINT64_MAX);
	vmmem_memory_unref(mem);
}

static void
test_overlap_names_both(void)
{
	vmmem_region_spec_t s[3] = {
		{ .name = "far", .start = { 8 * TU_2M }, .size = TU_2M },
		{ .name = "low", .start = { 0 }, .size = 2 * TU_2M },
		{ .name = "mid", .start = { TU_2M }, .size = TU_2M },
	};
	vmmem_region_spec_t touching[2] = {
		{ .name = "a", .start = { 0 }, .size = TU_2M },
		{ .name = "b", .start = { TU_2M - 4096 }, .size = TU_2M },
	};

	expect_fail(s, 3, VMMEM_ERROR_INVALID_LAYOUT, "'low'", "'mid'", "overlap");
	expect_fail(touching, 2, VMMEM_ERROR_INVALID_LAYOUT, "'a'", "'b'", "overlap");
}

static void
test_unaligned_to_page_size(void)
{
	uint64_t page = 4096; /* the mmap provider's anonymous page size on Linux */
	vmmem_region_spec_t start[2] = {
		{ .name = "good", .start = { 0 }, .size = TU_2M },
		{ .name = "odd-start", .start = { 4 * TU_2M + page / 2 }, .size = TU_2M },
	};
	vmmem_region_spec_t size[1] = {
		{ .name = "odd-size", .start = { 0 }, .size = TU_2M + 100 },
	};
	char *v = tu_hex(4 * TU_2M + page / 2);

	expect_fail(start, 2, VMMEM_ERROR_INVALID_LAYOUT, "'odd-start'", v, "page size");
	g_free(v);
	v = tu_hex(TU_2M + 100);
	expect_fail(size, 1, VMMEM_ERROR_INVALID_LAYOUT, "'odd-size'", v, NULL);
	g_free(v);
}

static void
test_unknown_option_names_key(void)
{
	const struct vmmem_provider_option opts[] = { { "colour", "blue" } };
	const struct vmmem_provider_option dup[] = { { "shared", "yes" }, { "shared", "no" } };
	vmmem_region_spec_t s[2] = {
		{ .name = "plain", .start = { 0 }, .size = TU_2M },
		{ .name = "fancy", .start = { TU_2M }, .size = TU_2M, .provider = "mmap",
		  .options = opts, .n_options = 1 },
	};

	/* "plain" sorts first and is mapped before "fancy" fails: it must be
	 * unmapped again (expect_fail counts the mappings). */
	expect_fail(s, 2, VMMEM_ERROR_PROVIDER_OPTION, "'colour'", "'fancy'", "mmap");
	s[1].options = dup;
	s[1].n_options = 2;
	expect_fail(s, 2, VMMEM_ERROR_PROVIDER_OPTION, "'shared'", "twice", NULL);
}

static void
test_default_names_and_provider(void)
{
	vmmem_region_spec_t s[2] = {
		{ .start = { TU_2M }, .size = TU_2M },
		{ .start = { 0 }, .size = TU_2M },
	};
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(s, 2, &err);

	g_assert_no_error(err);
	/* Named after their position in the spec array, not the sorted one. */
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(mem, 0)), ==, "region 1");
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(mem, 1)), ==, "region 0");
	g_assert_cmpstr(vmmem_region_provider_name(vmmem_memory_region(mem, 0)), ==, "mmap");
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(mem, 0)), ==, 4096);
	vmmem_memory_unref(mem);
}

static void
test_ref_unref(void)
{
	GError *err = NULL;
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M };
	vmmem_memory_t *mem = vmmem_memory_new(&s, 1, &err);
	uint8_t b = 0, *host;
	unsigned char resident[TU_2M / 4096];

	g_assert_no_error(err);
	host = vmmem_region_host(vmmem_memory_region(mem, 0));
	g_assert_true(vmmem_memory_ref(mem) == mem);
	vmmem_memory_unref(mem);
	/* Still alive after one unref. */
	g_assert_true(vmmem_memory_write_slice(mem, G(0), "x", 1, &err));
	g_assert_true(vmmem_memory_read_slice(mem, G(0), &b, 1, &err));
	g_assert_cmpuint(b, ==, 'x');
	g_assert_cmpint(mincore(host, TU_2M, resident), ==, 0);
	vmmem_memory_unref(mem);
	vmmem_memory_unref(NULL);
	/* The last reference unmapped the region: mincore() says ENOMEM for
	 * an unmapped range. */
	g_assert_cmpint(mincore(host, TU_2M, resident), ==, -1);
	g_assert_cmpint(errno, ==, ENOMEM);
}

/* Checks every lookup and small access at `addr` against the region table
 * itself (a linear scan), so the bucket table is tested, not trusted. */
static void
check_lookup_at(vmmem_memory_t *mem, uint64_t addr)
{
	const vmmem_region_t *want = NULL;
	uint64_t v = 0, w = 0x1122334455667788ull;
	GError *err = NULL;

	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++)
		if (vmmem_region_contains(vmmem_memory_region(mem, i), G(addr)))
			want = vmmem_memory_region(mem, i);
	g_assert_true(vmmem_memory_find_region(mem, G(addr)) == want);
	if (!want) {
		g_assert_false(VMMEM_MEMORY_WRITE_OBJ(mem, G(addr & ~7ull), &w, &err));
		g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_ADDRESS);
		g_clear_error(&err);
		g_assert_false(vmmem_memory_load_u64(mem, G(addr & ~7ull), &v, memory_order_relaxed, &err));
		g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_ADDRESS);
		g_clear_error(&err);
		return;
	}
	addr &= ~7ull;
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(mem, G(addr), &w, &err));
	g_assert_true(VMMEM_MEMORY_READ_OBJ(mem, G(addr), &v, &err));
	g_assert_cmphex(v, ==, w);
	g_assert_true(vmmem_memory_load_u64(mem, G(addr), &v, memory_order_acquire, &err));
	g_assert_cmphex(v, ==, w);
	/* The byte really is where the region says it is. */
	g_assert_cmpmem((uint8_t *)vmmem_region_host(want) + (addr - vmmem_region_start(want).raw), 8,
			&w, 8);
	g_assert_no_error(err);
}

/* A layout too sparse for an exact bucket table (4 KiB regions 2^62 apart):
 * buckets span holes and regions, and every access must take the checked
 * path. */
static void
test_sparse_layout_lookup(void)
{
	const uint64_t starts[] = { 0, 1ull << 40, 1ull << 62, UINT64_MAX - 4095 };
	vmmem_region_spec_t specs[G_N_ELEMENTS(starts)] = { 0 };
	GError *err = NULL;
	vmmem_memory_t *mem;

	for (size_t i = 0; i < G_N_ELEMENTS(starts); i++) {
		specs[i].start = G(starts[i]);
		specs[i].size = 4096;
	}
	mem = vmmem_memory_new(specs, G_N_ELEMENTS(specs), &err);
	g_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(starts); i++) {
		check_lookup_at(mem, starts[i]);
		check_lookup_at(mem, starts[i] + 4095);
		if (starts[i] > 0)
			check_lookup_at(mem, starts[i] - 1);
		if (starts[i] < UINT64_MAX - 4095)
			check_lookup_at(mem, starts[i] + 4096);
	}
	check_lookup_at(mem, 1ull << 63);
	vmmem_memory_unref(mem);
}

/* 4096 regions of mixed sizes with holes: every region boundary and
 * random addresses agree with a linear scan. */
static void
test_many_regions_lookup(void)
{
	enum { N = 4096 };
	vmmem_region_spec_t *specs = g_new0(vmmem_region_spec_t, N);
	GRand *rand = g_rand_new_with_seed(42);
	uint64_t at = 0x100000;
	GError *err = NULL;
	vmmem_memory_t *mem;

	for (size_t i = 0; i < N; i++) {
		specs[i].start = G(at);
		specs[i].size = 4096 * (uint64_t)g_rand_int_range(rand, 1, 4);
		at += specs[i].size + 4096 * (uint64_t)g_rand_int_range(rand, 0, 3);
	}
	mem = vmmem_memory_new(specs, N, &err);
	g_assert_no_error(err);
	for (size_t i = 0; i < N; i++) {
		check_lookup_at(mem, specs[i].start.raw);
		check_lookup_at(mem, specs[i].start.raw + specs[i].size - 1);
		check_lookup_at(mem, specs[i].start.raw + specs[i].size);
	}
	for (int k = 0; k < 20000; k++)
		check_lookup_at(mem, g_rand_int_range(rand, 0, (gint32)(at + 8192)));
	vmmem_memory_unref(mem);
	g_rand_free(rand);
	g_free(specs);
}

/* A region at guest 0 skips the bucket table (it is the run from guest
 * 0); one anywhere else goes through it. For both, the edges, the bytes just
 * outside and the far ends of the address space must be decided right. */
static void
test_single_region_shortcut(void)
{
	static const uint64_t starts[] = { 0, 1ull << 32 };

	for (size_t s = 0; s < G_N_ELEMENTS(starts); s++) {
		const uint64_t start = starts[s], size = 3 * 4096;
		vmmem_region_spec_t spec = { .start = { start }, .size = size };
		const uint64_t probes[] = { 0, 8, start - 8, start - 1, start, start + 8,
					    start + size - 8, start + size - 1, start + size,
					    start + size + 4096, UINT64_MAX - 7, UINT64_MAX };
		GError *err = NULL;
		vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, &err);

		g_assert_no_error(err);
		for (size_t i = 0; i < G_N_ELEMENTS(probes); i++)
			check_lookup_at(mem, probes[i]);
		vmmem_memory_unref(mem);
	}
}

/* The inline slice paths take a one-region memory's bounds from the memory
 * header (region at guest 0) or from its bucket (anywhere else): a copy
 * that ends exactly at the region's end succeeds, one byte more (or a
 * length that wraps the address space) fails before any byte moves, and a
 * copy that starts below the region fails too. */
static void
check_single_region_slice_edges(uint64_t start)
{
	const uint64_t size = 3 * 4096;
	vmmem_region_spec_t spec = { .start = { start }, .size = size };
	static uint8_t buf[3 * 4096], before[3 * 4096];
	const struct {
		uint64_t addr;
		size_t len;
		bool ok;
	} cases[] = {
		{ start, 9, true },
		{ start, size, true },
		{ start + size - 9, 9, true },
		{ start + 8, size - 8, true },
		{ start, size + 1, false },
		{ start + size - 8, 9, false },
		{ start + size, 9, false },
		{ start - 1, 9, false },
		{ start - 4096, 4096 + 9, false },
		{ start + 8, SIZE_MAX, false },
		{ start + 8, (size_t)(UINT64_MAX - (start + 8)) + 2, false },
		{ UINT64_MAX - 8, 9, false },
	};
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, &err);
	uint8_t *host;

	g_assert_no_error(err);
	host = vmmem_region_host(vmmem_memory_region(mem, 0));
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint64_t addr = cases[i].addr;
		size_t len = cases[i].len, n = MIN(len, sizeof(buf));

		for (size_t j = 0; j < size; j++)
			host[j] = (uint8_t)(j * 7 + i);
		memcpy(before, host, size);
		memset(buf, 0xa5, sizeof(buf));
		g_assert_true(vmmem_memory_read_slice(mem, G(addr), buf, len, &err) == cases[i].ok);
		if (cases[i].ok) {
			g_assert_no_error(err);
			g_assert_cmpmem(buf, n, host + (addr - start), n);
		} else {
			g_assert_nonnull(err);
			g_clear_error(&err);
		}
		g_assert_true(vmmem_memory_write_slice(mem, G(addr), buf, len, &err) == cases[i].ok);
		if (cases[i].ok) {
			g_assert_no_error(err);
		} else {
			g_assert_nonnull(err);
			g_clear_error(&err);
			g_assert_cmpmem(host, size, before, size);
		}
	}
	vmmem_memory_unref(mem);
}

static void
test_single_region_slice_edges(void)
{
	check_single_region_slice_edges(0);
	check_single_region_slice_edges(1ull << 32);
}

/* Regions from guest 0 that are back to back in host memory too (the core
 * places guest-adjacent regions so) form one run, which the inline paths
 * reach with one compare and one delta, whatever the split into regions.
 * The run must end at the first hole and at the first region that is not
 * host-contiguous (the pinned test provider's mappings stay where it put
 * them): every address on either side of those ends, and every boundary
 * inside the run, must still be decided by the region that holds it. */
static void
check_run_layout(const vmmem_region_spec_t *specs, size_t n, size_t run_regions)
{
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(specs, n, &err);
	uint64_t end = 0, run_end;
	uint8_t buf[16];

	g_assert_no_error(err);
	/* The run really is host-contiguous up to its end and not past it,
	 * and the inline paths' bound says so (a run that ends a page short
	 * would still give right answers through the table). */
	for (size_t i = 0; i + 1 < n; i++) {
		const vmmem_region_t *a = vmmem_memory_region(mem, i), *b = vmmem_memory_region(mem, i + 1);
		bool next = (uint8_t *)vmmem_region_host(a) + vmmem_region_size(a) ==
			    (uint8_t *)vmmem_region_host(b);
		if (i + 1 < run_regions)
			g_assert_true(next);
		else if (i + 1 == run_regions)
			g_assert_false(next && vmmem_region_last_addr(a).raw + 1 ==
						vmmem_region_start(b).raw);
	}
	run_end = vmmem_region_last_addr(vmmem_memory_region(mem, run_regions - 1)).raw + 1;
	g_assert_cmphex(vmmem__view(mem)->run_end, ==, run_end);
	for (size_t i = 0; i < n; i++)
		end = MAX(end, specs[i].start.raw + specs[i].size);
	/* Copies that end exactly at the run's end, and one that runs past
	 * it into whatever follows (a hole, or a region elsewhere in host
	 * memory): the latter must take the checked path. */
	memset(buf, 0x5c, sizeof(buf));
	g_assert_true(vmmem_memory_write_slice(mem, G(run_end - sizeof(buf)), buf, sizeof(buf), &err));
	g_assert_true(vmmem_memory_read_slice(mem, G(run_end - sizeof(buf)), buf, sizeof(buf), &err));
	g_assert_no_error(err);
	g_assert_true(vmmem_memory_write_slice(mem, G(run_end - 8), buf, sizeof(buf), &err) ==
		      (run_regions < n && specs[run_regions].start.raw == run_end));
	g_clear_error(&err);
	for (uint64_t a = 0; a < end + 8192; a += 8)
		check_lookup_at(mem, a);
	check_lookup_at(mem, UINT64_MAX - 7);
	/* A slice across every boundary inside the run, and one from the
	 * run into what follows it. */
	for (size_t i = 1; i < n; i++) {
		uint64_t at = specs[i].start.raw - 8;
		uint8_t back[16];
		bool backed = specs[i - 1].start.raw + specs[i - 1].size == specs[i].start.raw;

		memset(buf, (int)i, sizeof(buf));
		g_assert_true(vmmem_memory_write_slice(mem, G(at), buf, sizeof(buf), &err) == backed);
		if (!backed) {
			/* `at` is in the hole before region i: nothing at the start. */
			g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_ADDRESS);
			g_clear_error(&err);
			continue;
		}
		g_assert_true(vmmem_memory_read_slice(mem, G(at), back, sizeof(back), &err));
		g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
		g_assert_cmpmem((uint8_t *)vmmem_region_host(vmmem_memory_region(mem, i)), 8, buf, 8);
	}
	g_assert_no_error(err);
	vmmem_memory_unref(mem);
}

static void
test_run_from_guest_0(void)
{
	/* Three adjacent regions, a hole, two more. */
	const vmmem_region_spec_t holes[] = {
		{ .name = "a", .start = { 0 }, .size = 16384 },
		{ .name = "b", .start = { 16384 }, .size = 16384 },
		{ .name = "c", .start = { 32768 }, .size = 4096 },
		{ .name = "d", .start = { 65536 }, .size = 16384 },
		{ .name = "e", .start = { 81920 }, .size = 16384 },
	};
	char pinned[4096];

	check_run_layout(holes, G_N_ELEMENTS(holes), 3);
	if (!g_getenv("VMMEM_TEST_PROVIDERS_DIR")) {
		g_test_skip("VMMEM_TEST_PROVIDERS_DIR is not set (run with make check): "
			    "no pinned provider for the host-gap case");
		return;
	}
	g_snprintf(pinned, sizeof(pinned), "%s/pinned.so", g_getenv("VMMEM_TEST_PROVIDERS_DIR"));
	{
		/* Guest-adjacent throughout, but the pinned region stays
		 * apart in host memory: the run is the first region only. */
		const vmmem_region_spec_t apart[] = {
			{ .name = "a", .start = { 0 }, .size = 16384 },
			{ .name = "pinned", .start = { 16384 }, .size = 16384, .provider = pinned },
			{ .name = "c", .start = { 32768 }, .size = 16384 },
		};

		check_run_layout(apart, G_N_ELEMENTS(apart), 1);
	}
}

/* A layout too sparse for an exact table gets coarse buckets, each over
 * many regions. A bucket wholly inside one run of host-contiguous regions
 * (one delta) still answers inline; one that reaches a hole does not. Here
 * 64 regions of 64 KiB at 1 GiB (no run from guest 0) and one 4 GiB
 * further make 2 MiB buckets of 32 regions each. */
static void
test_coarse_bucket_inside_a_run(void)
{
	enum { N = 65 };
	const uint64_t base = 1ull << 30, each = 65536;
	vmmem_region_spec_t specs[N] = { 0 };
	GError *err = NULL;
	vmmem_memory_t *mem;
	uint8_t *h;

	for (size_t i = 0; i + 1 < N; i++) {
		specs[i].start = G(base + i * each);
		specs[i].size = each;
	}
	specs[N - 1].start = G(base + (4ull << 30));
	specs[N - 1].size = each;
	mem = vmmem_memory_new(specs, N, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(vmmem__view(mem)->shift, ==, 21);
	g_assert_cmphex(vmmem__view(mem)->run_end, ==, 0);
	for (size_t i = 0; i + 1 < N; i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		uint64_t at = vmmem_region_start(r).raw + 8 * i;

		g_assert_true(vmmem__small_host(mem, at, &h));
		g_assert_true(h == (uint8_t *)vmmem_region_host(r) + 8 * i);
		check_lookup_at(mem, at);
		check_lookup_at(mem, vmmem_region_last_addr(r).raw);
	}
	/* The bucket after the run holds a hole, and the far region's
	 * bucket holds mostly hole: both go out of line, and decide right. */
	g_assert_false(vmmem__small_host(mem, base + (4ull << 20), &h));
	g_assert_false(vmmem__small_host(mem, base + (4ull << 30), &h));
	check_lookup_at(mem, base + (4ull << 20));
	check_lookup_at(mem, base + (4ull << 30));
	check_lookup_at(mem, base + (4ull << 30) + each);
	vmmem_memory_unref(mem);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/layout/error/no-regions", test_no_regions);
	g_test_add_func("/layout/error/zero-size-names-region", test_zero_size);
	g_test_add_func("/layout/error/past-2-64-names-region", test_past_2_64);
	g_test_add_func("/layout/error/overlap-names-both-regions", test_overlap_names_both);
	g_test_add_func("/layout/error/not-page-aligned-names-value", test_unaligned_to_page_size);
	g_test_add_func("/layout/error/unknown-option-names-key", test_unknown_option_names_key);
	g_test_add_func("/layout/default-names-and-provider", test_default_names_and_provider);
	g_test_add_func("/layout/ref-keeps-memory-alive", test_ref_unref);
	g_test_add_func("/layout/lookup/single-region-shortcut-edges", test_single_region_shortcut);
	g_test_add_func("/layout/lookup/single-region-slice-edges", test_single_region_slice_edges);
	g_test_add_func("/layout/lookup/run-from-guest-0-ends-at-holes-and-host-gaps",
			test_run_from_guest_0);
	g_test_add_func("/layout/lookup/sparse-layout-finds-every-region", test_sparse_layout_lookup);
	g_test_add_func("/layout/lookup/coarse-bucket-inside-a-run-answers-inline",
			test_coarse_bucket_inside_a_run);
	g_test_add_func("/layout/lookup/4096-regions-agree-with-a-linear-scan", test_many_regions_lookup);
	return g_test_run();
}
