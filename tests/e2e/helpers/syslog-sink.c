/* syslog-sink SOCKET OUTFILE: receive syslog datagrams on a unix socket and append each,
 * one per line, to OUTFILE until killed. Stands in for the host's syslog in tests. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc != 3)
                return 2;
        int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
        unlink(argv[1]);
        if (s < 0 || bind(s, (struct sockaddr *) &sa, sizeof sa) < 0) {
                perror("syslog-sink: bind");
                return 1;
        }
        int out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (out < 0)
                return 1;
        char buf[8192];
        for (;;) {
                ssize_t n = recv(s, buf, sizeof buf - 1, 0);
                if (n <= 0)
                        continue;
                buf[n++] = '\n';
                if (write(out, buf, (size_t) n) < 0)
                        return 1;
        }
}
