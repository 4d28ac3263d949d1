/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Every GTest case in its own child process.
 *
 * Include this after <glib.h> in a test program (and in helpers that
 * register cases). It replaces GLib's registration calls with ones that,
 * in the test program the harness starts, register a stand-in that runs
 * the case in a fresh child (the same binary, started as GLib starts the
 * children of g_test_trap_subprocess) and reports the child's outcome as
 * the case's own: pass, skip with its reason, or a failure that names the
 * exit status or the signal. One crash is then one "not ok" line, and the
 * cases after it still run. The child registers the real cases, so
 * fixtures, g_test_skip() and a case's own g_test_trap_subprocess() work
 * unchanged; g_test_subprocess() is FALSE in the child until the case
 * starts a subprocess of its own.
 *
 * A case that must run in the test program itself registers with
 * ti_add_func_in_process() and says why in a comment. VMMEM_TEST_NO_ISOLATE=1
 * runs every case in one process, as GLib does (for gdb, or to measure
 * what isolation costs). */
#ifndef VMMEM_TEST_ISOLATE_H
#define VMMEM_TEST_ISOLATE_H

#include <glib.h>

void ti_add_vtable(const char *path, gsize fixture_size, gconstpointer data,
		   GTestFixtureFunc setup, GTestFixtureFunc test, GTestFixtureFunc teardown);
void ti_add_func(const char *path, GTestFunc fn);
void ti_add_data_func(const char *path, gconstpointer data, GTestDataFunc fn);
void ti_add_data_func_full(const char *path, gpointer data, GTestDataFunc fn,
			   GDestroyNotify destroy);
/* Registers `fn` to run in the test program's own process. */
void ti_add_func_in_process(const char *path, GTestFunc fn);
gboolean ti_subprocess(void);
/* _exit() for a child that a case forked: in a coverage build (built with
 * -DVMMEM_TEST_COVERAGE, as `make coverage` does) it first writes gcov's
 * counters, which only exit() would, so that what the child ran counts. */
G_GNUC_NORETURN void ti_child_exit(int status);

#ifndef TI_NO_REDIRECT
#undef g_test_add_vtable
#undef g_test_add_func
#undef g_test_add_data_func
#undef g_test_add_data_func_full
#undef g_test_subprocess
/* g_test_add() expands to g_test_add_vtable(), so fixtures are covered. */
#define g_test_add_vtable ti_add_vtable
#define g_test_add_func ti_add_func
#define g_test_add_data_func ti_add_data_func
#define g_test_add_data_func_full ti_add_data_func_full
#define g_test_subprocess ti_subprocess
#endif

#endif /* VMMEM_TEST_ISOLATE_H */
