/* `execguard daemon`: the host daemon. It owns the policy (/etc/execguard.ini), supervises
 * every session a wrapper hands it over its socket, keeps the audit trail, reloads the
 * policy on SIGHUP, on `execguard reload` and when the file changes, and speaks systemd's
 * notify protocol. One process, one thread: every fd it waits on is in one epoll set. */
#pragma once

struct daemon_options {
        const char *config;      /* policy file */
        const char *socket_path; /* where to listen */
};

/* Run the daemon in the foreground until SIGTERM or SIGINT. Returns the exit status:
 * 0 after a clean stop, 1 if it could not start or failed. */
int daemon_run(const struct daemon_options *o);
