/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Differential fuzzer for the access families.
 *
 * The input is a layout and a list of operations. The layout (1 to 16
 * regions of 1 to 16 pages, with or without holes between them, near 0,
 * in the middle and at the very top of the address space) is mapped with
 * the mmap provider (or the pinned test provider, whose regions the core
 * may not move) and mirrored by a model: a sorted list of byte arrays.
 * Each operation runs on both, and everything must agree: the result, the
 * error code, the counts, host pointers and every byte of guest memory and
 * of the caller's buffer. The model is written from the rules in
 * <vmmem/access.h>, <vmmem/slice.h>, <vmmem/memory.h> and <vmmem/error.h>,
 * not from the code, so where the two differ the fuzzer says so.
 *
 * The rule for a range whose first byte is unbacked is INVALID_ADDRESS in
 * every family ("no byte is backed at the start address", error.h); the
 * all-or-nothing paths used to report PARTIAL_RANGE there.
 * FUZZ_STRICT_HOLE=0 (`make fuzz FUZZ_STRICT=0`) would accept that old
 * deviation again; the default is strict. Where two rules apply at once
 * (a range that both passes 2^64 and starts in a hole; an atomic that is
 * misaligned and out of range) either code is accepted: the headers do
 * not rank them. FUZZ_VERBOSE=1 in the environment prints the layout and
 * each operation. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "fuzz.h"

#ifndef FUZZ_STRICT_HOLE
#define FUZZ_STRICT_HOLE 1
#endif

#define PAGE ((uint64_t)4096)
#define MAX_REGIONS 16
#define MAX_PAGES 16
#define MAX_OPS 64
#define SRC_LEN ((size_t)256 << 10) /* the file read_from_fd reads */
#define CHEAP_CHECK ((uint64_t)128 << 10)
/* Dirty tracking covers guest addresses below this (core/dirty.c). */
#define TRACKED_END ((uint64_t)1 << 46)

typedef struct model_region {
	uint64_t start;
	uint64_t size;
	uint64_t last;
	uint8_t *bytes;
	bool pinned; /* from tests/providers/pinned.so, not mmap */
	bool tracked; /* VMMEM_SPEC_DIRTY_TRACKING */
	bool dirty[MAX_PAGES]; /* per 4 KiB page, written since the last fetch */
	const vmmem_region_t *region;
} model_region_t;

typedef struct fuzz {
	fuzz_in_t in;
	vmmem_memory_t *mem;
	model_region_t r[MAX_REGIONS];
	size_t n;
	uint64_t total;
	size_t cap;        /* caller buffers: the largest count any access may move */
	uint8_t *rbuf;     /* read destination, cap bytes */
	uint8_t *wbuf;     /* write source, cap bytes */
	uint8_t *scratch;  /* the model's copy, cap bytes */
	uint8_t *untouched; /* cap bytes of 0xa5, what read_buf() fills with */
	/* The slice the slice family works on: host and model bytes. */
	vmmem_slice_t slice;
	uint8_t *slice_model;
	unsigned op;
	const char *what;
} fuzz_t;

static int src_fd = -1, dst_fd = -1;
static uint8_t *src_bytes;
/* Fill bytes, built once: loops in the target are instrumented and slow. */
#define PATTERN_LEN (MAX_REGIONS * MAX_PAGES * PAGE + 3 * PAGE)
static uint8_t *pattern;
/* Holds the mmap provider loaded: without it every input would dlopen it
 * again, which is most of the time an input takes. */
static vmmem_memory_t *keep_provider, *keep_pinned;
/* tests/providers/pinned.so (built for make check): regions the core may
 * not move, so accesses across their boundaries take the split path.
 * NULL if it is not built. */
static const char *pinned_path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup_provider_path();
	src_fd = memfd_create("fuzz-access-src", MFD_CLOEXEC);
	dst_fd = memfd_create("fuzz-access-dst", MFD_CLOEXEC);
	if (src_fd < 0 || dst_fd < 0)
		fuzz_fail("memfd_create failed");
	pattern = g_malloc(PATTERN_LEN);
	for (size_t i = 0; i < PATTERN_LEN; i++)
		pattern[i] = (uint8_t)(i * 167 >> 3 ^ i >> 12);
	src_bytes = g_malloc(SRC_LEN);
	for (size_t i = 0; i < SRC_LEN; i++)
		src_bytes[i] = (uint8_t)(i * 131 + (i >> 9) + 7);
	if (pwrite(src_fd, src_bytes, SRC_LEN, 0) != (ssize_t)SRC_LEN)
		fuzz_fail("cannot fill the source memfd");
	{
		vmmem_region_spec_t one = { "keep", { 0 }, PAGE, NULL, NULL, 0, 0 };
		GError *err = NULL;

		keep_provider = vmmem_memory_new(&one, 1, &err);
		if (!keep_provider)
			fuzz_fail("cannot load the mmap provider: %s", err->message);
#ifdef FUZZ_PINNED_PROVIDER
		if (access(FUZZ_PINNED_PROVIDER, R_OK) == 0) {
			one.provider = FUZZ_PINNED_PROVIDER;
			keep_pinned = vmmem_memory_new(&one, 1, &err);
			if (!keep_pinned)
				fuzz_fail("cannot load %s: %s", FUZZ_PINNED_PROVIDER, err->message);
			pinned_path = FUZZ_PINNED_PROVIDER;
		}
#endif
	}
	return 0;
}

void
fuzz_target_cleanup(void)
{
	vmmem_memory_unref(keep_provider);
	vmmem_memory_unref(keep_pinned);
	g_free(pattern);
	g_free(src_bytes);
	close(src_fd);
	close(dst_fd);
}

/* ---- the model -------------------------------------------------------- */

static ptrdiff_t
model_index(const fuzz_t *f, uint64_t addr)
{
	for (size_t i = 0; i < f->n; i++)
		if (addr >= f->r[i].start && addr <= f->r[i].last)
			return (ptrdiff_t)i;
	return -1;
}

/* Bytes backed contiguously (through guest-adjacent regions) from addr,
 * at most len. */
static uint64_t
model_prefix(const fuzz_t *f, uint64_t addr, uint64_t len)
{
	ptrdiff_t i = model_index(f, addr);
	uint64_t have = 0, a = addr;

	if (i < 0)
		return 0;
	for (;;) {
		const model_region_t *r = &f->r[i];
		uint64_t room = r->last - a + 1;

		if (room >= len - have)
			return len;
		have += room;
		if (r->last == UINT64_MAX || (size_t)i + 1 >= f->n || f->r[i + 1].start != r->last + 1)
			return have;
		a = r->last + 1;
		i++;
	}
}

/* The library wrote [off, off + n) of r: its pages are dirty. */
static void
model_mark(model_region_t *r, uint64_t off, uint64_t n)
{
	if (!r->tracked || n == 0)
		return;
	for (uint64_t p = off / PAGE; p <= (off + n - 1) / PAGE; p++)
		r->dirty[p] = true;
}

/* Copies n backed bytes at addr between the model and buf; a copy into
 * the model is a write by the library, which marks its pages. */
