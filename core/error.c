/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Errors: the VMMEM_ERROR domain, with an errno carried alongside the
 * message (a GLib extended error) so callers can branch on EAGAIN or EPERM
 * without parsing text. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "internal.h"

typedef struct {
	int errnum;
} VmmemErrorPrivate;

static void
vmmem_error_private_init(VmmemErrorPrivate *priv)
{
	priv->errnum = 0;
}

static void
vmmem_error_private_copy(const VmmemErrorPrivate *src, VmmemErrorPrivate *dest)
{
	dest->errnum = src->errnum;
}

static void
vmmem_error_private_clear(VmmemErrorPrivate *priv)
{
	(void)priv;
}

G_DEFINE_EXTENDED_ERROR(VmmemError, vmmem_error)

/* The domain is registered when the library is loaded, before any thread
 * of the program can raise an error: G_DEFINE_EXTENDED_ERROR's lazy
 * g_once initialization is correct, but its release half lives in an
 * uninstrumented GLib, so ThreadSanitizer reported two reader threads'
 * first errors as a race on the quark. */
__attribute__((constructor)) static void
register_domain(void)
{
	(void)vmmem_error_quark();
}

int
vmmem_error_get_errno(const GError *error)
{
	VmmemErrorPrivate *priv;

	if (!error || error->domain != VMMEM_ERROR)
		return 0;
	priv = vmmem_error_get_private(error);
	return priv ? priv->errnum : 0;
}

/* Both tables come from VMMEM_ERROR_MAP, indexed by code. */
static const char *const code_names[] = {
#define VMMEM_ERROR_NAME_(name, value, message) [value] = "VMMEM_ERROR_" #name,
	VMMEM_ERROR_MAP(VMMEM_ERROR_NAME_)
#undef VMMEM_ERROR_NAME_
};

static const char *const code_messages[] = {
#define VMMEM_ERROR_MESSAGE_(name, value, message) [value] = message,
	VMMEM_ERROR_MAP(VMMEM_ERROR_MESSAGE_)
#undef VMMEM_ERROR_MESSAGE_
};

static const char *
code_lookup(const char *const *table, size_t n, int code)
{
	if (code <= 0 || (size_t)code >= n)
		return NULL;
	return table[code];
}

const char *
vmmem_error_code_name(int code)
{
	const char *name = code_lookup(code_names, G_N_ELEMENTS(code_names), code);

	return name ? name : "unknown";
}

const char *
vmmem_error_code_message(int code)
{
	const char *message = code_lookup(code_messages, G_N_ELEMENTS(code_messages), code);

	return message ? message : "unknown error code";
}

static void
set_error_va(GError **error, int code, int errnum, const char *fmt, va_list ap)
{
	GError *e;

	if (!error)
		return;
	e = g_error_new_valist(VMMEM_ERROR, code, fmt, ap);
	vmmem_error_get_private(e)->errnum = errnum;
	g_propagate_error(error, e);
}

void
vmmem__error(GError **error, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_va(error, code, 0, fmt, ap);
	va_end(ap);
}

void
vmmem__error_errno(GError **error, int code, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_va(error, code, errnum, fmt, ap);
	va_end(ap);
}
