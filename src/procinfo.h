/* Who a process is, for its audit record: parent, ids and their names, terminal, working
 * directory and argv, read from /proc and from its memory, each bounded. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "audit.h"
#include "util.h"

struct procinfo {
        struct audit_process view; /* what audit.h takes; points into the buffers below */
        char user[64], euser[64];
        char tty[32];
        char cwd[EG_PATH_MAX];
        char args[AUDIT_ARGS_BYTES];
        const char *argv[AUDIT_ARGS_MAX];
};

/* Fill pi for the task tid whose /proc directory is proc_fd. argv comes from the process's
 * memory at argv_addr (pointers of pointer_size bytes: an exec's argument, the process
 * frozen in its notification), or from /proc/TID/cmdline when argv_addr is 0 (a process
 * stopped at its exec). What cannot be read is left unknown: a record is made all the same. */
void procinfo_read(struct procinfo *pi, pid_t tid, int proc_fd, uint64_t argv_addr, unsigned pointer_size);
