/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — the guest-memory part of the vhost-user protocol.
 *
 * A vmmem_vhost_mem_t turns the memory messages a vhost-user frontend
 * (QEMU, cloud-hypervisor, crosvm) sends into a hotpluggable guest memory
 * (<vmmem/space.h>) that the backend's queue threads read through
 * snapshots:
 *
 *     const vmmem_memory_t *m = vmmem_space_get(vmmem_vhost_mem_space(vm));
 *     ... vmmem_read_obj(m, ...), vmmem_vhost_uva_to_host(m, ...) ...
 *     vmmem_space_put(vmmem_vhost_mem_space(vm), m);
 *
 * The functions are transport-independent: each takes one message's
 * payload (the bytes after the 12-byte header, `size` of them) and the
 * fds that came with it (SCM_RIGHTS), so a backend with its own socket
 * loop, or one built on libvhost-user or DPDK, can hand them over. They
 * answer nothing on the socket; where the frontend expects a reply the
 * function's comment says what it is.
 *
 * FDS: every message function takes ownership of all `n_fds` fds it is
 * given, on success and on failure alike: each is closed before the call
 * returns (a region that is kept holds its own duplicate). Negative
 * entries are ignored. No path leaks one.
 *
 * VALIDATION: the frontend is not trusted. Every field of a message is
 * checked before anything is mapped, and a refused message changes
 * nothing: the table, the log and the feature state stay as they were.
 * Each refusal names the message, the region index, the field, its value
 * and the fd. Refused: a payload of the wrong size or the wrong number of
 * fds (VMMEM_ERROR_PROTOCOL); zero sizes, guest or frontend ranges that
 * wrap past 2^64, sizes, guest addresses and mmap offsets that are not
 * multiples of the fd's page size (VMMEM_ERROR_INVALID_LAYOUT); guest or
 * frontend ranges that overlap another region's, duplicates
 * (VMMEM_ERROR_INVALID_LAYOUT); fds that are not read-write regular files
 * of a shared-memory file system (memfd, tmpfs, hugetlbfs: fstatfs magic)
 * or whose file ends before mmap_offset + memory_size
 * (VMMEM_ERROR_INVALID_ARGUMENT); more regions than allowed
 * (VMMEM_ERROR_NO_SPACE); REM_MEM_REG of a region that is not there
 * (VMMEM_ERROR_NOT_FOUND).
 *
 * MAPPING: each region is mapped shared from its fd at mmap_offset
 * (through the `mmap` provider, which fstatfs()es the fd: a hugetlbfs fd
 * is mapped at its huge-page size). A frontend that truncates a file it
 * shared, or frees its hugetlb pages, makes the next access to the lost
 * pages fault: vmmem survives that fault, the pages read as zero and the
 * region reports itself lost (vmmem_memory_lost(), VMMEM_ERROR_REGION_LOST
 * from the out-of-line accesses; see <vmmem/memory.h>). Drop the
 * connection then. Sealing is the frontend's part (cloud-hypervisor seals
 * its memfds for that reason).
 *
 * SNAPSHOTS: a table change publishes a new snapshot; readers of the old
 * one keep working until they put it, and a removed region is unmapped
 * only then (readers never block, see <vmmem/space.h>).
 *
 * THREADS: the message functions are serialized by the object and may be
 * called from any thread that holds no snapshot of its space (the
 * backend's control thread). The translation functions take a snapshot
 * and are lock-free.
 *
 * IOTLB: with a vIOMMU (VIRTIO_F_ACCESS_PLATFORM negotiated), vring and
 * descriptor addresses are I/O virtual addresses. The object owns an
 * IOTLB (<vmmem/iotlb.h>) whose targets are frontend addresses:
 * VHOST_USER_IOTLB_MSG updates and invalidations go to it
 * (vmmem_vhost_mem_iotlb_msg), and the queue threads access guest memory
 * by IOVA through it with a snapshot of the space. A miss is reported to
 * the backend (the IOTLB's miss handler), which sends IOTLB_MISS on the
 * backend request channel (vmmem_vhost_iotlb_miss_msg) and retries the
 * request once the frontend's update came.
 */
#ifndef VMMEM_VHOST_USER_H
#define VMMEM_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <vmmem/address.h>
#include <vmmem/iotlb.h>
#include <vmmem/memory.h>
#include <vmmem/space.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Request numbers of the messages handled here (vhost-user.rst). */
#define VMMEM_VHOST_USER_SET_FEATURES      2
#define VMMEM_VHOST_USER_SET_MEM_TABLE     5
#define VMMEM_VHOST_USER_SET_LOG_BASE      6
#define VMMEM_VHOST_USER_SET_VRING_ADDR    9
#define VMMEM_VHOST_USER_GET_MAX_MEM_SLOTS 36
#define VMMEM_VHOST_USER_ADD_MEM_REG       37
#define VMMEM_VHOST_USER_REM_MEM_REG       38
/** VHOST_USER_SET_BACKEND_REQ_FD (SET_SLAVE_REQ_FD): the backend request
 * channel's socket; the backend keeps it and sends its requests there. */
#define VMMEM_VHOST_USER_SET_BACKEND_REQ_FD 21
/** VHOST_USER_IOTLB_MSG: an IOTLB update or invalidation
 * (vmmem_vhost_mem_iotlb_msg). */
#define VMMEM_VHOST_USER_IOTLB_MSG         22
/** Backend request VHOST_USER_BACKEND_IOTLB_MSG (on the backend channel):
 * an IOTLB miss or access failure (vmmem_vhost_iotlb_miss_msg). */
#define VMMEM_VHOST_USER_BACKEND_IOTLB_MSG 1

/* Header flags: version 1, and the reply bit. */
#define VMMEM_VHOST_USER_VERSION    0x1u
#define VMMEM_VHOST_USER_REPLY_MASK 0x4u
/** Header flag: the sender waits for a u64 reply (REPLY_ACK). */
#define VMMEM_VHOST_USER_NEED_REPLY_MASK 0x8u
/** The header: u32 request, u32 flags, u32 size. */
#define VMMEM_VHOST_USER_HEADER_SIZE 12

/** Regions in one SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VMMEM_VHOST_MEM_TABLE_MAX_REGIONS 8
/** Slots reachable with ADD_MEM_REG: what GET_MAX_MEM_SLOTS answers. */
#define VMMEM_VHOST_MAX_MEM_SLOTS 509

/** Feature bit VHOST_F_LOG_ALL: log every write while it is negotiated. */
#define VMMEM_VHOST_F_LOG_ALL (UINT64_C(1) << 26)
/** SET_VRING_ADDR flag VHOST_VRING_F_LOG: log used-ring writes at
 * log_guest_addr. */
#define VMMEM_VHOST_VRING_F_LOG (1u << 0)
/** Protocol features the functions here serve. */
#define VMMEM_VHOST_USER_PROTOCOL_F_LOG_SHMFD          1
#define VMMEM_VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
/** Protocol feature REPLY_ACK; an IOTLB needs it (QEMU refuses a vIOMMU
 * without it and BACKEND_REQ). */
#define VMMEM_VHOST_USER_PROTOCOL_F_REPLY_ACK   3
/** Protocol feature BACKEND_REQ (SLAVE_REQ): the backend request channel
 * that carries IOTLB misses. */
#define VMMEM_VHOST_USER_PROTOCOL_F_BACKEND_REQ 5
/** Device feature VIRTIO_F_ACCESS_PLATFORM (IOMMU_PLATFORM): the device
 * accesses memory through the platform's IOMMU, by IOVA. */
#define VMMEM_VIRTIO_F_ACCESS_PLATFORM (UINT64_C(1) << 33)

/** vhost_iotlb_msg type MISS (backend to frontend): no entry for iova. */
#define VMMEM_VHOST_IOTLB_MISS        1
/** vhost_iotlb_msg type UPDATE (frontend to backend): a new entry. */
#define VMMEM_VHOST_IOTLB_UPDATE      2
/** vhost_iotlb_msg type INVALIDATE (frontend to backend): a range unmapped. */
#define VMMEM_VHOST_IOTLB_INVALIDATE  3
/** vhost_iotlb_msg type ACCESS_FAIL (backend to frontend): permission
 * denied at iova. */
#define VMMEM_VHOST_IOTLB_ACCESS_FAIL 4
/** The payload of an IOTLB message: struct vhost_iotlb_msg {u64 iova,
 * size, uaddr; u8 perm, type;} and 6 bytes of padding. */
#define VMMEM_VHOST_IOTLB_MSG_SIZE 32
/** A whole backend IOTLB message: header and payload. */
#define VMMEM_VHOST_IOTLB_MISS_MSG_SIZE (VMMEM_VHOST_USER_HEADER_SIZE + VMMEM_VHOST_IOTLB_MSG_SIZE)

/** One region on the wire: SET_MEM_TABLE carries `u32 nregions; u32
 * padding;` and nregions of these; ADD_MEM_REG and REM_MEM_REG carry
 * `u64 padding;` and one. Little-endian host byte order, no padding. */
typedef struct vmmem_vhost_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr; /* the frontend's virtual address of it */
	uint64_t mmap_offset;    /* where in the fd the region starts */
} vmmem_vhost_mem_region_t;

/** SET_VRING_ADDR's payload, as vmmem_vhost_parse_vring_addr() gives it.
 * The three ring addresses are frontend virtual addresses
 * (vmmem_vhost_uva_to_host); log_guest_addr is a guest address. */
typedef struct vmmem_vhost_vring_addr {
	uint32_t index;
	uint32_t flags; /* VMMEM_VHOST_VRING_F_LOG */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} vmmem_vhost_vring_addr_t;

/** VHOST_USER_IOTLB_MSG's payload, as vmmem_vhost_parse_iotlb_msg() gives it. */
typedef struct vmmem_vhost_iotlb_msg {
	uint64_t iova;      /**< first I/O virtual address */
	uint64_t size;      /**< bytes, at least 1 */
	uint64_t uaddr;     /**< the frontend address of iova (UPDATE) */
	uint8_t perm;       /**< VMMEM_IOTLB_READ / _WRITE / _RW (UPDATE) */
	uint8_t type;       /**< VMMEM_VHOST_IOTLB_* */
} vmmem_vhost_iotlb_msg_t;

typedef struct vmmem_vhost_mem vmmem_vhost_mem_t;

/**
 * A vhost-user guest memory, empty until the first SET_MEM_TABLE or
 * ADD_MEM_REG. `options` (may be NULL) are those of the space it owns;
 * the default reserves 64 GiB of guest address space so regions sit at
 * host = base + guest (regions above still work, unplaced). NULL on
 * failure, with the space's error. Free with vmmem_vhost_mem_free().
 */
VMMEM_API vmmem_vhost_mem_t *vmmem_vhost_mem_new(const vmmem_space_options_t *options,
						 GError **error);

/** Frees the object, its space and its log mapping; no thread may hold a
 * snapshot of the space. NULL is ignored. */
VMMEM_API void vmmem_vhost_mem_free(vmmem_vhost_mem_t *vm);

/** The space readers take snapshots of. It belongs to the object: add or
 * remove regions only through the messages (a region added behind its
 * back has no frontend address, and snapshots holding it have no
 * frontend-address table, so every vmmem_vhost_uva_to_* fails). */
VMMEM_API vmmem_space_t *vmmem_vhost_mem_space(vmmem_vhost_mem_t *vm);

/**
 * VHOST_USER_SET_MEM_TABLE: replaces the whole table with the payload's
 * regions (at most VMMEM_VHOST_MEM_TABLE_MAX_REGIONS), one fd each in
 * order. A region identical to one already mapped (same guest address,
 * size, frontend address, file and offset) keeps its mapping; the others
 * are mapped anew and the old ones unmapped once their readers are done.
 * One snapshot is published for the whole message. One fd may back
 * several regions (QEMU's RAM below and above 4 GiB). Under REPLY_ACK the
 * frontend expects the usual u64 ack (0 on success). Postcopy migration
 * (where QEMU expects the table back with the backend's addresses) is
 * not supported.
 */
VMMEM_API bool vmmem_vhost_mem_set_mem_table(vmmem_vhost_mem_t *vm, const void *payload,
					     size_t size, const int *fds, size_t n_fds,
					     GError **error);

/** VHOST_USER_ADD_MEM_REG: adds one region (exactly one fd), up to
 * VMMEM_VHOST_MAX_MEM_SLOTS. */
VMMEM_API bool vmmem_vhost_mem_add_mem_reg(vmmem_vhost_mem_t *vm, const void *payload,
					   size_t size, const int *fds, size_t n_fds,
					   GError **error);

/** VHOST_USER_REM_MEM_REG: removes the region with the payload's guest
 * address, size and frontend address (mmap_offset is not compared, as
 * the spec says). QEMU sends an fd with it: it is closed. */
VMMEM_API bool vmmem_vhost_mem_rem_mem_reg(vmmem_vhost_mem_t *vm, const void *payload,
					   size_t size, const int *fds, size_t n_fds,
					   GError **error);

/** VHOST_USER_GET_MAX_MEM_SLOTS: the u64 to reply with (509). */
VMMEM_API uint64_t vmmem_vhost_mem_max_mem_slots(const vmmem_vhost_mem_t *vm);

/**
 * VHOST_USER_SET_LOG_BASE (protocol feature LOG_SHMFD): payload `u64
 * mmap_size; u64 mmap_offset;` and one fd. Maps mmap_size bytes of the fd
 * shared at mmap_offset (8-byte aligned) as the dirty log: bit gpa / 4096,
 * set with an atomic OR after every write made through the space, for
 * guest pages below mmap_size * 8 (a size that is not a multiple of 8 is
 * rounded down). Logging starts when VHOST_F_LOG_ALL is (or already was)
 * negotiated; a later SET_LOG_BASE (QEMU resizes the log on hotplug)
 * replaces the log, and the old mapping goes once no writer can reach it.
 *
 * THE REPLY: QEMU (hw/virtio/vhost-user.c, vhost_user_set_log_base, at
 * least since 2.x and in 7.2) waits for one after it sends SET_LOG_BASE
 * with LOG_SHMFD, whether or not it set NEED_REPLY: a header with request
 * VMMEM_VHOST_USER_SET_LOG_BASE (6) and flags exactly
 * VMMEM_VHOST_USER_VERSION | VMMEM_VHOST_USER_REPLY_MASK (0x5; it refuses
 * any other flags), then the `size` bytes the header announces, which it
 * reads and ignores: size 0 (DPDK, QEMU's own test backend) or a u64
 * (libvhost-user). Send exactly one such reply, also when this function
 * fails (the frontend does not read an error from it; fail the device
 * instead): no reply hangs the frontend, a second one (an extra REPLY_ACK)
 * desynchronises the stream — the hang rust-vmm backends had.
 */
VMMEM_API bool vmmem_vhost_mem_set_log_base(vmmem_vhost_mem_t *vm, const void *payload,
					    size_t size, const int *fds, size_t n_fds,
					    GError **error);

/** VHOST_USER_SET_FEATURES: call it with the negotiated features. With
 * VMMEM_VHOST_F_LOG_ALL every write is logged in the log of the last
 * SET_LOG_BASE (once there is one); without it logging stops, and when
 * this returns no write is still going to the log. */
VMMEM_API bool vmmem_vhost_mem_set_features(vmmem_vhost_mem_t *vm, uint64_t features,
					    GError **error);

/** True while writes are being logged (LOG_ALL and a log). */
VMMEM_API bool vmmem_vhost_mem_logging(const vmmem_vhost_mem_t *vm);

/**
 * Handles any of the messages above by request number: returns 1 if
 * handled, 0 if `request` is not a memory message (the fds are then left
 * to the caller), -1 on failure (error set). For GET_MAX_MEM_SLOTS
 * *reply_u64 (may be NULL) gets the value to reply with. SET_FEATURES is
 * handled for VHOST_F_LOG_ALL only: the backend still acts on its other
 * bits. IOTLB_MSG is handled (vmmem_vhost_mem_iotlb_msg); its reply under
 * NEED_REPLY is the caller's. Sending the replies (see each function) stays the caller's.
 */
VMMEM_API int vmmem_vhost_mem_handle(vmmem_vhost_mem_t *vm, uint32_t request,
				     const void *payload, size_t size, const int *fds,
				     size_t n_fds, uint64_t *reply_u64, GError **error);

/**
 * The object's IOTLB (targets are frontend addresses: VMMEM_IOTLB_TARGET_
 * FRONTEND), empty until the first IOTLB_MSG update. Owned by the
 * object; set its miss handler before the queue threads start, and access
 * by IOVA with vmmem_iova_begin(&io, vmmem_vhost_mem_iotlb(vm), snapshot).
 */
VMMEM_API vmmem_iotlb_t *vmmem_vhost_mem_iotlb(vmmem_vhost_mem_t *vm);

/**
 * Parses and checks VHOST_USER_IOTLB_MSG's payload (the frontend is not
 * trusted); each refusal names the field and its value:
 * a payload that is not VMMEM_VHOST_IOTLB_MSG_SIZE bytes, a type other
 * than UPDATE or INVALIDATE (MISS and ACCESS_FAIL go the other way)
 * (VMMEM_ERROR_PROTOCOL); size 0 (VMMEM_ERROR_INVALID_ARGUMENT); an IOVA
 * range that passes 2^64 (VMMEM_ERROR_OVERFLOW); for UPDATE, a uaddr range
 * that passes 2^64 (VMMEM_ERROR_OVERFLOW) and a perm that is not READ,
 * WRITE or RW (VMMEM_ERROR_INVALID_ARGUMENT). An INVALIDATE's uaddr and
 * perm mean nothing and are not looked at (QEMU sends zeros).
 */
VMMEM_API bool vmmem_vhost_parse_iotlb_msg(const void *payload, size_t size,
					   vmmem_vhost_iotlb_msg_t *out, GError **error);

/**
 * VHOST_USER_IOTLB_MSG: checks the payload (vmmem_vhost_parse_iotlb_msg;
 * no fd may come with it, VMMEM_ERROR_PROTOCOL) and applies it to the
 * object's IOTLB. An UPDATE's [uaddr, uaddr + size) must be backed by
 * the current memory table, as the spec asks (VMMEM_ERROR_INVALID_ADDRESS
 * naming the first frontend address that is not); an INVALIDATE returns
 * once no reader uses the removed translations (call it from a thread
 * that holds no snapshot). A refused message changes nothing.
 *
 * THE REPLY: QEMU sends this message with NEED_REPLY and waits (it asks
 * for REPLY_ACK with a vIOMMU): reply with the u64 0 on success, non-zero
 * on failure, as for any REPLY_ACK.
 */
VMMEM_API bool vmmem_vhost_mem_iotlb_msg(vmmem_vhost_mem_t *vm, const void *payload, size_t size,
					 const int *fds, size_t n_fds, GError **error);

/**
 * Builds the backend request that reports a miss: a header (request
 * VMMEM_VHOST_USER_BACKEND_IOTLB_MSG, flags VMMEM_VHOST_USER_VERSION plus
 * `flags`, e.g. VMMEM_VHOST_USER_NEED_REPLY_MASK, size 32) and a
 * vhost_iotlb_msg {iova, perm = access, type}, in `buf` of `buf_size`
 * bytes (at least VMMEM_VHOST_IOTLB_MISS_MSG_SIZE). `type` is
 * VMMEM_VHOST_IOTLB_MISS or _ACCESS_FAIL, `access` READ or WRITE (QEMU
 * asks its IOMMU for write access unless perm is READ). Returns the
 * number of bytes to send on the backend channel (from
 * SET_BACKEND_REQ_FD), or 0 (nothing written) for a bad argument.
 */
VMMEM_API size_t vmmem_vhost_iotlb_miss_msg(uint64_t iova, vmmem_iotlb_perm_t access,
					    uint8_t type, uint32_t flags, void *buf,
					    size_t buf_size);

/** Parses SET_VRING_ADDR's payload (40 bytes; VMMEM_ERROR_PROTOCOL
 * otherwise). Translate its addresses with a snapshot. */
VMMEM_API bool vmmem_vhost_parse_vring_addr(const void *payload, size_t size,
					    vmmem_vhost_vring_addr_t *out, GError **error);

/** Out of line: the rest of vmmem_vhost_gpa_to_host(). */
VMMEM_API void *vmmem_vhost_gpa_to_host_slow(const vmmem_memory_t *snapshot, uint64_t gpa,
					     uint64_t *len);

/**
 * Guest address -> host pointer, as DPDK's rte_vhost_va_from_guest_pa():
 * *len (in: the bytes wanted) is clamped to the bytes that are backed
 * contiguously from gpa (in guest and host memory), and NULL with *len 0
 * is returned for an address no region backs. Valid while the snapshot
 * is held. Inline: the snapshot's bucket lookup and one bounds check, the
 * same at 1 and at 509 slots; layouts the bucket cannot decide go out of
 * line. Writes through the pointer are the caller's to mark
 * (vmmem_memory_mark_dirty) after writing.
 */
static inline void *
vmmem_vhost_gpa_to_host(const vmmem_memory_t *snapshot, vmmem_guest_addr_t gpa, uint64_t *len)
{
	const struct vmmem_fast_region *r = vmmem__candidate(snapshot, gpa.raw);
	uint64_t off = gpa.raw - r->start;

	/* The hole's reach is 0, and an address before the candidate wraps
	 * off past any reach: both go out of line. */
	if (__builtin_expect(off < r->reach, 1)) {
		if (*len > r->reach - off)
			*len = r->reach - off;
		return r->host + off;
	}
	return vmmem_vhost_gpa_to_host_slow(snapshot, gpa.raw, len);
}

/**
 * Frontend virtual address -> guest address, for [uva, uva + len) wholly
 * inside one region of the snapshot (len 0: uva inside one). False, with
 * VMMEM_ERROR_INVALID_ADDRESS naming the address, otherwise. Constant
 * time: a bucket table over frontend addresses is built with each
 * snapshot, so the cost does not grow with the slot count. Lock-free;
 * `error` may be NULL.
 */
VMMEM_API bool vmmem_vhost_uva_to_gpa(const vmmem_memory_t *snapshot, uint64_t uva,
				      uint64_t len, vmmem_guest_addr_t *gpa, GError **error);

/** Frontend virtual address -> host pointer, valid while the snapshot is
 * held, with the bounds rule of vmmem_vhost_uva_to_gpa. NULL on failure.
 * Writes through it are the caller's: mark them (vmmem_memory_mark_dirty
 * or vmmem_vhost_log_used) after writing. */
VMMEM_API void *vmmem_vhost_uva_to_host(const vmmem_memory_t *snapshot, uint64_t uva,
					uint64_t len, GError **error);

/** After a used-ring write of `len` bytes at `offset` into the used ring
 * made through a host pointer: logs [log_guest_addr + offset, + len) if
 * the vring has VMMEM_VHOST_VRING_F_LOG in `vring_flags` and logging is
 * on in this snapshot, as the protocol asks. A write made through the
 * space's write functions at the used ring's guest address is logged by
 * that address already. */
VMMEM_API void vmmem_vhost_log_used(const vmmem_memory_t *snapshot, uint32_t vring_flags,
				    uint64_t log_guest_addr, uint64_t offset, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_VHOST_USER_H */
