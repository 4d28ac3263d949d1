/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The access engine for one contiguous host range (a region or a slice).
 * Every check here is written so that no `off + len` is ever computed:
 * `off <= size && len <= size - off` cannot overflow for any inputs. */
#include "config.h"

#include <string.h>

#include "internal.h"

/* How errors name an offset in this span. Only built on failure paths. */
static char *
where(vmmem__span_t s, uint64_t off)
{
	if (s.region) {
		uint64_t guest = vmmem_region_start(s.region).raw;
		if (off <= UINT64_MAX - guest)
			return g_strdup_printf("region '%s' offset 0x%" PRIx64
					       " (guest address 0x%" PRIx64 ")",
					       vmmem_region_name(s.region), off, guest + off);
		return g_strdup_printf("region '%s' offset 0x%" PRIx64 " (past 2^64)",
				       vmmem_region_name(s.region), off);
	}
	return g_strdup_printf("slice offset 0x%" PRIx64 " (slice of 0x%" PRIx64 " bytes)", off,
			       s.size);
}

/* A region lost to a SIGBUS (core/sigbus.c): VMMEM_ERROR_REGION_LOST.
 * Slices have no region and keep working on the zero pages. */
static bool
span_lost(vmmem__span_t s, GError **error)
{
	if (__builtin_expect(!__atomic_load_n(&vmmem__sigbus_lost, __ATOMIC_RELAXED), 1) ||
	    !s.region)
		return false;
	return vmmem__lost_error(s.region, error);
}

static bool
start_ok(vmmem__span_t s, uint64_t off, GError **error)
{
	char *w;

	if (span_lost(s, error))
		return false;
	if (off < s.size)
		return true;
	w = where(s, off);
	vmmem__error(error, VMMEM_ERROR_INVALID_ADDRESS, "%s is outside the 0x%" PRIx64 " bytes mapped",
		     w, s.size);
	g_free(w);
	return false;
}

/* All of [off, off + len) inside the span, or a PARTIAL_RANGE error that
 * names the first offset past the end and how much was there. */
static bool
range_ok(vmmem__span_t s, uint64_t off, size_t len, const char *verb, GError **error)
{
	uint64_t avail;
	char *w, *end;

	if (span_lost(s, error))
		return false;
	if (off <= s.size && len <= s.size - off)
		return true;
	/* Nothing at the start: INVALID_ADDRESS, as in every family
	 * (<vmmem/error.h>), not a range that is partly there. */
	if (off >= s.size)
		return start_ok(s, off, error);
	avail = s.size - off;
	w = where(s, off);
	end = where(s, s.size);
	vmmem__error(error, VMMEM_ERROR_PARTIAL_RANGE,
		     "cannot %s 0x%zx bytes at %s: only 0x%" PRIx64 " bytes available, %s is not mapped",
		     verb, len, w, avail, end);
	g_free(w);
	g_free(end);
	return false;
}

static size_t
clamp(vmmem__span_t s, uint64_t off, size_t len)
{
	return len <= s.size - off ? len : (size_t)(s.size - off);
}

static bool
span_copy(vmmem__span_t s, uint64_t off, uint8_t *buf, size_t len, bool to_span, size_t *done,
	  GError **error)
{
	size_t n;

	if (done)
		*done = 0;
	if (len == 0)
		return true;
	if (!start_ok(s, off, error))
		return false;
	n = clamp(s, off, len);
	if (to_span)
		vmmem__copy(s.host + off, buf, n);
	else
		vmmem__copy(buf, s.host + off, n);
	if (done)
		*done = n;
	return true;
}

bool
vmmem__span_read(vmmem__span_t s, uint64_t off, void *buf, size_t len, size_t *done,
		 GError **error)
{
	return span_copy(s, off, buf, len, false, done, error);
}

/* The cast only lets the two directions share span_copy, which never
 * writes to buf when to_span. */
bool
vmmem__span_write(vmmem__span_t s, uint64_t off, const void *buf, size_t len, size_t *done,
		  GError **error)
{
	return span_copy(s, off, (uint8_t *)(uintptr_t)buf, len, true, done, error);
}

bool
vmmem__span_read_exact(vmmem__span_t s, uint64_t off, void *buf, size_t len, GError **error)
{
	if (len == 0)
		return true;
	if (!range_ok(s, off, len, "read", error))
		return false;
	vmmem__copy(buf, s.host + off, len);
	return true;
}

bool
vmmem__span_write_exact(vmmem__span_t s, uint64_t off, const void *buf, size_t len,
			GError **error)
{
	if (len == 0)
		return true;
	if (!range_ok(s, off, len, "write", error))
		return false;
	vmmem__copy(s.host + off, buf, len);
	return true;
}

static bool
atomic_ok(vmmem__span_t s, uint64_t off, unsigned width, GError **error)
{
	char *w;

	if (!vmmem__valid_width(width, error)) {
		w = where(s, off);
		g_prefix_error(error, "%s: ", w);
		g_free(w);
		return false;
	}
	if (!range_ok(s, off, width, "access", error))
		return false;
	/* The host address is what the CPU sees; for regions it has the same
	 * alignment as the guest address (mappings are page aligned). */
	if (((uintptr_t)(s.host + off) & (width - 1)) == 0)
		return true;
	w = where(s, off);
	vmmem__error(error, VMMEM_ERROR_MISALIGNED,
		     "%s is not aligned to %u bytes for an atomic access", w, width);
	g_free(w);
	return false;
}

bool
vmmem__span_load(vmmem__span_t s, uint64_t off, unsigned width, memory_order order,
		 uint64_t *out, GError **error)
{
	if (!atomic_ok(s, off, width, error))
		return false;
	return vmmem__atomic_load(s.host + off, width, order, out);
}

bool
vmmem__span_store(vmmem__span_t s, uint64_t off, unsigned width, uint64_t value,
		  memory_order order, GError **error)
{
	if (!atomic_ok(s, off, width, error))
		return false;
	vmmem__atomic_store(s.host + off, width, value, order);
	return true;
}

bool
vmmem__span_fd(vmmem__span_t s, uint64_t off, int fd, size_t len, bool to_fd, bool exact,
	       size_t *done, GError **error)
{
	struct iovec iov;
	char *w;
	bool ok;

	if (done)
		*done = 0;
	if (len == 0)
		return true;
	if (exact ? !range_ok(s, off, len, to_fd ? "write out" : "read in", error)
		  : !start_ok(s, off, error))
		return false;
	iov.iov_base = s.host + off;
	iov.iov_len = clamp(s, off, len);
	w = where(s, off);
	ok = vmmem__fd_transfer(fd, &iov, 1, iov.iov_len, to_fd, exact, w, done, error);
	g_free(w);
	return ok;
}

bool
vmmem__span_get_slice(vmmem__span_t s, uint64_t off, size_t len, vmmem_slice_t *out,
		      GError **error)
{
	if (len == 0) {
		out->host = NULL;
		out->len = 0;
		return true;
	}
	if (!range_ok(s, off, len, "map", error))
		return false;
	out->host = s.host + off;
	out->len = len;
	return true;
}
