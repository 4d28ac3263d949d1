/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Accesses by IOVA: translate first, then run the guest-memory function
 * of the same family on the guest ranges.
 *
 * Why translate the whole range before touching memory: an access that
 * spans two IOTLB entries must move nothing when the second misses or is
 * read-only, and the guest functions already give every other rule
 * (all-or-nothing over regions, one access for aligned values, dirty bits
 * by guest page). So the translation is a list of (iova, guest, len)
 * pieces, checked in full — translation, permission, backing — and only
 * then handed to <vmmem/access.h> piece by piece. */
#include "config.h"

#include <string.h>

#include "internal.h"

/* One translated run: IOVAs [iova, iova + len) at guest gpa. */
struct piece {
	uint64_t iova;
	uint64_t gpa;
	uint64_t len;
};

struct pieces {
	struct piece *p;
	size_t n;
	size_t cap;
	struct piece local[8];
};

static void
pieces_init(struct pieces *ps)
{
	ps->p = ps->local;
	ps->n = 0;
	ps->cap = G_N_ELEMENTS(ps->local);
}

static void
pieces_clear(struct pieces *ps)
{
	if (ps->p != ps->local)
		g_free(ps->p);
}

/* Appends a run, joined to the previous one when the guest range
 * continues it (the IOVAs always do). */
static void
pieces_add(struct pieces *ps, uint64_t iova, uint64_t gpa, uint64_t len)
{
	if (ps->n) {
		struct piece *l = &ps->p[ps->n - 1];

		if (l->gpa + l->len == gpa && l->gpa + l->len != 0) {
			l->len += len;
			return;
		}
	}
	if (ps->n == ps->cap) {
		size_t cap = ps->cap * 2;
		struct piece *p = g_new(struct piece, cap);

		memcpy(p, ps->p, ps->n * sizeof(*p));
		pieces_clear(ps);
		ps->p = p;
		ps->cap = cap;
	}
	ps->p[ps->n].iova = iova;
	ps->p[ps->n].gpa = gpa;
	ps->p[ps->n].len = len;
	ps->n++;
}

static const char *
kind(unsigned access)
{
	return access == VMMEM_IOTLB_WRITE ? "write" : "read";
}

static const char *
perm_name(uint32_t perm)
{
	switch (perm) {
	case VMMEM_IOTLB_READ:
		return "read only";
	case VMMEM_IOTLB_WRITE:
		return "write only";
	default:
		return "read-write";
	}
}

/* ---- sections ---- */

static const struct vmmem__iotlb_table *
table(const vmmem_iova_t *io)
{
	return io->table;
}

static void
forget_hit(vmmem_iova_t *io)
{
	io->hit_iova = 0;
	io->hit_rspan = 0;
	io->hit_wspan = 0;
	io->hit_host = 0;
	io->hit_len = 0;
	io->hit_delta = 0;
	io->hit_perm = 0;
}

void
vmmem_iova_begin(vmmem_iova_t *io, vmmem_iotlb_t *tlb, const vmmem_memory_t *mem)
{
	memset(io, 0, sizeof(*io));
	io->tlb = tlb;
	io->mem = mem;
	vmmem__read_lock();
	/* Acquire: the table was written before it was published. */
	io->table = __atomic_load_n(&tlb->current, __ATOMIC_ACQUIRE);
}

void
vmmem_iova_end(vmmem_iova_t *io)
{
	forget_hit(io);
	io->table = NULL;
	vmmem__read_unlock();
}

/* ---- translation ---- */

enum fault { OK, MISS, DENIED, UNBACKED };

/* The small-access cache of the hit: the part of it whose guest range
 * lies in one host-contiguous run of the memory (a region's reach), and
 * that run's host address. Nothing if the hit's first guest byte is not
 * backed (the general path then reports it). */
