/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — an IOVA address space: an IOTLB over a guest memory.
 *
 * A device behind a virtual IOMMU sees I/O virtual addresses (IOVAs), not
 * guest-physical ones. An IOTLB (vmmem_iotlb_t) holds the translations the
 * IOMMU handed out: entries {iova, size, target, permissions}, where the
 * target is a guest physical address (VMMEM_IOTLB_TARGET_GUEST) or, for
 * vhost-user, a frontend virtual address ("uaddr",
 * VMMEM_IOTLB_TARGET_FRONTEND) that the memory's frontend-address table
 * (<vmmem/vhost-user.h>) turns into a guest address. It is modelled on
 * rust-vmm vm-memory's Iotlb / IommuMemory and DPDK's vhost IOTLB.
 *
 * Readers work through a vmmem_iova_t, a small handle on the caller's
 * stack that holds one snapshot of the IOTLB and one guest memory (a
 * snapshot of a space, or any vmmem_memory_t) for a sequence of accesses,
 * say one descriptor chain:
 *
 *     const vmmem_memory_t *m = vmmem_space_get(space);
 *     vmmem_iova_t io;
 *     vmmem_iova_begin(&io, tlb, m);
 *     ... vmmem_iova_read_obj(&io, desc_iova, &d, sizeof(d), &err) ...
 *     vmmem_iova_end(&io);
 *     vmmem_space_put(space, m);
 *
 * Every access is translated first and then done by the guest-memory
 * function of the same family (<vmmem/access.h>) on the guest ranges the
 * translation gave, so the rules of <vmmem/access.h> hold unchanged:
 * all-or-nothing accesses check every byte (translation, permission,
 * backing) before one moves; aligned 1/2/4/8-byte values move in one
 * access; writes set dirty bits by guest page, after translation. An
 * access may span several IOTLB entries; it works when each is present
 * and permits it.
 *
 * MISSES ARE REPORTED, NOT GUESSED. A byte with no entry fails with
 * VMMEM_ERROR_IOTLB_MISS, a byte whose entry does not permit the access
 * with VMMEM_ERROR_IOTLB_DENIED; both messages name the IOVA and the
 * access kind. A section sees the IOTLB as it was when it began, except
 * that a miss or denial first looks at the newest table (an update made
 * meanwhile counts). Before failing, the access calls the IOTLB's miss handler
 * (if one is set) with the IOVA and the access kind: it may fill the entry
 * (vmmem_iotlb_update, which never waits for readers) and ask for a retry,
 * up to VMMEM_IOTLB_MAX_RETRIES times per access. A vhost-user backend's
 * handler sends IOTLB_MISS to the frontend (vmmem_vhost_iotlb_miss_msg).
 *
 * CONCURRENCY. Any number of threads read at once without locks; writers
 * (update, invalidate) are serialized by the IOTLB. vmmem_iova_begin()
 * and _end() cost what vmmem_space_get()/put() cost (they nest with
 * them), and the accesses between them take no lock and write no shared
 * cache line. Updates publish a new table and never wait. Invalidations
 * publish a new table and then wait until every reader that began before
 * has ended (a grace period, as a space's writers do): when
 * vmmem_iotlb_invalidate() returns, no access uses the invalidated
 * translation any more. Hence: keep a begin/end section short (never
 * sleep in it), do not call invalidate from a thread inside one (refused
 * with VMMEM_ERROR_INVALID_ARGUMENT), and never make a reader wait for a
 * thread that may be invalidating (a miss handler that waits for the
 * frontend's update deadlocks when the control thread meets an
 * invalidation first: send the miss, fail the access, and retry the
 * request once the update came, as DPDK does).
 *
 * HOTPLUG. Translation ends at a guest address (a frontend address is
 * looked up in the caller's memory snapshot), so a space may change under
 * an IOTLB: each section uses the memory it was begun with.
 */
#ifndef VMMEM_IOTLB_H
#define VMMEM_IOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <glib.h>

#include <vmmem/access.h>
#include <vmmem/address.h>
#include <vmmem/memory.h>
#include <vmmem/slice.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An IOTLB: the translations of one IOVA address space. Opaque. */
typedef struct vmmem_iotlb vmmem_iotlb_t;

/** Permissions of an entry, and the kind of an access (READ or WRITE).
 * The values are vhost's VHOST_ACCESS_RO / _WO / _RW. */
typedef enum vmmem_iotlb_perm {
	VMMEM_IOTLB_NONE = 0,
	VMMEM_IOTLB_READ = 1,
	VMMEM_IOTLB_WRITE = 2,
	VMMEM_IOTLB_RW = 3
} vmmem_iotlb_perm_t;

/** What an entry's target is. */
typedef enum vmmem_iotlb_target {
	/** A guest physical address. */
	VMMEM_IOTLB_TARGET_GUEST = 0,
	/** A frontend virtual address (vhost-user "uaddr"), translated
	 * through the memory's frontend-address table at each access. */
	VMMEM_IOTLB_TARGET_FRONTEND = 1
} vmmem_iotlb_target_t;

/** Why an access failed to translate (given to the miss handler). */
typedef enum vmmem_iotlb_fault {
	/** No entry holds the IOVA (VMMEM_ERROR_IOTLB_MISS). */
	VMMEM_IOTLB_FAULT_MISS = 1,
	/** The entry does not permit the access (VMMEM_ERROR_IOTLB_DENIED). */
	VMMEM_IOTLB_FAULT_DENIED = 2
} vmmem_iotlb_fault_t;

/** What a miss handler asks for. */
typedef enum vmmem_iotlb_action {
	/** Fail the access with the miss or denial error. */
	VMMEM_IOTLB_FAIL = 0,
	/** The handler filled the entry: translate the access again. */
	VMMEM_IOTLB_RETRY = 1
} vmmem_iotlb_action_t;

/** How many times one access retries after its miss handler said RETRY
 * before it fails with the miss or denial it still meets. */
#define VMMEM_IOTLB_MAX_RETRIES 4

/** The number of entries an IOTLB holds by default (see max_entries). */
#define VMMEM_IOTLB_DEFAULT_MAX_ENTRIES 2048
/** The largest max_entries accepted. */
#define VMMEM_IOTLB_MAX_MAX_ENTRIES (1u << 20)

/**
 * A miss handler: called by the reading thread, inside its section, with
 * the first IOVA of the access that has no entry (fault MISS) or whose
 * entry forbids the access (fault DENIED), and the access kind
 * (VMMEM_IOTLB_READ or VMMEM_IOTLB_WRITE). It may call vmmem_iotlb_update()
 * (never vmmem_iotlb_invalidate()) and return VMMEM_IOTLB_RETRY; the
 * access then translates again from its first byte. It must not wait for
 * another thread that may invalidate the IOTLB or change the space.
 */
typedef vmmem_iotlb_action_t (*vmmem_iotlb_miss_fn)(vmmem_iotlb_t *tlb, uint64_t iova,
						    vmmem_iotlb_perm_t access,
						    vmmem_iotlb_fault_t fault, void *user_data);

/** One entry, as vmmem_iotlb_lookup() reports it. */
typedef struct vmmem_iotlb_entry {
	uint64_t iova;    /**< first IOVA */
	uint64_t size;    /**< bytes, at least 1; iova + size - 1 <= 2^64 - 1 */
	uint64_t target;  /**< guest or frontend address of iova */
	vmmem_iotlb_perm_t perm; /**< READ, WRITE or RW */
} vmmem_iotlb_entry_t;

/** Options of vmmem_iotlb_new(). */
typedef struct vmmem_iotlb_options {
	/** sizeof(vmmem_iotlb_options_t): fields past it are taken as zero. */
	size_t struct_size;
	/** What entry targets are (VMMEM_IOTLB_TARGET_GUEST by default). */
	vmmem_iotlb_target_t target;
	/** The most entries held at once; 0: VMMEM_IOTLB_DEFAULT_MAX_ENTRIES.
	 * An update into a full IOTLB evicts other entries (it is a cache:
	 * the miss handler refills them). At most VMMEM_IOTLB_MAX_MAX_ENTRIES. */
	size_t max_entries;
} vmmem_iotlb_options_t;

/** A new, empty IOTLB (every access misses). `options` may be NULL for the
 * defaults; a bad option is VMMEM_ERROR_INVALID_ARGUMENT. Free with
 * vmmem_iotlb_free(). */
VMMEM_API vmmem_iotlb_t *vmmem_iotlb_new(const vmmem_iotlb_options_t *options, GError **error);

/** Frees the IOTLB. No reader may be inside a section on it. NULL is
 * ignored. */
VMMEM_API void vmmem_iotlb_free(vmmem_iotlb_t *tlb);

/** What the IOTLB's targets are. */
VMMEM_API vmmem_iotlb_target_t vmmem_iotlb_target_kind(const vmmem_iotlb_t *tlb);

/** Sets (fn NULL: removes) the miss handler. Call it before readers
 * start: it is not synchronized with them. */
VMMEM_API void vmmem_iotlb_set_miss_handler(vmmem_iotlb_t *tlb, vmmem_iotlb_miss_fn fn,
					    void *user_data);

/**
 * Maps [iova, iova + size) to [target, target + size) with `perm`
 * (READ, WRITE or RW). Where it overlaps entries, it replaces them there
 * (their parts outside the range stay, split). Never waits for readers:
 * readers that began before may still use a replaced translation until
 * they end, as a hardware IOTLB may until it is invalidated (invalidate
 * first to be sure). May be called from a miss handler.
 *
 * Refused with the IOTLB unchanged: size 0 (VMMEM_ERROR_INVALID_ARGUMENT),
 * an IOVA or target range that passes 2^64 (VMMEM_ERROR_OVERFLOW: an
 * entry may end exactly at 2^64 - 1, it never wraps), perm NONE or not a
 * permission (VMMEM_ERROR_INVALID_ARGUMENT). Thread-safe.
 */
VMMEM_API bool vmmem_iotlb_update(vmmem_iotlb_t *tlb, uint64_t iova, uint64_t size,
				  uint64_t target, vmmem_iotlb_perm_t perm, GError **error);

/**
 * Removes every translation of [iova, iova + size): entries inside it go,
 * entries partly inside it are cut to the parts outside (which keep their
 * targets and permissions). Then waits for every reader section that began
 * before the call: when it returns, no access uses a removed translation.
 * Readers never wait for it. Size 0 is VMMEM_ERROR_INVALID_ARGUMENT, a
 * range past 2^64 VMMEM_ERROR_OVERFLOW; a range with no entry is not an
 * error. Refused (VMMEM_ERROR_INVALID_ARGUMENT) from a thread inside a
 * read section (it would wait for itself). Thread-safe.
 */
VMMEM_API bool vmmem_iotlb_invalidate(vmmem_iotlb_t *tlb, uint64_t iova, uint64_t size,
				      GError **error);

/** Removes every entry, with the waiting rule of vmmem_iotlb_invalidate(). */
VMMEM_API bool vmmem_iotlb_invalidate_all(vmmem_iotlb_t *tlb, GError **error);

/** The number of entries now. */
VMMEM_API size_t vmmem_iotlb_num_entries(const vmmem_iotlb_t *tlb);

/** The entry holding `iova` now, in *out (may be NULL); false if none. */
VMMEM_API bool vmmem_iotlb_lookup(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_entry_t *out);

/* ------------------------------------------------------------------------
 * Accesses by IOVA
 * ------------------------------------------------------------------------ */

/**
 * A reader's handle: one IOTLB snapshot and one guest memory, from
 * vmmem_iova_begin() to vmmem_iova_end(), in one thread. It lives on the
 * caller's stack; its fields are read by the inline accessors below and
 * are not API. The layout is ABI (inline code in consumers reads it): a
 * field may only be added by taking a reserved word.
 *
 * The "hit" fields cache the translation of the last access: IOVAs
 * [hit_iova, hit_iova + hit_len) are at guest address iova + hit_delta
 * with permission hit_perm; and an access of at most 8 bytes at an IOVA
 * whose offset from hit_iova is below hit_rspan (reads) or hit_wspan
 * (writes) is backed at host address iova + hit_host, inside one run of
 * host-contiguous regions of the section's memory. They come from the
 * section's IOTLB snapshot and memory, which nothing frees before the
 * section ends, so the inline paths use them without another check.
 */
typedef struct vmmem_iova {
	uint64_t hit_iova;     /**< first IOVA of the cached translation */
	uint64_t hit_rspan;    /**< reads of <= 8 bytes at offsets below it hit */
	uint64_t hit_wspan;    /**< writes of <= 8 bytes at offsets below it hit */
	uintptr_t hit_host;    /**< host = iova + hit_host (mod 2^64) */
	uint64_t hit_delta;    /**< guest = iova + hit_delta (mod 2^64) */
	uint64_t hit_len;      /**< bytes of the cached translation; 0: none */
	uint32_t hit_perm;     /**< VMMEM_IOTLB_* bits it permits */
	uint32_t retries;      /**< internal */
	const vmmem_memory_t *mem; /**< the guest memory of the section */
	vmmem_iotlb_t *tlb;    /**< the IOTLB */
	const void *table;     /**< the IOTLB snapshot */
	uint64_t reserved[4];  /**< zero in this version */
} vmmem_iova_t;

#if defined(__x86_64__) || defined(__aarch64__)
#ifdef __cplusplus
#define VMMEM__IOVA_STATIC_ASSERT static_assert
#else
#define VMMEM__IOVA_STATIC_ASSERT _Static_assert
#endif
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_iova) == 0, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_rspan) == 8, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_wspan) == 16, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_host) == 24, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_delta) == 32, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_len) == 40, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, hit_perm) == 48, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, mem) == 56, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(offsetof(vmmem_iova_t, table) == 72, "vmmem_iova_t is ABI");
VMMEM__IOVA_STATIC_ASSERT(sizeof(vmmem_iova_t) == 112, "vmmem_iova_t is ABI");
#undef VMMEM__IOVA_STATIC_ASSERT
#endif

