/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-bench — times vmmem on the workloads of the Rust vm-memory peer
 * (../shared/peers/rust-vm-memory), line for line, next to raw host-memory
 * limits measured the same way, plus a few lines the peer lacks (see
 * bench/README.md).
 *
 * stdout: one line per measurement, "name value unit" (ns/op or GB/s, GB =
 * 10^9 bytes), nothing else. stderr: a '#' header and the total time.
 *
 * Method, shared with the peer so that lines compare one to one:
 * - guest memory: --guest-size bytes (1 GiB) at guest address 0, N equal
 *   regions from the mmap provider (private, anonymous, no reserve: the
 *   flags vm-memory uses), every page prefaulted by a write;
 * - addresses: SplitMix64 over a Weyl sequence, seeded per line exactly as
 *   the peer seeds it, and a fixed table of 1024 random "hot" addresses;
 * - timing: the batch size is calibrated so one repetition lasts at least
 *   --min-time, then --reps repetitions run and the median is printed;
 * - sinks: reads are summed into a volatile sink, buffers pass through an
 *   empty asm with a memory clobber, so nothing is optimised away;
 * - host buffers are page aligned (their own mmap): glibc's memcpy is many
 *   times slower for some (dst - src) mod 4096 offsets that a malloc'd
 *   buffer would hit, and the benchmark would measure that instead.
 *
 * Every access is checked; a failure aborts the run with the library's
 * message, as the peer's unwrap() does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define PAGE UINT64_C(4096)
#define HOT_ADDRS 1024u
#define PIPE_LEN (64 * 1024)

static const unsigned region_counts[] = { 1, 8, 64, 512 };
/* Only for the extra lookup lines: a count where a binary search would
 * need 12 steps. */
#define MANY_REGIONS 4096u
/* The "_table" lines: the same memories placed at guest address
 * --guest-size instead of 0 (see table_lines). */
static const unsigned table_counts[] = { 1, 512, MANY_REGIONS };

static const struct {
	size_t size;
	const char *tag;
} slice_sizes[] = { { 4 * 1024, "4k" }, { 64 * 1024, "64k" }, { 1024 * 1024, "1m" } };

/* ---- options --------------------------------------------------------- */

#define MAX_FILTERS 64
#define MAX_REPS 1000 /* the --reps bound in its error message */

struct opts {
	double min_time;
	unsigned reps;
	uint64_t seed;
	const char *filter[MAX_FILTERS];
	unsigned n_filter;
	bool thp;
	int cpu;            /* -1: not pinned */
	bool list;
	uint64_t guest_size;
};

static const char usage[] =
	"usage: vmmem-bench [--min-time SECS] [--reps N] [--seed N] [--filter SUBSTR]...\n"
	"                   [--thp] [--cpu N] [--guest-size SIZE] [--list] [--help]\n"
	"  --min-time SECS   minimum duration of one timed repetition (default 0.25)\n"
	"  --reps N          timed repetitions per measurement, median reported (default 3)\n"
	"  --seed N          PRNG base seed, decimal or 0x hex (default 0x5eed)\n"
	"  --filter SUBSTR   run only measurements whose name contains SUBSTR (repeatable)\n"
	"  --thp             madvise(MADV_HUGEPAGE) all guest/baseline memory (default: the\n"
	"                    kernel default; with THP=madvise this means 4 KiB pages)\n"
	"  --cpu N           pin to CPU N before measuring\n"
	"  --guest-size SIZE guest and baseline memory size, a power of two >= 16M with an\n"
	"                    optional K/M/G suffix (default 1G). Smaller sizes are for smoke\n"
	"                    tests only: their numbers do not compare with the peer's.\n"
	"  --list            print the measurement names and units, and exit\n"
	"Output: one line per measurement on stdout: `name value unit` (unit ns/op or GB/s).\n"
	"The peer's environment: VMMEM_PROVIDER_PATH must find the mmap provider.\n";

