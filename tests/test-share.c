/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Sharing guest memory with another process over an AF_UNIX socket. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "fdcount.h"
#include "hugetest.h"
#include "isolate.h"

static int
ioctl_fionread(int fd, int *avail)
{
	return ioctl(fd, FIONREAD, avail);
}

static vmmem_memory_t *
two_memfd_regions(GError **error)
{
	vmmem_region_spec_t specs[2] = {
		{ .name = "low", .start = vmmem_guest_addr(0), .size = MiB(1), .provider = "memfd" },
		{ .name = "high", .start = vmmem_guest_addr(GiB(4)), .size = MiB(2),
		  .provider = "memfd" },
	};

	return vmmem_memory_new(specs, 2, error);
}

/* The child's side: receive, check the parent's bytes, write its own,
 * report by exit status (an assertion in the child aborts it). */
static void
child(int sock, vmmem_memory_t *inherited)
{
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_receive(sock, &error);
	char buf[32] = "";
	char ok = 0;

	/* The parent's mappings came along with fork(); this process uses
	 * only what it received. */
	vmmem_memory_unref(inherited);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 2);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(mem, 1)), ==, "high");
	g_assert_cmpstr(vmmem_region_provider_name(vmmem_memory_region(mem, 1)), ==, "mmap");
	g_assert_true(vmmem_memory_read_slice(mem, vmmem_guest_addr(0x1000), buf, 11, &error));
	g_assert_cmpstr(buf, ==, "from parent");
	g_assert_true(vmmem_memory_read_slice(mem, vmmem_guest_addr(GiB(4) + MiB(2) - 5), buf, 5,
					      &error));
	g_assert_cmpmem(buf, 5, "last!", 5);
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(GiB(4) + 0x2000),
					       "from child", 10, &error));
	g_assert_no_error(error);
	vmmem_memory_unref(mem);
	g_assert_cmpint(write(sock, &ok, 1), ==, 1);
	ti_child_exit(0);
}

static void
test_fork_both_directions(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = two_memfd_regions(&error);
	int sv[2], status;
	char buf[16] = "", ack;
	pid_t pid;

	g_assert_no_error(error);
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(0x1000), "from parent", 11,
					       &error));
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(GiB(4) + MiB(2) - 5),
					       "last!", 5, &error));
	g_assert_no_error(error);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], mem);
	}
	close(sv[1]);
	g_assert_true(vmmem_memory_send(mem, sv[0], &error));
	g_assert_no_error(error);
	/* The child acknowledges after its write. */
	g_assert_cmpint(read(sv[0], &ack, 1), ==, 1);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_assert_true(vmmem_memory_read_slice(mem, vmmem_guest_addr(GiB(4) + 0x2000), buf, 10,
					      &error));
	g_assert_no_error(error);
	g_assert_cmpstr(buf, ==, "from child");
	close(sv[0]);
	vmmem_memory_unref(mem);
}

/* Sends and receives in one process (a socketpair holds the whole
 * message), which is enough to see the fds and the table arrive. */
static vmmem_memory_t *
loopback(vmmem_memory_t *mem, GError **error)
{
	int sv[2];
	vmmem_memory_t *got = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	if (vmmem_memory_send(mem, sv[0], error))
		got = vmmem_memory_receive(sv[1], error);
	close(sv[0]);
	close(sv[1]);
	return got;
}

static void
test_many_regions_batch_fds(void)
{
	enum { N = 300 }; /* more than the 253 fds one message can carry */
	vmmem_region_spec_t specs[N];
	char *names[N];
	GError *error = NULL;
	vmmem_memory_t *mem, *got;
	int fds_before;

	for (int i = 0; i < N; i++) {
		names[i] = g_strdup_printf("r%d", i);
		specs[i] = (vmmem_region_spec_t){ .name = names[i],
						  .start = vmmem_guest_addr((uint64_t)i * 0x10000),
						  .size = 0x1000, .provider = "memfd" };
	}
	mem = vmmem_memory_new(specs, N, &error);
	g_assert_no_error(error);
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(299 * 0x10000 + 8), "x", 1,
					       &error));
	fds_before = tfd_count();
	got = loopback(mem, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_memory_num_regions(got), ==, N);
	/* Only the regions' own dups stay open: no received fd leaks. */
	g_assert_cmpint(tfd_count(), ==, fds_before + N);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(got, 299)), ==, "r299");
	{
		char c = 0;
		g_assert_true(vmmem_memory_read_slice(got, vmmem_guest_addr(299 * 0x10000 + 8), &c,
						      1, &error));
		g_assert_cmpint(c, ==, 'x');
	}
	vmmem_memory_unref(got);
	vmmem_memory_unref(mem);
	for (int i = 0; i < N; i++)
		g_free(names[i]);
}

