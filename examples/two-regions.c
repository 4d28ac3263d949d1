/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The quick-start demo: a guest memory of two adjacent regions from the
 * mmap provider, one write that crosses the boundary between them, and
 * the read that brings it back. */
#include <stdio.h>
#include <string.h>

#include <vmmem/vmmem.h>

int
main(void)
{
	const vmmem_region_spec_t layout[] = {
		{ .name = "low", .start = { 0x0 }, .size = 0x10000, .provider = "mmap" },
		{ .name = "high", .start = { 0x10000 }, .size = 0x10000, .provider = "mmap" },
	};
	const char msg[] = "hello across the boundary";
	vmmem_guest_addr_t at = vmmem_guest_addr(0x10000 - 10); /* 10 bytes in "low" */
	char back[sizeof(msg)] = "";
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(layout, 2, &error);

	if (!mem) {
		fprintf(stderr, "two-regions: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		printf("region %-4s [0x%05llx, 0x%05llx]  provider %s\n", vmmem_region_name(r),
		       (unsigned long long)vmmem_region_start(r).raw,
		       (unsigned long long)vmmem_region_last_addr(r).raw,
		       vmmem_region_provider_name(r));
	}
	if (!vmmem_memory_write_slice(mem, at, msg, sizeof(msg), &error) ||
	    !vmmem_memory_read_slice(mem, at, back, sizeof(back), &error)) {
		fprintf(stderr, "two-regions: %s\n", error->message);
		g_error_free(error);
		vmmem_memory_unref(mem);
		return 1;
	}
	printf("wrote %zu bytes at 0x%llx (crossing into 'high' at 0x10000)\n", sizeof(msg),
	       (unsigned long long)at.raw);
	printf("read back: \"%s\"\n", back);
	vmmem_memory_unref(mem);
	return strcmp(msg, back) == 0 ? 0 : 1;
}
