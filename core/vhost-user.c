/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The guest-memory part of vhost-user: messages in, a space out.
 *
 * Why a space and not a table of our own: the space already gives what
 * every hand-written backend gets wrong, readers that never block while
 * the table changes and mappings that outlive the table until the last
 * reader lets go. This file only turns messages into one change of the
 * space each (vmmem__space_replace), after checking every field.
 *
 * Why the mmap provider maps the regions: it already maps an fd shared at
 * an offset, fstatfs()es it for the huge-page size and unmaps on the last
 * reference; the validation here runs first, so the provider sees only
 * numbers that were checked (its own checks stay as a second line). */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <vmmem/vhost-user.h>

#include "internal.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#define REGION_WIRE_SIZE 32
#define MEM_TABLE_HEADER 8  /* u32 nregions; u32 padding */
#define MEM_REG_HEADER 8    /* u64 padding */
#define LOG_PAYLOAD 16      /* u64 mmap_size; u64 mmap_offset */
#define VRING_ADDR_PAYLOAD 40
#define IOTLB_PAYLOAD VMMEM_VHOST_IOTLB_MSG_SIZE

/* A mapped dirty log, shared between the object (which may hand it to
 * the space again when LOG_ALL comes back) and the space (through the
 * destroy callback of vmmem_space_set_log). */
struct log_map {
	gint refcount;
	void *map;
	size_t map_len;
	uint64_t *bits;
	size_t size;
};

struct vmmem_vhost_mem {
	vmmem_space_t *space;
	GMutex lock;          /* serializes the message functions */
	struct log_map *log;  /* the last SET_LOG_BASE's, or NULL */
	bool log_all;         /* VHOST_F_LOG_ALL negotiated */
	bool logging;         /* __atomic: the space logs into log */
	vmmem_iotlb_t *iotlb; /* IOVA -> frontend address (IOTLB_MSG) */
};

/* One region of a message and what the checks learnt about its fd. */
struct checked {
	vmmem_vhost_mem_region_t r;
	int fd;
	uint64_t page;
	dev_t dev;
	ino_t ino;
};

static struct log_map *
log_map_ref(struct log_map *l)
{
	g_atomic_int_inc(&l->refcount);
	return l;
}

static void
log_map_unref(void *p)
{
	struct log_map *l = p;

	if (l && g_atomic_int_dec_and_test(&l->refcount)) {
		munmap(l->map, l->map_len);
		g_free(l);
	}
}

static void
close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

vmmem_vhost_mem_t *
vmmem_vhost_mem_new(const vmmem_space_options_t *options, GError **error)
{
	vmmem_vhost_mem_t *vm;
	vmmem_space_t *space = vmmem_space_new(NULL, 0, options, error);

	if (!space)
		return NULL;
	vm = g_new0(vmmem_vhost_mem_t, 1);
	vm->space = space;
	g_mutex_init(&vm->lock);
	{
		vmmem_iotlb_options_t o = { sizeof(o), VMMEM_IOTLB_TARGET_FRONTEND, 0 };

		vm->iotlb = vmmem_iotlb_new(&o, NULL); /* cannot fail with these options */
	}
	return vm;
}

void
vmmem_vhost_mem_free(vmmem_vhost_mem_t *vm)
{
	if (!vm)
		return;
	/* The space drops its reference to the log (if logging) as it goes. */
	vmmem_space_free(vm->space);
	vmmem_iotlb_free(vm->iotlb);
	log_map_unref(vm->log);
	g_mutex_clear(&vm->lock);
	g_free(vm);
}

vmmem_space_t *
vmmem_vhost_mem_space(vmmem_vhost_mem_t *vm)
{
	return vm->space;
}

vmmem_iotlb_t *
vmmem_vhost_mem_iotlb(vmmem_vhost_mem_t *vm)
{
	return vm->iotlb;
}

uint64_t
vmmem_vhost_mem_max_mem_slots(const vmmem_vhost_mem_t *vm)
{
	(void)vm;
	return VMMEM_VHOST_MAX_MEM_SLOTS;
}

bool
vmmem_vhost_mem_logging(const vmmem_vhost_mem_t *vm)
{
	return __atomic_load_n(&vm->logging, __ATOMIC_ACQUIRE);
}

/* ---- checks ---- */

static bool
range_wraps(uint64_t start, uint64_t size)
{
	return size - 1 > UINT64_MAX - start;
}

/* An fd that may back guest memory: a regular file of a shared-memory
 * file system, open read-write. Anything else is refused, not mapped: a
 * device node or a socket could map something nobody validated, and a
 * disk file would turn guest writes into disk I/O. */
