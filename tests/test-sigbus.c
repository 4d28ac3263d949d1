/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* A peer that takes pages away under a mapped region (issue 11, defect
 * 1): the access that faults completes on zero pages, the region reports
 * itself lost, and out-of-line accesses fail with REGION_LOST; a SIGBUS
 * anywhere else still goes where it went before. Each case runs in a
 * forked child, which starts without vmmem's handler, so that a crash is
 * one failure and one case cannot install the handler for another. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmmem/vmmem.h>
#include <vmmem/vhost-user.h>

#include "hugetest.h"
#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define KIB(n) ((uint64_t)(n) << 10)
#define SKIP_EXIT 77

/* Runs fn in a forked child: a signal or a failed assertion there fails
 * this case, exit SKIP_EXIT (with the reason on stderr) skips it. */
static void
in_child(void (*fn)(void), int expect_signal)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		fn();
		fflush(NULL);
		ti_child_exit(0);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (expect_signal) {
		g_assert_true(WIFSIGNALED(status));
		g_assert_cmpint(WTERMSIG(status), ==, expect_signal);
		return;
	}
	if (WIFSIGNALED(status))
		g_error("the child was killed by signal %d (%s)", WTERMSIG(status),
			g_strsignal(WTERMSIG(status)));
	g_assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP_EXIT) {
		g_test_skip("skipped in the child (reason above)");
		return;
	}
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static G_GNUC_NORETURN void
child_skip(const char *why)
{
	fprintf(stderr, "# SKIP %s\n", why);
	fflush(NULL);
	ti_child_exit(SKIP_EXIT);
}

/* One region at guest 0 mapped shared from fd at offset (mmap provider). */
static vmmem_memory_t *
mem_from_fd(int fd, uint64_t size, uint64_t offset)
{
	char fds[16], offs[32];
	struct vmmem_provider_option opt[] = {
		{ "fd", fds }, { "offset", offs }, { "shared", "yes" }, { "allocate", "no" }
	};
	vmmem_region_spec_t spec = { .name = "peer", .start = G(0), .size = size,
				     .provider = "mmap", .options = opt, .n_options = 4 };
	GError *err = NULL;
	vmmem_memory_t *m;

	g_snprintf(fds, sizeof(fds), "%d", fd);
	g_snprintf(offs, sizeof(offs), "%" G_GUINT64_FORMAT, offset);
	m = vmmem_memory_new(&spec, 1, &err);
	tu_assert_no_error(err);
	return m;
}

static vmmem_memory_t *
loopback(const vmmem_memory_t *mem)
{
	GError *err = NULL;
	vmmem_memory_t *got;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(vmmem_memory_send(mem, sv[0], &err));
	got = vmmem_memory_receive(sv[1], &err);
	tu_assert_no_error(err);
	close(sv[0]);
	close(sv[1]);
	return got;
}

/* What every lost region must look like: lost, out-of-line accesses
 * refused with REGION_LOST naming it, the inline ones on zero pages. */
