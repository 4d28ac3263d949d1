/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A region on its own: its life (created through its provider, shared by
 * every snapshot that holds it, destroyed with the last one), its
 * properties, and the region-relative access family, which is the span
 * engine over the region's mapping. */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>

#include "internal.h"

static bool
is_power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The mapping's struct_size after create(), by the rule of
 * <vmmem/provider.h>: a provider of ABI 1.0/1.1 knows nothing of it (it
 * filled the 1.1 members and left the rest as the core zeroed them); a
 * newer one declares what it knows, at least the 1.2 struct and at most
 * the room it was given. Members past the declared size are cleared, so
 * that the core reads nothing the provider did not mean. */
static bool
mapping_declared(struct vmmem_region *r, GError **error)
{
	const struct vmmem_provider *d = r->module->desc;
	size_t room = sizeof(r->mapping), declared = r->mapping.struct_size;
	size_t least = offsetof(struct vmmem_provider_mapping, struct_size) + sizeof(size_t);

	if (d->abi_minor < 2) {
		r->mapping.struct_size = VMMEM_PROVIDER_MAPPING_SIZE_1_1;
		return true;
	}
	if (declared < least || declared > room) {
		vmmem__error(error, VMMEM_ERROR_PROVIDER_INVALID,
			     "region '%s': provider '%s' (%s) declares a mapping struct_size of "
			     "%zu; this vmmem takes %zu to %zu",
			     r->name, d->name, r->module->path, declared, least, room);
		return false;
	}
	memset((char *)&r->mapping + declared, 0, room - declared);
	return true;
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
	/* The room: a provider built against a newer header writes nothing
	 * past it (VMMEM_PROVIDER_MAPPING_HAS). */
	r->mapping.struct_size = sizeof(r->mapping);
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
	if (!mapping_declared(r, error)) {
		ops->destroy(&r->mapping);
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
	/* Read-only is the core's, whatever the provider mapped: the library
	 * refuses writes itself, and PROT_READ makes a raw pointer's write
	 * fault instead of changing what the region promises not to. */
	if (r->read_only && mprotect(r->host, r->size, PROT_READ) != 0) {
		int e = errno;
		vmmem__error_errno(error, VMMEM_ERROR_IO, e,
				   "region '%s': cannot make its mapping read-only: %s", r->name,
				   g_strerror(e));
		ops->destroy(&r->mapping);
		goto fail;
	}
	/* A note to the core only: it never shows in vmmem_region_flags() or
	 * on the wire of vmmem_memory_send(). */
	r->movable = (r->mapping.flags & VMMEM_REGION_MOVABLE) != 0;
	/* Bits of a newer minor mean nothing here, and each is one an older
	 * core may ignore (docs/provider-abi.md): vmmem_region_flags() shows
	 * only what this core knows. */
	r->mapping.flags &= VMMEM_REGION_SHARED | VMMEM_REGION_HUGETLB | VMMEM_REGION_FD;
	return true;

fail:
	vmmem__module_unref(r->module);
	r->module = NULL;
	return false;
}

struct vmmem_region *
vmmem__region_new(const vmmem_region_spec_t *spec, const char *name, struct vmmem__logcell *cell,
		  GError **error)
{
	struct vmmem_region *r = vmmem__malloc0(sizeof(*r));

	if (!r || !(r->name = vmmem__strdup(name))) {
		g_free(r);
		vmmem__nomem(error, "a region");
		return NULL;
	}
	r->refcount = 1;
	r->start = spec->start.raw;
	r->size = spec->size;
	r->last = spec->start.raw + (spec->size - 1);
	r->dirty_tracking = (spec->flags & VMMEM_SPEC_DIRTY_TRACKING) != 0;
	r->read_only = (spec->flags & VMMEM_SPEC_READ_ONLY) != 0;
	if (!region_create(r, spec, error)) {
		g_free(r->name);
		g_free(r);
		return NULL;
	}
	vmmem__sigbus_register(r);
	if (cell)
		r->cell = vmmem__logcell_ref(cell);
	return r;
}

struct vmmem_region *
vmmem__region_ref(struct vmmem_region *r)
{
	g_atomic_int_inc(&r->refcount);
	return r;
}

void
vmmem__region_unref(struct vmmem_region *r)
{
	if (!r || !g_atomic_int_dec_and_test(&r->refcount))
		return;
	vmmem__sigbus_unregister(r);
	r->module->desc->ops->destroy(&r->mapping);
	vmmem__module_unref(r->module);
	/* The provider unmapped the range; a placed region gives it back to
	 * its space's reservation, so nothing else lands inside it. */
	if (r->res) {
		vmmem__reservation_release(r->res, r->start, r->size);
		vmmem__reservation_unref(r->res);
	}
	if (r->cell)
		vmmem__logcell_unref(r->cell);
	g_free(r->name);
	g_free(r);
}

const char *vmmem_region_name(const vmmem_region_t *r) { return r->name; }
vmmem_guest_addr_t vmmem_region_start(const vmmem_region_t *r) { return vmmem_guest_addr(r->start); }
uint64_t vmmem_region_size(const vmmem_region_t *r) { return r->size; }
vmmem_guest_addr_t vmmem_region_last_addr(const vmmem_region_t *r) { return vmmem_guest_addr(r->last); }
void *vmmem_region_host(const vmmem_region_t *r) { return r->host; }
uint64_t vmmem_region_page_size(const vmmem_region_t *r) { return r->mapping.page_size; }
uint32_t vmmem_region_flags(const vmmem_region_t *r) { return r->mapping.flags; }
int vmmem_region_fd(const vmmem_region_t *r) { return (r->mapping.flags & VMMEM_REGION_FD) ? r->mapping.fd : -1; }
uint64_t vmmem_region_fd_offset(const vmmem_region_t *r) { return r->mapping.fd_offset; }
const char *vmmem_region_provider_name(const vmmem_region_t *r) { return r->module->desc->name; }
const char *vmmem_region_provider_path(const vmmem_region_t *r) { return r->module->path; }

bool
vmmem_region_contains(const vmmem_region_t *r, vmmem_guest_addr_t addr)
{
	return addr.raw >= r->start && addr.raw <= r->last;
}

bool
vmmem_region_to_offset(const vmmem_region_t *r, vmmem_guest_addr_t addr, vmmem_region_addr_t *out)
{
	if (!vmmem_region_contains(r, addr))
		return false;
	out->raw = addr.raw - r->start;
	return true;
}

static vmmem__span_t
span(const vmmem_region_t *r)
{
	vmmem__span_t s = { r->host, r->size, r };
	return s;
}

/* Every region-family write asks first: VMMEM_ERROR_READ_ONLY, naming
 * the region, before a byte moves. A zero-length write moves nothing and
 * succeeds, as in every family. */
static bool
writable(const vmmem_region_t *r, uint64_t off, size_t len, GError **error)
{
	if (__builtin_expect(!r->read_only, 1) || len == 0)
		return true;
	vmmem__error(error, VMMEM_ERROR_READ_ONLY,
		     "cannot write 0x%zx bytes at region '%s' offset 0x%" PRIx64
		     ": the region is read-only",
		     len, r->name, off);
	return false;
}

bool
vmmem_region_read_only(const vmmem_region_t *r)
{
	return r->read_only;
}

bool
vmmem_region_read(const vmmem_region_t *r, vmmem_region_addr_t a, void *buf, size_t len,
		  size_t *done, GError **error)
{
	return vmmem__span_read(span(r), a.raw, buf, len, done, error);
}

bool
vmmem_region_write(const vmmem_region_t *r, vmmem_region_addr_t a, const void *buf, size_t len,
		   size_t *done, GError **error)
{
	size_t n;

	if (!writable(r, a.raw, len, error) || !vmmem__span_write(span(r), a.raw, buf, len, &n, error)) {
		if (done)
			*done = 0;
		return false;
	}
	vmmem__region_log(r, a.raw, n);
	if (done)
		*done = n;
	return true;
}

bool
vmmem_region_read_slice(const vmmem_region_t *r, vmmem_region_addr_t a, void *buf, size_t len,
			GError **error)
{
	return vmmem__span_read_exact(span(r), a.raw, buf, len, error);
}

bool
vmmem_region_write_slice(const vmmem_region_t *r, vmmem_region_addr_t a, const void *buf,
			 size_t len, GError **error)
{
	if (!writable(r, a.raw, len, error) || !vmmem__span_write_exact(span(r), a.raw, buf, len, error))
		return false;
	vmmem__region_log(r, a.raw, len);
	return true;
}

/* read_obj is read_slice: the copy already moves aligned 1/2/4/8-byte
 * values in one access. The separate name keeps the families parallel. */
bool
vmmem_region_read_obj(const vmmem_region_t *r, vmmem_region_addr_t a, void *obj, size_t size,
		      GError **error)
{
	return vmmem__span_read_exact(span(r), a.raw, obj, size, error);
}

bool
vmmem_region_write_obj(const vmmem_region_t *r, vmmem_region_addr_t a, const void *obj,
		       size_t size, GError **error)
{
	if (!writable(r, a.raw, size, error) ||
	    !vmmem__span_write_exact(span(r), a.raw, obj, size, error))
		return false;
	vmmem__region_log(r, a.raw, size);
	return true;
}

bool
vmmem_region_load(const vmmem_region_t *r, vmmem_region_addr_t a, unsigned width,
		  memory_order order, uint64_t *out, GError **error)
{
	return vmmem__span_load(span(r), a.raw, width, order, out, error);
}

bool
vmmem_region_store(const vmmem_region_t *r, vmmem_region_addr_t a, unsigned width,
		   uint64_t value, memory_order order, GError **error)
{
	if (!writable(r, a.raw, width, error) ||
	    !vmmem__span_store(span(r), a.raw, width, value, order, error))
		return false;
	vmmem__region_log(r, a.raw, width);
	return true;
}

bool
vmmem_region_read_from_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd, size_t len,
			  size_t *done, GError **error)
{
	size_t n = 0;
	bool ok;

	if (done)
		*done = 0;
	if (!writable(r, a.raw, len, error))
		return false;
	ok = vmmem__span_fd(span(r), a.raw, fd, len, false, false, &n, error);

	/* Bytes read before a failure stay in guest memory: log them too. */
	vmmem__region_log(r, a.raw, n);
	if (done)
		*done = n;
	return ok;
}

