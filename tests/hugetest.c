/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hugetest.h"

#define HUGETLBFS_MAGIC_ 0x958458f6

void
hugetest_lock(void)
{
	static int fd = -1;
	char *path;

	if (fd >= 0)
		return;
	path = g_build_filename(g_get_tmp_dir(), "vmmem-test-hugepages.lock", NULL);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	g_free(path);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
}

uint64_t
hugetest_free_pages(uint64_t page_size)
{
	char *path = g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
				     (unsigned long long)(page_size >> 10));
	char *text = NULL;
	uint64_t n = 0;

	if (g_file_get_contents(path, &text, NULL, NULL))
		n = g_ascii_strtoull(text, NULL, 10);
	g_free(text);
	g_free(path);
	return n;
}

bool
hugetest_require(uint64_t page_size, uint64_t n)
{
	uint64_t free_pages = hugetest_free_pages(page_size);
	const char *knob = page_size == MiB(2) ? "/proc/sys/vm/nr_hugepages"
					       : "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
	char *msg;

	if (free_pages >= n)
		return true;
	msg = g_strdup_printf("needs %llu free %s huge pages, %llu free: echo N > %s (as root)",
			      (unsigned long long)n, page_size == MiB(2) ? "2 MiB" : "1 GiB",
			      (unsigned long long)free_pages, knob);
	g_test_skip(msg);
	g_free(msg);
	return false;
}

static char *our_mount;

static void
unmount_ours(void)
{
	if (our_mount) {
		umount2(our_mount, MNT_DETACH);
		rmdir(our_mount);
	}
}

static bool
is_2m_hugetlbfs(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC_ &&
	       (uint64_t)sfs.f_bsize == MiB(2) && access(dir, W_OK) == 0;
}

const char *
hugetest_mount_2m(void)
{
	static char *found;
	const char *env = g_getenv("VMMEM_TEST_HUGETLBFS_DIR");
	char *mounts = NULL;
	char **lines;

	if (found)
		return found;
	if (env && is_2m_hugetlbfs(env))
		return found = g_strdup(env);
	if (g_file_get_contents("/proc/mounts", &mounts, NULL, NULL)) {
		lines = g_strsplit(mounts, "\n", -1);
		for (char **l = lines; *l && !found; l++) {
			char **f = g_strsplit(*l, " ", -1);
			if (g_strv_length(f) >= 3 && strcmp(f[2], "hugetlbfs") == 0 &&
			    !strchr(f[1], '\\') && is_2m_hugetlbfs(f[1]))
				found = g_strdup(f[1]);
			g_strfreev(f);
		}
		g_strfreev(lines);
		g_free(mounts);
	}
	if (found)
		return found;
	if (geteuid() == 0) {
		char *dir = g_dir_make_tmp("vmmem-hugetlbfs-XXXXXX", NULL);
		if (dir && mount("none", dir, "hugetlbfs", 0, "pagesize=2M") == 0) {
			our_mount = dir;
			atexit(unmount_ours);
			return found = g_strdup(dir);
		}
		if (dir)
			rmdir(dir);
		g_free(dir);
	}
	g_test_skip("no writable 2 MiB hugetlbfs mount (set VMMEM_TEST_HUGETLBFS_DIR, or as root: "
		    "mount -t hugetlbfs -o pagesize=2M none DIR)");
	return NULL;
}

vmmem_memory_t *
hugetest_new(const char *provider, uint64_t start, uint64_t size, GError **error, ...)
{
	struct vmmem_provider_option opts[16];
	char *copies[16];
	size_t n = 0;
	vmmem_region_spec_t spec = { 0 };
	vmmem_memory_t *mem;
	va_list ap;
	const char *kv;

	va_start(ap, error);
	while ((kv = va_arg(ap, const char *)) && n < G_N_ELEMENTS(opts)) {
		char *eq;
		copies[n] = g_strdup(kv);
		eq = strchr(copies[n], '=');
		g_assert_nonnull(eq);
		*eq = '\0';
		opts[n].key = copies[n];
		opts[n].value = eq + 1;
		n++;
	}
	va_end(ap);
	spec.name = "ram";
	spec.start = vmmem_guest_addr(start);
	spec.size = size;
	spec.provider = provider;
	spec.options = opts;
	spec.n_options = n;
	mem = vmmem_memory_new(&spec, 1, error);
	for (size_t i = 0; i < n; i++)
		g_free(copies[i]);
	return mem;
}
