/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Must not compile: a region-relative address where a guest address is
 * expected. With -DCONTROL the same call is written correctly and must
 * compile, proving the harness itself works. */
#include <vmmem/vmmem.h>

bool check(const vmmem_memory_t *mem, vmmem_region_addr_t offset);

bool
check(const vmmem_memory_t *mem, vmmem_region_addr_t offset)
{
#ifdef CONTROL
	return vmmem_memory_check_range(mem, vmmem_guest_addr(offset.raw), 1);
#else
	return vmmem_memory_check_range(mem, offset, 1);
#endif
}