static void
model_copy(fuzz_t *f, uint64_t addr, uint8_t *buf, uint64_t n, bool to_model)
{
	while (n > 0) {
		ptrdiff_t i = model_index(f, addr);
		model_region_t *r;
		uint64_t off, k;

		if (i < 0)
			fuzz_fail("op %u %s: model copy at unbacked 0x%" G_GINT64_MODIFIER "x", f->op,
				  f->what, addr);
		r = &f->r[i];
		off = addr - r->start;
		k = MIN(n, r->size - off);
		if (to_model) {
			memcpy(r->bytes + off, buf, k);
			model_mark(r, off, k);
		} else {
			memcpy(buf, r->bytes + off, k);
		}
		buf += k;
		n -= k;
		addr += k;
	}
}

static void
check_memory(const fuzz_t *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const uint8_t *host = vmmem_region_host(f->r[i].region);

		if (memcmp(host, f->r[i].bytes, f->r[i].size) == 0)
			continue;
		for (uint64_t k = 0; k < f->r[i].size; k++)
			if (host[k] != f->r[i].bytes[k])
				fuzz_fail("op %u %s: guest 0x%" G_GINT64_MODIFIER "x holds 0x%02x, "
					  "the model 0x%02x",
					  f->op, f->what, f->r[i].start + k, host[k], f->r[i].bytes[k]);
	}
}

/* ---- checking a result ----------------------------------------------- */

static const char *
code_name(int code)
{
	return code ? vmmem_error_code_name(code) : "success";
}

/* `want` is the code the rules give (0: success); `alt` a second code
 * that is also right (0: none). `errp` is what the call got: NULL if the
 * op passed no GError. */
static void
check_result(fuzz_t *f, bool ok, GError **errp, int want, int alt)
{
	GError *err = errp ? *errp : NULL;
	int got;

	if (ok && err)
		fuzz_fail("op %u %s: returned true with an error: %s", f->op, f->what, err->message);
	if (!ok && errp && !err)
		fuzz_fail("op %u %s: returned false without an error", f->op, f->what);
	if (err && err->domain != VMMEM_ERROR)
		fuzz_fail("op %u %s: error outside VMMEM_ERROR: %s", f->op, f->what, err->message);
	if (err && (!err->message || !*err->message))
		fuzz_fail("op %u %s: error without a message", f->op, f->what);
	got = ok ? 0 : err ? err->code : -1;
	if (got == -1) /* no GError asked for: only the result can be compared */
		got = want ? want : alt ? alt : 1;
	if (got == want || (alt && got == alt))
		goto out;
	if (!FUZZ_STRICT_HOLE && got == VMMEM_ERROR_PARTIAL_RANGE &&
	    (want == VMMEM_ERROR_INVALID_ADDRESS || alt == VMMEM_ERROR_INVALID_ADDRESS))
		goto out; /* the known deviation (see the top of this file) */
	fuzz_fail("op %u %s: got %s (%s), the rules say %s%s%s", f->op, f->what, code_name(got),
		  err ? err->message : "no message", code_name(want), alt ? " or " : "",
		  alt ? code_name(alt) : "");
out:
	if (errp)
		g_clear_error(errp);
}

static void
check_count(fuzz_t *f, const char *name, uint64_t got, uint64_t want)
{
	if (got != want)
		fuzz_fail("op %u %s: %s is 0x%" G_GINT64_MODIFIER "x, the model says 0x%"
			  G_GINT64_MODIFIER "x", f->op, f->what, name, got, want);
}

/* The caller's read buffer: [0, n) holds `expect`, [n, len) is untouched. */
static void
check_rbuf(fuzz_t *f, const uint8_t *buf, size_t blen, const uint8_t *expect, size_t n)
{
	if (n && memcmp(buf, expect, n) != 0)
		fuzz_fail("op %u %s: the bytes read differ from the model", f->op, f->what);
	if (blen > n && memcmp(buf + n, f->untouched, blen - n) != 0)
		fuzz_fail("op %u %s: the buffer was written beyond the 0x%zx bytes moved", f->op,
			  f->what, n);
}

/* ---- decoding --------------------------------------------------------- */

static const model_region_t *
pick_region(fuzz_t *f)
{
	return &f->r[fuzz_u8(&f->in) % f->n];
}

/* An address: mostly at or near region edges, sometimes anywhere. */
static uint64_t
pick_addr(fuzz_t *f)
{
	uint8_t sel = fuzz_u8(&f->in);
	const model_region_t *r = pick_region(f);
	int8_t d = (int8_t)fuzz_u8(&f->in);

	switch (sel % 8) {
	case 0: return r->start + (uint64_t)(int64_t)d;
	case 1: return r->last + 1 + (uint64_t)(int64_t)d;
	case 2: return fuzz_u64(&f->in);
	case 3: return UINT64_MAX - (uint8_t)d;
	case 4: return (uint8_t)d;
	case 5: return r->start + fuzz_u16(&f->in);
	case 6: return r->last + 1 + fuzz_u16(&f->in);
	default: return r->start - 1 - (uint8_t)d;
	}
}

/* A length for an access at addr (in a space of `size` bytes from addr's
 * region start, or the whole address space): small, page sized, to the
 * end of the region or of 2^64 (give or take a few), or huge. */
static uint64_t
pick_len(fuzz_t *f, uint64_t addr, uint64_t end_dist)
{
	uint8_t sel = fuzz_u8(&f->in);
	int8_t d = (int8_t)fuzz_u8(&f->in);

	switch (sel % 8) {
	case 0: return (uint8_t)d % 17;
	case 1: return fuzz_u16(&f->in);
	case 2: return fuzz_u16(&f->in) + ((uint64_t)((uint8_t)d % 4) << 16);
	case 3: return SIZE_MAX - (uint8_t)d;
	case 4: return (0 - addr) + (uint64_t)(int64_t)d; /* to 2^64, give or take */
	case 5: return (uint64_t)1 << ((uint8_t)d % 4);
	case 6: return end_dist + (uint64_t)(int64_t)d;
	default: return fuzz_u64(&f->in);
	}
}

/* The distance from addr to the end of its region (or a small number). */
static uint64_t
end_of_region(const fuzz_t *f, uint64_t addr)
{
	ptrdiff_t i = model_index(f, addr);

	return i < 0 ? 16 : f->r[i].last - addr + 1;
}

static memory_order
pick_order(fuzz_t *f, bool store)
{
	static const memory_order loads[] = { memory_order_relaxed, memory_order_acquire,
					      memory_order_seq_cst };
	static const memory_order stores[] = { memory_order_relaxed, memory_order_release,
					       memory_order_seq_cst };
	uint8_t k = fuzz_u8(&f->in) % 3;

	return store ? stores[k] : loads[k];
}

static unsigned
pick_width(fuzz_t *f)
{
	static const unsigned widths[] = { 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 16, 7 };

	return widths[fuzz_u8(&f->in) % G_N_ELEMENTS(widths)];
}

static bool
valid_width(unsigned w)
{
	return w == 1 || w == 2 || w == 4 || w == 8;
}

/* The caller's buffers for an access of len bytes: their end is the end
 * of the allocation, so AddressSanitizer catches a copy past len, and
 * the library never legitimately moves more than cap bytes. */
static uint8_t *
read_buf(fuzz_t *f, uint64_t len, size_t *blen)
{
	*blen = (size_t)MIN(len, (uint64_t)f->cap);
	memset(f->rbuf + f->cap - *blen, 0xa5, *blen);
	return f->rbuf + f->cap - *blen;
}

