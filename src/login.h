/* `execguard login`: what sshd's ForceCommand, or a user's login shell, runs. It starts the
 * user's shell from passwd under supervision: as a login shell; or, when sshd passes a
 * command (SSH_ORIGINAL_COMMAND under ForceCommand, `-c COMMAND` for a login shell), as
 * `SHELL -c COMMAND`. The sftp subsystem ("internal-sftp", which only sshd itself can run,
 * or the path of sftp-server) runs the host's sftp-server, supervised like anything else. */
#pragma once

#include "run.h"

/* Run the session. command: what sshd passed with -c (a login shell), or NULL. Returns
 * the exit status, as run_command(). */
int login_run(const struct run_options *o, const char *command);