static bool
check_fd(const char *msg, size_t i, int fd, struct stat *st, uint64_t *page, GError **error)
{
	struct statfs sfs;
	int fl;

	if (fd < 0) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s region %zu: fd %d is not a file descriptor", msg, i, fd);
		return false;
	}
	if (fstat(fd, st) != 0 || fstatfs(fd, &sfs) != 0 || (fl = fcntl(fd, F_GETFL)) < 0) {
		int e = errno;
		vmmem__error_errno(error, VMMEM_ERROR_INVALID_ARGUMENT, e,
				   "%s region %zu: fd %d cannot be inspected: %s", msg, i, fd,
				   g_strerror(e));
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s region %zu: fd %d is not a regular file (mode 0%o); guest memory "
			     "must be a memfd, tmpfs or hugetlbfs file",
			     msg, i, fd, (unsigned)st->st_mode);
		return false;
	}
	if ((unsigned long)sfs.f_type != TMPFS_MAGIC &&
	    (unsigned long)sfs.f_type != HUGETLBFS_MAGIC) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s region %zu: fd %d is on a file system of magic 0x%lx, not shared "
			     "memory (memfd/tmpfs 0x%x, hugetlbfs 0x%x)",
			     msg, i, fd, (unsigned long)sfs.f_type, TMPFS_MAGIC, HUGETLBFS_MAGIC);
		return false;
	}
	if ((fl & O_ACCMODE) != O_RDWR) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s region %zu: fd %d is not open read-write (flags 0x%x)", msg, i, fd,
			     (unsigned)fl);
		return false;
	}
	if ((unsigned long)sfs.f_type == HUGETLBFS_MAGIC)
		*page = (uint64_t)sfs.f_bsize;
	else
		*page = (uint64_t)sysconf(_SC_PAGESIZE);
	return true;
}

/* Every field of one region on its own, and its fd. */
static bool
check_region(const char *msg, size_t i, struct checked *c, GError **error)
{
	const vmmem_vhost_mem_region_t *r = &c->r;
	struct stat st;

	if (r->memory_size == 0) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): memory_size is 0", msg, i, c->fd);
		return false;
	}
	if (range_wraps(r->guest_phys_addr, r->memory_size)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): guest_phys_addr 0x%" PRIx64 " + memory_size 0x%" PRIx64
			     " wraps past 2^64",
			     msg, i, c->fd, r->guest_phys_addr, r->memory_size);
		return false;
	}
	if (range_wraps(r->userspace_addr, r->memory_size)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): userspace_addr 0x%" PRIx64 " + memory_size 0x%" PRIx64
			     " wraps past 2^64",
			     msg, i, c->fd, r->userspace_addr, r->memory_size);
		return false;
	}
	if (!check_fd(msg, i, c->fd, &st, &c->page, error))
		return false;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (r->memory_size % c->page || r->guest_phys_addr % c->page || r->mmap_offset % c->page) {
		const char *field = r->memory_size % c->page       ? "memory_size"
				    : r->guest_phys_addr % c->page ? "guest_phys_addr"
								   : "mmap_offset";
		uint64_t v = r->memory_size % c->page       ? r->memory_size
			     : r->guest_phys_addr % c->page ? r->guest_phys_addr
							    : r->mmap_offset;
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): %s 0x%" PRIx64 " is not a multiple of the fd's "
			     "page size 0x%" PRIx64,
			     msg, i, c->fd, field, v, c->page);
		return false;
	}
	/* Mapping past the end of the file would SIGBUS on the first touch. */
	if (r->mmap_offset > (uint64_t)st.st_size ||
	    (uint64_t)st.st_size - r->mmap_offset < r->memory_size) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s region %zu (fd %d): mmap_offset 0x%" PRIx64 " + memory_size 0x%" PRIx64
			     " is past the end of the file (0x%" PRIx64 " bytes)",
			     msg, i, c->fd, r->mmap_offset, r->memory_size, (uint64_t)st.st_size);
		return false;
	}
	return true;
}

static bool
ranges_overlap(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a <= b + (bsize - 1) && b <= a + (asize - 1);
}

/* New region `c` (index i) against another: region `other` of the same
 * message (slot false) or the slot of the table at guest `gpa` (slot
 * true). The other's name is only formatted for an error: ADD_MEM_REG
 * checks against up to 508 slots. */
static bool
check_pair(const char *msg, size_t i, const struct checked *c, bool slot, size_t other,
	   uint64_t gpa, uint64_t size, uint64_t uva, GError **error)
{
	const vmmem_vhost_mem_region_t *r = &c->r;
	char what[48];

	if (!ranges_overlap(r->guest_phys_addr, r->memory_size, gpa, size) &&
	    !ranges_overlap(r->userspace_addr, r->memory_size, uva, size))
		return true;
	if (slot)
		g_snprintf(what, sizeof(what), "the slot at guest 0x%" PRIx64, gpa);
	else
		g_snprintf(what, sizeof(what), "region %zu", other);

	if (r->guest_phys_addr == gpa && r->memory_size == size && r->userspace_addr == uva) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): guest 0x%" PRIx64 " size 0x%" PRIx64
			     " userspace_addr 0x%" PRIx64 " duplicates %s",
			     msg, i, c->fd, gpa, size, uva, what);
		return false;
	}
	if (ranges_overlap(r->guest_phys_addr, r->memory_size, gpa, size)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): guest range [0x%" PRIx64 ", +0x%" PRIx64
			     ") overlaps %s [0x%" PRIx64 ", +0x%" PRIx64 ")",
			     msg, i, c->fd, r->guest_phys_addr, r->memory_size, what, gpa, size);
		return false;
	}
	if (ranges_overlap(r->userspace_addr, r->memory_size, uva, size)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s region %zu (fd %d): frontend range userspace_addr [0x%" PRIx64
			     ", +0x%" PRIx64 ") overlaps %s [0x%" PRIx64 ", +0x%" PRIx64 ")",
			     msg, i, c->fd, r->userspace_addr, r->memory_size, what, uva, size);
		return false;
	}
	return true;
}

