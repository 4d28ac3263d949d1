/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The memfd provider: shared memory in an anonymous file from
 * memfd_create(2), which another process can map through the fd
 * (see <vmmem/share.h>).
 *
 * Options:
 *   name      = TEXT  the memfd's name, seen in /proc/PID/fd as
 *                     "memfd:TEXT" (default "vmmem:<region name>")
 *   seal      = bool  seal the size (F_SEAL_SHRINK | F_SEAL_GROW, then
 *                     F_SEAL_SEAL) so that no holder of the fd can truncate
 *                     it and make every mapping SIGBUS (default yes)
 *   hugetlb   = bool  huge pages (MFD_HUGETLB; default no, or yes if
 *                     page-size is given)
 *   page-size = SIZE  the huge page size (default: the system's default)
 *   reserve   = bool  with hugetlb: reserve the pages at mmap (default yes)
 *   prefault  = yes | no | touch
 *                     populate every page now (see the hugetlbfs provider);
 *                     with hugetlb and reserve = no the default is yes
 *
 * Includes only <vmmem/provider.h> of vmmem's headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/provider.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#include "../common/hugepages.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

/* The kernel's limit on memfd names, without the "memfd:" prefix. */
#define MEMFD_NAME_MAX 249

/* What `vmmem providers memfd` and vmmem-providers(7) say; the parsing is
 * parse_opts(). */
static const struct vmmem_provider_option_desc options[] = {
	{ "name", VMMEM_PROVIDER_OPTION_STRING, "vmmem:REGION",
	  "the memfd's name, seen in /proc/PID/fd as memfd:NAME (1 to 249 bytes)", NULL },
	{ "seal", VMMEM_PROVIDER_OPTION_BOOL, "yes",
	  "seal the size (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL) so no holder of the fd "
	  "can truncate it",
	  NULL },
	{ "hugetlb", VMMEM_PROVIDER_OPTION_BOOL, "no, yes when page-size is given",
	  "back the memory with huge pages (MFD_HUGETLB)", NULL },
	{ "page-size", VMMEM_PROVIDER_OPTION_SIZE, "the system's default huge page size",
	  "the huge page size (needs hugetlb = yes)", NULL },
	{ "reserve", VMMEM_PROVIDER_OPTION_BOOL, "yes",
	  "with hugetlb: reserve the huge pages at mmap, so running out is ENOMEM, not SIGBUS",
	  NULL },
	{ "prefault", VMMEM_PROVIDER_OPTION_ENUM, "no, yes with hugetlb and reserve = no",
	  "populate every page at creation: yes with MADV_POPULATE_WRITE, touch by touching "
	  "each page",
	  "yes|no|touch" },
	VMMEM_PROVIDER_OPTIONS_END,
};

struct opts {
	char name[MEMFD_NAME_MAX + 1];
	bool seal, hugetlb, reserve;
	uint64_t page_size;
	enum hp_prefault prefault;
};

static int
parse_opts(const struct vmmem_provider_request *req, struct opts *o, char *err, size_t len)
{
	const char *v;
	int rc;

	memset(o, 0, sizeof(*o));
	if ((v = vmmem_provider_option(req, "name"))) {
		if (!*v || strlen(v) > MEMFD_NAME_MAX)
			return vmmem_provider_fail(err, len, EINVAL,
						   "option name = '%s' must be 1 to %d bytes", v,
						   MEMFD_NAME_MAX);
		strcpy(o->name, v);
	} else {
		/* A long region name is only cut in the label, never refused. */
		snprintf(o->name, sizeof(o->name), "vmmem:%s", req->region_name);
	}
	o->seal = true;
	if ((v = vmmem_provider_option(req, "seal")) && !vmmem_provider_parse_bool(v, &o->seal))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option seal = '%s' is not a boolean (yes/no)", v);
	o->hugetlb = vmmem_provider_option(req, "page-size") != NULL;
	if ((v = vmmem_provider_option(req, "hugetlb")) &&
	    !vmmem_provider_parse_bool(v, &o->hugetlb))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option hugetlb = '%s' is not a boolean (yes/no)", v);
	if (!o->hugetlb) {
		if (vmmem_provider_option(req, "page-size"))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option page-size needs hugetlb = yes");
		if (vmmem_provider_option(req, "reserve"))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option reserve applies to hugetlb = yes only");
		o->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
		o->prefault = HP_PREFAULT_NO;
		if ((v = vmmem_provider_option(req, "prefault"))) {
			bool b;
			if (strcmp(v, "touch") == 0)
				o->prefault = HP_PREFAULT_TOUCH;
			else if (vmmem_provider_parse_bool(v, &b))
				o->prefault = b ? HP_PREFAULT_AUTO : HP_PREFAULT_NO;
			else
				return vmmem_provider_fail(err, len, EINVAL,
							   "option prefault = '%s' is not yes, no "
							   "or touch", v);
		}
		return 0;
	}
	if ((rc = hp_parse_page_size(req, &o->page_size, err, len)))
		return rc;
	return hp_parse_reserve(req, &o->reserve, &o->prefault, err, len);
}

static int
check_size(const struct vmmem_provider_request *req, const struct opts *o, char *err, size_t len)
{
	if (o->hugetlb)
		return hp_check_size(req, o->page_size, err, len);
	if (req->size % o->page_size)
		return vmmem_provider_fail(err, len, EINVAL,
					   "size 0x%llx is not a multiple of the page size 0x%llx",
					   (unsigned long long)req->size,
					   (unsigned long long)o->page_size);
	return 0;
}

static int
memfd_validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	struct opts o;
	int rc;

	if ((rc = parse_opts(req, &o, err, len)))
		return rc;
	return check_size(req, &o, err, len);
}

