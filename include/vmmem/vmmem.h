/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — read and write a virtual machine's guest physical memory.
 *
 * The consumer's umbrella header: include this one, link with
 * `pkg-config --cflags --libs vmmem`. Provider authors include
 * <vmmem/provider.h> instead.
 */
#ifndef VMMEM_VMMEM_H
#define VMMEM_VMMEM_H

#include <vmmem/visibility.h>
#include <vmmem/version.h>
#include <vmmem/address.h>
#include <vmmem/endian.h>
#include <vmmem/error.h>
#include <vmmem/size.h>
#include <vmmem/memory.h>
#include <vmmem/slice.h>
#include <vmmem/access.h>
#include <vmmem/dirty.h>
#include <vmmem/space.h>
#include <vmmem/iotlb.h>
#include <vmmem/vhost-user.h>
#include <vmmem/share.h>
#include <vmmem/config.h>
#include <vmmem/provider-info.h>

#endif /* VMMEM_VMMEM_H */
