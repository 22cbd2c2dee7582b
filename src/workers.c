#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "latency.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* How often the watchdog looks, while notifications are pending. */
#define WATCHDOG_TICK_MS 100
/* A decision taking longer than this is slow: a spare worker decides the others' meanwhile,
 * so that a file system that stalls takes no capacity from the other sessions even before
 * resolve_timeout. */
#define SLOW_MS 200
/* How long a stopping daemon waits for its workers to end. */
#define STOP_WAIT_MS 5000

#define TIMED_OUT "resolution timed out"
#define NOT_VERIFIED TIMED_OUT ": its exec was not verified in time; killed"

enum job_state {
        JOB_FREE,
        JOB_QUEUED,    /* received, waiting for a worker */
        JOB_DECIDING,  /* a worker decides it; the watchdog may still answer */
        JOB_CLAIMED,   /* its worker acts on it: the answer is the worker's (and then it may
                        * follow the exec it approved to its end: follow_pidfd) */
        JOB_TIMED_OUT, /* the watchdog answered; its worker, stuck, has not returned */
};

struct worker;

/* A notification received and not done with. */
struct job {
        struct workers *w;
        unsigned slot; /* its index: its inflight slot */
        enum job_state state;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp; /* unused: notify_alloc() gives both */
        struct session *sess;
        uint64_t received_ns;
        struct worker *worker;
        char *requested; /* EG_PATH_MAX: the path the exec names, once read ("": not yet) */
        int follow_pidfd;   /* answered, its worker follows the exec: the process, else -1 */
        uint64_t follow_ns; /* since when */
        struct decision_owner owner;
        struct job *next; /* in the queue, or the free list */
};

struct worker {
        struct workers *w;
        pthread_t thread;
        bool lost; /* its decision timed out: it ends when it returns */
        struct worker *next;
};

/* A decider's call for the main thread (supervisor_main_call). */
struct main_call {
        void (*fn)(void *arg);
        void *arg;
        bool done;
        struct main_call *next;
};

struct workers {
        struct supervisor *s;
        struct workers_hooks hooks;
        /* Guards everything below but the fds, and the jobs' and sessions' pool fields. */
        pthread_mutex_t lock;
        pthread_cond_t work;       /* a job queued, or stopping */
        pthread_cond_t calls_done; /* a main call done, or a worker gone */
        struct job jobs[WORKERS_JOBS_MAX];
        char *paths; /* the jobs' requested buffers: pages touched only by the jobs used */
        struct job *free_jobs, *queue_head, *queue_tail;
        unsigned pending; /* jobs not free */
        unsigned queued;  /* jobs waiting for a worker */
        bool starved;     /* workers_take() said -EAGAIN: resume() is owed */
        struct worker *workers;
        unsigned want;       /* workers = */
        unsigned live, lost; /* workers deciding or waiting; stuck ones */
        unsigned slow;       /* decisions older than SLOW_MS, at the watchdog's last look */
        bool stopping;
        struct main_call *calls;
        struct session **released; /* sessions to hand back to the daemon */
        size_t n_released, released_size;
        uint64_t timeout_ns;
        bool ticking;
        /* The watchdog's: what it answers, copied while the lock is held (a stuck worker
         * that returns meanwhile ends its job, which may then serve another notification). */
        struct late {
                struct job *job;
                struct session *sess; /* held for the answer */
                struct seccomp_notif req;
                bool queued;
                bool followed; /* answered already: its exec was killed */
        } late[WORKERS_JOBS_MAX];
        volatile pid_t *inflight;
        int wake_fd, timer_fd, epoll_fd;
};

static void wake_main(struct workers *w) {
        uint64_t one = 1;
        (void) !write(w->wake_fd, &one, sizeof one);
}

static void call_on_main(void (*fn)(void *arg), void *arg, void *data) {
        struct workers *w = data;
        struct main_call call = { .fn = fn, .arg = arg };
        pthread_mutex_lock(&w->lock);
        call.next = w->calls;
        w->calls = &call;
        pthread_mutex_unlock(&w->lock);
        wake_main(w);
        pthread_mutex_lock(&w->lock);
        while (!call.done)
                pthread_cond_wait(&w->calls_done, &w->lock);
        pthread_mutex_unlock(&w->lock);
}

