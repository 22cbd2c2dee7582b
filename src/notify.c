#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* The ioctls RECV and SEND are fixed-size: the size of the struct is part of the command
 * number, and the kernel matches the whole number. Our headers' sizes are therefore what
 * the kernel copies for the commands we issue; SECCOMP_GET_NOTIF_SIZES (which the man page
 * asks callers to honour) can only make the buffers larger. Where the seccomp() syscall is
 * not available to ask (valgrind does not know it), the headers' sizes stand. */
int notify_alloc(struct seccomp_notif **ret_req, struct seccomp_notif_resp **ret_resp) {
        struct seccomp_notif_sizes sizes = {};
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0 && errno != ENOSYS)
                return negative_errno();
        size_t req_size = sizeof(struct seccomp_notif), resp_size = sizeof(struct seccomp_notif_resp);
        if (sizes.seccomp_notif > req_size)
                req_size = sizes.seccomp_notif;
        if (sizes.seccomp_notif_resp > resp_size)
                resp_size = sizes.seccomp_notif_resp;
        _cleanup_free_ struct seccomp_notif *req = calloc(1, req_size);
        _cleanup_free_ struct seccomp_notif_resp *resp = calloc(1, resp_size);
        if (!req || !resp)
                return -ENOMEM;
        *ret_req = TAKE_PTR(req);
        *ret_resp = TAKE_PTR(resp);
        return 0;
}

void notify_free(struct seccomp_notif *req, struct seccomp_notif_resp *resp) {
        free(req);
        free(resp);
}

/* Linux 6.6; older headers lack them. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int notify_set_sync_wakeup(int listener) {
        return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0 ? negative_errno()
                                                                                                      : 0;
}

int notify_receive(int listener, struct seccomp_notif *req) {
        memset(req, 0, sizeof *req);
        return ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? negative_errno() : 0;
}

int notify_respond(int listener, struct seccomp_notif_resp *resp) {
        return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 ? negative_errno() : 0;
}

bool notify_id_valid(int listener, uint64_t id) {
        return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int notify_addfd(int listener, uint64_t id, int srcfd, unsigned newfd_flags, bool send) {
        struct seccomp_notif_addfd addfd = {
                .id = id,
                .flags = send ? SECCOMP_ADDFD_FLAG_SEND : 0,
                .srcfd = (uint32_t) srcfd,
                .newfd_flags = newfd_flags,
        };
        int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
        return r < 0 ? negative_errno() : r;
}
