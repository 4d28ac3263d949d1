/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Versions: the macros of <vmmem/version.h>, VMMEM_CHECK_VERSION in code
 * and in #if, the loaded library's vmmem_version(), and a NEWS entry for
 * the release being built. */
#include <string.h>

#include <vmmem/vmmem.h>
#include "isolate.h"

/* The macro must work in the preprocessor, where a consumer picks an API. */
#if !VMMEM_CHECK_VERSION(VMMEM_MAJOR_VERSION, VMMEM_MINOR_VERSION, VMMEM_MICRO_VERSION)
#error "VMMEM_CHECK_VERSION is false for the headers' own version"
#endif
#if VMMEM_CHECK_VERSION(VMMEM_MAJOR_VERSION + 1, 0, 0)
#error "VMMEM_CHECK_VERSION is true for the next major version"
#endif

static void
test_string_matches_numbers(void)
{
	char buf[64];

	g_snprintf(buf, sizeof buf, "%d.%d.%d", VMMEM_MAJOR_VERSION, VMMEM_MINOR_VERSION,
		   VMMEM_MICRO_VERSION);
	g_assert_cmpstr(buf, ==, VMMEM_VERSION_STRING);
}

static void
test_check_version_orders_components(void)
{
	const int ma = VMMEM_MAJOR_VERSION, mi = VMMEM_MINOR_VERSION, mc = VMMEM_MICRO_VERSION;

	g_assert_true(VMMEM_CHECK_VERSION(ma, mi, mc));
	g_assert_true(VMMEM_CHECK_VERSION(0, 0, 0));
	g_assert_false(VMMEM_CHECK_VERSION(ma, mi, mc + 1));
	g_assert_false(VMMEM_CHECK_VERSION(ma, mi + 1, 0));
	g_assert_false(VMMEM_CHECK_VERSION(ma + 1, 0, 0));
	/* A newer major or minor wins over any lower component after it. */
	if (mc > 0)
		g_assert_true(VMMEM_CHECK_VERSION(ma, mi, mc - 1));
	if (mi > 0)
		g_assert_true(VMMEM_CHECK_VERSION(ma, mi - 1, 999));
	if (ma > 0)
		g_assert_true(VMMEM_CHECK_VERSION(ma - 1, 999, 999));
}

static void
test_runtime_version_is_the_built_one(void)
{
	/* The test links against the library of this very build. */
	g_assert_nonnull(vmmem_version());
	g_assert_cmpstr(vmmem_version(), ==, VMMEM_VERSION_STRING);
}

static void
test_news_has_an_entry_for_this_release(void)
{
	const char *top = g_getenv("VMMEM_TOP_SRCDIR");
	g_autofree char *path = NULL;
	g_autofree char *news = NULL;
	g_autofree char *heading = NULL;
	g_autoptr(GError) error = NULL;

	if (!top) {
		g_test_skip("VMMEM_TOP_SRCDIR is not set (run under make check)");
		return;
	}
	path = g_build_filename(top, "NEWS", NULL);
	g_file_get_contents(path, &news, NULL, &error);
	g_assert_no_error(error);
	heading = g_strdup_printf("Overview of changes in vmmem %s", VMMEM_VERSION_STRING);
	if (!strstr(news, heading))
		g_test_message("%s has no line \"%s ...\"", path, heading);
	g_assert_nonnull(strstr(news, heading));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/version/string-matches-numbers", test_string_matches_numbers);
	g_test_add_func("/version/check-version-orders-components",
			test_check_version_orders_components);
	g_test_add_func("/version/runtime-version-is-the-built-one",
			test_runtime_version_is_the_built_one);
	g_test_add_func("/version/news-has-an-entry-for-this-release",
			test_news_has_an_entry_for_this_release);
	return g_test_run();
}
