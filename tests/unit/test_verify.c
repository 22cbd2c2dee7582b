/* The verification after exec, on a real child held at its PTRACE_EVENT_EXEC stop: what it
 * concludes of a task that was killed there by another (not a mismatch), and of one that
 * is alive but cannot be verified (a mismatch: killed, for the record). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "verify.h"

#define PROGRAM "/usr/bin/true"
#define LOADER  "/lib64/ld-linux-x86-64.so.2"

struct held {
        pid_t pid;
        int status; /* the exec stop's */
        struct identity_cache *identities;
        struct verify_scratch *vs;
        struct verifier *v;
        struct stat program_st;
        char program[PATH_MAX];
};

/* A child that execs PROGRAM, attached as the supervisor attaches (PTRACE_SEIZE with the
 * approval of PROGRAM and its loader), and held at its exec stop. */
static void hold_at_exec(struct held *h) {
        char program[PATH_MAX], loader[PATH_MAX];
        struct stat program_st, loader_st;
        ck_assert_ptr_nonnull(realpath(PROGRAM, program));
        ck_assert_ptr_nonnull(realpath(LOADER, loader));
        ck_assert_int_eq(stat(program, &program_st), 0);
        ck_assert_int_eq(stat(loader, &loader_st), 0);

        int go[2];
        ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
        h->pid = fork();
        ck_assert_int_ge(h->pid, 0);
        if (h->pid == 0) {
                char c;
                if (read(go[0], &c, 1) != 1)
                        _exit(111);
                execl(program, program, (char *) NULL);
                _exit(112);
        }
        close(go[0]);
        h->identities = identity_cache_new();
        h->vs = h->identities ? verify_scratch_new(h->identities) : NULL;
        h->v = verifier_new();
        ck_assert_ptr_nonnull(h->vs);
        ck_assert_ptr_nonnull(h->v);
        h->program_st = program_st;
        memcpy(h->program, program, sizeof program);
        ck_assert_int_eq(
                verifier_attach(h->v, h->pid, &program_st, program, &loader_st, loader, false, "test", getuid()), 0);
        ck_assert_int_eq(write(go[1], "x", 1), 1);
        close(go[1]);

        int status;
        ck_assert_int_eq(waitpid(h->pid, &status, __WALL), h->pid);
        ck_assert_msg(WIFSTOPPED(status) && status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)),
                      "not the exec stop: status %#x", status);
        h->status = status;
}

/* The child is killed (by SIGKILL) and reaped. */
static void reap_killed(struct held *h) {
        int status;
        ck_assert_int_eq(waitpid(h->pid, &status, __WALL), h->pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "not killed: status %#x", status);
        verifier_free(h->v);
        verify_scratch_free(h->vs);
        identity_cache_free(h->identities);
}

/* The child, let go, ran PROGRAM to its end, and is reaped. */
static void reap_exited(struct held *h) {
        int status;
        ck_assert_int_eq(waitpid(h->pid, &status, __WALL), h->pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
        verifier_free(h->v);
        verify_scratch_free(h->vs);
        identity_cache_free(h->identities);
}

/* The setup itself: held alive and verifiable, it is confirmed and let go. */
START_TEST(verify_confirms_the_approved_exec) {
        struct held h;
        hold_at_exec(&h);
        struct verify_report rep = {};
        ck_assert_int_eq(verifier_handle(h.v, h.vs, h.pid, h.status, &rep), VERIFY_CONFIRMED);
        reap_exited(&h);
}
END_TEST

/* Another thread of ours (another of the daemon's workers) while the tracee is held. */
struct other {
        struct held *h;
        int attach;
        enum verify_outcome handled;
};

static void *other_thread(void *arg) {
        struct other *o = arg;
        struct verify_scratch *vs = verify_scratch_new(o->h->identities);
        struct verify_report rep = {};
        o->attach = verifier_attach(o->h->v, o->h->pid, &o->h->program_st, o->h->program, NULL, NULL, false, "other",
                                    getuid());
        o->handled = vs ? verifier_handle(o->h->v, vs, o->h->pid, o->h->status, &rep) : VERIFY_CONFIRMED;
        verify_scratch_free(vs);
        return NULL;
}

/* A tracee is its tracer thread's alone: another thread can neither take it over (its
 * approval would replace the one the tracer verifies) nor act on its stop; the tracer's
 * verification is untouched. */
START_TEST(verify_tracee_is_its_tracer_threads) {
        struct held h;
        hold_at_exec(&h);
        struct other o = { .h = &h };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &o), 0);
        ck_assert_int_eq(pthread_join(t, NULL), 0);
        ck_assert_int_eq(o.attach, -EAGAIN);
        ck_assert_int_eq(o.handled, VERIFY_NOT_OURS);
        ck_assert_uint_eq(verifier_count(h.v), 1);
        struct verify_report rep = {};
        ck_assert_int_eq(verifier_handle(h.v, h.vs, h.pid, h.status, &rep), VERIFY_CONFIRMED);
        reap_exited(&h);
}
END_TEST

/* Its parent's SIGKILL arrives while it is held at its exec stop (issue 22: CPython's
 * subprocess timeout): what the checks read goes as it exits. Not a mismatch. */
START_TEST(verify_killed_at_exec_is_not_a_mismatch) {
        struct held h;
        hold_at_exec(&h);
        ck_assert_int_eq(kill(h.pid, SIGKILL), 0);
        struct verify_report rep = {};
        ck_assert_int_eq(verifier_handle(h.v, h.vs, h.pid, h.status, &rep), VERIFY_KILLED);
        ck_assert_uint_eq(verifier_count(h.v), 0);
        reap_killed(&h);
}
END_TEST

/* Fail closed: alive at its exec stop, but the checks cannot read what they need (here,
 * out of fds: /proc/PID/maps cannot be opened). That is no death: a mismatch, killed. */
START_TEST(verify_alive_but_unverifiable_is_a_mismatch) {
        struct held h;
        hold_at_exec(&h);
        struct rlimit old, low;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
        low = old;
        low.rlim_cur = 64;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        int fds[64], n = 0;
        while (n < 64 && (fds[n] = dup(0)) >= 0)
                n++;
        ck_assert_int_eq(errno, EMFILE);
        struct verify_report rep = {};
        enum verify_outcome outcome = verifier_handle(h.v, h.vs, h.pid, h.status, &rep);
        while (n > 0)
                close(fds[--n]);
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
        ck_assert_int_eq(outcome, VERIFY_MISMATCH);
        reap_killed(&h);
}
END_TEST

Suite *verify_suite(void) {
        Suite *s = suite_create("verify");
        TCase *tc = tcase_create("exec stop");
        tcase_add_test(tc, verify_confirms_the_approved_exec);
        tcase_add_test(tc, verify_killed_at_exec_is_not_a_mismatch);
        tcase_add_test(tc, verify_tracee_is_its_tracer_threads);
        tcase_add_test(tc, verify_alive_but_unverifiable_is_a_mismatch);
        suite_add_tcase(s, tc);
        return s;
}
