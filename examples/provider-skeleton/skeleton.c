/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* skeleton — a complete, minimal vmmem provider to copy from.
 *
 * Anonymous private memory from mmap(2), with one option:
 *   fill = BYTE   pre-fill every byte (0..255, decimal or 0x-hex; default 0)
 *
 * Like every provider it includes only <vmmem/provider.h>, exports only
 * vmmem_provider_entry, and keeps no global state (calls may come from
 * several threads at once). See docs/provider-abi.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/provider.h>

/* Every option, described: `vmmem providers skeleton` prints this table.
 * The core refuses keys that are not in it before any callback runs. */
static const struct vmmem_provider_option_desc options[] = {
	{ "fill", VMMEM_PROVIDER_OPTION_INTEGER, "0",
	  "pre-fill every byte with this value (0 to 255, decimal or 0x-hex)", NULL },
	VMMEM_PROVIDER_OPTIONS_END,
};

/* Shared by validate() and create(): `vmmem check` must reject exactly
 * what mapping would. */
static int
parse_fill(const struct vmmem_provider_request *req, int *fill, char *err, size_t len)
{
	const char *v = vmmem_provider_option(req, "fill");
	uint64_t n;

	*fill = 0;
	if (!v)
		return 0;
	if (!vmmem_provider_parse_size(v, &n) || n > 255)
		return vmmem_provider_fail(err, len, EINVAL,
					   "option fill = '%s' is not a byte (0 to 255)", v);
	*fill = (int)n;
	return 0;
}

static int
skeleton_validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	int fill;

	if (req->size % page || req->guest_start % page)
		return vmmem_provider_fail(err, len, EINVAL,
					   "start and size must be multiples of the page size "
					   "0x%llx",
					   (unsigned long long)page);
	return parse_fill(req, &fill, err, len);
}

static int
skeleton_create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out,
		char *err, size_t len)
{
	int fill, rc;
	void *p;

	if ((rc = skeleton_validate(req, err, len)))
		return rc;
	parse_fill(req, &fill, err, len);
	p = mmap(NULL, req->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return vmmem_provider_fail(err, len, errno, "mmap of 0x%llx bytes failed: %s",
					   (unsigned long long)req->size, strerror(errno));
	if (fill)
		memset(p, fill, req->size);
	out->host = p;
	out->size = req->size;
	out->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	out->fd = -1;
	/* Private, no fd, not hugetlb. MOVABLE: destroy() unmaps m->host, so
	 * the core may place this mapping next to a guest-adjacent region's
	 * (docs/provider-abi.md); leave it out if you keep the address. */
	out->flags = VMMEM_REGION_MOVABLE;
	return 0;
}

static void
skeleton_destroy(struct vmmem_provider_mapping *m)
{
	munmap(m->host, m->size);
}

/* The ops table, the descriptor (name, version, description, the ABI this
 * header has) and vmmem_provider_entry(). */
VMMEM_PROVIDER_DEFINE("skeleton", "1.0", "example: anonymous memory pre-filled with one byte",
		      options, skeleton_create, skeleton_destroy, skeleton_validate)