static void G_GNUC_NORETURN
die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	exit(2);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*out = strtoull(s, &end, base);
	return errno == 0 && *end == '\0';
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	o->min_time = 0.25;
	o->reps = 3;
	o->seed = 0x5eed;
	o->n_filter = 0;
	o->thp = false;
	o->cpu = -1;
	o->list = false;
	o->guest_size = GIB;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		uint64_t n;
		char *end;

		if (!strcmp(a, "--thp")) {
			o->thp = true;
			continue;
		}
		if (!strcmp(a, "--list")) {
			o->list = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(a, "--min-time") && strcmp(a, "--reps") && strcmp(a, "--seed") &&
		    strcmp(a, "--filter") && strcmp(a, "--cpu") && strcmp(a, "--guest-size"))
			die_usage("unknown argument %s", a);
		if (i + 1 >= argc)
			die_usage("%s needs a value", a);
		v = argv[++i];
		if (!strcmp(a, "--min-time")) {
			errno = 0;
			o->min_time = strtod(v, &end);
			if (errno || end == v || *end || !(o->min_time > 0))
				die_usage("bad --min-time '%s' (a positive number of seconds)", v);
		} else if (!strcmp(a, "--reps")) {
			if (!parse_u64(v, &n) || n == 0 || n > MAX_REPS)
				die_usage("bad --reps '%s' (1 to 1000)", v);
			o->reps = (unsigned)n;
		} else if (!strcmp(a, "--seed")) {
			if (!parse_u64(v, &o->seed))
				die_usage("bad --seed '%s'", v);
		} else if (!strcmp(a, "--filter")) {
			if (o->n_filter == MAX_FILTERS)
				die_usage("more than 64 --filter options (at %s)", v);
			o->filter[o->n_filter++] = v;
		} else if (!strcmp(a, "--cpu")) {
			if (!parse_u64(v, &n) || n >= CPU_SETSIZE)
				die_usage("bad --cpu '%s'", v);
			o->cpu = (int)n;
		} else {
			if (vmmem_parse_size(v, &n, NULL) != VMMEM_SIZE_OK || n < 16 * MIB || (n & (n - 1)) || n > 64 * GIB)
				die_usage("bad --guest-size '%s' (a power of two, 16M to 64G)", v);
			o->guest_size = n;
		}
	}
}

/* ---- the address generator (SplitMix64), as the peer defines it ------- */

struct rng {
	uint64_t s;
};

