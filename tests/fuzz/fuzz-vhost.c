/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Fuzzer for the vhost-user memory messages (<vmmem/vhost-user.h>).
 *
 * The input is what a hostile frontend sends: a sequence of SET_MEM_TABLE,
 * ADD_MEM_REG, REM_MEM_REG, SET_LOG_BASE and SET_FEATURES messages with
 * arbitrary fields, each with fds from a pool of real ones: memfds of
 * several sizes (sealed against resizing, unsealed, write-sealed, hugetlb
 * when huge pages can be had), a memfd opened read-only, /dev/zero, a pipe
 * and a disk file. Every fd handed over is a fresh dup, as SCM_RIGHTS
 * gives, since the functions close what they are given.
 *
 * IOTLB_MSG (request 22, through vmmem_vhost_mem_handle) updates and
 * invalidates the object's IOTLB; after every message 4 IOVAs from the
 * input are read by IOVA: a read either fails with a VMMEM_ERROR or
 * returns the bytes a guest-address read at its translation returns.
 *
 * What must hold: nothing crashes; a refused message sets a VMMEM_ERROR
 * with a message and publishes nothing (the space's generation is
 * unchanged); after each accepted message every region of the current
 * snapshot reads end to end through vmmem_memory_read_slice and holds the
 * bytes of its file from its offset on (each pool file is filled with
 * 8-byte words `pool index << 56 | file offset`); and when the object is
 * freed exactly the fds open before the input are open (/proc/self/fd).
 *
 * Input: up to MAX_MSGS messages, each
 *   u8 op (% 6: table, add, rem, log base, features, any request through
 *          vmmem_vhost_mem_handle),
 *   u8 n_fds (% 10), n_fds times u8 pool index (POOL_SIZE and above: -1),
 *   for op 5, u8 request: below 0x80 one of the five above, else the
 *          request number r - 0x80 (GET_MAX_MEM_SLOTS, unknown ones),
 *   u8 form: even = a payload built from fields, odd = u8 length (* 2)
 *          and raw bytes (the payload of the request's kind).
 * A built payload's u64 fields are each one u8 tag: below 0xe0 the tag
 * times 4 KiB, below 0xf0 (tag - 0xe0) times 2 MiB (huge-page aligned),
 * from 0xf0 on a raw u64 that follows.
 * FUZZ_VERBOSE=1 prints each outcome. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/vmmem.h>
#include <vmmem/vhost-user.h>

#include "fuzz.h"

#define MAX_MSGS 8
#define MAX_FDS 9
#define POOL_SIZE 12
#define PAGE 4096u
#define HUGE_SIZE (2u << 20)

static int pool[POOL_SIZE];

/* Fills [0, size) of fd with the words `id << 56 | offset`; false if it
 * cannot be mapped (a hugetlb memfd while the pool is short). */
static bool
fill_pattern(int fd, unsigned id, size_t size)
{
	uint64_t *m;

	if (size == 0)
		return true;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return false;
	for (size_t i = 0; i < size / 8; i++)
		m[i] = (uint64_t)id << 56 | (uint64_t)i * 8;
	munmap(m, size);
	return true;
}

static int
pool_memfd(unsigned id, const char *name, size_t size, unsigned flags, unsigned seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | flags);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0 || !fill_pattern(fd, id, size)) {
		if (flags & MFD_HUGETLB) { /* no huge pages now: the caller stands in */
			if (fd >= 0)
				close(fd);
			return -1;
		}
		fuzz_fail("memfd %s: %s", name, g_strerror(errno));
	}
	if (seals && fcntl(fd, F_ADD_SEALS, seals) != 0)
		fuzz_fail("sealing memfd %s: %s", name, g_strerror(errno));
	return fd;
}

