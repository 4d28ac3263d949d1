/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — reading and writing guest memory.
 *
 * Two families with the same shape: on a guest memory (guest addresses;
 * accesses may cross from one region into an adjacent one) and on a single
 * region (region-relative addresses). The slice family is in
 * <vmmem/slice.h>.
 *
 * Rules common to every function:
 * - No access touches host memory outside a region's mapping, for any
 *   address and length; `addr + len` past 2^64 is never wrapped.
 * - A zero-length access succeeds and touches nothing, at any address.
 * - read/write copy as far as memory is contiguous from `addr` and return
 *   the count in *done; no byte at `addr` is VMMEM_ERROR_INVALID_ADDRESS.
 * - *_slice are all or nothing: the whole range is validated before any
 *   byte moves; on failure guest memory (or the caller's buffer) is
 *   unchanged and the message names the first unbacked address, the
 *   length asked for and the length available.
 * - *_obj move plain-data values; values of 1, 2, 4 and 8 bytes at natural
 *   alignment move in one access and are never torn.
 * - load/store are atomic with a C11 memory order; a misaligned address is
 *   VMMEM_ERROR_MISALIGNED.
 * - All functions are thread-safe; `error` may be NULL.
 * - Every write marks the pages it wrote in the memory's dirty log, if it
 *   has one (<vmmem/dirty.h>), after the bytes are stored.
 */
#ifndef VMMEM_ACCESS_H
#define VMMEM_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <glib.h>

#include <vmmem/address.h>
#include <vmmem/memory.h>
#include <vmmem/slice.h>
#include <vmmem/view.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * On a guest memory
 * ------------------------------------------------------------------------ */

/**
 * Copies up to `len` bytes of guest memory at `addr` into `buf`, as far as
 * memory is backed contiguously from `addr` (crossing into adjacent
 * regions). *done (if not NULL) gets the number of bytes copied, which is
 * less than `len` when a hole or 2^64 ends the range.
 *
 * Returns true if at least one byte (or, for len 0, none) was copied;
 * false with VMMEM_ERROR_INVALID_ADDRESS if no byte is backed at `addr`,
 * or VMMEM_ERROR_REGION_LOST if the region lost its pages (SIGBUS).
 * Thread-safe.
 */
VMMEM_API bool vmmem_memory_read(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, void *buf,
				 size_t len, size_t *done, GError **error);
/**
 * Copies up to `len` bytes from `buf` into guest memory at `addr`, as far
 * as memory is backed contiguously from `addr`; *done (if not NULL) gets
 * the count. The pages written are marked in the dirty log, if the memory
 * has one. Errors as vmmem_memory_read(). Thread-safe.
 */
VMMEM_API bool vmmem_memory_write(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				  const void *buf, size_t len, size_t *done, GError **error);
/* Out of line: the whole of read_slice / write_slice (the inline wrappers
 * below only take the common case of a copy inside one region). */
VMMEM_API bool vmmem_memory_read_slice_slow(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					    void *buf, size_t len, GError **error);
/**
 * The out-of-line part of vmmem_memory_write_slice() (the ranges its
 * inline fast path does not take): call vmmem_memory_write_slice()
 * instead. Same contract: all or nothing, VMMEM_ERROR_INVALID_ADDRESS or
 * VMMEM_ERROR_PARTIAL_RANGE with guest memory unchanged.
 */
VMMEM_API bool vmmem_memory_write_slice_slow(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					     const void *buf, size_t len, GError **error);

/* The host address of [addr, addr + len) if it lies inside one region (or
 * one run of regions that are contiguous in host memory too), for the
 * inline slice paths below; false sends them out of line.
 *
 * A copy inside the run from guest 0 takes the run's end and delta from
 * the memory's header, so the host address is one load away; otherwise
 * the bucket's candidate region decides. The destination of a copy is
 * then ready sooner: glibc's `rep movsb` copies (4 KiB here) wait for it,
 * and the two extra dependent loads of the bucket path cost a 4 KiB write
 * about 15% (bench/README.md). */
static inline bool
vmmem__slice_host(const vmmem_memory_t *mem, uint64_t addr, size_t len, uint8_t **host)
{
	const struct vmmem_fast_view *v = vmmem__view(mem);
	const struct vmmem_fast_region *r;
	uint64_t off;

	if (addr < v->run_end) {
		if (__builtin_expect(v->run_end - addr < len, 0))
			return false;
		*host = (uint8_t *)(v->run_delta + (uintptr_t)addr);
		return true;
	}
	/* The candidate's reach, not its size: a copy may run on into the
	 * next regions when they follow in host memory too. */
	r = vmmem__candidate(mem, addr);
	off = addr - r->start;
	if (__builtin_expect(off >= r->reach || r->reach - off < len, 0))
		return false;
	*host = r->host + off;
	return true;
}

/* All or nothing (see the rules above). Inline so that a copy inside one
 * region is a lookup, a bounds check and a memcpy in the caller: for a
 * 4 KiB copy the call into the library is a tenth of the cost.
 * Lengths up to 8 go out of line, where aligned values move in one access. */
static inline bool
vmmem_memory_read_slice(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, void *buf,
			size_t len, GError **error)
{
	uint8_t *host;

	if (len > 8 && vmmem__slice_host(mem, addr.raw, len, &host)) {
		memcpy(buf, host, len);
		return true;
	}
	return vmmem_memory_read_slice_slow(mem, addr, buf, len, error);
}

/**
 * Writes exactly `len` bytes from `buf` to guest memory at `addr`, or
 * nothing: the whole range must be backed (it may cross adjacent
 * regions). Returns false with VMMEM_ERROR_INVALID_ADDRESS (nothing at
 * `addr`) or VMMEM_ERROR_PARTIAL_RANGE (the range runs into a hole or past
 * 2^64; the message gives the first unbacked address and both lengths),
 * guest memory unchanged. Marks the written pages in the dirty log.
 * Inline: a copy of more than 8 bytes inside one region is a lookup, a
 * bounds check and a memcpy. Thread-safe.
 */
static inline bool
vmmem_memory_write_slice(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, const void *buf,
			 size_t len, GError **error)
{
	uint8_t *host;
	uint32_t gate;

	if (len > 8 && vmmem__write_inline(mem, &gate) &&
	    vmmem__slice_host(mem, addr.raw, len, &host)) {
		memcpy(host, buf, len);
		vmmem__log_range(mem, gate, addr.raw, len);
		return true;
	}
	return vmmem_memory_write_slice_slow(mem, addr, buf, len, error);
}

/** Atomic load/store of a `width`-byte integer (1, 2, 4, 8). The typed
 * inline wrappers (vmmem_memory_load_u64, ...) are the usual entry points. */
VMMEM_API bool vmmem_memory_load(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				 unsigned width, vmmem_memory_order_t order, uint64_t *out,
				 GError **error);
/**
 * Atomic store of the low `width` bytes (1, 2, 4 or 8) of `value` at
 * `addr`, with the C11 memory `order` (a store order: relaxed, release or
 * seq_cst). Returns false with VMMEM_ERROR_MISALIGNED if `addr` is not a
 * multiple of `width`, VMMEM_ERROR_INVALID_ARGUMENT for another width,
 * VMMEM_ERROR_INVALID_ADDRESS if nothing is backed there. Marks the page
 * in the dirty log. Prefer the typed vmmem_memory_store_u8() ... _u64().
 */
VMMEM_API bool vmmem_memory_store(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				  unsigned width, uint64_t value, vmmem_memory_order_t order,
				  GError **error);

/** readv()/writev() between guest memory and `fd`, straight into the host
 * mappings (no bounce buffer), across regions, retrying EINTR.
 * read_from_fd/write_to_fd do one transfer over the backed prefix of the
 * range and report its count (0 at end of file); the exact forms require
 * the whole range to be backed (else VMMEM_ERROR_PARTIAL_RANGE before any
 * I/O) and loop until all of it moved, failing with
 * VMMEM_ERROR_SHORT_TRANSFER (end of file, zero-byte write) or
 * VMMEM_ERROR_IO. Bytes read before a failure stay in guest memory. */
VMMEM_API bool vmmem_memory_read_from_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					 int fd, size_t len, size_t *done, GError **error);
/**
 * Reads exactly `len` bytes from `fd` into guest memory at `addr`
 * (readv(2) straight into the mappings, looping and retrying EINTR). The
 * whole range must be backed, else VMMEM_ERROR_INVALID_ADDRESS or
 * VMMEM_ERROR_PARTIAL_RANGE before any I/O. End of file first is
 * VMMEM_ERROR_SHORT_TRANSFER, a failed read VMMEM_ERROR_IO (with
 * vmmem_error_get_errno()); the bytes read before that stay in guest
 * memory and are marked dirty. Thread-safe.
 */