static struct rng
rng_new(uint64_t seed, uint64_t stream)
{
	struct rng r = { seed ^ (stream * UINT64_C(0xD6E8FEB86659FD93)) };
	return r;
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t z;

	r->s += UINT64_C(0x9E3779B97F4A7C15);
	z = r->s;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* An 8-aligned offset in [0, size); size is a power of two. */
static inline uint64_t
rand_u64_off(uint64_t r, uint64_t size)
{
	return r & (size - 1) & ~UINT64_C(7);
}

/* A page-aligned offset with [off, off + len) inside [0, limit). */
static inline uint64_t
rand_page_off(uint64_t r, uint64_t len, uint64_t limit)
{
	uint64_t off = r & (limit - 1) & ~(PAGE - 1);

	return off < limit - len ? off : limit - len;
}

/* ---- sinks -------------------------------------------------------------- */

static volatile uint64_t sink;

/* The compiler must assume the buffer is read and written here. */
static inline void
escape(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void G_GNUC_NORETURN
fail(const char *what, GError *error)
{
	fprintf(stderr, "vmmem-bench: %s failed: %s\n", what,
		error ? error->message : "(no message)");
	exit(1);
}

#define CHECK(ok, what)                                                  \
	do {                                                             \
		if (__builtin_expect(!(ok), 0))                          \
			fail(what, NULL);                                \
	} while (0)

/* ---- timing harness ------------------------------------------------------ */

/* Everything one measured loop needs; each line fills in what it uses. */
struct work {
	const vmmem_memory_t *mem;
	uint8_t *raw;          /* the baseline mapping */
	uint64_t size;         /* of the guest memory / baseline mapping */
	const uint64_t *hot;
	struct rng rng;
	uint8_t *buf;          /* page-aligned host buffer */
	const uint8_t *src;    /* a second one, for memcpy_hot_* */
	size_t len;
	uint64_t region;       /* region size, for the boundary lines */
	uint64_t back;         /* how far before a boundary an access starts */
	uint64_t addr;         /* a fixed guest address */
	int pipe_r, pipe_w;
};

typedef void (*run_fn)(struct work *w, uint64_t iters);

struct bench {
	struct opts o;
	/* Probe pass: only note whether a block has a wanted line, so that
	 * its (expensive) guest memory is built only when needed. */
	bool probing;
	bool probe_hit;
};

static bool
wanted(const struct bench *b, const char *name)
{
	if (b->o.n_filter == 0)
		return true;
	for (unsigned i = 0; i < b->o.n_filter; i++)
		if (strstr(name, b->o.filter[i]))
			return true;
	return false;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The batch size for one repetition of about --min-time; run(w, n)
 * performs exactly n operations. */
static uint64_t
calibrate(const struct bench *b, run_fn run, struct work *w)
{
	uint64_t n = 8, n_rep;
	double per_op, t, dt;

	for (;;) {
		t = now();
		run(w, n);
		dt = now() - t;
		if (dt >= b->o.min_time * 0.1) {
			per_op = dt / (double)n;
			break;
		}
		n *= dt < b->o.min_time * 0.001 ? 16 : 2;
	}
	n_rep = (uint64_t)(b->o.min_time / per_op + 0.999999);
	return n_rep ? n_rep : 1;
}

static double
seconds_per_op(run_fn run, struct work *w, uint64_t n_rep)
{
	double t = now();

	run(w, n_rep);
	return (now() - t) / (double)n_rep;
}

static double
median(double *samples, unsigned n)
{
	qsort(samples, n, sizeof(double), cmp_double);
	return samples[n / 2];
}

/* Whether to time `name`: prints it in --list mode, records it in the
 * probe pass. */
static bool
should_run(struct bench *b, const char *name, const char *unit)
{
	if (b->o.list) {
		if (!b->probing)
			printf("%s %s\n", name, unit);
		return false;
	}
	if (!wanted(b, name))
		return false;
	if (b->probing) {
		b->probe_hit = true;
		return false;
	}
	return true;
}

/* One member of a group of lines timed in alternation. */
struct member {
	const char *name;
	size_t bytes;          /* per op for a GB/s line; 0 for ns/op */
	run_fn run;
	struct work w;
};

#define MAX_MEMBERS 4

/* Times k lines in alternation (one repetition of each in turn, then the
 * next round) and prints each one's median; line_ns and line_gbps are
 * groups of one. Used for a line and the limit it is judged against. Timed one after the other, a line and
 * its limit are a minute apart in a run, and on a shared VM host the
 * machine drifts by more than the 5% the targets allow; in alternation a
 * drift hits both alike. */
static void
line_group(struct bench *b, struct member *m, unsigned k)
{
	bool on[MAX_MEMBERS];
	uint64_t n_rep[MAX_MEMBERS];
	double samples[MAX_MEMBERS][MAX_REPS];
	unsigned active = 0;

	if (k > MAX_MEMBERS)
		abort(); /* a programming error in this file */
	for (unsigned i = 0; i < k; i++) {
		on[i] = should_run(b, m[i].name, m[i].bytes ? "GB/s" : "ns/op");
		active += on[i];
	}
	if (!active)
		return;
	for (unsigned i = 0; i < k; i++)
		if (on[i])
			n_rep[i] = calibrate(b, m[i].run, &m[i].w);
	for (unsigned r = 0; r < b->o.reps; r++)
		for (unsigned i = 0; i < k; i++)
			if (on[i])
				samples[i][r] = seconds_per_op(m[i].run, &m[i].w, n_rep[i]);
	for (unsigned i = 0; i < k; i++) {
		double s;

		if (!on[i])
			continue;
		s = median(samples[i], b->o.reps);
		if (m[i].bytes)
			printf("%s %.2f GB/s\n", m[i].name, (double)m[i].bytes / s / 1e9);
		else
			printf("%s %.2f ns/op\n", m[i].name, s * 1e9);
	}
	fflush(stdout);
}

static void
line_ns(struct bench *b, const char *name, run_fn run, struct work w)
{
	line_group(b, &(struct member){ name, 0, run, w }, 1);
}

static void
line_gbps(struct bench *b, const char *name, size_t bytes, run_fn run, struct work w)
{
	line_group(b, &(struct member){ name, bytes, run, w }, 1);
}

/* ---- memory setup ------------------------------------------------------- */

/* Writes every page so that timed loops take no page faults (a read would
 * map the shared zero page instead). */
static void
advise_and_prefault(uint8_t *host, uint64_t len, bool thp)
{
	if (thp)
		madvise(host, len, MADV_HUGEPAGE);
	for (uint64_t off = 0; off < len; off += PAGE)
		*(volatile uint64_t *)(void *)(host + off) = off ^ 0xA5A5A5A5u;
}

/* A private anonymous mapping with the flags vm-memory uses, prefaulted. */
static uint8_t *
raw_map(uint64_t len, bool thp)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "vmmem-bench: mmap of %" PRIu64 " bytes failed: %s\n", len,
			strerror(errno));
		exit(1);
	}
	advise_and_prefault(p, len, thp);
	return p;
}

/* `size` bytes at guest address `at` in `n` equal regions of the mmap
 * provider. */
static vmmem_memory_t *
make_guest(uint64_t size, unsigned n, bool thp, uint64_t at)
{
	vmmem_region_spec_t *specs = g_new0(vmmem_region_spec_t, n);
	uint64_t each = size / n;
	GError *error = NULL;
	vmmem_memory_t *mem;

	for (unsigned i = 0; i < n; i++) {
		specs[i].start = vmmem_guest_addr(at + i * each);
		specs[i].size = each;
		specs[i].provider = "mmap";
	}
	mem = vmmem_memory_new(specs, n, &error);
	g_free(specs);
	if (!mem)
		fail("vmmem_memory_new", error);
	if (vmmem_memory_num_regions(mem) != n)
		fail("region count", NULL);
	for (unsigned i = 0; i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		advise_and_prefault(vmmem_region_host(r), vmmem_region_size(r), thp);
	}
	return mem;
}

/* ---- guest workloads ----------------------------------------------------- */

