/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A space: the hotpluggable guest memory. It holds the current snapshot
 * (an ordinary immutable vmmem_memory_t) and publishes a new one on every
 * change, as QEMU publishes a new flat view: readers follow one pointer,
 * writers build the next table beside it, swap the pointer and free the
 * old table after a grace period (core/reclaim.c).
 *
 * A change costs one table build, O(regions + buckets): the regions
 * themselves are shared with the old snapshot (reference counted), so
 * nothing is remapped but the region that is added. */
#include "config.h"

#include <stdlib.h>

#include "internal.h"

struct vmmem_space {
	vmmem_memory_t *current;            /* __atomic; one reference */
	GMutex lock;                        /* serializes writers */
	uint64_t generation;                /* __atomic */
	uint64_t span;
	struct vmmem__reservation *res;     /* NULL: no reservation */
	struct vmmem__logcell *cell;        /* where region-family writes log */
	struct vmmem__log *internal;        /* the space's own log, or NULL */
	struct vmmem__log *external;        /* set by vmmem_space_set_log, or NULL */
};

const vmmem_memory_t *
vmmem_space_get(vmmem_space_t *space)
{
	vmmem__read_lock_inline();
	/* Acquire: the snapshot's table was written before its pointer was
	 * published (release). */
	return __atomic_load_n(&space->current, __ATOMIC_ACQUIRE);
}

void
vmmem_space_put(vmmem_space_t *space, const vmmem_memory_t *snapshot)
{
	(void)space;
	(void)snapshot;
	vmmem__read_unlock_inline();
}

vmmem_memory_t *
vmmem_space_ref_memory(vmmem_space_t *space)
{
	vmmem_memory_t *m;

	vmmem__read_lock();
	m = vmmem_memory_ref(__atomic_load_n(&space->current, __ATOMIC_ACQUIRE));
	vmmem__read_unlock();
	return m;
}

uint64_t
vmmem_space_reserved(const vmmem_space_t *space)
{
	return vmmem__reservation_span(space->res);
}

uint64_t
vmmem_space_generation(const vmmem_space_t *space)
{
	return __atomic_load_n(&space->generation, __ATOMIC_RELAXED);
}

/* The log new snapshots point at: an external one wins. */
static struct vmmem__log *
active_log(const vmmem_space_t *space)
{
	return space->external ? space->external : space->internal;
}

/* Publishes a snapshot of `regions` (sorted, n may be 0) and frees the
 * old one once no reader holds it. Called with the lock held. */
static bool
publish(vmmem_space_t *space, struct vmmem_region *const *regions, size_t n, GError **error)
{
	vmmem_memory_t *next, *old;

	next = vmmem__memory_build(regions, n, active_log(space), space->cell, error);
	if (!next)
		return false;
	old = space->current;
	__atomic_store_n(&space->current, next, __ATOMIC_RELEASE);
	__atomic_add_fetch(&space->generation, 1, __ATOMIC_RELAXED);
	if (old) {
		vmmem__synchronize();
		vmmem_memory_unref(old);
	}
	return true;
}

/* Writers wait for readers; one that is itself a reader would wait for
 * ever. */
static bool
writer_may_wait(const char *what, GError **error)
{
	if (!vmmem__in_read_section())
		return true;
	vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
		     "cannot %s while this thread holds a snapshot of a space (vmmem_space_get "
		     "without vmmem_space_put): the change would wait for it",
		     what);
	return false;
}

/* Makes sure the space's own log exists if `r` is tracked. */
static bool
ensure_internal_log(vmmem_space_t *space, const char *name, uint64_t start, uint64_t size,
		    GError **error)
{
	if (start >= space->span || size > space->span - start) {
		vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
			     "region '%s' [0x%" PRIx64 ", +0x%" PRIx64 "): dirty tracking in this "
			     "space covers guest addresses below its guest span 0x%" PRIx64,
			     name, start, size, space->span);
		return false;
	}
	if (space->internal)
		return true;
	space->internal = vmmem__log_new_internal(space->span, error);
	if (!space->internal)
		return false;
	if (!space->external) {
		/* Nothing reads the cell's log yet but region writes of
		 * regions created from here on. */
		__atomic_store_n(&space->cell->log, vmmem__log_ref(space->internal),
				 __ATOMIC_RELEASE);
	}
	return true;
}

/* A freshly created region, before any reader sees it: placed in the
 * reservation, its log bits cleared (a region starts clean). */
static void
prepare_region(vmmem_space_t *space, struct vmmem_region *r)
{
	vmmem__reservation_place(space->res, r);
	if (r->dirty_tracking)
		vmmem__log_clear(space->internal, r->start, r->size);
}

