/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The region table: building a guest memory from specs, the constant-time
 * bucket lookup the inline accessors use, and the binary-search fallback.
 *
 * Lookup design (see ../shared/notes/memory.md): vm-memory's binary search
 * costs 2.5 ns at 1 region and 19 ns at 512, growing with the count. We
 * index a table by (addr - base) >> shift instead, with the shift chosen
 * from the alignment of every region boundary so that, for usual layouts,
 * each bucket lies wholly inside one region or one hole: the bucket then
 * answers exactly and the cost does not depend on the region count.
 * Layouts too sparse for such a table (at most max_buckets() entries) get
 * a coarser one; the bucket then names a candidate and a miss falls back
 * to binary search. Correctness never depends on the bucket: the inline
 * path re-checks the candidate's bounds. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

ptrdiff_t
vmmem__memory_index(const vmmem_memory_t *mem, uint64_t addr)
{
	const struct vmmem_fast_region *c = vmmem__candidate(mem, addr);
	size_t lo = 0, hi = mem->n;

	/* The bucket answers for every exact table; the binary search is
	 * for coarse ones (sparse layouts) and for holes. */
	if (addr - c->start < c->size)
		return c - mem->fast;

	/* First region whose start is above addr; the one before may hold it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->regions[mid]->start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr > mem->regions[lo - 1]->last)
		return -1;
	return (ptrdiff_t)(lo - 1);
}

const struct vmmem_fast_region *
vmmem__memory_user_find(const vmmem_memory_t *mem, uint64_t ua)
{
	const struct vmmem__table *t = &mem->user_table;
	const struct vmmem_fast_region *c;
	uint64_t off = ua - t->base;
	size_t lo = 0, hi = mem->n;

	if (!mem->has_user_table || off > t->last_off)
		return NULL;
	c = t->bucket[off >> t->shift];
	if (ua - c->start < c->size)
		return c;
	/* A coarse table (a sparse frontend address space): search. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->user_fast[mid].start <= ua)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	c = &mem->user_fast[lo - 1];
	return ua - c->start < c->size ? c : NULL;
}

const vmmem_region_t *
vmmem_memory_find_region_slow(const vmmem_memory_t *mem, uint64_t addr)
{
	ptrdiff_t i = vmmem__memory_index(mem, addr);

	return i < 0 ? NULL : mem->regions[i];
}

static unsigned
max_bucket_shift_bits(size_t n)
{
	/* Up to 8 buckets per region, at least 4096 and at most 2^20 (8 MiB
	 * of pointers): enough for exact tables on every layout seen in
	 * practice (vhost-user's 509 slots, 4096 equal regions). */
	size_t want = n * 8 < 4096 ? 4096 : n * 8;
	unsigned bits = 0;

	while (bits < 20 && ((size_t)1 << bits) < want)
		bits++;
	return bits;
}

static void free_table(struct vmmem__table *t);

static unsigned
ctz_or_64(uint64_t v)
{
	return v ? (unsigned)__builtin_ctzll(v) : 64;
}

/* A bucket table over `n` entries sorted by start, known not to overlap
 * (n may be 0): the guest table of every memory, and the frontend-address
 * table of a vhost-user memory. Buckets over holes point at `hole`.
 * With want_delta, delta[] is filled for the inline small-access path
 * (see vmmem__small_host); it needs each entry's reach. */