/** Begins a read section over `tlb` and guest memory `mem` (which the
 * caller keeps alive until vmmem_iova_end). Lock-free; sections nest with
 * each other and with space snapshots. End it in the same thread. */
VMMEM_API void vmmem_iova_begin(vmmem_iova_t *io, vmmem_iotlb_t *tlb, const vmmem_memory_t *mem);

/** Ends the section: the IOTLB snapshot may be freed from now on. */
VMMEM_API void vmmem_iova_end(vmmem_iova_t *io);

/**
 * The first guest range of [iova, iova + len), with `access` (READ or
 * WRITE) permitted: *gpa gets the guest address of iova, *plen the bytes
 * from iova that are translated contiguously (at most len; contiguous
 * entries are joined). Backing by the memory is not checked (for a
 * frontend target, the frontend address must be in a region). len 0 is
 * VMMEM_ERROR_INVALID_ARGUMENT. Calls the miss handler as accesses do.
 */
VMMEM_API bool vmmem_iova_translate(vmmem_iova_t *io, uint64_t iova, uint64_t len,
				    vmmem_iotlb_perm_t access, vmmem_guest_addr_t *gpa,
				    uint64_t *plen, GError **error);

/** True if every byte of [iova, iova + len) is translated with `access`
 * permitted and backed by the memory. Zero length is true. Calls the miss
 * handler as accesses do. */
