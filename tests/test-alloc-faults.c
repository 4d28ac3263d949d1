/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Allocation failure: for each public call below, the test counts the
 * core's allocations the call makes, then fails each one in turn (N = 1
 * .. count). Every time, the call must return an error
 * (VMMEM_ERROR_NOMEM), leave the object it acted on as it was, and keep
 * no fd; run under valgrind or LeakSanitizer (as .ci/run does), it must
 * also leak no memory.
 *
 * The hook exists only in tests/libvmmem-faults.la, a copy of the core
 * built with VMMEM_ALLOC_FAULTS that this test links statically;
 * libvmmem.so has none. What is counted is the core's own allocations
 * (core/alloc.c). GLib's containers and string builders (GKeyFile,
 * GHashTable, GPtrArray, GArray, GByteArray, GString), GError itself and
 * GLib's path helpers still abort the process when memory runs out, as
 * docs/errors.md says: this test cannot fail those. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <vmmem/vmmem.h>

#include "hugetest.h"

/* In the test-only core (core/alloc.c), hidden in libvmmem.so's build. */
void vmmem__alloc_faults_arm(unsigned long nth);
unsigned long vmmem__alloc_faults_count(void);

static int
open_fd_count(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	int n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

/* One public call, with what it acts on. setup() builds the state with
 * no fault armed; call() makes the call (and releases what a successful
 * call returned); unchanged() asserts that a failed call left the state
 * as setup() made it; teardown() frees the state. */
typedef struct {
	void *(*setup)(void);
	bool (*call)(void *state, GError **error);
	void (*unchanged)(void *state);
	void (*teardown)(void *state);
	/* The call loads a provider: under VMMEM_NO_DLCLOSE (sanitizer and
	 * valgrind runs) the loader keeps each loaded module's fd for good,
	 * so the fd count is not checked. */
	bool loads_provider;
} scenario_t;

/* Returns how many allocations a successful call makes. */
static unsigned long
run_scenario(const scenario_t *s)
{
	bool keep_fds = s->loads_provider && g_getenv("VMMEM_NO_DLCLOSE");
	GError *error = NULL;
	unsigned long count;
	void *state;
	bool ok;

	state = s->setup();
	vmmem__alloc_faults_arm(0);
	ok = s->call(state, &error);
	count = vmmem__alloc_faults_count();
	g_assert_no_error(error);
	g_assert_true(ok);
	s->teardown(state);

	for (unsigned long n = 1; n <= count; n++) {
		int fds;

		state = s->setup();
		fds = open_fd_count();
		vmmem__alloc_faults_arm(n);
		ok = s->call(state, &error);
		vmmem__alloc_faults_arm(0);
		if (ok || !error)
			g_error("allocation %lu of %lu failed, but the call succeeded", n, count);
		if (!g_error_matches(error, VMMEM_ERROR, VMMEM_ERROR_NOMEM))
			g_error("allocation %lu of %lu failed, and the call reported another error: "
				"%s (%s %d)",
				n, count, error->message, g_quark_to_string(error->domain),
				error->code);
		g_assert_cmpint(vmmem_error_get_errno(error), ==, ENOMEM);
		g_assert_nonnull(strstr(error->message, "out of memory"));
		g_clear_error(&error);
		if (!keep_fds)
			g_assert_cmpint(open_fd_count(), ==, fds);
		s->unchanged(state);
		s->teardown(state);
	}
	/* Past the count nothing fails: the count was the whole call. */
	state = s->setup();
	vmmem__alloc_faults_arm(count + 1);
	ok = s->call(state, &error);
	vmmem__alloc_faults_arm(0);
	g_assert_no_error(error);
	g_assert_true(ok);
	s->teardown(state);
	g_test_message("%lu allocations, each failed once", count);
	return count;
}

static void *
no_state(void)
{
	return NULL;
}

static void
nothing(void *state)
{
	(void)state;
}

/* ---- vmmem_memory_new() from specs ---- */

static bool
call_memory_new(void *state, GError **error)
{
	vmmem_region_spec_t specs[] = {
		{ .name = "low", .start = vmmem_guest_addr(0), .size = 0x10000,
		  .provider = "mmap", .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .start = vmmem_guest_addr(0x100000), .size = 0x4000, .provider = "memfd" },
	};
	vmmem_memory_t *mem = vmmem_memory_new(specs, G_N_ELEMENTS(specs), error);

	(void)state;
	vmmem_memory_unref(mem);
	return mem != NULL;
}

static void
test_memory_new(void)
{
	const scenario_t s = { no_state, call_memory_new, nothing, nothing, false };

	g_assert_cmpuint(run_scenario(&s), >=, 10);
}

/* ---- loading a provider (the first region that names it) ---- */

static char *
pinned_path(void)
{
	const char *dir = g_getenv("VMMEM_TEST_PROVIDERS_DIR");

	return dir ? g_build_filename(dir, "pinned.so", NULL) : NULL;
}

static bool
call_memory_new_loading(void *state, GError **error)
{
	vmmem_region_spec_t spec = { .name = "pinned", .start = vmmem_guest_addr(0),
				     .size = 0x4000, .provider = state };
	vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, error);

	vmmem_memory_unref(mem);
	return mem != NULL;
}

