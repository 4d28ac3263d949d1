/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Loading providers: every failure stage has its own code and a message
 * naming the file; modules are shared between memories and stay loaded
 * while any region uses them. Uses the deliberately broken modules in
 * $VMMEM_TEST_PROVIDERS_DIR (tests/providers/broken.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <vmmem/provider.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)

static const char *
broken_dir(void)
{
	const char *d = g_getenv("VMMEM_TEST_PROVIDERS_DIR");

	g_assert_nonnull(d);
	return d;
}

/* The mmap provider's file, found through VMMEM_PROVIDER_PATH. */
static char *
mmap_path(void)
{
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M, .provider = "mmap" };
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&s, 1, &err);
	char *path;

	g_assert_no_error(err);
	path = g_strdup(vmmem_region_provider_path(vmmem_memory_region(mem, 0)));
	vmmem_memory_unref(mem);
	return path;
}

/* Creates a one-region memory with `provider` and expects `code` with a
 * message naming `path` and `extra` (may be NULL). */
static void
expect_fail(const char *provider, int code, const char *path, const char *extra)
{
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = TU_2M,
				  .provider = provider };
	GError *err = NULL;

	g_assert_null(vmmem_memory_new(&s, 1, &err));
	tu_assert_error(&err, code, path, "'ram'", extra ? extra : "");
}

static void
expect_broken(const char *file, int code, const char *extra)
{
	char *path = g_build_filename(broken_dir(), file, NULL);

	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	expect_fail(path, code, path, extra);
	g_free(path);
}

static void
test_not_found_by_name_lists_dirs(void)
{
	const char *dirs = g_getenv("VMMEM_PROVIDER_PATH");
	char **first = g_strsplit(dirs, ":", 2);
	char *where = g_build_filename(first[0], "no-such-provider.so", NULL);

	expect_fail("no-such-provider", VMMEM_ERROR_PROVIDER_NOT_FOUND, "'no-such-provider'", where);
	g_free(where);
	g_strfreev(first);
}

static void
test_not_found_by_path(void)
{
	char *dir = tu_tmpdir(), *path = g_build_filename(dir, "missing.so", NULL);

	expect_fail(path, VMMEM_ERROR_PROVIDER_NOT_FOUND, path, NULL);
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_bad_name_refused(void)
{
	expect_fail("..", VMMEM_ERROR_PROVIDER_NOT_FOUND, "'..'", NULL);
	expect_fail("mm ap", VMMEM_ERROR_PROVIDER_NOT_FOUND, "'mm ap'", NULL);
}

static void
test_garbage_file_is_load_error_with_dlerror(void)
{
	char *dir = tu_tmpdir(), *path = g_build_filename(dir, "x.so", NULL);
	char garbage[256];

	memset(garbage, 'Z', sizeof(garbage));
	g_assert_true(g_file_set_contents(path, garbage, sizeof(garbage), NULL));
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	/* glibc's dlerror() text for a file that is not ELF. */
	expect_fail(path, VMMEM_ERROR_PROVIDER_LOAD, path, "invalid ELF header");
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_undefined_symbol_is_load_error(void)
{
	expect_broken("undefined-symbol.so", VMMEM_ERROR_PROVIDER_LOAD,
		      "vmmem_test_symbol_that_does_not_exist");
}

static void
test_no_entry_symbol(void)
{
	expect_broken("no-entry.so", VMMEM_ERROR_PROVIDER_NO_ENTRY, "vmmem_provider_entry");
}

static void
test_abi_major_differs(void)
{
	char *v = g_strdup_printf("%d.", VMMEM_PROVIDER_ABI_MAJOR + 1);

	expect_broken("abi-major.so", VMMEM_ERROR_PROVIDER_ABI, v);
	g_free(v);
}

/* A newer minor only appends what an older core may ignore: the provider
 * loads, and its create() runs (this one refuses every region). */
static void
test_abi_minor_newer_loads(void)
{
	expect_broken("abi-minor.so", VMMEM_ERROR_PROVIDER_CREATE, "refuses every region");
}

static void
test_option_descs_disagreeing_with_options_refused(void)
{
	expect_broken("options-mismatch.so", VMMEM_ERROR_PROVIDER_INVALID,
		      "option 'colour' is in options but not in option_descs");
}

static void
test_option_described_twice_refused(void)
{
	expect_broken("option-twice.so", VMMEM_ERROR_PROVIDER_INVALID,
		      "option 'size-limit' is listed twice");
}

/* A flag bit of a later minor means nothing to this core: it is dropped,
 * and the bits this core knows stay. */
static void
test_unknown_region_flag_dropped(void)
{
	char *path = g_build_filename(broken_dir(), "unknown-flag.so", NULL);
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = TU_2M, .provider = path };
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&s, 1, &err);

	g_assert_no_error(err);
	g_assert_cmphex(vmmem_region_flags(vmmem_memory_region(mem, 0)), ==, VMMEM_REGION_SHARED);
	vmmem_memory_unref(mem);
	g_free(path);
}

