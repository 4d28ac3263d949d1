/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Sharing a guest memory with another process: the region table and the
 * regions' fds over an AF_UNIX socket (wire format in <vmmem/share.h>).
 *
 * The receiver never trusts the message: every count and size is checked
 * before it is used, the fds are collected as they arrive and closed on
 * every path, and the mapping itself goes through the mmap provider, which
 * checks each fd's size against its region. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#define MAGIC "VMMEMSHR"
#define HEADER_SIZE 24
#define RECORD_SIZE 40
/* SCM_MAX_FD in Linux: more fds in one sendmsg() is EINVAL. */
#define FDS_PER_MSG 253

static void
put_u16(uint8_t *p, uint16_t v)
{
	v = GUINT16_TO_LE(v);
	memcpy(p, &v, sizeof(v));
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	v = GUINT32_TO_LE(v);
	memcpy(p, &v, sizeof(v));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	v = GUINT64_TO_LE(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t
get_u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return GUINT16_FROM_LE(v);
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return GUINT32_FROM_LE(v);
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return GUINT64_FROM_LE(v);
}

/* Refuses anything but a connected-style AF_UNIX stream socket: fds only
 * travel over AF_UNIX, and the format relies on a byte stream. */
static bool
check_socket(int sock, GError **error)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
		int e = errno;
		vmmem__error_errno(error, e == ENOTSOCK ? VMMEM_ERROR_UNSUPPORTED : VMMEM_ERROR_IO,
				   e, "fd %d is not a usable socket: %s", sock, g_strerror(e));
		return false;
	}
	len = sizeof(domain);
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX ||
	    type != SOCK_STREAM) {
		vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
			     "socket fd %d is not an AF_UNIX SOCK_STREAM socket (domain %d, type "
			     "%d): memory is shared as fds, which only AF_UNIX carries",
			     sock, domain, type);
		return false;
	}
	return true;
}

/* Waits until `sock` is ready for `events` (for non-blocking sockets). */
static bool
wait_ready(int sock, short events, const char *what, GError **error)
{
	struct pollfd p = { .fd = sock, .events = events };

	while (poll(&p, 1, -1) < 0) {
		if (errno != EINTR) {
			int e = errno;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e, "poll on socket fd %d while %s: %s",
					   sock, what, g_strerror(e));
			return false;
		}
	}
	return true;
}

/* Sends all `len` bytes, with `n_fds` fds attached to the first byte. A
 * short sendmsg() has already passed the fds, so the rest goes without. */
static bool
send_batch(int sock, const uint8_t *data, size_t len, const int *fds, size_t n_fds,
	   GError **error)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDS_PER_MSG)];
	} ctl;
	size_t sent = 0;

	while (sent < len) {
		struct iovec iov = { (void *)(data + sent), len - sent };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t r;

		if (sent == 0 && n_fds > 0) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			msg.msg_control = ctl.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
		}
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			if ((e == EAGAIN || e == EWOULDBLOCK) &&
			    wait_ready(sock, POLLOUT, "sending guest memory", error))
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return false;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e,
					   "sending guest memory on socket fd %d: %s", sock,
					   g_strerror(e));
			return false;
		}
		sent += (size_t)r;
	}
	return true;
}

