/* The fds a process of execguard inherited from whoever started it.
 *
 * Everything execguard opens is born close-on-exec (O_CLOEXEC, SOCK_CLOEXEC,
 * MSG_CMSG_CLOEXEC, F_DUPFD_CLOEXEC; glibc's syslog socket and libsystemd's journal socket
 * too). An exec closes every fd that has the flag; so at any moment, an fd from 3 up without
 * FD_CLOEXEC is one that came through the exec of execguard: the caller's. That is how the
 * processes that outlive or run beside the command (the supervisor, the wrapper, the
 * keeper, the daemon) find and close what they hold of the caller's, without a list of
 * their own fds to keep up to date. */
#pragma once

/* Close every fd from 3 up that is not close-on-exec. Returns the number closed. */
int fds_close_inherited(void);

/* Put a close-on-exec /dev/null on each of stdin, stdout and stderr the caller left
 * closed. Nothing execguard opens then lands on 0, 1 or 2, where whatever puts
 * /dev/null on the stdio of a process of execguard would replace it; and the command,
 * whose exec closes these, finds them closed as natively. Returns 0 or -errno. */
int fds_fill_stdio(void);