static void
read_region(const uint8_t *p, vmmem_vhost_mem_region_t *r)
{
	/* The payload comes from a socket buffer: no alignment promised. */
	memcpy(r, p, REGION_WIRE_SIZE);
}

/* ---- building the change ---- */

/* The spec for one checked region, with its options kept in `opt` (4
 * entries) and `strs` (3 strings to free). */
static void
region_spec(const struct checked *c, vmmem_region_spec_t *spec,
	    struct vmmem_provider_option *opt, char **strs)
{
	strs[0] = g_strdup_printf("%d", c->fd);
	strs[1] = g_strdup_printf("%" PRIu64, c->r.mmap_offset);
	strs[2] = g_strdup_printf("vhost-user@0x%" PRIx64, c->r.guest_phys_addr);
	opt[0].key = "fd";
	opt[0].value = strs[0];
	opt[1].key = "offset";
	opt[1].value = strs[1];
	opt[2].key = "shared";
	opt[2].value = "yes";
	/* The frontend owns the file's allocation: fallocate()ing all of
	 * guest RAM here would defeat its lazy allocation and ballooning. */
	opt[3].key = "allocate";
	opt[3].value = "no";
	memset(spec, 0, sizeof(*spec));
	spec->name = strs[2];
	spec->start.raw = c->r.guest_phys_addr;
	spec->size = c->r.memory_size;
	spec->provider = "mmap";
	spec->options = opt;
	spec->n_options = 4;
}

/* Maps the regions of `add` and removes the snapshot indices `remove`,
 * as one published change. */
static bool
apply(vmmem_vhost_mem_t *vm, uint64_t gen, const size_t *remove, size_t n_remove,
      const struct checked *add, size_t n_add, GError **error)
{
	vmmem_region_spec_t *specs = g_new0(vmmem_region_spec_t, n_add ? n_add : 1);
	struct vmmem_provider_option *opts = g_new0(struct vmmem_provider_option, 4 * n_add + 1);
	char **strs = g_new0(char *, 3 * n_add + 1);
	uint64_t *uvas = g_new0(uint64_t, n_add ? n_add : 1);
	bool ok;

	for (size_t i = 0; i < n_add; i++) {
		region_spec(&add[i], &specs[i], &opts[4 * i], &strs[3 * i]);
		uvas[i] = add[i].r.userspace_addr;
	}
	ok = vmmem__space_replace(vm->space, gen, remove, n_remove, specs, uvas, n_add, error);
	for (size_t i = 0; i < 3 * n_add; i++)
		g_free(strs[i]);
	g_free(strs);
	g_free(opts);
	g_free(specs);
	g_free(uvas);
	return ok;
}

/* True if snapshot region `r` is what `c` asks for: same numbers, same
 * file, same offset. Such a region keeps its mapping across a
 * SET_MEM_TABLE (QEMU resends the whole table on every change when it
 * lacks CONFIGURE_MEM_SLOTS). */
