/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Every GTest case in its own child process; see isolate.h.
 *
 * The child is this binary again, started the way GLib starts the child of
 * g_test_trap_subprocess() ("-q -p PATH --GTestSubprocess --GTestLogFD=N"),
 * but spawned here rather than through g_test_trap_subprocess() because the
 * parent needs what GLib keeps to itself: the wait status (to name the
 * signal) and the child's log (its messages, its skip reason). The child
 * writes GLib's binary test log into a memfd that the parent reads after
 * the child has exited, so a chatty child can never block on a full pipe. */
#define _GNU_SOURCE
#define TI_NO_REDIRECT
#include "isolate.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set in the child's environment to the one case it is to run. */
#define TI_ENV_CASE "VMMEM_TEST_ISOLATED_CASE"
#define TI_ENV_OFF "VMMEM_TEST_NO_ISOLATE"

/* GLib's GTestResult (private to gtestutils.c), as the child logs it in
 * the first number of G_TEST_LOG_STOP_CASE. */
enum { TI_RUN_SUCCESS = 0, TI_RUN_SKIPPED = 1, TI_RUN_FAILURE = 2, TI_RUN_INCOMPLETE = 3 };

typedef enum {
	TI_UNSET,
	TI_PARENT, /* the harness started us: each case runs in a child */
	TI_CHILD,  /* a child of TI_PARENT: register and run one case */
	TI_PLAIN,  /* isolation off, or a subprocess a case started itself */
} ti_mode_t;

static ti_mode_t mode = TI_UNSET;
static char *child_case; /* TI_CHILD: the path of the one case to register */

static void
ti_init(void)
{
	const char *c;

	if (mode != TI_UNSET)
		return;
	c = g_getenv(TI_ENV_CASE);
	if (g_test_subprocess() && c) {
		child_case = g_strdup(c);
		/* A subprocess the case starts itself must not take itself for
		 * an isolated child. */
		g_unsetenv(TI_ENV_CASE);
		mode = TI_CHILD;
	} else if (g_test_subprocess() || g_strcmp0(g_getenv(TI_ENV_OFF), "1") == 0) {
		mode = TI_PLAIN;
	} else {
		mode = TI_PARENT;
		/* GLib stops the whole program at the first failed case unless
		 * told to keep going; the point of isolation is that the rest
		 * run. Assertions in this process only check the children. */
		g_test_set_nonfatal_assertions();
	}
}

gboolean
ti_subprocess(void)
{
	ti_init();
	return mode != TI_CHILD && g_test_subprocess();
}