static bool
build_table(const struct vmmem_fast_region *fast, size_t n, const struct vmmem_fast_region *hole,
	    bool want_delta, struct vmmem__table *t, GError **error)
{
	uint64_t base, last_off;
	unsigned g = 63, cap_bits = max_bucket_shift_bits(n), shift;
	size_t nb, r = 0;

	memset(t, 0, sizeof(*t));
	if (n == 0) {
		/* An empty snapshot (a space before its first region): one
		 * bucket over the hole, no delta, so every access misses. */
		t->bucket = vmmem__malloc_n(1, sizeof(*t->bucket));
		if (want_delta)
			t->delta = vmmem__malloc_n(1, sizeof(*t->delta));
		if (!t->bucket || (want_delta && !t->delta)) {
			free_table(t);
			memset(t, 0, sizeof(*t));
			return vmmem__nomem(error, "an empty lookup table");
		}
		t->bucket[0] = hole;
		if (want_delta)
			t->delta[0] = VMMEM__NO_DELTA;
		t->n_buckets = 1;
		return true;
	}
	base = fast[0].start;
	last_off = fast[n - 1].start + (fast[n - 1].size - 1) - base;
	/* The coarsest granule at which every region boundary falls on a
	 * bucket boundary. An end at 2^64 wraps to 0 and is no constraint. */
	for (size_t i = 0; i < n; i++) {
		unsigned a = ctz_or_64(fast[i].start - base);
		unsigned b = ctz_or_64(fast[i].start + fast[i].size - base);
		if (a < g)
			g = a;
		if (b < g)
			g = b;
	}
	shift = g;
	while (shift < 63 && (last_off >> shift) >= ((uint64_t)1 << cap_bits))
		shift++;
	nb = (size_t)(last_off >> shift) + 1;

	t->bucket = vmmem__malloc_n(nb, sizeof(*t->bucket));
	if (want_delta)
		t->delta = vmmem__malloc_n(nb, sizeof(*t->delta));
	if (!t->bucket || (want_delta && !t->delta)) {
		free_table(t);
		memset(t, 0, sizeof(*t));
		vmmem__error_errno(error, VMMEM_ERROR_NOMEM, ENOMEM,
				   "out of memory allocating a lookup table of %zu entries", nb);
		return false;
	}
	t->n_buckets = nb;
	for (size_t b = 0; b < nb; b++) {
		uint64_t lo = base + ((uint64_t)b << shift);
		uint64_t hi = lo + (((uint64_t)1 << shift) - 1); /* last byte */

		if (hi < lo) /* the top bucket may end at 2^64 */
			hi = UINT64_MAX;
		while (r < n && fast[r].start + (fast[r].size - 1) < lo)
			r++;
		/* The region covering lo, else the first starting inside the
		 * bucket, else the hole sentinel. */
		if (r < n && fast[r].start <= hi)
			t->bucket[b] = &fast[r];
		else
			t->bucket[b] = hole;
		if (!want_delta)
			continue;
		/* Only a bucket wholly inside the reach of the region that
		 * covers lo (that region and the ones after it that are
		 * contiguous in guest and host memory, all at one delta) may
		 * skip the bounds check (see vmmem__small_host). */
		if (r < n && fast[r].start <= lo && hi - fast[r].start < fast[r].reach)
			t->delta[b] = (uintptr_t)fast[r].host - (uintptr_t)fast[r].start;
		else
			t->delta[b] = VMMEM__NO_DELTA;
	}
	t->base = base;
	t->last_off = last_off;
	t->shift = shift;
	return true;
}

static void
free_table(struct vmmem__table *t)
{
	g_free(t->bucket);
	g_free(t->delta);
}

static bool
build_buckets(vmmem_memory_t *mem, GError **error)
{
	mem->view.hole.start = 0;
	mem->view.hole.size = 0;
	mem->view.hole.reach = 0;
	if (!build_table(mem->fast, mem->n, &mem->view.hole, true, &mem->table, error))
		return false;
	mem->view.base = mem->table.base;
	mem->view.last_off = mem->table.last_off;
	mem->view.shift = mem->table.shift;
	mem->view.bucket = mem->table.bucket;
	mem->view.delta = mem->table.delta;
	/* The run from guest 0 (see run_end in <vmmem/view.h>): its reach is
	 * computed from where the mappings really are. */
	if (mem->n && mem->regions[0]->start == 0) {
		mem->view.run_end = mem->fast[0].reach;
		mem->view.run_delta = (uintptr_t)mem->regions[0]->host;
	}
	return true;
}