/* Sending `mem` fails with `code`, the message holds s1 and s2, and not a
 * byte reached the peer. */
static void
expect_send_refused(vmmem_memory_t *mem, int code, const char *s1, const char *s2)
{
	GError *error = NULL;
	int sv[2], avail = -1;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_false(vmmem_memory_send(mem, sv[0], &error));
	g_assert_error(error, VMMEM_ERROR, code);
	g_assert_nonnull(strstr(error->message, s1));
	g_assert_nonnull(strstr(error->message, s2));
	g_clear_error(&error);
	g_assert_cmpint(ioctl_fionread(sv[1], &avail), ==, 0);
	g_assert_cmpint(avail, ==, 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_private_anonymous_refused_before_sending(void)
{
	vmmem_region_spec_t specs[2] = {
		{ .name = "shared-ram", .start = vmmem_guest_addr(0), .size = MiB(1),
		  .provider = "memfd" },
		{ .name = "rom", .start = vmmem_guest_addr(MiB(1)), .size = MiB(1),
		  .provider = "mmap" },
	};
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(specs, 2, &error);

	g_assert_no_error(error);
	expect_send_refused(mem, VMMEM_ERROR_UNSUPPORTED, "region 'rom'", "has no fd");
	vmmem_memory_unref(mem);
}

/* The receiver refuses an empty name, so the sender must refuse it first. */
static void
test_empty_name_refused_before_sending(void)
{
	vmmem_region_spec_t spec = { .name = "", .start = vmmem_guest_addr(0), .size = MiB(1),
				     .provider = "memfd" };
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, &error);

	g_assert_no_error(error);
	expect_send_refused(mem, VMMEM_ERROR_INVALID_ARGUMENT, "guest address 0x0", "name is empty");
	vmmem_memory_unref(mem);
}

static void
test_private_file_mapping_refused(void)
{
	GError *error = NULL;
	int fd = memfd_create("private", MFD_CLOEXEC), sv[2];
	char *fdopt = g_strdup_printf("%d", fd);
	struct vmmem_provider_option opts[] = { { "fd", fdopt }, { "shared", "no" } };
	vmmem_region_spec_t spec = { .name = "cow", .start = vmmem_guest_addr(0), .size = MiB(1),
				     .provider = "mmap", .options = opts, .n_options = 2 };
	vmmem_memory_t *mem;

	g_assert_cmpint(ftruncate(fd, MiB(1)), ==, 0);
	mem = vmmem_memory_new(&spec, 1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_false(vmmem_memory_send(mem, sv[0], &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_UNSUPPORTED);
	g_assert_nonnull(strstr(error->message, "region 'cow'"));
	g_assert_nonnull(strstr(error->message, "private"));
	g_clear_error(&error);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	g_free(fdopt);
	vmmem_memory_unref(mem);
}

static void
test_datagram_socket_refused(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = two_memfd_regions(&error);
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_false(vmmem_memory_send(mem, sv[0], &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_UNSUPPORTED);
	g_assert_nonnull(strstr(error->message, "not an AF_UNIX SOCK_STREAM socket"));
	g_clear_error(&error);
	close(sv[0]);
	close(sv[1]);
	vmmem_memory_unref(mem);
}

/* A pipe is no socket: the refusal names the fd and says why. */
static void
test_send_to_pipe_refused_naming_the_fd(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = two_memfd_regions(&error);
	int p[2];
	char *want;

	g_assert_no_error(error);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	want = g_strdup_printf("fd %d is not a usable socket", p[1]);
	g_assert_false(vmmem_memory_send(mem, p[1], &error));
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_UNSUPPORTED);
	g_assert_nonnull(strstr(error->message, want));
	g_assert_cmpint(vmmem_error_get_errno(error), ==, ENOTSOCK);
	g_clear_error(&error);
	g_free(want);
	close(p[0]);
	close(p[1]);
	vmmem_memory_unref(mem);
}

/* The wire format carries names of up to VMMEM_SHARE_MAX_NAME bytes: a
 * longer one is refused before anything is sent, with its length. */
static void
test_name_longer_than_wire_format_refused_before_sending(void)
{
	char *name = g_strnfill(VMMEM_SHARE_MAX_NAME + 1, 'n');
	vmmem_region_spec_t spec = { .name = name, .start = vmmem_guest_addr(0), .size = MiB(1),
				     .provider = "memfd" };
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, &error);
	char *want = g_strdup_printf("its name is %d bytes, more than the %d",
				     VMMEM_SHARE_MAX_NAME + 1, VMMEM_SHARE_MAX_NAME);

	g_assert_no_error(error);
	expect_send_refused(mem, VMMEM_ERROR_INVALID_ARGUMENT, want, "nnnn...");
	vmmem_memory_unref(mem);
	g_free(want);
	g_free(name);
}

/* ---- malformed messages: built by hand, sent with optional fds ---- */

static void
put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header and one record for a region "bad" of `size` bytes. */
static size_t
build_message(uint8_t *buf, uint32_t n_regions, uint64_t size, uint32_t flags)
{
	memset(buf, 0, 24 + 40 + 3);
	memcpy(buf, "VMMEMSHR", 8);
	put_le(buf + 8, 1, 2);
	put_le(buf + 10, 24, 2);
	put_le(buf + 12, n_regions, 4);
	put_le(buf + 16, 40, 4);
	put_le(buf + 24, 0, 8);             /* start */
	put_le(buf + 24 + 8, size, 8);      /* size */
	put_le(buf + 24 + 24, 4096, 8);     /* page size */
	put_le(buf + 24 + 32, flags, 4);
	put_le(buf + 24 + 36, 3, 2);        /* name_len */
	memcpy(buf + 24 + 40, "bad", 3);
	return 24 + 40 + 3;
}

/* Sends `len` bytes (with `fd` attached unless -1), closes the sending
 * end, and returns the receive error; checks that no fd leaked. */
static GError *
receive_malformed(const uint8_t *buf, size_t len, int fd)
{
	GError *error = NULL;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int sv[2], before;
	vmmem_memory_t *mem;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	g_assert_cmpint(sendmsg(sv[0], &msg, 0), ==, (ssize_t)len);
	close(sv[0]);
	before = tfd_count();
	mem = vmmem_memory_receive(sv[1], &error);
	g_assert_null(mem);
	g_assert_nonnull(error);
	g_assert_cmpint(tfd_count(), ==, before);
	close(sv[1]);
	return error;
}

/* A memfd as a well-behaved peer sends it: sealed against shrinking
 * (the receiver refuses one that is not). */
static int
sized_memfd_sealed(uint64_t size, bool seal)
{
	int fd = memfd_create("peer", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	if (seal)
		g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), ==, 0);
	return fd;
}

static int
sized_memfd(uint64_t size)
{
	return sized_memfd_sealed(size, true);
}

static void
test_malformed_bad_magic(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	GError *error;

	buf[0] = 'X';
	error = receive_malformed(buf, len, -1);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "bad magic"));
	g_error_free(error);
}

