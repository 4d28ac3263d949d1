/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Placement: guest-adjacent regions side by side in host memory.
 *
 * Why: a copy that crosses from one region into the next is otherwise two
 * memcpy calls, and two 2 KiB copies cost glibc about 1.6 times one 4 KiB
 * copy on the reference machine (below its rep-movsb threshold of 2112
 * bytes each half takes the vector loop). When the regions of a run of
 * guest-adjacent regions also sit back to back in host memory, the inline
 * slice paths copy across their boundaries in one memcpy (see `reach` in
 * <vmmem/memory.h>), and a copy that straddles costs what one inside a
 * region does.
 *
 * How: providers map wherever mmap() puts them; a provider that marks a
 * mapping VMMEM_REGION_MOVABLE (its destroy() unmaps mapping->host, and it
 * handed the address to nobody else) lets the core move it. The core
 * reserves one PROT_NONE range per run, then moves each mapping onto its
 * place with mremap(MREMAP_FIXED), which replaces that part of the
 * reservation atomically: no moment exists in which another thread's mmap
 * could land in a gap and then be unmapped by us. A mapping that cannot be
 * moved (mremap refuses some mappings; old kernels refuse hugetlb) stays
 * where it is and its part of the reservation is given back. Placement is
 * an optimisation only: reach is computed from where the mappings really
 * are, so a run that could not be placed is merely split. */
#include "config.h"

#include <sys/mman.h>

#include "internal.h"

/* Regions i and i + 1 (sorted) touch in guest memory and may both move. */
static bool
joinable(const struct vmmem_region *a, const struct vmmem_region *b)
{
	return a->movable && b->movable && a->last != UINT64_MAX && a->last + 1 == b->start;
}

static void
place_run(struct vmmem_region *const *run, size_t k)
{
	uint64_t span = run[k - 1]->last - run[0]->start + 1, align = 0;
	uint8_t *res, *base;
	size_t res_len;
	uintptr_t skip;

	for (size_t i = 0; i < k; i++)
		if (run[i]->mapping.page_size > align)
			align = run[i]->mapping.page_size;
	/* Host addresses are 48 or 57 bits: a run larger than a quarter of
	 * the address space (span 0 is a run over all 2^64 bytes, wrapped)
	 * is not worth a reservation that would fail anyway, and a place
	 * outside the reservation must never be computed. */
	if (span == 0 || span > (SIZE_MAX >> 2) || align > (SIZE_MAX >> 2))
		return;
	res_len = (size_t)span + (size_t)align;
	res = mmap(NULL, res_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return;
	/* base = guest start (mod align): every region's place is then a
	 * multiple of its page size, as its guest start is (region_create
	 * checks that), which mremap of huge pages requires. */
	skip = ((uintptr_t)run[0]->start - (uintptr_t)res) & (uintptr_t)(align - 1);
	base = res + skip;
	if (skip)
		munmap(res, skip);
	if (res_len - skip - span)
		munmap(base + span, res_len - skip - span);

	for (size_t i = 0; i < k; i++) {
		struct vmmem_region *r = run[i];
		uint8_t *place = base + (r->start - run[0]->start);
		void *got = mremap(r->host, r->size, r->size, MREMAP_MAYMOVE | MREMAP_FIXED, place);

		if (got == (void *)place) {
			r->host = place;
			r->mapping.host = place;
			vmmem__sigbus_moved(r);
		} else {
			munmap(place, r->size);
		}
	}
}

void
vmmem__place_adjacent(struct vmmem_region *const *regions, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && joinable(regions[j], regions[j + 1]))
			j++;
		if (j > i)
			place_run(&regions[i], j - i + 1);
		i = j + 1;
	}
}

void
vmmem__compute_reach(struct vmmem_fast_region *fast, struct vmmem_region *const *regions, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		const struct vmmem_region *r = regions[i];

		fast[i].reach = r->size;
		if (i + 1 < n && r->last != UINT64_MAX && r->last + 1 == regions[i + 1]->start &&
		    r->host + r->size == regions[i + 1]->host &&
		    fast[i + 1].reach <= UINT64_MAX - r->size)
			fast[i].reach += fast[i + 1].reach;
	}
}

/* ---- A space's reservation ----
 *
 * Why one reservation of the guest span, host = base + guest: a hot-added
 * region must never move a region readers already see, yet should still
 * sit next to its guest neighbours in host memory, so that copies across
 * the boundary stay one memcpy and the run from guest 0 keeps growing
 * (DIMMs hot-added after RAM). mmap() itself puts new mappings below the
 * old ones, so the host range after a region is usually taken; a
 * PROT_NONE, MAP_NORESERVE reservation of the span keeps it free at the
 * cost of address space only (no memory, one VMA). A region is moved onto
 * its place with mremap(MREMAP_FIXED), which replaces that part of the
 * reservation atomically; when it is destroyed its range is reserved
 * again with MAP_FIXED_NOREPLACE, which never takes a range another
 * thread mapped in between (such a range is then lost to the reservation
 * and recorded, so it is never placed into or unmapped). Placement stays
 * an optimisation: a region that does not fit, or cannot move, stays
 * where its provider mapped it. bench/README.md has the measurements. */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct vmmem__reservation {
	gint refcount;
	uint8_t *base;
	uint64_t span;
	GMutex lock;
	GArray *lost;   /* struct range: ranges we no longer hold */
	GArray *placed; /* struct range: ranges a live region was placed in */
};

