/* Reading a supervised process's memory through /proc/PID/mem. The caller opens the mem fd
 * relative to the /proc/PID it validated with SECCOMP_IOCTL_NOTIF_ID_VALID, so a recycled
 * PID is never read. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Read the NUL-terminated string at addr into buf (size bytes, terminator included), with
 * one read. Returns its length, -EFAULT if the memory cannot be read, -ENAMETOOLONG if no
 * terminator lies within size bytes. */
int procmem_read_string(int mem_fd, uint64_t addr, char *buf, size_t size);
