/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The slice family: the span engine over a caller's (host pointer,
 * length), with offsets named as slice offsets in errors. */
#include "config.h"

#include "internal.h"

static vmmem__span_t
span(vmmem_slice_t s)
{
	vmmem__span_t sp = { s.host, s.len, NULL };
	return sp;
}

bool
vmmem_slice_read(vmmem_slice_t s, size_t off, void *buf, size_t len, size_t *done,
		 GError **error)
{
	return vmmem__span_read(span(s), off, buf, len, done, error);
}

bool
vmmem_slice_write(vmmem_slice_t s, size_t off, const void *buf, size_t len, size_t *done,
		  GError **error)
{
	return vmmem__span_write(span(s), off, buf, len, done, error);
}

bool
vmmem_slice_read_slice(vmmem_slice_t s, size_t off, void *buf, size_t len, GError **error)
{
	return vmmem__span_read_exact(span(s), off, buf, len, error);
}

bool
vmmem_slice_write_slice(vmmem_slice_t s, size_t off, const void *buf, size_t len,
			GError **error)
{
	return vmmem__span_write_exact(span(s), off, buf, len, error);
}

bool
vmmem_slice_read_obj(vmmem_slice_t s, size_t off, void *obj, size_t size, GError **error)
{
	return vmmem__span_read_exact(span(s), off, obj, size, error);
}

bool
vmmem_slice_write_obj(vmmem_slice_t s, size_t off, const void *obj, size_t size,
		      GError **error)
{
	return vmmem__span_write_exact(span(s), off, obj, size, error);
}

bool
vmmem_slice_load(vmmem_slice_t s, size_t off, unsigned width, memory_order order,
		 uint64_t *out, GError **error)
{
	return vmmem__span_load(span(s), off, width, order, out, error);
}

bool
vmmem_slice_store(vmmem_slice_t s, size_t off, unsigned width, uint64_t value,
		  memory_order order, GError **error)
{
	return vmmem__span_store(span(s), off, width, value, order, error);
}

bool
vmmem_slice_read_from_fd(vmmem_slice_t s, size_t off, int fd, size_t len, size_t *done,
			 GError **error)
{
	return vmmem__span_fd(span(s), off, fd, len, false, false, done, error);
}

bool
vmmem_slice_read_exact_from_fd(vmmem_slice_t s, size_t off, int fd, size_t len,
			       GError **error)
{
	return vmmem__span_fd(span(s), off, fd, len, false, true, NULL, error);
}

bool
vmmem_slice_write_to_fd(vmmem_slice_t s, size_t off, int fd, size_t len, size_t *done,
			GError **error)
{
	return vmmem__span_fd(span(s), off, fd, len, true, false, done, error);
}

bool
vmmem_slice_write_all_to_fd(vmmem_slice_t s, size_t off, int fd, size_t len, GError **error)
{
	return vmmem__span_fd(span(s), off, fd, len, true, true, NULL, error);
}

bool
vmmem_slice_get_slice(vmmem_slice_t s, size_t off, size_t len, vmmem_slice_t *out,
		      GError **error)
{
	return vmmem__span_get_slice(span(s), off, len, out, error);
}