struct range {
	uint64_t start, size;
};

/* Huge pages need their place aligned to their size: base is aligned to
 * 1 GiB, the largest page. */
#define RES_ALIGN (UINT64_C(1) << 30)

struct vmmem__reservation *
vmmem__reservation_new(uint64_t span)
{
	struct vmmem__reservation *res;
	uint8_t *p, *base;
	size_t len;
	uintptr_t skip;

	if (span == 0 || span > (SIZE_MAX >> 2))
		return NULL;
	len = (size_t)span + RES_ALIGN;
	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	skip = (RES_ALIGN - ((uintptr_t)p & (RES_ALIGN - 1))) & (RES_ALIGN - 1);
	base = p + skip;
	if (skip)
		munmap(p, skip);
	if (len - skip - span)
		munmap(base + span, len - skip - span);
	res = g_new0(struct vmmem__reservation, 1);
	res->refcount = 1;
	res->base = base;
	res->span = span;
	g_mutex_init(&res->lock);
	res->lost = g_array_new(FALSE, FALSE, sizeof(struct range));
	res->placed = g_array_new(FALSE, FALSE, sizeof(struct range));
	return res;
}

struct vmmem__reservation *
vmmem__reservation_ref(struct vmmem__reservation *res)
{
	g_atomic_int_inc(&res->refcount);
	return res;
}

static bool
overlaps(const GArray *ranges, uint64_t start, uint64_t size)
{
	for (guint i = 0; i < ranges->len; i++) {
		const struct range *l = &g_array_index(ranges, struct range, i);
		if (start < l->start + l->size && l->start < start + size)
			return true;
	}
	return false;
}

static int
compare_lost(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

void
vmmem__reservation_unref(struct vmmem__reservation *res)
{
	uint64_t at = 0;

	if (!res || !g_atomic_int_dec_and_test(&res->refcount))
		return;
	/* No region is placed any more: unmap what we still hold, skipping
	 * the ranges that are someone else's now. */
	g_array_sort(res->lost, compare_lost);
	for (guint i = 0; i <= res->lost->len; i++) {
		const struct range *l =
			i < res->lost->len ? &g_array_index(res->lost, struct range, i) : NULL;
		uint64_t end = l ? l->start : res->span;

		if (end > at)
			munmap(res->base + at, (size_t)(end - at));
		if (l)
			at = l->start + l->size;
	}
	g_array_free(res->lost, TRUE);
	g_array_free(res->placed, TRUE);
	g_mutex_clear(&res->lock);
	g_free(res);
}

uint64_t
vmmem__reservation_span(const struct vmmem__reservation *res)
{
	return res ? res->span : 0;
}

bool
vmmem__reservation_place(struct vmmem__reservation *res, struct vmmem_region *r)
{
	uint8_t *place, *got;
	bool ok;

	if (!res || !r->movable || r->start >= res->span || r->size > res->span - r->start ||
	    (r->start & (r->mapping.page_size - 1)))
		return false;
	place = res->base + r->start;
	g_mutex_lock(&res->lock);
	/* A region removed from the table may still be mapped at its place
	 * for the readers of an older snapshot: mremap(MREMAP_FIXED) would
	 * replace their mapping, and that region's destroy would later unmap
	 * the new one. Such a region stays where its provider mapped it. */
	ok = !overlaps(res->lost, r->start, r->size) && !overlaps(res->placed, r->start, r->size);
	if (ok) {
		got = mremap(r->host, r->size, r->size, MREMAP_MAYMOVE | MREMAP_FIXED, place);
		ok = got == place;
	}
	if (ok) {
		struct range p = { r->start, r->size };

		g_array_append_val(res->placed, p);
	}
	g_mutex_unlock(&res->lock);
	if (!ok)
		return false;
	r->host = place;
	r->mapping.host = place;
	vmmem__sigbus_moved(r);
	r->res = vmmem__reservation_ref(res);
	return true;
}

void
vmmem__reservation_release(struct vmmem__reservation *res, uint64_t start, uint64_t size)
{
	void *want = res->base + start;
	void *got;

	g_mutex_lock(&res->lock);
	for (guint i = 0; i < res->placed->len; i++) {
		const struct range *p = &g_array_index(res->placed, struct range, i);

		if (p->start == start && p->size == size) {
			g_array_remove_index_fast(res->placed, i);
			break;
		}
	}
	got = mmap(want, (size_t)size, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (got != want) {
		/* Another thread mapped into the gap between the provider's
		 * munmap and ours (or an old kernel ignored NOREPLACE and
		 * put it elsewhere): the range is not ours any more. */
		struct range l = { start, size };

		if (got != MAP_FAILED)
			munmap(got, (size_t)size);
		g_array_append_val(res->lost, l);
	}
	g_mutex_unlock(&res->lock);
}
