/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Surviving a SIGBUS in a region whose file another process controls.
 *
 * Why: a peer that shares guest memory as a file can shrink it, or free
 * the hugetlb pages under it (F_SEAL_SHRINK does not stop a hole punched
 * in a hugetlbfs file), after we mapped it; our next access to the lost
 * pages raises SIGBUS. Refusing what can be refused up front happens in
 * share.c and vhost-user.c; this is for the rest. As Wayland does for
 * wl_shm pools, a process-wide SIGBUS handler recognises an address
 * inside a registered region, maps anonymous zero pages over the faulting
 * page with mmap(MAP_FIXED) so that the faulting instruction completes on
 * return, and marks the region lost: the out-of-line access paths report
 * VMMEM_ERROR_REGION_LOST for it from then on (vmmem_region_lost()).
 *
 * Cost: nothing on the inline paths (<vmmem/view.h> is unchanged); the
 * out-of-line paths read one global counter that stays 0 until a region
 * is lost; registering is a slot in a static table when a region is
 * created.
 *
 * The registry is read from the handler, so it is a static array of slots
 * with atomic words, written under a mutex by region creation and
 * destruction, read without locks: a slot is published by storing its
 * length last (release) and retired by clearing the length first. */
#define _GNU_SOURCE
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "internal.h"

#define N_SLOTS 4096

struct slot {
	uintptr_t start; /* host address */
	uintptr_t len;   /* 0: free */
	uintptr_t page;  /* the mapping's page size: what one fault replaces */
	int lost;
};

static struct slot slots[N_SLOTS];
static size_t slots_used;      /* high-water mark; __atomic */
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction previous; /* written once, before our handler runs */
static bool installed;

/* Non-zero once any region was lost: the out-of-line paths look at their
 * regions only then. */
int vmmem__sigbus_lost;

static void
chain(int sig, siginfo_t *info, void *uctx)
{
	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, info, uctx);
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
	} else {
		/* Returning re-runs the faulting access, which then gets the
		 * default action: the process dies as it would without us. */
		signal(sig, SIG_DFL);
	}
}

static void
handler(int sig, siginfo_t *info, void *uctx)
{
	uintptr_t a = (uintptr_t)info->si_addr;
	size_t n = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE);

	/* A SIGBUS sent with kill() or sigqueue() is not a fault of ours. */
	if (info->si_code > 0) {
		for (size_t i = 0; i < n; i++) {
			struct slot *s = &slots[i];
			uintptr_t len = __atomic_load_n(&s->len, __ATOMIC_ACQUIRE);
			uintptr_t start = __atomic_load_n(&s->start, __ATOMIC_RELAXED);
			uintptr_t page = __atomic_load_n(&s->page, __ATOMIC_RELAXED);
			void *p;

			if (len == 0 || a - start >= len)
				continue;
			p = (void *)(start + ((a - start) & ~(page - 1)));
			/* mmap is a system call: async-signal-safe in practice. */
			if (mmap(p, page, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
				 0) == MAP_FAILED)
				break;
			__atomic_store_n(&s->lost, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&vmmem__sigbus_lost, 1, __ATOMIC_RELEASE);
			return;
		}
	}
	chain(sig, info, uctx);
}

static void
install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	installed = sigaction(SIGBUS, &sa, &previous) == 0;
}

void
vmmem__sigbus_register(struct vmmem_region *r)
{
	uint64_t page = r->mapping.page_size ? r->mapping.page_size : 4096;

	r->guard = -1;
	if (!(r->mapping.flags & VMMEM_REGION_FD) || (page & (page - 1)))
		return;
	pthread_once(&install_once, install);
	if (!installed)
		return;
	pthread_mutex_lock(&slots_lock);
	for (size_t i = 0; i < N_SLOTS; i++) {
		struct slot *s = &slots[i];

		if (__atomic_load_n(&s->len, __ATOMIC_RELAXED) != 0)
			continue;
		__atomic_store_n(&s->start, (uintptr_t)r->host, __ATOMIC_RELAXED);
		__atomic_store_n(&s->page, (uintptr_t)page, __ATOMIC_RELAXED);
		__atomic_store_n(&s->lost, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->len, (uintptr_t)r->size, __ATOMIC_RELEASE);
		if (i + 1 > __atomic_load_n(&slots_used, __ATOMIC_RELAXED))
			__atomic_store_n(&slots_used, i + 1, __ATOMIC_RELEASE);
		r->guard = (int)i;
		break;
	}
	/* A full table leaves the region unguarded: a fault in it is then
	 * fatal, as it was before this existed. */
	pthread_mutex_unlock(&slots_lock);
}

void
vmmem__sigbus_moved(struct vmmem_region *r)
{
	struct slot *s;

	if (r->guard < 0)
		return;
	s = &slots[r->guard];
	pthread_mutex_lock(&slots_lock);
	__atomic_store_n(&s->len, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->start, (uintptr_t)r->host, __ATOMIC_RELAXED);
	__atomic_store_n(&s->len, (uintptr_t)r->size, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&slots_lock);
}

void
vmmem__sigbus_unregister(struct vmmem_region *r)
{
	if (r->guard < 0)
		return;
	pthread_mutex_lock(&slots_lock);
	__atomic_store_n(&slots[r->guard].len, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&slots_lock);
	r->guard = -1;
}

bool
vmmem__region_is_lost(const struct vmmem_region *r)
{
	return r->guard >= 0 && __atomic_load_n(&slots[r->guard].lost, __ATOMIC_ACQUIRE);
}

bool
vmmem__lost_error(const struct vmmem_region *r, GError **error)
{
	if (!vmmem__region_is_lost(r))
		return false;
	vmmem__error(error, VMMEM_ERROR_REGION_LOST,
		     "region '%s' [0x%" PRIx64 ", +0x%" PRIx64 ") was lost: its file lost pages "
		     "under this process (SIGBUS); they read as zero now and writes to them "
		     "are not shared",
		     r->name, r->start, r->size);
	return true;
}

bool
vmmem_region_lost(const vmmem_region_t *region)
{
	return region && vmmem__region_is_lost(region);
}

bool
vmmem_memory_lost(const vmmem_memory_t *mem)
{
	if (!mem || !__atomic_load_n(&vmmem__sigbus_lost, __ATOMIC_ACQUIRE))
		return false;
	for (size_t i = 0; i < mem->n; i++)
		if (vmmem__region_is_lost(mem->regions[i]))
			return true;
	return false;
}