/* The sizes the header announces must be the ones this library reads. */
static void
test_malformed_header_or_record_size_refused(void)
{
	static const struct {
		int offset, bytes;
		uint64_t value;
	} bad[] = { { 10, 2, 32 }, { 16, 4, 48 }, { 20, 4, 1 } };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint8_t buf[128];
		size_t len = build_message(buf, 1, 0x1000, 5);
		GError *error;

		put_le(buf + bad[i].offset, bad[i].value, bad[i].bytes);
		error = receive_malformed(buf, len, -1);
		g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, "expected 24 and 40"));
		g_error_free(error);
	}
}

static void
test_malformed_empty_name_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = sized_memfd(0x1000);
	GError *error;

	put_le(buf + 24 + 36, 0, 2);
	error = receive_malformed(buf, len - 3, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "record 0: name length 0 (allowed: 1 to 1024)"));
	g_error_free(error);
	close(fd);
}

static void
test_malformed_nul_in_name_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = sized_memfd(0x1000);
	GError *error;

	buf[24 + 41] = '\0';
	error = receive_malformed(buf, len, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "record 0: the name contains a NUL byte"));
	g_error_free(error);
	close(fd);
}

/* A record needs a power-of-two page size of at least 4096 and both the
 * FD and SHARED flags; the refusal names the region and what it got. */
