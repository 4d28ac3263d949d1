/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-iotlb-bench — what accesses by IOVA cost over the guest-physical
 * ones, and what a miss and an invalidation cost (bench/README.md).
 *
 * stdout: "name value unit" lines, as vmmem-bench prints them (unit ns/op,
 * us/op or x for a ratio), nothing else; stderr: a '#' header.
 *
 * A ratio is taken from two loops timed in alternation, repetition by
 * repetition, so that the drift of a shared machine hits both alike; the
 * median of --reps repetitions is printed. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "harness.h"

#define MIB (UINT64_C(1) << 20)
#define KIB (UINT64_C(1) << 10)
#define HOT 1024u
#define IOVA_BASE UINT64_C(0x100000000)

struct opts {
	uint64_t guest_size;
};

struct bench_harness bench = { "vmmem-iotlb-bench", 0.05, 5, false, NULL };
static struct opts o = { 256 * MIB };
static volatile uint64_t sink;

/* A line and its control in alternation: prints both and their ratio. */
static void
pair(const char *name, const char *control, const char *ratio, bench_run_fn a, void *ca,
     bench_run_fn b, void *cb)
{
	bench_run_fn run[2] = { a, b };
	void *ctx[2] = { ca, cb };
	double s[2];
	bool w = bench_wanted(name, "ns/op");

	w = bench_wanted(control, "ns/op") || w;
	w = bench_wanted(ratio, "x") || w;
	if (!w)
		return;
	bench_alternate(run, ctx, 2, s);
	printf("%s %.2f ns/op\n%s %.2f ns/op\n%s %.3f x\n", name, s[0] * 1e9, control, s[1] * 1e9,
	       ratio, s[0] / s[1]);
	fflush(stdout);
}

/* ---- the hot loops ---- */

struct hot {
	vmmem_memory_t *mem;
	vmmem_iotlb_t *tlb;
	uint64_t gpa[HOT];
	uint64_t iova[HOT];
};

/* read_obj_u64_hot as vmmem-bench runs it: random aligned guest addresses. */
static void
run_read_obj(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	const vmmem_memory_t *mem = h->mem;
	uint64_t acc = 0, v;

	for (uint64_t i = 0; i < n; i++) {
		if (!VMMEM_MEMORY_READ_OBJ(mem, vmmem_guest_addr(h->gpa[i & (HOT - 1)]), &v, NULL))
			bench_fail("read_obj", NULL);
		acc += v;
	}
	sink = acc;
}

/* The same reads by IOVA, in one section (one held across a descriptor
 * chain, here across the batch: a section costs a get/put, measured in
 * vmmem-hotplug-bench). */
static void
run_iova_read_obj(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	vmmem_iova_t io;
	uint64_t acc = 0, v;

	vmmem_iova_begin(&io, h->tlb, h->mem);
	for (uint64_t i = 0; i < n; i++) {
		if (!VMMEM_IOVA_READ_OBJ(&io, h->iova[i & (HOT - 1)], &v, NULL))
			bench_fail("iova read_obj", NULL);
		acc += v;
	}
	vmmem_iova_end(&io);
	sink = acc;
}

static vmmem_memory_t *
memory_new(void)
{
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = o.guest_size };
	GError *err = NULL;
	vmmem_memory_t *m = vmmem_memory_new(&s, 1, &err);

	if (!m)
		bench_fail("vmmem_memory_new", err);
	memset(vmmem_region_host(vmmem_memory_region(m, 0)), 1, o.guest_size);
	return m;
}

static vmmem_iotlb_t *
iotlb_new(size_t max_entries)
{
	vmmem_iotlb_options_t opt = { sizeof(opt), VMMEM_IOTLB_TARGET_GUEST, max_entries };
	GError *err = NULL;
	vmmem_iotlb_t *t = vmmem_iotlb_new(&opt, &err);

	if (!t)
		bench_fail("vmmem_iotlb_new", err);
	return t;
}

static void
map(vmmem_iotlb_t *t, uint64_t iova, uint64_t size, uint64_t gpa)
{
	GError *err = NULL;

	if (!vmmem_iotlb_update(t, iova, size, gpa, VMMEM_IOTLB_RW, &err))
		bench_fail("vmmem_iotlb_update", err);
}

/* `span` bytes of guest memory reached through entries of `entry` bytes,
 * the IOVAs in reverse page order of the guest (so that no two adjacent
 * entries join); hot addresses random over the span. */
