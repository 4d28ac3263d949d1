/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A region on its own: its properties and the region-relative access
 * family, which is the span engine over the region's mapping. */
#include "config.h"

#include "internal.h"

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
	return vmmem__span_write(span(r), a.raw, buf, len, done, error);
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
	return vmmem__span_write_exact(span(r), a.raw, buf, len, error);
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
	return vmmem__span_write_exact(span(r), a.raw, obj, size, error);
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
	return vmmem__span_store(span(r), a.raw, width, value, order, error);
}

bool
vmmem_region_read_from_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd, size_t len,
			  size_t *done, GError **error)
{
	return vmmem__span_fd(span(r), a.raw, fd, len, false, false, done, error);
}

bool
vmmem_region_read_exact_from_fd(const vmmem_region_t *r, vmmem_region_addr_t a, int fd,
				size_t len, GError **error)
{
	return vmmem__span_fd(span(r), a.raw, fd, len, false, true, NULL, error);
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
vmmem_region_get_slice(const vmmem_region_t *r, vmmem_region_addr_t a, size_t len,
		       vmmem_slice_t *out, GError **error)
{
	return vmmem__span_get_slice(span(r), a.raw, len, out, error);
}
