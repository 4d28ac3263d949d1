/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The memfd provider: shared, fd-backed, sealed memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "hugetest.h"
#include "isolate.h"

static const vmmem_region_t *
only_region(vmmem_memory_t *mem)
{
	g_assert_nonnull(mem);
	g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 1);
	return vmmem_memory_region(mem, 0);
}

static char *
fd_link(int fd)
{
	char *proc = g_strdup_printf("/proc/self/fd/%d", fd);
	char *target = g_file_read_link(proc, NULL);

	g_free(proc);
	g_assert_nonnull(target);
	return target;
}

static void
test_flags_fd_and_page_size(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0x100000, MiB(1), &error, NULL);
	const vmmem_region_t *r;

	g_assert_no_error(error);
	r = only_region(mem);
	g_assert_cmpuint(vmmem_region_flags(r), ==, VMMEM_REGION_FD | VMMEM_REGION_SHARED);
	g_assert_cmpint(vmmem_region_fd(r), >=, 0);
	g_assert_cmpuint(vmmem_region_fd_offset(r), ==, 0);
	g_assert_cmpuint(vmmem_region_page_size(r), ==, (uint64_t)sysconf(_SC_PAGESIZE));
	g_assert_cmpstr(vmmem_region_provider_name(r), ==, "memfd");
	vmmem_memory_unref(mem);
}

static void
test_write_visible_through_fd(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0x100000, MiB(1), &error, NULL);
	const vmmem_region_t *r = only_region(mem);
	char buf[16] = "";

	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(0x100000 + 0x1234),
					       "through the fd", 15, &error));
	g_assert_no_error(error);
	g_assert_cmpint(pread(vmmem_region_fd(r), buf, 15, 0x1234), ==, 15);
	g_assert_cmpstr(buf, ==, "through the fd");
	vmmem_memory_unref(mem);
}

static void
test_sealed_truncate_fails(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0, MiB(1), &error, NULL);
	const vmmem_region_t *r = only_region(mem);
	int fd = vmmem_region_fd(r), peer = dup(fd);
	int seals = fcntl(fd, F_GET_SEALS);

	g_assert_cmpint(seals, ==, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	errno = 0;
	g_assert_cmpint(ftruncate(fd, 0), ==, -1);
	g_assert_cmpint(errno, ==, EPERM);
	/* A peer holds its own fd for the same file: the seal is on the file. */
	errno = 0;
	g_assert_cmpint(ftruncate(peer, 4096), ==, -1);
	g_assert_cmpint(errno, ==, EPERM);
	errno = 0;
	g_assert_cmpint(ftruncate(peer, MiB(2)), ==, -1);
	g_assert_cmpint(errno, ==, EPERM);
	/* Nor can the peer lift or add seals. */
	g_assert_cmpint(fcntl(peer, F_ADD_SEALS, F_SEAL_WRITE), ==, -1);
	g_assert_cmpint(errno, ==, EPERM);
	/* And the memory is still all there. */
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(MiB(1) - 8), 8, 42,
					 memory_order_relaxed, &error));
	g_assert_no_error(error);
	close(peer);
	vmmem_memory_unref(mem);
}

static void
test_seal_no_allows_resize(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0, MiB(1), &error, "seal=no", NULL);
	const vmmem_region_t *r = only_region(mem);

	g_assert_cmpint(fcntl(vmmem_region_fd(r), F_GET_SEALS), ==, 0);
	g_assert_cmpint(ftruncate(vmmem_region_fd(r), MiB(2)), ==, 0);
	vmmem_memory_unref(mem);
}

static void
test_default_name_from_region(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0, MiB(1), &error, NULL);
	char *target = fd_link(vmmem_region_fd(only_region(mem)));

	g_assert_true(g_str_has_prefix(target, "/memfd:vmmem:ram"));
	g_free(target);
	vmmem_memory_unref(mem);
}

static void
test_name_option_visible(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0, MiB(1), &error, "name=guest-ram", NULL);
	char *target = fd_link(vmmem_region_fd(only_region(mem)));

	g_assert_true(g_str_has_prefix(target, "/memfd:guest-ram"));
	g_free(target);
	vmmem_memory_unref(mem);
}

static void
test_bad_seal_value_names_option(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = hugetest_new("memfd", 0, MiB(1), &error, "seal=maybe", NULL);

	g_assert_null(mem);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_OPTION);
	g_assert_nonnull(strstr(error->message, "option seal = 'maybe'"));
	g_error_free(error);
}

