/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Moving bytes between host iovecs (guest memory) and a file descriptor.
 * No bounce buffer: the kernel copies straight into or out of the
 * mappings. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* Drops `n` transferred bytes from the front of the iovec array. */
static void
advance(struct iovec **iov, size_t *n_iov, size_t n)
{
	while (n > 0 && *n_iov > 0) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*n_iov)--;
	}
	/* Skip empty entries so that the next call never passes 0 iovecs
	 * while bytes remain. */
	while (*n_iov > 0 && (*iov)->iov_len == 0) {
		(*iov)++;
		(*n_iov)--;
	}
}

/* A write to a pipe or socket whose reader has gone raises SIGPIPE, whose
 * default action kills the process; a library must report EPIPE instead
 * and leave the process's dispositions alone. So SIGPIPE is blocked in
 * this thread around the write, and one that the write raised (it stays
 * pending, as it is blocked) is taken off again before the mask is
 * restored; one that was already pending stays for the caller. This is
 * what libcurl and OpenSSL do; MSG_NOSIGNAL would only cover sockets. */
typedef struct {
	sigset_t old;
	bool was_pending;
} sigpipe_guard_t;

static void
sigpipe_block(sigpipe_guard_t *g)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

static void
sigpipe_restore(sigpipe_guard_t *g, bool got_epipe)
{
	if (got_epipe && !g->was_pending) {
		sigset_t pipe_set;
		const struct timespec zero = { 0, 0 };

		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

static ssize_t
write_nosigpipe(int fd, const struct iovec *iov, int cnt)
{
	sigpipe_guard_t g;
	ssize_t r;
	int e;

	sigpipe_block(&g);
	r = writev(fd, iov, cnt);
	e = errno;
	sigpipe_restore(&g, r < 0 && e == EPIPE);
	errno = e;
	return r;
}

bool
vmmem__fd_transfer(int fd, struct iovec *iov, size_t n_iov, size_t total, bool to_fd,
		   bool exact, const char *what, size_t *done, GError **error)
{
	size_t moved = 0;

	if (done)
		*done = 0;
	advance(&iov, &n_iov, 0);
	while (moved < total) {
		int cnt = n_iov > IOV_MAX ? IOV_MAX : (int)n_iov;
		ssize_t r = to_fd ? write_nosigpipe(fd, iov, cnt) : readv(fd, iov, cnt);

		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e,
					   "%s fd %d for %s (after 0x%zx of 0x%zx bytes): %s",
					   to_fd ? "writing to" : "reading from", fd, what, moved,
					   total, g_strerror(e));
			if (done)
				*done = moved;
			return false;
		}
		if (r == 0) {
			if (!exact)
				break;
			vmmem__error(error, VMMEM_ERROR_SHORT_TRANSFER,
				     "%s fd %d for %s stopped after 0x%zx of 0x%zx bytes (%s)",
				     to_fd ? "writing to" : "reading from", fd, what, moved, total,
				     to_fd ? "write returned 0" : "end of file");
			if (done)
				*done = moved;
			return false;
		}
		moved += (size_t)r;
		advance(&iov, &n_iov, (size_t)r);
		if (!exact)
			break;
	}
	if (done)
		*done = moved;
	return true;
}
