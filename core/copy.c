/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Byte movement shared by every access family: the single-access rule for
 * small aligned values and the atomics. Kept apart so the rule lives in
 * exactly one place. */
#include "config.h"

#include <string.h>

#include "internal.h"

/* One access of `n` bytes through a register, each side volatile when it is
 * aligned: the guest side of an aligned object moves in one access even if
 * the caller's buffer is misaligned (the buffer is private to the caller,
 * so how it is filled does not matter). */
#define COPY_ONCE(T, dst, src)                                                \
	do {                                                                  \
		T v_;                                                         \
		if (((uintptr_t)(src) & (sizeof(T) - 1)) == 0)               \
			v_ = *(const volatile T *)(const void *)(src);        \
		else                                                          \
			memcpy(&v_, (src), sizeof(T));                        \
		if (((uintptr_t)(dst) & (sizeof(T) - 1)) == 0)               \
			*(volatile T *)(void *)(dst) = v_;                    \
		else                                                          \
			memcpy((dst), &v_, sizeof(T));                        \
	} while (0)

void
vmmem__copy_small(void *dst, const void *src, size_t len)
{
	/* Volatile single accesses so that a concurrent reader or writer in
	 * the guest or another thread never sees half a value; memcpy gives
	 * no such promise even for 8 bytes. */
	switch (len) {
	case 1: COPY_ONCE(uint8_t, dst, src); return;
	case 2: COPY_ONCE(uint16_t, dst, src); return;
	case 4: COPY_ONCE(uint32_t, dst, src); return;
	case 8: COPY_ONCE(uint64_t, dst, src); return;
	}
	memcpy(dst, src, len);
}

bool
vmmem__valid_width(unsigned width, GError **error)
{
	if (width == 1 || width == 2 || width == 4 || width == 8)
		return true;
	vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
		     "atomic access width %u is not 1, 2, 4 or 8 bytes", width);
	return false;
}

bool
vmmem__valid_access(vmmem_access_t access, GError **error)
{
	if (access == VMMEM_ACCESS_READ || access == VMMEM_ACCESS_WRITE ||
	    access == VMMEM_ACCESS_READ_WRITE)
		return true;
	vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
		     "access 0x%x is not VMMEM_ACCESS_READ, _WRITE or _READ_WRITE",
		     (unsigned)access);
	return false;
}

bool
vmmem__atomic_load(const uint8_t *host, unsigned width, memory_order order, uint64_t *out)
{
	switch (width) {
	case 1: *out = __atomic_load_n((const uint8_t *)host, (int)order); return true;
	case 2: *out = __atomic_load_n((const uint16_t *)(const void *)host, (int)order); return true;
	case 4: *out = __atomic_load_n((const uint32_t *)(const void *)host, (int)order); return true;
	case 8: *out = __atomic_load_n((const uint64_t *)(const void *)host, (int)order); return true;
	}
	return false;
}

void
vmmem__atomic_store(uint8_t *host, unsigned width, uint64_t value, memory_order order)
{
	switch (width) {
	case 1: __atomic_store_n((uint8_t *)host, (uint8_t)value, (int)order); break;
	case 2: __atomic_store_n((uint16_t *)(void *)host, (uint16_t)value, (int)order); break;
	case 4: __atomic_store_n((uint32_t *)(void *)host, (uint32_t)value, (int)order); break;
	case 8: __atomic_store_n((uint64_t *)(void *)host, value, (int)order); break;
	}
}
