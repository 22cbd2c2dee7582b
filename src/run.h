/* `execguard run`: one supervised command tree, no daemon.
 *
 * Three processes, each the parent of the next:
 *   the wrapper    — what the caller started: forwards SIGTERM and SIGHUP to the command,
 *                    ignores SIGINT/SIGQUIT, exits with the command's status. It is a child
 *                    subreaper, so should the supervisor die, the command becomes its child
 *                    and its status is still known;
 *   the supervisor — holds the listener and serves notifications until the last process
 *                    of the tree has exited, which may be after the command itself. It is
 *                    the command's parent, hence an ancestor of every supervised process
 *                    (ptrace rules such as Yama's allow an ancestor), and moves to its own
 *                    session once the command is forked, so terminal signals and job
 *                    control stops never reach it. It reaps the command and reports its
 *                    wait status to the wrapper;
 *   the command    — stays in the caller's session and process group (job control works
 *                    as without execguard), installs the filter, hands the listener to the
 *                    supervisor, keeps no fd but stdio, and execs COMMAND. */
#pragma once

#include "policy.h"

/* Run argv (argv[0] looked up in PATH) under supervision. Returns the exit status for
 * execguard: the command's, 128+N if signal N killed it, 125 if supervision could not be
 * set up (the command is then not run). */
int run_supervised(const struct policy *policy, char **argv);
