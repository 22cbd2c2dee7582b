#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "procmem.h"
#include "procstatus.h"

#define PAGE 4096u

/* The name of a uid, or "" when it has none, from the cache when it is fresh. */
static void user_name(struct procinfo *pi, uid_t uid, char *buf, size_t size) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct procinfo_name *e = &pi->names[uid % PROCINFO_NAMES];
        if (e->since == 0 || e->uid != uid || now.tv_sec - e->since >= PROCINFO_NAME_TTL) {
                struct passwd pw, *found = NULL;
                char scratch[1024];
                if (getpwuid_r(uid, &pw, scratch, sizeof scratch, &found) == 0 && found)
                        snprintf(e->name, sizeof e->name, "%s", found->pw_name);
                else
                        e->name[0] = '\0';
                e->uid = uid;
                e->since = now.tv_sec > 0 ? now.tv_sec : 1;
        }
        snprintf(buf, size, "%s", e->name);
}

/* The terminal of tty_nr (field 7 of /proc/PID/stat) as ps(1) names it. */
static void tty_name(unsigned long tty_nr, char *buf, size_t size) {
        unsigned maj = major((dev_t) tty_nr), min = minor((dev_t) tty_nr);
        if (tty_nr == 0)
                buf[0] = '\0';
        else if (maj >= 136 && maj <= 143)
                snprintf(buf, size, "pts/%u", (maj - 136) * 256 + min);
        else if (maj == 4 && min < 64)
                snprintf(buf, size, "tty%u", min);
        else if (maj == 4)
                snprintf(buf, size, "ttyS%u", min - 64);
        else
                snprintf(buf, size, "%u:%u", maj, min);
}

