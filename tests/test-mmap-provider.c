/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The mmap provider: anonymous private and shared memory, a file or an fd
 * mapped at an offset, prefaulting, and refusal of bad options and of
 * files too short for the region. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define OFFSET 0x3000 /* a page-aligned file offset that is not 0 */

static vmmem_memory_t *
one_region(const struct vmmem_provider_option *opts, size_t n, GError **err)
{
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = TU_2M,
				  .provider = "mmap", .options = opts, .n_options = n };

	return vmmem_memory_new(&s, 1, err);
}

static vmmem_memory_t *
sized_region(const struct vmmem_provider_option *opts, size_t n, uint64_t size, GError **err)
{
	vmmem_region_spec_t s = { .name = "ram", .start = { 0 }, .size = size,
				  .provider = "mmap", .options = opts, .n_options = n };

	return vmmem_memory_new(&s, 1, err);
}

/* A child process writes `byte` at guest 0; returns what the parent then
 * sees there. Tells MAP_SHARED from MAP_PRIVATE by effect, not by flags. */
static uint8_t
after_child_writes(vmmem_memory_t *mem, uint8_t byte)
{
	uint8_t b = 0;
	int status = 0;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		bool ok = vmmem_memory_store_u8(mem, G(0), byte, memory_order_seq_cst, NULL);
		ti_child_exit(ok ? 0 : 1);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_assert_true(vmmem_memory_load_u8(mem, G(0), &b, memory_order_seq_cst, NULL));
	return b;
}

static void
test_anonymous_private(void)
{
	GError *err = NULL;
	vmmem_memory_t *mem = one_region(NULL, 0, &err);
	const vmmem_region_t *r;

	g_assert_no_error(err);
	r = vmmem_memory_region(mem, 0);
	g_assert_cmpuint(vmmem_region_flags(r) & (VMMEM_REGION_SHARED | VMMEM_REGION_FD), ==, 0);
	g_assert_cmpint(vmmem_region_fd(r), ==, -1);
	g_assert_cmpuint(vmmem_region_page_size(r), ==, (uint64_t)sysconf(_SC_PAGESIZE));
	g_assert_cmpuint(after_child_writes(mem, 0x5a), ==, 0); /* copy-on-write */
	vmmem_memory_unref(mem);
}

static void
test_anonymous_shared(void)
{
	const struct vmmem_provider_option opts[] = { { "shared", "yes" } };
	GError *err = NULL;
	vmmem_memory_t *mem = one_region(opts, 1, &err);
	const vmmem_region_t *r;

	g_assert_no_error(err);
	r = vmmem_memory_region(mem, 0);
	g_assert_cmpuint(vmmem_region_flags(r) & VMMEM_REGION_SHARED, ==, VMMEM_REGION_SHARED);
	g_assert_cmpuint(vmmem_region_flags(r) & VMMEM_REGION_FD, ==, 0);
	g_assert_cmpuint(after_child_writes(mem, 0x5a), ==, 0x5a);
	vmmem_memory_unref(mem);
}

/* A file of OFFSET + 2M bytes (plus `extra`) in a fresh directory. */
static char *
make_file(char **dir, int64_t extra)
{
	char *path;
	int fd;

	*dir = tu_tmpdir();
	path = g_build_filename(*dir, "guest.img", NULL);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)(OFFSET + TU_2M + extra)), ==, 0);
	close(fd);
	return path;
}

