/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vhost-user guest memory: a test frontend sends real messages over a
 * socketpair, with their fds as SCM_RIGHTS, and a test backend loop
 * receives them and hands them to <vmmem/vhost-user.h>, as a backend's
 * socket loop would. Memory comes from memfds, hugetlb memfds and a
 * hugetlbfs file. Every refused message is checked for its own message
 * and for leaving the table, the data and the fd count as they were. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <vmmem/vhost-user.h>

#include "fdcount.h"
#include "hugetest.h"
#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define KIB(n) ((uint64_t)(n) << 10)
#define UVA_BASE UINT64_C(0x7f0000000000)
#define HDR_SIZE 12
#define MAX_FDS 8

/* ---- the test frontend and backend ends of one connection ---- */

typedef struct conn {
	int fe; /* the frontend's end */
	int be; /* the backend's end */
	vmmem_vhost_mem_t *vm;
} conn_t;

static void
conn_open(conn_t *c)
{
	int sv[2];
	GError *err = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	c->fe = sv[0];
	c->be = sv[1];
	c->vm = vmmem_vhost_mem_new(NULL, &err);
	tu_assert_no_error(err);
}

static void
conn_close(conn_t *c)
{
	vmmem_vhost_mem_free(c->vm);
	close(c->fe);
	close(c->be);
}

/* Frontend: one message, header and payload in one sendmsg, fds attached. */
static void
fe_send(conn_t *c, uint32_t request, const void *payload, uint32_t size, const int *fds,
	size_t n_fds)
{
	uint8_t buf[HDR_SIZE + 8 + 32 * 8 + 64];
	uint32_t flags = VMMEM_VHOST_USER_VERSION;
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = { buf, HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	g_assert_cmpuint(size, <=, sizeof(buf) - HDR_SIZE);
	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + HDR_SIZE, payload, size);
	if (n_fds) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	g_assert_cmpint(sendmsg(c->fe, &mh, 0), ==, (ssize_t)(HDR_SIZE + size));
}

/* Backend: receives one message and hands it to the library; sends the
 * SET_LOG_BASE reply QEMU waits for (see <vmmem/vhost-user.h>) and the
 * GET_MAX_MEM_SLOTS u64. Returns the library's result. */
static bool
be_handle(conn_t *c, GError **error)
{
	uint8_t buf[HDR_SIZE + 8 + 32 * 8 + 64];
	char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = { buf, HDR_SIZE };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	int fds[MAX_FDS];
	size_t n_fds = 0;
	uint32_t request, size;
	uint64_t reply = 0;
	int rc;

	g_assert_cmpint(recvmsg(c->be, &mh, MSG_CMSG_CLOEXEC), ==, HDR_SIZE);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			n_fds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), n_fds * sizeof(int));
		}
	}
	memcpy(&request, buf, 4);
	memcpy(&size, buf + 8, 4);
	g_assert_cmpuint(size, <=, sizeof(buf) - HDR_SIZE);
	if (size)
		g_assert_cmpint(recv(c->be, buf + HDR_SIZE, size, MSG_WAITALL), ==, (ssize_t)size);
	rc = vmmem_vhost_mem_handle(c->vm, request, buf + HDR_SIZE, size, fds, n_fds, &reply,
				    error);
	g_assert_cmpint(rc, !=, 0);
	if (request == VMMEM_VHOST_USER_SET_LOG_BASE ||
	    request == VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS) {
		uint8_t out[HDR_SIZE + 8];
		uint32_t flags = VMMEM_VHOST_USER_VERSION | VMMEM_VHOST_USER_REPLY_MASK, rsize = 8;

		memcpy(out, &request, 4);
		memcpy(out + 4, &flags, 4);
		memcpy(out + 8, &rsize, 4);
		memcpy(out + HDR_SIZE, &reply, 8);
		g_assert_cmpint(send(c->be, out, sizeof(out), 0), ==, (ssize_t)sizeof(out));
	}
	return rc > 0;
}

/* Frontend: reads the one reply and checks it the way QEMU does (request
 * echoed, flags exactly version | reply). */
static uint64_t
fe_reply(conn_t *c, uint32_t request)
{
	uint8_t in[HDR_SIZE + 8];
	uint32_t req, flags, size;
	uint64_t v;

	g_assert_cmpint(recv(c->fe, in, sizeof(in), MSG_WAITALL), ==, (ssize_t)sizeof(in));
	memcpy(&req, in, 4);
	memcpy(&flags, in + 4, 4);
	memcpy(&size, in + 8, 4);
	g_assert_cmpuint(req, ==, request);
	g_assert_cmpuint(flags, ==, VMMEM_VHOST_USER_VERSION | VMMEM_VHOST_USER_REPLY_MASK);
	g_assert_cmpuint(size, ==, 8);
	memcpy(&v, in + HDR_SIZE, 8);
	return v;
}

static vmmem_vhost_mem_region_t
reg(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	vmmem_vhost_mem_region_t r = { gpa, size, uva, off };
	return r;
}

/* Sends SET_MEM_TABLE with `n` regions; returns what the backend said. */
static bool
send_table(conn_t *c, const vmmem_vhost_mem_region_t *r, uint32_t n, const int *fds,
	   size_t n_fds, GError **error)
{
	uint8_t p[8 + 32 * 9] = { 0 };

	memcpy(p, &n, 4);
	memcpy(p + 8, r, 32 * (n > 9 ? 9 : n));
	fe_send(c, VMMEM_VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * n, fds, n_fds);
	return be_handle(c, error);
}

/* Sends ADD_MEM_REG or REM_MEM_REG with `fd` (-1: none), which it closes. */
static bool
send_mem_reg(conn_t *c, uint32_t request, vmmem_vhost_mem_region_t r, int fd, GError **error)
{
	uint8_t p[40] = { 0 };

	memcpy(p + 8, &r, 32);
	fe_send(c, request, p, 40, &fd, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd); /* in flight: the backend receives its own */
	return be_handle(c, error);
}

/* The tag the frontend writes at each 4 KiB of a region: a reader that
 * finds it knows it read the right memory through the right mapping. */
static uint64_t
tag(uint64_t gpa)
{
	return gpa ^ UINT64_C(0x5a5a00005a5a0000);
}

/* A memfd of `size` (flags: MFD_HUGETLB...) whose every 4 KiB from
 * offset `off` carries tag(gpa + k * 4 KiB) for `size_tagged` bytes. */
static int
memfd_tagged(uint64_t size, unsigned flags, uint64_t off, uint64_t gpa, uint64_t size_tagged)
{
	int fd = memfd_create("vhost-test", MFD_CLOEXEC | flags);
	uint8_t *m;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	if (size_tagged) {
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		g_assert_true(m != MAP_FAILED);
		for (uint64_t k = 0; k < size_tagged; k += KIB(4)) {
			uint64_t t = tag(gpa + k);
			memcpy(m + off + k, &t, 8);
		}
		munmap(m, size);
	}
	return fd;
}