static bool
same_mapping(const struct vmmem_region *r, const struct checked *c)
{
	struct stat st;

	if (r->start != c->r.guest_phys_addr || r->size != c->r.memory_size ||
	    r->user_addr != c->r.userspace_addr || r->mapping.fd < 0 ||
	    r->mapping.fd_offset != c->r.mmap_offset)
		return false;
	return fstat(r->mapping.fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
}

static bool
set_mem_table_locked(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds,
		     size_t n_fds, GError **error)
{
	static const char msg[] = "SET_MEM_TABLE";
	struct checked c[VMMEM_VHOST_MEM_TABLE_MAX_REGIONS];
	struct checked add[VMMEM_VHOST_MEM_TABLE_MAX_REGIONS];
	size_t *remove = NULL, n_remove = 0, n_add = 0;
	vmmem_memory_t *cur;
	uint32_t n;
	uint64_t gen;
	bool ok;

	if (size < MEM_TABLE_HEADER) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "%s: payload of %zu bytes is shorter than its %d-byte header", msg, size,
			     MEM_TABLE_HEADER);
		return false;
	}
	memcpy(&n, p, sizeof(n));
	if (n > VMMEM_VHOST_MEM_TABLE_MAX_REGIONS) {
		vmmem__error(error, VMMEM_ERROR_NO_SPACE,
			     "%s: nregions %" PRIu32 " is more than the %d a table may hold", msg, n,
			     VMMEM_VHOST_MEM_TABLE_MAX_REGIONS);
		return false;
	}
	if (size != MEM_TABLE_HEADER + (size_t)n * REGION_WIRE_SIZE) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "%s: payload of %zu bytes for nregions %" PRIu32 " (expected %zu)", msg,
			     size, n, MEM_TABLE_HEADER + (size_t)n * REGION_WIRE_SIZE);
		return false;
	}
	if (n_fds != n) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "%s: %zu fds for nregions %" PRIu32 " (one fd per region)", msg, n_fds, n);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		read_region(p + MEM_TABLE_HEADER + i * REGION_WIRE_SIZE, &c[i].r);
		c[i].fd = fds[i];
		if (!check_region(msg, i, &c[i], error))
			return false;
		for (size_t j = 0; j < i; j++)
			if (!check_pair(msg, i, &c[i], false, j, c[j].r.guest_phys_addr,
					c[j].r.memory_size, c[j].r.userspace_addr, error))
				return false;
	}

	/* Everything checked: now the change. */
	gen = vmmem_space_generation(vm->space);
	cur = vmmem_space_ref_memory(vm->space);
	remove = g_new(size_t, cur->n ? cur->n : 1);
	for (size_t k = 0; k < cur->n; k++) {
		bool kept = false;

		for (size_t i = 0; i < n && !kept; i++)
			kept = same_mapping(cur->regions[k], &c[i]);
		if (!kept)
			remove[n_remove++] = k;
	}
	for (size_t i = 0; i < n; i++) {
		bool kept = false;

		for (size_t k = 0; k < cur->n && !kept; k++)
			kept = same_mapping(cur->regions[k], &c[i]);
		if (!kept)
			add[n_add++] = c[i];
	}
	vmmem_memory_unref(cur);
	ok = apply(vm, gen, remove, n_remove, add, n_add, error);
	g_free(remove);
	if (!ok)
		g_prefix_error(error, "%s: ", msg);
	return ok;
}

/* The region of an ADD_MEM_REG / REM_MEM_REG payload. */
static bool
mem_reg_payload(const char *msg, const uint8_t *p, size_t size, vmmem_vhost_mem_region_t *r,
		GError **error)
{
	if (size != MEM_REG_HEADER + REGION_WIRE_SIZE) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "%s: payload of %zu bytes (expected %d: u64 padding and one region)", msg,
			     size, MEM_REG_HEADER + REGION_WIRE_SIZE);
		return false;
	}
	read_region(p + MEM_REG_HEADER, r);
	return true;
}

static bool
add_mem_reg_locked(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds,
		   size_t n_fds, GError **error)
{
	static const char msg[] = "ADD_MEM_REG";
	struct checked c;
	vmmem_memory_t *cur;
	uint64_t gen;
	bool ok = false;

	if (!mem_reg_payload(msg, p, size, &c.r, error))
		return false;
	if (n_fds != 1) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL, "%s: %zu fds (expected exactly 1)", msg,
			     n_fds);
		return false;
	}
	c.fd = fds[0];
	if (!check_region(msg, 0, &c, error))
		return false;
	gen = vmmem_space_generation(vm->space);
	cur = vmmem_space_ref_memory(vm->space);
	if (cur->n >= VMMEM_VHOST_MAX_MEM_SLOTS) {
		vmmem__error(error, VMMEM_ERROR_NO_SPACE,
			     "%s region 0 (fd %d): guest 0x%" PRIx64 ": all %d slots are in use", msg,
			     c.fd, c.r.guest_phys_addr, VMMEM_VHOST_MAX_MEM_SLOTS);
		goto out;
	}
	for (size_t k = 0; k < cur->n; k++) {
		const struct vmmem_region *r = cur->regions[k];

		if (!check_pair(msg, 0, &c, true, k, r->start, r->size, r->user_addr, error))
			goto out;
	}
	ok = apply(vm, gen, NULL, 0, &c, 1, error);
	if (!ok)
		g_prefix_error(error, "%s: ", msg);
out:
	vmmem_memory_unref(cur);
	return ok;
}

