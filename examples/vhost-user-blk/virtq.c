/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: split virtqueues and virtio-blk requests.
 *
 * Every guest access goes through vmmem: ring fields with atomic
 * loads/stores (logged by vmmem when migration logging is on), headers
 * and descriptors with read_obj, data with preadv/pwritev straight into
 * the iovecs vmmem_memory_get_iovec hands out. With
 * VIRTIO_F_ACCESS_PLATFORM the same accesses go by IOVA through the
 * session's IOTLB (vmmem_iova_*); a miss parks the queue before the
 * request has run, and main.c resumes it when the frontend's update came.
 * The guest is not trusted: a ring that cannot be walked stops the queue
 * with a message that names the cause; a request whose buffers are bad
 * completes with IOERR. */
#define _GNU_SOURCE
#include <endian.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vmmem/access.h>
#include <vmmem/dirty.h>

#include "blk.h"

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
/* Not a virtio status: blk_request stopped before executing anything, on
 * an IOTLB miss. */
#define BLK_PARK 0xff

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* One queue's rings in one snapshot. The addresses (rings, descriptors,
 * buffers) are guest-physical, or with VIRTIO_F_ACCESS_PLATFORM I/O
 * virtual addresses that every access translates through the IOTLB: all
 * guest accesses below go through the dma_* functions, which pick. */
struct ring {
	const vmmem_memory_t *m;
	struct blk_dev *dev;
	struct blk_queue *q;
	uint64_t desc, avail, used;
	bool iova;
	vmmem_iova_t io;   /* the IOTLB section, while iova */
	/* The last failed access missed in the IOTLB (and may be retried
	 * once the frontend sends the entry): the queue parks. */
	bool missed;
	uint64_t miss_iova;
	bool miss_write;
};

static struct seg segs[BLK_MAX_SEGS];
static struct iovec iovs[BLK_MAX_SEGS * 2];

void
blk_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vmmem-vhost-user-blk: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool
blk_queue_ready(const struct blk_queue *q)
{
	return q->num && q->have_addr && q->kick_fd >= 0 && q->enabled && !q->broken &&
	       !q->parked;
}

/* ---- guest accesses: by guest address, or by IOVA ----------------------- */

/* Notes a miss (the error is the caller's to report if the wait fails). */
static bool
dma_fail(struct ring *r, GError *err, GError **error)
{
	if (r->iova && !r->q->miss_fatal && blk_iova_missed(r->dev, err, &r->miss_iova, &r->miss_write))
		r->missed = true;
	g_propagate_error(error, err);
	return false;
}

static bool
dma_read(struct ring *r, uint64_t a, void *buf, size_t len, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_read_slice(&r->io, a, buf, len, &err)
		    : vmmem_memory_read_slice(r->m, vmmem_guest_addr(a), buf, len, &err))
		return true;
	return dma_fail(r, err, error);
}

static bool
dma_write(struct ring *r, uint64_t a, const void *buf, size_t len, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_write_obj(&r->io, a, buf, len, &err)
		    : vmmem_memory_write_obj(r->m, vmmem_guest_addr(a), buf, len, &err))
		return true;
	return dma_fail(r, err, error);
}

static bool
dma_load_u16(struct ring *r, uint64_t a, uint16_t *v, memory_order order, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_load_u16(&r->io, a, v, order, &err)
		    : vmmem_memory_load_u16(r->m, vmmem_guest_addr(a), v, order, &err))
		return true;
	return dma_fail(r, err, error);
}

static bool
dma_store_u16(struct ring *r, uint64_t a, uint16_t v, memory_order order, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_store_u16(&r->io, a, v, order, &err)
		    : vmmem_memory_store_u16(r->m, vmmem_guest_addr(a), v, order, &err))
		return true;
	return dma_fail(r, err, error);
}

