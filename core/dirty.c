/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Dirty tracking: the flat log every write path marks, and the calls that
 * read it back.
 *
 * Why one flat log indexed by guest page, not a bitmap per region: it is
 * exactly the format of vhost-user's dirty log and of KVM's dirty bitmap
 * (bit gpa >> 12), so the library's own tracking and a log shared with
 * another process are one mechanism, and the inline write paths find the
 * bit with a shift instead of a region lookup. Tracking is still chosen
 * per region: the log covers guest pages up to the end of the highest
 * tracked region, and fetches report only tracked regions' pages (a write
 * into an untracked region below that end sets a bit nobody reads).
 *
 * Marking happens after the bytes are stored (see vmmem__log_page in
 * <vmmem/view.h> for why the order matters to migration). */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

#define PAGE_SHIFT VMMEM__LOG_PAGE_SHIFT
#define PAGE (UINT64_C(1) << PAGE_SHIFT)

/* Tracking covers guest addresses below 2^46 (64 TiB): the internal log
 * is then at most 2 GiB of address space, reserved without memory (only
 * the pages of it that writes touch are ever allocated). */
#define MAX_TRACKED_END VMMEM__LOG_MAX_END

struct vmmem__log *
vmmem__log_new_internal(uint64_t end, GError **error)
{
	struct vmmem__log *log;
	uint64_t pages;
	size_t len;
	void *p;

	if (end > MAX_TRACKED_END) {
		vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
			     "dirty tracking covers guest addresses below 0x%" PRIx64
			     "; a tracked region ends at 0x%" PRIx64,
			     MAX_TRACKED_END, end);
		return NULL;
	}
	pages = (end + PAGE - 1) >> PAGE_SHIFT;
	pages = (pages + 63) & ~UINT64_C(63);
	len = (size_t)(pages / 8);
	if (!(log = vmmem__malloc0(sizeof(*log)))) {
		vmmem__nomem(error, "a dirty log");
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		vmmem__error_errno(error, VMMEM_ERROR_IO, e,
				   "cannot map a dirty log of 0x%zx bytes for guest addresses below "
				   "0x%" PRIx64 ": %s",
				   len, end, g_strerror(e));
		g_free(log);
		return NULL;
	}
	log->refcount = 1;
	log->bits = p;
	log->pages = pages;
	log->map_len = len;
	/* Test-then-set is safe only when a fetch can fence every writer. */
	log->always = !vmmem__membarrier_ready();
	return log;
}

struct vmmem__log *
vmmem__log_ref(struct vmmem__log *log)
{
	g_atomic_int_inc(&log->refcount);
	return log;
}

void
vmmem__log_unref(struct vmmem__log *log)
{
	if (!log || !g_atomic_int_dec_and_test(&log->refcount))
		return;
	if (log->map_len)
		munmap(log->bits, log->map_len);
	if (log->destroy)
		log->destroy(log->user_data);
	g_free(log);
}

struct vmmem__logcell *
vmmem__logcell_new(struct vmmem__log *log, GError **error)
{
	struct vmmem__logcell *cell = vmmem__malloc0(sizeof(*cell));

	if (!cell) {
		vmmem__nomem(error, "a dirty log cell");
		return NULL;
	}
	cell->refcount = 1;
	cell->log = log ? vmmem__log_ref(log) : NULL;
	return cell;
}

struct vmmem__logcell *
vmmem__logcell_ref(struct vmmem__logcell *cell)
{
	g_atomic_int_inc(&cell->refcount);
	return cell;
}

void
vmmem__logcell_unref(struct vmmem__logcell *cell)
{
	if (!cell || !g_atomic_int_dec_and_test(&cell->refcount))
		return;
	if (cell->log)
		vmmem__log_unref(cell->log);
	g_free(cell);
}

/* Calls fn on each log word that [addr, addr + len) touches, with the
 * mask of its pages in that word; pages past the log are left out. */
static void
for_each_word(const struct vmmem__log *log, uint64_t addr, uint64_t len,
	      void (*fn)(const struct vmmem__log *log, uint64_t *word, uint64_t mask))
{
	uint64_t first = addr >> PAGE_SHIFT, last = (addr + (len - 1)) >> PAGE_SHIFT;

	if (first >= log->pages)
		return;
	if (last >= log->pages)
		last = log->pages - 1;
	while (first <= last) {
		uint64_t w = first >> 6;
		unsigned lo = (unsigned)(first & 63);
		unsigned hi = (last >> 6) == w ? (unsigned)(last & 63) : 63;

		fn(log, log->bits + w, (UINT64_MAX >> (63 - hi)) & (UINT64_MAX << lo));
		first = (w + 1) << 6;
	}
}

