/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* backend — examples/tinyvm's ring device in another process.
 *
 * tinyvm --backend starts it with one end of a socketpair as its only
 * argument and sends the guest memory over it (vmmem_memory_send). The
 * backend receives the same memory (vmmem_memory_receive: the same
 * regions at the same guest addresses, mapped from the same files), then
 * serves the ring once per kick byte, through the consumer API only, and
 * answers with one byte. It exits 0 when tinyvm closes the socket.
 *
 * Usage: backend FD
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#include "tinyvm-ring.h"

int
main(int argc, char **argv)
{
	vmmem_memory_t *mem;
	GError *err = NULL;
	char who[64], byte;
	unsigned served = 0;
	ssize_t n;
	int sock;

	if (argc != 2 || (sock = atoi(argv[1])) <= 2) {
		fprintf(stderr, "usage: %s FD (started by tinyvm --backend)\n", argv[0]);
		return 2;
	}
	mem = vmmem_memory_receive(sock, &err);
	if (!mem) {
		fprintf(stderr, "backend: receiving the guest memory on fd %d: %s\n", sock,
			err->message);
		return 1;
	}
	fprintf(stderr, "backend: received %zu regions of guest memory\n",
		vmmem_memory_num_regions(mem));
	snprintf(who, sizeof(who), "backend pid %d", (int)getpid());
	while ((n = read(sock, &byte, 1)) == 1) {
		if (!tinyvm_ring_serve(mem, who, &err)) {
			fprintf(stderr, "backend: serving the ring: %s\n", err->message);
			return 1;
		}
		served++;
		if (write(sock, &byte, 1) != 1) {
			fprintf(stderr, "backend: answering the kick: %s\n", strerror(errno));
			return 1;
		}
	}
	if (n < 0) {
		fprintf(stderr, "backend: reading a kick from fd %d: %s\n", sock, strerror(errno));
		return 1;
	}
	fprintf(stderr, "backend: served %u requests; tinyvm closed the socket\n", served);
	vmmem_memory_unref(mem);
	return 0;
}
