/* The daemon's deciding threads: the main thread receives each notification of every
 * session and queues it; a bounded pool of workers decides them, several at once, of one
 * session or of many. A decision that has not answered within resolve_timeout (a file system
 * that does not answer its open, stat or read) is answered "denied" by the main thread's
 * watchdog and recorded "resolution timed out"; its worker, stuck, is replaced, so one
 * session's stalled file system delays no other session. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "supervise.h"

/* The most notifications received and not yet answered at once; beyond, the daemon leaves
 * the next in the kernel (a session's listener is paused) until one is answered. */
#define WORKERS_JOBS_MAX 1024

/* Stuck workers (their decision timed out, they have not returned) kept per session and in
 * all: a session with that many stuck has its execs denied at once until one returns, and
 * beyond the total a stuck worker is not replaced. */
#define WORKERS_STUCK_PER_SESSION 4
#define WORKERS_STUCK_MAX         64

struct workers;

/* What the pool tells the daemon, on the main thread, from workers_process(). */
struct workers_hooks {
        /* A session workers_release() kept is no longer held by any decision: free it. */
        void (*released)(struct session *sess, void *data);
        /* Notifications can be taken again after workers_take() said -EAGAIN. */
        void (*resume)(void *data);
        void *data;
};

/* n workers deciding for s (0: one per CPU), answering within timeout_s seconds. inflight:
 * WORKERS_JOBS_MAX slots of memory that outlives us (supervisor_set_inflight()), or NULL.
 * Sets s's main call (supervisor_set_main_call()). Returns 0 or -errno, having logged why. */
int workers_new(struct supervisor *s, unsigned n, unsigned timeout_s, volatile pid_t *inflight,
                const struct workers_hooks *hooks, struct workers **ret);

/* Stop the workers, letting them finish what they decide. Returns false if some are stuck
 * (in a file system that does not answer) and could not be stopped: then the supervisor
 * and what it holds must not be freed, as they may yet use them. */
bool workers_free(struct workers *w);

unsigned workers_count(struct workers *w);

/* How long a decision may take from now on (a reload). */
void workers_set_timeout(struct workers *w, unsigned timeout_s);

/* The fd to poll (the workers' calls for the main thread, and the watchdog's timer); when
 * readable, call workers_process(). */
int workers_fd(const struct workers *w);
void workers_process(struct workers *w);

/* Receive the next notification of sess (its listener is readable) and queue it. Returns 0,
 * -EAGAIN if no more can be taken now: as many wait for a worker as there are workers, or
 * every job is held (nothing received: stop taking until resume()), or -errno if the
 * listener failed. */
int workers_take(struct workers *w, struct session *sess);

/* sess is over (no process left, or its listener failed): returns true if nothing of the
 * pool holds it (free it now), else false (released() says when). */
bool workers_release(struct workers *w, struct session *sess);

/* Notifications received and not yet answered. */
unsigned workers_pending(struct workers *w);
