/* execguard: command line parsing and dispatch only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "daemon.h"
#include "learn.h"
#include "log.h"
#include "login.h"
#include "policy.h"
#include "privs.h"
#include "protocol.h"
#include "run.h"
#include "util.h"

#ifndef EXECGUARD_VERSION
#define EXECGUARD_VERSION "0.1.0"
#endif
#define EXIT_USAGE        2
#define EXIT_SETUP_FAILED 125

static void usage(FILE *out) {
        fputs("Usage:\n"
              "  execguard run [-c FILE | --socket PATH] [-v] -- COMMAND [ARG...]\n"
              "                 Run COMMAND with every exec in its process tree checked: by the\n"
              "                 daemon when it runs, else standalone with " DEFAULT_POLICY "\n"
              "  execguard login [-c FILE | --socket PATH] [-v]\n"
              "                 Start the user's shell under supervision (sshd's ForceCommand)\n"
              "  execguard daemon [-c FILE] [--socket PATH] [-v]\n"
              "                 Run the host daemon in the foreground (systemd)\n"
              "  execguard reload [--socket PATH]\n"
              "                 Make the daemon load its policy file again\n"
              "  execguard check [-c FILE] [--user NAME] [--argv WORDS] [--parent PROGRAM]\n"
              "                  [--time 'YYYY-MM-DD HH:MM'] [--op OPERATION] [PATH...]\n"
              "                 Say whether each PATH would be blocked, by which rule and why\n"
              "                 (--op: the file operation of [protect], not an exec); without\n"
              "                 PATH, whether the policy file is valid\n"
              "  execguard learn [-o FILE] [--diff POLICY] [RECORDS...]\n"
              "                 Write an allowlist of what ran, from the JSON audit records of\n"
              "                 sessions run with mode = audit and log_allowed = yes; with\n"
              "                 --diff, say what POLICY would have refused of it\n"
              "  execguard --help | --version\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE   policy file (default " DEFAULT_POLICY ")\n"
              "      --socket PATH   the daemon's socket (default " DAEMON_SOCKET_DEFAULT ")\n"
              "  -v, --verbose       log debug messages\n"
              "\n"
              "See execguard(8) and execguard.ini(5).\n",
              out);
}

static int usage_error(const char *fmt, const char *arg) {
        fputs("execguard: ", stderr);
        fprintf(stderr, fmt, arg);
        fputs("\n\n", stderr);
        usage(stderr);
        return EXIT_USAGE;
}

struct options {
        struct check_options check; /* check's own */
        bool check_given;
        struct learn_options learn; /* learn's own */
        bool learn_given;
        const char *config;
        const char *socket_path;
        bool socket_given;
        bool verbose;
};

/* Parse the options of a subcommand; returns the index of the first operand, or -1. */
static int parse_options(int argc, char **argv, struct options *o) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 'S' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "user", required_argument, NULL, 'U' },
                { "argv", required_argument, NULL, 'A' },
                { "parent", required_argument, NULL, 'P' },
                { "time", required_argument, NULL, 'T' },
                { "output", required_argument, NULL, 'o' },
                { "diff", required_argument, NULL, 'D' },
                { "op", required_argument, NULL, 'O' },
                {},
        };
        int c;
        opterr = 0;
        optind = 1;
        /* '+': stop at the first operand, so COMMAND's own options are left alone. */
        while ((c = getopt_long(argc, argv, "+:c:vho:", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        o->config = optarg;
                        break;
                case 'S':
                        o->socket_path = optarg;
                        o->socket_given = true;
                        break;
                case 'v':
                        o->verbose = true;
                        break;
                case 'U':
                        o->check.user = optarg;
                        o->check_given = true;
                        break;
                case 'A':
                        o->check.argv = optarg;
                        o->check_given = true;
                        break;
                case 'P':
                        o->check.parent = optarg;
                        o->check_given = true;
                        break;
                case 'T':
                        o->check.time = optarg;
                        o->check_given = true;
                        break;
                case 'O':
                        o->check.op = optarg;
                        o->check_given = true;
                        break;
                case 'o':
                        o->learn.output = optarg;
                        o->learn_given = true;
                        break;
                case 'D':
                        o->learn.diff = optarg;
                        o->learn_given = true;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                case ':':
                        usage_error("option '%s' needs an argument", argv[optind - 1]);
                        return -1;
                default:
                        usage_error("unknown option '%s'", argv[optind - 1]);
                        return -1;
                }
        }
        return optind;
}

static struct policy *load_policy_or_die(const char *path) {
        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policy_load(path, &p, &err);
        if (r < 0) {
                char msg[512];
                policy_error_format(path, r, &err, msg, sizeof msg);
                fprintf(stderr, "execguard: %s\n", msg);
                exit(EXIT_USAGE);
        }
        for (size_t i = 0; i < policy_n_warnings(p); i++) {
                char msg[512];
                policy_warning_format(p, i, msg, sizeof msg);
                log_warning("%s", msg);
        }
        return p;
}

