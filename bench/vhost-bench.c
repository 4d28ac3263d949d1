/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-bench — what a vhost-user backend pays per translation and
 * per hot-added slot (bench/README.md, "vhost-user").
 *
 * stdout: "name value unit" lines as the other benches print them; stderr:
 * a '#' header. Tables are built through the real message functions
 * (ADD_MEM_REG with memfds), so the snapshot measured is the one a
 * backend would read.
 *
 * Layout at N slots: slot i is a 1 MiB memfd at guest i * 2 MiB (holes
 * between, as DIMMs behind a gap) and at frontend address base + i * 4
 * MiB. Addresses are uniform over the backed bytes, 1024 of them cycled,
 * so the lines measure the lookup, not the cache misses of the data. */
#define _GNU_SOURCE
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

#ifdef VMMEM_BENCH_DPDK
/* The C peer: DPDK's inline lookup over the same table (headers only). */
#include <rte_vhost.h>
#endif

#define MIB (UINT64_C(1) << 20)
#define SLOT MIB
#define GPA(i) ((uint64_t)(i) * 2 * MIB)
#define UVA(i) (UINT64_C(0x7f0000000000) + (uint64_t)(i) * 4 * MIB)
#define HOT 1024u
#define LEN 64 /* bytes translated: a descriptor's buffer head */

struct bench_harness bench = { "vmmem-vhost-bench", 0.05, 5, false, NULL };
static volatile uintptr_t sink;

/* ---- building a table through the messages ---- */

static int
slot_fd(void)
{
	int fd = memfd_create("vhost-bench", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)SLOT) != 0)
		bench_fail("memfd", NULL);
	return fd;
}

static void
mem_reg(vmmem_vhost_mem_t *vm, bool add, unsigned i, int fd)
{
	vmmem_vhost_mem_region_t r = { GPA(i), SLOT, UVA(i), 0 };
	uint8_t p[40] = { 0 };
	GError *err = NULL;
	bool ok;

	memcpy(p + 8, &r, sizeof(r));
	ok = add ? vmmem_vhost_mem_add_mem_reg(vm, p, sizeof(p), &fd, 1, &err)
		 : vmmem_vhost_mem_rem_mem_reg(vm, p, sizeof(p), &fd, fd >= 0, &err);
	if (!ok)
		bench_fail(add ? "ADD_MEM_REG" : "REM_MEM_REG", err);
}

static vmmem_vhost_mem_t *
table(unsigned n)
{
	GError *err = NULL;
	vmmem_vhost_mem_t *vm = vmmem_vhost_mem_new(NULL, &err);

	if (!vm)
		bench_fail("vmmem_vhost_mem_new", err);
	for (unsigned i = 0; i < n; i++)
		mem_reg(vm, true, i, slot_fd());
	return vm;
}

/* ---- translation lines ---- */

struct xlate {
	const vmmem_memory_t *m;
	uint64_t gpa[HOT], uva[HOT];
#ifdef VMMEM_BENCH_DPDK
	struct rte_vhost_memory *dpdk;
#endif
};

static void
run_gpa(void *ctx, uint64_t n)
{
	struct xlate *x = ctx;
	uintptr_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t len = LEN;
		void *h = vmmem_vhost_gpa_to_host(x->m, vmmem_guest_addr(x->gpa[i & (HOT - 1)]), &len);

		if (!h || len != LEN)
			bench_fail("gpa_to_host", NULL);
		acc += (uintptr_t)h;
	}
	sink = acc;
}

static void
run_uva(void *ctx, uint64_t n)
{
	struct xlate *x = ctx;
	uintptr_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		void *h = vmmem_vhost_uva_to_host(x->m, x->uva[i & (HOT - 1)], LEN, NULL);

		if (!h)
			bench_fail("uva_to_host", NULL);
		acc += (uintptr_t)h;
	}
	sink = acc;
}

#ifdef VMMEM_BENCH_DPDK
static void
run_dpdk(void *ctx, uint64_t n)
{
	struct xlate *x = ctx;
	uintptr_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t len = LEN, va = rte_vhost_va_from_guest_pa(x->dpdk, x->gpa[i & (HOT - 1)], &len);

		if (!va || len != LEN)
			bench_fail("rte_vhost_va_from_guest_pa", NULL);
		acc += (uintptr_t)va;
	}
	sink = acc;
}

/* DPDK's table for the snapshot's regions, in guest order as DPDK keeps
 * the SET_MEM_TABLE order. */
static struct rte_vhost_memory *
dpdk_table(const vmmem_memory_t *m)
{
	size_t n = vmmem_memory_num_regions(m);
	struct rte_vhost_memory *t = g_malloc0(sizeof(*t) + n * sizeof(t->regions[0]));

	t->nregions = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);

		t->regions[i].guest_phys_addr = vmmem_region_start(r).raw;
		t->regions[i].guest_user_addr = UVA(i);
		t->regions[i].host_user_addr = (uint64_t)(uintptr_t)vmmem_region_host(r);
		t->regions[i].size = vmmem_region_size(r);
	}
	return t;
}
#endif

/* vhost_gpa_to_va_rand_rN (vmmem_vhost_gpa_to_host of 64 bytes: the
 * inline bounds-checked guest lookup), vhost_uva_to_va_rand_rN (the frontend-address table)
 * and, with DPDK installed, dpdk_gpa_to_va_rand_rN (its inline lookup on
 * the same regions and addresses), timed in alternation. */