static void
set_host_run(vmmem_iova_t *io)
{
	uint64_t g = io->hit_iova + io->hit_delta, len = io->hit_len, span, off;
	ptrdiff_t i = vmmem__memory_index(io->mem, g);
	const struct vmmem_fast_region *fr;

	io->hit_rspan = 0;
	io->hit_wspan = 0;
	io->hit_host = 0;
	if (i < 0)
		return;
	fr = &io->mem->fast[i];
	off = g - fr->start;
	if (len > fr->reach - off)
		len = fr->reach - off;
	/* Every access of up to 8 bytes that starts below span ends in it. */
	span = len >= 8 ? len - 7 : 0;
	io->hit_host = (uintptr_t)(fr->host + off) - (uintptr_t)io->hit_iova;
	if (io->hit_perm & VMMEM_IOTLB_READ)
		io->hit_rspan = span;
	if (io->hit_perm & VMMEM_IOTLB_WRITE)
		io->hit_wspan = span;
}

/* Caches the translation of entry `e` around IOVA `at` (whose frontend
 * target fe holds, for a frontend IOTLB) as the section's hit. */
static void
set_hit(vmmem_iova_t *io, const struct vmmem__iotlb_entry *e,
	const struct vmmem_fast_region *fe)
{
	uint64_t first = e->iova, last = e->last;

	if (fe) {
		/* The part of the entry whose target lies in fe's frontend
		 * range [fe->start, fe->start + fe->size - 1]. */
		uint64_t t_last = e->target + (e->last - e->iova);
		uint64_t f_last = fe->start + (fe->size - 1);

		if (fe->start > e->target)
			first = e->iova + (fe->start - e->target);
		if (f_last < t_last)
			last = e->iova + (f_last - e->target);
		io->hit_delta = fe->region->start + (first - e->iova + e->target - fe->start) - first;
	} else {
		io->hit_delta = e->target - e->iova;
	}
	io->hit_iova = first;
	io->hit_len = last - first + 1; /* an entry is never 2^64 bytes */
	io->hit_perm = e->perm;
	set_host_run(io);
}

/* Translates [iova, iova + len) (len > 0, no wrap) for `access` into
 * ps. Returns OK, or the fault at *at: with `prefix`, a fault after
 * the first byte ends the pieces without being one. */
static enum fault
walk(vmmem_iova_t *io, uint64_t iova, uint64_t len, unsigned access, bool prefix,
     struct pieces *ps, uint64_t *at, const struct vmmem__iotlb_entry **fault_entry)
{
	const struct vmmem__iotlb_table *t = table(io);
	bool frontend = io->tlb->target == VMMEM_IOTLB_TARGET_FRONTEND;
	uint64_t cur = iova, left = len;

	ps->n = 0;
	*fault_entry = NULL;
	while (left) {
		const struct vmmem__iotlb_entry *e;
		uint64_t n, tgt;

		/* The section's last hit first: most accesses stay in it. */
		if (cur - io->hit_iova < io->hit_len && (io->hit_perm & access)) {
			n = io->hit_len - (cur - io->hit_iova);
			if (n > left)
				n = left;
			pieces_add(ps, cur, cur + io->hit_delta, n);
			cur += n;
			left -= n;
			continue;
		}
		e = vmmem__iotlb_find(t, cur);
		if (!e || !(e->perm & access)) {
			*at = cur;
			*fault_entry = e;
			if (prefix && ps->n)
				return OK;
			return e ? DENIED : MISS;
		}
		n = e->last - cur + 1;
		if (n > left || n == 0)
			n = left;
		tgt = e->target + (cur - e->iova);
		if (!frontend) {
			set_hit(io, e, NULL);
			pieces_add(ps, cur, tgt, n);
			cur += n;
			left -= n;
			continue;
		}
		while (n) {
			const struct vmmem_fast_region *fe = vmmem__memory_user_find(io->mem, tgt);
			uint64_t k;

			if (!fe) {
				*at = cur;
				*fault_entry = e;
				if (prefix && ps->n)
					return OK;
				return UNBACKED;
			}
			set_hit(io, e, fe);
			k = fe->size - (tgt - fe->start);
			if (k > n)
				k = n;
			pieces_add(ps, cur, fe->region->start + (tgt - fe->start), k);
			cur += k;
			tgt += k;
			n -= k;
			left -= k;
		}
	}
	return OK;
}

