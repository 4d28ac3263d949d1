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

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

const struct vmmem_fast_region vmmem_fast_hole = { .start = 0, .size = 0, .reach = 0 };

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
		if (mem->regions[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr > mem->regions[lo - 1].last)
		return -1;
	return (ptrdiff_t)(lo - 1);
}

const vmmem_region_t *
vmmem_memory_find_region_slow(const vmmem_memory_t *mem, uint64_t addr)
{
	ptrdiff_t i = vmmem__memory_index(mem, addr);

	return i < 0 ? NULL : &mem->regions[i];
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

static unsigned
ctz_or_64(uint64_t v)
{
	return v ? (unsigned)__builtin_ctzll(v) : 64;
}

static bool
build_buckets(vmmem_memory_t *mem, GError **error)
{
	uint64_t base = mem->regions[0].start;
	uint64_t last_off = mem->regions[mem->n - 1].last - base;
	unsigned g = 63, cap_bits = max_bucket_shift_bits(mem->n), shift;
	size_t nb, r = 0;

	/* The coarsest granule at which every region boundary falls on a
	 * bucket boundary. An end at 2^64 wraps to 0 and is no constraint. */
	for (size_t i = 0; i < mem->n; i++) {
		unsigned a = ctz_or_64(mem->regions[i].start - base);
		unsigned b = ctz_or_64(mem->regions[i].last + 1 - base);
		if (a < g)
			g = a;
		if (b < g)
			g = b;
	}
	shift = g;
	while (shift < 63 && (last_off >> shift) >= ((uint64_t)1 << cap_bits))
		shift++;
	nb = (size_t)(last_off >> shift) + 1;

	mem->buckets = g_try_new(const struct vmmem_fast_region *, nb);
	mem->deltas = g_try_new(uintptr_t, nb);
	if (!mem->buckets || !mem->deltas) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "cannot allocate a lookup table of %zu entries", nb);
		return false;
	}
	mem->n_buckets = nb;
	for (size_t b = 0; b < nb; b++) {
		uint64_t lo = base + ((uint64_t)b << shift);
		uint64_t hi = lo + (((uint64_t)1 << shift) - 1); /* last byte */

		if (hi < lo) /* the top bucket may end at 2^64 */
			hi = UINT64_MAX;
		while (r < mem->n && mem->regions[r].last < lo)
			r++;
		/* The region covering lo, else the first starting inside the
		 * bucket, else the hole sentinel. */
		if (r < mem->n && mem->regions[r].start <= hi)
			mem->buckets[b] = &mem->fast[r];
		else
			mem->buckets[b] = &vmmem_fast_hole;
		/* Only a bucket wholly inside the reach of the region that
		 * covers lo (that region and the ones after it that are
		 * contiguous in guest and host memory, all at one delta) may
		 * skip the bounds check (see vmmem__small_host). */
		if (r < mem->n && mem->regions[r].start <= lo &&
		    hi - mem->regions[r].start < mem->fast[r].reach)
			mem->deltas[b] = (uintptr_t)mem->regions[r].host - (uintptr_t)mem->regions[r].start;
		else
			mem->deltas[b] = VMMEM__NO_DELTA;
	}
	mem->view.base = base;
	mem->view.last_off = last_off;
	mem->view.shift = shift;
	mem->view.bucket = mem->buckets;
	mem->view.delta = mem->deltas;
	/* The run from guest 0 (see run_end in <vmmem/memory.h>): its reach
	 * is computed from where the mappings really are. */
	if (mem->regions[0].start == 0) {
		mem->view.run_end = mem->fast[0].reach;
		mem->view.run_delta = (uintptr_t)mem->regions[0].host;
	}
	return true;
}

static void
region_destroy(struct vmmem_region *r)
{
	if (r->module) {
		r->module->desc->ops->destroy(&r->mapping);
		vmmem__module_unref(r->module);
		r->module = NULL;
	}
	g_free(r->name);
	r->name = NULL;
}

static void
memory_free(vmmem_memory_t *mem)
{
	for (size_t i = 0; i < mem->n; i++)
		region_destroy(&mem->regions[i]);
	g_free(mem->regions);
	g_free(mem->fast);
	g_free(mem->buckets);
	g_free(mem->deltas);
	g_free(mem);
}

