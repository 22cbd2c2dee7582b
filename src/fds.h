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