bool
vmmem_memory_send(const vmmem_memory_t *mem, int sock, GError **error)
{
	GByteArray *buf;
	size_t *rec_off;
	int fds[FDS_PER_MSG];
	bool ok = true;

	g_return_val_if_fail(mem != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	/* Everything that can be refused is refused before a byte is sent. */
	for (size_t i = 0; i < mem->n; i++) {
		const struct vmmem_region *r = mem->regions[i];

		if (vmmem_region_fd(r) < 0) {
			vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
				     "region '%s' (provider '%s') cannot be shared: it has no fd "
				     "(private anonymous memory); use the memfd provider",
				     r->name, r->module->desc->name);
			return false;
		}
		if (!(r->mapping.flags & VMMEM_REGION_SHARED)) {
			vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
				     "region '%s' (provider '%s') cannot be shared: it is a private "
				     "(copy-on-write) mapping of its fd, so the peer would not see "
				     "its writes; set shared = yes",
				     r->name, r->module->desc->name);
			return false;
		}
		if (r->name[0] == '\0') {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "the region at guest address 0x%" PRIx64 " cannot be shared: its "
				     "name is empty, and the wire format needs one",
				     r->start);
			return false;
		}
		if (strlen(r->name) > VMMEM_SHARE_MAX_NAME) {
			vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
				     "region '%.40s...' cannot be shared: its name is %zu bytes, more "
				     "than the %d the wire format carries",
				     r->name, strlen(r->name), VMMEM_SHARE_MAX_NAME);
			return false;
		}
	}
	if (mem->n > VMMEM_SHARE_MAX_REGIONS) {
		vmmem__error(error, VMMEM_ERROR_UNSUPPORTED,
			     "%zu regions cannot be shared: the receiver accepts at most %d",
			     mem->n, VMMEM_SHARE_MAX_REGIONS);
		return false;
	}
	if (!check_socket(sock, error))
		return false;

	if (!(rec_off = vmmem__malloc_n(mem->n + 1, sizeof(*rec_off))))
		return vmmem__nomem(error, "the record offsets of a message");
	buf = g_byte_array_new();
	g_byte_array_set_size(buf, HEADER_SIZE);
	memset(buf->data, 0, HEADER_SIZE);
	memcpy(buf->data, MAGIC, 8);
	put_u16(buf->data + 8, VMMEM_SHARE_VERSION);
	put_u16(buf->data + 10, HEADER_SIZE);
	put_u32(buf->data + 12, (uint32_t)mem->n);
	put_u32(buf->data + 16, RECORD_SIZE);
	for (size_t i = 0; i < mem->n; i++) {
		const struct vmmem_region *r = mem->regions[i];
		size_t name_len = strlen(r->name), off = buf->len;
		uint8_t *p;

		rec_off[i] = off;
		g_byte_array_set_size(buf, (guint)(off + RECORD_SIZE + name_len));
		p = buf->data + off;
		put_u64(p, r->start);
		put_u64(p + 8, r->size);
		put_u64(p + 16, r->mapping.fd_offset);
		put_u64(p + 24, r->mapping.page_size);
		put_u32(p + 32, r->mapping.flags);
		put_u16(p + 36, (uint16_t)name_len);
		put_u16(p + 38, 0);
		memcpy(p + RECORD_SIZE, r->name, name_len);
	}
	rec_off[mem->n] = buf->len;

	for (size_t first = 0; ok && first < mem->n; first += FDS_PER_MSG) {
		size_t last = MIN(first + FDS_PER_MSG, mem->n);
		size_t from = first == 0 ? 0 : rec_off[first];

		for (size_t i = first; i < last; i++)
			fds[i - first] = mem->regions[i]->mapping.fd;
		ok = send_batch(sock, buf->data + from, rec_off[last] - from, fds, last - first,
				error);
	}
	g_free(rec_off);
	g_byte_array_unref(buf);
	return ok;
}

/* ---- receiving ---- */

typedef struct {
	int sock;
	GArray *fds;      /* every fd received so far, in order */
	size_t max_fds;   /* more than this is a protocol error */
	gint64 deadline;  /* g_get_monotonic_time() by which all must be in; -1: none */
	int timeout_ms;   /* what the caller gave, for the message */
} receiver_t;

/* Waits until `sock` is readable or the whole message's deadline passes.
 * The deadline is for the message, not per read: a sender that trickles
 * one byte per interval must not keep us forever either. */
static bool
wait_readable(receiver_t *rx, size_t got, size_t len, const char *what, GError **error)
{
	struct pollfd p = { .fd = rx->sock, .events = POLLIN };

	for (;;) {
		int left_ms = -1, r;

		if (rx->deadline >= 0) {
			gint64 left_us = rx->deadline - g_get_monotonic_time();

			left_ms = left_us <= 0 ? 0 : (int)MIN((left_us + 999) / 1000, G_MAXINT);
		}
		r = poll(&p, 1, left_ms);

		if (r > 0)
			return true;
		if (r == 0) {
			vmmem__error_errno(error, VMMEM_ERROR_IO, ETIMEDOUT,
					   "receiving guest memory on socket fd %d: timed out after "
					   "%d ms with %zu of %zu bytes of %s received (the sender "
					   "stalled)",
					   rx->sock, rx->timeout_ms, got, len, what);
			return false;
		}
		if (errno != EINTR) {
			int e = errno;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e,
					   "poll on socket fd %d while receiving guest memory: %s",
					   rx->sock, g_strerror(e));
			return false;
		}
	}
}

