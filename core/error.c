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

int
vmmem_error_get_errno(const GError *error)
{
	VmmemErrorPrivate *priv;

	if (!error || error->domain != VMMEM_ERROR)
		return 0;
	priv = vmmem_error_get_private(error);
	return priv ? priv->errnum : 0;
}

const char *
vmmem_error_code_name(int code)
{
	static const char *const names[] = {
		[VMMEM_ERROR_INVALID_ADDRESS] = "VMMEM_ERROR_INVALID_ADDRESS",
		[VMMEM_ERROR_PARTIAL_RANGE] = "VMMEM_ERROR_PARTIAL_RANGE",
		[VMMEM_ERROR_CROSSES_REGION] = "VMMEM_ERROR_CROSSES_REGION",
		[VMMEM_ERROR_MISALIGNED] = "VMMEM_ERROR_MISALIGNED",
		[VMMEM_ERROR_OVERFLOW] = "VMMEM_ERROR_OVERFLOW",
		[VMMEM_ERROR_IO] = "VMMEM_ERROR_IO",
		[VMMEM_ERROR_SHORT_TRANSFER] = "VMMEM_ERROR_SHORT_TRANSFER",
		[VMMEM_ERROR_NO_SPACE] = "VMMEM_ERROR_NO_SPACE",
		[VMMEM_ERROR_INVALID_ARGUMENT] = "VMMEM_ERROR_INVALID_ARGUMENT",
		[VMMEM_ERROR_INVALID_LAYOUT] = "VMMEM_ERROR_INVALID_LAYOUT",
		[VMMEM_ERROR_PROVIDER_NOT_FOUND] = "VMMEM_ERROR_PROVIDER_NOT_FOUND",
		[VMMEM_ERROR_PROVIDER_LOAD] = "VMMEM_ERROR_PROVIDER_LOAD",
		[VMMEM_ERROR_PROVIDER_NO_ENTRY] = "VMMEM_ERROR_PROVIDER_NO_ENTRY",
		[VMMEM_ERROR_PROVIDER_ABI] = "VMMEM_ERROR_PROVIDER_ABI",
		[VMMEM_ERROR_PROVIDER_INVALID] = "VMMEM_ERROR_PROVIDER_INVALID",
		[VMMEM_ERROR_PROVIDER_OPTION] = "VMMEM_ERROR_PROVIDER_OPTION",
		[VMMEM_ERROR_PROVIDER_CREATE] = "VMMEM_ERROR_PROVIDER_CREATE",
		[VMMEM_ERROR_CONFIG] = "VMMEM_ERROR_CONFIG",
		[VMMEM_ERROR_UNSUPPORTED] = "VMMEM_ERROR_UNSUPPORTED",
		[VMMEM_ERROR_PROTOCOL] = "VMMEM_ERROR_PROTOCOL",
		[VMMEM_ERROR_NOT_FOUND] = "VMMEM_ERROR_NOT_FOUND",
	};

	if (code <= 0 || (size_t)code >= G_N_ELEMENTS(names) || !names[code])
		return "unknown";
	return names[code];
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

const char *
vmmem_version(void)
{
	return PACKAGE_VERSION;
}
