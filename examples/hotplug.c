/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* hotplug — a device thread keeps serving requests from guest memory while
 * the VMM hot-adds and removes a DIMM under it.
 *
 * The "device" takes one snapshot per request, as a virtio device would
 * per descriptor chain: it reads a request header from RAM, then copies the
 * payload the header points to, which may live in the DIMM. With the DIMM
 * absent the request fails cleanly (the address is not backed), never
 * with a crash; with it present the data checks out. The VMM thread
 * meanwhile adds and removes the DIMM, and dirty tracking reports the RAM
 * pages the device wrote, which is what a migration would copy again.
 *
 * Usage: hotplug [SECONDS]   (default 1) */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmmem/vmmem.h>

#define MIB (UINT64_C(1) << 20)
#define RAM_SIZE (16 * MIB)
#define DIMM_START (1024 * MIB)
#define DIMM_SIZE (64 * MIB)
#define HDR_ADDR 0x1000     /* request header in RAM */
#define STATUS_ADDR 0x2000  /* where the device writes its result */

struct req_hdr {               /* plain data, little-endian in guest memory */
	vmmem_le64_t addr;
	vmmem_le32_t len;
	vmmem_le32_t seq;
};

struct shared {
	vmmem_space_t *space;
	volatile int stop;
	uint64_t served, refused, bad;
};

static void *
device(void *arg)
{
	struct shared *sh = arg;
	uint8_t buf[4096];

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		/* One stable view of guest memory for the whole request. */
		const vmmem_memory_t *m = vmmem_space_get(sh->space);
		struct req_hdr h;
		GError *err = NULL;
		uint64_t addr;
		uint32_t len, status;

		if (!VMMEM_MEMORY_READ_OBJ(m, vmmem_guest_addr(HDR_ADDR), &h, &err)) {
			fprintf(stderr, "device: %s\n", err->message);
			exit(1);
		}
		addr = vmmem_le64_to_cpu(h.addr);
		len = vmmem_le32_to_cpu(h.len);
		if (len > sizeof(buf))
			len = sizeof(buf);
		if (vmmem_memory_read_slice(m, vmmem_guest_addr(addr), buf, len, &err)) {
			/* The payload was filled with its offset's low byte. */
			for (uint32_t i = 0; i < len; i++)
				if (buf[i] != (uint8_t)(addr + i))
					sh->bad++;
			status = 0;
			sh->served++;
		} else {
			/* The DIMM is not there in this snapshot: an error for
			 * this request, as a real device would report it. */
			status = 1;
			sh->refused++;
			g_clear_error(&err);
		}
		vmmem_memory_store_u32(m, vmmem_guest_addr(STATUS_ADDR), status,
				       memory_order_release, NULL);
		vmmem_space_put(sh->space, m);
	}
	return NULL;
}

/* The DIMM's contents, prepared before it is plugged in (a memfd, as a
 * VMM would restore a DIMM or receive one from another process): a region
 * is visible to readers the moment it is added, so what they may read
 * must be there first. */
static int
make_dimm_fd(void)
{
	int fd = memfd_create("dimm0", MFD_CLOEXEC);
	uint8_t page[4096];

	if (fd < 0 || ftruncate(fd, DIMM_SIZE) != 0) {
		perror("hotplug: memfd");
		exit(1);
	}
	for (uint64_t off = 0; off < 64 * 4096; off += sizeof(page)) {
		for (size_t i = 0; i < sizeof(page); i++)
			page[i] = (uint8_t)(DIMM_START + off + i);
		if (pwrite(fd, page, sizeof(page), (off_t)off) != (ssize_t)sizeof(page)) {
			perror("hotplug: pwrite");
			exit(1);
		}
	}
	return fd;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	vmmem_region_spec_t ram = { .name = "ram", .start = { 0 }, .size = RAM_SIZE,
				    .flags = VMMEM_SPEC_DIRTY_TRACKING };
	vmmem_region_spec_t dimm = { .name = "dimm0", .start = { DIMM_START }, .size = DIMM_SIZE,
				     .provider = "mmap", .flags = VMMEM_SPEC_DIRTY_TRACKING };
	struct vmmem_provider_option dimm_opts[2] = { { "fd", NULL }, { "shared", "true" } };
	char fd_text[16];
	int dimm_fd = make_dimm_fd();
	struct req_hdr h = { vmmem_cpu_to_le64(DIMM_START + 8 * 4096 + 16), vmmem_cpu_to_le32(512),
			     vmmem_cpu_to_le32(1) };
	struct shared sh = { 0 };
	GError *err = NULL;
	pthread_t t;
	gint64 end;
	unsigned cycles = 0;
	uint64_t bits[RAM_SIZE / 4096 / 64];
	const vmmem_memory_t *m;
	unsigned dirty = 0;

	snprintf(fd_text, sizeof(fd_text), "%d", dimm_fd);
	dimm_opts[0].value = fd_text;
	dimm.options = dimm_opts;
	dimm.n_options = 2;
	sh.space = vmmem_space_new(&ram, 1, NULL, &err);
	if (!sh.space) {
		fprintf(stderr, "hotplug: %s\n", err->message);
		return 1;
	}
	m = vmmem_space_get(sh.space);
	VMMEM_MEMORY_WRITE_OBJ(m, vmmem_guest_addr(HDR_ADDR), &h, NULL);
	vmmem_space_put(sh.space, m);
	pthread_create(&t, NULL, device, &sh);

	end = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);
	while (g_get_monotonic_time() < end) {
		if (!vmmem_space_add_region(sh.space, &dimm, &err)) {
			fprintf(stderr, "hotplug: %s\n", err->message);
			return 1;
		}
		g_usleep(2000);
		if (!vmmem_space_remove_region(sh.space, "dimm0", &err)) {
			fprintf(stderr, "hotplug: %s\n", err->message);
			return 1;
		}
		g_usleep(1000);
		cycles++;
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);

	/* What a migration would copy again of RAM: the pages written. */
	m = vmmem_space_get(sh.space);
	if (!vmmem_memory_fetch_dirty(m, vmmem_guest_addr(0), RAM_SIZE, bits, G_N_ELEMENTS(bits),
				      &err)) {
		fprintf(stderr, "hotplug: %s\n", err->message);
		return 1;
	}
	vmmem_space_put(sh.space, m);
	for (size_t i = 0; i < G_N_ELEMENTS(bits); i++)
		dirty += (unsigned)__builtin_popcountll(bits[i]);

	printf("%u DIMM add/remove cycles; device served %" PRIu64 " requests, %" PRIu64
	       " refused while the DIMM was out, %" PRIu64 " bad bytes\n",
	       cycles, sh.served, sh.refused, sh.bad);
	printf("dirty RAM pages: %u (the request header at 0x%x and the status at 0x%x)\n", dirty,
	       HDR_ADDR, STATUS_ADDR);
	vmmem_space_free(sh.space);
	close(dimm_fd);
	if (sh.bad || !sh.served || dirty != 2) {
		printf("FAILED\n");
		return 1;
	}
	printf("ok\n");
	return 0;
}