static void
take_fds(receiver_t *rx, struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			g_array_append_val(rx->fds, fd);
		}
	}
}

/* This process's fd limit, for messages; 0 if unknown or unlimited. */
static unsigned long long
fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return (unsigned long long)rl.rlim_cur;
}

/* The kernel sets MSG_CTRUNC both for a sender that put more fds in one
 * message than the format allows and for a receiver that could not
 * install them all (EMFILE). If not even one more fd can be opened now,
 * it was the latter, and the message says so. */
static void
truncated_fds_error(receiver_t *rx, const char *what, GError **error)
{
	int probe = fcntl(rx->sock, F_DUPFD_CLOEXEC, 0);

	if (probe < 0 && (errno == EMFILE || errno == ENFILE)) {
		int e = errno;

		vmmem__error_errno(error, VMMEM_ERROR_IO, e,
				   "receiving guest memory on socket fd %d (%s): this process ran "
				   "out of fds (%s; RLIMIT_NOFILE is %llu) after receiving %u, "
				   "and the kernel dropped the rest (the message carries one fd "
				   "per region)",
				   rx->sock, what, g_strerror(e), fd_limit(), rx->fds->len);
		return;
	}
	if (probe >= 0)
		close(probe);
	vmmem__error(error, VMMEM_ERROR_PROTOCOL,
		     "received guest memory (%s): the peer sent more fds in one message than "
		     "the %d the format allows; some were dropped",
		     what, FDS_PER_MSG);
}

/* Reads exactly `len` bytes, keeping any fds that come with them. */
static bool
receive_exact(receiver_t *rx, void *data, size_t len, const char *what, GError **error)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDS_PER_MSG)];
	} ctl;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (uint8_t *)data + got, len - got };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				      .msg_controllen = sizeof(ctl.buf) };
		ssize_t r;

		/* With a deadline, never block in recvmsg(): poll first, then
		 * read only what is there. */
		if (rx->deadline >= 0 && !wait_readable(rx, got, len, what, error))
			return false;
		r = recvmsg(rx->sock, &msg,
			    MSG_CMSG_CLOEXEC | (rx->deadline >= 0 ? MSG_DONTWAIT : 0));
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			if ((e == EAGAIN || e == EWOULDBLOCK) &&
			    wait_readable(rx, got, len, what, error))
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return false;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e,
					   "receiving guest memory on socket fd %d (%s): %s",
					   rx->sock, what, g_strerror(e));
			return false;
		}
		take_fds(rx, &msg);
		if (msg.msg_flags & MSG_CTRUNC) {
			truncated_fds_error(rx, what, error);
			return false;
		}
		if (rx->fds->len > rx->max_fds) {
			vmmem__error(error, VMMEM_ERROR_PROTOCOL,
				     "received guest memory (%s): %u fds for %zu regions", what,
				     rx->fds->len, rx->max_fds);
			return false;
		}
		if (r == 0) {
			vmmem__error(error, VMMEM_ERROR_SHORT_TRANSFER,
				     "receiving guest memory: the peer closed socket fd %d after %zu "
				     "of %zu bytes of %s",
				     rx->sock, got, len, what);
			return false;
		}
		got += (size_t)r;
	}
	return true;
}

typedef struct {
	uint64_t start, size, fd_offset, page_size;
	uint32_t flags;
	char *name;
} record_t;