static bool
dma_store_u8(struct ring *r, uint64_t a, uint8_t v, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_store_u8(&r->io, a, v, memory_order_relaxed, &err)
		    : vmmem_memory_store_u8(r->m, vmmem_guest_addr(a), v, memory_order_relaxed, &err))
		return true;
	return dma_fail(r, err, error);
}

/* Host iovecs for [a, a + len), for the device to write into (write) or
 * read from. */
static bool
dma_iovec(struct ring *r, uint64_t a, uint64_t len, bool write, struct iovec *iov, size_t max,
	  size_t *n, GError **error)
{
	GError *err = NULL;

	if (r->iova ? vmmem_iova_get_iovec(&r->io, a, len, write ? VMMEM_IOTLB_WRITE : VMMEM_IOTLB_READ,
					   iov, max, n, &err)
		    : vmmem_memory_get_iovec(r->m, vmmem_guest_addr(a), len, iov, max, n, &err))
		return true;
	return dma_fail(r, err, error);
}

/* After writing through iovecs: the dirty log, by guest page. */
static void
dma_mark_dirty(struct ring *r, uint64_t a, uint64_t len)
{
	if (r->iova)
		vmmem_iova_mark_dirty(&r->io, a, len);
	else
		vmmem_memory_mark_dirty(r->m, vmmem_guest_addr(a), len);
}

/* A used-ring write made at `off`: without an IOMMU the protocol's
 * log_guest_addr rule; with one, writes by IOVA are logged by guest page
 * after translation already. */
static void
dma_log_used(struct ring *r, uint64_t off, uint64_t len)
{
	if (!r->iova)
		vmmem_vhost_log_used(r->m, r->q->addr.flags, r->q->addr.log_guest_addr, off, len);
}

static void
queue_stop(struct blk_queue *q, const char *why)
{
	uint64_t one = 1;

	blk_log("queue %u stopped: %s", q->index, why);
	q->broken = true;
	if (q->err_fd >= 0 && write(q->err_fd, &one, sizeof(one)) < 0)
		blk_log("queue %u: write to the err eventfd: %s", q->index, g_strerror(errno));
}

static bool
ring_map(struct ring *r, GError **error)
{
	uint32_t num = r->q->num;
	vmmem_guest_addr_t g;

	if (r->iova) {
		/* IOVAs: each access translates (and may miss) on its own. */
		r->desc = r->q->addr.desc_user_addr;
		r->avail = r->q->addr.avail_user_addr;
		r->used = r->q->addr.used_user_addr;
		return true;
	}
	if (!vmmem_vhost_uva_to_gpa(r->m, r->q->addr.desc_user_addr, 16ull * num, &g, error))
		return false;
	r->desc = g.raw;
	if (!vmmem_vhost_uva_to_gpa(r->m, r->q->addr.avail_user_addr, 6 + 2ull * num, &g, error))
		return false;
	r->avail = g.raw;
	if (!vmmem_vhost_uva_to_gpa(r->m, r->q->addr.used_user_addr, 6 + 8ull * num, &g, error))
		return false;
	r->used = g.raw;
	return true;
}

/* Walks the chain at `head` into segs[]. Returns the count, -1 with *why
 * set when the ring itself is unusable (the queue stops), or -2 on an
 * IOTLB miss (the queue parks). */