/* The whole translation with misses reported: the miss handler may fill
 * the entry and ask for a retry (a bounded number of times). */
static bool
translate(vmmem_iova_t *io, uint64_t iova, uint64_t len, unsigned access, bool prefix,
	  struct pieces *ps, GError **error)
{
	unsigned retries = 0, reloads = 0;

	if (len - 1 > UINT64_MAX - iova) {
		vmmem__error(error, VMMEM_ERROR_OVERFLOW,
			     "cannot %s 0x%" PRIx64 " bytes at IOVA 0x%" PRIx64
			     ": the range passes 2^64",
			     kind(access), len, iova);
		return false;
	}
	for (;;) {
		const struct vmmem__iotlb_entry *e;
		enum fault f;
		uint64_t at = iova;
		vmmem_iotlb_t *tlb = io->tlb;

		f = walk(io, iova, len, access, prefix, ps, &at, &e);
		if (f == OK)
			return true;
		if (f == UNBACKED) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
				     "IOVA 0x%" PRIx64 " (%s): its IOTLB entry maps it to frontend "
				     "address 0x%" PRIx64 ", which no region of the memory backs",
				     at, kind(access), e->target + (at - e->iova));
			return false;
		}
		/* An update published since the section began may hold the
		 * entry: look at the current table before reporting. It is as
		 * safe to use as the section's own (no table published after
		 * the section began is freed before it ends). */
		if (__atomic_load_n(&tlb->current, __ATOMIC_ACQUIRE) != io->table &&
		    reloads++ < VMMEM_IOTLB_MAX_RETRIES) {
			io->table = __atomic_load_n(&tlb->current, __ATOMIC_ACQUIRE);
			forget_hit(io);
			continue;
		}
		if (tlb->miss && retries < VMMEM_IOTLB_MAX_RETRIES &&
		    tlb->miss(tlb, at, (vmmem_iotlb_perm_t)access,
			      f == MISS ? VMMEM_IOTLB_FAULT_MISS : VMMEM_IOTLB_FAULT_DENIED,
			      tlb->miss_data) == VMMEM_IOTLB_RETRY) {
			/* The handler's update is in the current table; this
			 * section keeps protecting the old one it held. */
			retries++;
			io->table = __atomic_load_n(&tlb->current, __ATOMIC_ACQUIRE);
			forget_hit(io);
			continue;
		}
		if (f == MISS)
			vmmem__error(error, VMMEM_ERROR_IOTLB_MISS,
				     "IOTLB miss at IOVA 0x%" PRIx64 " (%s): no entry translates it",
				     at, kind(access));
		else
			vmmem__error(error, VMMEM_ERROR_IOTLB_DENIED,
				     "IOTLB denies a %s at IOVA 0x%" PRIx64 ": its entry [0x%" PRIx64
				     ", 0x%" PRIx64 "] is %s",
				     kind(access), at, e->iova, e->last, perm_name(e->perm));
		return false;
	}
}

/* Every piece backed by the memory, else the error the guest functions
 * give, naming the IOVA too. */
static bool
pieces_backed(vmmem_iova_t *io, const struct pieces *ps, GError **error)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct piece *p = &ps->p[i];
		uint64_t off;

		if (p->len > SIZE_MAX ||
		    !vmmem_memory_check_range(io->mem, vmmem_guest_addr(p->gpa), (size_t)p->len)) {
			/* Find the first guest byte that is not backed. */
			off = 0;
			while (off < p->len &&
			       vmmem_memory_to_region(io->mem, vmmem_guest_addr(p->gpa + off), NULL)) {
				const vmmem_region_t *r =
					vmmem_memory_to_region(io->mem, vmmem_guest_addr(p->gpa + off), NULL);
				off = vmmem_region_last_addr(r).raw - p->gpa + 1;
			}
			if (off == 0 && i == 0)
				vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
					     "IOVA 0x%" PRIx64 " translates to guest address 0x%" PRIx64
					     ", which no region backs",
					     p->iova, p->gpa);
			else
				vmmem__error(error, VMMEM_ERROR_PARTIAL_RANGE,
					     "IOVA 0x%" PRIx64 " translates to guest address 0x%" PRIx64
					     ", which no region backs (the access began at IOVA 0x%" PRIx64
					     ")",
					     p->iova + off, p->gpa + off, ps->p[0].iova);
			return false;
		}
	}
	return true;
}