static void
hot_lines(const char *suffix, uint64_t span, uint64_t entry)
{
	char name[80], control[80], ratio[80];
	struct hot *h = g_new0(struct hot, 1);
	uint64_t seed = 0x9e3779b97f4a7c15;
	uint64_t n = span / entry;

	snprintf(name, sizeof(name), "iova_read_obj_u64_hot%s", suffix);
	snprintf(control, sizeof(control), "read_obj_u64_hot%s", suffix);
	snprintf(ratio, sizeof(ratio), "iova_read_obj_ratio%s", suffix);
	if (!bench_wanted(name, "ns/op") & !bench_wanted(control, "ns/op") & !bench_wanted(ratio, "x")) {
		g_free(h);
		return;
	}
	h->mem = memory_new();
	h->tlb = iotlb_new(n + 16);
	for (uint64_t k = 0; k < n; k++)
		map(h->tlb, IOVA_BASE + (n - 1 - k) * entry, entry, k * entry);
	for (unsigned i = 0; i < HOT; i++) {
		uint64_t g;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		g = (seed % span) & ~UINT64_C(7);
		h->gpa[i] = g;
		h->iova[i] = IOVA_BASE + (n - 1 - g / entry) * entry + g % entry;
	}
	pair(name, control, ratio, run_iova_read_obj, h, run_read_obj, h);
	vmmem_iotlb_free(h->tlb);
	vmmem_memory_unref(h->mem);
	g_free(h);
}

/* ---- a miss and its refill ---- */

struct refill {
	vmmem_memory_t *mem;
	vmmem_iotlb_t *tlb;
	uint64_t next;   /* the next IOVA page never asked for */
	uint64_t pages;
};

static vmmem_iotlb_action_t
fill(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_perm_t access, vmmem_iotlb_fault_t fault,
     void *data)
{
	struct refill *r = data;
	uint64_t page = iova & ~(4 * KIB - 1);

	(void)access;
	(void)fault;
	if (!vmmem_iotlb_update(tlb, page, 4 * KIB, (page / (4 * KIB) % r->pages) * 4 * KIB,
				VMMEM_IOTLB_RW, NULL))
		return VMMEM_IOTLB_FAIL;
	return VMMEM_IOTLB_RETRY;
}

/* Each read asks for a page not in the IOTLB: a miss, the handler's
 * update (which publishes a table and frees the old one once readers are
 * past it), the retry. */
static void
run_miss(void *ctx, uint64_t n)
{
	struct refill *r = ctx;
	uint64_t v, acc = 0;

	/* A section per miss, as a chain per miss: the tables the handler's
	 * updates replace can only go once the section that saw them ends. */
	for (uint64_t i = 0; i < n; i++) {
		vmmem_iova_t io;

		vmmem_iova_begin(&io, r->tlb, r->mem);
		if (!vmmem_iova_read_obj(&io, r->next, &v, 8, NULL))
			bench_fail("miss and refill", NULL);
		vmmem_iova_end(&io);
		r->next += 4 * KIB;
		acc += v;
	}
	sink = acc;
}

static void
miss_lines(size_t entries)
{
	char name[64];
	struct refill r;
	double s[64];
	uint64_t batch;

	snprintf(name, sizeof(name), "iotlb_miss_refill_us_e%zu", entries);
	if (!bench_wanted(name, "us/op"))
		return;
	r.mem = memory_new();
	r.tlb = iotlb_new(entries);
	r.pages = o.guest_size / (4 * KIB);
	r.next = IOVA_BASE;
	vmmem_iotlb_set_miss_handler(r.tlb, fill, &r);
	/* Fill the IOTLB first: the steady state evicts one entry per miss. */
	run_miss(&r, entries);
	batch = bench_calibrate(run_miss, &r);
	for (unsigned k = 0; k < bench.reps; k++) {
		double t = bench_now();
		run_miss(&r, batch);
		s[k] = (bench_now() - t) / (double)batch;
	}
	printf("%s %.2f us/op\n", name, bench_median(s, bench.reps) * 1e6);
	fflush(stdout);
	vmmem_iotlb_free(r.tlb);
	vmmem_memory_unref(r.mem);
}

/* ---- one invalidation while readers run ---- */

struct inval {
	vmmem_memory_t *mem;
	vmmem_iotlb_t *tlb;
	int stop;       /* __atomic */
	int running;    /* __atomic */
	uint64_t reads; /* __atomic */
};