static int
walk_chain(struct blk_dev *dev, struct ring *r, uint16_t head, char **why)
{
	uint64_t table = r->desc;
	uint32_t size = r->q->num, idx = head, seen = 0;
	bool indirect = false;
	int n = 0;

	for (;;) {
		struct vring_desc d;
		GError *err = NULL;

		if (idx >= size) {
			*why = g_strdup_printf("head %u: next index %u outside the %s table of %u",
					       head, idx, indirect ? "indirect" : "descriptor", size);
			return -1;
		}
		if (++seen > size) {
			*why = g_strdup_printf("head %u: chain longer than the %s table of %u "
					       "(a descriptor loop)",
					       head, indirect ? "indirect" : "descriptor", size);
			return -1;
		}
		if (!dma_read(r, table + (uint64_t)16 * idx, &d, sizeof(d), &err)) {
			if (r->missed) {
				g_error_free(err);
				return -2;
			}
			*why = g_strdup_printf("head %u: descriptor %u at 0x%" PRIx64 ": %s", head,
					       idx, table + (uint64_t)16 * idx, err->message);
			g_error_free(err);
			return -1;
		}
		d.addr = le64toh(d.addr);
		d.len = le32toh(d.len);
		d.flags = le16toh(d.flags);
		d.next = le16toh(d.next);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!(dev->features & BIT(VIRTIO_RING_F_INDIRECT_DESC)) || indirect ||
			    (d.flags & VRING_DESC_F_NEXT) || d.len == 0 || d.len % 16 ||
			    d.len / 16 > 65536) {
				*why = g_strdup_printf(
					"head %u: descriptor %u: bad indirect descriptor (len %u, "
					"flags 0x%x%s)",
					head, idx, d.len, d.flags,
					indirect ? ", nested" : "");
				return -1;
			}
			/* By IOVA the table's reads check it (and may miss). */
			if (!r->iova &&
			    !vmmem_memory_check_range(r->m, vmmem_guest_addr(d.addr), d.len)) {
				*why = g_strdup_printf("head %u: descriptor %u: indirect table at "
						       "0x%" PRIx64 "+%u is outside guest memory",
						       head, idx, d.addr, d.len);
				return -1;
			}
			table = d.addr;
			size = d.len / 16;
			idx = 0;
			seen = 0;
			indirect = true;
			continue;
		}
		if (n == BLK_MAX_SEGS) {
			*why = g_strdup_printf("head %u: more than %d descriptors in one request",
					       head, BLK_MAX_SEGS);
			return -1;
		}
		segs[n].gpa = d.addr;
		segs[n].len = d.len;
		segs[n].write = d.flags & VRING_DESC_F_WRITE;
		n++;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return n;
		idx = d.next;
	}
}

/* Appends the host iovecs of guest [gpa, gpa + len) to iovs[*n]. */
static bool
add_iov(struct ring *r, uint64_t gpa, uint64_t len, bool write, size_t *n, GError **error)
{
	size_t k;

	if (len == 0)
		return true;
	if (!dma_iovec(r, gpa, len, write, iovs + *n, G_N_ELEMENTS(iovs) - *n, &k, error))
		return false;
	*n += k;
	return true;
}

/* O_DIRECT takes iovs[0..n) at `off` only if every address, length and
 * the offset are multiples of the image's direct I/O alignment. */
static bool
dio_aligned(const struct blk_dev *dev, size_t n, uint64_t off)
{
	uintptr_t mask = dev->dio_align - 1;

	if (off & mask)
		return false;
	for (size_t i = 0; i < n; i++)
		if (((uintptr_t)iovs[i].iov_base | iovs[i].iov_len) & mask)
			return false;
	return true;
}

/* preadv/pwritev over all of iovs[0..n) at `off`, looping over short
 * transfers and IOV_MAX; through the O_DIRECT fd when there is one and
 * the buffers allow it, otherwise (or if the kernel refuses it) through
 * the page cache, which Linux keeps coherent with direct I/O. */
