/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Spaces: hot-adding and removing regions while readers hold snapshots.
 * A refused change leaves the space as it was; a snapshot never changes;
 * a removed region stays mapped until its last holder lets go; hot-added
 * regions land next to their guest neighbours in host memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define MIB TU_MIB

static vmmem_region_spec_t
spec(const char *name, uint64_t start, uint64_t size)
{
	vmmem_region_spec_t s = { .name = name, .start = { start }, .size = size };
	return s;
}

static vmmem_space_t *
space_of(const vmmem_region_spec_t *specs, size_t n)
{
	GError *err = NULL;
	vmmem_space_t *s = vmmem_space_new(specs, n, NULL, &err);

	tu_assert_no_error(err);
	g_assert_nonnull(s);
	return s;
}

static void
test_empty_space_misses_everywhere(void)
{
	vmmem_space_t *s = space_of(NULL, 0);
	const vmmem_memory_t *m = vmmem_space_get(s);
	GError *err = NULL;
	uint64_t v = 0;
	uint8_t buf[16];

	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 0);
	g_assert_null(vmmem_memory_find_region(m, G(0)));
	g_assert_false(vmmem_memory_read_obj(m, G(0), &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x0");
	g_assert_false(vmmem_memory_write_slice(m, G(UINT64_MAX - 15), buf, 16, &err));
	g_clear_error(&err);
	g_assert_false(vmmem_memory_load_u64(m, G(4096), &v, memory_order_relaxed, &err));
	g_clear_error(&err);
	g_assert_true(vmmem_memory_check_range(m, G(123), 0));
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

static void
test_add_shows_in_new_snapshot_only(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB), dimm = spec("dimm", 4 * MIB, 2 * MIB);
	vmmem_space_t *s = space_of(&ram, 1);
	GError *err = NULL;
	vmmem_memory_t *old = vmmem_space_ref_memory(s);
	const vmmem_memory_t *m;
	uint64_t v = 0x1122334455667788, r = 0;

	g_assert_cmpuint(vmmem_space_generation(s), ==, 1);
	g_assert_true(vmmem_space_add_region(s, &dimm, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(vmmem_space_generation(s), ==, 2);
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 2);
	g_assert_true(vmmem_memory_write_obj(m, G(5 * MIB), &v, 8, &err));
	g_assert_true(vmmem_memory_read_obj(m, G(5 * MIB), &r, 8, &err));
	g_assert_cmphex(r, ==, v);
	vmmem_space_put(s, m);
	/* The snapshot taken before the add does not see the region. */
	g_assert_cmpuint(vmmem_memory_num_regions(old), ==, 1);
	g_assert_false(vmmem_memory_read_obj(old, G(5 * MIB), &r, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x500000");
	vmmem_memory_unref(old);
	vmmem_space_free(s);
}

static void
test_refused_add_leaves_space_unchanged(void)
{
	vmmem_region_spec_t ram[2] = { spec("ram", 0, 2 * MIB), spec("high", 8 * MIB, 2 * MIB) };
	vmmem_space_t *s = space_of(ram, 2);
	vmmem_region_spec_t overlap = spec("dimm", 9 * MIB, 2 * MIB);
	vmmem_region_spec_t dup = spec("ram", 4 * MIB, 2 * MIB);
	vmmem_region_spec_t zero = spec("z", 4 * MIB, 0);
	vmmem_region_spec_t wrap = spec("w", UINT64_MAX - 4095, 8192);
	vmmem_region_spec_t badprov = spec("p", 4 * MIB, 2 * MIB);
	const vmmem_memory_t *m;
	GError *err = NULL;

	badprov.provider = "no-such-provider";
	g_assert_false(vmmem_space_add_region(s, &overlap, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_LAYOUT, "'dimm'", "overlaps region 'high'",
			"0x900000", "0x800000");
	g_assert_false(vmmem_space_add_region(s, &dup, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_LAYOUT, "'ram'", "of that name exists");
	g_assert_false(vmmem_space_add_region(s, &zero, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_LAYOUT, "'z'", "size 0");
	g_assert_false(vmmem_space_add_region(s, &wrap, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_LAYOUT, "'w'", "2^64");
	g_assert_false(vmmem_space_add_region(s, &badprov, &err));
	tu_assert_error(&err, VMMEM_ERROR_PROVIDER_NOT_FOUND, "no-such-provider");
	g_assert_false(vmmem_space_remove_region(s, "nope", &err));
	tu_assert_error(&err, VMMEM_ERROR_NOT_FOUND, "'nope'");
	g_assert_false(vmmem_space_remove_region_at(s, G(5 * MIB), &err));
	tu_assert_error(&err, VMMEM_ERROR_NOT_FOUND, "0x500000");

	g_assert_cmpuint(vmmem_space_generation(s), ==, 1);
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 2);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(m, 0)), ==, "ram");
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(m, 1)), ==, "high");
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

static void
test_remove_by_name_and_by_address(void)
{
	vmmem_region_spec_t r[3] = { spec("a", 0, 2 * MIB), spec("b", 2 * MIB, 2 * MIB),
				     spec("c", 8 * MIB, 2 * MIB) };
	vmmem_space_t *s = space_of(r, 3);
	const vmmem_memory_t *m;
	GError *err = NULL;

	g_assert_true(vmmem_space_remove_region(s, "b", &err));
	g_assert_true(vmmem_space_remove_region_at(s, G(9 * MIB), &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 1);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(m, 0)), ==, "a");
	g_assert_null(vmmem_memory_find_region(m, G(3 * MIB)));
	g_assert_null(vmmem_memory_find_region(m, G(9 * MIB)));
	vmmem_space_put(s, m);
	/* The last region can go too, and come back. */
	g_assert_true(vmmem_space_remove_region(s, "a", &err));
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 0);
	vmmem_space_put(s, m);
	g_assert_true(vmmem_space_add_region(s, &r[0], &err));
	tu_assert_no_error(err);
	vmmem_space_free(s);
}

/* A removed region stays mapped (and keeps its data) while a counted
 * reference holds it, and is unmapped when that goes. */
static void
test_removed_region_lives_until_last_holder(void)
{
	vmmem_region_spec_t r[2] = { spec("ram", 0, 2 * MIB), spec("dimm", 4 * MIB, 2 * MIB) };
	vmmem_space_options_t opt = { sizeof(opt), 0, VMMEM_SPACE_NO_RESERVATION };
	GError *err = NULL;
	vmmem_space_t *s = vmmem_space_new(r, 2, &opt, &err);
	vmmem_memory_t *held;
	uint8_t *host, vec;
	uint32_t v = 0xfeedbeef, got = 0;

	tu_assert_no_error(err);
	held = vmmem_space_ref_memory(s);
	g_assert_true(vmmem_memory_write_obj(held, G(4 * MIB + 64), &v, 4, &err));
	host = vmmem_memory_get_host_address(held, G(4 * MIB), &err);
	g_assert_nonnull(host);
	g_assert_true(vmmem_space_remove_region(s, "dimm", &err));
	tu_assert_no_error(err);
	/* Still mapped and intact through the old memory. */
	g_assert_cmpint(mincore(host, 4096, &vec), ==, 0);
	g_assert_true(vmmem_memory_read_obj(held, G(4 * MIB + 64), &got, 4, &err));
	g_assert_cmphex(got, ==, v);
	vmmem_memory_unref(held);
	/* The last holder is gone: the provider unmapped it. */
	g_assert_cmpint(mincore(host, 4096, &vec), ==, -1);
	g_assert_cmpint(errno, ==, ENOMEM);
	vmmem_space_free(s);
}

/* Found by fuzz-vhost (corpus vhost/regress-replace-at-same-address): a
 * region re-added at the guest address of one that an older snapshot
 * still holds must not be moved onto that one's place, or the old one's
 * unmap takes the new mapping with it. Both stay readable, the new one
 * after the old one is gone. */
static void
test_readd_while_old_held_keeps_both_mapped(void)
{
	vmmem_region_spec_t big = spec("big", 4 * MIB, 2 * MIB), small = spec("small", 4 * MIB, MIB);
	vmmem_space_t *s = space_of(&big, 1);
	vmmem_memory_t *held = vmmem_space_ref_memory(s);
	const vmmem_memory_t *m;
	uint32_t v = 0x1234abcd, got = 0;
	GError *err = NULL;

	g_assert_true(vmmem_memory_write_obj(held, G(4 * MIB + 64), &v, 4, &err));
	g_assert_true(vmmem_space_remove_region(s, "big", &err));
	g_assert_true(vmmem_space_add_region(s, &small, &err));
	tu_assert_no_error(err);
	g_assert_true(vmmem_memory_read_obj(held, G(4 * MIB + 64), &got, 4, &err));
	g_assert_cmphex(got, ==, v);
	vmmem_memory_unref(held);
	m = vmmem_space_get(s);
	got = 1;
	g_assert_true(vmmem_memory_read_obj(m, G(4 * MIB + 64), &got, 4, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(got, ==, 0);
	g_assert_true(vmmem_memory_write_obj(m, G(5 * MIB - 4), &v, 4, &err));
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

/* host = base + guest: a DIMM hot-added right after RAM continues the run
 * from guest 0, so one memcpy crosses their boundary. */
static void
test_hot_added_neighbour_is_host_contiguous(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB), dimm = spec("dimm", 2 * MIB, 2 * MIB);
	vmmem_region_spec_t far = spec("far", 64 * MIB, 2 * MIB);
	/* A small span, so that valgrind (which refuses large mappings)
	 * runs this too. */
	vmmem_space_options_t opt = { sizeof(opt), 256 * MIB, 0 };
	GError *err = NULL;
	vmmem_space_t *s = vmmem_space_new(&ram, 1, &opt, &err);
	const vmmem_memory_t *m;
	const vmmem_region_t *a, *b, *c;
	uint8_t buf[8192], back[8192];

	tu_assert_no_error(err);
	if (vmmem_space_reserved(s) != 256 * MIB) {
		vmmem_space_free(s);
		g_test_skip("mmap() refused a PROT_NONE reservation of 256 MiB of address space");
		return;
	}

	g_assert_true(vmmem_space_add_region(s, &far, &err));
	g_assert_true(vmmem_space_add_region(s, &dimm, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(s);
	a = vmmem_memory_region(m, 0);
	b = vmmem_memory_region(m, 1);
	c = vmmem_memory_region(m, 2);
	g_assert_true((uint8_t *)vmmem_region_host(a) + 2 * MIB == vmmem_region_host(b));
	g_assert_true((uint8_t *)vmmem_region_host(a) + 64 * MIB == vmmem_region_host(c));
	g_assert_cmphex(vmmem__view(m)->run_end, ==, 4 * MIB);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	g_assert_true(vmmem_memory_write_slice(m, G(2 * MIB - 4096), buf, sizeof(buf), &err));
	g_assert_true(vmmem_memory_read_slice(m, G(2 * MIB - 4096), back, sizeof(back), &err));
	g_assert_cmpmem(buf, sizeof(buf), back, sizeof(back));
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

/* Nothing is placed without the reservation; everything still works. */
static void
test_no_reservation_still_works(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB), dimm = spec("dimm", 2 * MIB, 2 * MIB);
	vmmem_space_options_t opt = { sizeof(opt), 0, VMMEM_SPACE_NO_RESERVATION };
	GError *err = NULL;
	vmmem_space_t *s = vmmem_space_new(&ram, 1, &opt, &err);
	const vmmem_memory_t *m;
	uint8_t buf[8192], back[8192];

	g_assert_true(vmmem_space_add_region(s, &dimm, &err));
	m = vmmem_space_get(s);
	tu_fill(buf, sizeof(buf), 0x5a);
	g_assert_true(vmmem_memory_write_slice(m, G(2 * MIB - 4096), buf, sizeof(buf), &err));
	g_assert_true(vmmem_memory_read_slice(m, G(2 * MIB - 4096), back, sizeof(back), &err));
	tu_assert_no_error(err);
	g_assert_true(tu_all(back, sizeof(back), 0x5a));
	vmmem_space_put(s, m);
	vmmem_space_free(s);
}

static void
test_writer_inside_read_section_refused(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB), dimm = spec("dimm", 4 * MIB, 2 * MIB);
	vmmem_space_t *s = space_of(&ram, 1);
	const vmmem_memory_t *m = vmmem_space_get(s);
	GError *err = NULL;
	uint64_t log[8];

	g_assert_false(vmmem_space_add_region(s, &dimm, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "holds a snapshot");
	g_assert_false(vmmem_space_remove_region(s, "ram", &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "holds a snapshot");
	g_assert_false(vmmem_space_set_log(s, log, sizeof(log), NULL, NULL, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "holds a snapshot");
	vmmem_space_put(s, m);
	g_assert_cmpuint(vmmem_space_generation(s), ==, 1);
	vmmem_space_free(s);
}

struct remover {
	vmmem_space_t *s;
	volatile int done;
};

static void *
remove_dimm(void *arg)
{
	struct remover *r = arg;
	GError *err = NULL;

	g_assert_true(vmmem_space_remove_region(r->s, "dimm", &err));
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A writer waits for a reader that holds 64 snapshots until the last one
 * is put, and the snapshots stay usable all along. */
static void
test_writer_waits_for_nested_snapshots(void)
{
	vmmem_region_spec_t r[2] = { spec("ram", 0, 2 * MIB), spec("dimm", 4 * MIB, 2 * MIB) };
	vmmem_space_t *s = space_of(r, 2);
	const vmmem_memory_t *held[64];
	struct remover rm = { s, 0 };
	pthread_t t;
	GError *err = NULL;
	uint64_t v = 0;

	for (int i = 0; i < 64; i++)
		held[i] = vmmem_space_get(s);
	g_assert_cmpint(pthread_create(&t, NULL, remove_dimm, &rm), ==, 0);
	g_usleep(100 * 1000);
	g_assert_cmpint(__atomic_load_n(&rm.done, __ATOMIC_SEQ_CST), ==, 0);
	for (int i = 63; i >= 1; i--) {
		g_assert_true(vmmem_memory_write_obj(held[i], G(4 * MIB + 8 * i), &v, 8, &err));
		vmmem_space_put(s, held[i]);
	}
	g_usleep(20 * 1000);
	g_assert_cmpint(__atomic_load_n(&rm.done, __ATOMIC_SEQ_CST), ==, 0);
	g_assert_true(vmmem_memory_read_obj(held[0], G(4 * MIB), &v, 8, &err));
	vmmem_space_put(s, held[0]);
	pthread_join(t, NULL);
	g_assert_cmpint(rm.done, ==, 1);
	vmmem_space_free(s);
}

struct holder {
	vmmem_space_t *s;
	volatile int holding, release;
};

static void *
hold_snapshot(void *arg)
{
	struct holder *h = arg;
	const vmmem_memory_t *m = vmmem_space_get(h->s);

	__atomic_store_n(&h->holding, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&h->release, __ATOMIC_SEQ_CST))
		g_usleep(1000);
	vmmem_space_put(h->s, m);
	return NULL;
}

/* A fork while another thread holds a snapshot: that thread does not
 * exist in the child, so the child's writers must not wait for it. */
static void
test_fork_child_does_not_wait_for_parent_threads(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB), dimm = spec("dimm", 4 * MIB, 2 * MIB);
	vmmem_space_t *s = space_of(&ram, 1);
	struct holder h = { s, 0, 0 };
	pthread_t t;
	pid_t pid;
	int status;

	g_assert_cmpint(pthread_create(&t, NULL, hold_snapshot, &h), ==, 0);
	while (!__atomic_load_n(&h.holding, __ATOMIC_SEQ_CST))
		g_usleep(1000);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		GError *err = NULL;

		alarm(10); /* a hang is a failure, not a stuck test run */
		ti_child_exit(vmmem_space_add_region(s, &dimm, &err) &&
			      vmmem_space_remove_region(s, "dimm", &err) ? 0 : 1);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	__atomic_store_n(&h.release, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	vmmem_space_free(s);
}

/* ---- stress: readers check every byte they read while a writer adds and
 * removes a DIMM whose contents are known (a memfd filled beforehand). */

#define DIMM_START (6 * MIB)
#define DIMM_SIZE (2 * MIB)

static uint8_t
dimm_byte(uint64_t addr)
{
	return (uint8_t)((addr >> 3) * 131 + 17);
}

struct stress {
	vmmem_space_t *s;
	volatile int stop;
	uint64_t reads, seen_present, seen_absent;
	int fd;
};

static void
check_dimm_read(const vmmem_memory_t *m, struct stress *st, uint64_t addr, bool present)
{
	GError *err = NULL;
	uint64_t v = 0;
	uint8_t buf[64];
	struct iovec iov[2];
	size_t n;

	if (!present) {
		g_assert_false(vmmem_memory_read_obj(m, G(addr), &v, 8, &err));
		g_assert_true(g_error_matches(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_ADDRESS));
		g_clear_error(&err);
		g_assert_false(vmmem_memory_read_slice(m, G(addr), buf, sizeof(buf), &err));
		g_clear_error(&err);
		st->seen_absent++;
		return;
	}
	st->seen_present++;
	g_assert_true(vmmem_memory_read_obj(m, G(addr), &v, 8, &err));
	for (int i = 0; i < 8; i++)
		g_assert_cmpuint((v >> (8 * i)) & 0xff, ==, dimm_byte(addr + i));
	g_assert_true(vmmem_memory_read_slice(m, G(addr & ~63ull), buf, sizeof(buf), &err));
	for (int i = 0; i < 64; i++)
		g_assert_cmpuint(buf[i], ==, dimm_byte((addr & ~63ull) + i));
	g_assert_true(vmmem_memory_load_u64(m, G(addr), &v, memory_order_acquire, &err));
	g_assert_true(vmmem_memory_get_iovec(m, G(addr), 8, iov, 2, &n, &err));
	g_assert_cmpuint(((uint8_t *)iov[0].iov_base)[0], ==, dimm_byte(addr));
	tu_assert_no_error(err);
}

static void *
stress_reader(void *arg)
{
	struct stress *st = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&x;

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		const vmmem_memory_t *m = vmmem_space_get(st->s);
		bool present = vmmem_memory_num_regions(m) == 2;
		uint64_t ram = 0;
		GError *err = NULL;

		/* One snapshot across several accesses: what it says about
		 * the DIMM must hold for all of them. */
		for (int k = 0; k < 16; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			check_dimm_read(m, st, DIMM_START + ((x >> 20) % (DIMM_SIZE / 8)) * 8, present);
			g_assert_true(vmmem_memory_read_obj(m, G((x >> 24) % (2 * MIB) & ~7ull), &ram, 8,
							    &err));
			g_assert_cmphex(ram, ==, 0);
			st->reads++;
		}
		g_assert_cmpuint(vmmem_memory_num_regions(m), ==, present ? 2 : 1);
		vmmem_space_put(st->s, m);
	}
	return NULL;
}

static void
test_stress_readers_during_hotplug(void)
{
	vmmem_region_spec_t ram = spec("ram", 0, 2 * MIB);
	struct stress st = { 0 };
	struct stress per[3];
	pthread_t t[3];
	uint8_t *fill;
	char fdstr[16];
	struct vmmem_provider_option opt[2];
	vmmem_region_spec_t dimm = spec("dimm", DIMM_START, DIMM_SIZE);
	GError *err = NULL;
	gint64 until;
	unsigned cycles = 0;
	double secs = g_test_slow() ? 10.0 : 1.0;

	st.fd = memfd_create("dimm", MFD_CLOEXEC);
	g_assert_cmpint(st.fd, >=, 0);
	g_assert_cmpint(ftruncate(st.fd, DIMM_SIZE), ==, 0);
	fill = g_malloc(DIMM_SIZE);
	for (uint64_t i = 0; i < DIMM_SIZE; i++)
		fill[i] = dimm_byte(DIMM_START + i);
	g_assert_cmpint(pwrite(st.fd, fill, DIMM_SIZE, 0), ==, DIMM_SIZE);
	g_free(fill);
	g_snprintf(fdstr, sizeof(fdstr), "%d", st.fd);
	opt[0].key = "fd";
	opt[0].value = fdstr;
	opt[1].key = "shared";
	opt[1].value = "true";
	dimm.provider = "mmap";
	dimm.options = opt;
	dimm.n_options = 2;

	st.s = space_of(&ram, 1);
	for (int i = 0; i < 3; i++) {
		per[i] = st;
		g_assert_cmpint(pthread_create(&t[i], NULL, stress_reader, &per[i]), ==, 0);
	}
	until = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < until) {
		g_assert_true(vmmem_space_add_region(st.s, &dimm, &err));
		tu_assert_no_error(err);
		g_usleep(200);
		g_assert_true(cycles % 2 ? vmmem_space_remove_region(st.s, "dimm", &err)
					 : vmmem_space_remove_region_at(st.s, G(DIMM_START + 4096), &err));
		tu_assert_no_error(err);
		cycles++;
	}
	for (int i = 0; i < 3; i++) {
		__atomic_store_n(&per[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(t[i], NULL);
		g_test_message("reader %d: %" G_GUINT64_FORMAT " reads, DIMM present %" G_GUINT64_FORMAT
			       " / absent %" G_GUINT64_FORMAT,
			       i, per[i].reads, per[i].seen_present, per[i].seen_absent);
		g_assert_cmpuint(per[i].reads, >, 0);
	}
	g_test_message("%u add/remove cycles", cycles);
	/* Correctness is what is tested; how many cycles fit depends on how
	 * loaded the machine is (a grace period waits for a preempted
	 * reader), so only ask that hotplug really happened. */
	g_assert_cmpuint(cycles, >=, 2);
	vmmem_space_free(st.s);
	close(st.fd);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/space/new/empty-space-misses-everywhere", test_empty_space_misses_everywhere);
	g_test_add_func("/space/add/shows-in-new-snapshot-only", test_add_shows_in_new_snapshot_only);
	g_test_add_func("/space/add/refused-change-leaves-space-unchanged",
			test_refused_add_leaves_space_unchanged);
	g_test_add_func("/space/remove/by-name-and-by-address", test_remove_by_name_and_by_address);
	g_test_add_func("/space/remove/region-lives-until-last-holder",
			test_removed_region_lives_until_last_holder);
	g_test_add_func("/space/placement/hot-added-neighbour-is-host-contiguous",
			test_hot_added_neighbour_is_host_contiguous);
	g_test_add_func("/space/placement/re-add-while-old-held-keeps-both-mapped",
			test_readd_while_old_held_keeps_both_mapped);
	g_test_add_func("/space/placement/no-reservation-still-works",
			test_no_reservation_still_works);
	g_test_add_func("/space/writer/inside-read-section-refused",
			test_writer_inside_read_section_refused);
	g_test_add_func("/space/writer/waits-for-64-nested-snapshots",
			test_writer_waits_for_nested_snapshots);
	g_test_add_func("/space/fork/child-does-not-wait-for-parent-threads",
			test_fork_child_does_not_wait_for_parent_threads);
	g_test_add_func("/space/stress/readers-check-data-during-hotplug",
			test_stress_readers_during_hotplug);
	return g_test_run();
}
