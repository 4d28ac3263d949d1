/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The open file descriptors of this process, for leak checks. */
#ifndef VMMEM_TEST_FDCOUNT_H
#define VMMEM_TEST_FDCOUNT_H

/* The number of open fds, not counting provider modules (the loader keeps
 * a module's file open while it is loaded, for good under
 * VMMEM_NO_DLCLOSE, so a first load between two counts is no leak) nor the
 * fd the count itself opens. Aborts if /proc/self/fd cannot be read. Plain C
 * without GLib, so that the libFuzzer build can use it too. */
int tfd_count(void);

#endif /* VMMEM_TEST_FDCOUNT_H */