static int
compare_start(const void *a, const void *b)
{
	const struct vmmem_region *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static bool
is_power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Asks the provider for the mapping and checks what it returned against
 * the contract in <vmmem/provider.h>. */
static bool
region_create(struct vmmem_region *r, const vmmem_region_spec_t *spec, GError **error)
{
	struct vmmem_provider_request req;
	const struct vmmem_provider_ops *ops;
	char msg[512] = "";
	int rc;

	r->module = vmmem__module_get(spec->provider ? spec->provider : "mmap", error);
	if (!r->module) {
		g_prefix_error(error, "region '%s': ", r->name);
		return false;
	}
	if (!vmmem__module_check_options(r->module, r->name, spec->options, spec->n_options,
					 error))
		goto fail;

	memset(&req, 0, sizeof(req));
	req.struct_size = sizeof(req);
	req.touch_pages = vmmem__touch_pages;
	req.region_name = r->name;
	req.guest_start = r->start;
	req.size = r->size;
	req.options = spec->options;
	req.n_options = spec->n_options;
	memset(&r->mapping, 0, sizeof(r->mapping));
	r->mapping.fd = -1;
	ops = r->module->desc->ops;
	/* A bad option value is the caller's configuration, not a failed
	 * mapping: <vmmem/error.h> gives it VMMEM_ERROR_PROVIDER_OPTION. A
	 * provider without validate() reports it from create() instead. */
	if (VMMEM_PROVIDER_HAS_OP(ops, validate) &&
	    (rc = ops->validate(&req, msg, sizeof(msg))) != 0) {
		vmmem__error_errno(error, VMMEM_ERROR_PROVIDER_OPTION, rc,
				   "region '%s': provider '%s' (%s): %s", r->name,
				   r->module->desc->name, r->module->path,
				   vmmem__provider_message(msg, sizeof(msg), rc));
		goto fail;
	}
	rc = ops->create(&req, &r->mapping, msg, sizeof(msg));
	if (rc != 0) {
		vmmem__error_errno(error, VMMEM_ERROR_PROVIDER_CREATE, rc,
				   "region '%s' [0x%" PRIx64 ", +0x%" PRIx64 "): provider '%s' (%s) "
				   "failed: %s",
				   r->name, r->start, r->size, r->module->desc->name, r->module->path,
				   vmmem__provider_message(msg, sizeof(msg), rc));
		goto fail;
	}
	if (!r->mapping.host || r->mapping.size != r->size ||
	    !is_power_of_two(r->mapping.page_size) ||
	    r->mapping.page_size < VMMEM_PROVIDER_MIN_PAGE_SIZE ||
	    ((uintptr_t)r->mapping.host & (r->mapping.page_size - 1))) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
			     "region '%s': provider '%s' (%s) returned a bad mapping (host %p, "
			     "size 0x%" PRIx64 " for 0x%" PRIx64 ", page size 0x%" PRIx64 ")",
			     r->name, r->module->desc->name, r->module->path, r->mapping.host,
			     r->mapping.size, r->size, r->mapping.page_size);
		ops->destroy(&r->mapping);
		goto fail;
	}
	if ((r->start | r->size) & (r->mapping.page_size - 1)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "region '%s': %s 0x%" PRIx64 " is not a multiple of the page size "
			     "0x%" PRIx64 " of provider '%s'",
			     r->name, (r->start & (r->mapping.page_size - 1)) ? "start" : "size",
			     (r->start & (r->mapping.page_size - 1)) ? r->start : r->size,
			     r->mapping.page_size, r->module->desc->name);
		ops->destroy(&r->mapping);
		goto fail;
	}
	r->host = r->mapping.host;
	/* A note to the core only: it never shows in vmmem_region_flags() or
	 * on the wire of vmmem_memory_send(). */
	r->movable = (r->mapping.flags & VMMEM_REGION_MOVABLE) != 0;
	r->mapping.flags &= ~VMMEM_REGION_MOVABLE;
	return true;

fail:
	vmmem__module_unref(r->module);
	r->module = NULL;
	return false;
}

/* Checks sizes, wrap-around and overlap before anything is mapped, so a
 * bad layout costs no mmap. */
