#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "ini.h"
#include "table.h"
#include "util.h"

struct file_key {
        uint64_t dev;
        uint64_t ino;
};

struct rule_slot {
        struct policy_rule rule;
        size_t scope;       /* index into scopes */
        struct file_key id; /* table keys must live as long as the tables */
        bool has_id;
        uint8_t digest[SHA256_LEN];
        bool wants_digest; /* an existing named file, to be hashed by index_contents() */
        bool has_digest;
        uint64_t size;
        uint64_t path_hash; /* of rule.canonical: a command's program, compared first */
        bool program_glob;  /* a command's program is a glob: matched by fnmatch() only */
};

/* What a blocked file was before it was replaced (a package upgrade): the old program is
 * still the blocked program, by the identity it kept (a hard link made before) and by its
 * content (a copy made before). */
struct former_file {
        struct file_key id;
        uint8_t digest[SHA256_LEN];
        bool has_digest;
        uint64_t size;
        size_t rule; /* index into rules */
};

/* Formers kept at most; the oldest go first. Each is a file that was blocked once. */
#define FORMERS_MAX 4096

/* The lookup tables of a set of file rules: the blocks of a section, its allows, or its
 * trusted_path exemptions. */
struct matchset {
        struct table paths;      /* canonical path → rule */
        struct table identities; /* (dev, ino) → rule: the same file under any name */
        struct table glob_dirs;  /* literal directory prefix ("/usr/bin/") → first glob */
        struct table dirs;       /* directory with its slash ("/opt/tools/") → rule: a tree */
        struct table contents;   /* SHA-256 → rule: copies of named files, hash rules */
        struct table sizes;      /* sizes of named files: only those are worth hashing */
        bool hash_every_file;    /* a hash rule exists: its size is unknown */
};

/* The blocks, or the allows, of a section: file rules, and command rules (few, tried in
 * order). */
struct ruleset {
        struct matchset files;
        struct rule_slot **commands;
        size_t n_commands;
};

/* parent = PATTERN: a program, by path, glob, or the identity of the file it named. */
struct parent_pattern {
        char *text;
        char *canonical;
        bool glob;
        bool has_id;
        struct file_key id;
        unsigned line;
};

/* A section of the file: [block], [allow], [user:NAME] or [group:NAME], each header its
 * own, with its conditions. */
struct scope {
        enum policy_scope_kind kind;
        uint32_t id;  /* uid or gid */
        bool unknown; /* [user:NAME] or [group:NAME] of a name this host does not have */
        char *name;   /* "user:alice", "allow"; NULL for [block] */
        bool allows;  /* [allow]: its path, dir, hash and command keys allow */
        bool has_hours;
        unsigned from_minute, to_minute; /* [from, to), across midnight when from > to */
        uint8_t days;                    /* bit 0: Sunday; 0: every day */
        unsigned hours_line, days_line;
        unsigned header_line; /* where the section starts */
        bool taken;           /* by a header (the global scope made with the policy may not be) */
        struct parent_pattern *parents;
        size_t n_parents;
        struct ruleset block, allow;
        struct matchset exempt;
        /* [protect], [protect:user:NAME], [protect:group:NAME]: its paths, and the operations
         * on them it refuses (enum policy_op bits); never any exec rule. */
        bool protects;
        unsigned deny_ops, deny_line;
        struct matchset protected;
        struct scope *next; /* the next section of the same user, group, or of everybody */
};

struct policy {
        char *source;
        enum policy_mode mode;
        enum policy_action action;
        bool match_content;
        struct policy_rule fileless;     /* kind FILELESS when fileless = deny, line 0 if not */
        struct policy_rule default_deny; /* kind DEFAULT when default = deny */
        struct policy_rule trusted_path; /* kind TRUSTED_PATH when trusted_path = yes */
        struct policy_settings settings;

        struct rule_slot *rules;
        size_t n_rules;
        struct policy_warning *warnings; /* at most WARNINGS_MAX, then counted */
        size_t n_warnings, n_warnings_more;
        struct former_file *formers;
        size_t n_formers;

        struct scope *scopes; /* [0]: the global scope of [block] before any header */
        size_t n_scopes;
        struct table users;   /* uid → first section */
        struct table groups;  /* gid → first section */
        struct scope *global; /* the first section of everybody */
        bool has_windows, has_parents, has_commands, has_user_or_group;
        unsigned protected_ops; /* every [protect] section's deny = together */
};

/* ---- reading lines ---------------------------------------------------------------------- */

/* Lines are read and parsed here (ini.h), and counted, which the handler needs for rule
 * locations; a line too long or with a NUL byte is an error, never cut or read in part. */
struct reader {
        FILE *stream;
        unsigned line;
        unsigned headers;         /* section headers read so far: each starts a section */
        unsigned header_line;     /* of the last one */
        struct policy_error *err; /* first error wins */
};

