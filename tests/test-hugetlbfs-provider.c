/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The hugetlbfs provider: huge pages, anonymous or from a hugetlbfs file,
 * and running out of them as an error at creation, never a SIGBUS. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "hugetest.h"
#include "isolate.h"

static uint64_t
meminfo_hugepagesize(void)
{
	char *text = NULL, *p;
	uint64_t kb = 0;

	g_assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
	if ((p = strstr(text, "Hugepagesize:")))
		kb = g_ascii_strtoull(p + strlen("Hugepagesize:"), NULL, 10);
	g_free(text);
	return kb << 10;
}

/* Takes GError ** so that it is read after the call in the first argument
 * has run (argument evaluation order is unspecified). Requests the
 * provider can refuse without mapping (its validate()) fail with
 * VMMEM_ERROR_PROVIDER_OPTION; running out of pages at creation with
 * VMMEM_ERROR_PROVIDER_CREATE. */
static void
expect_error(vmmem_memory_t *mem, GError **errorp, int code, const char *needle)
{
	GError *error = *errorp;

	g_assert_null(mem);
	g_assert_error(error, VMMEM_ERROR, code);
	if (!strstr(error->message, needle))
		g_error("message '%s' lacks '%s'", error->message, needle);
	g_error_free(error);
}

static void
test_anonymous_2m(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;
	const vmmem_region_t *r;
	uint64_t v = 0;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	mem = hugetest_new("hugetlbfs", MiB(4), MiB(4), &error, "page-size=2M", NULL);
	g_assert_no_error(error);
	r = vmmem_memory_region(mem, 0);
	g_assert_cmpuint(vmmem_region_flags(r), ==, VMMEM_REGION_HUGETLB);
	g_assert_cmpint(vmmem_region_fd(r), ==, -1);
	g_assert_cmpuint(vmmem_region_page_size(r), ==, MiB(2));
	g_assert_cmpuint((uintptr_t)vmmem_region_host(r) % MiB(2), ==, 0);
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(MiB(8) - 8), 8, 0x1122334455667788,
					 memory_order_relaxed, &error));
	g_assert_true(vmmem_memory_load(mem, vmmem_guest_addr(MiB(8) - 8), 8, memory_order_relaxed,
					&v, &error));
	g_assert_no_error(error);
	g_assert_cmphex(v, ==, 0x1122334455667788);
	vmmem_memory_unref(mem);
}

static void
test_default_page_size_from_meminfo(void)
{
	GError *error = NULL;
	uint64_t def = meminfo_hugepagesize();
	vmmem_memory_t *mem;

	hugetest_lock();
	if (def == 0) {
		g_test_skip("this kernel has no huge pages (no Hugepagesize in /proc/meminfo)");
		return;
	}
	if (!hugetest_require(def, 1))
		return;
	mem = hugetest_new("hugetlbfs", 0, def, &error, NULL);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(mem, 0)), ==, def);
	vmmem_memory_unref(mem);
}

/* A file region: flags, the page size, the file's name unlinked unless
 * kept, and writes visible through the fd. */
static void
check_file_region(vmmem_memory_t *mem, bool kept)
{
	GError *error = NULL;
	const vmmem_region_t *r = vmmem_memory_region(mem, 0);
	char *proc = g_strdup_printf("/proc/self/fd/%d", vmmem_region_fd(r));
	char *target = g_file_read_link(proc, NULL);
	char buf[8] = "";

	g_assert_cmpuint(vmmem_region_flags(r), ==,
			 VMMEM_REGION_FD | VMMEM_REGION_SHARED | VMMEM_REGION_HUGETLB);
	g_assert_cmpuint(vmmem_region_page_size(r), ==, MiB(2));
	g_assert_nonnull(target);
	g_assert_cmpint(g_str_has_suffix(target, " (deleted)"), ==, !kept);
	if (kept) {
		g_assert_true(g_file_test(target, G_FILE_TEST_IS_REGULAR));
		g_assert_cmpint(unlink(target), ==, 0);
	}
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(MiB(2) + 100), "shared", 7,
					       &error));
	g_assert_no_error(error);
	g_assert_cmpint(pread(vmmem_region_fd(r), buf, 7, 100), ==, 7);
	g_assert_cmpstr(buf, ==, "shared");
	g_free(target);
	g_free(proc);
}

