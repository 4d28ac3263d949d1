/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — a hotpluggable guest memory (a space) and its snapshots.
 *
 * A vmmem_memory_t never changes. A space holds the current one and, on
 * every change (a region added or removed, a dirty log set), publishes a
 * new one that shares the unchanged regions with the old. Readers work on
 * a snapshot:
 *
 *     const vmmem_memory_t *m = vmmem_space_get(space);
 *     ... any function of <vmmem/access.h> on m, as often as needed ...
 *     vmmem_space_put(space, m);
 *
 * - get and put never take a lock and never block; they cost a few
 *   nanoseconds and write only the calling thread's own record;
 * - a snapshot stays exactly as it was until it is put, however the space
 *   changes meanwhile: hold one across a descriptor chain;
 * - snapshots nest: a thread may hold many (of one space or several), and
 *   64 cost what one does; put each in the thread that got it;
 * - while a thread holds a snapshot, the space's writers wait for it (a
 *   grace period) before they unmap a removed region, so keep sections
 *   short and never block inside one. A writer call made by a thread that
 *   holds a snapshot would wait for itself: it fails with
 *   VMMEM_ERROR_INVALID_ARGUMENT instead.
 *
 * For a reference that lives longer (across sleeps, or handed to another
 * thread) take vmmem_space_ref_memory(): an ordinary counted memory that
 * keeps its regions mapped until vmmem_memory_unref(), without holding up
 * writers.
 *
 * Writers (add, remove, set_log) are serialized by the space. A refused
 * change leaves the space exactly as it was. Regions never move once
 * published: a hot-added region is mapped where its guest address falls
 * in the space's reservation (host = base + guest, see guest_span), so it
 * sits next to its guest neighbours in host memory and copies across the
 * boundary stay one memcpy.
 */
#ifndef VMMEM_SPACE_H
#define VMMEM_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <vmmem/address.h>
#include <vmmem/memory.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmmem_space vmmem_space_t;

/** The default guest span: 64 GiB of guest address space from 0. */
#define VMMEM_SPACE_DEFAULT_SPAN (UINT64_C(64) << 30)

/** Space flag: do not reserve the guest span; regions stay where their
 * providers map them. */
#define VMMEM_SPACE_NO_RESERVATION (1u << 0)

/** Options of vmmem_space_new() and vmmem_vhost_mem_new(): zero-initialise
 * it, set struct_size, then the fields wanted; NULL means all defaults. */
typedef struct vmmem_space_options {
	/* sizeof(vmmem_space_options_t): fields past it are taken as zero. */
	size_t struct_size;
	/* Guest addresses [0, guest_span) are reserved in host address space
	 * (PROT_NONE, no memory) so that regions inside it are placed at
	 * base + guest, and dirty tracking covers them. 0: the default
	 * (VMMEM_SPACE_DEFAULT_SPAN). Regions outside the span work, but are
	 * not placed and cannot be tracked. */
	uint64_t guest_span;
	uint32_t flags; /* VMMEM_SPACE_* */
} vmmem_space_options_t;

/**
 * A space with the regions of `specs` (n may be 0: an empty space, as a
 * vhost-user backend has before its first memory table). `options` may
 * be NULL for the defaults. Layout and provider errors are those of
 * vmmem_memory_new(); on failure nothing stays mapped and NULL is
 * returned. Free with vmmem_space_free().
 */
VMMEM_API vmmem_space_t *vmmem_space_new(const vmmem_region_spec_t *specs, size_t n,
					 const vmmem_space_options_t *options, GError **error);

/** Frees the space. No thread may hold a snapshot of it (get without
 * put); memories taken with vmmem_space_ref_memory() stay valid until
 * unref'd. NULL is ignored. */
VMMEM_API void vmmem_space_free(vmmem_space_t *space);

/** The current snapshot, held until vmmem_space_put() in the same thread.
 * Never NULL (an empty space gives a memory of no regions). Lock-free. */
VMMEM_API const vmmem_memory_t *vmmem_space_get(vmmem_space_t *space);

/** Releases a snapshot from vmmem_space_get(). */
VMMEM_API void vmmem_space_put(vmmem_space_t *space, const vmmem_memory_t *snapshot);

/** A counted reference to the current snapshot: release it with
 * vmmem_memory_unref(). Lock-free. */
VMMEM_API vmmem_memory_t *vmmem_space_ref_memory(vmmem_space_t *space);

/**
 * Adds a region. Refused, with the space unchanged: a region that
 * overlaps another (VMMEM_ERROR_INVALID_LAYOUT, naming both), a name
 * already in use (VMMEM_ERROR_INVALID_LAYOUT), tracking asked past the
 * guest span (VMMEM_ERROR_UNSUPPORTED), and every error of
 * vmmem_memory_new(). A spec without a name gets "region@0xSTART".
 * Returns once the new snapshot is published.
 */
VMMEM_API bool vmmem_space_add_region(vmmem_space_t *space, const vmmem_region_spec_t *spec,
				      GError **error);

/** Removes the region called `name` (VMMEM_ERROR_NOT_FOUND if none). It is
 * unmapped, and its provider's destroy() called, once no snapshot holds it:
 * at once if only get/put readers used it (this call waits for them),
 * later if a vmmem_space_ref_memory() reference still does. */
VMMEM_API bool vmmem_space_remove_region(vmmem_space_t *space, const char *name,
					 GError **error);

/** Removes the region that contains guest address `addr`. */
VMMEM_API bool vmmem_space_remove_region_at(vmmem_space_t *space, vmmem_guest_addr_t addr,
					    GError **error);

/**
 * Logs every write into an external log from now on (the vhost-user dirty
 * log): bit (gpa / 4096) % 64 of 64-bit word (gpa / 4096) / 64 — on a
 * little-endian host, bit p % 8 of byte p / 8 — set with an atomic OR after
 * each write, for pages p below size * 8. `log` must be 8-byte aligned and
 * `size` a multiple of 8 (VMMEM_ERROR_INVALID_ARGUMENT). `destroy` (may be
 * NULL) is called with `user_data` once no snapshot or writer can reach
 * the log any more, for example to munmap it.
 *
 * log NULL stops external logging; the space's own tracking (if a region
 * has it) resumes, without the writes made meanwhile.
 *
 * When this returns, every write made through a get/put snapshot goes to
 * the new log: none is still in flight to the old one.
 */
VMMEM_API bool vmmem_space_set_log(vmmem_space_t *space, void *log, size_t size,
				   void (*destroy)(void *user_data), void *user_data,
				   GError **error);

/** The bytes of guest address space reserved in host address space: the
 * guest span, or 0 if the space has no reservation (asked for with
 * VMMEM_SPACE_NO_RESERVATION, or mmap() refused it, as valgrind refuses
 * large ones). */
VMMEM_API uint64_t vmmem_space_reserved(const vmmem_space_t *space);

/** How many snapshots the space has published (1 after creation). */
VMMEM_API uint64_t vmmem_space_generation(const vmmem_space_t *space);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_SPACE_H */