static void
xlate_lines(unsigned n)
{
	char name[3][64], ratio[64];
	struct xlate x;
	vmmem_vhost_mem_t *vm;
	vmmem_space_t *sp;
	bench_run_fn run[3] = { run_gpa, run_uva, NULL };
	void *ctx[3] = { &x, &x, &x };
	unsigned k_n = 2;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ n;
	double med[3];
	bool w;

	snprintf(name[0], sizeof(name[0]), "vhost_gpa_to_va_rand_r%u", n);
	snprintf(name[1], sizeof(name[1]), "vhost_uva_to_va_rand_r%u", n);
	snprintf(name[2], sizeof(name[2]), "dpdk_gpa_to_va_rand_r%u", n);
	snprintf(ratio, sizeof(ratio), "vhost_gpa_to_va_vs_dpdk_r%u", n);
#ifdef VMMEM_BENCH_DPDK
	run[2] = run_dpdk;
	k_n = 3;
#endif
	w = false;
	for (unsigned k = 0; k < k_n; k++)
		w = bench_wanted(name[k], "ns/op") || w;
	if (k_n == 3)
		w = bench_wanted(ratio, "x") || w;
	if (!w)
		return;
	vm = table(n);
	sp = vmmem_vhost_mem_space(vm);
	for (unsigned i = 0; i < HOT; i++) {
		uint64_t slot, off;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		slot = (seed >> 33) % n;
		off = ((seed >> 11) % (SLOT - LEN)) & ~UINT64_C(7);
		x.gpa[i] = GPA(slot) + off;
		x.uva[i] = UVA(slot) + off;
	}
	x.m = vmmem_space_get(sp);
#ifdef VMMEM_BENCH_DPDK
	x.dpdk = dpdk_table(x.m);
#endif
	bench_alternate(run, ctx, k_n, med);
	vmmem_space_put(sp, x.m);
	for (unsigned k = 0; k < k_n; k++)
		printf("%s %.2f ns/op\n", name[k], med[k] * 1e9);
	if (k_n == 3)
		printf("%s %.3f x\n", ratio, med[0] / med[2]);
	fflush(stdout);
#ifdef VMMEM_BENCH_DPDK
	g_free(x.dpdk);
#endif
	vmmem_vhost_mem_free(vm);
}

/* ---- vhost_add_mem_reg_us: ADD_MEM_REG of slot 509 under readers ---- */

struct readers {
	vmmem_space_t *space;
	unsigned n;
	int stop;
	uint64_t ops;
};

static void *
reader(void *arg)
{
	struct readers *rs = arg;
	uint64_t x = 0x1234567, ops = 0, v, acc = 0;

	while (!__atomic_load_n(&rs->stop, __ATOMIC_RELAXED)) {
		const vmmem_memory_t *m = vmmem_space_get(rs->space);

		for (int i = 0; i < 16; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* The first page of each slot only: reads of the
			 * rest would allocate shmem pages for nothing. */
			if (!VMMEM_MEMORY_READ_OBJ(m, vmmem_guest_addr(GPA((x >> 33) % rs->n) +
								       (((x >> 11) % 4096) & ~7ull)),
						   &v, NULL))
				bench_fail("reader read_obj", NULL);
			acc += v;
		}
		vmmem_space_put(rs->space, m);
		ops += 16;
	}
	sink = acc;
	__atomic_add_fetch(&rs->ops, ops, __ATOMIC_RELAXED);
	return NULL;
}

/* With a reader thread (the line the issue asks for) and, as its
 * control, without: the difference is the grace period, which on a
 * loaded machine is the reader's wait for a CPU. */
static void
add_lines(const char *name, bool with_reader)
{
	const unsigned n = 508; /* the add fills the 509th slot */
	struct readers rs = { .n = n };
	vmmem_vhost_mem_t *vm;
	pthread_t th;
	double samples[64], t0 = bench_now();
	unsigned total = 0;

	if (!bench_wanted(name, "us/op"))
		return;
	vm = table(n);
	rs.space = vmmem_vhost_mem_space(vm);
	if (with_reader)
		pthread_create(&th, NULL, reader, &rs);
	for (unsigned r = 0; r < bench.reps; r++) {
		double sum = 0;
		unsigned k = 0;

		do {
			int fd = slot_fd(); /* not timed: the frontend's work */
			double t = bench_now();

			mem_reg(vm, true, n, fd);
			sum += bench_now() - t;
			k++;
			mem_reg(vm, false, n, -1);
		} while (k < 3 || sum < bench.min_time);
		samples[r] = sum / k;
		total += k;
	}
	__atomic_store_n(&rs.stop, 1, __ATOMIC_RELAXED);
	if (with_reader)
		pthread_join(th, NULL);
	fprintf(stderr, "# %s: %u adds at 509 slots, reader did %.1f reads/us\n", name, total,
		(double)rs.ops / ((bench_now() - t0) * 1e6));
	printf("%s %.2f us/op\n", name, bench_median(samples, bench.reps) * 1e6);
	fflush(stdout);
	vmmem_vhost_mem_free(vm);
}

static const char usage[] =
	"usage: vmmem-vhost-bench [--list] [--filter SUBSTRING] [--reps N] [--min-time SECS]\n";

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int c = bench_parse_arg(argc, argv, &i, usage);

		if (c == BENCH_ARG_HELP)
			return 0;
		if (c != BENCH_ARG_DONE)
			return bench_bad_arg(argv[i], usage);
	}
	if (!bench_opts_valid()) {
		fprintf(stderr, "vmmem-vhost-bench: bad --reps (1..63) or --min-time (> 0)\n");
		return 2;
	}
	if (!bench.list)
		fprintf(stderr, "# vmmem-vhost-bench %s; min_time=%gs reps=%u\n", vmmem_version(),
			bench.min_time, bench.reps);
	xlate_lines(1);
	xlate_lines(8);
	xlate_lines(509);
	add_lines("vhost_add_mem_reg_us", true);
	add_lines("vhost_add_mem_reg_us_no_readers", false);
	return 0;
}
