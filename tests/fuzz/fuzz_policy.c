/* policy_parse() fed with arbitrary policy files, read from memory (fmemopen) the way
 * policy_load() hands it the file it opened.
 *
 * Besides the sanitizers: a failed parse names a line of the input and a message; a policy
 * that parses must dump, must be re-identified into a policy that dumps the same, and must
 * decide by its own rules: when no section has conditions, the canonical path of each
 * [block] path rule, a file in each [block] dir, the digest of each [block] hash rule, and
 * the program of each [block] command (with plain words for its patterns, and without any
 * arguments) are blocked by some [block] rule (a block beats an allow), and what a [block]
 * allow names is decided by some rule. Every decision, for any subject, time and parent, is
 * a rule of the policy, never an exemption, and without the arguments never a command
 * allow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "policy.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SOURCE "fuzz.ini"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        /* Rules name files on this host, which the parse stats and hashes. */
        fuzz_contain();
        return 0;
}

static char *dump(const struct policy *p) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                abort();
        policy_dump(p, f);
        if (fclose(f) != 0)
                abort();
        return text;
}

static bool is_rule_of(const struct policy *p, const struct policy_rule *rule) {
        for (size_t i = 0; i < policy_n_rules(p); i++)
                if (policy_rule_at(p, i) == rule)
                        return true;
        return false;
}

/* A decision must be one of the policy's rules, never an exemption (they neither block nor
 * allow), and without the arguments never a command allow. */
static const struct policy_rule *checked(const struct policy *p, const struct policy_rule *d,
                                         const struct policy_args *args, unsigned line) {
        if (!d)
                return NULL;
        if (!is_rule_of(p, d))
                fuzz_fail("line %u: decided by a rule that is not the policy's", line);
        if (d->exempt)
                fuzz_fail("line %u: decided by the exemption on line %u", line, d->line);
        if (!args && d->allow && d->kind == POLICY_RULE_COMMAND)
                fuzz_fail("line %u: allowed by the command on line %u without the arguments", line, d->line);
        return d;
}

/* Arguments a command rule matches for sure, when its patterns are plain words (a backslash
 * keeps the next character; a lone '*' takes any one word). False if a pattern is a glob. */
static bool literal_args(const struct policy_rule *rule, char *buf, size_t size, struct policy_args *ret) {
        size_t n = 0;
        *ret = (struct policy_args){ .tail = buf };
        for (size_t i = 0; i < rule->n_arg_patterns; i++) {
                const char *pat = rule->arg_patterns[i];
                if (strcmp(pat, "*") == 0)
                        pat = "x";
                for (const char *c = pat; *c; c++) {
                        if (strchr("*?[", *c))
                                return false;
                        if (*c == '\\' && !*++c)
                                return false; /* a lone backslash at the end: fnmatch's to read */
                        if (n + 2 > size)
                                return false;
                        buf[n++] = *c;
                }
                buf[n++] = '\0';
                ret->n_tail++;
        }
        return true;
}

/* The rules of [block] sections that must block what they name. Only when no section has
 * conditions (a conditional section may not apply, and which section a rule is in is not
 * told), and when the global sections all fit in a subject (else execs are refused). */
static void check_decisions(const struct policy *p) {
        struct policy_subject subj;
        bool strict = !policy_has_windows(p) && !policy_has_parents(p) &&
                      policy_subject_init(p, (uid_t) -1, NULL, 0, NULL, &subj) == 0;
        for (size_t i = 0; i < policy_n_rules(p); i++) {
                const struct policy_rule *rule = policy_rule_at(p, i);
                if (!rule || !rule->text || !rule->canonical)
                        fuzz_fail("rule %zu is incomplete", i);
                if (rule->exempt && (rule->allow || rule->kind == POLICY_RULE_COMMAND))
                        fuzz_fail("line %u: an exemption that is an allow or a command", rule->line);
                if ((rule->n_arg_patterns || rule->any_more_args) && rule->kind != POLICY_RULE_COMMAND)
                        fuzz_fail("line %u: argument patterns on a %s rule", rule->line,
                                  policy_rule_kind_to_string(rule->kind));
                if (rule->scope || rule->exempt)
                        continue;
                const struct policy_rule *d = NULL;
                struct stat st;
                const struct stat *stp = stat(rule->canonical, &st) == 0 ? &st : NULL;
                switch (rule->kind) {
                case POLICY_RULE_PATH:
                        d = checked(p, policy_decide(p, NULL, rule->canonical, stp, NULL, NULL), NULL, rule->line);
                        break;
                case POLICY_RULE_HASH: {
                        uint8_t digest[SHA256_LEN];
                        if (identity_parse_sha256(rule->text, digest) < 0)
                                fuzz_fail("line %u: hash rule '%s' does not parse", rule->line, rule->text);
                        d = checked(p, policy_decide(p, NULL, "", NULL, digest, NULL), NULL, rule->line);
                        break;
                }
                case POLICY_RULE_DIR: {
                        size_t len = strlen(rule->canonical);
                        if (len == 0 || rule->canonical[len - 1] != '/')
                                fuzz_fail("line %u: tree '%s' without its slash", rule->line, rule->canonical);
                        char path[EG_PATH_MAX + 8];
                        snprintf(path, sizeof path, "%sx/y", rule->canonical);
                        d = checked(p, policy_decide(p, NULL, path, NULL, NULL, NULL), NULL, rule->line);
                        break;
                }
                case POLICY_RULE_COMMAND: {
                        if (strpbrk(rule->canonical, "*?[\\"))
                                continue;
                        /* Without the arguments a command block blocks its program. */
                        d = checked(p, policy_decide(p, NULL, rule->canonical, stp, NULL, NULL), NULL, rule->line);
                        if (strict && !rule->allow && (!d || d->allow))
                                fuzz_fail("line %u: command '%s' does not block its program without the arguments "
                                          "(decided by %s)",
                                          rule->line, rule->text, d ? d->text : "nothing");
                        char buf[512];
                        struct policy_args args;
                        if (!literal_args(rule, buf, sizeof buf, &args))
                                continue;
                        d = checked(p, policy_decide(p, NULL, rule->canonical, stp, NULL, &args), &args, rule->line);
                        break;
                }
                case POLICY_RULE_GLOB:
                case POLICY_RULE_FILELESS:
                case POLICY_RULE_DEFAULT:
                case POLICY_RULE_TRUSTED_PATH:
                        continue;
                }
                /* A block of [block] blocks what it names (a block beats an allow); an allow
                 * there is decided by some rule, its own or a block. */
                if (!strict)
                        continue;
                if (!rule->allow && (!d || d->allow || d->scope))
                        fuzz_fail("line %u: '%s' (-> %s) is not blocked (decided by %s)", rule->line, rule->text,
                                  rule->canonical, d ? d->text : "nothing");
                if (rule->allow && !d)
                        fuzz_fail("line %u: the allow '%s' (-> %s) decides nothing", rule->line, rule->text,
                                  rule->canonical);
        }
}