static vmmem_memory_t *keep_mmap_loaded;
static const vmmem_region_spec_t mmap_spec = { .name = "keep-mmap-loaded",
					       .size = 4096, .provider = "mmap" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/var/tmp/vmmem-fuzz-vhost.XXXXXX";
	char path[64];
	int p[2];

	(void)argc;
	(void)argv;
	fuzz_setup_provider_path();
	/* A loaded provider holds its file open, and with VMMEM_NO_DLCLOSE
	 * (the sanitizer and valgrind runs) keeps it open after its last
	 * region: load mmap once here, so that the fd count of an input
	 * counts only what the input leaves open. */
	keep_mmap_loaded = vmmem_memory_new(&mmap_spec, 1, NULL);
	if (!keep_mmap_loaded)
		fuzz_fail("cannot load the mmap provider (VMMEM_PROVIDER_PATH)");
	pool[0] = pool_memfd(0, "page", PAGE, 0, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	pool[1] = pool_memfd(1, "64k-sealed", 64 << 10, 0, F_SEAL_SHRINK | F_SEAL_GROW);
	pool[2] = pool_memfd(2, "64k-unsealed", 64 << 10, 0, 0);
	pool[3] = pool_memfd(3, "1m", 1 << 20, 0, F_SEAL_SHRINK);
	pool[4] = pool_memfd(4, "write-sealed", 64 << 10, 0, F_SEAL_WRITE);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pool[2]);
	pool[5] = open(path, O_RDONLY | O_CLOEXEC); /* the same memfd, read-only */
	pool[6] = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) != 0)
		fuzz_fail("pipe: %s", g_strerror(errno));
	pool[7] = p[0];
	pool[8] = p[1];
	pool[9] = pool_memfd(9, "huge", HUGE_SIZE, MFD_HUGETLB, F_SEAL_SHRINK | F_SEAL_GROW);
	if (pool[9] < 0) /* no huge pages: one more plain memfd of the same size */
		pool[9] = pool_memfd(9, "huge-standin", HUGE_SIZE, 0, F_SEAL_SHRINK);
	pool[10] = pool_memfd(10, "empty", 0, 0, 0);
	pool[11] = mkostemp(tmpl, O_CLOEXEC); /* a disk file (not shared memory) */
	if (pool[5] < 0 || pool[6] < 0 || pool[11] < 0 || ftruncate(pool[11], 64 << 10) != 0)
		fuzz_fail("cannot open the fd pool: %s", g_strerror(errno));
	unlink(tmpl);
	return 0;
}

void
fuzz_target_cleanup(void)
{
	vmmem_memory_unref(keep_mmap_loaded);
	for (size_t i = 0; i < POOL_SIZE; i++)
		close(pool[i]);
}

/* One u64 field: a small multiple of the page or of the huge page, or
 * any value. */
static uint64_t
field(fuzz_in_t *in)
{
	uint8_t tag = fuzz_u8(in);

	if (tag < 0xe0)
		return (uint64_t)tag * PAGE;
	if (tag < 0xf0)
		return (uint64_t)(tag - 0xe0) * HUGE_SIZE;
	return fuzz_u64(in);
}

/* A region as the wire has it, from fields; a size of 0 becomes a page
 * so that more messages are accepted (the raw form still sends 0). */
static size_t
put_region(fuzz_in_t *in, uint8_t *p)
{
	uint64_t v[4];

	v[0] = field(in);                   /* guest_phys_addr */
	v[1] = field(in);                   /* memory_size */
	v[2] = field(in) + (UINT64_C(1) << 40); /* userspace_addr */
	v[3] = field(in);                   /* mmap_offset */
	if (v[1] == 0)
		v[1] = PAGE;
	memcpy(p, v, sizeof(v));
	return sizeof(v);
}

/* The payload of one message into buf (at least 512 bytes), its size. */
static size_t
build_payload(fuzz_in_t *in, unsigned op, uint8_t *buf)
{
	uint8_t form = fuzz_u8(in);
	size_t n = 0;

	if (form & 1) {
		size_t len = (size_t)fuzz_u8(in) * 2;

		for (size_t i = 0; i < len; i++)
			buf[i] = fuzz_u8(in);
		return len;
	}
	switch (op) {
	case 0: { /* SET_MEM_TABLE: u32 nregions, u32 padding, regions */
		uint32_t k = ((form >> 1) & 0xf) % 10, pad = 0, regs = k;

		if (form & 0x80) /* a count that disagrees with the regions sent */
			regs = (k + 1) % 10;
		memcpy(buf, &k, 4);
		memcpy(buf + 4, &pad, 4);
		n = 8;
		for (uint32_t i = 0; i < regs && i < 9; i++)
			n += put_region(in, buf + n);
		return n;
	}
	case 1:
	case 2: /* ADD_MEM_REG, REM_MEM_REG: u64 padding, one region */
		memset(buf, 0, 8);
		return 8 + put_region(in, buf + 8);
	case 3: { /* SET_LOG_BASE: u64 mmap_size, u64 mmap_offset */
		uint64_t v[2];

		v[0] = (form & 2) ? fuzz_u64(in) : (uint64_t)fuzz_u8(in) * 8 + 8;
		v[1] = (form & 4) ? fuzz_u64(in) : (uint64_t)fuzz_u8(in) * 8;
		memcpy(buf, v, sizeof(v));
		return sizeof(v);
	}
	case 5: { /* IOTLB_MSG: u64 iova, size, uaddr; u8 perm, type; padding */
		uint64_t v[3];

		v[0] = field(in);
		v[1] = field(in);
		v[2] = field(in) + (UINT64_C(1) << 40); /* near the regions' uaddrs */
		memset(buf, 0, 32);
		memcpy(buf, v, sizeof(v));
		buf[24] = (form & 0x40) ? fuzz_u8(in) : (uint8_t)(((form >> 1) & 3) ?: 3);
		buf[25] = (form & 0x20) ? fuzz_u8(in) : (uint8_t)(2 + ((form >> 3) & 1));
		return 32;
	}
	default: { /* SET_FEATURES and the rest: one u64 */
		uint64_t f = (form & 2) ? VMMEM_VHOST_F_LOG_ALL : fuzz_u64(in);

		memcpy(buf, &f, 8);
		return 8;
	}
	}
}

