/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* The SIGBUS-guarded touch that providers get through
 * vmmem_provider_request.touch_pages: prefaulting memory that has no
 * reservation (hugetlb with reserve = no on a kernel without
 * MADV_POPULATE_WRITE, or prefault = touch) must turn "no page" into an
 * error, not a signal in a consumer later. It lives in the core because a
 * signal disposition is process-wide: there must be exactly one guard. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "internal.h"

/* How it works:
 * - one touch at a time (guard_lock), and the previous disposition is
 *   restored before the lock is released;
 * - the jump target is thread-local: only the touching thread jumps; a
 *   SIGBUS from any other thread in that window goes to the handler that
 *   was installed before (or, if that was the default, kills the process
 *   as it would have without us).
 * Code that installs its own SIGBUS handler concurrently with region
 * creation may see its handler replaced for the duration of a touch. */

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction guard_old; /* written under guard_lock before install */
static __thread sigjmp_buf *volatile guard_jmp;

static void
guard_handler(int sig, siginfo_t *info, void *uctx)
{
	if (guard_jmp)
		siglongjmp(*guard_jmp, 1);
	if (guard_old.sa_flags & SA_SIGINFO)
		guard_old.sa_sigaction(sig, info, uctx);
	else if (guard_old.sa_handler != SIG_DFL && guard_old.sa_handler != SIG_IGN)
		guard_old.sa_handler(sig);
	else
		/* Returning re-runs the faulting access, which now gets the
		 * default action. */
		signal(sig, SIG_DFL);
}

int
vmmem__touch_pages(void *p, uint64_t size, uint64_t page_size, uint64_t *touched)
{
	sigjmp_buf jb;
	struct sigaction sa;
	volatile uint64_t off = 0;
	volatile int rc = 0;

	if (page_size == 0)
		return EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);

	pthread_mutex_lock(&guard_lock);
	if (sigaction(SIGBUS, &sa, &guard_old) != 0) {
		rc = errno;
		pthread_mutex_unlock(&guard_lock);
		return rc;
	}
	if (sigsetjmp(jb, 1) == 0) {
		guard_jmp = &jb;
		for (; off < size; off += page_size)
			((volatile uint8_t *)p)[off] = ((volatile uint8_t *)p)[off];
	} else {
		rc = ENOMEM;
	}
	guard_jmp = NULL;
	sigaction(SIGBUS, &guard_old, NULL);
	pthread_mutex_unlock(&guard_lock);
	if (touched)
		*touched = off;
	return rc;
}
