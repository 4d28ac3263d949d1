/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Internal to libvmmem: shared between core/ files, never installed.
 * Internal functions carry the vmmem__ prefix and hidden visibility. */
#ifndef VMMEM_CORE_INTERNAL_H
#define VMMEM_CORE_INTERNAL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <glib.h>

#include <vmmem/vmmem.h>
#include <vmmem/provider.h>
#include <vmmem/provider-info.h>

/* ---- error.c ---- */

void vmmem__error(GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Like vmmem__error, with an errno attached (vmmem_error_get_errno). */
void vmmem__error_errno(GError **error, int code, int errnum, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* ---- loader.c: provider modules ---- */

typedef struct vmmem__module {
	char *path;
	void *handle;
	int fd;          /* the checked file, loaded as /proc/self/fd/<fd> */
	const struct vmmem_provider *desc;
	gint refcount;
} vmmem__module_t;

/* Finds (by name in the search path, or by path if it contains '/') and
 * loads a provider, or returns the cached module with one more reference. */
vmmem__module_t *vmmem__module_get(const char *name_or_path, GError **error);
/* Drops a reference; the last one dlclose()s the module. */
void vmmem__module_unref(vmmem__module_t *module);

/* Rejects option keys the provider does not list, naming key and region. */
bool vmmem__module_check_options(const vmmem__module_t *module, const char *region_name,
				 const struct vmmem_provider_option *options, size_t n_options,
				 GError **error);

/* Calls the provider's optional validate() (VMMEM_PROVIDER_HAS_OP) with
 * the request create() would get, mapping nothing. True if the provider
 * has no validate(); else VMMEM_ERROR_PROVIDER_OPTION with its message. */
/* The candidate closest to `word` in spelling, for "did you mean"
 * hints: at most two edits away and fewer than the candidate's length;
 * NULL if none is that close. `candidates` is NULL-terminated. */
const char *vmmem__nearest_word(const char *word, const char *const *candidates);

/* The text a provider left in its error buffer `msg` of `size` bytes
 * after failing with `rc`, else strerror(rc). The buffer is terminated
 * first: a provider that fills it without a NUL must not make us read
 * past it. */
const char *vmmem__provider_message(char *msg, size_t size, int rc);

bool vmmem__module_validate(const vmmem__module_t *module, const char *region_name,
			    uint64_t start, uint64_t size,
			    const struct vmmem_provider_option *options, size_t n_options,
			    GError **error);

/* The provider search path: VMMEM_PROVIDER_PATH (secure_getenv) entries,
 * then the built-in providerdir. NULL-terminated; free with g_strfreev. */
char **vmmem__provider_search_path(void);

/* ---- reclaim.c: read sections and grace periods ----
 *
 * Epoch-based reclamation (see core/reclaim.c): a read section costs a
 * thread-local counter and a store to the thread's own record; a writer
 * waits until every thread that might hold an old snapshot has left its
 * section. Sections nest. */

void vmmem__read_lock(void);
void vmmem__read_unlock(void);
/* True if this thread is inside a read section (a writer must not wait
 * for itself). */
bool vmmem__in_read_section(void);
/* Waits until every read section that began before the call has ended. */
void vmmem__synchronize(void);
/* True once membarrier(PRIVATE_EXPEDITED) is registered: readers then need
 * only compiler barriers, and fetch-and-clear can fence every thread. */
bool vmmem__membarrier_ready(void);
/* A full memory barrier on every running thread of the process (or, where
 * membarrier is missing, false: the caller must not rely on it). */
bool vmmem__fence_all_threads(void);

/* Starts a grace period without waiting for it: advances the epoch and
 * returns it. A table unpublished before the call may be freed once
 * vmmem__grace_horizon() is at least the returned value. */
uint64_t vmmem__grace_start(void);
/* The epoch of the oldest read section still running (UINT64_MAX if
 * none), after a barrier on every thread: what was retired at an epoch
 * at or below it is unreachable. Never waits. */
uint64_t vmmem__grace_horizon(void);

/* ---- iotlb.c: the IOTLB's tables ---- */

struct vmmem__iotlb_entry {
	uint64_t iova;
	uint64_t last;    /* iova + size - 1: never wraps */
	uint64_t target;
	uint32_t perm;
};

/* Immutable once published; sorted by iova, no overlaps. */
struct vmmem__iotlb_table {
	size_t n;
	uint64_t retired_epoch;                   /* once replaced */
	struct vmmem__iotlb_table *retired_next;  /* the retired list */
	struct vmmem__iotlb_entry e[];
};

struct vmmem_iotlb {
	struct vmmem__iotlb_table *current; /* __atomic */
	GMutex lock;                        /* serializes writers */
	vmmem_iotlb_target_t target;
	size_t max_entries;
	vmmem_iotlb_miss_fn miss;
	void *miss_data;
	struct vmmem__iotlb_table *retired; /* replaced, not yet freed */
	size_t evict_cursor;
};

/* The index of the last entry with iova <= addr, or -1. */
ptrdiff_t vmmem__iotlb_floor(const struct vmmem__iotlb_table *t, uint64_t addr);
/* The entry holding addr, or NULL. */
const struct vmmem__iotlb_entry *vmmem__iotlb_find(const struct vmmem__iotlb_table *t,
						   uint64_t addr);

/* ---- dirty.c: dirty logs ---- */

/* A flat log: bit p & 63 of word p >> 6 for guest page p = gpa >> 12, for
 * p < pages (a multiple of 64). Internal logs are mmap'd by the core; external ones belong
 * to the caller, who gets `destroy(user_data)` once no snapshot, region or
 * writer can reach them. Shared by reference. */
struct vmmem__log {
	gint refcount;
	uint64_t *bits;
	uint64_t pages;
	bool always;          /* an atomic OR on every write (external logs) */
	size_t map_len;       /* internal: the length we mmap'd, else 0 */
	void (*destroy)(void *user_data);
	void *user_data;
};

/* The owner's current log, read by the out-of-line region family (which
 * has no snapshot to take a view from) inside a read section. The cell
 * holds a reference on its log; a replaced log is released only after a
 * grace period. */
struct vmmem__logcell {
	gint refcount;
	struct vmmem__log *log; /* __atomic accesses; NULL: no logging */
};

struct vmmem__log *vmmem__log_new_internal(uint64_t end, GError **error);
struct vmmem__log *vmmem__log_ref(struct vmmem__log *log);
void vmmem__log_unref(struct vmmem__log *log);
struct vmmem__logcell *vmmem__logcell_new(struct vmmem__log *log);
struct vmmem__logcell *vmmem__logcell_ref(struct vmmem__logcell *cell);
void vmmem__logcell_unref(struct vmmem__logcell *cell);
/* Marks the pages of [addr, addr + len) (len > 0, no wrap) in log. */
void vmmem__log_mark(const struct vmmem__log *log, uint64_t addr, uint64_t len);
/* The region family's logging: through r->cell, inside a read section. */
void vmmem__region_log(const struct vmmem_region *r, uint64_t off, uint64_t len);
/* Clears the log bits of [addr, addr + len), for a region that starts
 * being tracked. */
void vmmem__log_clear(const struct vmmem__log *log, uint64_t addr, uint64_t len);

/* ---- memory.c ---- */

struct vmmem__reservation;

/* A region is shared by every snapshot that contains it (reference
 * counted); its provider's destroy() runs when the last one is gone. */
struct vmmem_region {
	gint refcount;
	char *name;
	uint64_t start;
	uint64_t size;
	uint64_t last;   /* start + size - 1: never overflows, unlike an end */
	uint8_t *host;
	bool movable;    /* the provider set VMMEM_REGION_MOVABLE (cleared from mapping.flags) */
	bool dirty_tracking;
	struct vmmem_provider_mapping mapping;
	vmmem__module_t *module;
	/* Where region-family writes are logged (the owner's cell). */
	struct vmmem__logcell *cell;
	/* The space's reservation this region was placed in, if any: its
	 * range goes back to the reservation when the region is destroyed. */
	struct vmmem__reservation *res;
	/* The frontend's address of the region (vhost-user userspace_addr),
	 * if it was created with one: snapshots of such regions get a second
	 * bucket table keyed by it (vmmem__memory_user_index). */
	uint64_t user_addr;
	bool has_user_addr;
	/* Its slot in the SIGBUS registry (core/sigbus.c), or -1. */
	int guard;
};

/* A bucket table: bucket[(addr - base) >> shift] names the candidate
 * entry (or the hole) for every address up to base + last_off; delta[]
 * (guest tables only, else NULL) as in <vmmem/view.h>. */
struct vmmem__table {
	uint64_t base;
	uint64_t last_off;
	unsigned shift;
	const struct vmmem_fast_region **bucket;
	uintptr_t *delta;
	size_t n_buckets;
};

struct vmmem_memory {
	struct vmmem_fast_view view; /* first: the inline lookup reads it */
	gint refcount;
	size_t n;
	struct vmmem_region **regions;      /* sorted by start; one reference each */
	struct vmmem_fast_region *fast;     /* parallel to regions */
	struct vmmem__table table;          /* the guest table the view points into */
	/* The frontend-address table (only if every region has a user
	 * address): entries sorted by user address, start = user address,
	 * region = the region, host = its host. */
	bool has_user_table;
	struct vmmem__table user_table;
	struct vmmem_fast_region *user_fast;
	struct vmmem_fast_region user_hole;
	struct vmmem__log *log;             /* what view.log points into, or NULL */
	struct vmmem__logcell *cell;        /* the owner's; never NULL */
};

/* A region from a spec: the provider is loaded, asked for the mapping and
 * its answer checked. One reference; `cell` may be NULL. */
struct vmmem_region *vmmem__region_new(const vmmem_region_spec_t *spec, const char *name,
				       struct vmmem__logcell *cell, GError **error);
struct vmmem_region *vmmem__region_ref(struct vmmem_region *r);
void vmmem__region_unref(struct vmmem_region *r);

/* A snapshot over `n` regions sorted by start, known not to overlap
 * (n may be 0): the fast table, the buckets and the log gate of `log`.
 * Takes a reference on each region, on log and on cell. */
vmmem_memory_t *vmmem__memory_build(struct vmmem_region *const *sorted, size_t n,
				    struct vmmem__log *log, struct vmmem__logcell *cell,
				    GError **error);

/* The checks on one region's numbers before anything is mapped: zero
 * size, wrap past 2^64, start or size not a multiple of the base page. */
bool vmmem__check_region_numbers(const char *name, uint64_t start, uint64_t size,
				 GError **error);

/* Creates the regions of `specs` (checked with the layout rules first),
 * sorted by start, each with `cell`. On failure none is left. */
bool vmmem__regions_from_specs(const vmmem_region_spec_t *specs, size_t n,
			       struct vmmem__logcell *cell, struct vmmem_region ***out,
			       GError **error);

/* Logs a completed write of [addr, addr + len) in the memory's log. */
static inline void
vmmem__memory_log(const vmmem_memory_t *mem, uint64_t addr, uint64_t len)
{
	if (mem->view.gate && len)
		vmmem__log_mark(mem->log, addr, len);
}

/* ---- space.c ---- */

/* One change of a space, published as one snapshot: the regions at the
 * (ascending) indices `remove` of the current snapshot go, the regions
 * of `specs` come, each with user_addrs[i] as its frontend address if
 * user_addrs is not NULL. `cur_gen` is the generation the caller
 * validated against (vmmem_space_generation): another writer's change
 * since then refuses the call. Every new region is created before
 * anything is published; on failure none stays and the space is as it
 * was. Readers of the old snapshot keep it until they put it. */
bool vmmem__space_replace(vmmem_space_t *space, uint64_t cur_gen, const size_t *remove,
			  size_t n_remove, const vmmem_region_spec_t *specs,
			  const uint64_t *user_addrs, size_t n_add, GError **error);

/* ---- placement.c ---- */

/* Moves the movable mappings of each run of guest-adjacent regions (sorted
 * by start) so that they sit back to back in host memory, best effort. */
void vmmem__place_adjacent(struct vmmem_region *const *regions, size_t n);
/* fast[i].reach: bytes from region i's start to the end of the run of
 * regions that are contiguous in both guest and host memory. */
void vmmem__compute_reach(struct vmmem_fast_region *fast, struct vmmem_region *const *regions,
			  size_t n);

/* A space's reservation: one PROT_NONE range of `span` bytes at host
 * `base`, where guest address g is placed at base + g. Shared by the
 * space and every region placed in it. */
struct vmmem__reservation *vmmem__reservation_new(uint64_t span);
struct vmmem__reservation *vmmem__reservation_ref(struct vmmem__reservation *res);
void vmmem__reservation_unref(struct vmmem__reservation *res);
/* Moves a movable region to base + start if it fits in the reservation;
 * best effort (false: the region stays where its provider mapped it). */
bool vmmem__reservation_place(struct vmmem__reservation *res, struct vmmem_region *r);
/* After the provider unmapped a placed region: takes its range back. */
void vmmem__reservation_release(struct vmmem__reservation *res, uint64_t start, uint64_t size);
uint64_t vmmem__reservation_span(const struct vmmem__reservation *res);

/* The host pointer for [addr, addr + len) if one region holds all of it,
 * else NULL. Callers fall back to the out-of-line path on NULL. */
static inline uint8_t *
vmmem__fast_host(const vmmem_memory_t *mem, uint64_t addr, size_t len)
{
	const struct vmmem_fast_region *r = vmmem__candidate(mem, addr);
	uint64_t roff = addr - r->start;

	if (__builtin_expect(roff >= r->size || r->size - roff < len, 0))
		return NULL;
	return r->host + roff;
}

/* The layout checks vmmem_memory_new() makes before it maps anything
 * (zero size, wrap past 2^64, overlap naming both regions), on their own. */
bool vmmem__layout_check(const vmmem_region_spec_t *specs, size_t n, GError **error);

/* The frontend-address entry holding user address ua (start = user
 * address of the region, region and host as for the guest table), or
 * NULL: none, or the memory has no user table. Constant time for the
 * layouts frontends use; binary search for sparse ones. */
const struct vmmem_fast_region *vmmem__memory_user_find(const vmmem_memory_t *mem, uint64_t ua);

/* Index of the region holding addr, or -1. Binary search; O(log n). */
ptrdiff_t vmmem__memory_index(const vmmem_memory_t *mem, uint64_t addr);

/* ---- span.c: the one engine for contiguous host ranges ----
 *
 * Regions and slices are both one host range; every access family on
 * them goes through these functions, which only differ in how an error
 * names the offset ("region 'low' offset 0x10 (guest 0x1010)" or "slice
 * offset 0x10"). */

typedef struct vmmem__span {
	uint8_t *host;
	uint64_t size;
	const vmmem_region_t *region; /* NULL for a bare slice */
} vmmem__span_t;

bool vmmem__span_read(vmmem__span_t s, uint64_t off, void *buf, size_t len, size_t *done,
		      GError **error);
bool vmmem__span_write(vmmem__span_t s, uint64_t off, const void *buf, size_t len, size_t *done,
		       GError **error);
bool vmmem__span_read_exact(vmmem__span_t s, uint64_t off, void *buf, size_t len,
			    GError **error);
bool vmmem__span_write_exact(vmmem__span_t s, uint64_t off, const void *buf, size_t len,
			     GError **error);
bool vmmem__span_load(vmmem__span_t s, uint64_t off, unsigned width, memory_order order,
		      uint64_t *out, GError **error);
bool vmmem__span_store(vmmem__span_t s, uint64_t off, unsigned width, uint64_t value,
		       memory_order order, GError **error);
bool vmmem__span_fd(vmmem__span_t s, uint64_t off, int fd, size_t len, bool to_fd, bool exact,
		    size_t *done, GError **error);
bool vmmem__span_get_slice(vmmem__span_t s, uint64_t off, size_t len, vmmem_slice_t *out,
			   GError **error);

/* ---- copy.c ---- */

/* memcpy, except that 1/2/4/8 bytes at natural alignment of both sides
 * move in one access (the no-tearing guarantee of *_obj). */
void vmmem__copy_small(void *dst, const void *src, size_t len);

/* Inline so that a slice copy costs one memcpy call, not two calls. */
static inline void
vmmem__copy(void *dst, const void *src, size_t len)
{
	if (len > 8)
		memcpy(dst, src, len);
	else
		vmmem__copy_small(dst, src, len);
}
bool vmmem__atomic_load(const uint8_t *host, unsigned width, memory_order order, uint64_t *out);
void vmmem__atomic_store(uint8_t *host, unsigned width, uint64_t value, memory_order order);
bool vmmem__valid_width(unsigned width, GError **error);

/* ---- prefault.c ---- */

/* The SIGBUS-guarded touch handed to providers (touch_pages). */
int vmmem__touch_pages(void *host, uint64_t size, uint64_t page_size, uint64_t *touched);

/* ---- sigbus.c: surviving a peer that takes pages away ---- */

/* Non-zero once any region of the process was lost (__atomic). */
extern int vmmem__sigbus_lost;
/* Guards a freshly created fd-backed region (sets r->guard); installs the
 * process-wide handler on first use. Best effort. */
void vmmem__sigbus_register(struct vmmem_region *r);
/* After the region's mapping moved (placement): the new host range. */
void vmmem__sigbus_moved(struct vmmem_region *r);
/* Before the provider unmaps the region. */
void vmmem__sigbus_unregister(struct vmmem_region *r);
bool vmmem__region_is_lost(const struct vmmem_region *r);
/* If r was lost: sets VMMEM_ERROR_REGION_LOST naming it, returns true. */
bool vmmem__lost_error(const struct vmmem_region *r, GError **error);

/* ---- fdio.c ---- */

/* One readv/writev (exact = false) or a loop until `total` bytes moved
 * (exact = true), retrying EINTR. `what` names the target in errors.
 * Modifies iov. */
bool vmmem__fd_transfer(int fd, struct iovec *iov, size_t n_iov, size_t total, bool to_fd,
			bool exact, const char *what, size_t *done, GError **error);

#endif /* VMMEM_CORE_INTERNAL_H */