bool
vmmem_region_read_exact_from_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd,
				size_t len, GError **error)
{
	size_t n = 0;
	bool ok;

	if (!writable(r, a.raw, len, error))
		return false;
	ok = vmmem__span_fd(span(r), a.raw, fd, len, false, true, &n, error);

	vmmem__region_log(r, a.raw, n);
	return ok;
}

bool
vmmem_region_write_to_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd, size_t len,
			 size_t *done, GError **error)
{
	return vmmem__span_fd(span(r), a.raw, fd, len, true, false, done, error);
}

bool
vmmem_region_write_all_to_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd,
			     size_t len, GError **error)
{
	return vmmem__span_fd(span(r), a.raw, fd, len, true, true, NULL, error);
}

bool
vmmem_region_get_slice_for(const vmmem_region_t *r, vmmem_region_addr_t a, size_t len,
			   vmmem_access_t access, vmmem_slice_t *out, GError **error)
{
	if (!vmmem__valid_access(access, error) ||
	    ((access & VMMEM_ACCESS_WRITE) && !writable(r, a.raw, len, error)))
		return false;
	return vmmem__span_get_slice(span(r), a.raw, len, out, error);
}

bool
vmmem_region_get_slice(const vmmem_region_t *r, vmmem_region_addr_t a, size_t len,
		       vmmem_slice_t *out, GError **error)
{
	return vmmem_region_get_slice_for(r, a, len, VMMEM_ACCESS_READ_WRITE, out, error);
}
