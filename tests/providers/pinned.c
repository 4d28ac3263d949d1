/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A test provider whose mappings must not move: anonymous private memory
 * like the mmap provider, without VMMEM_REGION_MOVABLE. It keeps the
 * address it mapped and aborts in destroy() if the core moved the mapping
 * anyway. The consumer suite runs over it as "/pinned/...", so every
 * access that crosses a region boundary there takes the split path. */
#include <errno.h>
#include <sys/mman.h>

#include <vmmem/provider.h>

static int
create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out, char *err,
       size_t len)
{
	void **mapped = malloc(sizeof(*mapped));
	void *p;

	if (!mapped)
		return vmmem_provider_fail(err, len, ENOMEM, "out of memory");
	p = mmap(NULL, req->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		free(mapped);
		return vmmem_provider_fail(err, len, e, "mmap of %llu bytes: %s",
					   (unsigned long long)req->size, strerror(e));
	}
	*mapped = p;
	out->host = p;
	out->size = req->size;
	out->page_size = 4096;
	out->provider_data = mapped;
#ifdef PINNED_UNKNOWN_FLAG
	/* A flag bit of some later minor, with the 1.0 bits: the core keeps
	 * the bits it knows and drops this one. */
	out->flags = VMMEM_REGION_SHARED | (1u << 30);
#endif
	return 0;
}

static void
destroy(struct vmmem_provider_mapping *m)
{
	void **mapped = m->provider_data;

	if (m->host != *mapped) {
		fprintf(stderr, "pinned provider: the core moved mapping %p to %p\n", *mapped,
			m->host);
		abort();
	}
	munmap(m->host, m->size);
	free(mapped);
}

static const struct vmmem_provider_ops ops = {
	.struct_size = sizeof(struct vmmem_provider_ops),
	.create = create,
	.destroy = destroy,
};

static const struct vmmem_provider provider = {
	.struct_size = sizeof(struct vmmem_provider),
	.abi_major = VMMEM_PROVIDER_ABI_MAJOR,
	.abi_minor = VMMEM_PROVIDER_ABI_MINOR,
	.name = "pinned",
	.version = "0",
	.description = "test provider: anonymous memory the core may not move",
	.ops = &ops,
};

VMMEM_PROVIDER_EXPORT const struct vmmem_provider *
vmmem_provider_entry(void)
{
	return &provider;
}
