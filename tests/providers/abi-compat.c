/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* One provider, built by tests/test-provider-abi.sh against different
 * copies of <vmmem/provider.h>, to show what the core does with each:
 *
 *   ABI_FUTURE          a header of the next minor (generated from ours),
 *                       whose structs all have one more trailing member:
 *                       must load and map in this core
 *   ABI_OLD             the frozen ABI 1.1 header (tests/providers/abi-1.1),
 *                       whose mapping has no struct_size: must load and map
 *   ABI_TINY_DESCRIPTOR our header, a descriptor too small to hold ops
 *   ABI_TINY_MAPPING    our header, a mapping declared smaller than 1.2's
 *
 * (A major mismatch is ABI_FUTURE built against the future header with
 * its major raised.) Anonymous private memory, filled with 0x5a. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/provider.h>

static int
compat_create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out,
	      char *err, size_t len)
{
	void *p = mmap(NULL, req->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return vmmem_provider_fail(err, len, errno, "mmap: %s", strerror(errno));
	memset(p, 0x5a, req->size);
	out->host = p;
	out->size = req->size;
	out->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	out->fd = -1;
#ifdef ABI_FUTURE
	/* The member the next minor appends: written only if the core gave
	 * room for it. The test reads this line to see that it did not. */
	{
		int room = VMMEM_PROVIDER_MAPPING_HAS(out, future_member);

		if (room)
			out->future_member = 42;
		fprintf(stderr, "abi-compat: mapping room %zu of %zu bytes, future member %s\n",
			out->struct_size, sizeof(*out), room ? "written" : "not written");
	}
	/* A flag bit of the next minor: an older core must drop it. */
	out->flags = 1u << 30;
#endif
#ifdef ABI_TINY_MAPPING
	out->struct_size = 8;
#endif
	return 0;
}

static void
compat_destroy(struct vmmem_provider_mapping *m)
{
	munmap(m->host, m->size);
}

#ifdef ABI_FUTURE
/* An operation of the next minor: a core that does not know it must
 * never call it. */
static void
compat_future_op(void)
{
	abort();
}

static const struct vmmem_provider_option_desc options[] = {
	/* future_unit is the member the next minor appends to an option. */
	{ "fill", VMMEM_PROVIDER_OPTION_INTEGER, "0x5a", "the byte every page starts with", NULL,
	  "byte" },
	{ "speed", VMMEM_PROVIDER_OPTION_ENUM, "fast", "how hard to try", "fast|slow", NULL },
	{ "timeout", 99, "1s", "a type newer than any core", NULL, "seconds" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

VMMEM_PROVIDER_DEFINE("abi-future", "9.9", "built against the next minor's header", options,
		      compat_create, compat_destroy, NULL, compat_future_op)

#else
#ifdef ABI_OLD
static const char *const options[] = { "fill", NULL };
#define DESCRIPTION "built against the ABI 1.1 header"
#define NAME "abi-old"
#else
static const char *const options[] = { NULL };
#define DESCRIPTION "a broken descriptor or mapping"
#define NAME "abi-tiny"
#endif

static const struct vmmem_provider_ops ops = {
	sizeof(struct vmmem_provider_ops), compat_create, compat_destroy, NULL,
};

static const struct vmmem_provider provider = {
#ifdef ABI_TINY_DESCRIPTOR
	offsetof(struct vmmem_provider, description),
#else
	sizeof(struct vmmem_provider),
#endif
	VMMEM_PROVIDER_ABI_MAJOR, VMMEM_PROVIDER_ABI_MINOR, NAME, "1.0", DESCRIPTION, options, &ops,
};

VMMEM_PROVIDER_EXPORT const struct vmmem_provider *
vmmem_provider_entry(void)
{
	return &provider;
}
#endif
