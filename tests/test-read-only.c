/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Read-only regions: every write path of every family refuses them with
 * VMMEM_ERROR_READ_ONLY, naming the region, before a byte moves (also a
 * write that straddles a writable region and a read-only one), no dirty
 * bit is set by a refused write, reads and read-intent pointers still
 * work, the mapping itself is PROT_READ, and the config key, a space's
 * hot-add, the share receiver and the vhost-user table make read-only
 * regions when asked. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vmmem/iotlb.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define R(x) vmmem_region_addr(x)
#define MIB TU_MIB
#define PG 4096u

/* "rw" [0, 1M) writable and tracked, "rom" [1M, 2M) read-only and
 * tracked, adjacent so that a write can straddle them; "hi" [4M, 5M)
 * writable. Every byte starts as 0x5a. */
static vmmem_memory_t *
rom_memory(void)
{
	vmmem_region_spec_t specs[3] = {
		{ .name = "rw", .start = { 0 }, .size = MIB, .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "rom", .start = { MIB }, .size = MIB,
		  .flags = VMMEM_SPEC_READ_ONLY | VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "hi", .start = { 4 * MIB }, .size = MIB },
	};
	GError *err = NULL;
	vmmem_memory_t *m;
	const vmmem_region_t *rom;

	/* The ROM's content has to come from somewhere: fill it before it
	 * is made read-only, through a writable memory of the same file. */
	m = vmmem_memory_new(specs, 3, &err);
	tu_assert_no_error(err);
	for (size_t i = 0; i < 3; i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);
		if (!vmmem_region_read_only(r))
			memset(vmmem_region_host(r), 0x5a, vmmem_region_size(r));
	}
	rom = vmmem_memory_region(m, 1);
	g_assert_true(vmmem_region_read_only(rom));
	/* Anonymous private memory reads zero; the tests check it stays so. */
	g_assert_true(tu_all(vmmem_region_host(rom), MIB, 0));
	return m;
}

static void
drain_dirty(const vmmem_memory_t *m)
{
	uint64_t bits[(2 * MIB / PG) / 64];
	GError *err = NULL;

	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 2 * MIB, bits, G_N_ELEMENTS(bits), &err));
	tu_assert_no_error(err);
}

static void
assert_clean(const vmmem_memory_t *m)
{
	uint64_t bits[(2 * MIB / PG) / 64];
	GError *err = NULL;

	g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 2 * MIB, bits, G_N_ELEMENTS(bits), &err));
	tu_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(bits); i++)
		g_assert_cmphex(bits[i], ==, 0);
}

/* The region is named, and neither region changed. */
static void
assert_refused(const vmmem_memory_t *m, GError **err)
{
	g_assert_error(*err, VMMEM_ERROR, VMMEM_ERROR_READ_ONLY);
	g_assert_nonnull(strstr((*err)->message, "'rom'"));
	g_assert_nonnull(strstr((*err)->message, "read-only"));
	g_clear_error(err);
	g_assert_true(tu_all(vmmem_region_host(vmmem_memory_region(m, 0)), MIB, 0x5a));
	g_assert_true(tu_all(vmmem_region_host(vmmem_memory_region(m, 1)), MIB, 0));
	assert_clean(m);
}