static void
run_read_obj_rand(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	struct rng rng = w->rng; /* in a register, not in *w */
	uint64_t acc = 0, v;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_u64_off(rng_next(&rng), w->size);
		CHECK(VMMEM_MEMORY_READ_OBJ(mem, vmmem_guest_addr(a), &v, NULL), "read_obj");
		acc += v;
	}
	sink = acc;
	w->rng = rng;
}

static void
run_write_obj_rand(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	struct rng rng = w->rng; /* in a register, not in *w */
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t r = rng_next(&rng);
		CHECK(VMMEM_MEMORY_WRITE_OBJ(mem, vmmem_guest_addr(rand_u64_off(r, w->size)), &r,
					     NULL),
		      "write_obj");
	}
	w->rng = rng;
}

static void
run_read_obj_hot(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint64_t *hot = w->hot;
	uint64_t acc = 0, v;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = hot[i & (HOT_ADDRS - 1)];
		CHECK(VMMEM_MEMORY_READ_OBJ(mem, vmmem_guest_addr(a), &v, NULL), "read_obj");
		acc += v;
	}
	sink = acc;
}

static void
run_write_obj_hot(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint64_t *hot = w->hot;
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = hot[i & (HOT_ADDRS - 1)];
		CHECK(VMMEM_MEMORY_WRITE_OBJ(mem, vmmem_guest_addr(a), &i, NULL), "write_obj");
	}
}

static void
run_load_hot(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint64_t *hot = w->hot;
	uint64_t acc = 0, v;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = hot[i & (HOT_ADDRS - 1)];
		CHECK(vmmem_memory_load_u64(mem, vmmem_guest_addr(a), &v, memory_order_acquire,
					    NULL),
		      "load_u64");
		acc += v;
	}
	sink = acc;
}

static void
run_store_hot(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint64_t *hot = w->hot;
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = hot[i & (HOT_ADDRS - 1)];
		CHECK(vmmem_memory_store_u64(mem, vmmem_guest_addr(a), i, memory_order_release,
					     NULL),
		      "store_u64");
	}
}

/* The peer folds r.start_addr(), an inline field read; the region handle
 * is opaque here (its accessors are out of line), so the handle itself is
 * folded: the same dependency on the lookup's result. */
static void
run_find_region_rand(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	struct rng rng = w->rng; /* in a register, not in *w */
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_u64_off(rng_next(&rng), w->size);
		const vmmem_region_t *r = vmmem_memory_find_region(mem, vmmem_guest_addr(a));
		CHECK(r != NULL, "find_region");
		acc += (uintptr_t)r;
	}
	sink = acc;
	w->rng = rng;
}

static void
run_find_region_hot(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint64_t *hot = w->hot;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = hot[i & (HOT_ADDRS - 1)];
		const vmmem_region_t *r = vmmem_memory_find_region(mem, vmmem_guest_addr(a));
		CHECK(r != NULL, "find_region");
		acc += (uintptr_t)r;
	}
	sink = acc;
}

static void
run_read_slice_rand(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t size = w->size;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_page_off(rng_next(&rng), len, size);
		CHECK(vmmem_memory_read_slice(mem, vmmem_guest_addr(a), buf, len, NULL),
		      "read_slice");
		escape(buf);
	}
	w->rng = rng;
}

static void
run_write_slice_rand(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t size = w->size;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_page_off(rng_next(&rng), len, size);
		escape(buf);
		CHECK(vmmem_memory_write_slice(mem, vmmem_guest_addr(a), buf, len, NULL),
		      "write_slice");
	}
	w->rng = rng;
}

static void
run_read_slice_fixed(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t a = w->addr;

	for (uint64_t i = 0; i < iters; i++) {
		CHECK(vmmem_memory_read_slice(mem, vmmem_guest_addr(a), buf, len, NULL),
		      "read_slice");
		escape(buf);
	}
}

static void
run_write_slice_fixed(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t a = w->addr;

	for (uint64_t i = 0; i < iters; i++) {
		escape(buf);
		CHECK(vmmem_memory_write_slice(mem, vmmem_guest_addr(a), buf, len, NULL),
		      "write_slice");
	}
}

/* 4 KiB at k * region - back, k random in 1..7 (of 8 regions). */
static void
run_write_slice_boundary(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	const uint8_t *buf = w->buf;
	uint64_t region = w->region, back = w->back;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t k = 1 + rng_next(&rng) % 7;
		escape(buf);
		CHECK(vmmem_memory_write_slice(mem, vmmem_guest_addr(k * region - back), buf, 4096,
					       NULL),
		      "write_slice");
	}
	w->rng = rng;
}

static void
run_read_slice_boundary(struct work *w, uint64_t iters)
{
	const vmmem_memory_t *mem = w->mem;
	uint8_t *buf = w->buf;
	uint64_t region = w->region, back = w->back;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t k = 1 + rng_next(&rng) % 7;
		CHECK(vmmem_memory_read_slice(mem, vmmem_guest_addr(k * region - back), buf, 4096,
					      NULL),
		      "read_slice");
		escape(buf);
	}
	w->rng = rng;
}

