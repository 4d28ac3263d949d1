/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — volatile slices: a host pointer and a length.
 *
 * A slice is what vmmem_memory_get_slice() hands out for zero-copy access
 * to a range inside one region. It is a plain value; it does not keep the
 * memory alive, so it is valid only while the caller holds a reference to
 * the guest memory it came from. Offsets are relative to the slice start.
 *
 * The slice family mirrors the memory family in <vmmem/access.h>:
 * read/write copy what fits, *_slice are all-or-nothing, *_obj move
 * naturally aligned 1/2/4/8-byte values in one access, load/store are
 * atomic with a C11 memory order (vmmem_memory_order_t), and the fd
 * functions use readv/writev straight into the slice.
 */
#ifndef VMMEM_SLICE_H
#define VMMEM_SLICE_H

#ifdef __cplusplus
#include <atomic>
#else
#include <stdatomic.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <vmmem/visibility.h>

/* The memory order of atomic loads and stores: C11's memory_order, so C
 * callers pass memory_order_acquire and friends as before. C++ before
 * C++23 has no <stdatomic.h>; there it is std::memory_order, whose
 * values are the same __ATOMIC_* constants, so one library serves both. */
#ifdef __cplusplus
typedef std::memory_order vmmem_memory_order_t;
#else
typedef memory_order vmmem_memory_order_t;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** A range of host memory: `len` bytes at `host`. Passed by value; it owns
 * nothing and is valid while the memory it came from is referenced. */
typedef struct vmmem_slice {
	uint8_t *host; /* the first byte */
	size_t len;    /* bytes, possibly 0 */
} vmmem_slice_t;

/** A slice over any host buffer (for tests and adapters). */
static inline vmmem_slice_t
vmmem_slice_from(void *host, size_t len)
{
	vmmem_slice_t s = { (uint8_t *)host, len };
	return s;
}

/** Copies up to len bytes from offset `off`, as many as the slice holds.
 * *done gets the count. An `off` at or past the end with len > 0 is
 * VMMEM_ERROR_INVALID_ADDRESS. */
VMMEM_API bool vmmem_slice_read(vmmem_slice_t s, size_t off, void *buf, size_t len,
				size_t *done, GError **error);
/** Copies up to len bytes from `buf` to offset `off`, as many as the slice
 * holds; *done gets the count. Errors as vmmem_slice_read(). Not marked in
 * any dirty log: a slice does not know its memory (vmmem_memory_mark_dirty()). */
VMMEM_API bool vmmem_slice_write(vmmem_slice_t s, size_t off, const void *buf, size_t len,
				 size_t *done, GError **error);
/** All or nothing: VMMEM_ERROR_PARTIAL_RANGE (nothing copied) unless the
 * whole range fits. */
VMMEM_API bool vmmem_slice_read_slice(vmmem_slice_t s, size_t off, void *buf, size_t len,
				      GError **error);
/** Writes exactly len bytes from `buf` at `off`, or nothing:
 * VMMEM_ERROR_INVALID_ADDRESS if `off` is past the end,
 * VMMEM_ERROR_PARTIAL_RANGE if the range does not fit (slice unchanged). */
VMMEM_API bool vmmem_slice_write_slice(vmmem_slice_t s, size_t off, const void *buf, size_t len,
				       GError **error);
/** Plain-data values; 1/2/4/8 bytes at natural alignment in one access. */
VMMEM_API bool vmmem_slice_read_obj(vmmem_slice_t s, size_t off, void *obj, size_t size,
				    GError **error);
/** Writes the `size`-byte plain-data value at `obj` to offset `off`, all or
 * nothing; 1/2/4/8 bytes at natural alignment in one access, never torn. */
VMMEM_API bool vmmem_slice_write_obj(vmmem_slice_t s, size_t off, const void *obj, size_t size,
				     GError **error);
/** Reads *ptr from offset `off`: VMMEM_SLICE_READ_OBJ(s, off, &hdr, &err). */
#define VMMEM_SLICE_READ_OBJ(s, off, ptr, err) \
	vmmem_slice_read_obj((s), (off), (ptr), sizeof(*(ptr)), (err))
/** Writes *ptr at offset `off` with vmmem_slice_write_obj(). */
#define VMMEM_SLICE_WRITE_OBJ(s, off, ptr, err) \
	vmmem_slice_write_obj((s), (off), (ptr), sizeof(*(ptr)), (err))

