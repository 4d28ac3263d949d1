/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Huge-page helpers shared by the hugetlbfs and memfd providers: where the
 * kernel says which sizes exist and how many pages are free, and how to get
 * pages into a mapping made without a reservation without ever letting a
 * SIGBUS escape (see <vmmem/provider.h>: touching a mapping must not raise
 * a signal). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "hugepages.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define SYSFS_HUGEPAGES "/sys/kernel/mm/hugepages"

unsigned
hp_log2(uint64_t v)
{
	return v ? 63u - (unsigned)__builtin_clzll(v) : 0;
}

uint64_t
hp_default_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

static void
sysfs_path(char *buf, size_t len, uint64_t size, const char *file)
{
	snprintf(buf, len, SYSFS_HUGEPAGES "/hugepages-%llukB%s%s",
		 (unsigned long long)(size / 1024), file ? "/" : "", file ? file : "");
}

bool
hp_size_supported(uint64_t size)
{
	char path[128];
	struct stat st;

	if (size < 4096 || (size & (size - 1)))
		return false;
	sysfs_path(path, sizeof(path), size, NULL);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *
hp_mount_size_str(uint64_t size, char *buf, size_t len)
{
	if (size >= (1ull << 30) && size % (1ull << 30) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(size >> 30));
	else if (size >= (1ull << 20) && size % (1ull << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(size >> 20));
	else if (size >= (1ull << 10) && size % (1ull << 10) == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(size >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)size);
	return buf;
}

const char *
hp_size_str(uint64_t size, char *buf, size_t len)
{
	if (size >= (1ull << 30) && size % (1ull << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(size >> 30));
	else if (size >= (1ull << 20) && size % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(size >> 20));
	else if (size >= (1ull << 10) && size % (1ull << 10) == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(size >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)size);
	return buf;
}

void
hp_supported_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	/* Probing the few sizes x86/arm64/ppc kernels offer is simpler than
	 * reading the directory and sorting it. */
	for (unsigned bits = 16; bits <= 34; bits++) {
		char one[32];
		if (!hp_size_supported(1ull << bits))
			continue;
		hp_size_str(1ull << bits, one, sizeof(one));
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? ", " : "", one);
		if (used >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

static bool
read_counter(uint64_t size, const char *file, uint64_t *out)
{
	char path[160];
	unsigned long long v;
	FILE *f;
	bool ok;

	sysfs_path(path, sizeof(path), size, file);
	if (!(f = fopen(path, "re")))
		return false;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (ok)
		*out = v;
	return ok;
}

bool
hp_pool_counts(uint64_t size, uint64_t *free_pages, uint64_t *resv_pages)
{
	return read_counter(size, "free_hugepages", free_pages) &&
	       read_counter(size, "resv_hugepages", resv_pages);
}

int
hp_parse_page_size(const struct vmmem_provider_request *req, uint64_t *out, char *err,
		   size_t len)
{
	const char *v = vmmem_provider_option(req, "page-size");
	char list[128];

	if (!v) {
		*out = hp_default_size();
		if (!*out || !hp_size_supported(*out))
			return vmmem_provider_fail(err, len, ENOTSUP,
						   "this kernel has no huge pages "
						   "(no Hugepagesize in /proc/meminfo)");
		return 0;
	}
	if (!vmmem_provider_parse_size(v, out))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option page-size = '%s' is not a size (e.g. 2M, 1G)", v);
	if (!hp_size_supported(*out)) {
		hp_supported_list(list, sizeof(list));
		return vmmem_provider_fail(err, len, EINVAL,
					   "option page-size = '%s': this kernel has no huge pages "
					   "of that size (it has: %s; see " SYSFS_HUGEPAGES ")",
					   v, list);
	}
	return 0;
}

int
hp_parse_reserve(const struct vmmem_provider_request *req, bool *reserve,
		 enum hp_prefault *prefault, char *err, size_t len)
{
	const char *v;
	bool b;

	*reserve = true;
	if ((v = vmmem_provider_option(req, "reserve")) && !vmmem_provider_parse_bool(v, reserve))
		return vmmem_provider_fail(err, len, EINVAL,
					   "option reserve = '%s' is not a boolean (yes/no)", v);
	*prefault = *reserve ? HP_PREFAULT_NO : HP_PREFAULT_AUTO;
	if ((v = vmmem_provider_option(req, "prefault"))) {
		if (strcmp(v, "touch") == 0)
			*prefault = HP_PREFAULT_TOUCH;
		else if (vmmem_provider_parse_bool(v, &b))
			*prefault = b ? HP_PREFAULT_AUTO : HP_PREFAULT_NO;
		else
			return vmmem_provider_fail(err, len, EINVAL,
						   "option prefault = '%s' is not yes, no or touch", v);
	}
	if (!*reserve && *prefault == HP_PREFAULT_NO)
		return vmmem_provider_fail(err, len, EINVAL,
					   "options reserve = no and prefault = no together would "
					   "let a touch of the region raise SIGBUS when the huge "
					   "page pool runs out; drop one of them");
	return 0;
}

int
hp_check_size(const struct vmmem_provider_request *req, uint64_t page_size, char *err,
	      size_t len)
{
	char ps[32];

	hp_size_str(page_size, ps, sizeof(ps));
	if (req->size % page_size)
		return vmmem_provider_fail(err, len, EINVAL,
					   "size 0x%llx is not a multiple of the huge page size "
					   "0x%llx (%s)",
					   (unsigned long long)req->size,
					   (unsigned long long)page_size, ps);
	if (req->guest_start % page_size)
		return vmmem_provider_fail(err, len, EINVAL,
					   "start 0x%llx is not a multiple of the huge page size "
					   "0x%llx (%s)",
					   (unsigned long long)req->guest_start,
					   (unsigned long long)page_size, ps);
	return 0;
}

static int
fail_with_counts(uint64_t size, uint64_t page_size, const char *what, bool have_counts,
		 uint64_t free_pages, uint64_t resv_pages, char *err, size_t len)
{
	char ps[32];

	hp_size_str(page_size, ps, sizeof(ps));
	if (!have_counts)
		return vmmem_provider_fail(err, len, ENOMEM,
					   "%s: out of %s huge pages: asked for %llu pages "
					   "(free count unreadable)",
					   what, ps, (unsigned long long)(size / page_size));
	return vmmem_provider_fail(err, len, ENOMEM,
				   "%s: out of %s huge pages: asked for %llu pages, %llu free "
				   "(%llu of them reserved by other mappings); raise "
				   SYSFS_HUGEPAGES "/hugepages-%llukB/nr_hugepages",
				   what, ps, (unsigned long long)(size / page_size),
				   (unsigned long long)free_pages, (unsigned long long)resv_pages,
				   (unsigned long long)(page_size / 1024));
}

int
hp_fail_no_pages(uint64_t size, uint64_t page_size, const char *what, char *err, size_t len)
{
	uint64_t free_pages = 0, resv_pages = 0;
	bool have = hp_pool_counts(page_size, &free_pages, &resv_pages);

	return fail_with_counts(size, page_size, what, have, free_pages, resv_pages, err, len);
}

int
hp_prefault(const struct vmmem_provider_request *req, void *p, uint64_t size, uint64_t page_size,
	    enum hp_prefault how, char *err, size_t len)
{
	uint64_t touched = 0, free_pages = 0, resv_pages = 0;
	bool have;
	int rc;

	if (how == HP_PREFAULT_NO)
		return 0;
	/* Read before the pool is drained by the attempt itself. */
	have = hp_pool_counts(page_size, &free_pages, &resv_pages);
	if (how == HP_PREFAULT_AUTO) {
		if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
			return 0;
		rc = errno;
		/* EFAULT/ENOMEM: a page could not be allocated (the pool ran
		 * dry); EINVAL: a kernel before 5.14 without the advice. */
		if (rc == EFAULT || rc == ENOMEM)
			return fail_with_counts(size, page_size, "prefaulting", have, free_pages,
						resv_pages, err, len);
		if (rc != EINVAL)
			return vmmem_provider_fail(err, len, rc,
						   "prefaulting 0x%llx bytes failed: %s",
						   (unsigned long long)size, strerror(rc));
	}
	/* The guard is the core's: see touch_pages in <vmmem/provider.h>. */
	if (req->struct_size < offsetof(struct vmmem_provider_request, touch_pages) +
				   sizeof(req->touch_pages) ||
	    !req->touch_pages)
		return vmmem_provider_fail(err, len, ENOTSUP,
					   "prefaulting without MADV_POPULATE_WRITE needs the core's "
					   "guarded touch, which this vmmem does not offer; use "
					   "reserve = yes");
	rc = req->touch_pages(p, size, page_size, &touched);
	if (rc == ENOMEM) {
		char what[96];
		snprintf(what, sizeof(what), "prefaulting (SIGBUS caught at page %llu)",
			 (unsigned long long)(touched / page_size));
		return fail_with_counts(size, page_size, what, have, free_pages, resv_pages, err,
					len);
	}
	if (rc)
		return vmmem_provider_fail(err, len, rc, "cannot install a SIGBUS handler: %s",
					   strerror(rc));
	return 0;
}