static const vmmem_provider_info_t *
find_listed(GPtrArray *list, const char *name)
{
	for (guint i = 0; i < list->len; i++) {
		const vmmem_provider_info_t *p = list->pdata[i];

		if (!p->error && !p->shadowed_by && strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static const vmmem_provider_option_info_t *
find_option(const vmmem_provider_info_t *p, const char *key)
{
	for (size_t k = 0; p->option_info[k]; k++)
		if (strcmp(p->option_info[k]->key, key) == 0)
			return p->option_info[k];
	return NULL;
}

/* vmmem_provider_list() gives, for each key a provider accepts and in the
 * same order, what the provider says of it: type, default, description. */
static void
test_list_gives_described_options(void)
{
	GPtrArray *list = vmmem_provider_list();
	const char *names[] = { "mmap", "memfd", "hugetlbfs" };
	const vmmem_provider_option_info_t *o;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		const vmmem_provider_info_t *p = find_listed(list, names[i]);
		size_t k = 0;

		g_assert_nonnull(p);
		for (; p->options[k]; k++) {
			g_assert_nonnull(p->option_info[k]);
			g_assert_cmpstr(p->option_info[k]->key, ==, p->options[k]);
			g_assert_cmpuint(p->option_info[k]->type, !=, VMMEM_PROVIDER_OPTION_UNDESCRIBED);
			g_assert_nonnull(p->option_info[k]->description);
			g_assert_cmpuint(strlen(p->option_info[k]->description), >, 10);
		}
		g_assert_cmpuint(k, >, 0);
		g_assert_null(p->option_info[k]);
	}
	o = find_option(find_listed(list, "mmap"), "offset");
	g_assert_nonnull(o);
	g_assert_cmpuint(o->type, ==, VMMEM_PROVIDER_OPTION_SIZE);
	g_assert_cmpstr(o->type_name, ==, "size");
	g_assert_cmpstr(o->default_value, ==, "0");
	g_assert_null(o->choices);
	o = find_option(find_listed(list, "mmap"), "path");
	g_assert_cmpstr(o->type_name, ==, "path");
	g_assert_null(o->default_value);
	o = find_option(find_listed(list, "hugetlbfs"), "prefault");
	g_assert_cmpuint(o->type, ==, VMMEM_PROVIDER_OPTION_ENUM);
	g_assert_nonnull(o->choices);
	g_assert_cmpstr(o->choices[0], ==, "yes");
	g_assert_cmpstr(o->choices[1], ==, "no");
	g_assert_cmpstr(o->choices[2], ==, "touch");
	g_assert_null(o->choices[3]);
	g_ptr_array_unref(list);
}

static void
test_invalid_descriptor(void)
{
	expect_broken("no-name.so", VMMEM_ERROR_PROVIDER_INVALID, "name");
	expect_broken("no-create.so", VMMEM_ERROR_PROVIDER_INVALID, "create");
}

static void
test_create_failure_carries_provider_message(void)
{
	vmmem_region_spec_t s[2] = {
		{ .name = "fine", .start = { 0 }, .size = TU_2M, .provider = "mmap" },
		{ .name = "ram", .start = { TU_2M }, .size = TU_2M },
	};
	char *path = g_build_filename(broken_dir(), "create-fails.so", NULL);
	GError *err = NULL;

	s[1].provider = path;
	g_assert_null(vmmem_memory_new(s, 2, &err));
	g_assert_nonnull(err);
	g_assert_cmpint(vmmem_error_get_errno(err), ==, ENOSPC);
	tu_assert_error(&err, VMMEM_ERROR_PROVIDER_CREATE, path, "'ram'",
			"the test provider refuses every region");
	g_free(path);
}

/* The message ends at the provider's buffer: its 511 first bytes, and
 * nothing read past the 512th. */
static void
expect_unterminated_cut(const char *region, int code)
{
	char *path = g_build_filename(broken_dir(), "unterminated-message.so", NULL);
	vmmem_region_spec_t s = { .name = region, .start = { 0 }, .size = TU_2M, .provider = path };
	char *xs = g_strnfill(511, 'x');
	const char *run;
	GError *err = NULL;

	g_assert_null(vmmem_memory_new(&s, 1, &err));
	g_assert_error(err, VMMEM_ERROR, code);
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EIO);
	g_assert_nonnull(strstr(err->message, path));
	run = strstr(err->message, xs);
	g_assert_nonnull(run);
	g_assert_cmpuint(strlen(run), ==, 511);
	g_clear_error(&err);
	g_free(xs);
	g_free(path);
}

static void
test_unterminated_provider_message_is_cut(void)
{
	expect_unterminated_cut("ram", VMMEM_ERROR_PROVIDER_CREATE);
	expect_unterminated_cut("validate", VMMEM_ERROR_PROVIDER_OPTION);
}

static void
test_world_writable_refused(void)
{
	char *dir = tu_tmpdir(), *src = mmap_path(), *copy = g_build_filename(dir, "copy.so", NULL);
	char *data = NULL;
	gsize len = 0;
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M, .provider = copy };
	vmmem_memory_t *mem;
	GError *err = NULL;

	g_assert_true(g_file_get_contents(src, &data, &len, NULL));
	g_assert_true(g_file_set_contents(copy, data, (gssize)len, NULL));
	g_assert_cmpint(g_chmod(copy, 0666), ==, 0);
	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "writable by everyone");
	/* The same file with a sane mode loads: the mode was the reason. */
	g_assert_cmpint(g_chmod(copy, 0644), ==, 0);
	mem = vmmem_memory_new(&s, 1, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(vmmem_region_provider_path(vmmem_memory_region(mem, 0)), ==, copy);
	vmmem_memory_unref(mem);
	g_free(data);
	g_free(src);
	g_free(copy);
	tu_rmdir(dir);
	g_free(dir);
}