VMMEM_API bool vmmem_memory_read_exact_from_fd(const vmmem_memory_t *mem,
					       vmmem_guest_addr_t addr, int fd, size_t len,
					       GError **error);
/**
 * One writev(2) of guest memory at `addr` to `fd`, over the backed prefix
 * of [addr, addr + len) (retrying EINTR); *done gets the bytes written,
 * which may be fewer than asked (a pipe, a socket). Returns false with
 * VMMEM_ERROR_INVALID_ADDRESS if nothing is backed at `addr`, or
 * VMMEM_ERROR_IO. Thread-safe.
 */
VMMEM_API bool vmmem_memory_write_to_fd(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					int fd, size_t len, size_t *done, GError **error);
/**
 * Writes exactly `len` bytes of guest memory at `addr` to `fd`, looping
 * over short writes and retrying EINTR. The whole range must be backed
 * (else VMMEM_ERROR_INVALID_ADDRESS / VMMEM_ERROR_PARTIAL_RANGE before any
 * I/O); a write of zero bytes is VMMEM_ERROR_SHORT_TRANSFER, a failed one
 * VMMEM_ERROR_IO. Thread-safe.
 */
VMMEM_API bool vmmem_memory_write_all_to_fd(const vmmem_memory_t *mem,
					    vmmem_guest_addr_t addr, int fd, size_t len,
					    GError **error);

