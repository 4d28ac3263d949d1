/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — guest memory and its regions.
 *
 * A guest memory (vmmem_memory_t) is an immutable, sorted table of
 * non-overlapping regions, built once from a list of region specs, or
 * published by a space (<vmmem/space.h>) as one snapshot of a memory that
 * changes. Because it never changes, every function here and in
 * <vmmem/access.h> may be called from any number of threads at once
 * without locking. A memory is reference counted; a region handle
 * borrowed from it stays valid for as long as the caller holds the memory
 * (a reference, or a snapshot not yet put). Regions are shared between
 * the snapshots of a space and unmapped when the last one holding them
 * goes.
 */
#ifndef VMMEM_MEMORY_H
#define VMMEM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <vmmem/address.h>
#include <vmmem/provider.h>
#include <vmmem/view.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One region to create. */
typedef struct vmmem_region_spec {
	const char *name;          /* for messages; NULL: "region N" */
	vmmem_guest_addr_t start;  /* guest address of the first byte */
	uint64_t size;             /* bytes; non-zero, a multiple of the page size */
	const char *provider;      /* provider name or path to a .so; NULL: "mmap" */
	const struct vmmem_provider_option *options; /* for the provider */
	size_t n_options;          /* entries in options; 0 if options is NULL */
	uint32_t flags;            /* VMMEM_SPEC_* */
} vmmem_region_spec_t;

/** The access a caller intends through a pointer or an IOVA: the `_for`
 * pointer getters (vmmem_memory_get_slice_for(), ...) refuse a write
 * access to a read-only region. */
typedef enum vmmem_access {
	VMMEM_ACCESS_READ = 1u << 0,
	VMMEM_ACCESS_WRITE = 1u << 1,
	VMMEM_ACCESS_READ_WRITE = VMMEM_ACCESS_READ | VMMEM_ACCESS_WRITE,
} vmmem_access_t;

/** Spec flag: track the pages written in this region (see <vmmem/dirty.h>). */
#define VMMEM_SPEC_DIRTY_TRACKING (1u << 0)
/** Spec flag: the region is read-only. It is mapped PROT_READ, and every
 * write path of the library refuses it with VMMEM_ERROR_READ_ONLY, naming
 * the region, before any byte moves (a write that spans it and a writable
 * region moves nothing either). The pointer getters hand out pointers one
 * may write through, so they refuse it too; their `_for` forms take the
 * access a caller intends (VMMEM_ACCESS_READ gets a pointer into it).
 * A guest memory with a read-only region takes its inline writes out of
 * line (bench/README.md: readonly_*); its reads stay inline. */
#define VMMEM_SPEC_READ_ONLY (1u << 1)

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

/** The number of regions (at least 1 for vmmem_memory_new(); a snapshot of
 * an empty space has 0). */
VMMEM_API size_t vmmem_memory_num_regions(const vmmem_memory_t *mem);

/** The i-th region in ascending address order, or NULL if i is out of range.
 * Iterate with `for (i = 0; i < vmmem_memory_num_regions(m); i++)`. */
VMMEM_API const vmmem_region_t *vmmem_memory_region(const vmmem_memory_t *mem, size_t i);

/** The highest backed guest address (the last byte of the last region; 0
 * for a memory of no regions). */
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
 * VMMEM_ERROR_INVALID_ADDRESS. A raw pointer, like vmmem_region_host():
 * inside a read-only region (vmmem_region_read_only()) it is mapped
 * PROT_READ, and a write through it faults. */
VMMEM_API void *vmmem_memory_get_host_address(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					      GError **error);

/* ---- Regions (borrowed from their memory; never freed by the caller) ---- */