vmmem_space_t *
vmmem_space_new(const vmmem_region_spec_t *specs, size_t n, const vmmem_space_options_t *options,
		GError **error)
{
	vmmem_space_options_t opt = { sizeof(opt), 0, 0 };
	struct vmmem_region **regions = NULL;
	vmmem_space_t *space;
	bool ok = true;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	if (options) {
		if (options->struct_size < offsetof(vmmem_space_options_t, flags) + sizeof(uint32_t)) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "vmmem_space_options_t.struct_size %zu is too small (%zu)",
				     options->struct_size, sizeof(opt));
			return NULL;
		}
		opt.guest_span = options->guest_span;
		opt.flags = options->flags;
	}
	if (opt.guest_span == 0)
		opt.guest_span = VMMEM_SPACE_DEFAULT_SPAN;
	if (n && !vmmem__layout_check(specs, n, error))
		return NULL;

	/* Readers may start as soon as the space exists: settle the
	 * barrier scheme first. */
	vmmem__membarrier_ready();
	if (!(space = vmmem__malloc0(sizeof(*space)))) {
		vmmem__nomem(error, "a space");
		return NULL;
	}
	g_mutex_init(&space->lock);
	space->span = opt.guest_span;
	if (!(space->cell = vmmem__logcell_new(NULL, error))) {
		vmmem_space_free(space);
		return NULL;
	}
	if (!(opt.flags & VMMEM_SPACE_NO_RESERVATION))
		space->res = vmmem__reservation_new(opt.guest_span);

	for (size_t i = 0; ok && i < n; i++)
		if (specs[i].flags & VMMEM_SPEC_DIRTY_TRACKING)
			ok = ensure_internal_log(space, specs[i].name ? specs[i].name : "(unnamed)",
						 specs[i].start.raw, specs[i].size, error);
	if (ok && n)
		ok = vmmem__regions_from_specs(specs, n, space->cell, &regions, error);
	if (ok) {
		for (size_t i = 0; i < n; i++)
			prepare_region(space, regions[i]);
		ok = publish(space, regions, n, error);
	}
	for (size_t i = 0; regions && i < n; i++)
		vmmem__region_unref(regions[i]);
	g_free(regions);
	if (!ok) {
		vmmem_space_free(space);
		return NULL;
	}
	return space;
}

void
vmmem_space_free(vmmem_space_t *space)
{
	if (!space)
		return;
	vmmem_memory_unref(space->current);
	vmmem__logcell_unref(space->cell);
	vmmem__log_unref(space->internal);
	vmmem__log_unref(space->external);
	vmmem__reservation_unref(space->res);
	g_mutex_clear(&space->lock);
	g_free(space);
}

/* The index at which a region starting at `start` goes, and whether it
 * overlaps its neighbours (named in the error). */
static bool
find_slot(const vmmem_memory_t *cur, const char *name, uint64_t start, uint64_t last,
	  size_t *slot, GError **error)
{
	size_t lo = 0, hi = cur->n;

	for (size_t i = 0; i < cur->n; i++) {
		if (strcmp(cur->regions[i]->name, name) == 0) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "cannot add region '%s' [0x%" PRIx64 ", 0x%" PRIx64 "]: a region "
				     "of that name exists [0x%" PRIx64 ", 0x%" PRIx64 "]",
				     name, start, last, cur->regions[i]->start, cur->regions[i]->last);
			return false;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cur->regions[mid]->start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Only the neighbours can overlap a non-overlapping sorted table. */
	for (size_t i = lo ? lo - 1 : 0; i < cur->n && i <= lo; i++) {
		const struct vmmem_region *o = cur->regions[i];
		if (o->start <= last && start <= o->last) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "cannot add region '%s' [0x%" PRIx64 ", 0x%" PRIx64 "]: it "
				     "overlaps region '%s' [0x%" PRIx64 ", 0x%" PRIx64 "]",
				     name, start, last, o->name, o->start, o->last);
			return false;
		}
	}
	*slot = lo;
	return true;
}

