/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-hotplug-bench — what hotplug and dirty tracking cost the paths that
 * already exist, measured as ratios within one run (bench/README.md).
 *
 * stdout: "name value unit" lines, as vmmem-bench prints them (unit ns/op,
 * us/op or x for a ratio), nothing else; stderr: a '#' header.
 *
 * Every ratio is taken from two loops timed in alternation, repetition by
 * repetition, so that the drift of a shared machine hits both alike; the
 * median of --reps repetitions is printed. */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "harness.h"

#define MIB (UINT64_C(1) << 20)
#define KIB (UINT64_C(1) << 10)
#define HOT 1024u

struct bench_harness bench = { "vmmem-hotplug-bench", 0.05, 5, false, NULL };

/* This program's own options. */
static struct {
	uint64_t guest_size;
	double reader_secs;
} o = { 256 * MIB, 0.2 };
static volatile uint64_t sink;

/* ---- loops: run(ctx, n) does n operations ---- */

struct hot {
	const vmmem_memory_t *mem;
	uint64_t addr[HOT];
	uint8_t *buf;
};

static void
run_read_obj(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	const vmmem_memory_t *mem = h->mem;
	uint64_t acc = 0, v;

	for (uint64_t i = 0; i < n; i++) {
		if (!VMMEM_MEMORY_READ_OBJ(mem, vmmem_guest_addr(h->addr[i & (HOT - 1)]), &v, NULL))
			bench_fail("read_obj", NULL);
		acc += v;
	}
	sink = acc;
}

static void
run_write_obj(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	const vmmem_memory_t *mem = h->mem;

	for (uint64_t i = 0; i < n; i++)
		if (!VMMEM_MEMORY_WRITE_OBJ(mem, vmmem_guest_addr(h->addr[i & (HOT - 1)]), &i, NULL))
			bench_fail("write_obj", NULL);
}

static void
run_write_slice_4k(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	const vmmem_memory_t *mem = h->mem;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = h->addr[i & (HOT - 1)] & ~(4 * KIB - 1);
		if (!vmmem_memory_write_slice(mem, vmmem_guest_addr(a), h->buf, 4 * KIB, NULL))
			bench_fail("write_slice", NULL);
	}
}

/* A 4 KiB copy that straddles the boundary between RAM and a DIMM
 * hot-added right after it. */
static void
run_write_slice_straddle(void *ctx, uint64_t n)
{
	struct hot *h = ctx;
	const vmmem_memory_t *mem = h->mem;
	uint64_t at = h->addr[0];

	for (uint64_t i = 0; i < n; i++)
		if (!vmmem_memory_write_slice(mem, vmmem_guest_addr(at), h->buf, 4 * KIB, NULL))
			bench_fail("write_slice", NULL);
}

struct snap {
	vmmem_space_t *space;
};

static void
run_get_put(void *ctx, uint64_t n)
{
	struct snap *s = ctx;

	for (uint64_t i = 0; i < n; i++) {
		const vmmem_memory_t *m = vmmem_space_get(s->space);
		sink = (uintptr_t)m;
		vmmem_space_put(s->space, m);
	}
}

/* A line and its control in alternation: prints both and their ratio. */
static void
pair(const char *name, const char *control, const char *ratio, bench_run_fn a, void *ca, bench_run_fn b,
     void *cb)
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

/* ---- memories ---- */

static vmmem_region_spec_t *
specs_for(uint64_t size, unsigned n, uint64_t at, uint32_t flags)
{
	vmmem_region_spec_t *s = g_new0(vmmem_region_spec_t, n);

	for (unsigned i = 0; i < n; i++) {
		s[i].name = g_strdup_printf("r%u", i);
		s[i].start = vmmem_guest_addr(at + i * (size / n));
		s[i].size = size / n;
		s[i].flags = flags;
	}
	return s;
}

static void
free_specs(vmmem_region_spec_t *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		g_free((char *)s[i].name);
	g_free(s);
}

static void
prefault(const vmmem_memory_t *m)
{
	for (size_t i = 0; i < vmmem_memory_num_regions(m); i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);
		memset(vmmem_region_host(r), 1, vmmem_region_size(r));
	}
}