static void run_main_calls(struct workers *w) {
        pthread_mutex_lock(&w->lock);
        struct main_call *calls = w->calls;
        w->calls = NULL;
        pthread_mutex_unlock(&w->lock);
        while (calls) {
                struct main_call *c = calls;
                calls = c->next;
                c->fn(c->arg);
                pthread_mutex_lock(&w->lock);
                c->done = true;
                pthread_mutex_unlock(&w->lock);
        }
        pthread_cond_broadcast(&w->calls_done);
}

static bool job_claim(void *data) {
        struct job *job = data;
        pthread_mutex_lock(&job->w->lock);
        bool ours = job->state == JOB_DECIDING || job->state == JOB_CLAIMED;
        if (ours)
                job->state = JOB_CLAIMED;
        pthread_mutex_unlock(&job->w->lock);
        return ours;
}

static void job_following(void *data, int pidfd) {
        struct job *job = data;
        pthread_mutex_lock(&job->w->lock);
        job->follow_pidfd = pidfd;
        job->follow_ns = latency_now_ns();
        pthread_mutex_unlock(&job->w->lock);
}

static void job_requested(void *data, const char *path) {
        struct job *job = data;
        pthread_mutex_lock(&job->w->lock);
        snprintf(job->requested, EG_PATH_MAX, "%s", path);
        pthread_mutex_unlock(&job->w->lock);
}

/* Under the lock: one hold on sess less; it may be over and free now. */
static void unhold(struct workers *w, struct session *sess) {
        if (--sess->held == 0 && sess->over) {
                if (w->n_released == w->released_size) {
                        size_t size = w->released_size ? 2 * w->released_size : 16;
                        struct session **grown = realloc(w->released, size * sizeof *grown);
                        if (grown) {
                                w->released = grown;
                                w->released_size = size;
                        }
                }
                /* Out of memory: kept, and freed with the daemon. */
                if (w->n_released < w->released_size)
                        w->released[w->n_released++] = sess;
                wake_main(w);
        }
}

/* Under the lock: job is done with. */
static void job_done(struct workers *w, struct job *job) {
        unhold(w, job->sess);
        job->state = JOB_FREE;
        job->sess = NULL;
        job->worker = NULL;
        job->follow_pidfd = -1;
        job->next = w->free_jobs;
        w->free_jobs = job;
        w->pending--;
        if (w->starved)
                wake_main(w);
}

static void *worker_main(void *arg);

/* Under the lock. Returns 0 or -errno. */
static int start_worker(struct workers *w) {
        struct worker *me = calloc(1, sizeof *me);
        if (!me)
                return -ENOMEM;
        me->w = w;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        /* Deciding needs little stack (the scratch space is the decider's), and a stuck
         * worker keeps what it has. */
        pthread_attr_setstacksize(&attr, 256 * 1024);
        int r = pthread_create(&me->thread, &attr, worker_main, me);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(me);
                return -r;
        }
        me->next = w->workers;
        w->workers = me;
        w->live++;
        return 0;
}

/* Under the lock: me is gone from the pool. */
static void forget_worker(struct workers *w, struct worker *me) {
        for (struct worker **pp = &w->workers; *pp; pp = &(*pp)->next)
                if (*pp == me) {
                        *pp = me->next;
                        break;
                }
}