static void record_error(struct policy_error *err, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void record_error(struct policy_error *err, unsigned line, const char *fmt, ...) {
        if (err->line != 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->line = line;
}

/* What is worth an administrator's eye but not an error: a fleet's policy file names users
 * and files some hosts do not have. The first WARNINGS_MAX are kept, the rest counted, so
 * that 200,000 rules naming nothing are one screen, not 200,000 lines. */
#define WARNINGS_MAX 10

static int add_warning(struct policy *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_warning(struct policy *p, unsigned line, const char *fmt, ...) {
        if (p->n_warnings == WARNINGS_MAX) {
                p->n_warnings_more++;
                return 0;
        }
        if (!p->warnings) {
                p->warnings = calloc(WARNINGS_MAX, sizeof *p->warnings);
                if (!p->warnings)
                        return -ENOMEM;
        }
        struct policy_warning *w = &p->warnings[p->n_warnings++];
        w->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->message, sizeof w->message, fmt, ap);
        va_end(ap);
        return 0;
}

static bool section_is_known(const char *name) {
        if (strcmp(name, "protect") == 0)
                return true;
        if (strncmp(name, "protect:", 8) == 0)
                /* [protect:user:NAME], [protect:group:NAME] */
                return (strncmp(name + 8, "user:", 5) == 0 && name[13] != '\0') ||
                       (strncmp(name + 8, "group:", 6) == 0 && name[14] != '\0');
        return strcmp(name, "execguard") == 0 || strcmp(name, "block") == 0 || strcmp(name, "allow") == 0 ||
               (strncmp(name, "user:", 5) == 0 && name[5] != '\0') ||
               (strncmp(name, "group:", 6) == 0 && name[6] != '\0');
}

/* The next line into buf (INI_LINE_MAX + 1 bytes), without its newline. Returns 1, 0 at the
 * end of the file, or -EINVAL with the error recorded. */
static int read_line(struct reader *rd, char *buf) {
        size_t n = 0;
        int c = EOF;
        bool overlong = false, nul = false;

        while ((c = getc_unlocked(rd->stream)) != EOF && c != '\n') { /* our own stream: no lock per byte */
                if (c == '\0')
                        nul = true;
                if (n < INI_LINE_MAX)
                        buf[n++] = (char) c;
                else
                        overlong = true;
        }
        if (n == 0 && c == EOF)
                return 0;
        buf[n] = '\0';
        rd->line++;
        if (overlong)
                record_error(rd->err, rd->line, "line too long (at most %d bytes)", INI_LINE_MAX);
        else if (nul)
                record_error(rd->err, rd->line, "NUL byte in line");
        return overlong || nul ? -EINVAL : 1;
}

/* ---- the handler ---------------------------------------------------------------------- */

/* Append a copy of parent pattern pp to sc (its canonical form is made when indexed). */
static int add_parent(struct scope *sc, const struct parent_pattern *pp) {
        struct parent_pattern *parents = reallocarray(sc->parents, sc->n_parents + 1, sizeof *parents);
        if (!parents)
                return -ENOMEM;
        sc->parents = parents;
        parents[sc->n_parents] = (struct parent_pattern){ .text = strdup(pp->text), .line = pp->line };
        if (!parents[sc->n_parents].text)
                return -ENOMEM;
        sc->n_parents++;
        return 0;
}

/* Append a scope (its name copied from name, NULL for the global one; its conditions
 * copied from sc). */
static int add_scope(struct policy *p, size_t *allocated, const struct scope *sc, const char *name) {
        if (p->n_scopes == *allocated) {
                size_t n = *allocated ? *allocated * 2 : 4;
                struct scope *scopes = reallocarray(p->scopes, n, sizeof *scopes);
                if (!scopes)
                        return -ENOMEM;
                p->scopes = scopes;
                *allocated = n;
        }
        struct scope *new = &p->scopes[p->n_scopes];
        *new = *sc;
        new->name = NULL;
        new->parents = NULL;
        new->n_parents = 0;
        new->block = new->allow = (struct ruleset){};
        new->exempt = new->protected = (struct matchset){};
        new->next = NULL;
        if (name && !(new->name = strdup(name)))
                return -ENOMEM;
        for (size_t i = 0; i < sc->n_parents; i++) {
                int r = add_parent(new, &sc->parents[i]);
                if (r < 0)
                        return r;
        }
        p->n_scopes++;
        return 0;
}

struct parser {
        struct policy *policy;
        struct reader reader;
        size_t rules_allocated, scopes_allocated;
        bool global_taken;       /* scopes[0] belongs to the first [block] header */
        unsigned section_header; /* reader.headers when section was made */
        size_t section;          /* the scope of the section being read */
        bool in_section;
        unsigned mode_line, action_line, default_line, trusted_path_line, match_content_line, fileless_line;
        unsigned log_file_line, log_allowed_line, no_new_privs_line, capabilities_line, daemon_line, verifier_line;
        unsigned max_sessions_line, max_pending_line, max_path_line, max_args_line, max_argv_bytes_line, workers_line,
                resolve_timeout_line;
};

static int add_rule(struct parser *ps, size_t scope, const char *key, bool allow, enum policy_rule_kind kind,
                    const char *value) {
        struct policy *p = ps->policy;
        if (p->n_rules == ps->rules_allocated) {
                size_t n = ps->rules_allocated ? ps->rules_allocated * 2 : 16;
                struct rule_slot *rules = reallocarray(p->rules, n, sizeof *rules);
                if (!rules)
                        return -ENOMEM;
                p->rules = rules;
                ps->rules_allocated = n;
        }
        struct rule_slot *slot = &p->rules[p->n_rules];
        *slot = (struct rule_slot){
                .rule = { .kind = kind, .line = ps->reader.line, .allow = allow, .key = key },
                .scope = scope,
        };
        slot->rule.text = strdup(value);
        if (!slot->rule.text)
                return -ENOMEM;
        p->n_rules++;
        return 0;
}

static bool has_glob_chars(const char *s) {
        return strpbrk(s, "*?[\\") != NULL;
}

/* One [execguard] setting: each may be set once, to one of its words. Returns the index of
 * the word in choices, or -EINVAL with the error recorded. */
static int parse_setting(struct parser *ps, const char *name, const char *value, unsigned *seen_line,
                         const char *const choices[], const char *expected) {
        unsigned line = ps->reader.line;
        if (*seen_line) {
                record_error(ps->reader.err, line, "'%s' set twice (first on line %u)", name, *seen_line);
                return -EINVAL;
        }
        for (int i = 0; choices[i]; i++)
                if (strcmp(value, choices[i]) == 0) {
                        *seen_line = line;
                        return i;
                }
        record_error(ps->reader.err, line, "invalid %s '%s' (expected %s)", name, value, expected);
        return -EINVAL;
}

static bool setting_seen(struct parser *ps, const char *name, unsigned *seen_line) {
        if (*seen_line) {
                record_error(ps->reader.err, ps->reader.line, "'%s' set twice (first on line %u)", name, *seen_line);
                return true;
        }
        *seen_line = ps->reader.line;
        return false;
}

/* log_file = /absolute/path: JSON lines, opened by whoever supervises. */
static int parse_log_file(struct parser *ps, const char *value) {
        if (setting_seen(ps, "log_file", &ps->log_file_line))
                return -EINVAL;
        if (value[0] != '/' || strlen(value) >= EG_PATH_MAX) {
                record_error(ps->reader.err, ps->reader.line, "log_file must be an absolute path");
                return -EINVAL;
        }
        free(ps->policy->settings.log_file);
        ps->policy->settings.log_file = strdup(value);
        return ps->policy->settings.log_file ? 0 : -ENOMEM;
}

/* capabilities = NAME[, NAME...] | none: the bounding set of supervised sessions. Names are
 * libcap's (cap_net_bind_service); a name this libcap does not know is an error, not a
 * capability silently kept or lost. */
static int parse_capabilities(struct parser *ps, const char *value) {
        if (setting_seen(ps, "capabilities", &ps->capabilities_line))
                return -EINVAL;
        uint64_t keep = 0;
        if (strcmp(value, "none") != 0) {
                char buf[1024];
                if (strlen(value) >= sizeof buf) {
                        record_error(ps->reader.err, ps->reader.line, "capabilities: list too long");
                        return -EINVAL;
                }
                strcpy(buf, value);
                char *save = NULL;
                for (char *name = strtok_r(buf, ", \t", &save); name; name = strtok_r(NULL, ", \t", &save)) {
                        cap_value_t cap;
                        if (cap_from_name(name, &cap) < 0 || cap < 0 || cap > 63) {
                                record_error(ps->reader.err, ps->reader.line,
                                             "unknown capability '%s' (expected names such as cap_net_bind_service, "
                                             "or none)",
                                             name);
                                return -EINVAL;
                        }
                        keep |= UINT64_C(1) << cap;
                }
        }
        ps->policy->settings.limit_capabilities = true;
        ps->policy->settings.capabilities = keep;
        return 0;
}

/* A limit: a decimal number in [min, max], set once. */
static int parse_limit(struct parser *ps, const char *name, const char *value, unsigned *seen_line, size_t min,
                       size_t max, size_t *ret) {
        if (setting_seen(ps, name, seen_line))
                return -EINVAL;
        bool digits = value[0] && strspn(value, "0123456789") == strlen(value);
        errno = 0;
        unsigned long long n = digits ? strtoull(value, NULL, 10) : 0; /* ERANGE: too big */
        if (!digits || errno || n < min || n > max) {
                record_error(ps->reader.err, ps->reader.line, "invalid %s '%s' (expected a number from %zu to %zu)",
                             name, value, min, max);
                return -EINVAL;
        }
        *ret = (size_t) n;
        return 0;
}

/* The limits, by key: where each is kept and what it may be. */
static int handle_limit(struct parser *ps, const char *name, const char *value) {
        struct policy_settings *st = &ps->policy->settings;
        size_t n;
        int r;
        if (strcmp(name, "max_sessions_per_user") == 0) {
                r = parse_limit(ps, name, value, &ps->max_sessions_line, 1, 65536, &n);
                if (r >= 0)
                        st->max_sessions_per_user = (unsigned) n;
        } else if (strcmp(name, "max_pending_per_user") == 0) {
                r = parse_limit(ps, name, value, &ps->max_pending_line, 1, POLICY_MAX_PENDING_PER_USER_LIMIT, &n);
                if (r >= 0)
                        st->max_pending_per_user = (unsigned) n;
        } else if (strcmp(name, "max_path") == 0)
                r = parse_limit(ps, name, value, &ps->max_path_line, 64, POLICY_MAX_PATH_DEFAULT, &st->max_path);
        else if (strcmp(name, "max_args") == 0)
                r = parse_limit(ps, name, value, &ps->max_args_line, 1, 1u << 24, &st->max_args);
        else if (strcmp(name, "max_argv_bytes") == 0)
                r = parse_limit(ps, name, value, &ps->max_argv_bytes_line, 256, 1u << 30, &st->max_argv_bytes);
        else if (strcmp(name, "workers") == 0) {
                r = parse_limit(ps, name, value, &ps->workers_line, 1, POLICY_WORKERS_MAX, &n);
                if (r >= 0)
                        st->workers = (unsigned) n;
        } else if (strcmp(name, "resolve_timeout") == 0) {
                r = parse_limit(ps, name, value, &ps->resolve_timeout_line, 1, 3600, &n);
                if (r >= 0)
                        st->resolve_timeout = (unsigned) n;
        } else
                return -ENOENT;
        return r;
}

static int handle_setting(struct parser *ps, const char *name, const char *value) {
        struct policy *p = ps->policy;
        int r;

        if (strcmp(name, "mode") == 0) {
                r = parse_setting(ps, name, value, &ps->mode_line, (const char *const[]){ "enforce", "audit", NULL },
                                  "enforce or audit");
                if (r >= 0)
                        p->mode = r == 0 ? POLICY_MODE_ENFORCE : POLICY_MODE_AUDIT;
        } else if (strcmp(name, "action") == 0) {
                r = parse_setting(ps, name, value, &ps->action_line, (const char *const[]){ "deny", "kill", NULL },
                                  "deny or kill");
                if (r >= 0)
                        p->action = r == 0 ? POLICY_ACTION_DENY : POLICY_ACTION_KILL;
        } else if (strcmp(name, "default") == 0) {
                r = parse_setting(ps, name, value, &ps->default_line, (const char *const[]){ "allow", "deny", NULL },
                                  "allow or deny");
                if (r == 1)
                        p->default_deny = (struct policy_rule){
                                .kind = POLICY_RULE_DEFAULT,
                                .text = (char *) "default = deny",
                                .line = ps->reader.line,
                        };
        } else if (strcmp(name, "trusted_path") == 0) {
                r = parse_setting(ps, name, value, &ps->trusted_path_line, (const char *const[]){ "no", "yes", NULL },
                                  "yes or no");
                if (r == 1)
                        p->trusted_path = (struct policy_rule){
                                .kind = POLICY_RULE_TRUSTED_PATH,
                                .text = (char *) "trusted_path = yes",
                                .line = ps->reader.line,
                        };
        } else if (strcmp(name, "match_content") == 0) {
                r = parse_setting(ps, name, value, &ps->match_content_line, (const char *const[]){ "yes", "no", NULL },
                                  "yes or no");
                if (r >= 0)
                        p->match_content = r == 0;
        } else if (strcmp(name, "fileless") == 0) {
                r = parse_setting(ps, name, value, &ps->fileless_line, (const char *const[]){ "content", "deny", NULL },
                                  "content or deny");
                if (r == 1)
                        p->fileless = (struct policy_rule){
                                .kind = POLICY_RULE_FILELESS,
                                .text = (char *) "fileless = deny",
                                .line = ps->reader.line,
                        };
        } else if (strcmp(name, "log_allowed") == 0) {
                r = parse_setting(ps, name, value, &ps->log_allowed_line, (const char *const[]){ "yes", "no", NULL },
                                  "yes or no");
                if (r >= 0)
                        p->settings.log_allowed = r == 0;
        } else if (strcmp(name, "no_new_privs") == 0) {
                r = parse_setting(ps, name, value, &ps->no_new_privs_line, (const char *const[]){ "yes", "no", NULL },
                                  "yes or no");
                if (r >= 0)
                        p->settings.no_new_privs = r == 0;
        } else if (strcmp(name, "on_daemon_unavailable") == 0) {
                r = parse_setting(ps, name, value, &ps->daemon_line,
                                  (const char *const[]){ "standalone", "refuse", NULL }, "standalone or refuse");
                if (r >= 0)
                        p->settings.daemon_required = r == 1;
        } else if (strcmp(name, "verifier") == 0) {
                r = parse_setting(ps, name, value, &ps->verifier_line,
                                  (const char *const[]){ "auto", "kernel", "ptrace", NULL }, "auto, kernel or ptrace");
                if (r >= 0)
                        p->settings.verifier = (enum policy_verifier) r;
        } else if (strcmp(name, "log_file") == 0) {
                r = parse_log_file(ps, value);
        } else if (strcmp(name, "capabilities") == 0) {
                r = parse_capabilities(ps, value);
        } else if ((r = handle_limit(ps, name, value)) == -ENOENT) {
                record_error(ps->reader.err, ps->reader.line,
                             "unknown key '%s' in [execguard] (known: mode, action, default, trusted_path, "
                             "match_content, fileless, log_file, "
                             "log_allowed, no_new_privs, on_daemon_unavailable, verifier, capabilities, "
                             "max_sessions_per_user, "
                             "max_pending_per_user, max_path, max_args, max_argv_bytes, workers, resolve_timeout)",
                             name);
                return -EINVAL;
        }
        return r < 0 ? r : 0;
}

/* The scope of the section being read: a new one for each header. A user or group must
 * exist on this host: a misspelt name would silently apply to nobody. */
static int section_scope(struct parser *ps, const char *section, size_t *ret) {
        struct policy *p = ps->policy;
        if (ps->in_section && ps->section_header == ps->reader.headers) {
                *ret = ps->section;
                return 0;
        }
        struct scope sc = { .kind = POLICY_SCOPE_GLOBAL };
        const char *name = NULL;
        /* [protect:user:NAME] is NAME's as [user:NAME] is: who, then what kind of section. */
        bool protects = strcmp(section, "protect") == 0 || strncmp(section, "protect:", 8) == 0;
        const char *who = protects ? section + (section[7] ? 8 : 7) : section;
        if (protects && who[0] == '\0') {
                name = section;
        } else if (strcmp(section, "block") == 0) {
                /* The first [block] is the global scope made with the policy. */
                if (!ps->global_taken) {
                        ps->global_taken = true;
                        p->scopes[0].taken = true;
                        p->scopes[0].header_line = ps->reader.line;
                        ps->in_section = true;
                        ps->section_header = ps->reader.headers;
                        *ret = ps->section = 0;
                        return 0;
                }
        } else if (strcmp(section, "allow") == 0) {
                sc.allows = true;
                name = section;
        } else if (strncmp(who, "user:", 5) == 0) {
                struct passwd *pw = getpwnam(who + 5);
                if (!pw) {
                        int r = add_warning(p, ps->reader.header_line,
                                            "no user '%s' on this host: the rules of [%s] apply to nobody here",
                                            who + 5, section);
                        if (r < 0)
                                return r;
                }
                sc = (struct scope){ .kind = POLICY_SCOPE_USER, .id = pw ? pw->pw_uid : UINT32_MAX, .unknown = !pw };
                name = section;
        } else {
                struct group *gr = getgrnam(who + 6);
                if (!gr) {
                        int r = add_warning(p, ps->reader.header_line,
                                            "no group '%s' on this host: the rules of [%s] apply to nobody here",
                                            who + 6, section);
                        if (r < 0)
                                return r;
                }
                sc = (struct scope){ .kind = POLICY_SCOPE_GROUP, .id = gr ? gr->gr_gid : UINT32_MAX, .unknown = !gr };
                name = section;
        }
        /* Two names of one id ("[user:root]", "[user:toor]") would be two scopes of one
         * subject with different names in the records: refused. */
        for (size_t i = 1; i < p->n_scopes; i++)
                if (sc.kind != POLICY_SCOPE_GLOBAL && !sc.unknown && !p->scopes[i].unknown &&
                    p->scopes[i].kind == sc.kind && p->scopes[i].id == sc.id && p->scopes[i].protects == protects &&
                    strcmp(p->scopes[i].name, section) != 0) {
                        record_error(ps->reader.err, ps->reader.line, "[%s] is the same %s as [%s] (id %u)", section,
                                     sc.kind == POLICY_SCOPE_USER ? "user" : "group", p->scopes[i].name,
                                     (unsigned) sc.id);
                        return -EINVAL;
                }
        sc.header_line = ps->reader.line; /* of its first key; headers are not handed over */
        sc.taken = true;
        sc.protects = protects;
        int r = add_scope(p, &ps->scopes_allocated, &sc, name);
        if (r < 0)
                return r;
        ps->in_section = true;
        ps->section_header = ps->reader.headers;
        *ret = ps->section = p->n_scopes - 1;
        return 0;
}

/* A path value: absolute, within EG_PATH_MAX, no '# comment' glued to it. */
static bool path_value_ok(struct parser *ps, const char *key, const char *value) {
        unsigned line = ps->reader.line;
        struct policy_error *err = ps->reader.err;
        if (value[0] != '/') {
                record_error(err, line, "%s '%s' is not absolute", strcmp(key, "dir") == 0 ? "dir" : "path", value);
                return false;
        }
        if (strlen(value) >= EG_PATH_MAX) {
                record_error(err, line, "path is longer than %d bytes", EG_PATH_MAX - 1);
                return false;
        }
        /* The reader (ini.h) only strips ';' comments; a trailing '# ...' would silently become part of
         * the path and the rule would never match. */
        const char *hash = strchr(value, '#');
        if (hash && (hash[-1] == ' ' || hash[-1] == '\t')) {
                record_error(err, line,
                             "'#' starts a comment only at the beginning of a line; use ' ;' for a trailing comment");
                return false;
        }
        return true;
}

/* hours = HH:MM-HH:MM: from (included) to (excluded), across midnight if to < from. */
static int parse_hours(struct parser *ps, struct scope *sc, const char *value) {
        unsigned h1, m1, h2, m2;
        int end = 0;
        if (sc->hours_line) {
                record_error(ps->reader.err, ps->reader.line, "'hours' set twice in this section (first on line %u)",
                             sc->hours_line);
                return -EINVAL;
        }
        /* Digits where the shape has them: sscanf's %u alone would take " 9" and "+9". */
        static const char shape[] = "00:00-00:00";
        bool shaped = strlen(value) == sizeof shape - 1;
        for (size_t i = 0; shaped && shape[i]; i++)
                shaped = shape[i] == '0' ? value[i] >= '0' && value[i] <= '9' : value[i] == shape[i];
        /* 24:00 is 00:00: equal ends are an error, however written, but for 00:00-24:00. */
        if (!shaped || sscanf(value, "%2u:%2u-%2u:%2u%n", &h1, &m1, &h2, &m2, &end) != 4 || value[end] != '\0' ||
            h1 > 24 || h2 > 24 || m1 > 59 || m2 > 59 || (h1 == 24 && m1) || (h2 == 24 && m2) ||
            ((h1 * 60 + m1) % 1440 == (h2 * 60 + m2) % 1440 && !(h1 == 0 && m1 == 0 && h2 == 24))) {
                record_error(ps->reader.err, ps->reader.line,
                             "invalid hours '%s' (expected HH:MM-HH:MM, such as 09:00-18:00, the end not the start)",
                             value);
                return -EINVAL;
        }
        sc->has_hours = true;
        sc->from_minute = (h1 * 60 + m1) % 1440;
        sc->to_minute = h2 * 60 + m2;
        if (sc->to_minute == 1440 && sc->from_minute != 0)
                sc->to_minute = 0;
        sc->hours_line = ps->reader.line;
        return 0;
}

static int day_number(const char *s, size_t len) {
        static const char *const names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
        for (int i = 0; i < 7; i++)
                if (len == 3 && strncmp(s, names[i], 3) == 0)
                        return i;
        return -1;
}

/* days = mon-fri, sat,sun, fri-mon: days and ranges of days, by their first three letters. */
static int parse_days(struct parser *ps, struct scope *sc, const char *value) {
        if (sc->days_line) {
                record_error(ps->reader.err, ps->reader.line, "'days' set twice in this section (first on line %u)",
                             sc->days_line);
                return -EINVAL;
        }
        uint8_t days = 0;
        const char *s = value;
        for (;;) {
                s += strspn(s, " \t");
                size_t len = strcspn(s, ",- \t");
                int first = day_number(s, len), last = first;
                s += len;
                s += strspn(s, " \t");
                if (first >= 0 && *s == '-') {
                        s++;
                        s += strspn(s, " \t");
                        len = strcspn(s, ", \t");
                        last = day_number(s, len);
                        s += len;
                        s += strspn(s, " \t");
                }
                if (first < 0 || last < 0 || (*s != ',' && *s != '\0')) {
                        record_error(ps->reader.err, ps->reader.line,
                                     "invalid days '%s' (expected days and ranges such as mon-fri or sat,sun)", value);
                        return -EINVAL;
                }
                for (int d = first;; d = (d + 1) % 7) {
                        days |= (uint8_t) (1u << d);
                        if (d == last)
                                break;
                }
                if (*s == '\0')
                        break;
                s++;
        }
        sc->days = days;
        sc->days_line = ps->reader.line;
        return 0;
}

/* command = PROGRAM [ARG-PATTERN...] [*]: words separated by blanks; a backslash keeps the
 * next character in its word (and, for fnmatch, literal). */
static int parse_command(struct parser *ps, struct rule_slot *slot) {
        struct policy_rule *rule = &slot->rule;
        const char *s = rule->text;
        char word[EG_PATH_MAX];
        bool program = true;
        for (;;) {
                s += strspn(s, " \t");
                if (*s == '\0')
                        break;
                size_t n = 0;
                bool plain_star = s[0] == '*' && (s[1] == '\0' || s[1] == ' ' || s[1] == '\t');
                while (*s && *s != ' ' && *s != '\t') {
                        if (*s == '\\' && s[1]) {
                                if (n + 2 < sizeof word) {
                                        word[n++] = s[0];
                                        word[n++] = s[1];
                                }
                                s += 2;
                                continue;
                        }
                        if (n + 1 < sizeof word)
                                word[n++] = *s;
                        s++;
                }
                word[n] = '\0';
                if (program) {
                        program = false;
                        if (!path_value_ok(ps, "path", word))
                                return -EINVAL;
                        rule->canonical = strdup(word); /* made canonical when indexed */
                        if (!rule->canonical)
                                return -ENOMEM;
                        continue;
                }
                if (plain_star) {
                        s += strspn(s, " \t");
                        if (*s == '\0') {
                                rule->any_more_args = true;
                                continue;
                        }
                }
                char **patterns = reallocarray(rule->arg_patterns, rule->n_arg_patterns + 1, sizeof *patterns);
                if (!patterns)
                        return -ENOMEM;
                rule->arg_patterns = patterns;
                if (!(patterns[rule->n_arg_patterns] = strdup(word)))
                        return -ENOMEM;
                rule->n_arg_patterns++;
        }
        if (program) {
                record_error(ps->reader.err, rule->line, "empty command (expected a program and its arguments)");
                return -EINVAL;
        }
        return 0;
}

static const char *const op_names[] = { "unlink", "rename", "truncate", "write", "chmod", "chown", "link", "symlink" };

const char *policy_op_to_string(unsigned op) {
        for (size_t i = 0; i < ELEMENTSOF(op_names); i++)
                if (op == 1u << i)
                        return op_names[i];
        return "?";
}

int policy_op_from_string(const char *s, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(op_names); i++)
                if (strlen(op_names[i]) == len && strncmp(s, op_names[i], len) == 0)
                        return (int) (1u << i);
        return -EINVAL;
}

/* deny = OP, OP, ... or all. */
static int parse_deny(struct parser *ps, struct scope *sc, const char *value) {
        unsigned line = ps->reader.line;
        if (sc->deny_line) {
                record_error(ps->reader.err, line, "deny = given twice in one section (first at line %u)",
                             sc->deny_line);
                return -EINVAL;
        }
        unsigned ops = 0;
        for (const char *s = value; *s;) {
                s += strspn(s, " \t,");
                size_t len = strcspn(s, " \t,");
                if (len == 0)
                        break;
                int op = len == 3 && strncmp(s, "all", 3) == 0 ? (int) POLICY_OPS_ALL : policy_op_from_string(s, len);
                if (op < 0) {
                        record_error(ps->reader.err, line,
                                     "unknown operation '%.*s' in deny = (known: unlink, rename, truncate, write, "
                                     "chmod, chown, link, symlink, all)",
                                     (int) len, s);
                        return -EINVAL;
                }
                ops |= (unsigned) op;
                s += len;
        }
        if (!ops) {
                record_error(ps->reader.err, line, "deny = names no operation");
                return -EINVAL;
        }
        sc->deny_ops = ops;
        sc->deny_line = line;
        ps->policy->protected_ops |= ops;
        return 0;
}

/* A key of a [protect] section: its paths, what it refuses on them, its conditions (those are
 * handled by handle_rule(), as in any section). */
static int handle_protect_rule(struct parser *ps, size_t scope, const char *section, const char *name,
                               const char *value) {
        struct scope *sc = &ps->policy->scopes[scope];
        if (strcmp(name, "deny") == 0)
                return parse_deny(ps, sc, value);
        bool dir = strcmp(name, "dir") == 0;
        if (!dir && strcmp(name, "path") != 0) {
                record_error(ps->reader.err, ps->reader.line,
                             "unknown key '%s' in [%s] (known: path, dir, deny, parent, hours, days)", name, section);
                return -EINVAL;
        }
        if (!path_value_ok(ps, name, value))
                return -EINVAL;
        if (dir && has_glob_chars(value)) {
                record_error(ps->reader.err, ps->reader.line, "dir takes a directory, not a glob");
                return -EINVAL;
        }
        enum policy_rule_kind kind = dir                     ? POLICY_RULE_DIR
                                     : has_glob_chars(value) ? POLICY_RULE_GLOB
                                                             : POLICY_RULE_PATH;
        return add_rule(ps, scope, dir ? "dir" : "path", false, kind, value);
}

/* A rule of a section: which keys it has, and what each key is. */
static int handle_rule(struct parser *ps, size_t scope, const char *section, const char *name, const char *value) {
        unsigned line = ps->reader.line;
        struct policy_error *err = ps->reader.err;
        struct scope *sc = &ps->policy->scopes[scope];

        if (strcmp(name, "parent") == 0) {
                if (!path_value_ok(ps, name, value))
                        return -EINVAL;
                ps->policy->has_parents = true;
                return add_parent(sc, &(struct parent_pattern){ .text = (char *) value, .line = line });
        }
        if (strcmp(name, "hours") == 0) {
                ps->policy->has_windows = true;
                return parse_hours(ps, sc, value);
        }
        if (strcmp(name, "days") == 0) {
                ps->policy->has_windows = true;
                return parse_days(ps, sc, value);
        }

        if (sc->protects)
                return handle_protect_rule(ps, scope, section, name, value);

        static const struct {
                const char *key;
                int allow; /* 1: allows, 0: blocks, -1: as the section's plain keys */
                enum policy_rule_kind kind;
        } keys[] = {
                { "path", -1, POLICY_RULE_PATH },
                { "hash", -1, POLICY_RULE_HASH },
                { "dir", -1, POLICY_RULE_DIR },
                { "command", -1, POLICY_RULE_COMMAND },
                { "allow", 1, POLICY_RULE_PATH },
                { "allow_dir", 1, POLICY_RULE_DIR },
                { "allow_command", 1, POLICY_RULE_COMMAND },
                { "trusted_path_exempt", 0, POLICY_RULE_PATH },
        };
        size_t k = 0;
        while (k < ELEMENTSOF(keys) && strcmp(name, keys[k].key) != 0)
                k++;
        if (k == ELEMENTSOF(keys)) {
                record_error(
                        err, line,
                        "unknown key '%s' in [%s] (known: path, hash, dir, command, %strusted_path_exempt, parent, "
                        "hours, days)",
                        name, section, sc->allows ? "" : "allow, allow_dir, allow_command, ");
                return -EINVAL;
        }
        if (sc->allows && keys[k].allow == 1) {
                record_error(err, line, "in [allow] every rule allows: write %s = ...",
                             k == 4   ? "path"
                             : k == 5 ? "dir"
                                      : "command");
                return -EINVAL;
        }
        bool exempt = strcmp(name, "trusted_path_exempt") == 0;
        bool allow = keys[k].allow == 1 || (keys[k].allow == -1 && sc->allows);
        enum policy_rule_kind kind = keys[k].kind;
        const char *key = keys[k].key;

        if (kind == POLICY_RULE_HASH || (strcmp(name, "allow") == 0 && strncmp(value, "sha256:", 7) == 0)) {
                uint8_t digest[SHA256_LEN];
                if (identity_parse_sha256(value, digest) < 0) {
                        record_error(err, line, "invalid hash '%s' (expected sha256: and 64 hex digits)", value);
                        return -EINVAL;
                }
                return add_rule(ps, scope, key, allow, POLICY_RULE_HASH, value);
        }
        if (kind == POLICY_RULE_COMMAND) {
                int r = add_rule(ps, scope, key, allow, POLICY_RULE_COMMAND, value);
                if (r < 0)
                        return r;
                ps->policy->has_commands = true;
                return parse_command(ps, &ps->policy->rules[ps->policy->n_rules - 1]);
        }
        if (!path_value_ok(ps, key, value))
                return -EINVAL;
        size_t len = strlen(value);
        if (exempt && len > 1 && value[len - 1] == '/')
                kind = POLICY_RULE_DIR; /* "DIR/": the tree */
        if (kind == POLICY_RULE_DIR && has_glob_chars(value)) {
                record_error(err, line, "%s takes a directory, not a glob", key);
                return -EINVAL;
        }
        if (kind == POLICY_RULE_PATH && has_glob_chars(value))
                kind = POLICY_RULE_GLOB;
        int r = add_rule(ps, scope, key, allow, kind, value);
        if (r >= 0)
                ps->policy->rules[ps->policy->n_rules - 1].rule.exempt = exempt;
        return r;
}

static int handle_pair(struct parser *ps, const char *section, const char *name, const char *value) {
        if (section[0] == '\0') {
                record_error(ps->reader.err, ps->reader.line,
                             "'%s' outside a section (start with [execguard] or [block])", name);
                return -EINVAL;
        }
        if (strcmp(section, "execguard") == 0) {
                ps->in_section = false;
                return handle_setting(ps, name, value);
        }
        size_t scope;
        int r = section_scope(ps, section, &scope);
        if (r < 0)
                return r;
        return handle_rule(ps, scope, section, name, value);
}

/* Every line of the file, each section header checked and each pair handled in turn. Stops
 * at the first error, which is recorded. */
static int read_lines(struct parser *ps) {
        struct reader *rd = &ps->reader;
        _cleanup_free_ char *buf = malloc(INI_LINE_MAX + 1);
        _cleanup_free_ char *section = calloc(1, INI_LINE_MAX + 1);
        if (!buf || !section)
                return -ENOMEM;
        int r;
        while ((r = read_line(rd, buf)) > 0) {
                char *line = buf;
                /* A UTF-8 byte order mark at the start of the file is skipped. */
                if (rd->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
                        line += 3;
                struct ini_line il;
                const char *why = NULL;
                if (ini_parse_line(line, &il, &why) < 0) {
                        record_error(rd->err, rd->line, "%s", why);
                        return -EINVAL;
                }
                if (il.kind == INI_LINE_SECTION) {
                        if (!section_is_known(il.name)) {
                                record_error(rd->err, rd->line,
                                             "unknown section [%s] (known: [execguard], [block], [allow], "
                                             "[user:NAME], [group:NAME])",
                                             il.name);
                                return -EINVAL;
                        }
                        rd->headers++;
                        rd->header_line = rd->line;
                        strcpy(section, il.name); /* no longer than the line */
                } else if (il.kind == INI_LINE_PAIR) {
                        r = handle_pair(ps, section, il.name, il.value);
                        if (r == -ENOMEM)
                                record_error(rd->err, rd->line, "out of memory");
                        if (r < 0)
                                return r;
                }
        }
        return r;
}

/* ---- building the lookup structures ----------------------------------------------------- */

/* Resolve the symlinks of the longest existing prefix of an absolute path and append the
 * rest unchanged, so "/bin/tool" becomes "/usr/bin/tool" on a merged-/usr host even before
 * tool is installed. Returns a new string. */
static int canonicalize_prefix(const char *path, char **ret) {
        char *resolved = realpath(path, NULL);
        if (resolved) {
                *ret = resolved;
                return 0;
        }
        if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
                return negative_errno();

        const char *slash = strrchr(path, '/');
        if (slash == path || !slash) { /* "/name": the root itself needs no resolving */
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        _cleanup_free_ char *parent = strndup(path, slash - path);
        if (!parent)
                return -ENOMEM;
        _cleanup_free_ char *canonical_parent = NULL;
        int r = canonicalize_prefix(parent, &canonical_parent);
        if (r < 0)
                return r;
        size_t len = strlen(canonical_parent);
        /* realpath("/") is "/": do not double the slash. */
        if (asprintf(ret, "%s%s", len == 1 ? "" : canonical_parent, slash) < 0)
                return -ENOMEM;
        return 0;
}

/* The directories of the rules' paths, each resolved once while a policy is indexed: a
 * policy of 100,000 paths has a few thousand directories, and realpath() walks every
 * component of its argument (the load of such a policy was mostly that). */
struct canon_dir {
        char *text;      /* the directory as the rules write it (the table's key) */
        char *canonical; /* its canonicalize_prefix(), "" for the root */
        bool is_dir;     /* it exists and is a directory: names in it may exist */
};

struct dir_cache {
        struct table dirs; /* text → struct canon_dir */
};

static void dir_cache_done(struct dir_cache *c) {
        for (size_t i = 0; i < c->dirs.capacity; i++) {
                struct canon_dir *d = c->dirs.entries[i].value;
                if (!c->dirs.entries[i].key)
                        continue;
                free(d->text);
                free(d->canonical);
                free(d);
        }
        table_free(&c->dirs);
}

/* A path made only of "/name" components: no "." or "..", no empty component, no
 * trailing slash. Such a path can be resolved one directory at a time. */
static bool path_is_plain(const char *path) {
        if (path[0] != '/' || path[1] == '\0')
                return false;
        for (const char *s = path; *s; s++) {
                if (*s != '/')
                        continue;
                const char *n = s + 1;
                if (*n == '/' || *n == '\0' || (n[0] == '.' && (n[1] == '/' || n[1] == '\0')) ||
                    (n[0] == '.' && n[1] == '.' && (n[2] == '/' || n[2] == '\0')))
                        return false;
        }
        return true;
}

/* What canonicalize_prefix() makes of parent + "/" + name, given the parent's result: the
 * name looked up once (lstat), and resolved fully only when it is a symlink. Stores the
 * path and, when it exists, its stat (*ret_exists). */
static int canonical_child(const struct canon_dir *parent, const char *name, size_t name_len, char **ret,
                           struct stat *ret_st, bool *ret_exists) {
        size_t parent_len = strlen(parent->canonical);
        _cleanup_free_ char *joined = malloc(parent_len + 1 + name_len + 1);
        if (!joined)
                return -ENOMEM;
        memcpy(joined, parent->canonical, parent_len);
        joined[parent_len] = '/';
        memcpy(joined + parent_len + 1, name, name_len);
        joined[parent_len + 1 + name_len] = '\0';
        *ret_exists = false;
        if (parent->is_dir) {
                struct stat st;
                if (lstat(joined, &st) < 0) {
                        if (errno != ENOENT && errno != ENOTDIR && errno != EACCES)
                                return negative_errno();
                } else if (S_ISLNK(st.st_mode)) {
                        char *resolved = realpath(joined, NULL);
                        if (!resolved && errno != ENOENT && errno != ENOTDIR && errno != EACCES)
                                return negative_errno();
                        if (resolved) {
                                free(joined);
                                joined = resolved;
                                *ret_exists = stat(joined, ret_st) == 0;
                        }
                } else {
                        *ret_st = st;
                        *ret_exists = true;
                }
        }
        *ret = TAKE_PTR(joined);
        return 0;
}

/* The cached result for the directory text[0, len) of a plain path; len 0 is the root. */
static int canonical_dir(struct dir_cache *c, const char *text, size_t len, const struct canon_dir **ret) {
        struct canon_dir *d = table_get(&c->dirs, text, len);
        if (d) {
                *ret = d;
                return 0;
        }
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        int r = -ENOMEM;
        d->text = strndup(text, len);
        if (!d->text)
                goto fail;
        if (len == 0) {
                d->canonical = strdup("");
                d->is_dir = true;
                if (!d->canonical)
                        goto fail;
        } else {
                const char *slash = memrchr(text, '/', len);
                const struct canon_dir *parent;
                r = canonical_dir(c, text, (size_t) (slash - text), &parent);
                if (r < 0)
                        goto fail;
                struct stat st;
                bool exists;
                r = canonical_child(parent, slash + 1, len - (size_t) (slash - text) - 1, &d->canonical, &st, &exists);
                if (r < 0)
                        goto fail;
                d->is_dir = exists && S_ISDIR(st.st_mode);
                if (strcmp(d->canonical, "/") == 0)
                        d->canonical[0] = '\0'; /* a symlink to the root */
        }
        r = table_put(&c->dirs, d->text, len, d, NULL);
        if (r < 0)
                goto fail;
        *ret = d;
        return 0;
fail:
        free(d->text);
        free(d->canonical);
        free(d);
        return r;
}

/* canonicalize_prefix(), through the cache of directories, and the stat of the result
 * when it exists (*ret_exists). */
static int canonicalize_cached(struct dir_cache *c, const char *path, char **ret, struct stat *ret_st,
                               bool *ret_exists) {
        if (!path_is_plain(path)) {
                int r = canonicalize_prefix(path, ret);
                if (r < 0)
                        return r;
                *ret_exists = stat(*ret, ret_st) == 0;
                return 0;
        }
        const char *slash = strrchr(path, '/');
        const struct canon_dir *parent;
        int r = canonical_dir(c, path, (size_t) (slash - path), &parent);
        if (r < 0)
                return r;
        return canonical_child(parent, slash + 1, strlen(slash + 1), ret, ret_st, ret_exists);
}

/* Length of the directory prefix of a glob that has no wildcard in it, including its
 * trailing slash: 9 for "/usr/bin/" followed by "*sh". */
static size_t glob_literal_dir_len(const char *glob) {
        size_t dir_end = 1;
        for (size_t i = 1; glob[i]; i++) {
                if (strchr("*?[\\", glob[i]))
                        break;
                if (glob[i] == '/')
                        dir_end = i + 1;
        }
        return dir_end;
}

static int canonicalize_glob(const char *glob, char **ret) {
        size_t dir_len = glob_literal_dir_len(glob);
        if (dir_len <= 1) {
                *ret = strdup(glob);
                return *ret ? 0 : -ENOMEM;
        }
        _cleanup_free_ char *dir = strndup(glob, dir_len - 1);
        _cleanup_free_ char *canonical_dir = NULL;
        if (!dir)
                return -ENOMEM;
        int r = canonicalize_prefix(dir, &canonical_dir);
        if (r < 0)
                return r;
        if (asprintf(ret, "%s/%s", strcmp(canonical_dir, "/") == 0 ? "" : canonical_dir, glob + dir_len) < 0)
                return -ENOMEM;
        return 0;
}

/* The tables a file rule goes in: its section's exemptions, allows or blocks. */
static struct matchset *matchset_of(struct policy *p, const struct rule_slot *slot) {
        struct scope *sc = &p->scopes[slot->scope];
        if (sc->protects)
                return &sc->protected;
        if (slot->rule.exempt)
                return &sc->exempt;
        return slot->rule.allow ? &sc->allow.files : &sc->block.files;
}

static uint64_t hash_string(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
        return h;
}

/* The identity of the file at canonical (whose stat is st, NULL if it does not exist), and
 * its content when match_content wants it. A file that does not exist (yet) is matched by
 * name only. A directory is an error. */
static int identify(struct policy *p, struct rule_slot *slot, struct policy_error *err, bool content,
                    const struct stat *st) {
        struct policy_rule *rule = &slot->rule;
        if (!st)
                return 0;
        if (S_ISDIR(st->st_mode) && !p->scopes[slot->scope].protects) {
                /* The hint names the key that does for the tree what this one meant to do:
                 * "dir =" would block it where an allow or an exemption was meant. */
                if (rule->kind == POLICY_RULE_COMMAND)
                        record_error(err, rule->line, "'%s' is a directory: name a program", rule->text);
                else if (rule->exempt)
                        record_error(err, rule->line,
                                     "'%s' is a directory: name a program, or its tree: trusted_path_exempt = %s/",
                                     rule->text, rule->canonical);
                else
                        record_error(err, rule->line, "'%s' is a directory: name a program, or use %s = %s", rule->text,
                                     strcmp(rule->key, "allow") == 0 ? "allow_dir" : "dir", rule->canonical);
                return -EINVAL;
        }
        slot->id = (struct file_key){ .dev = st->st_dev, .ino = st->st_ino };
        slot->has_id = true;
        /* Copies: the content and the size of every named file that exists, hashed once every
         * rule is indexed (index_contents()). Its reads are started now, to go on meanwhile:
         * with a cold page cache, 1,000 small files read one after the other took 115 ms. */
        if (content && p->match_content && S_ISREG(st->st_mode)) {
                slot->wants_digest = true;
                int fd = open(rule->canonical, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd >= 0) {
                        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
                        safe_close(fd);
                }
        }
        return 0;
}

static int put(struct table *t, const void *key, size_t len, void *value) {
        int r = table_put(t, key, len, value, NULL);
        return r == -EEXIST ? 0 : r;
}

/* The digests of the rules' files, and of hash rules, into their tables in rule order (the
 * first rule of a content is the one reported), with the sizes worth hashing an exec's file
 * for. A file we cannot read is still matched by name and identity. */
static int index_contents(struct policy *p) {
        int r = 0;
        for (size_t i = 0; i < p->n_rules && r >= 0; i++) {
                struct rule_slot *slot = &p->rules[i];
                if (slot->rule.kind == POLICY_RULE_HASH) {
                        r = put(&matchset_of(p, slot)->contents, slot->digest, SHA256_LEN, &slot->rule);
                        continue;
                }
                struct stat st;
                if (!slot->wants_digest || identity_sha256_path(slot->rule.canonical, slot->digest, &st) < 0)
                        continue;
                struct matchset *ms = matchset_of(p, slot);
                slot->has_digest = true;
                slot->size = (uint64_t) st.st_size;
                /* A command's program is compared with its own digest (program_matches()). */
                if (slot->rule.kind != POLICY_RULE_COMMAND)
                        r = put(&ms->contents, slot->digest, SHA256_LEN, &slot->rule);
                if (r >= 0)
                        r = put(&ms->sizes, &slot->size, sizeof slot->size, &slot->rule);
        }
        return r;
}

/* A command rule: its program made canonical like a path or glob rule, identified, and
 * the rule put on its section's list. */
/* A rule naming what does not exist is kept: the file may appear later (a package not yet
 * installed), and is then blocked. But "path = /usr/bin/dff" must not pass in silence. */
static int warn_missing(struct policy *p, const struct policy_rule *rule, const char *what) {
        return add_warning(p, rule->line, "%s = %s: no such %s; the rule will apply if it appears", rule->key,
                           rule->text, what);
}

/* An enforcing policy that can block nothing: no block rule, every file allowed by default
 * and no trusted path (a file cut short at a line break, say). Not an error: such a policy
 * is valid, and may be meant; but it is loud. */
static int warn_blocks_nothing(struct policy *p) {
        if (p->mode != POLICY_MODE_ENFORCE || policy_default_rule(p) || policy_trusted_path_rule(p) ||
            policy_fileless_rule(p) || p->protected_ops)
                return 0;
        for (size_t i = 0; i < p->n_rules; i++)
                if (!p->rules[i].rule.allow && !p->rules[i].rule.exempt)
                        return 0;
        return add_warning(p, 0,
                           "the policy blocks nothing: mode = enforce, no rule blocks, default = allow and "
                           "trusted_path = no; every program may run");
}

static int index_command(struct policy *p, struct rule_slot *slot, struct policy_error *err) {
        struct policy_rule *rule = &slot->rule;
        _cleanup_free_ char *program = TAKE_PTR(rule->canonical); /* as written */
        bool glob = has_glob_chars(program);
        int r = glob ? canonicalize_glob(program, &rule->canonical) : canonicalize_prefix(program, &rule->canonical);
        if (r < 0) {
                record_error(err, rule->line, "cannot resolve program '%s': %s", program, strerror(-r));
                return -EINVAL;
        }
        slot->path_hash = hash_string(rule->canonical);
        slot->program_glob = glob;
        if (!glob) {
                struct stat st;
                bool exists = stat(rule->canonical, &st) == 0;
                r = identify(p, slot, err, true, exists ? &st : NULL);
                if (r >= 0 && !exists)
                        r = warn_missing(p, rule, "file");
                if (r < 0)
                        return r;
        }
        struct scope *sc = &p->scopes[slot->scope];
        struct ruleset *rs = rule->allow ? &sc->allow : &sc->block;
        struct rule_slot **commands = reallocarray(rs->commands, rs->n_commands + 1, sizeof *commands);
        if (!commands)
                return -ENOMEM;
        rs->commands = commands;
        commands[rs->n_commands++] = slot;
        return 0;
}

static int index_rule(struct policy *p, struct dir_cache *dirs, struct rule_slot *slot, struct policy_error *err) {
        struct policy_rule *rule = &slot->rule;
        int r;

        rule->scope = p->scopes[slot->scope].name;
        if (rule->kind == POLICY_RULE_COMMAND)
                return index_command(p, slot, err);
        struct matchset *ms = matchset_of(p, slot);
        if (rule->kind == POLICY_RULE_GLOB) {
                r = canonicalize_glob(rule->text, &rule->canonical);
                if (r < 0)
                        return r;
                size_t dir_len = glob_literal_dir_len(rule->canonical);
                void *first = NULL;
                r = table_put(&ms->glob_dirs, rule->canonical, dir_len, rule, &first);
                if (r == -EEXIST) {
                        /* Append, so globs in one bucket are tried in file order. */
                        struct policy_rule *last = first;
                        while (last->next_in_bucket)
                                last = last->next_in_bucket;
                        last->next_in_bucket = rule;
                        r = 0;
                }
                return r;
        }

        if (rule->kind == POLICY_RULE_HASH) {
                rule->canonical = strdup(rule->text);
                if (!rule->canonical)
                        return -ENOMEM;
                (void) identity_parse_sha256(rule->text, slot->digest); /* validated when parsed */
                ms->hash_every_file = true;
                return 0; /* into ms->contents by index_contents() */
        }

        struct stat st;
        bool exists;
        r = canonicalize_cached(dirs, rule->text, &rule->canonical, &st, &exists);
        if (r < 0) {
                record_error(err, rule->line, "cannot resolve path '%s': %s", rule->text, strerror(-r));
                return -EINVAL;
        }
        if (rule->kind == POLICY_RULE_DIR) {
                if (exists && !S_ISDIR(st.st_mode)) {
                        record_error(err, rule->line, "'%s' is not a directory: use %s = %s", rule->text,
                                     strcmp(rule->key, "allow_dir") == 0 ? "allow" : "path", rule->canonical);
                        return -EINVAL;
                }
                if (!exists && (r = warn_missing(p, rule, "directory")) < 0)
                        return r;
                /* The key ends in a slash, so "/opt/tools" does not take "/opt/toolsx". */
                size_t len = strlen(rule->canonical);
                if (rule->canonical[len - 1] != '/') {
                        char *with_slash = realloc(rule->canonical, len + 2);
                        if (!with_slash)
                                return -ENOMEM;
                        memcpy(with_slash + len, "/", 2);
                        rule->canonical = with_slash;
                        len++;
                }
                return put(&ms->dirs, rule->canonical, len, rule);
        }

        r = identify(p, slot, err, !rule->exempt && !p->scopes[slot->scope].protects, exists ? &st : NULL);
        if (r >= 0 && !exists)
                r = warn_missing(p, rule, "file");
        if (r < 0)
                return r;
        /* Two rules naming one file (say /bin/df and /usr/bin/df) are harmless: the first
         * one is reported. */
        r = put(&ms->paths, rule->canonical, strlen(rule->canonical), rule);
        if (r >= 0 && slot->has_id)
                r = put(&ms->identities, &slot->id, sizeof slot->id, rule);
        return r;
}

/* parent = PATTERN, made canonical like a path or glob rule and identified. */
static int index_parent(struct parent_pattern *pp, struct policy_error *err) {
        pp->glob = has_glob_chars(pp->text);
        int r = pp->glob ? canonicalize_glob(pp->text, &pp->canonical) : canonicalize_prefix(pp->text, &pp->canonical);
        if (r < 0) {
                record_error(err, pp->line, "cannot resolve parent '%s': %s", pp->text, strerror(-r));
                return -EINVAL;
        }
        struct stat st;
        if (!pp->glob && stat(pp->canonical, &st) == 0) {
                pp->id = (struct file_key){ .dev = st.st_dev, .ino = st.st_ino };
                pp->has_id = true;
        }
        return 0;
}

/* Sections one user, one group, or everybody may have: what a process's sections may add up
 * to stays within POLICY_SUBJECT_SCOPES_MAX, so that no exec is refused for it (-E2BIG)
 * unless the process is in very many groups with sections. */
#define SECTIONS_PER_SUBJECT_MAX 32

/* Chain the sections of one subject in file order. */
static int chain_scope(struct table *t, struct scope *sc, struct policy_error *err) {
        void *first = NULL;
        int r = table_put(t, &sc->id, sizeof sc->id, sc, &first);
        if (r != -EEXIST)
                return r;
        struct scope *last = first;
        size_t n = 2;
        for (; last->next; last = last->next)
                n++;
        if (n > SECTIONS_PER_SUBJECT_MAX) {
                record_error(err, sc->header_line, "more than %d [%s] sections", SECTIONS_PER_SUBJECT_MAX, sc->name);
                return -EINVAL;
        }
        last->next = sc;
        return 0;
}

static int policy_index(struct policy *p, struct policy_error *err) {
        struct scope **global_tail = &p->global;
        size_t n_global = 0;
        for (size_t i = 0; i < p->n_scopes; i++) {
                struct scope *sc = &p->scopes[i];
                int r = 0;
                for (size_t k = 0; k < sc->n_parents && r >= 0; k++)
                        r = index_parent(&sc->parents[k], err);
                if (r < 0)
                        return r;
                if (sc->protects && !sc->deny_ops) {
                        record_error(err, sc->header_line,
                                     "[%s] says what it protects but not from what: add deny =", sc->name);
                        return -EINVAL;
                }
                if (sc->kind == POLICY_SCOPE_GLOBAL) {
                        if (sc->taken && ++n_global > SECTIONS_PER_SUBJECT_MAX) {
                                record_error(err, sc->header_line, "more than %d [block] and [allow] sections",
                                             SECTIONS_PER_SUBJECT_MAX);
                                return -EINVAL;
                        }
                        *global_tail = sc;
                        global_tail = &sc->next;
                        continue;
                }
                if (sc->unknown)
                        continue; /* nobody's: never chained to a subject */
                p->has_user_or_group = true;
                r = chain_scope(sc->kind == POLICY_SCOPE_USER ? &p->users : &p->groups, sc, err);
                if (r < 0)
                        return r;
        }
        /* The path tables at their final size at once: no growing through a dozen
         * doublings, each touching fresh memory, for 100,000 rules. */
        _cleanup_free_ size_t *paths = calloc(p->n_scopes ? p->n_scopes : 1, sizeof *paths);
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].rule.kind == POLICY_RULE_PATH)
                        paths[p->rules[i].scope]++;
        for (size_t i = 0; i < p->n_rules; i++) {
                struct rule_slot *slot = &p->rules[i];
                if (slot->rule.kind == POLICY_RULE_PATH && paths[slot->scope] &&
                    table_reserve(&matchset_of(p, slot)->paths, paths[slot->scope]) < 0)
                        return -ENOMEM;
        }
        struct dir_cache dirs = {};
        int r = 0;
        for (size_t i = 0; i < p->n_rules && r >= 0; i++)
                r = index_rule(p, &dirs, &p->rules[i], err);
        dir_cache_done(&dirs);
        if (r >= 0)
                r = warn_blocks_nothing(p);
        return r < 0 ? r : index_contents(p);
}

static int carry_formers(struct policy *p, const struct policy *old);

/* Index the parsed rules of *pp (carrying over what old's files were, if old is given) and
 * hand the policy out, or say why not. */
static int compare_warnings(const void *a, const void *b) {
        unsigned la = ((const struct policy_warning *) a)->line, lb = ((const struct policy_warning *) b)->line;
        la = la ? la : UINT_MAX;
        lb = lb ? lb : UINT_MAX;
        return la < lb ? -1 : la > lb;
}

static int index_and_hand_out(struct policy **pp, const struct policy *old, struct policy **ret_policy,
                              struct policy_error *reterr) {
        struct policy_error err = {};
        int r = policy_index(*pp, &err);
        if (r >= 0 && old)
                r = carry_formers(*pp, old);
        if (r < 0) {
                if (reterr) {
                        if (err.line == 0)
                                snprintf(err.message, sizeof err.message, "%s", strerror(-r));
                        *reterr = err;
                }
                return r;
        }
        /* Warnings in file order (those of sections come from the parse, of files from the
         * index), the policy-wide ones last. */
        struct policy *p = *pp;
        if (p->n_warnings > 1)
                qsort(p->warnings, p->n_warnings, sizeof *p->warnings, compare_warnings);
        *ret_policy = TAKE_PTR(*pp);
        return 0;
}

/* ---- public API ------------------------------------------------------------------------- */

int policy_parse(FILE *stream, const char *name, struct policy **ret_policy, struct policy_error *reterr) {
        struct policy_error err = {};
        _cleanup_(policy_freep) struct policy *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->source = strdup(name);
        if (!p->source)
                return -ENOMEM;
        p->match_content = true;
        p->settings.no_new_privs = true;
        p->settings.max_sessions_per_user = POLICY_MAX_SESSIONS_PER_USER_DEFAULT;
        p->settings.max_pending_per_user = POLICY_MAX_PENDING_PER_USER_DEFAULT;
        p->settings.resolve_timeout = POLICY_RESOLVE_TIMEOUT_DEFAULT;
        p->settings.max_path = POLICY_MAX_PATH_DEFAULT;
        p->settings.max_args = POLICY_MAX_ARGS_DEFAULT;
        p->settings.max_argv_bytes = POLICY_MAX_ARGV_BYTES_DEFAULT;

        struct parser ps = {
                .policy = p,
                .reader = { .stream = stream, .err = &err },
        };
        int r = add_scope(p, &ps.scopes_allocated, &(struct scope){ .kind = POLICY_SCOPE_GLOBAL }, NULL);
        if (r < 0)
                return r;
        r = read_lines(&ps);
        if (r < 0 || err.line != 0 || ferror(stream)) {
                if (ferror(stream) && err.line == 0)
                        snprintf(err.message, sizeof err.message, "read error");
                else if (err.line == 0)
                        record_error(&err, ps.reader.line, "%s", r == -ENOMEM ? "out of memory" : "invalid line");
                if (reterr)
                        *reterr = err;
                return r == -ENOMEM ? -ENOMEM : -EINVAL;
        }

        return index_and_hand_out(&p, NULL, ret_policy, reterr);
}

int policy_load(const char *path, struct policy **ret_policy, struct policy_error *reterr) {
        struct policy_error err = {};
        /* O_NOFOLLOW: the administrator names the file; a symlink planted in its place is
         * refused rather than followed. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = negative_errno();
                snprintf(err.message, sizeof err.message, "%s%s", strerror(-r),
                         r == -ELOOP ? " (the policy file must not be a symlink)" : "");
                if (reterr)
                        *reterr = err;
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode)) {
                snprintf(err.message, sizeof err.message, "not a regular file");
                if (reterr)
                        *reterr = err;
                return -EINVAL;
        }
        if (st.st_uid != 0 && st.st_uid != geteuid()) {
                snprintf(err.message, sizeof err.message, "owned by uid %u, not by root or by you",
                         (unsigned) st.st_uid);
                if (reterr)
                        *reterr = err;
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(err.message, sizeof err.message, "writable by group or others (mode %04o); chmod go-w it",
                         (unsigned) (st.st_mode & 07777));
                if (reterr)
                        *reterr = err;
                return -EPERM;
        }
        /* An empty file is what a truncation or an interrupted write leaves: as a policy it
         * would block nothing, and a reload would put that in force. */
        if (st.st_size == 0) {
                snprintf(err.message, sizeof err.message,
                         "empty file (truncated?); a policy that blocks nothing still has its [execguard] section");
                if (reterr)
                        *reterr = err;
                return -ENODATA;
        }

        FILE *f = fdopen(fd, "re");
        if (!f)
                return negative_errno();
        TAKE_FD(fd);
        int r = policy_parse(f, path, ret_policy, reterr);
        fclose(f);
        return r;
}

/* Keep what the files of old's rules were, where they are no longer so, as formers of p. */
static int carry_formers(struct policy *p, const struct policy *old) {
        size_t max = old->n_formers + old->n_rules;
        p->formers = calloc(max ? max : 1, sizeof *p->formers);
        if (!p->formers)
                return -ENOMEM;
        for (size_t i = 0; i < old->n_formers; i++)
                p->formers[p->n_formers++] = old->formers[i];
        for (size_t i = 0; i < old->n_rules; i++) {
                const struct rule_slot *was = &old->rules[i], *now = &p->rules[i];
                /* Only what was blocked stays so: an allow names the file as it is now (an
                 * upgrade's old, perhaps vulnerable, program is not allowed on), and a
                 * command's program is known as it is now. */
                if (was->rule.kind == POLICY_RULE_COMMAND || was->rule.allow || was->rule.exempt)
                        continue;
                bool same_id = now->has_id && was->id.dev == now->id.dev && was->id.ino == now->id.ino;
                bool same_digest = now->has_digest && memcmp(was->digest, now->digest, SHA256_LEN) == 0;
                if (!was->has_id || (same_id && (!was->has_digest || same_digest)))
                        continue;
                p->formers[p->n_formers++] = (struct former_file){
                        .id = was->id,
                        .has_digest = was->has_digest,
                        .size = was->size,
                        .rule = i,
                };
                memcpy(p->formers[p->n_formers - 1].digest, was->digest, SHA256_LEN);
        }
        if (p->n_formers > FORMERS_MAX) {
                size_t drop = p->n_formers - FORMERS_MAX;
                memmove(p->formers, p->formers + drop, FORMERS_MAX * sizeof *p->formers);
                p->n_formers = FORMERS_MAX;
        }
        /* The files of the current rules come first in the tables (table_put keeps the
         * first entry of a key); formers only add what is not known yet. */
        for (size_t i = 0; i < p->n_formers; i++) {
                struct former_file *f = &p->formers[i];
                struct policy_rule *rule = &p->rules[f->rule].rule;
                struct matchset *ms = matchset_of(p, &p->rules[f->rule]);
                int r = put(&ms->identities, &f->id, sizeof f->id, rule);
                if (r < 0)
                        return r;
                if (!f->has_digest || !p->match_content)
                        continue;
                r = put(&ms->contents, f->digest, SHA256_LEN, rule);
                if (r >= 0)
                        r = put(&ms->sizes, &f->size, sizeof f->size, rule);
                if (r < 0)
                        return r;
        }
        return 0;
}

void policy_error_format(const char *path, int r, const struct policy_error *err, char *buf, size_t size) {
        if (err->line)
                snprintf(buf, size, "%s:%u: %s", path, err->line, err->message);
        else
                snprintf(buf, size, "%s: %s", path, err->message[0] ? err->message : strerror(-r));
}

int policy_reidentify(const struct policy *old, struct policy **ret_policy, struct policy_error *reterr) {
        _cleanup_(policy_freep) struct policy *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->source = strdup(old->source);
        p->rules = calloc(old->n_rules ? old->n_rules : 1, sizeof *p->rules);
        if (!p->source || !p->rules)
                return -ENOMEM;
        size_t scopes_allocated = 0;
        for (size_t i = 0; i < old->n_scopes; i++) {
                int r = add_scope(p, &scopes_allocated, &old->scopes[i], old->scopes[i].name);
                if (r < 0)
                        return r;
        }
        p->mode = old->mode;
        p->action = old->action;
        p->match_content = old->match_content;
        p->fileless = old->fileless;
        p->default_deny = old->default_deny;
        p->trusted_path = old->trusted_path;
        p->has_windows = old->has_windows;
        p->has_parents = old->has_parents;
        p->has_commands = old->has_commands;
        p->protected_ops = old->protected_ops;
        p->settings = old->settings;
        if (old->settings.log_file && !(p->settings.log_file = strdup(old->settings.log_file)))
                return -ENOMEM;
        for (size_t i = 0; i < old->n_rules; i++) {
                const struct policy_rule *was = &old->rules[i].rule;
                struct rule_slot *slot = &p->rules[p->n_rules];
                *slot = (struct rule_slot){
                        .rule = { .kind = was->kind,
                                  .line = was->line,
                                  .allow = was->allow,
                                  .exempt = was->exempt,
                                  .key = was->key,
                                  .any_more_args = was->any_more_args },
                        .scope = old->rules[i].scope,
                };
                p->n_rules++;
                slot->rule.text = strdup(was->text);
                if (!slot->rule.text)
                        return -ENOMEM;
                if (was->kind != POLICY_RULE_COMMAND)
                        continue;
                /* index_command() takes the program as written; the canonical one is as good. */
                slot->rule.canonical = strdup(was->canonical);
                slot->rule.arg_patterns = calloc(was->n_arg_patterns ? was->n_arg_patterns : 1, sizeof(char *));
                if (!slot->rule.canonical || !slot->rule.arg_patterns)
                        return -ENOMEM;
                for (size_t k = 0; k < was->n_arg_patterns; k++) {
                        if (!(slot->rule.arg_patterns[k] = strdup(was->arg_patterns[k])))
                                return -ENOMEM;
                        slot->rule.n_arg_patterns++;
                }
        }
        return index_and_hand_out(&p, old, ret_policy, reterr);
}

size_t policy_n_warnings(const struct policy *p) {
        return p->n_warnings + (p->n_warnings_more ? 1 : 0);
}

void policy_warning_format(const struct policy *p, size_t i, char *buf, size_t size) {
        if (i == p->n_warnings)
                snprintf(buf, size, "%s: warning: %zu more warnings like these", p->source, p->n_warnings_more);
        else if (p->warnings[i].line)
                snprintf(buf, size, "%s:%u: warning: %s", p->source, p->warnings[i].line, p->warnings[i].message);
        else
                snprintf(buf, size, "%s: warning: %s", p->source, p->warnings[i].message);
}

size_t policy_n_rules(const struct policy *p) {
        return p->n_rules;
}

const struct policy_rule *policy_rule_at(const struct policy *p, size_t i) {
        return i < p->n_rules ? &p->rules[i].rule : NULL;
}

static void matchset_free(struct matchset *ms) {
        table_free(&ms->paths);
        table_free(&ms->identities);
        table_free(&ms->glob_dirs);
        table_free(&ms->dirs);
        table_free(&ms->contents);
        table_free(&ms->sizes);
}

static void ruleset_free(struct ruleset *rs) {
        matchset_free(&rs->files);
        free(rs->commands);
}

void policy_free(struct policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++) {
                struct policy_rule *rule = &p->rules[i].rule;
                free(rule->text);
                free(rule->canonical);
                for (size_t k = 0; k < rule->n_arg_patterns; k++)
                        free(rule->arg_patterns[k]);
                free(rule->arg_patterns);
        }
        free(p->rules);
        free(p->formers);
        for (size_t i = 0; i < p->n_scopes; i++) {
                struct scope *sc = &p->scopes[i];
                ruleset_free(&sc->block);
                ruleset_free(&sc->allow);
                matchset_free(&sc->exempt);
                matchset_free(&sc->protected);
                for (size_t k = 0; k < sc->n_parents; k++) {
                        free(sc->parents[k].text);
                        free(sc->parents[k].canonical);
                }
                free(sc->parents);
                free(sc->name);
        }
        free(p->scopes);
        free(p->warnings);
        table_free(&p->users);
        table_free(&p->groups);
        free(p->settings.log_file);
        free(p->source);
        free(p);
}