/* Every region of the current snapshot reads end to end and holds its
 * file's words from its offset on. */
static void
check_snapshot(vmmem_space_t *space)
{
	const vmmem_memory_t *m = vmmem_space_get(space);
	static uint64_t buf[(64 << 10) / 8];
	GError *err = NULL;

	for (size_t i = 0; i < vmmem_memory_num_regions(m); i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);
		uint64_t start = vmmem_region_start(r).raw, size = vmmem_region_size(r);
		uint64_t id = UINT64_MAX, base = 0;

		for (uint64_t off = 0; off < size; off += sizeof(buf)) {
			size_t len = (size_t)MIN(size - off, sizeof(buf));

			if (!vmmem_memory_read_slice(m, vmmem_guest_addr(start + off), buf, len, &err))
				fuzz_fail("region %zu [0x%" G_GINT64_MODIFIER "x, +0x%" G_GINT64_MODIFIER
					  "x) does not read at +0x%" G_GINT64_MODIFIER "x: %s",
					  i, start, size, off, err->message);
			if (id == UINT64_MAX) {
				id = buf[0] >> 56;
				base = buf[0] & ((UINT64_C(1) << 56) - 1);
				if (id >= POOL_SIZE || base != vmmem_region_fd_offset(r))
					fuzz_fail("region %zu starts with word 0x%" G_GINT64_MODIFIER
						  "x, not its file's at offset 0x%" G_GINT64_MODIFIER
						  "x", i, buf[0], vmmem_region_fd_offset(r));
			}
			for (size_t w = 0; w < len / 8; w++)
				if (buf[w] != (id << 56 | (base + off + w * 8)))
					fuzz_fail("region %zu word at +0x%" G_GINT64_MODIFIER
						  "x is 0x%" G_GINT64_MODIFIER "x",
						  i, off + w * 8, buf[w]);
		}
	}
	vmmem_space_put(space, m);
}

/* Reads by IOVA agree with reads by guest address at their translation,
 * or fail with a VMMEM_ERROR. */
static void
check_iova(fuzz_in_t *in, vmmem_vhost_mem_t *vm)
{
	vmmem_space_t *space = vmmem_vhost_mem_space(vm);
	const vmmem_memory_t *m = vmmem_space_get(space);
	vmmem_iova_t io;

	vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(vm), m);
	for (unsigned k = 0; k < 4 && in->left > 0; k++) {
		uint64_t iova = field(in) + fuzz_u8(in), a = 0, b = 0, plen = 0;
		vmmem_guest_addr_t gpa;
		GError *err = NULL;

		if (vmmem_iova_read_obj(&io, iova, &a, 8, &err)) {
			/* A value split over two entries has no single translation. */
			if (!vmmem_iova_translate(&io, iova, 8, VMMEM_IOTLB_READ, &gpa, &plen, NULL) ||
			    (plen == 8 && (!vmmem_memory_read_obj(m, gpa, &b, 8, NULL) || a != b)))
				fuzz_fail("IOVA 0x%" G_GINT64_MODIFIER "x read 0x%" G_GINT64_MODIFIER
					  "x, its translation disagrees", iova, a);
		} else if (!err || err->domain != VMMEM_ERROR || !*err->message) {
			fuzz_fail("IOVA 0x%" G_GINT64_MODIFIER "x: refused without a VMMEM_ERROR",
				  iova);
		}
		g_clear_error(&err);
	}
	vmmem_iova_end(&io);
	vmmem_space_put(space, m);
}