static void
assert_lost(const vmmem_memory_t *m, uint64_t addr)
{
	const vmmem_region_t *r = vmmem_memory_find_region(m, G(addr));
	GError *err = NULL;
	uint64_t v = 1;
	uint8_t buf[16];
	size_t n;
	struct iovec iov;

	g_assert_nonnull(r);
	g_assert_true(vmmem_region_lost(r));
	g_assert_true(vmmem_memory_lost(m));
	g_assert_false(vmmem_region_read_obj(r, vmmem_region_addr(addr - vmmem_region_start(r).raw),
					     &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST, "region 'peer'", "was lost");
	g_assert_false(vmmem_memory_read_slice_slow(m, G(addr), buf, sizeof(buf), &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST, "region 'peer'");
	g_assert_false(vmmem_memory_read(m, G(addr), buf, sizeof(buf), &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST);
	g_assert_false(vmmem_memory_load(m, G(addr & ~7ull), 8, memory_order_relaxed, &v, &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST);
	g_assert_false(vmmem_memory_get_iovec(m, G(addr), 8, &iov, 1, &n, &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST);
	/* The inline path is not checked: it reads the zero page. */
	v = 1;
	g_assert_true(vmmem_memory_read_obj(m, G(addr & ~7ull), &v, 8, &err));
	tu_assert_no_error(err);
	g_assert_cmphex(v, ==, 0);
}

static void
fill(int fd, uint64_t size, uint8_t byte)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	g_assert_true(p != MAP_FAILED);
	memset(p, byte, size);
	munmap(p, size);
}

/* ---- the three attacks of issue 11 ---- */

/* /dev/zero at an offset: receive refuses it (test-share.c); mapped
 * directly, the first touch faults and is survived. */
static void
dev_zero_at_offset(void)
{
	int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	vmmem_memory_t *m;
	uint64_t v = 0xfeed;
	GError *err = NULL;

	g_assert_cmpint(fd, >=, 0);
	/* The kernel backs a shared /dev/zero mapping with a shmem file of
	 * the mapping's size: at offset 1 MiB every page is past its end. */
	m = mem_from_fd(fd, KIB(8), MiB(1));
	close(fd);
	g_assert_false(vmmem_memory_lost(m));
	g_assert_true(vmmem_memory_read_obj(m, G(64), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	assert_lost(m, 64);
	/* A write lands in the private zero page and reads back; the other
	 * page faults on its own first touch and is survived too. */
	v = 0x1234;
	g_assert_true(vmmem_memory_write_obj(m, G(128), &v, 8, &err));
	v = 0;
	g_assert_true(vmmem_memory_read_obj(m, G(128), &v, 8, &err));
	g_assert_cmphex(v, ==, 0x1234);
	g_assert_true(vmmem_memory_read_obj(m, G(KIB(4) + 8), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	vmmem_memory_unref(m);
}

static void
test_dev_zero_at_offset(void)
{
	in_child(dev_zero_at_offset, 0);
}

/* A regular file shared and then truncated by its sender. */
static void
regular_file_truncated(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "vmmem-sigbus.XXXXXX", NULL);
	int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	vmmem_memory_t *sender, *got;
	uint64_t v = 0, w = 0x5a5a;
	GError *err = NULL;

	g_assert_cmpint(fd, >=, 0);
	unlink(path);
	g_free(path);
	g_assert_cmpint(ftruncate(fd, (off_t)KIB(64)), ==, 0);
	fill(fd, KIB(64), 0xab);
	sender = mem_from_fd(fd, KIB(64), 0);
	got = loopback(sender);
	g_assert_true(vmmem_memory_read_obj(got, G(KIB(16)), &v, 8, &err));
	g_assert_cmphex(v, ==, 0xababababababababull);
	g_assert_false(vmmem_memory_lost(got));

	g_assert_cmpint(ftruncate(fd, 0), ==, 0); /* the sender's attack */
	g_assert_true(vmmem_memory_read_obj(got, G(KIB(16)), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	assert_lost(got, KIB(16));
	/* Writes to a lost page stay in this process. */
	g_assert_true(vmmem_memory_write_obj(got, G(KIB(16)), &w, 8, &err));
	g_assert_cmpint(ftruncate(fd, (off_t)KIB(64)), ==, 0);
	g_assert_cmpint(pread(fd, &v, 8, (off_t)KIB(16)), ==, 8);
	g_assert_cmphex(v, ==, 0);
	/* The sender's own memory is not lost: nothing touched it. */
	g_assert_false(vmmem_memory_lost(sender));
	vmmem_memory_unref(got);
	vmmem_memory_unref(sender);
	close(fd);
}

static void
test_regular_file_truncated(void)
{
	in_child(regular_file_truncated, 0);
}

static uint64_t
sysfs_2m(const char *file)
{
	char *path = g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-2048kB/%s", file);
	gchar *text = NULL;
	uint64_t v = 0;

	if (g_file_get_contents(path, &text, NULL, NULL))
		v = g_ascii_strtoull(text, NULL, 10);
	g_free(text);
	g_free(path);
	return v;
}

/* A hugetlb memfd sealed SHRINK|GROW|SEAL: F_SEAL_SHRINK does not stop
 * fallocate(PUNCH_HOLE), and with the pool drained the next touch of the
 * hole has no page. */
static void
hugetlb_hole_punched(void)
{
	int fd = memfd_create("huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
	vmmem_memory_t *sender, *got;
	uint64_t v = 0, avail;
	GError *err = NULL;
	void *drain = MAP_FAILED;

	if (fd < 0 || ftruncate(fd, (off_t)MiB(4)) != 0)
		child_skip("no hugetlb memfd of 4 MiB");
	fill(fd, MiB(4), 0xcd);
	g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), ==, 0);
	sender = mem_from_fd(fd, MiB(4), 0);
	got = loopback(sender);
	g_assert_cmpuint(vmmem_region_page_size(vmmem_memory_region(got, 0)), ==, MiB(2));
	g_assert_true(vmmem_memory_read_obj(got, G(MiB(2) + 8), &v, 8, &err));
	g_assert_cmphex(v, ==, 0xcdcdcdcdcdcdcdcdull);

	g_assert_cmpint(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)MiB(2),
				  (off_t)MiB(2)),
			==, 0);
	avail = sysfs_2m("free_hugepages") - sysfs_2m("resv_hugepages");
	if (avail) {
		drain = mmap(NULL, avail * MiB(2), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
		if (drain == MAP_FAILED)
			child_skip("cannot drain the 2 MiB huge page pool");
	}
	if (sysfs_2m("free_hugepages") - sysfs_2m("resv_hugepages") != 0)
		child_skip("the 2 MiB pool could not be drained (pages freed meanwhile)");

	v = 1;
	g_assert_true(vmmem_memory_read_obj(got, G(MiB(2) + 8), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	assert_lost(got, MiB(2) + 8);
	/* The first huge page was not punched: still the shared data. */
	g_assert_true(vmmem_memory_read_obj(got, G(8), &v, 8, &err));
	g_assert_cmphex(v, ==, 0xcdcdcdcdcdcdcdcdull);
	if (drain != MAP_FAILED)
		munmap(drain, avail * MiB(2));
	vmmem_memory_unref(got);
	vmmem_memory_unref(sender);
	close(fd);
}

static void
test_hugetlb_hole_punched(void)
{
	/* The pool is machine-wide: hold the huge-page test lock while the
	 * child drains it, so that no other test starves. */
	hugetest_lock();
	if (!hugetest_require(MiB(2), 2))
		return;
	in_child(hugetlb_hole_punched, 0);
}

/* ---- the vhost-user path ---- */

static void
vhost_frontend_truncates(void)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC), dupfd;
	uint8_t payload[8 + 32] = { 0 };
	vmmem_vhost_mem_region_t reg = { .guest_phys_addr = 0, .memory_size = KIB(64),
					 .userspace_addr = 0x7f0000000000ull, .mmap_offset = 0 };
	vmmem_vhost_mem_t *vm;
	const vmmem_memory_t *snap;
	uint64_t v = 0, len = 8;
	GError *err = NULL;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)KIB(64)), ==, 0);
	fill(fd, KIB(64), 0x11);
	memcpy(payload + 8, &reg, sizeof(reg));
	vm = vmmem_vhost_mem_new(NULL, &err);
	tu_assert_no_error(err);
	dupfd = dup(fd);
	g_assert_true(vmmem_vhost_mem_add_mem_reg(vm, payload, sizeof(payload), &dupfd, 1, &err));
	tu_assert_no_error(err);

	snap = vmmem_space_get(vmmem_vhost_mem_space(vm));
	v = 0;
	g_assert_true(vmmem_memory_read_obj(snap, G(KIB(8)), &v, 8, &err));
	g_assert_cmphex(v, ==, 0x1111111111111111ull);
	g_assert_cmpint(ftruncate(fd, 0), ==, 0); /* the frontend's attack */
	g_assert_true(vmmem_memory_read_obj(snap, G(KIB(8)), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	g_assert_true(vmmem_memory_lost(snap));
	g_assert_nonnull(vmmem_vhost_gpa_to_host(snap, G(KIB(8)), &len));
	g_assert_false(vmmem_memory_read_slice_slow(snap, G(KIB(8)), &v, 8, &err));
	tu_assert_error(&err, VMMEM_ERROR_REGION_LOST, "vhost-user@0x0");
	vmmem_space_put(vmmem_vhost_mem_space(vm), snap);
	/* The backend drops the region; the next one at that slot is fine. */
	g_assert_true(vmmem_vhost_mem_rem_mem_reg(vm, payload, sizeof(payload), NULL, 0, &err));
	g_assert_cmpint(ftruncate(fd, (off_t)KIB(64)), ==, 0);
	dupfd = dup(fd);
	g_assert_true(vmmem_vhost_mem_add_mem_reg(vm, payload, sizeof(payload), &dupfd, 1, &err));
	tu_assert_no_error(err);
	snap = vmmem_space_get(vmmem_vhost_mem_space(vm));
	g_assert_false(vmmem_memory_lost(snap));
	g_assert_true(vmmem_memory_read_slice_slow(snap, G(KIB(8)), &v, 8, &err));
	tu_assert_no_error(err);
	vmmem_space_put(vmmem_vhost_mem_space(vm), snap);
	vmmem_vhost_mem_free(vm);
	close(fd);
}

static void
test_vhost_frontend_truncates(void)
{
	in_child(vhost_frontend_truncates, 0);
}

/* ---- faults that are not ours ---- */

/* A file mapping of our own, not a vmmem region, that faults when read. */
static volatile uint8_t *
faulting_mapping(void)
{
	int fd = memfd_create("not-vmmem", MFD_CLOEXEC);
	void *p;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	g_assert_true(p != MAP_FAILED);
	g_assert_cmpint(ftruncate(fd, 0), ==, 0);
	close(fd);
	return p;
}

static vmmem_memory_t *
guarded_memory(void)
{
	int fd = memfd_create("guarded", MFD_CLOEXEC);
	vmmem_memory_t *m;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
	m = mem_from_fd(fd, 4096, 0);
	close(fd);
	return m;
}

static sigjmp_buf consumer_jmp;
static volatile void *consumer_addr;

static void
consumer_handler(int sig, siginfo_t *info, void *uctx)
{
	(void)sig;
	(void)uctx;
	consumer_addr = info->si_addr;
	siglongjmp(consumer_jmp, 1);
}

static void
previous_handler_called(void)
{
	struct sigaction sa;
	volatile uint8_t *p = faulting_mapping();
	vmmem_memory_t *m;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = consumer_handler;
	sa.sa_flags = SA_SIGINFO;
	g_assert_cmpint(sigaction(SIGBUS, &sa, NULL), ==, 0);
	m = guarded_memory(); /* installs vmmem's handler over ours */
	if (sigsetjmp(consumer_jmp, 1) == 0) {
		(void)p[0];
		g_error("the read of a truncated mapping did not fault");
	}
	g_assert_true(consumer_addr == (void *)p);
	g_assert_false(vmmem_memory_lost(m));
	vmmem_memory_unref(m);
}

static void
test_previous_handler_called(void)
{
	in_child(previous_handler_called, 0);
}

static void
default_still_kills(void)
{
	volatile uint8_t *p = faulting_mapping();
	vmmem_memory_t *m;

	/* The default action, also under AddressSanitizer (whose own SIGBUS
	 * handler would report and exit instead). */
	signal(SIGBUS, SIG_DFL);
	m = guarded_memory();

	(void)p[0];
	vmmem_memory_unref(m);
}

static void
test_default_still_kills(void)
{
	in_child(default_still_kills, SIGBUS);
}

/* Regions come and go: their slots are reused, and a region created
 * after thousands of others is still guarded. */
static void
slots_reused(void)
{
	vmmem_memory_t *m;
	uint64_t v = 1;
	int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	GError *err = NULL;

	for (int i = 0; i < 5000; i++)
		vmmem_memory_unref(guarded_memory());
	m = mem_from_fd(fd, KIB(4), MiB(1));
	close(fd);
	g_assert_true(vmmem_memory_read_obj(m, G(0), &v, 8, &err));
	g_assert_cmphex(v, ==, 0);
	g_assert_true(vmmem_memory_lost(m));
	vmmem_memory_unref(m);
}

static void
test_slots_reused(void)
{
	in_child(slots_reused, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sigbus/dev-zero-at-offset-reads-zero-and-is-lost",
			test_dev_zero_at_offset);
	g_test_add_func("/sigbus/regular-file-truncated-by-sender-after-receive",
			test_regular_file_truncated);
	g_test_add_func("/sigbus/hugetlb-memfd-hole-punched-and-pool-drained",
			test_hugetlb_hole_punched);
	g_test_add_func("/sigbus/vhost-user-frontend-truncates-region",
			test_vhost_frontend_truncates);
	g_test_add_func("/sigbus/fault-elsewhere-goes-to-previous-handler",
			test_previous_handler_called);
	g_test_add_func("/sigbus/fault-elsewhere-still-kills-by-default", test_default_still_kills);
	g_test_add_func("/sigbus/slots-reused-after-5000-regions", test_slots_reused);
	return g_test_run();
}