/* [k * region - 2 KiB, +region + 4 KiB), k random in 1..n-2: the tail of
 * one region, a whole one and the head of the next. */
static void
run_get_iovec_3(struct work *w, uint64_t iters)
{
	uint64_t n_regions = w->size / w->region, acc = 0;
	struct iovec iov[4];
	size_t n_iov;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t k = 1 + rng_next(&w->rng) % (n_regions - 2);
		CHECK(vmmem_memory_get_iovec(w->mem, vmmem_guest_addr(k * w->region - 2048),
					     w->region + 4096, iov, 4, &n_iov, NULL) &&
			      n_iov == 3,
		      "get_iovec");
		acc += (uintptr_t)iov[1].iov_base + iov[2].iov_len;
	}
	sink = acc;
}

static void
write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		CHECK(k > 0, "write to the pipe");
		p += k;
		len -= (size_t)k;
	}
}

static void
read_all(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t k = read(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		CHECK(k > 0, "read from the pipe");
		p += k;
		len -= (size_t)k;
	}
}

/* One op: fill the pipe with 64 KiB from a host buffer, then drain it into
 * guest memory (or the host buffer, for raw_read_pipe_64k). */
static void
run_read_from_fd_pipe(struct work *w, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		size_t got = 0, k;
		write_all(w->pipe_w, w->src, PIPE_LEN);
		while (got < PIPE_LEN) {
			CHECK(vmmem_memory_read_from_fd(w->mem, vmmem_guest_addr(w->addr + got),
							w->pipe_r, PIPE_LEN - got, &k, NULL) &&
				      k > 0,
			      "read_from_fd");
			got += k;
		}
	}
}

static void
run_raw_read_pipe(struct work *w, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		write_all(w->pipe_w, w->src, PIPE_LEN);
		read_all(w->pipe_r, w->buf, PIPE_LEN);
		escape(w->buf);
	}
}

/* One op: 64 KiB from guest memory (or a host buffer) into the pipe, then
 * drained into a host buffer. */
static void
run_write_to_fd_pipe(struct work *w, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		size_t put = 0, k;
		while (put < PIPE_LEN) {
			CHECK(vmmem_memory_write_to_fd(w->mem, vmmem_guest_addr(w->addr + put),
						       w->pipe_w, PIPE_LEN - put, &k, NULL) &&
				      k > 0,
			      "write_to_fd");
			put += k;
		}
		read_all(w->pipe_r, w->buf, PIPE_LEN);
	}
}

static void
run_raw_write_pipe(struct work *w, uint64_t iters)
{
	for (uint64_t i = 0; i < iters; i++) {
		write_all(w->pipe_w, w->src, PIPE_LEN);
		read_all(w->pipe_r, w->buf, PIPE_LEN);
		escape(w->buf);
	}
}

/* base with the PRNG stream `stream` of the peer's seeding. */
static struct work
with_stream(struct work base, uint64_t seed, uint64_t stream)
{
	base.rng = rng_new(seed, stream);
	return base;
}

/* The memcpy_* limits (baselines, below) alternate with the slice lines. */
static void run_memcpy_rand_read(struct work *w, uint64_t iters);
static void run_memcpy_rand_write(struct work *w, uint64_t iters);
static void run_memcpy_hot(struct work *w, uint64_t iters);

static void
name_rn(char *out, size_t len, const char *what, unsigned n)
{
	snprintf(out, len, "%s_r%u", what, n);
}

/* The four hot lines, "<op>_hot<variant>_rN", over w's memory and hot table. */
static void
hot_lines(struct bench *b, unsigned n, const char *variant, struct work w)
{
	static const struct {
		const char *op;
		run_fn run;
	} ops[] = { { "read_obj_u64", run_read_obj_hot },
		    { "write_obj_u64", run_write_obj_hot },
		    { "load_u64", run_load_hot },
		    { "store_u64", run_store_hot } };
	char name[64];

	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
		snprintf(name, sizeof(name), "%s_hot%s_r%u", ops[i].op, variant, n);
		line_ns(b, name, ops[i].run, w);
	}
}