static int
compare_user_addr(const void *a, const void *b)
{
	const struct vmmem_fast_region *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The frontend-address table of a memory whose regions carry a user
 * address (vhost-user's userspace_addr): the same bucket lookup as the
 * guest table, keyed by user address, so translating a vring address
 * costs what a guest lookup does whatever the slot count. Built only
 * when every region has one; the callers (core/vhost-user.c) checked
 * that user ranges do not overlap. */
static bool
build_user_table(vmmem_memory_t *mem, GError **error)
{
	size_t n = mem->n;

	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!mem->regions[i]->has_user_addr)
			return true;
	mem->user_fast = vmmem__calloc(n, sizeof(*mem->user_fast));
	if (!mem->user_fast)
		return vmmem__nomem(error, "the frontend-address table");
	for (size_t i = 0; i < n; i++) {
		mem->user_fast[i].start = mem->regions[i]->user_addr;
		mem->user_fast[i].size = mem->regions[i]->size;
		mem->user_fast[i].host = mem->regions[i]->host;
		mem->user_fast[i].region = mem->regions[i];
		mem->user_fast[i].reach = mem->regions[i]->size;
	}
	/* Frontends usually map their RAM in guest order: skip the sort then. */
	for (size_t i = 1; i < n; i++) {
		if (mem->user_fast[i - 1].start > mem->user_fast[i].start) {
			qsort(mem->user_fast, n, sizeof(*mem->user_fast), compare_user_addr);
			break;
		}
	}
	if (!build_table(mem->user_fast, n, &mem->user_hole, false, &mem->user_table, error))
		return false;
	mem->has_user_table = true;
	return true;
}

static void
memory_free(vmmem_memory_t *mem)
{
	for (size_t i = 0; i < mem->n; i++)
		vmmem__region_unref(mem->regions[i]);
	g_free(mem->regions);
	g_free(mem->fast);
	free_table(&mem->table);
	free_table(&mem->user_table);
	g_free(mem->user_fast);
	if (mem->log)
		vmmem__log_unref(mem->log);
	vmmem__logcell_unref(mem->cell);
	g_free(mem);
}

vmmem_memory_t *
vmmem__memory_build(struct vmmem_region *const *sorted, size_t n, struct vmmem__log *log,
		    struct vmmem__logcell *cell, GError **error)
{
	vmmem_memory_t *mem = vmmem__malloc0(sizeof(*mem));

	if (!mem) {
		vmmem__nomem(error, "a guest memory");
		return NULL;
	}
	mem->refcount = 1;
	mem->cell = vmmem__logcell_ref(cell);
	mem->regions = vmmem__malloc_n(n, sizeof(*mem->regions));
	mem->fast = vmmem__calloc(n, sizeof(*mem->fast));
	if (!mem->regions || !mem->fast) {
		vmmem__nomem(error, "the region table of a guest memory");
		memory_free(mem);
		return NULL;
	}
	mem->n = n;
	for (size_t i = 0; i < n; i++) {
		mem->regions[i] = vmmem__region_ref(sorted[i]);
		mem->fast[i].start = sorted[i]->start;
		mem->fast[i].size = sorted[i]->size;
		mem->fast[i].host = sorted[i]->host;
		mem->fast[i].region = sorted[i];
	}
	vmmem__compute_reach(mem->fast, mem->regions, n);
	if (log) {
		mem->log = vmmem__log_ref(log);
		mem->view.log = log->bits;
		mem->view.log_pages = log->pages;
		mem->view.gate = VMMEM__GATE_LOG;
		if (log->always)
			mem->view.gate |= VMMEM__GATE_LOG_ALWAYS;
		/* The inline path marks without a bounds check: it may only
		 * when every address it can reach, which is inside a region,
		 * has its page in the log. */
		for (size_t i = 0; i < n; i++)
			if ((sorted[i]->last >> VMMEM__LOG_PAGE_SHIFT) >= log->pages)
				mem->view.gate |= VMMEM__GATE_LOG_PARTIAL;
		mem->view.log_test_mask = log->always ? 0 : UINT64_MAX;
	}
	for (size_t i = 0; i < n; i++)
		if (sorted[i]->read_only)
			mem->view.gate |= VMMEM__GATE_READ_ONLY;
	if (!build_buckets(mem, error) || !build_user_table(mem, error)) {
		memory_free(mem);
		return NULL;
	}
	return mem;
}

bool
vmmem__check_region_numbers(const char *name, uint64_t start, uint64_t size, GError **error)
{
	uint64_t base_page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (size == 0) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "region '%s' at 0x%" PRIx64 " has size 0", name, start);
		return false;
	}
	if (size - 1 > UINT64_MAX - start) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "region '%s' [0x%" PRIx64 ", +0x%" PRIx64 ") ends past 2^64", name, start,
			     size);
		return false;
	}
	/* Every provider's page size is a multiple of the base page size, so
	 * a finer start or size can never be backed: say so here, as a layout
	 * error, instead of letting a provider's create() fail on it. Coarser
	 * (huge) page sizes are checked against the mapping when the region
	 * is created. */
	if ((start | size) & (base_page - 1)) {
		bool bad_start = (start & (base_page - 1)) != 0;
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "region '%s': %s 0x%" PRIx64 " is not a multiple of the page size 0x%" PRIx64,
			     name, bad_start ? "start" : "size", bad_start ? start : size, base_page);
		return false;
	}
	return true;
}