static void
assert_tag(const vmmem_memory_t *m, uint64_t gpa)
{
	GError *err = NULL;
	uint64_t v = 0;

	g_assert_true(vmmem_memory_read_obj(m, G(gpa), &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(v, ==, tag(gpa));
}

/* ---- tables ---- */

/* 8 regions, the most a table holds; regions 0 and 1 share one memfd at
 * two offsets, as QEMU's RAM below and above 4 GiB do. */
static void
test_full_table_maps_every_region(void)
{
	conn_t c;
	vmmem_vhost_mem_region_t r[8];
	int fds[8], before = tfd_count();
	GError *err = NULL;
	const vmmem_memory_t *m;

	conn_open(&c);
	fds[0] = memfd_tagged(MiB(4), 0, 0, 0, MiB(2));
	fds[1] = dup(fds[0]);
	{
		/* the second half of the shared memfd carries the tags of
		 * guest 4 GiB */
		uint8_t *mm = mmap(NULL, MiB(4), PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);

		g_assert_true(mm != MAP_FAILED);
		for (uint64_t k = 0; k < MiB(2); k += KIB(4)) {
			uint64_t t = tag(GiB(4) + k);
			memcpy(mm + MiB(2) + k, &t, 8);
		}
		munmap(mm, MiB(4));
	}
	r[0] = reg(0, MiB(2), UVA_BASE, 0);
	r[1] = reg(GiB(4), MiB(2), UVA_BASE + MiB(2), MiB(2));
	for (int i = 2; i < 8; i++) {
		uint64_t gpa = MiB(16) * (uint64_t)i;
		fds[i] = memfd_tagged(MiB(1), 0, 0, gpa, MiB(1));
		r[i] = reg(gpa, MiB(1), UVA_BASE + MiB(64) * (uint64_t)i, 0);
	}
	g_assert_true(send_table(&c, r, 8, fds, 8, &err));
	tu_assert_no_error(err);
	for (int i = 0; i < 8; i++)
		close(fds[i]); /* the frontend's copies */

	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 8);
	for (int i = 0; i < 8; i++) {
		vmmem_guest_addr_t gpa;
		uint64_t *host;

		assert_tag(m, r[i].guest_phys_addr);
		assert_tag(m, r[i].guest_phys_addr + r[i].memory_size - KIB(4));
		g_assert_true(vmmem_vhost_uva_to_gpa(m, r[i].userspace_addr + KIB(4), 8, &gpa, &err));
		tu_assert_no_error(err);
		g_assert_cmphex(gpa.raw, ==, r[i].guest_phys_addr + KIB(4));
		host = vmmem_vhost_uva_to_host(m, r[i].userspace_addr + KIB(4), 8, &err);
		tu_assert_no_error(err);
		g_assert_cmphex(*host, ==, tag(r[i].guest_phys_addr + KIB(4)));
	}
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
	g_assert_cmpint(tfd_count(), ==, before);
}

/* A backend that only reads guest memory asks for a read-only table:
 * reads see the frontend's data, every write is refused naming the
 * region, and ADD_MEM_REG's regions are read-only too. */
static void
test_read_only_table_refuses_writes(void)
{
	conn_t c;
	vmmem_vhost_mem_region_t r = reg(0, MiB(1), UVA_BASE, 0);
	int fd = memfd_tagged(MiB(1), 0, 0, 0, MiB(1));
	GError *err = NULL;
	const vmmem_memory_t *m;
	uint64_t v = 1;

	conn_open(&c);
	vmmem_vhost_mem_set_read_only(c.vm, true);
	g_assert_true(send_table(&c, &r, 1, &fd, 1, &err));
	tu_assert_no_error(err);
	close(fd);
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				   reg(MiB(16), MiB(1), UVA_BASE + MiB(64), 0),
				   memfd_tagged(MiB(1), 0, 0, MiB(16), MiB(1)), &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	assert_tag(m, KIB(4));
	assert_tag(m, MiB(16) + KIB(4));
	for (size_t i = 0; i < vmmem_memory_num_regions(m); i++)
		g_assert_true(vmmem_region_read_only(vmmem_memory_region(m, i)));
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(m, G(KIB(4)), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_READ_ONLY, "vhost-user@0x0", "read-only");
	g_assert_false(VMMEM_MEMORY_WRITE_OBJ(m, G(MiB(16)), &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_READ_ONLY, "vhost-user@0x1000000");
	assert_tag(m, KIB(4));
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
}

static void
test_resent_table_keeps_identical_mappings(void)
{
	conn_t c;
	vmmem_vhost_mem_region_t r[2] = { reg(0, MiB(1), UVA_BASE, 0),
					   reg(MiB(8), MiB(1), UVA_BASE + MiB(8), 0) };
	int fds[2];
	GError *err = NULL;
	vmmem_memory_t *m1, *m2;

	conn_open(&c);
	fds[0] = memfd_tagged(MiB(1), 0, 0, 0, MiB(1));
	fds[1] = memfd_tagged(MiB(1), 0, 0, MiB(8), MiB(1));
	{
		int send_fds[2] = { dup(fds[0]), dup(fds[1]) };
		g_assert_true(send_table(&c, r, 2, send_fds, 2, &err));
		tu_assert_no_error(err);
		close(send_fds[0]);
		close(send_fds[1]);
	}
	m1 = vmmem_space_ref_memory(vmmem_vhost_mem_space(c.vm));
	/* Same first region; the second moves to another guest address. */
	r[1].guest_phys_addr = MiB(16);
	{
		int send_fds[2] = { dup(fds[0]), dup(fds[1]) };
		g_assert_true(send_table(&c, r, 2, send_fds, 2, &err));
		tu_assert_no_error(err);
		close(send_fds[0]);
		close(send_fds[1]);
	}
	m2 = vmmem_space_ref_memory(vmmem_vhost_mem_space(c.vm));
	g_assert_true(vmmem_memory_region(m1, 0) == vmmem_memory_region(m2, 0));
	g_assert_true(vmmem_memory_region(m1, 1) != vmmem_memory_region(m2, 1));
	/* The old snapshot still reads its own table. */
	assert_tag(m1, MiB(8));
	g_assert_null(vmmem_memory_find_region(m2, G(MiB(8))));
	g_assert_nonnull(vmmem_memory_find_region(m2, G(MiB(16))));
	vmmem_memory_unref(m1);
	vmmem_memory_unref(m2);
	close(fds[0]);
	close(fds[1]);
	conn_close(&c);
}

static void
test_hugetlb_memfd_mapped_at_huge_page_size(void)
{
	conn_t c;
	vmmem_vhost_mem_region_t r = reg(MiB(2), MiB(4), UVA_BASE, MiB(2));
	GError *err = NULL;
	const vmmem_memory_t *m;
	int fd, before;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 3))
		return;
	before = tfd_count();
	conn_open(&c);
	fd = memfd_tagged(MiB(6), MFD_HUGETLB, MiB(2), MiB(2), MiB(4));
	/* 1 MiB of a 2 MiB-page file cannot be mapped: refused by name. */
	g_assert_false(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				    reg(MiB(2), MiB(1), UVA_BASE, 0), dup(fd), &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_LAYOUT, "ADD_MEM_REG region 0", "memory_size 0x100000",
			"page size 0x200000");
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG, r, dup(fd), &err));
	tu_assert_no_error(err);
	close(fd);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(m, 0)), ==, MiB(2));
	g_assert_true(vmmem_region_flags(vmmem_memory_region(m, 0)) & VMMEM_REGION_HUGETLB);
	assert_tag(m, MiB(2));
	assert_tag(m, MiB(6) - KIB(4));
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
	g_assert_cmpint(tfd_count(), ==, before);
}

static void
test_hugetlbfs_file_region(void)
{
	conn_t c;
	const char *dir;
	char *path;
	GError *err = NULL;
	const vmmem_memory_t *m;
	uint64_t v = 42, *fe;
	int fd, before;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2) || !(dir = hugetest_mount_2m()))
		return;
	before = tfd_count();
	path = g_strdup_printf("%s/vhost-test-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	unlink(path);
	g_free(path);
	g_assert_cmpint(ftruncate(fd, (off_t)MiB(4)), ==, 0);
	conn_open(&c);
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				   reg(0, MiB(4), UVA_BASE, 0), dup(fd), &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(m, 0)), ==, MiB(2));
	g_assert_true(vmmem_memory_write_obj(m, G(MiB(3)), &v, 8, &err));
	tu_assert_no_error(err);
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	/* The frontend's own mapping sees what the backend wrote. */
	fe = mmap(NULL, MiB(4), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	g_assert_true(fe != MAP_FAILED);
	g_assert_cmpuint(fe[MiB(3) / 8], ==, 42);
	munmap(fe, MiB(4));
	close(fd);
	conn_close(&c);
	g_assert_cmpint(tfd_count(), ==, before);
}

/* ---- ADD_MEM_REG / REM_MEM_REG: 509 slots under readers ---- */

#define SLOT_SIZE KIB(64)
#define SLOT_GPA(i) ((uint64_t)(i) * MiB(2))
#define SLOT_UVA(i) (UVA_BASE + (uint64_t)(i) * KIB(128))

struct readers {
	vmmem_space_t *space;
	volatile int stop;
	uint64_t reads;
	uint64_t bad;
};