static void *worker_main(void *arg) {
        struct worker *me = arg;
        struct workers *w = me->w;
        struct decider *d = NULL;
        int r = decider_new(w->s, &d);
        if (r < 0)
                log_error_errno(r, "A worker cannot start: %m; the others decide");

        pthread_mutex_lock(&w->lock);
        while (d) {
                while (!w->queue_head && !w->stopping)
                        pthread_cond_wait(&w->work, &w->lock);
                struct job *job = w->queue_head;
                if (!job)
                        break; /* stopping, and nothing left */
                w->queue_head = job->next;
                if (!w->queue_head)
                        w->queue_tail = NULL;
                w->queued--;
                if (w->starved)
                        wake_main(w); /* room for the next notification */
                job->state = JOB_DECIDING;
                job->worker = me;
                pthread_mutex_unlock(&w->lock);

                bool answered = decider_serve(d, job->sess, job->req, job->received_ns, &job->owner);
                if (answered && w->inflight)
                        w->inflight[job->slot] = 0;

                pthread_mutex_lock(&w->lock);
                if (me->lost && job->state == JOB_TIMED_OUT)
                        job->sess->stuck--; /* counted by the watchdog */
                job_done(w, job);
                if (me->lost) {
                        w->lost--;
                        forget_worker(w, me);
                        pthread_mutex_unlock(&w->lock);
                        log_info("A worker stuck past resolve_timeout has returned");
                        decider_free(d);
                        free(me); /* detached when it was replaced */
                        return NULL;
                }
                /* A spare no longer needed: the slow decision it stood in for is done. */
                if (!w->stopping && w->live > w->want + w->slow) {
                        w->live--;
                        forget_worker(w, me);
                        pthread_detach(me->thread);
                        pthread_mutex_unlock(&w->lock);
                        decider_free(d);
                        free(me);
                        return NULL;
                }
        }
        /* Stopping, or never started. */
        w->live--;
        pthread_mutex_unlock(&w->lock);
        decider_free(d);
        pthread_cond_broadcast(&w->calls_done);
        return NULL;
}

static void arm_watchdog(struct workers *w, bool on) {
        if (w->ticking == on)
                return;
        struct itimerspec its = {};
        if (on)
                its.it_value.tv_nsec = its.it_interval.tv_nsec = WATCHDOG_TICK_MS * 1000000L;
        if (timerfd_settime(w->timer_fd, 0, &its, NULL) == 0)
                w->ticking = on;
}

/* Answer req of sess "denied", now (on the main thread, the lock not held). */
static void time_out(struct workers *w, struct session *sess, const struct seccomp_notif *req, const char *requested,
                     const char *why) {
        int r = supervisor_time_out(w->s, sess, req, requested[0] ? requested : NULL, why);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Session %s: cannot answer process %u: %m", sess->id, req->pid);
}

/* Under the lock: is job still the one timed out for req (not ended and taken again)? */
static bool still_late(const struct job *job, const struct seccomp_notif *req) {
        return job->state == JOB_TIMED_OUT && job->req->id == req->id;
}

/* Under the lock: how long job has been waiting for its worker, or 0 if it is not (a
 * decision, or the exec its worker follows). */
static uint64_t job_age(const struct job *job, uint64_t now) {
        if (job->state == JOB_QUEUED || job->state == JOB_DECIDING)
                return now - job->received_ns;
        if (job->state == JOB_CLAIMED && job->follow_pidfd >= 0)
                return now - job->follow_ns;
        return 0;
}

/* The watchdog: answer what is late. A queued job is done with at once; a deciding one is
 * answered and its worker, stuck, replaced (by a spare, up to WORKERS_STUCK_MAX); an exec
 * answered and not verified in time (its worker stuck in the program's file system, or the
 * exec itself in the kernel) is killed, and its worker replaced just the same. */
