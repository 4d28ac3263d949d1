/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The memory family: accesses by guest address, split across adjacent
 * regions. Every all-or-nothing operation first measures how much of the
 * range is backed (backed_prefix) and only then moves bytes, so a failing
 * access never leaves guest memory half written (vm-memory's write_slice
 * does; see ../shared/notes/memory.md). */
#include "config.h"

#include <alloca.h>
#include <string.h>

#include "internal.h"

/* How many bytes from addr, up to len, are backed by a run of adjacent
 * regions; *first gets the index of the region holding addr (-1 if none). */
static size_t
backed_prefix(const vmmem_memory_t *mem, uint64_t addr, size_t len, ptrdiff_t *first)
{
	ptrdiff_t i = vmmem__memory_index(mem, addr);
	const struct vmmem_region *r;
	uint64_t avail;

	*first = i;
	if (i < 0 || len == 0)
		return 0;
	r = mem->regions[i];
	avail = r->last - addr + 1; /* <= r->size: no overflow */
	while (avail < len) {
		const struct vmmem_region *next;

		if ((size_t)i + 1 >= mem->n || r->last == UINT64_MAX)
			break;
		next = mem->regions[i + 1];
		if (next->start != r->last + 1)
			break;
		if (next->size >= len - avail)
			return len;
		avail += next->size;
		r = next;
		i++;
	}
	return avail < len ? (size_t)avail : len;
}

/* VMMEM_ERROR_REGION_LOST if a region under [addr, addr + len) was lost
 * to a SIGBUS (core/sigbus.c). Looks at the regions only once any region
 * of the process was lost: until then one load of a global. */
static bool
lost_in(const vmmem_memory_t *mem, uint64_t addr, size_t len, GError **error)
{
	ptrdiff_t i;

	if (__builtin_expect(!__atomic_load_n(&vmmem__sigbus_lost, __ATOMIC_RELAXED), 1))
		return false;
	for (i = vmmem__memory_index(mem, addr); i >= 0 && (size_t)i < mem->n; i++) {
		const struct vmmem_region *r = mem->regions[i];

		if (r->start > addr && r->start - addr >= (len ? len : 1))
			break;
		if (vmmem__lost_error(r, error))
			return true;
		if (r->last == UINT64_MAX)
			break;
	}
	return false;
}

/* VMMEM_ERROR_READ_ONLY if a region under [addr, addr + len) is
 * read-only: every write path asks before a byte moves. Looks at the
 * regions only when the memory has a read-only region, which its write
 * gate says; until then one test of a word the lookup has just read. */
static bool
read_only_in(const vmmem_memory_t *mem, uint64_t addr, size_t len, GError **error)
{
	ptrdiff_t i;

	if (__builtin_expect(!(mem->view.gate & VMMEM__GATE_READ_ONLY), 1))
		return false;
	/* The common case, a write inside one region: its bucket's candidate
	 * answers without a walk. */
	{
		const struct vmmem_fast_region *c = vmmem__candidate(mem, addr);
		uint64_t off = addr - c->start;

		if (off < c->size && len <= c->size - off && !c->region->read_only)
			return false;
	}
	for (i = vmmem__memory_index(mem, addr); i >= 0 && (size_t)i < mem->n; i++) {
		const struct vmmem_region *r = mem->regions[i];

		if (r->start > addr && r->start - addr >= (len ? len : 1))
			break;
		if (r->read_only) {
			vmmem__error(error, VMMEM_ERROR_READ_ONLY,
				     "cannot write 0x%zx bytes at guest address 0x%" PRIx64
				     ": region '%s' [0x%" PRIx64 ", +0x%" PRIx64 ") is read-only",
				     len, addr, r->name, r->start, r->size);
			return true;
		}
		if (r->last == UINT64_MAX)
			break;
	}
	return false;
}

/* Walks [addr, addr + len), known to be backed, one region at a time. */
typedef struct {
	const vmmem_memory_t *mem;
	size_t idx;
	uint64_t addr;
	size_t left;
} piece_iter_t;

static bool
next_piece(piece_iter_t *it, uint8_t **host, size_t *n)
{
	const struct vmmem_region *r;
	uint64_t room;

	if (it->left == 0)
		return false;
	r = it->mem->regions[it->idx];
	room = r->last - it->addr + 1;
	*host = r->host + (it->addr - r->start);
	*n = room < it->left ? (size_t)room : it->left;
	it->left -= *n;
	it->addr += *n; /* wraps to 0 only when left is 0 */
	it->idx++;
	return true;
}