static bool
rem_mem_reg_locked(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, size_t n_fds,
		   GError **error)
{
	static const char msg[] = "REM_MEM_REG";
	vmmem_vhost_mem_region_t r;
	vmmem_memory_t *cur;
	ptrdiff_t k;
	uint64_t gen;
	size_t idx;
	bool ok = false;

	if (!mem_reg_payload(msg, p, size, &r, error))
		return false;
	if (n_fds > 1) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL, "%s: %zu fds (expected at most 1)", msg,
			     n_fds);
		return false;
	}
	gen = vmmem_space_generation(vm->space);
	cur = vmmem_space_ref_memory(vm->space);
	k = vmmem__memory_index(cur, r.guest_phys_addr);
	if (k < 0 || cur->regions[k]->start != r.guest_phys_addr ||
	    cur->regions[k]->size != r.memory_size ||
	    cur->regions[k]->user_addr != r.userspace_addr) {
		vmmem__error(error, VMMEM_ERROR_NOT_FOUND,
			     "%s: no region has guest_phys_addr 0x%" PRIx64 ", memory_size 0x%" PRIx64
			     " and userspace_addr 0x%" PRIx64,
			     msg, r.guest_phys_addr, r.memory_size, r.userspace_addr);
		goto out;
	}
	idx = (size_t)k;
	ok = apply(vm, gen, &idx, 1, NULL, 0, error);
	if (!ok)
		g_prefix_error(error, "%s: ", msg);
out:
	vmmem_memory_unref(cur);
	return ok;
}

/* ---- the dirty log ---- */

/* Hands the log to the space (on) or takes it back (off). */
static bool
update_logging(vmmem_vhost_mem_t *vm, GError **error)
{
	bool want = vm->log_all && vm->log;
	struct log_map *l;

	if (want) {
		l = log_map_ref(vm->log);
		if (!vmmem_space_set_log(vm->space, l->bits, l->size, log_map_unref, l, error)) {
			log_map_unref(l); /* refused: the space did not take it */
			return false;
		}
	} else if (vmmem_space_set_log(vm->space, NULL, 0, NULL, NULL, error)) {
		/* Off: the space released its reference (after a grace
		 * period); the object keeps its own for LOG_ALL coming back. */
	} else {
		return false;
	}
	__atomic_store_n(&vm->logging, want, __ATOMIC_RELEASE);
	return true;
}

static bool
set_log_base_locked(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds,
		    size_t n_fds, GError **error)
{
	static const char msg[] = "SET_LOG_BASE";
	uint64_t mmap_size, mmap_offset, page = (uint64_t)sysconf(_SC_PAGESIZE), aligned, lead;
	struct log_map *l, *old;
	struct stat st;
	uint64_t fpage;
	void *m;

	if (size != LOG_PAYLOAD) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "%s: payload of %zu bytes (expected %d: mmap_size, mmap_offset)", msg, size,
			     LOG_PAYLOAD);
		return false;
	}
	if (n_fds != 1) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL, "%s: %zu fds (expected exactly 1)", msg,
			     n_fds);
		return false;
	}
	memcpy(&mmap_size, p, 8);
	memcpy(&mmap_offset, p + 8, 8);
	if (mmap_size < 8 || mmap_size > SIZE_MAX / 2) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s (fd %d): mmap_size 0x%" PRIx64 " is not a log size (at least 8 bytes)",
			     msg, fds[0], mmap_size);
		return false;
	}
	if (mmap_offset & 7) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "%s (fd %d): mmap_offset 0x%" PRIx64 " is not 8-byte aligned", msg, fds[0],
			     mmap_offset);
		return false;
	}
	if (!check_fd(msg, 0, fds[0], &st, &fpage, error))
		return false;
	if (mmap_offset > (uint64_t)st.st_size || (uint64_t)st.st_size - mmap_offset < mmap_size) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "%s (fd %d): mmap_offset 0x%" PRIx64 " + mmap_size 0x%" PRIx64
			     " is past the end of the file (0x%" PRIx64 " bytes)",
			     msg, fds[0], mmap_offset, mmap_size, (uint64_t)st.st_size);
		return false;
	}
	/* mmap() wants a page-aligned offset (the fd's page: hugetlbfs logs
	 * are possible); map from the page below and skip the lead. */
	if (fpage > page)
		page = fpage;
	aligned = mmap_offset & ~(page - 1);
	lead = mmap_offset - aligned;
	m = mmap(NULL, (size_t)(lead + mmap_size), PROT_READ | PROT_WRITE, MAP_SHARED, fds[0],
		 (off_t)aligned);
	if (m == MAP_FAILED) {
		int e = errno;
		vmmem__error_errno(error, VMMEM_ERROR_IO, e,
				   "%s (fd %d): cannot map 0x%" PRIx64 " bytes at offset 0x%" PRIx64
				   ": %s",
				   msg, fds[0], mmap_size, mmap_offset, g_strerror(e));
		return false;
	}
	l = g_new0(struct log_map, 1);
	l->refcount = 1;
	l->map = m;
	l->map_len = (size_t)(lead + mmap_size);
	l->bits = (uint64_t *)((uint8_t *)m + lead);
	l->size = (size_t)(mmap_size & ~(uint64_t)7);
	old = vm->log;
	vm->log = l;
	if (vm->log_all && !update_logging(vm, error)) {
		vm->log = old;
		log_map_unref(l);
		g_prefix_error(error, "%s (fd %d): ", msg, fds[0]);
		return false;
	}
	log_map_unref(old);
	return true;
}

