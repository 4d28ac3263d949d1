/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The IOTLB: a sorted, immutable table of IOVA translations, replaced as
 * a whole on every change, as a space replaces its snapshot.
 *
 * Why a copied table and not a tree with fine-grained locking: readers
 * (the queue threads) must never block and never write a shared line,
 * and changes (IOTLB_MSG from the frontend) are rare next to accesses. A
 * change is O(entries), bounded by max_entries (2048 by default, as
 * DPDK's vhost IOTLB caps its cache), and a lookup is a binary search
 * that the reader's last-hit cache (vmmem_iova_t) skips for most
 * accesses.
 *
 * Why updates never wait for readers but invalidations do: a reader may
 * fill an entry from its miss handler, inside its own section, and a
 * control thread may apply a frontend's update while a reader waits for
 * it. Either would deadlock if an update waited for a grace period. An
 * update only adds translations (a replaced or evicted one stays valid
 * for the readers that still see it, as a hardware IOTLB keeps a stale
 * entry until it is invalidated), so the old table can wait to be freed:
 * it is retired with the epoch of its replacement and freed by a later
 * change once every reader has passed that epoch (vmmem__grace_horizon).
 * An invalidation must take the translation away, so it waits
 * (vmmem__synchronize) and then frees every retired table at once. */
#include "config.h"

#include <stdlib.h>

#include "internal.h"

/* The table a reader section sees. */
static struct vmmem__iotlb_table *
table_new(size_t n)
{
	struct vmmem__iotlb_table *t =
		g_malloc0(sizeof(*t) + (n ? n : 1) * sizeof(struct vmmem__iotlb_entry));

	t->n = n;
	return t;
}

static bool
valid_perm(int perm)
{
	return perm == VMMEM_IOTLB_READ || perm == VMMEM_IOTLB_WRITE || perm == VMMEM_IOTLB_RW;
}

vmmem_iotlb_t *
vmmem_iotlb_new(const vmmem_iotlb_options_t *options, GError **error)
{
	vmmem_iotlb_options_t o = { sizeof(o), VMMEM_IOTLB_TARGET_GUEST, 0 };
	vmmem_iotlb_t *tlb;

	if (options) {
		size_t n = options->struct_size < sizeof(o) ? options->struct_size : sizeof(o);

		if (n < sizeof(size_t)) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "IOTLB options: struct_size %zu is too small", n);
			return NULL;
		}
		memcpy(&o, options, n);
	}
	if (o.target != VMMEM_IOTLB_TARGET_GUEST && o.target != VMMEM_IOTLB_TARGET_FRONTEND) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOTLB options: target %d is neither VMMEM_IOTLB_TARGET_GUEST (0) nor "
			     "VMMEM_IOTLB_TARGET_FRONTEND (1)",
			     (int)o.target);
		return NULL;
	}
	if (o.max_entries > VMMEM_IOTLB_MAX_MAX_ENTRIES) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOTLB options: max_entries %zu is more than %u", o.max_entries,
			     VMMEM_IOTLB_MAX_MAX_ENTRIES);
		return NULL;
	}
	/* Readers choose their barrier once; it must not change under them. */
	vmmem__membarrier_ready();
	tlb = g_new0(vmmem_iotlb_t, 1);
	g_mutex_init(&tlb->lock);
	tlb->target = o.target;
	tlb->max_entries = o.max_entries ? o.max_entries : VMMEM_IOTLB_DEFAULT_MAX_ENTRIES;
	tlb->current = table_new(0);
	return tlb;
}

static void
free_retired(vmmem_iotlb_t *tlb, uint64_t horizon)
{
	struct vmmem__iotlb_table **p = &tlb->retired;

	while (*p) {
		struct vmmem__iotlb_table *t = *p;

		if (t->retired_epoch <= horizon) {
			*p = t->retired_next;
			g_free(t);
		} else {
			p = &t->retired_next;
		}
	}
}