static void *
reader_main(void *p)
{
	struct readers *rd = p;
	uint64_t seed = (uint64_t)(uintptr_t)&seed, reads = 0, bad = 0;

	while (!__atomic_load_n(&rd->stop, __ATOMIC_RELAXED)) {
		const vmmem_memory_t *m = vmmem_space_get(rd->space);
		size_t n = vmmem_memory_num_regions(m);

		for (int k = 0; k < 64 && n; k++) {
			const vmmem_region_t *r;
			uint64_t gpa, v = 0, *host;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			r = vmmem_memory_region(m, (size_t)(seed >> 33) % n);
			gpa = vmmem_region_start(r).raw + ((seed >> 20) % (SLOT_SIZE / KIB(4))) * KIB(4);
			if (!vmmem_memory_read_obj(m, G(gpa), &v, 8, NULL) || v != tag(gpa))
				bad++;
			/* The frontend-address table of the same snapshot agrees. */
			host = vmmem_vhost_uva_to_host(m, SLOT_UVA(gpa / MiB(2)) + gpa % MiB(2), 8,
						       NULL);
			if (!host || *host != tag(gpa))
				bad++;
			reads++;
		}
		vmmem_space_put(rd->space, m);
	}
	__atomic_add_fetch(&rd->reads, reads, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rd->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_509_slots_added_and_removed_under_readers(void)
{
	conn_t c;
	struct readers rd = { 0 };
	pthread_t th[2];
	GError *err = NULL;
	int before = tfd_count();
	uint64_t gen;

	conn_open(&c);
	rd.space = vmmem_vhost_mem_space(c.vm);
	for (int t = 0; t < 2; t++)
		g_assert_cmpint(pthread_create(&th[t], NULL, reader_main, &rd), ==, 0);

	fe_send(&c, VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS, NULL, 0, NULL, 0);
	g_assert_true(be_handle(&c, &err));
	g_assert_cmpuint(fe_reply(&c, VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS), ==, 509);

	for (int i = 0; i < 509; i++) {
		int fd = memfd_tagged(SLOT_SIZE, 0, 0, SLOT_GPA(i), SLOT_SIZE);

		g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
					   reg(SLOT_GPA(i), SLOT_SIZE, SLOT_UVA(i), 0), fd, &err));
		tu_assert_no_error(err);
	}
	g_assert_cmpuint(vmmem_space_generation(rd.space), ==, 510);
	{
		/* Slot 510 does not exist. */
		int fd = memfd_tagged(SLOT_SIZE, 0, 0, 0, 0);
		gen = vmmem_space_generation(rd.space);
		g_assert_false(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
					    reg(SLOT_GPA(600), SLOT_SIZE, SLOT_UVA(600), 0), fd,
					    &err));
		tu_assert_error(&err, VMMEM_ERROR_NO_SPACE, "all 509 slots are in use", "fd ");
		g_assert_cmpuint(vmmem_space_generation(rd.space), ==, gen);
	}
	/* Removal in a scattered order; QEMU sends an fd with each. */
	for (int k = 0; k < 509; k++) {
		int i = (k * 17) % 509;
		int fd = memfd_tagged(KIB(4), 0, 0, 0, 0);

		g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_REM_MEM_REG,
					   reg(SLOT_GPA(i), SLOT_SIZE, SLOT_UVA(i), 0), fd, &err));
		tu_assert_no_error(err);
	}
	__atomic_store_n(&rd.stop, 1, __ATOMIC_RELAXED);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	g_test_message("%" PRIu64 " reads during 1018 changes", rd.reads);
	g_assert_cmpuint(rd.bad, ==, 0);
	g_assert_cmpuint(rd.reads, >, 0);
	g_assert_cmpuint(vmmem_memory_num_regions(vmmem_space_get(rd.space)), ==, 0);
	vmmem_space_put(rd.space, NULL);
	conn_close(&c);
	g_assert_cmpint(tfd_count(), ==, before);
}

static void
test_rem_mem_reg_matches_guest_size_and_user_address(void)
{
	conn_t c;
	GError *err = NULL;
	int fd, before = tfd_count();
	uint64_t gen;

	conn_open(&c);
	fd = memfd_tagged(MiB(1), 0, 0, MiB(4), MiB(1));
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				   reg(MiB(4), MiB(1), UVA_BASE, 0), fd, &err));
	tu_assert_no_error(err);
	gen = vmmem_space_generation(vmmem_vhost_mem_space(c.vm));
	g_assert_false(send_mem_reg(&c, VMMEM_VHOST_USER_REM_MEM_REG,
				    reg(MiB(4), MiB(1), UVA_BASE + MiB(1), 0), -1, &err));
	tu_assert_error(&err, VMMEM_ERROR_NOT_FOUND, "REM_MEM_REG", "userspace_addr 0x7f0000100000");
	g_assert_false(send_mem_reg(&c, VMMEM_VHOST_USER_REM_MEM_REG,
				    reg(MiB(4), KIB(512), UVA_BASE, 0), -1, &err));
	tu_assert_error(&err, VMMEM_ERROR_NOT_FOUND, "memory_size 0x80000");
	g_assert_cmpuint(vmmem_space_generation(vmmem_vhost_mem_space(c.vm)), ==, gen);
	/* mmap_offset is not compared; the fd QEMU sends is closed. */
	fd = memfd_tagged(KIB(4), 0, 0, 0, 0);
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_REM_MEM_REG,
				   reg(MiB(4), MiB(1), UVA_BASE, MiB(9)), fd, &err));
	tu_assert_no_error(err);
	conn_close(&c);
	g_assert_cmpint(tfd_count(), ==, before);
}

/* ---- refusals: each field, its own message, nothing changed ---- */

enum fdkind { FD_MEMFD, FD_PIPE, FD_DISK, FD_READONLY, FD_NONE };

typedef struct bad_case {
	const char *path;
	uint32_t request;
	uint32_t nregions;         /* SET_MEM_TABLE: the nregions field */
	size_t size_delta;         /* added to the right payload size */
	size_t n_regions_sent;     /* regions written into the payload */
	vmmem_vhost_mem_region_t r[3];
	int n_fds;                 /* fds sent (-1: one per region sent) */
	enum fdkind fdkind;
	uint64_t file_size;
	int code;
	const char *want[3];
} bad_case_t;

