/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* vmmem — the provider ABI.
 *
 * A provider is a shared object that decides where a region's memory comes
 * from. It includes this header and nothing else of vmmem's, and exports one
 * symbol:
 *
 *     VMMEM_PROVIDER_EXPORT const struct vmmem_provider *vmmem_provider_entry(void);
 *
 * returning a descriptor that lives as long as the module is loaded. Region
 * lookup, access splitting, layout checks and error reporting live in the
 * core; a provider only maps and unmaps memory.
 *
 * Versioning (the SQLite VFS model; docs/provider-abi.md has the rule):
 * - abi_major must equal VMMEM_PROVIDER_ABI_MAJOR of the core that loads it;
 *   a core refuses other majors with VMMEM_ERROR_PROVIDER_ABI, naming the
 *   file and versions. Any abi_minor loads (ABI 1.2 on): a minor only ever
 *   appends what an older core may safely ignore.
 * - Every struct that crosses the ABI carries its size (struct_size): the
 *   descriptor, the ops, the option table (option_desc_size), the request
 *   and the mapping. New members are only ever appended; a reader uses a
 *   member only if the writer's size covers it (VMMEM_PROVIDER_HAS_OP,
 *   VMMEM_PROVIDER_MAPPING_HAS), and takes it as 0 / NULL otherwise.
 *
 * Most providers write only their callbacks and option table and let
 * VMMEM_PROVIDER_DEFINE() emit the ops, the descriptor and the entry point.
 *
 * What the core guarantees a provider:
 * - validate(), if present, is called for `vmmem check` and before
 *   create(); it must map and open nothing (see docs/provider-abi.md).
 * - create() is called with a request whose size is non-zero; the options
 *   it receives are only keys listed in the descriptor's `options` or
 *   (ABI 1.2) `option_descs` (unknown keys are rejected by the core,
 *   naming the key, before create()).
 * - Before create(), the mapping is zeroed, its fd is -1 and its
 *   struct_size is the room the core allocated.
 * - destroy() is called exactly once for each successful create(), after
 *   the last access to the region; the module is not unloaded while any
 *   region it created lives.
 * - Calls may come from any thread, several at once: a provider keeps no
 *   unsynchronised global state.
 *
 * What a provider guarantees the core:
 * - create() returns a mapping of exactly req->size bytes, readable and
 *   writable, whose host address and size are multiples of page_size (a
 *   power of two, at least the host page size), and
 *   that stays mapped until destroy(). Touching any byte of it must not
 *   raise a signal (prefault or reserve; see the hugetlbfs provider).
 * - On failure, create() returns a positive errno value, writes a message
 *   into err (naming the option, file or resource), and leaves nothing
 *   mapped or open.
 */
#ifndef VMMEM_PROVIDER_H
#define VMMEM_PROVIDER_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmmem/size.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The provider ABI major this header describes: a provider's must equal
 * the loading core's (an incompatible change bumps it). */
#define VMMEM_PROVIDER_ABI_MAJOR 1
/** The provider ABI minor this header describes: grows when members are
 * appended; a core loads providers built for any minor of its major
 * (docs/provider-abi.md says what a newer minor may add). */
#define VMMEM_PROVIDER_ABI_MINOR 2

/** The smallest page size a provider may report. */
#define VMMEM_PROVIDER_MIN_PAGE_SIZE 4096

/** The name of the one symbol a provider exports. */
#define VMMEM_PROVIDER_ENTRY_SYMBOL "vmmem_provider_entry"

/** Put before the definition of vmmem_provider_entry() so that it is
 * exported even when the provider builds with -fvisibility=hidden. */
#if defined(__GNUC__)
#define VMMEM_PROVIDER_EXPORT __attribute__((visibility("default")))
#else
#define VMMEM_PROVIDER_EXPORT
#endif

/** Region flag (vmmem_provider_mapping.flags, vmmem_region_flags()):
 * MAP_SHARED memory, so writes are visible through the fd and to other
 * processes that map it. */
#define VMMEM_REGION_SHARED  (1u << 0)
/** Region flag: hugetlb pages back the region (page_size is the huge page
 * size); they are not swapped, and a dry pool may fail a prefault. */
#define VMMEM_REGION_HUGETLB (1u << 1)
/** Region flag: mapping.fd and fd_offset are valid, so the region can be
 * shared with another process (vhost-user) or saved through its fd. */
