/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: guest accesses by IOVA (VIRTIO_F_ACCESS_PLATFORM).
 *
 * TEMPORARY STAND-IN, to be replaced by <vmmem/iotlb.h> (issue 14, branch
 * iotlb) as soon as it lands: a plain table of the frontend's IOTLB
 * entries {iova, size, uaddr, perm}, looked up linearly, each access split
 * into pieces that one entry covers and done by guest address through the
 * snapshot. One thread owns it; nothing here is concurrent. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include <vmmem/access.h>
#include <vmmem/dirty.h>
#include <vmmem/error.h>

#include "blk.h"

#define PERM_RO 1
#define PERM_WO 2
#define IOTLB_MISS       1
#define IOTLB_UPDATE     2
#define IOTLB_INVALIDATE 3

struct entry {
	uint64_t iova, size, uaddr;
	uint8_t perm;
};

struct shim {
	GArray *e;
	uint64_t miss_iova;
	bool miss_write, missed;
};

#define SHIM_MISS 1000

static struct shim *
shim(struct blk_dev *dev)
{
	return dev->iotlb;
}

bool
blk_iova_reset(struct blk_dev *dev, GError **error)
{
	struct shim *s = shim(dev);

	(void)error;
	if (!s) {
		s = g_new0(struct shim, 1);
		s->e = g_array_new(FALSE, FALSE, sizeof(struct entry));
		dev->iotlb = s;
	}
	g_array_set_size(s->e, 0);
	return true;
}

bool
blk_iova_missed(struct blk_dev *dev, const GError *err, uint64_t *iova, bool *write)
{
	struct shim *s = shim(dev);

	if (!g_error_matches(err, BLK_ERROR, SHIM_MISS))
		return false;
	*iova = s->miss_iova;
	*write = s->miss_write;
	return true;
}

/* The guest address of iova and how many of len bytes from it one entry
 * and one region cover. */
static bool
xlate(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint64_t len, bool write,
      uint64_t *gpa, uint64_t *piece, GError **error)
{
	struct shim *s = shim(dev);

	for (guint i = 0; i < s->e->len; i++) {
		struct entry *e = &g_array_index(s->e, struct entry, i);
		uint64_t off = iova - e->iova;
		vmmem_guest_addr_t g;

		if (iova < e->iova || off >= e->size)
			continue;
		if (!(e->perm & (write ? PERM_WO : PERM_RO))) {
			g_set_error(error, BLK_ERROR, 0, "IOVA 0x%" PRIx64 ": %s denied (perm %u)",
				    iova, write ? "write" : "read", e->perm);
			return false;
		}
		*piece = MIN(len, e->size - off);
		if (!vmmem_vhost_uva_to_gpa(m, e->uaddr + off, *piece, &g, error))
			return false;
		*gpa = g.raw;
		return true;
	}
	s->miss_iova = iova;
	s->miss_write = write;
	g_set_error(error, BLK_ERROR, SHIM_MISS, "IOTLB miss at IOVA 0x%" PRIx64 " (%s)", iova,
		    write ? "write" : "read");
	return false;
}

bool
blk_iova_read(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, void *buf, size_t len,
	      GError **error)
{
	while (len) {
		uint64_t gpa, piece;

		if (!xlate(dev, m, iova, len, false, &gpa, &piece, error) ||
		    !vmmem_memory_read_slice(m, vmmem_guest_addr(gpa), buf, piece, error))
			return false;
		iova += piece;
		buf = (char *)buf + piece;
		len -= piece;
	}
	return true;
}

bool
blk_iova_write(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, const void *buf,
	       size_t len, GError **error)
{
	uint64_t a = iova, gpa, piece;
	size_t left = len;

	/* Translate all first: all or nothing. */
	while (left) {
		if (!xlate(dev, m, a, left, true, &gpa, &piece, error))
			return false;
		a += piece;
		left -= piece;
	}
	while (len) {
		if (!xlate(dev, m, iova, len, true, &gpa, &piece, error) ||
		    !vmmem_memory_write_obj(m, vmmem_guest_addr(gpa), buf, piece, error))
			return false;
		iova += piece;
		buf = (const char *)buf + piece;
		len -= piece;
	}
	return true;
}