static void
test_provider_loading(void)
{
	const scenario_t s = { (void *(*)(void))pinned_path, call_memory_new_loading, nothing,
			       g_free, true };
	char *path = pinned_path();

	if (!path) {
		g_test_skip("VMMEM_TEST_PROVIDERS_DIR is not set (run with make check): the "
			    "pinned test provider is loaded by no other region here");
		return;
	}
	g_free(path);
	run_scenario(&s);
}

/* ---- configuration: load, new memory, memory from a path ---- */

/* %s: region high's provider. */
#define CONFIG_TEXT \
	"[memory]\n" \
	"provider = mmap\n" \
	"[region low]\n" \
	"start = 0\n" \
	"size = 64K\n" \
	"dirty-tracking = yes\n" \
	"[region high]\n" \
	"start = 0x100000\n" \
	"size = 16K\n" \
	"provider = %s\n" \
	"seal = yes\n" \
	"[region later]\n" \
	"start = 0x200000\n" \
	"size = 4K\n" \
	"hotplug = yes\n"

/* With the build tree known, region high's provider is a [provider NAME]
 * group naming memfd's file (the one the search path finds, so nothing
 * more is loaded). */
static char *
config_file(void)
{
	const char *top = g_getenv("VMMEM_TOP_BUILDDIR");
	GError *error = NULL;
	char *path = NULL, *text;
	int fd = g_file_open_tmp("vmmem-alloc-faults-XXXXXX.conf", &path, &error);

	g_assert_no_error(error);
	if (top) {
		char *module = g_build_filename(top, "providers", "memfd", ".libs", "memfd.so",
						NULL);

		text = g_strdup_printf(CONFIG_TEXT "[provider fast]\nmodule = %s\n", "fast",
				       module);
		g_free(module);
	} else {
		text = g_strdup_printf(CONFIG_TEXT, "memfd");
	}
	g_assert_cmpint(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	close(fd);
	g_free(text);
	return path;
}

static void
remove_config_file(void *path)
{
	g_unlink(path);
	g_free(path);
}

static bool
call_config_load(void *path, GError **error)
{
	vmmem_config_t *cfg = vmmem_config_load(path, error);
	size_t n = 0;

	if (cfg) {
		vmmem_config_regions(cfg, &n);
		g_assert_cmpuint(n, ==, 3);
	}
	vmmem_config_free(cfg);
	return cfg != NULL;
}

static void
test_config_load(void)
{
	const scenario_t s = { (void *(*)(void))config_file, call_config_load, nothing,
			       remove_config_file, false };

	g_assert_cmpuint(run_scenario(&s), >=, 10);
}

static bool
call_memory_new_from_config(void *path, GError **error)
{
	vmmem_memory_t *mem = vmmem_memory_new_from_config(path, error);

	if (mem)
		g_assert_cmpuint(vmmem_memory_num_regions(mem), ==, 2);
	vmmem_memory_unref(mem);
	return mem != NULL;
}

static void
test_memory_new_from_config(void)
{
	const scenario_t s = { (void *(*)(void))config_file, call_memory_new_from_config,
			       nothing, remove_config_file, false };

	run_scenario(&s);
}

/* ---- a space: new, add, remove, set the log ---- */

static void *
space_with_one(void)
{
	vmmem_region_spec_t spec = { .name = "a", .start = vmmem_guest_addr(0), .size = 0x4000,
				     .provider = "mmap", .flags = VMMEM_SPEC_DIRTY_TRACKING };
	GError *error = NULL;
	vmmem_space_t *space = vmmem_space_new(&spec, 1, NULL, &error);

	g_assert_no_error(error);
	return space;
}

static void *
space_with_two(void)
{
	vmmem_region_spec_t spec = { .name = "b", .start = vmmem_guest_addr(0x100000),
				     .size = 0x4000, .provider = "memfd" };
	GError *error = NULL;
	vmmem_space_t *space = space_with_one();

	g_assert_true(vmmem_space_add_region(space, &spec, &error));
	g_assert_no_error(error);
	return space;
}

/* The space's snapshot: its generation, region count and names. */
static void
assert_space(vmmem_space_t *space, uint64_t generation, size_t n)
{
	const vmmem_memory_t *snap = vmmem_space_get(space);

	g_assert_cmpuint(vmmem_space_generation(space), ==, generation);
	g_assert_cmpuint(vmmem_memory_num_regions(snap), ==, n);
	g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(snap, 0)), ==, "a");
	if (n > 1)
		g_assert_cmpstr(vmmem_region_name(vmmem_memory_region(snap, 1)), ==, "b");
	/* The space still works: a write and a read-back. */
	{
		uint32_t v = 0x5eed, back = 0;

		g_assert_true(vmmem_memory_write_obj(snap, vmmem_guest_addr(0x100), &v, sizeof(v),
						     NULL));
		g_assert_true(vmmem_memory_read_obj(snap, vmmem_guest_addr(0x100), &back,
						    sizeof(back), NULL));
		g_assert_cmpuint(back, ==, v);
	}
	vmmem_space_put(space, snap);
}