static piece_iter_t
pieces(const vmmem_memory_t *mem, ptrdiff_t first, uint64_t addr, size_t len)
{
	piece_iter_t it = { mem, (size_t)first, addr, len };
	return it;
}

static void
hole_error(GError **error, uint64_t addr)
{
	vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS,
		     "guest address 0x%" PRIx64 " is not backed by any region", addr);
}

/* The whole range backed, or an error naming the first unbacked address,
 * the length asked for and the length available. */
static bool
whole_range(const vmmem_memory_t *mem, uint64_t addr, size_t len, const char *verb,
	    ptrdiff_t *first, GError **error)
{
	size_t avail;

	*first = -1;
	if (len - 1 > UINT64_MAX - addr) {
		vmmem__error(error, VMMEM_ERROR_OVERFLOW,
			     "cannot %s 0x%zx bytes at guest address 0x%" PRIx64
			     ": the range passes 2^64",
			     verb, len, addr);
		return false;
	}
	avail = backed_prefix(mem, addr, len, first);
	if (avail == len)
		return true;
	/* <vmmem/error.h>: nothing backed at the start is INVALID_ADDRESS
	 * for every family, PARTIAL_RANGE only a range that starts backed. */
	if (avail == 0) {
		hole_error(error, addr);
		return false;
	}
	/* addr + avail cannot wrap: addr + len - 1 fits and avail < len. */
	vmmem__error(error, VMMEM_ERROR_PARTIAL_RANGE,
		     "cannot %s 0x%zx bytes at guest address 0x%" PRIx64
		     ": only 0x%zx bytes are backed, guest address 0x%" PRIx64 " is not",
		     verb, len, addr, avail, addr + avail);
	return false;
}

/* Copies a backed range [addr, addr + len) piece by piece, into guest
 * memory (to_guest) or out of it. */
static void
copy_pieces(const vmmem_memory_t *mem, ptrdiff_t first, uint64_t addr, uint8_t *buf, size_t len,
	    bool to_guest)
{
	piece_iter_t it = pieces(mem, first, addr, len);
	uint8_t *host;
	size_t k;

	while (next_piece(&it, &host, &k)) {
		if (to_guest)
			vmmem__copy(host, buf, k);
		else
			vmmem__copy(buf, host, k);
		buf += k;
	}
}

/* read / write: as far as memory is contiguous from addr. */
static bool
copy_prefix(const vmmem_memory_t *mem, uint64_t addr, uint8_t *buf, size_t len, bool to_guest,
	    size_t *done, GError **error)
{
	ptrdiff_t first;
	size_t n = backed_prefix(mem, addr, len, &first);

	if (done)
		*done = 0;
	if (len == 0)
		return true;
	if (n == 0) {
		hole_error(error, addr);
		return false;
	}
	if (lost_in(mem, addr, n, error) || (to_guest && read_only_in(mem, addr, n, error)))
		return false;
	copy_pieces(mem, first, addr, buf, n, to_guest);
	if (to_guest)
		vmmem__memory_log(mem, addr, n);
	if (done)
		*done = n;
	return true;
}

/* read_slice / write_slice: all or nothing. */
static bool
copy_exact(const vmmem_memory_t *mem, uint64_t addr, uint8_t *buf, size_t len, bool to_guest,
	   GError **error)
{
	uint8_t *h = vmmem__fast_host(mem, addr, len);
	ptrdiff_t first;

	if (len == 0)
		return true;
	if (lost_in(mem, addr, len, error) || (to_guest && read_only_in(mem, addr, len, error)))
		return false;
	if (h) { /* the common case: inside one region */
		if (to_guest)
			vmmem__copy(h, buf, len);
		else
			vmmem__copy(buf, h, len);
	} else {
		if (!whole_range(mem, addr, len, to_guest ? "write" : "read", &first, error))
			return false;
		copy_pieces(mem, first, addr, buf, len, to_guest);
	}
	if (to_guest)
		vmmem__memory_log(mem, addr, len);
	return true;
}

/* The casts drop const from the source buffer of the write forms only to
 * share one loop; copy_pieces never writes to buf when to_guest. */
bool
vmmem_memory_read(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, void *buf, size_t len,
		  size_t *done, GError **error)
{
	return copy_prefix(mem, addr.raw, buf, len, false, done, error);
}

