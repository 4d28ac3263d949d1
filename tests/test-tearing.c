/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* No torn values: one thread flips a naturally aligned u16/u32/u64 in guest
 * memory between two patterns whose halves differ, another reads it with
 * every single-value read path for a bounded time and must only ever see
 * one of the two patterns. Runs once per provider. */
#include <pthread.h>
#include <string.h>

#include "testutil.h"
#include "isolate.h"

#define G(x) vmmem_guest_addr(x)
#define RUN_SECONDS 0.1
/* The race lasts RUN_SECONDS from the writer's first flip: on a loaded
 * machine its thread may not run at all for longer than that. */
#define WRITER_START_TIMEOUT 30.0

/* r1 of layout3, 8-aligned, away from the region edges. */
#define SPOT (TU_2M + 0x1000)

typedef enum { READ_OBJ, LOAD, READ_SLICE, REGION_READ_OBJ, SLICE_READ_OBJ, N_READERS } reader_t;
static const char *const reader_names[] = { "memory-read-obj", "memory-load", "memory-read-slice",
					    "region-read-obj", "slice-read-obj" };

typedef struct {
	const tu_provider_t *p;
	unsigned width; /* bytes */
	uint64_t a, b;  /* the two patterns */
	reader_t reader;
} tear_case_t;

typedef struct {
	vmmem_memory_t *mem;
	const tear_case_t *c;
	volatile gint stop;
	volatile gint started; /* set after the first flip */
	guint64 flips;
} writer_ctx_t;

static void *
writer(void *data)
{
	writer_ctx_t *w = data;
	uint64_t v[2] = { w->c->a, w->c->b };

	while (!g_atomic_int_get(&w->stop)) {
		for (int i = 0; i < 2; i++) {
			/* Alternate the two write paths: the inline store and the
			 * inline write_obj. */
			switch (w->c->width) {
			case 2: {
				uint16_t x = (uint16_t)v[i];
				g_assert_true(w->flips & 1 ? VMMEM_MEMORY_WRITE_OBJ(w->mem, G(SPOT), &x, NULL)
							   : vmmem_memory_store_u16(w->mem, G(SPOT), x,
										    memory_order_relaxed, NULL));
				break;
			}
			case 4: {
				uint32_t x = (uint32_t)v[i];
				g_assert_true(w->flips & 1 ? VMMEM_MEMORY_WRITE_OBJ(w->mem, G(SPOT), &x, NULL)
							   : vmmem_memory_store_u32(w->mem, G(SPOT), x,
										    memory_order_relaxed, NULL));
				break;
			}
			default: {
				uint64_t x = v[i];
				g_assert_true(w->flips & 1 ? VMMEM_MEMORY_WRITE_OBJ(w->mem, G(SPOT), &x, NULL)
							   : vmmem_memory_store_u64(w->mem, G(SPOT), x,
										    memory_order_relaxed, NULL));
				break;
			}
			}
			if (w->flips++ == 0)
				g_atomic_int_set(&w->started, 1);
		}
	}
	return NULL;
}

static uint64_t
read_once(vmmem_memory_t *mem, const vmmem_region_t *r1, vmmem_slice_t s, const tear_case_t *c)
{
	unsigned w = c->width;
	uint64_t v = 0;
	/* The caller's buffer is deliberately misaligned (an odd address):
	 * the guarantee is about the guest side and must not depend on how
	 * the caller's variable happens to be aligned. */
	uint8_t store[16] = { 0 }, *raw = (uint8_t *)((uintptr_t)store | 1);
	bool ok = false;

	switch (c->reader) {
	case READ_OBJ:
		ok = vmmem_memory_read_obj(mem, G(SPOT), raw, w, NULL);
		break;
	case LOAD:
		ok = vmmem_memory_load(mem, G(SPOT), w, memory_order_relaxed, &v, NULL);
		if (w == 8)
			ok = vmmem_memory_load_u64(mem, G(SPOT), &v, memory_order_relaxed, NULL);
		g_assert_true(ok);
		return v;
	case READ_SLICE:
		ok = vmmem_memory_read_slice(mem, G(SPOT), raw, w, NULL);
		break;
	case REGION_READ_OBJ:
		ok = vmmem_region_read_obj(r1, vmmem_region_addr(SPOT - TU_2M), raw, w, NULL);
		break;
	case SLICE_READ_OBJ:
		ok = vmmem_slice_read_obj(s, 0, raw, w, NULL);
		break;
	default:
		g_assert_not_reached();
	}
	g_assert_true(ok);
	switch (w) {
	case 2: { uint16_t x; memcpy(&x, raw, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, raw, 4); return x; }
	default: memcpy(&v, raw, 8); return v;
	}
}