/* Translation, permission and backing of the whole range. */
static bool
translate_backed(vmmem_iova_t *io, uint64_t iova, uint64_t len, unsigned access,
		 struct pieces *ps, GError **error)
{
	return translate(io, iova, len, access, false, ps, error) && pieces_backed(io, ps, error);
}

static void
prefix_iova(GError **error, uint64_t iova, uint64_t gpa)
{
	g_prefix_error(error, "IOVA 0x%" PRIx64 " (guest 0x%" PRIx64 "): ", iova, gpa);
}

bool
vmmem_iova_translate(vmmem_iova_t *io, uint64_t iova, uint64_t len, vmmem_iotlb_perm_t access,
		     vmmem_guest_addr_t *gpa, uint64_t *plen, GError **error)
{
	struct pieces ps;
	bool ok;

	if (len == 0 || (access != VMMEM_IOTLB_READ && access != VMMEM_IOTLB_WRITE)) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "cannot translate IOVA 0x%" PRIx64 ": %s", iova,
			     len == 0 ? "length 0" : "the access is neither read nor write");
		return false;
	}
	pieces_init(&ps);
	ok = translate(io, iova, len, access, true, &ps, error);
	if (ok) {
		gpa->raw = ps.p[0].gpa;
		*plen = ps.p[0].len;
	}
	pieces_clear(&ps);
	return ok;
}

bool
vmmem_iova_check_range(vmmem_iova_t *io, uint64_t iova, size_t len, vmmem_iotlb_perm_t access)
{
	struct pieces ps;
	bool ok;

	if (len == 0)
		return true;
	if (access != VMMEM_IOTLB_READ && access != VMMEM_IOTLB_WRITE)
		return false;
	pieces_init(&ps);
	ok = translate_backed(io, iova, len, access, &ps, NULL);
	pieces_clear(&ps);
	return ok;
}

/* ---- copies ---- */

static bool
copy_prefix(vmmem_iova_t *io, uint64_t iova, uint8_t *buf, size_t len, bool to_guest,
	    size_t *done, GError **error)
{
	unsigned access = to_guest ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ;
	struct pieces ps;
	size_t moved = 0;
	bool ok = true;

	if (done)
		*done = 0;
	if (len == 0)
		return true;
	pieces_init(&ps);
	if (!translate(io, iova, len, access, true, &ps, error)) {
		pieces_clear(&ps);
		return false;
	}
	for (size_t i = 0; i < ps.n; i++) {
		const struct piece *p = &ps.p[i];
		size_t d = 0;
		GError *e = NULL;

		if (to_guest)
			ok = vmmem_memory_write(io->mem, vmmem_guest_addr(p->gpa), buf + moved,
						(size_t)p->len, &d, moved ? NULL : &e);
		else
			ok = vmmem_memory_read(io->mem, vmmem_guest_addr(p->gpa), buf + moved,
					       (size_t)p->len, &d, moved ? NULL : &e);
		if (!ok && moved == 0) {
			prefix_iova(&e, p->iova, p->gpa);
			g_propagate_error(error, e);
			break;
		}
		ok = true;
		moved += d;
		if (d < p->len)
			break;
	}
	pieces_clear(&ps);
	if (done)
		*done = moved;
	return ok;
}

static bool
copy_exact(vmmem_iova_t *io, uint64_t iova, uint8_t *buf, size_t len, bool to_guest,
	   GError **error)
{
	unsigned access = to_guest ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ;
	struct pieces ps;
	size_t moved = 0;
	bool ok = true;

	if (len == 0)
		return true;
	pieces_init(&ps);
	if (!translate_backed(io, iova, len, access, &ps, error)) {
		pieces_clear(&ps);
		return false;
	}
	for (size_t i = 0; i < ps.n && ok; i++) {
		const struct piece *p = &ps.p[i];

		if (to_guest)
			ok = vmmem_memory_write_slice(io->mem, vmmem_guest_addr(p->gpa), buf + moved,
						      (size_t)p->len, error);
		else
			ok = vmmem_memory_read_slice(io->mem, vmmem_guest_addr(p->gpa), buf + moved,
						     (size_t)p->len, error);
		if (!ok)
			prefix_iova(error, p->iova, p->gpa);
		moved += (size_t)p->len;
	}
	pieces_clear(&ps);
	return ok;
}