bool
vmmem_memory_write(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, const void *buf,
		   size_t len, size_t *done, GError **error)
{
	return copy_prefix(mem, addr.raw, (uint8_t *)(uintptr_t)buf, len, true, done, error);
}

bool
vmmem_memory_read_slice_slow(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, void *buf,
			     size_t len, GError **error)
{
	return copy_exact(mem, addr.raw, buf, len, false, error);
}

bool
vmmem_memory_write_slice_slow(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
			      const void *buf, size_t len, GError **error)
{
	return copy_exact(mem, addr.raw, (uint8_t *)(uintptr_t)buf, len, true, error);
}

bool
vmmem_memory_check_range(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len)
{
	ptrdiff_t first;

	return len == 0 || backed_prefix(mem, addr.raw, len, &first) == len;
}

/* The host pointer for an atomic access, or an error saying why not. */
static uint8_t *
atomic_host(const vmmem_memory_t *mem, uint64_t addr, unsigned width, GError **error)
{
	uint8_t *h;

	if (!vmmem__valid_width(width, error)) {
		g_prefix_error(error, "guest address 0x%" PRIx64 ": ", addr);
		return NULL;
	}
	if (addr & (width - 1)) {
		vmmem__error(error, VMMEM_ERROR_MISALIGNED,
			     "guest address 0x%" PRIx64 " is not aligned to %u bytes for an "
			     "atomic access",
			     addr, width);
		return NULL;
	}
	if (lost_in(mem, addr, width, error))
		return NULL;
	/* Regions start and end on page boundaries, so an aligned access is
	 * either wholly inside one region or wholly in a hole. */
	h = vmmem__fast_host(mem, addr, width);
	if (!h) {
		const vmmem_region_t *r = vmmem_memory_find_region_slow(mem, addr);
		if (r)
			return r->host + (addr - r->start);
		hole_error(error, addr);
	}
	return h;
}

bool
vmmem_memory_load(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, unsigned width,
		  memory_order order, uint64_t *out, GError **error)
{
	uint8_t *h = atomic_host(mem, addr.raw, width, error);

	return h && vmmem__atomic_load(h, width, order, out);
}

bool
vmmem_memory_store(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, unsigned width,
		   uint64_t value, memory_order order, GError **error)
{
	uint8_t *h = atomic_host(mem, addr.raw, width, error);

	if (!h || read_only_in(mem, addr.raw, width, error))
		return false;
	vmmem__atomic_store(h, width, value, order);
	vmmem__memory_log(mem, addr.raw, width);
	return true;
}

/* Collects the iovecs of a backed range [addr, addr + len). */
static size_t
fill_iovec(const vmmem_memory_t *mem, ptrdiff_t first, uint64_t addr, size_t len,
	   struct iovec *iov, size_t max)
{
	piece_iter_t it = pieces(mem, first, addr, len);
	uint8_t *host;
	size_t k, n = 0;

	while (next_piece(&it, &host, &k)) {
		if (n < max) {
			iov[n].iov_base = host;
			iov[n].iov_len = k;
		}
		n++;
	}
	return n;
}

bool
vmmem_memory_get_iovec_for(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len,
			   vmmem_access_t access, struct iovec *iov, size_t max_iov,
			   size_t *n_iov, GError **error)
{
	ptrdiff_t first;
	size_t n;

	*n_iov = 0;
	if (!vmmem__valid_access(access, error))
		return false;
	if (len == 0)
		return true;
	if (lost_in(mem, addr.raw, len, error) ||
	    !whole_range(mem, addr.raw, len, "map", &first, error) ||
	    ((access & VMMEM_ACCESS_WRITE) && read_only_in(mem, addr.raw, len, error)))
		return false;
	n = fill_iovec(mem, first, addr.raw, len, iov, max_iov);
	*n_iov = n;
	if (n > max_iov) {
		vmmem__error(error, VMMEM_ERROR_NO_SPACE,
			     "0x%zx bytes at guest address 0x%" PRIx64 " need %zu iovecs, "
			     "only %zu given",
			     len, addr.raw, n, max_iov);
		return false;
	}
	return true;
}

bool
vmmem_memory_get_iovec(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len,
		       struct iovec *iov, size_t max_iov, size_t *n_iov, GError **error)
{
	return vmmem_memory_get_iovec_for(mem, addr, len, VMMEM_ACCESS_READ_WRITE, iov, max_iov,
					  n_iov, error);
}