static struct run_options run_options_of(const struct options *o) {
        return (struct run_options){
                .config = o->config,
                .socket_path = o->socket_path,
                .socket_given = o->socket_given,
        };
}

int main(int argc, char **argv) {
        /* Run as a login shell ("-execguard", or "execguard -c COMMAND" from sshd): that is
         * `execguard login`. execguard's own options never come before a command. */
        bool login_shell = argv[0] && argv[0][0] == '-';
        if (login_shell || (argc == 3 && strcmp(argv[1], "-c") == 0)) {
                int r = privs_startup(true);
                if (r < 0)
                        return log_error_errno(r, "Failed to drop capabilities: %m"), EXIT_SETUP_FAILED;
                struct run_options ro = { .socket_path = DAEMON_SOCKET_DEFAULT };
                return login_run(&ro, login_shell ? NULL : argv[2]);
        }
        if (argc < 2) {
                usage(stderr);
                return EXIT_USAGE;
        }
        const char *verb = argv[1];
        /* File capabilities (make install) are for the filter of run and login only. */
        bool needs_caps = strcmp(verb, "run") == 0 || strcmp(verb, "login") == 0;
        int r = privs_startup(needs_caps);
        if (r < 0)
                return log_error_errno(r, "Failed to drop capabilities: %m"), EXIT_SETUP_FAILED;
        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(verb, "--version") == 0) {
                printf("execguard %s\n", EXECGUARD_VERSION);
                return 0;
        }

        struct options o = { .socket_path = DAEMON_SOCKET_DEFAULT };
        int first = parse_options(argc - 1, argv + 1, &o);
        if (first < 0)
                return EXIT_USAGE;
        char **operands = argv + 1 + first;
        int n_operands = argc - 1 - first;
        log_set_verbose(o.verbose);
        if (o.check_given && strcmp(verb, "check") != 0)
                return usage_error("%s: --user, --argv, --parent, --time and --op are check's options", verb);
        if (o.learn_given && strcmp(verb, "learn") != 0)
                return usage_error("%s: -o and --diff are learn's options", verb);
        if (o.config && o.socket_given && strcmp(verb, "daemon") != 0)
                return usage_error("%s: -c and --socket exclude each other (-c: standalone)", verb);

        if (strcmp(verb, "run") == 0) {
                if (n_operands == 0)
                        return usage_error("%s: missing COMMAND", "run");
                struct run_options ro = run_options_of(&o);
                return run_command(&ro, NULL, operands);
        }
        if (strcmp(verb, "login") == 0) {
                if (n_operands != 0)
                        return usage_error("%s: takes no operands (the command comes from SSH_ORIGINAL_COMMAND)",
                                           "login");
                struct run_options ro = run_options_of(&o);
                return login_run(&ro, NULL);
        }
        if (strcmp(verb, "daemon") == 0) {
                if (n_operands != 0)
                        return usage_error("%s: takes no operands", "daemon");
                struct daemon_options d = { .config = o.config ? o.config : DEFAULT_POLICY,
                                            .socket_path = o.socket_path };
                return daemon_run(&d);
        }
        if (strcmp(verb, "reload") == 0) {
                if (n_operands != 0 || o.config)
                        return usage_error("%s: takes only --socket", "reload");
                char msg[512];
                r = protocol_reload(o.socket_path, msg, sizeof msg);
                fprintf(r < 0 ? stderr : stdout, "execguard: %s\n", msg);
                return r < 0 ? 1 : 0;
        }
        if (strcmp(verb, "check") == 0) {
                const char *config = o.config ? o.config : DEFAULT_POLICY;
                _cleanup_(policy_freep) struct policy *p = load_policy_or_die(config);
                if (n_operands == 0) {
                        /* No PATH: is the file a valid policy? (An invalid one exited above.) */
                        printf("%s: valid policy, %zu rule%s\n", config, policy_n_rules(p),
                               policy_n_rules(p) == 1 ? "" : "s");
                        return 0;
                }
                return check_paths(p, &o.check, operands, n_operands, stdout);
        }
        if (strcmp(verb, "learn") == 0) {
                if (o.config || o.socket_given)
                        return usage_error("%s: takes no -c or --socket (--diff names the policy to compare)",
                                           "learn");
                if (o.learn.output && o.learn.diff)
                        return usage_error("%s: -o and --diff exclude each other (--diff writes no policy)",
                                           "learn");
                return learn_run(&o.learn, operands, n_operands);
        }
        return usage_error("unknown command '%s'", verb);
}