#define U UVA_BASE
static const bad_case_t bad_cases[] = {
	{ "/vhost-user/refuse/table-payload-shorter-than-header", VMMEM_VHOST_USER_SET_MEM_TABLE, 0,
	  (size_t)-4, 0, { { 0 } }, 0, FD_NONE, 0, VMMEM_ERROR_PROTOCOL,
	  { "SET_MEM_TABLE", "4 bytes", "header" } },
	{ "/vhost-user/refuse/table-of-nine-regions", VMMEM_VHOST_USER_SET_MEM_TABLE, 9, 0, 0,
	  { { 0 } }, 0, FD_NONE, 0, VMMEM_ERROR_NO_SPACE, { "nregions 9", "8", NULL } },
	{ "/vhost-user/refuse/table-size-disagrees-with-nregions", VMMEM_VHOST_USER_SET_MEM_TABLE, 2,
	  (size_t)-32, 1, { { 0, MiB(1), U, 0 } }, 1, FD_MEMFD, MiB(1), VMMEM_ERROR_PROTOCOL,
	  { "payload of 40 bytes for nregions 2", "expected 72", NULL } },
	{ "/vhost-user/refuse/table-fd-count-disagrees", VMMEM_VHOST_USER_SET_MEM_TABLE, 2, 0, 2,
	  { { 0, MiB(1), U, 0 }, { MiB(8), MiB(1), U + MiB(8), 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_PROTOCOL, { "1 fds for nregions 2", NULL, NULL } },
	{ "/vhost-user/refuse/zero-size", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), 0, U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1), VMMEM_ERROR_INVALID_LAYOUT,
	  { "ADD_MEM_REG region 0 (fd ", "memory_size is 0", NULL } },
	{ "/vhost-user/refuse/unaligned-size", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), 0x1800, U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1), VMMEM_ERROR_INVALID_LAYOUT,
	  { "memory_size 0x1800", "page size 0x1000", NULL } },
	{ "/vhost-user/refuse/unaligned-guest-address", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32) + 0x10, MiB(1), U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_LAYOUT, { "guest_phys_addr 0x2000010", "page size", NULL } },
	{ "/vhost-user/refuse/unaligned-mmap-offset", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0x200 } }, 1, FD_MEMFD, MiB(2),
	  VMMEM_ERROR_INVALID_LAYOUT, { "mmap_offset 0x200", "page size", NULL } },
	{ "/vhost-user/refuse/guest-range-wraps", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { UINT64_MAX - 0xfff, MiB(1), U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_LAYOUT, { "guest_phys_addr 0xfffffffffffff000", "wraps", NULL } },
	{ "/vhost-user/refuse/frontend-range-wraps", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), UINT64_MAX - 0xfff, 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_LAYOUT, { "userspace_addr 0xfffffffffffff000", "wraps", NULL } },
	{ "/vhost-user/refuse/mapping-past-end-of-file", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), KIB(8) } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_ARGUMENT, { "mmap_offset 0x2000 + memory_size 0x100000",
					  "past the end of the file (0x100000 bytes)", NULL } },
	{ "/vhost-user/refuse/fd-not-a-regular-file", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0 } }, 1, FD_PIPE, 0, VMMEM_ERROR_INVALID_ARGUMENT,
	  { "ADD_MEM_REG region 0: fd ", "not a regular file", NULL } },
	{ "/vhost-user/refuse/fd-not-shared-memory", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0 } }, 1, FD_DISK, MiB(1),
	  VMMEM_ERROR_INVALID_ARGUMENT, { "file system of magic", "not shared memory", NULL } },
	{ "/vhost-user/refuse/fd-read-only", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0 } }, 1, FD_READONLY, MiB(1),
	  VMMEM_ERROR_INVALID_ARGUMENT, { "not open read-write", NULL, NULL } },
	{ "/vhost-user/refuse/add-without-fd", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0 } }, 0, FD_NONE, 0, VMMEM_ERROR_PROTOCOL,
	  { "ADD_MEM_REG: 0 fds (expected exactly 1)", NULL, NULL } },
	{ "/vhost-user/refuse/add-payload-size", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 8, 1,
	  { { MiB(32), MiB(1), U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1), VMMEM_ERROR_PROTOCOL,
	  { "payload of 48 bytes", "expected 40", NULL } },
	{ "/vhost-user/refuse/guest-overlap-with-existing-slot", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0,
	  1, { { MiB(1), MiB(1), U + MiB(32), 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_LAYOUT, { "guest range [0x100000, +0x100000)",
					"overlaps the slot at guest 0x0", NULL } },
	{ "/vhost-user/refuse/frontend-overlap-with-existing-slot", VMMEM_VHOST_USER_ADD_MEM_REG, 0,
	  0, 1, { { MiB(32), MiB(1), U + MiB(1), 0 } }, 1, FD_MEMFD, MiB(1),
	  VMMEM_ERROR_INVALID_LAYOUT, { "frontend range userspace_addr [0x7f0000100000",
					"overlaps the slot at guest 0x0", NULL } },
	{ "/vhost-user/refuse/duplicate-of-existing-slot", VMMEM_VHOST_USER_ADD_MEM_REG, 0, 0, 1,
	  { { 0, MiB(2), U, 0 } }, 1, FD_MEMFD, MiB(2), VMMEM_ERROR_INVALID_LAYOUT,
	  { "duplicates the slot at guest 0x0", NULL, NULL } },
	{ "/vhost-user/refuse/guest-overlap-within-table", VMMEM_VHOST_USER_SET_MEM_TABLE, 2, 0, 2,
	  { { 0, MiB(2), U, 0 }, { MiB(1), MiB(1), U + MiB(8), 0 } }, -1, FD_MEMFD, MiB(2),
	  VMMEM_ERROR_INVALID_LAYOUT, { "SET_MEM_TABLE region 1", "overlaps region 0", NULL } },
	{ "/vhost-user/refuse/frontend-overlap-within-table", VMMEM_VHOST_USER_SET_MEM_TABLE, 2, 0, 2,
	  { { 0, MiB(2), U, 0 }, { MiB(8), MiB(1), U + MiB(1), 0 } }, -1, FD_MEMFD, MiB(2),
	  VMMEM_ERROR_INVALID_LAYOUT, { "region 1", "frontend range", "overlaps region 0" } },
	{ "/vhost-user/refuse/duplicate-within-table", VMMEM_VHOST_USER_SET_MEM_TABLE, 2, 0, 2,
	  { { 0, MiB(2), U, 0 }, { 0, MiB(2), U, 0 } }, -1, FD_MEMFD, MiB(2),
	  VMMEM_ERROR_INVALID_LAYOUT, { "region 1", "duplicates region 0", NULL } },
	{ "/vhost-user/refuse/bad-region-after-good-ones-maps-nothing", VMMEM_VHOST_USER_SET_MEM_TABLE,
	  3, 0, 3,
	  { { 0, MiB(2), U, 0 }, { MiB(8), MiB(1), U + MiB(8), 0 }, { MiB(16), 0, U + MiB(16), 0 } },
	  -1, FD_MEMFD, MiB(2), VMMEM_ERROR_INVALID_LAYOUT, { "region 2", "memory_size is 0", NULL } },
	{ "/vhost-user/refuse/log-payload-size", VMMEM_VHOST_USER_SET_LOG_BASE, 0, 0, 0, { { 0 } }, 1,
	  FD_MEMFD, KIB(4), VMMEM_ERROR_PROTOCOL, { "SET_LOG_BASE: payload of 8 bytes", NULL, NULL } },
	{ "/vhost-user/refuse/log-past-end-of-file", VMMEM_VHOST_USER_SET_LOG_BASE, 0, 0, 1,
	  { { KIB(8), 0, 0, 0 } }, 1, FD_MEMFD, KIB(4), VMMEM_ERROR_INVALID_ARGUMENT,
	  { "SET_LOG_BASE (fd ", "mmap_size 0x2000", "past the end of the file (0x1000 bytes)" } },
	{ "/vhost-user/refuse/log-offset-unaligned", VMMEM_VHOST_USER_SET_LOG_BASE, 0, 0, 1,
	  { { KIB(4), 3, 0, 0 } }, 1, FD_MEMFD, KIB(8), VMMEM_ERROR_INVALID_LAYOUT,
	  { "mmap_offset 0x3", "8-byte aligned", NULL } },
	{ "/vhost-user/refuse/log-from-pipe", VMMEM_VHOST_USER_SET_LOG_BASE, 0, 0, 1,
	  { { KIB(4), 0, 0, 0 } }, 1, FD_PIPE, 0, VMMEM_ERROR_INVALID_ARGUMENT,
	  { "not a regular file", NULL, NULL } },
};
#undef U

static int
make_fd(enum fdkind k, uint64_t size)
{
	int fd, p[2];
	char *path;

	switch (k) {
	case FD_MEMFD:
		return memfd_tagged(size, 0, 0, 0, 0);
	case FD_PIPE:
		g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
		close(p[1]);
		return p[0];
	case FD_DISK:
		path = g_strdup("vhost-disk-XXXXXX"); /* the build tree: not tmpfs */
		fd = mkostemp(path, O_CLOEXEC);
		g_assert_cmpint(fd, >=, 0);
		unlink(path);
		g_free(path);
		g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
		return fd;
	case FD_READONLY:
		fd = memfd_tagged(size, 0, 0, 0, 0);
		path = g_strdup_printf("/proc/self/fd/%d", fd);
		{
			int ro = open(path, O_RDONLY | O_CLOEXEC);
			g_assert_cmpint(ro, >=, 0);
			close(fd);
			fd = ro;
		}
		g_free(path);
		return fd;
	case FD_NONE:
		break;
	}
	return -1;
}

static void
test_refused_message(gconstpointer data)
{
	const bad_case_t *bc = data;
	conn_t c;
	vmmem_vhost_mem_region_t base[2] = { reg(0, MiB(2), UVA_BASE, 0),
					      reg(MiB(4), MiB(1), UVA_BASE + MiB(4), 0) };
	int fds[3] = { -1, -1, -1 }, n_fds, before;
	uint8_t p[8 + 32 * 9] = { 0 };
	size_t size;
	uint64_t gen;
	GError *err = NULL;
	const vmmem_memory_t *m;

	if (bc->fdkind == FD_DISK) {
		struct statfs sfs;
		if (statfs(".", &sfs) == 0 && (sfs.f_type == 0x01021994 || sfs.f_type == 0x958458f6)) {
			g_test_skip("the build tree is on tmpfs: no disk file to refuse");
			return;
		}
	}
	conn_open(&c);
	{
		int t[2] = { memfd_tagged(MiB(2), 0, 0, 0, MiB(2)),
			     memfd_tagged(MiB(1), 0, 0, MiB(4), MiB(1)) };
		g_assert_true(send_table(&c, base, 2, t, 2, &err));
		tu_assert_no_error(err);
		close(t[0]);
		close(t[1]);
	}
	n_fds = bc->n_fds < 0 ? (int)bc->n_regions_sent : bc->n_fds;
	for (int i = 0; i < n_fds; i++)
		fds[i] = make_fd(bc->fdkind, bc->file_size);
	switch (bc->request) {
	case VMMEM_VHOST_USER_SET_MEM_TABLE:
		memcpy(p, &bc->nregions, 4);
		memcpy(p + 8, bc->r, 32 * bc->n_regions_sent);
		size = 8 + 32 * bc->nregions;
		break;
	case VMMEM_VHOST_USER_SET_LOG_BASE:
		memcpy(p, &bc->r[0].guest_phys_addr, 8); /* mmap_size */
		memcpy(p + 8, &bc->r[0].memory_size, 8); /* mmap_offset */
		size = bc->n_regions_sent ? 16 : 8;
		break;
	default:
		memcpy(p + 8, &bc->r[0], 32);
		size = 40;
		break;
	}
	size += bc->size_delta;
	gen = vmmem_space_generation(vmmem_vhost_mem_space(c.vm));
	before = tfd_count();
	fe_send(&c, bc->request, p, (uint32_t)size, fds, (size_t)n_fds);
	for (int i = 0; i < n_fds; i++)
		close(fds[i]); /* in flight: the backend gets its own copies */
	g_assert_false(be_handle(&c, &err));
	tu_assert_error(&err, bc->code, bc->want[0], bc->want[1], bc->want[2]);
	if (bc->request == VMMEM_VHOST_USER_SET_LOG_BASE) {
		fe_reply(&c, VMMEM_VHOST_USER_SET_LOG_BASE); /* replied to even so */
		g_assert_false(vmmem_vhost_mem_logging(c.vm));
	}
	/* Nothing changed, nothing leaked. */
	g_assert_cmpint(tfd_count(), ==, before - n_fds);
	g_assert_cmpuint(vmmem_space_generation(vmmem_vhost_mem_space(c.vm)), ==, gen);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 2);
	assert_tag(m, 0);
	assert_tag(m, MiB(4) + KIB(8));
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
}

/* ---- translation ---- */

static void
test_frontend_address_translation_is_bounds_checked(void)
{
	conn_t c;
	GError *err = NULL;
	const vmmem_memory_t *m;
	vmmem_guest_addr_t gpa;
	int fd;

	conn_open(&c);
	fd = memfd_tagged(MiB(1), 0, 0, MiB(4), MiB(1));
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				   reg(MiB(4), MiB(1), UVA_BASE, 0), fd, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	g_assert_true(vmmem_vhost_uva_to_gpa(m, UVA_BASE + MiB(1) - 16, 16, &gpa, NULL));
	g_assert_cmphex(gpa.raw, ==, MiB(5) - 16);
	g_assert_true(vmmem_vhost_uva_to_gpa(m, UVA_BASE, 0, &gpa, NULL));
	g_assert_false(vmmem_vhost_uva_to_gpa(m, UVA_BASE + MiB(1) - 16, 17, &gpa, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x7f00000ffff0", "+0x11");
	g_assert_null(vmmem_vhost_uva_to_host(m, UVA_BASE - 1, 1, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x7effffffffff");
	g_assert_null(vmmem_vhost_uva_to_host(m, UVA_BASE + MiB(1), 1, NULL));
	g_assert_null(vmmem_vhost_uva_to_host(m, 0, 1, NULL));
	g_assert_null(vmmem_vhost_uva_to_host(m, UINT64_MAX, 1, NULL));
	g_assert_null(vmmem_vhost_uva_to_host(m, UVA_BASE, UINT64_MAX, NULL));
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
}

/* DPDK's contract: the length is clamped to what is contiguous, a hole
 * gives NULL and 0. */
static void
test_guest_address_translation_clamps_length(void)
{
	conn_t c;
	GError *err = NULL;
	const vmmem_memory_t *m;
	uint64_t len;
	uint8_t *h;

	conn_open(&c);
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_ADD_MEM_REG,
				   reg(MiB(4), MiB(1), UVA_BASE, 0),
				   memfd_tagged(MiB(1), 0, 0, MiB(4), MiB(1)), &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(vmmem_vhost_mem_space(c.vm));
	len = 64;
	h = vmmem_vhost_gpa_to_host(m, G(MiB(4) + KIB(4)), &len);
	g_assert_nonnull(h);
	g_assert_cmpuint(len, ==, 64);
	g_assert_cmphex(*(uint64_t *)h, ==, tag(MiB(4) + KIB(4)));
	len = MiB(2);
	g_assert_nonnull(vmmem_vhost_gpa_to_host(m, G(MiB(5) - 16), &len));
	g_assert_cmpuint(len, ==, 16);
	len = 8;
	g_assert_null(vmmem_vhost_gpa_to_host(m, G(MiB(5)), &len));
	g_assert_cmpuint(len, ==, 0);
	len = 8;
	g_assert_null(vmmem_vhost_gpa_to_host(m, G(MiB(4) - 8), &len));
	g_assert_cmpuint(len, ==, 0);
	len = 8;
	g_assert_null(vmmem_vhost_gpa_to_host(m, G(UINT64_MAX), &len));
	g_assert_cmpuint(len, ==, 0);
	vmmem_space_put(vmmem_vhost_mem_space(c.vm), m);
	conn_close(&c);
}

static void
test_vring_addr_parsed(void)
{
	uint8_t p[40];
	vmmem_vhost_vring_addr_t a;
	uint32_t idx = 1, flags = VMMEM_VHOST_VRING_F_LOG;
	uint64_t v[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	GError *err = NULL;

	memcpy(p, &idx, 4);
	memcpy(p + 4, &flags, 4);
	memcpy(p + 8, v, 32);
	g_assert_true(vmmem_vhost_parse_vring_addr(p, 40, &a, &err));
	g_assert_cmpuint(a.index, ==, 1);
	g_assert_cmpuint(a.flags, ==, VMMEM_VHOST_VRING_F_LOG);
	g_assert_cmphex(a.desc_user_addr, ==, 0x1000);
	g_assert_cmphex(a.used_user_addr, ==, 0x2000);
	g_assert_cmphex(a.avail_user_addr, ==, 0x3000);
	g_assert_cmphex(a.log_guest_addr, ==, 0x4000);
	g_assert_false(vmmem_vhost_parse_vring_addr(p, 39, &a, &err));
	tu_assert_error(&err, VMMEM_ERROR_PROTOCOL, "SET_VRING_ADDR: payload of 39 bytes");
}

/* ---- the dirty log ---- */

#define LOG_BYTES KIB(4) /* 32768 pages: guest addresses below 128 MiB */

/* Sends SET_LOG_BASE with `fd` (closed here) and checks the reply. */
static void
send_log_base(conn_t *c, int fd, uint64_t size, uint64_t off)
{
	uint64_t p[2] = { size, off };
	GError *err = NULL;

	fe_send(c, VMMEM_VHOST_USER_SET_LOG_BASE, p, 16, &fd, 1);
	close(fd); /* in flight */
	g_assert_true(be_handle(c, &err));
	tu_assert_no_error(err);
	fe_reply(c, VMMEM_VHOST_USER_SET_LOG_BASE);
}

static void
send_features(conn_t *c, uint64_t f)
{
	GError *err = NULL;

	fe_send(c, VMMEM_VHOST_USER_SET_FEATURES, &f, 8, NULL, 0);
	g_assert_true(be_handle(c, &err));
	tu_assert_no_error(err);
}

/* The pages set in the log, cleared as QEMU's sync does. */
static GArray *
take_log(uint64_t *log)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	for (uint64_t w = 0; w < LOG_BYTES / 8; w++) {
		uint64_t bits = __atomic_exchange_n(&log[w], 0, __ATOMIC_ACQ_REL);
		for (unsigned b = 0; b < 64; b++)
			if (bits & ((uint64_t)1 << b)) {
				uint64_t page = w * 64 + b;
				g_array_append_val(a, page);
			}
	}
	return a;
}

static void
assert_pages(GArray *got, const uint64_t *want, size_t n)
{
	GString *s = g_string_new("");

	for (guint i = 0; i < got->len; i++)
		g_string_append_printf(s, " %" PRIu64, g_array_index(got, uint64_t, i));
	g_test_message("dirty pages:%s", s->str);
	g_assert_cmpuint(got->len, ==, n);
	for (size_t i = 0; i < n; i++)
		g_assert_cmpuint(g_array_index(got, uint64_t, i), ==, want[i]);
	g_string_free(s, TRUE);
	g_array_free(got, TRUE);
}

static void
test_dirty_log_marks_exactly_the_pages_written(void)
{
	conn_t c;
	vmmem_vhost_mem_region_t r[2] = { reg(0, MiB(1), UVA_BASE, 0),
					   reg(MiB(1), MiB(1), UVA_BASE + MiB(16), 0) };
	int fds[2], logfd, before = tfd_count();
	uint64_t *log, v = 7;
	uint8_t buf[256];
	GError *err = NULL;
	const vmmem_memory_t *m;
	vmmem_space_t *s;

	conn_open(&c);
	s = vmmem_vhost_mem_space(c.vm);
	fds[0] = memfd_tagged(MiB(1), 0, 0, 0, 0);
	fds[1] = memfd_tagged(MiB(1), 0, 0, MiB(1), 0);
	g_assert_true(send_table(&c, r, 2, fds, 2, &err));
	tu_assert_no_error(err);
	close(fds[0]);
	close(fds[1]);
	/* QEMU's order: the log first, then LOG_ALL. */
	logfd = memfd_tagged(LOG_BYTES + KIB(4), 0, 0, 0, 0);
	log = mmap(NULL, LOG_BYTES + KIB(4), PROT_READ | PROT_WRITE, MAP_SHARED, logfd, 0);
	g_assert_true(log != MAP_FAILED);
	send_log_base(&c, dup(logfd), LOG_BYTES, KIB(4)); /* at an offset: the second page */
	g_assert_false(vmmem_vhost_mem_logging(c.vm));
	send_features(&c, VMMEM_VHOST_F_LOG_ALL);
	g_assert_true(vmmem_vhost_mem_logging(c.vm));

	memset(buf, 0xab, sizeof(buf));
	m = vmmem_space_get(s);
	g_assert_true(vmmem_memory_write_obj(m, G(0x3008), &v, 8, &err));
	/* 200 bytes across the region boundary at 1 MiB: pages 255 and 256. */
	g_assert_true(vmmem_memory_write_slice(m, G(MiB(1) - 100), buf, 200, &err));
	/* A used-ring write made through a host pointer, logged by the
	 * helper at log_guest_addr + offset; without VRING_F_LOG nothing. */
	*(uint16_t *)vmmem_vhost_uva_to_host(m, UVA_BASE + MiB(16) + 0x9002, 2, &err) = 1;
	vmmem_vhost_log_used(m, VMMEM_VHOST_VRING_F_LOG, MiB(1) + 0x9000, 2, 2);
	vmmem_vhost_log_used(m, 0, MiB(1) + 0xa000, 2, 2);
	/* A read logs nothing. */
	g_assert_true(vmmem_memory_read_obj(m, G(0x5000), &v, 8, &err));
	vmmem_space_put(s, m);
	tu_assert_no_error(err);
	{
		const uint64_t want[] = { 3, 255, 256, 256 + 9 };
		assert_pages(take_log(log + KIB(4) / 8), want, 4);
		g_assert_cmpuint(log[0], ==, 0); /* nothing before mmap_offset */
	}

	/* LOG_ALL off: writes are not logged. */
	send_features(&c, 0);
	g_assert_false(vmmem_vhost_mem_logging(c.vm));
	m = vmmem_space_get(s);
	g_assert_true(vmmem_memory_write_obj(m, G(0x5000), &v, 8, &err));
	vmmem_vhost_log_used(m, VMMEM_VHOST_VRING_F_LOG, MiB(1) + 0x9000, 2, 2);
	vmmem_space_put(s, m);
	assert_pages(take_log(log + KIB(4) / 8), NULL, 0);

	/* On again with the same log, no new SET_LOG_BASE. */
	send_features(&c, VMMEM_VHOST_F_LOG_ALL);
	m = vmmem_space_get(s);
	g_assert_true(vmmem_memory_write_obj(m, G(MiB(1) + 0x7000), &v, 8, &err));
	vmmem_space_put(s, m);
	tu_assert_no_error(err);
	{
		const uint64_t want[] = { 256 + 7 };
		assert_pages(take_log(log + KIB(4) / 8), want, 1);
	}

	/* A new log (QEMU resizes it on hotplug) replaces the old one. */
	{
		int fd2 = memfd_tagged(LOG_BYTES, 0, 0, 0, 0);
		uint64_t *log2 = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);

		send_log_base(&c, dup(fd2), LOG_BYTES, 0);
		m = vmmem_space_get(s);
		g_assert_true(vmmem_memory_write_obj(m, G(0x1000), &v, 8, &err));
		vmmem_space_put(s, m);
		assert_pages(take_log(log + KIB(4) / 8), NULL, 0);
		{
			const uint64_t want[] = { 1 };
			assert_pages(take_log(log2), want, 1);
		}
		munmap(log2, LOG_BYTES);
		close(fd2);
	}
	conn_close(&c);
	munmap(log, LOG_BYTES + KIB(4));
	close(logfd);
	/* The log mappings went with the object. */
	g_assert_cmpint(tfd_count(), ==, before);
}


/* ---- the IOTLB (IOTLB_MSG) ---- */

/* One vhost_iotlb_msg payload. */
static void
iotlb_payload(uint8_t p[32], uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm,
	      uint8_t type)
{
	memset(p, 0, 32);
	memcpy(p, &iova, 8);
	memcpy(p + 8, &size, 8);
	memcpy(p + 16, &uaddr, 8);
	p[24] = perm;
	p[25] = type;
}

static bool
send_iotlb(conn_t *c, uint64_t iova, uint64_t size, uint64_t uaddr, uint8_t perm, uint8_t type,
	   GError **error)
{
	uint8_t p[32];

	iotlb_payload(p, iova, size, uaddr, perm, type);
	fe_send(c, VMMEM_VHOST_USER_IOTLB_MSG, p, 32, NULL, 0);
	return be_handle(c, error);
}

/* Region 0: guest [0, 2M) at frontend U; region 1: guest [8M, 9M) at
 * frontend U + 2M, right after region 0 in frontend addresses only. */
static void
iotlb_conn(conn_t *c)
{
	vmmem_vhost_mem_region_t r[2] = { reg(0, MiB(2), UVA_BASE, 0),
					  reg(MiB(8), MiB(1), UVA_BASE + MiB(2), 0) };
	int fds[2] = { memfd_tagged(MiB(2), 0, 0, 0, MiB(2)),
		       memfd_tagged(MiB(1), 0, 0, MiB(8), MiB(1)) };
	GError *err = NULL;

	conn_open(c);
	g_assert_true(send_table(c, r, 2, fds, 2, &err));
	tu_assert_no_error(err);
	close(fds[0]);
	close(fds[1]);
	g_assert_cmpint(vmmem_iotlb_target_kind(vmmem_vhost_mem_iotlb(c->vm)), ==,
			VMMEM_IOTLB_TARGET_FRONTEND);
}

#define IOVA UINT64_C(0xfee00000)

static void
test_iotlb_update_translates_through_frontend_address(void)
{
	conn_t c;
	GError *err = NULL;
	vmmem_space_t *sp;
	const vmmem_memory_t *m;
	vmmem_iova_t io;
	uint64_t v = 0, w[2];
	uint8_t buf[KIB(8)];
	vmmem_guest_addr_t gpa;
	uint64_t plen = 0;

	iotlb_conn(&c);
	sp = vmmem_vhost_mem_space(c.vm);
	/* 8 KiB of IOVA over the frontend boundary between the regions. */
	g_assert_true(send_iotlb(&c, IOVA, KIB(8), UVA_BASE + MiB(2) - KIB(4), VMMEM_IOTLB_RW,
				 VMMEM_VHOST_IOTLB_UPDATE, &err));
	tu_assert_no_error(err);
	g_assert_cmpuint(vmmem_iotlb_num_entries(vmmem_vhost_mem_iotlb(c.vm)), ==, 1);
	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(c.vm), m);
	g_assert_true(vmmem_iova_read_obj(&io, IOVA, &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(v, ==, tag(MiB(2) - KIB(4)));
	g_assert_true(vmmem_iova_read_obj(&io, IOVA + KIB(4), &v, 8, &err)); /* the second region */
	g_assert_cmphex(v, ==, tag(MiB(8)));
	g_assert_true(vmmem_iova_read_slice(&io, IOVA, buf, sizeof(buf), &err));
	tu_assert_no_error(err);
	memcpy(&w[0], buf, 8);
	memcpy(&w[1], buf + KIB(4), 8);
	g_assert_cmphex(w[0], ==, tag(MiB(2) - KIB(4)));
	g_assert_cmphex(w[1], ==, tag(MiB(8)));
	g_assert_true(vmmem_iova_translate(&io, IOVA + 16, KIB(8), VMMEM_IOTLB_WRITE, &gpa, &plen,
					   &err));
	g_assert_cmphex(gpa.raw, ==, MiB(2) - KIB(4) + 16);
	g_assert_cmphex(plen, ==, KIB(4) - 16);
	/* A write lands in the region the frontend address names. */
	v = 0x1234;
	g_assert_true(vmmem_iova_write_obj(&io, IOVA + KIB(4) + 8, &v, 8, &err));
	g_assert_true(vmmem_memory_read_obj(m, G(MiB(8) + 8), &v, 8, NULL));
	g_assert_cmphex(v, ==, 0x1234);
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);

	/* Invalidation takes the second page away. */
	g_assert_true(send_iotlb(&c, IOVA + KIB(4), KIB(4), 0, 0, VMMEM_VHOST_IOTLB_INVALIDATE,
				 &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(c.vm), m);
	g_assert_true(vmmem_iova_read_obj(&io, IOVA, &v, 8, &err));
	g_assert_false(vmmem_iova_read_slice(&io, IOVA, buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xfee01000", "(read)");
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	conn_close(&c);
}

/* The frontend removes the region an entry points into: the entry stays
 * (the frontend invalidates it on its own time) but no longer reaches
 * memory: the access fails naming the frontend address. */
static void
test_iotlb_entry_into_removed_region_fails(void)
{
	conn_t c;
	GError *err = NULL;
	vmmem_space_t *sp;
	const vmmem_memory_t *m;
	vmmem_iova_t io;
	uint64_t v;

	iotlb_conn(&c);
	sp = vmmem_vhost_mem_space(c.vm);
	g_assert_true(send_iotlb(&c, IOVA, KIB(4), UVA_BASE + MiB(2), VMMEM_IOTLB_READ,
				 VMMEM_VHOST_IOTLB_UPDATE, &err));
	tu_assert_no_error(err);
	g_assert_true(send_mem_reg(&c, VMMEM_VHOST_USER_REM_MEM_REG,
				   reg(MiB(8), MiB(1), UVA_BASE + MiB(2), 0), -1, &err));
	tu_assert_no_error(err);
	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(c.vm), m);
	g_assert_false(vmmem_iova_read_obj(&io, IOVA, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "IOVA 0xfee00000",
			"frontend address 0x7f0000200000");
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	conn_close(&c);
}

typedef struct bad_iotlb {
	const char *path;
	size_t size;     /* the payload size sent */
	uint64_t iova, len, uaddr;
	uint8_t perm, type;
	bool with_fd;
	int code;
	const char *want[3];
} bad_iotlb_t;

#define U UVA_BASE
static const bad_iotlb_t bad_iotlb[] = {
	{ "/vhost-user/refuse/iotlb-payload-size", 26, IOVA, KIB(4), U, 3, 2, false,
	  VMMEM_ERROR_PROTOCOL, { "IOTLB_MSG", "payload of 26 bytes", "expected 32" } },
	{ "/vhost-user/refuse/iotlb-with-fd", 32, IOVA, KIB(4), U, 3, 2, true,
	  VMMEM_ERROR_PROTOCOL, { "IOTLB_MSG", "1 fds", "expected none" } },
	{ "/vhost-user/refuse/iotlb-type-miss-from-frontend", 32, IOVA, KIB(4), U, 3, 1, false,
	  VMMEM_ERROR_PROTOCOL, { "iova 0xfee00000", "type 1", "from the backend" } },
	{ "/vhost-user/refuse/iotlb-type-access-fail-from-frontend", 32, IOVA, KIB(4), U, 3, 4,
	  false, VMMEM_ERROR_PROTOCOL, { "type 4", "neither UPDATE (2) nor INVALIDATE (3)", NULL } },
	{ "/vhost-user/refuse/iotlb-type-unknown", 32, IOVA, KIB(4), U, 3, 0x55, false,
	  VMMEM_ERROR_PROTOCOL, { "type 85", NULL, NULL } },
	{ "/vhost-user/refuse/iotlb-update-size-zero", 32, IOVA, 0, U, 3, 2, false,
	  VMMEM_ERROR_INVALID_ARGUMENT, { "UPDATE at iova 0xfee00000", "size is 0", NULL } },
	{ "/vhost-user/refuse/iotlb-invalidate-size-zero", 32, IOVA, 0, 0, 0, 3, false,
	  VMMEM_ERROR_INVALID_ARGUMENT, { "INVALIDATE at iova 0xfee00000", "size is 0", NULL } },
	{ "/vhost-user/refuse/iotlb-iova-range-wraps", 32, UINT64_MAX - 0xfff, KIB(8), U, 3, 2,
	  false, VMMEM_ERROR_OVERFLOW, { "iova 0xfffffffffffff000", "size 0x2000", "wraps" } },
	{ "/vhost-user/refuse/iotlb-invalidate-range-wraps", 32, UINT64_MAX, 2, 0, 0, 3, false,
	  VMMEM_ERROR_OVERFLOW, { "INVALIDATE", "iova 0xffffffffffffffff", "wraps" } },
	{ "/vhost-user/refuse/iotlb-uaddr-range-wraps", 32, IOVA, KIB(8), UINT64_MAX - 0xfff, 3, 2,
	  false, VMMEM_ERROR_OVERFLOW, { "uaddr 0xfffffffffffff000", "wraps", NULL } },
	{ "/vhost-user/refuse/iotlb-perm-none", 32, IOVA, KIB(4), U, 0, 2, false,
	  VMMEM_ERROR_INVALID_ARGUMENT, { "perm 0x0", "read-only (1)", NULL } },
	{ "/vhost-user/refuse/iotlb-perm-unknown-bits", 32, IOVA, KIB(4), U, 0x83, 2, false,
	  VMMEM_ERROR_INVALID_ARGUMENT, { "perm 0x83", NULL, NULL } },
	{ "/vhost-user/refuse/iotlb-uaddr-outside-memory-table", 32, IOVA, KIB(8),
	  U + MiB(3) - KIB(4), 3, 2, false, VMMEM_ERROR_INVALID_ADDRESS,
	  { "uaddr 0x7f0000300000", "not in any region", "starts at uaddr 0x7f00002ff000" } },
	{ "/vhost-user/refuse/iotlb-uaddr-below-memory-table", 32, IOVA, KIB(4), U - KIB(4), 3, 2,
	  false, VMMEM_ERROR_INVALID_ADDRESS, { "uaddr 0x7efffffff000", NULL, NULL } },
};
#undef U

static void
test_refused_iotlb_message(gconstpointer data)
{
	const bad_iotlb_t *bc = data;
	conn_t c;
	GError *err = NULL;
	uint8_t p[64] = { 0 };
	int fd = -1, before;
	vmmem_iotlb_entry_t e;

	iotlb_conn(&c);
	/* One entry to keep: a refused message must leave it as it was. */
	g_assert_true(send_iotlb(&c, 0x1000, KIB(4), UVA_BASE, VMMEM_IOTLB_READ,
				 VMMEM_VHOST_IOTLB_UPDATE, &err));
	tu_assert_no_error(err);
	iotlb_payload(p, bc->iova, bc->len, bc->uaddr, bc->perm, bc->type);
	before = tfd_count();
	if (bc->with_fd)
		fd = memfd_tagged(KIB(4), 0, 0, 0, 0);
	fe_send(&c, VMMEM_VHOST_USER_IOTLB_MSG, p, (uint32_t)bc->size, &fd, bc->with_fd ? 1 : 0);
	if (fd >= 0)
		close(fd);
	g_assert_false(be_handle(&c, &err));
	tu_assert_error(&err, bc->code, bc->want[0], bc->want[1], bc->want[2]);
	g_assert_cmpint(tfd_count(), ==, before);
	g_assert_cmpuint(vmmem_iotlb_num_entries(vmmem_vhost_mem_iotlb(c.vm)), ==, 1);
	g_assert_true(vmmem_iotlb_lookup(vmmem_vhost_mem_iotlb(c.vm), 0x1000, &e));
	g_assert_cmphex(e.target, ==, UVA_BASE);
	g_assert_cmphex(e.size, ==, KIB(4));
	conn_close(&c);
}

static void
test_iotlb_miss_message_for_backend_channel(void)
{
	uint8_t m[VMMEM_VHOST_IOTLB_MISS_MSG_SIZE + 4];
	uint32_t req, flags, size;
	uint64_t iova, zero;

	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0xfee01000, VMMEM_IOTLB_WRITE,
						    VMMEM_VHOST_IOTLB_MISS,
						    VMMEM_VHOST_USER_NEED_REPLY_MASK, m, sizeof(m)),
			 ==, 44);
	memcpy(&req, m, 4);
	memcpy(&flags, m + 4, 4);
	memcpy(&size, m + 8, 4);
	g_assert_cmpuint(req, ==, VMMEM_VHOST_USER_BACKEND_IOTLB_MSG);
	g_assert_cmphex(flags, ==, VMMEM_VHOST_USER_VERSION | VMMEM_VHOST_USER_NEED_REPLY_MASK);
	g_assert_cmpuint(size, ==, 32);
	memcpy(&iova, m + 12, 8);
	g_assert_cmphex(iova, ==, 0xfee01000);
	memcpy(&zero, m + 20, 8);
	g_assert_cmphex(zero, ==, 0);
	g_assert_cmpuint(m[12 + 24], ==, 2); /* perm: write (VHOST_ACCESS_WO) */
	g_assert_cmpuint(m[12 + 25], ==, VMMEM_VHOST_IOTLB_MISS);
	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0x1000, VMMEM_IOTLB_READ,
						    VMMEM_VHOST_IOTLB_ACCESS_FAIL, 0, m, 44),
			 ==, 44);
	memcpy(&flags, m + 4, 4);
	g_assert_cmphex(flags, ==, VMMEM_VHOST_USER_VERSION);
	g_assert_cmpuint(m[12 + 24], ==, 1);
	g_assert_cmpuint(m[12 + 25], ==, VMMEM_VHOST_IOTLB_ACCESS_FAIL);
	/* Bad arguments write nothing. */
	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0, VMMEM_IOTLB_READ, VMMEM_VHOST_IOTLB_MISS, 0,
						    m, 43), ==, 0);
	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0, VMMEM_IOTLB_READ, VMMEM_VHOST_IOTLB_UPDATE,
						    0, m, 44), ==, 0);
	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0, VMMEM_IOTLB_NONE, VMMEM_VHOST_IOTLB_MISS, 0,
						    m, 44), ==, 0);
	g_assert_cmpuint(vmmem_vhost_iotlb_miss_msg(0, VMMEM_IOTLB_READ, VMMEM_VHOST_IOTLB_MISS,
						    0x10, m, 44), ==, 0);
}