static void watchdog(struct workers *w) {
        uint64_t now = latency_now_ns();
        size_t n_late = 0;
        unsigned slow = 0;
        pthread_mutex_lock(&w->lock);
        for (unsigned i = 0; i < WORKERS_JOBS_MAX; i++) {
                struct job *job = &w->jobs[i];
                uint64_t age = job_age(job, now);
                if (job->state != JOB_QUEUED && age >= SLOW_MS * 1000000ull && age < w->timeout_ns)
                        slow++;
                if (age == 0 || age < w->timeout_ns)
                        continue;
                bool queued = job->state == JOB_QUEUED;
                bool followed = job->state == JOB_CLAIMED;
                /* SIGKILL ends its stop, or its exec, wherever it is: nothing of the new
                 * program runs. The pidfd is the worker's, and open while the lock is held. */
                if (followed && syscall(SYS_pidfd_send_signal, job->follow_pidfd, SIGKILL, NULL, 0) < 0 &&
                    errno != ESRCH)
                        log_warning_errno(-errno, "Cannot kill process %u, whose exec is not verified in time: %m",
                                          job->req->pid);
                if (queued) {
                        w->queued--;
                        for (struct job **pp = &w->queue_head; *pp; pp = &(*pp)->next)
                                if (*pp == job) {
                                        *pp = job->next;
                                        break;
                                }
                        w->queue_tail = NULL;
                        for (struct job *q = w->queue_head; q; q = q->next)
                                w->queue_tail = q;
                } else {
                        struct worker *stuck = job->worker;
                        stuck->lost = true;
                        job->sess->stuck++;
                        job->sess->held++; /* for the answer: the worker's job may end first */
                        w->live--;
                        w->lost++;
                        pthread_detach(stuck->thread);
                        if (w->lost > WORKERS_STUCK_MAX)
                                log_error("%u workers are stuck in file systems that do not answer: this one is "
                                          "not replaced",
                                          w->lost);
                }
                job->state = JOB_TIMED_OUT;
                w->late[n_late++] = (struct late){
                        .job = job, .sess = job->sess, .req = *job->req, .queued = queued, .followed = followed
                };
        }
        /* A spare for each slow decision, within the bound of stuck ones. */
        w->slow = slow;
        while (w->live < w->want + slow && w->live + w->lost < w->want + WORKERS_STUCK_MAX) {
                int r = start_worker(w);
                if (r < 0) {
                        log_error_errno(r, "Cannot start a spare worker: %m");
                        break;
                }
        }
        pthread_mutex_unlock(&w->lock);

        for (size_t i = 0; i < n_late; i++) {
                const struct late *l = &w->late[i];
                char requested[EG_PATH_MAX] = "";
                pthread_mutex_lock(&w->lock);
                if (still_late(l->job, &l->req))
                        snprintf(requested, sizeof requested, "%s", l->job->requested);
                pthread_mutex_unlock(&w->lock);
                if (l->followed) {
                        log_warning("Session %s: the exec of '%s' by %u was not verified within resolve_timeout "
                                    "(%llu s): killed; its worker is stuck, and replaced",
                                    l->sess->id, requested[0] ? requested : "?", l->req.pid,
                                    (unsigned long long) (w->timeout_ns / 1000000000u));
                        supervisor_follow_timed_out(w->s, l->sess, &l->req, requested[0] ? requested : NULL,
                                                    NOT_VERIFIED);
                } else {
                        log_warning("Session %s: the exec of '%s' by %u was not decided within resolve_timeout "
                                    "(%llu s): denied%s",
                                    l->sess->id, requested[0] ? requested : "?", l->req.pid,
                                    (unsigned long long) (w->timeout_ns / 1000000000u),
                                    l->queued ? " (no worker was free)" : "; its worker is stuck, and replaced");
                        time_out(w, l->sess, &l->req, requested, TIMED_OUT);
                }
                pthread_mutex_lock(&w->lock);
                if (still_late(l->job, &l->req) && w->inflight)
                        w->inflight[l->job->slot] = 0;
                if (l->queued)
                        job_done(w, l->job);
                else
                        unhold(w, l->sess);
                pthread_mutex_unlock(&w->lock);
        }
}

void workers_process(struct workers *w) {
        uint64_t n;
        (void) !read(w->wake_fd, &n, sizeof n);
        (void) !read(w->timer_fd, &n, sizeof n);
        run_main_calls(w);
        watchdog(w);

        pthread_mutex_lock(&w->lock);
        struct session *released[64];
        size_t n_released = MIN(w->n_released, ELEMENTSOF(released));
        if (n_released > 0)
                memcpy(released, w->released + w->n_released - n_released, n_released * sizeof *released);
        w->n_released -= n_released;
        if (w->n_released > 0)
                wake_main(w); /* more next time */
        bool resume = w->starved && w->free_jobs && w->queued < MAX(w->live, 1u);
        if (resume)
                w->starved = false;
        arm_watchdog(w, w->pending > 0);
        pthread_mutex_unlock(&w->lock);

        for (size_t i = 0; i < n_released; i++)
                w->hooks.released(released[i], w->hooks.data);
        if (resume)
                w->hooks.resume(w->hooks.data);
}