VMMEM_API bool vmmem_iova_check_range(vmmem_iova_t *io, uint64_t iova, size_t len,
				      vmmem_iotlb_perm_t access);

/** As vmmem_memory_read: copies as far as translation and backing are
 * contiguous from iova, the count in *done; a failure at iova itself is
 * the error (miss, denial, or the memory's). */
VMMEM_API bool vmmem_iova_read(vmmem_iova_t *io, uint64_t iova, void *buf, size_t len,
			       size_t *done, GError **error);
/** As vmmem_memory_write, with the rules of vmmem_iova_read(). */
VMMEM_API bool vmmem_iova_write(vmmem_iova_t *io, uint64_t iova, const void *buf, size_t len,
				size_t *done, GError **error);

/** All or nothing, across IOTLB entries and regions: nothing moves unless
 * every byte is translated, permitted and backed. */
VMMEM_API bool vmmem_iova_read_slice(vmmem_iova_t *io, uint64_t iova, void *buf, size_t len,
				     GError **error);
/** All or nothing, as vmmem_iova_read_slice(). */
VMMEM_API bool vmmem_iova_write_slice(vmmem_iova_t *io, uint64_t iova, const void *buf,
				      size_t len, GError **error);

/** Out of line: the whole of vmmem_iova_read_obj / _write_obj. An aligned
 * 1/2/4/8-byte value whose IOVAs translate to two separate guest ranges
 * cannot move in one access: VMMEM_ERROR_CROSSES_REGION. */
