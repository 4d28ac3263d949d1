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

typedef enum vmmem_error_code {
	/** No byte is backed at the start address (in every family, the
	 * all-or-nothing ones included). */
	VMMEM_ERROR_INVALID_ADDRESS = 1,
	/** An all-or-nothing access whose range starts backed and runs into
	 * a hole. */
	VMMEM_ERROR_PARTIAL_RANGE,
	/** A single host pointer was asked for a range that crosses regions. */
	VMMEM_ERROR_CROSSES_REGION,
	/** An atomic access at an address not aligned to its width. */
	VMMEM_ERROR_MISALIGNED,
	/** Address arithmetic that would pass 2^64. */
	VMMEM_ERROR_OVERFLOW,
	/** A system call failed; vmmem_error_get_errno() gives the errno. */
	VMMEM_ERROR_IO,
	/** An exact fd transfer hit end of file or a short write. */
	VMMEM_ERROR_SHORT_TRANSFER,
	/** The caller's array (iovecs, ...) is too small. */
	VMMEM_ERROR_NO_SPACE,
	/** A bad argument that is not an address (width, flags, NULL). */
	VMMEM_ERROR_INVALID_ARGUMENT,
	/** Regions overlap, have zero size, wrap past 2^64 or are unaligned. */
	VMMEM_ERROR_INVALID_LAYOUT,
	/** No provider file under the searched directories. */
	VMMEM_ERROR_PROVIDER_NOT_FOUND,
	/** dlopen() refused the file; the message has the dlerror() text. */
	VMMEM_ERROR_PROVIDER_LOAD,
	/** The file has no vmmem_provider_entry symbol. */
	VMMEM_ERROR_PROVIDER_NO_ENTRY,
	/** The provider's ABI major differs or its minor is newer than ours. */
	VMMEM_ERROR_PROVIDER_ABI,
	/** The descriptor lacks a name or a mandatory operation. */
	VMMEM_ERROR_PROVIDER_INVALID,
	/** An option the provider does not accept, or a bad option value. */
	VMMEM_ERROR_PROVIDER_OPTION,
	/** The provider failed to create a region. */
	VMMEM_ERROR_PROVIDER_CREATE,
	/** A configuration file is missing, unreadable or wrong. */
	VMMEM_ERROR_CONFIG,
	/** The operation does not apply to this region (e.g. sharing private memory). */
	VMMEM_ERROR_UNSUPPORTED,
	/** A message from another process (see <vmmem/share.h>) is malformed. */
	VMMEM_ERROR_PROTOCOL,
	/** No region by that name or at that address (hotplug removal). */
	VMMEM_ERROR_NOT_FOUND,
} vmmem_error_code_t;

VMMEM_API GQuark vmmem_error_quark(void);

/** The symbolic name of a code ("VMMEM_ERROR_PARTIAL_RANGE"), or "unknown". */
VMMEM_API const char *vmmem_error_code_name(int code);

/** The errno behind a VMMEM_ERROR_IO (or provider) error; 0 if none. */
VMMEM_API int vmmem_error_get_errno(const GError *error);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ERROR_H */