static unsigned long stat_tty_nr(int proc_fd) {
        char buf[1024];
        _cleanup_close_ int fd = openat(proc_fd, "stat", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = pread_full(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* comm, field 2, may hold anything but ends at the last ')'. */
        const char *p = strrchr(buf, ')');
        unsigned long tty_nr = 0;
        if (!p || sscanf(p + 1, " %*c %*d %*d %*d %lu", &tty_nr) != 1)
                return 0;
        return tty_nr;
}

/* A number the kernel writes as decimal text (/proc/PID/loginuid, sessionid). 4294967295
 * ((u32) -1) is what the kernel writes when it is unset: false then, as when unreadable. */
static bool read_u32(int proc_fd, const char *name, uint32_t *ret) {
        char buf[16];
        _cleanup_close_ int fd = openat(proc_fd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = pread_full(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') || buf[0] < '0' || buf[0] > '9' ||
            v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* Append one argument, cut to AUDIT_ARG_BYTES, to pi. Returns false when full. */
static bool add_arg(struct procinfo *pi, size_t *used, const char *arg, size_t len) {
        struct audit_process *v = &pi->view;
        if (v->argc == AUDIT_ARGS_MAX || *used + 1 >= sizeof pi->args) {
                v->argv_truncated = true;
                return false;
        }
        size_t room = sizeof pi->args - *used - 1;
        if (len > AUDIT_ARG_BYTES - 1)
                len = AUDIT_ARG_BYTES - 1, v->argv_truncated = true;
        if (len > room)
                len = room, v->argv_truncated = true;
        char *dst = pi->args + *used;
        memcpy(dst, arg, len);
        dst[len] = '\0';
        pi->argv[v->argc++] = dst;
        *used += len + 1;
        return true;
}

/* argv from memory: the pointer array a page at a time, then one read per argument. */
static void args_from_memory(struct procinfo *pi, pid_t tid, uint64_t addr, unsigned psize) {
        size_t used = 0;
        char arg[AUDIT_ARG_BYTES];
        while (pi->view.argc < AUDIT_ARGS_MAX) {
                uint8_t ptrs[PAGE];
                size_t want = (AUDIT_ARGS_MAX - pi->view.argc) * psize;
                size_t to_page_end = PAGE - (size_t) (addr % PAGE);
                if (want > to_page_end)
                        want = to_page_end;
                want -= want % psize;
                if (want == 0)
                        want = psize; /* a pointer across pages: read it alone */
                if (procmem_read(tid, addr, ptrs, want) < 0)
                        return;
                for (size_t off = 0; off + psize <= want; off += psize) {
                        uint64_t p = 0;
                        if (psize == 4) {
                                uint32_t p32;
                                memcpy(&p32, ptrs + off, 4);
                                p = p32;
                        } else
                                memcpy(&p, ptrs + off, 8);
                        if (p == 0)
                                return;
                        int n = procmem_read_string(tid, p, arg, sizeof arg);
                        if (n == -ENAMETOOLONG) {
                                n = sizeof arg - 1;
                                arg[n] = '\0';
                                pi->view.argv_truncated = true;
                        }
                        if (n < 0 || !add_arg(pi, &used, arg, (size_t) n))
                                return;
                }
                addr += want;
        }
        pi->view.argv_truncated = true;
}

static void args_from_cmdline(struct procinfo *pi, int proc_fd) {
        char buf[AUDIT_ARGS_BYTES];
        _cleanup_close_ int fd = openat(proc_fd, "cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = pread_full(fd, buf, sizeof buf, 0);
        if (n <= 0)
                return;
        size_t used = 0;
        bool cut = (size_t) n == sizeof buf;
        for (size_t i = 0; i < (size_t) n;) {
                const char *end = memchr(buf + i, '\0', (size_t) n - i);
                size_t len = end ? (size_t) (end - (buf + i)) : (size_t) n - i;
                if (!add_arg(pi, &used, buf + i, len))
                        return;
                i += len + 1;
        }
        if (cut)
                pi->view.argv_truncated = true;
}

void procinfo_read(struct procinfo *pi, pid_t tid, int proc_fd, uint64_t argv_addr, unsigned pointer_size) {
        struct audit_process *v = &pi->view;
        pi->user[0] = pi->euser[0] = pi->tty[0] = pi->cwd[0] = '\0';
        *v = (struct audit_process){ .pid = tid, .ppid = -1, .uid = (uid_t) -1, .euid = (uid_t) -1, .argv = pi->argv };

        char status[PROCSTATUS_BUF];
        unsigned long n;
        if (procstatus_read(proc_fd, status, sizeof status) >= 0) {
                /* A thread's /proc/TID/status: Tgid is the process as users know it. */
                if (procstatus_number(status, "Tgid", 0, &n) == 0)
                        v->pid = (pid_t) n;
                if (procstatus_number(status, "PPid", 0, &n) == 0)
                        v->ppid = (pid_t) n;
                if (procstatus_number(status, "Uid", 0, &n) == 0) {
                        v->uid = (uid_t) n;
                        user_name(pi, v->uid, pi->user, sizeof pi->user);
                        v->user = pi->user[0] ? pi->user : NULL;
                }
                if (procstatus_number(status, "Uid", 1, &n) == 0) {
                        v->euid = (uid_t) n;
                        if (v->euid == v->uid)
                                snprintf(pi->euser, sizeof pi->euser, "%s", pi->user);
                        else
                                user_name(pi, v->euid, pi->euser, sizeof pi->euser);
                        v->euser = pi->euser[0] ? pi->euser : NULL;
                }
        }
        /* Who logged in, behind sudo and su: one read each, made only for a record. */
        uint32_t u;
        pi->auser[0] = '\0';
        if (read_u32(proc_fd, "loginuid", &u)) {
                v->has_auid = true;
                v->auid = (uid_t) u;
                user_name(pi, v->auid, pi->auser, sizeof pi->auser);
                v->auser = pi->auser[0] ? pi->auser : NULL;
        }
        if (read_u32(proc_fd, "sessionid", &u)) {
                v->has_audit_session = true;
                v->audit_session = u;
        }
        tty_name(stat_tty_nr(proc_fd), pi->tty, sizeof pi->tty);
        v->tty = pi->tty[0] ? pi->tty : NULL;
        ssize_t len = readlinkat(proc_fd, "cwd", pi->cwd, sizeof pi->cwd - 1);
        if (len > 0) {
                pi->cwd[len] = '\0';
                v->cwd = pi->cwd;
        }
        if (argv_addr)
                args_from_memory(pi, tid, argv_addr, pointer_size);
        else
                args_from_cmdline(pi, proc_fd);
}