VMMEM_API const char *vmmem_region_name(const vmmem_region_t *region);
/** The guest address of the region's first byte. */
VMMEM_API vmmem_guest_addr_t vmmem_region_start(const vmmem_region_t *region);
/** The region's size in bytes (never 0; a multiple of its page size). */
VMMEM_API uint64_t vmmem_region_size(const vmmem_region_t *region);
/** The guest address of the region's last byte. */
VMMEM_API vmmem_guest_addr_t vmmem_region_last_addr(const vmmem_region_t *region);
/** The host address of the region's first byte. */
VMMEM_API void *vmmem_region_host(const vmmem_region_t *region);
/** The page size of the memory backing the region (4096, 2 MiB, 1 GiB). */
VMMEM_API uint64_t vmmem_region_page_size(const vmmem_region_t *region);
/** VMMEM_REGION_SHARED, VMMEM_REGION_HUGETLB, VMMEM_REGION_FD. */
VMMEM_API uint32_t vmmem_region_flags(const vmmem_region_t *region);
/** True if the region was created read-only (VMMEM_SPEC_READ_ONLY, the
 * config key `read-only = true`, or a read-only vhost-user table or share
 * receive): it is mapped PROT_READ and every write path refuses it. */
VMMEM_API bool vmmem_region_read_only(const vmmem_region_t *region);
/** The backing fd (owned by the region: dup() it to keep it), or -1. */
VMMEM_API int vmmem_region_fd(const vmmem_region_t *region);
/** The offset of the region's first byte within its fd. */
VMMEM_API uint64_t vmmem_region_fd_offset(const vmmem_region_t *region);
/** The name of the provider that created the region ("mmap"), from its
 * descriptor; a static string of the provider, valid while the region lives. */
VMMEM_API const char *vmmem_region_provider_name(const vmmem_region_t *region);
/** The absolute path of the provider file the region's provider was
 * loaded from (which file won the search path, for messages and `vmmem
 * layout`); owned by the core, valid while the region lives. */
VMMEM_API const char *vmmem_region_provider_path(const vmmem_region_t *region);
/** True if `addr` falls inside the region. */
VMMEM_API bool vmmem_region_contains(const vmmem_region_t *region, vmmem_guest_addr_t addr);
/** The region-relative address of guest `addr`; false if outside. */
VMMEM_API bool vmmem_region_to_offset(const vmmem_region_t *region, vmmem_guest_addr_t addr,
				      vmmem_region_addr_t *out);

/* ---- Regions lost to the peer that owns their file ----
 *
 * A region mapped from a file (memfd, tmpfs, hugetlbfs, a regular file:
 * VMMEM_REGION_FD) can lose pages under this process: the process that
 * shared it truncates the file, punches a hole in it or drains the
 * hugetlb pool. An access to such a page raises SIGBUS. vmmem installs
 * one process-wide SIGBUS handler (when the first fd-backed region is
 * created) that, for an address inside such a region, maps anonymous
 * zero pages over the faulting page (the region's page size) and marks
 * the region lost; the access then completes. What a consumer sees:
 *  - the access that faulted, and every later one to those pages, reads
 *    zeros; writes to them land in private pages and are lost (the peer
 *    never sees them); pages that did not fault keep their shared data;
 *  - from then on every out-of-line access that touches the region (the
 *    vmmem_region_* family, and the vmmem_memory_* functions that are
 *    not inline, including the *_slow ones, load/store, iovecs, fd I/O
 *    and get_slice) fails with VMMEM_ERROR_REGION_LOST naming it;
 *  - the inline paths (<vmmem/view.h>: read_obj, read_slice, ... within
 *    one region), slices and host pointers taken before, are not checked,
 *    so that they cost nothing: they keep working on the zero pages. A
 *    consumer polls vmmem_memory_lost() (say, once per request batch) or
 *    vmmem_region_lost() and drops the device or the connection.
 * A SIGBUS at any other address goes to the handler that was installed
 * before (or kills the process, as without vmmem). A consumer that
 * installs its own SIGBUS handler later replaces this one; it should
 * call the previous one for addresses it does not know. Up to 4096 regions
 * are guarded at a time; more stay unguarded. */

/** True once the region lost pages to a SIGBUS (see above). Lock-free,
 * async-signal-safe, any thread; NULL is false. */
VMMEM_API bool vmmem_region_lost(const vmmem_region_t *region);
/** True if any region of `mem` was lost. Lock-free; O(1) until a region
 * of the process is lost, then O(regions). */
VMMEM_API bool vmmem_memory_lost(const vmmem_memory_t *mem);

/* ---- The lookup, inline (its structs are in <vmmem/view.h>) ---- */

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
