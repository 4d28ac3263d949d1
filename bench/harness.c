/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The timing harness of vmmem-hotplug-bench and vmmem-vhost-bench
 * (harness.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void
bench_fail(const char *what, GError *err)
{
	fprintf(stderr, "%s: %s: %s\n", bench.prog, what, err ? err->message : "failed");
	exit(1);
}

bool
bench_wanted(const char *name, const char *unit)
{
	if (bench.list) {
		printf("%s %s\n", name, unit);
		return false;
	}
	return !bench.filter || strstr(name, bench.filter);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Grows the batch until one takes a tenth of min_time, then scales it to
 * min_time: short enough to calibrate quickly, long enough that the clock
 * is not what is measured. */
uint64_t
bench_calibrate(bench_run_fn run, void *ctx)
{
	for (uint64_t n = 16;; n *= 4) {
		double t = bench_now(), dt;

		run(ctx, n);
		dt = bench_now() - t;
		if (dt >= bench.min_time * 0.1)
			return (uint64_t)(bench.min_time / (dt / (double)n)) + 1;
	}
}

void
bench_alternate(bench_run_fn *run, void **ctx, unsigned k, double *out)
{
	uint64_t batch[4];
	double samples[4][BENCH_MAX_REPS + 1];

	g_assert(k <= 4);
	for (unsigned i = 0; i < k; i++)
		batch[i] = bench_calibrate(run[i], ctx[i]);
	for (unsigned r = 0; r < bench.reps; r++)
		for (unsigned i = 0; i < k; i++) {
			double t = bench_now();

			run[i](ctx[i], batch[i]);
			samples[i][r] = (bench_now() - t) / (double)batch[i];
		}
	for (unsigned i = 0; i < k; i++)
		out[i] = bench_median(samples[i], bench.reps);
}

int
bench_parse_arg(int argc, char **argv, int *i, const char *usage)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (!strcmp(a, "--list")) {
		bench.list = true;
	} else if (!strcmp(a, "--filter") && v) {
		bench.filter = v, (*i)++;
	} else if (!strcmp(a, "--reps") && v) {
		bench.reps = (unsigned)atoi(v), (*i)++;
	} else if (!strcmp(a, "--min-time") && v) {
		bench.min_time = atof(v), (*i)++;
	} else if (!strcmp(a, "--help")) {
		fputs(usage, stdout);
		return BENCH_ARG_HELP;
	} else {
		return BENCH_ARG_OTHER;
	}
	return BENCH_ARG_DONE;
}

int
bench_bad_arg(const char *arg, const char *usage)
{
	fprintf(stderr, "%s: unknown or incomplete argument '%s'\n%s", bench.prog, arg, usage);
	return 2;
}

bool
bench_opts_valid(void)
{
	return bench.reps >= 1 && bench.reps <= BENCH_MAX_REPS && bench.min_time > 0;
}