static const uint32_t requests[] = {
	VMMEM_VHOST_USER_SET_MEM_TABLE, VMMEM_VHOST_USER_ADD_MEM_REG,
	VMMEM_VHOST_USER_REM_MEM_REG,   VMMEM_VHOST_USER_SET_LOG_BASE,
	VMMEM_VHOST_USER_SET_FEATURES,  VMMEM_VHOST_USER_IOTLB_MSG,
};

/* Which payload builder a request number takes. */
static unsigned
form_of(uint32_t request)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(requests); i++)
		if (requests[i] == request)
			return i;
	return 4; /* one u64 */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in_t in = { data, size };
	int fds_before = tfd_count();
	vmmem_vhost_mem_t *vm;
	GError *err = NULL;
	uint8_t buf[512];

	vm = vmmem_vhost_mem_new(NULL, &err);
	if (!vm)
		fuzz_fail("vmmem_vhost_mem_new: %s", err->message);
	for (unsigned msg = 0; msg < MAX_MSGS && in.left > 0; msg++) {
		unsigned op = fuzz_u8(&in) % 6, n_fds = fuzz_u8(&in) % (MAX_FDS + 1);
		int fds[MAX_FDS];
		uint64_t gen = vmmem_space_generation(vmmem_vhost_mem_space(vm)), reply = 0;
		uint32_t request = 0;
		size_t len;
		int rc;

		for (unsigned i = 0; i < n_fds; i++) {
			uint8_t w = fuzz_u8(&in);

			fds[i] = w < POOL_SIZE ? fcntl(pool[w], F_DUPFD_CLOEXEC, 0) : -1;
			if (w < POOL_SIZE && fds[i] < 0)
				fuzz_fail("dup of pool fd %u: %s", w, g_strerror(errno));
		}
		if (op == 5) {
			uint8_t r = fuzz_u8(&in);

			request = r < 0x80 ? requests[r % G_N_ELEMENTS(requests)] : r - 0x80u;
		}
		len = build_payload(&in, op == 5 ? form_of(request) : op, buf);
		switch (op) {
		case 0:
			rc = vmmem_vhost_mem_set_mem_table(vm, buf, len, fds, n_fds, &err) ? 1 : -1;
			break;
		case 1:
			rc = vmmem_vhost_mem_add_mem_reg(vm, buf, len, fds, n_fds, &err) ? 1 : -1;
			break;
		case 2:
			rc = vmmem_vhost_mem_rem_mem_reg(vm, buf, len, fds, n_fds, &err) ? 1 : -1;
			break;
		case 3:
			rc = vmmem_vhost_mem_set_log_base(vm, buf, len, fds, n_fds, &err) ? 1 : -1;
			break;
		case 4: {
			uint64_t f;

			memcpy(&f, buf, 8);
			rc = vmmem_vhost_mem_set_features(vm, f, &err) ? 1 : -1;
			for (unsigned i = 0; i < n_fds; i++)
				if (fds[i] >= 0)
					close(fds[i]);
			break;
		}
		default:
			rc = vmmem_vhost_mem_handle(vm, request, buf, len, fds, n_fds, &reply, &err);
			if (rc == 0) /* not a memory message: the fds are still ours */
				for (unsigned i = 0; i < n_fds; i++)
					if (fds[i] >= 0)
						close(fds[i]);
			if (request == VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS &&
			    (rc != 1 || reply != VMMEM_VHOST_MAX_MEM_SLOTS))
				fuzz_fail("GET_MAX_MEM_SLOTS: %d, reply %" G_GUINT64_FORMAT, rc, reply);
			break;
		}
		if (rc < 0) {
			if (!err || err->domain != VMMEM_ERROR || !err->message || !*err->message)
				fuzz_fail("op %u refused without a VMMEM_ERROR", op);
			if (g_getenv("FUZZ_VERBOSE"))
				fprintf(stderr, "op %u refused: %s\n", op, err->message);
			if (vmmem_space_generation(vmmem_vhost_mem_space(vm)) != gen)
				fuzz_fail("op %u was refused (%s) but published a snapshot", op,
					  err->message);
			g_clear_error(&err);
		} else {
			if (err)
				fuzz_fail("op %u succeeded with an error: %s", op, err->message);
			if (g_getenv("FUZZ_VERBOSE"))
				fprintf(stderr, "op %u: %s\n", op, rc ? "accepted" : "not ours");
			check_snapshot(vmmem_vhost_mem_space(vm));
		}
		check_iova(&in, vm);
	}
	vmmem_vhost_mem_free(vm);
	if (tfd_count() != fds_before)
		fuzz_fail("%d fds open before the messages, %d after", fds_before, tfd_count());
	return 0;
}