static uint8_t *
write_buf(fuzz_t *f, uint64_t len, size_t *blen)
{
	*blen = (size_t)MIN(len, (uint64_t)f->cap);
	return f->wbuf + f->cap - *blen;
}

/* ---- the memory family -------------------------------------------- */

/* The rule for an all-or-nothing range of the memory family. */
static int
memory_exact_code(const fuzz_t *f, uint64_t addr, uint64_t len, int *alt)
{
	bool hole = model_index(f, addr) < 0;

	*alt = 0;
	if (len == 0)
		return 0;
	if (len - 1 > UINT64_MAX - addr) {
		if (hole)
			*alt = VMMEM_ERROR_INVALID_ADDRESS;
		return VMMEM_ERROR_OVERFLOW;
	}
	if (hole)
		return VMMEM_ERROR_INVALID_ADDRESS;
	return model_prefix(f, addr, len) == len ? 0 : VMMEM_ERROR_PARTIAL_RANGE;
}

typedef enum { SLICE_INLINE, SLICE_SLOW, SLICE_OBJ } slice_kind_t;

static void
op_memory_read(fuzz_t *f, GError **errp, int kind)
{
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	size_t blen, done = 77;
	uint8_t *buf = read_buf(f, len, &blen);
	int want, alt = 0;
	bool ok;

	if (kind < 0) { /* read: the contiguous prefix */
		uint64_t n = len ? model_prefix(f, addr, len) : 0;

		f->what = "memory_read";
		ok = vmmem_memory_read(f->mem, vmmem_guest_addr(addr), buf, len, &done, errp);
		want = len && n == 0 ? VMMEM_ERROR_INVALID_ADDRESS : 0;
		check_result(f, ok, errp, want, 0);
		check_count(f, "done", done, n);
		model_copy(f, addr, f->scratch, n, false);
		check_rbuf(f, buf, blen, f->scratch, n);
		return;
	}
	f->what = kind == SLICE_INLINE ? "memory_read_slice"
		  : kind == SLICE_SLOW ? "memory_read_slice_slow" : "memory_read_obj";
	if (kind == SLICE_INLINE)
		ok = vmmem_memory_read_slice(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	else if (kind == SLICE_SLOW)
		ok = vmmem_memory_read_slice_slow(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	else
		ok = vmmem_memory_read_obj(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	want = memory_exact_code(f, addr, len, &alt);
	check_result(f, ok, errp, want, alt);
	if (want == 0)
		model_copy(f, addr, f->scratch, len, false);
	check_rbuf(f, buf, blen, f->scratch, want == 0 ? len : 0);
}

static void
op_memory_write(fuzz_t *f, GError **errp, int kind)
{
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	size_t blen, done = 77;
	const uint8_t *buf = write_buf(f, len, &blen);
	int want, alt = 0;
	bool ok;

	if (kind < 0) {
		uint64_t n = len ? model_prefix(f, addr, len) : 0;

		f->what = "memory_write";
		ok = vmmem_memory_write(f->mem, vmmem_guest_addr(addr), buf, len, &done, errp);
		want = len && n == 0 ? VMMEM_ERROR_INVALID_ADDRESS : 0;
		check_result(f, ok, errp, want, 0);
		check_count(f, "done", done, n);
		model_copy(f, addr, (uint8_t *)buf, n, true);
		return;
	}
	f->what = kind == SLICE_INLINE ? "memory_write_slice"
		  : kind == SLICE_SLOW ? "memory_write_slice_slow" : "memory_write_obj";
	if (kind == SLICE_INLINE)
		ok = vmmem_memory_write_slice(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	else if (kind == SLICE_SLOW)
		ok = vmmem_memory_write_slice_slow(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	else
		ok = vmmem_memory_write_obj(f->mem, vmmem_guest_addr(addr), buf, len, errp);
	want = memory_exact_code(f, addr, len, &alt);
	check_result(f, ok, errp, want, alt);
	if (want == 0)
		model_copy(f, addr, (uint8_t *)buf, len, true);
}

/* The rule for a memory-family atomic. */
static int
memory_atomic_code(const fuzz_t *f, uint64_t addr, unsigned w)
{
	if (!valid_width(w))
		return VMMEM_ERROR_INVALID_ARGUMENT;
	if (addr & (w - 1))
		return VMMEM_ERROR_MISALIGNED;
	return model_index(f, addr) < 0 ? VMMEM_ERROR_INVALID_ADDRESS : 0;
}

static uint64_t
model_load(fuzz_t *f, uint64_t addr, unsigned w)
{
	uint64_t v = 0;

	model_copy(f, addr, (uint8_t *)&v, w, false); /* little-endian host */
	return v;
}

static void
op_memory_atomic(fuzz_t *f, GError **errp, bool store, bool typed)
{
	uint64_t addr = pick_addr(f), value = fuzz_u64(&f->in), got = 0;
	unsigned w = pick_width(f);
	memory_order order = pick_order(f, store);
	vmmem_guest_addr_t a = vmmem_guest_addr(addr);
	int want;
	bool ok;

	if (typed && !valid_width(w))
		w = 8;
	want = memory_atomic_code(f, addr, w);
	f->what = store ? (typed ? "memory_store_uN" : "memory_store")
			: (typed ? "memory_load_uN" : "memory_load");
	if (store) {
		if (!typed)
			ok = vmmem_memory_store(f->mem, a, w, value, order, errp);
		else if (w == 1)
			ok = vmmem_memory_store_u8(f->mem, a, (uint8_t)value, order, errp);
		else if (w == 2)
			ok = vmmem_memory_store_u16(f->mem, a, (uint16_t)value, order, errp);
		else if (w == 4)
			ok = vmmem_memory_store_u32(f->mem, a, (uint32_t)value, order, errp);
		else
			ok = vmmem_memory_store_u64(f->mem, a, value, order, errp);
		check_result(f, ok, errp, want, 0);
		if (want == 0)
			model_copy(f, addr, (uint8_t *)&value, w, true);
		return;
	}
	if (!typed) {
		ok = vmmem_memory_load(f->mem, a, w, order, &got, errp);
	} else if (w == 1) {
		uint8_t v = 0;
		ok = vmmem_memory_load_u8(f->mem, a, &v, order, errp);
		got = v;
	} else if (w == 2) {
		uint16_t v = 0;
		ok = vmmem_memory_load_u16(f->mem, a, &v, order, errp);
		got = v;
	} else if (w == 4) {
		uint32_t v = 0;
		ok = vmmem_memory_load_u32(f->mem, a, &v, order, errp);
		got = v;
	} else {
		ok = vmmem_memory_load_u64(f->mem, a, &got, order, errp);
	}
	check_result(f, ok, errp, want, 0);
	if (want == 0)
		check_count(f, "loaded value", got, model_load(f, addr, w));
}

static void
op_memory_get_slice(fuzz_t *f, GError **errp)
{
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	vmmem_slice_t s = { (uint8_t *)1, 1 };
	ptrdiff_t i = model_index(f, addr);
	int want, alt;
	bool ok;

	f->what = "memory_get_slice";
	ok = vmmem_memory_get_slice(f->mem, vmmem_guest_addr(addr), len, &s, errp);
	want = memory_exact_code(f, addr, len, &alt);
	if (want == 0 && len > 0 && f->r[i].last - addr + 1 < len)
		want = VMMEM_ERROR_CROSSES_REGION;
	check_result(f, ok, errp, want, alt);
	if (want != 0)
		return;
	if (len == 0) {
		check_count(f, "slice length", s.len, 0);
		return;
	}
	check_count(f, "slice length", s.len, len);
	check_count(f, "slice host", (uintptr_t)s.host,
		    (uintptr_t)vmmem_region_host(f->r[i].region) + (addr - f->r[i].start));
	/* The slice family then works on it. */
	f->slice = s;
	f->slice_model = f->r[i].bytes + (addr - f->r[i].start);
}

static void
op_memory_get_iovec(fuzz_t *f, GError **errp)
{
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	size_t max = fuzz_u8(&f->in) % (MAX_REGIONS + 2), n_iov = 99, need = 0;
	struct iovec iov[MAX_REGIONS + 2];
	int want, alt;
	bool ok;

	f->what = "memory_get_iovec";
	ok = vmmem_memory_get_iovec(f->mem, vmmem_guest_addr(addr), len, iov, max, &n_iov, errp);
	want = memory_exact_code(f, addr, len, &alt);
	if (want == 0 && len > 0) {
		/* One iovec per region crossed. */
		uint64_t a = addr, left = len;

		while (left > 0) {
			const model_region_t *r = &f->r[model_index(f, a)];
			uint64_t k = MIN(left, r->last - a + 1);

			if (need < max) {
				check_count(f, "iov_base", (uintptr_t)iov[need].iov_base,
					    (uintptr_t)vmmem_region_host(r->region) + (a - r->start));
				check_count(f, "iov_len", iov[need].iov_len, k);
			}
			need++;
			left -= k;
			a += k;
		}
		if (need > max)
			want = VMMEM_ERROR_NO_SPACE;
	}
	check_result(f, ok, errp, want, alt);
	if (want == 0 || want == VMMEM_ERROR_NO_SPACE)
		check_count(f, "n_iov", n_iov, need);
}

static void
op_memory_lookup(fuzz_t *f, GError **errp)
{
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	ptrdiff_t i = model_index(f, addr);
	const vmmem_region_t *want = i < 0 ? NULL : f->r[i].region;
	vmmem_region_addr_t off = { 12345 };
	void *host;

	f->what = "memory_check_range";
	if (vmmem_memory_check_range(f->mem, vmmem_guest_addr(addr), len) !=
	    (len == 0 || (len - 1 <= UINT64_MAX - addr && model_prefix(f, addr, len) == len)))
		fuzz_fail("op %u check_range(0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
			  "x) disagrees with the model", f->op, addr, len);
	f->what = "memory_find_region";
	if (vmmem_memory_find_region(f->mem, vmmem_guest_addr(addr)) != want ||
	    vmmem_memory_find_region_slow(f->mem, addr) != want ||
	    vmmem_memory_to_region(f->mem, vmmem_guest_addr(addr), NULL) != want)
		fuzz_fail("op %u: the region of 0x%" G_GINT64_MODIFIER "x is not region %td", f->op,
			  addr, i);
	f->what = "memory_to_region";
	if (vmmem_memory_to_region(f->mem, vmmem_guest_addr(addr), &off) != want)
		fuzz_fail("op %u: to_region(0x%" G_GINT64_MODIFIER "x) is not region %td", f->op,
			  addr, i);
	check_count(f, "offset", off.raw, i < 0 ? 12345 : addr - f->r[i].start);
	f->what = "memory_get_host_address";
	host = vmmem_memory_get_host_address(f->mem, vmmem_guest_addr(addr), errp);
	check_result(f, host != NULL, errp, i < 0 ? VMMEM_ERROR_INVALID_ADDRESS : 0, 0);
	if (i >= 0)
		check_count(f, "host address", (uintptr_t)host,
			    (uintptr_t)vmmem_region_host(want) + (addr - f->r[i].start));
	for (size_t k = 0; k < f->n; k++) {
		vmmem_region_addr_t ro = { 777 };
		bool in = addr >= f->r[k].start && addr <= f->r[k].last;

		if (vmmem_region_contains(f->r[k].region, vmmem_guest_addr(addr)) != in ||
		    vmmem_region_to_offset(f->r[k].region, vmmem_guest_addr(addr), &ro) != in)
			fuzz_fail("op %u: region %zu contains 0x%" G_GINT64_MODIFIER "x: the model "
				  "says %d", f->op, k, addr, in);
		check_count(f, "region offset", ro.raw, in ? addr - f->r[k].start : 777);
	}
}

/* ---- dirty tracking ------------------------------------------------- */

static bool
model_any_tracked(const fuzz_t *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->r[i].tracked)
			return true;
	return false;
}

/* The model's dirty bit of the 4 KiB page at addr (false in holes and
 * untracked regions); `clear` takes it, as a fetch does. */
static bool
model_dirty(fuzz_t *f, uint64_t addr, bool clear)
{
	ptrdiff_t i = model_index(f, addr);
	bool d;

	if (i < 0 || !f->r[i].tracked)
		return false;
	d = f->r[i].dirty[(addr - f->r[i].start) / PAGE];
	if (clear)
		f->r[i].dirty[(addr - f->r[i].start) / PAGE] = false;
	return d;
}

static void
check_bits(fuzz_t *f, const uint64_t *bm, uint64_t pages, uint64_t addr)
{
	for (uint64_t k = 0; k < pages; k++) {
		bool got = (bm[k / 64] >> (k % 64)) & 1, want = model_dirty(f, addr + k * PAGE, true);

		if (got != want)
			fuzz_fail("op %u %s: page 0x%" G_GINT64_MODIFIER "x is %s, the model says %s",
				  f->op, f->what, addr + k * PAGE, got ? "dirty" : "clean",
				  want ? "dirty" : "clean");
	}
}

/* Fetches (and so clears) or peeks at the dirty log: every write path of
 * the library marks the pages it wrote, and nothing else does. */
static void
op_dirty(fuzz_t *f, GError **errp)
{
	uint8_t sel = fuzz_u8(&f->in), fault = fuzz_u8(&f->in) % 4;
	bool any = model_any_tracked(f);
	/* The bitmap ends where the allocation does, so AddressSanitizer
	 * catches a fetch that writes past the n_words it was given. */
	uint64_t *all = g_new(uint64_t, 2), *bm;
	int want, alt;
	bool ok;

	all[0] = all[1] = UINT64_MAX;

	switch (sel % 4) {
	case 0: {
		uint64_t addr = pick_addr(f);

		f->what = "memory_page_is_dirty";
		if (vmmem_memory_page_is_dirty(f->mem, vmmem_guest_addr(addr)) !=
		    model_dirty(f, addr, false))
			fuzz_fail("op %u: page_is_dirty(0x%" G_GINT64_MODIFIER "x) disagrees with the "
				  "model", f->op, addr);
		break;
	}
	case 1: {
		uint64_t addr = pick_addr(f) & ~(PAGE - 1), pages = fuzz_u8(&f->in) % 128;
		uint64_t len = pages * PAGE;
		size_t words = (size_t)((pages + 63) / 64);

		if (len > (0 - addr) && addr != 0)
			len = 0 - addr, pages = len / PAGE; /* up to 2^64, not past it */
		words = (size_t)((pages + 63) / 64);
		want = alt = 0;
		if (fault == 2) {
			if (sel & 0x10)
				addr |= 1;
			else
				len |= 1;
			want = VMMEM_ERROR_INVALID_ARGUMENT;
		} else if (fault == 3 && words > 0) {
			words--;
			want = VMMEM_ERROR_NO_SPACE;
		}
		if (!any) {
			alt = want;
			want = VMMEM_ERROR_UNSUPPORTED;
		}
		f->what = "memory_fetch_dirty";
		bm = all + 2 - words;
		ok = vmmem_memory_fetch_dirty(f->mem, vmmem_guest_addr(addr), len, bm, words, errp);
		check_result(f, ok, errp, want, alt);
		if (ok)
			check_bits(f, bm, pages, addr);
		break;
	}
	case 2: {
		model_region_t *m = &f->r[fuzz_u8(&f->in) % f->n];
		size_t words = fault == 3 ? 0 : 1;

		want = !m->tracked ? VMMEM_ERROR_UNSUPPORTED : words ? 0 : VMMEM_ERROR_NO_SPACE;
		f->what = "region_fetch_dirty";
		bm = all + 2 - words;
		ok = vmmem_region_fetch_dirty(f->mem, m->region, bm, words, errp);
		check_result(f, ok, errp, want, 0);
		if (ok)
			check_bits(f, bm, m->size / PAGE, m->start);
		break;
	}
	default:
		for (size_t i = 0; i < f->n; i++)
			if (vmmem_region_dirty_tracking(f->r[i].region) != f->r[i].tracked)
				fuzz_fail("region %zu: dirty_tracking is not %d", i, f->r[i].tracked);
		break;
	}
	g_free(all);
}

/* ---- fd transfers (all three families) ------------------------------ */

/* Positions the source file; returns the bytes left in it. */
static uint64_t
pick_src_pos(fuzz_t *f)
{
	uint8_t sel = fuzz_u8(&f->in);
	uint64_t pos;

	switch (sel % 4) {
	case 0: pos = 0; break;
	case 1: pos = SRC_LEN - (sel >> 2); break;
	case 2: pos = SRC_LEN; break;
	default: pos = fuzz_u16(&f->in) * (uint64_t)4; break;
	}
	pos = MIN(pos, (uint64_t)SRC_LEN);
	if (lseek(src_fd, (off_t)pos, SEEK_SET) != (off_t)pos)
		fuzz_fail("lseek failed");
	return SRC_LEN - pos;
}

static void
reset_dst(void)
{
	if (ftruncate(dst_fd, 0) != 0 || lseek(dst_fd, 0, SEEK_SET) != 0)
		fuzz_fail("cannot reset the destination memfd");
}

/* The destination file holds exactly the n bytes `expect`. */
static void
check_dst(fuzz_t *f, const uint8_t *expect, uint64_t n)
{
	struct stat st;

	if (fstat(dst_fd, &st) != 0 || (uint64_t)st.st_size != n)
		fuzz_fail("op %u %s: the file got 0x%" G_GINT64_MODIFIER "x bytes, the model says "
			  "0x%" G_GINT64_MODIFIER "x", f->op, f->what, (uint64_t)st.st_size, n);
	if (n && pread(dst_fd, f->rbuf, n, 0) != (ssize_t)n)
		fuzz_fail("cannot read the destination memfd back");
	if (n && memcmp(f->rbuf, expect, n) != 0)
		fuzz_fail("op %u %s: the bytes written to the file differ from the model", f->op,
			  f->what);
}

/* The four fd operations over one family, given how it decides: `n` is
 * how many bytes from the start are backed, at most len; `hole` whether
 * the first one is not; exact_code the all-or-nothing rule's code. */
typedef struct fd_case {
	uint64_t len, n;
	bool hole;
	int exact_code, exact_alt;
} fd_case_t;

typedef bool (*fd_plain_fn)(void *ctx, uint64_t a, int fd, size_t len, size_t *done,
			    GError **error, bool to_fd);
typedef bool (*fd_exact_fn)(void *ctx, uint64_t a, int fd, size_t len, GError **error,
			    bool to_fd);

/* Model bytes of the family: read or write n bytes at a. */
typedef void (*model_io_fn)(fuzz_t *f, void *ctx, uint64_t a, uint8_t *buf, uint64_t n,
			    bool to_model);

static void
run_fd(fuzz_t *f, GError **errp, void *ctx, uint64_t a, const fd_case_t *c, unsigned which,
       fd_plain_fn plain, fd_exact_fn exact, model_io_fn io)
{
	size_t done = 77;
	uint64_t left;
	bool ok;

	switch (which % 4) {
	case 0: /* read_from_fd: one transfer over the backed prefix */
		left = pick_src_pos(f);
		ok = plain(ctx, a, src_fd, c->len, &done, errp, false);
		check_result(f, ok, errp, c->len && c->hole ? VMMEM_ERROR_INVALID_ADDRESS : 0, 0);
		check_count(f, "done", done, MIN(c->n, left));
		io(f, ctx, a, src_bytes + SRC_LEN - left, MIN(c->n, left), true);
		break;
	case 1: /* read_exact_from_fd: all or nothing before I/O, then a loop */
		left = pick_src_pos(f);
		ok = exact(ctx, a, src_fd, c->len, errp, false);
		if (c->exact_code) {
			check_result(f, ok, errp, c->exact_code, c->exact_alt);
			break;
		}
		check_result(f, ok, errp, left < c->len ? VMMEM_ERROR_SHORT_TRANSFER : 0, 0);
		io(f, ctx, a, src_bytes + SRC_LEN - left, MIN(c->len, left), true);
		break;
	case 2: /* write_to_fd */
		reset_dst();
		ok = plain(ctx, a, dst_fd, c->len, &done, errp, true);
		check_result(f, ok, errp, c->len && c->hole ? VMMEM_ERROR_INVALID_ADDRESS : 0, 0);
		check_count(f, "done", done, c->n);
		io(f, ctx, a, f->scratch, c->n, false);
		check_dst(f, f->scratch, c->n);
		break;
	default: /* write_all_to_fd */
		reset_dst();
		ok = exact(ctx, a, dst_fd, c->len, errp, true);
		check_result(f, ok, errp, c->exact_code, c->exact_alt);
		if (c->exact_code == 0)
			io(f, ctx, a, f->scratch, c->len, false);
		check_dst(f, f->scratch, c->exact_code == 0 ? c->len : 0);
		break;
	}
}

static bool
memory_fd_plain(void *ctx, uint64_t a, int fd, size_t len, size_t *done, GError **error,
		bool to_fd)
{
	return to_fd ? vmmem_memory_write_to_fd(ctx, vmmem_guest_addr(a), fd, len, done, error)
		     : vmmem_memory_read_from_fd(ctx, vmmem_guest_addr(a), fd, len, done, error);
}

static bool
memory_fd_exact(void *ctx, uint64_t a, int fd, size_t len, GError **error, bool to_fd)
{
	return to_fd ? vmmem_memory_write_all_to_fd(ctx, vmmem_guest_addr(a), fd, len, error)
		     : vmmem_memory_read_exact_from_fd(ctx, vmmem_guest_addr(a), fd, len, error);
}

static void
memory_io(fuzz_t *f, void *ctx, uint64_t a, uint8_t *buf, uint64_t n, bool to_model)
{
	model_copy(f, a, buf, n, to_model);
}

static void
op_memory_fd(fuzz_t *f, GError **errp)
{
	unsigned which = fuzz_u8(&f->in);
	uint64_t addr = pick_addr(f), len = pick_len(f, addr, end_of_region(f, addr));
	fd_case_t c = { len, len ? model_prefix(f, addr, len) : 0, model_index(f, addr) < 0, 0, 0 };
	static const char *const names[] = { "memory_read_from_fd", "memory_read_exact_from_fd",
					     "memory_write_to_fd", "memory_write_all_to_fd" };

	/* One transfer moves at most SSIZE_MAX bytes; ours are far smaller. */
	c.exact_code = memory_exact_code(f, addr, len, &c.exact_alt);
	f->what = names[which % 4];
	run_fd(f, errp, f->mem, addr, &c, which, memory_fd_plain, memory_fd_exact, memory_io);
}

/* ---- the region and slice families (one span each) ---------------- */

/* A span as the model sees it: its bytes, size and host start. */
typedef struct span_model {
	uint8_t *bytes;
	uint64_t size;
	const uint8_t *host;
	const vmmem_region_t *region; /* NULL: the current slice */
	model_region_t *m;            /* the region's model; NULL for a slice */
	vmmem_slice_t slice;
} span_model_t;

static int
span_exact_code(const span_model_t *s, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	if (off >= s->size)
		return VMMEM_ERROR_INVALID_ADDRESS;
	return len > s->size - off ? VMMEM_ERROR_PARTIAL_RANGE : 0;
}

static uint64_t
span_prefix(const span_model_t *s, uint64_t off, uint64_t len)
{
	return off >= s->size ? 0 : MIN(len, s->size - off);
}

static uint64_t
pick_off(fuzz_t *f, const span_model_t *s)
{
	uint8_t sel = fuzz_u8(&f->in);
	int8_t d = (int8_t)fuzz_u8(&f->in);

	switch (sel % 6) {
	case 0: return (uint8_t)d;
	case 1: return s->size + (uint64_t)(int64_t)d;
	case 2: return fuzz_u16(&f->in);
	case 3: return UINT64_MAX - (uint8_t)d;
	case 4: return (uint64_t)1 << ((uint8_t)d % 64);
	default: return fuzz_u64(&f->in);
	}
}

static bool
span_fd_plain(void *ctx, uint64_t a, int fd, size_t len, size_t *done, GError **error,
	      bool to_fd)
{
	span_model_t *s = ctx;

	if (s->region)
		return to_fd ? vmmem_region_write_to_fd(s->region, vmmem_region_addr(a), fd, len,
							 done, error)
			     : vmmem_region_read_from_fd(s->region, vmmem_region_addr(a), fd, len,
							  done, error);
	return to_fd ? vmmem_slice_write_to_fd(s->slice, a, fd, len, done, error)
		     : vmmem_slice_read_from_fd(s->slice, a, fd, len, done, error);
}

static bool
span_fd_exact(void *ctx, uint64_t a, int fd, size_t len, GError **error, bool to_fd)
{
	span_model_t *s = ctx;

	if (s->region)
		return to_fd ? vmmem_region_write_all_to_fd(s->region, vmmem_region_addr(a), fd,
							     len, error)
			     : vmmem_region_read_exact_from_fd(s->region, vmmem_region_addr(a), fd,
								len, error);
	return to_fd ? vmmem_slice_write_all_to_fd(s->slice, a, fd, len, error)
		     : vmmem_slice_read_exact_from_fd(s->slice, a, fd, len, error);
}

static void
span_io(fuzz_t *f, void *ctx, uint64_t a, uint8_t *buf, uint64_t n, bool to_model)
{
	span_model_t *s = ctx;

	if (n == 0)
		return;
	if (to_model && s->m) /* slices are raw pointers: writes through them are not marked */
		model_mark(s->m, a, n);
	if (to_model)
		memcpy(s->bytes + a, buf, n);
	else
		memcpy(buf, s->bytes + a, n);
}

/* One operation of the region (or slice) family. */
static void
op_span(fuzz_t *f, GError **errp, span_model_t *s)
{
	unsigned which = fuzz_u8(&f->in);
	uint64_t off = pick_off(f, s), len = pick_len(f, off, s->size - MIN(off, s->size));
	const vmmem_region_t *r = s->region;
	vmmem_region_addr_t ra = vmmem_region_addr(off);
	size_t blen, done = 77;
	int want;
	bool ok;

	switch (which % 7) {
	case 0: { /* read, read_slice, read_obj */
		uint8_t *buf = read_buf(f, len, &blen);
		unsigned k = (which >> 3) % 3;
		uint64_t n;

		f->what = r ? "region_read*" : "slice_read*";
		if (k == 0)
			ok = r ? vmmem_region_read(r, ra, buf, len, &done, errp)
			       : vmmem_slice_read(s->slice, off, buf, len, &done, errp);
		else if (k == 1)
			ok = r ? vmmem_region_read_slice(r, ra, buf, len, errp)
			       : vmmem_slice_read_slice(s->slice, off, buf, len, errp);
		else
			ok = r ? vmmem_region_read_obj(r, ra, buf, len, errp)
			       : vmmem_slice_read_obj(s->slice, off, buf, len, errp);
		if (k == 0) {
			n = span_prefix(s, off, len);
			check_result(f, ok, errp, len && !n ? VMMEM_ERROR_INVALID_ADDRESS : 0, 0);
			check_count(f, "done", done, n);
		} else {
			want = span_exact_code(s, off, len);
			check_result(f, ok, errp, want, 0);
			n = want ? 0 : len;
		}
		check_rbuf(f, buf, blen, s->bytes + (n ? off : 0), n);
		break;
	}
	case 1: { /* write, write_slice, write_obj */
		const uint8_t *buf = write_buf(f, len, &blen);
		unsigned k = (which >> 3) % 3;
		uint64_t n;

		f->what = r ? "region_write*" : "slice_write*";
		if (k == 0)
			ok = r ? vmmem_region_write(r, ra, buf, len, &done, errp)
			       : vmmem_slice_write(s->slice, off, buf, len, &done, errp);
		else if (k == 1)
			ok = r ? vmmem_region_write_slice(r, ra, buf, len, errp)
			       : vmmem_slice_write_slice(s->slice, off, buf, len, errp);
		else
			ok = r ? vmmem_region_write_obj(r, ra, buf, len, errp)
			       : vmmem_slice_write_obj(s->slice, off, buf, len, errp);
		if (k == 0) {
			n = span_prefix(s, off, len);
			check_result(f, ok, errp, len && !n ? VMMEM_ERROR_INVALID_ADDRESS : 0, 0);
			check_count(f, "done", done, n);
		} else {
			want = span_exact_code(s, off, len);
			check_result(f, ok, errp, want, 0);
			n = want ? 0 : len;
		}
		span_io(f, s, off, (uint8_t *)buf, n, true);
		break;
	}
	case 2:
	case 3: { /* load / store, width form and typed */
		bool store = which % 7 == 3, typed = (which >> 3) & 1;
		unsigned w = pick_width(f);
		memory_order order = pick_order(f, store);
		uint64_t value = fuzz_u64(&f->in), got = 0;
		int alt = 0;

		if (typed && !valid_width(w))
			w = 4;
		off = len % 2 ? off : off & ~(uint64_t)(w ? w - 1 : 0);
		/* Width first; then the range and the alignment of the host
		 * address, which an out-of-range misaligned offset breaks both. */
		if (!valid_width(w)) {
			want = VMMEM_ERROR_INVALID_ARGUMENT;
		} else {
			bool misaligned = ((uintptr_t)s->host + off) & (w - 1);

			want = span_exact_code(s, off, w);
			if (want && misaligned)
				alt = VMMEM_ERROR_MISALIGNED;
			else if (misaligned)
				want = VMMEM_ERROR_MISALIGNED;
		}
		f->what = r ? (store ? "region_store" : "region_load")
			    : (store ? "slice_store" : "slice_load");
		ra = vmmem_region_addr(off);
		if (store && !typed) {
			ok = r ? vmmem_region_store(r, ra, w, value, order, errp)
			       : vmmem_slice_store(s->slice, off, w, value, order, errp);
		} else if (store) {
			switch (w) {
			case 1: ok = r ? vmmem_region_store_u8(r, ra, (uint8_t)value, order, errp)
				       : vmmem_slice_store_u8(s->slice, off, (uint8_t)value, order, errp); break;
			case 2: ok = r ? vmmem_region_store_u16(r, ra, (uint16_t)value, order, errp)
				       : vmmem_slice_store_u16(s->slice, off, (uint16_t)value, order, errp); break;
			case 4: ok = r ? vmmem_region_store_u32(r, ra, (uint32_t)value, order, errp)
				       : vmmem_slice_store_u32(s->slice, off, (uint32_t)value, order, errp); break;
			default: ok = r ? vmmem_region_store_u64(r, ra, value, order, errp)
					: vmmem_slice_store_u64(s->slice, off, value, order, errp); break;
			}
		} else if (!typed) {
			ok = r ? vmmem_region_load(r, ra, w, order, &got, errp)
			       : vmmem_slice_load(s->slice, off, w, order, &got, errp);
		} else {
			uint8_t v8 = 0;
			uint16_t v16 = 0;
			uint32_t v32 = 0;

			switch (w) {
			case 1: ok = r ? vmmem_region_load_u8(r, ra, &v8, order, errp)
				       : vmmem_slice_load_u8(s->slice, off, &v8, order, errp); got = v8; break;
			case 2: ok = r ? vmmem_region_load_u16(r, ra, &v16, order, errp)
				       : vmmem_slice_load_u16(s->slice, off, &v16, order, errp); got = v16; break;
			case 4: ok = r ? vmmem_region_load_u32(r, ra, &v32, order, errp)
				       : vmmem_slice_load_u32(s->slice, off, &v32, order, errp); got = v32; break;
			default: ok = r ? vmmem_region_load_u64(r, ra, &got, order, errp)
					: vmmem_slice_load_u64(s->slice, off, &got, order, errp); break;
			}
		}
		check_result(f, ok, errp, want, alt);
		if (want == 0 && store) {
			span_io(f, s, off, (uint8_t *)&value, w, true);
		} else if (want == 0) {
			uint64_t v = 0;

			memcpy(&v, s->bytes + off, w);
			check_count(f, "loaded value", got, v);
		}
		break;
	}
	case 4: { /* get_slice */
		vmmem_slice_t sub = { (uint8_t *)1, 1 };

		f->what = r ? "region_get_slice" : "slice_get_slice";
		ok = r ? vmmem_region_get_slice(r, ra, len, &sub, errp)
		       : vmmem_slice_get_slice(s->slice, off, len, &sub, errp);
		want = span_exact_code(s, off, len);
		check_result(f, ok, errp, want, 0);
		if (want == 0 && len) {
			check_count(f, "slice host", (uintptr_t)sub.host, (uintptr_t)s->host + off);
			check_count(f, "slice length", sub.len, len);
			f->slice = sub;
			f->slice_model = s->bytes + off;
		} else if (want == 0) {
			check_count(f, "slice length", sub.len, 0);
		}
		break;
	}
	default: { /* the fd family */
		fd_case_t c = { len, span_prefix(s, off, len), len && off >= s->size,
				span_exact_code(s, off, len), 0 };
		static const char *const rnames[] = { "region_read_from_fd",
						      "region_read_exact_from_fd",
						      "region_write_to_fd",
						      "region_write_all_to_fd" };
		static const char *const snames[] = { "slice_read_from_fd",
						      "slice_read_exact_from_fd",
						      "slice_write_to_fd", "slice_write_all_to_fd" };

		which >>= 3;
		f->what = (r ? rnames : snames)[which % 4];
		run_fd(f, errp, s, off, &c, which, span_fd_plain, span_fd_exact, span_io);
		break;
	}
	}
}

static void
op_region(fuzz_t *f, GError **errp)
{
	model_region_t *m = &f->r[fuzz_u8(&f->in) % f->n];
	span_model_t s = { m->bytes, m->size, vmmem_region_host(m->region), m->region, m, { 0 } };

	op_span(f, errp, &s);
}

static void
op_slice(fuzz_t *f, GError **errp)
{
	span_model_t s;

	if (fuzz_u8(&f->in) % 4 == 0) {
		/* A fresh slice over part of a region, by vmmem_slice_from. */
		const model_region_t *m = pick_region(f);
		uint64_t a = fuzz_u16(&f->in) % m->size, b = fuzz_u16(&f->in) % (m->size - a + 1);

		f->slice = vmmem_slice_from((uint8_t *)vmmem_region_host(m->region) + a, b);
		f->slice_model = m->bytes + a;
	}
	s.bytes = f->slice_model;
	s.size = f->slice.len;
	s.host = f->slice.host;
	s.region = NULL;
	s.m = NULL;
	s.slice = f->slice;
	op_span(f, errp, &s);
}

static void
check_regions(fuzz_t *f)
{
	f->what = "region properties";
	if (vmmem_memory_num_regions(f->mem) != f->n)
		fuzz_fail("num_regions is %zu, the layout has %zu", vmmem_memory_num_regions(f->mem),
			  f->n);
	if (vmmem_memory_region(f->mem, f->n) != NULL)
		fuzz_fail("region(n) is not NULL");
	check_count(f, "last_addr", vmmem_memory_last_addr(f->mem).raw, f->r[f->n - 1].last);
	for (size_t i = 0; i < f->n; i++) {
		const vmmem_region_t *r = f->r[i].region;

		check_count(f, "region start", vmmem_region_start(r).raw, f->r[i].start);
		check_count(f, "region size", vmmem_region_size(r), f->r[i].size);
		check_count(f, "region last", vmmem_region_last_addr(r).raw, f->r[i].last);
		check_count(f, "region page size", vmmem_region_page_size(r), PAGE);
		if (!vmmem_region_host(r) || !vmmem_region_name(r) ||
		    g_strcmp0(vmmem_region_provider_name(r), f->r[i].pinned ? "pinned" : "mmap") != 0 ||
		    !vmmem_region_provider_path(r))
			fuzz_fail("region %zu: a property is missing", i);
	}
}

/* ---- the layout ----------------------------------------------------- */

/* 1 + n%16 regions, each 1 to 16 pages, placed after the one before: right
 * after it, a page or a few pages later, or jumped to 2^32, 2^48, 2^63 or
 * the top of the address space. A region that would pass 2^64 ends the
 * layout there. Bit 7 of a region's size byte takes the pinned provider
 * instead of mmap, bit 6 turns on dirty tracking (below 2^46, where the
 * core tracks). */
static void
decode_layout(fuzz_t *f, vmmem_region_spec_t *specs)
{
	uint64_t next = 0; /* the lowest start the next region may have */
	size_t want = 1 + fuzz_u8(&f->in) % MAX_REGIONS;
	bool full = false;

	f->n = 0;
	f->total = 0;
	for (size_t i = 0; i < want && !full; i++) {
		uint8_t how = fuzz_u8(&f->in), what = fuzz_u8(&f->in);
		uint64_t pages = 1 + what % MAX_PAGES, size = pages * PAGE, start;
		uint64_t gap;

		switch (how % 4) {
		case 0: gap = 0; break;
		case 1: gap = PAGE; break;
		case 2: gap = (uint64_t)(how >> 2) * PAGE; break;
		default: gap = UINT64_MAX; break; /* a jump */
		}
		if (gap == UINT64_MAX) {
			static const uint64_t anchors[] = { (uint64_t)1 << 32, (uint64_t)1 << 48,
							    (uint64_t)1 << 63, 0 };
			uint64_t anchor = anchors[(how >> 2) % 4];

			/* 0 stands for "ending at 2^64, a few pages below". */
			if (anchor == 0)
				anchor = 0 - size - (uint64_t)((how >> 4) % 4) * PAGE;
			start = MAX(anchor, next);
		} else if (__builtin_add_overflow(next, gap, &start)) {
			break;
		}
		if (start + size - 1 < start)
			break;
		f->r[f->n].start = start;
		f->r[f->n].size = size;
		f->r[f->n].last = start + size - 1;
		f->r[f->n].pinned = (what & 0x80) && pinned_path;
		f->r[f->n].tracked = (what & 0x40) && f->r[f->n].last < TRACKED_END;
		memset(f->r[f->n].dirty, 0, sizeof(f->r[f->n].dirty));
		f->n++;
		f->total += size;
		next = start + size; /* 0 after a region that ends at 2^64 */
		full = next == 0;
	}
	memset(specs, 0, sizeof(*specs) * MAX_REGIONS);
	for (size_t i = 0; i < f->n; i++) {
		specs[i].start = vmmem_guest_addr(f->r[i].start);
		specs[i].size = f->r[i].size;
		specs[i].provider = f->r[i].pinned ? pinned_path : NULL;
		specs[i].flags = f->r[i].tracked ? VMMEM_SPEC_DIRTY_TRACKING : 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vmmem_region_spec_t specs[MAX_REGIONS];
	fuzz_t f;
	GError *err = NULL;
	bool verbose;

	memset(&f, 0, sizeof(f));
	f.in.p = data;
	f.in.left = size;

	decode_layout(&f, specs);
	if (f.n == 0)
		return 0;
	f.mem = vmmem_memory_new(specs, f.n, &err);
	if (!f.mem)
		fuzz_fail("vmmem_memory_new refused a valid layout of %zu regions: %s", f.n,
			  err->message);
	for (size_t i = 0; i < f.n; i++) {
		f.r[i].region = vmmem_memory_region(f.mem, i);
		f.r[i].bytes = g_malloc0(f.r[i].size);
	}
	check_regions(&f);
	verbose = g_getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		for (size_t i = 0; i < f.n; i++)
			fprintf(stderr, "region %zu: [0x%" G_GINT64_MODIFIER "x, +0x%" G_GINT64_MODIFIER
				"x) %s%s, host %p\n", i, f.r[i].start, f.r[i].size,
				vmmem_region_provider_name(f.r[i].region),
				f.r[i].tracked ? ", tracked" : "", vmmem_region_host(f.r[i].region));
	f.what = "a new memory";
	check_memory(&f); /* zero-filled */
	for (size_t i = 0; i < f.n; i++) {
		memcpy(f.r[i].bytes, pattern + (i * 97) % PAGE, f.r[i].size);
		memcpy(vmmem_region_host(f.r[i].region), f.r[i].bytes, f.r[i].size);
	}
	f.cap = (size_t)f.total + PAGE;
	f.rbuf = g_malloc(f.cap);
	f.wbuf = g_malloc(f.cap);
	f.scratch = g_malloc(f.cap);
	f.untouched = g_malloc(f.cap);
	memset(f.untouched, 0xa5, f.cap);
	memcpy(f.wbuf, pattern + PAGE / 2, f.cap);
	f.slice = vmmem_slice_from(vmmem_region_host(f.r[0].region), f.r[0].size);
	f.slice_model = f.r[0].bytes;

	for (f.op = 0; f.op < MAX_OPS && f.in.left > 0; f.op++) {
		uint8_t code = fuzz_u8(&f.in);
		GError **errp = code & 0x80 ? NULL : &err;

		switch (code % 21) {
		case 0: op_memory_read(&f, errp, -1); break;
		case 1: op_memory_write(&f, errp, -1); break;
		case 2: op_memory_read(&f, errp, SLICE_INLINE); break;
		case 3: op_memory_write(&f, errp, SLICE_INLINE); break;
		case 4: op_memory_read(&f, errp, SLICE_SLOW); break;
		case 5: op_memory_write(&f, errp, SLICE_SLOW); break;
		case 6: op_memory_read(&f, errp, SLICE_OBJ); break;
		case 7: op_memory_write(&f, errp, SLICE_OBJ); break;
		case 8: op_memory_atomic(&f, errp, false, false); break;
		case 9: op_memory_atomic(&f, errp, true, false); break;
		case 10: op_memory_atomic(&f, errp, false, true); break;
		case 11: op_memory_atomic(&f, errp, true, true); break;
		case 12: op_memory_get_slice(&f, errp); break;
		case 13: op_memory_get_iovec(&f, errp); break;
		case 14: op_memory_lookup(&f, errp); break;
		case 15: op_memory_fd(&f, errp); break;
		case 16:
		case 17: op_region(&f, errp); break;
		case 20: op_dirty(&f, errp); break;
		default: op_slice(&f, errp); break;
		}
		if (verbose)
			fprintf(stderr, "op %u: %s\n", f.op, f.what);
		/* All of memory after every op while that is cheap, else every
		 * 8th op: a stray write is still caught, a few ops late. */
		if (f.total <= CHEAP_CHECK || f.op % 8 == 7)
			check_memory(&f);
	}
	f.what = "the last op";
	check_memory(&f);

	for (size_t i = 0; i < f.n; i++)
		g_free(f.r[i].bytes);
	g_free(f.rbuf);
	g_free(f.wbuf);
	g_free(f.scratch);
	g_free(f.untouched);
	vmmem_memory_unref(f.mem);
	return 0;
}
