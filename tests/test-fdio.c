/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* File-descriptor transfers straight into and out of guest memory, for
 * all three families, with pipes and regular files, across regions, with
 * short transfers and an interrupted read. Runs once per provider. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define R(x) vmmem_region_addr(x)

/* An unlinked temporary file holding `len` bytes of `byte`+i. */
static int
temp_file(size_t len, uint8_t byte)
{
	char *dir = tu_tmpdir(), *path = g_build_filename(dir, "data", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	uint8_t *buf = g_malloc(len ? len : 1);

	g_assert_cmpint(fd, >=, 0);
	unlink(path);
	tu_rmdir(dir);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(byte + i);
	g_assert_cmpint(pwrite(fd, buf, len, 0), ==, (ssize_t)len);
	g_free(buf);
	g_free(path);
	g_free(dir);
	return fd;
}

static void
test_read_exact_file_across_three_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	size_t len = TU_2M + 0x40;
	uint64_t at = 2 * TU_2M - 0x20;
	int fd = temp_file(len, 0x10);
	uint8_t *back = g_malloc(len);
	GError *err = NULL;

	g_assert_true(vmmem_memory_read_exact_from_fd(mem, G(at), fd, len, &err));
	g_assert_no_error(err);
	g_assert_true(vmmem_memory_read_slice(mem, G(at), back, len, &err));
	for (size_t i = 0; i < len; i++)
		g_assert_cmpuint(back[i], ==, (uint8_t)(0x10 + i));
	tu_assert_pattern_except(mem, at, len);
	g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, (off_t)len);
	close(fd);
	g_free(back);
	vmmem_memory_unref(mem);
}