static void
test_file_backed_at_offset(void)
{
	char *dir, *path = make_file(&dir, 0), *off = g_strdup_printf("%d", OFFSET);
	const struct vmmem_provider_option opts[] = { { "path", path }, { "offset", off } };
	GError *err = NULL;
	vmmem_memory_t *mem = one_region(opts, 2, &err);
	const vmmem_region_t *r;
	uint8_t buf[8] = { 0 };
	uint64_t v = 0;
	int fd;

	g_assert_no_error(err);
	r = vmmem_memory_region(mem, 0);
	g_assert_cmpuint(vmmem_region_flags(r) & (VMMEM_REGION_SHARED | VMMEM_REGION_FD), ==,
			 VMMEM_REGION_SHARED | VMMEM_REGION_FD);
	g_assert_cmpint(vmmem_region_fd(r), >=, 0);
	g_assert_cmpuint(vmmem_region_fd_offset(r), ==, OFFSET);

	fd = open(path, O_RDWR | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	/* vmmem -> file */
	g_assert_true(vmmem_memory_write_slice(mem, G(0x100), "vmmem->f", 8, &err));
	g_assert_cmpint(pread(fd, buf, 8, OFFSET + 0x100), ==, 8);
	g_assert_cmpmem(buf, 8, "vmmem->f", 8);
	/* file -> vmmem */
	g_assert_cmpint(pwrite(fd, "f->vmmem", 8, OFFSET + TU_2M - 8), ==, 8);
	g_assert_true(vmmem_memory_read_slice(mem, G(TU_2M - 8), buf, 8, &err));
	g_assert_no_error(err);
	g_assert_cmpmem(buf, 8, "f->vmmem", 8);
	/* The bytes before the offset are not the region's. */
	g_assert_cmpint(pread(fd, &v, 8, 0x100), ==, 8);
	g_assert_cmphex(v, ==, 0);
	close(fd);
	vmmem_memory_unref(mem);
	g_free(off);
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_fd_backed_is_duplicated(void)
{
	char *dir, *path = make_file(&dir, 0), *fdstr, *off = g_strdup_printf("%d", OFFSET);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	GError *err = NULL;
	vmmem_memory_t *mem;
	const vmmem_region_t *r;
	uint8_t buf[4] = { 0 };

	g_assert_cmpint(fd, >=, 0);
	fdstr = g_strdup_printf("%d", fd);
	{
		const struct vmmem_provider_option opts[] = { { "fd", fdstr }, { "offset", off } };
		mem = one_region(opts, 2, &err);
	}
	g_assert_no_error(err);
	r = vmmem_memory_region(mem, 0);
	g_assert_cmpint(vmmem_region_fd(r), >=, 0);
	g_assert_cmpint(vmmem_region_fd(r), !=, fd);
	g_assert_cmpuint(vmmem_region_flags(r) & VMMEM_REGION_FD, ==, VMMEM_REGION_FD);
	g_assert_true(vmmem_memory_write_slice(mem, G(0), "fdio", 4, &err));
	g_assert_no_error(err);
	vmmem_memory_unref(mem);
	/* The caller's fd survives the region. */
	g_assert_cmpint(fcntl(fd, F_GETFD), !=, -1);
	g_assert_cmpint(pread(fd, buf, 4, OFFSET), ==, 4);
	g_assert_cmpmem(buf, 4, "fdio", 4);
	close(fd);
	g_free(fdstr);
	g_free(off);
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_file_too_short_refused(void)
{
	char *dir, *path = make_file(&dir, -1), *off = g_strdup_printf("%d", OFFSET);
	const struct vmmem_provider_option opts[] = { { "path", path }, { "offset", off } };
	GError *err = NULL;

	g_assert_null(one_region(opts, 2, &err));
	tu_assert_error(&err, VMMEM_ERROR_PROVIDER_CREATE, path, "'ram'", "0x200000", "0x3000");
	g_free(off);
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

static void
test_missing_file_refused(void)
{
	const struct vmmem_provider_option opts[] = { { "path", "/nonexistent/guest.img" } };
	GError *err = NULL;

	g_assert_null(one_region(opts, 1, &err));
	tu_assert_error(&err, VMMEM_ERROR_PROVIDER_CREATE, "/nonexistent/guest.img");
}

static void
test_bad_option_values_name_option(void)
{
	char *dir, *path = make_file(&dir, 0);
	const struct {
		struct vmmem_provider_option opt[2];
		size_t n;
		const char *names;
	} cases[] = {
		{ { { "shared", "maybe" } }, 1, "shared" },
		{ { { "prefault", "sometimes" } }, 1, "prefault" },
		{ { { "reserve", "" } }, 1, "reserve" },
		{ { { "fd", "three" } }, 1, "fd" },
		{ { { "fd", "1K" } }, 1, "fd" },   /* a size suffix is no fd number */
		{ { { "fd", "0x3" } }, 1, "fd" },
		{ { { "fd", "-1" } }, 1, "fd" },
		{ { { "allocate", "perhaps" } }, 1, "allocate" },
		{ { { "path", path }, { "offset", "0x123" } }, 2, "offset" },
		{ { { "path", path }, { "offset", "lots" } }, 2, "offset" },
		/* The core's grammar: decimal 10000 (not a page multiple), not
		 * octal 0x1000; and no leading whitespace. */
		{ { { "path", path }, { "offset", "010000" } }, 2, "offset" },
		{ { { "path", path }, { "offset", "\t4096" } }, 2, "offset" },
		{ { { "offset", "0x1000" } }, 1, "offset" },
		{ { { "path", path }, { "fd", "0" } }, 2, "fd" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GError *err = NULL;

		g_assert_null(one_region(cases[i].opt, cases[i].n, &err));
		tu_assert_error(&err, VMMEM_ERROR_PROVIDER_OPTION, cases[i].names, "'ram'");
	}
	g_free(path);
	tu_rmdir(dir);
	g_free(dir);
}

/* A shared file mapping on a file system that cannot back it (tmpfs with
 * size=1M, a 16 MiB sparse file) must fail at creation, not SIGBUS at the
 * first write; allocate = no opts out of that check. */
static void
test_full_file_system_fails_at_creation(void)
{
	char *dir = g_dir_make_tmp("vmmem-tmpfs-XXXXXX", NULL), *path;
	struct vmmem_provider_option opts[2] = { { "path", NULL }, { "allocate", "no" } };
	GError *err = NULL;
	vmmem_memory_t *mem;
	int fd;

	g_assert_nonnull(dir);
	if (mount("none", dir, "tmpfs", 0, "size=1M") != 0) {
		g_test_skip_printf("cannot mount a small tmpfs (%s): needs root", g_strerror(errno));
		tu_rmdir(dir);
		g_free(dir);
		return;
	}
	path = g_build_filename(dir, "ram", NULL);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, 16 << 20), ==, 0);
	close(fd);
	opts[0].value = path;
	mem = sized_region(opts, 1, 16 << 20, &err);
	g_assert_null(mem);
	tu_assert_error(&err, VMMEM_ERROR_PROVIDER_CREATE, path, "No space left on device",
			"allocate = no");
	/* Opting out maps it (and leaves the risk to the caller: not touched). */
	mem = sized_region(opts, 2, 16 << 20, &err);
	g_assert_no_error(err);
	vmmem_memory_unref(mem);
	g_assert_cmpint(umount(dir), ==, 0);
	tu_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void
test_prefault_populates(void)
{
	const struct vmmem_provider_option opts[] = { { "prefault", "yes" }, { "reserve", "yes" } };
	GError *err = NULL;
	vmmem_memory_t *mem = one_region(opts, 2, &err);
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = TU_2M / (size_t)page;
	unsigned char *vec = g_malloc(pages);
	uint64_t v = 1;

	g_assert_no_error(err);
	/* Every page resident before anything touched it. */
	g_assert_cmpint(mincore(vmmem_region_host(vmmem_memory_region(mem, 0)), TU_2M, vec), ==, 0);
	for (size_t i = 0; i < pages; i++)
		g_assert_cmpuint(vec[i] & 1, ==, 1);
	g_assert_true(vmmem_memory_load_u64(mem, G(TU_2M - 8), &v, memory_order_seq_cst, &err));
	g_assert_cmphex(v, ==, 0);
	g_free(vec);
	vmmem_memory_unref(mem);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mmap-provider/anonymous-private-is-copy-on-write", test_anonymous_private);
	g_test_add_func("/mmap-provider/anonymous-shared-is-shared", test_anonymous_shared);
	g_test_add_func("/mmap-provider/file-backed-at-offset", test_file_backed_at_offset);
	g_test_add_func("/mmap-provider/fd-backed-is-duplicated", test_fd_backed_is_duplicated);
	g_test_add_func("/mmap-provider/file-too-short-refused", test_file_too_short_refused);
	g_test_add_func("/mmap-provider/missing-file-refused", test_missing_file_refused);
	g_test_add_func("/mmap-provider/bad-option-values-name-option",
			test_bad_option_values_name_option);
	g_test_add_func("/mmap-provider/prefault-populates", test_prefault_populates);
	g_test_add_func("/mmap-provider/full-file-system-fails-at-creation-not-sigbus",
			test_full_file_system_fails_at_creation);
	return g_test_run();
}