/* A backend's miss handler: send IOTLB_MISS on the backend channel and
 * fail the access (the request is retried once the update came), as
 * DPDK does; the test frontend answers with the update. */
struct miss_ctx {
	int backend_fd;  /* the backend's end of the backend channel */
	unsigned sent;
};

static vmmem_iotlb_action_t
send_miss(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_perm_t access,
	  vmmem_iotlb_fault_t fault, void *data)
{
	struct miss_ctx *mc = data;
	uint8_t m[VMMEM_VHOST_IOTLB_MISS_MSG_SIZE];
	size_t n = vmmem_vhost_iotlb_miss_msg(iova, access, VMMEM_VHOST_IOTLB_MISS, 0, m,
					      sizeof(m));

	(void)tlb;
	(void)fault;
	g_assert_cmpuint(n, ==, sizeof(m));
	g_assert_cmpint(send(mc->backend_fd, m, n, 0), ==, (ssize_t)n);
	mc->sent++;
	return VMMEM_IOTLB_FAIL;
}

static void
test_iotlb_miss_sent_then_update_served(void)
{
	conn_t c;
	GError *err = NULL;
	int ch[2];
	struct miss_ctx mc = { -1, 0 };
	vmmem_space_t *sp;
	const vmmem_memory_t *m;
	vmmem_iova_t io;
	uint8_t in[VMMEM_VHOST_IOTLB_MISS_MSG_SIZE];
	uint64_t v = 0, iova;

	iotlb_conn(&c);
	sp = vmmem_vhost_mem_space(c.vm);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch), ==, 0);
	mc.backend_fd = ch[1];
	vmmem_iotlb_set_miss_handler(vmmem_vhost_mem_iotlb(c.vm), send_miss, &mc);

	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(c.vm), m);
	g_assert_false(vmmem_iova_read_obj(&io, IOVA + 0x18, &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_IOTLB_MISS, "IOVA 0xfee00018", "(read)");
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	g_assert_cmpuint(mc.sent, ==, 1);

	/* The frontend reads the miss and answers on the main channel. */
	g_assert_cmpint(recv(ch[0], in, sizeof(in), MSG_WAITALL), ==, (ssize_t)sizeof(in));
	memcpy(&iova, in + 12, 8);
	g_assert_cmphex(iova, ==, IOVA + 0x18);
	g_assert_cmpuint(in[12 + 24], ==, VMMEM_IOTLB_READ);
	g_assert_true(send_iotlb(&c, iova & ~(KIB(4) - 1), KIB(4), UVA_BASE + KIB(4),
				 VMMEM_IOTLB_READ, VMMEM_VHOST_IOTLB_UPDATE, &err));
	tu_assert_no_error(err);

	/* The retried request goes through. */
	m = vmmem_space_get(sp);
	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(c.vm), m);
	g_assert_true(vmmem_iova_read_obj(&io, IOVA, &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(v, ==, tag(KIB(4)));
	vmmem_iova_end(&io);
	vmmem_space_put(sp, m);
	g_assert_cmpuint(mc.sent, ==, 1);
	close(ch[0]);
	close(ch[1]);
	conn_close(&c);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vhost-user/set-mem-table/full-table-maps-every-region",
			test_full_table_maps_every_region);
	g_test_add_func("/vhost-user/set-mem-table/resent-table-keeps-identical-mappings",
			test_resent_table_keeps_identical_mappings);
	g_test_add_func("/vhost-user/table/read-only-when-asked-refuses-writes",
			test_read_only_table_refuses_writes);
	g_test_add_func("/vhost-user/hugetlb/memfd-mapped-at-huge-page-size",
			test_hugetlb_memfd_mapped_at_huge_page_size);
	g_test_add_func("/vhost-user/hugetlb/hugetlbfs-file-region", test_hugetlbfs_file_region);
	g_test_add_func("/vhost-user/mem-slots/509-added-and-removed-under-readers",
			test_509_slots_added_and_removed_under_readers);
	g_test_add_func("/vhost-user/mem-slots/rem-matches-guest-size-and-user-address",
			test_rem_mem_reg_matches_guest_size_and_user_address);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++)
		g_test_add_data_func(bad_cases[i].path, &bad_cases[i], test_refused_message);
	g_test_add_func("/vhost-user/translate/frontend-address-is-bounds-checked",
			test_frontend_address_translation_is_bounds_checked);
	g_test_add_func("/vhost-user/translate/guest-address-clamps-length",
			test_guest_address_translation_clamps_length);
	g_test_add_func("/vhost-user/translate/vring-addr-parsed", test_vring_addr_parsed);
	g_test_add_func("/vhost-user/dirty-log/marks-exactly-the-pages-written",
			test_dirty_log_marks_exactly_the_pages_written);
	g_test_add_func("/vhost-user/iotlb/update-translates-through-frontend-address",
			test_iotlb_update_translates_through_frontend_address);
	g_test_add_func("/vhost-user/iotlb/entry-into-removed-region-fails",
			test_iotlb_entry_into_removed_region_fails);
	for (size_t i = 0; i < G_N_ELEMENTS(bad_iotlb); i++)
		g_test_add_data_func(bad_iotlb[i].path, &bad_iotlb[i], test_refused_iotlb_message);
	g_test_add_func("/vhost-user/iotlb/miss-message-for-backend-channel",
			test_iotlb_miss_message_for_backend_channel);
	g_test_add_func("/vhost-user/iotlb/miss-sent-then-update-served",
			test_iotlb_miss_sent_then_update_served);
	return g_test_run();
}
