/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — guest memory and its regions.
 *
 * A guest memory (vmmem_memory_t) is an immutable, sorted table of
 * non-overlapping regions, built once from a list of region specs. Because
 * it never changes, every function here and in <vmmem/access.h> may be
 * called from any number of threads at once without locking. A memory is
 * reference counted; a region handle borrowed from it stays valid for as
 * long as the caller holds a reference to the memory.
 */
#ifndef VMMEM_MEMORY_H
#define VMMEM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <vmmem/address.h>
#include <vmmem/provider.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmmem_memory vmmem_memory_t;
typedef struct vmmem_region vmmem_region_t;

/** One region to create. */
typedef struct vmmem_region_spec {
	const char *name;          /* for messages; NULL: "region N" */
	vmmem_guest_addr_t start;  /* guest address of the first byte */
	uint64_t size;             /* bytes; non-zero, a multiple of the page size */
	const char *provider;      /* provider name or path to a .so; NULL: "mmap" */
	const struct vmmem_provider_option *options; /* for the provider */
	size_t n_options;
} vmmem_region_spec_t;

/**
 * Creates a guest memory from `n` region specs (in any order).
 *
 * Rejects, with VMMEM_ERROR_INVALID_LAYOUT and a message that names the
 * region(s) and value: no regions, a zero size, start + size past 2^64,
 * overlapping regions, and a start or size that is not a multiple of the
 * page size of the memory backing it. Provider failures are reported with
 * the VMMEM_ERROR_PROVIDER_* codes (see <vmmem/error.h>). On failure nothing
 * stays mapped and NULL is returned.
 *
 * Returns a new memory with one reference.
 */
VMMEM_API vmmem_memory_t *vmmem_memory_new(const vmmem_region_spec_t *specs, size_t n,
					   GError **error);

/** Adds a reference; returns `mem`. Thread-safe. */
VMMEM_API vmmem_memory_t *vmmem_memory_ref(vmmem_memory_t *mem);

/** Drops a reference; the last one unmaps every region. Thread-safe.
 * NULL is ignored. */
VMMEM_API void vmmem_memory_unref(vmmem_memory_t *mem);

/** The number of regions (at least 1). */
VMMEM_API size_t vmmem_memory_num_regions(const vmmem_memory_t *mem);

/** The i-th region in ascending address order, or NULL if i is out of range.
 * Iterate with `for (i = 0; i < vmmem_memory_num_regions(m); i++)`. */
VMMEM_API const vmmem_region_t *vmmem_memory_region(const vmmem_memory_t *mem, size_t i);

/** The highest backed guest address (the last byte of the last region). */
VMMEM_API vmmem_guest_addr_t vmmem_memory_last_addr(const vmmem_memory_t *mem);

/** True if every byte of [addr, addr + len) is backed (possibly by several
 * adjacent regions). A zero length is always in range. A range that passes
 * 2^64 is not. */
VMMEM_API bool vmmem_memory_check_range(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					size_t len);

/** The region that backs `addr` and the offset of `addr` inside it, or NULL
 * (and *offset untouched) if `addr` is in a hole. `offset` may be NULL. */
VMMEM_API const vmmem_region_t *vmmem_memory_to_region(const vmmem_memory_t *mem,
							 vmmem_guest_addr_t addr,
							 vmmem_region_addr_t *offset);

/** The host address that backs guest `addr`, or NULL with
 * VMMEM_ERROR_INVALID_ADDRESS. */
VMMEM_API void *vmmem_memory_get_host_address(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					      GError **error);

/* ---- Regions (borrowed from their memory; never freed by the caller) ---- */

VMMEM_API const char *vmmem_region_name(const vmmem_region_t *region);
VMMEM_API vmmem_guest_addr_t vmmem_region_start(const vmmem_region_t *region);
VMMEM_API uint64_t vmmem_region_size(const vmmem_region_t *region);
/** The guest address of the region's last byte. */
VMMEM_API vmmem_guest_addr_t vmmem_region_last_addr(const vmmem_region_t *region);
/** The host address of the region's first byte. */
VMMEM_API void *vmmem_region_host(const vmmem_region_t *region);
/** The page size of the memory backing the region (4096, 2 MiB, 1 GiB). */
VMMEM_API uint64_t vmmem_region_page_size(const vmmem_region_t *region);
/** VMMEM_REGION_SHARED, VMMEM_REGION_HUGETLB, VMMEM_REGION_FD. */
VMMEM_API uint32_t vmmem_region_flags(const vmmem_region_t *region);
/** The backing fd (owned by the region: dup() it to keep it), or -1. */
VMMEM_API int vmmem_region_fd(const vmmem_region_t *region);
/** The offset of the region's first byte within its fd. */
VMMEM_API uint64_t vmmem_region_fd_offset(const vmmem_region_t *region);
/** The provider's name ("mmap") and the file it was loaded from. */
VMMEM_API const char *vmmem_region_provider_name(const vmmem_region_t *region);
VMMEM_API const char *vmmem_region_provider_path(const vmmem_region_t *region);
/** True if `addr` falls inside the region. */
VMMEM_API bool vmmem_region_contains(const vmmem_region_t *region, vmmem_guest_addr_t addr);
/** The region-relative address of guest `addr`; false if outside. */
VMMEM_API bool vmmem_region_to_offset(const vmmem_region_t *region, vmmem_guest_addr_t addr,
				      vmmem_region_addr_t *out);