static bool
check_layout(struct vmmem_region *sorted, size_t n, GError **error)
{
	uint64_t base_page = (uint64_t)sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < n; i++) {
		struct vmmem_region *r = &sorted[i];

		if (r->size == 0) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "region '%s' at 0x%" PRIx64 " has size 0", r->name, r->start);
			return false;
		}
		if (r->size - 1 > UINT64_MAX - r->start) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "region '%s' [0x%" PRIx64 ", +0x%" PRIx64 ") ends past 2^64",
				     r->name, r->start, r->size);
			return false;
		}
		/* Every provider's page size is a multiple of the base page
		 * size, so a finer start or size can never be backed: say so
		 * here, as a layout error, instead of letting a provider's
		 * create() fail on it. Coarser (huge) page sizes are checked
		 * against the mapping in region_create(). */
		if ((r->start | r->size) & (base_page - 1)) {
			bool bad_start = (r->start & (base_page - 1)) != 0;
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "region '%s': %s 0x%" PRIx64 " is not a multiple of the page "
				     "size 0x%" PRIx64,
				     r->name, bad_start ? "start" : "size",
				     bad_start ? r->start : r->size, base_page);
			return false;
		}
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

/* The regions of `specs`, named, sorted by start; index is the spec's. */
static struct vmmem_region *
sorted_regions(const vmmem_region_spec_t *specs, size_t n)
{
	struct vmmem_region *regions = g_new0(struct vmmem_region, n);

	for (size_t i = 0; i < n; i++) {
		regions[i].name = specs[i].name ? g_strdup(specs[i].name)
						: g_strdup_printf("region %zu", i);
		regions[i].start = specs[i].start.raw;
		regions[i].size = specs[i].size;
		regions[i].index = i; /* spec index until sorted */
	}
	qsort(regions, n, sizeof(*regions), compare_start);
	return regions;
}

bool
vmmem__layout_check(const vmmem_region_spec_t *specs, size_t n, GError **error)
{
	struct vmmem_region *regions;
	bool ok;

	if (n == 0 || !specs) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "a guest memory needs at least one region");
		return false;
	}
	regions = sorted_regions(specs, n);
	ok = check_layout(regions, n, error);
	for (size_t i = 0; i < n; i++)
		g_free(regions[i].name);
	g_free(regions);
	return ok;
}

vmmem_memory_t *
vmmem_memory_new(const vmmem_region_spec_t *specs, size_t n, GError **error)
{
	vmmem_memory_t *mem;
	const vmmem_region_spec_t **by_start;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	if (n == 0 || !specs) {
		vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
			     "a guest memory needs at least one region");
		return NULL;
	}

	mem = g_new0(vmmem_memory_t, 1);
	mem->refcount = 1;
	mem->regions = sorted_regions(specs, n);
	mem->n = n;
	if (!check_layout(mem->regions, n, error)) {
		memory_free(mem);
		return NULL;
	}

	by_start = g_new(const vmmem_region_spec_t *, n);
	for (size_t i = 0; i < n; i++)
		by_start[i] = &specs[mem->regions[i].index];
	for (size_t i = 0; i < n; i++) {
		mem->regions[i].index = i;
		if (!region_create(&mem->regions[i], by_start[i], error)) {
			g_free(by_start);
			memory_free(mem);
			return NULL;
		}
	}
	g_free(by_start);
	vmmem__place_adjacent(mem->regions, n);

	mem->fast = g_new0(struct vmmem_fast_region, n);
	for (size_t i = 0; i < n; i++) {
		mem->fast[i].start = mem->regions[i].start;
		mem->fast[i].size = mem->regions[i].size;
		mem->fast[i].host = mem->regions[i].host;
		mem->fast[i].region = &mem->regions[i];
	}
	vmmem__compute_reach(mem->fast, mem->regions, n);
	if (!build_buckets(mem, error)) {
		memory_free(mem);
		return NULL;
	}
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
	return i < mem->n ? &mem->regions[i] : NULL;
}

vmmem_guest_addr_t
vmmem_memory_last_addr(const vmmem_memory_t *mem)
{
	return vmmem_guest_addr(mem->regions[mem->n - 1].last);
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