/** A slice for [addr, addr + len), which must lie inside one region:
 * VMMEM_ERROR_CROSSES_REGION if it spans adjacent regions,
 * VMMEM_ERROR_PARTIAL_RANGE / _INVALID_ADDRESS if not backed. */
VMMEM_API bool vmmem_memory_get_slice(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				      size_t len, vmmem_slice_t *out, GError **error);

/** vmmem_memory_get_slice() for the access the caller intends: a slice
 * one may write through (VMMEM_ACCESS_WRITE, or READ_WRITE, which is what
 * vmmem_memory_get_slice() asks for) is refused inside a read-only region
 * with VMMEM_ERROR_READ_ONLY; VMMEM_ACCESS_READ is not. */
VMMEM_API bool vmmem_memory_get_slice_for(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					  size_t len, vmmem_access_t access, vmmem_slice_t *out,
					  GError **error);

/** The host iovecs that cover [addr, addr + len), one per region crossed,
 * for zero-copy I/O. The whole range must be backed. Fills at most
 * `max_iov` entries; *n_iov gets the number used, or, with
 * VMMEM_ERROR_NO_SPACE, the number needed. */
VMMEM_API bool vmmem_memory_get_iovec(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
				      size_t len, struct iovec *iov, size_t max_iov,
				      size_t *n_iov, GError **error);

/** vmmem_memory_get_iovec() for the access the caller intends: iovecs a
 * readv() fills (VMMEM_ACCESS_WRITE, or READ_WRITE, which is what
 * vmmem_memory_get_iovec() asks for) are refused over a read-only region
 * with VMMEM_ERROR_READ_ONLY; iovecs for a writev() (VMMEM_ACCESS_READ)
 * are not. */