/* The per-region-count lines. In the probe pass mem is NULL and nothing runs. */
static void
guest_lines(struct bench *b, unsigned n, const vmmem_memory_t *mem, uint8_t *raw,
	    const uint64_t *hot, uint8_t *buf, const uint8_t *src)
{
	uint64_t seed = b->o.seed, size = b->o.guest_size;
	struct work base = { .mem = mem, .raw = raw, .size = size, .hot = hot, .buf = buf,
			     .src = src };
	char name[64];
	/* The peer's lines at the peer's region counts; at MANY_REGIONS only
	 * the lookup-cost lines. */
	bool peer = n != MANY_REGIONS;


	if (peer) {
		name_rn(name, sizeof(name), "read_obj_u64_rand", n);
		line_ns(b, name, run_read_obj_rand, with_stream(base, seed, 1));
		name_rn(name, sizeof(name), "write_obj_u64_rand", n);
		line_ns(b, name, run_write_obj_rand, with_stream(base, seed, 2));
	}
	hot_lines(b, n, "", base);
	name_rn(name, sizeof(name), "find_region_rand", n);
	line_ns(b, name, run_find_region_rand, with_stream(base, seed, 5));
	/* Extra: the lookup alone over the hot table (no PRNG in the loop). */
	name_rn(name, sizeof(name), "find_region_hot", n);
	line_ns(b, name, run_find_region_hot, base);

	if (n == 1) {
		/* Each slice line alternates with its memcpy limit, which
		 * draws its offsets from the same PRNG stream (the peer's
		 * stream numbers) in the baseline mapping. */
		for (size_t s = 0; s < G_N_ELEMENTS(slice_sizes); s++) {
			size_t len = slice_sizes[s].size;
			const char *tag = slice_sizes[s].tag;
			char n1[64], n2[64], n3[64];

			base.len = len;
			base.addr = 0x100000;
			snprintf(n1, sizeof(n1), "read_slice_rand_%s", tag);
			snprintf(n2, sizeof(n2), "memcpy_rand_read_%s", tag);
			line_group(b, (struct member[]){ { n1, len, run_read_slice_rand, with_stream(base, seed, 3) },
							 { n2, len, run_memcpy_rand_read, with_stream(base, seed, 3) } },
				   2);
			snprintf(n1, sizeof(n1), "write_slice_rand_%s", tag);
			snprintf(n2, sizeof(n2), "memcpy_rand_write_%s", tag);
			line_group(b, (struct member[]){ { n1, len, run_write_slice_rand, with_stream(base, seed, 4) },
							 { n2, len, run_memcpy_rand_write, with_stream(base, seed, 4) } },
				   2);
			snprintf(n1, sizeof(n1), "read_slice_hot_%s", tag);
			snprintf(n2, sizeof(n2), "write_slice_hot_%s", tag);
			snprintf(n3, sizeof(n3), "memcpy_hot_%s", tag);
			line_group(b, (struct member[]){ { n1, len, run_read_slice_fixed, base },
							 { n2, len, run_write_slice_fixed, base },
							 { n3, len, run_memcpy_hot, base } },
				   3);
		}
	}

	if (n == 8) {
		static const struct {
			const char *tag;
			uint64_t back;
		} where[] = { { "straddle", 2048 }, { "inside", 6144 } };

		/* Straddle and its inside control alternate, as a line and
		 * its limit do. */
		base.region = size / 8;
		for (int rd = 0; rd < 2; rd++) {
			struct member m[2];
			char nm[2][64];

			for (size_t i = 0; i < G_N_ELEMENTS(where); i++) {
				snprintf(nm[i], sizeof(nm[i]), "%s_slice_4k_%s_r8",
					 rd ? "read" : "write", where[i].tag);
				m[i] = (struct member){ nm[i], 0,
							rd ? run_read_slice_boundary
							   : run_write_slice_boundary,
							with_stream(base, seed, rd ? 7 : 6) };
				m[i].w.back = where[i].back;
			}
			line_group(b, m, 2);
		}
	}

	if (n == 512) {
		/* Extra: the iovecs of a range over 3 regions (2 MiB each). */
		base.region = size / 512;
		line_ns(b, "get_iovec_3regions", run_get_iovec_3, with_stream(base, seed, 8));
	}
}

/* Extra: the hot lines through the lookup table. At guest 0 the bench's
 * regions, back to back in guest and host memory, form one run that the
 * inline paths reach with one compare (run_end in <vmmem/memory.h>),
 * however many regions there are. Placed at guest address --guest-size,
 * the same memory has no run from 0, so every access takes the bucket
 * table: what a layout with holes, or with mappings the core may not move,
 * pays at any region count. `hot` is the hot table moved up likewise. */
static void
table_lines(struct bench *b, unsigned n, const vmmem_memory_t *mem, const uint64_t *hot)
{
	struct work w = { .mem = mem, .size = b->o.guest_size, .hot = hot };

	hot_lines(b, n, "_table", w);
}

/* Extra: read_from_fd / write_to_fd of 64 KiB through a pipe, against plain
 * read()/write() of a host buffer, at guest address 0x100000 of 1 region. */
