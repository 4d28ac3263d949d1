/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The corpus of one fuzz target as a `make check` test: runs every file
 * under tests/fuzz/corpus/<target>/ (or the files and directories given as
 * arguments) through the target's LLVMFuzzerTestOneInput, one TAP line
 * each. A disagreement aborts the program (fuzz_fail), which the TAP
 * driver reports as a failure; the file that caused it is the last one
 * named on stderr. Built with the normal compiler: no libFuzzer needed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int n_run;

static void
run_file(const char *path)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, &len, &err)) {
		printf("not ok %d - %s: %s\n", ++n_run, path, err->message);
		g_error_free(err);
		return;
	}
	fprintf(stderr, "replaying %s\n", path);
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	printf("ok %d - %s\n", ++n_run, path);
	fflush(stdout);
	g_free(data);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(const char *path)
{
	GDir *dir;
	GPtrArray *names;
	const char *name;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		run_file(path);
		return;
	}
	dir = g_dir_open(path, 0, NULL);
	if (!dir) {
		printf("not ok %d - cannot open %s\n", ++n_run, path);
		return;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(dir)))
		g_ptr_array_add(names, g_build_filename(path, name, NULL));
	g_dir_close(dir);
	qsort(names->pdata, names->len, sizeof(char *), compare_names);
	for (guint i = 0; i < names->len; i++)
		run_file(names->pdata[i]);
	g_ptr_array_unref(names);
}

int
main(int argc, char **argv)
{
	const char *top = g_getenv("VMMEM_TOP_SRCDIR");
	char *corpus;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		corpus = g_build_filename(top ? top : ".", "tests", "fuzz", "corpus", FUZZ_TARGET,
					  NULL);
		if (!g_file_test(corpus, G_FILE_TEST_IS_DIR)) {
			printf("1..0 # SKIP no corpus at %s\n", corpus);
			g_free(corpus);
			return 0;
		}
		run_path(corpus);
		g_free(corpus);
	}
	printf("1..%d\n", n_run);
	if (fuzz_target_cleanup)
		fuzz_target_cleanup();
	return 0;
}