enum policy_mode policy_mode(const struct policy *p) {
        return p->mode;
}

enum policy_action policy_action(const struct policy *p) {
        return p->action;
}

const struct policy_settings *policy_settings(const struct policy *p) {
        return &p->settings;
}

const char *policy_source(const struct policy *p) {
        return p->source;
}

/* The rule of ms that names the file: by identity, path, glob, directory, or (digest
 * given) content. */
static const struct policy_rule *matchset_match(const struct matchset *ms, const char *canonical_path,
                                                const struct stat *st, const uint8_t *digest) {
        const struct policy_rule *rule;

        if (st && ms->identities.count != 0) {
                struct file_key id = { .dev = st->st_dev, .ino = st->st_ino };
                rule = table_get(&ms->identities, &id, sizeof id);
                if (rule)
                        return rule;
        }
        if (ms->paths.count != 0) {
                rule = table_get(&ms->paths, canonical_path, strlen(canonical_path));
                if (rule)
                        return rule;
        }
        /* One probe per directory level: only globs whose literal directory is a prefix of
         * the path are ever tried, and only trees that hold it. */
        if (ms->glob_dirs.count != 0 || ms->dirs.count != 0)
                for (const char *s = canonical_path; (s = strchr(s, '/')); s++) {
                        size_t len = (size_t) (s - canonical_path) + 1;
                        if (ms->dirs.count != 0 && (rule = table_get(&ms->dirs, canonical_path, len)))
                                return rule;
                        for (rule = ms->glob_dirs.count ? table_get(&ms->glob_dirs, canonical_path, len) : NULL; rule;
                             rule = rule->next_in_bucket)
                                if (fnmatch(rule->canonical, canonical_path, FNM_PATHNAME) == 0)
                                        return rule;
                }
        return digest && ms->contents.count != 0 ? table_get(&ms->contents, digest, SHA256_LEN) : NULL;
}