static const char *
signal_name(int sig)
{
	static char buf[32];
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		g_snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		g_snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

/* What the child's log says about its case. */
typedef struct {
	gboolean stopped;
	int result;
	char *reason; /* skip or incomplete reason */
	char *error;  /* the last assertion message */
} ti_outcome_t;

static void
read_child_log(int fd, const char *path, ti_outcome_t *out)
{
	GTestLogBuffer *buf = g_test_log_buffer_new();
	GTestLogMsg *msg;
	guint8 chunk[4096];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		g_error("lseek on the log of %s: %s", path, g_strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			g_error("read of the log of %s: %s", path, g_strerror(errno));
		g_test_log_buffer_push(buf, (guint)n, chunk);
	}
	while ((msg = g_test_log_buffer_pop(buf))) {
		switch (msg->log_type) {
		case G_TEST_LOG_MESSAGE:
			if (msg->n_strings >= 1)
				g_test_message("%s", msg->strings[0]);
			break;
		case G_TEST_LOG_ERROR:
			if (msg->n_strings >= 1) {
				g_free(out->error);
				out->error = g_strdup(msg->strings[0]);
			}
			break;
		case G_TEST_LOG_STOP_CASE:
			out->stopped = TRUE;
			out->result = msg->n_nums >= 1 ? (int)msg->nums[0] : TI_RUN_FAILURE;
			g_free(out->reason);
			out->reason = msg->n_strings >= 2 && msg->strings[1] ? g_strdup(msg->strings[1])
									     : NULL;
			break;
		default:
			break;
		}
		g_test_log_msg_free(msg);
	}
	g_test_log_buffer_free(buf);
}

static void
run_in_child(gconstpointer data)
{
	const char *path = data;
	GError *err = NULL;
	char *exe, fdarg[32];
	GPtrArray *argv = g_ptr_array_new();
	char **envp;
	int logfd, status;
	GPid pid;
	ti_outcome_t out = { 0 };

	/* Not argv[0]: the harness may have started us by a relative path, or
	 * through libtool's wrapper, or under valgrind (which answers this
	 * readlink with our binary, not its own). */
	exe = g_file_read_link("/proc/self/exe", &err);
	g_assert_no_error(err);
	logfd = memfd_create("gtest-child-log", MFD_CLOEXEC);
	if (logfd < 0)
		g_error("memfd_create for the log of %s: %s", path, g_strerror(errno));
	g_snprintf(fdarg, sizeof(fdarg), "--GTestLogFD=%d", logfd);

	g_ptr_array_add(argv, exe);
	g_ptr_array_add(argv, "-q");
	g_ptr_array_add(argv, "-p");
	g_ptr_array_add(argv, (char *)path);
	g_ptr_array_add(argv, "--GTestSubprocess");
	g_ptr_array_add(argv, fdarg);
	if (g_test_thorough()) {
		g_ptr_array_add(argv, "-m");
		g_ptr_array_add(argv, "thorough");
	}
	if (g_test_perf()) {
		g_ptr_array_add(argv, "-m");
		g_ptr_array_add(argv, "perf");
	}
	if (!g_test_undefined()) {
		g_ptr_array_add(argv, "-m");
		g_ptr_array_add(argv, "no-undefined");
	}
	g_ptr_array_add(argv, NULL);
	envp = g_environ_setenv(g_get_environ(), TI_ENV_CASE, path, TRUE);

	/* stdout and stderr are inherited: the child's assertion messages and
	 * sanitizer reports land in the case's log as they happen. */
	if (!g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv->pdata,
					      (const char *const *)envp, G_SPAWN_DO_NOT_REAP_CHILD,
					      NULL, NULL, -1, -1, -1, &logfd, &logfd, 1, &pid, NULL,
					      NULL, NULL, &err))
		g_error("cannot start %s for %s: %s", exe, path, err->message);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			g_error("waitpid for the child of %s: %s", path, g_strerror(errno));
	}
	read_child_log(logfd, path, &out);
	close(logfd);

	/* GLib exits 77 when every case it ran was skipped. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77 && out.stopped &&
	    out.result == TI_RUN_SKIPPED) {
		g_test_skip(out.reason ? out.reason : "skipped in the child");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && out.stopped) {
		if (out.result == TI_RUN_SKIPPED)
			g_test_skip(out.reason ? out.reason : "skipped in the child");
		else if (out.result == TI_RUN_INCOMPLETE)
			g_test_incomplete(out.reason ? out.reason : "incomplete in the child");
		else if (out.result != TI_RUN_SUCCESS)
			g_test_fail_printf("the child of %s reported failure %d", path, out.result);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		g_test_fail_printf("the child of %s exited without running it", path);
	} else if (WIFSIGNALED(status)) {
		g_test_fail_printf("the child running %s was killed by %s (%s)%s%s", path,
				   signal_name(WTERMSIG(status)), strsignal(WTERMSIG(status)),
				   out.error ? ": " : "", out.error ? out.error : "");
	} else {
		g_test_fail_printf("the child running %s exited with status %d%s%s", path,
				   WEXITSTATUS(status), out.error ? ": " : "",
				   out.error ? out.error : "");
	}

	g_free(out.reason);
	g_free(out.error);
	g_strfreev(envp);
	g_ptr_array_free(argv, TRUE);
	g_free(exe);
	g_spawn_close_pid(pid);
}

/* TI_CHILD registers the one case it runs and nothing else (GLib's -p
 * would otherwise also run every case below that path). */
static gboolean
child_skips(const char *path)
{
	return mode == TI_CHILD && strcmp(path, child_case) != 0;
}

static void
add_stand_in(const char *path)
{
	g_test_add_data_func_full(path, g_strdup(path), run_in_child, g_free);
}

void
ti_add_vtable(const char *path, gsize fixture_size, gconstpointer data, GTestFixtureFunc setup,
	      GTestFixtureFunc test, GTestFixtureFunc teardown)
{
	ti_init();
	if (mode == TI_PARENT)
		add_stand_in(path);
	else if (!child_skips(path))
		g_test_add_vtable(path, fixture_size, data, setup, test, teardown);
}

void
ti_add_func(const char *path, GTestFunc fn)
{
	ti_init();
	if (mode == TI_PARENT)
		add_stand_in(path);
	else if (!child_skips(path))
		g_test_add_func(path, fn);
}

void
ti_add_data_func(const char *path, gconstpointer data, GTestDataFunc fn)
{
	ti_init();
	if (mode == TI_PARENT)
		add_stand_in(path);
	else if (!child_skips(path))
		g_test_add_data_func(path, data, fn);
}

void
ti_add_data_func_full(const char *path, gpointer data, GTestDataFunc fn, GDestroyNotify destroy)
{
	ti_init();
	if (mode == TI_PARENT || child_skips(path)) {
		/* This process never runs the case: its data is not needed. */
		if (destroy)
			destroy(data);
		if (mode == TI_PARENT)
			add_stand_in(path);
		return;
	}
	g_test_add_data_func_full(path, data, fn, destroy);
}

#ifdef VMMEM_TEST_COVERAGE
void __gcov_dump(void); /* libgcov; dumps the counters of every object */
#endif

void
ti_child_exit(int status)
{
#ifdef VMMEM_TEST_COVERAGE
	__gcov_dump();
#endif
	_exit(status);
}

void
ti_add_func_in_process(const char *path, GTestFunc fn)
{
	ti_init();
	if (!child_skips(path))
		g_test_add_func(path, fn);
}
