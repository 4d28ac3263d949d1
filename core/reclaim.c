/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* Read sections and grace periods: how a space frees an old snapshot only
 * once no reader can still be using it.
 *
 * Why our own epochs and not liburcu: a reader here must be able to take a
 * snapshot from any thread without registering it first, sections must nest
 * for free (a device holding 64 snapshots costs what one does; rust-vmm's
 * GuestMemoryAtomic slows down past 8 guards), and the read side must never
 * write a cache line that another thread writes. liburcu's memb flavour has
 * the same read-side cost but makes every reader thread call
 * rcu_register_thread(), which a library cannot ask of its callers' thread
 * pools.
 *
 * The scheme: a global epoch, and per thread a record {epoch, nesting}.
 * Entering the outermost section stores the global epoch into the thread's
 * own record; leaving it stores 0. A writer publishes the new snapshot,
 * advances the epoch to E, then waits until every record reads 0 or at
 * least E. A record below E that is not 0 belongs to a section that began
 * before the publication and may hold the old snapshot; a record at E or
 * above began after it (it read the new epoch with acquire order, which
 * the publication precedes) and can only see the new one.
 *
 * The store-to-load order a reader needs between writing its record and
 * loading the snapshot pointer is the expensive part (a full fence, ~20
 * cycles). With membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) the writer
 * forces that fence on every running thread of the process instead, at
 * the cost of one system call per grace period, and the reader needs only
 * a compiler barrier: this is liburcu's memb scheme, and the reason
 * getting and putting a snapshot costs a few nanoseconds. Without
 * membarrier (old kernels, valgrind) readers fence. */
#include "config.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* A thread's record. Records are never freed: a thread that ends leaves
 * its record for the next new thread to claim, so the list only grows (to
 * the most threads that ever read at once) and a writer can walk it, and a
 * new reader join it, without a lock: a reader's first snapshot never waits
 * for a writer's grace period. */
struct reader {
	uint64_t epoch;        /* __atomic; 0: not in a section */
	int in_use;            /* __atomic; claimed by a live thread */
	struct reader *next;   /* set before the record is published, then fixed */
};

/* initial-exec: one %fs-relative access, no __tls_get_addr call. The
 * library is linked by its consumers, not dlopen()ed, so it gets static
 * TLS; glibc keeps surplus static TLS for the rare dlopen() case. */
static __thread struct reader *self __attribute__((tls_model("initial-exec")));
static __thread unsigned nesting __attribute__((tls_model("initial-exec")));

static uint64_t global_epoch = 1;          /* __atomic */
static struct reader *readers;             /* __atomic; the list's head */
static pthread_key_t exit_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool have_membarrier;               /* written in init() and fork_child() */

static int
membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/* A thread ends: its record is free for the next one. */
static void
release_record(void *arg)
{
	struct reader *r = arg;

	__atomic_store_n(&r->epoch, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->in_use, 0, __ATOMIC_RELEASE);
}

/* The child has one thread: the records of the others describe threads
 * that do not exist there, and one left inside a section would make every
 * grace period in the child wait for ever. The child's mm may also have
 * lost the membarrier registration the readers' cheap path relies on. */
static void
fork_child(void)
{
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		if (r == self)
			continue;
		r->epoch = 0;
		r->in_use = 0;
	}
	if (have_membarrier && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		have_membarrier = false; /* only this thread is left: fences suffice */
}

static void
init(void)
{
	int cmds = membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		have_membarrier = true;
	pthread_key_create(&exit_key, release_record);
	pthread_atfork(NULL, NULL, fork_child);
}

/* Called by everything that creates a space, before any reader exists:
 * the readers' barrier choice must not change under them. */
bool
vmmem__membarrier_ready(void)
{
	pthread_once(&init_once, init);
	return have_membarrier;
}

/* This thread's first section: claim a free record, or push a new one. */
static struct reader *
enlist(void)
{
	struct reader *r;

	pthread_once(&init_once, init);
	for (r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		int free_ = 0;

		if (__atomic_load_n(&r->in_use, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&r->in_use, &free_, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	if (!r) {
		r = g_new0(struct reader, 1);
		r->in_use = 1;
		r->next = __atomic_load_n(&readers, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&readers, &r->next, r, true, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
	}
	pthread_setspecific(exit_key, r);
	self = r;
	return r;
}

void
vmmem__read_lock(void)
{
	struct reader *r;

	if (nesting++)
		return;
	r = self;
	if (__builtin_expect(!r, 0))
		r = enlist();
	__atomic_store_n(&r->epoch, __atomic_load_n(&global_epoch, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELAXED);
	if (have_membarrier)
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
vmmem__read_unlock(void)
{
	g_assert(nesting > 0);
	if (--nesting == 0)
		__atomic_store_n(&self->epoch, 0, __ATOMIC_RELEASE);
}

bool
vmmem__in_read_section(void)
{
	return nesting > 0;
}

bool
vmmem__fence_all_threads(void)
{
	if (!vmmem__membarrier_ready())
		return false;
	return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

uint64_t
vmmem__grace_start(void)
{
	/* The caller has published (release) the new pointer before this. */
	return __atomic_add_fetch(&global_epoch, 1, __ATOMIC_SEQ_CST);
}

uint64_t
vmmem__grace_horizon(void)
{
	uint64_t oldest = UINT64_MAX;

	/* As in vmmem__synchronize: every reader's record store is visible
	 * after this, or its section began after the publication. */
	if (!vmmem__fence_all_threads())
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		uint64_t e = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);

		if (e != 0 && e < oldest)
			oldest = e;
	}
	return oldest;
}

void
vmmem__synchronize(void)
{
	uint64_t target;

	/* The caller has published (release) the new pointer before this. */
	target = __atomic_add_fetch(&global_epoch, 1, __ATOMIC_SEQ_CST);
	if (!vmmem__fence_all_threads())
		__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* A record pushed after the load of the head belongs to a thread
	 * whose first section began after the publication: it cannot hold
	 * the old snapshot. */
	for (struct reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		unsigned spins = 0;

		for (;;) {
			uint64_t e = __atomic_load_n(&r->epoch, __ATOMIC_ACQUIRE);

			if (e == 0 || e >= target)
				break;
			/* A section is a descriptor chain, not a sleep: yield
			 * a few times (a reader preempted on this core then
			 * runs), then sleep in growing steps rather than burn
			 * the CPU the readers need. */
			if (++spins < 8) {
				sched_yield();
			} else {
				struct timespec ts = { 0, spins < 64 ? 20 * 1000 : 200 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
	}
}
