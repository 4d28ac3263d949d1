/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Configuration files: the format, every error path (each message names
 * file, group, key and value), the lookup order, and mapping the result. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <vmmem/provider.h>
#include <vmmem/vmmem.h>
#include "isolate.h"

static char *tmpdir;

/* Writes `text` to a fresh file in the test's directory; returns its path. */
static char *
write_conf(const char *text)
{
	static unsigned n;
	char *path = g_strdup_printf("%s/conf-%u.conf", tmpdir, ++n);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static const char *
test_provider(const char *name)
{
	static char buf[4096];
	const char *dir = g_getenv("VMMEM_TEST_PROVIDERS_DIR");

	g_assert_nonnull(dir);
	g_snprintf(buf, sizeof(buf), "%s/%s.so", dir, name);
	return buf;
}

static const char *
mmap_provider(void)
{
	static char buf[4096];
	const char *top = g_getenv("VMMEM_TOP_BUILDDIR");

	g_assert_nonnull(top);
	g_snprintf(buf, sizeof(buf), "%s/providers/mmap/.libs/mmap.so", top);
	return buf;
}

/* Asserts that loading + validating `text` fails with `code` and that the
 * message contains every one of the NULL-terminated strings (the file
 * name is checked always). */
static void
expect_error(const char *text, int code, ...)
{
	char *path = write_conf(text);
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(path, &error);
	va_list ap;
	const char *want;

	if (cfg) {
		g_assert_false(vmmem_config_validate(cfg, &error));
		vmmem_config_free(cfg);
	}
	g_assert_nonnull(error);
	g_test_message("error: %s", error->message);
	g_assert_error(error, VMMEM_ERROR, code);
	g_assert_true(g_str_has_prefix(error->message, path));
	va_start(ap, code);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(error->message, want))
			g_error("message '%s' lacks '%s'", error->message, want);
	va_end(ap);
	g_error_free(error);
	g_free(path);
}

static vmmem_config_t *
load_ok(const char *text)
{
	char *path = write_conf(text);
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(path, &error);

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	g_free(path);
	return cfg;
}

/* ---- format ---- */

static void
test_example_file_parses(void)
{
	char *path = g_build_filename(g_getenv("VMMEM_TOP_SRCDIR"), "examples", "vmmem.conf",
				      NULL);
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(path, &error);
	const vmmem_region_spec_t *r;
	size_t n;

	g_assert_no_error(error);
	r = vmmem_config_regions(cfg, &n);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(r[0].name, ==, "low");
	g_assert_cmpuint(r[0].start.raw, ==, 0);
	g_assert_cmpuint(r[0].size, ==, 768u << 20);
	g_assert_cmpstr(r[0].provider, ==, "memfd");
	g_assert_cmpuint(r[0].n_options, ==, 0);
	g_assert_cmpstr(r[1].name, ==, "high");
	g_assert_cmpuint(r[1].start.raw, ==, 4ull << 30);
	g_assert_cmpuint(r[1].size, ==, 256u << 20);
	g_assert_cmpstr(r[1].provider, ==, "hugetlbfs");
	g_assert_cmpuint(r[1].n_options, ==, 1);
	g_assert_cmpstr(r[1].options[0].key, ==, "page-size");
	g_assert_cmpstr(r[1].options[0].value, ==, "2M");
	g_assert_cmpstr(r[2].provider, ==, "mmap");
	g_assert_cmpstr(r[2].options[0].value, ==, "no");

	/* Validation needs memfd and hugetlbfs, which may not be built here. */
	if (!vmmem_config_validate(cfg, &error)) {
		if (g_error_matches(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_NOT_FOUND) ||
		    g_error_matches(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_OPTION)) {
			g_test_message("validation: %s", error->message);
			g_clear_error(&error);
		}
		g_assert_no_error(error);
	}
	vmmem_config_free(cfg);
	g_free(path);
}

static void
test_trailing_comment_is_stripped(void)
{
	vmmem_config_t *cfg = load_ok("[memory]   # the defaults\n"
				      "provider = mmap   # comment\n"
				      "[region a]\t# tab before the hash\n"
				      "start = 0x1000 # comment\n"
				      "size = 1M\t\t# comment\n"
				      "  # an indented comment line\n"
				      "shared = yes # on\n");
	const vmmem_region_spec_t *r = vmmem_config_regions(cfg, NULL);

	g_assert_cmpuint(r[0].start.raw, ==, 0x1000);
	g_assert_cmpuint(r[0].size, ==, 1u << 20);
	g_assert_cmpstr(r[0].provider, ==, "mmap");
	g_assert_cmpstr(r[0].options[0].value, ==, "yes");
	vmmem_config_free(cfg);
}