/* Checks sizes, wrap-around and overlap before anything is mapped, so a
 * bad layout costs no mmap. `sorted` holds (name, start, size) only. */
struct layout_entry {
	const char *name;
	uint64_t start, size, last;
	size_t spec;
};

static int
compare_entry(const void *a, const void *b)
{
	const struct layout_entry *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static bool
check_layout(struct layout_entry *sorted, size_t n, GError **error)
{
	for (size_t i = 0; i < n; i++) {
		struct layout_entry *r = &sorted[i];

		if (!vmmem__check_region_numbers(r->name, r->start, r->size, error))
			return false;
		r->last = r->start + (r->size - 1);
		if (i > 0 && sorted[i - 1].last >= r->start) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "regions '%s' [0x%" PRIx64 ", 0x%" PRIx64 "] and '%s' [0x%" PRIx64
				     ", 0x%" PRIx64 "] overlap",
				     sorted[i - 1].name, sorted[i - 1].start, sorted[i - 1].last,
				     r->name, r->start, r->last);
			return false;
		}
	}
	return true;
}

static void free_layout(struct layout_entry *e, size_t n);

/* The layout of `specs`, named ("region N" for a spec without a name),
 * sorted by start. Free it with free_layout(). NULL (VMMEM_ERROR_NOMEM)
 * if memory runs out. */
static struct layout_entry *
sorted_layout(const vmmem_region_spec_t *specs, size_t n, GError **error)
{
	struct layout_entry *e = vmmem__calloc(n, sizeof(*e));

	if (!e) {
		vmmem__nomem(error, "the layout of a guest memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		e[i].name = specs[i].name ? vmmem__strdup(specs[i].name)
					  : vmmem__strdup_printf("region %zu", i);
		if (!e[i].name) {
			free_layout(e, i);
			vmmem__nomem(error, "a region name");
			return NULL;
		}
		e[i].start = specs[i].start.raw;
		e[i].size = specs[i].size;
		e[i].spec = i;
	}
	qsort(e, n, sizeof(*e), compare_entry);
	return e;
}

static void
free_layout(struct layout_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_free((char *)e[i].name);
	g_free(e);
}

bool
vmmem__layout_check(const vmmem_region_spec_t *specs, size_t n, GError **error)
{
	struct layout_entry *e;
	bool ok;

	if (n == 0 || !specs) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "a guest memory needs at least one region");
		return false;
	}
	if (!(e = sorted_layout(specs, n, error)))
		return false;
	ok = check_layout(e, n, error);
	free_layout(e, n);
	return ok;
}

/* The end of the highest region that asks for dirty tracking, 0 if none. */
/* How far the internal log must reach: the end of the last tracked
 * region, or 0 for none. It reaches on to the end of every region when
 * it can (writes there set bits nobody reads), so that the inline write
 * path may mark without a bounds check (VMMEM__GATE_LOG alone). */
static uint64_t
tracked_end(const vmmem_region_spec_t *specs, size_t n)
{
	uint64_t end = 0, all = 0;

	for (size_t i = 0; i < n; i++) {
		/* The layout check has run: start + size - 1 does not wrap; a
		 * region that ends at 2^64 saturates, and the log refuses it. */
		uint64_t last = specs[i].start.raw + (specs[i].size - 1);
		uint64_t e = last == UINT64_MAX ? UINT64_MAX : last + 1;

		if ((specs[i].flags & VMMEM_SPEC_DIRTY_TRACKING) && e > end)
			end = e;
		if (e > all)
			all = e;
	}
	return end && all <= VMMEM__LOG_MAX_END ? all : end;
}