static void
test_malformed_page_size_or_flags_refused(void)
{
	static const struct {
		uint64_t page_size;
		uint32_t flags;
		const char *want;
	} bad[] = {
		{ 2048, 5, "page size 0x800, flags 0x5" },
		{ 12288, 5, "page size 0x3000, flags 0x5" },
		{ 4096, 1, "page size 0x1000, flags 0x1" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		uint8_t buf[128];
		size_t len = build_message(buf, 1, 0x1000, bad[i].flags);
		int fd = sized_memfd(0x1000);
		GError *error;

		put_le(buf + 24 + 24, bad[i].page_size, 8);
		error = receive_malformed(buf, len, fd);
		g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, "region 'bad' (record 0)"));
		g_assert_nonnull(strstr(error->message, bad[i].want));
		g_error_free(error);
		close(fd);
	}
}

static void
test_malformed_truncated(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = sized_memfd(0x1000);
	GError *error = receive_malformed(buf, len - 2, fd);

	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_SHORT_TRANSFER);
	g_assert_nonnull(strstr(error->message, "the name of record 0"));
	g_error_free(error);
	close(fd);
}

static void
test_malformed_missing_fd(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	GError *error = receive_malformed(buf, len, -1);

	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "1 regions but 0 fds"));
	g_error_free(error);
}

static void
test_malformed_zero_and_huge_counts(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 0, 0x1000, 5);
	GError *error = receive_malformed(buf, len, -1);

	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "announces 0 regions"));
	g_clear_error(&error);
	build_message(buf, 0xffffffff, 0x1000, 5);
	error = receive_malformed(buf, len, -1);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "announces 4294967295 regions"));
	g_error_free(error);
}

/* The reviewer's case: a sender that keeps the right to truncate could
 * crash the receiver with SIGBUS, so an unsealed memfd is refused. */
static void
test_unsealed_memfd_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = sized_memfd_sealed(0x1000, false);
	GError *error = receive_malformed(buf, len, fd);

	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "region 'bad'"));
	g_assert_nonnull(strstr(error->message, "F_SEAL_SHRINK"));
	g_error_free(error);
	close(fd);
}

static void
test_malformed_size_past_fd_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, MiB(1), 5); /* the fd has only 4 KiB */
	int fd = sized_memfd(0x1000);
	GError *error = receive_malformed(buf, len, fd);

	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_CREATE);
	g_assert_nonnull(strstr(error->message, "region 'bad'"));
	g_error_free(error);
	close(fd);
}

static void
test_malformed_page_size_mismatch_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, MiB(2), 5);
	int fd = sized_memfd(MiB(2));
	GError *error;

	put_le(buf + 24 + 24, MiB(2), 8); /* claims huge pages; the memfd has 4 KiB */
	error = receive_malformed(buf, len, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "region 'bad'"));
	g_assert_nonnull(strstr(error->message, "page size 0x200000"));
	g_error_free(error);
	close(fd);
}

static void
test_hugetlb_memfd_keeps_page_size(void)
{
	vmmem_region_spec_t spec = { .name = "huge", .start = vmmem_guest_addr(0),
				     .size = MiB(2), .provider = "memfd" };
	struct vmmem_provider_option opts[] = { { "hugetlb", "yes" }, { "page-size", "2M" } };
	GError *error = NULL;
	vmmem_memory_t *mem, *got;
	uint64_t v = 0;

	hugetest_lock();
	if (!hugetest_require(MiB(2), 1))
		return;
	spec.options = opts;
	spec.n_options = 2;
	mem = vmmem_memory_new(&spec, 1, &error);
	g_assert_no_error(error);
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(MiB(2) - 8), 8, 0xfeed,
					 memory_order_relaxed, &error));
	got = loopback(mem, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(got, 0)), ==, MiB(2));
	g_assert_true(vmmem_region_flags(vmmem_memory_region(got, 0)) & VMMEM_REGION_HUGETLB);
	g_assert_true(vmmem_memory_load(got, vmmem_guest_addr(MiB(2) - 8), 8, memory_order_relaxed,
					&v, &error));
	g_assert_cmphex(v, ==, 0xfeed);
	vmmem_memory_unref(got);
	vmmem_memory_unref(mem);
}

/* One region mapped shared from a file created in `dir` (which must
 * exist), sent and received; the receiver sees the sender's bytes. */