static void
test_hash_inside_a_value_is_kept(void)
{
	vmmem_config_t *cfg = load_ok("[region a]\nstart = 0\nsize = 4K\npath = /tmp/a#b\n");
	const vmmem_region_spec_t *r = vmmem_config_regions(cfg, NULL);

	g_assert_cmpstr(r[0].options[0].key, ==, "path");
	g_assert_cmpstr(r[0].options[0].value, ==, "/tmp/a#b");
	vmmem_config_free(cfg);
}

static void
test_region_without_provider_gets_mmap(void)
{
	vmmem_config_t *cfg = load_ok("[region a]\nstart = 0\nsize = 4K\n");

	g_assert_cmpstr(vmmem_config_regions(cfg, NULL)[0].provider, ==, "mmap");
	vmmem_config_free(cfg);
}

/* ---- sizes ---- */

static void
test_sizes_parse(void)
{
	static const struct { const char *text; uint64_t value; } cases[] = {
		{ "0x10", 0x10 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 },
		{ "2M", 2u << 20 }, { "4G", 4ull << 30 }, { "1T", 1ull << 40 },
		{ "0x10M", 16u << 20 }, { "0", 0 }, { "010", 10 },
		{ "0xffffffffffffffff", UINT64_MAX }, { "16777215T", 16777215ull << 40 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = g_strdup_printf("[region a]\nstart = %s\nsize = 4K\n", cases[i].text);
		vmmem_config_t *cfg = load_ok(text);

		g_assert_cmpuint(vmmem_config_regions(cfg, NULL)[0].start.raw, ==, cases[i].value);
		vmmem_config_free(cfg);
		g_free(text);
	}
}

static void
test_bad_sizes_say_why(void)
{
	static const struct { const char *text, *why; } cases[] = {
		{ "", "empty" },
		{ "abc", "not a number" },
		{ "0x", "not a number" },
		{ "-1", "negative" },
		{ "18446744073709551616", "64 bits" },
		{ "0x10000000000000000", "64 bits" },
		{ "16777216T", "64 bits" },
		{ "12Q", "unknown suffix 'Q'" },
		{ "1KB", "unknown suffix 'KB'" },
		{ "1 M", "unknown suffix ' M'" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *text = g_strdup_printf("[region a]\nstart = 0\nsize = %s\n", cases[i].text);
		char *named = g_strdup_printf("[region a] size = '%s'", cases[i].text);

		expect_error(text, VMMEM_ERROR_CONFIG, named, cases[i].why, NULL);
		g_free(named);
		g_free(text);
	}
}

/* One grammar: what a configuration file, a provider option and the
 * benchmark accept is the same, value for value. */
static void
test_one_grammar_for_core_and_providers(void)
{
	static const struct { const char *text; bool ok; uint64_t value; } cases[] = {
		{ "0100000", true, 100000 }, /* decimal, as docs/config.md says, not octal */
		{ "0x8000", true, 0x8000 },  { "4K", true, 4096 },   { "1t", true, 1ull << 40 },
		{ "\t4K", false, 0 },       { " 4K", false, 0 },    { "+1", false, 0 },
		{ "-1", false, 0 },          { "4K ", false, 0 },    { "0x", false, 0 },
		{ "1KB", false, 0 },         { "", false, 0 },       { "16777216T", false, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint64_t core = 0, provider = 0;
		bool provider_ok = vmmem_provider_parse_size(cases[i].text, &provider);

		g_assert_cmpint(vmmem_parse_size(cases[i].text, &core, NULL) == VMMEM_SIZE_OK, ==,
				cases[i].ok);
		g_assert_cmpint(provider_ok, ==, cases[i].ok);
		if (cases[i].ok) {
			g_assert_cmpuint(core, ==, cases[i].value);
			g_assert_cmpuint(provider, ==, cases[i].value);
		}
	}
	/* The configuration file reads it the same way. */
	{
		vmmem_config_t *cfg = load_ok("[region a]\nstart = 0100000\nsize = 4K\n");

		g_assert_cmpuint(vmmem_config_regions(cfg, NULL)[0].start.raw, ==, 100000);
		vmmem_config_free(cfg);
	}
}

/* ---- parse errors ---- */

static void
test_unknown_memory_key(void)
{
	expect_error("[memory]\ncolour = red\n[region a]\nstart = 0\nsize = 4K\n",
		     VMMEM_ERROR_CONFIG, "[memory] colour = 'red'", "unknown key", NULL);
}

static void
test_unknown_provider_group_key(void)
{
	expect_error("[provider x]\nmodule = /x.so\npath = /y\n[region a]\nstart = 0\nsize = 4K\n",
		     VMMEM_ERROR_CONFIG, "[provider x] path = '/y'", "unknown key", NULL);
}

static void
test_unknown_group(void)
{
	expect_error("[regions a]\nstart = 0\n", VMMEM_ERROR_CONFIG, "[regions a]",
		     "unknown group", NULL);
}

static void
test_missing_start(void)
{
	expect_error("[region a]\nsize = 4K\n", VMMEM_ERROR_CONFIG, "[region a] start",
		     "missing", NULL);
}

static void
test_missing_size(void)
{
	expect_error("[region a]\nstart = 0\n", VMMEM_ERROR_CONFIG, "[region a] size", "missing",
		     NULL);
}

/* `sise` was taken for a provider option, so the error said only that
 * size is missing; it names the key and the one it resembles now. */
static void
test_misspelt_key_named_with_suggestion(void)
{
	expect_error("[region a]\nstart = 0\nsise = 1M\n", VMMEM_ERROR_CONFIG,
		     "[region a] sise = '1M'", "unknown key; did you mean 'size'?", NULL);
	expect_error("[region a]\nstrat = 0\nsize = 1M\n", VMMEM_ERROR_CONFIG,
		     "[region a] strat = '0'", "did you mean 'start'?", NULL);
	expect_error("[memory]\nprovder = memfd\n[region a]\nstart = 0\nsize = 4K\n",
		     VMMEM_ERROR_CONFIG, "[memory] provder", "did you mean 'provider'?", NULL);
	/* A provider option: the provider's list is searched. */
	expect_error("[region a]\nstart = 0\nsize = 4K\nsharred = yes\n",
		     VMMEM_ERROR_PROVIDER_OPTION, "no option 'sharred'", "did you mean 'shared'?",
		     NULL);
	/* Nothing close: no guess. */
	expect_error("[region a]\nstart = 0\ncolour = red\n", VMMEM_ERROR_CONFIG,
		     "[region a] size", "missing", NULL);
}

static void
test_region_needs_a_name(void)
{
	expect_error("[region]\nstart = 0\nsize = 4K\n", VMMEM_ERROR_CONFIG, "[region]",
		     "needs a name", NULL);
}

static void
test_no_regions(void)
{
	expect_error("[memory]\nprovider = mmap\n", VMMEM_ERROR_CONFIG, "no [region NAME]", NULL);
}

static void
test_group_given_twice(void)
{
	expect_error("[region a]\nstart = 0\nsize = 4K\n[region b]\nstart = 4K\nsize = 4K\n"
		     "[region a]\nshared = yes\n",
		     VMMEM_ERROR_CONFIG, "[region a]", "appears twice, at lines 1 and 7", NULL);
}

static void
test_key_given_twice(void)
{
	expect_error("[region a]\nstart = 0\nsize = 4K\nstart = 8K\n", VMMEM_ERROR_CONFIG,
		     "[region a] start", "given twice", NULL);
}

/* 100k keys in one group: every one is kept, and a duplicate after all
 * of them is still found (a pairwise check took about 100 s here). */
static void
test_many_keys_in_one_group(void)
{
	enum { N = 100000 };
	GString *text = g_string_new("[region a]\nstart = 0\nsize = 4K\n");
	const vmmem_region_spec_t *specs;
	GError *error = NULL;
	vmmem_config_t *cfg;
	size_t n = 0;
	char *path;

	for (int i = 0; i < N; i++)
		g_string_append_printf(text, "k%d=1\n", i); /* under the 1 MiB file limit */
	path = write_conf(text->str);
	cfg = vmmem_config_load(path, &error);
	g_assert_no_error(error);
	specs = vmmem_config_regions(cfg, &n);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(specs[0].n_options, ==, N);
	g_assert_cmpstr(specs[0].options[N - 1].key, ==, "k99999");
	vmmem_config_free(cfg);
	g_free(path);

	g_string_append(text, "k4711=2\n");
	path = write_conf(text->str);
	g_assert_null(vmmem_config_load(path, &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, "[region a] k4711"));
	g_assert_nonnull(strstr(error->message, "given twice"));
	g_clear_error(&error);
	g_free(path);
	g_string_free(text, TRUE);
}

static void
test_syntax_error_names_the_file(void)
{
	expect_error("[region a]\nthis line has no equals sign\n", VMMEM_ERROR_CONFIG,
		     "this line has no equals sign", NULL);
}

static void
test_relative_module_path(void)
{
	expect_error("[provider x]\nmodule = lib/x.so\n[region a]\nstart = 0\nsize = 4K\n",
		     VMMEM_ERROR_CONFIG, "[provider x] module = 'lib/x.so'", "absolute", NULL);
}

static void
test_provider_group_without_module(void)
{
	expect_error("[provider x]\n[region a]\nstart = 0\nsize = 4K\n", VMMEM_ERROR_CONFIG,
		     "[provider x] module", "missing", NULL);
}

static void
test_region_provider_given_by_path(void)
{
	expect_error("[region a]\nstart = 0\nsize = 4K\nprovider = /usr/lib/x.so\n",
		     VMMEM_ERROR_CONFIG, "[region a] provider = '/usr/lib/x.so'",
		     "[provider NAME]", NULL);
}

/* ---- validation errors (the core's, prefixed) ---- */

static void
test_overlap_names_both_regions(void)
{
	expect_error("[region low]\nstart = 0\nsize = 8K\n[region high]\nstart = 4K\nsize = 4K\n",
		     VMMEM_ERROR_INVALID_LAYOUT, "'low'", "'high'", "overlap", NULL);
}

static void
test_start_not_page_aligned(void)
{
	expect_error("[region a]\nstart = 0x10\nsize = 4K\n", VMMEM_ERROR_INVALID_LAYOUT,
		     "[region a] start = '0x10'", "host page size", NULL);
}

static void
test_zero_size(void)
{
	expect_error("[region a]\nstart = 0\nsize = 0\n", VMMEM_ERROR_INVALID_LAYOUT, "'a'",
		     "size 0", NULL);
}

static void
test_unknown_option_names_the_key(void)
{
	expect_error("[region a]\nstart = 0\nsize = 4K\ncolour = red\n",
		     VMMEM_ERROR_PROVIDER_OPTION, "[region a] colour = 'red'", "no option 'colour'",
		     NULL);
}

static void
test_bad_option_value_from_provider_validate(void)
{
	expect_error("[region a]\nstart = 0\nsize = 4K\nshared = maybe\n",
		     VMMEM_ERROR_PROVIDER_OPTION, "[region a]", "shared = 'maybe'", NULL);
}

static void
test_missing_provider_lists_where_it_looked(void)
{
	char **dirs = vmmem_provider_search_path();

	expect_error("[region a]\nstart = 0\nsize = 4K\nprovider = nosuch\n",
		     VMMEM_ERROR_PROVIDER_NOT_FOUND, "[region a] provider = 'nosuch'",
		     "nosuch.so", dirs[0], NULL);
	g_strfreev(dirs);
}

static void
test_missing_default_provider_names_memory_group(void)
{
	expect_error("[memory]\nprovider = nosuch\n[region a]\nstart = 0\nsize = 4K\n",
		     VMMEM_ERROR_PROVIDER_NOT_FOUND, "[region a] uses [memory] provider = 'nosuch'",
		     "not found", NULL);
}

static void
test_provider_group_module_load_error(void)
{
	char *text = g_strdup_printf("[provider old]\nmodule = %s\n"
				     "[region a]\nstart = 0\nsize = 4K\nprovider = old\n",
				     test_provider("abi-major"));

	expect_error(text, VMMEM_ERROR_PROVIDER_ABI, "[region a] provider = 'old'",
		     "[provider old] module = ", "abi-major.so", "built for provider ABI 2.", NULL);
	g_free(text);
}

static void
test_validate_maps_nothing(void)
{
	/* create-fails refuses every create(): validation passing proves it
	 * never asked the provider to map; mapping then reports the refusal. */
	char *text = g_strdup_printf("[provider refuser]\nmodule = %s\n"
				     "[region a]\nstart = 0\nsize = 4K\nprovider = refuser\n",
				     test_provider("create-fails"));
	char *path = write_conf(text);
	GError *error = NULL;
	vmmem_config_t *cfg = vmmem_config_load(path, &error);

	g_assert_no_error(error);
	g_assert_true(vmmem_config_validate(cfg, &error));
	g_assert_no_error(error);
	g_assert_null(vmmem_config_new_memory(cfg, &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_CREATE);
	g_assert_true(g_str_has_prefix(error->message, path));
	g_assert_nonnull(strstr(error->message, "refuses every region"));
	g_error_free(error);
	vmmem_config_free(cfg);
	g_free(path);
	g_free(text);
}

/* ---- provider resolution ---- */

static void
test_provider_group_wins_over_search_path(void)
{
	/* [provider mmap] points "mmap" at another file: groups come first. */
	char *text = g_strdup_printf("[provider mmap]\nmodule = %s\n"
				     "[region a]\nstart = 0\nsize = 4K\nprovider = mmap\n",
				     test_provider("create-fails"));
	vmmem_config_t *cfg = load_ok(text);

	g_assert_cmpstr(vmmem_config_regions(cfg, NULL)[0].provider, ==,
			test_provider("create-fails"));
	vmmem_config_free(cfg);
	g_free(text);
}

static void
test_memory_default_provider_applies(void)
{
	char *text = g_strdup_printf("[memory]\nprovider = mine\n[provider mine]\nmodule = %s\n"
				     "[region a]\nstart = 0\nsize = 4K\n"
				     "[region b]\nstart = 8K\nsize = 4K\nprovider = other\n",
				     mmap_provider());
	vmmem_config_t *cfg = load_ok(text);
	const vmmem_region_spec_t *r = vmmem_config_regions(cfg, NULL);

	g_assert_cmpstr(r[0].provider, ==, mmap_provider());
	g_assert_cmpstr(r[1].provider, ==, "other");
	vmmem_config_free(cfg);
	g_free(text);
}

/* ---- lookup order ---- */

static void
test_explicit_path_beats_environment(void)
{
	char *a = write_conf("[region from-path]\nstart = 0\nsize = 4K\n");
	char *b = write_conf("[region from-env]\nstart = 0\nsize = 4K\n");
	vmmem_config_t *cfg;

	g_setenv("VMMEM_CONFIG", b, TRUE);
	cfg = vmmem_config_load(a, NULL);
	g_assert_cmpstr(vmmem_config_path(cfg), ==, a);
	g_assert_cmpstr(vmmem_config_regions(cfg, NULL)[0].name, ==, "from-path");
	vmmem_config_free(cfg);
	cfg = vmmem_config_load(NULL, NULL);
	g_assert_cmpstr(vmmem_config_path(cfg), ==, b);
	g_assert_cmpstr(vmmem_config_regions(cfg, NULL)[0].name, ==, "from-env");
	vmmem_config_free(cfg);
	g_unsetenv("VMMEM_CONFIG");
	g_free(a);
	g_free(b);
}

static void
test_missing_environment_file_says_so(void)
{
	char *missing = g_build_filename(tmpdir, "does-not-exist.conf", NULL);
	GError *error = NULL;

	g_setenv("VMMEM_CONFIG", missing, TRUE);
	g_assert_null(vmmem_config_load(NULL, &error));
	g_unsetenv("VMMEM_CONFIG");
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, missing));
	g_assert_nonnull(strstr(error->message, "VMMEM_CONFIG"));
	g_assert_nonnull(strstr(error->message, "No such file"));
	g_error_free(error);
	g_free(missing);
}

static void
test_default_path_is_last(void)
{
	const char *def = vmmem_config_default_path();
	GError *error = NULL;
	vmmem_config_t *cfg;

	g_assert_true(g_str_has_suffix(def, "/vmmem/vmmem.conf"));
	g_unsetenv("VMMEM_CONFIG");
	cfg = vmmem_config_load(NULL, &error);
	if (cfg) {
		/* A system-wide file exists: it must be the one that was read. */
		g_assert_cmpstr(vmmem_config_path(cfg), ==, def);
		vmmem_config_free(cfg);
		g_test_skip("a configuration is installed at the default path");
		return;
	}
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, def));
	g_assert_nonnull(strstr(error->message, "VMMEM_CONFIG is not set"));
	g_error_free(error);
}