bool
vmmem_iova_read(vmmem_iova_t *io, uint64_t iova, void *buf, size_t len, size_t *done,
		GError **error)
{
	return copy_prefix(io, iova, buf, len, false, done, error);
}

bool
vmmem_iova_write(vmmem_iova_t *io, uint64_t iova, const void *buf, size_t len, size_t *done,
		 GError **error)
{
	return copy_prefix(io, iova, (uint8_t *)buf, len, true, done, error);
}

bool
vmmem_iova_read_slice(vmmem_iova_t *io, uint64_t iova, void *buf, size_t len, GError **error)
{
	return copy_exact(io, iova, buf, len, false, error);
}

bool
vmmem_iova_write_slice(vmmem_iova_t *io, uint64_t iova, const void *buf, size_t len,
		       GError **error)
{
	return copy_exact(io, iova, (uint8_t *)buf, len, true, error);
}

/* ---- values ---- */

/* A value that must move in one access but whose IOVAs land in two
 * separate guest ranges cannot: refuse it rather than tear it. */
static bool
one_range(const struct pieces *ps, uint64_t iova, size_t size, GError **error)
{
	if (ps->n == 1)
		return true;
	vmmem__error(error, VMMEM_ERROR_CROSSES_REGION,
		     "IOVA 0x%" PRIx64 ": the %zu-byte value must move in one access, but its "
		     "IOVAs translate to %zu separate guest ranges (at guest 0x%" PRIx64
		     " and 0x%" PRIx64 ")",
		     iova, size, ps->n, ps->p[0].gpa, ps->p[1].gpa);
	return false;
}

static bool
obj_access(vmmem_iova_t *io, uint64_t iova, uint8_t *obj, size_t size, bool to_guest,
	   GError **error)
{
	unsigned access = to_guest ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ;
	struct pieces ps;
	bool ok;

	if (size == 0)
		return true;
	if (!VMMEM__ONE_ACCESS(size) || (iova & (size - 1)) != 0)
		return copy_exact(io, iova, obj, size, to_guest, error);
	pieces_init(&ps);
	ok = translate_backed(io, iova, size, access, &ps, error) &&
	     one_range(&ps, iova, size, error);
	if (ok) {
		if (to_guest)
			ok = vmmem_memory_write_obj(io->mem, vmmem_guest_addr(ps.p[0].gpa), obj, size,
						    error);
		else
			ok = vmmem_memory_read_obj(io->mem, vmmem_guest_addr(ps.p[0].gpa), obj, size,
						   error);
		if (!ok)
			prefix_iova(error, iova, ps.p[0].gpa);
	}
	pieces_clear(&ps);
	return ok;
}

/* The common miss of the hit cache: the value lies in another entry of
 * the section's table. Refills the hit from that entry (a binary search)
 * and reports whether the value now hits; everything else, and every
 * error, takes the general path. */
static bool
refill_hit(vmmem_iova_t *io, uint64_t iova, size_t size, unsigned access, uint64_t *gpa)
{
	const struct vmmem__iotlb_entry *e = vmmem__iotlb_find(table(io), iova);

	if (!e || !(e->perm & access))
		return false;
	if (io->tlb->target == VMMEM_IOTLB_TARGET_FRONTEND) {
		const struct vmmem_fast_region *fe =
			vmmem__memory_user_find(io->mem, e->target + (iova - e->iova));

		if (!fe)
			return false;
		set_hit(io, e, fe);
	} else {
		set_hit(io, e, NULL);
	}
	return vmmem__iova_hit(io, iova, size, access, gpa);
}

