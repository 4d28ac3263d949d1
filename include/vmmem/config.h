/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — guest memory described by a configuration file.
 *
 * The file (docs/config.md) is a GLib key file:
 *
 *     [memory]
 *     provider = memfd          # default for regions that name none
 *
 *     [region low]              # one group per region
 *     start = 0
 *     size = 768M
 *
 *     [region high]
 *     start = 4G
 *     size = 256M
 *     provider = hugetlbfs
 *     page-size = 2M            # any other key is an option for the provider
 *
 *     [region dimm]
 *     start = 8G
 *     size = 1G
 *     hotplug = true            # not mapped at start: vmmem_space_add_region_from_config
 *     dirty-tracking = true     # or in [memory], for every region
 *
 *     [provider example]        # a provider outside the search path
 *     module = /opt/example/lib/example.so
 *
 * A '#' at the start of a line, or after a space or tab, starts a comment
 * that runs to the end of the line. Values are taken literally otherwise.
 *
 * Which file: the path the caller gives; else $VMMEM_CONFIG (read with
 * secure_getenv, so ignored in setuid programs); else the built-in
 * default, vmmem_config_default_path().
 *
 * Every error is a GError whose message starts with the file name and
 * names the group, key and value at fault. Errors found by the parser have
 * the code VMMEM_ERROR_CONFIG; errors found by the core (overlap:
 * VMMEM_ERROR_INVALID_LAYOUT; unknown provider options:
 * VMMEM_ERROR_PROVIDER_OPTION; providers that cannot be found or loaded:
 * VMMEM_ERROR_PROVIDER_*) keep their code and get the file, group and key
 * prefixed.
 */
#ifndef VMMEM_CONFIG_H
#define VMMEM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include <vmmem/memory.h>
#include <vmmem/space.h>
#include <vmmem/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vmmem_config vmmem_config_t;

/**
 * The memory the user configured, in one call: finds the file (see above),
 * reads it, checks it as vmmem_config_validate() does and maps every
 * region.
 *
 * Returns a new memory with one reference, or NULL with an error; on
 * failure nothing stays mapped. Thread-safe.
 */
VMMEM_API vmmem_memory_t *vmmem_memory_new_from_config(const char *path_or_null,
							GError **error);

/**
 * Reads and parses a configuration file without loading any provider: the
 * groups and keys, the sizes, and which provider each region uses.
 * Layout and provider options are checked later, by vmmem_config_validate()
 * and vmmem_config_new_memory().
 *
 * `path_or_null`: the file, or NULL for $VMMEM_CONFIG or the default.
 * Returns a new config to free with vmmem_config_free(), or NULL with a
 * VMMEM_ERROR_CONFIG error. Thread-safe.
 */
VMMEM_API vmmem_config_t *vmmem_config_load(const char *path_or_null, GError **error);

/** Frees a config. NULL is ignored. */
VMMEM_API void vmmem_config_free(vmmem_config_t *config);

/** The file the config was read from (owned by the config). */
VMMEM_API const char *vmmem_config_path(const vmmem_config_t *config);

/**
 * The region specs, in file order (hotplug ones included), ready for
 * vmmem_memory_new(): each
 * spec's name is the region's name, its provider the name to look up in
 * the search path or (for a [provider NAME] group) the module's absolute
 * path, and its options every key other than start, size and provider.
 * Owned by the config and valid until vmmem_config_free(). `n` receives
 * the count (at least 1).
 */
VMMEM_API const vmmem_region_spec_t *vmmem_config_regions(const vmmem_config_t *config,
							  size_t *n);

/**
 * Checks everything that can be checked without mapping memory: the
 * layout (sizes, wrap-around, overlap, start and size being multiples of
 * the host page size), and for each region its provider (found, loaded
 * and unloaded again), its option keys against the provider's list, and
 * the provider's own validate() check of the values if it has one.
 * This is what `vmmem check` runs.
 *
 * Returns true, or false with an error naming file, group, key and value.
 * Thread-safe.
 */
VMMEM_API bool vmmem_config_validate(const vmmem_config_t *config, GError **error);

/**
 * Validates the config as vmmem_config_validate() does, then maps it with
 * vmmem_memory_new(): every region but those with hotplug = true. Returns a new memory with one reference, or NULL
 * with an error prefixed by the file name. Thread-safe.
 */
VMMEM_API vmmem_memory_t *vmmem_config_new_memory(const vmmem_config_t *config,
						  GError **error);

/**
 * The hotpluggable form: validates the config as vmmem_config_validate()
 * does, then creates a space (<vmmem/space.h>) with every region that is
 * not marked `hotplug = true` (there may be none). `options` may be NULL.
 * Returns a new space, or NULL with an error prefixed by the file name.
 */
VMMEM_API vmmem_space_t *vmmem_config_new_space(const vmmem_config_t *config,
						const vmmem_space_options_t *options,
						GError **error);

/** vmmem_config_load() and vmmem_config_new_space() in one call. */
VMMEM_API vmmem_space_t *vmmem_space_new_from_config(const char *path_or_null,
						     const vmmem_space_options_t *options,
						     GError **error);

/** Adds the config's [region NAME] (usually one with hotplug = true) to a
 * space, checking its provider and options first. VMMEM_ERROR_NOT_FOUND
 * if the config has no such group; otherwise the errors of
 * vmmem_space_add_region(), prefixed with file and group. */
VMMEM_API bool vmmem_space_add_region_from_config(vmmem_space_t *space,
						  const vmmem_config_t *config,
						  const char *region, GError **error);

/** True if the config's i-th region (vmmem_config_regions() order) has
 * hotplug = true. */
VMMEM_API bool vmmem_config_region_hotplug(const vmmem_config_t *config, size_t i);

/** The file read when neither a path nor $VMMEM_CONFIG is given:
 * $(sysconfdir)/vmmem/vmmem.conf as configured at build time. Static. */
VMMEM_API const char *vmmem_config_default_path(void);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_CONFIG_H */