static bool
image_io(struct blk_dev *dev, bool write, size_t n, uint64_t off, GError **error)
{
	size_t i = 0;
	int fd = dev->image_fd;

	if (dev->image_dfd >= 0 && dio_aligned(dev, n, off)) {
		fd = dev->image_dfd;
		dev->stats.direct++;
	}
	while (i < n) {
		int cnt = (int)MIN(n - i, (size_t)IOV_MAX);
		ssize_t got = write ? pwritev(fd, iovs + i, cnt, (off_t)off)
				    : preadv(fd, iovs + i, cnt, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EINVAL && fd != dev->image_fd) {
			fd = dev->image_fd;
			dev->stats.direct--;
			continue;
		}
		/* What is left of a short direct transfer may not be aligned. */
		if (got > 0 && fd != dev->image_fd && (size_t)got % dev->dio_align)
			fd = dev->image_fd;
		if (got <= 0) {
			g_set_error(error, BLK_ERROR, 0, "%s at offset %" PRIu64 ": %s",
				    write ? "pwritev" : "preadv", off,
				    got < 0 ? g_strerror(errno) : "end of image");
			return false;
		}
		off += (uint64_t)got;
		while (got > 0 && i < n) {
			if ((size_t)got >= iovs[i].iov_len) {
				got -= (ssize_t)iovs[i].iov_len;
				i++;
			} else {
				iovs[i].iov_base = (char *)iovs[i].iov_base + got;
				iovs[i].iov_len -= (size_t)got;
				got = 0;
			}
		}
	}
	return true;
}

/* True if a data segment of the request (segs[0..nread) for OUT, the
 * writable ones for IN) touches memory hot-added while serving. */
static bool
in_hot_memory(const struct blk_dev *dev, int nread, int n, bool out)
{
	for (int i = out ? 0 : nread; i < (out ? nread : n); i++)
		for (unsigned h = 0; h < dev->n_hot; h++)
			if (segs[i].gpa < dev->hot[h].gpa + dev->hot[h].size &&
			    segs[i].gpa + segs[i].len > dev->hot[h].gpa)
				return true;
	return false;
}

/* Executes one request of n segs; returns the status and sets *written to
 * the bytes written into device-writable buffers before the status. */
