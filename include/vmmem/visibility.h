/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — symbol visibility.
 *
 * libvmmem is built with -fvisibility=hidden; only declarations marked
 * VMMEM_API are exported, every one of them starts with vmmem_, and each
 * is listed in the linker version script core/libvmmem.sym
 * (tests/test-exports.sh checks the built library against both).
 */
#ifndef VMMEM_VISIBILITY_H
#define VMMEM_VISIBILITY_H

#if defined(__GNUC__)
#define VMMEM_API __attribute__((visibility("default")))
#else
#define VMMEM_API
#endif

#endif /* VMMEM_VISIBILITY_H */
