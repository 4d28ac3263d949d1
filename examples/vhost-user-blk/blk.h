/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: the device state shared by the protocol loop
 * (main.c) and the virtqueue and request code (virtq.c). One thread owns
 * all of it. */
#ifndef VMMEM_EXAMPLE_BLK_H
#define VMMEM_EXAMPLE_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include <vmmem/vhost-user.h>

#define BLK_MAX_QUEUES 16
/* Descriptors one request may use, direct and indirect together: more is
 * a hostile or broken driver (Linux uses seg_max + 2). */
#define BLK_MAX_SEGS 1024
#define BLK_SEG_MAX  126 /* virtio_blk_config.seg_max we offer */

/* Virtio feature bits used here (virtio 1.2, 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1          32

#define BLK_ERROR g_quark_from_static_string("vmmem-vhost-user-blk")

#define BIT(n) (UINT64_C(1) << (n))

struct blk_queue {
	unsigned index;
	uint32_t num;          /* SET_VRING_NUM; 0 until then */
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to fill */
	vmmem_vhost_vring_addr_t addr;
	bool have_addr;
	bool enabled;
	int kick_fd, call_fd, err_fd;
	bool broken;           /* stopped for a guest error until reset */
	uint64_t requests;     /* completed on this queue in this session */
};

struct blk_stats {
	uint64_t requests, reads, writes, flushes, get_ids, errors;
	uint64_t bytes_read, bytes_written;
	uint64_t direct; /* IN/OUT done through image_dfd (--direct) */
	uint64_t hot;    /* IN/OUT with data in memory added while serving */
};

/* Guest ranges that ADD_MEM_REG brought after the first request: memory
 * hotplugged into a running guest (QEMU sends the boot memory with
 * ADD_MEM_REG too, before the driver starts). */
#define BLK_MAX_HOT 16
struct blk_hot {
	uint64_t gpa, size;
};

struct blk_dev {
	int image_fd;
	/* --direct: the image opened again with O_DIRECT, for requests whose
	 * buffers, lengths and offset are multiples of dio_align; -1 if not. */
	int image_dfd;
	size_t dio_align;
	uint64_t image_size; /* bytes, a multiple of 512 */
	bool read_only;
	unsigned n_queues;
	uint64_t features;      /* negotiated with SET_FEATURES */
	uint64_t protocol_features;
	vmmem_vhost_mem_t *vm;
	/* SET_LOG_FD: an eventfd signalled after a pass over a queue wrote
	 * to the dirty log (as the kernel's VHOST_SET_LOG_FD); -1 if none. */
	int log_call_fd;
	struct blk_queue q[BLK_MAX_QUEUES];
	char serial[20];
	bool verbose;
	struct blk_stats stats;
	struct blk_hot hot[BLK_MAX_HOT];
	unsigned n_hot;
};

/* Process what the driver made available on the queue, complete it and
 * signal the call fd as the driver asked. Takes and puts a snapshot of
 * the guest memory itself; stops the queue (broken, message on stderr,
 * err fd signalled) when the ring itself is unusable. */
void blk_queue_process(struct blk_dev *dev, struct blk_queue *q);

/* True if the queue may be processed: addresses, a kick fd, enabled. */
bool blk_queue_ready(const struct blk_queue *q);

void blk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
