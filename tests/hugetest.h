/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Helpers for tests that use huge pages: the pool is machine-wide, so
 * these tests take a lock while they use it (two test programs running
 * at once under `make -j check` would otherwise starve each other). */
#ifndef VMMEM_TESTS_HUGETEST_H
#define VMMEM_TESTS_HUGETEST_H

#include <stdbool.h>
#include <stdint.h>

#include <vmmem/vmmem.h>

#define MiB(n) ((uint64_t)(n) << 20)
#define GiB(n) ((uint64_t)(n) << 30)

/* Takes the machine-wide huge-page test lock (released at exit). */
void hugetest_lock(void);

/* Free pages of `page_size` in the pool; 0 if the size does not exist. */
uint64_t hugetest_free_pages(uint64_t page_size);

/* True if at least `n` pages of `page_size` are free; otherwise marks the
 * test skipped with the reason and how to fix it. */
bool hugetest_require(uint64_t page_size, uint64_t n);

/* A hugetlbfs mount of 2 MiB pages: $VMMEM_TEST_HUGETLBFS_DIR, else one
 * from /proc/mounts, else (as root) one mounted now in a temporary
 * directory and unmounted at exit. NULL (test skipped with the reason) if
 * none. */
const char *hugetest_mount_2m(void);

/* One region of `size` at `start` from `provider` with options given as
 * "key=value" strings, NULL-terminated. */
vmmem_memory_t *hugetest_new(const char *provider, uint64_t start, uint64_t size,
			     GError **error, ...) G_GNUC_NULL_TERMINATED;

#endif /* VMMEM_TESTS_HUGETEST_H */
