/* `execguard run` (and `login`): one supervised command tree.
 *
 * Standalone (-c FILE, or no daemon on this host), three processes, each the parent of
 * the next:
 *   the wrapper    — what the caller started: forwards SIGTERM and SIGHUP to the command,
 *                    ignores SIGINT/SIGQUIT, exits with the command's status. It is a child
 *                    subreaper, so should the supervisor die, the command becomes its child
 *                    and its status is still known; and it records the loss (it opens the
 *                    audit sinks and makes the session id before the fork, for both of them);
 *   the supervisor — holds the listener and serves notifications until the last process
 *                    of the tree has exited, which may be after the command itself. It is
 *                    the command's parent, hence an ancestor of every supervised process
 *                    (ptrace rules such as Yama's allow an ancestor), and moves to its own
 *                    session once the command is forked, so terminal signals and job
 *                    control stops never reach it. It reaps the command and reports its
 *                    wait status to the wrapper;
 *   the command    — stays in the caller's session and process group (job control works
 *                    as without execguard), installs the filter, hands the listener to its
 *                    parent, restores the caller's signal dispositions and mask, and execs
 *                    COMMAND with the caller's fds (every fd of ours is close-on-exec).
 *
 * Through the daemon, two: the wrapper is the command's parent, hands the listener to the
 * daemon and keeps a copy. Should the daemon stop, the session's execs wait in the kernel
 * (nobody answers, nothing fails); the wrapper hands the listener to the next daemon as
 * soon as it listens. When the command ends before the rest of its tree, a small keeper
 * process carries on holding the copy until the tree is gone.
 *
 * Of the caller's fds, the command's side is in command_main(); the others keep none once
 * the command is forked (fds.h): the supervisor, the keeper, and the wrapper except its
 * stderr, so that what the command closes is closed for the caller's readers. */
#pragma once

#include <stdbool.h>

struct run_options {
        const char *config;      /* -c FILE: standalone with it; NULL: the daemon if it is there */
        const char *socket_path; /* the daemon's socket */
        bool socket_given;       /* --socket: the daemon must be there */
};

/* The policy file standalone supervision uses when none is given. */
#define DEFAULT_POLICY "/etc/execguard.ini"

/* Run argv under supervision; file is what to exec (NULL: argv[0], looked up in PATH).
 * Returns the exit status for execguard: the command's, 128+N if signal N killed it, 125
 * if supervision could not be set up (the command is then not run), 2 for a policy file
 * that cannot be used. */
int run_command(const struct run_options *o, const char *file, char **argv);