bool
blk_iova_load_u16(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint16_t *v,
		  memory_order order, GError **error)
{
	uint64_t gpa, piece;

	if (!xlate(dev, m, iova, 2, false, &gpa, &piece, error))
		return false;
	if (piece < 2) {
		g_set_error(error, BLK_ERROR, 0, "u16 at IOVA 0x%" PRIx64 " crosses an entry", iova);
		return false;
	}
	return vmmem_memory_load_u16(m, vmmem_guest_addr(gpa), v, order, error);
}

bool
blk_iova_store_u16(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint16_t v,
		   memory_order order, GError **error)
{
	uint64_t gpa, piece;

	if (!xlate(dev, m, iova, 2, true, &gpa, &piece, error))
		return false;
	if (piece < 2) {
		g_set_error(error, BLK_ERROR, 0, "u16 at IOVA 0x%" PRIx64 " crosses an entry", iova);
		return false;
	}
	return vmmem_memory_store_u16(m, vmmem_guest_addr(gpa), v, order, error);
}

bool
blk_iova_store_u8(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint8_t v,
		  GError **error)
{
	uint64_t gpa, piece;

	return xlate(dev, m, iova, 1, true, &gpa, &piece, error) &&
	       vmmem_memory_store_u8(m, vmmem_guest_addr(gpa), v, memory_order_relaxed, error);
}

bool
blk_iova_get_iovec(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint64_t len,
		   bool write, struct iovec *iov, size_t max, size_t *n, GError **error)
{
	size_t got = 0;

	while (len) {
		uint64_t gpa, piece;
		size_t k;

		if (!xlate(dev, m, iova, len, write, &gpa, &piece, error) ||
		    !vmmem_memory_get_iovec(m, vmmem_guest_addr(gpa), piece, iov + got, max - got, &k,
					    error))
			return false;
		got += k;
		iova += piece;
		len -= piece;
	}
	*n = got;
	return true;
}

void
blk_iova_mark_dirty(struct blk_dev *dev, const vmmem_memory_t *m, uint64_t iova, uint64_t len)
{
	while (len) {
		uint64_t gpa, piece;

		if (!xlate(dev, m, iova, len, true, &gpa, &piece, NULL))
			return;
		vmmem_memory_mark_dirty(m, vmmem_guest_addr(gpa), piece);
		iova += piece;
		len -= piece;
	}
}

bool
blk_iova_handle_msg(struct blk_dev *dev, const void *payload, size_t size, GError **error)
{
	struct shim *s = shim(dev);
	struct {
		uint64_t iova, size, uaddr;
		uint8_t perm, type;
	} msg;

	if (size < 26) {
		g_set_error(error, BLK_ERROR, 0, "IOTLB_MSG: payload of %zu bytes", size);
		return false;
	}
	memcpy(&msg, payload, 26);
	if (msg.size == 0 || msg.iova + (msg.size - 1) < msg.iova ||
	    (msg.type == IOTLB_UPDATE && msg.uaddr + (msg.size - 1) < msg.uaddr)) {
		g_set_error(error, BLK_ERROR, 0,
			    "IOTLB_MSG: IOVA 0x%" PRIx64 " size 0x%" PRIx64 " is empty or passes 2^64",
			    msg.iova, msg.size);
		return false;
	}
	if (msg.type == IOTLB_UPDATE) {
		struct entry e = { msg.iova, msg.size, msg.uaddr, msg.perm };

		dev->stats.iotlb_updates++;
		g_array_append_val(s->e, e);
		dev->iotlb_changed = true;
		if (dev->verbose)
			blk_log("IOTLB update: IOVA 0x%" PRIx64 "+0x%" PRIx64 " -> 0x%" PRIx64 " perm %u",
				msg.iova, msg.size, msg.uaddr, msg.perm);
		return true;
	}
	if (msg.type == IOTLB_INVALIDATE) {
		uint64_t last = msg.iova + msg.size - 1; /* size 0: to 2^64 */

		dev->stats.iotlb_invalidates++;
		if (dev->verbose)
			blk_log("IOTLB invalidate: IOVA 0x%" PRIx64 "+0x%" PRIx64, msg.iova, msg.size);
		for (guint i = s->e->len; i-- > 0;) {
			struct entry *e = &g_array_index(s->e, struct entry, i);

			if (e->iova <= last && e->iova + (e->size - 1) >= msg.iova)
				g_array_remove_index_fast(s->e, i);
		}
		return true;
	}
	g_set_error(error, BLK_ERROR, 0, "IOTLB_MSG: type %u", msg.type);
	return false;
}
