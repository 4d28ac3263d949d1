/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Shared helpers for the vmmem tests; see testutil.h. */
#include "testutil.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <glib/gstdio.h>

#include "hugetest.h"
#include "isolate.h"

/* hugetlbfs regions take one 2 MiB page each; a test holds at most a few
 * memories of 3 regions at once. The lock keeps the provider tests that
 * drain the pool on purpose from running at the same time. */
static const char *
hugetlbfs_skip_reason(void)
{
	static char why[256];
	uint64_t free_pages;

	hugetest_lock();
	free_pages = hugetest_free_pages(MiB(2));
	if (free_pages >= 12)
		return NULL;
	g_snprintf(why, sizeof(why),
		   "only %" G_GUINT64_FORMAT " free 2 MiB huge pages, the suite needs 12: "
		   "echo 128 > /proc/sys/vm/nr_hugepages (as root)",
		   free_pages);
	return why;
}

/* tests/providers/pinned.so: built by `make check`, found through
 * VMMEM_TEST_PROVIDERS_DIR, which the test harness sets. */
static const char *
pinned_module(void)
{
	static char path[4096];

	g_snprintf(path, sizeof(path), "%s/pinned.so", g_getenv("VMMEM_TEST_PROVIDERS_DIR"));
	return path;
}

static const char *
pinned_skip_reason(void)
{
	if (!g_getenv("VMMEM_TEST_PROVIDERS_DIR"))
		return "VMMEM_TEST_PROVIDERS_DIR is not set: run the tests with make check";
	return NULL;
}

/* The built-in providers the consumer suite runs against. Add an entry
 * (with a skip_reason for hosts that cannot back it) to run every
 * parameterised case against another provider. */
const tu_provider_t tu_providers[] = {
	{ .name = "mmap" },
	{ .name = "memfd" },
	{ .name = "hugetlbfs", .skip_reason = hugetlbfs_skip_reason },
	{ .name = "pinned", .skip_reason = pinned_skip_reason, .module = pinned_module },
};
const size_t tu_n_providers = G_N_ELEMENTS(tu_providers);

const tu_provider_t *
tu_default_provider(void)
{
	return &tu_providers[0];
}

typedef struct {
	const tu_provider_t *p;
	tu_provider_test_fn fn;
} tu_case_t;

static void
run_case(gconstpointer data)
{
	const tu_case_t *c = data;
	const char *why = c->p->skip_reason ? c->p->skip_reason() : NULL;

	if (why) {
		g_test_skip(why);
		return;
	}
	c->fn(c->p);
}

void
tu_add_per_provider(const char *path, tu_provider_test_fn fn)
{
	for (size_t i = 0; i < tu_n_providers; i++) {
		tu_case_t *c = g_new(tu_case_t, 1);
		char *full = g_strdup_printf("/%s%s%s", tu_providers[i].name,
					     path[0] == '/' ? "" : "/", path);

		c->p = &tu_providers[i];
		c->fn = fn;
		g_test_add_data_func_full(full, c, run_case, g_free);
		g_free(full);
	}
}

const tu_range_t tu_layout1[1] = { { 0, TU_2M } };
const tu_range_t tu_layout2[2] = { { 0, TU_2M }, { 2 * TU_2M, TU_2M } };
const tu_range_t tu_layout3[3] = { { 0, TU_2M }, { TU_2M, TU_2M }, { 4 * TU_2M, TU_2M } };
const tu_range_t tu_layout_adj3[3] = { { TU_2M, TU_2M }, { 2 * TU_2M, TU_2M }, { 3 * TU_2M, TU_2M } };
const tu_range_t tu_layout_top[2] = { { UINT64_MAX - 2 * TU_2M + 1, TU_2M },
				      { UINT64_MAX - TU_2M + 1, TU_2M } };

uint8_t
tu_pattern(uint64_t addr)
{
	/* Differs between neighbouring bytes and between regions, so a copy
	 * from the wrong place or a shifted copy shows. */
	return (uint8_t)(addr * 7 + (addr >> 8) * 13 + (addr >> 21) * 29 + 1);
}