VMMEM_API bool vmmem_iova_read_obj_slow(vmmem_iova_t *io, uint64_t iova, void *obj, size_t size,
					GError **error);
/** Out of line: the whole of vmmem_iova_write_obj. */
VMMEM_API bool vmmem_iova_write_obj_slow(vmmem_iova_t *io, uint64_t iova, const void *obj,
					 size_t size, GError **error);

/** Atomic load / store of a `width`-byte integer by IOVA, as
 * vmmem_memory_load / _store. */
VMMEM_API bool vmmem_iova_load(vmmem_iova_t *io, uint64_t iova, unsigned width,
			       vmmem_memory_order_t order, uint64_t *out, GError **error);
/** Atomic store by IOVA, as vmmem_memory_store. */
VMMEM_API bool vmmem_iova_store(vmmem_iova_t *io, uint64_t iova, unsigned width, uint64_t value,
				vmmem_memory_order_t order, GError **error);

/** A slice for [iova, iova + len), whose translation must be one guest
 * range inside one region (VMMEM_ERROR_CROSSES_REGION otherwise). For
 * writing through it, ask with `access` WRITE and mark what you wrote
 * (vmmem_iova_mark_dirty). */
VMMEM_API bool vmmem_iova_get_slice(vmmem_iova_t *io, uint64_t iova, size_t len,
				    vmmem_iotlb_perm_t access, vmmem_slice_t *out,
				    GError **error);

