/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Shared by the fuzz targets: an input cursor and the failure report.
 *
 * A target is one LLVMFuzzerTestOneInput; under clang it links with
 * libFuzzer (`make fuzz`), under any compiler it links with replay.c, which
 * runs the committed corpus as a `make check` test. A target reports a
 * disagreement with fuzz_fail(), which aborts: libFuzzer saves the input,
 * the replay test fails. */
#ifndef VMMEM_FUZZ_H
#define VMMEM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* Optional: frees what LLVMFuzzerInitialize kept, so that the replay
 * program ends with nothing for LeakSanitizer or valgrind to report. */
void fuzz_target_cleanup(void) __attribute__((weak));

/* Reads the input front to back; past its end every read is 0, so any
 * input decodes and a short one ends in a default. */
typedef struct fuzz_in {
	const uint8_t *p;
	size_t left;
} fuzz_in_t;

static inline uint8_t
fuzz_u8(fuzz_in_t *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t
fuzz_u16(fuzz_in_t *in)
{
	uint16_t v = fuzz_u8(in);
	return (uint16_t)(v | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint64_t
fuzz_u64(fuzz_in_t *in)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

/* Prints what disagreed and aborts. */
void fuzz_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

/* Points VMMEM_PROVIDER_PATH at the build tree's providers unless the
 * caller set it (FUZZ_PROVIDER_PATH, from the Makefile). */
void fuzz_setup_provider_path(void);

/* tfd_count(): the open fds, for the leak checks. */
#include "../fdcount.h"

#endif /* VMMEM_FUZZ_H */