/* Is the file the program of command rule slot: by identity, path, glob or content? */
static bool program_matches(const struct rule_slot *slot, const char *canonical_path, uint64_t path_hash,
                            const struct stat *st, const uint8_t *digest) {
        if (slot->has_id && st && slot->id.dev == (uint64_t) st->st_dev && slot->id.ino == (uint64_t) st->st_ino)
                return true;
        /* A glob is matched as a glob only, as a path rule's is: "/opt/my\ tool" names
         * "/opt/my tool", not a file called "my\ tool". */
        if (slot->program_glob)
                return fnmatch(slot->rule.canonical, canonical_path, FNM_PATHNAME) == 0;
        if (slot->path_hash == path_hash && strcmp(slot->rule.canonical, canonical_path) == 0)
                return true;
        return slot->has_digest && digest && memcmp(slot->digest, digest, SHA256_LEN) == 0;
}

/* Word i of args. */
static const char *arg_word(const struct policy_args *args, size_t i, const char **cursor) {
        if (i < args->n_pre)
                return args->pre[i];
        if (i == args->n_pre)
                *cursor = args->tail;
        else
                *cursor += strlen(*cursor) + 1;
        return *cursor;
}

/* Do the arguments match the rule's patterns, one glob per argument, and a last lone '*'
 * any number more? */