bool
vmmem_iova_read_obj_slow(vmmem_iova_t *io, uint64_t iova, void *obj, size_t size,
			 GError **error)
{
	uint64_t gpa;

	if (VMMEM__ONE_ACCESS(size) && refill_hit(io, iova, size, VMMEM_IOTLB_READ, &gpa) &&
	    vmmem_memory_read_obj(io->mem, vmmem_guest_addr(gpa), obj, size, NULL))
		return true;
	return obj_access(io, iova, obj, size, false, error);
}

bool
vmmem_iova_write_obj_slow(vmmem_iova_t *io, uint64_t iova, const void *obj, size_t size,
			  GError **error)
{
	uint64_t gpa;

	if (VMMEM__ONE_ACCESS(size) && refill_hit(io, iova, size, VMMEM_IOTLB_WRITE, &gpa) &&
	    vmmem_memory_write_obj(io->mem, vmmem_guest_addr(gpa), obj, size, NULL))
		return true;
	return obj_access(io, iova, (uint8_t *)obj, size, true, error);
}

static bool
atomic_access(vmmem_iova_t *io, uint64_t iova, unsigned width, bool store, uint64_t value,
	      vmmem_memory_order_t order, uint64_t *out, GError **error)
{
	struct pieces ps;
	bool ok;

	if (width != 1 && width != 2 && width != 4 && width != 8) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "IOVA 0x%" PRIx64 ": atomic width %u is not 1, 2, 4 or 8", iova, width);
		return false;
	}
	if (iova & (width - 1)) {
		vmmem__error(error, VMMEM_ERROR_MISALIGNED,
			     "IOVA 0x%" PRIx64 " is not aligned for a %u-byte atomic access", iova,
			     width);
		return false;
	}
	{
		uint64_t gpa;

		if (refill_hit(io, iova, width, store ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ,
			       &gpa) &&
		    (store ? vmmem_memory_store(io->mem, vmmem_guest_addr(gpa), width, value, order,
						NULL)
			   : vmmem_memory_load(io->mem, vmmem_guest_addr(gpa), width, order, out,
					       NULL)))
			return true;
	}
	pieces_init(&ps);
	ok = translate_backed(io, iova, width, store ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ, &ps,
			      error) &&
	     one_range(&ps, iova, width, error);
	if (ok) {
		vmmem_guest_addr_t g = vmmem_guest_addr(ps.p[0].gpa);

		ok = store ? vmmem_memory_store(io->mem, g, width, value, order, error)
			   : vmmem_memory_load(io->mem, g, width, order, out, error);
		if (!ok)
			prefix_iova(error, iova, g.raw);
	}
	pieces_clear(&ps);
	return ok;
}

bool
vmmem_iova_load(vmmem_iova_t *io, uint64_t iova, unsigned width, vmmem_memory_order_t order,
		uint64_t *out, GError **error)
{
	return atomic_access(io, iova, width, false, 0, order, out, error);
}

bool
vmmem_iova_store(vmmem_iova_t *io, uint64_t iova, unsigned width, uint64_t value,
		 vmmem_memory_order_t order, GError **error)
{
	return atomic_access(io, iova, width, true, value, order, NULL, error);
}

/* ---- zero copy ---- */

bool
vmmem_iova_get_slice(vmmem_iova_t *io, uint64_t iova, size_t len, vmmem_iotlb_perm_t access,
		     vmmem_slice_t *out, GError **error)
{
	struct pieces ps;
	bool ok;

	if (access != VMMEM_IOTLB_READ && access != VMMEM_IOTLB_WRITE) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "slice at IOVA 0x%" PRIx64 ": the access is neither read nor write",
			     iova);
		return false;
	}
	if (len == 0) {
		out->host = NULL;
		out->len = 0;
		return true;
	}
	pieces_init(&ps);
	ok = translate_backed(io, iova, len, access, &ps, error);
	if (ok && ps.n > 1) {
		vmmem__error(error, VMMEM_ERROR_CROSSES_REGION,
			     "slice of 0x%zx bytes at IOVA 0x%" PRIx64 ": its IOVAs translate to %zu "
			     "separate guest ranges (the second at IOVA 0x%" PRIx64 ", guest 0x%" PRIx64
			     ")",
			     len, iova, ps.n, ps.p[1].iova, ps.p[1].gpa);
		ok = false;
	}
	if (ok) {
		ok = vmmem_memory_get_slice(io->mem, vmmem_guest_addr(ps.p[0].gpa), len, out, error);
		if (!ok)
			prefix_iova(error, iova, ps.p[0].gpa);
	}
	pieces_clear(&ps);
	return ok;
}

