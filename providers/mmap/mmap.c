/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The mmap provider: anonymous memory (private or shared) or a file / fd
 * mapped at an offset. Includes only <vmmem/provider.h>, like any
 * third-party provider.
 *
 * Options:
 *   shared   = bool  MAP_SHARED (default: no for anonymous, yes for file/fd)
 *   path     = FILE  map this existing file
 *   fd       = N     map this open fd (duplicated; the caller keeps its own)
 *   offset   = SIZE  where in the file the region starts (page aligned)
 *   prefault = bool  populate every page now (default no)
 *   reserve  = bool  reserve swap/commit now, i.e. no MAP_NORESERVE (default no;
 *                    yes for a hugetlbfs file, whose pages must be reserved
 *                    at mmap time or a touch may SIGBUS when the pool is dry)
 *   allocate = bool  fallocate() the file range of a shared file mapping
 *                    (default yes), so that a full or size-limited file
 *                    system fails the creation instead of raising SIGBUS
 *                    at the first write; "no" leaves that risk to the caller
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <vmmem/provider.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* What `vmmem providers mmap` and vmmem-providers(7) say; the parsing is
 * parse_opts(). */
static const struct vmmem_provider_option_desc options[] = {
	{ "shared", VMMEM_PROVIDER_OPTION_BOOL, "no, yes with path or fd",
	  "MAP_SHARED: writes reach the file, and the memory can be shared through the fd",
	  NULL },
	{ "path", VMMEM_PROVIDER_OPTION_PATH, NULL, "map this existing file (excludes fd)", NULL },
	{ "fd", VMMEM_PROVIDER_OPTION_INTEGER, NULL,
	  "map this open fd, duplicated; the caller keeps its own (excludes path)", NULL },
	{ "offset", VMMEM_PROVIDER_OPTION_SIZE, "0",
	  "where in the file the region starts, page aligned (needs path or fd)", NULL },
	{ "prefault", VMMEM_PROVIDER_OPTION_BOOL, "no", "populate every page at creation", NULL },
	{ "reserve", VMMEM_PROVIDER_OPTION_BOOL, "no, yes for a file in a hugetlbfs mount",
	  "reserve swap/commit now (no MAP_NORESERVE)", NULL },
	{ "allocate", VMMEM_PROVIDER_OPTION_BOOL, "yes",
	  "fallocate() a shared file's range, so a full file system fails the creation "
	  "instead of a write raising SIGBUS",
	  NULL },
	VMMEM_PROVIDER_OPTIONS_END,
};

struct opts {
	const char *path;
	int fd;          /* -1: none */
	uint64_t offset;
	bool shared, prefault, reserve, allocate;
	bool reserve_set; /* reserve given explicitly */
};

/* A file descriptor: plain decimal digits, nothing else (no size suffix,
 * no sign, no hex). */
static bool
parse_fd(const char *v, int *out)
{
	long n = 0;

	if (!*v)
		return false;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9' || n > (INT32_MAX - 9) / 10)
			return false;
		n = n * 10 + (*c - '0');
	}
	*out = (int)n;
	return true;
}

static int
parse_opts(const struct vmmem_provider_request *req, struct opts *o, char *err, size_t len)
{
	const char *v;

	o->path = vmmem_provider_option(req, "path");
	o->fd = -1;
	o->offset = 0;
	o->prefault = o->reserve = o->reserve_set = false;
	o->allocate = true;
	if ((v = vmmem_provider_option(req, "fd"))) {
		if (!parse_fd(v, &o->fd))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option fd = '%s' is not a file descriptor number", v);
		if (o->path)
			return vmmem_provider_fail(err, len, EINVAL,
						   "options path and fd exclude each other");
	}
	if ((v = vmmem_provider_option(req, "offset"))) {
		if (!vmmem_provider_parse_size(v, &o->offset))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option offset = '%s' is not a size", v);
		if (!o->path && o->fd < 0)
			return vmmem_provider_fail(err, len, EINVAL,
						   "option offset needs path or fd");
		if (o->offset % (uint64_t)sysconf(_SC_PAGESIZE))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option offset = '%s' is not a multiple of the "
						   "page size %ld",
						   v, sysconf(_SC_PAGESIZE));
	}
	o->shared = o->path || o->fd >= 0;
	if ((v = vmmem_provider_option(req, "shared")) && !vmmem_provider_parse_bool(v, &o->shared))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option shared = '%s' is not a boolean (yes/no)", v);
	if ((v = vmmem_provider_option(req, "prefault")) &&
	    !vmmem_provider_parse_bool(v, &o->prefault))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option prefault = '%s' is not a boolean (yes/no)", v);
	if ((v = vmmem_provider_option(req, "reserve"))) {
		if (!vmmem_provider_parse_bool(v, &o->reserve))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option reserve = '%s' is not a boolean (yes/no)", v);
		o->reserve_set = true;
	}
	if ((v = vmmem_provider_option(req, "allocate")) &&
	    !vmmem_provider_parse_bool(v, &o->allocate))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option allocate = '%s' is not a boolean (yes/no)", v);
	return 0;
}

static int
mmap_validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	struct opts o;

	return parse_opts(req, &o, err, len);
}

/* A file shorter than offset + size would SIGBUS on the first touch past
 * its end; refuse it now instead. */