static bool
call_space_new(void *state, GError **error)
{
	vmmem_region_spec_t specs[] = {
		{ .name = "a", .start = vmmem_guest_addr(0), .size = 0x4000, .provider = "mmap",
		  .flags = VMMEM_SPEC_DIRTY_TRACKING },
		{ .name = "b", .start = vmmem_guest_addr(0x100000), .size = 0x4000,
		  .provider = "memfd" },
	};
	vmmem_space_t *space = vmmem_space_new(specs, G_N_ELEMENTS(specs), NULL, error);

	(void)state;
	vmmem_space_free(space);
	return space != NULL;
}

static void
test_space_new(void)
{
	const scenario_t s = { no_state, call_space_new, nothing, nothing, false };

	run_scenario(&s);
}

static uint64_t space_generation; /* what setup() left */

static void *
space_with_one_noted(void)
{
	vmmem_space_t *space = space_with_one();

	space_generation = vmmem_space_generation(space);
	return space;
}

static void *
space_with_two_noted(void)
{
	vmmem_space_t *space = space_with_two();

	space_generation = vmmem_space_generation(space);
	return space;
}

static bool
call_add_region(void *space, GError **error)
{
	vmmem_region_spec_t spec = { .name = "b", .start = vmmem_guest_addr(0x100000),
				     .size = 0x4000, .provider = "memfd",
				     .flags = VMMEM_SPEC_DIRTY_TRACKING };

	return vmmem_space_add_region(space, &spec, error);
}

static void
one_region_unchanged(void *space)
{
	assert_space(space, space_generation, 1);
}

static void
two_regions_unchanged(void *space)
{
	assert_space(space, space_generation, 2);
}

static void
free_space(void *space)
{
	vmmem_space_free(space);
}

static void
test_space_add_region(void)
{
	const scenario_t s = { space_with_one_noted, call_add_region, one_region_unchanged,
			       free_space, false };

	g_assert_cmpuint(run_scenario(&s), >=, 5);
}

static bool
call_remove_region(void *space, GError **error)
{
	return vmmem_space_remove_region(space, "b", error);
}

static void
test_space_remove_region(void)
{
	const scenario_t s = { space_with_two_noted, call_remove_region, two_regions_unchanged,
			       free_space, false };

	g_assert_cmpuint(run_scenario(&s), >=, 4);
}

static uint64_t external_log[64];

static bool
call_set_log(void *space, GError **error)
{
	return vmmem_space_set_log(space, external_log, sizeof(external_log), NULL, NULL, error);
}

static void
test_space_set_log(void)
{
	const scenario_t s = { space_with_two_noted, call_set_log, two_regions_unchanged,
			       free_space, false };

	run_scenario(&s);
}

/* ---- sharing: send and receive ---- */

typedef struct {
	vmmem_memory_t *mem;
	int sv[2];
} share_state_t;