bool
vmmem_iova_get_iovec(vmmem_iova_t *io, uint64_t iova, size_t len, vmmem_iotlb_perm_t access,
		     struct iovec *iov, size_t max_iov, size_t *n_iov, GError **error)
{
	struct pieces ps;
	size_t used = 0;
	bool ok;

	*n_iov = 0;
	if (access != VMMEM_IOTLB_READ && access != VMMEM_IOTLB_WRITE) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "iovecs at IOVA 0x%" PRIx64 ": the access is neither read nor write",
			     iova);
		return false;
	}
	if (len == 0)
		return true;
	pieces_init(&ps);
	ok = translate_backed(io, iova, len, access, &ps, error);
	for (size_t i = 0; ok && i < ps.n; i++) {
		const struct piece *p = &ps.p[i];
		size_t room = used < max_iov ? max_iov - used : 0, k = 0;
		GError *e = NULL;

		/* With no room left, the call only counts (NO_SPACE). */
		if (!vmmem_memory_get_iovec(io->mem, vmmem_guest_addr(p->gpa), (size_t)p->len,
					    room ? iov + used : NULL, room, &k, &e)) {
			if (!g_error_matches(e, VMMEM_ERROR, VMMEM_ERROR_NO_SPACE)) {
				prefix_iova(&e, p->iova, p->gpa);
				g_propagate_error(error, e);
				ok = false;
				break;
			}
			g_error_free(e);
		}
		used += k;
	}
	if (ok) {
		*n_iov = used;
		if (used > max_iov) {
			vmmem__error(error, VMMEM_ERROR_NO_SPACE,
				     "0x%zx bytes at IOVA 0x%" PRIx64 " need %zu iovecs, only %zu given",
				     len, iova, used, max_iov);
			ok = false;
		}
	}
	pieces_clear(&ps);
	return ok;
}

void
vmmem_iova_mark_dirty(vmmem_iova_t *io, uint64_t iova, size_t len)
{
	const struct vmmem__iotlb_table *t = table(io);
	bool frontend = io->tlb->target == VMMEM_IOTLB_TARGET_FRONTEND;
	uint64_t cur = iova, left = len;

	if (len == 0 || len - 1 > UINT64_MAX - iova)
		return;
	while (left) {
		ptrdiff_t i = vmmem__iotlb_floor(t, cur);
		const struct vmmem__iotlb_entry *e = i >= 0 ? &t->e[i] : NULL;
		uint64_t n, tgt;

		if (!e || cur > e->last) {
			/* Skip to the next entry, if it starts inside the range. */
			size_t next = (size_t)(i + 1);

			if (next >= t->n || t->e[next].iova - cur >= left)
				return;
			left -= t->e[next].iova - cur;
			cur = t->e[next].iova;
			continue;
		}
		n = e->last - cur + 1;
		if (n > left || n == 0)
			n = left;
		tgt = e->target + (cur - e->iova);
		if (!frontend) {
			if (n <= SIZE_MAX)
				vmmem_memory_mark_dirty(io->mem, vmmem_guest_addr(tgt), (size_t)n);
		} else {
			uint64_t m = n;

			while (m) {
				const struct vmmem_fast_region *fe =
					vmmem__memory_user_find(io->mem, tgt);
				uint64_t k;

				if (!fe)
					break; /* the rest of this entry is unbacked */
				k = fe->size - (tgt - fe->start);
				if (k > m)
					k = m;
				vmmem_memory_mark_dirty(io->mem,
							vmmem_guest_addr(fe->region->start +
									 (tgt - fe->start)),
							(size_t)k);
				tgt += k;
				m -= k;
			}
		}
		cur += n;
		left -= n;
	}
}