/** The host iovecs that cover [iova, iova + len), with `access` permitted,
 * as vmmem_memory_get_iovec (one or more per guest range; *n_iov the
 * number used, or with VMMEM_ERROR_NO_SPACE the number needed). */
VMMEM_API bool vmmem_iova_get_iovec(vmmem_iova_t *io, uint64_t iova, size_t len,
				    vmmem_iotlb_perm_t access, struct iovec *iov, size_t max_iov,
				    size_t *n_iov, GError **error);

/** Marks the guest pages behind [iova, iova + len) dirty after the caller
 * wrote them through a slice or iovec (<vmmem/dirty.h>, THE RULE). Bytes
 * that do not translate are ignored; the miss handler is not called. */
VMMEM_API void vmmem_iova_mark_dirty(vmmem_iova_t *io, uint64_t iova, size_t len);

/* The inline paths: a value inside the last hit's host run is one
 * compare, an alignment test and the access, as a guest-physical access
 * inside the run from guest 0 is. Anything else goes out of line, which
 * also reports every error. */

/* True if [iova, iova + size) lies in the cached translation with
 * `perm`; *gpa gets its guest address. */
static inline bool
vmmem__iova_hit(const vmmem_iova_t *io, uint64_t iova, size_t size, uint32_t perm, uint64_t *gpa)
{
	uint64_t off = iova - io->hit_iova;

	if (__builtin_expect(off < io->hit_len && io->hit_len - off >= size &&
			     (io->hit_perm & perm) != 0, 1)) {
		*gpa = iova + io->hit_delta;
		return true;
	}
	return false;
}

/* The host address of a naturally aligned access of at most 8 bytes
 * inside the cached host run (span: hit_rspan or hit_wspan). Aligned in
 * host memory is aligned in guest memory: regions are page aligned in
 * both. */
static inline bool
vmmem__iova_small_host(const vmmem_iova_t *io, uint64_t iova, size_t size, uint64_t span,
		       uint8_t **host)
{
	uintptr_t h = (uintptr_t)iova + io->hit_host;

	if (__builtin_expect(iova - io->hit_iova < span && (h & (size - 1)) == 0, 1)) {
		*host = (uint8_t *)h;
		return true;
	}
	return false;
}