static bool
check_header(const uint8_t *h, uint32_t *n, GError **error)
{
	if (memcmp(h, MAGIC, 8) != 0) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received data is not a vmmem guest memory message (bad magic)");
		return false;
	}
	if (get_u16(h + 8) != VMMEM_SHARE_VERSION) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory message has version %u; this library reads "
			     "version %d",
			     get_u16(h + 8), VMMEM_SHARE_VERSION);
		return false;
	}
	if (get_u16(h + 10) != HEADER_SIZE || get_u32(h + 16) != RECORD_SIZE ||
	    get_u32(h + 20) != 0) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory message has header size %u and record size "
			     "%u (expected %d and %d) or a non-zero reserved field",
			     get_u16(h + 10), get_u32(h + 16), HEADER_SIZE, RECORD_SIZE);
		return false;
	}
	*n = get_u32(h + 12);
	if (*n == 0 || *n > VMMEM_SHARE_MAX_REGIONS) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory message announces %u regions (allowed: 1 to "
			     "%d)",
			     *n, VMMEM_SHARE_MAX_REGIONS);
		return false;
	}
	return true;
}

static bool
receive_record(receiver_t *rx, uint32_t i, record_t *rec, GError **error)
{
	uint8_t p[RECORD_SIZE];
	char what[64];
	uint16_t name_len;

	snprintf(what, sizeof(what), "record %u", i);
	if (!receive_exact(rx, p, sizeof(p), what, error))
		return false;
	rec->start = get_u64(p);
	rec->size = get_u64(p + 8);
	rec->fd_offset = get_u64(p + 16);
	rec->page_size = get_u64(p + 24);
	rec->flags = get_u32(p + 32);
	name_len = get_u16(p + 36);
	if (name_len == 0 || name_len > VMMEM_SHARE_MAX_NAME || get_u16(p + 38) != 0) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory, record %u: name length %u (allowed: 1 to "
			     "%d) or a non-zero reserved field",
			     i, name_len, VMMEM_SHARE_MAX_NAME);
		return false;
	}
	if (!(rec->name = vmmem__malloc(name_len + 1u)))
		return vmmem__nomem(error, "a received region name");
	rec->name[name_len] = '\0';
	snprintf(what, sizeof(what), "the name of record %u", i);
	if (!receive_exact(rx, rec->name, name_len, what, error))
		return false;
	if (memchr(rec->name, '\0', name_len)) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory, record %u: the name contains a NUL byte", i);
		return false;
	}
	if (rec->size == 0 || rec->page_size < 4096 || (rec->page_size & (rec->page_size - 1)) ||
	    (rec->flags & (VMMEM_REGION_FD | VMMEM_REGION_SHARED)) !=
		    (VMMEM_REGION_FD | VMMEM_REGION_SHARED)) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory, region '%s' (record %u): size 0x%" PRIx64
			     ", page size 0x%" PRIx64 ", flags 0x%x: needs a non-zero size, a "
			     "power-of-two page size of at least 4096 and the FD and SHARED "
			     "flags",
			     rec->name, i, rec->size, rec->page_size, rec->flags);
		return false;
	}
	return true;
}

/* True if `fd` is a memfd. F_GET_SEALS alone cannot tell: the kernel
 * answers it for every tmpfs and hugetlbfs file too (with F_SEAL_SEAL for
 * a file that was never allowed seals), so the name the kernel gives the
 * open file decides: a memfd's is "/memfd:NAME (deleted)". Without /proc
 * every fd that answers F_GET_SEALS is taken for a memfd, which refuses
 * too much rather than too little. */
static bool
is_memfd(int fd)
{
	char link[32], target[16];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target));
	if (len < 0)
		return fcntl(fd, F_GET_SEALS) >= 0;
	return (size_t)len >= strlen("/memfd:") && memcmp(target, "/memfd:", strlen("/memfd:")) == 0;
}

/* What a region's fd may be. A peer that can shrink a shared file can
 * make every access of ours to the lost pages raise SIGBUS, and so can an
 * fd whose mapping has no pages where the region says there are:
 *  - a memfd can be sealed against shrinking, so an unsealed one is
 *    refused; other files (tmpfs and hugetlbfs files, regular files)
 *    cannot be sealed by their owner and are accepted, as every
 *    vhost-user backend does, and share.h says so (their size is checked
 *    against the region by the mmap provider);
 *  - /dev/zero maps fresh zero memory of this process, not the sender's,
 *    and at a non-zero offset only pages past its end (SIGBUS on the
 *    first touch): refused at any offset;
 *  - another character device (device DAX) has no size we can check, so
 *    it is accepted only at offset 0;
 *  - anything else (a pipe, a socket, a directory, a block device) is not
 *    guest memory. */