static void *
reader(void *arg)
{
	struct inval *st = arg;
	uint64_t reads = 0;

	__atomic_add_fetch(&st->running, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		vmmem_iova_t io;
		uint64_t v;

		/* One descriptor chain: a section, a few reads. */
		vmmem_iova_begin(&io, st->tlb, st->mem);
		for (unsigned k = 0; k < 8; k++)
			if (VMMEM_IOVA_READ_OBJ(&io, IOVA_BASE + 8 * k, &v, NULL))
				sink = v;
		vmmem_iova_end(&io);
		reads += 8;
	}
	__atomic_add_fetch(&st->reads, reads, __ATOMIC_RELAXED);
	return NULL;
}

static void
invalidate_lines(unsigned threads)
{
	char name[64];
	struct inval st = { 0 };
	pthread_t th[8];
	double s[64];
	GError *err = NULL;

	snprintf(name, sizeof(name), "iotlb_invalidate_us_readers%u", threads);
	if (!bench_wanted(name, "us/op"))
		return;
	st.mem = memory_new();
	st.tlb = iotlb_new(0);
	map(st.tlb, IOVA_BASE, 2 * MIB, 0);
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, reader, &st);
	while (__atomic_load_n(&st.running, __ATOMIC_ACQUIRE) < (int)threads)
		sched_yield();
	for (unsigned k = 0; k < bench.reps; k++) {
		uint64_t n = 0;
		double busy = 0, end = bench_now() + bench.min_time;

		/* Each round: map a page the readers do not read, invalidate it
		 * (a grace period all the same). */
		while (bench_now() < end || n < 4) {
			double t;

			map(st.tlb, IOVA_BASE + 4 * MIB, 4 * KIB, 4 * MIB);
			t = bench_now();
			if (!vmmem_iotlb_invalidate(st.tlb, IOVA_BASE + 4 * MIB, 4 * KIB, &err))
				bench_fail("vmmem_iotlb_invalidate", err);
			busy += bench_now() - t;
			n++;
		}
		s[k] = busy / (double)n;
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("%s %.2f us/op\n", name, bench_median(s, bench.reps) * 1e6);
	fflush(stdout);
	vmmem_iotlb_free(st.tlb);
	vmmem_memory_unref(st.mem);
}

static const char usage[] =
	"usage: vmmem-iotlb-bench [--list] [--filter SUBSTRING] [--reps N] [--min-time SECS]\n"
	"                         [--guest-size BYTES]\n";

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int c = bench_parse_arg(argc, argv, &i, usage);

		if (c == BENCH_ARG_HELP)
			return 0;
		if (c == BENCH_ARG_DONE)
			continue;
		if (!strcmp(a, "--guest-size") && v) {
			if (vmmem_parse_size(v, &o.guest_size, NULL) != VMMEM_SIZE_OK) {
				fprintf(stderr, "vmmem-iotlb-bench: --guest-size '%s' is not a size\n", v);
				return 2;
			}
			i++;
		} else {
			return bench_bad_arg(a, usage);
		}
	}
	if (!bench_opts_valid() || o.guest_size < 16 * MIB ||
	    o.guest_size % (2 * MIB)) {
		fprintf(stderr, "vmmem-iotlb-bench: --reps 1..63, --min-time > 0, --guest-size >= 16M "
				"(a multiple of 2M)\n");
		return 2;
	}
	if (!bench.list)
		fprintf(stderr, "# vmmem-iotlb-bench %s; min_time=%gs reps=%u guest_size=%" PRIu64 "\n",
			vmmem_version(), bench.min_time, bench.reps, o.guest_size);
	/* Warm: the hot addresses inside one 2 MiB entry (a ring and its
	 * buffers in one mapping), so the section's last hit serves them. */
	hot_lines("", 2 * MIB, 2 * MIB);
	/* Spread: every access in another of the 2 MiB entries. */
	hot_lines("_spread_2m", o.guest_size, 2 * MIB);
	/* Spread over 4 KiB entries (an IOMMU without huge pages). */
	hot_lines("_spread_4k", 16 * MIB, 4 * KIB);
	miss_lines(64);
	miss_lines(VMMEM_IOTLB_DEFAULT_MAX_ENTRIES);
	invalidate_lines(0);
	invalidate_lines(2);
	return 0;
}