static void
test_memory_family_refuses_every_write_path(void)
{
	vmmem_memory_t *m = rom_memory();
	uint8_t buf[8192];
	uint64_t v = UINT64_C(0x1122334455667788);
	struct iovec iov[4];
	vmmem_slice_t s;
	GError *err = NULL;
	size_t done = 99, n_iov = 99;
	int p[2];

	tu_fill(buf, sizeof(buf), 0xee);
	drain_dirty(m);
	/* Inside the ROM, each path; then straddling rw -> rom. */
	for (int straddle = 0; straddle < 2; straddle++) {
		uint64_t a = straddle ? MIB - 4096 : MIB + 4096;

		g_assert_false(vmmem_memory_write(m, G(a), buf, sizeof(buf), &done, &err));
		g_assert_cmpuint(done, ==, 0);
		assert_refused(m, &err);
		g_assert_false(vmmem_memory_write_slice(m, G(a), buf, sizeof(buf), &err));
		assert_refused(m, &err);
		g_assert_false(vmmem_memory_write_slice_slow(m, G(a), buf, sizeof(buf), &err));
		assert_refused(m, &err);
		g_assert_false(vmmem_memory_get_iovec(m, G(a), sizeof(buf), iov, 4, &n_iov, &err));
		assert_refused(m, &err);
		g_assert_false(vmmem_memory_get_iovec_for(m, G(a), sizeof(buf), VMMEM_ACCESS_WRITE, iov,
							  4, &n_iov, &err));
		assert_refused(m, &err);
		g_assert_true(pipe(p) == 0);
		g_assert_cmpint(write(p[1], buf, sizeof(buf)), ==, sizeof(buf));
		g_assert_false(vmmem_memory_read_from_fd(m, G(a), p[0], sizeof(buf), &done, &err));
		g_assert_cmpuint(done, ==, 0);
		assert_refused(m, &err);
		g_assert_false(vmmem_memory_read_exact_from_fd(m, G(a), p[0], sizeof(buf), &err));
		assert_refused(m, &err);
		close(p[0]);
		close(p[1]);
	}
	/* A short slice (the inline slice path's shortest) and the small
	 * paths, inline and out of line, at the ROM's first word. */
	g_assert_false(vmmem_memory_write_slice(m, G(MIB + 64), buf, 16, &err));
	assert_refused(m, &err);
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(m, G(MIB), &v, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_write_obj(m, G(MIB + 3), &v, 4, &err)); /* misaligned */
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_store_u8(m, G(MIB), 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_store_u16(m, G(MIB), 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_store_u32(m, G(MIB), 1, memory_order_release, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_store_u64(m, G(MIB), 1, memory_order_seq_cst, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_store(m, G(MIB), 8, 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_get_slice(m, G(MIB), 64, &s, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_memory_get_slice_for(m, G(MIB), 64, VMMEM_ACCESS_READ_WRITE, &s, &err));
	assert_refused(m, &err);
	vmmem_memory_unref(m);
}

static void
test_writes_elsewhere_work_inline_and_are_logged(void)
{
	vmmem_memory_t *m = rom_memory();
	uint64_t v = 7, got = 0;
	uint8_t buf[64];
	GError *err = NULL;

	drain_dirty(m);
	/* A memory with a read-only region takes its writes out of line;
	 * they still work, and are still logged, everywhere else. */
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(m, G(8), &v, &err));
	g_assert_true(vmmem_memory_store_u32(m, G(PG), 9, memory_order_relaxed, &err));
	tu_fill(buf, sizeof(buf), 1);
	g_assert_true(vmmem_memory_write_slice(m, G(2 * PG), buf, sizeof(buf), &err));
	g_assert_true(vmmem_memory_write_slice(m, G(4 * MIB), buf, sizeof(buf), &err));
	tu_assert_no_error(err);
	g_assert_true(VMMEM_MEMORY_READ_OBJ(m, G(8), &got, &err));
	g_assert_cmpuint(got, ==, 7);
	{
		uint64_t bits[(2 * MIB / PG) / 64];

		g_assert_true(vmmem_memory_fetch_dirty(m, G(0), 2 * MIB, bits, G_N_ELEMENTS(bits),
						       &err));
		g_assert_cmphex(bits[0], ==, 0x7);
		for (size_t i = 1; i < G_N_ELEMENTS(bits); i++)
			g_assert_cmphex(bits[i], ==, 0);
	}
	vmmem_memory_unref(m);
}

static void
test_reads_and_read_intent_pointers_work(void)
{
	vmmem_memory_t *m = rom_memory();
	uint8_t buf[8192];
	uint64_t v = 1;
	struct iovec iov[4];
	size_t n_iov = 0;
	vmmem_slice_t s;
	GError *err = NULL;
	int p[2];

	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_true(VMMEM_MEMORY_READ_OBJ(m, G(MIB), &v, &err));
	g_assert_cmpuint(v, ==, 0);
	g_assert_true(vmmem_memory_read_slice(m, G(MIB - 4096), buf, sizeof(buf), &err));
	g_assert_true(tu_all(buf, 4096, 0x5a) && tu_all(buf + 4096, 4096, 0));
	g_assert_true(vmmem_memory_load_u64(m, G(MIB), &v, memory_order_acquire, &err));
	g_assert_true(vmmem_memory_get_slice_for(m, G(MIB), 64, VMMEM_ACCESS_READ, &s, &err));
	g_assert_true(tu_all(s.host, 64, 0));
	g_assert_true(vmmem_memory_get_iovec_for(m, G(MIB - 4096), 8192, VMMEM_ACCESS_READ, iov, 4,
						 &n_iov, &err));
	g_assert_cmpuint(n_iov, ==, 2);
	/* Writing guest memory out to a file reads it: allowed. */
	g_assert_true(pipe(p) == 0);
	g_assert_true(vmmem_memory_write_all_to_fd(m, G(MIB), p[1], 4096, &err));
	close(p[0]);
	close(p[1]);
	tu_assert_no_error(err);
	/* A bad access value is an argument error, not a pointer. */
	g_assert_false(vmmem_memory_get_slice_for(m, G(0), 64, (vmmem_access_t)0, &s, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "access 0x0");
	g_assert_false(vmmem_memory_get_iovec_for(m, G(0), 64, (vmmem_access_t)4, iov, 4, &n_iov,
						  &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "access 0x4");
	vmmem_memory_unref(m);
}

static void
test_region_family_refuses_every_write_path(void)
{
	vmmem_memory_t *m = rom_memory();
	const vmmem_region_t *rom = vmmem_memory_region(m, 1);
	uint8_t buf[64];
	uint64_t v = 3;
	size_t done = 99;
	vmmem_slice_t s;
	GError *err = NULL;
	int p[2];

	drain_dirty(m);
	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_region_write(rom, R(0), buf, sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 0);
	assert_refused(m, &err);
	g_assert_false(vmmem_region_write_slice(rom, R(0), buf, sizeof(buf), &err));
	assert_refused(m, &err);
	g_assert_false(VMMEM_REGION_WRITE_OBJ(rom, R(8), &v, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_region_store(rom, R(8), 8, 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_region_store_u32(rom, R(8), 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_region_get_slice(rom, R(0), 64, &s, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_region_get_slice_for(rom, R(0), 64, VMMEM_ACCESS_WRITE, &s, &err));
	assert_refused(m, &err);
	g_assert_true(pipe(p) == 0);
	g_assert_cmpint(write(p[1], buf, sizeof(buf)), ==, sizeof(buf));
	g_assert_false(vmmem_region_read_from_fd(rom, R(0), p[0], sizeof(buf), &done, &err));
	g_assert_cmpuint(done, ==, 0);
	assert_refused(m, &err);
	g_assert_false(vmmem_region_read_exact_from_fd(rom, R(0), p[0], sizeof(buf), &err));
	assert_refused(m, &err);
	close(p[0]);
	close(p[1]);
	/* Reads, and a read-intent slice, work. */
	g_assert_true(VMMEM_REGION_READ_OBJ(rom, R(8), &v, &err));
	g_assert_cmpuint(v, ==, 0);
	g_assert_true(vmmem_region_get_slice_for(rom, R(0), 64, VMMEM_ACCESS_READ, &s, &err));
	tu_assert_no_error(err);
	/* A zero-length write moves nothing and succeeds, as everywhere. */
	g_assert_true(vmmem_region_write_slice(rom, R(0), buf, 0, &err));
	g_assert_true(vmmem_memory_write_slice(m, G(MIB), buf, 0, &err));
	tu_assert_no_error(err);
	vmmem_memory_unref(m);
}

static sigjmp_buf fault_jmp;

static void
on_segv(int sig)
{
	(void)sig;
	siglongjmp(fault_jmp, 1);
}

static void
test_mapping_is_prot_read(void)
{
	vmmem_memory_t *m = rom_memory();
	volatile uint8_t *host = vmmem_region_host(vmmem_memory_region(m, 1));
	struct sigaction sa = { .sa_handler = on_segv }, old;
	volatile int faulted = 0;

	/* A raw pointer's write faults: the promise holds even for code
	 * that bypasses the library. */
	sigemptyset(&sa.sa_mask);
	g_assert_cmpint(sigaction(SIGSEGV, &sa, &old), ==, 0);
	if (sigsetjmp(fault_jmp, 1) == 0)
		host[0] = 1;
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	g_assert_cmpint(faulted, ==, 1);
	g_assert_cmpuint(host[0], ==, 0);
	vmmem_memory_unref(m);
}

static void
test_config_key_read_only(void)
{
	char *dir = tu_tmpdir(), *path = g_build_filename(dir, "rom.conf", NULL);
	const char *text = "[region ram]\nstart = 0\nsize = 1M\n"
			   "[region flash]\nstart = 1M\nsize = 64K\nread-only = true\n";
	GError *err = NULL;
	vmmem_memory_t *m;
	uint8_t b = 1;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	m = vmmem_memory_new_from_config(path, &err);
	tu_assert_no_error(err);
	g_assert_false(vmmem_region_read_only(vmmem_memory_region(m, 0)));
	g_assert_true(vmmem_region_read_only(vmmem_memory_region(m, 1)));
	g_assert_false(vmmem_memory_write_slice(m, G(MIB), &b, 1, &err));
	tu_assert_error(&err, VMMEM_ERROR_READ_ONLY, "'flash'");
	vmmem_memory_unref(m);
	/* A bad value names the file and the key. */
	g_assert_true(g_file_set_contents(
		path, "[region flash]\nstart = 0\nsize = 64K\nread-only = maybe\n", -1, NULL));
	g_assert_null(vmmem_memory_new_from_config(path, &err));
	tu_assert_error(&err, VMMEM_ERROR_CONFIG, "rom.conf", "read-only");
	unlink(path);
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_space_hot_adds_a_read_only_region(void)
{
	vmmem_region_spec_t ram = { .name = "ram", .start = { 0 }, .size = MIB };
	vmmem_region_spec_t rom = { .name = "rom", .start = { MIB }, .size = MIB,
				    .flags = VMMEM_SPEC_READ_ONLY };
	GError *err = NULL;
	vmmem_space_t *sp = vmmem_space_new(&ram, 1, NULL, &err);
	const vmmem_memory_t *snap;
	uint64_t v = 5;

	tu_assert_no_error(err);
	g_assert_true(vmmem_space_add_region(sp, &rom, &err));
	tu_assert_no_error(err);
	snap = vmmem_space_get(sp);
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(snap, G(MIB), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_READ_ONLY, "'rom'");
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(snap, G(0), &v, &err));
	tu_assert_no_error(err);
	vmmem_space_put(sp, snap);
	/* Once the ROM is gone, writes are inline again and work. */
	g_assert_true(vmmem_space_remove_region(sp, "rom", &err));
	snap = vmmem_space_get(sp);
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(snap, G(8), &v, &err));
	tu_assert_no_error(err);
	vmmem_space_put(sp, snap);
	vmmem_space_free(sp);
}

static void
test_share_receiver_maps_read_only_when_asked(void)
{
	vmmem_region_spec_t spec = { .name = "shared", .start = { 0 }, .size = MIB,
				     .provider = "memfd" };
	GError *err = NULL;
	vmmem_memory_t *sent, *got;
	uint64_t v = 0;
	int sv[2];

	sent = vmmem_memory_new(&spec, 1, &err);
	tu_assert_no_error(err);
	v = 42;
	g_assert_true(VMMEM_MEMORY_WRITE_OBJ(sent, G(64), &v, &err));
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(vmmem_memory_send(sent, sv[0], &err));
	tu_assert_no_error(err);
	got = vmmem_memory_receive_full(sv[1], 5000, VMMEM_RECEIVE_READ_ONLY, &err);
	tu_assert_no_error(err);
	g_assert_true(vmmem_region_read_only(vmmem_memory_region(got, 0)));
	v = 0;
	g_assert_true(VMMEM_MEMORY_READ_OBJ(got, G(64), &v, &err));
	g_assert_cmpuint(v, ==, 42);
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(got, G(64), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_READ_ONLY, "'shared'");
	vmmem_memory_unref(got);
	/* An unknown flag is refused before anything is read. */
	g_assert_null(vmmem_memory_receive_full(sv[1], 0, 0x80, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ARGUMENT, "flags 0x80");
	close(sv[0]);
	close(sv[1]);
	vmmem_memory_unref(sent);
}

/* By IOVA too: an RW IOTLB entry over the ROM lets reads through and the
 * region still refuses every write, inline or not, with its own error;
 * a write-intent slice is refused, a read one is not. */
static void
test_iova_writes_into_a_rom_are_refused(void)
{
	vmmem_memory_t *m = rom_memory();
	GError *err = NULL;
	vmmem_iotlb_t *tlb = vmmem_iotlb_new(NULL, &err);
	vmmem_iova_t io;
	uint64_t v = 9, iova = UINT64_C(0x7f0000000000);
	uint8_t buf[64];
	vmmem_slice_t s;

	tu_assert_no_error(err);
	drain_dirty(m);
	g_assert_true(vmmem_iotlb_update(tlb, iova, 2 * MIB, 0, VMMEM_IOTLB_RW, &err));
	vmmem_iova_begin(&io, tlb, m);
	g_assert_true(VMMEM_IOVA_READ_OBJ(&io, iova + MIB, &v, &err));
	g_assert_cmpuint(v, ==, 0);
	g_assert_false(VMMEM_IOVA_WRITE_OBJ(&io, iova + MIB, &v, &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_iova_store_u32(&io, iova + MIB, 1, memory_order_relaxed, &err));
	assert_refused(m, &err);
	tu_fill(buf, sizeof(buf), 0xee);
	g_assert_false(vmmem_iova_write_slice(&io, iova + MIB - 32, buf, sizeof(buf), &err));
	assert_refused(m, &err);
	g_assert_false(vmmem_iova_get_slice(&io, iova + MIB, 64, VMMEM_IOTLB_WRITE, &s, &err));
	assert_refused(m, &err);
	g_assert_true(vmmem_iova_get_slice(&io, iova + MIB, 64, VMMEM_IOTLB_READ, &s, &err));
	tu_assert_no_error(err);
	/* The writable RAM beside it is written as before. */
	g_assert_true(VMMEM_IOVA_WRITE_OBJ(&io, iova + 64, &v, &err));
	tu_assert_no_error(err);
	vmmem_iova_end(&io);
	vmmem_iotlb_free(tlb);
	vmmem_memory_unref(m);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/read-only/memory-family/refuses-every-write-path-before-a-byte-moves",
			test_memory_family_refuses_every_write_path);
	g_test_add_func("/read-only/memory-family/writes-elsewhere-work-and-are-logged",
			test_writes_elsewhere_work_inline_and_are_logged);
	g_test_add_func("/read-only/memory-family/reads-and-read-intent-pointers-work",
			test_reads_and_read_intent_pointers_work);
	g_test_add_func("/read-only/region-family/refuses-every-write-path",
			test_region_family_refuses_every_write_path);
	g_test_add_func("/read-only/mapping/is-prot-read", test_mapping_is_prot_read);
	g_test_add_func("/read-only/config/read-only-key", test_config_key_read_only);
	g_test_add_func("/read-only/space/hot-adds-a-read-only-region",
			test_space_hot_adds_a_read_only_region);
	g_test_add_func("/read-only/share/receiver-maps-read-only-when-asked",
			test_share_receiver_maps_read_only_when_asked);
	g_test_add_func("/read-only/iova/writes-into-a-rom-are-refused",
			test_iova_writes_into_a_rom_are_refused);
	return g_test_run();
}