static bool
check_fds(const record_t *recs, uint32_t n, const int *fds, GError **error)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *why = NULL;
		struct stat st;
		int seals;

		if (fstat(fds[i], &st) != 0) {
			int e = errno;
			vmmem__error_errno(error, VMMEM_ERROR_IO, e,
					   "received guest memory, region '%s' (record %u): fstat of "
					   "fd %d: %s",
					   recs[i].name, i, fds[i], g_strerror(e));
			return false;
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5))
			why = "is /dev/zero, which maps zero memory of this process, not the "
			      "sender's (and at an offset, pages that fault)";
		else if (S_ISCHR(st.st_mode) && recs[i].fd_offset != 0)
			why = "is a character device mapped at a non-zero offset, whose size "
			      "cannot be checked";
		else if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
			why = "is not a regular file or a character device";
		else if (S_ISREG(st.st_mode) && is_memfd(fds[i]) &&
			 ((seals = fcntl(fds[i], F_GET_SEALS)) < 0 || !(seals & F_SEAL_SHRINK)))
			why = "is a memfd not sealed against shrinking (F_SEAL_SHRINK), so the "
			      "sender could truncate it under this process";
		if (why) {
			vmmem__error(error, VMMEM_ERROR_PROTOCOL,
				     "received guest memory, region '%s' (record %u, fd %d, mode 0%o, "
				     "offset 0x%" PRIx64 "): its fd %s",
				     recs[i].name, i, fds[i], (unsigned)st.st_mode, recs[i].fd_offset,
				     why);
			return false;
		}
	}
	return true;
}

/* A region's mapping holds its own duplicate of the received fd (the mmap
 * provider dups it: it keeps the fd for sending the memory on), so the
 * received one goes as soon as the region exists. Holding every received
 * fd until all regions were built cost two fds per region at the peak. */
static void
close_received_fd(size_t i, void *data)
{
	int *fds = data;

	close(fds[i]);
	fds[i] = -1;
}

/* Maps the received regions through the mmap provider and checks that
 * each fd is backed by the page size the sender reported. Each fds[i] is
 * closed (and set to -1) once its region is created. */
static vmmem_memory_t *
build_memory(const record_t *recs, uint32_t n, int *fds, uint32_t spec_flags, GError **error)
{
	vmmem_region_spec_t *specs = vmmem__calloc(n, sizeof(*specs));
	struct vmmem_provider_option *opts = vmmem__calloc(5 * (size_t)n, sizeof(*opts));
	/* Each region's fd and offset as option values, side by side. */
	char (*strings)[2][24] = vmmem__malloc_n(n, sizeof(*strings));
	GError *local = NULL;
	vmmem_memory_t *mem = NULL;

	if (!specs || !opts || !strings) {
		vmmem__nomem(error, "the specs of the received regions");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vmmem_provider_option *o = &opts[5 * (size_t)i];
		char *fd = strings[i][0], *off = strings[i][1];

		snprintf(fd, sizeof(strings[i][0]), "%d", fds[i]);
		snprintf(off, sizeof(strings[i][1]), "%" PRIu64, recs[i].fd_offset);
		o[0] = (struct vmmem_provider_option){ "fd", fd };
		o[1] = (struct vmmem_provider_option){ "offset", off };
		o[2] = (struct vmmem_provider_option){ "shared", "yes" };
		/* Huge pages: reserve now, so a short pool fails here rather
		 * than as a SIGBUS at first touch. */
		o[3] = (struct vmmem_provider_option){ "reserve", "yes" };
		/* The sender's memory: allocating it here would commit all of
		 * it in this process too; check_fds() is the guard instead. */
		o[4] = (struct vmmem_provider_option){ "allocate", "no" };
		specs[i].name = recs[i].name;
		specs[i].start = vmmem_guest_addr(recs[i].start);
		specs[i].size = recs[i].size;
		specs[i].provider = "mmap";
		specs[i].options = o;
		specs[i].n_options = 5;
		specs[i].flags = spec_flags;
	}
	mem = vmmem__memory_new_each(specs, n, close_received_fd, fds, &local);
	if (!mem && vmmem_error_get_errno(local) == EMFILE)
		g_prefix_error(&local, "building the received guest memory: this process ran out "
			       "of fds (RLIMIT_NOFILE is %llu; each of the %u regions keeps one "
			       "fd of its own, which replaces its received one, so a receive "
			       "needs about one free fd per region): ",
			       fd_limit(), n);
	else if (!mem)
		g_prefix_error(&local, "building the received guest memory: ");
	if (!mem)
		g_propagate_error(error, local);
	for (uint32_t i = 0; mem && i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_find_region(mem, vmmem_guest_addr(recs[i].start));

		if (vmmem_region_page_size(r) != recs[i].page_size) {
			vmmem__error(error, VMMEM_ERROR_PROTOCOL,
				     "received guest memory, region '%s': the sender reported "
				     "page size 0x%" PRIx64 ", but its fd is backed by 0x%" PRIx64
				     " pages",
				     recs[i].name, recs[i].page_size, vmmem_region_page_size(r));
			vmmem_memory_unref(mem);
			mem = NULL;
		}
	}
out:
	g_free(strings);
	g_free(opts);
	g_free(specs);
	return mem;
}