static bool
memory_fd(const vmmem_memory_t *mem, uint64_t addr, int fd, size_t len, bool to_fd,
	  bool exact, size_t *done, GError **error)
{
	struct iovec small[8], *iov = small;
	ptrdiff_t first;
	size_t n, count, moved = 0;
	char what[48];
	bool ok;

	if (done)
		*done = 0;
	if (len == 0)
		return true;
	if (lost_in(mem, addr, len, error))
		return false;
	if (exact) {
		if (!whole_range(mem, addr, len, to_fd ? "write out" : "read in", &first, error))
			return false;
		n = len;
	} else {
		n = backed_prefix(mem, addr, len, &first);
		if (n == 0) {
			hole_error(error, addr);
			return false;
		}
	}
	if (!to_fd && read_only_in(mem, addr, n, error))
		return false;
	count = fill_iovec(mem, first, addr, n, small, G_N_ELEMENTS(small));
	if (count > G_N_ELEMENTS(small)) {
		if (!(iov = vmmem__malloc_n(count, sizeof(*iov))))
			return vmmem__nomem(error, "the iovecs of an fd transfer");
		fill_iovec(mem, first, addr, n, iov, count);
	}
	g_snprintf(what, sizeof(what), "guest address 0x%" PRIx64, addr);
	ok = vmmem__fd_transfer(fd, iov, count, n, to_fd, exact, what, &moved, error);
	/* Bytes read before a failure stay in guest memory: they are logged
	 * as well. */
	if (!to_fd)
		vmmem__memory_log(mem, addr, moved);
	if (done)
		*done = moved;
	if (iov != small)
		g_free(iov);
	return ok;
}

bool
vmmem_memory_read_from_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, int fd,
			  size_t len, size_t *done, GError **error)
{
	return memory_fd(mem, addr.raw, fd, len, false, false, done, error);
}

bool
vmmem_memory_read_exact_from_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, int fd,
				size_t len, GError **error)
{
	return memory_fd(mem, addr.raw, fd, len, false, true, NULL, error);
}

bool
vmmem_memory_write_to_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, int fd,
			 size_t len, size_t *done, GError **error)
{
	return memory_fd(mem, addr.raw, fd, len, true, false, done, error);
}

bool
vmmem_memory_write_all_to_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, int fd,
			     size_t len, GError **error)
{
	return memory_fd(mem, addr.raw, fd, len, true, true, NULL, error);
}

bool
vmmem_memory_get_slice(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len,
		       vmmem_slice_t *out, GError **error)
{
	return vmmem_memory_get_slice_for(mem, addr, len, VMMEM_ACCESS_READ_WRITE, out, error);
}

bool
vmmem_memory_get_slice_for(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, size_t len,
			   vmmem_access_t access, vmmem_slice_t *out, GError **error)
{
	uint8_t *h = vmmem__fast_host(mem, addr.raw, len);
	ptrdiff_t first;
	size_t avail;

	if (!vmmem__valid_access(access, error))
		return false;
	if (len == 0) {
		out->host = NULL;
		out->len = 0;
		return true;
	}
	if (lost_in(mem, addr.raw, len, error) ||
	    ((access & VMMEM_ACCESS_WRITE) && read_only_in(mem, addr.raw, len, error)))
		return false;
	if (!h) {
		const vmmem_region_t *r = vmmem_memory_find_region_slow(mem, addr.raw);
		if (r && r->last - addr.raw + 1 >= len)
			h = r->host + (addr.raw - r->start);
	}
	if (h) {
		out->host = h;
		out->len = len;
		return true;
	}
	avail = backed_prefix(mem, addr.raw, len, &first);
	if (first < 0) {
		hole_error(error, addr.raw);
		return false;
	}
	if (avail == len) {
		const struct vmmem_region *r = mem->regions[first];
		vmmem__error(error, VMMEM_ERROR_CROSSES_REGION,
			     "0x%zx bytes at guest address 0x%" PRIx64 " cross from region '%s' "
			     "into region '%s' at 0x%" PRIx64 ": no single host pointer covers them",
			     len, addr.raw, r->name, mem->regions[first + 1]->name, r->last + 1);
		return false;
	}
	return whole_range(mem, addr.raw, len, "map", &first, error);
}