static bool args_match(const struct policy_rule *rule, const struct policy_args *args) {
        size_t n = args->n_pre + args->n_tail;
        if (n < rule->n_arg_patterns || (n > rule->n_arg_patterns && !rule->any_more_args))
                return false;
        const char *cursor = NULL;
        for (size_t i = 0; i < rule->n_arg_patterns; i++)
                if (fnmatch(rule->arg_patterns[i], arg_word(args, i, &cursor), 0) != 0)
                        return false;
        return true;
}

/* The rule of rs that names the file (with these arguments, for a command rule). Without
 * the arguments a command rule blocks its program, and allows nothing. path_hash is
 * hash_string(canonical_path), taken once per file by the caller. */
static const struct policy_rule *ruleset_match(const struct ruleset *rs, const char *canonical_path, uint64_t path_hash,
                                               const struct stat *st, const uint8_t *digest,
                                               const struct policy_args *args) {
        const struct policy_rule *rule = matchset_match(&rs->files, canonical_path, st, digest);
        if (rule || rs->n_commands == 0)
                return rule;
        for (size_t i = 0; i < rs->n_commands; i++) {
                const struct rule_slot *slot = rs->commands[i];
                if (!program_matches(slot, canonical_path, path_hash, st, digest))
                        continue;
                if (args ? args_match(&slot->rule, args) : !slot->rule.allow)
                        return &slot->rule;
        }
        return NULL;
}