static void
test_page_size_without_hugetlb_refused(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem =
		hugetest_new("memfd", 0, MiB(2), &error, "hugetlb=no", "page-size=2M", NULL);

	g_assert_null(mem);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_OPTION);
	g_assert_nonnull(strstr(error->message, "page-size needs hugetlb = yes"));
	g_error_free(error);
}

static void
test_hugetlb_2m(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;
	const vmmem_region_t *r;
	char *target;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	mem = hugetest_new("memfd", MiB(2), MiB(4), &error, "hugetlb=yes", "page-size=2M", NULL);
	g_assert_no_error(error);
	r = only_region(mem);
	g_assert_cmpuint(vmmem_region_flags(r), ==,
			 VMMEM_REGION_FD | VMMEM_REGION_SHARED | VMMEM_REGION_HUGETLB);
	g_assert_cmpuint(vmmem_region_page_size(r), ==, MiB(2));
	g_assert_cmpint(fcntl(vmmem_region_fd(r), F_GET_SEALS), ==,
			F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	target = fd_link(vmmem_region_fd(r));
	g_assert_true(g_str_has_prefix(target, "/memfd:vmmem:ram"));
	g_free(target);
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(MiB(6) - 8), 8, 7,
					 memory_order_relaxed, &error));
	g_assert_no_error(error);
	vmmem_memory_unref(mem);
}

static void
test_hugetlb_unaligned_size_names_page_size(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem;

	if (!hugetest_require(MiB(2), 0)) /* only needs the size to exist */
		return;
	mem = hugetest_new("memfd", 0, MiB(3), &error, "page-size=2M", NULL);
	g_assert_null(mem);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_OPTION);
	g_assert_nonnull(strstr(error->message, "not a multiple of the huge page size 0x200000 (2 MiB)"));
	g_error_free(error);
}

static void
check_out_of_pages(const char *reserve)
{
	GError *error = NULL;
	vmmem_memory_t *mem;
	uint64_t free_before, want;
	char *expect;

	hugetest_lock();
	free_before = hugetest_free_pages(MiB(2));
	/* An empty pool is the simplest case of running out. */
	if (!hugetest_require(MiB(2), 0))
		return;
	want = free_before + 1;
	mem = hugetest_new("memfd", 0, want * MiB(2), &error, "page-size=2M", reserve, NULL);
	g_assert_null(mem);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_CREATE);
	expect = g_strdup_printf("asked for %llu pages, ", (unsigned long long)want);
	g_assert_nonnull(strstr(error->message, expect));
	g_free(expect);
	g_assert_cmpint(vmmem_error_get_errno(error), ==, ENOMEM);
	g_error_free(error);
	/* Nothing kept: every page is back in the pool. */
	g_assert_cmpuint(hugetest_free_pages(MiB(2)), ==, free_before);
}

static void
test_hugetlb_out_of_pages_reserved(void)
{
	check_out_of_pages("reserve=yes");
}

static void
test_hugetlb_out_of_pages_unreserved(void)
{
	check_out_of_pages("reserve=no");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/memfd/create/flags-fd-and-page-size", test_flags_fd_and_page_size);
	g_test_add_func("/memfd/create/write-visible-through-fd", test_write_visible_through_fd);
	g_test_add_func("/memfd/seal/truncate-fails-with-eperm-also-through-dup",
			test_sealed_truncate_fails);
	g_test_add_func("/memfd/seal/no-allows-resize", test_seal_no_allows_resize);
	g_test_add_func("/memfd/name/default-is-vmmem-colon-region", test_default_name_from_region);
	g_test_add_func("/memfd/name/option-visible-in-proc-fd", test_name_option_visible);
	g_test_add_func("/memfd/options/bad-seal-value-names-option",
			test_bad_seal_value_names_option);
	g_test_add_func("/memfd/options/page-size-without-hugetlb-refused",
			test_page_size_without_hugetlb_refused);
	g_test_add_func("/memfd/hugetlb/2m-flags-seals-and-page-size", test_hugetlb_2m);
	g_test_add_func("/memfd/hugetlb/unaligned-size-names-page-size",
			test_hugetlb_unaligned_size_names_page_size);
	g_test_add_func("/memfd/hugetlb/out-of-pages-reserved-fails-at-creation",
			test_hugetlb_out_of_pages_reserved);
	g_test_add_func("/memfd/hugetlb/out-of-pages-unreserved-fails-cleanly",
			test_hugetlb_out_of_pages_unreserved);
	return g_test_run();
}
