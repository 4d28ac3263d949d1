/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — errors.
 *
 * Every failure is a GError in the VMMEM_ERROR domain. The code names the
 * cause; the message names the thing (guest address, region, file and key,
 * provider path with the dlerror() text). Functions that take a GError **
 * accept NULL when the caller only wants the boolean result.
 */
#ifndef VMMEM_ERROR_H
#define VMMEM_ERROR_H

#include <glib.h>

#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMMEM_ERROR (vmmem_error_quark())

/* Every error code, once: XX(NAME, value, message). The list generates the
 * enum (VMMEM_ERROR_NAME = value), vmmem_error_code_name() and
 * vmmem_error_code_message(), as libuv's UV_ERRNO_MAP does. The values are
 * ABI: a new code goes at the end with the next value, and no value is
 * ever reused. A consumer may expand the list with its own XX, e.g. to map
 * codes to its own errors. An access whose start is unbacked is
 * INVALID_ADDRESS in every family, the all-or-nothing ones included. */
#define VMMEM_ERROR_MAP(XX)                                                                     \
	XX(INVALID_ADDRESS, 1, "no byte is backed at the start address")                        \
	XX(PARTIAL_RANGE, 2,                                                                    \
	   "an all-or-nothing access whose range starts backed and runs into a hole")           \
	XX(CROSSES_REGION, 3, "a single host pointer asked for a range that crosses regions")   \
	XX(MISALIGNED, 4, "an atomic access at an address not aligned to its width")            \
	XX(OVERFLOW, 5, "address arithmetic would pass 2^64")                                   \
	XX(IO, 6, "a system call failed (vmmem_error_get_errno() gives the errno)")             \
	XX(SHORT_TRANSFER, 7, "an exact fd transfer hit end of file or a short write")          \
	XX(NO_SPACE, 8, "the caller's array (iovecs, ...) is too small")                        \
	XX(INVALID_ARGUMENT, 9, "a bad argument that is not an address (width, flags, NULL)")   \
	XX(INVALID_LAYOUT, 10,                                                                  \
	   "regions overlap, have zero size, wrap past 2^64 or are unaligned")                  \
	XX(PROVIDER_NOT_FOUND, 11, "no provider file under the searched directories")           \
	XX(PROVIDER_LOAD, 12, "dlopen() refused the provider file")                             \
	XX(PROVIDER_NO_ENTRY, 13, "the provider file has no vmmem_provider_entry symbol")       \
	XX(PROVIDER_ABI, 14,                                                                    \
	   "the provider's ABI major differs or its minor is newer than the core's")            \
	XX(PROVIDER_INVALID, 15,                                                                \
	   "the provider descriptor lacks a name or a mandatory operation")                     \
	XX(PROVIDER_OPTION, 16,                                                                 \
	   "an option the provider does not accept, or a bad option value")                     \
	XX(PROVIDER_CREATE, 17, "the provider failed to create a region")                       \
	XX(CONFIG, 18, "a configuration file is missing, unreadable or wrong")                  \
	XX(UNSUPPORTED, 19,                                                                     \
	   "the operation does not apply to this region (e.g. sharing private memory)")         \
	XX(PROTOCOL, 20, "a message from another process is malformed")                         \
	XX(NOT_FOUND, 21, "no region by that name or at that address (hotplug removal)")     \
	XX(REGION_LOST, 22,                                                                     \
	   "the region's file lost pages under this process (SIGBUS); they read as zero")      \
	XX(IOTLB_MISS, 23, "no IOTLB entry translates the I/O virtual address")               \
	XX(IOTLB_DENIED, 24, "the IOTLB entry does not permit the access (read or write)")

typedef enum vmmem_error_code {
#define VMMEM_ERROR_ENUM_(name, value, message) VMMEM_ERROR_##name = (value),
	VMMEM_ERROR_MAP(VMMEM_ERROR_ENUM_)
#undef VMMEM_ERROR_ENUM_
} vmmem_error_code_t;

VMMEM_API GQuark vmmem_error_quark(void);

/** The symbolic name of a code ("VMMEM_ERROR_PARTIAL_RANGE"), or "unknown".
 * A static string: never free it. */
VMMEM_API const char *vmmem_error_code_name(int code);

/** What a code means in general ("an all-or-nothing access whose range is
 * only partly backed"), or "unknown error code". A static string. The
 * GError's own message says more: the address, region, file or path. */
VMMEM_API const char *vmmem_error_code_message(int code);

/** The errno behind a VMMEM_ERROR_IO (or provider) error; 0 if none. */
VMMEM_API int vmmem_error_get_errno(const GError *error);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ERROR_H */