/* Deciding for a subject with groups, at a time and for a parent, exercises the scope
 * tables and the conditions. */
static void check_subjects(const struct policy *p) {
        static const gid_t gids[] = { 0, 0, 1, 4, 100, 65534 };
        static const char *const parents[] = { "/usr/bin/dash", "/usr/sbin/nginx", "" };
        struct stat dash;
        bool have_dash = stat("/usr/bin/dash", &dash) == 0;
        for (size_t k = 0; k < ELEMENTSOF(parents); k++) {
                struct policy_context ctx = {
                        .time_known = true,
                        .weekday = (int) (k * 3 % 7),
                        .minute = (int) (k * 617 % 1440),
                        .parent = parents[k],
                        .parent_st = k == 0 && have_dash ? &dash : NULL,
                };
                struct policy_subject subj;
                int r = policy_subject_init(p, k ? 65534 : 0, gids, ELEMENTSOF(gids), &ctx, &subj);
                if (r == -E2BIG)
                        continue;
                if (r < 0)
                        fuzz_fail("policy_subject_init with every condition known: %d", r);
                struct policy_context nothing = {};
                r = policy_subject_init(p, 0, gids, ELEMENTSOF(gids), &nothing, &subj);
                if (r < 0 && r != -ENODATA && r != -E2BIG)
                        fuzz_fail("policy_subject_init with nothing known: %d", r);
                if (r == -ENODATA && !policy_has_windows(p) && !policy_has_parents(p))
                        fuzz_fail("policy_subject_init: -ENODATA for a policy without conditions");
                r = policy_subject_init(p, k ? 65534 : 0, gids, ELEMENTSOF(gids), &ctx, &subj);
                for (size_t i = 0; r == 0 && i < policy_n_rules(p) && i < 64; i++) {
                        const struct policy_rule *rule = policy_rule_at(p, i);
                        struct policy_args none = {};
                        (void) checked(p, policy_decide(p, &subj, rule->canonical, NULL, NULL, &none), &none,
                                       rule->line);
                        (void) checked(p, policy_decide(p, &subj, rule->canonical, NULL, NULL, NULL), NULL, rule->line);
                        (void) policy_trusted_path_exempt(p, &subj, rule->canonical, NULL);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* fmemopen() refuses a zero size; an empty file is /dev/null. */
        char *copy = NULL;
        FILE *f;
        if (size == 0)
                f = fopen("/dev/null", "re");
        else {
                copy = malloc(size);
                if (!copy)
                        abort();
                memcpy(copy, data, size);
                f = fmemopen(copy, size, "r");
        }
        if (!f)
                abort();

        struct policy *p = NULL;
        struct policy_error err = { .line = 12345 };
        int r = policy_parse(f, SOURCE, &p, &err);
        fclose(f);
        free(copy);

        if (r < 0) {
                if (p)
                        fuzz_fail("failed parse (%d) produced a policy", r);
                size_t lines = 1;
                for (size_t i = 0; i < size; i++)
                        lines += data[i] == '\n';
                if (err.line > lines)
                        fuzz_fail("error on line %u of a %zu-line file: %s", err.line, lines, err.message);
                if (strnlen(err.message, sizeof err.message) >= sizeof err.message || err.message[0] == '\0')
                        fuzz_fail("error without a message (line %u)", err.line);
                char msg[512];
                policy_error_format(SOURCE, r, &err, msg, sizeof msg);
                return 0;
        }
        if (r != 0 || !p)
                fuzz_fail("parse returned %d and %s policy", r, p ? "a" : "no");

        check_decisions(p);
        check_subjects(p);
        (void) policy_wants_content(p, NULL, 0);

        /* Nothing changed on disk: re-identifying gives the same policy. */
        struct policy *q = NULL;
        r = policy_reidentify(p, &q, &err);
        if (r < 0)
                fuzz_fail("policy_reidentify: %d: line %u: %s", r, err.line, err.message);
        char *a = dump(p), *b = dump(q);
        if (strcmp(a, b) != 0)
                fuzz_fail("re-identified policy differs:\n%s\n---\n%s", a, b);
        free(a);
        free(b);
        policy_free(q);
        policy_free(p);
        return 0;
}
