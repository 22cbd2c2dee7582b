/* `execguard run`: one supervised command tree, no daemon.
 *
 * Three processes:
 *   the wrapper    — what the caller started: waits for the command, forwards SIGTERM and
 *                    SIGHUP, ignores SIGINT/SIGQUIT, exits with the command's status;
 *   the supervisor — a child in its own session (no terminal signals reach it) that holds
 *                    the listener and serves notifications until the last process of the
 *                    tree has exited, which may be after the command itself;
 *   the command    — installs the filter, hands the listener to the supervisor, keeps no
 *                    fd but stdio, and execs COMMAND. */
#pragma once

#include "policy.h"

/* Run argv (argv[0] looked up in PATH) under supervision. Returns the exit status for
 * execguard: the command's, 128+N if signal N killed it, 125 if supervision could not be
 * set up (the command is then not run). */
int run_supervised(const struct policy *policy, char **argv);
