/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — fixed-endian integer types for guest data structures.
 *
 * Device models read little-endian (virtio) and big-endian (some firmware
 * tables, network headers) fields out of guest memory. Each type wraps its
 * value in a struct so that `be32 + 1` or `uint32_t x = le32` does not
 * compile: the only way in or out is a conversion function.
 */
#ifndef VMMEM_ENDIAN_H
#define VMMEM_ENDIAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Each type has the size and alignment of its integer, so it can stand in
 * a struct that mirrors a guest structure. raw_le / raw_be is the value as
 * stored in guest memory (in that byte order); convert with
 * vmmem_le16_to_cpu() and friends rather than reading it directly. */

/** A 16-bit little-endian value in guest memory (virtio fields). */
typedef struct {
	uint16_t raw_le; /* the bytes as stored, little-endian */
} vmmem_le16_t;
/** A 32-bit little-endian value in guest memory. */
typedef struct {
	uint32_t raw_le; /* the bytes as stored, little-endian */
} vmmem_le32_t;
/** A 64-bit little-endian value in guest memory. */
typedef struct {
	uint64_t raw_le; /* the bytes as stored, little-endian */
} vmmem_le64_t;
/** A 16-bit big-endian value in guest memory (network headers). */
typedef struct {
	uint16_t raw_be; /* the bytes as stored, big-endian */
} vmmem_be16_t;
/** A 32-bit big-endian value in guest memory. */
typedef struct {
	uint32_t raw_be; /* the bytes as stored, big-endian */
} vmmem_be32_t;
/** A 64-bit big-endian value in guest memory. */
typedef struct {
	uint64_t raw_be; /* the bytes as stored, big-endian */
} vmmem_be64_t;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VMMEM_TO_LE_(bits, v) (v)
#define VMMEM_TO_BE_(bits, v) __builtin_bswap##bits(v)
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VMMEM_TO_LE_(bits, v) __builtin_bswap##bits(v)
#define VMMEM_TO_BE_(bits, v) (v)
#else
#error "vmmem: unknown host byte order"
#endif

#define VMMEM_ENDIAN_CONV_(bits, e, E)                                        \
	static inline vmmem_##e##bits##_t vmmem_cpu_to_##e##bits(uint##bits##_t v) \
	{                                                                       \
		vmmem_##e##bits##_t r = { (uint##bits##_t)VMMEM_TO_##E##_(bits, v) }; \
		return r;                                                       \
	}                                                                       \
	static inline uint##bits##_t vmmem_##e##bits##_to_cpu(vmmem_##e##bits##_t v) \
	{                                                                       \
		return (uint##bits##_t)VMMEM_TO_##E##_(bits, v.raw_##e);        \
	}

VMMEM_ENDIAN_CONV_(16, le, LE)
VMMEM_ENDIAN_CONV_(32, le, LE)
VMMEM_ENDIAN_CONV_(64, le, LE)
VMMEM_ENDIAN_CONV_(16, be, BE)
VMMEM_ENDIAN_CONV_(32, be, BE)
VMMEM_ENDIAN_CONV_(64, be, BE)

#undef VMMEM_ENDIAN_CONV_

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ENDIAN_H */