static void *
share_setup(bool sent)
{
	vmmem_region_spec_t specs[] = {
		{ .name = "one", .start = vmmem_guest_addr(0), .size = 0x4000, .provider = "memfd" },
		{ .name = "two", .start = vmmem_guest_addr(0x100000), .size = 0x4000,
		  .provider = "memfd" },
	};
	share_state_t *s = g_new0(share_state_t, 1);
	GError *error = NULL;

	s->mem = vmmem_memory_new(specs, G_N_ELEMENTS(specs), &error);
	g_assert_no_error(error);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->sv), ==, 0);
	/* The whole message fits in the socket's buffer: the receive finds
	 * it there, fds and all. */
	if (sent) {
		g_assert_true(vmmem_memory_send(s->mem, s->sv[0], &error));
		g_assert_no_error(error);
	}
	return s;
}

static void *
share_setup_sent(void)
{
	return share_setup(true);
}

static void *
share_setup_unsent(void)
{
	return share_setup(false);
}

static void
share_teardown(void *state)
{
	share_state_t *s = state;

	close(s->sv[0]);
	close(s->sv[1]);
	vmmem_memory_unref(s->mem);
	g_free(s);
}

static bool
call_receive(void *state, GError **error)
{
	share_state_t *s = state;
	vmmem_memory_t *got = vmmem_memory_receive_timeout(s->sv[1], 1000, error);

	if (got)
		g_assert_cmpuint(vmmem_memory_num_regions(got), ==, 2);
	vmmem_memory_unref(got);
	return got != NULL;
}

static void
test_share_receive(void)
{
	const scenario_t s = { share_setup_sent, call_receive, nothing, share_teardown, false };

	g_assert_cmpuint(run_scenario(&s), >=, 10);
}

static bool
call_send(void *state, GError **error)
{
	share_state_t *s = state;

	return vmmem_memory_send(s->mem, s->sv[0], error);
}