static void
test_write_all_file_across_three_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout_adj3, 3);
	size_t len = TU_2M + 0x40;
	uint64_t at = 2 * TU_2M - 0x20;
	int fd = temp_file(0, 0);
	uint8_t *back = g_malloc(len);
	GError *err = NULL;

	g_assert_true(vmmem_memory_write_all_to_fd(mem, G(at), fd, len, &err));
	g_assert_no_error(err);
	g_assert_cmpint(pread(fd, back, len, 0), ==, (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		g_assert_cmpuint(back[i], ==, tu_pattern(at + i));
	close(fd);
	g_free(back);
	vmmem_memory_unref(mem);
}

static void
test_pipe_across_regions(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	int fds[2];
	uint8_t in[0x2000], out[0x2000];
	size_t done = 0;
	uint64_t at = TU_2M - 0x1000; /* r0 -> r1 */
	GError *err = NULL;

	g_assert_cmpint(pipe(fds), ==, 0);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 3);
	g_assert_cmpint(write(fds[1], in, sizeof(in)), ==, sizeof(in));
	g_assert_true(vmmem_memory_read_from_fd(mem, G(at), fds[0], sizeof(in), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, sizeof(in));
	g_assert_true(vmmem_memory_read_slice(mem, G(at), out, sizeof(out), &err));
	g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

	/* And back out through the pipe. */
	g_assert_true(vmmem_memory_write_to_fd(mem, G(at), fds[1], sizeof(in), &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, sizeof(in));
	memset(out, 0, sizeof(out));
	g_assert_cmpint(read(fds[0], out, sizeof(out)), ==, sizeof(out));
	g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
	g_assert_true(vmmem_memory_write_all_to_fd(mem, G(at), fds[1], 0x100, &err));
	g_assert_true(vmmem_memory_read_exact_from_fd(mem, G(4 * TU_2M), fds[0], 0x100, &err));
	g_assert_no_error(err);
	g_assert_true(vmmem_memory_read_slice(mem, G(4 * TU_2M), out, 0x100, &err));
	g_assert_cmpmem(in, 0x100, out, 0x100);
	close(fds[0]);
	close(fds[1]);
	vmmem_memory_unref(mem);
}

static void
test_plain_read_stops_at_hole_and_eof(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	int fd = temp_file(0x100, 0x80);
	size_t done = 99;
	GError *err = NULL;

	/* Only 0x10 bytes backed before the hole: one transfer of those. */
	g_assert_true(vmmem_memory_read_from_fd(mem, G(2 * TU_2M - 0x10), fd, 0x100, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 0x10);
	tu_assert_pattern_except(mem, 2 * TU_2M - 0x10, 0x10);
	/* Plain reads report a short count at end of file, without error. */
	g_assert_true(vmmem_memory_read_from_fd(mem, G(4 * TU_2M), fd, 0x1000, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 0xf0);
	g_assert_true(vmmem_memory_read_from_fd(mem, G(4 * TU_2M), fd, 0x1000, &done, &err));
	g_assert_cmpuint(done, ==, 0);
	/* Starting in a hole is an error. */
	g_assert_false(vmmem_memory_read_from_fd(mem, G(3 * TU_2M), fd, 0x10, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	g_assert_false(vmmem_memory_write_to_fd(mem, G(3 * TU_2M), fd, 0x10, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS, "0x600000");
	close(fd);
	vmmem_memory_unref(mem);
}

static void
test_exact_eof_is_short_transfer(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	int fd = temp_file(0x100, 0x80);
	GError *err = NULL;
	vmmem_slice_t s;
	int fds[2];

	g_assert_false(vmmem_memory_read_exact_from_fd(mem, G(TU_2M - 0x80), fd, 0x200, &err));
	tu_assert_error(&err, VMMEM_ERROR_SHORT_TRANSFER, "0x100", "0x200", "end of file");
	/* What arrived before end of file stays. */
	g_assert_cmpuint(*(uint8_t *)vmmem_memory_get_host_address(mem, G(TU_2M - 0x80), NULL), ==,
			 0x80);
	lseek(fd, 0, SEEK_SET);
	g_assert_false(vmmem_region_read_exact_from_fd(vmmem_memory_region(mem, 2), R(0), fd, 0x101,
						       &err));
	tu_assert_error(&err, VMMEM_ERROR_SHORT_TRANSFER, "'r2'");
	lseek(fd, 0, SEEK_SET);
	g_assert_true(vmmem_memory_get_slice(mem, G(0), 0x1000, &s, &err));
	g_assert_false(vmmem_slice_read_exact_from_fd(s, 0, fd, 0x200, &err));
	tu_assert_error(&err, VMMEM_ERROR_SHORT_TRANSFER, "end of file");

	/* A pipe whose writer is gone behaves the same. */
	g_assert_cmpint(pipe(fds), ==, 0);
	g_assert_cmpint(write(fds[1], "abc", 3), ==, 3);
	close(fds[1]);
	g_assert_false(vmmem_memory_read_exact_from_fd(mem, G(0), fds[0], 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_SHORT_TRANSFER, "0x3", "0x8");
	close(fds[0]);
	close(fd);
	vmmem_memory_unref(mem);
}

static void
test_exact_with_hole_fails_before_io(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	int fd = temp_file(0x100, 0x80), out = temp_file(0, 0);
	GError *err = NULL;

	g_assert_false(vmmem_memory_read_exact_from_fd(mem, G(2 * TU_2M - 0x10), fd, 0x20, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000", "only 0x10");
	g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, 0); /* nothing consumed */
	g_assert_false(vmmem_memory_write_all_to_fd(mem, G(2 * TU_2M - 0x10), out, 0x20, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "0x400000");
	g_assert_cmpint(lseek(out, 0, SEEK_END), ==, 0); /* nothing written */
	g_assert_false(vmmem_memory_read_exact_from_fd(mem, G(UINT64_MAX), fd, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_OVERFLOW);
	tu_assert_pattern(mem);
	close(fd);
	close(out);
	vmmem_memory_unref(mem);
}

static void
test_bad_fd_is_io_error_with_errno(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout1, 1);
	size_t done = 99;
	GError *err = NULL;

	g_assert_false(vmmem_memory_read_from_fd(mem, G(0), -1, 16, &done, &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_IO);
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EBADF);
	g_assert_nonnull(strstr(err->message, "fd -1"));
	g_clear_error(&err);
	g_assert_false(vmmem_memory_write_all_to_fd(mem, G(0), -1, 16, &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_IO);
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EBADF);
	g_clear_error(&err);
	tu_assert_pattern(mem);
	vmmem_memory_unref(mem);
}

static void
test_region_and_slice_fd(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout3, 3);
	const vmmem_region_t *r1 = vmmem_memory_region(mem, 1);
	int fd = temp_file(0x100, 0x20), out = temp_file(0, 0);
	uint8_t back[0x100];
	size_t done = 0;
	vmmem_slice_t s;
	GError *err = NULL;

	/* The region family stops at the region's end (r1 ends where the
	 * hole starts; r0 below it is adjacent): 0x10 bytes of 0x100. */
	g_assert_true(vmmem_region_read_from_fd(r1, R(TU_2M - 0x10), fd, 0x100, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 0x10);
	g_assert_false(vmmem_region_read_exact_from_fd(r1, R(TU_2M - 0x10), fd, 0x100, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "'r1'");
	g_assert_true(vmmem_region_read_exact_from_fd(r1, R(0), fd, 0xf0, &err));
	g_assert_no_error(err);
	g_assert_true(vmmem_region_write_all_to_fd(r1, R(0), out, 0xf0, &err));
	g_assert_true(vmmem_region_write_to_fd(r1, R(TU_2M - 0x10), out, 0x100, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 0x10);
	g_assert_cmpint(pread(out, back, 0x100, 0), ==, 0x100);
	for (size_t i = 0; i < 0x100; i++)
		g_assert_cmpuint(back[i], ==, (uint8_t)(0x20 + (i + 0x10) % 0x100));

	g_assert_true(vmmem_memory_get_slice(mem, G(4 * TU_2M), 0x80, &s, &err));
	lseek(fd, 0, SEEK_SET);
	g_assert_true(vmmem_slice_read_from_fd(s, 0x70, fd, 0x100, &done, &err));
	g_assert_cmpuint(done, ==, 0x10);
	g_assert_true(vmmem_slice_read_exact_from_fd(s, 0, fd, 0x70, &err));
	g_assert_no_error(err);
	g_assert_false(vmmem_slice_write_all_to_fd(s, 0x70, out, 0x11, &err));
	tu_assert_error(&err, VMMEM_ERROR_PARTIAL_RANGE, "slice offset 0x70");
	lseek(out, 0, SEEK_SET);
	g_assert_true(vmmem_slice_write_all_to_fd(s, 0, out, 0x80, &err));
	g_assert_true(vmmem_slice_write_to_fd(s, 0x7f, out, 0x10, &done, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(done, ==, 1);
	g_assert_cmpint(pread(out, back, 0x81, 0), ==, 0x81);
	for (size_t i = 0; i < 0x70; i++)
		g_assert_cmpuint(back[i], ==, (uint8_t)(0x20 + 0x10 + i));
	g_assert_false(vmmem_slice_read_from_fd(s, 0x80, fd, 1, &done, &err));
	tu_assert_error(&err, VMMEM_ERROR_INVALID_ADDRESS);
	/* Nothing past the slice was touched. */
	g_assert_cmpuint(*(uint8_t *)vmmem_memory_get_host_address(mem, G(4 * TU_2M + 0x80), NULL),
			 ==, tu_pattern(4 * TU_2M + 0x80));
	close(fd);
	close(out);
	vmmem_memory_unref(mem);
}

/* ---- EINTR ---- */

static volatile sig_atomic_t interrupts;

static void
on_signal(int sig)
{
	(void)sig;
	interrupts++;
}

struct interrupter {
	pthread_t target;
	int write_fd;
};

static void *
interrupt_then_write(void *data)
{
	struct interrupter *it = data;

	/* Give the reader time to block in readv, interrupt it, then feed it. */
	g_usleep(50000);
	pthread_kill(it->target, SIGUSR1);
	g_usleep(50000);
	g_assert_cmpint(write(it->write_fd, "12345678", 8), ==, 8);
	return NULL;
}

static void
test_read_exact_retries_eintr(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout1, 1);
	struct sigaction sa, old;
	struct interrupter it;
	pthread_t thread;
	uint8_t back[8];
	int fds[2];
	GError *err = NULL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: readv fails with EINTR */
	sigemptyset(&sa.sa_mask);
	g_assert_cmpint(sigaction(SIGUSR1, &sa, &old), ==, 0);
	g_assert_cmpint(pipe(fds), ==, 0);
	interrupts = 0;
	it.target = pthread_self();
	it.write_fd = fds[1];
	g_assert_cmpint(pthread_create(&thread, NULL, interrupt_then_write, &it), ==, 0);
	g_assert_true(vmmem_memory_read_exact_from_fd(mem, G(0x100), fds[0], 8, &err));
	g_assert_no_error(err);
	pthread_join(thread, NULL);
	g_assert_cmpint(interrupts, ==, 1);
	g_assert_true(vmmem_memory_read_slice(mem, G(0x100), back, 8, &err));
	g_assert_cmpmem(back, 8, "12345678", 8);
	sigaction(SIGUSR1, &old, NULL);
	close(fds[0]);
	close(fds[1]);
	vmmem_memory_unref(mem);
}

static bool
sigpipe_pending(void)
{
	sigset_t set;

	g_assert_cmpint(sigpending(&set), ==, 0);
	return sigismember(&set, SIGPIPE) == 1;
}

/* The child's half: SIGPIPE at its default action (death), writes to a
 * pipe and a socket whose readers have gone. */
static void
epipe_child(const tu_provider_t *p)
{
	vmmem_memory_t *mem = tu_memory_new(p, tu_layout1, 1);
	struct sigaction sa;
	sigset_t pipe_set, mask;
	size_t done = 99;
	int fds[2], sv[2];
	GError *err = NULL;

	signal(SIGPIPE, SIG_DFL);
	g_assert_cmpint(pipe(fds), ==, 0);
	close(fds[0]);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	close(sv[1]);
	g_assert_false(vmmem_memory_write_all_to_fd(mem, G(0), fds[1], 16, &err));
	g_assert_error(err, VMMEM_ERROR, VMMEM_ERROR_IO);
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EPIPE);
	g_assert_nonnull(strstr(err->message, "fd "));
	g_clear_error(&err);
	g_assert_false(vmmem_memory_write_to_fd(mem, G(0), sv[0], 16, &done, &err));
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EPIPE);
	g_assert_cmpuint(done, ==, 0);
	g_clear_error(&err);
	g_assert_false(vmmem_region_write_all_to_fd(vmmem_memory_region(mem, 0), R(0), fds[1], 16,
						    &err));
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EPIPE);
	g_clear_error(&err);
	/* Nothing is left behind: the disposition, the mask, no pending signal. */
	g_assert_cmpint(sigaction(SIGPIPE, NULL, &sa), ==, 0);
	g_assert_true(sa.sa_handler == SIG_DFL);
	g_assert_cmpint(pthread_sigmask(SIG_SETMASK, NULL, &mask), ==, 0);
	g_assert_false(sigismember(&mask, SIGPIPE));
	g_assert_false(sigpipe_pending());
	/* A SIGPIPE the caller had pending already is the caller's: it stays. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	raise(SIGPIPE);
	g_assert_false(vmmem_memory_write_all_to_fd(mem, G(0), fds[1], 16, &err));
	g_assert_cmpint(vmmem_error_get_errno(err), ==, EPIPE);
	g_clear_error(&err);
	g_assert_true(sigpipe_pending());
	vmmem_memory_unref(mem);
	ti_child_exit(0);
}

static void
test_gone_reader_is_epipe_not_sigpipe(const tu_provider_t *p)
{
	int status = 0;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0)
		epipe_child(p);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (WIFSIGNALED(status))
		g_error("the child died of signal %d (%s)", WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tu_add_per_provider("/fdio/read-exact/file-across-three-regions",
			    test_read_exact_file_across_three_regions);
	tu_add_per_provider("/fdio/write-all/file-across-three-regions",
			    test_write_all_file_across_three_regions);
	tu_add_per_provider("/fdio/pipe/both-directions-across-regions", test_pipe_across_regions);
	tu_add_per_provider("/fdio/read/stops-at-hole-and-eof", test_plain_read_stops_at_hole_and_eof);
	tu_add_per_provider("/fdio/read-exact/eof-is-short-transfer",
			    test_exact_eof_is_short_transfer);
	tu_add_per_provider("/fdio/exact/hole-fails-before-any-io",
			    test_exact_with_hole_fails_before_io);
	tu_add_per_provider("/fdio/bad-fd-is-io-error-with-errno", test_bad_fd_is_io_error_with_errno);
	tu_add_per_provider("/fdio/region-and-slice-families", test_region_and_slice_fd);
	tu_add_per_provider("/fdio/read-exact/retries-eintr", test_read_exact_retries_eintr);
	tu_add_per_provider("/fdio/write/gone-reader-is-epipe-not-sigpipe",
			    test_gone_reader_is_epipe_not_sigpipe);
	return g_test_run();
}
