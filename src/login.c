#include "login.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define EXIT_SETUP_FAILED 125

/* Where Debian, Fedora and others put OpenSSH's sftp server. */
static const char *const sftp_servers[] = {
        "/usr/lib/openssh/sftp-server",
        "/usr/libexec/openssh/sftp-server",
        "/usr/libexec/sftp-server",
        "/usr/lib/ssh/sftp-server",
};

/* The shell to start: the user's from passwd, unless that is execguard itself (execguard
 * is the login shell): then a real shell. */
static const char *user_shell(const struct passwd *pw) {
        const char *shell = pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
        char self[PATH_MAX], target[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0 && realpath(shell, target)) {
                self[n] = '\0';
                if (strcmp(self, target) == 0)
                        shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
        }
        return shell;
}

/* "internal-sftp [ARGS]" or ".../sftp-server [ARGS]": the command the sftp subsystem runs,
 * with the host's sftp-server in place of its first word; NULL if it is not sftp. */
static char *sftp_command(const char *command) {
        size_t word = strcspn(command, " \t");
        const char *base = memrchr(command, '/', word);
        base = base ? base + 1 : command;
        size_t base_len = word - (size_t) (base - command);
        bool internal = word == strlen("internal-sftp") && strncmp(command, "internal-sftp", word) == 0;
        bool server = base_len == strlen("sftp-server") && strncmp(base, "sftp-server", base_len) == 0;
        if (!internal && !server)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(sftp_servers); i++) {
                if (access(sftp_servers[i], X_OK) != 0)
                        continue;
                char *out = NULL;
                if (asprintf(&out, "%s%s", sftp_servers[i], command + word) < 0)
                        return NULL;
                return out;
        }
        return NULL;
}

int login_run(const struct run_options *o, const char *command) {
        struct passwd *pw = getpwuid(getuid());
        if (!pw) {
                log_error("uid %u has no passwd entry: no shell to start", (unsigned) getuid());
                return EXIT_SETUP_FAILED;
        }
        const char *shell = user_shell(pw);
        const char *base = strrchr(shell, '/');
        base = base ? base + 1 : shell;
        /* sshd and login(1) set SHELL to the passwd entry's, execguard itself when it is the
         * login shell: inside the session, `$SHELL -c`, tmux, vim's :! and script(1) want the
         * shell that really runs. */
        if (setenv("SHELL", shell, 1) < 0)
                return log_error_errno(-ENOMEM, "Out of memory"), EXIT_SETUP_FAILED;

        /* ForceCommand: what the user asked sshd to run. */
        const char *original = getenv("SSH_ORIGINAL_COMMAND");
        if (!command && original && original[0])
                command = original;

        if (!command) {
                /* A login shell: argv[0] starts with '-', as login(1) and sshd do it. */
                _cleanup_free_ char *dash = NULL;
                if (asprintf(&dash, "-%s", base) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory"), EXIT_SETUP_FAILED;
                char *argv[] = { dash, NULL };
                return run_command(o, shell, argv);
        }
        _cleanup_free_ char *sftp = sftp_command(command);
        if (sftp)
                log_debug("sftp subsystem: running '%s'", sftp);
        char *argv[] = { (char *) base, (char *) "-c", sftp ? sftp : (char *) command, NULL };
        return run_command(o, shell, argv);
}