static bool matchset_wants_content(const struct policy *p, const struct matchset *ms, uint64_t size) {
        if (ms->hash_every_file)
                return true;
        return p->match_content && ms->sizes.count != 0 && table_get(&ms->sizes, &size, sizeof size);
}

bool policy_has_scopes(const struct policy *p) {
        return p->has_user_or_group;
}

bool policy_has_windows(const struct policy *p) {
        return p->has_windows;
}

bool policy_has_parents(const struct policy *p) {
        return p->has_parents;
}

bool policy_has_commands(const struct policy *p) {
        return p->has_commands;
}

/* Is the program ctx names matched by pattern pp? By identity, path or glob. */
static bool parent_matches(const struct parent_pattern *pp, const struct policy_context *ctx) {
        const struct stat *st = ctx->parent_st;
        if (pp->has_id && st && pp->id.dev == (uint64_t) st->st_dev && pp->id.ino == (uint64_t) st->st_ino)
                return true;
        if (pp->glob)
                return fnmatch(pp->canonical, ctx->parent, FNM_PATHNAME) == 0;
        return strcmp(pp->canonical, ctx->parent) == 0;
}

/* Do sc's conditions hold for an exec in ctx? -ENODATA: ctx does not know what they need. */
static int scope_applies(const struct scope *sc, const struct policy_context *ctx) {
        if (sc->has_hours || sc->days) {
                if (!ctx || !ctx->time_known)
                        return -ENODATA;
                if (sc->days && !(sc->days & (1u << ctx->weekday)))
                        return 0;
                if (sc->has_hours) {
                        unsigned m = (unsigned) ctx->minute;
                        bool in = sc->from_minute < sc->to_minute ? m >= sc->from_minute && m < sc->to_minute
                                                                  : m >= sc->from_minute || m < sc->to_minute;
                        if (!in)
                                return 0;
                }
        }
        if (sc->n_parents) {
                if (!ctx || !ctx->parent)
                        return -ENODATA;
                for (size_t i = 0; i < sc->n_parents; i++)
                        if (parent_matches(&sc->parents[i], ctx))
                                return 1;
                return 0;
        }
        return 1;
}