static void
share_file_in(const char *dir)
{
	char *path = g_build_filename(dir, "vmmem-share-XXXXXX", NULL);
	int fd = g_mkstemp(path);
	char *fdopt = g_strdup_printf("%d", fd);
	struct vmmem_provider_option opts[] = { { "fd", fdopt }, { "shared", "yes" } };
	vmmem_region_spec_t spec = { .name = "file", .start = vmmem_guest_addr(0), .size = MiB(1),
				     .provider = "mmap", .options = opts, .n_options = 2 };
	GError *error = NULL;
	vmmem_memory_t *mem, *got;
	char buf[8] = "";

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, MiB(1)), ==, 0);
	unlink(path);
	mem = vmmem_memory_new(&spec, 1, &error);
	g_assert_no_error(error);
	g_assert_true(vmmem_memory_write_slice(mem, vmmem_guest_addr(0x100), "shared", 6, &error));
	got = loopback(mem, &error);
	g_assert_no_error(error);
	g_assert_true(vmmem_memory_read_slice(got, vmmem_guest_addr(0x100), buf, 6, &error));
	g_assert_cmpmem(buf, 6, "shared", 6);
	vmmem_memory_unref(got);
	vmmem_memory_unref(mem);
	close(fd);
	g_free(fdopt);
	g_free(path);
}

/* The kernel answers F_GET_SEALS with F_SEAL_SEAL for a tmpfs file that
 * is not a memfd; that is no unsealed memfd and must be accepted. */
static void
test_tmpfs_file_accepted(void)
{
	struct statfs sfs;

	if (statfs("/dev/shm", &sfs) != 0 || sfs.f_type != TMPFS_MAGIC) {
		g_test_skip("/dev/shm is not a tmpfs mount");
		return;
	}
	share_file_in("/dev/shm");
}

static void
test_regular_file_accepted(void)
{
	share_file_in(g_get_tmp_dir());
}

/* The hugetlbfs provider with mount-dir: a hugetlbfs file, which also
 * answers F_GET_SEALS with F_SEAL_SEAL. */
static void
test_hugetlbfs_file_accepted(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem, *got;
	const char *dir;
	char *opt;
	uint64_t v = 0;

	hugetest_lock();
	if (!(dir = hugetest_mount_2m()) || !hugetest_require(MiB(2), 2))
		return;
	opt = g_strdup_printf("mount-dir=%s", dir);
	mem = hugetest_new("hugetlbfs", 0, MiB(2), &error, opt, NULL);
	g_assert_no_error(error);
	g_assert_true(vmmem_memory_store(mem, vmmem_guest_addr(8), 8, 0xbeef, memory_order_relaxed,
					 &error));
	got = loopback(mem, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(got, 0)), ==, MiB(2));
	g_assert_true(vmmem_memory_load(got, vmmem_guest_addr(8), 8, memory_order_relaxed, &v,
					&error));
	g_assert_cmphex(v, ==, 0xbeef);
	vmmem_memory_unref(got);
	vmmem_memory_unref(mem);
	g_free(opt);
}

/* A memfd created without MFD_ALLOW_SEALING reports F_SEAL_SEAL just as a
 * tmpfs file does, but it is a memfd its sender could shrink. */
static void
test_unsealable_memfd_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = memfd_create("peer", MFD_CLOEXEC);
	GError *error;

	g_assert_cmpint(ftruncate(fd, 0x1000), ==, 0);
	error = receive_malformed(buf, len, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "region 'bad'"));
	g_assert_nonnull(strstr(error->message, "F_SEAL_SHRINK"));
	g_error_free(error);
	close(fd);
}

/* Issue 11, defect 1: /dev/zero at an offset maps only pages past its end,
 * whose first touch was a SIGBUS; at offset 0 it is fresh memory of the
 * receiver, not the sender's. Refused at both, before anything is mapped. */
static void
test_dev_zero_refused(void)
{
	static const uint64_t offsets[] = { 0x1000, 0 };

	for (size_t i = 0; i < G_N_ELEMENTS(offsets); i++) {
		uint8_t buf[128];
		size_t len = build_message(buf, 1, 0x1000, 5);
		int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
		GError *error;

		g_assert_cmpint(fd, >=, 0);
		put_le(buf + 24 + 16, offsets[i], 8);
		error = receive_malformed(buf, len, fd);
		g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
		g_assert_nonnull(strstr(error->message, "region 'bad'"));
		g_assert_nonnull(strstr(error->message, "/dev/zero"));
		g_error_free(error);
		close(fd);
	}
}