void
vmmem_iotlb_free(vmmem_iotlb_t *tlb)
{
	if (!tlb)
		return;
	free_retired(tlb, UINT64_MAX);
	g_free(tlb->current);
	g_mutex_clear(&tlb->lock);
	g_free(tlb);
}

vmmem_iotlb_target_t
vmmem_iotlb_target_kind(const vmmem_iotlb_t *tlb)
{
	return tlb->target;
}

void
vmmem_iotlb_set_miss_handler(vmmem_iotlb_t *tlb, vmmem_iotlb_miss_fn fn, void *user_data)
{
	tlb->miss = fn;
	tlb->miss_data = user_data;
}

/* The index of the last entry whose iova is <= addr, or -1. */
ptrdiff_t
vmmem__iotlb_floor(const struct vmmem__iotlb_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->e[mid].iova <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (ptrdiff_t)lo - 1;
}

const struct vmmem__iotlb_entry *
vmmem__iotlb_find(const struct vmmem__iotlb_table *t, uint64_t addr)
{
	ptrdiff_t i = vmmem__iotlb_floor(t, addr);

	if (i >= 0 && addr <= t->e[i].last)
		return &t->e[i];
	return NULL;
}

/* The entries of `cur` with [iova, last] cut out, into `out` (room for
 * cur->n + 1 more): partly covered entries keep their outside parts. */
static size_t
cut(const struct vmmem__iotlb_table *cur, uint64_t iova, uint64_t last,
    struct vmmem__iotlb_entry *out)
{
	size_t n = 0;

	for (size_t i = 0; i < cur->n; i++) {
		const struct vmmem__iotlb_entry *e = &cur->e[i];

		if (e->last < iova || e->iova > last) {
			out[n++] = *e;
			continue;
		}
		if (e->iova < iova) {
			out[n] = *e;
			out[n].last = iova - 1;
			n++;
		}
		if (e->last > last) {
			out[n] = *e;
			out[n].iova = last + 1;
			out[n].target = e->target + (last + 1 - e->iova);
			n++;
		}
	}
	return n;
}

/* Publishes `next` and retires the table it replaces; with `wait`, waits
 * for a grace period and frees every retired table, else frees those
 * no reader can still see. Called with the lock held. */
static void
publish(vmmem_iotlb_t *tlb, struct vmmem__iotlb_table *next, bool wait)
{
	struct vmmem__iotlb_table *old = tlb->current;

	__atomic_store_n(&tlb->current, next, __ATOMIC_RELEASE);
	old->retired_epoch = vmmem__grace_start();
	old->retired_next = tlb->retired;
	tlb->retired = old;
	if (wait) {
		vmmem__synchronize();
		free_retired(tlb, UINT64_MAX);
	} else {
		free_retired(tlb, vmmem__grace_horizon());
	}
}

static bool
check_range(const char *what, uint64_t iova, uint64_t size, GError **error)
{
	if (size == 0) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOTLB %s at IOVA 0x%" PRIx64 ": size is 0", what, iova);
		return false;
	}
	if (size - 1 > UINT64_MAX - iova) {
		vmmem__error(error, VMMEM_ERROR_OVERFLOW,
			     "IOTLB %s: IOVA 0x%" PRIx64 " + size 0x%" PRIx64 " passes 2^64", what,
			     iova, size);
		return false;
	}
	return true;
}

