/* policy_parse() fed with arbitrary policy files, read from memory (fmemopen) the way
 * policy_load() hands it the file it opened.
 *
 * Besides the sanitizers: a failed parse names a line of the input and a message; a policy
 * that parses must dump, must be re-identified into a policy that dumps the same, and must
 * decide by its own rules: the canonical path of each [block] path rule, and the digest of
 * each [block] hash rule, are blocked by some [block] rule (a block beats an allow). */
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

static void check_decisions(const struct policy *p) {
        for (size_t i = 0; i < policy_n_rules(p); i++) {
                const struct policy_rule *rule = policy_rule_at(p, i);
                if (!rule || !rule->text || !rule->canonical)
                        fuzz_fail("rule %zu is incomplete", i);
                if (rule->scope || rule->allow)
                        continue;
                const struct policy_rule *d = NULL;
                if (rule->kind == POLICY_RULE_PATH) {
                        struct stat st;
                        d = policy_decide(p, NULL, rule->canonical, stat(rule->canonical, &st) == 0 ? &st : NULL, NULL, NULL);
                } else if (rule->kind == POLICY_RULE_HASH) {
                        uint8_t digest[SHA256_LEN];
                        if (identity_parse_sha256(rule->text, digest) < 0)
                                fuzz_fail("line %u: hash rule '%s' does not parse", rule->line, rule->text);
                        d = policy_decide(p, NULL, "", NULL, digest, NULL);
                } else
                        continue;
                if (!d || d->allow || d->scope)
                        fuzz_fail("line %u: '%s' (-> %s) is not blocked (decided by %s)", rule->line, rule->text,
                                  rule->canonical, d ? d->text : "nothing");
                if (!is_rule_of(p, d))
                        fuzz_fail("line %u: decided by a rule that is not the policy's", rule->line);
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
        /* Deciding for a subject with groups exercises the scope tables. */
        gid_t gids[] = { 0, 0, 1, 100, 65534 };
        struct policy_subject subj;
        if (policy_subject_init(p, 0, gids, ELEMENTSOF(gids), NULL, &subj) == 0 && policy_n_rules(p) > 0) {
                const struct policy_rule *rule = policy_rule_at(p, 0);
                const struct policy_rule *d = policy_decide(p, &subj, rule->canonical, NULL, NULL, NULL);
                if (d && !is_rule_of(p, d))
                        fuzz_fail("a subject's decision by a rule that is not the policy's");
        }
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