/* A character device other than /dev/zero has no size to check the
 * region against: only offset 0 is taken. */
static void
test_char_device_at_offset_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = open("/dev/full", O_RDWR | O_CLOEXEC);
	struct stat st;
	GError *error;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
		g_test_skip("/dev/full is not a character device here");
		if (fd >= 0)
			close(fd);
		return;
	}
	put_le(buf + 24 + 16, 0x2000, 8);
	error = receive_malformed(buf, len, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "character device mapped at a non-zero offset"));
	g_error_free(error);
	close(fd);
}

static void
test_pipe_refused(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int p[2];
	GError *error;

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	error = receive_malformed(buf, len, p[0]);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROTOCOL);
	g_assert_nonnull(strstr(error->message, "not a regular file or a character device"));
	g_error_free(error);
	close(p[0]);
	close(p[1]);
}

/* A regular file (on disk, not sealable) that ends before offset + size
 * is refused when the region is built: mapped, its tail would SIGBUS. */
static void
test_regular_file_shorter_than_region_refused(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "vmmem-share-short.XXXXXX", NULL);
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x2000, 5);
	int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	GError *error;

	g_assert_cmpint(fd, >=, 0);
	unlink(path);
	g_assert_cmpint(ftruncate(fd, 0x2000), ==, 0);
	put_le(buf + 24 + 16, 0x1000, 8); /* [0x1000, 0x3000) of a 0x2000-byte file */
	error = receive_malformed(buf, len, fd);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_PROVIDER_CREATE);
	g_assert_nonnull(strstr(error->message, "region 'bad'"));
	g_error_free(error);
	close(fd);
	g_free(path);
}

/* A sender that stops mid-message (and keeps the socket open) makes the
 * receive with a timeout fail after it, naming what had arrived, with
 * every received fd closed. */
static void
test_stalled_sender_times_out(void)
{
	uint8_t buf[128];
	size_t len = build_message(buf, 1, 0x1000, 5);
	int fd = sized_memfd(0x1000), sv[2], before;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, len - 20 }; /* the header and half the record */
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	GError *error = NULL;
	gint64 t0;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	g_assert_cmpint(sendmsg(sv[0], &msg, 0), ==, (ssize_t)(len - 20));
	before = tfd_count();
	t0 = g_get_monotonic_time();
	g_assert_null(vmmem_memory_receive_timeout(sv[1], 200, &error));
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 200 * 1000);
	g_assert_error(error, VMMEM_ERROR, VMMEM_ERROR_IO);
	g_assert_cmpint(vmmem_error_get_errno(error), ==, ETIMEDOUT);
	g_assert_nonnull(strstr(error->message, "timed out after 200 ms"));
	g_assert_nonnull(strstr(error->message, "record 0"));
	g_assert_nonnull(strstr(error->message, "socket fd"));
	g_clear_error(&error);
	g_assert_cmpint(tfd_count(), ==, before);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/* With a limit the socket is never waited on beyond it, blocking or not;
 * a whole message already there arrives even with a limit of 0. */
static void
test_timeout_receives_whole_message(void)
{
	GError *error = NULL;
	vmmem_memory_t *mem = two_memfd_regions(&error), *got;
	int sv[2];

	g_assert_no_error(error);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(vmmem_memory_send(mem, sv[0], &error));
	got = vmmem_memory_receive_timeout(sv[1], 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(vmmem_memory_num_regions(got), ==, 2);
	vmmem_memory_unref(got);
	/* Nothing more is sent: a limit of 0 returns at once. */
	g_assert_null(vmmem_memory_receive_timeout(sv[1], 0, &error));
	g_assert_cmpint(vmmem_error_get_errno(error), ==, ETIMEDOUT);
	g_assert_nonnull(strstr(error->message, "0 of 24 bytes of the header"));
	g_clear_error(&error);
	close(sv[0]);
	close(sv[1]);
	vmmem_memory_unref(mem);
}

/* The fds this process has open below `limit`, without the directory fd
 * that counts them (valgrind keeps its own above the limit it shows its
 * client). */
static int
fds_below(unsigned long long limit)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	g_assert_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && (int)strtol(e->d_name, NULL, 10) != dirfd(d) &&
		    strtoull(e->d_name, NULL, 10) < limit)
			n++;
	closedir(d);
	return n;
}

