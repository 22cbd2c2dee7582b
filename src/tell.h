/* Telling a process, on its own stderr, why its exec failed.
 *
 * The supervisor is often root, and it writes for processes that are not. It never opens
 * the process's stderr itself: a reopen of /proc/PID/fd/2 is made with the supervisor's
 * powers, so that an O_PATH fd to a disk, a root-only FIFO or another user's terminal would
 * become a writable one. It writes only through the process's own open file description
 * (pidfd_getfd()), only when that description was opened for writing, never to a block
 * device or through a message-oriented socket (whose receiver would see the supervisor's
 * credentials on the message), and never so that it could block: the process is frozen in
 * its notification, and under the daemon a supervisor stalled on one session's full pipe or
 * stopped terminal would stall every session. */
#pragma once

#include <stddef.h>

struct teller;

/* For the calling thread only (a timer that interrupts a write that would block is aimed at
 * it, and the signal it sends is blocked in it but for the write). Returns 0 or -errno. */
int teller_new(struct teller **ret);
void teller_free(struct teller *t);

/* Write len bytes of msg to fd 2 of the task pidfd refers to, whose identity the caller has
 * confirmed. Returns the bytes written, or -errno: -EBADF (no fd 2, or not open for
 * writing), -EPERM (a block device, a message socket, anything but a file, a pipe, a
 * character device or a stream socket), -EAGAIN or -EINTR (it would have blocked). */
int teller_write(struct teller *t, int pidfd, const char *msg, size_t len);
