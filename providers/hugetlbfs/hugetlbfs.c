/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The hugetlbfs provider: memory in huge pages (2 MiB, 1 GiB, or whatever
 * sizes the kernel lists under /sys/kernel/mm/hugepages/).
 *
 * Options:
 *   page-size = SIZE  huge page size (default: Hugepagesize of /proc/meminfo)
 *   mount-dir = DIR   back the region with a file in this hugetlbfs mount
 *                     instead of anonymous MAP_HUGETLB memory; "auto" picks a
 *                     mount of the right page size from /proc/mounts. The
 *                     region is then MAP_SHARED and exposes its fd, so it can
 *                     be shared with another process. `path` is a synonym.
 *   keep-file = bool  keep the file (named vmmem-<pid>-<region>-XXXXXX in
 *                     the mount) after mapping and after destroy (default no:
 *                     unlinked right after mapping)
 *   reserve   = bool  reserve the pages at mmap time (default yes): running
 *                     out is then an mmap error (ENOMEM) at creation
 *   prefault  = yes | no | touch
 *                     populate every page now; the default with reserve = no.
 *                     yes uses MADV_POPULATE_WRITE, falling back to touch;
 *                     touch touches each page under a SIGBUS guard (which
 *                     briefly replaces the process's SIGBUS handler; see
 *                     common/hugepages.c). Running out is a clean error.
 *
 * The region's start and size must be multiples of the page size.
 * Includes only <vmmem/provider.h> of vmmem's headers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <vmmem/provider.h>

#include "../common/hugepages.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

/* What `vmmem providers hugetlbfs` and vmmem-providers(7) say; the
 * parsing is parse_opts(). */
static const struct vmmem_provider_option_desc options[] = {
	{ "page-size", VMMEM_PROVIDER_OPTION_SIZE, "Hugepagesize of /proc/meminfo",
	  "the huge page size; the region's start and size are multiples of it", NULL },
	{ "mount-dir", VMMEM_PROVIDER_OPTION_PATH, NULL,
	  "back the region with a file in this hugetlbfs mount (auto: one of the page size "
	  "from /proc/mounts); it is then shared and has an fd",
	  NULL },
	{ "path", VMMEM_PROVIDER_OPTION_PATH, NULL, "a synonym of mount-dir", NULL },
	{ "keep-file", VMMEM_PROVIDER_OPTION_BOOL, "no",
	  "keep the file in the mount after mapping and after the region is destroyed", NULL },
	{ "reserve", VMMEM_PROVIDER_OPTION_BOOL, "yes",
	  "reserve the huge pages at mmap, so running out is ENOMEM at creation", NULL },
	{ "prefault", VMMEM_PROVIDER_OPTION_ENUM, "no, yes with reserve = no",
	  "populate every page at creation: yes with MADV_POPULATE_WRITE, touch by touching "
	  "each page under the SIGBUS guard",
	  "yes|no|touch" },
	VMMEM_PROVIDER_OPTIONS_END,
};

struct opts {
	uint64_t page_size;
	char mount_dir[PATH_MAX]; /* empty: anonymous */
	bool keep_file, reserve;
	enum hp_prefault prefault;
};