/* Whole words are ORed whatever they hold, unless every bit is already
 * set: a long write is rare, and the test is safe only for a log whose
 * fetch fences the writers (not `always`). */
static void
mark_word(const struct vmmem__log *log, uint64_t *p, uint64_t mask)
{
	if (log->always || (__atomic_load_n(p, __ATOMIC_RELAXED) & mask) != mask)
		__atomic_fetch_or(p, mask, __ATOMIC_RELEASE);
}

static void
clear_word(const struct vmmem__log *log, uint64_t *p, uint64_t mask)
{
	(void)log;
	__atomic_fetch_and(p, ~mask, __ATOMIC_RELAXED);
}

/* Sets the bits of the pages of [addr, addr + len), one atomic OR per
 * word. */
void
vmmem__log_mark(const struct vmmem__log *log, uint64_t addr, uint64_t len)
{
	for_each_word(log, addr, len, mark_word);
}

void
vmmem__log_clear(const struct vmmem__log *log, uint64_t addr, uint64_t len)
{
	if (log && len)
		for_each_word(log, addr, len, clear_word);
}

void
vmmem__region_log(const struct vmmem_region *r, uint64_t off, uint64_t len)
{
	struct vmmem__log *log;

	if (!r->cell || len == 0)
		return;
	/* The cell's log may be replaced by a writer; the section keeps the
	 * one we load alive until we are done with it. */
	vmmem__read_lock();
	log = __atomic_load_n(&r->cell->log, __ATOMIC_ACQUIRE);
	if (log)
		vmmem__log_mark(log, r->start + off, len);
	vmmem__read_unlock();
}

void
vmmem_memory_log_write_slow(const vmmem_memory_t *mem, uint64_t addr, size_t len)
{
	if (len && len - 1 <= UINT64_MAX - addr)
		vmmem__memory_log(mem, addr, len);
}

void
vmmem_memory_mark_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len)
{
	vmmem_memory_log_write_slow(mem, addr.raw, len);
}

/* Fetch-and-clear of the pages [first, first + n) into out (bit i for
 * page first + i, zeroed by the caller, starting at bit out_bit): one
 * atomic exchange (or AND, at the ends of the range) per log word, and
 * none for a word that reads 0. */
static void
take_pages(const struct vmmem__log *log, uint64_t first, uint64_t n, uint64_t *out,
	   uint64_t out_bit)
{
	uint64_t p = first, end = first + n;

	if (end > log->pages)
		end = log->pages;
	while (p < end) {
		uint64_t w = p >> 6;
		unsigned lo = (unsigned)(p & 63);
		unsigned hi = ((end - 1) >> 6) == w ? (unsigned)((end - 1) & 63) : 63;
		uint64_t mask = (UINT64_MAX >> (63 - hi)) & (UINT64_MAX << lo);
		uint64_t *word = log->bits + w;
		uint64_t v = __atomic_load_n(word, __ATOMIC_RELAXED) & mask;

		if (v)
			v = (mask == UINT64_MAX ? __atomic_exchange_n(word, 0, __ATOMIC_ACQ_REL)
						: __atomic_fetch_and(word, ~mask, __ATOMIC_ACQ_REL)) &
			    mask;
		for (; v; v &= v - 1) {
			uint64_t i = out_bit + ((w << 6) + (uint64_t)__builtin_ctzll(v) - first);
			out[i / 64] |= UINT64_C(1) << (i % 64);
		}
		p = (w + 1) << 6;
	}
}

static bool
internal_log(const vmmem_memory_t *mem, GError **error)
{
	if (!mem->log || mem->log->map_len == 0) {
		vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
			     mem->log ? "the dirty log of this memory is an external one: its "
					"owner reads it"
				  : "no region of this memory has dirty tracking on");
		return false;
	}
	return true;
}

/* After the bits are taken: every writer that found its bit still set has
 * its data visible before the caller acts on the bit (see view.h). */
static void
fence_writers(const struct vmmem__log *log)
{
	if (!log->always)
		vmmem__fence_all_threads();
}

