/* Who a process is, for its audit record: parent, ids and their names, the audit login uid
 * and session, terminal, working directory and argv, read from /proc and from its memory,
 * each bounded. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "audit.h"
#include "util.h"

/* User names looked up recently: a record for every allowed exec (log_allowed) must not
 * parse the passwd database each time. An entry is used for PROCINFO_NAME_TTL seconds. */
#define PROCINFO_NAMES    64
#define PROCINFO_NAME_TTL 60
struct procinfo_name {
        uid_t uid;
        time_t since; /* CLOCK_MONOTONIC seconds; 0: empty */
        char name[64];
};

struct procinfo {
        struct procinfo_name names[PROCINFO_NAMES]; /* kept across procinfo_read() */
        struct audit_process view;                  /* what audit.h takes; points into the buffers below */
        char user[64], euser[64], auser[64];
        char tty[32];
        char cwd[EG_PATH_MAX];
        char args[AUDIT_ARGS_BYTES];
        const char *argv[AUDIT_ARGS_MAX];
};

/* Fill pi for the task tid whose /proc directory is proc_fd. argv comes from the process's
 * memory at argv_addr (pointers of pointer_size bytes: an exec's argument, the process
 * frozen in its notification), or from /proc/TID/cmdline when argv_addr is 0 (a process
 * stopped at its exec). What cannot be read is left unknown: a record is made all the same.
 * pi must be zeroed before its first use. */
void procinfo_read(struct procinfo *pi, pid_t tid, int proc_fd, uint64_t argv_addr, unsigned pointer_size);