static vmmem_space_t *
space_new(const vmmem_region_spec_t *s, unsigned n, uint32_t flags)
{
	vmmem_space_options_t opt = { sizeof(opt), 0, flags };
	GError *err = NULL;
	vmmem_space_t *sp = vmmem_space_new(s, n, &opt, &err);

	if (!sp)
		bench_fail("vmmem_space_new", err);
	return sp;
}

static void
hot_addrs(struct hot *h, uint64_t size, uint64_t seed)
{
	uint64_t x = seed;

	for (unsigned i = 0; i < HOT; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		h->addr[i] = ((x >> 11) % size) & ~UINT64_C(7);
	}
}

/* space_read_obj_u64_hot_rN: the hot read_obj through a snapshot against
 * the same layout as an immutable memory. */
static void
space_lines(unsigned n, uint8_t *buf)
{
	char a[64], b[64], r[64];
	vmmem_region_spec_t *s = specs_for(o.guest_size, n, 0, 0);
	struct hot hs, hm;
	GError *err = NULL;
	vmmem_memory_t *mem;
	vmmem_space_t *sp;

	snprintf(a, sizeof(a), "space_read_obj_u64_hot_r%u", n);
	snprintf(b, sizeof(b), "immutable_read_obj_u64_hot_r%u", n);
	snprintf(r, sizeof(r), "space_read_obj_ratio_r%u", n);
	if (bench.list) {
		pair(a, b, r, NULL, NULL, NULL, NULL);
		free_specs(s, n);
		return;
	}
	mem = vmmem_memory_new(s, n, &err);
	if (!mem)
		bench_fail("vmmem_memory_new", err);
	sp = space_new(s, n, 0);
	hs.mem = vmmem_space_get(sp);
	prefault(hs.mem);
	prefault(mem);
	hm.mem = mem;
	hot_addrs(&hs, o.guest_size, 0x407);
	hot_addrs(&hm, o.guest_size, 0x407);
	hs.buf = hm.buf = buf;
	pair(a, b, r, run_read_obj, &hs, run_read_obj, &hm);
	vmmem_space_put(sp, hs.mem);
	vmmem_space_free(sp);
	vmmem_memory_unref(mem);
	free_specs(s, n);
}

/* snapshot_get_put_ns_held1 / _held64: one get + put while the thread already
 * holds 0 or 63 other snapshots. */
static void
snapshot_lines(void)
{
	vmmem_region_spec_t *s = specs_for(64 * MIB, 1, 0, 0);
	const vmmem_memory_t *held[63];
	struct snap sn;
	bench_run_fn run[1] = { run_get_put };
	void *ctx[1];
	double t;
	bool w1 = bench_wanted("snapshot_get_put_ns_held1", "ns/op");
	bool w64 = bench_wanted("snapshot_get_put_ns_held64", "ns/op");

	if (!w1 && !w64) {
		free_specs(s, 1);
		return;
	}
	sn.space = space_new(s, 1, 0);
	ctx[0] = &sn;
	if (w1) {
		bench_alternate(run, ctx, 1, &t);
		printf("snapshot_get_put_ns_held1 %.2f ns/op\n", t * 1e9);
	}
	if (w64) {
		for (int i = 0; i < 63; i++)
			held[i] = vmmem_space_get(sn.space);
		bench_alternate(run, ctx, 1, &t);
		for (int i = 0; i < 63; i++)
			vmmem_space_put(sn.space, held[i]);
		printf("snapshot_get_put_ns_held64 %.2f ns/op\n", t * 1e9);
	}
	fflush(stdout);
	vmmem_space_free(sn.space);
	free_specs(s, 1);
}

