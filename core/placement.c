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
place_run(struct vmmem_region *run, size_t k)
{
	uint64_t span = run[k - 1].last - run[0].start + 1, align = 0;
	uint8_t *res, *base;
	size_t res_len;
	uintptr_t skip;

	for (size_t i = 0; i < k; i++)
		if (run[i].mapping.page_size > align)
			align = run[i].mapping.page_size;
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
	skip = ((uintptr_t)run[0].start - (uintptr_t)res) & (uintptr_t)(align - 1);
	base = res + skip;
	if (skip)
		munmap(res, skip);
	if (res_len - skip - span)
		munmap(base + span, res_len - skip - span);

	for (size_t i = 0; i < k; i++) {
		struct vmmem_region *r = &run[i];
		uint8_t *place = base + (r->start - run[0].start);
		void *got = mremap(r->host, r->size, r->size, MREMAP_MAYMOVE | MREMAP_FIXED, place);

		if (got == (void *)place) {
			r->host = place;
			r->mapping.host = place;
		} else {
			munmap(place, r->size);
		}
	}
}

void
vmmem__place_adjacent(struct vmmem_region *regions, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && joinable(&regions[j], &regions[j + 1]))
			j++;
		if (j > i)
			place_run(&regions[i], j - i + 1);
		i = j + 1;
	}
}

void
vmmem__compute_reach(struct vmmem_fast_region *fast, const struct vmmem_region *regions, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		fast[i].reach = regions[i].size;
		if (i + 1 < n && regions[i].last != UINT64_MAX &&
		    regions[i].last + 1 == regions[i + 1].start &&
		    regions[i].host + regions[i].size == regions[i + 1].host &&
		    fast[i + 1].reach <= UINT64_MAX - regions[i].size)
			fast[i].reach += fast[i + 1].reach;
	}
}