bool
vmmem_vhost_mem_set_features(vmmem_vhost_mem_t *vm, uint64_t features, GError **error)
{
	bool ok = true, old;

	g_return_val_if_fail(vm, false);
	g_mutex_lock(&vm->lock);
	old = vm->log_all;
	vm->log_all = (features & VMMEM_VHOST_F_LOG_ALL) != 0;
	if (vm->log_all != old && vm->log) {
		ok = update_logging(vm, error);
		if (!ok) {
			vm->log_all = old;
			g_prefix_error(error, "SET_FEATURES 0x%" PRIx64 ": ", features);
		}
	}
	g_mutex_unlock(&vm->lock);
	return ok;
}

/* ---- entry points: lock, handle, close every fd ---- */

typedef bool (*handler_fn)(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds,
			   size_t n_fds, GError **error);

static bool
rem_handler(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds, size_t n_fds,
	    GError **error)
{
	(void)fds;
	return rem_mem_reg_locked(vm, p, size, n_fds, error);
}

static bool
run(handler_fn fn, vmmem_vhost_mem_t *vm, const void *payload, size_t size, const int *fds,
    size_t n_fds, GError **error)
{
	bool ok;

	if (!vm || (size && !payload) || (n_fds && !fds)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "vhost-user message: NULL object, payload or fd array");
		if (fds)
			close_fds(fds, n_fds);
		return false;
	}
	g_mutex_lock(&vm->lock);
	ok = fn(vm, payload, size, fds, n_fds, error);
	g_mutex_unlock(&vm->lock);
	/* Kept regions hold the mmap provider's duplicate, the log its
	 * mapping: none of the message's own fds stays open. */
	close_fds(fds, n_fds);
	return ok;
}

bool
vmmem_vhost_mem_set_mem_table(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
			      const int *fds, size_t n_fds, GError **error)
{
	return run(set_mem_table_locked, vm, payload, size, fds, n_fds, error);
}

bool
vmmem_vhost_mem_add_mem_reg(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
			    const int *fds, size_t n_fds, GError **error)
{
	return run(add_mem_reg_locked, vm, payload, size, fds, n_fds, error);
}

bool
vmmem_vhost_mem_rem_mem_reg(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
			    const int *fds, size_t n_fds, GError **error)
{
	return run(rem_handler, vm, payload, size, fds, n_fds, error);
}

bool
vmmem_vhost_mem_set_log_base(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
			     const int *fds, size_t n_fds, GError **error)
{
	return run(set_log_base_locked, vm, payload, size, fds, n_fds, error);
}

int
vmmem_vhost_mem_handle(vmmem_vhost_mem_t *vm, uint32_t request, const void *payload, size_t size,
		       const int *fds, size_t n_fds, uint64_t *reply_u64, GError **error)
{
	bool ok;

	switch (request) {
	case VMMEM_VHOST_USER_SET_MEM_TABLE:
		ok = vmmem_vhost_mem_set_mem_table(vm, payload, size, fds, n_fds, error);
		break;
	case VMMEM_VHOST_USER_ADD_MEM_REG:
		ok = vmmem_vhost_mem_add_mem_reg(vm, payload, size, fds, n_fds, error);
		break;
	case VMMEM_VHOST_USER_REM_MEM_REG:
		ok = vmmem_vhost_mem_rem_mem_reg(vm, payload, size, fds, n_fds, error);
		break;
	case VMMEM_VHOST_USER_SET_LOG_BASE:
		ok = vmmem_vhost_mem_set_log_base(vm, payload, size, fds, n_fds, error);
		break;
	case VMMEM_VHOST_USER_IOTLB_MSG:
		ok = vmmem_vhost_mem_iotlb_msg(vm, payload, size, fds, n_fds, error);
		break;
	case VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS:
		if (fds)
			close_fds(fds, n_fds);
		if (reply_u64)
			*reply_u64 = vmmem_vhost_mem_max_mem_slots(vm);
		return 1;
	case VMMEM_VHOST_USER_SET_FEATURES: {
		uint64_t f;

		if (size != 8 || !payload) {
			vmmem__error(error, VMMEM_ERROR_PROTOCOL,
				     "SET_FEATURES: payload of %zu bytes (expected 8)", size);
			ok = false;
		} else {
			memcpy(&f, payload, 8);
			ok = vmmem_vhost_mem_set_features(vm, f, error);
		}
		if (fds)
			close_fds(fds, n_fds);
		break;
	}
	default:
		return 0;
	}
	return ok ? 1 : -1;
}

/* ---- the IOTLB ---- */

static const char *
iotlb_type_name(uint8_t type)
{
	return type == VMMEM_VHOST_IOTLB_UPDATE ? "UPDATE" : "INVALIDATE";
}

