/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Huge-page helpers shared by the hugetlbfs and memfd providers.
 *
 * Compiled into each of those modules (not a vmmem header, not installed):
 * the modules export only vmmem_provider_entry, so these stay private to
 * each module. Everything here is safe to call from several threads.
 */
#ifndef VMMEM_PROVIDERS_HUGEPAGES_H
#define VMMEM_PROVIDERS_HUGEPAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmmem/provider.h>

/* How a mapping made without a reservation gets its pages now. */
enum hp_prefault {
	HP_PREFAULT_NO,      /* leave it (only with a reservation) */
	HP_PREFAULT_AUTO,    /* MADV_POPULATE_WRITE, else a guarded touch */
	HP_PREFAULT_TOUCH,   /* always the SIGBUS-guarded touch */
};

/* The system's default huge page size (/proc/meminfo Hugepagesize), or 0
 * if the kernel has none. */
uint64_t hp_default_size(void);

/* True if the kernel offers huge pages of `size` bytes
 * (/sys/kernel/mm/hugepages/hugepages-<N>kB exists). */
bool hp_size_supported(uint64_t size);

/* Writes the supported sizes ("2M, 1G") into buf, for messages. */
void hp_supported_list(char *buf, size_t len);

/* Formats a size as "2 MiB" / "1 GiB" / "0x1000 bytes" into buf; returns buf. */
const char *hp_size_str(uint64_t size, char *buf, size_t len);

/* `size` as mount -o pagesize= and the kernel's memparse() read it: "2M",
 * "1G" (hp_size_str's "1 GiB" is for people, and mount refuses it). */
const char *hp_mount_size_str(uint64_t size, char *buf, size_t len);

/* Free and reserved-but-unused pages of `size` in the pool; false if the
 * counters cannot be read. */
bool hp_pool_counts(uint64_t size, uint64_t *free_pages, uint64_t *resv_pages);

/* The page-size option: a size the kernel supports, or (unset) the default.
 * Returns 0 or an errno with a message. */
int hp_parse_page_size(const struct vmmem_provider_request *req, uint64_t *out, char *err,
		       size_t len);

/* The reserve (bool, default yes) and prefault (yes/no/touch; default no
 * with a reservation, yes without) options. Refuses reserve=no with
 * prefault=no: that mapping could SIGBUS on first touch. */
int hp_parse_reserve(const struct vmmem_provider_request *req, bool *reserve,
		     enum hp_prefault *prefault, char *err, size_t len);

/* Refuses a size that is not a multiple of page_size, naming both. */
int hp_check_size(const struct vmmem_provider_request *req, uint64_t page_size, char *err,
		  size_t len);

/* The message for running out of huge pages: how many the region needs and
 * how many the pool has free. Returns ENOMEM. */
int hp_fail_no_pages(uint64_t size, uint64_t page_size, const char *what, char *err,
		     size_t len);

/* Gives every page of [p, p + size) its huge page now, so that no later
 * touch can SIGBUS. Returns 0, or ENOMEM (with the pool counts in err) if
 * the pool runs dry, or another errno. The caller unmaps on failure. */
int hp_prefault(const struct vmmem_provider_request *req, void *p, uint64_t size,
		uint64_t page_size, enum hp_prefault how, char *err, size_t len);

/* log2 of a power of two. */
unsigned hp_log2(uint64_t v);

#endif /* VMMEM_PROVIDERS_HUGEPAGES_H */