static void
fd_lines(struct bench *b, const vmmem_memory_t *mem, uint8_t *buf, const uint8_t *src)
{
	struct work w = { .mem = mem, .buf = buf, .src = src, .addr = 0x100000,
			  .pipe_r = -1, .pipe_w = -1 };
	int fds[2] = { -1, -1 };

	if (!b->probing && !b->o.list) {
		if (pipe2(fds, O_CLOEXEC) != 0) {
			fprintf(stderr, "vmmem-bench: pipe: %s\n", strerror(errno));
			exit(1);
		}
		/* Room for a whole op, so one thread can fill, then drain. */
		if (fcntl(fds[1], F_SETPIPE_SZ, 4 * PIPE_LEN) < 4 * PIPE_LEN) {
			fprintf(stderr, "vmmem-bench: F_SETPIPE_SZ %d: %s\n", 4 * PIPE_LEN,
				strerror(errno));
			exit(1);
		}
		w.pipe_r = fds[0];
		w.pipe_w = fds[1];
	}
	line_gbps(b, "read_from_fd_pipe_64k", PIPE_LEN, run_read_from_fd_pipe, w);
	line_gbps(b, "raw_read_pipe_64k", PIPE_LEN, run_raw_read_pipe, w);
	line_gbps(b, "write_to_fd_pipe_64k", PIPE_LEN, run_write_to_fd_pipe, w);
	line_gbps(b, "raw_write_pipe_64k", PIPE_LEN, run_raw_write_pipe, w);
	if (fds[0] >= 0) {
		close(fds[0]);
		close(fds[1]);
	}
}

/* ---- baselines ------------------------------------------------------------ */

static void
run_prng_only(struct work *w, uint64_t iters)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++)
		acc += rand_u64_off(rng_next(&w->rng), w->size);
	sink = acc;
}

static void
run_raw_read_rand(struct work *w, uint64_t iters)
{
	uint8_t *raw = w->raw;
	struct rng rng = w->rng; /* in a register, not in *w */
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_u64_off(rng_next(&rng), w->size);
		acc += *(const volatile uint64_t *)(const void *)(raw + a);
	}
	sink = acc;
	w->rng = rng;
}

static void
run_raw_write_rand(struct work *w, uint64_t iters)
{
	uint8_t *raw = w->raw;
	struct rng rng = w->rng; /* in a register, not in *w */
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t r = rng_next(&rng);
		*(volatile uint64_t *)(void *)(raw + rand_u64_off(r, w->size)) = r;
	}
	w->rng = rng;
}

static void
run_raw_read_hot(struct work *w, uint64_t iters)
{
	const uint64_t *hot = w->hot;
	uint8_t *raw = w->raw;
	uint64_t acc = 0;

	for (uint64_t i = 0; i < iters; i++)
		acc += *(const volatile uint64_t *)(const void *)(raw +
								  hot[i & (HOT_ADDRS - 1)]);
	sink = acc;
}

static void
run_raw_write_hot(struct work *w, uint64_t iters)
{
	const uint64_t *hot = w->hot;
	uint8_t *raw = w->raw;
	for (uint64_t i = 0; i < iters; i++)
		*(volatile uint64_t *)(void *)(raw + hot[i & (HOT_ADDRS - 1)]) = i;
}

static void
run_memcpy_rand_read(struct work *w, uint64_t iters)
{
	const uint8_t *raw = w->raw;
	uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t size = w->size;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_page_off(rng_next(&rng), len, size);
		memcpy(buf, raw + a, len);
		escape(buf);
	}
	w->rng = rng;
}

static void
run_memcpy_rand_write(struct work *w, uint64_t iters)
{
	uint8_t *raw = w->raw;
	const uint8_t *buf = w->buf;
	size_t len = w->len;
	uint64_t size = w->size;
	struct rng rng = w->rng;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t a = rand_page_off(rng_next(&rng), len, size);
		escape(buf);
		memcpy(raw + a, buf, len);
		escape(raw + a);
	}
	w->rng = rng;
}

static void
run_memcpy_hot(struct work *w, uint64_t iters)
{
	uint8_t *buf = w->buf;
	const uint8_t *src = w->src;
	size_t len = w->len;

	for (uint64_t i = 0; i < iters; i++) {
		escape(src);
		memcpy(buf, src, len);
		escape(buf);
	}
}

static void
baseline_lines(struct bench *b, uint8_t *raw, const uint64_t *hot, uint8_t *buf,
	       const uint8_t *src)
{
	uint64_t seed = b->o.seed;
	struct work base = { .raw = raw, .size = b->o.guest_size, .hot = hot, .buf = buf,
			     .src = src };

	line_ns(b, "prng_only", run_prng_only, with_stream(base, seed, 1));
	line_ns(b, "raw_volatile_read_u64_rand", run_raw_read_rand, with_stream(base, seed, 1));
	line_ns(b, "raw_volatile_write_u64_rand", run_raw_write_rand, with_stream(base, seed, 2));
	line_ns(b, "raw_volatile_read_u64_hot", run_raw_read_hot, base);
	line_ns(b, "raw_volatile_write_u64_hot", run_raw_write_hot, base);
	/* The memcpy_* limits are timed with their slice lines (guest_lines). */
}

