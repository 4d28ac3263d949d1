/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* blk-io: the guest side of bench/blk-vs-qsd.sh. A static program put
 * into the guest's initramfs: it runs O_DIRECT reads and writes on a block
 * device (so that the guest's page cache cannot hide the backend) with
 * Linux AIO keeping DEPTH requests in flight, and prints one line per
 * workload between two markers the host uses to sample the backend's CPU
 * time:
 *
 *   BENCH begin NAME
 *   BENCH end NAME ops N bytes B usec T reqs R
 *
 * R is what the guest's block layer sent to the device in that time
 * (/sys/block/DEV/stat: reads + writes completed), which is the number of
 * virtio requests the backend served; N is the program's own I/Os. The
 * program pauses PAUSE_MS around each workload so that the host can sample
 * an idle backend.
 *
 * Offsets: sequential workloads go through [0, SPAN) in order (wrapping);
 * random ones pick BS-aligned offsets in [0, SPAN) with a fixed-seed
 * xorshift64*, so every backend sees the same sequence. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 64

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reads + writes completed by the device, from /sys/block/NAME/stat. */
static uint64_t
dev_requests(const char *statpath)
{
	unsigned long long v[11] = { 0 };
	FILE *f = fopen(statpath, "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]);
	fclose(f);
	return n >= 5 ? v[0] + v[4] : 0;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

struct workload {
	const char *name;
	int write, random;
	size_t bs;
	uint64_t ops;
};

static int
run(int fd, const char *statpath, const struct workload *w, unsigned depth, uint64_t span,
    uint64_t max_us, unsigned pause, char **bufs)
{
	aio_context_t ctx = 0;
	struct iocb cbs[MAX_DEPTH], *cbp[MAX_DEPTH];
	struct io_event ev[MAX_DEPTH];
	uint64_t seed = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)w->bs ^ (uint64_t)w->write << 40;
	uint64_t blocks = span / w->bs, next = 0, issued = 0, done = 0, r0, r1, t0, t1, deadline;
	unsigned inflight = 0;

	if (blocks == 0) {
		fprintf(stderr, "blk-io: span %" PRIu64 " is smaller than bs %zu\n", span, w->bs);
		return -1;
	}
	if (syscall(SYS_io_setup, depth, &ctx) < 0) {
		fprintf(stderr, "blk-io: io_setup(%u): %s\n", depth, strerror(errno));
		return -1;
	}
	printf("BENCH begin %s\n", w->name);
	fflush(stdout);
	pause_ms(pause);
	r0 = dev_requests(statpath);
	t0 = now_us();
	deadline = t0 + max_us;
	for (;;) {
		unsigned n = 0;
		long got;

		/* Refill every free slot, then wait for at least one. */
		while (inflight + n < depth && issued + n < w->ops && now_us() < deadline) {
			struct iocb *cb = &cbs[(issued + n) % depth];
			uint64_t blk = w->random ? xorshift(&seed) % blocks : next++ % blocks;

			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = (uint32_t)fd;
			cb->aio_lio_opcode = w->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_buf = (uint64_t)(uintptr_t)bufs[(issued + n) % depth];
			cb->aio_nbytes = w->bs;
			cb->aio_offset = (int64_t)(blk * w->bs);
			cbp[n] = cb;
			n++;
		}
		if (n > 0) {
			long s = syscall(SYS_io_submit, ctx, (long)n, cbp);

			if (s != (long)n) {
				fprintf(stderr, "blk-io: %s: io_submit: %s\n", w->name,
					s < 0 ? strerror(errno) : "short");
				return -1;
			}
			issued += n;
			inflight += n;
		}
		if (inflight == 0)
			break;
		got = syscall(SYS_io_getevents, ctx, 1L, (long)inflight, ev, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "blk-io: %s: io_getevents: %s\n", w->name, strerror(errno));
			return -1;
		}
		for (long i = 0; i < got; i++) {
			if (ev[i].res != (int64_t)w->bs) {
				fprintf(stderr, "blk-io: %s: an I/O of %zu bytes returned %lld\n",
					w->name, w->bs, (long long)ev[i].res);
				return -1;
			}
		}
		inflight -= (unsigned)got;
		done += (uint64_t)got;
	}
	t1 = now_us();
	r1 = dev_requests(statpath);
	syscall(SYS_io_destroy, ctx);
	printf("BENCH end %s ops %" PRIu64 " bytes %" PRIu64 " usec %" PRIu64 " reqs %" PRIu64 "\n",
	       w->name, done, done * w->bs, t1 - t0, r1 - r0);
	fflush(stdout);
	pause_ms(pause);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: blk-io DEV SPAN_MIB DEPTH SEQ_OPS RAND_OPS MAX_SECONDS PAUSE_MS "
			"[WORKLOAD...]\n"
			"  WORKLOAD: seqwrite seqread randwrite randread (default: all four)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct workload all[] = {
		{ "seqwrite-1M", 1, 0, 1u << 20, 0 },
		{ "seqread-1M", 0, 0, 1u << 20, 0 },
		{ "randwrite-4k", 1, 1, 4096, 0 },
		{ "randread-4k", 0, 1, 4096, 0 },
	};
	const size_t n_all = sizeof(all) / sizeof(all[0]);
	char statpath[256], *bufs[MAX_DEPTH];
	const char *dev, *base;
	unsigned depth, pause;
	uint64_t span, seq_ops, rand_ops, max_us;
	int fd, rc = 0;

	if (argc < 8)
		usage();
	dev = argv[1];
	span = strtoull(argv[2], NULL, 0) << 20;
	depth = (unsigned)strtoul(argv[3], NULL, 0);
	seq_ops = strtoull(argv[4], NULL, 0);
	rand_ops = strtoull(argv[5], NULL, 0);
	max_us = strtoull(argv[6], NULL, 0) * 1000000u;
	pause = (unsigned)strtoul(argv[7], NULL, 0);
	if (depth < 1 || depth > MAX_DEPTH || span == 0) {
		fprintf(stderr, "blk-io: DEPTH is 1 to %d, SPAN_MIB at least 1\n", MAX_DEPTH);
		return 2;
	}
	base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	snprintf(statpath, sizeof(statpath), "/sys/block/%s/stat", base);
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blk-io: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < depth; i++) {
		if (posix_memalign((void **)&bufs[i], 4096, 1u << 20)) {
			fprintf(stderr, "blk-io: out of memory\n");
			return 1;
		}
		/* Touched (and not zero, so that writes carry data). */
		memset(bufs[i], 0x5a ^ (int)i, 1u << 20);
	}
	for (size_t i = 0; i < n_all; i++)
		all[i].ops = all[i].random ? rand_ops : seq_ops;
	for (size_t i = 0; i < n_all && rc == 0; i++) {
		int want = argc == 8;

		for (int a = 8; a < argc; a++)
			if (strncmp(all[i].name, argv[a], strlen(argv[a])) == 0)
				want = 1;
		if (want && run(fd, statpath, &all[i], depth, span, max_us, pause, bufs) < 0)
			rc = 1;
	}
	printf("BENCH done rc %d\n", rc);
	fflush(stdout);
	close(fd);
	return rc;
}
