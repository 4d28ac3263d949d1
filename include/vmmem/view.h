/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — the inline view: everything inline code in a consumer reads.
 *
 * THIS HEADER IS ABI. The inline accessors in <vmmem/access.h> and
 * <vmmem/memory.h> are compiled into consumers and read the structs below
 * directly, so their layout is frozen for a soname: a field may only be
 * added by taking one of the reserved words, and its zero value must mean
 * "behave as before" (an old core leaves reserved words zero). Moving,
 * resizing or reinterpreting a field is an ABI break and needs a soname
 * bump. The _Static_asserts at the end pin every offset, so an accidental
 * change fails the build instead of corrupting consumers.
 *
 * Nothing here is API: use the functions of <vmmem/access.h>.
 */
#ifndef VMMEM_VIEW_H
#define VMMEM_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmmem_memory vmmem_memory_t;
/** One region of a guest memory: borrowed from its memory (never freed by
 * the caller), valid while the caller holds a reference to that memory.
 * Opaque; read it with the vmmem_region_*() functions of <vmmem/memory.h>. */
typedef struct vmmem_region vmmem_region_t;

/* One region as the lookup sees it. ABI (read by inline code): internal
 * to the library's fast paths, never to be used by callers. */
struct vmmem_fast_region {
	uint64_t start;  /* guest address of the first byte */
	uint64_t size;   /* 0 for the hole sentinel, so every check fails */
	uint8_t *host;   /* host address of the first byte */
	const vmmem_region_t *region; /* the region it stands for; NULL for the hole */
	/* Bytes from start that are backed contiguously in guest and host
	 * memory: size, plus the reach of the next region if it follows this
	 * one directly in both, so a copy across their boundary is one
	 * memcpy. 0 for the hole. */
	uint64_t reach;
};

/* Write-gate bits (vmmem_fast_view.gate), read by every inline write
 * path BEFORE it stores: 0 means a write is complete once its bytes are
 * stored; exactly VMMEM__GATE_LOG means the inline path also sets the
 * page's bit in `log` (which then covers every region of the memory, so
 * no bounds check is needed); any other bit sends the write out of line,
 * where the library decides everything: a read-only region (refused
 * before a byte moves), a log that needs an atomic OR on every write
 * because another process reads it, or a log that does not cover every
 * region. A view never changes once published, so reading the gate before
 * the store sees the same value as reading it after. */
#define VMMEM__GATE_LOG        (1u << 0) /* writes set bit gpa >> 12 in log */
#define VMMEM__GATE_LOG_ALWAYS (1u << 1) /* ... with an atomic OR every time (out of line) */
#define VMMEM__GATE_LOG_PARTIAL (1u << 2) /* ... bounded by log_pages (out of line) */
#define VMMEM__GATE_READ_ONLY  (1u << 3) /* a region refuses writes (out of line) */

/* The log's page: one bit per 4 KiB of guest address, as vhost-user's
 * dirty log and KVM's dirty bitmap count. */
#define VMMEM__LOG_PAGE_SHIFT 12

/* The lookup tables inline accesses read, at the start of every
 * vmmem_memory_t. ABI: a change to its layout is an ABI change (see
 * docs/abi.md); callers never touch it, the inline functions do. */
struct vmmem_fast_view {
	/* The run of regions that starts at guest address 0 and is
	 * contiguous in guest and host memory alike: an address below
	 * run_end is backed at host run_delta + addr. 0 when no region
	 * starts at 0, so the compare fails without a separate flag. */
	uint64_t run_end;
	uintptr_t run_delta; /* host - guest for addresses below run_end */
	/* The bucket table: bucket[(addr - base) >> shift] names the
	 * candidate region (or &hole) for every address up to base +
	 * last_off; delta[] is host - guest for a bucket wholly inside one
	 * region's reach, VMMEM__NO_DELTA (odd) otherwise. */
	uint64_t base;
	/* The last offset from base that the buckets cover. */
	uint64_t last_off;
	const struct vmmem_fast_region *const *bucket; /* candidate region per bucket */
	const uintptr_t *delta; /* host - guest per bucket, or VMMEM__NO_DELTA */
	uint32_t shift; /* log2 of the bytes per bucket */
	/* The write gate: VMMEM__GATE_* bits, 0 when a write is complete
	 * once its bytes are stored. */
	uint32_t gate;
	/* The dirty log when gate has VMMEM__GATE_LOG: bit p & 63 of word
	 * p >> 6 for guest page p = gpa >> 12 (on a little-endian host, bit
	 * p & 7 of byte p >> 3: vhost-user's format), for p < log_pages;
	 * pages past the end are not logged (only the out-of-line path can
	 * meet them: VMMEM__GATE_LOG_PARTIAL). */
	uint64_t *log;
	uint64_t log_pages; /* guest pages the log covers (bits in it) */
	/* ANDed with the log word before the test that skips the atomic OR
	 * for a bit already set: ~0 for the library's own log, 0 for a log
	 * another process reads (VMMEM__GATE_LOG_ALWAYS), which therefore
	 * gets the OR on every write. Read by the out-of-line path only; the
	 * inline one runs for the library's own log alone. */
	uint64_t log_test_mask;
	/* Room to grow without a soname bump: zero in this version. */
	uint64_t reserved[6];
	/* Where buckets over holes point (size 0: every check fails). It
	 * lives in the view, not in an exported data object, so that each
	 * memory's sentinel is its own and nothing but functions is
	 * exported. */
	struct vmmem_fast_region hole;
};

