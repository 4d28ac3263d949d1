/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Shared helpers for the vmmem test programs.
 *
 * The consumer suite runs once per built-in provider: tests register with
 * tu_add_per_provider(), which adds one GTest case per entry of
 * tu_providers[] under "/<provider>/<path>". A provider entry whose
 * skip_reason() returns a string makes its cases skip with that reason
 * (e.g. no huge pages on this host). Every layout uses starts and sizes
 * that are multiples of 2 MiB so that huge-page providers can back it. */
#ifndef VMMEM_TESTUTIL_H
#define VMMEM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmmem/vmmem.h>

#define TU_MIB ((uint64_t)1 << 20)
#define TU_2M (2 * TU_MIB)

typedef struct tu_provider {
	const char *name;     /* path prefix and, unless `provider` is set, the provider name */
	const char *provider; /* what goes into vmmem_region_spec_t.provider; NULL: name */
	const struct vmmem_provider_option *options;
	size_t n_options;
	/* NULL, or a function returning NULL if the provider is usable here and
	 * otherwise the reason its cases are skipped. */
	const char *(*skip_reason)(void);
	/* NULL, or the module path to load instead (a test provider). */
	const char *(*module)(void);
} tu_provider_t;

extern const tu_provider_t tu_providers[];
extern const size_t tu_n_providers;

/* The default provider for tests that are not parameterised ("mmap"). */
const tu_provider_t *tu_default_provider(void);

typedef void (*tu_provider_test_fn)(const tu_provider_t *p);

/* Registers `fn` once per provider as "/<provider>/<path>". */
void tu_add_per_provider(const char *path, tu_provider_test_fn fn);

/* A region's place in a layout: [start, start + size). */
typedef struct tu_range {
	uint64_t start;
	uint64_t size;
} tu_range_t;

/* Named layouts (all multiples of 2 MiB). */
extern const tu_range_t tu_layout1[1];   /* [0,2M) */
extern const tu_range_t tu_layout2[2];   /* [0,2M) hole [4M,6M) */
extern const tu_range_t tu_layout3[3];   /* [0,2M) [2M,4M) hole [8M,10M) */
extern const tu_range_t tu_layout_adj3[3]; /* hole [2M,4M) [4M,6M) [6M,8M) */
extern const tu_range_t tu_layout_top[2];  /* [2^64-4M, 2^64-2M) [2^64-2M, 2^64) */

/* Creates a memory from `n` ranges with provider `p` (regions named "r0",
 * "r1", ... in the order given), fills every byte with tu_pattern(), and
 * asserts success. */
vmmem_memory_t *tu_memory_new(const tu_provider_t *p, const tu_range_t *ranges, size_t n);

/* The byte the fill pattern puts at guest address `addr`. */
uint8_t tu_pattern(uint64_t addr);

/* Asserts every byte of every region still holds the fill pattern, except
 * for [skip_start, skip_start + skip_len) (pass skip_len 0 for none). */
void tu_assert_pattern_except(const vmmem_memory_t *mem, uint64_t skip_start, uint64_t skip_len);
#define tu_assert_pattern(mem) tu_assert_pattern_except((mem), 0, 0)

/* Asserts `err` is set in VMMEM_ERROR with `code` and that its message
 * contains each of the NULL-terminated strings; then clears it. */
void tu_assert_error_(GError **err, const char *file, int line, int code, ...);
#define tu_assert_error(err, ...) tu_assert_error_((err), __FILE__, __LINE__, __VA_ARGS__, NULL)

/* Asserts `err` is NULL and prints its message if not. */
#define tu_assert_no_error(err) g_assert_no_error(err)

/* "0x%" PRIx64, allocated; for building expected substrings. */
char *tu_hex(uint64_t v);

/* Fills buf with `byte`. */
void tu_fill(void *buf, size_t len, uint8_t byte);
/* True if every byte of buf is `byte`. */
bool tu_all(const void *buf, size_t len, uint8_t byte);

/* A fresh temporary directory (removed, with its files, by tu_rmdir). */
char *tu_tmpdir(void);
void tu_rmdir(const char *dir);

#endif /* VMMEM_TESTUTIL_H */