bool
vmmem_vhost_parse_iotlb_msg(const void *payload, size_t size, vmmem_vhost_iotlb_msg_t *out,
			    GError **error)
{
	const uint8_t *p = payload;
	vmmem_vhost_iotlb_msg_t m;

	if (size != IOTLB_PAYLOAD || !payload) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "IOTLB_MSG: payload of %zu bytes (expected %d: iova, size, uaddr, perm, "
			     "type and padding)",
			     size, IOTLB_PAYLOAD);
		return false;
	}
	memcpy(&m.iova, p, 8);
	memcpy(&m.size, p + 8, 8);
	memcpy(&m.uaddr, p + 16, 8);
	m.perm = p[24];
	m.type = p[25];
	if (m.type != VMMEM_VHOST_IOTLB_UPDATE && m.type != VMMEM_VHOST_IOTLB_INVALIDATE) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "IOTLB_MSG at iova 0x%" PRIx64 ": type %u is neither UPDATE (2) nor "
			     "INVALIDATE (3)%s",
			     m.iova, m.type,
			     m.type == VMMEM_VHOST_IOTLB_MISS || m.type == VMMEM_VHOST_IOTLB_ACCESS_FAIL
				     ? " (MISS and ACCESS_FAIL go from the backend to the frontend)"
				     : "");
		return false;
	}
	if (m.size == 0) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOTLB_MSG %s at iova 0x%" PRIx64 ": size is 0", iotlb_type_name(m.type),
			     m.iova);
		return false;
	}
	if (m.size - 1 > UINT64_MAX - m.iova) {
		vmmem__error(error, VMMEM_ERROR_OVERFLOW,
			     "IOTLB_MSG %s: iova 0x%" PRIx64 " + size 0x%" PRIx64 " wraps past 2^64",
			     iotlb_type_name(m.type), m.iova, m.size);
		return false;
	}
	if (m.type == VMMEM_VHOST_IOTLB_UPDATE) {
		if (m.size - 1 > UINT64_MAX - m.uaddr) {
			vmmem__error(error, VMMEM_ERROR_OVERFLOW,
				     "IOTLB_MSG UPDATE at iova 0x%" PRIx64 ": uaddr 0x%" PRIx64
				     " + size 0x%" PRIx64 " wraps past 2^64",
				     m.iova, m.uaddr, m.size);
			return false;
		}
		if (m.perm != VMMEM_IOTLB_READ && m.perm != VMMEM_IOTLB_WRITE &&
		    m.perm != VMMEM_IOTLB_RW) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "IOTLB_MSG UPDATE at iova 0x%" PRIx64 ": perm 0x%x is not "
				     "read-only (1), write-only (2) or read-write (3)",
				     m.iova, m.perm);
			return false;
		}
	}
	*out = m;
	return true;
}

/* The spec's rule for an update: its frontend range lies in the memory
 * table (possibly over several regions, adjacent in frontend addresses). */
static bool
uaddr_backed(vmmem_vhost_mem_t *vm, const vmmem_vhost_iotlb_msg_t *m, GError **error)
{
	vmmem_memory_t *cur = vmmem_space_ref_memory(vm->space);
	uint64_t ua = m->uaddr, left = m->size;
	bool ok = true;

	while (left) {
		const struct vmmem_fast_region *e = vmmem__memory_user_find(cur, ua);
		uint64_t k;

		if (!e) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
				     "IOTLB_MSG UPDATE at iova 0x%" PRIx64 " size 0x%" PRIx64
				     ": uaddr 0x%" PRIx64 " is not in any region of the memory table "
				     "(the range starts at uaddr 0x%" PRIx64 ")",
				     m->iova, m->size, ua, m->uaddr);
			ok = false;
			break;
		}
		k = e->size - (ua - e->start);
		if (k >= left)
			break;
		left -= k;
		ua += k;
	}
	vmmem_memory_unref(cur);
	return ok;
}

static bool
iotlb_msg(vmmem_vhost_mem_t *vm, const uint8_t *p, size_t size, const int *fds, size_t n_fds,
	  GError **error)
{
	vmmem_vhost_iotlb_msg_t m;

	(void)fds;
	if (n_fds != 0) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL, "IOTLB_MSG: %zu fds (expected none)",
			     n_fds);
		return false;
	}
	if (!vmmem_vhost_parse_iotlb_msg(p, size, &m, error))
		return false;
	if (m.type == VMMEM_VHOST_IOTLB_INVALIDATE) {
		if (!vmmem_iotlb_invalidate(vm->iotlb, m.iova, m.size, error)) {
			g_prefix_error(error, "IOTLB_MSG INVALIDATE: ");
			return false;
		}
		return true;
	}
	if (!uaddr_backed(vm, &m, error))
		return false;
	if (!vmmem_iotlb_update(vm->iotlb, m.iova, m.size, m.uaddr, (vmmem_iotlb_perm_t)m.perm,
				error)) {
		g_prefix_error(error, "IOTLB_MSG UPDATE: ");
		return false;
	}
	return true;
}

