/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — sharing guest memory with another process.
 *
 * One process (the VMM) sends its guest memory over a connected AF_UNIX
 * SOCK_STREAM socket; another (a device backend) receives it and gets the
 * same guest memory: the same regions at the same guest addresses, mapped
 * from the same files, so a write in one is seen by the other. Only regions
 * backed by a shared fd can travel (providers memfd, hugetlbfs with
 * mount-dir, mmap with a file or fd and shared = yes).
 *
 * Wire format, version 1. Integers are little-endian. The message is
 * self-delimiting: the receiver reads exactly its bytes and nothing after
 * them, so it can be embedded in a larger protocol.
 *
 *   header, 24 bytes:
 *     0  u8[8] magic       "VMMEMSHR"
 *     8  u16   version     1
 *    10  u16   header_size 24 (the receiver refuses other values)
 *    12  u32   n_regions   1 .. VMMEM_SHARE_MAX_REGIONS
 *    16  u32   record_size 40 (the fixed part of a record)
 *    20  u32   reserved    0
 *   then n_regions records, in ascending guest address order:
 *     0  u64   start       guest address
 *     8  u64   size        bytes
 *    16  u64   fd_offset   where the region starts in its file
 *    24  u64   page_size   of the backing memory (4096, 2 MiB, 1 GiB)
 *    32  u32   flags       VMMEM_REGION_* of the sender
 *    36  u16   name_len    1 .. VMMEM_SHARE_MAX_NAME
 *    38  u16   reserved    0
 *    40  u8[name_len] name (no terminating NUL, no NUL inside)
 *   and one fd per record, in record order, as SCM_RIGHTS ancillary data:
 *   the fds of records [253 k, 253 k + 253) ride on the first byte of the
 *   sendmsg() that carries the first of those records (the kernel passes at
 *   most 253 fds per message). The header rides with the first batch.
 */
#ifndef VMMEM_SHARE_H
#define VMMEM_SHARE_H

#include <stdbool.h>

#include <glib.h>

#include <vmmem/memory.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The wire format this library writes and reads. */
#define VMMEM_SHARE_VERSION 1
/** The most regions a receiver accepts in one message. */
#define VMMEM_SHARE_MAX_REGIONS 32768
/** The longest region name on the wire, in bytes. */
#define VMMEM_SHARE_MAX_NAME 1024

/**
 * Sends `mem`'s region table and the regions' fds over `sock`, a connected
 * AF_UNIX SOCK_STREAM socket (blocking or not: a non-blocking one is
 * polled until writable).
 *
 * Before sending anything, refuses with VMMEM_ERROR_UNSUPPORTED (naming the
 * region and the reason) a memory with a region that has no fd or is a
 * private mapping, and a socket of another type; with
 * VMMEM_ERROR_INVALID_ARGUMENT an empty region name or one longer than
 * VMMEM_SHARE_MAX_NAME. A failing send is VMMEM_ERROR_IO with the errno;
 * the peer may then have received part of the message and must drop the
 * connection. The fds stay owned by `mem`; the peer gets its own copies.
 * Thread-safe with respect to `mem`; the caller serialises use of `sock`.
 */
VMMEM_API bool vmmem_memory_send(const vmmem_memory_t *mem, int sock, GError **error);

/**
 * Receives one message written by vmmem_memory_send() from `sock` and
 * builds the same guest memory in this process: each region is mapped
 * shared from the received fd by the mmap provider (its options fd, offset
 * and shared = yes). The received fds are always closed before returning
 * (the regions hold their own duplicates).
 *
 * A peer that could shrink a region's file could make this process's
 * accesses to the lost pages raise SIGBUS. A memfd that is not sealed
 * against shrinking (F_SEAL_SHRINK; the memfd provider seals by default)
 * is therefore refused with VMMEM_ERROR_PROTOCOL (a memfd is told from
 * other files by its /proc/self/fd name, "/memfd:..."). Other files
 * (tmpfs and hugetlbfs files, regular files) cannot be sealed by their
 * owner and are accepted, as vhost-user backends accept them: a sender
 * that truncates one later (or punches a hole in a hugetlbfs file, which
 * F_SEAL_SHRINK does not stop) does not crash the receiver, whose region
 * then reads as zero there and reports itself lost (vmmem_memory_lost(),
 * VMMEM_ERROR_REGION_LOST; see <vmmem/memory.h>); a file that ends before the
 * region's offset + size is refused by the mmap provider
 * (VMMEM_ERROR_PROVIDER_CREATE). Refused up front with
 * VMMEM_ERROR_PROTOCOL, naming the region, its fd, mode and offset:
 * /dev/zero at any offset (it maps zero memory of this process, not the
 * sender's, and at an offset only pages past its end, which fault), any
 * other character device at a non-zero offset (its size cannot be
 * checked), and an fd that is neither a regular file nor a character
 * device (a pipe, a socket, a directory, a block device).
 *
 * Each region keeps one fd of its own (a duplicate, which
 * vmmem_memory_send() passes on); each received fd is closed as soon as
 * its region holds that duplicate, so a receive of N regions needs N + 1
 * free fds at its peak (and the mmap provider loaded, which holds its
 * file open). Running out is VMMEM_ERROR_IO with errno EMFILE, naming
 * RLIMIT_NOFILE (whether the kernel had to drop received fds or the
 * building ran short).
 *
 * Errors: VMMEM_ERROR_SHORT_TRANSFER if the peer closes mid-message;
 * VMMEM_ERROR_IO for a failing recvmsg(); VMMEM_ERROR_PROTOCOL for a
 * malformed message (bad magic, version, sizes, count, name, a missing or
 * extra fd, a page size other than the backing fd's), naming the record;
 * the errors of vmmem_memory_new() if the layout or a mapping is refused.
 * Returns a new memory with one reference, or NULL.
 */
VMMEM_API vmmem_memory_t *vmmem_memory_receive(int sock, GError **error);

/**
 * vmmem_memory_receive() with a limit: the whole message must arrive
 * within `timeout_ms` milliseconds of the call (a negative value waits
 * forever, as vmmem_memory_receive() does; 0 takes only what is already
 * there). A sender that stalls mid-message, or trickles it, then gives
 * VMMEM_ERROR_IO with errno ETIMEDOUT, naming the socket and how much of
 * which part had arrived; the connection must be dropped, as the rest of
 * the message may still come. `sock` may be blocking or not: with a limit
 * it is polled and read without blocking either way. Otherwise as
 * vmmem_memory_receive().
 */
VMMEM_API vmmem_memory_t *vmmem_memory_receive_timeout(int sock, int timeout_ms,
							GError **error);

/** Flag of vmmem_memory_receive_full(): map every received region
 * read-only (VMMEM_SPEC_READ_ONLY in <vmmem/memory.h>), for a receiver
 * that only reads guest memory, so that no bug of its own can change it. */
#define VMMEM_RECEIVE_READ_ONLY (1u << 0)

/** vmmem_memory_receive_timeout() with VMMEM_RECEIVE_* flags; an unknown
 * flag is VMMEM_ERROR_INVALID_ARGUMENT before anything is read. */
VMMEM_API vmmem_memory_t *vmmem_memory_receive_full(int sock, int timeout_ms, uint32_t flags,
						     GError **error);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_SHARE_H */