/* Receives `mem` in a forked child whose fd limit leaves room for
 * `spare` more fds than it has open, and expects the failure to name the
 * fd limit (EMFILE) and `want` or `or_want`; with `want` NULL, expects
 * the receive to succeed with every region. */
static void
receive_under_fd_limit(vmmem_memory_t *mem, int spare, const char *want, const char *or_want)
{
	GError *error = NULL;
	int sv[2], status = 0;
	pid_t pid;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct rlimit rl;
		char *limit;

		size_t n = vmmem_memory_num_regions(mem);

		close(sv[0]);
		vmmem_memory_unref(mem); /* the parent's fds are not this process's */
		g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
		/* The lowest limit with `spare` free fd numbers below it: an
		 * fd above the limit (the socket, one inherited) takes none. */
		rl.rlim_cur = (rlim_t)spare;
		while (rl.rlim_cur - (rlim_t)fds_below(rl.rlim_cur) < (rlim_t)spare)
			rl.rlim_cur++;
		g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
		limit = g_strdup_printf("RLIMIT_NOFILE is %llu", (unsigned long long)rl.rlim_cur);
		if (!want) {
			vmmem_memory_t *got = vmmem_memory_receive(sv[1], &error);

			g_assert_no_error(error);
			g_assert_cmpuint(vmmem_memory_num_regions(got), ==, n);
			vmmem_memory_unref(got);
			g_free(limit);
			_exit(0);
		}
		g_assert_null(vmmem_memory_receive(sv[1], &error));
		g_assert_error(error, VMMEM_ERROR, error->code);
		g_assert_cmpint(vmmem_error_get_errno(error), ==, EMFILE);
		g_assert_nonnull(strstr(error->message, limit));
		g_assert_true(strstr(error->message, want) || strstr(error->message, or_want));
		g_assert_null(strstr(error->message, "more fds in one message than"));
		g_error_free(error);
		g_free(limit);
		ti_child_exit(0);
	}
	close(sv[1]);
	g_assert_true(vmmem_memory_send(mem, sv[0], &error));
	g_assert_no_error(error);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	close(sv[0]);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* 100 regions into a process that can open 50 more fds: the kernel
 * drops fds (MSG_CTRUNC), and the report is the fd limit, not a sender
 * that broke the format; with room for the fds but not for the regions'
 * own, the build says the same. */
static void
test_fd_limit_reported_as_emfile(void)
{
	enum { N = 100 };
	vmmem_region_spec_t specs[N];
	char *names[N];
	GError *error = NULL;
	vmmem_memory_t *mem;

	for (int i = 0; i < N; i++) {
		names[i] = g_strdup_printf("r%d", i);
		specs[i] = (vmmem_region_spec_t){ .name = names[i],
						  .start = vmmem_guest_addr((uint64_t)i * 0x10000),
						  .size = 0x1000, .provider = "memfd" };
	}
	mem = vmmem_memory_new(specs, N, &error);
	g_assert_no_error(error);
	/* valgrind keeps the kernel's limit for itself and applies ours only
	 * to the calls it wraps: there the fds arrive, and the build runs
	 * short instead. */
	receive_under_fd_limit(mem, N / 2, "the kernel dropped the rest",
			       "building the received guest memory");
	/* Room for the N received fds but not one more: the first region's
	 * own duplicate is refused. */
	receive_under_fd_limit(mem, N, "building the received guest memory",
			       "building the received guest memory");
	vmmem_memory_unref(mem);
	for (int i = 0; i < N; i++)
		g_free(names[i]);
}

/* Each region's own fd replaces its received one as the region is
 * created: N regions are received with N + 1 free fds (it took 2 N when
 * the received fds were held until every region was built). */
static void
test_fd_limit_one_fd_per_region(void)
{
	enum { N = 100 };
	vmmem_region_spec_t specs[N];
	char *names[N];
	GError *error = NULL;
	vmmem_memory_t *mem;

	for (int i = 0; i < N; i++) {
		names[i] = g_strdup_printf("r%d", i);
		specs[i] = (vmmem_region_spec_t){ .name = names[i],
						  .start = vmmem_guest_addr((uint64_t)i * 0x10000),
						  .size = 0x1000, .provider = "memfd" };
	}
	mem = vmmem_memory_new(specs, N, &error);
	g_assert_no_error(error);
	receive_under_fd_limit(mem, N + 1, NULL, NULL);
	vmmem_memory_unref(mem);
	for (int i = 0; i < N; i++)
		g_free(names[i]);
}