static uint8_t
blk_request(struct blk_dev *dev, struct ring *r, uint16_t head, int n, uint32_t *written)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} hdr;
	uint8_t hbuf[16];
	size_t got = 0, n_iov = 0;
	int nread = 0, i;
	uint64_t data_len = 0;
	GError *err = NULL;
	bool ok = true;

	*written = 0;
	while (nread < n && !segs[nread].write)
		nread++;
	for (i = nread; i < n; i++) {
		if (!segs[i].write) {
			blk_log("queue %u head %u: descriptor %d is device-readable after a "
				"writable one", r->q->index, head, i);
			return VIRTIO_BLK_S_IOERR;
		}
	}
	/* The header: the first 16 readable bytes, over as many segments. */
	for (i = 0; i < nread && got < sizeof(hbuf); i++) {
		size_t take = MIN((size_t)segs[i].len, sizeof(hbuf) - got);

		if (!dma_read(r, segs[i].gpa, hbuf + got, take, &err)) {
			if (r->missed) {
				g_error_free(err);
				return BLK_PARK;
			}
			blk_log("queue %u head %u: request header: %s", r->q->index, head,
				err->message);
			g_error_free(err);
			return VIRTIO_BLK_S_IOERR;
		}
		got += take;
	}
	if (got < sizeof(hbuf)) {
		blk_log("queue %u head %u: request header of %zu bytes (16 expected)", r->q->index,
			head, got);
		return VIRTIO_BLK_S_IOERR;
	}
	memcpy(&hdr, hbuf, sizeof(hdr));
	hdr.type = le32toh(hdr.type);
	hdr.sector = le64toh(hdr.sector);

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		/* Writable segments, less the status byte at the end. */
		for (i = nread; i < n; i++) {
			uint64_t len = segs[i].len - (i == n - 1 ? 1 : 0);

			if (ok && !add_iov(r, segs[i].gpa, len, true, &n_iov, &err))
				ok = false;
			data_len += len;
		}
		break;
	case VIRTIO_BLK_T_OUT:
		/* Readable segments after the header bytes. */
		{
			uint64_t left = sizeof(hbuf);

			for (i = 0; i < nread; i++) {
				uint64_t s = MIN(left, (uint64_t)segs[i].len);

				left -= s;
				if (ok && !add_iov(r, segs[i].gpa + s, segs[i].len - s, false, &n_iov,
						   &err))
					ok = false;
				data_len += segs[i].len - s;
			}
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		dev->stats.flushes++;
		if (fdatasync(dev->image_fd) < 0) {
			blk_log("queue %u head %u: FLUSH: fdatasync: %s", r->q->index, head,
				g_strerror(errno));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (!ok && r->missed) {
		g_error_free(err);
		return BLK_PARK;
	}
	if (!ok) {
		blk_log("queue %u head %u: %s data buffer: %s", r->q->index, head,
			hdr.type == VIRTIO_BLK_T_OUT ? "OUT" : hdr.type == VIRTIO_BLK_T_IN ? "IN" : "GET_ID",
			err->message);
		g_error_free(err);
		return VIRTIO_BLK_S_IOERR;
	}

	if (hdr.type == VIRTIO_BLK_T_GET_ID) {
		size_t left = VIRTIO_BLK_ID_BYTES, done = 0;

		dev->stats.get_ids++;
		for (i = 0; i < (int)n_iov && left; i++) {
			size_t take = MIN(left, iovs[i].iov_len);

			memcpy(iovs[i].iov_base, dev->serial + done, take);
			done += take;
			left -= take;
		}
		/* Written through vmmem's iovecs: mark it for the log. */
		for (i = nread; i < n && done; i++) {
			size_t len = MIN(done, (size_t)segs[i].len);

			dma_mark_dirty(r, segs[i].gpa, len);
			done -= len;
		}
		*written = (uint32_t)MIN(data_len, (uint64_t)VIRTIO_BLK_ID_BYTES);
		return VIRTIO_BLK_S_OK;
	}

	if (hdr.sector > dev->image_size / 512 ||
	    data_len > dev->image_size - hdr.sector * 512) {
		blk_log("queue %u head %u: %s of %" PRIu64 " bytes at sector %" PRIu64
			" is past the end of the image (%" PRIu64 " sectors)",
			r->q->index, head, hdr.type == VIRTIO_BLK_T_IN ? "IN" : "OUT", data_len,
			hdr.sector, dev->image_size / 512);
		return VIRTIO_BLK_S_IOERR;
	}
	if (hdr.type == VIRTIO_BLK_T_OUT && dev->read_only) {
		blk_log("queue %u head %u: OUT at sector %" PRIu64 " on a read-only image",
			r->q->index, head, hdr.sector);
		return VIRTIO_BLK_S_IOERR;
	}
	if (dev->n_hot && in_hot_memory(dev, nread, n, hdr.type == VIRTIO_BLK_T_OUT))
		dev->stats.hot++;
	if (!image_io(dev, hdr.type == VIRTIO_BLK_T_OUT, n_iov, hdr.sector * 512, &err)) {
		blk_log("queue %u head %u: %s", r->q->index, head, err->message);
		g_error_free(err);
		return VIRTIO_BLK_S_IOERR;
	}
	if (hdr.type == VIRTIO_BLK_T_IN) {
		/* preadv wrote guest memory behind vmmem's back: log it. */
		for (i = nread; i < n; i++)
			dma_mark_dirty(r, segs[i].gpa, segs[i].len);
		*written = (uint32_t)data_len;
		dev->stats.reads++;
		dev->stats.bytes_read += data_len;
	} else {
		dev->stats.writes++;
		dev->stats.bytes_written += data_len;
	}
	return VIRTIO_BLK_S_OK;
}

static bool
need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Ends the IOTLB section (no invalidation waits for it any more) and puts
 * the snapshot. */
static void
ring_put(vmmem_space_t *space, struct ring *r)
{
	if (r->iova)
		vmmem_iova_end(&r->io);
	vmmem_space_put(space, r->m);
}

/* One avail entry: walk, execute, write status and the used element.
 * 1 when done, 0 when the queue must stop (*why set), -1 on an IOTLB miss
 * before anything was executed (the queue parks and this entry is taken
 * again from the start once the frontend sent the entry). */
static int
take_one(struct blk_dev *dev, struct ring *r, char **why)
{
	struct blk_queue *q = r->q;
	uint64_t slot = r->avail + 4 + 2ull * (q->last_avail % q->num);
	struct {
		uint32_t id, len;
	} elem;
	uint16_t head;
	uint32_t written;
	uint8_t status;
	uint64_t off = 4 + 8ull * (q->used_idx % q->num), status_at;
	struct iovec probe;
	size_t k;
	GError *err = NULL;
	int n;

	if (!dma_load_u16(r, slot, &head, memory_order_relaxed, &err))
		goto fail;
	head = le16toh(head);
	n = walk_chain(dev, r, head, why);
	if (n == -2)
		return -1;
	if (n < 0)
		return 0;
	if (!segs[n - 1].write || segs[n - 1].len == 0) {
		*why = g_strdup_printf("head %u: the last descriptor is not a device-writable "
				       "status byte", head);
		return 0;
	}
	status_at = segs[n - 1].gpa + segs[n - 1].len - 1;
	/* By IOVA, translate the status byte and the used element before the
	 * request runs: a miss after the I/O would have it run twice. No
	 * invalidation can come in between: the socket is not read until
	 * this queue is done. */
	if (r->iova && (!dma_iovec(r, status_at, 1, true, &probe, 1, &k, &err) ||
			!dma_iovec(r, r->used + off, sizeof(elem), true, &probe, 1, &k, &err))) {
		if (r->missed) {
			g_error_free(err);
			return -1;
		}
		*why = g_strdup_printf("head %u: status byte or used element: %s", head,
				       err->message);
		g_error_free(err);
		return 0;
	}
	status = blk_request(dev, r, head, n, &written);
	if (status == BLK_PARK)
		return -1;
	dev->stats.requests++;
	if (status != VIRTIO_BLK_S_OK)
		dev->stats.errors++;
	if (!dma_store_u8(r, status_at, status, &err)) {
		*why = g_strdup_printf("head %u: status byte at 0x%" PRIx64 ": %s", head, status_at,
				       err->message);
		g_error_free(err);
		return 0;
	}
	elem.id = htole32(head);
	elem.len = htole32(written + 1);
	if (!dma_write(r, r->used + off, &elem, sizeof(elem), &err))
		goto fail;
	dma_log_used(r, off, sizeof(elem));
	q->used_idx++;
	q->last_avail++;
	q->requests++;
	return 1;
fail:
	if (r->missed) {
		g_error_free(err);
		return -1;
	}
	*why = g_strdup_printf("ring access: %s", err->message);
	g_error_free(err);
	return 0;
}

void
blk_queue_process(struct blk_dev *dev, struct blk_queue *q)
{
	vmmem_space_t *space = vmmem_vhost_mem_space(dev->vm);
	struct ring r = { .q = q, .dev = dev, .iova = dev->iommu };
	uint16_t old_used = q->used_pub, avail_idx, flags;
	bool event_idx = dev->features & BIT(VIRTIO_RING_F_EVENT_IDX);
	char *why = NULL;
	GError *err = NULL;
	int t = 1;

	if (!blk_queue_ready(q))
		return;
	r.m = vmmem_space_get(space);
	if (r.iova)
		vmmem_iova_begin(&r.io, vmmem_vhost_mem_iotlb(dev->vm), r.m);
	if (!ring_map(&r, &err)) {
		why = g_strdup_printf("rings (desc 0x%" PRIx64 ", avail 0x%" PRIx64
				      ", used 0x%" PRIx64 ", size %u): %s",
				      q->addr.desc_user_addr, q->addr.avail_user_addr,
				      q->addr.used_user_addr, q->num, err->message);
		g_error_free(err);
		goto stop;
	}
	for (;;) {
		if (!dma_load_u16(&r, r.avail + 2, &avail_idx, memory_order_acquire, &err))
			goto ring_err;
		avail_idx = le16toh(avail_idx);
		if ((uint16_t)(avail_idx - q->last_avail) > q->num) {
			why = g_strdup_printf("avail index %u is %u entries past %u (queue size %u)",
					      avail_idx, (uint16_t)(avail_idx - q->last_avail),
					      q->last_avail, q->num);
			goto stop;
		}
		while (q->last_avail != avail_idx) {
			t = take_one(dev, &r, &why);
			if (t <= 0)
				break;
		}
		if (t == 0)
			goto stop;
		/* Parked or not, publish what was completed. */
		if (q->used_idx != q->used_pub) {
			if (!dma_store_u16(&r, r.used + 2, htole16(q->used_idx), memory_order_release,
					   &err))
				goto ring_err;
			q->used_pub = q->used_idx;
		}
		dma_log_used(&r, 2, 2);
		if (t < 0 || !event_idx)
			break;
		/* Tell the driver where to kick next, then look again: a kick
		 * for an entry added meanwhile may have been suppressed. */
		if (!dma_store_u16(&r, r.used + 4 + 8ull * q->num, htole16(q->last_avail),
				   memory_order_relaxed, &err))
			goto ring_err;
		dma_log_used(&r, 4 + 8ull * q->num, 2);
		atomic_thread_fence(memory_order_seq_cst);
		if (!dma_load_u16(&r, r.avail + 2, &avail_idx, memory_order_acquire, &err))
			goto ring_err;
		if (le16toh(avail_idx) == q->last_avail)
			break;
	}
	/* Every completed request wrote its status byte and the used ring,
	 * which the log holds while logging is on: tell the frontend
	 * before the call eventfd interrupts the driver. */
	if (q->used_pub != old_used && dev->log_call_fd >= 0 && vmmem_vhost_mem_logging(dev->vm)) {
		uint64_t one = 1;

		if (write(dev->log_call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			blk_log("queue %u: write to the log eventfd (SET_LOG_FD): %s", q->index,
				g_strerror(errno));
	}
	if (q->used_pub != old_used && q->call_fd >= 0) {
		bool signal;

		atomic_thread_fence(memory_order_seq_cst);
		if (event_idx) {
			uint16_t ev;

			if (!dma_load_u16(&r, r.avail + 4 + 2ull * q->num, &ev, memory_order_relaxed,
					  &err))
				goto ring_err;
			signal = need_event(le16toh(ev), q->used_pub, old_used);
		} else {
			if (!dma_load_u16(&r, r.avail, &flags, memory_order_relaxed, &err))
				goto ring_err;
			signal = !(le16toh(flags) & VRING_AVAIL_F_NO_INTERRUPT);
		}
		if (signal) {
			uint64_t one = 1;

			if (write(q->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				blk_log("queue %u: write to the call eventfd: %s", q->index,
					g_strerror(errno));
		}
	}
	ring_put(space, &r);
	if (t < 0)
		goto park;
	q->miss_fatal = false;
	q->park_since = 0;
	q->miss_sent = false;
	return;
ring_err:
	if (r.missed) {
		g_error_free(err);
		ring_put(space, &r);
		goto park;
	}
	why = g_strdup_printf("ring access: %s", err->message);
	g_error_free(err);
stop:
	ring_put(space, &r);
	q->miss_fatal = false;
	q->park_since = 0;
	q->miss_sent = false;
	queue_stop(q, why);
	g_free(why);
	return;
park:
	/* A wait starts at the first miss on this page and asks once; the
	 * queue only runs again when an update covers the IOVA (main.c) or
	 * the wait times out. */
	if (!q->park_since || (q->park_iova ^ r.miss_iova) >> 12) {
		q->park_since = g_get_monotonic_time();
		q->miss_sent = false;
	}
	q->park_iova = r.miss_iova;
	q->parked = true;
	q->miss_fatal = false;
	if (!q->miss_sent)
		q->miss_sent = blk_send_iotlb_miss(dev, q, r.miss_iova, r.miss_write);
}
