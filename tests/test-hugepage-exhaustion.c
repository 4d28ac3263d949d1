/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A memory whose huge-page region cannot get its pages: creation fails
 * with a clean error naming the region, and the regions already created
 * for that memory are released (their huge pages back in the pool, their
 * fds closed, their mappings gone). Each case asks for one page more than
 * the pool has free, after a first region that did get its pages. */
#define _GNU_SOURCE
#include <unistd.h>

#include <string.h>
#include <stdio.h>
#include <vmmem/vmmem.h>

#include "fdcount.h"
#include "hugetest.h"
#include "isolate.h"

/* Lines of /proc/self/maps, all of them or those that contain `what`. */
static unsigned
count_mappings(const char *what)
{
	gchar *maps = NULL, **lines;
	unsigned n = 0;

	g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
	lines = g_strsplit(maps, "\n", -1);
	for (gchar **l = lines; *l; l++)
		n += **l && (!what || strstr(*l, what));
	g_strfreev(lines);
	g_free(maps);
	return n;
}

/* Reserved but not yet faulted 2 MiB pages, machine-wide. */
static uint64_t
reserved_2m(void)
{
	gchar *text = NULL;
	uint64_t n;

	if (!g_file_get_contents("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages", &text,
				 NULL, NULL))
		return 0;
	n = g_ascii_strtoull(text, NULL, 10);
	g_free(text);
	return n;
}

typedef struct exhaustion_case {
	const char *first_provider;   /* the region that gets its pages */
	const char *const *first_options;
	const char *const *big_options; /* memfd, hugetlb, more pages than are free */
} exhaustion_case_t;

static void
to_options(const char *const *kv, struct vmmem_provider_option *o, char **copies, size_t *n)
{
	for (*n = 0; kv && kv[*n]; (*n)++) {
		char *eq;

		copies[*n] = g_strdup(kv[*n]);
		eq = strchr(copies[*n], '=');
		*eq = '\0';
		o[*n].key = copies[*n];
		o[*n].value = eq + 1;
	}
}

static void
test_exhausted(gconstpointer data)
{
	const exhaustion_case_t *c = data;
	struct vmmem_provider_option o0[8], o1[8];
	char *c0[8], *c1[8];
	vmmem_region_spec_t specs[2] = { { 0 } };
	uint64_t free_before, resv_before, pages;
	int fds_before;
	unsigned maps_before, memfd_maps_before;
	vmmem_memory_t *mem;
	GError *error = NULL;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	free_before = hugetest_free_pages(MiB(2));
	pages = free_before + 1;
	to_options(c->first_options, o0, c0, &specs[0].n_options);
	to_options(c->big_options, o1, c1, &specs[1].n_options);
	specs[0] = (vmmem_region_spec_t){ "first", vmmem_guest_addr(0), MiB(2), c->first_provider,
					  o0, specs[0].n_options };
	specs[1] = (vmmem_region_spec_t){ "big", vmmem_guest_addr(GiB(1)), pages * MiB(2), "memfd",
					  o1, specs[1].n_options };
	/* Load the providers once, so that the counts below do not see a
	 * module mapped for the first time. */
	mem = vmmem_memory_new(specs, 1, &error);
	g_assert_no_error(error);
	vmmem_memory_unref(mem);
	fds_before = tfd_count();
	resv_before = reserved_2m();
	maps_before = count_mappings(NULL);
	memfd_maps_before = count_mappings("/memfd:");

	mem = vmmem_memory_new(specs, 2, &error);
	g_assert_null(mem);
	g_assert_nonnull(error);
	g_assert_true(error->domain == VMMEM_ERROR);
	g_assert_cmpint(error->code, ==, VMMEM_ERROR_PROVIDER_CREATE);
	g_assert_nonnull(strstr(error->message, "'big'"));
	g_test_message("%s", error->message);
	g_clear_error(&error);

	g_assert_cmpuint(hugetest_free_pages(MiB(2)), ==, free_before);
	g_assert_cmpuint(reserved_2m(), ==, resv_before);
	g_assert_cmpint(tfd_count(), ==, fds_before);
	g_assert_cmpuint(count_mappings("/memfd:"), ==, memfd_maps_before);
#ifndef __SANITIZE_ADDRESS__
	/* ASan maps its own memory as it goes: the total is only exact
	 * without it. */
	g_assert_cmpuint(count_mappings(NULL), ==, maps_before);
#endif
	for (size_t i = 0; i < specs[0].n_options; i++)
		g_free(c0[i]);
	for (size_t i = 0; i < specs[1].n_options; i++)
		g_free(c1[i]);
}

static const char *const huge_2m[] = { "hugetlb=yes", "page-size=2M", NULL };
static const char *const huge_2m_unreserved[] = { "hugetlb=yes", "page-size=2M", "reserve=no",
						   NULL };
static const char *const huge_2m_touch[] = { "hugetlb=yes", "page-size=2M", "reserve=no",
					      "prefault=touch", NULL };

static const exhaustion_case_t reserved = { "memfd", huge_2m, huge_2m };
static const exhaustion_case_t prefaulted = { "memfd", huge_2m, huge_2m_unreserved };
static const exhaustion_case_t touched = { "memfd", huge_2m, huge_2m_touch };
static const exhaustion_case_t after_anonymous = { "mmap", NULL, huge_2m };

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/hugepages/exhausted-at-creation/reserve-fails-and-releases-the-first",
			     &reserved, test_exhausted);
	g_test_add_data_func("/hugepages/exhausted-at-creation/prefault-fails-and-releases-the-first",
			     &prefaulted, test_exhausted);
	g_test_add_data_func("/hugepages/exhausted-at-creation/touch-fails-and-releases-the-first",
			     &touched, test_exhausted);
	g_test_add_data_func("/hugepages/exhausted-at-creation/releases-an-anonymous-first-region",
			     &after_anonymous, test_exhausted);
	return g_test_run();
}