/* A copy of the mmap provider at dir/name with `mode`; returns its path. */
static char *
copy_mmap(const char *dir, const char *name, int mode)
{
	char *src = mmap_path(), *copy = g_build_filename(dir, name, NULL);
	char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(src, &data, &len, NULL));
	g_assert_true(g_file_set_contents(copy, data, (gssize)len, NULL));
	g_assert_cmpint(g_chmod(copy, mode), ==, 0);
	g_free(data);
	g_free(src);
	return copy;
}

static void
expect_loads(const char *path)
{
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M, .provider = path };
	GError *err = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&s, 1, &err);

	g_assert_no_error(err);
	vmmem_memory_unref(mem);
}

/* A file with the group-write bit: anyone in the group could replace it. */
static void
test_group_writable_refused(void)
{
	char *dir = tu_tmpdir(), *copy = copy_mmap(dir, "copy.so", 0664);

	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "writable by its group (mode 0664)");
	g_assert_cmpint(g_chmod(copy, 0644), ==, 0);
	expect_loads(copy);
	g_free(copy);
	tu_rmdir(dir);
	g_free(dir);
}

/* Owned by neither root nor us: its owner could change it at any time.
 * Needs root to give the file away. */
static void
test_foreign_owner_refused(void)
{
	char *dir, *copy;

	if (geteuid() != 0) {
		g_test_skip("needs root to chown a file to another user");
		return;
	}
	dir = tu_tmpdir();
	copy = copy_mmap(dir, "copy.so", 0644);
	g_assert_cmpint(chown(copy, 4242, 4242), ==, 0);
	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "owned by uid 4242");
	g_assert_cmpint(chown(copy, 0, 0), ==, 0);
	expect_loads(copy);
	g_free(copy);
	tu_rmdir(dir);
	g_free(dir);
}

/* Whoever can write a directory on the path can rename another file into
 * the provider's place; a sticky directory owned by root (like /tmp) is
 * the exception, as nobody may rename another's entries there. */