static void
test_file_in_mount(void)
{
	GError *error = NULL;
	const char *dir;
	char *opt;
	vmmem_memory_t *mem;

	hugetest_lock();
	if (!(dir = hugetest_mount_2m()) || !hugetest_require(MiB(2), 2))
		return;
	opt = g_strdup_printf("mount-dir=%s", dir);
	mem = hugetest_new("hugetlbfs", MiB(2), MiB(4), &error, opt, NULL);
	g_assert_no_error(error);
	check_file_region(mem, false);
	vmmem_memory_unref(mem);
	g_free(opt);
}

static void
test_file_keep_file(void)
{
	GError *error = NULL;
	const char *dir;
	char *opt;
	vmmem_memory_t *mem;

	hugetest_lock();
	if (!(dir = hugetest_mount_2m()) || !hugetest_require(MiB(2), 1))
		return;
	opt = g_strdup_printf("path=%s", dir);
	mem = hugetest_new("hugetlbfs", MiB(2), MiB(2), &error, opt, "keep-file=yes", NULL);
	g_assert_no_error(error);
	check_file_region(mem, true);
	vmmem_memory_unref(mem);
	g_free(opt);
}

static void
test_file_mount_auto(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;

	hugetest_lock();
	if (!hugetest_mount_2m() || !hugetest_require(MiB(2), 1))
		return;
	mem = hugetest_new("hugetlbfs", MiB(2), MiB(2), &error, "mount-dir=auto",
			   "page-size=2M", NULL);
	g_assert_no_error(error);
	check_file_region(mem, false);
	vmmem_memory_unref(mem);
}

static void
test_not_hugetlbfs_refused(void)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("vmmem-not-huge-XXXXXX", NULL);
	char *opt = g_strdup_printf("mount-dir=%s", dir);
	char *needle = g_strdup_printf("'%s' is not a hugetlbfs mount", dir);
	vmmem_memory_t *mem = hugetest_new("hugetlbfs", 0, MiB(2), &error, opt, NULL);

	expect_error(mem, &error, VMMEM_ERROR_PROVIDER_OPTION, needle);
	rmdir(dir);
	g_free(needle);
	g_free(opt);
	g_free(dir);
}

static void
test_mount_page_size_mismatch_refused(void)
{
	GError *error = NULL;
	char *opt;

	if (!hugetest_mount_2m())
		return;
	if (!g_file_test("/sys/kernel/mm/hugepages/hugepages-1048576kB", G_FILE_TEST_IS_DIR)) {
		g_test_skip("this kernel has no 1 GiB huge pages");
		return;
	}
	opt = g_strdup_printf("mount-dir=%s", hugetest_mount_2m());
	expect_error(hugetest_new("hugetlbfs", 0, GiB(1), &error, opt, "page-size=1G", NULL),
			    &error, VMMEM_ERROR_PROVIDER_OPTION, "has 2 MiB pages");
	g_free(opt);
}

static void
test_unaligned_size_names_page_size(void)
{
	GError *error = NULL;

	if (!hugetest_require(MiB(2), 0))
		return;
	expect_error(hugetest_new("hugetlbfs", 0, MiB(3), &error, "page-size=2M", NULL),
		     &error, VMMEM_ERROR_PROVIDER_OPTION,
			    "size 0x300000 is not a multiple of the huge page size 0x200000 (2 MiB)");
}

static void
test_unaligned_start_refused(void)
{
	GError *error = NULL;

	if (!hugetest_require(MiB(2), 0))
		return;
	expect_error(hugetest_new("hugetlbfs", MiB(1), MiB(2), &error, "page-size=2M", NULL),
		     &error, VMMEM_ERROR_PROVIDER_OPTION,
			    "start 0x100000 is not a multiple of the huge page size 0x200000 (2 MiB)");
}

static void
test_unsupported_page_size_lists_sizes(void)
{
	GError *error = NULL;

	expect_error(hugetest_new("hugetlbfs", 0, MiB(4), &error, "page-size=4M", NULL),
			    &error, VMMEM_ERROR_PROVIDER_OPTION, "option page-size = '4M': this kernel has no huge pages of that size");
}

/* The hint must be a command that works: mount reads pagesize=1G, and
 * refuses "1 GiB". */