static void
run_tear_case(gconstpointer data)
{
	const tear_case_t *c = data;
	const char *why = c->p->skip_reason ? c->p->skip_reason() : NULL;
	writer_ctx_t w;
	pthread_t thread;
	vmmem_slice_t s;
	GTimer *timer;
	guint64 reads = 0, seen_a = 0, seen_b = 0;
	bool started = false;

	if (why) {
		g_test_skip(why);
		return;
	}
	memset(&w, 0, sizeof(w));
	w.mem = tu_memory_new(c->p, tu_layout3, 3);
	w.c = c;
	g_assert_true(vmmem_memory_store(w.mem, G(SPOT), c->width, c->a, memory_order_seq_cst, NULL));
	g_assert_true(vmmem_memory_get_slice(w.mem, G(SPOT), 8, &s, NULL));
	g_assert_cmpint(pthread_create(&thread, NULL, writer, &w), ==, 0);
	timer = g_timer_new();
	while (g_timer_elapsed(timer, NULL) < (started ? RUN_SECONDS : WRITER_START_TIMEOUT)) {
		if (!started && g_atomic_int_get(&w.started)) {
			started = true;
			g_timer_start(timer);
		}
		for (int i = 0; i < 256; i++) {
			uint64_t v = read_once(w.mem, vmmem_memory_region(w.mem, 1), s, c);
			if (v == c->a)
				seen_a++;
			else if (v == c->b)
				seen_b++;
			else
				g_error("torn %u-byte read via %s: 0x%" G_GINT64_MODIFIER "x is neither "
					"0x%" G_GINT64_MODIFIER "x nor 0x%" G_GINT64_MODIFIER "x",
					c->width, reader_names[c->reader], v, c->a, c->b);
			reads++;
		}
	}
	g_atomic_int_set(&w.stop, 1);
	pthread_join(thread, NULL);
	g_timer_destroy(timer);
	g_test_message("%" G_GUINT64_FORMAT " reads (%" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT
		       "), %" G_GUINT64_FORMAT " flips",
		       reads, seen_a, seen_b, w.flips);
	/* The race really ran. Which values the reader happened to catch
	 * depends on scheduling (one core, valgrind), so it is not asserted. */
	g_assert_cmpuint(reads, >, 0);
	g_assert_cmpuint(w.flips, >, 0);
	vmmem_memory_unref(w.mem);
}

int
main(int argc, char **argv)
{
	static const struct {
		unsigned width;
		const char *name;
		uint64_t a, b;
	} pairs[] = {
		{ 8, "u64/zeros-ones", 0, UINT64_MAX },
		{ 8, "u64/0123-fedc", 0x0123456789abcdefull, 0xfedcba9876543210ull },
		{ 4, "u32/zeros-ones", 0, UINT32_MAX },
		{ 4, "u32/0123-fedc", 0x01234567, 0xfedcba98 },
		{ 2, "u16/zeros-ones", 0, UINT16_MAX },
		{ 2, "u16/01-fe", 0x01ff, 0xfe00 },
	};

	g_test_init(&argc, &argv, NULL);
	for (size_t p = 0; p < tu_n_providers; p++)
		for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++)
			for (int r = 0; r < N_READERS; r++) {
				tear_case_t *c = g_new(tear_case_t, 1);
				char *path = g_strdup_printf("/%s/tearing/%s/%s", tu_providers[p].name,
							     pairs[i].name, reader_names[r]);
				c->p = &tu_providers[p];
				c->width = pairs[i].width;
				c->a = pairs[i].a;
				c->b = pairs[i].b;
				c->reader = (reader_t)r;
				g_test_add_data_func_full(path, c, run_tear_case, g_free);
				g_free(path);
			}
	return g_test_run();
}