static void
test_writable_directory_refused(void)
{
	char *dir = tu_tmpdir(), *sub = g_build_filename(dir, "open", NULL), *copy;

	g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
	copy = copy_mmap(sub, "copy.so", 0644);
	g_assert_cmpint(g_chmod(sub, 0777), ==, 0);
	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, sub);
	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "writable by everyone (mode 0777)");
	g_assert_cmpint(g_chmod(sub, 0775), ==, 0);
	expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "writable by its group (mode 0775)");
	if (geteuid() == 0) {
		g_assert_cmpint(g_chmod(sub, 01777), ==, 0);
		expect_loads(copy);
		g_assert_cmpint(chown(sub, 4242, 4242), ==, 0);
		expect_fail(copy, VMMEM_ERROR_PROVIDER_LOAD, copy, "owned by uid 4242");
		g_assert_cmpint(chown(sub, 0, 0), ==, 0);
	}
	g_assert_cmpint(g_chmod(sub, 0755), ==, 0);
	expect_loads(copy);
	g_unlink(copy);
	g_rmdir(sub);
	g_free(copy);
	g_free(sub);
	tu_rmdir(dir);
	g_free(dir);
}

/* The file opened is the file checked and loaded: a symlink to a file
 * anyone can write is refused for what it points at, and a symlink that
 * lives in a directory others can write is refused for that directory. */
static void
test_symlinks_checked_on_both_ends(void)
{
	char *dir = tu_tmpdir(), *open_dir = g_build_filename(dir, "open", NULL);
	char *bad = copy_mmap(dir, "bad.so", 0644), *good = copy_mmap(dir, "good.so", 0644);
	char *to_bad = g_build_filename(dir, "to-bad.so", NULL);
	char *swappable = g_build_filename(open_dir, "to-good.so", NULL);

	g_assert_cmpint(g_chmod(bad, 0666), ==, 0);
	g_assert_cmpint(symlink(bad, to_bad), ==, 0);
	expect_fail(to_bad, VMMEM_ERROR_PROVIDER_LOAD, to_bad, "writable by everyone");
	g_assert_cmpint(g_mkdir(open_dir, 0777), ==, 0);
	g_assert_cmpint(g_chmod(open_dir, 0777), ==, 0);
	g_assert_cmpint(symlink(good, swappable), ==, 0);
	expect_fail(swappable, VMMEM_ERROR_PROVIDER_LOAD, swappable, open_dir);
	g_assert_cmpint(g_chmod(open_dir, 0755), ==, 0);
	expect_loads(swappable);
	g_unlink(swappable);
	g_unlink(to_bad);
	g_unlink(bad);
	g_unlink(good);
	g_rmdir(open_dir);
	g_free(swappable);
	g_free(to_bad);
	g_free(good);
	g_free(bad);
	g_free(open_dir);
	tu_rmdir(dir);
	g_free(dir);
}

/* Two paths to one file, each loaded and let go in turn, then a different
 * file: the dynamic linker knows modules by their /proc/self/fd name, so
 * a reused fd number must never hand back the wrong module. */
