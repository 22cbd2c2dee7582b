/* journal-sink SOCKET OUTFILE: receive journald native-protocol datagrams on a unix socket
 * and append each entry to OUTFILE as one line, its fields (NAME=value) joined by tabs, a
 * newline or tab in a value written as \n or \t, until killed. Stands in for journald in
 * tests, bound at /run/systemd/journal/socket in a private mount namespace.
 *
 * The protocol (systemd's JOURNAL_NATIVE_PROTOCOL): fields "NAME=value\n", or, for values
 * with a newline, "NAME\n" + 64-bit little-endian length + value + "\n". An entry too big
 * for a datagram comes as an empty datagram carrying a memfd (SCM_RIGHTS) that holds it. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ENTRY_MAX (64 * 1024 * 1024) /* journald's DATA_SIZE_MAX */

struct line {
        char *buf;
        size_t len, size;
};

static int line_add(struct line *l, const char *p, size_t n) {
        if (l->len + n > l->size) {
                size_t size = (l->len + n) * 2;
                char *buf = realloc(l->buf, size);
                if (!buf)
                        return -ENOMEM;
                l->buf = buf;
                l->size = size;
        }
        memcpy(l->buf + l->len, p, n);
        l->len += n;
        return 0;
}

/* A field's name or value, newlines and tabs escaped. */
static int line_add_escaped(struct line *l, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = p[i] == '\n'   ? line_add(l, "\\n", 2)
                        : p[i] == '\t' ? line_add(l, "\\t", 2)
                                       : line_add(l, p + i, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Parse one entry into l (its fields, tab-separated). -EBADMSG when it is malformed. */
static int parse_entry(const char *p, size_t n, struct line *l) {
        size_t i = 0;
        bool first = true;
        while (i < n) {
                /* A field's name ends at '=' (text form) or '\n' (binary form). */
                size_t name = i;
                while (i < n && p[i] != '=' && p[i] != '\n')
                        i++;
                if (i == n || i == name) /* bytes that are no field, or a field with no name */
                        return -EBADMSG;
                size_t name_len = i - name;
                const char *value;
                size_t value_len;
                if (p[i] == '=') {
                        value = p + i + 1;
                        const char *nl = memchr(value, '\n', n - i - 1);
                        value_len = nl ? (size_t) (nl - value) : n - i - 1;
                        i += 1 + value_len + (nl ? 1 : 0);
                } else {
                        uint64_t len = 0;
                        i++;
                        if (n - i < 8)
                                return -EBADMSG;
                        for (int b = 7; b >= 0; b--)
                                len = len << 8 | (unsigned char) p[i + (size_t) b];
                        i += 8;
                        if (len > n - i || n - i - len < 1 || p[i + len] != '\n')
                                return -EBADMSG;
                        value = p + i;
                        value_len = (size_t) len;
                        i += value_len + 1;
                }
                int r = first ? 0 : line_add(l, "\t", 1);
                if (r >= 0)
                        r = line_add_escaped(l, p + name, name_len);
                if (r >= 0)
                        r = line_add(l, "=", 1);
                if (r >= 0)
                        r = line_add_escaped(l, value, value_len);
                if (r < 0)
                        return r;
                first = false;
        }
        return 0;
}

/* An entry passed as a file descriptor: read it whole. */
static int read_fd(int fd, char **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > ENTRY_MAX)
                return -EBADMSG;
        char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t got = 0;
        while (got < (size_t) st.st_size) {
                ssize_t n = pread(fd, buf + got, (size_t) st.st_size - got, (off_t) got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(buf);
                        return n < 0 ? -errno : -EBADMSG;
                }
                got += (size_t) n;
        }
        *ret = buf;
        *ret_len = got;
        return 0;
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: journal-sink SOCKET OUTFILE\n");
                return 2;
        }
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
        unlink(argv[1]);
        if (s < 0 || bind(s, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(argv[1], 0666) < 0) {
                perror("journal-sink: bind");
                return 1;
        }
        /* As journald does: a big entry should arrive as one datagram, not be refused. */
        int rcvbuf = 8 * 1024 * 1024;
        if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
                (void) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out < 0) {
                perror("journal-sink: open");
                return 1;
        }

        struct line l = {};
        for (;;) {
                /* The datagram's size first, then the datagram and what it carries. */
                char peek;
                struct iovec piov = { .iov_base = &peek, .iov_len = 1 };
                struct msghdr pmsg = { .msg_iov = &piov, .msg_iovlen = 1 };
                ssize_t size = recvmsg(s, &pmsg, MSG_PEEK | MSG_TRUNC);
                if (size < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("journal-sink: recvmsg");
                        return 1;
                }
                char *buf = malloc((size_t) size + 1);
                if (!buf)
                        return 1;
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int) * 8)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = (size_t) size + 1 };
                struct msghdr msg = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
                if (n < 0) {
                        free(buf);
                        continue;
                }
                int fds[8], n_fds = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n_fds < 8; k++)
                                        memcpy(&fds[n_fds++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));

                char *data = buf;
                size_t len = (size_t) n;
                int r = 0;
                if (n == 0 && n_fds == 1) {
                        data = NULL;
                        r = read_fd(fds[0], &data, &len);
                } else if (n_fds > 0)
                        r = -EBADMSG;
                for (int k = 0; k < n_fds; k++)
                        close(fds[k]);

                l.len = 0;
                if (r >= 0)
                        r = parse_entry(data, len, &l);
                if (r >= 0 && l.len > 0)
                        r = line_add(&l, "\n", 1);
                if (r < 0)
                        fprintf(stderr, "journal-sink: dropped a datagram of %zd bytes: %s\n", n, strerror(-r));
                /* One write per entry: the line is in the file as soon as it came. */
                else if (l.len > 0 && write(out, l.buf, l.len) < 0) {
                        perror("journal-sink: write");
                        return 1;
                }
                if (data != buf)
                        free(data);
                free(buf);
        }
}
