/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Helpers shared by the fuzz targets (see fuzz.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <unistd.h>

#include <string.h>

#include "fuzz.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void
fuzz_setup_provider_path(void)
{
#ifdef FUZZ_PROVIDER_PATH
	setenv("VMMEM_PROVIDER_PATH", FUZZ_PROVIDER_PATH, 0);
#endif
}