static void
fill_region(const vmmem_region_t *r)
{
	uint8_t *h = vmmem_region_host(r);
	uint64_t start = vmmem_region_start(r).raw, size = vmmem_region_size(r);

	for (uint64_t i = 0; i < size; i++)
		h[i] = tu_pattern(start + i);
}

vmmem_memory_t *
tu_memory_new(const tu_provider_t *p, const tu_range_t *ranges, size_t n)
{
	vmmem_region_spec_t *specs = g_new0(vmmem_region_spec_t, n);
	char **names = g_new0(char *, n + 1);
	GError *err = NULL;
	vmmem_memory_t *mem;

	for (size_t i = 0; i < n; i++) {
		names[i] = g_strdup_printf("r%zu", i);
		specs[i].name = names[i];
		specs[i].start = vmmem_guest_addr(ranges[i].start);
		specs[i].size = ranges[i].size;
		specs[i].provider = p->module ? p->module() : p->provider ? p->provider : p->name;
		specs[i].options = p->options;
		specs[i].n_options = p->n_options;
	}
	mem = vmmem_memory_new(specs, n, &err);
	g_assert_no_error(err);
	g_assert_nonnull(mem);
	g_strfreev(names);
	g_free(specs);
	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++)
		fill_region(vmmem_memory_region(mem, i));
	return mem;
}

void
tu_assert_pattern_except(const vmmem_memory_t *mem, uint64_t skip_start, uint64_t skip_len)
{
	for (size_t i = 0; i < vmmem_memory_num_regions(mem); i++) {
		const vmmem_region_t *r = vmmem_memory_region(mem, i);
		const uint8_t *h = vmmem_region_host(r);
		uint64_t start = vmmem_region_start(r).raw, size = vmmem_region_size(r);

		for (uint64_t k = 0; k < size; k++) {
			uint64_t a = start + k;

			if (skip_len && a - skip_start < skip_len)
				continue;
			if (h[k] != tu_pattern(a))
				g_error("guest byte 0x%" PRIx64 " changed: 0x%02x, expected 0x%02x", a,
					h[k], tu_pattern(a));
		}
	}
}

void
tu_assert_error_(GError **err, const char *file, int line, int code, ...)
{
	va_list ap;
	const char *want;

	if (!*err)
		g_error("%s:%d: expected %s, got no error", file, line,
			vmmem_error_code_name(code));
	if ((*err)->domain != VMMEM_ERROR || (*err)->code != code)
		g_error("%s:%d: expected %s, got %s (%s): %s", file, line,
			vmmem_error_code_name(code), g_quark_to_string((*err)->domain),
			(*err)->domain == VMMEM_ERROR ? vmmem_error_code_name((*err)->code) : "?",
			(*err)->message);
	va_start(ap, code);
	while ((want = va_arg(ap, const char *)))
		if (!strstr((*err)->message, want))
			g_error("%s:%d: message \"%s\" does not mention \"%s\"", file, line,
				(*err)->message, want);
	va_end(ap);
	g_test_message("%s: %s", vmmem_error_code_name(code), (*err)->message);
	g_clear_error(err);
}

char *
tu_hex(uint64_t v)
{
	return g_strdup_printf("0x%" PRIx64, v);
}

void
tu_fill(void *buf, size_t len, uint8_t byte)
{
	memset(buf, byte, len);
}

bool
tu_all(const void *buf, size_t len, uint8_t byte)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i < len; i++)
		if (b[i] != byte)
			return false;
	return true;
}

char *
tu_tmpdir(void)
{
	GError *err = NULL;
	char *dir = g_dir_make_tmp("vmmem-test-XXXXXX", &err);

	g_assert_no_error(err);
	return dir;
}

void
tu_rmdir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (!d)
		return;
	while ((name = g_dir_read_name(d))) {
		char *path = g_build_filename(dir, name, NULL);
		g_unlink(path);
		g_free(path);
	}
	g_dir_close(d);
	g_rmdir(dir);
}