/** Atomic load/store of a `width`-byte (1, 2, 4, 8) integer; a misaligned
 * offset is VMMEM_ERROR_MISALIGNED. The typed wrappers below are the usual
 * entry points. */
VMMEM_API bool vmmem_slice_load(vmmem_slice_t s, size_t off, unsigned width,
				vmmem_memory_order_t order, uint64_t *out, GError **error);
/** Atomic store of the low `width` bytes (1, 2, 4, 8) of `value` at `off`
 * with the C11 memory `order`: VMMEM_ERROR_MISALIGNED if `off`'s address
 * is not a multiple of `width`, VMMEM_ERROR_INVALID_ARGUMENT for another
 * width, VMMEM_ERROR_PARTIAL_RANGE if it does not fit. */
VMMEM_API bool vmmem_slice_store(vmmem_slice_t s, size_t off, unsigned width, uint64_t value,
				 vmmem_memory_order_t order, GError **error);

/** readv()/writev() between the slice and fd, retrying EINTR. The plain
 * forms do one transfer and report its count (0 at end of file); the exact
 * forms loop until all len bytes moved or fail with
 * VMMEM_ERROR_SHORT_TRANSFER / VMMEM_ERROR_IO. */
VMMEM_API bool vmmem_slice_read_from_fd(vmmem_slice_t s, size_t off, int fd, size_t len,
					size_t *done, GError **error);
/** Reads exactly len bytes from `fd` into the slice at `off`, looping and
 * retrying EINTR. The range must fit (else VMMEM_ERROR_PARTIAL_RANGE before
 * any I/O); end of file first is VMMEM_ERROR_SHORT_TRANSFER, a failed read
 * VMMEM_ERROR_IO. Bytes read before a failure stay in the slice. */
VMMEM_API bool vmmem_slice_read_exact_from_fd(vmmem_slice_t s, size_t off, int fd, size_t len,
					      GError **error);
/** One writev(2) of the slice from `off` to `fd`, at most to the slice's
 * end; *done gets the bytes written (maybe fewer than len). */
VMMEM_API bool vmmem_slice_write_to_fd(vmmem_slice_t s, size_t off, int fd, size_t len,
				       size_t *done, GError **error);
/** Writes exactly len bytes of the slice from `off` to `fd`, looping over
 * short writes: VMMEM_ERROR_PARTIAL_RANGE if the range does not fit,
 * VMMEM_ERROR_SHORT_TRANSFER on a zero-byte write, VMMEM_ERROR_IO. */
VMMEM_API bool vmmem_slice_write_all_to_fd(vmmem_slice_t s, size_t off, int fd, size_t len,
					   GError **error);

/** The sub-slice [off, off + len); VMMEM_ERROR_PARTIAL_RANGE if it does not fit. */
VMMEM_API bool vmmem_slice_get_slice(vmmem_slice_t s, size_t off, size_t len,
				     vmmem_slice_t *out, GError **error);

/* Typed atomics, one per width, for all three families. */
#define VMMEM_TYPED_ATOMICS_(fam, H, A, bits)                                       \
	static inline bool vmmem_##fam##_load_u##bits(H h, A a, uint##bits##_t *out,  \
						      vmmem_memory_order_t order, GError **error) \
	{                                                                           \
		uint64_t v;                                                         \
		if (!vmmem_##fam##_load(h, a, (bits) / 8, order, &v, error))        \
			return false;                                               \
		*out = (uint##bits##_t)v;                                           \
		return true;                                                        \
	}                                                                           \
	static inline bool vmmem_##fam##_store_u##bits(H h, A a, uint##bits##_t value, \
						       vmmem_memory_order_t order, GError **error) \
	{                                                                           \
		return vmmem_##fam##_store(h, a, (bits) / 8, value, order, error);  \
	}

VMMEM_TYPED_ATOMICS_(slice, vmmem_slice_t, size_t, 8)
VMMEM_TYPED_ATOMICS_(slice, vmmem_slice_t, size_t, 16)
VMMEM_TYPED_ATOMICS_(slice, vmmem_slice_t, size_t, 32)
VMMEM_TYPED_ATOMICS_(slice, vmmem_slice_t, size_t, 64)

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_SLICE_H */
