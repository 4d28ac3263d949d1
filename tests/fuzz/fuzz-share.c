/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Fuzzer for the share receiver (vmmem_memory_receive, <vmmem/share.h>).
 *
 * The input is what a hostile sender writes: a plan of which real fds to
 * attach (SCM_RIGHTS) at which byte, then the bytes. The pool holds what a
 * peer could pass: memfds sealed against shrinking and not, a memfd too
 * small for its record, /dev/zero, a pipe, an unlinked regular file. The
 * receiver must not crash, must close every fd it was given (the count of
 * /proc/self/fd is the same before and after), must report a failure as a
 * VMMEM_ERROR and, on success, must have read exactly the message and
 * nothing after it (share.h: "self-delimiting").
 *
 * Input: u8 k (k % 9 attachments), k times { u16 at (byte offset into the
 * payload), u8 which (pool index) }, then the payload. Every region of a
 * received memory must read end to end (vmmem_memory_read_slice): what
 * would fault, /dev/zero at an offset, a file shorter than its region, is
 * refused (issue 11, defect 1).
 * FUZZ_VERBOSE=1 in the environment prints each outcome. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "fuzz.h"

#define MAX_ATTACH 8
#define POOL_SIZE 7

static int pool[POOL_SIZE];

static int
pool_memfd(const char *name, size_t size, unsigned seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		fuzz_fail("memfd %s: %s", name, g_strerror(errno));
	if (seals && fcntl(fd, F_ADD_SEALS, seals) != 0)
		fuzz_fail("sealing memfd %s: %s", name, g_strerror(errno));
	return fd;
}

static vmmem_memory_t *keep_mmap_loaded;
static const vmmem_region_spec_t mmap_spec = { .name = "keep-mmap-loaded",
					       .size = 4096, .provider = "mmap" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int p[2];
	char tmpl[] = "/tmp/vmmem-fuzz-share.XXXXXX";

	fuzz_setup_provider_path();
	/* A loaded provider holds its file open, and with VMMEM_NO_DLCLOSE
	 * (the sanitizer and valgrind runs) keeps it open after its last
	 * region: load mmap once here, so that the fd count of an input
	 * counts only what the input leaves open. */
	keep_mmap_loaded = vmmem_memory_new(&mmap_spec, 1, NULL);
	if (!keep_mmap_loaded)
		fuzz_fail("cannot load the mmap provider (VMMEM_PROVIDER_PATH)");
	pool[0] = pool_memfd("sealed", 64 << 10, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	pool[1] = pool_memfd("unsealed", 64 << 10, 0);
	pool[2] = pool_memfd("sealed-small", 4096, F_SEAL_SHRINK);
	pool[3] = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) != 0)
		fuzz_fail("pipe: %s", g_strerror(errno));
	pool[4] = p[0];
	pool[5] = p[1];
	pool[6] = mkostemp(tmpl, O_CLOEXEC);
	if (pool[3] < 0 || pool[6] < 0 || ftruncate(pool[6], 64 << 10) != 0)
		fuzz_fail("cannot open the fd pool: %s", g_strerror(errno));
	unlink(tmpl);
	return 0;
}

void
fuzz_target_cleanup(void)
{
	vmmem_memory_unref(keep_mmap_loaded);
}

typedef struct attach {
	size_t at;
	int fd;
} attach_t;

static int
compare_at(const void *a, const void *b)
{
	const attach_t *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

/* Sends data[from, to) with `fds` on its first byte. */
static void
send_piece(int sock, const uint8_t *data, size_t from, size_t to, const int *fds, size_t n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * MAX_ATTACH)];
	} ctl;
	struct iovec iov = { (void *)(data + from), to - from };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (from == to)
		return;
	if (n_fds) {
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
	while (iov.iov_len > 0) {
		ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fuzz_fail("sendmsg: %s", g_strerror(errno));
		iov.iov_base = (uint8_t *)iov.iov_base + r;
		iov.iov_len -= (size_t)r;
		msg.msg_control = NULL; /* the fds went with the first byte */
		msg.msg_controllen = 0;
	}
}