#define VMMEM_REGION_FD      (1u << 2)
/* ABI 1.1, for the core only (it clears the bit, so vmmem_region_flags()
 * never shows it): the core may move the mapping with mremap() before the
 * first access and then updates mapping->host. Set it only if destroy()
 * unmaps mapping->host (not an address kept elsewhere) and the address was
 * handed to nobody else. The core uses it to place guest-adjacent regions
 * back to back in host memory, so copies across them are one memcpy, and a
 * run of them from guest 0 takes the one-region access path. */
#define VMMEM_REGION_MOVABLE (1u << 3)

/** One key = value option, as written in a config file or an API call. */
struct vmmem_provider_option {
	const char *key;   /* the option name, e.g. "prefault"; never NULL */
	const char *value; /* its value as written ("yes", "2M"); never NULL */
};

/** What the core asks a provider for. Read-only for the provider. */
struct vmmem_provider_request {
	size_t struct_size;            /* sizeof(struct vmmem_provider_request) */
	const char *region_name;       /* for messages; never NULL */
	uint64_t guest_start;          /* where the region will sit */
	uint64_t size;                 /* bytes to map, > 0 */
	const struct vmmem_provider_option *options; /* keys from the descriptor's list only */
	size_t n_options;              /* entries in options (may be 0) */

	/* Set by the core (check struct_size before use, like every member
	 * past the first ones): writes one byte per page of [host, host +
	 * size) under the core's process-wide SIGBUS guard. Returns 0, or
	 * ENOMEM if a page could not be supplied (*touched = bytes done
	 * before it), or another errno. Signal dispositions are process-wide,
	 * so only the core may install the guard: two providers each with
	 * their own would restore each other's handlers in the wrong order. */
	int (*touch_pages)(void *host, uint64_t size, uint64_t page_size, uint64_t *touched);
};

/** What a provider's create() fills in. The core allocates it, zeroes it,
 * sets fd to -1 and struct_size to the size it allocated before the call.
 *
 * struct_size (ABI 1.2) works like accept(2)'s addrlen. In: the room the
 * core gave; a provider writes a member past struct_size only if
 * VMMEM_PROVIDER_MAPPING_HAS(out, member), so a provider built against a
 * newer header never writes past an older core's struct. Out: the size of
 * the struct as the provider was built, or the room if that is smaller;
 * the core reads only members that fit in it and takes the others as 0.
 * VMMEM_PROVIDER_DEFINE() sets it; vmmem_provider_mapping_declare() does
 * it for a provider written by hand. A provider that leaves it as the core
 * set it declares every member the core knows (they are zero if unset).
 * It is the last member, not the first, because the 1.0 and 1.1 members
 * keep the places that older providers fill in. */
struct vmmem_provider_mapping {
	void *host;          /* start of the mapping */
	uint64_t size;       /* must equal request->size */
	uint64_t page_size;  /* a power of two >= VMMEM_PROVIDER_MIN_PAGE_SIZE (4096, 2M, 1G) */
	int fd;              /* backing fd if VMMEM_REGION_FD, else -1; owned by the provider */
	uint64_t fd_offset;  /* offset of host[0] within fd */
	uint32_t flags;      /* VMMEM_REGION_* */
	void *provider_data; /* the provider's own, handed back to destroy() */
	size_t struct_size;  /**< ABI 1.2: in, the room; out, what the provider knows (see above) */
};

/** The size of struct vmmem_provider_mapping in ABI 1.0 and 1.1, which
 * ended at provider_data; a mapping that declares less is refused. */
#define VMMEM_PROVIDER_MAPPING_SIZE_1_1                                          \
	(offsetof(struct vmmem_provider_mapping, provider_data) + sizeof(void *))

/** True if the mapping `out` (as the core handed it to create()) has room
 * for `member`: write a member added after ABI 1.2 only if this holds. */
#define VMMEM_PROVIDER_MAPPING_HAS(out, member)                                  \
	((out)->struct_size >= offsetof(struct vmmem_provider_mapping, member) +      \
				       sizeof((out)->member))

/** Declares, on success of create(), which members the provider knows:
 * struct_size becomes sizeof(struct vmmem_provider_mapping) as this
 * provider was built, or the core's room if that is smaller. */
static inline void
vmmem_provider_mapping_declare(struct vmmem_provider_mapping *out)
{
	if (out->struct_size > sizeof(struct vmmem_provider_mapping))
		out->struct_size = sizeof(struct vmmem_provider_mapping);
}