/* Ordinary memfd pages cannot run out the way huge pages do (the memfd
 * mount has no size limit; the kernel's OOM handling applies as for any
 * memory), so only huge pages need the guarded path. */
static int
prefault(const struct vmmem_provider_request *req, void *p, uint64_t size, const struct opts *o,
	 char *err, size_t len)
{
	if (o->hugetlb || o->prefault == HP_PREFAULT_NO)
		return hp_prefault(req, p, size, o->page_size, o->prefault, err, len);
	if (o->prefault == HP_PREFAULT_AUTO && madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (o->prefault == HP_PREFAULT_AUTO && errno != EINVAL)
		return vmmem_provider_fail(err, len, errno, "prefaulting 0x%llx bytes failed: %s",
					   (unsigned long long)size, strerror(errno));
	for (uint64_t off = 0; off < size; off += o->page_size)
		((volatile uint8_t *)p)[off] = ((volatile uint8_t *)p)[off];
	return 0;
}

static int
memfd_provider_create(const struct vmmem_provider_request *req,
		      struct vmmem_provider_mapping *out, char *err, size_t len)
{
	struct opts o;
	unsigned int mfd = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int rc, fd, mflags = MAP_SHARED;
	void *p;

	if ((rc = parse_opts(req, &o, err, len)) || (rc = check_size(req, &o, err, len)))
		return rc;
	if (o.hugetlb) {
		mfd |= MFD_HUGETLB | (hp_log2(o.page_size) << MFD_HUGE_SHIFT);
		if (!o.reserve)
			mflags |= MAP_NORESERVE;
	}
	fd = memfd_create(o.name, mfd);
	if (fd < 0)
		return vmmem_provider_fail(err, len, errno, "memfd_create('%s'%s) failed: %s",
					   o.name, o.hugetlb ? ", MFD_HUGETLB" : "",
					   strerror(errno));
	if (ftruncate(fd, (off_t)req->size) != 0) {
		rc = vmmem_provider_fail(err, len, errno,
					 "cannot size memfd '%s' to 0x%llx bytes: %s", o.name,
					 (unsigned long long)req->size, strerror(errno));
		close(fd);
		return rc;
	}
	/* Seal before anything else can see the fd: from here on its size
	 * is fixed for every process that maps it. */
	if (o.seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
		rc = vmmem_provider_fail(err, len, errno, "cannot seal memfd '%s': %s", o.name,
					 strerror(errno));
		close(fd);
		return rc;
	}
	p = mmap(NULL, req->size, PROT_READ | PROT_WRITE, mflags, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		if (o.hugetlb && e == ENOMEM)
			rc = hp_fail_no_pages(req->size, o.page_size, "mapping the hugetlb memfd",
					      err, len);
		else
			rc = vmmem_provider_fail(err, len, e,
						 "mmap of memfd '%s' (0x%llx bytes) failed: %s",
						 o.name, (unsigned long long)req->size,
						 strerror(e));
		close(fd);
		return rc;
	}
	if ((rc = prefault(req, p, req->size, &o, err, len))) {
		munmap(p, req->size);
		close(fd);
		return rc;
	}
	out->host = p;
	out->size = req->size;
	out->page_size = o.page_size;
	out->fd = fd;
	out->fd_offset = 0;
	/* destroy() unmaps m->host, so the core may place the mapping. */
	out->flags = VMMEM_REGION_FD | VMMEM_REGION_SHARED | VMMEM_REGION_MOVABLE |
		     (o.hugetlb ? VMMEM_REGION_HUGETLB : 0);
	return 0;
}

static void
memfd_provider_destroy(struct vmmem_provider_mapping *m)
{
	munmap(m->host, m->size);
	close(m->fd);
}

VMMEM_PROVIDER_DEFINE("memfd", "1.0", "shared memory from memfd_create(2), sealed against resizing",
		      options, memfd_provider_create, memfd_provider_destroy, memfd_validate)