VMMEM_API bool vmmem_memory_get_iovec_for(const vmmem_memory_t *mem, vmmem_guest_addr_t addr,
					  size_t len, vmmem_access_t access, struct iovec *iov,
					  size_t max_iov, size_t *n_iov, GError **error);

/* read_obj / write_obj: inline, so that an aligned u64 in the middle of a
 * region costs a bucket lookup, a bounds check and one load. Anything
 * else (other sizes, misalignment, crossing regions, errors) takes the
 * out-of-line all-or-nothing path. */

static inline void
vmmem__load_once(const uint8_t *host, void *obj, size_t size)
{
	switch (size) {
	case 1: { uint8_t v = *(const volatile uint8_t *)host; memcpy(obj, &v, 1); break; }
	case 2: { uint16_t v = *(const volatile uint16_t *)(const void *)host; memcpy(obj, &v, 2); break; }
	case 4: { uint32_t v = *(const volatile uint32_t *)(const void *)host; memcpy(obj, &v, 4); break; }
	case 8: { uint64_t v = *(const volatile uint64_t *)(const void *)host; memcpy(obj, &v, 8); break; }
	}
}

static inline void
vmmem__store_once(uint8_t *host, const void *obj, size_t size)
{
	switch (size) {
	case 1: { uint8_t v; memcpy(&v, obj, 1); *(volatile uint8_t *)host = v; break; }
	case 2: { uint16_t v; memcpy(&v, obj, 2); *(volatile uint16_t *)(void *)host = v; break; }
	case 4: { uint32_t v; memcpy(&v, obj, 4); *(volatile uint32_t *)(void *)host = v; break; }
	case 8: { uint64_t v; memcpy(&v, obj, 8); *(volatile uint64_t *)(void *)host = v; break; }
	}
}

#define VMMEM__ONE_ACCESS(size) ((size) == 1 || (size) == 2 || (size) == 4 || (size) == 8)

/* The slow paths go through a temporary, not `obj`: if obj's address
 * reached an out-of-line call, the compiler would have to keep the
 * caller's variable in memory and reload the lookup table on every
 * iteration of the caller's loop. */
/**
 * Reads a `size`-byte plain-data value at `addr` into `obj`, all or
 * nothing (errors as vmmem_memory_read_slice()); 1, 2, 4 and 8 bytes at
 * natural alignment are loaded in one access, never torn. Usually called
 * as VMMEM_MEMORY_READ_OBJ().
 */
static inline bool
vmmem_memory_read_obj(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, void *obj,
		      size_t size, GError **error)
{
	uint8_t *h;
	uint64_t tmp;

	if (!VMMEM__ONE_ACCESS(size))
		return vmmem_memory_read_slice(mem, addr, obj, size, error);
	if (__builtin_expect((addr.raw & (size - 1)) == 0 &&
			     vmmem__small_host(mem, addr.raw, &h), 1)) {
		vmmem__load_once(h, obj, size);
		return true;
	}
	if (!vmmem_memory_read_slice(mem, addr, &tmp, size, error))
		return false;
	memcpy(obj, &tmp, size);
	return true;
}

/**
 * Writes the `size`-byte plain-data value at `obj` to guest memory at
 * `addr`, all or nothing (errors as vmmem_memory_write_slice()). A value
 * of 1, 2, 4 or 8 bytes at an address aligned to its size is stored in
 * one access, so a concurrent reader never sees it torn. Inline: an
 * aligned value inside a region costs a lookup, a bounds check and a
 * store. Marks the page dirty. Usually called as VMMEM_MEMORY_WRITE_OBJ().
 */
