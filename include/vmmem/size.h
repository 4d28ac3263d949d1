/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — the one grammar for sizes and addresses.
 *
 * Configuration files, provider options and the benchmark's arguments all
 * read sizes with vmmem_parse_size(), so `0100000` means the same number
 * everywhere (docs/config.md): decimal digits, or 0x and hex digits,
 * optionally followed by one of K, M, G or T (either case, powers of 1024).
 * Nothing else is accepted: no sign, no whitespace (callers trim), no octal.
 *
 * Inline, so that a provider, which links against nothing of vmmem's, uses
 * the same code as the core (<vmmem/provider.h> includes this header).
 */
#ifndef VMMEM_SIZE_H
#define VMMEM_SIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Why vmmem_parse_size() refused a string. */
typedef enum vmmem_size_status {
	VMMEM_SIZE_OK = 0,
	/** The string is empty (or NULL). */
	VMMEM_SIZE_EMPTY,
	/** It starts with '-'. */
	VMMEM_SIZE_NEGATIVE,
	/** No digits where the number should be (a sign, a space, "0x" alone). */
	VMMEM_SIZE_NOT_A_NUMBER,
	/** Something other than one K, M, G or T follows the digits. */
	VMMEM_SIZE_BAD_SUFFIX,
	/** The value does not fit in 64 bits. */
	VMMEM_SIZE_OVERFLOW,
} vmmem_size_status_t;

/**
 * Parses `s` by the grammar above into *out (left alone on failure).
 * On VMMEM_SIZE_BAD_SUFFIX, *suffix (if `suffix` is not NULL) points at the
 * refused text, for messages. Thread-safe; no allocation.
 */
static inline vmmem_size_status_t
vmmem_parse_size(const char *s, uint64_t *out, const char **suffix)
{
	const char *p = s;
	unsigned base = 10, shift = 0;
	uint64_t v = 0;
	int digits = 0;

	if (!s || !*s)
		return VMMEM_SIZE_EMPTY;
	if (*s == '-')
		return VMMEM_SIZE_NEGATIVE;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return VMMEM_SIZE_OVERFLOW;
		v = v * base + d;
		digits = 1;
	}
	if (!digits)
		return VMMEM_SIZE_NOT_A_NUMBER;
	switch (*p) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	if (*p && (!shift || p[1])) {
		if (suffix)
			*suffix = p;
		return VMMEM_SIZE_BAD_SUFFIX;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return VMMEM_SIZE_OVERFLOW;
	*out = v << shift;
	return VMMEM_SIZE_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_SIZE_H */