/* The length of the message at the start of data, if its header and
 * records are all there; 0 if not. */
static size_t
message_length(const uint8_t *data, size_t len)
{
	uint32_t n;
	size_t at = 24;

	if (len < 24)
		return 0;
	memcpy(&n, data + 12, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t name_len;

		if (len < at + 40)
			return 0;
		memcpy(&name_len, data + at + 36, 2);
		at += 40 + name_len;
	}
	return at <= len ? at : 0;
}

/* Every region of `mem` reads end to end. */
static void
read_all(const vmmem_memory_t *mem)
{
	static uint8_t buf[16 << 10];
	GError *err = NULL;

	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		uint64_t start = vmmem_region_start(r).raw, size = vmmem_region_size(r);

		for (uint64_t off = 0; off < size; off += sizeof(buf))
			if (!vmmem_memory_read_slice(mem, vmmem_guest_addr(start + off), buf,
						     (size_t)MIN(size - off, sizeof(buf)), &err))
				fuzz_fail("received region %zu does not read at +0x%" G_GINT64_MODIFIER
					  "x: %s", i, off, err->message);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in_t in = { data, size };
	attach_t att[MAX_ATTACH];
	size_t k = fuzz_u8(&in) % (MAX_ATTACH + 1), sent = 0, a = 0, expect_len;
	const uint8_t *payload;
	size_t len;
	int fds_before, sv[2];
	vmmem_memory_t *mem;
	GError *err = NULL;

	for (size_t i = 0; i < k; i++) {
		att[i].at = fuzz_u16(&in);
		att[i].fd = pool[fuzz_u8(&in) % POOL_SIZE];
	}
	payload = in.p;
	len = in.left;
	for (size_t i = 0; i < k; i++)
		att[i].at = len ? MIN(att[i].at, len - 1) : 0;
	qsort(att, k, sizeof(att[0]), compare_at);

	fds_before = tfd_count();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		fuzz_fail("socketpair: %s", g_strerror(errno));
	/* Everything goes out before the receiver starts: the input is far
	 * smaller than a socket buffer, and the end of the input is the
	 * peer closing its end. */
	while (len > 0 && a < k) {
		size_t at = att[a].at, n = 0;
		int fds[MAX_ATTACH];

		send_piece(sv[1], payload, sent, at, NULL, 0);
		while (a < k && att[a].at == at)
			fds[n++] = att[a++].fd;
		send_piece(sv[1], payload, at, at + 1, fds, n);
		sent = at + 1;
	}
	send_piece(sv[1], payload, sent, len, NULL, 0);
	shutdown(sv[1], SHUT_WR);

	mem = vmmem_memory_receive(sv[0], &err);
	if (mem) {
		uint8_t rest[256];
		size_t left = 0;
		ssize_t r;

		if (err)
			fuzz_fail("a memory and an error: %s", err->message);
		if (vmmem_memory_num_regions(mem) == 0)
			fuzz_fail("a received memory without regions");
		/* Exactly the message was read. */
		expect_len = message_length(payload, len);
		if (expect_len == 0)
			fuzz_fail("a memory from an incomplete message");
		while ((r = recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT)) > 0)
			left += (size_t)r;
		if (left != len - expect_len)
			fuzz_fail("the receiver read %zu bytes, the message has %zu", len - left,
				  expect_len);
		if (g_getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "received %zu regions\n", vmmem_memory_num_regions(mem));
		read_all(mem);
		vmmem_memory_unref(mem);
	} else {
		if (g_getenv("FUZZ_VERBOSE") && err)
			fprintf(stderr, "refused: %s\n", err->message);
		if (!err || err->domain != VMMEM_ERROR || !err->message || !*err->message)
			fuzz_fail("a failed receive without a VMMEM_ERROR");
		g_clear_error(&err);
	}
	close(sv[0]);
	close(sv[1]);
	if (tfd_count() != fds_before)
		fuzz_fail("%d fds open before the receive, %d after", fds_before,
			  tfd_count());
	return 0;
}