static bool
regions_from_specs(const vmmem_region_spec_t *specs, size_t n, struct vmmem__logcell *cell,
		   vmmem__region_created_fn created, void *data, struct vmmem_region ***out,
		   GError **error)
{
	struct layout_entry *e;
	struct vmmem_region **regions;

	if (n == 0 || !specs) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "a guest memory needs at least one region");
		return false;
	}
	if (!(e = sorted_layout(specs, n, error)))
		return false;
	if (!check_layout(e, n, error)) {
		free_layout(e, n);
		return false;
	}
	if (!(regions = vmmem__calloc(n, sizeof(*regions)))) {
		free_layout(e, n);
		return vmmem__nomem(error, "the regions of a guest memory");
	}
	for (size_t i = 0; i < n; i++) {
		regions[i] = vmmem__region_new(&specs[e[i].spec], e[i].name, cell, error);
		if (!regions[i]) {
			for (size_t j = 0; j < i; j++)
				vmmem__region_unref(regions[j]);
			g_free(regions);
			free_layout(e, n);
			return false;
		}
		if (created)
			created(e[i].spec, data);
	}
	free_layout(e, n);
	*out = regions;
	return true;
}

bool
vmmem__regions_from_specs(const vmmem_region_spec_t *specs, size_t n,
			  struct vmmem__logcell *cell, struct vmmem_region ***out, GError **error)
{
	return regions_from_specs(specs, n, cell, NULL, NULL, out, error);
}

vmmem_memory_t *
vmmem_memory_new(const vmmem_region_spec_t *specs, size_t n, GError **error)
{
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	return vmmem__memory_new_each(specs, n, NULL, NULL, error);
}

vmmem_memory_t *
vmmem__memory_new_each(const vmmem_region_spec_t *specs, size_t n,
		       vmmem__region_created_fn created, void *data, GError **error)
{
	struct vmmem_region **regions;
	struct vmmem__logcell *cell;
	struct vmmem__log *log = NULL;
	vmmem_memory_t *mem = NULL;
	uint64_t end;

	if (!vmmem__layout_check(specs, n, error))
		return NULL;
	end = tracked_end(specs, n);
	if (end && !(log = vmmem__log_new_internal(end, error)))
		return NULL;
	if (!(cell = vmmem__logcell_new(log, error))) {
		if (log)
			vmmem__log_unref(log);
		return NULL;
	}
	if (regions_from_specs(specs, n, cell, created, data, &regions, error)) {
		vmmem__place_adjacent(regions, n);
		mem = vmmem__memory_build(regions, n, log, cell, error);
		for (size_t i = 0; i < n; i++)
			vmmem__region_unref(regions[i]);
		g_free(regions);
	}
	if (log)
		vmmem__log_unref(log);
	vmmem__logcell_unref(cell);
	return mem;
}

vmmem_memory_t *
vmmem_memory_ref(vmmem_memory_t *mem)
{
	g_return_val_if_fail(mem != NULL, NULL);
	g_atomic_int_inc(&mem->refcount);
	return mem;
}

void
vmmem_memory_unref(vmmem_memory_t *mem)
{
	if (mem && g_atomic_int_dec_and_test(&mem->refcount))
		memory_free(mem);
}

size_t
vmmem_memory_num_regions(const vmmem_memory_t *mem)
{
	return mem->n;
}

const vmmem_region_t *
vmmem_memory_region(const vmmem_memory_t *mem, size_t i)
{
	return i < mem->n ? mem->regions[i] : NULL;
}

vmmem_guest_addr_t
vmmem_memory_last_addr(const vmmem_memory_t *mem)
{
	return vmmem_guest_addr(mem->n ? mem->regions[mem->n - 1]->last : 0);
}

const vmmem_region_t *
vmmem_memory_to_region(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
		       vmmem_region_addr_t *offset)
{
	const vmmem_region_t *r = vmmem_memory_find_region(mem, addr);

	if (r && offset)
		offset->raw = addr.raw - r->start;
	return r;
}

void *
vmmem_memory_get_host_address(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
			      GError **error)
{
	const vmmem_region_t *r = vmmem_memory_find_region(mem, addr);

	if (!r) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
			     "guest address 0x%" PRIx64 " is not backed by any region", addr.raw);
		return NULL;
	}
	return r->host + (addr.raw - r->start);
}