/** What kind of value an option takes (vmmem_provider_option_desc.type).
 * Only for people and tools: the provider still parses every value. */
enum vmmem_provider_option_type {
	VMMEM_PROVIDER_OPTION_UNDESCRIBED = 0, /**< no type given (or one newer than the core) */
	VMMEM_PROVIDER_OPTION_STRING = 1,      /**< free text */
	VMMEM_PROVIDER_OPTION_SIZE = 2,        /**< a size, by the grammar of <vmmem/size.h> */
	VMMEM_PROVIDER_OPTION_BOOL = 3,        /**< yes/no, true/false, on/off, 1/0 */
	VMMEM_PROVIDER_OPTION_PATH = 4,        /**< a file or directory */
	VMMEM_PROVIDER_OPTION_INTEGER = 5,     /**< a decimal number (an fd, a count) */
	VMMEM_PROVIDER_OPTION_ENUM = 6,        /**< one of the words in `choices` */
};

/** One option a provider accepts, described for `vmmem providers NAME` and
 * vmmem_provider_list() (ABI 1.2). A table of them ends with an entry
 * whose key is NULL; its element size is the descriptor's
 * option_desc_size, so members can be appended in later minors. */
struct vmmem_provider_option_desc {
	const char *key;           /**< as written in a config: "page-size" */
	uint32_t type;             /**< enum vmmem_provider_option_type */
	const char *default_value; /**< the value when it is not given, as a config
				    *   writes it ("no", "0", "2M"), or a short phrase
				    *   when it depends on other options; NULL: none */
	const char *description;   /**< one line: what it does */
	const char *choices;       /**< for VMMEM_PROVIDER_OPTION_ENUM: the words it
				    *   accepts, '|'-separated ("yes|no|touch"); else NULL */
};

/** A provider's operations, reached through vmmem_provider.ops. Members
 * are only appended; the core calls an optional one only if struct_size
 * covers it and it is not NULL (VMMEM_PROVIDER_HAS_OP). */
struct vmmem_provider_ops {
	size_t struct_size; /* sizeof(struct vmmem_provider_ops) at build time */

	/* Mandatory. Returns 0, or a positive errno with a message in err. */
	int (*create)(const struct vmmem_provider_request *req,
		      struct vmmem_provider_mapping *out,
		      char *err, size_t err_len);

	/* Mandatory. Unmaps and closes what create() made. */
	void (*destroy)(struct vmmem_provider_mapping *mapping);

	/* Optional (ABI 1.0): check a request's option values without mapping
	 * anything, for `vmmem check`. Returns 0 or a positive errno with a
	 * message in err. */
	int (*validate)(const struct vmmem_provider_request *req,
			char *err, size_t err_len);
};

/** The descriptor vmmem_provider_entry() returns: who the provider is,
 * the ABI it was built for and its operations. It must live as long as
 * the module is loaded (a static const object). */
struct vmmem_provider {
	size_t struct_size;      /* sizeof(struct vmmem_provider) at build time */
	uint32_t abi_major;      /* VMMEM_PROVIDER_ABI_MAJOR */
	uint32_t abi_minor;      /* VMMEM_PROVIDER_ABI_MINOR */
	const char *name;        /* short name used in configs, e.g. "mmap" */
	const char *version;     /* the provider's own version string */
	const char *description; /* one line, may be NULL */
	const char *const *options; /* NULL-terminated accepted option keys; NULL = none,
				     * or (ABI 1.2) the keys of option_descs */
	const struct vmmem_provider_ops *ops; /* never NULL: create and destroy are mandatory */

	/* ABI 1.2. The options described, ending with a NULL key; NULL: not
	 * described. With options NULL, its keys are the accepted ones; with
	 * both set, the two must list the same keys. */
	const struct vmmem_provider_option_desc *option_descs;
	/** ABI 1.2: sizeof(struct vmmem_provider_option_desc) at build time */
	size_t option_desc_size;
};

/** The entry point every provider defines (declared here so a provider's
 * definition is checked against it). */
VMMEM_PROVIDER_EXPORT const struct vmmem_provider *vmmem_provider_entry(void);

/** True if `ops` (of a loaded provider) is large enough to contain `member`
 * and that member is set. */
#define VMMEM_PROVIDER_HAS_OP(ops, member)                                    \
	((ops)->struct_size >= offsetof(struct vmmem_provider_ops, member) +  \
				       sizeof((ops)->member) &&               \
	 (ops)->member != NULL)