vmmem_memory_t *
vmmem_memory_receive(int sock, GError **error)
{
	return vmmem_memory_receive_timeout(sock, -1, error);
}

vmmem_memory_t *
vmmem_memory_receive_timeout(int sock, int timeout_ms, GError **error)
{
	return vmmem_memory_receive_full(sock, timeout_ms, 0, error);
}

vmmem_memory_t *
vmmem_memory_receive_full(int sock, int timeout_ms, uint32_t flags, GError **error)
{
	receiver_t rx = { .sock = sock, .max_fds = VMMEM_SHARE_MAX_REGIONS,
			  .deadline = timeout_ms < 0 ? -1
						  : g_get_monotonic_time() + (gint64)timeout_ms * 1000,
			  .timeout_ms = timeout_ms };
	uint8_t header[HEADER_SIZE];
	record_t *recs = NULL;
	uint32_t n = 0, got = 0;
	vmmem_memory_t *mem = NULL;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	if (flags & ~(uint32_t)VMMEM_RECEIVE_READ_ONLY) {
		vmmem__error(error, VMMEM_ERROR_INVALID_ARGUMENT,
			     "receiving guest memory on socket %d: unknown flags 0x%x", sock,
			     flags & ~(uint32_t)VMMEM_RECEIVE_READ_ONLY);
		return NULL;
	}
	if (!check_socket(sock, error))
		return NULL;
	rx.fds = g_array_new(FALSE, FALSE, sizeof(int));
	if (!receive_exact(&rx, header, sizeof(header), "the header", error) ||
	    !check_header(header, &n, error))
		goto out;
	rx.max_fds = n;
	if (!(recs = vmmem__calloc(n, sizeof(*recs)))) {
		vmmem__nomem(error, "the received records");
		goto out;
	}
	for (; got < n; got++)
		if (!receive_record(&rx, got, &recs[got], error)) {
			got++; /* its name may need freeing */
			goto out;
		}
	if (rx.fds->len != n) {
		vmmem__error(error, VMMEM_ERROR_PROTOCOL,
			     "received guest memory: %u regions but %u fds (one per region "
			     "expected)",
			     n, rx.fds->len);
		goto out;
	}
	if (check_fds(recs, n, (const int *)(void *)rx.fds->data, error))
		mem = build_memory(recs, n, (int *)(void *)rx.fds->data,
				   (flags & VMMEM_RECEIVE_READ_ONLY) ? VMMEM_SPEC_READ_ONLY : 0,
				   error);

out:
	for (guint i = 0; i < rx.fds->len; i++)
		if (g_array_index(rx.fds, int, i) >= 0)
			close(g_array_index(rx.fds, int, i));
	g_array_unref(rx.fds);
	for (uint32_t i = 0; i < got; i++)
		g_free(recs[i].name);
	g_free(recs);
	return mem;
}
