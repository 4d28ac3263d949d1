/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Must not compile: a little-endian field used as a CPU integer, either in
 * arithmetic (-DARITH) or assigned to a uint32_t (-DASSIGN). With -DCONTROL
 * the value goes through vmmem_le32_to_cpu() and must compile. */
#include <vmmem/vmmem.h>

uint32_t next_index(vmmem_le32_t idx);

uint32_t
next_index(vmmem_le32_t idx)
{
#if defined(CONTROL)
	uint32_t v = vmmem_le32_to_cpu(idx);
	return v + 1;
#elif defined(ARITH)
	return idx + 1;
#elif defined(ASSIGN)
	uint32_t v = idx;
	return v;
#else
#error "define CONTROL, ARITH or ASSIGN"
#endif
}