static int
check_file(int fd, const char *what, uint64_t offset, uint64_t size, uint64_t *page_size,
	   uint32_t *flags, char *err, size_t len)
{
	struct stat st;
	struct statfs sfs;

	if (fstat(fd, &st) != 0)
		return vmmem_provider_fail(err, len, errno, "fstat %s: %s", what, strerror(errno));
	if (S_ISREG(st.st_mode) &&
	    (offset > (uint64_t)st.st_size || (uint64_t)st.st_size - offset < size))
		return vmmem_provider_fail(err, len, EINVAL,
					   "%s is 0x%llx bytes; the region needs 0x%llx bytes at "
					   "offset 0x%llx",
					   what, (unsigned long long)st.st_size,
					   (unsigned long long)size, (unsigned long long)offset);
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
		*page_size = (uint64_t)sfs.f_bsize;
		*flags |= VMMEM_REGION_HUGETLB;
	}
	return 0;
}

/* Gives every page of a shared file mapping its backing store now: on a
 * full or size-limited file system (tmpfs size=, a quota) the creation
 * fails with ENOSPC instead of the first write raising SIGBUS. File
 * systems without fallocate() are left as they are (the risk stays, as
 * with any shared file mapping). */
static int
allocate_range(int fd, const char *what, uint64_t offset, uint64_t size, char *err, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (fallocate(fd, 0, (off_t)offset, (off_t)size) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	return vmmem_provider_fail(err, len, errno,
				   "cannot allocate 0x%llx bytes at offset 0x%llx of %s: %s "
				   "(option allocate = no skips this, at the risk of SIGBUS later)",
				   (unsigned long long)size, (unsigned long long)offset, what,
				   strerror(errno));
}

/* Populates every page now; MADV_POPULATE_WRITE reports a page that cannot
 * be supplied as an error, the core's guarded touch (kernels before 5.14)
 * turns the SIGBUS into one. */
static int
prefault(const struct vmmem_provider_request *req, void *p, uint64_t page_size, char *err,
	 size_t len)
{
	uint64_t touched = 0;
	int rc;

	if (madvise(p, req->size, MADV_POPULATE_WRITE) == 0)
		return 0;
	rc = errno;
	if (rc == EINVAL && req->struct_size >= offsetof(struct vmmem_provider_request, touch_pages) +
							sizeof(req->touch_pages) &&
	    req->touch_pages)
		rc = req->touch_pages(p, req->size, page_size, &touched);
	if (rc == 0)
		return 0;
	return vmmem_provider_fail(err, len, rc,
				   "prefaulting 0x%llx bytes failed after 0x%llx: %s",
				   (unsigned long long)req->size, (unsigned long long)touched,
				   strerror(rc));
}

static int
mmap_create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out,
	    char *err, size_t len)
{
	struct opts o;
	int rc, fd = -1, mflags;
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	uint32_t flags = 0;
	void *p;
	char what[64];

	if ((rc = parse_opts(req, &o, err, len)))
		return rc;
	if (o.path) {
		fd = open(o.path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return vmmem_provider_fail(err, len, errno, "cannot open %s: %s", o.path,
						   strerror(errno));
		snprintf(what, sizeof(what), "file");
	} else if (o.fd >= 0) {
		fd = fcntl(o.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return vmmem_provider_fail(err, len, errno, "cannot duplicate fd %d: %s",
						   o.fd, strerror(errno));
		snprintf(what, sizeof(what), "fd %d", o.fd);
	}
	if (fd >= 0) {
		rc = check_file(fd, o.path ? o.path : what, o.offset, req->size, &page_size, &flags,
				err, len);
		if (rc) {
			close(fd);
			return rc;
		}
		flags |= VMMEM_REGION_FD;
	}
	if (req->size % page_size) {
		if (fd >= 0)
			close(fd);
		return vmmem_provider_fail(err, len, EINVAL,
					   "size 0x%llx is not a multiple of the page size 0x%llx",
					   (unsigned long long)req->size,
					   (unsigned long long)page_size);
	}

	if ((flags & VMMEM_REGION_HUGETLB) && !o.reserve_set)
		o.reserve = true;
	if (fd >= 0 && o.shared && o.allocate && !(flags & VMMEM_REGION_HUGETLB) &&
	    (rc = allocate_range(fd, o.path ? o.path : what, o.offset, req->size, err, len))) {
		close(fd);
		return rc;
	}
	mflags = (o.shared ? MAP_SHARED : MAP_PRIVATE) | (fd < 0 ? MAP_ANONYMOUS : 0);
	if (!o.reserve)
		mflags |= MAP_NORESERVE;
	p = mmap(NULL, req->size, PROT_READ | PROT_WRITE, mflags, fd, (off_t)o.offset);
	if (p == MAP_FAILED) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vmmem_provider_fail(err, len, e, "mmap of 0x%llx bytes failed: %s",
					   (unsigned long long)req->size, strerror(e));
	}
	if (o.prefault && (rc = prefault(req, p, page_size, err, len))) {
		munmap(p, req->size);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (o.shared)
		flags |= VMMEM_REGION_SHARED;
	out->host = p;
	out->size = req->size;
	out->page_size = page_size;
	out->fd = fd;
	out->fd_offset = o.offset;
	/* destroy() unmaps m->host, so the core may place the mapping. */
	out->flags = flags | VMMEM_REGION_MOVABLE;
	return 0;
}

static void
mmap_destroy(struct vmmem_provider_mapping *m)
{
	munmap(m->host, m->size);
	if (m->fd >= 0)
		close(m->fd);
}

VMMEM_PROVIDER_DEFINE("mmap", "1.0", "anonymous or file/fd-backed memory from mmap(2)", options,
		      mmap_create, mmap_destroy, mmap_validate)