static inline bool
vmmem_memory_write_obj(const vmmem_memory_t *mem, vmmem_guest_addr_t addr, const void *obj,
		       size_t size, GError **error)
{
	uint8_t *h;
	uint64_t tmp;
	uint32_t gate;

	if (!VMMEM__ONE_ACCESS(size))
		return vmmem_memory_write_slice(mem, addr, obj, size, error);
	if (__builtin_expect((addr.raw & (size - 1)) == 0 &&
			     vmmem__small_host(mem, addr.raw, &h) &&
			     vmmem__write_inline(mem, &gate), 1)) {
		vmmem__store_once(h, obj, size);
		vmmem__log_small(mem, gate, addr.raw);
		return true;
	}
	memcpy(&tmp, obj, size);
	return vmmem_memory_write_slice(mem, addr, &tmp, size, error);
}

/** Reads *ptr from guest memory: VMMEM_MEMORY_READ_OBJ(mem, addr, &desc, &err). */
#define VMMEM_MEMORY_READ_OBJ(mem, addr, ptr, err) \
	vmmem_memory_read_obj((mem), (addr), (ptr), sizeof(*(ptr)), (err))
/** Writes *ptr to guest memory. */
#define VMMEM_MEMORY_WRITE_OBJ(mem, addr, ptr, err) \
	vmmem_memory_write_obj((mem), (addr), (ptr), sizeof(*(ptr)), (err))

/* Typed atomics with an inline fast path; the out-of-line call reports
 * the error (or crosses into the slow lookup). */
