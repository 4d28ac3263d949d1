/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Allocations that can fail. GLib's g_new() and g_malloc() abort the
 * process when memory runs out; a library beside a guest should return
 * VMMEM_ERROR_NOMEM instead and leave the caller's objects as they were.
 * Everything returned here is freed with g_free(), like the rest of the
 * core's memory, so converting a site changes only its error path.
 *
 * Built with VMMEM_ALLOC_FAULTS (the test-only copy of the core that
 * tests/test-alloc-faults links, never libvmmem.so), every call is also
 * counted, and the Nth can be made to fail: the shipped library has no
 * such hook for a user to trip, not even an environment variable. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#ifdef VMMEM_ALLOC_FAULTS
static unsigned long alloc_count;   /* __atomic: calls since the last arm */
static unsigned long alloc_fail_at; /* __atomic: fail the call with this count; 0: none */

void
vmmem__alloc_faults_arm(unsigned long nth)
{
	__atomic_store_n(&alloc_count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&alloc_fail_at, nth, __ATOMIC_SEQ_CST);
}

unsigned long
vmmem__alloc_faults_count(void)
{
	return __atomic_load_n(&alloc_count, __ATOMIC_SEQ_CST);
}

/* True if this allocation is the one to fail. Only one is: the error
 * path that follows must itself be able to allocate (its GError). */
static bool
injected_failure(void)
{
	unsigned long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_SEQ_CST);
	unsigned long at = __atomic_load_n(&alloc_fail_at, __ATOMIC_SEQ_CST);

	return at != 0 && n == at;
}
#else
#define injected_failure() false
#endif

void *
vmmem__malloc(size_t size)
{
	if (injected_failure())
		return NULL;
	/* g_try_malloc(0) is NULL, which would read as a failure. */
	return g_try_malloc(size ? size : 1);
}

void *
vmmem__malloc0(size_t size)
{
	if (injected_failure())
		return NULL;
	return g_try_malloc0(size ? size : 1);
}

void *
vmmem__calloc(size_t n, size_t size)
{
	if (injected_failure())
		return NULL;
	if (n == 0 || size == 0)
		return g_try_malloc0(1);
	return g_try_malloc0_n(n, size);
}

void *
vmmem__malloc_n(size_t n, size_t size)
{
	if (injected_failure())
		return NULL;
	if (n == 0 || size == 0)
		return g_try_malloc(1);
	return g_try_malloc_n(n, size);
}

void *
vmmem__realloc_n(void *mem, size_t n, size_t size)
{
	if (injected_failure())
		return NULL;
	if (n == 0 || size == 0)
		return g_try_realloc(mem, 1);
	return g_try_realloc_n(mem, n, size);
}

char *
vmmem__strdup(const char *s)
{
	size_t len;
	char *copy;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	if (!(copy = vmmem__malloc(len)))
		return NULL;
	return memcpy(copy, s, len);
}

char *
vmmem__strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || !(s = vmmem__malloc((size_t)len + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return s;
}

bool
vmmem__nomem(GError **error, const char *what)
{
	vmmem__error_errno(error, VMMEM_ERROR_NOMEM, ENOMEM, "out of memory allocating %s",
			   what);
	return false;
}
