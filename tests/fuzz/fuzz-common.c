/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Helpers shared by the fuzz targets (see fuzz.h). */
#include "config.h"

#include <dirent.h>
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

/* A provider module's file: the loader keeps it open while the module is
 * loaded (for good under VMMEM_NO_DLCLOSE), so it is no leak. */
static int
is_module_fd(const char *name)
{
	char link[64], target[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%s", name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 3)
		return 0;
	target[n] = '\0';
	return strcmp(target + n - 3, ".so") == 0;
}

int
fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		fuzz_fail("cannot open /proc/self/fd");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && !is_module_fd(e->d_name))
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}