#define VMMEM__NO_DELTA ((uintptr_t)1)

#if defined(__x86_64__) || defined(__aarch64__)
#ifdef __cplusplus
#define VMMEM__STATIC_ASSERT static_assert
#else
#define VMMEM__STATIC_ASSERT _Static_assert
#endif
VMMEM__STATIC_ASSERT(sizeof(struct vmmem_fast_region) == 40, "vmmem_fast_region is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_region, reach) == 32, "vmmem_fast_region is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, run_end) == 0, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, run_delta) == 8, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, base) == 16, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, last_off) == 24, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, bucket) == 32, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, delta) == 40, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, shift) == 48, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, gate) == 52, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, log) == 56, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, log_pages) == 64, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, log_test_mask) == 72, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, reserved) == 80, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(offsetof(struct vmmem_fast_view, hole) == 128, "vmmem_fast_view is ABI");
VMMEM__STATIC_ASSERT(sizeof(struct vmmem_fast_view) == 168, "vmmem_fast_view is ABI");
#undef VMMEM__STATIC_ASSERT
#endif

/* A guest memory starts with its view (core/memory.c). */
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
		return &v->hole;
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
 * it is inside the same reach, backed at that one delta. The run from
 * guest 0 is the same argument with the run as the only bucket.
 *
 * Both paths only choose the delta; the add and the caller's access are
 * shared, so the run's path is laid out straight through to the access
 * (two taken branches fewer than returning from inside the branch). */
static inline bool
vmmem__small_host(const vmmem_memory_t *mem, uint64_t addr, uint8_t **host)
{
	const struct vmmem_fast_view *v = vmmem__view(mem);
	uintptr_t delta;

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

/* Logs the guest page of a write of at most 8 bytes that does not cross
 * a page, after its bytes are stored, when the gate is exactly
 * VMMEM__GATE_LOG: the log is the library's own and covers every region
 * (core/memory.c checks both before it opens this gate), so the page is
 * inside it and a bit already set needs no atomic OR.
 *
 * Why the test before the OR is safe: a fetch-and-clear (core/dirty.c)
 * exchanges the words and then runs membarrier(), which makes every
 * thread of the process drain its store buffer before the fetch returns.
 * A writer that saw its bit still set therefore has its data visible to
 * whoever acts on the fetched bit. A log read by another process
 * (vhost-user) cannot be fenced that way; it has VMMEM__GATE_LOG_ALWAYS,
 * and its writes go out of line and OR with release order every time. */
static inline void
vmmem__log_page(const struct vmmem_fast_view *v, uint64_t addr)
{
	uint64_t page = addr >> VMMEM__LOG_PAGE_SHIFT;
	uint64_t *word = v->log + (page >> 6);

	/* Shift the word, not a mask: the test is then one `bt`, and the
	 * mask is built only on the (cold) path that sets the bit. */
	if (__builtin_expect(!((__atomic_load_n(word, __ATOMIC_RELAXED) >> (page & 63)) & 1), 0))
		__atomic_fetch_or(word, (uint64_t)1 << (page & 63), __ATOMIC_RELEASE);
}

/* The gate of an inline write: true when the write may go ahead inline
 * (and *gate says whether to log it). */
static inline bool
vmmem__write_inline(const vmmem_memory_t *mem, uint32_t *gate)
{
	*gate = vmmem__view(mem)->gate;
	return __builtin_expect(*gate <= VMMEM__GATE_LOG, 1);
}

static inline void
vmmem__log_small(const vmmem_memory_t *mem, uint32_t gate, uint64_t addr)
{
	if (__builtin_expect(gate != 0, 0))
		vmmem__log_page(vmmem__view(mem), addr);
}

/** Out of line: the full lookup, for what the bucket could not decide. */
VMMEM_API const vmmem_region_t *vmmem_memory_find_region_slow(const vmmem_memory_t *mem,
								uint64_t addr);

/** Out of line: logs the pages of [addr, addr + len) after an inline
 * write that the gate says must be logged. */
VMMEM_API void vmmem_memory_log_write_slow(const vmmem_memory_t *mem, uint64_t addr, size_t len);

static inline void
vmmem__log_range(const vmmem_memory_t *mem, uint32_t gate, uint64_t addr, size_t len)
{
	if (__builtin_expect(gate != 0, 0))
		vmmem_memory_log_write_slow(mem, addr, len);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_VIEW_H */
