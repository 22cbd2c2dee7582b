/* The listener's side of seccomp user notification (seccomp_unotify(2)): buffers, receive,
 * answer, "is this notification still pending". The ioctls themselves, as the kernel's
 * samples/seccomp/user-trap.c does them: libseccomp's wrappers refuse to work wherever its
 * probe of the seccomp() syscall fails (a syscall emulator such as valgrind), although the
 * ioctls work there. */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

/* Allocate a request and a response buffer, each zeroed and at least as large as the
 * kernel says (SECCOMP_GET_NOTIF_SIZES) and as our own headers say. Free with notify_free().
 * Returns 0 or -errno. */
int notify_alloc(struct seccomp_notif **ret_req, struct seccomp_notif_resp **ret_resp);

/* Free what notify_alloc() gave; either may be NULL. */
void notify_free(struct seccomp_notif *req, struct seccomp_notif_resp *resp);

/* The benchmark's floor (bench/floor.c) takes this; execguard does not (see run.c).
 * Ask the kernel to hand each notification and its answer over as one synchronous switch
 * (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux >= 6.6): the listener's waiter is woken on
 * the notifying task's CPU, and the task on the answering one, instead of waking an idle
 * CPU each way. A flag of the filter, so one call serves every holder of the listener.
 * Returns 0, -EINVAL on a kernel without it (nothing changes), or -errno. */
int notify_set_sync_wakeup(int listener);

/* Receive the next notification into req, which is zeroed first (the kernel wants it so).
 * Returns 0 or -errno (-ENOENT: the task went away before we read it). */
int notify_receive(int listener, struct seccomp_notif *req);

/* Send the answer. Returns 0 or -errno (-ENOENT: the task is gone or was interrupted). */
int notify_respond(int listener, struct seccomp_notif_resp *resp);

/* Whether notification id is still pending: the task that made it is still waiting, so its
 * PID has not been recycled. */
bool notify_id_valid(int listener, uint64_t id);

/* Put a copy of our srcfd into the process of notification id, at its lowest free number,
 * with newfd_flags (O_CLOEXEC or 0); with send, that also answers the notification, with the
 * number as the syscall's result. Returns the number or -errno. */
int notify_addfd(int listener, uint64_t id, int srcfd, unsigned newfd_flags, bool send);