bool
vmmem_iotlb_update(vmmem_iotlb_t *tlb, uint64_t iova, uint64_t size, uint64_t target,
		   vmmem_iotlb_perm_t perm, GError **error)
{
	struct vmmem__iotlb_table *cur, *next;
	struct vmmem__iotlb_entry ne;
	size_t n, pos;

	if (!check_range("update", iova, size, error))
		return false;
	if (size - 1 > UINT64_MAX - target) {
		vmmem__error(error, VMMEM_ERROR_OVERFLOW,
			     "IOTLB update at IOVA 0x%" PRIx64 ": target 0x%" PRIx64 " + size 0x%" PRIx64
			     " passes 2^64",
			     iova, target, size);
		return false;
	}
	if (!valid_perm((int)perm)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOTLB update at IOVA 0x%" PRIx64 ": perm %d is not read (1), write (2) "
			     "or read-write (3)",
			     iova, (int)perm);
		return false;
	}
	ne.iova = iova;
	ne.last = iova + (size - 1);
	ne.target = target;
	ne.perm = (uint32_t)perm;

	g_mutex_lock(&tlb->lock);
	cur = tlb->current;
	/* Cutting one range out of n entries leaves at most n + 1. */
	next = table_new(cur->n + 2);
	n = cut(cur, ne.iova, ne.last, next->e);
	/* A full IOTLB evicts, round robin, entries other than the new one:
	 * a cache entry may go (the miss handler brings it back), and readers
	 * that still see the old table keep a translation that is still
	 * valid. */
	while (n >= tlb->max_entries) {
		size_t victim = tlb->evict_cursor++ % n;

		memmove(&next->e[victim], &next->e[victim + 1],
			(n - victim - 1) * sizeof(next->e[0]));
		n--;
	}
	for (pos = 0; pos < n && next->e[pos].iova < ne.iova; pos++)
		;
	memmove(&next->e[pos + 1], &next->e[pos], (n - pos) * sizeof(next->e[0]));
	next->e[pos] = ne;
	next->n = n + 1;
	publish(tlb, next, false);
	g_mutex_unlock(&tlb->lock);
	return true;
}

static bool
invalidate(vmmem_iotlb_t *tlb, uint64_t iova, uint64_t last, GError **error)
{
	struct vmmem__iotlb_table *cur, *next;
	bool touched = false;

	if (vmmem__in_read_section()) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "cannot invalidate IOVAs [0x%" PRIx64 ", 0x%" PRIx64 "] while this thread "
			     "is inside a read section (vmmem_iova_begin or vmmem_space_get): the "
			     "invalidation would wait for it",
			     iova, last);
		return false;
	}
	g_mutex_lock(&tlb->lock);
	cur = tlb->current;
	for (size_t i = 0; i < cur->n && !touched; i++)
		touched = !(cur->e[i].last < iova || cur->e[i].iova > last);
	/* Nothing to take away, unless a retired table a reader may still
	 * see holds a translation (an evicted or replaced one) that the
	 * caller means to end. */
	if (!touched && !tlb->retired) {
		g_mutex_unlock(&tlb->lock);
		return true;
	}
	next = table_new(cur->n + 1);
	next->n = cut(cur, iova, last, next->e);
	publish(tlb, next, true);
	g_mutex_unlock(&tlb->lock);
	return true;
}

bool
vmmem_iotlb_invalidate(vmmem_iotlb_t *tlb, uint64_t iova, uint64_t size, GError **error)
{
	if (!check_range("invalidation", iova, size, error))
		return false;
	return invalidate(tlb, iova, iova + (size - 1), error);
}

bool
vmmem_iotlb_invalidate_all(vmmem_iotlb_t *tlb, GError **error)
{
	return invalidate(tlb, 0, UINT64_MAX, error);
}

size_t
vmmem_iotlb_num_entries(const vmmem_iotlb_t *tlb)
{
	vmmem_iotlb_t *t = (vmmem_iotlb_t *)tlb; /* the lock is not state */
	size_t n;

	g_mutex_lock(&t->lock);
	n = t->current->n;
	g_mutex_unlock(&t->lock);
	return n;
}

bool
vmmem_iotlb_lookup(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_entry_t *out)
{
	const struct vmmem__iotlb_entry *e;
	bool found = false;

	/* The lock, not a read section: the caller may be a writer thread. */
	g_mutex_lock(&tlb->lock);
	e = vmmem__iotlb_find(tlb->current, iova);
	if (e) {
		found = true;
		if (out) {
			out->iova = e->iova;
			out->size = e->last - e->iova + 1;
			out->target = e->target;
			out->perm = (vmmem_iotlb_perm_t)e->perm;
		}
	}
	g_mutex_unlock(&tlb->lock);
	return found;
}