/* ---- mapping ---- */

static void
test_new_from_config_maps_and_works(void)
{
	char *path = write_conf("[region low]\nstart = 0\nsize = 64K\n"
				"[region high]   # shared anonymous memory\n"
				"start = 1M\nsize = 0x10000\nprovider = mmap\nshared = yes\n");
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new_from_config(path, &error);
	const char msg[] = "written through a configured memory";
	char back[sizeof(msg)] = "";
	const vmmem_region_t *high;

	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 2);
	high = vmmem_memory_region(mem, 1);
	g_assert_cmpstr(vmmem_region_name(high), ==, "high");
	g_assert_cmpuint(vmmem_region_start(high).raw, ==, 1u << 20);
	g_assert_cmpuint(vmmem_region_flags(high) & VMMEM_REGION_SHARED, !=, 0);
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr((1u << 20) + 100), msg,
					       sizeof(msg), &error));
	g_assert_true(vmmem_memory_read_slice(mem, vmmem_guest_addr((1u << 20) + 100), back,
					      sizeof(back), &error));
	g_assert_no_error(error);
	g_assert_cmpstr(back, ==, msg);
	/* The hole between the regions is not backed. */
	g_assert_false(vmmem_memory_check_range(mem, vmmem_guest_addr(0x10000), 1));
	g_assert_false(vmmem_memory_write_slice(mem, vmmem_guest_addr(0x10000), msg, 1, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	vmmem_memory_unref(mem);
	g_free(path);
}

static void
rm_rf(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
}

/* A NUL byte would make GKeyFile drop everything after it: two regions
 * would silently become one. */
static void
test_nul_byte_refused_naming_line(void)
{
	static const char text[] = "[region a]\nstart = 0\nsize = 4K\n\0\n[region b]\n"
				   "start = 1M\nsize = 4K\n";
	char *path = g_strdup_printf("%s/nul.conf", tmpdir);
	GError *error = NULL;

	g_assert_true(g_file_set_contents(path, text, sizeof(text) - 1, NULL));
	g_assert_null(vmmem_config_load(path, &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "line 4 contains a NUL byte"));
	g_error_free(error);
	g_free(path);
}

/* ---- hotplug and dirty tracking ---- */

static void
test_dirty_tracking_in_memory_group_applies_to_every_region(void)
{
	vmmem_config_t *cfg = load_ok("[memory]\ndirty-tracking = yes\n"
				      "[region a]\nstart = 0\nsize = 2M\n"
				      "[region b]\nstart = 4M\nsize = 2M\ndirty-tracking = false\n");
	size_t n;
	const vmmem_region_spec_t *s = vmmem_config_regions(cfg, &n);

	g_assert_cmpuint(n, ==, 2);
	/* [memory] turns it on for every region; a region cannot opt out. */
	g_assert_true(s[0].flags & VMMEM_SPEC_DIRTY_TRACKING);
	g_assert_true(s[1].flags & VMMEM_SPEC_DIRTY_TRACKING);
	g_assert_cmpuint(s[0].n_options, ==, 0);
	vmmem_config_free(cfg);
}

static void
test_dirty_tracking_per_region_and_bad_value(void)
{
	vmmem_config_t *cfg = load_ok("[region a]\nstart = 0\nsize = 2M\ndirty-tracking = true\n"
				      "[region b]\nstart = 4M\nsize = 2M\n");
	GError *err = NULL;
	vmmem_memory_t *m;
	size_t n;
	const vmmem_region_spec_t *s = vmmem_config_regions(cfg, &n);

	g_assert_true(s[0].flags & VMMEM_SPEC_DIRTY_TRACKING);
	g_assert_false(s[1].flags & VMMEM_SPEC_DIRTY_TRACKING);
	m = vmmem_config_new_memory(cfg, &err);
	g_assert_no_error(err);
	g_assert_true(vmmem_region_dirty_tracking(vmmem_memory_region(m, 0)));
	g_assert_false(vmmem_region_dirty_tracking(vmmem_memory_region(m, 1)));
	vmmem_memory_unref(m);
	vmmem_config_free(cfg);
	expect_error("[region a]\nstart = 0\nsize = 2M\ndirty-tracking = maybe\n", VMMEM_ERROR_CONFIG,
		     "[region a] dirty-tracking = 'maybe'", "not a boolean", NULL);
}

static void
test_hotplug_region_added_later(void)
{
	vmmem_config_t *cfg = load_ok("[region ram]\nstart = 0\nsize = 2M\n"
				      "[region dimm]\nstart = 4M\nsize = 2M\nhotplug = true\n"
				      "[region big]\nstart = 3M\nsize = 2M\nhotplug = true\n");
	GError *err = NULL;
	vmmem_space_t *s;
	const vmmem_memory_t *m;
	vmmem_memory_t *mem;

	/* The layout check covers hotplug regions too: big overlaps dimm. */
	g_assert_false(vmmem_config_validate(cfg, &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_LAYOUT);
	g_clear_error(&err);
	vmmem_config_free(cfg);

	cfg = load_ok("[region ram]\nstart = 0\nsize = 2M\n"
		      "[region dimm]\nstart = 4M\nsize = 2M\nhotplug = true\n");
	g_assert_false(vmmem_config_region_hotplug(cfg, 0));
	g_assert_true(vmmem_config_region_hotplug(cfg, 1));
	mem = vmmem_config_new_memory(cfg, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 1);
	vmmem_memory_unref(mem);
	s = vmmem_config_new_space(cfg, NULL, &err);
	g_assert_no_error(err);
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 1);
	vmmem_space_put(s, m);
	g_assert_true(vmmem_space_add_region_from_config(s, cfg, "dimm", &err));
	g_assert_no_error(err);
	m = vmmem_space_get(s);
	g_assert_cmpuint(vmmem_memory_num_regions(m), ==, 2);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(m, 1)), ==, "dimm");
	vmmem_space_put(s, m);
	g_assert_false(vmmem_space_add_region_from_config(s, cfg, "dimm", &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_INVALID_LAYOUT);
	g_assert_nonnull(strstr(err->message, "[region dimm]"));
	g_clear_error(&err);
	g_assert_false(vmmem_space_add_region_from_config(s, cfg, "nope", &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(err->message, "no [region nope] group"));
	g_clear_error(&err);
	vmmem_space_free(s);
	vmmem_config_free(cfg);
}

static void
test_all_regions_hotplug_needs_a_space(void)
{
	vmmem_config_t *cfg = load_ok("[region dimm]\nstart = 4M\nsize = 2M\nhotplug = 1\n");
	GError *err = NULL;
	vmmem_space_t *s;

	g_assert_null(vmmem_config_new_memory(cfg, &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_CONFIG);
	g_assert_nonnull(strstr(err->message, "vmmem_config_new_space"));
	g_clear_error(&err);
	s = vmmem_config_new_space(cfg, NULL, &err);
	g_assert_no_error(err);
	vmmem_space_free(s);
	vmmem_config_free(cfg);
}

/* Opening a FIFO waits for a writer, reading it waits for data: neither
 * may happen; the file is refused as not regular, naming it. */
static void
test_fifo_refused_without_blocking(void)
{
	char *path = g_strdup_printf("%s/fifo.conf", tmpdir);
	GError *error = NULL;

	g_assert_cmpint(mkfifo(path, 0600), ==, 0);
	g_assert_null(vmmem_config_load(path, &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_CONFIG);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "a FIFO, not a regular file"));
	g_clear_error(&error);
	g_assert_null(vmmem_config_load("/dev/zero", &error));
	g_assert_nonnull(strstr(error->message, "/dev/zero"));
	g_assert_nonnull(strstr(error->message, "a character device"));
	g_clear_error(&error);
	g_unlink(path);
	g_free(path);
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("vmmem-config-XXXXXX", NULL);
	g_assert_nonnull(tmpdir);
	g_unsetenv("VMMEM_CONFIG");

	g_test_add_func("/config/lookup/fifo-or-device-refused-without-blocking",
			test_fifo_refused_without_blocking);
	g_test_add_func("/config/format/example-file-parses", test_example_file_parses);
	g_test_add_func("/config/format/nul-byte-refused-naming-line", test_nul_byte_refused_naming_line);
	g_test_add_func("/config/format/trailing-comment-is-stripped",
			test_trailing_comment_is_stripped);
	g_test_add_func("/config/format/hash-inside-a-value-is-kept",
			test_hash_inside_a_value_is_kept);
	g_test_add_func("/config/format/region-without-provider-gets-mmap",
			test_region_without_provider_gets_mmap);
	g_test_add_func("/config/size/accepted-forms", test_sizes_parse);
	g_test_add_func("/config/size/bad-sizes-say-why", test_bad_sizes_say_why);
	g_test_add_func("/config/size/one-grammar-for-core-providers-and-bench",
			test_one_grammar_for_core_and_providers);
	g_test_add_func("/config/error/unknown-memory-key", test_unknown_memory_key);
	g_test_add_func("/config/error/unknown-provider-group-key", test_unknown_provider_group_key);
	g_test_add_func("/config/error/unknown-group", test_unknown_group);
	g_test_add_func("/config/error/missing-start", test_missing_start);
	g_test_add_func("/config/error/missing-size", test_missing_size);
	g_test_add_func("/config/error/misspelt-key-named-with-nearest-valid-key",
			test_misspelt_key_named_with_suggestion);
	g_test_add_func("/config/error/region-needs-a-name", test_region_needs_a_name);
	g_test_add_func("/config/error/no-regions", test_no_regions);
	g_test_add_func("/config/error/group-given-twice", test_group_given_twice);
	g_test_add_func("/config/error/key-given-twice", test_key_given_twice);
	g_test_add_func("/config/format/100k-keys-in-one-group-kept-and-duplicate-found",
			test_many_keys_in_one_group);
	g_test_add_func("/config/error/syntax-error-names-the-file",
			test_syntax_error_names_the_file);
	g_test_add_func("/config/error/relative-module-path", test_relative_module_path);
	g_test_add_func("/config/error/provider-group-without-module",
			test_provider_group_without_module);
	g_test_add_func("/config/error/region-provider-given-by-path",
			test_region_provider_given_by_path);
	g_test_add_func("/config/validate/overlap-names-both-regions",
			test_overlap_names_both_regions);
	g_test_add_func("/config/validate/start-not-page-aligned", test_start_not_page_aligned);
	g_test_add_func("/config/validate/zero-size", test_zero_size);
	g_test_add_func("/config/validate/unknown-option-names-the-key",
			test_unknown_option_names_the_key);
	g_test_add_func("/config/validate/bad-option-value-from-provider-validate",
			test_bad_option_value_from_provider_validate);
	g_test_add_func("/config/validate/missing-provider-lists-where-it-looked",
			test_missing_provider_lists_where_it_looked);
	g_test_add_func("/config/validate/missing-default-provider-names-memory-group",
			test_missing_default_provider_names_memory_group);
	g_test_add_func("/config/validate/provider-group-module-load-error",
			test_provider_group_module_load_error);
	g_test_add_func("/config/validate/maps-nothing", test_validate_maps_nothing);
	g_test_add_func("/config/provider/group-wins-over-search-path",
			test_provider_group_wins_over_search_path);
	g_test_add_func("/config/provider/memory-default-applies",
			test_memory_default_provider_applies);
	g_test_add_func("/config/lookup/explicit-path-beats-environment",
			test_explicit_path_beats_environment);
	g_test_add_func("/config/lookup/missing-environment-file-says-so",
			test_missing_environment_file_says_so);
	g_test_add_func("/config/lookup/default-path-is-last", test_default_path_is_last);
	g_test_add_func("/config/memory/new-from-config-maps-and-works",
			test_new_from_config_maps_and_works);
	g_test_add_func("/config/dirty/memory-group-applies-to-every-region",
			test_dirty_tracking_in_memory_group_applies_to_every_region);
	g_test_add_func("/config/dirty/per-region-and-bad-value",
			test_dirty_tracking_per_region_and_bad_value);
	g_test_add_func("/config/hotplug/region-added-later", test_hotplug_region_added_later);
	g_test_add_func("/config/hotplug/all-regions-hotplug-needs-a-space",
			test_all_regions_hotplug_needs_a_space);
	rc = g_test_run();
	rm_rf(tmpdir);
	g_free(tmpdir);
	return rc;
}
