/* execguard: command line parsing and dispatch only. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "policy.h"
#include "run.h"
#include "util.h"

#ifndef EXECGUARD_VERSION
#define EXECGUARD_VERSION "0.1.0"
#endif
#define DEFAULT_POLICY "/etc/execguard.ini"
#define EXIT_USAGE     2

static void usage(FILE *out) {
        fputs("Usage:\n"
              "  execguard run [-c FILE] [-v] -- COMMAND [ARG...]\n"
              "                 Run COMMAND with every exec in its process tree checked\n"
              "  execguard check [-c FILE] PATH...\n"
              "                 Say whether each PATH would be blocked, and by which rule\n"
              "  execguard --help | --version\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE   policy file (default " DEFAULT_POLICY ")\n"
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
        const char *config;
        bool verbose;
};

/* Parse the options of a subcommand; returns the index of the first operand, or -1. */
static int parse_options(int argc, char **argv, struct options *o) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        opterr = 0;
        optind = 1;
        /* '+': stop at the first operand, so COMMAND's own options are left alone. */
        while ((c = getopt_long(argc, argv, "+:c:vh", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        o->config = optarg;
                        break;
                case 'v':
                        o->verbose = true;
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
                if (err.line)
                        fprintf(stderr, "execguard: %s:%u: %s\n", path, err.line, err.message);
                else
                        fprintf(stderr, "execguard: %s: %s\n", path, err.message[0] ? err.message : strerror(-r));
                exit(EXIT_USAGE);
        }
        return p;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr);
                return EXIT_USAGE;
        }
        const char *verb = argv[1];
        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(verb, "--version") == 0) {
                printf("execguard %s\n", EXECGUARD_VERSION);
                return 0;
        }

        struct options o = { .config = DEFAULT_POLICY };
        int first = parse_options(argc - 1, argv + 1, &o);
        if (first < 0)
                return EXIT_USAGE;
        char **operands = argv + 1 + first;
        int n_operands = argc - 1 - first;
        log_set_verbose(o.verbose);

        if (strcmp(verb, "run") == 0) {
                if (n_operands == 0)
                        return usage_error("%s: missing COMMAND", "run");
                _cleanup_(policy_freep) struct policy *p = load_policy_or_die(o.config);
                return run_supervised(p, operands);
        }
        if (strcmp(verb, "check") == 0) {
                if (n_operands == 0)
                        return usage_error("%s: missing PATH", "check");
                _cleanup_(policy_freep) struct policy *p = load_policy_or_die(o.config);
                return check_paths(p, operands, n_operands, stdout);
        }
        return usage_error("unknown command '%s'", verb);
}