bool
vmmem_space_add_region(vmmem_space_t *space, const vmmem_region_spec_t *spec, GError **error)
{
	const vmmem_memory_t *cur;
	struct vmmem_region *r, **next;
	char *name;
	size_t slot;
	bool ok = false;

	g_return_val_if_fail(space && spec, false);
	if (!writer_may_wait("add a region", error))
		return false;
	name = spec->name ? vmmem__strdup(spec->name)
			  : vmmem__strdup_printf("region@0x%" PRIx64, spec->start.raw);
	if (!name)
		return vmmem__nomem(error, "a region name");
	if (!vmmem__check_region_numbers(name, spec->start.raw, spec->size, error)) {
		g_free(name);
		return false;
	}
	g_mutex_lock(&space->lock);
	cur = space->current;
	if (!find_slot(cur, name, spec->start.raw, spec->start.raw + (spec->size - 1), &slot,
		       error))
		goto out;
	if ((spec->flags & VMMEM_SPEC_DIRTY_TRACKING) &&
	    !ensure_internal_log(space, name, spec->start.raw, spec->size, error))
		goto out;
	if (!(next = vmmem__malloc_n(cur->n + 1, sizeof(*next)))) {
		vmmem__nomem(error, "the region table of a space");
		goto out;
	}
	r = vmmem__region_new(spec, name, space->cell, error);
	if (!r) {
		g_free(next);
		goto out;
	}
	prepare_region(space, r);
	memcpy(next, cur->regions, slot * sizeof(*next));
	next[slot] = r;
	memcpy(next + slot + 1, cur->regions + slot, (cur->n - slot) * sizeof(*next));
	ok = publish(space, next, cur->n + 1, error);
	g_free(next);
	/* The new snapshot holds the region (or, on failure, nothing does
	 * and this unmaps it). */
	vmmem__region_unref(r);
out:
	g_mutex_unlock(&space->lock);
	g_free(name);
	return ok;
}

static bool
remove_index(vmmem_space_t *space, size_t i, GError **error)
{
	const vmmem_memory_t *cur = space->current;
	struct vmmem_region **next = vmmem__malloc_n(cur->n, sizeof(*next));
	bool ok;

	if (!next)
		return vmmem__nomem(error, "the region table of a space");
	memcpy(next, cur->regions, i * sizeof(*next));
	memcpy(next + i, cur->regions + i + 1, (cur->n - i - 1) * sizeof(*next));
	/* publish() waits for the readers of the old snapshot and drops it:
	 * the last reference to the region goes with it, unless a
	 * vmmem_space_ref_memory() reference still holds it. */
	ok = publish(space, next, cur->n - 1, error);
	g_free(next);
	return ok;
}

bool
vmmem_space_remove_region(vmmem_space_t *space, const char *name, GError **error)
{
	const vmmem_memory_t *cur;
	bool ok = false;
	size_t i;

	g_return_val_if_fail(space && name, false);
	if (!writer_may_wait("remove a region", error))
		return false;
	g_mutex_lock(&space->lock);
	cur = space->current;
	for (i = 0; i < cur->n; i++)
		if (strcmp(cur->regions[i]->name, name) == 0)
			break;
	if (i == cur->n)
		vmmem__error(error, VMMEM_ERROR_NOT_FOUND, "cannot remove region '%s': no such region",
			     name);
	else
		ok = remove_index(space, i, error);
	g_mutex_unlock(&space->lock);
	return ok;
}

bool
vmmem_space_remove_region_at(vmmem_space_t *space, vmmem_guest_addr_t addr, GError **error)
{
	ptrdiff_t i;
	bool ok = false;

	g_return_val_if_fail(space, false);
	if (!writer_may_wait("remove a region", error))
		return false;
	g_mutex_lock(&space->lock);
	i = vmmem__memory_index(space->current, addr.raw);
	if (i < 0)
		vmmem__error(error, VMMEM_ERROR_NOT_FOUND,
			     "cannot remove the region at guest address 0x%" PRIx64
			     ": no region backs it",
			     addr.raw);
	else
		ok = remove_index(space, (size_t)i, error);
	g_mutex_unlock(&space->lock);
	return ok;
}

bool
vmmem_space_set_log(vmmem_space_t *space, void *log, size_t size, void (*destroy)(void *),
		    void *user_data, GError **error)
{
	struct vmmem__log *ext = NULL, *old_external, *old_cell;
	const vmmem_memory_t *cur;
	bool ok;

	g_return_val_if_fail(space, false);
	if (log && (((uintptr_t)log & 7) || (size & 7) || size == 0)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "dirty log %p of 0x%zx bytes: it must be 8-byte aligned and a non-zero "
			     "multiple of 8 bytes long",
			     log, size);
		return false;
	}
	if (!writer_may_wait("set the dirty log", error))
		return false;
	if (log) {
		if (!(ext = vmmem__malloc0(sizeof(*ext))))
			return vmmem__nomem(error, "a dirty log");
		ext->refcount = 1;
		ext->bits = log;
		ext->pages = (uint64_t)size * 8;
		ext->always = true;
		ext->destroy = destroy;
		ext->user_data = user_data;
	}
	g_mutex_lock(&space->lock);
	old_external = space->external;
	space->external = ext;
	cur = space->current;
	old_cell = __atomic_exchange_n(&space->cell->log,
				       active_log(space) ? vmmem__log_ref(active_log(space)) : NULL,
				       __ATOMIC_ACQ_REL);
	/* publish() waits for a grace period: after it, no region-family
	 * writer still holds the old cell log and no get/put reader the old
	 * snapshot, so both references can go. */
	ok = publish(space, cur->regions, cur->n, error);
	if (!ok) {
		/* Only an allocation can fail here: put everything back. */
		vmmem__log_unref(__atomic_exchange_n(&space->cell->log, old_cell, __ATOMIC_ACQ_REL));
		space->external = old_external;
		old_external = ext;
		old_cell = NULL;
		if (ext)
			ext->destroy = NULL; /* refused: the caller still owns it */
	} else {
		vmmem__synchronize(); /* publish() skips it only without an old snapshot */
	}
	g_mutex_unlock(&space->lock);
	vmmem__log_unref(old_cell);
	vmmem__log_unref(old_external);
	return ok;
}