/* dirty_*: a hot write with tracking on against the same memory without. */
static void
dirty_lines(uint8_t *buf)
{
	vmmem_region_spec_t *on = specs_for(o.guest_size, 1, 0, VMMEM_SPEC_DIRTY_TRACKING);
	vmmem_region_spec_t *off = specs_for(o.guest_size, 1, 0, 0);
	struct hot hon, hoff;
	vmmem_space_t *son = NULL, *soff = NULL;

	if (!bench.list) {
		son = space_new(on, 1, 0);
		soff = space_new(off, 1, 0);
		hon.mem = vmmem_space_get(son);
		hoff.mem = vmmem_space_get(soff);
		prefault(hon.mem);
		prefault(hoff.mem);
		hot_addrs(&hon, o.guest_size, 0x99);
		hot_addrs(&hoff, o.guest_size, 0x99);
		hon.buf = hoff.buf = buf;
	}
	pair("dirty_on_write_obj_u64_hot", "dirty_off_write_obj_u64_hot", "dirty_write_obj_ratio",
	     run_write_obj, &hon, run_write_obj, &hoff);
	pair("dirty_on_write_slice_4k", "dirty_off_write_slice_4k", "dirty_write_slice_4k_ratio",
	     run_write_slice_4k, &hon, run_write_slice_4k, &hoff);
	if (!bench.list) {
		vmmem_space_put(son, hon.mem);
		vmmem_space_put(soff, hoff.mem);
		vmmem_space_free(son);
		vmmem_space_free(soff);
	}
	free_specs(on, 1);
	free_specs(off, 1);
}

/* readonly_*: the hot read_obj and write_obj on a memory that also has a
 * read-only region (a ROM at guest_size + 1 GiB, never touched) against
 * the same memory without it. Reads must cost nothing extra; writes go
 * out of line through the write gate, and this says what that costs. */
static void
readonly_lines(void)
{
	vmmem_region_spec_t specs[2] = {
		{ .name = "ram", .start = { 0 }, .size = o.guest_size },
		{ .name = "rom", .start = { o.guest_size + (UINT64_C(1) << 30) }, .size = 2 * MIB,
		  .flags = VMMEM_SPEC_READ_ONLY },
	};
	struct hot hro, hrw;
	GError *err = NULL;
	vmmem_memory_t *ro = NULL, *rw = NULL;

	if (!bench.list) {
		ro = vmmem_memory_new(specs, 2, &err);
		if (!ro)
			bench_fail("vmmem_memory_new (with a ROM)", err);
		rw = vmmem_memory_new(specs, 1, &err);
		if (!rw)
			bench_fail("vmmem_memory_new", err);
		memset(vmmem_region_host(vmmem_memory_region(ro, 0)), 1, o.guest_size);
		prefault(rw);
		hro.mem = ro;
		hrw.mem = rw;
		hot_addrs(&hro, o.guest_size, 0x5151);
		hot_addrs(&hrw, o.guest_size, 0x5151);
	}
	pair("readonly_read_obj_u64_hot", "readonly_none_read_obj_u64_hot",
	     "readonly_read_obj_ratio", run_read_obj, &hro, run_read_obj, &hrw);
	pair("readonly_write_obj_u64_hot", "readonly_none_write_obj_u64_hot",
	     "readonly_write_obj_ratio", run_write_obj, &hro, run_write_obj, &hrw);
	if (!bench.list) {
		vmmem_memory_unref(ro);
		vmmem_memory_unref(rw);
	}
}

/* hotplug_add_region_us_rN: adding one region to a space of N regions
 * (and, not timed, removing it again), with the guest-span reservation
 * and without it. */
static void
add_lines(unsigned n, uint32_t flags, const char *suffix)
{
	char name[64];
	uint64_t each = 64 * KIB;
	vmmem_region_spec_t *s, extra = { .name = "extra", .size = each };
	vmmem_space_t *sp;
	GError *err = NULL;
	double samples[64], total = 0;
	unsigned rounds = 0;

	snprintf(name, sizeof(name), "hotplug_add_region_us_r%u%s", n, suffix);
	if (!bench_wanted(name, "us/op"))
		return;
	s = specs_for(n * each, n, 0, 0);
	sp = space_new(s, n, flags);
	extra.start = vmmem_guest_addr(n * each);
	for (unsigned r = 0; r < bench.reps; r++) {
		double t0, t, sum = 0;
		unsigned k = 0;

		/* Each repetition: as many adds as fit in min_time, at least 3. */
		do {
			t0 = bench_now();
			if (!vmmem_space_add_region(sp, &extra, &err))
				bench_fail("vmmem_space_add_region", err);
			t = bench_now() - t0;
			sum += t;
			k++;
			if (!vmmem_space_remove_region(sp, "extra", &err))
				bench_fail("vmmem_space_remove_region", err);
		} while (k < 3 || sum < bench.min_time);
		samples[r] = sum / k;
		total += sum;
		rounds += k;
	}
	(void)total;
	(void)rounds;
	printf("%s %.2f us/op\n", name, bench_median(samples, bench.reps) * 1e6);
	fflush(stdout);
	vmmem_space_free(sp);
	free_specs(s, n);
}

