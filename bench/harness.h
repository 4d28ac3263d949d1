/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The timing harness shared by vmmem-hotplug-bench, vmmem-vhost-bench and
 * vmmem-iotlb-bench:
 * the common options (--list, --filter, --reps, --min-time, --help), the
 * clock, batch calibration, loops timed in alternation repetition by
 * repetition (so the drift of a shared machine hits every loop alike),
 * and the median of the repetitions. Each program keeps its own lines,
 * their names and what they print.
 *
 * vmmem-bench keeps its own harness: it mirrors the Rust peer's method
 * line by line (calibration, THP, CPU pinning), which these two do not
 * need. */
#ifndef VMMEM_BENCH_HARNESS_H
#define VMMEM_BENCH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* Repetitions kept per loop; --reps may not exceed it. */
#define BENCH_MAX_REPS 63

struct bench_harness {
	const char *prog;   /* the program's name, for messages */
	double min_time;    /* seconds per timed batch (--min-time) */
	unsigned reps;      /* repetitions; the median is printed (--reps) */
	bool list;          /* --list: print "name unit" lines, time nothing */
	const char *filter; /* --filter SUBSTRING: only lines that contain it */
};

/* The one harness of the program: set prog and the defaults in main(). */
extern struct bench_harness bench;

/* A loop under test: runs n operations on ctx. */
typedef void (*bench_run_fn)(void *ctx, uint64_t n);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* Prints "PROG: WHAT: message" on stderr and exits 1. */
G_GNUC_NORETURN void bench_fail(const char *what, GError *err);

/* With --list prints "NAME UNIT" and returns false; otherwise whether the
 * line passes --filter. */
bool bench_wanted(const char *name, const char *unit);

/* The median of v[0..n) (sorts v). */
double bench_median(double *v, unsigned n);

/* The batch size for one repetition of about bench.min_time. */
uint64_t bench_calibrate(bench_run_fn run, void *ctx);

/* Times k (at most 4) loops in alternation, bench.reps times; out[i] gets
 * loop i's median seconds per operation. */
void bench_alternate(bench_run_fn *run, void **ctx, unsigned k, double *out);

/* Parses the common option at argv[*i] (advancing *i past its value).
 * Returns BENCH_ARG_DONE if it was one, BENCH_ARG_HELP after printing
 * `usage` for --help (exit 0), BENCH_ARG_OTHER if it is not a common
 * option (the program's own, or unknown: its call). */
enum { BENCH_ARG_DONE, BENCH_ARG_HELP, BENCH_ARG_OTHER };
int bench_parse_arg(int argc, char **argv, int *i, const char *usage);

/* Prints "PROG: unknown or incomplete argument 'ARG'" and `usage` on
 * stderr; returns the exit status for it, 2. */
int bench_bad_arg(const char *arg, const char *usage);

/* Whether --reps is 1..BENCH_MAX_REPS and --min-time positive. */
bool bench_opts_valid(void);

#endif /* VMMEM_BENCH_HARNESS_H */