#define VMMEM__MEMORY_ATOMICS_(bits)                                                  \
	static inline bool vmmem_memory_load_u##bits(const vmmem_memory_t *mem,           \
						     vmmem_guest_addr_t addr,               \
						     uint##bits##_t *out,                   \
						     vmmem_memory_order_t order, GError **error)    \
	{                                                                             \
		uint8_t *h;                                                           \
		uint64_t v;                                                           \
		if (__builtin_expect((addr.raw & ((bits) / 8 - 1)) == 0 &&            \
				     vmmem__small_host(mem, addr.raw, &h), 1)) {      \
			*out = __atomic_load_n((uint##bits##_t *)(void *)h, (int)order); \
			return true;                                                  \
		}                                                                     \
		if (!vmmem_memory_load(mem, addr, (bits) / 8, order, &v, error))      \
			return false;                                                 \
		*out = (uint##bits##_t)v;                                             \
		return true;                                                          \
	}                                                                             \
	static inline bool vmmem_memory_store_u##bits(const vmmem_memory_t *mem,          \
						      vmmem_guest_addr_t addr,              \
						      uint##bits##_t value,                 \
						      vmmem_memory_order_t order, GError **error)   \
	{                                                                             \
		uint8_t *h;                                                           \
		uint32_t gate;                                                        \
		if (__builtin_expect((addr.raw & ((bits) / 8 - 1)) == 0 &&            \
				     vmmem__small_host(mem, addr.raw, &h) &&          \
				     vmmem__write_inline(mem, &gate), 1)) {           \
			__atomic_store_n((uint##bits##_t *)(void *)h, value, (int)order); \
			vmmem__log_small(mem, gate, addr.raw);                        \
			return true;                                                  \
		}                                                                     \
		return vmmem_memory_store(mem, addr, (bits) / 8, value, order, error); \
	}

VMMEM__MEMORY_ATOMICS_(8)
VMMEM__MEMORY_ATOMICS_(16)
VMMEM__MEMORY_ATOMICS_(32)
VMMEM__MEMORY_ATOMICS_(64)

#undef VMMEM__MEMORY_ATOMICS_

/* ------------------------------------------------------------------------
 * On one region (region-relative addresses; never crosses into another)
 * ------------------------------------------------------------------------ */

/**
 * Copies up to `len` bytes at region offset `addr` into `buf`, stopping at
 * the region's end (never crossing into another region); *done gets the
 * count. VMMEM_ERROR_INVALID_ADDRESS if `addr` is at or past the end with
 * len > 0; VMMEM_ERROR_REGION_LOST if the region lost its pages.
 * Thread-safe.
 */
VMMEM_API bool vmmem_region_read(const vmmem_region_t *r, vmmem_region_addr_t addr, void *buf,
				 size_t len, size_t *done, GError **error);
/**
 * Copies up to `len` bytes from `buf` to region offset `addr`, stopping at
 * the region's end; *done gets the count (0 on failure). Errors as
 * vmmem_region_read(). The pages written are marked in the dirty log of
 * the region's memory, if it tracks dirty pages. Thread-safe.
 */
VMMEM_API bool vmmem_region_write(const vmmem_region_t *r, vmmem_region_addr_t addr,
				  const void *buf, size_t len, size_t *done, GError **error);
/**
 * Reads exactly `len` bytes at region offset `addr` into `buf`, or
 * nothing: VMMEM_ERROR_INVALID_ADDRESS if `addr` is past the end,
 * VMMEM_ERROR_PARTIAL_RANGE if the range runs past it (the message gives
 * the lengths asked for and available); `buf` is then unchanged.
 * Thread-safe.
 */
VMMEM_API bool vmmem_region_read_slice(const vmmem_region_t *r, vmmem_region_addr_t addr,
				       void *buf, size_t len, GError **error);
/**
 * Writes exactly `len` bytes from `buf` at region offset `addr`, or
 * nothing (errors as vmmem_region_read_slice(), region unchanged). Marks
 * the pages dirty. Thread-safe.
 */
VMMEM_API bool vmmem_region_write_slice(const vmmem_region_t *r, vmmem_region_addr_t addr,
					const void *buf, size_t len, GError **error);
/**
 * Reads the `size`-byte plain-data value at region offset `addr` into
 * `obj`, all or nothing (errors as vmmem_region_read_slice()); 1, 2, 4 and
 * 8 bytes at natural alignment in one access. See VMMEM_REGION_READ_OBJ().
 */
VMMEM_API bool vmmem_region_read_obj(const vmmem_region_t *r, vmmem_region_addr_t addr,
				     void *obj, size_t size, GError **error);
/**
 * Writes the `size`-byte plain-data value at `obj` to region offset
 * `addr`, all or nothing; 1, 2, 4 and 8 bytes at natural alignment in one
 * access, never torn. Marks the page dirty. See VMMEM_REGION_WRITE_OBJ().
 */
VMMEM_API bool vmmem_region_write_obj(const vmmem_region_t *r, vmmem_region_addr_t addr,
				      const void *obj, size_t size, GError **error);
/** Reads *ptr from region offset `addr`: VMMEM_REGION_READ_OBJ(r, off, &desc, &err). */
#define VMMEM_REGION_READ_OBJ(r, addr, ptr, err) \
	vmmem_region_read_obj((r), (addr), (ptr), sizeof(*(ptr)), (err))
/** Writes *ptr to region offset `addr` with vmmem_region_write_obj(). */
#define VMMEM_REGION_WRITE_OBJ(r, addr, ptr, err) \
	vmmem_region_write_obj((r), (addr), (ptr), sizeof(*(ptr)), (err))
/**
 * Atomic load of a `width`-byte (1, 2, 4, 8) integer at region offset
 * `addr` with the C11 memory `order`, zero-extended into *out.
 * VMMEM_ERROR_MISALIGNED if `addr` is not a multiple of `width`,
 * VMMEM_ERROR_INVALID_ARGUMENT for another width,
 * VMMEM_ERROR_INVALID_ADDRESS / _PARTIAL_RANGE outside the region. The
 * typed vmmem_region_load_u8() ... _u64() are the usual entry points.
 */
VMMEM_API bool vmmem_region_load(const vmmem_region_t *r, vmmem_region_addr_t addr,
				 unsigned width, vmmem_memory_order_t order, uint64_t *out,
				 GError **error);
/**
 * Atomic store of the low `width` bytes of `value` at region offset
 * `addr`, with the C11 memory `order`; errors as vmmem_region_load().
 * Marks the page dirty.
 */
VMMEM_API bool vmmem_region_store(const vmmem_region_t *r, vmmem_region_addr_t addr,
				  unsigned width, uint64_t value, vmmem_memory_order_t order,
				  GError **error);
/**
 * One readv(2) from `fd` into the region at offset `addr`, at most up to
 * the region's end, retrying EINTR; *done gets the count (0 at end of
 * file). VMMEM_ERROR_INVALID_ADDRESS past the end, VMMEM_ERROR_IO if the
 * read fails. The bytes read are marked dirty, even on failure.
 */
VMMEM_API bool vmmem_region_read_from_fd(const vmmem_region_t *r, vmmem_region_addr_t addr,
					 int fd, size_t len, size_t *done, GError **error);
/**
 * Reads exactly `len` bytes from `fd` into the region at offset `addr`,
 * looping. The range must lie inside the region (else
 * VMMEM_ERROR_INVALID_ADDRESS / _PARTIAL_RANGE before any I/O); end of
 * file first is VMMEM_ERROR_SHORT_TRANSFER, a failed read VMMEM_ERROR_IO.
 * Bytes read before a failure stay and are marked dirty.
 */
VMMEM_API bool vmmem_region_read_exact_from_fd(const vmmem_region_t *r,
					       vmmem_region_addr_t addr, int fd, size_t len,
					       GError **error);
/**
 * One writev(2) of the region from offset `addr` to `fd`, at most up to
 * the region's end, retrying EINTR; *done gets the bytes written.
 * VMMEM_ERROR_INVALID_ADDRESS past the end, VMMEM_ERROR_IO on failure.
 */
VMMEM_API bool vmmem_region_write_to_fd(const vmmem_region_t *r, vmmem_region_addr_t addr,
					int fd, size_t len, size_t *done, GError **error);
/**
 * Writes exactly `len` bytes of the region from offset `addr` to `fd`,
 * looping over short writes. The range must lie inside the region (else
 * VMMEM_ERROR_INVALID_ADDRESS / _PARTIAL_RANGE before any I/O); a write of
 * zero bytes is VMMEM_ERROR_SHORT_TRANSFER, a failed one VMMEM_ERROR_IO.
 */
VMMEM_API bool vmmem_region_write_all_to_fd(const vmmem_region_t *r,
					    vmmem_region_addr_t addr, int fd, size_t len,
					    GError **error);
/**
 * A slice (host pointer and length) for [addr, addr + len) of the region,
 * for zero-copy access; VMMEM_ERROR_INVALID_ADDRESS or
 * VMMEM_ERROR_PARTIAL_RANGE if the range is not inside it. The slice is
 * valid while the caller holds a reference to the region's memory; writes
 * through it are not marked dirty: call vmmem_memory_mark_dirty() after
 * them (<vmmem/dirty.h>).
 */
VMMEM_API bool vmmem_region_get_slice(const vmmem_region_t *r, vmmem_region_addr_t addr,
				      size_t len, vmmem_slice_t *out, GError **error);
/** vmmem_region_get_slice() for an intended access, as
 * vmmem_memory_get_slice_for(). */
VMMEM_API bool vmmem_region_get_slice_for(const vmmem_region_t *r, vmmem_region_addr_t addr,
					  size_t len, vmmem_access_t access, vmmem_slice_t *out,
					  GError **error);

VMMEM_TYPED_ATOMICS_(region, const vmmem_region_t *, vmmem_region_addr_t, 8)
VMMEM_TYPED_ATOMICS_(region, const vmmem_region_t *, vmmem_region_addr_t, 16)
VMMEM_TYPED_ATOMICS_(region, const vmmem_region_t *, vmmem_region_addr_t, 32)
VMMEM_TYPED_ATOMICS_(region, const vmmem_region_t *, vmmem_region_addr_t, 64)

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ACCESS_H */