/** The entry that ends a table of struct vmmem_provider_option_desc. */
#define VMMEM_PROVIDER_OPTIONS_END { NULL, 0, NULL, NULL, NULL }

/**
 * Defines a provider from its callbacks and option table: emits the ops
 * table, the descriptor (at this header's ABI version) and
 * vmmem_provider_entry(). Use it once, at file scope, after the callbacks:
 *
 *     static const struct vmmem_provider_option_desc options[] = {
 *         { "fill", VMMEM_PROVIDER_OPTION_SIZE, "0", "pre-fill every byte", NULL },
 *         VMMEM_PROVIDER_OPTIONS_END,
 *     };
 *     VMMEM_PROVIDER_DEFINE("skeleton", "1.0", "anonymous memory, pre-filled",
 *                           options, skeleton_create, skeleton_destroy,
 *                           skeleton_validate)
 *
 * `name`, `version` and `description` are strings (`description` may be
 * NULL); `options` is the table, or NULL for a provider without options;
 * `create` and `destroy` are mandatory; the arguments after them are the
 * optional operations in the order of struct vmmem_provider_ops
 * (validate, then any a later minor appends), NULL for one not provided.
 * The create() it installs calls yours and, on success, declares the
 * mapping's struct_size (vmmem_provider_mapping_declare()).
 *
 * Positional initialisers only, so that it is valid C11 and C++11; the
 * names it defines are static (vmmem__provider_*), so nothing but
 * vmmem_provider_entry is exported.
 */
#define VMMEM_PROVIDER_DEFINE(name, version, description, options, create, destroy, ...)   \
	static int vmmem__provider_create(const struct vmmem_provider_request *vmmem__req,    \
					  struct vmmem_provider_mapping *vmmem__out,          \
					  char *vmmem__err, size_t vmmem__err_len)            \
	{                                                                                  \
		int vmmem__rc = (create)(vmmem__req, vmmem__out, vmmem__err, vmmem__err_len); \
		if (vmmem__rc == 0)                                                        \
			vmmem_provider_mapping_declare(vmmem__out);                        \
		return vmmem__rc;                                                          \
	}                                                                                  \
	static const struct vmmem_provider_ops vmmem__provider_ops = {                     \
		sizeof(struct vmmem_provider_ops), vmmem__provider_create, (destroy),      \
		__VA_ARGS__                                                                \
	};                                                                                 \
	static const struct vmmem_provider vmmem__provider_descriptor = {                  \
		sizeof(struct vmmem_provider), VMMEM_PROVIDER_ABI_MAJOR,                   \
		VMMEM_PROVIDER_ABI_MINOR, (name), (version), (description), NULL,          \
		&vmmem__provider_ops, (options), sizeof(struct vmmem_provider_option_desc) \
	};                                                                                 \
	VMMEM_PROVIDER_EXPORT const struct vmmem_provider *vmmem_provider_entry(void)      \
	{                                                                                  \
		return &vmmem__provider_descriptor;                                        \
	}

/* ---- Small helpers for provider authors (header-only, nothing to link) ---- */

/** The value of option `key`, or NULL if the request does not set it. */
static inline const char *
vmmem_provider_option(const struct vmmem_provider_request *req, const char *key)
{
	for (size_t i = 0; i < req->n_options; i++)
		if (strcmp(req->options[i].key, key) == 0)
			return req->options[i].value;
	return NULL;
}

/** Formats a message into a provider's err buffer; returns `code`. */
static inline int
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
vmmem_provider_fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;
	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/** Parses a size by the one grammar of <vmmem/size.h> (decimal or 0x-hex,
 * an optional K/M/G/T binary suffix; no sign, space or octal), as the core
 * reads configuration files. Returns false on anything else, an empty
 * string or overflow past 2^64 - 1. */
static inline bool
vmmem_provider_parse_size(const char *s, uint64_t *out)
{
	return vmmem_parse_size(s, out, NULL) == VMMEM_SIZE_OK;
}

/** Parses a boolean: true/false, yes/no, on/off, 1/0. */
static inline bool
vmmem_provider_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (s && strcmp(s, yes[i]) == 0) { *out = true; return true; }
		if (s && strcmp(s, no[i]) == 0) { *out = false; return true; }
	}
	return false;
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PROVIDER_H */