/* Copies across the boundary of RAM and a DIMM hot-added right after it:
 * with the reservation they sit back to back in host memory (one memcpy);
 * without it, where mmap() put them (two copies). */
static void
placement_lines(uint8_t *buf)
{
	vmmem_region_spec_t ram = { .name = "ram", .start = { 0 }, .size = 64 * MIB };
	vmmem_region_spec_t dimm = { .name = "dimm", .start = { 64 * MIB }, .size = 64 * MIB };
	struct hot hr, hn;
	vmmem_space_t *sr = NULL, *sn = NULL;
	GError *err = NULL;

	if (!bench.list) {
		sr = space_new(&ram, 1, 0);
		sn = space_new(&ram, 1, VMMEM_SPACE_NO_RESERVATION);
		if (!vmmem_space_add_region(sr, &dimm, &err) || !vmmem_space_add_region(sn, &dimm, &err))
			bench_fail("vmmem_space_add_region", err);
		hr.mem = vmmem_space_get(sr);
		hn.mem = vmmem_space_get(sn);
		prefault(hr.mem);
		prefault(hn.mem);
		hr.addr[0] = hn.addr[0] = 64 * MIB - 2 * KIB;
		hr.buf = hn.buf = buf;
	}
	pair("hotadded_write_slice_4k_straddle_reserved", "hotadded_write_slice_4k_straddle_unplaced",
	     "hotadded_straddle_ratio_reserved_vs_unplaced", run_write_slice_straddle, &hr,
	     run_write_slice_straddle, &hn);
	if (!bench.list) {
		vmmem_space_put(sr, hr.mem);
		vmmem_space_put(sn, hn.mem);
		vmmem_space_free(sr);
		vmmem_space_free(sn);
	}
}

/* ---- readers while a writer hot-plugs ---- */

struct readers {
	vmmem_space_t *space;
	uint64_t size;
	volatile int stop;
	unsigned started;      /* __atomic: readers that have begun */
	uint64_t ops[8];
};

struct reader_arg {
	struct readers *rs;
	unsigned id;
};

/* One "request": a snapshot, 16 read_obj, put. */
static void *
reader(void *arg)
{
	struct reader_arg *a = arg;
	struct readers *rs = a->rs;
	uint64_t x = 0x12345 + a->id, ops = 0, acc = 0, v;

	__atomic_add_fetch(&rs->started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&rs->stop, __ATOMIC_RELAXED)) {
		const vmmem_memory_t *m = vmmem_space_get(rs->space);

		for (int i = 0; i < 16; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			if (!VMMEM_MEMORY_READ_OBJ(m, vmmem_guest_addr(((x >> 11) % rs->size) & ~7ull), &v,
						   NULL))
				bench_fail("reader read_obj", NULL);
			acc += v;
		}
		vmmem_space_put(rs->space, m);
		ops += 16;
	}
	sink = acc;
	__atomic_store_n(&rs->ops[a->id], ops, __ATOMIC_RELAXED);
	return NULL;
}

/* Reader throughput (reads/s) over reader_secs, with or without a writer
 * that adds and removes a DIMM 1000 times a second. */
static double
reader_throughput(vmmem_space_t *sp, uint64_t size, unsigned t, bool hotplug)
{
	struct readers rs = { .space = sp, .size = size };
	struct reader_arg args[8];
	pthread_t th[8];
	vmmem_region_spec_t dimm = { .name = "dimm", .start = { size + 64 * MIB }, .size = 2 * MIB };
	GError *err = NULL;
	double t0, end, next;
	uint64_t total = 0;
	unsigned changes = 0;

	for (unsigned i = 0; i < t; i++) {
		args[i] = (struct reader_arg){ &rs, i };
		pthread_create(&th[i], NULL, reader, &args[i]);
	}
	/* The clock starts once every reader runs: on a loaded machine (or
	 * under a sanitizer) a thread may take longer to start than a short
	 * --reader-secs lasts. */
	while (__atomic_load_n(&rs.started, __ATOMIC_ACQUIRE) < t)
		usleep(100);
	t0 = bench_now();
	end = t0 + o.reader_secs;
	next = t0;
	while (bench_now() < end) {
		if (hotplug) {
			/* 1000 changes a second: add at even ticks, remove at odd. */
			next += 0.001;
			if (!(changes & 1 ? vmmem_space_remove_region(sp, "dimm", &err)
					  : vmmem_space_add_region(sp, &dimm, &err)))
				bench_fail("hotplug writer", err);
			changes++;
			while (bench_now() < next)
				usleep(50);
		} else {
			usleep(1000);
		}
	}
	__atomic_store_n(&rs.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < t; i++) {
		pthread_join(th[i], NULL);
		total += rs.ops[i];
	}
	if (changes & 1)
		vmmem_space_remove_region(sp, "dimm", NULL);
	return (double)total / (bench_now() - t0);
}

