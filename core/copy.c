/* Byte movement shared by every access family: the single-access rule for
 * small aligned values and the atomics. Kept apart so the rule lives in
 * exactly one place. */
#include "config.h"

#include <string.h>

#include "internal.h"

static bool
aligned2(const void *a, const void *b, size_t n)
{
	return (((uintptr_t)a | (uintptr_t)b) & (n - 1)) == 0;
}

void
vmmem__copy_small(void *dst, const void *src, size_t len)
{
	/* Volatile single accesses so that a concurrent reader or writer in
	 * the guest or another thread never sees half a value; memcpy gives
	 * no such promise even for 8 bytes. */
	switch (len) {
	case 1:
		*(volatile uint8_t *)dst = *(const volatile uint8_t *)src;
		return;
	case 2:
		if (aligned2(dst, src, 2)) {
			*(volatile uint16_t *)dst = *(const volatile uint16_t *)src;
			return;
		}
		break;
	case 4:
		if (aligned2(dst, src, 4)) {
			*(volatile uint32_t *)dst = *(const volatile uint32_t *)src;
			return;
		}
		break;
	case 8:
		if (aligned2(dst, src, 8)) {
			*(volatile uint64_t *)dst = *(const volatile uint64_t *)src;
			return;
		}
		break;
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