bool
vmmem_vhost_mem_iotlb_msg(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
			  const int *fds, size_t n_fds, GError **error)
{
	return run(iotlb_msg, vm, payload, size, fds, n_fds, error);
}

size_t
vmmem_vhost_iotlb_miss_msg(uint64_t iova, vmmem_iotlb_perm_t access, uint8_t type,
			   uint32_t flags, void *buf, size_t buf_size)
{
	uint8_t *p = buf;
	uint32_t request = VMMEM_VHOST_USER_BACKEND_IOTLB_MSG, size = IOTLB_PAYLOAD;
	uint64_t zero = 0;

	if (!buf || buf_size < VMMEM_VHOST_IOTLB_MISS_MSG_SIZE ||
	    (type != VMMEM_VHOST_IOTLB_MISS && type != VMMEM_VHOST_IOTLB_ACCESS_FAIL) ||
	    (access != VMMEM_IOTLB_READ && access != VMMEM_IOTLB_WRITE &&
	     access != VMMEM_IOTLB_RW) ||
	    (flags & ~VMMEM_VHOST_USER_NEED_REPLY_MASK))
		return 0;
	flags |= VMMEM_VHOST_USER_VERSION;
	memset(p, 0, VMMEM_VHOST_IOTLB_MISS_MSG_SIZE);
	memcpy(p, &request, 4);
	memcpy(p + 4, &flags, 4);
	memcpy(p + 8, &size, 4);
	p += VMMEM_VHOST_USER_HEADER_SIZE;
	memcpy(p, &iova, 8);
	memcpy(p + 8, &zero, 8);  /* size: the frontend answers with the entry */
	memcpy(p + 16, &zero, 8); /* uaddr */
	p[24] = (uint8_t)access;
	p[25] = type;
	return VMMEM_VHOST_IOTLB_MISS_MSG_SIZE;
}

/* ---- translation ---- */

bool
vmmem_vhost_parse_vring_addr(const void *payload, size_t size, vmmem_vhost_vring_addr_t *out,
			     GError **error)
{
	const uint8_t *p = payload;

	if (size != VRING_ADDR_PAYLOAD || !payload) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "SET_VRING_ADDR: payload of %zu bytes (expected %d)", size,
			     VRING_ADDR_PAYLOAD);
		return false;
	}
	memcpy(&out->index, p, 4);
	memcpy(&out->flags, p + 4, 4);
	memcpy(&out->desc_user_addr, p + 8, 8);
	memcpy(&out->used_user_addr, p + 16, 8);
	memcpy(&out->avail_user_addr, p + 24, 8);
	memcpy(&out->log_guest_addr, p + 32, 8);
	return true;
}

void *
vmmem_vhost_gpa_to_host_slow(const vmmem_memory_t *snapshot, uint64_t gpa, uint64_t *len)
{
	ptrdiff_t i = vmmem__memory_index(snapshot, gpa);
	uint64_t off;

	if (i < 0) {
		*len = 0;
		return NULL;
	}
	off = gpa - snapshot->fast[i].start;
	if (*len > snapshot->fast[i].reach - off)
		*len = snapshot->fast[i].reach - off;
	return snapshot->fast[i].host + off;
}

/* The entry holding all of [uva, uva + len), or NULL. */
static const struct vmmem_fast_region *
user_range(const vmmem_memory_t *snapshot, uint64_t uva, uint64_t len, GError **error)
{
	const struct vmmem_fast_region *e = vmmem__memory_user_find(snapshot, uva);

	if (__builtin_expect(e && e->size - (uva - e->start) >= len, 1))
		return e;
	if (error)
		vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
			     "frontend address range [0x%" PRIx64 ", +0x%" PRIx64 ") is not inside "
			     "one region",
			     uva, len);
	return NULL;
}

bool
vmmem_vhost_uva_to_gpa(const vmmem_memory_t *snapshot, uint64_t uva, uint64_t len,
		       vmmem_guest_addr_t *gpa, GError **error)
{
	const struct vmmem_fast_region *e = user_range(snapshot, uva, len, error);

	if (!e)
		return false;
	gpa->raw = e->region->start + (uva - e->start);
	return true;
}

void *
vmmem_vhost_uva_to_host(const vmmem_memory_t *snapshot, uint64_t uva, uint64_t len,
			GError **error)
{
	const struct vmmem_fast_region *e = user_range(snapshot, uva, len, error);

	return e ? e->host + (uva - e->start) : NULL;
}

void
vmmem_vhost_log_used(const vmmem_memory_t *snapshot, uint32_t vring_flags,
		     uint64_t log_guest_addr, uint64_t offset, uint64_t len)
{
	if (!(vring_flags & VMMEM_VHOST_VRING_F_LOG) || len == 0 ||
	    offset > UINT64_MAX - log_guest_addr || len > SIZE_MAX)
		return;
	vmmem_memory_mark_dirty(snapshot, vmmem_guest_addr(log_guest_addr + offset), (size_t)len);
}