/* ---- The lookup, inline ----
 *
 * Region lookup sits on every access, so it is inline and constant-time:
 * a guest memory keeps a bucket table indexed by (addr - base) >> shift,
 * each bucket pointing at the region that covers its first byte (or the
 * first one starting inside it). The layout of these structs is part of
 * the ABI; do not use their members directly.
 */

struct vmmem_fast_region {
	uint64_t start;
	uint64_t size;   /* 0 for the "hole" sentinel, so every check fails */
	uint8_t *host;
	const vmmem_region_t *region;
	/* Bytes from start that are backed contiguously in guest and host
	 * memory: size, plus the reach of the next region if it follows
	 * this one directly in both (core/placement.c places such runs), so
	 * a slice across their boundary is one memcpy. 0 for the hole. */
	uint64_t reach;
};

struct vmmem_fast_view {
	uint64_t base;       /* start of the lowest region */
	uint64_t last_off;   /* last backed address - base */
	unsigned shift;
	const struct vmmem_fast_region *const *bucket;
	/* Per bucket: host - guest for a bucket wholly inside one region's
	 * reach (see struct vmmem_fast_region), so host = delta + addr;
	 * VMMEM__NO_DELTA (odd: host and guest addresses of a region are
	 * both page aligned, so a real delta is even) for a bucket that
	 * touches a hole or a region elsewhere in host memory. */
	const uintptr_t *delta;
	/* The run of regions that starts at guest address 0 and is
	 * contiguous in guest and host memory alike (core/placement.c puts
	 * guest-adjacent regions back to back): one region at 0 (a small
	 * VM's RAM, a backend's one shared region), or RAM split into
	 * several regions. It skips the table: an address below run_end is
	 * inside it, at host run_delta + addr. Two loads and one compare, no
	 * base to subtract: with the table's loads the one-region hot path
	 * was bound by load ports. Host-contiguous regions share one delta
	 * (host - guest), so the split into regions does not matter here;
	 * the table, which knows regions, decides everything else. QEMU's
	 * flat view merges adjacent ranges with contiguous backing the same
	 * way. run_end is 0 when no region starts at 0, so the compare fails
	 * without a separate flag. */
	uint64_t run_end;
	uintptr_t run_delta;
};

#define VMMEM__NO_DELTA ((uintptr_t)1)

/** Out of line: the full lookup, for what the bucket could not decide. */
VMMEM_API const vmmem_region_t *vmmem_memory_find_region_slow(const vmmem_memory_t *mem,
								uint64_t addr);

/* Where buckets over holes point: size 0 makes every check fail. */
VMMEM_API extern const struct vmmem_fast_region vmmem_fast_hole;

/* A guest memory starts with its vmmem_fast_view (see core/memory.c). */
static inline const struct vmmem_fast_view *
vmmem__view(const vmmem_memory_t *mem)
{
	return (const struct vmmem_fast_view *)(const void *)mem;
}

/* The bucket's candidate region for addr, or the hole sentinel. */
static inline const struct vmmem_fast_region *
vmmem__candidate(const vmmem_memory_t *mem, uint64_t addr)
{
	const struct vmmem_fast_view *v = vmmem__view(mem);
	uint64_t off = addr - v->base;

	if (__builtin_expect(off > v->last_off, 0))
		return &vmmem_fast_hole;
	return v->bucket[off >> v->shift];
}

/* The host address for a naturally aligned access of at most 8 bytes at
 * addr, if addr is below run_end or its bucket lies wholly inside one
 * region's reach; false sends the caller to the out-of-line path, which
 * decides everything else.
 *
 * Why no per-access bounds compare is needed beyond off <= last_off: a
 * bucket is at least one page long and page aligned (region boundaries
 * are page aligned and the core refuses page sizes below
 * VMMEM_PROVIDER_MIN_PAGE_SIZE), an aligned access of at most 8 bytes
 * never crosses a page, and a bucket gets a delta only if every byte of
 * it is inside the same reach, backed at that one delta. So the access is
 * inside one region, at that delta.
 * The run from guest 0 is the same argument with the run as the only
 * bucket: addr < run_end, a multiple of the page size, every byte below it
 * backed at the same delta, and the access cannot cross it. */
static inline bool
vmmem__small_host(const vmmem_memory_t *mem, uint64_t addr, uint8_t **host)
{
	const struct vmmem_fast_view *v = vmmem__view(mem);
	uintptr_t delta;

	/* Both paths only choose the delta; the add and the caller's access
	 * are shared. The compiler then lays the run's path out
	 * straight through to the access, where returning from inside the
	 * branch made it jump out and back: two taken branches fewer per
	 * access, which a small loop pays for in front-end throughput
	 * (bench/README.md: hot one-region load 1.18 -> 0.71 ns). */
	if (addr < v->run_end) {
		delta = v->run_delta;
	} else {
		uint64_t off = addr - v->base;

		if (__builtin_expect(off > v->last_off, 0))
			return false;
		delta = v->delta[off >> v->shift];
		if (__builtin_expect(delta & VMMEM__NO_DELTA, 0))
			return false;
	}
	*host = (uint8_t *)(delta + (uintptr_t)addr);
	return true;
}

/** The region that contains `addr`, or NULL if `addr` is in a hole. */
static inline const vmmem_region_t *
vmmem_memory_find_region(const vmmem_memory_t *mem, vmmem_guest_addr_t addr)
{
	const struct vmmem_fast_region *r = vmmem__candidate(mem, addr.raw);

	if (__builtin_expect(addr.raw - r->start < r->size, 1))
		return r->region;
	return vmmem_memory_find_region_slow(mem, addr.raw);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_MEMORY_H */
