/* /proc/PID/status, the one place the kernel tells a process's ids, tracer and PID
 * namespaces: read once into a buffer, then looked up by key. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Enough for every line and about a thousand supplementary groups; a longer status is
 * refused (-E2BIG) rather than read in part. */
#define PROCSTATUS_BUF (16 * 1024)

/* Read the status of the task whose /proc directory is proc_fd into buf (NUL-terminated).
 * Returns its length, -E2BIG if it does not fit in size - 1 bytes, or -errno. */
ssize_t procstatus_read(int proc_fd, char *buf, size_t size);

/* The value of the line "key:" of status (just past the colon, up to the end of the
 * line), or NULL if there is no such line. */
const char *procstatus_field(const char *status, const char *key);

/* The n-th number (from 0; PROCSTATUS_LAST: the last) on the line "key:", in *ret.
 * Returns 0, or -EIO if the line or the number is missing. */
#define PROCSTATUS_LAST (~0u)
int procstatus_number(const char *status, const char *key, unsigned n, unsigned long *ret);