bool
vmmem_memory_fetch_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, uint64_t len,
			 uint64_t *bitmap, size_t n_words, GError **error)
{
	uint64_t pages;

	if (!internal_log(mem, error))
		return false;
	if ((addr.raw | len) & (PAGE - 1) || (len > 0 && len - 1 > UINT64_MAX - addr.raw)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "dirty range [0x%" PRIx64 ", +0x%" PRIx64 ") is not whole 4 KiB pages "
			     "inside 2^64",
			     addr.raw, len);
		return false;
	}
	pages = len >> PAGE_SHIFT;
	/* Nothing to fetch, and addr + (len - 1) below would wrap: a fetch
	 * of every tracked page into a bitmap of no words. */
	if (pages == 0)
		return true;
	if (n_words < (pages + 63) / 64) {
		vmmem__error(error, VMMEM_ERROR_NO_SPACE,
			     "0x%" PRIx64 " pages at guest address 0x%" PRIx64 " need %" PRIu64
			     " bitmap words, only %zu given",
			     pages, addr.raw, (pages + 63) / 64, n_words);
		return false;
	}
	memset(bitmap, 0, (size_t)((pages + 63) / 64) * sizeof(uint64_t));
	/* Only tracked regions' pages: bits that writes into untracked
	 * regions set stay where they are, unread. */
	for (size_t i = 0; i < mem->n; i++) {
		const struct vmmem_region *r = mem->regions[i];
		uint64_t lo, hi;

		if (!r->dirty_tracking || r->last < addr.raw || r->start > addr.raw + (len - 1))
			continue;
		lo = r->start > addr.raw ? r->start : addr.raw;
		hi = r->last < addr.raw + (len - 1) ? r->last : addr.raw + (len - 1);
		take_pages(mem->log, lo >> PAGE_SHIFT, ((hi - lo) >> PAGE_SHIFT) + 1, bitmap,
			   (lo - addr.raw) >> PAGE_SHIFT);
	}
	fence_writers(mem->log);
	return true;
}

static bool
tracked(const vmmem_region_t *r, GError **error)
{
	if (r->dirty_tracking)
		return true;
	vmmem__error(error, VMMEM_ERROR_UNSUPPORTED, "region '%s' has no dirty tracking", r->name);
	return false;
}

bool
vmmem_region_fetch_dirty(const vmmem_memory_t *mem, const vmmem_region_t *r, uint64_t *bitmap,
			 size_t n_words, GError **error)
{
	uint64_t page = r->mapping.page_size, n = r->size / page;
	uint64_t per = page >> PAGE_SHIFT;
	uint64_t *small = NULL;

	if (!internal_log(mem, error) || !tracked(r, error))
		return false;
	if (n_words < (n + 63) / 64) {
		vmmem__error(error, VMMEM_ERROR_NO_SPACE,
			     "region '%s' has 0x%" PRIx64 " pages: it needs %" PRIu64
			     " bitmap words, only %zu given",
			     r->name, n, (n + 63) / 64, n_words);
		return false;
	}
	/* Before anything is taken: a failure must not lose dirty bits. */
	if (per != 1 && !(small = vmmem__calloc((size_t)((per + 63) / 64), sizeof(*small))))
		return vmmem__nomem(error, "a huge page's dirty bits");
	memset(bitmap, 0, (size_t)((n + 63) / 64) * sizeof(uint64_t));
	if (per == 1) {
		take_pages(mem->log, r->start >> PAGE_SHIFT, n, bitmap, 0);
	} else {
		/* A huge page is dirty when any of its 4 KiB pages is. */
		for (uint64_t i = 0; i < n; i++) {
			bool any = false;

			memset(small, 0, (size_t)((per + 63) / 64) * sizeof(uint64_t));
			take_pages(mem->log, (r->start >> PAGE_SHIFT) + i * per, per, small, 0);
			for (uint64_t w = 0; w < (per + 63) / 64 && !any; w++)
				any = small[w] != 0;
			if (any)
				bitmap[i / 64] |= UINT64_C(1) << (i % 64);
		}
		g_free(small);
	}
	fence_writers(mem->log);
	return true;
}

bool
vmmem_memory_page_is_dirty(const vmmem_memory_t *mem, vmmem_guest_addr_t addr)
{
	const vmmem_region_t *r = vmmem_memory_find_region(mem, addr);
	uint64_t first, per;

	if (!r || !r->dirty_tracking || !mem->log || mem->log->map_len == 0)
		return false;
	per = r->mapping.page_size >> PAGE_SHIFT;
	first = (r->start + ((addr.raw - r->start) & ~(r->mapping.page_size - 1))) >> PAGE_SHIFT;
	for (uint64_t p = first; p < first + per && p < mem->log->pages; p++)
		if (__atomic_load_n(mem->log->bits + (p >> 6), __ATOMIC_ACQUIRE) &
		    (UINT64_C(1) << (p & 63)))
			return true;
	return false;
}

bool
vmmem_region_dirty_tracking(const vmmem_region_t *r)
{
	return r->dirty_tracking;
}
