/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: a vhost-user-blk backend whose every guest access
 * goes through vmmem. This file: options, the Unix socket, the vhost-user
 * messages and the poll() loop over the socket and the kick eventfds.
 * One thread; it holds a snapshot of guest memory only inside
 * blk_queue_process(), never across poll(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vmmem/memory.h>
#include <vmmem/vhost-user.h>

#include "blk.h"

enum {
	GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, RESET_OWNER = 4,
	SET_MEM_TABLE = 5, SET_LOG_BASE = 6, SET_LOG_FD = 7, SET_VRING_NUM = 8,
	SET_VRING_ADDR = 9, SET_VRING_BASE = 10, GET_VRING_BASE = 11,
	SET_VRING_KICK = 12, SET_VRING_CALL = 13, SET_VRING_ERR = 14,
	GET_PROTOCOL_FEATURES = 15, SET_PROTOCOL_FEATURES = 16, GET_QUEUE_NUM = 17,
	SET_VRING_ENABLE = 18, SET_BACKEND_REQ_FD = 21, IOTLB_MSG = 22,
	GET_CONFIG = 24, SET_CONFIG = 25,
	GET_MAX_MEM_SLOTS = 36, ADD_MEM_REG = 37, REM_MEM_REG = 38,
};

#define PROTOCOL_F_MQ         0
#define PROTOCOL_F_LOG_SHMFD  1
#define PROTOCOL_F_REPLY_ACK  3
#define PROTOCOL_F_BACKEND_REQ 5 /* SLAVE_REQ in QEMU 7.2 */
#define PROTOCOL_F_CONFIG     9
#define PROTOCOL_F_CONFIGURE_MEM_SLOTS 15

#define FLAG_VERSION    0x1u
#define FLAG_REPLY      0x4u
#define FLAG_NEED_REPLY 0x8u
#define VRING_NOFD      (1u << 8)
#define VRING_IDX_MASK  0xffu
#define MAX_FDS         8
#define MAX_PAYLOAD     4096
#define CONFIG_HDR      12

struct msg {
	uint32_t request, flags, size;
	uint8_t payload[MAX_PAYLOAD];
	int fds[MAX_FDS];
	size_t n_fds;
};

static const char *const names[] = {
	[GET_FEATURES] = "GET_FEATURES", [SET_FEATURES] = "SET_FEATURES",
	[SET_OWNER] = "SET_OWNER", [RESET_OWNER] = "RESET_OWNER",
	[SET_MEM_TABLE] = "SET_MEM_TABLE", [SET_LOG_BASE] = "SET_LOG_BASE",
	[SET_LOG_FD] = "SET_LOG_FD", [SET_VRING_NUM] = "SET_VRING_NUM",
	[SET_VRING_ADDR] = "SET_VRING_ADDR", [SET_VRING_BASE] = "SET_VRING_BASE",
	[GET_VRING_BASE] = "GET_VRING_BASE", [SET_VRING_KICK] = "SET_VRING_KICK",
	[SET_VRING_CALL] = "SET_VRING_CALL", [SET_VRING_ERR] = "SET_VRING_ERR",
	[GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES", [GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[SET_VRING_ENABLE] = "SET_VRING_ENABLE", [SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[IOTLB_MSG] = "IOTLB_MSG", [GET_CONFIG] = "GET_CONFIG",
	[SET_CONFIG] = "SET_CONFIG", [GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[ADD_MEM_REG] = "ADD_MEM_REG", [REM_MEM_REG] = "REM_MEM_REG",
};

static const char *
msg_name(uint32_t r)
{
	return r < G_N_ELEMENTS(names) && names[r] ? names[r] : "unknown";
}

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static void
close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void
queue_reset(struct blk_queue *q, unsigned index)
{
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	if (q->err_fd >= 0)
		close(q->err_fd);
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->kick_fd = q->call_fd = q->err_fd = -1;
}

static void
log_call_reset(struct blk_dev *dev)
{
	if (dev->log_call_fd >= 0)
		close(dev->log_call_fd);
	dev->log_call_fd = -1;
}

/* A fresh session: no memory, no features, every queue reset. */
static bool
session_reset(struct blk_dev *dev, GError **error)
{
	log_call_reset(dev);
	dev->n_hot = 0;
	vmmem_vhost_mem_free(dev->vm);
	dev->vm = vmmem_vhost_mem_new(NULL, error);
	dev->features = 0;
	dev->protocol_features = 0;
	dev->iommu = false;
	if (dev->backend_fd >= 0)
		close(dev->backend_fd);
	dev->backend_fd = -1;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		queue_reset(&dev->q[i], i);
	if (!dev->vm)
		return false;
	blk_iova_attach(dev);
	return true;
}

static uint64_t
offered_features(const struct blk_dev *dev)
{
	uint64_t f = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		     BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
		     BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     BIT(VIRTIO_BLK_F_FLUSH) | VMMEM_VHOST_F_LOG_ALL;

	/* Offered always: a frontend acks it only when the device sits behind
	 * a vIOMMU (QEMU: iommu_platform=on), and every ring and buffer
	 * address is an IOVA from then on. */
	if (!dev->no_iommu)
		f |= BIT(VIRTIO_F_ACCESS_PLATFORM);

	if (dev->n_queues > 1)
		f |= BIT(VIRTIO_BLK_F_MQ);
	if (dev->read_only)
		f |= BIT(VIRTIO_BLK_F_RO);
	return f;
}

#define OFFERED_PROTOCOL_FEATURES                                                         \
	(BIT(PROTOCOL_F_MQ) | BIT(PROTOCOL_F_LOG_SHMFD) | BIT(PROTOCOL_F_REPLY_ACK) |     \
	 BIT(PROTOCOL_F_BACKEND_REQ) | BIT(PROTOCOL_F_CONFIG) |                           \
	 BIT(PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/* Reads one message: the header (with its fds) then the payload. 0 when
 * the frontend closed the socket, -1 on error. */
static int
msg_read(int sock, struct msg *m, GError **error)
{
	char control[CMSG_SPACE(MAX_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = m, .iov_len = CONFIG_HDR };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	ssize_t got;
	size_t have = 0;

	m->n_fds = 0;
	do
		got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return 0;
	if (got < 0) {
		g_set_error(error, BLK_ERROR, 0, "recvmsg: %s", g_strerror(errno));
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			memcpy(m->fds + m->n_fds, CMSG_DATA(c), n * sizeof(int));
			m->n_fds += n;
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		g_set_error(error, BLK_ERROR, 0,
			    "message %u: more than %d fds", m->request, MAX_FDS);
		goto fail;
	}
	have = (size_t)got;
	while (have < CONFIG_HDR) {
		got = recv(sock, (char *)m + have, CONFIG_HDR - have, 0);
		if (got <= 0 && !(got < 0 && errno == EINTR))
			goto short_read;
		if (got > 0)
			have += (size_t)got;
	}
	if (m->size > MAX_PAYLOAD) {
		g_set_error(error, BLK_ERROR, 0,
			    "%s (%u): payload of %u bytes (at most %d)", msg_name(m->request),
			    m->request, m->size, MAX_PAYLOAD);
		goto fail;
	}
	for (have = 0; have < m->size;) {
		got = recv(sock, m->payload + have, m->size - have, 0);
		if (got <= 0 && !(got < 0 && errno == EINTR))
			goto short_read;
		if (got > 0)
			have += (size_t)got;
	}
	return 1;
short_read:
	g_set_error(error, BLK_ERROR, 0, "%s (%u): message cut short",
		    msg_name(m->request), m->request);
fail:
	close_fds(m->fds, m->n_fds);
	m->n_fds = 0;
	return -1;
}

static bool
reply(int sock, uint32_t request, const void *payload, uint32_t size)
{
	uint32_t hdr[3] = { request, FLAG_VERSION | FLAG_REPLY, size };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t put;

	do
		put = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (put < 0 && errno == EINTR);
	if (put != (ssize_t)(sizeof(hdr) + size)) {
		blk_log("%s: reply: %s", msg_name(request), put < 0 ? g_strerror(errno) : "short");
		return false;
	}
	return true;
}

static bool
reply_u64(int sock, uint32_t request, uint64_t v)
{
	return reply(sock, request, &v, sizeof(v));
}

bool
blk_send_iotlb_miss(struct blk_dev *dev, struct blk_queue *q, uint64_t iova, bool write)
{
	/* No NEED_REPLY: QEMU answers with an IOTLB_MSG update on the main
	 * socket and waits for our ack of it there; an ack it also had to
	 * send back here would be one more thing for this thread to wait
	 * for. */
	uint8_t msg[VMMEM_VHOST_IOTLB_MISS_MSG_SIZE];
	size_t len = vmmem_vhost_iotlb_miss_msg(iova, write ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ,
						VMMEM_VHOST_IOTLB_MISS, 0, msg, sizeof(msg));
	ssize_t put;

	if (dev->backend_fd < 0) {
		blk_log("queue %u: IOTLB miss at IOVA 0x%" PRIx64 " and no backend request channel "
			"to report it on", q->index, iova);
		return false;
	}
	do
		put = send(dev->backend_fd, msg, len, MSG_NOSIGNAL);
	while (put < 0 && errno == EINTR);
	if (len == 0 || put != (ssize_t)len) {
		blk_log("queue %u: IOTLB miss at IOVA 0x%" PRIx64 ": send on fd %d: %s", q->index,
			iova, dev->backend_fd, put < 0 ? g_strerror(errno) : "short");
		return false;
	}
	dev->stats.iotlb_misses++;
	if (dev->verbose)
		blk_log("queue %u: -> IOTLB miss at IOVA 0x%" PRIx64 " (%s)", q->index, iova,
			write ? "write" : "read");
	return true;
}

static void
print_table(struct blk_dev *dev, const char *why)
{
	vmmem_space_t *space = vmmem_vhost_mem_space(dev->vm);
	const vmmem_memory_t *m = vmmem_space_get(space);
	size_t n = vmmem_memory_num_regions(m);

	blk_log("memory table after %s: %zu region%s", why, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const vmmem_region_t *r = vmmem_memory_region(m, i);

		uint64_t size = vmmem_region_size(r);

		blk_log("  region %zu: guest 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64 " %s), fd %d at offset "
			"0x%" PRIx64 ", page size %" PRIu64 " KiB",
			i, vmmem_region_start(r).raw, vmmem_region_last_addr(r).raw,
			size >= (1u << 20) ? size >> 20 : size >> 10, size >= (1u << 20) ? "MiB" : "KiB",
			vmmem_region_fd(r), vmmem_region_fd_offset(r), vmmem_region_page_size(r) >> 10);
	}
	vmmem_space_put(space, m);
}

/* Keeps the guest ranges ADD_MEM_REG brings once requests are being
 * served (memory hotplugged into the running guest) and drops them on
 * REM_MEM_REG, so that the statistics can say which requests used it.
 * Called after vmmem accepted the message (payload: padding, guest
 * address, size, user address, mmap offset). */
static void
note_hotplug(struct blk_dev *dev, const struct msg *m)
{
	uint64_t gpa, size;

	if ((m->request != ADD_MEM_REG && m->request != REM_MEM_REG) || m->size < 24)
		return;
	memcpy(&gpa, m->payload + 8, 8);
	memcpy(&size, m->payload + 16, 8);
	if (m->request == REM_MEM_REG) {
		for (unsigned h = 0; h < dev->n_hot; h++) {
			if (dev->hot[h].gpa == gpa) {
				dev->hot[h] = dev->hot[--dev->n_hot];
				break;
			}
		}
	} else if (dev->stats.requests > 0 && dev->n_hot < BLK_MAX_HOT) {
		dev->hot[dev->n_hot++] = (struct blk_hot){ gpa, size };
		blk_log("guest memory 0x%" PRIx64 "-0x%" PRIx64 " was hot-added while serving: "
			"requests with data there are counted", gpa, gpa + size - 1);
	}
}

/* The vring index of a SET_VRING_* message, checked. */
static struct blk_queue *
msg_queue(struct blk_dev *dev, const struct msg *m, uint32_t index, GError **error)
{
	if (index >= dev->n_queues) {
		g_set_error(error, BLK_ERROR, 0,
			    "%s: queue index %u (the device has %u)", msg_name(m->request), index,
			    dev->n_queues);
		return NULL;
	}
	return &dev->q[index];
}

static bool
payload_size(const struct msg *m, uint32_t want, GError **error)
{
	if (m->size >= want)
		return true;
	g_set_error(error, BLK_ERROR, 0, "%s: payload of %u bytes (%u expected)",
		    msg_name(m->request), m->size, want);
	return false;
}

static bool
take_fd(struct msg *m, uint64_t u, int *slot, GError **error)
{
	if (*slot >= 0)
		close(*slot);
	*slot = -1;
	if (u & VRING_NOFD)
		return true;
	if (m->n_fds != 1) {
		g_set_error(error, BLK_ERROR, 0, "%s: %zu fds (1 expected)",
			    msg_name(m->request), m->n_fds);
		return false;
	}
	*slot = m->fds[0];
	m->n_fds = 0;
	return true;
}

static void
fill_config(const struct blk_dev *dev, uint8_t *cfg, size_t size)
{
	uint64_t capacity = dev->image_size / 512;
	uint32_t seg_max = BLK_SEG_MAX, blk_size = 512;
	uint16_t nq = (uint16_t)dev->n_queues;

	memset(cfg, 0, size);
	/* virtio_blk_config: capacity @0, seg_max @12, blk_size @20,
	 * num_queues @34 (little-endian). */
	memcpy(cfg + 0, &capacity, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	memcpy(cfg + 34, &nq, 2);
}

/* An update for [iova, iova + size): the queues parked on an IOVA in it
 * were answered and are processed again after the ack. The others stay
 * parked and ask nothing more: QEMU answers each miss once, and a queue
 * that asked again on every unrelated update would multiply the misses
 * (two queues did, until QEMU dropped the backend channel). */
static void
iotlb_answered(struct blk_dev *dev, uint64_t iova, uint64_t size)
{
	for (unsigned i = 0; i < dev->n_queues; i++) {
		struct blk_queue *q = &dev->q[i];

		if (q->parked && q->park_iova - iova < size) {
			q->resume = true;
			dev->iotlb_changed = true;
		}
	}
}

/* Handles one message. False ends the session (the error says why). Sets
 * *replied when the message had its own reply (no REPLY_ACK then). */
static bool
handle(struct blk_dev *dev, int sock, struct msg *m, bool *replied, GError **error)
{
	uint64_t u = 0;
	struct blk_queue *q;
	GError *err = NULL;
	int r;

	*replied = false;
	if (m->size >= 8)
		memcpy(&u, m->payload, 8);
	switch (m->request) {
	case GET_FEATURES:
		*replied = true;
		return reply_u64(sock, m->request, offered_features(dev));
	case SET_FEATURES:
		if (!payload_size(m, 8, error))
			return false;
		if (u & ~offered_features(dev)) {
			g_set_error(error, BLK_ERROR, 0,
				    "SET_FEATURES: 0x%" PRIx64 " has bits we did not offer (0x%" PRIx64
				    ")", u, u & ~offered_features(dev));
			return false;
		}
		if ((u ^ dev->features) & VMMEM_VHOST_F_LOG_ALL)
			blk_log("SET_FEATURES: dirty logging (VHOST_F_LOG_ALL) %s",
				u & VMMEM_VHOST_F_LOG_ALL ? "on" : "off");
		if (dev->verbose)
			blk_log("SET_FEATURES: 0x%" PRIx64, u);
		if ((u ^ dev->features) & BIT(VIRTIO_F_ACCESS_PLATFORM))
			blk_log("SET_FEATURES: VIRTIO_F_ACCESS_PLATFORM %s: guest addresses are %s",
				u & BIT(VIRTIO_F_ACCESS_PLATFORM) ? "on" : "off",
				u & BIT(VIRTIO_F_ACCESS_PLATFORM) ? "IOVAs (vIOMMU)" : "guest-physical");
		dev->features = u;
		dev->iommu = u & BIT(VIRTIO_F_ACCESS_PLATFORM);
		if (!vmmem_vhost_mem_set_features(dev->vm, u, error))
			return false;
		/* Without protocol features the rings start enabled. */
		if (!(u & BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
			for (unsigned i = 0; i < dev->n_queues; i++)
				dev->q[i].enabled = true;
		return true;
	case GET_PROTOCOL_FEATURES:
		*replied = true;
		return reply_u64(sock, m->request, OFFERED_PROTOCOL_FEATURES);
	case SET_PROTOCOL_FEATURES:
		if (!payload_size(m, 8, error))
			return false;
		dev->protocol_features = u & OFFERED_PROTOCOL_FEATURES;
		return true;
	case SET_OWNER:
		return true;
	case RESET_OWNER:
		for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
			queue_reset(&dev->q[i], i);
		log_call_reset(dev);
		dev->features = 0;
		dev->iommu = false;
		return vmmem_vhost_mem_set_features(dev->vm, 0, error);
	case GET_QUEUE_NUM:
		*replied = true;
		return reply_u64(sock, m->request, dev->n_queues);
	case GET_MAX_MEM_SLOTS:
		*replied = true;
		close_fds(m->fds, m->n_fds);
		m->n_fds = 0;
		return reply_u64(sock, m->request, vmmem_vhost_mem_max_mem_slots(dev->vm));
	case SET_MEM_TABLE:
	case ADD_MEM_REG:
	case REM_MEM_REG:
	case SET_LOG_BASE:
		r = vmmem_vhost_mem_handle(dev->vm, m->request, m->payload, m->size, m->fds,
					   m->n_fds, NULL, &err);
		m->n_fds = 0; /* handed over, closed or kept */
		if (m->request == SET_LOG_BASE) {
			/* QEMU waits for exactly this reply, NEED_REPLY or not. */
			*replied = true;
			if (r < 0) {
				blk_log("SET_LOG_BASE: %s", err->message);
				g_error_free(err);
				reply_u64(sock, m->request, 1);
				g_set_error(error, BLK_ERROR, 0,
					    "SET_LOG_BASE refused: migration cannot be logged");
				return false;
			}
			blk_log("SET_LOG_BASE: dirty log of %" PRIu64 " bytes, logging %s", u,
				vmmem_vhost_mem_logging(dev->vm) ? "on" : "off until LOG_ALL");
			return reply_u64(sock, m->request, 0);
		}
		if (r < 0) {
			g_propagate_prefixed_error(error, err, "%s: ", msg_name(m->request));
			return false;
		}
		note_hotplug(dev, m);
		print_table(dev, msg_name(m->request));
		return true;
	case SET_LOG_FD:
		/* The kernel's VHOST_SET_LOG_FD: an eventfd the backend
		 * signals after it wrote to the dirty log, so that the
		 * frontend can sync the log when there is something in it
		 * (libvhost-user does the same; QEMU 7.2 never sends it). */
		if (m->n_fds != 1) {
			g_set_error(error, BLK_ERROR, 0,
				    "SET_LOG_FD: %zu fds (1 expected: the eventfd to signal "
				    "after writing the dirty log)", m->n_fds);
			return false;
		}
		log_call_reset(dev);
		dev->log_call_fd = m->fds[0];
		m->n_fds = 0;
		fcntl(dev->log_call_fd, F_SETFL, fcntl(dev->log_call_fd, F_GETFL) | O_NONBLOCK);
		if (dev->verbose)
			blk_log("SET_LOG_FD: fd %d signalled after each logged pass",
				dev->log_call_fd);
		return true;
	case SET_VRING_NUM:
		if (!payload_size(m, 8, error) || !(q = msg_queue(dev, m, (uint32_t)u, error)))
			return false;
		{
			uint32_t num = (uint32_t)(u >> 32);

			if (num == 0 || num > 32768 || (num & (num - 1))) {
				g_set_error(error, BLK_ERROR, 0,
					    "SET_VRING_NUM: queue %u: size %u is not a power of 2 "
					    "up to 32768", q->index, num);
				return false;
			}
			q->num = num;
		}
		return true;
	case SET_VRING_ADDR: {
		vmmem_vhost_vring_addr_t a;

		if (!vmmem_vhost_parse_vring_addr(m->payload, m->size, &a, error) ||
		    !(q = msg_queue(dev, m, a.index, error)))
			return false;
		q->addr = a;
		q->have_addr = true;
		q->broken = false;
		if (dev->iommu)
			blk_log("queue %u: rings at IOVA desc 0x%" PRIx64 ", avail 0x%" PRIx64
				", used 0x%" PRIx64, q->index, a.desc_user_addr, a.avail_user_addr,
				a.used_user_addr);
		return true;
	}
	case SET_VRING_BASE:
		if (!payload_size(m, 8, error) || !(q = msg_queue(dev, m, (uint32_t)u, error)))
			return false;
		q->last_avail = q->used_idx = q->used_pub = (uint16_t)(u >> 32);
		return true;
	case GET_VRING_BASE: {
		uint32_t state[2];

		if (!payload_size(m, 8, error) || !(q = msg_queue(dev, m, (uint32_t)u, error)))
			return false;
		/* Stops the ring: no kick is served until SET_VRING_KICK, and
		 * a wait for an IOTLB update ends (the ring starts afresh). */
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = -1;
		q->parked = q->resume = q->miss_sent = q->miss_fatal = false;
		q->park_since = 0;
		state[0] = q->index;
		state[1] = q->last_avail;
		*replied = true;
		return reply(sock, m->request, state, sizeof(state));
	}
	case SET_VRING_KICK:
	case SET_VRING_CALL:
	case SET_VRING_ERR:
		if (!payload_size(m, 8, error) ||
		    !(q = msg_queue(dev, m, (uint32_t)(u & VRING_IDX_MASK), error)))
			return false;
		if (!take_fd(m, u,
			     m->request == SET_VRING_KICK ? &q->kick_fd
			     : m->request == SET_VRING_CALL ? &q->call_fd : &q->err_fd,
			     error))
			return false;
		if (m->request == SET_VRING_KICK) {
			if (q->kick_fd < 0) {
				g_set_error(error, BLK_ERROR, 0,
					    "SET_VRING_KICK: queue %u: polling mode is not supported",
					    q->index);
				return false;
			}
			fcntl(q->kick_fd, F_SETFL, fcntl(q->kick_fd, F_GETFL) | O_NONBLOCK);
			if (!(dev->features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
				q->enabled = true;
			blk_queue_process(dev, q);
		}
		return true;
	case SET_VRING_ENABLE:
		if (!payload_size(m, 8, error) || !(q = msg_queue(dev, m, (uint32_t)u, error)))
			return false;
		q->enabled = (u >> 32) != 0;
		if (dev->verbose)
			blk_log("queue %u %s", q->index, q->enabled ? "enabled" : "disabled");
		blk_queue_process(dev, q);
		return true;
	case GET_CONFIG: {
		uint32_t hdr[3], size;
		uint8_t out[CONFIG_HDR + 256];

		if (!payload_size(m, CONFIG_HDR, error))
			return false;
		memcpy(hdr, m->payload, CONFIG_HDR);
		size = hdr[1];
		if (hdr[0] != 0 || size > 256 || m->size != CONFIG_HDR + size) {
			g_set_error(error, BLK_ERROR, 0,
				    "GET_CONFIG: offset %u size %u in a payload of %u bytes",
				    hdr[0], size, m->size);
			return false;
		}
		memcpy(out, hdr, CONFIG_HDR);
		fill_config(dev, out + CONFIG_HDR, size);
		*replied = true;
		return reply(sock, m->request, out, CONFIG_HDR + size);
	}
	case SET_CONFIG:
		/* Only wce would be writable, and we do not offer it. */
		return true;
	case SET_BACKEND_REQ_FD:
		if (m->n_fds != 1) {
			g_set_error(error, BLK_ERROR, 0, "SET_BACKEND_REQ_FD: %zu fds (1 expected)",
				    m->n_fds);
			return false;
		}
		if (dev->backend_fd >= 0)
			close(dev->backend_fd);
		dev->backend_fd = m->fds[0];
		m->n_fds = 0;
		blk_log("backend request channel: fd %d (IOTLB misses go there)", dev->backend_fd);
		return true;
	case IOTLB_MSG: {
		bool ok;

		/* Applied before the ack goes out: once QEMU reads the ack of
		 * an invalidation, nothing here uses the entry any more (one
		 * thread, and no queue is being processed now). */
		{
			vmmem_vhost_iotlb_msg_t im;

			if (!vmmem_vhost_parse_iotlb_msg(m->payload, m->size, &im, error))
				return false;
			ok = vmmem_vhost_mem_iotlb_msg(dev->vm, m->payload, m->size, m->fds,
						       m->n_fds, error);
			m->n_fds = 0; /* closed by it */
			if (!ok)
				return false;
			if (im.type == VMMEM_VHOST_IOTLB_UPDATE) {
				dev->stats.iotlb_updates++;
				iotlb_answered(dev, im.iova, im.size);
			} else {
				dev->stats.iotlb_invalidates++;
			}
			if (dev->verbose)
				blk_log("IOTLB %s: IOVA 0x%" PRIx64 "+0x%" PRIx64 " -> 0x%" PRIx64
					" perm %u",
					im.type == VMMEM_VHOST_IOTLB_UPDATE ? "update" : "invalidate",
					im.iova, im.size, im.uaddr, im.perm);
			return true;
		}
	}
	default:
		g_set_error(error, BLK_ERROR, 0, "message %u (%s) is not supported",
			    m->request, msg_name(m->request));
		return false;
	}
}

/* --direct: a second fd on the image with O_DIRECT, and the alignment it
 * takes (512 or 4096 bytes, found by reading the image's start). */
static bool
open_direct(struct blk_dev *dev, const char *image)
{
	void *buf = NULL;
	int fd = open(image, (dev->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT);

	if (fd < 0) {
		blk_log("--direct: image %s: open with O_DIRECT: %s", image, g_strerror(errno));
		return false;
	}
	if (posix_memalign(&buf, 4096, 8192) != 0) {
		close(fd);
		return false;
	}
	for (size_t align = 512; align <= 4096; align *= 8) {
		if (dev->image_size >= 2 * align &&
		    pread(fd, (char *)buf + align, align, (off_t)align) == (ssize_t)align) {
			dev->image_dfd = fd;
			dev->dio_align = align;
			break;
		}
	}
	free(buf);
	if (dev->image_dfd < 0) {
		blk_log("--direct: image %s: O_DIRECT reads of 512 and 4096 bytes fail (%s)", image,
			g_strerror(errno));
		close(fd);
		return false;
	}
	return true;
}

static void
print_stats(const struct blk_dev *dev)
{
	const struct blk_stats *s = &dev->stats;

	blk_log("session ended: %" PRIu64 " requests (%" PRIu64 " IN, %" PRIu64 " OUT, %" PRIu64
		" FLUSH, %" PRIu64 " GET_ID, %" PRIu64 " failed), %" PRIu64 " bytes read, %" PRIu64
		" written",
		s->requests, s->reads, s->writes, s->flushes, s->get_ids, s->errors, s->bytes_read,
		s->bytes_written);
	if (dev->image_dfd >= 0)
		blk_log("%" PRIu64 " of the IN/OUT requests went through O_DIRECT", s->direct);
	if (s->hot)
		blk_log("%" PRIu64 " IN/OUT requests had data buffers in hot-added memory", s->hot);
	if (dev->iommu || s->iotlb_updates || s->iotlb_misses)
		blk_log("IOTLB: %" PRIu64 " misses sent, %" PRIu64 " updates and %" PRIu64
			" invalidations received, %" PRIu64 " waits timed out",
			s->iotlb_misses, s->iotlb_updates, s->iotlb_invalidates, s->iotlb_timeouts);
	if (dev->n_queues > 1) {
		GString *per = g_string_new("requests per queue:");

		for (unsigned i = 0; i < dev->n_queues; i++)
			g_string_append_printf(per, " %u: %" PRIu64, i, dev->q[i].requests);
		blk_log("%s", per->str);
		g_string_free(per, TRUE);
	}
}

/* Serves one connected frontend until it closes, fails or a signal
 * arrives. */
static void
serve(struct blk_dev *dev, int sock, const sigset_t *unblocked)
{
	struct pollfd pfd[1 + BLK_MAX_QUEUES];
	struct blk_queue *who[1 + BLK_MAX_QUEUES];
	struct msg *m = g_new0(struct msg, 1);

	while (!stop_signal) {
		nfds_t n = 1;
		int ready;
		int64_t now = g_get_monotonic_time(), wait_us = -1;
		struct timespec ts;

		/* A parked queue whose update did not come in time: its next
		 * miss fails (IOERR for a data buffer, a stopped queue for the
		 * ring) instead of parking again. */
		for (unsigned i = 0; i < dev->n_queues; i++) {
			struct blk_queue *q = &dev->q[i];
			int64_t left;

			if (!q->parked)
				continue;
			left = q->park_since + BLK_IOTLB_WAIT_US - now;
			if (left <= 0) {
				blk_log("queue %u: no IOTLB update for IOVA 0x%" PRIx64 " after %d ms",
					q->index, q->park_iova, (int)(BLK_IOTLB_WAIT_US / 1000));
				dev->stats.iotlb_timeouts++;
				q->parked = q->resume = q->miss_sent = false;
				q->park_since = 0;
				q->miss_fatal = true;
				blk_queue_process(dev, q);
				continue;
			}
			if (wait_us < 0 || left < wait_us)
				wait_us = left;
		}
		ts.tv_sec = wait_us / G_USEC_PER_SEC;
		ts.tv_nsec = (wait_us % G_USEC_PER_SEC) * 1000;
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		for (unsigned i = 0; i < dev->n_queues; i++) {
			if (blk_queue_ready(&dev->q[i])) {
				pfd[n] = (struct pollfd){ .fd = dev->q[i].kick_fd, .events = POLLIN };
				who[n++] = &dev->q[i];
			}
		}
		ready = ppoll(pfd, n, wait_us < 0 ? NULL : &ts, unblocked);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			blk_log("poll: %s", g_strerror(errno));
			break;
		}
		for (nfds_t i = 1; i < n; i++) {
			uint64_t v;

			if (!(pfd[i].revents & POLLIN))
				continue;
			if (read(pfd[i].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				blk_log("queue %u: read from the kick eventfd: %s", who[i]->index,
					g_strerror(errno));
			blk_queue_process(dev, who[i]);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			GError *err = NULL;
			bool replied, ok;
			int r = msg_read(sock, m, &err);

			if (r == 0) {
				blk_log("frontend closed the socket");
				break;
			}
			if (r < 0) {
				blk_log("%s", err->message);
				g_error_free(err);
				break;
			}
			if (dev->verbose)
				blk_log("<- %s (%u) size %u flags 0x%x fds %zu", msg_name(m->request),
					m->request, m->size, m->flags, m->n_fds);
			ok = handle(dev, sock, m, &replied, &err);
			close_fds(m->fds, m->n_fds);
			if (!replied && (m->flags & FLAG_NEED_REPLY) &&
			    (dev->protocol_features & BIT(PROTOCOL_F_REPLY_ACK)))
				reply_u64(sock, m->request, ok ? 0 : 1);
			if (!ok) {
				blk_log("%s", err->message);
				g_error_free(err);
				/* A message we refused leaves the device unusable. */
				break;
			}
			/* After the ack: the parked queues try again. */
			if (dev->iotlb_changed) {
				dev->iotlb_changed = false;
				for (unsigned i = 0; i < dev->n_queues; i++) {
					struct blk_queue *q = &dev->q[i];

					if (q->parked && q->resume) {
						/* Answered: a new miss, even on
						 * the same IOVA, asks again. */
						q->parked = q->resume = q->miss_sent = false;
						q->park_since = 0;
						blk_queue_process(dev, q);
					}
				}
			}
		}
	}
	g_free(m);
}

int
main(int argc, char **argv)
{
	gchar *socket_path = NULL, *image = NULL;
	gboolean read_only = FALSE, once = FALSE, verbose = FALSE, direct = FALSE;
	gboolean no_iommu = FALSE;
	gint queues = 1;
	GOptionEntry entries[] = {
		{ "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
		  "Unix socket to listen on (created; an old one is replaced)", "PATH" },
		{ "image", 'i', 0, G_OPTION_ARG_FILENAME, &image,
		  "Raw disk image to serve (its size rounded down to 512 bytes)", "FILE" },
		{ "read-only", 'r', 0, G_OPTION_ARG_NONE, &read_only,
		  "Offer VIRTIO_BLK_F_RO and fail writes", NULL },
		{ "queues", 'q', 0, G_OPTION_ARG_INT, &queues, "Number of request queues (1-16)",
		  "N" },
		{ "direct", 0, 0, G_OPTION_ARG_NONE, &direct,
		  "Bypass the host page cache (O_DIRECT, QEMU's cache.direct=on) for requests "
		  "whose buffers are aligned; the others still use it", NULL },
		{ "once", 0, 0, G_OPTION_ARG_NONE, &once,
		  "Exit after the first frontend disconnects (default: wait for the next)", NULL },
		{ "no-iommu", 0, 0, G_OPTION_ARG_NONE, &no_iommu,
		  "Do not offer VIRTIO_F_ACCESS_PLATFORM (a frontend with a vIOMMU then refuses the "
		  "device)", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every message", NULL },
		{ NULL }
	};
	GOptionContext *ctx = g_option_context_new("- a vhost-user-blk backend built on vmmem");
	GError *err = NULL;
	struct blk_dev dev = { .image_fd = -1, .image_dfd = -1, .log_call_fd = -1, .backend_fd = -1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	struct stat st;
	struct stat sock_st;
	int lsock, rc = 1;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(
		ctx, "Serves FILE as a virtio-blk disk to a vhost-user frontend such as QEMU\n"
		     "(-chardev socket,path=PATH -device vhost-user-blk-pci). Guest memory must\n"
		     "be shared (memory-backend-memfd,share=on). Every guest access goes\n"
		     "through vmmem. SIGINT or SIGTERM stops it cleanly.\n");
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "vmmem-vhost-user-blk: %s\n", err->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (!socket_path || !image || queues < 1 || queues > BLK_MAX_QUEUES) {
		fprintf(stderr, "vmmem-vhost-user-blk: --socket and --image are required, "
				"--queues is 1 to %d (see --help)\n", BLK_MAX_QUEUES);
		return 2;
	}
	dev.read_only = read_only;
	dev.n_queues = (unsigned)queues;
	dev.verbose = verbose;
	dev.no_iommu = no_iommu;
	dev.image_fd = open(image, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (dev.image_fd < 0 || fstat(dev.image_fd, &st) < 0) {
		blk_log("image %s: %s", image, g_strerror(errno));
		return 1;
	}
	dev.image_size = (uint64_t)st.st_size & ~UINT64_C(511);
	if (direct && !open_direct(&dev, image))
		return 1;
	g_strlcpy(dev.serial, "vmmem-blk", sizeof(dev.serial));
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		blk_log("socket path %s: longer than %zu bytes", socket_path, sizeof(sa.sun_path) - 1);
		return 1;
	}
	strcpy(sa.sun_path, socket_path);
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
		dev.q[i].kick_fd = dev.q[i].call_fd = dev.q[i].err_fd = -1;
	}

	/* Signals are blocked except inside ppoll(): no lost wake-up. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* A stale socket from an earlier run is replaced; anything else at
	 * that path is the user's file, never ours to delete (as root, a
	 * mistyped --socket /dev/null would otherwise remove the device). */
	if (lstat(socket_path, &sock_st) == 0) {
		if (!S_ISSOCK(sock_st.st_mode)) {
			blk_log("socket %s: the path exists and is not a socket; not replacing it",
				socket_path);
			return 1;
		}
		unlink(socket_path);
	}
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lsock, 1) < 0) {
		blk_log("socket %s: %s", socket_path, g_strerror(errno));
		return 1;
	}
	if (lstat(socket_path, &sock_st) != 0)
		memset(&sock_st, 0, sizeof(sock_st));
	blk_log("serving %s (%" PRIu64 " sectors%s, %u queue%s%s) on %s", image,
		dev.image_size / 512, read_only ? ", read-only" : "", dev.n_queues,
		dev.n_queues == 1 ? "" : "s",
		dev.image_dfd >= 0 ? (dev.dio_align == 512 ? ", O_DIRECT for 512-byte aligned I/O"
							   : ", O_DIRECT for 4 KiB aligned I/O")
				   : "",
		socket_path);

	while (!stop_signal) {
		struct pollfd p = { .fd = lsock, .events = POLLIN };
		int sock;

		if (ppoll(&p, 1, NULL, &unblocked) < 0) {
			if (errno == EINTR)
				continue;
			blk_log("poll: %s", g_strerror(errno));
			goto out;
		}
		sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (sock < 0)
			continue;
		memset(&dev.stats, 0, sizeof(dev.stats));
		if (!session_reset(&dev, &err)) {
			blk_log("guest memory: %s", err->message);
			g_clear_error(&err);
			close(sock);
			goto out;
		}
		blk_log("frontend connected");
		serve(&dev, sock, &unblocked);
		close(sock);
		print_stats(&dev);
		/* Release the session now: its fds, mappings and queues. */
		for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
			queue_reset(&dev.q[i], i);
		log_call_reset(&dev);
		if (dev.backend_fd >= 0)
			close(dev.backend_fd);
		dev.backend_fd = -1;
		vmmem_vhost_mem_free(dev.vm);
		dev.vm = NULL;
		if (once)
			break;
	}
	rc = 0;
	if (stop_signal)
		blk_log("stopped by signal %d", (int)stop_signal);
out:
	close(lsock);
	/* Only the socket this run bound: another may have replaced it. */
	{
		struct stat now;

		if (lstat(socket_path, &now) == 0 && S_ISSOCK(now.st_mode) &&
		    now.st_ino == sock_st.st_ino && now.st_dev == sock_st.st_dev)
			unlink(socket_path);
	}
	close(dev.image_fd);
	if (dev.image_dfd >= 0)
		close(dev.image_dfd);
	vmmem_vhost_mem_free(dev.vm);
	g_free(socket_path);
	g_free(image);
	return rc;
}
