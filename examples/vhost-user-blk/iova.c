/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem-vhost-user-blk: the IOTLB's miss handler (VIRTIO_F_ACCESS_PLATFORM).
 *
 * Every access by IOVA goes through the IOTLB of the session's
 * vmmem_vhost_mem_t (<vmmem/iotlb.h>); virtq.c does them. A miss cannot be
 * waited for inside the access: this one thread also serves the socket
 * the frontend's update comes on, and an invalidation waits for readers.
 * So the handler only notes the IOVA and the access kind, the access
 * fails with VMMEM_ERROR_IOTLB_MISS, the queue parks before the request
 * has run, main.c sends IOTLB_MISS on the backend channel, and the queue
 * is processed again after the update's ack (DPDK's way, too). */
#include <vmmem/error.h>

#include "blk.h"

static vmmem_iotlb_action_t
on_miss(vmmem_iotlb_t *tlb, uint64_t iova, vmmem_iotlb_perm_t access, vmmem_iotlb_fault_t fault,
	void *user_data)
{
	struct blk_dev *dev = user_data;

	(void)tlb;
	/* A denial is the guest's mapping: asking again would get the same
	 * permissions back. */
	if (fault == VMMEM_IOTLB_FAULT_MISS) {
		dev->miss_iova = iova;
		dev->miss_write = access == VMMEM_IOTLB_WRITE;
	}
	return VMMEM_IOTLB_FAIL;
}

void
blk_iova_attach(struct blk_dev *dev)
{
	vmmem_iotlb_set_miss_handler(vmmem_vhost_mem_iotlb(dev->vm), on_miss, dev);
}

bool
blk_iova_missed(struct blk_dev *dev, const GError *err, uint64_t *iova, bool *write)
{
	if (!g_error_matches(err, VMMEM_ERROR, VMMEM_ERROR_IOTLB_MISS))
		return false;
	*iova = dev->miss_iova;
	*write = dev->miss_write;
	return true;
}