int workers_take(struct workers *w, struct session *sess) {
        pthread_mutex_lock(&w->lock);
        struct job *job = w->free_jobs;
        /* No more received than the workers can take up at once: the rest wait in the
         * kernel, where a daemon that dies leaves them to the next. */
        if (!job || w->queued >= MAX(w->live, 1u)) {
                w->starved = true;
                pthread_mutex_unlock(&w->lock);
                return -EAGAIN;
        }
        w->free_jobs = job->next;
        pthread_mutex_unlock(&w->lock);

        int r = notify_receive(sess->listener, job->req);
        uint64_t received = latency_now_ns();
        pthread_mutex_lock(&w->lock);
        if (r < 0) {
                job->next = w->free_jobs;
                w->free_jobs = job;
                pthread_mutex_unlock(&w->lock);
                /* ENOENT: the task went away before we read the notification. */
                return r == -ENOENT || r == -EINTR ? 0 : r;
        }
        /* Should we die before it is answered, the next daemon must wake this task: the
         * kernel never hands a received notification out again. */
        if (w->inflight)
                w->inflight[job->slot] = (pid_t) job->req->pid;
        job->sess = sess;
        job->received_ns = received;
        job->requested[0] = '\0';
        job->worker = NULL;
        job->next = NULL;
        sess->held++;
        w->pending++;
        arm_watchdog(w, true);
        /* A session whose file system has stuck that many workers: its execs are denied at
         * once, rather than each taking a worker until its timeout. */
        if (sess->stuck >= WORKERS_STUCK_PER_SESSION) {
                job->state = JOB_TIMED_OUT;
                pthread_mutex_unlock(&w->lock);
                char why[128];
                snprintf(why, sizeof why, TIMED_OUT ": %u earlier execs of this session are still stuck",
                         WORKERS_STUCK_PER_SESSION);
                time_out(w, sess, job->req, "", why);
                pthread_mutex_lock(&w->lock);
                if (w->inflight)
                        w->inflight[job->slot] = 0;
                job_done(w, job);
                pthread_mutex_unlock(&w->lock);
                return 0;
        }
        job->state = JOB_QUEUED;
        w->queued++;
        if (w->queue_tail)
                w->queue_tail->next = job;
        else
                w->queue_head = job;
        w->queue_tail = job;
        pthread_mutex_unlock(&w->lock);
        pthread_cond_signal(&w->work);
        return 0;
}

bool workers_release(struct workers *w, struct session *sess) {
        pthread_mutex_lock(&w->lock);
        sess->over = true;
        bool free_now = sess->held == 0;
        pthread_mutex_unlock(&w->lock);
        return free_now;
}

unsigned workers_pending(struct workers *w) {
        pthread_mutex_lock(&w->lock);
        unsigned n = w->pending;
        pthread_mutex_unlock(&w->lock);
        return n;
}

unsigned workers_count(struct workers *w) {
        pthread_mutex_lock(&w->lock);
        unsigned n = w->live;
        pthread_mutex_unlock(&w->lock);
        return n;
}

void workers_set_timeout(struct workers *w, unsigned timeout_s) {
        pthread_mutex_lock(&w->lock);
        w->timeout_ns = (uint64_t) timeout_s * 1000000000u;
        pthread_mutex_unlock(&w->lock);
}

int workers_fd(const struct workers *w) {
        return w->epoll_fd;
}

