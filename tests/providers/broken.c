/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Deliberately broken providers, one per loader failure stage. Built once
 * per BROKEN_* macro (see Makefile.am); never installed. */
#include <errno.h>
#include <string.h>

#include <vmmem/provider.h>

#ifdef BROKEN_UNDEFINED_SYMBOL
/* Resolved by nothing: dlopen(RTLD_NOW) must fail and report it. */
extern int vmmem_test_symbol_that_does_not_exist(void);
#endif

#ifdef BROKEN_UNTERMINATED_MESSAGE
/* Fills the whole error buffer and leaves no NUL: the core must not read
 * past it. validate() does it for a region named "validate", create() for
 * every other. */
static int
fill_unterminated(char *err, size_t len)
{
	memset(err, 'x', len);
	return EIO;
}

static int
validate(const struct vmmem_provider_request *req, char *err, size_t len)
{
	return strcmp(req->region_name, "validate") == 0 ? fill_unterminated(err, len) : 0;
}
#endif

static int
create(const struct vmmem_provider_request *req, struct vmmem_provider_mapping *out, char *err,
       size_t len)
{
#ifdef BROKEN_UNDEFINED_SYMBOL
	return vmmem_test_symbol_that_does_not_exist();
#endif
	(void)req;
	(void)out;
#ifdef BROKEN_UNTERMINATED_MESSAGE
	return fill_unterminated(err, len);
#endif
	return vmmem_provider_fail(err, len, ENOSPC, "the test provider refuses every region");
}

static void
destroy(struct vmmem_provider_mapping *m)
{
	(void)m;
}

static const struct vmmem_provider_ops ops = {
	.struct_size = sizeof(struct vmmem_provider_ops),
#ifndef BROKEN_NO_CREATE
	.create = create,
#endif
	.destroy = destroy,
#ifdef BROKEN_UNTERMINATED_MESSAGE
	.validate = validate,
#endif
};

#if defined(BROKEN_OPTIONS_MISMATCH) || defined(BROKEN_OPTION_TWICE)
/* Described options that disagree with the key list, or list a key twice:
 * the core cannot tell which keys the provider accepts. */
static const struct vmmem_provider_option_desc option_descs[] = {
	{ "size-limit", VMMEM_PROVIDER_OPTION_SIZE, "0", "a limit", NULL },
#ifdef BROKEN_OPTION_TWICE
	{ "size-limit", VMMEM_PROVIDER_OPTION_SIZE, "0", "the same limit again", NULL },
#endif
	VMMEM_PROVIDER_OPTIONS_END,
};
#endif
#ifdef BROKEN_OPTIONS_MISMATCH
static const char *const option_keys[] = { "size-limit", "colour", NULL };
#endif

static const struct vmmem_provider provider = {
	.struct_size = sizeof(struct vmmem_provider),
#ifdef BROKEN_ABI_MAJOR
	.abi_major = VMMEM_PROVIDER_ABI_MAJOR + 1,
#else
	.abi_major = VMMEM_PROVIDER_ABI_MAJOR,
#endif
#ifdef BROKEN_ABI_MINOR
	.abi_minor = VMMEM_PROVIDER_ABI_MINOR + 1,
#else
	.abi_minor = VMMEM_PROVIDER_ABI_MINOR,
#endif
#ifndef BROKEN_NO_NAME
	.name = "broken",
#endif
	.version = "0",
	.ops = &ops,
#ifdef BROKEN_OPTIONS_MISMATCH
	.options = option_keys,
#endif
#if defined(BROKEN_OPTIONS_MISMATCH) || defined(BROKEN_OPTION_TWICE)
	.option_descs = option_descs,
	.option_desc_size = sizeof(struct vmmem_provider_option_desc),
#endif
};

#ifndef BROKEN_NO_ENTRY

VMMEM_PROVIDER_EXPORT const struct vmmem_provider *
vmmem_provider_entry(void)
{
	return &provider;
}
#else
VMMEM_PROVIDER_EXPORT const struct vmmem_provider *vmmem_provider_something_else(void);
VMMEM_PROVIDER_EXPORT const struct vmmem_provider *
vmmem_provider_something_else(void)
{
	return &provider;
}
#endif
