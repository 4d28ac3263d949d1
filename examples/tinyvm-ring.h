/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* tinyvm-ring.h — the one-slot request ring of examples/tinyvm's guest,
 * served either by tinyvm's own device model or by examples/backend in
 * another process: both include this, so both serve it the same way.
 *
 * In guest memory, little-endian:
 *   RING_ADDR + 0   u32       req_seq   written by the guest after the request
 *   RING_ADDR + 4   u32       resp_seq  set to req_seq by the device after the reply
 *   RING_ADDR + 8   char[56]  the request, NUL-padded
 *   RING_ADDR + 64  char[64]  the reply, NUL-terminated
 * The guest kicks port 0x510 and, as the kick is synchronous (the vCPU
 * waits in the exit until the device answers), reads resp_seq right after.
 */
#ifndef TINYVM_RING_H
#define TINYVM_RING_H

#include <stdio.h>
#include <string.h>

#include <vmmem/vmmem.h>

#define RING_ADDR      0x6000
#define RING_REQ_SEQ   (RING_ADDR + 0)
#define RING_RESP_SEQ  (RING_ADDR + 4)
#define RING_REQ       (RING_ADDR + 8)
#define RING_REQ_LEN   56
#define RING_REPLY     (RING_ADDR + 64)
#define RING_REPLY_LEN 64

/* Serves the request in the ring of `mem`: the reply is
 * "pong from WHO: REQUEST". Reads and writes go through the consumer
 * API only, so in tinyvm vmmem's dirty tracking sees the reply. Returns
 * false with an error naming the ring address if the ring is not in
 * guest memory. */
static inline bool
tinyvm_ring_serve(const vmmem_memory_t *mem, const char *who, GError **error)
{
	char req[RING_REQ_LEN + 1] = { 0 }, reply[RING_REPLY_LEN] = { 0 };
	uint32_t seq;

	/* Acquire: the request bytes the guest wrote before req_seq. */
	if (!vmmem_memory_load_u32(mem, vmmem_guest_addr(RING_REQ_SEQ), &seq,
				   memory_order_acquire, error) ||
	    !vmmem_memory_read_slice(mem, vmmem_guest_addr(RING_REQ), req, RING_REQ_LEN, error))
		return false;
	/* Bounded so that it always fits the 64-byte reply. */
	snprintf(reply, sizeof(reply), "pong from %.31s: %.20s", who, req);
	if (!vmmem_memory_write_slice(mem, vmmem_guest_addr(RING_REPLY), reply, sizeof(reply),
				      error))
		return false;
	/* Release: the reply is in guest memory before the guest sees resp_seq. */
	return vmmem_memory_store_u32(mem, vmmem_guest_addr(RING_RESP_SEQ), seq,
				      memory_order_release, error);
}

#endif /* TINYVM_RING_H */
