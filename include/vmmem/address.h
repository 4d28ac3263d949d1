/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — guest physical and region-relative addresses.
 *
 * Two distinct one-member structs rather than two typedefs of uint64_t, so
 * that passing a region-relative address where a guest address is expected
 * is a compile error (tests/compile-fail pins that down). Both are passed by
 * value; the struct costs nothing at -O1 and above.
 *
 * All arithmetic here is checked: helpers that can overflow return false and
 * leave *out untouched instead of wrapping.
 */
#ifndef VMMEM_ADDRESS_H
#define VMMEM_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A guest physical address. */
typedef struct vmmem_guest_addr {
	uint64_t raw; /* the address as a number; read it, but build one with vmmem_guest_addr() */
} vmmem_guest_addr_t;

/** An offset from the start of one region. */
typedef struct vmmem_region_addr {
	uint64_t raw; /* bytes from the region's first byte */
} vmmem_region_addr_t;

/** The last guest address, 2^64 - 1. */
#define VMMEM_GUEST_ADDR_MAX UINT64_MAX

/** The guest address `raw`: the one way from a number to a
 * vmmem_guest_addr_t, so that each conversion is visible in the code. */
static inline vmmem_guest_addr_t
vmmem_guest_addr(uint64_t raw)
{
	vmmem_guest_addr_t a = { raw };
	return a;
}

/** The region-relative address (offset) `raw`; vmmem_region_to_offset()
 * converts a guest address. */
static inline vmmem_region_addr_t
vmmem_region_addr(uint64_t raw)
{
	vmmem_region_addr_t a = { raw };
	return a;
}

/* The same helpers exist for both types; a macro writes them once so the
 * two families cannot drift apart. */
#define VMMEM_ADDR_HELPERS_(T, P)                                             \
	/** a + off into *out; false (and *out unchanged) if it passes 2^64. */ \
	static inline bool P##_checked_add(T a, uint64_t off, T *out)           \
	{                                                                       \
		uint64_t r;                                                     \
		if (__builtin_add_overflow(a.raw, off, &r))                     \
			return false;                                           \
		out->raw = r;                                                   \
		return true;                                                    \
	}                                                                       \
	/** a - off into *out; false (and *out unchanged) if it goes below 0. */ \
	static inline bool P##_checked_sub(T a, uint64_t off, T *out)           \
	{                                                                       \
		uint64_t r;                                                     \
		if (__builtin_sub_overflow(a.raw, off, &r))                     \
			return false;                                           \
		out->raw = r;                                                   \
		return true;                                                    \
	}                                                                       \
	/** Round down to a power-of-two alignment (align must be 2^k > 0). */ \
	static inline T P##_align_down(T a, uint64_t align)                     \
	{                                                                       \
		T r = { a.raw & ~(align - 1) };                                 \
		return r;                                                       \
	}                                                                       \
	/** Round up to a power-of-two alignment; false if that passes 2^64. */ \
	static inline bool P##_align_up(T a, uint64_t align, T *out)            \
	{                                                                       \
		uint64_t r;                                                     \
		if (__builtin_add_overflow(a.raw, align - 1, &r))               \
			return false;                                           \
		out->raw = r & ~(align - 1);                                    \
		return true;                                                    \
	}                                                                       \
	/** True if a is a multiple of the power of two align. */              \
	static inline bool P##_is_aligned(T a, uint64_t align)                  \
	{                                                                       \
		return (a.raw & (align - 1)) == 0;                              \
	}                                                                       \
	/** to - from into *out; false if to is below from. */                 \
	static inline bool P##_distance(T from, T to, uint64_t *out)            \
	{                                                                       \
		if (to.raw < from.raw)                                          \
			return false;                                           \
		*out = to.raw - from.raw;                                       \
		return true;                                                    \
	}                                                                       \
	static inline int P##_compare(T a, T b)                                 \
	{                                                                       \
		return (a.raw > b.raw) - (a.raw < b.raw);                       \
	}

VMMEM_ADDR_HELPERS_(vmmem_guest_addr_t, vmmem_guest_addr)
VMMEM_ADDR_HELPERS_(vmmem_region_addr_t, vmmem_region_addr)

#undef VMMEM_ADDR_HELPERS_

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ADDRESS_H */
