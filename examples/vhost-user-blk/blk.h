/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: the device state shared by the protocol loop
 * (main.c) and the virtqueue and request code (virtq.c). One thread owns
 * all of it. */
#ifndef VMMEM_EXAMPLE_BLK_H
#define VMMEM_EXAMPLE_BLK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vmmem/iotlb.h>
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
#define VIRTIO_F_ACCESS_PLATFORM    33 /* VIRTIO_F_IOMMU_PLATFORM */

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
	uint16_t used_pub;     /* the used index last stored in the ring */
	/* Parked on an IOTLB miss: the avail entry at last_avail waits for
	 * the frontend's update of park_iova; nothing of it has run. The
	 * wait began at park_since (g_get_monotonic_time(), 0: no wait);
	 * miss_sent: an IOTLB_MISS for it is outstanding (sent once per
	 * wait). */
	bool parked, miss_sent;
	bool resume;           /* an update covered park_iova */
	uint64_t park_iova;
	int64_t park_since;
	bool miss_fatal;       /* the wait timed out: the next miss fails */
	uint64_t requests;     /* completed on this queue in this session */
};

struct blk_stats {
	uint64_t requests, reads, writes, flushes, get_ids, errors;
	uint64_t bytes_read, bytes_written;
	uint64_t direct; /* IN/OUT done through image_dfd (--direct) */
	uint64_t hot;    /* IN/OUT with data in memory added while serving */
	/* vIOMMU: misses sent, updates and invalidations received, waits
	 * that timed out. */
	uint64_t iotlb_misses, iotlb_updates, iotlb_invalidates, iotlb_timeouts;
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
	/* VIRTIO_F_ACCESS_PLATFORM negotiated: every guest address is an
	 * IOVA, translated through the IOTLB the frontend fills. */
	bool iommu;
	bool no_iommu;          /* --no-iommu: do not offer it */
	int backend_fd;         /* SET_BACKEND_REQ_FD: where misses go; -1 */
	bool iotlb_changed;     /* an update answered a parked queue */
	uint64_t miss_iova;     /* the miss handler's last miss */
	bool miss_write;
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

/* How long a parked queue waits for the frontend's IOTLB update before the
 * access fails (a frontend that cannot translate the IOVA sends nothing:
 * QEMU's vhost_device_iotlb_miss only logs). */
#define BLK_IOTLB_WAIT_US (2 * G_USEC_PER_SEC)

/* main.c: sends VHOST_USER_BACKEND_IOTLB_MSG (a miss) for the queue on the
 * backend request channel; false if it could not be sent. */
bool blk_send_iotlb_miss(struct blk_dev *dev, struct blk_queue *q, uint64_t iova, bool write);

/* iova.c: the session's IOTLB is the vmmem_vhost_mem_t's (<vmmem/iotlb.h>,
 * targets are frontend addresses). blk_iova_attach() sets its miss
 * handler, which only notes the miss (IOVA, access) in the device: the
 * access fails, the queue parks and main.c asks the frontend; waiting in
 * the handler would deadlock (the update comes on the socket this thread
 * serves). blk_iova_missed() tells such a miss (worth waiting for) from a
 * denial or a backing failure and gives the IOVA and the access kind. */
void blk_iova_attach(struct blk_dev *dev);
bool blk_iova_missed(struct blk_dev *dev, const GError *err, uint64_t *iova, bool *write);

#endif