/* Append the sections from first on (a chain) that apply, to subj's current level. */
static int add_chain(struct policy_subject *subj, size_t *n, const struct scope *first,
                     const struct policy_context *ctx) {
        for (const struct scope *sc = first; sc; sc = sc->next) {
                int r = scope_applies(sc, ctx);
                if (r == -ENODATA && !ctx)
                        continue; /* nothing known: only unconditional sections */
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                bool seen = false;
                for (size_t k = 0; k < *n && !seen; k++)
                        seen = subj->scopes[k] == sc;
                if (seen)
                        continue;
                if (*n == POLICY_SUBJECT_SCOPES_MAX)
                        return -E2BIG;
                subj->scopes[(*n)++] = sc;
        }
        return 0;
}

int policy_subject_init(const struct policy *p, uid_t uid, const gid_t *gids, size_t n_gids,
                        const struct policy_context *ctx, struct policy_subject *ret) {
        struct policy_subject subj = { .uid = uid };
        size_t n = 0;
        int r = 0;
        if (p->users.count)
                r = add_chain(&subj, &n, table_get(&p->users, &(uint32_t){ uid }, sizeof(uint32_t)), ctx);
        subj.level_end[0] = n;
        for (size_t i = 0; r >= 0 && p->groups.count && i < n_gids; i++)
                r = add_chain(&subj, &n, table_get(&p->groups, &(uint32_t){ gids[i] }, sizeof(uint32_t)), ctx);
        subj.level_end[1] = n;
        if (r >= 0)
                r = add_chain(&subj, &n, p->global, ctx);
        subj.level_end[2] = n;
        if (r < 0)
                return r;
        *ret = subj;
        return 0;
}