static void
test_mount_hint_is_a_working_command(void)
{
	GError *error = NULL;
	char *mounts = NULL;

	if (!g_file_test("/sys/kernel/mm/hugepages/hugepages-1048576kB", G_FILE_TEST_IS_DIR)) {
		g_test_skip("this kernel has no 1 GiB huge pages");
		return;
	}
	g_assert_true(g_file_get_contents("/proc/mounts", &mounts, NULL, NULL));
	if (strstr(mounts, "pagesize=1024M") || strstr(mounts, "pagesize=1G")) {
		g_test_skip("a 1 GiB hugetlbfs mount exists, so there is no hint to give");
		g_free(mounts);
		return;
	}
	g_free(mounts);
	expect_error(hugetest_new("hugetlbfs", 0, GiB(1), &error, "mount-dir=auto",
				  "page-size=1G", NULL),
		     &error, VMMEM_ERROR_PROVIDER_OPTION,
		     "no writable hugetlbfs mount of 1 GiB pages in /proc/mounts (mount one: "
		     "mount -t hugetlbfs -o pagesize=1G none DIR)");
}

static void
test_noreserve_without_prefault_refused(void)
{
	GError *error = NULL;

	expect_error(hugetest_new("hugetlbfs", 0, MiB(2), &error, "reserve=no",
					 "prefault=no", NULL),
			    &error, VMMEM_ERROR_PROVIDER_OPTION, "reserve = no and prefault = no");
}

static int sigbus_seen;

static void
our_sigbus_handler(int sig)
{
	sigbus_seen++;
}

/* Asks for one page more than the pool has free and expects an error with
 * both counts, the pool untouched afterwards, and (for the guarded touch)
 * the caller's SIGBUS handler back in place. */
static void
check_out_of_pages(const char *const *opts)
{
	GError *error = NULL;
	struct sigaction ours = { 0 }, old, after;
	uint64_t free_before, want;
	vmmem_memory_t *mem;
	char *expect;

	hugetest_lock();
	/* An empty pool is the simplest case of running out. */
	if (!hugetest_require(MiB(2), 0))
		return;
	ours.sa_handler = our_sigbus_handler;
	sigemptyset(&ours.sa_mask);
	g_assert_cmpint(sigaction(SIGBUS, &ours, &old), ==, 0);

	free_before = hugetest_free_pages(MiB(2));
	want = free_before + 1;
	mem = hugetest_new("hugetlbfs", 0, want * MiB(2), &error, "page-size=2M", opts[0],
			   opts[1], NULL);
	expect = g_strdup_printf("asked for %llu pages, %llu free", (unsigned long long)want,
				 (unsigned long long)free_before);
	g_assert_cmpint(vmmem_error_get_errno(error), ==, ENOMEM);
	expect_error(mem, &error, VMMEM_ERROR_PROVIDER_CREATE, expect);
	g_assert_cmpuint(hugetest_free_pages(MiB(2)), ==, free_before);

	g_assert_cmpint(sigaction(SIGBUS, &old, &after), ==, 0);
	g_assert_true(after.sa_handler == our_sigbus_handler);
	g_assert_cmpint(sigbus_seen, ==, 0);
	g_free(expect);
}

static void
test_out_of_pages_reserved(void)
{
	const char *opts[] = { "reserve=yes", NULL };
	check_out_of_pages(opts);
}

static void
test_out_of_pages_unreserved_populate(void)
{
	const char *opts[] = { "reserve=no", NULL };
	check_out_of_pages(opts);
}

static void
test_out_of_pages_unreserved_guarded_touch(void)
{
	const char *opts[] = { "reserve=no", "prefault=touch" };
	check_out_of_pages(opts);
}

static void
test_unreserved_prefault_succeeds_when_pages_suffice(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	mem = hugetest_new("hugetlbfs", 0, MiB(4), &error, "page-size=2M", "reserve=no",
			   "prefault=touch", NULL);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(mem, 0)), ==, MiB(2));
	vmmem_memory_unref(mem);
}