int
main(int argc, char **argv)
{
	vmmem_region_spec_t mmap_spec = { .start = vmmem_guest_addr(0), .size = 0x1000,
					  .provider = "mmap" };
	vmmem_memory_t *keep_mmap_loaded;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* A loaded provider holds its file open (see core/loader.c), and
	 * receiving loads mmap: keep it loaded, so that the tests that count
	 * open fds around a receive count only what the receive keeps. */
	keep_mmap_loaded = vmmem_memory_new(&mmap_spec, 1, NULL);
	g_assert_nonnull(keep_mmap_loaded);
	g_test_add_func("/share/fork/parent-writes-child-reads-and-back",
			test_fork_both_directions);
	g_test_add_func("/share/send/many-regions-batch-fds-without-leaks",
			test_many_regions_batch_fds);
	g_test_add_func("/share/send/hugetlb-memfd-keeps-page-size",
			test_hugetlb_memfd_keeps_page_size);
	g_test_add_func("/share/send/private-anonymous-refused-before-sending",
			test_private_anonymous_refused_before_sending);
	g_test_add_func("/share/send/private-file-mapping-refused",
			test_private_file_mapping_refused);
	g_test_add_func("/share/send/datagram-socket-refused", test_datagram_socket_refused);
	g_test_add_func("/share/receive/bad-magic-refused", test_malformed_bad_magic);
	g_test_add_func("/share/receive/truncated-message-refused", test_malformed_truncated);
	g_test_add_func("/share/receive/missing-fd-refused", test_malformed_missing_fd);
	g_test_add_func("/share/receive/zero-and-huge-region-counts-refused",
			test_malformed_zero_and_huge_counts);
	g_test_add_func("/share/send/empty-region-name-refused", test_empty_name_refused_before_sending);
	g_test_add_func("/share/send/pipe-refused-naming-the-fd", test_send_to_pipe_refused_naming_the_fd);
	g_test_add_func("/share/send/name-longer-than-wire-format-refused",
			test_name_longer_than_wire_format_refused_before_sending);
	g_test_add_func("/share/receive/header-or-record-size-mismatch-refused",
			test_malformed_header_or_record_size_refused);
	g_test_add_func("/share/receive/empty-name-refused", test_malformed_empty_name_refused);
	g_test_add_func("/share/receive/nul-in-name-refused", test_malformed_nul_in_name_refused);
	g_test_add_func("/share/receive/page-size-or-flags-refused",
			test_malformed_page_size_or_flags_refused);
	g_test_add_func("/share/receive/unsealed-memfd-refused", test_unsealed_memfd_refused);
	g_test_add_func("/share/receive/size-past-fd-end-refused",
			test_malformed_size_past_fd_refused);
	g_test_add_func("/share/receive/page-size-other-than-fd-refused",
			test_malformed_page_size_mismatch_refused);
	g_test_add_func("/share/receive/tmpfs-file-accepted", test_tmpfs_file_accepted);
	g_test_add_func("/share/receive/regular-file-accepted", test_regular_file_accepted);
	g_test_add_func("/share/receive/hugetlbfs-file-accepted", test_hugetlbfs_file_accepted);
	g_test_add_func("/share/receive/dev-zero-refused-at-any-offset", test_dev_zero_refused);
	g_test_add_func("/share/receive/char-device-at-offset-refused",
			test_char_device_at_offset_refused);
	g_test_add_func("/share/receive/pipe-refused", test_pipe_refused);
	g_test_add_func("/share/receive/regular-file-shorter-than-region-refused",
			test_regular_file_shorter_than_region_refused);
	g_test_add_func("/share/receive/memfd-without-sealing-refused",
			test_unsealable_memfd_refused);
	g_test_add_func("/share/receive/stalled-sender-times-out-without-leaks",
			test_stalled_sender_times_out);
	g_test_add_func("/share/receive/timeout-receives-a-whole-message",
			test_timeout_receives_whole_message);
	g_test_add_func("/share/receive/fd-limit-needs-one-fd-per-region",
			test_fd_limit_one_fd_per_region);
	g_test_add_func("/share/receive/fd-limit-reported-as-emfile-with-the-limit",
			test_fd_limit_reported_as_emfile);
	rc = g_test_run();
	vmmem_memory_unref(keep_mmap_loaded);
	return rc;
}
