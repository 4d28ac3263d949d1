/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The version of the library that is loaded, for programs that want to
 * know whether it is newer than the headers they were built with. */
#include "config.h"

#include "internal.h"

const char *
vmmem_version(void)
{
	return PACKAGE_VERSION;
}