static void
hotplug_read_lines(unsigned t)
{
	char name[64], with[64], without[64];
	vmmem_region_spec_t *s;
	vmmem_space_t *sp;
	double a[64], b[64];

	snprintf(name, sizeof(name), "hotplug_read_ratio_t%u", t);
	snprintf(with, sizeof(with), "hotplug_reads_per_us_with_writer_t%u", t);
	snprintf(without, sizeof(without), "hotplug_reads_per_us_no_writer_t%u", t);
	if (bench.list) {
		printf("%s x\n%s reads/us\n%s reads/us\n", name, with, without);
		return;
	}
	if (!bench_wanted(name, "x"))
		return;
	s = specs_for(o.guest_size, 8, 0, 0);
	sp = space_new(s, 8, 0);
	{
		const vmmem_memory_t *m = vmmem_space_get(sp);
		prefault(m);
		vmmem_space_put(sp, m);
	}
	for (unsigned r = 0; r < bench.reps; r++) {
		a[r] = reader_throughput(sp, o.guest_size, t, true);
		b[r] = reader_throughput(sp, o.guest_size, t, false);
	}
	{
		double ma = bench_median(a, bench.reps), mb = bench_median(b, bench.reps);
		printf("%s %.2f reads/us\n%s %.2f reads/us\n%s %.3f x\n", with, ma / 1e6, without,
		       mb / 1e6, name, ma / mb);
	}
	fflush(stdout);
	vmmem_space_free(sp);
	free_specs(s, 8);
}

static const char usage[] =
	"usage: vmmem-hotplug-bench [--list] [--filter SUBSTRING] [--reps N] [--min-time SECS]\n"
	"                           [--guest-size BYTES] [--reader-secs SECS]\n";

int
main(int argc, char **argv)
{
	uint8_t *buf;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int c = bench_parse_arg(argc, argv, &i, usage);

		if (c == BENCH_ARG_HELP)
			return 0;
		if (c == BENCH_ARG_DONE)
			continue;
		if (!strcmp(a, "--reader-secs") && v) {
			o.reader_secs = atof(v), i++;
		} else if (!strcmp(a, "--guest-size") && v) {
			if (vmmem_parse_size(v, &o.guest_size, NULL) != VMMEM_SIZE_OK) {
				fprintf(stderr, "vmmem-hotplug-bench: --guest-size '%s' is not a size\n", v);
				return 2;
			}
			i++;
		} else {
			return bench_bad_arg(a, usage);
		}
	}
	if (!bench_opts_valid() || o.guest_size < 16 * MIB) {
		fprintf(stderr, "vmmem-hotplug-bench: --reps 1..63, --min-time > 0, --guest-size >= 16M\n");
		return 2;
	}
	buf = mmap(NULL, 4 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0x5a, 4 * KIB);
	if (!bench.list)
		fprintf(stderr, "# vmmem-hotplug-bench %s; min_time=%gs reps=%u guest_size=%" PRIu64
			" reader_secs=%g\n", vmmem_version(), bench.min_time, bench.reps, o.guest_size,
			o.reader_secs);
	space_lines(1, buf);
	space_lines(512, buf);
	snapshot_lines();
	dirty_lines(buf);
	readonly_lines();
	add_lines(8, 0, "");
	add_lines(509, 0, "");
	add_lines(32764, 0, "");
	add_lines(509, VMMEM_SPACE_NO_RESERVATION, "_unreserved");
	placement_lines(buf);
	hotplug_read_lines(1);
	hotplug_read_lines(2);
	munmap(buf, 4 * KIB);
	return 0;
}