static void
test_anonymous_1g(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;
	uint64_t v = 0;

	hugetest_lock();
	if (!g_file_test("/sys/kernel/mm/hugepages/hugepages-1048576kB", G_FILE_TEST_IS_DIR)) {
		g_test_skip("this kernel or CPU has no 1 GiB huge pages");
		return;
	}
	if (!hugetest_require(GiB(1), 1))
		return;
	mem = hugetest_new("hugetlbfs", GiB(4), GiB(1), &error, "page-size=1G", NULL);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(mem, 0)), ==, GiB(1));
	g_assert_cmpuint(vmmem_region_flags(vmmem_memory_region(mem, 0)), ==, VMMEM_REGION_HUGETLB);
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(GiB(5) - 8), 8, 99,
					 memory_order_relaxed, &error));
	g_assert_true(vmmem_memory_load(mem, vmmem_guest_addr(GiB(5) - 8), 8, memory_order_relaxed,
					&v, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(v, ==, 99);
	vmmem_memory_unref(mem);
}

/* Two providers prefaulting with the guarded touch at the same time, from
 * two threads (the reviewer's case: hugetlbfs and memfd each used to carry
 * their own guard and restored each other's handlers out of order). The
 * guard is now the core's alone: afterwards the caller's handler must be
 * back, with or without memories still alive. */
static gpointer
touch_loop(gpointer provider)
{
	for (int i = 0; i < 40; i++) {
		GError *error = NULL;
		vmmem_memory_t *mem =
			strcmp(provider, "memfd") == 0
				? hugetest_new("memfd", 0, MiB(2), &error, "hugetlb=yes",
					       "page-size=2M", "reserve=no", "prefault=touch", NULL)
				: hugetest_new("hugetlbfs", 0, MiB(2), &error, "page-size=2M",
					       "reserve=no", "prefault=touch", NULL);
		g_assert_no_error(error);
		vmmem_memory_unref(mem);
	}
	return NULL;
}

static void
test_concurrent_guarded_touch_restores_handler(void)
{
	struct sigaction ours = { 0 }, old, after;
	GThread *a, *b;
	GError *error = NULL;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 4))
		return;
	/* The core's own SIGBUS handler (core/sigbus.c) goes in with the
	 * first fd-backed region a process creates, and stays. Create one
	 * first, so that this case sees the prefault guard alone, in a fresh
	 * process as much as after other cases (it passed only after them). */
	vmmem_memory_unref(hugetest_new("memfd", 0, MiB(2), &error, NULL));
	g_assert_no_error(error);
	ours.sa_handler = our_sigbus_handler;
	sigemptyset(&ours.sa_mask);
	g_assert_cmpint(sigaction(SIGBUS, &ours, &old), ==, 0);
	a = g_thread_new("hugetlbfs", touch_loop, (gpointer) "hugetlbfs");
	b = g_thread_new("memfd", touch_loop, (gpointer) "memfd");
	g_thread_join(a);
	g_thread_join(b);
	g_assert_cmpint(sigaction(SIGBUS, &old, &after), ==, 0);
	g_assert_true(after.sa_handler == our_sigbus_handler);
	g_assert_cmpint(sigbus_seen, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hugetlbfs/anonymous/2m-flags-page-size-and-access", test_anonymous_2m);
	g_test_add_func("/hugetlbfs/anonymous/default-page-size-from-meminfo",
			test_default_page_size_from_meminfo);
	g_test_add_func("/hugetlbfs/anonymous/1g-pages", test_anonymous_1g);
	g_test_add_func("/hugetlbfs/file/in-mount-shared-fd-unlinked", test_file_in_mount);
	g_test_add_func("/hugetlbfs/file/keep-file-keeps-the-name", test_file_keep_file);
	g_test_add_func("/hugetlbfs/file/mount-dir-auto-finds-a-mount", test_file_mount_auto);
	g_test_add_func("/hugetlbfs/file/not-hugetlbfs-refused", test_not_hugetlbfs_refused);
	g_test_add_func("/hugetlbfs/file/page-size-other-than-mount-refused",
			test_mount_page_size_mismatch_refused);
	g_test_add_func("/hugetlbfs/layout/unaligned-size-names-page-size",
			test_unaligned_size_names_page_size);
	g_test_add_func("/hugetlbfs/layout/unaligned-start-refused", test_unaligned_start_refused);
	g_test_add_func("/hugetlbfs/options/unsupported-page-size-refused",
			test_unsupported_page_size_lists_sizes);
	g_test_add_func("/hugetlbfs/file/mount-dir-auto-hint-says-pagesize-1G",
			test_mount_hint_is_a_working_command);
	g_test_add_func("/hugetlbfs/options/noreserve-without-prefault-refused",
			test_noreserve_without_prefault_refused);
	g_test_add_func("/hugetlbfs/out-of-pages/reserved-fails-at-creation-with-counts",
			test_out_of_pages_reserved);
	g_test_add_func("/hugetlbfs/out-of-pages/unreserved-populate-fails-cleanly",
			test_out_of_pages_unreserved_populate);
	g_test_add_func("/hugetlbfs/out-of-pages/unreserved-touch-fails-cleanly-handler-restored",
			test_out_of_pages_unreserved_guarded_touch);
	g_test_add_func("/hugetlbfs/unreserved/concurrent-touch-in-two-providers-restores-handler",
			test_concurrent_guarded_touch_restores_handler);
	g_test_add_func("/hugetlbfs/unreserved/touch-prefault-succeeds-with-enough-pages",
			test_unreserved_prefault_succeeds_when_pages_suffice);
	return g_test_run();
}