static void
test_fd_names_never_alias_another_module(void)
{
	char *dir = tu_tmpdir(), *copy = copy_mmap(dir, "copy.so", 0644);
	char *other = g_build_filename(broken_dir(), "create-fails.so", NULL);

	for (int i = 0; i < 3; i++) {
		expect_loads(copy);
		expect_fail(other, VMMEM_ERROR_PROVIDER_CREATE, other,
			    "the test provider refuses every region");
	}
	g_free(other);
	g_unlink(copy);
	g_free(copy);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_found_through_provider_path(void)
{
	char *dir = tu_tmpdir(), *src = mmap_path(), *copy = g_build_filename(dir, "other.so", NULL);
	char *old = g_strdup(g_getenv("VMMEM_PROVIDER_PATH")), *env;
	char *data = NULL;
	gsize len = 0;
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M, .provider = "other" };
	vmmem_memory_t *mem;
	GError *err = NULL;

	g_assert_true(g_file_get_contents(src, &data, &len, NULL));
	g_assert_true(g_file_set_contents(copy, data, (gssize)len, NULL));
	g_assert_cmpint(g_chmod(copy, 0755), ==, 0);
	expect_fail("other", VMMEM_ERROR_PROVIDER_NOT_FOUND, "other.so", NULL);
	/* Empty entries are skipped; the new directory is searched. */
	env = g_strdup_printf("::%s:%s", dir, old);
	g_setenv("VMMEM_PROVIDER_PATH", env, TRUE);
	mem = vmmem_memory_new(&s, 1, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(vmmem_region_provider_path(vmmem_memory_region(mem, 0)), ==, copy);
	g_assert_cmpstr(vmmem_region_provider_name(vmmem_memory_region(mem, 0)), ==, "mmap");
	vmmem_memory_unref(mem);
	g_setenv("VMMEM_PROVIDER_PATH", old, TRUE);
	g_free(env);
	g_free(old);
	g_free(data);
	g_free(src);
	g_free(copy);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_shared_module_outlives_one_memory(void)
{
	vmmem_region_spec_t s = { .start = { 0 }, .size = TU_2M, .provider = "mmap" };
	char *path = mmap_path();
	vmmem_region_spec_t by_path = { .start = { 0 }, .size = TU_2M, .provider = path };
	GError *err = NULL;
	vmmem_memory_t *a = vmmem_memory_new(&s, 1, &err);
	vmmem_memory_t *b = vmmem_memory_new(&by_path, 1, &err);
	uint64_t v = 0;

	g_assert_no_error(err);
	g_assert_cmpstr(vmmem_region_provider_path(vmmem_memory_region(a, 0)), ==,
			vmmem_region_provider_path(vmmem_memory_region(b, 0)));
	g_assert_true(vmmem_memory_store_u64(b, G(8), 0xabcdef, memory_order_seq_cst, &err));
	vmmem_memory_unref(a);
	/* b's region was created by the module; it must still work and its
	 * destroy() must still be callable. */
	g_assert_true(vmmem_memory_load_u64(b, G(8), &v, memory_order_seq_cst, &err));
	g_assert_cmphex(v, ==, 0xabcdef);
	g_assert_cmpstr(vmmem_region_provider_name(vmmem_memory_region(b, 0)), ==, "mmap");
	g_assert_no_error(err);
	vmmem_memory_unref(b);
	/* And the module loads again after the last user is gone. */
	a = vmmem_memory_new(&s, 1, &err);
	g_assert_no_error(err);
	vmmem_memory_unref(a);
	g_free(path);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/loader/not-found/by-name-lists-directories",
			test_not_found_by_name_lists_dirs);
	g_test_add_func("/loader/not-found/by-path", test_not_found_by_path);
	g_test_add_func("/loader/not-found/bad-name", test_bad_name_refused);
	g_test_add_func("/loader/load/garbage-file-gives-dlerror",
			test_garbage_file_is_load_error_with_dlerror);
	g_test_add_func("/loader/load/undefined-symbol", test_undefined_symbol_is_load_error);
	g_test_add_func("/loader/no-entry-symbol", test_no_entry_symbol);
	g_test_add_func("/loader/abi/major-differs", test_abi_major_differs);
	g_test_add_func("/loader/abi/minor-newer-loads", test_abi_minor_newer_loads);
	g_test_add_func("/loader/descriptor/option-descs-must-match-options",
			test_option_descs_disagreeing_with_options_refused);
	g_test_add_func("/loader/mapping/unknown-flag-bit-dropped", test_unknown_region_flag_dropped);
	g_test_add_func("/loader/list/gives-each-option-described-by-its-provider",
			test_list_gives_described_options);
	g_test_add_func("/loader/descriptor/option-described-twice",
			test_option_described_twice_refused);
	g_test_add_func("/loader/invalid-descriptor/no-name-no-create", test_invalid_descriptor);
	g_test_add_func("/loader/create-fails/carries-provider-message",
			test_create_failure_carries_provider_message);
	g_test_add_func("/loader/provider-message-without-nul-is-cut-at-its-buffer",
			test_unterminated_provider_message_is_cut);
	g_test_add_func("/loader/world-writable-file-refused", test_world_writable_refused);
	g_test_add_func("/loader/refuses/group-writable-file", test_group_writable_refused);
	g_test_add_func("/loader/refuses/file-owned-by-another-user", test_foreign_owner_refused);
	g_test_add_func("/loader/refuses/directory-others-can-write-unless-sticky-root",
			test_writable_directory_refused);
	g_test_add_func("/loader/refuses/symlink-to-unsafe-file-or-in-unsafe-directory",
			test_symlinks_checked_on_both_ends);
	g_test_add_func("/loader/load/reused-fd-number-never-aliases-another-module",
			test_fd_names_never_alias_another_module);
	g_test_add_func("/loader/found-through-provider-path", test_found_through_provider_path);
	g_test_add_func("/loader/shared-module-outlives-one-memory",
			test_shared_module_outlives_one_memory);
	return g_test_run();
}
