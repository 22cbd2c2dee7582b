#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* As many fds as a peer may attach to one message: more are closed unread (SCM_MAX_FD). */
#define FDS_MAX 253

int protocol_send(int sock, const void *msg, size_t len, int fd) {
        struct iovec iov = { .iov_base = (void *) msg, .iov_len = len };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}

/* Receive one message of min to len bytes (its size in *ret_n). */
static int receive_message(int sock, void *msg, size_t min, size_t len, int flags, int *ret_fd, size_t *ret_n) {
        struct iovec iov = { .iov_base = msg, .iov_len = len };
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
        } control;
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        ssize_t n;
        /* MSG_CMSG_CLOEXEC: an fd received must never leak into anything we start.
         * MSG_TRUNC: the real size of a longer message, which is then refused. */
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC | flags);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();

        int fd = -1, n_fds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count; i++) {
                        int got;
                        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
                        if (n_fds++ == 0)
                                fd = got;
                        else
                                safe_close(got);
                }
        }
        if (n == 0 && n_fds == 0)
                return -ECONNRESET;
        /* The buffer holds as many fds as a message can carry: a truncation means the
         * kernel could not install them, for want of fds. */
        if (mh.msg_flags & MSG_CTRUNC) {
                safe_close(fd);
                return -EMFILE;
        }
        if ((size_t) n < min || (size_t) n > len || n_fds > 1 || (mh.msg_flags & MSG_TRUNC)) {
                safe_close(fd);
                return -EBADMSG;
        }
        *ret_fd = fd;
        *ret_n = (size_t) n;
        return 0;
}

int protocol_receive(int sock, void *msg, size_t len, int flags, int *ret_fd) {
        size_t n;
        return receive_message(sock, msg, len, len, flags, ret_fd, &n);
}

int protocol_receive_request(int sock, struct request *req, int flags, int *ret_fd) {
        size_t n;
        int fd = -1;
        int r = receive_message(sock, req, REQUEST_V1_SIZE, sizeof *req, flags, &fd, &n);
        if (r < 0)
                return r;
        if (n != REQUEST_V1_SIZE && n != sizeof *req) {
                safe_close(fd);
                return -EBADMSG;
        }
        if (req->magic != PROTOCOL_MAGIC ||
            req->version != (n == REQUEST_V1_SIZE ? PROTOCOL_VERSION_V1 : PROTOCOL_VERSION)) {
                safe_close(fd);
                return -EPROTO;
        }
        if (n == REQUEST_V1_SIZE) {
                memset(req->source_ip, 0, sizeof req->source_ip);
                req->source_port = 0;
        }
        req->session[SESSION_ID_LEN] = '\0';
        req->source_ip[sizeof req->source_ip - 1] = '\0';
        *ret_fd = fd;
        return 0;
}

int protocol_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        int r;
        do
                r = connect(fd, (struct sockaddr *) &sa, sizeof sa);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

bool protocol_fd_is_listener(int fd) {
        char link[64], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
                return false;
        target[n] = '\0';
        return strcmp(target, "anon_inode:seccomp notify") == 0;
}

int protocol_request(int conn, uint32_t kind, const char *session, const struct session *origin, int fd,
                     struct reply *rep) {
        struct request req = { .magic = PROTOCOL_MAGIC, .version = PROTOCOL_VERSION_V1, .kind = kind };
        size_t len = REQUEST_V1_SIZE;
        if (session)
                snprintf(req.session, sizeof req.session, "%s", session);
        if (origin && origin->source_ip[0]) {
                req.version = PROTOCOL_VERSION;
                len = sizeof req;
                snprintf(req.source_ip, sizeof req.source_ip, "%s", origin->source_ip);
                req.source_port = origin->source_port;
        }
        int r = protocol_send(conn, &req, len, fd);
        /* A daemon that refuses a connection answers before it has read the request, and
         * hangs up: its reason may be waiting for us even when we could not send. */
        if (r < 0 && r != -EPIPE)
                return r;
        int sent = r, got = -1;
        r = protocol_receive(conn, rep, sizeof *rep, sent < 0 ? MSG_DONTWAIT : 0, &got);
        safe_close(got);
        if (r < 0)
                return sent < 0 ? sent : r;
        rep->message[sizeof rep->message - 1] = '\0';
        rep->session[SESSION_ID_LEN] = '\0';
        return rep->magic == PROTOCOL_MAGIC ? 0 : -EPROTO;
}

int protocol_reload(const char *socket_path, char *msg, size_t size) {
        _cleanup_close_ int conn = protocol_connect(socket_path);
        if (conn < 0) {
                snprintf(msg, size, "cannot reach the daemon at %s: %s", socket_path, strerror(-conn));
                return conn;
        }
        struct reply rep;
        int r = protocol_request(conn, REQUEST_RELOAD, NULL, NULL, -1, &rep);
        if (r < 0) {
                snprintf(msg, size, "no answer from the daemon at %s: %s", socket_path, strerror(-r));
                return r;
        }
        snprintf(msg, size, "%s", rep.message);
        return rep.error;
}
