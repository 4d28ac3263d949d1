/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — dirty-page tracking: which guest pages were written.
 *
 * Tracking is chosen per region: VMMEM_SPEC_DIRTY_TRACKING in a region
 * spec, or `dirty-tracking = true` in a config file's [memory] group (every
 * region) or in a region's group. A space can instead hand every write to
 * an external log (vmmem_space_set_log() in <vmmem/space.h>): the
 * vhost-user dirty log, bit gpa / 4096 set with an atomic OR.
 *
 * Every write path of the library marks the pages it wrote, after the
 * bytes are stored: write, write_slice, write_obj, store and the typed
 * stores (inline and out of line), read_from_fd and its exact form (the
 * bytes that arrived, also when it then fails), and the region family. A
 * write that fails before moving a byte marks nothing.
 *
 * Raw pointers — slices from get_slice, iovecs from get_iovec, the host
 * address from get_host_address — are written by the caller, not by the
 * library. THE RULE: write first, then call vmmem_memory_mark_dirty() for
 * what was written (as QEMU marks on address_space_unmap). Marking before
 * the write is not safe: a fetch-and-clear that lands between the mark
 * and the write takes the bit, and the write that follows is never
 * reported, so a migration would not copy it again.
 *
 * A page is 4 KiB for the flat log; a fetch for a region reports one bit
 * per page of the region (vmmem_region_page_size(): 4 KiB, 2 MiB, 1 GiB),
 * dirty when any 4 KiB of it is. Bitmaps are arrays of uint64_t, bit i in
 * word i / 64 at bit i % 64. A region that starts being tracked (created
 * or hot-added) starts clean.
 */
#ifndef VMMEM_DIRTY_H
#define VMMEM_DIRTY_H

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

/** Marks [addr, addr + len) dirty, after the caller wrote it through a raw
 * pointer (see THE RULE above). Pages outside tracked regions are
 * ignored, as are len 0 and ranges past 2^64. Thread-safe. */
VMMEM_API void vmmem_memory_mark_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				       size_t len);

/**
 * Fetch-and-clear: bit i of `bitmap` says whether the 4 KiB page at
 * addr + i * 4096 was written since the last fetch of it, and the page is
 * clean again. `addr` and `len` are multiples of 4096; pages of holes and
 * of untracked regions read 0. Each log word is exchanged atomically, so a
 * write that runs at the same time is reported by this fetch or the next,
 * never lost; when this returns, the data of every write it reports is
 * visible to the caller.
 *
 * Errors: VMMEM_ERROR_INVALID_ARGUMENT for a range that is not whole pages,
 * VMMEM_ERROR_NO_SPACE if n_words < ceil(len / 4096 / 64),
 * VMMEM_ERROR_UNSUPPORTED if no region tracks or the log is external (its
 * owner reads it). Thread-safe.
 */
VMMEM_API bool vmmem_memory_fetch_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					uint64_t len, uint64_t *bitmap, size_t n_words,
					GError **error);

/** Fetch-and-clear for one region of `mem`: bit i for the region's page i
 * (of vmmem_region_page_size() bytes). VMMEM_ERROR_UNSUPPORTED for a
 * region without tracking. Thread-safe. */
VMMEM_API bool vmmem_region_fetch_dirty(const vmmem_memory_t *mem, const vmmem_region_t *region,
					uint64_t *bitmap, size_t n_words, GError **error);

/** True if the region page holding `addr` is dirty; clears nothing. False
 * for holes and untracked regions. */
VMMEM_API bool vmmem_memory_page_is_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr);

/** True if the region's writes are tracked. */
VMMEM_API bool vmmem_region_dirty_tracking(const vmmem_region_t *region);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_DIRTY_H */