static int add_fd(int epoll_fd, int fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

int workers_new(struct supervisor *s, unsigned n, unsigned timeout_s, volatile pid_t *inflight,
                const struct workers_hooks *hooks, struct workers **ret) {
        struct workers *w = calloc(1, sizeof *w);
        if (!w)
                return log_error_errno(-ENOMEM, "Failed to allocate the workers: %m");
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->work, NULL);
        pthread_cond_init(&w->calls_done, NULL);
        w->s = s;
        w->hooks = *hooks;
        w->inflight = inflight;
        w->timeout_ns = (uint64_t) timeout_s * 1000000000u;
        w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        w->paths = calloc(WORKERS_JOBS_MAX, EG_PATH_MAX);
        int r = w->wake_fd < 0 || w->timer_fd < 0 || w->epoll_fd < 0 ? negative_errno() : !w->paths ? -ENOMEM : 0;
        if (r >= 0)
                r = add_fd(w->epoll_fd, w->wake_fd);
        if (r >= 0)
                r = add_fd(w->epoll_fd, w->timer_fd);
        for (unsigned i = WORKERS_JOBS_MAX; r >= 0 && i-- > 0;) {
                struct job *job = &w->jobs[i];
                /* Field by field: the jobs' path buffers stay untouched pages until used. */
                job->w = w;
                job->slot = i;
                job->requested = w->paths ? w->paths + (size_t) i * EG_PATH_MAX : NULL;
                job->next = w->free_jobs;
                job->follow_pidfd = -1;
                job->owner = (struct decision_owner){
                        .claim = job_claim, .requested = job_requested, .following = job_following, .data = job
                };
                r = notify_alloc(&job->req, &job->resp);
                w->free_jobs = job;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to set up the workers: %m");
                workers_free(w);
                return r;
        }
        if (n == 0) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                n = cpus > 0 ? (unsigned) MIN(cpus, 256) : 1;
        }
        supervisor_set_main_call(s, call_on_main, w);
        pthread_mutex_lock(&w->lock);
        w->want = n;
        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = start_worker(w);
        pthread_mutex_unlock(&w->lock);
        if (r < 0) {
                log_error_errno(r, "Failed to start the workers: %m");
                workers_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

bool workers_free(struct workers *w) {
        if (!w)
                return true;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_mutex_unlock(&w->lock);
        pthread_cond_broadcast(&w->work);
        /* A worker may wait for a main call: run them until every worker is gone. One that
         * is not gone by the deadline is stuck (the watchdog no longer runs to say so). */
        uint64_t deadline = latency_now_ns() + STOP_WAIT_MS * 1000000ull;
        for (;;) {
                pthread_mutex_lock(&w->lock);
                struct worker *done = NULL;
                for (struct worker *k = w->workers; k; k = k->next)
                        if (!k->lost) {
                                done = k;
                                break;
                        }
                if (done && latency_now_ns() > deadline) {
                        for (struct worker *k = w->workers; k; k = k->next)
                                if (!k->lost) {
                                        k->lost = true;
                                        w->lost++;
                                        pthread_detach(k->thread);
                                }
                        done = NULL;
                }
                pthread_mutex_unlock(&w->lock);
                if (!done)
                        break;
                /* Either it ends, or it waits for a call: run the calls, then look again. */
                struct timespec soon;
                clock_gettime(CLOCK_REALTIME, &soon);
                soon.tv_nsec += 10 * 1000000L;
                if (soon.tv_nsec >= 1000000000L) {
                        soon.tv_sec++;
                        soon.tv_nsec -= 1000000000L;
                }
                run_main_calls(w);
                if (pthread_timedjoin_np(done->thread, NULL, &soon) == 0) {
                        pthread_mutex_lock(&w->lock);
                        forget_worker(w, done);
                        pthread_mutex_unlock(&w->lock);
                        free(done);
                }
        }
        pthread_mutex_lock(&w->lock);
        unsigned stuck = w->lost;
        pthread_mutex_unlock(&w->lock);
        if (stuck > 0) {
                /* They hold the pool, the supervisor and the sessions they decide for: all
                 * of it stays, and goes with the process. */
                log_warning("%u workers are still stuck in file systems that do not answer: left as they are", stuck);
                return false;
        }
        for (unsigned i = 0; i < WORKERS_JOBS_MAX; i++)
                notify_free(w->jobs[i].req, w->jobs[i].resp);
        supervisor_set_main_call(w->s, NULL, NULL);
        free(w->released);
        free(w->paths);
        safe_close(w->wake_fd);
        safe_close(w->timer_fd);
        safe_close(w->epoll_fd);
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->calls_done);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return true;
}