/* A refused send writes nothing: the peer finds no byte. */
static void
nothing_sent(void *state)
{
	share_state_t *s = state;
	char c;

	g_assert_cmpint(recv(s->sv[1], &c, 1, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void
test_share_send(void)
{
	const scenario_t s = { share_setup_unsent, call_send, nothing_sent, share_teardown, false };

	run_scenario(&s);
}

/* ---- vhost-user: SET_MEM_TABLE, ADD_MEM_REG, SET_LOG_BASE ---- */

static int
memfd_of(uint64_t size)
{
	int fd = memfd_create("alloc-faults", MFD_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	return fd;
}

typedef struct {
	vmmem_vhost_mem_t *vm;
	uint64_t generation;
	size_t n;
} vhost_state_t;

static void *
vhost_setup(void)
{
	vhost_state_t *s = g_new0(vhost_state_t, 1);
	GError *error = NULL;

	s->vm = vmmem_vhost_mem_new(NULL, &error);
	g_assert_no_error(error);
	s->generation = vmmem_space_generation(vmmem_vhost_mem_space(s->vm));
	return s;
}

static bool
add_mem_reg(vhost_state_t *s, uint64_t gpa, GError **error)
{
	struct {
		uint64_t padding;
		vmmem_vhost_mem_region_t r;
	} payload = { 0, { gpa, 0x10000, 0x7f0000000000 + gpa, 0 } };
	int fd = memfd_of(0x10000);

	/* The call closes the fds it is given, whatever it returns. */
	return vmmem_vhost_mem_add_mem_reg(s->vm, &payload, sizeof(payload), &fd, 1, error);
}

static void *
vhost_setup_one(void)
{
	vhost_state_t *s = vhost_setup();
	GError *error = NULL;

	g_assert_true(add_mem_reg(s, 0, &error));
	g_assert_no_error(error);
	s->generation = vmmem_space_generation(vmmem_vhost_mem_space(s->vm));
	s->n = 1;
	return s;
}

static void
vhost_unchanged(void *state)
{
	vhost_state_t *s = state;
	vmmem_space_t *space = vmmem_vhost_mem_space(s->vm);
	vmmem_memory_t *snap = vmmem_space_ref_memory(space);

	g_assert_cmpuint(vmmem_space_generation(space), ==, s->generation);
	g_assert_cmpuint(vmmem_memory_num_regions(snap), ==, s->n);
	vmmem_memory_unref(snap);
}

static void
vhost_teardown(void *state)
{
	vhost_state_t *s = state;

	vmmem_vhost_mem_free(s->vm);
	g_free(s);
}

static bool
call_set_mem_table(void *state, GError **error)
{
	vhost_state_t *s = state;
	struct {
		uint32_t nregions, padding;
		vmmem_vhost_mem_region_t r[3];
	} payload = { 3, 0, { { 0, 0x10000, 0x7f0000000000, 0 },
			      { 0x100000, 0x10000, 0x7f0000100000, 0 },
			      { 0x200000, 0x10000, 0x7f0000200000, 0x10000 } } };
	int fds[3] = { memfd_of(0x10000), memfd_of(0x10000), memfd_of(0x20000) };

	return vmmem_vhost_mem_set_mem_table(s->vm, &payload, sizeof(payload), fds, 3, error);
}

static void
test_vhost_set_mem_table(void)
{
	/* Over a table of one region, which the new table replaces. */
	const scenario_t s = { vhost_setup_one, call_set_mem_table, vhost_unchanged,
			       vhost_teardown, false };

	g_assert_cmpuint(run_scenario(&s), >=, 10);
}

static bool
call_add_mem_reg(void *state, GError **error)
{
	return add_mem_reg(state, 0x100000, error);
}

static void
test_vhost_add_mem_reg(void)
{
	const scenario_t s = { vhost_setup_one, call_add_mem_reg, vhost_unchanged,
			       vhost_teardown, false };

	g_assert_cmpuint(run_scenario(&s), >=, 5);
}

static bool
call_set_log_base(void *state, GError **error)
{
	vhost_state_t *s = state;
	struct {
		uint64_t mmap_size, mmap_offset;
	} payload = { 4096, 0 };
	int fd = memfd_of(4096);

	return vmmem_vhost_mem_set_log_base(s->vm, &payload, sizeof(payload), &fd, 1, error);
}

static void
test_vhost_set_log_base(void)
{
	const scenario_t s = { vhost_setup_one, call_set_log_base, vhost_unchanged,
			       vhost_teardown, false };

	run_scenario(&s);
}

/* ---- a dirty fetch over huge pages ---- */

static void *
huge_dirty_setup(void)
{
	static const struct vmmem_provider_option opt = { "page-size", "2M" };
	vmmem_region_spec_t spec = { .name = "huge", .start = vmmem_guest_addr(0),
				     .size = MiB(2), .provider = "memfd", .options = &opt,
				     .n_options = 1, .flags = VMMEM_SPEC_DIRTY_TRACKING };
	GError *error = NULL;
	vmmem_memory_t *mem = vmmem_memory_new(&spec, 1, &error);
	uint64_t v = 1;

	g_assert_no_error(error);
	g_assert_true(vmmem_memory_write_obj(mem, vmmem_guest_addr(0x1008), &v, sizeof(v), NULL));
	return mem;
}

static bool
call_region_fetch_dirty(void *mem, GError **error)
{
	uint64_t bits[1] = { 0 };
	bool ok = vmmem_region_fetch_dirty(mem, vmmem_memory_region(mem, 0), bits, 1, error);

	if (ok)
		g_assert_cmphex(bits[0], ==, 1);
	return ok;
}

/* A failed fetch took no bit: the page is still dirty. */
static void
still_dirty(void *mem)
{
	g_assert_true(vmmem_memory_page_is_dirty(mem, vmmem_guest_addr(0)));
}

static void
unref_memory(void *mem)
{
	vmmem_memory_unref(mem);
}

static void
test_region_fetch_dirty_huge(void)
{
	const scenario_t s = { huge_dirty_setup, call_region_fetch_dirty, still_dirty,
			       unref_memory, false };

	hugetest_lock();
	if (!hugetest_require(MiB(2), 1))
		return;
	g_assert_cmpuint(run_scenario(&s), ==, 1);
}

/* ---- an fd transfer across more regions than fit on the stack ---- */

typedef struct {
	vmmem_memory_t *mem;
	int fd;
} transfer_state_t;

enum { TRANSFER_REGIONS = 12 };

static void *
transfer_setup(void)
{
	vmmem_region_spec_t specs[TRANSFER_REGIONS];
	char names[TRANSFER_REGIONS][8];
	transfer_state_t *s = g_new0(transfer_state_t, 1);
	GError *error = NULL;

	/* Contiguous in guest memory, each from its own mapping, so the
	 * transfer needs one iovec per region. */
	for (int i = 0; i < TRANSFER_REGIONS; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		specs[i] = (vmmem_region_spec_t){ .name = names[i],
						  .start = vmmem_guest_addr((uint64_t)i * 0x1000),
						  .size = 0x1000,
						  .provider = i % 2 ? "memfd" : "mmap" };
	}
	s->mem = vmmem_memory_new(specs, TRANSFER_REGIONS, &error);
	g_assert_no_error(error);
	s->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	g_assert_cmpint(s->fd, >=, 0);
	return s;
}

static void
transfer_teardown(void *state)
{
	transfer_state_t *s = state;

	close(s->fd);
	vmmem_memory_unref(s->mem);
	g_free(s);
}

static bool
call_write_all_to_fd(void *state, GError **error)
{
	transfer_state_t *s = state;

	return vmmem_memory_write_all_to_fd(s->mem, vmmem_guest_addr(0), s->fd,
					    TRANSFER_REGIONS * 0x1000, error);
}

static void
test_write_all_to_fd(void)
{
	const scenario_t s = { transfer_setup, call_write_all_to_fd, nothing, transfer_teardown,
			       false };

	g_assert_cmpuint(run_scenario(&s), ==, 1);
}

/* ---- vhost-user memory itself ---- */

static bool
call_vhost_mem_new(void *state, GError **error)
{
	vmmem_vhost_mem_t *vm = vmmem_vhost_mem_new(NULL, error);

	(void)state;
	vmmem_vhost_mem_free(vm);
	return vm != NULL;
}

static void
test_vhost_mem_new(void)
{
	const scenario_t s = { no_state, call_vhost_mem_new, nothing, nothing, false };

	run_scenario(&s);
}

int
main(int argc, char **argv)
{
	vmmem_region_spec_t keep[] = {
		{ .name = "m", .start = vmmem_guest_addr(0), .size = 0x1000, .provider = "mmap" },
		{ .name = "f", .start = vmmem_guest_addr(0x1000), .size = 0x1000,
		  .provider = "memfd" },
	};
	vmmem_memory_t *keep_loaded;
	int rc;

	g_test_init(&argc, &argv, NULL);
	/* mmap and memfd stay loaded, so every iteration of a call starts
	 * from the same loader state (and counts the same allocations);
	 * /alloc-faults/provider/load covers loading. */
	keep_loaded = vmmem_memory_new(keep, G_N_ELEMENTS(keep), NULL);
	g_assert_nonnull(keep_loaded);
	g_test_add_func("/alloc-faults/memory-new/every-allocation-fails-cleanly", test_memory_new);
	g_test_add_func("/alloc-faults/provider/load-fails-cleanly", test_provider_loading);
	g_test_add_func("/alloc-faults/config/load-fails-cleanly", test_config_load);
	g_test_add_func("/alloc-faults/config/memory-new-from-config-fails-cleanly",
			test_memory_new_from_config);
	g_test_add_func("/alloc-faults/space/new-fails-cleanly", test_space_new);
	g_test_add_func("/alloc-faults/space/add-region-leaves-the-space-unchanged",
			test_space_add_region);
	g_test_add_func("/alloc-faults/space/remove-region-leaves-the-space-unchanged",
			test_space_remove_region);
	g_test_add_func("/alloc-faults/space/set-log-leaves-the-space-unchanged",
			test_space_set_log);
	g_test_add_func("/alloc-faults/share/receive-fails-cleanly-closing-the-fds",
			test_share_receive);
	g_test_add_func("/alloc-faults/share/send-fails-before-writing", test_share_send);
	g_test_add_func("/alloc-faults/dirty/region-fetch-on-huge-pages-loses-no-bit",
			test_region_fetch_dirty_huge);
	g_test_add_func("/alloc-faults/fd/write-all-across-many-regions-fails-cleanly",
			test_write_all_to_fd);
	g_test_add_func("/alloc-faults/vhost-user/mem-new-fails-cleanly", test_vhost_mem_new);
	g_test_add_func("/alloc-faults/vhost-user/set-mem-table-leaves-the-table-unchanged",
			test_vhost_set_mem_table);
	g_test_add_func("/alloc-faults/vhost-user/add-mem-reg-leaves-the-table-unchanged",
			test_vhost_add_mem_reg);
	g_test_add_func("/alloc-faults/vhost-user/set-log-base-leaves-the-table-unchanged",
			test_vhost_set_log_base);
	rc = g_test_run();
	vmmem_memory_unref(keep_loaded);
	return rc;
}
