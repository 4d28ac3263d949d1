/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Each case in its own child (tests/isolate.h): what a case does to its
 * process does not reach the next one, a skip stays a skip with its
 * reason, fixtures and a case's own subprocess work, and messages reach
 * the log. With VMMEM_TEST_ISOLATION_CRASH=1 one case dies of SIGSEGV:
 * tests/test-isolation.sh checks that this is one failure naming the
 * signal and that the cases after it still run and pass. */
#include <signal.h>
#include <stdlib.h>

#include <glib.h>
#include "isolate.h"

static int touched_by_earlier_case;

static void
test_state_first_case_changes_its_process(void)
{
	touched_by_earlier_case = 1;
	g_setenv("VMMEM_TEST_ISOLATION_LEFTOVER", "1", TRUE);
	g_test_message("isolation: first case ran");
}

static void
test_state_next_case_starts_fresh(void)
{
	if (g_strcmp0(g_getenv("VMMEM_TEST_NO_ISOLATE"), "1") == 0) {
		g_test_skip("VMMEM_TEST_NO_ISOLATE=1: every case runs in this one process");
		return;
	}
	g_assert_cmpint(touched_by_earlier_case, ==, 0);
	g_assert_null(g_getenv("VMMEM_TEST_ISOLATION_LEFTOVER"));
}

static void
test_crash_kills_only_its_child(void)
{
	if (!g_getenv("VMMEM_TEST_ISOLATION_CRASH"))
		return;
	/* The default action, not a sanitizer's or valgrind's report-and-exit
	 * handler: the child must die of the signal itself. */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	g_assert_not_reached();
}

static void
test_case_after_crash_runs(void)
{
	g_test_message("isolation: case after the crash ran");
}

static void
test_skip_in_child_is_a_skip_with_its_reason(void)
{
	g_test_skip("isolation: skipped on purpose");
}

static void
test_own_subprocess_still_works(void)
{
	if (g_test_subprocess()) {
		g_printerr("isolation: in the case's own subprocess\n");
		exit(3);
	}
	g_test_trap_subprocess(NULL, 0, 0);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*isolation: in the case's own subprocess*");
}

typedef struct {
	int set_up;
} fixture_t;

static void
fixture_setup(fixture_t *f, gconstpointer data)
{
	(void)data;
	f->set_up = 42;
}

static void
fixture_test(fixture_t *f, gconstpointer data)
{
	g_assert_cmpstr(data, ==, "fixture data");
	g_assert_cmpint(f->set_up, ==, 42);
}

static void
fixture_teardown(fixture_t *f, gconstpointer data)
{
	(void)data;
	g_assert_cmpint(f->set_up, ==, 42);
}

static void
test_data_func(gconstpointer data)
{
	g_assert_cmpstr(data, ==, "case data");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/isolation/state/first-case-changes-its-process",
			test_state_first_case_changes_its_process);
	g_test_add_func("/isolation/state/next-case-starts-fresh", test_state_next_case_starts_fresh);
	g_test_add_func("/isolation/crash/kills-only-its-child", test_crash_kills_only_its_child);
	g_test_add_func("/isolation/crash/case-after-it-runs", test_case_after_crash_runs);
	g_test_add_func("/isolation/skip/is-a-skip-with-its-reason",
			test_skip_in_child_is_a_skip_with_its_reason);
	g_test_add_func("/isolation/own-subprocess/still-works", test_own_subprocess_still_works);
	g_test_add("/isolation/fixture/setup-test-teardown", fixture_t, "fixture data", fixture_setup,
		   fixture_test, fixture_teardown);
	g_test_add_data_func("/isolation/data/reaches-the-case", "case data", test_data_func);
	return g_test_run();
}