/** Reads a plain-data value by IOVA: vmmem_memory_read_obj's rules. */
static inline bool
vmmem_iova_read_obj(vmmem_iova_t *io, uint64_t iova, void *obj, size_t size, GError **error)
{
	uint8_t *h;
	uint64_t gpa;

	if (VMMEM__ONE_ACCESS(size)) {
		if (vmmem__iova_small_host(io, iova, size, io->hit_rspan, &h)) {
			vmmem__load_once(h, obj, size);
			return true;
		}
	} else if (vmmem__iova_hit(io, iova, size, VMMEM_IOTLB_READ, &gpa) &&
		   vmmem_memory_read_obj(io->mem, vmmem_guest_addr(gpa), obj, size, NULL)) {
		return true;
	}
	return vmmem_iova_read_obj_slow(io, iova, obj, size, error);
}

/** Writes a plain-data value by IOVA: vmmem_memory_write_obj's rules
 * (the guest page is marked dirty after the store). */
static inline bool
vmmem_iova_write_obj(vmmem_iova_t *io, uint64_t iova, const void *obj, size_t size,
		     GError **error)
{
	uint8_t *h;
	uint64_t gpa;

	if (VMMEM__ONE_ACCESS(size)) {
		if (vmmem__iova_small_host(io, iova, size, io->hit_wspan, &h)) {
			vmmem__store_once(h, obj, size);
			vmmem__log_small(io->mem, iova + io->hit_delta);
			return true;
		}
	} else if (vmmem__iova_hit(io, iova, size, VMMEM_IOTLB_WRITE, &gpa) &&
		   vmmem_memory_write_obj(io->mem, vmmem_guest_addr(gpa), obj, size, NULL)) {
		return true;
	}
	return vmmem_iova_write_obj_slow(io, iova, obj, size, error);
}

/** Reads *ptr by IOVA: VMMEM_IOVA_READ_OBJ(&io, iova, &desc, &err). */
#define VMMEM_IOVA_READ_OBJ(io, iova, ptr, err) \
	vmmem_iova_read_obj((io), (iova), (ptr), sizeof(*(ptr)), (err))
/** Writes *ptr by IOVA. */
#define VMMEM_IOVA_WRITE_OBJ(io, iova, ptr, err) \
	vmmem_iova_write_obj((io), (iova), (ptr), sizeof(*(ptr)), (err))

/* Typed atomics by IOVA: the host run of the hit, else out of line. */
#define VMMEM__IOVA_ATOMICS_(bits)                                                     \
	static inline bool vmmem_iova_load_u##bits(vmmem_iova_t *io, uint64_t iova,       \
						   uint##bits##_t *out,                      \
						   vmmem_memory_order_t order, GError **error) \
	{                                                                              \
		uint8_t *h;                                                            \
		uint64_t v;                                                            \
		if (vmmem__iova_small_host(io, iova, (bits) / 8, io->hit_rspan, &h)) {  \
			*out = __atomic_load_n((uint##bits##_t *)(void *)h, (int)order); \
			return true;                                                   \
		}                                                                      \
		if (!vmmem_iova_load(io, iova, (bits) / 8, order, &v, error))          \
			return false;                                                  \
		*out = (uint##bits##_t)v;                                              \
		return true;                                                           \
	}                                                                              \
	static inline bool vmmem_iova_store_u##bits(vmmem_iova_t *io, uint64_t iova,      \
						    uint##bits##_t value,                    \
						    vmmem_memory_order_t order, GError **error) \
	{                                                                              \
		uint8_t *h;                                                            \
		if (vmmem__iova_small_host(io, iova, (bits) / 8, io->hit_wspan, &h)) {  \
			__atomic_store_n((uint##bits##_t *)(void *)h, value, (int)order); \
			vmmem__log_small(io->mem, iova + io->hit_delta);               \
			return true;                                                   \
		}                                                                      \
		return vmmem_iova_store(io, iova, (bits) / 8, value, order, error);    \
	}

VMMEM__IOVA_ATOMICS_(8)
VMMEM__IOVA_ATOMICS_(16)
VMMEM__IOVA_ATOMICS_(32)
VMMEM__IOVA_ATOMICS_(64)

#undef VMMEM__IOVA_ATOMICS_

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_IOTLB_H */