static int
compare_region_start(const void *a, const void *b)
{
	const struct vmmem_region *x = *(struct vmmem_region *const *)a;
	const struct vmmem_region *y = *(struct vmmem_region *const *)b;

	return (x->start > y->start) - (x->start < y->start);
}

bool
vmmem__space_replace(vmmem_space_t *space, uint64_t cur_gen, const size_t *remove,
		     size_t n_remove, const vmmem_region_spec_t *specs, const uint64_t *user_addrs,
		     size_t n_add, GError **error)
{
	const vmmem_memory_t *cur;
	struct vmmem_region **created, **next;
	size_t n_next = 0, n_created = 0, k = 0;
	bool ok = false;

	if (!writer_may_wait("change the regions", error))
		return false;
	if (!(created = vmmem__calloc(n_add, sizeof(*created))))
		return vmmem__nomem(error, "the new regions");
	g_mutex_lock(&space->lock);
	cur = space->current;
	if (space->generation != cur_gen) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "the space changed (generation %" PRIu64 ", validated against %" PRIu64
			     ") while a change was prepared",
			     space->generation, cur_gen);
		goto out;
	}
	for (size_t i = 0; i < n_remove; i++) {
		if (remove[i] >= cur->n || (i && remove[i] <= remove[i - 1])) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "region index %zu to remove is out of order or past %zu regions",
				     remove[i], cur->n);
			goto out;
		}
	}
	for (size_t i = 0; i < n_add; i++) {
		char *name = specs[i].name ? vmmem__strdup(specs[i].name)
					   : vmmem__strdup_printf("region@0x%" PRIx64, specs[i].start.raw);
		bool good = (name || vmmem__nomem(error, "a region name")) &&
			    vmmem__check_region_numbers(name, specs[i].start.raw, specs[i].size,
							error) &&
			    (!(specs[i].flags & VMMEM_SPEC_DIRTY_TRACKING) ||
			     ensure_internal_log(space, name, specs[i].start.raw, specs[i].size,
						 error));

		if (good)
			created[i] = vmmem__region_new(&specs[i], name, space->cell, error);
		g_free(name);
		if (!created[i])
			goto out;
		n_created++;
		if (user_addrs) {
			created[i]->user_addr = user_addrs[i];
			created[i]->has_user_addr = true;
		}
	}
	/* The kept regions are sorted already: sort the few new ones and
	 * merge, O(n) for the 509-slot table. */
	qsort(created, n_add, sizeof(*created), compare_region_start);
	if (!(next = vmmem__malloc_n(cur->n - n_remove + n_add + 1, sizeof(*next)))) {
		vmmem__nomem(error, "the region table of a space");
		goto out;
	}
	for (size_t i = 0, a = 0; i < cur->n || a < n_add;) {
		if (i < cur->n && k < n_remove && remove[k] == i) {
			k++;
			i++;
		} else if (a < n_add && (i == cur->n || created[a]->start < cur->regions[i]->start)) {
			next[n_next++] = created[a++];
		} else {
			next[n_next++] = cur->regions[i++];
		}
	}
	/* The caller validated the layout; this is the backstop that keeps
	 * a table the lookup relies on free of overlaps. */
	for (size_t i = 1; i < n_next; i++) {
		if (next[i - 1]->last >= next[i]->start) {
			vmmem__error(error, VMMEM_ERROR_INVALID_LAYOUT,
				     "regions '%s' [0x%" PRIx64 ", 0x%" PRIx64 "] and '%s' [0x%" PRIx64
				     ", 0x%" PRIx64 "] overlap",
				     next[i - 1]->name, next[i - 1]->start, next[i - 1]->last,
				     next[i]->name, next[i]->start, next[i]->last);
			g_free(next);
			goto out;
		}
	}
	for (size_t i = 0; i < n_add; i++)
		prepare_region(space, created[i]);
	ok = publish(space, next, n_next, error);
	g_free(next);
out:
	g_mutex_unlock(&space->lock);
	/* The new snapshot holds what it needs; on failure this unmaps the
	 * regions created for nothing. */
	for (size_t i = 0; i < n_created; i++)
		vmmem__region_unref(created[i]);
	g_free(created);
	return ok;
}
