/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — what providers are installed.
 *
 * For tools (`vmmem providers`) and diagnostics: every *.so file in the
 * provider search path, each loaded with the same checks a region's
 * provider gets, described, and unloaded again. Nothing is mapped.
 */
#ifndef VMMEM_PROVIDER_INFO_H
#define VMMEM_PROVIDER_INFO_H

#include <glib.h>

#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One option of a provider, as the provider describes it (provider ABI
 * 1.2, struct vmmem_provider_option_desc of <vmmem/provider.h>). Owned by
 * its vmmem_provider_info_t; new members are only appended. */
typedef struct vmmem_provider_option_info {
	char *key;           /**< as written in a config: "page-size" */
	unsigned type;       /**< enum vmmem_provider_option_type of <vmmem/provider.h>:
			      *   0 if the provider does not say, or uses a type newer
			      *   than this library */
	char *type_name;     /**< the type for people: "size", "bool", "string", "path",
			      *   "integer", "enum", or "value" when type is 0 */
	char *default_value; /**< what applies when it is not given, or NULL: none or
			      *   not described */
	char *description;   /**< one line, or NULL if not described */
	char **choices;      /**< for type enum: the accepted words, NULL-terminated;
			      *   else NULL */
} vmmem_provider_option_info_t;

/** One provider file. Allocated by vmmem_provider_list(), read-only for the
 * caller; new members are only appended. */
typedef struct vmmem_provider_info {
	char *path;        /* the file */
	char *name;        /* the descriptor's name; NULL if the file failed to load */
	char *version;     /* the provider's own version ("" if it gives none) */
	char *description; /* one line, or NULL */
	unsigned abi_major; /* the provider ABI major it was built for */
	unsigned abi_minor; /* the provider ABI minor it was built for */
	char **options;    /* NULL-terminated accepted option keys (empty if none) */
	GError *error;     /* why the file failed to load, or NULL */
	char *shadowed_by; /* a file of the same name earlier in the search path,
			    * which is what loading by name gets; or NULL */
	/** One per key of `options`, in the same order, NULL-terminated (empty
	 * if the file failed to load). A provider that does not describe its
	 * options (one built for provider ABI 1.0 or 1.1) still has an entry
	 * per key, with type 0 and no description or default. */
	vmmem_provider_option_info_t **option_info;
} vmmem_provider_info_t;

/**
 * The directories searched for providers, in order: the entries of
 * VMMEM_PROVIDER_PATH (colon-separated; read with secure_getenv, so
 * ignored in setuid programs), then the built-in providerdir
 * (`pkg-config --variable=providerdir vmmem`).
 *
 * Returns a NULL-terminated array; free it with g_strfreev(). Thread-safe.
 */
VMMEM_API char **vmmem_provider_search_path(void);

/**
 * Every "*.so" file in the search path, directory by directory and by
 * name within one, each loaded (dlopen, entry symbol, ABI and descriptor
 * checks) and unloaded again. A file that fails has `error` set and no
 * name. Directories that do not exist are skipped; one listed twice is
 * read once.
 *
 * Loading runs the files' initialisers: list only directories you trust
 * (the same is true of loading any provider).
 *
 * Returns a GPtrArray of vmmem_provider_info_t * that frees its elements;
 * release it with g_ptr_array_unref(). Never NULL. Thread-safe.
 */
VMMEM_API GPtrArray *vmmem_provider_list(void);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PROVIDER_INFO_H */