void policy_subject_global(const struct policy *p, struct policy_subject *ret) {
        *ret = (struct policy_subject){ .uid = (uid_t) -1 };
        size_t n = 0;
        (void) add_chain(ret, &n, p->global, NULL); /* -E2BIG: the first sections are enough */
        ret->level_end[2] = n;
}

bool policy_wants_content(const struct policy *p, const struct policy_subject *subj, off_t size) {
        struct policy_subject global;
        if (!subj) {
                policy_subject_global(p, &global);
                subj = &global;
        }
        for (size_t i = 0; i < subj->level_end[2]; i++) {
                const struct scope *sc = subj->scopes[i];
                if (matchset_wants_content(p, &sc->block.files, (uint64_t) size) ||
                    matchset_wants_content(p, &sc->allow.files, (uint64_t) size))
                        return true;
        }
        return false;
}

const struct policy_rule *policy_decide(const struct policy *p, const struct policy_subject *subj,
                                        const char *canonical_path, const struct stat *st, const uint8_t *digest,
                                        const struct policy_args *args) {
        struct policy_subject global;
        if (!subj) {
                policy_subject_global(p, &global);
                subj = &global;
        }
        size_t begin = 0;
        /* Command rules compare their program's path by this first: one hash per file. */
        uint64_t path_hash = p->has_commands ? hash_string(canonical_path) : 0;
        for (unsigned level = 0; level < 3; level++) {
                const struct policy_rule *allowed = NULL;
                for (size_t i = begin; i < subj->level_end[level]; i++) {
                        const struct scope *sc = subj->scopes[i];
                        const struct policy_rule *rule =
                                ruleset_match(&sc->block, canonical_path, path_hash, st, digest, args);
                        if (rule)
                                return rule; /* within a level, a block beats an allow */
                        if (!allowed)
                                allowed = ruleset_match(&sc->allow, canonical_path, path_hash, st, digest, args);
                }
                if (allowed)
                        return allowed;
                begin = subj->level_end[level];
        }
        return NULL;
}

unsigned policy_protected_ops(const struct policy *p) {
        return p->protected_ops;
}

const struct policy_rule *policy_protects(const struct policy *p, const struct policy_subject *subj, unsigned op,
                                          const char *canonical_path, const struct stat *st) {
        if (!(p->protected_ops & op))
                return NULL;
        struct policy_subject global;
        if (!subj) {
                policy_subject_global(p, &global);
                subj = &global;
        }
        size_t len = strlen(canonical_path);
        for (size_t i = 0; i < subj->level_end[2]; i++) {
                const struct scope *sc = subj->scopes[i];
                if (!sc->protects || !(sc->deny_ops & op))
                        continue;
                const struct policy_rule *rule = matchset_match(&sc->protected, canonical_path, st, NULL);
                if (rule)
                        return rule;
                /* dir = /etc/ssh protects the directory itself too: it holds the rest. */
                if (sc->protected.dirs.count && len + 1 < EG_PATH_MAX) {
                        char with_slash[EG_PATH_MAX];
                        memcpy(with_slash, canonical_path, len);
                        memcpy(with_slash + len, "/", 2);
                        rule = table_get(&sc->protected.dirs, with_slash, len + 1);
                        if (rule)
                                return rule;
                }
        }
        return NULL;
}

/* Whether the glob or path pattern names something beneath dir (no slash at its end): its
 * first components match dir's and it has more. */
static bool pattern_beneath(const char *pattern, bool glob, const char *dir) {
        size_t depth = 0;
        for (const char *s = dir; *s; s++)
                depth += *s == '/';
        const char *end = pattern; /* the slash after dir's depth of components */
        for (size_t n = 0; n < depth && end; n++)
                end = strchr(end + 1, '/');
        if (!end || end[1] == '\0')
                return false; /* nothing below dir's depth */
        char prefix[EG_PATH_MAX];
        size_t len = (size_t) (end - pattern);
        if (len >= sizeof prefix)
                return false;
        memcpy(prefix, pattern, len);
        prefix[len] = '\0';
        return glob ? fnmatch(prefix, dir, FNM_PATHNAME) == 0 : strcmp(prefix, dir) == 0;
}

const struct policy_rule *policy_protects_beneath(const struct policy *p, const struct policy_subject *subj,
                                                  unsigned op, const char *canonical_dir) {
        if (!(p->protected_ops & op))
                return NULL;
        struct policy_subject global;
        if (!subj) {
                policy_subject_global(p, &global);
                subj = &global;
        }
        if (strcmp(canonical_dir, "/") == 0)
                canonical_dir = ""; /* every pattern is beneath the root */
        /* A scan of the protect rules: only for a directory being moved, which is rare. */
        for (size_t i = 0; i < subj->level_end[2]; i++) {
                const struct scope *sc = subj->scopes[i];
                if (!sc->protects || !(sc->deny_ops & op))
                        continue;
                size_t index = (size_t) (sc - p->scopes);
                for (size_t k = 0; k < p->n_rules; k++) {
                        const struct rule_slot *slot = &p->rules[k];
                        if (slot->scope == index &&
                            pattern_beneath(slot->rule.canonical, slot->rule.kind == POLICY_RULE_GLOB, canonical_dir))
                                return &slot->rule;
                }
        }
        return NULL;
}

bool policy_trusted_path_exempt(const struct policy *p, const struct policy_subject *subj, const char *canonical_path,
                                const struct stat *st) {
        struct policy_subject global;
        if (!subj) {
                policy_subject_global(p, &global);
                subj = &global;
        }
        for (size_t i = 0; i < subj->level_end[2]; i++)
                if (matchset_match(&subj->scopes[i]->exempt, canonical_path, st, NULL))
                        return true;
        return false;
}

const struct policy_rule *policy_default_rule(const struct policy *p) {
        return p->default_deny.kind == POLICY_RULE_DEFAULT ? &p->default_deny : NULL;
}

const struct policy_rule *policy_trusted_path_rule(const struct policy *p) {
        return p->trusted_path.kind == POLICY_RULE_TRUSTED_PATH ? &p->trusted_path : NULL;
}

const struct policy_rule *policy_fileless_rule(const struct policy *p) {
        return p->fileless.kind == POLICY_RULE_FILELESS ? &p->fileless : NULL;
}

const char *policy_rule_kind_to_string(enum policy_rule_kind k) {
        switch (k) {
        case POLICY_RULE_PATH:
                return "path";
        case POLICY_RULE_GLOB:
                return "glob";
        case POLICY_RULE_HASH:
                return "hash";
        case POLICY_RULE_DIR:
                return "dir";
        case POLICY_RULE_COMMAND:
                return "command";
        case POLICY_RULE_FILELESS:
                return "fileless";
        case POLICY_RULE_DEFAULT:
                return "default";
        case POLICY_RULE_TRUSTED_PATH:
                return "trusted_path";
        }
        return "?";
}

const char *policy_mode_to_string(enum policy_mode m) {
        return m == POLICY_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_action_to_string(enum policy_action a) {
        return a == POLICY_ACTION_KILL ? "kill" : "deny";
}

const char *policy_verifier_to_string(enum policy_verifier v) {
        switch (v) {
        case POLICY_VERIFIER_AUTO:
                return "auto";
        case POLICY_VERIFIER_KERNEL:
                return "kernel";
        case POLICY_VERIFIER_PTRACE:
                return "ptrace";
        }
        return "?";
}

void policy_dump(const struct policy *p, FILE *out) {
        fprintf(out,
                "source = %s\nmode = %s\naction = %s\ndefault = %s\ntrusted_path = %s\nmatch_content = %s\n"
                "fileless = %s\n",
                p->source, policy_mode_to_string(p->mode), policy_action_to_string(p->action),
                policy_default_rule(p) ? "deny" : "allow", policy_trusted_path_rule(p) ? "yes" : "no",
                p->match_content ? "yes" : "no", policy_fileless_rule(p) ? "deny" : "content");
        const struct policy_settings *st = &p->settings;
        fprintf(out, "log_file = %s\nlog_allowed = %s\nno_new_privs = %s\non_daemon_unavailable = %s\nverifier = %s\n",
                st->log_file ? st->log_file : "", st->log_allowed ? "yes" : "no", st->no_new_privs ? "yes" : "no",
                st->daemon_required ? "refuse" : "standalone", policy_verifier_to_string(st->verifier));
        if (!st->limit_capabilities)
                fputs("capabilities = unchanged\n", out);
        else if (st->capabilities == 0)
                fputs("capabilities = none\n", out);
        else {
                fputs("capabilities =", out);
                for (cap_value_t c = 0; c < 64; c++)
                        if (st->capabilities & (UINT64_C(1) << c)) {
                                char *name = cap_to_name(c);
                                fprintf(out, " %s", name ? name : "?");
                                cap_free(name);
                        }
                fputc('\n', out);
        }
        fprintf(out,
                "max_sessions_per_user = %u\nmax_pending_per_user = %u\nmax_path = %zu\nmax_args = %zu\n"
                "max_argv_bytes = %zu\n",
                st->max_sessions_per_user, st->max_pending_per_user, st->max_path, st->max_args, st->max_argv_bytes);
        if (st->workers)
                fprintf(out, "workers = %u\n", st->workers);
        else
                fputs("workers = (one per CPU)\n", out);
        fprintf(out, "resolve_timeout = %u\n", st->resolve_timeout);
        for (size_t i = 0; i < p->n_scopes; i++) {
                const struct scope *sc = &p->scopes[i];
                if (!sc->has_hours && !sc->days && !sc->n_parents && !sc->protects)
                        continue;
                fprintf(out, "section %zu [%s]:", i, sc->name ? sc->name : "block");
                if (sc->protects) {
                        fputs(" deny", out);
                        for (unsigned op = 1; op & POLICY_OPS_ALL; op <<= 1)
                                if (sc->deny_ops & op)
                                        fprintf(out, " %s", policy_op_to_string(op));
                }
                if (sc->has_hours)
                        fprintf(out, " hours %02u:%02u-%02u:%02u", sc->from_minute / 60, sc->from_minute % 60,
                                sc->to_minute / 60, sc->to_minute % 60);
                if (sc->days) {
                        static const char *const names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
                        fputs(" days", out);
                        for (int d = 0; d < 7; d++)
                                if (sc->days & (1u << d))
                                        fprintf(out, " %s", names[d]);
                }
                for (size_t k = 0; k < sc->n_parents; k++)
                        fprintf(out, " parent %s -> %s", sc->parents[k].text, sc->parents[k].canonical);
                fputc('\n', out);
        }
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct policy_rule *r = &p->rules[i].rule;
                const char *what = r->exempt  ? "trusted_path_exempt"
                                   : r->allow ? "allow"
                                              : policy_rule_kind_to_string(r->kind);
                bool kind_too =
                        (r->allow || r->exempt) && (r->kind == POLICY_RULE_DIR || r->kind == POLICY_RULE_COMMAND);
                fprintf(out, "%u: %s%s%s%s%s%s %s -> %s", r->line, r->scope ? "[" : "", r->scope ? r->scope : "",
                        r->scope ? "] " : "", what, kind_too ? " " : "",
                        kind_too ? policy_rule_kind_to_string(r->kind) : "", r->text, r->canonical);
                for (size_t k = 0; k < r->n_arg_patterns; k++)
                        fprintf(out, " [%s]", r->arg_patterns[k]);
                if (r->any_more_args)
                        fputs(" ...", out);
                fputc('\n', out);
        }
}
