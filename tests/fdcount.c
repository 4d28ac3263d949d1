/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The fd count the leak checks compare; see fdcount.h. */
#include "fdcount.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
is_module(int dir, const char *name)
{
	char target[4096];
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);

	if (n < 3)
		return 0;
	target[n] = '\0';
	return strcmp(target + n - 3, ".so") == 0;
}

int
tfd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d) {
		perror("tfd_count: /proc/self/fd");
		abort();
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		n += !is_module(dirfd(d), e->d_name);
	}
	closedir(d);
	return n;
}
