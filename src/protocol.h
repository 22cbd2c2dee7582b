/* The daemon's socket protocol, and passing fds between processes.
 *
 * A unix SOCK_SEQPACKET socket: each request and each reply is one message of fixed size.
 * A client (the wrapper of `execguard run` and `login`, or `execguard reload`) sends a
 * request; the daemon answers each with one reply. Who the client is comes from
 * SO_PEERCRED, never from what it says.
 *
 *   HELLO    → a new session id and the settings the command must be started with
 *              (no_new_privs, capabilities);
 *   SESSION  + the listener fd (SCM_RIGHTS) and the session id: supervise it. Sent after
 *              HELLO, and again, with the same id, to a restarted daemon;
 *   RELOAD   → load the policy file again (root only); the reply says how it went. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervise.h"

#define PROTOCOL_MAGIC 0x47584545u /* "EEXG" */
/* Version 2 adds the session's source to a request. A request without one is sent as a
 * version 1 request, as before: an older daemon takes it, and a daemon takes both. */
#define PROTOCOL_VERSION    2u
#define PROTOCOL_VERSION_V1 1u

#define DAEMON_SOCKET_DEFAULT "/run/execguard/execguard.sock"

enum request_kind {
        REQUEST_HELLO = 1,
        REQUEST_SESSION = 2,
        REQUEST_RELOAD = 3,
};

struct request {
        uint32_t magic;
        uint32_t version;
        uint32_t kind;
        char session[SESSION_ID_LEN + 1];
        /* Version 2 only (a version 1 request ends here, at REQUEST_V1_SIZE): SESSION's
         * source, as SSH_CONNECTION said at its start ("": none). The daemon checks it again
         * (session_source_set()): the client is the user's. */
        char source_ip[SESSION_SOURCE_IP_MAX];
        uint16_t source_port;
};
/* The size of a version 1 request, as it was sent: its struct had nothing after session. */
#define REQUEST_V1_SIZE ((offsetof(struct request, session) + SESSION_ID_LEN + 1 + 3) & ~(size_t) 3)

struct reply {
        uint32_t magic;
        int32_t error; /* 0, or a negative errno */
        char session[SESSION_ID_LEN + 1];
        uint8_t no_new_privs;       /* the command must set no_new_privs */
        uint8_t limit_capabilities; /* keep only capabilities in the bounding set */
        uint64_t capabilities;
        /* The file operations the command's filter traps besides exec (policy_protected_ops()).
         * Taken from the message's room, so the reply keeps its size: an older daemon's
         * successful HELLO left it zero, which is right for a daemon with no [protect]. */
        uint32_t protected_ops;
        char message[508]; /* for the user: why it failed, or what was done */
};

/* Send one message of len bytes, with fd attached unless it is -1. Returns 0 or -errno. */
int protocol_send(int sock, const void *msg, size_t len, int fd);

/* Receive one message of exactly len bytes and at most one fd (-1 when none came; extra
 * fds are closed). Returns 0, -EBADMSG for a message of another size or with more than
 * one fd, -EMFILE when the fds sent could not be taken (no fd left), -ECONNRESET at end
 * of stream, or -errno. The fd is O_CLOEXEC and the caller's. */
int protocol_receive(int sock, void *msg, size_t len, int flags, int *ret_fd);

/* Receive one request: of version 1 (its size; the source is then cleared) or 2, with at
 * most one fd, as protocol_receive(). Returns 0, -EPROTO for a wrong magic or a version
 * that does not go with the size, or protocol_receive()'s errors. */
int protocol_receive_request(int sock, struct request *req, int flags, int *ret_fd);

/* Connect to the daemon at path (SOCK_SEQPACKET, O_CLOEXEC). Returns the fd or -errno. */
int protocol_connect(const char *path);

/* Send a request on conn (with fd attached unless -1) and receive the reply: also when the
 * daemon hung up before the request could be sent, if it left a reply (a refusal). origin
 * (may be NULL) gives the session's source: with none, the request is of version 1. Returns
 * 0 (the daemon's own verdict is in rep->error) or -errno. */
int protocol_request(int conn, uint32_t kind, const char *session, const struct session *origin, int fd,
                     struct reply *rep);

/* Ask the daemon at socket_path to reload its policy. Returns the daemon's answer (0 or
 * -errno) with its message, or -errno if it could not be asked; msg says why either way. */
int protocol_reload(const char *socket_path, char *msg, size_t size);

/* Whether fd is a seccomp user-notification listener. */
bool protocol_fd_is_listener(int fd);