/* Undoes the octal escapes (\040 for a space) of /proc/mounts in place. */
static void
unescape_mount_field(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The page size of a hugetlbfs mount from its options: pagesize=, else the
 * system default. */
static uint64_t
mount_page_size(const char *mount_opts)
{
	const char *p = strstr(mount_opts, "pagesize=");
	char val[32];
	size_t n;
	uint64_t size;

	if (!p)
		return hp_default_size();
	p += strlen("pagesize=");
	n = strcspn(p, ",");
	if (n >= sizeof(val))
		return 0;
	memcpy(val, p, n);
	val[n] = '\0';
	return vmmem_provider_parse_size(val, &size) ? size : 0;
}

/* Finds a hugetlbfs mount of `page_size` in /proc/mounts that we can write. */
static int
find_mount(uint64_t page_size, char *out, size_t out_len, char *err, size_t len)
{
	FILE *f = fopen("/proc/mounts", "re");
	char line[4096], dev[PATH_MAX], dir[PATH_MAX], type[64], mopts[1024], ps[32], mps[32];
	int found = 0;

	if (!f)
		return vmmem_provider_fail(err, len, errno, "cannot read /proc/mounts: %s",
					   strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%4095s %4095s %63s %1023s", dev, dir, type, mopts) != 4 ||
		    strcmp(type, "hugetlbfs") != 0)
			continue;
		unescape_mount_field(dir);
		if (mount_page_size(mopts) == page_size && access(dir, W_OK) == 0 &&
		    strlen(dir) < out_len) {
			strcpy(out, dir);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return vmmem_provider_fail(err, len, ENOENT,
					   "option mount-dir = auto: no writable hugetlbfs mount of "
					   "%s pages in /proc/mounts (mount one: mount -t hugetlbfs "
					   "-o pagesize=%s none DIR)",
					   hp_size_str(page_size, ps, sizeof(ps)),
					   hp_mount_size_str(page_size, mps, sizeof(mps)));
	return 0;
}

static int
parse_opts(const struct vmmem_provider_request *req, struct opts *o, char *err, size_t len)
{
	const char *dir = vmmem_provider_option(req, "mount-dir");
	const char *path = vmmem_provider_option(req, "path");
	const char *v;
	struct statfs sfs;
	char a[32], b[32];
	int rc;

	memset(o, 0, sizeof(*o));
	if (dir && path)
		return vmmem_provider_fail(err, len, EINVAL,
					   "options mount-dir and path are synonyms; give one");
	if (!dir)
		dir = path;
	if ((rc = hp_parse_reserve(req, &o->reserve, &o->prefault, err, len)))
		return rc;
	if ((v = vmmem_provider_option(req, "keep-file"))) {
		if (!vmmem_provider_parse_bool(v, &o->keep_file))
			return vmmem_provider_fail(err, len, EINVAL,
						   "option keep-file = '%s' is not a boolean (yes/no)",
						   v);
		if (!dir)
			return vmmem_provider_fail(err, len, EINVAL,
						   "option keep-file needs mount-dir (anonymous "
						   "memory has no file)");
	}

	if (dir && strcmp(dir, "auto") != 0) {
		if (strlen(dir) >= sizeof(o->mount_dir))
			return vmmem_provider_fail(err, len, ENAMETOOLONG,
						   "option mount-dir: path too long");
		if (statfs(dir, &sfs) != 0)
			return vmmem_provider_fail(err, len, errno, "option mount-dir = '%s': %s",
						   dir, strerror(errno));
		if ((unsigned long)sfs.f_type != HUGETLBFS_MAGIC)
			return vmmem_provider_fail(err, len, EINVAL,
						   "option mount-dir = '%s' is not a hugetlbfs mount "
						   "(file system type 0x%lx)",
						   dir, (unsigned long)sfs.f_type);
		strcpy(o->mount_dir, dir);
		/* The mount decides the page size; an explicit one must agree. */
		if (vmmem_provider_option(req, "page-size")) {
			if ((rc = hp_parse_page_size(req, &o->page_size, err, len)))
				return rc;
			if (o->page_size != (uint64_t)sfs.f_bsize)
				return vmmem_provider_fail(
					err, len, EINVAL,
					"option page-size = %s, but hugetlbfs mount '%s' has "
					"%s pages",
					hp_size_str(o->page_size, a, sizeof(a)), dir,
					hp_size_str((uint64_t)sfs.f_bsize, b, sizeof(b)));
		}
		o->page_size = (uint64_t)sfs.f_bsize;
		return 0;
	}
	if ((rc = hp_parse_page_size(req, &o->page_size, err, len)))
		return rc;
	if (dir)
		return find_mount(o->page_size, o->mount_dir, sizeof(o->mount_dir), err, len);
	return 0;
}

static int
hugetlbfs_validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	struct opts o;
	int rc;

	if ((rc = parse_opts(req, &o, err, len)))
		return rc;
	return hp_check_size(req, o.page_size, err, len);
}

/* Creates an empty file of `size` bytes in the mount. Region names may
 * hold anything; only a safe part of them goes into the file name. */
static int
create_file(const struct opts *o, const struct vmmem_provider_request *req, char *path,
	    size_t path_len, int *fd_out, char *err, size_t len)
{
	char safe[48];
	size_t i;
	int fd;

	for (i = 0; req->region_name[i] && i < sizeof(safe) - 1; i++) {
		unsigned char c = (unsigned char)req->region_name[i];
		safe[i] = (char)(isalnum(c) || c == '-' || c == '_' ? c : '_');
	}
	safe[i] = '\0';
	if ((size_t)snprintf(path, path_len, "%s/vmmem-%ld-%s-XXXXXX", o->mount_dir,
			     (long)getpid(), safe) >= path_len)
		return vmmem_provider_fail(err, len, ENAMETOOLONG, "file name in '%s' too long",
					   o->mount_dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return vmmem_provider_fail(err, len, errno, "cannot create a file in '%s': %s",
					   o->mount_dir, strerror(errno));
	/* hugetlbfs sizes files without allocating pages; the pages come
	 * (reserved or not) with the mmap below. */
	if (ftruncate(fd, (off_t)req->size) != 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return vmmem_provider_fail(err, len, e, "cannot size %s to 0x%llx bytes: %s", path,
					   (unsigned long long)req->size, strerror(e));
	}
	*fd_out = fd;
	return 0;
}

static int
hugetlbfs_create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out,
		 char *err, size_t len)
{
	struct opts o;
	char path[PATH_MAX] = "", what[PATH_MAX + 64];
	int rc, fd = -1, mflags;
	void *p;

	if ((rc = parse_opts(req, &o, err, len)) || (rc = hp_check_size(req, o.page_size, err, len)))
		return rc;

	if (o.mount_dir[0]) {
		if ((rc = create_file(&o, req, path, sizeof(path), &fd, err, len)))
			return rc;
		mflags = MAP_SHARED;
		snprintf(what, sizeof(what), "mapping %s", path);
	} else {
		mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 (int)(hp_log2(o.page_size) << MAP_HUGE_SHIFT);
		snprintf(what, sizeof(what), "anonymous MAP_HUGETLB mapping");
	}
	if (!o.reserve)
		mflags |= MAP_NORESERVE;

	p = mmap(NULL, req->size, PROT_READ | PROT_WRITE, mflags, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		/* Without MAP_NORESERVE the kernel reserves every page here;
		 * ENOMEM means the pool has too few. */
		if (e == ENOMEM)
			rc = hp_fail_no_pages(req->size, o.page_size, what, err, len);
		else
			rc = vmmem_provider_fail(err, len, e, "%s of 0x%llx bytes failed: %s", what,
						 (unsigned long long)req->size, strerror(e));
		goto fail;
	}
	if ((rc = hp_prefault(req, p, req->size, o.page_size, o.prefault, err, len))) {
		munmap(p, req->size);
		goto fail;
	}

	if (fd >= 0) {
		/* The open fd and the mapping keep the pages; the name only
		 * matters to whoever wants to open the file later. */
		if (!o.keep_file)
			unlink(path);
		out->flags = VMMEM_REGION_FD | VMMEM_REGION_SHARED;
	}
	out->host = p;
	out->size = req->size;
	out->page_size = o.page_size;
	out->fd = fd;
	out->fd_offset = 0;
	/* destroy() unmaps m->host, so the core may place the mapping. */
	out->flags |= VMMEM_REGION_HUGETLB | VMMEM_REGION_MOVABLE;
	return 0;

fail:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return rc;
}

static void
hugetlbfs_destroy(struct vmmem_provider_mapping *m)
{
	munmap(m->host, m->size);
	if (m->fd >= 0)
		close(m->fd);
}

VMMEM_PROVIDER_DEFINE("hugetlbfs", "1.0",
		      "huge pages: anonymous MAP_HUGETLB or a file in a hugetlbfs mount", options,
		      hugetlbfs_create, hugetlbfs_destroy, hugetlbfs_validate)