/* ---- main ------------------------------------------------------------------ */

static void
pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		fprintf(stderr, "warning: sched_setaffinity(%d) failed: %s\n", cpu,
			strerror(errno));
}

static char *
thp_mode(void)
{
	char *text = NULL;

	if (!g_file_get_contents("/sys/kernel/mm/transparent_hugepage/enabled", &text, NULL,
				 NULL))
		return g_strdup("");
	return g_strstrip(text);
}

/* Runs a block's lines if any is wanted, building its memory only then. */
static bool
block_wanted(struct bench *b, void (*probe)(struct bench *, unsigned), unsigned n)
{
	b->probing = true;
	b->probe_hit = false;
	probe(b, n);
	b->probing = false;
	return b->probe_hit;
}

static void
probe_guest(struct bench *b, unsigned n)
{
	guest_lines(b, n, NULL, NULL, NULL, NULL, NULL);
	if (n == 1)
		fd_lines(b, NULL, NULL, NULL);
}

static void
probe_table(struct bench *b, unsigned n)
{
	table_lines(b, n, NULL, NULL);
}

static void
probe_baseline(struct bench *b, unsigned n)
{
	(void)n;
	baseline_lines(b, NULL, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	struct bench b = { 0 };
	uint64_t hot[HOT_ADDRS], hot_table[HOT_ADDRS];
	uint8_t *buf = NULL, *src = NULL;
	struct rng hr;
	unsigned counts[G_N_ELEMENTS(region_counts) + 1];
	double t0;

	parse_opts(argc, argv, &b.o);
	if (b.o.cpu >= 0)
		pin_cpu(b.o.cpu);
	if (!b.o.list) {
		char *thp = thp_mode();
		fprintf(stderr,
			"# vmmem %s (this tree); min_time=%gs reps=%u (median) seed=%#" PRIx64
			" madvise_hugepage=%s cpu=%d guest_size=%" PRIu64 " thp_sys=[%s]\n",
			vmmem_version(), b.o.min_time, b.o.reps, b.o.seed,
			b.o.thp ? "true" : "false", b.o.cpu, b.o.guest_size, thp);
		g_free(thp);
		/* Page aligned, prefaulted (see the header comment). */
		buf = raw_map(MIB, false);
		src = raw_map(MIB, false);
		memset(buf, 0x5A, MIB);
		memset(src, 0xC3, MIB);
	}

	hr = rng_new(b.o.seed, 0x407);
	for (unsigned i = 0; i < HOT_ADDRS; i++) {
		hot[i] = rand_u64_off(rng_next(&hr), b.o.guest_size);
		hot_table[i] = hot[i] + b.o.guest_size;
	}

	memcpy(counts, region_counts, sizeof(region_counts));
	counts[G_N_ELEMENTS(region_counts)] = MANY_REGIONS;

	t0 = now();
	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		unsigned n = counts[i];
		vmmem_memory_t *mem = NULL;
		uint8_t *raw = NULL;

		if (b.o.list) {
			probe_guest(&b, n); /* prints the names */
			continue;
		}
		if (!block_wanted(&b, probe_guest, n))
			continue;
		/* The baseline mapping beside the one-region memory, for the
		 * memcpy_* limits that alternate with its slice lines; mapped
		 * only while they run, as it doubles the memory in use. */
		if (n == 1)
			raw = raw_map(b.o.guest_size, b.o.thp);
		mem = make_guest(b.o.guest_size, n, b.o.thp, 0);
		guest_lines(&b, n, mem, raw, hot, buf, src);
		if (n == 1) {
			fd_lines(&b, mem, buf, src);
			munmap(raw, b.o.guest_size);
		}
		vmmem_memory_unref(mem);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(table_counts); i++) {
		unsigned n = table_counts[i];
		vmmem_memory_t *mem;

		if (b.o.list) {
			probe_table(&b, n);
			continue;
		}
		if (!block_wanted(&b, probe_table, n))
			continue;
		mem = make_guest(b.o.guest_size, n, b.o.thp, b.o.guest_size);
		table_lines(&b, n, mem, hot_table);
		vmmem_memory_unref(mem);
	}
	if (b.o.list) {
		probe_baseline(&b, 0);
	} else if (block_wanted(&b, probe_baseline, 0)) {
		uint8_t *raw = raw_map(b.o.guest_size, b.o.thp);
		baseline_lines(&b, raw, hot, buf, src);
		munmap(raw, b.o.guest_size);
	}
	if (!b.o.list) {
		fprintf(stderr, "# total %.1fs\n", now() - t0);
		munmap(buf, MIB);
		munmap(src, MIB);
	}
	return 0;
}
