#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

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
        bool has_digest;
        uint64_t size;
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

/* The lookup tables of one set of rules: the blocks of a scope, or its allows. */
struct ruleset {
        struct table paths;      /* canonical path → rule */
        struct table identities; /* (dev, ino) → rule: the same file under any name */
        struct table glob_dirs;  /* literal directory prefix ("/usr/bin/") → first glob */
        struct table contents;   /* SHA-256 → rule: copies of named files, hash rules */
        struct table sizes;      /* sizes of named files: only those are worth hashing */
        bool hash_every_file;    /* a hash rule exists: its size is unknown */
};

/* Where rules apply: everybody ([block]), a user, or a group. */
struct scope {
        enum policy_scope_kind kind;
        uint32_t id; /* uid or gid */
        char *name;  /* "user:alice"; NULL for the global scope */
        struct ruleset block, allow;
};

struct policy {
        char *source;
        enum policy_mode mode;
        enum policy_action action;
        bool match_content;
        struct policy_rule fileless; /* kind FILELESS when fileless = deny, line 0 if not */
        struct policy_settings settings;

        struct rule_slot *rules;
        size_t n_rules;
        struct former_file *formers;
        size_t n_formers;

        struct scope *scopes; /* [0]: the global scope */
        size_t n_scopes;
        struct table users;  /* uid → scope */
        struct table groups; /* gid → scope */
};

/* ---- reading lines for inih ---------------------------------------------------------- */

/* inih hands a line longer than its buffer to the handler in pieces, and treats an indented
 * line as a continuation of the previous value. Both would make the policy mean something
 * other than what the administrator wrote, so our reader turns them into errors before
 * inih sees them. It also counts lines, which the handler needs for rule locations (the
 * system inih is built without INI_HANDLER_LINENO), and checks section names, because inih
 * does not call the handler for a section that has no keys. */
struct reader {
        FILE *stream;
        unsigned line;
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

static bool section_is_known(const char *name, size_t len) {
        return (len == 9 && memcmp(name, "execguard", 9) == 0) || (len == 5 && memcmp(name, "block", 5) == 0) ||
               (len > 5 && memcmp(name, "user:", 5) == 0) || (len > 6 && memcmp(name, "group:", 6) == 0);
}

static void check_line(struct reader *rd, const char *buf) {
        /* inih skips a UTF-8 byte order mark at the start of the file; so do we. */
        if (rd->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
                buf += 3;
        const char *s = buf + strspn(buf, " \t\r\n");
        if (*s == '\0' || *s == ';' || *s == '#')
                return;
        if (s != buf) {
                record_error(rd->err, rd->line,
                             "indented line: continuation lines are not supported, start each key at the beginning of "
                             "the line");
                return;
        }
        if (*s == '[') {
                const char *end = strchr(s, ']');
                if (!end) {
                        record_error(rd->err, rd->line, "section header without ']'");
                        return;
                }
                if (!section_is_known(s + 1, end - s - 1))
                        record_error(rd->err, rd->line,
                                     "unknown section [%.*s] (known: [execguard], [block], [user:NAME], [group:NAME])",
                                     (int) (end - s - 1), s + 1);
        }
}

static char *reader_gets(char *buf, int size, void *stream) {
        struct reader *rd = stream;
        size_t n = 0;
        int c = EOF;
        bool overlong = false, nul = false;

        while ((c = getc_unlocked(rd->stream)) != EOF) { /* our own stream: no lock per byte */
                if (c == '\0')
                        nul = true;
                if (n + 2 < (size_t) size) /* keep room for '\n' and the terminator */
                        buf[n++] = (char) c;
                else if (c != '\n')
                        overlong = true;
                if (c == '\n')
                        break;
        }
        if (n == 0 && c == EOF)
                return NULL;
        buf[n] = '\0';
        rd->line++;

        if (overlong) {
                record_error(rd->err, rd->line, "line too long (at most %d bytes)", size - 2);
                buf[0] = '\0';
        } else if (nul) {
                record_error(rd->err, rd->line, "NUL byte in line");
                buf[0] = '\0';
        } else
                check_line(rd, buf);
        return buf;
}

/* ---- the handler ---------------------------------------------------------------------- */

/* Append a scope (its name copied from name, NULL for the global one). */
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
        new->block = new->allow = (struct ruleset){};
        if (name && !(new->name = strdup(name)))
                return -ENOMEM;
        p->n_scopes++;
        return 0;
}

struct parser {
        struct policy *policy;
        struct reader reader;
        size_t rules_allocated, scopes_allocated;
        unsigned mode_line, action_line, match_content_line, fileless_line;
        unsigned log_file_line, log_allowed_line, no_new_privs_line, capabilities_line;
        unsigned max_sessions_line, max_pending_line, max_path_line, max_args_line, max_argv_bytes_line;
};

static int add_rule(struct parser *ps, size_t scope, bool allow, enum policy_rule_kind kind, const char *value) {
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
        *slot = (struct rule_slot){ .rule = { .kind = kind, .line = ps->reader.line, .allow = allow }, .scope = scope };
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
        else
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
        } else if (strcmp(name, "log_file") == 0) {
                r = parse_log_file(ps, value);
        } else if (strcmp(name, "capabilities") == 0) {
                r = parse_capabilities(ps, value);
        } else if ((r = handle_limit(ps, name, value)) == -ENOENT) {
                record_error(ps->reader.err, ps->reader.line,
                             "unknown key '%s' in [execguard] (known: mode, action, match_content, fileless, log_file, "
                             "log_allowed, no_new_privs, capabilities, max_sessions_per_user, "
                             "max_pending_per_user, max_path, max_args, max_argv_bytes)",
                             name);
                return -EINVAL;
        }
        return r < 0 ? r : 0;
}

/* The scope of a [block], [user:NAME] or [group:NAME] section, created on first use. The
 * name must exist on this host: a misspelt one would silently apply to nobody. */
static int section_scope(struct parser *ps, const char *section, size_t *ret) {
        struct policy *p = ps->policy;
        if (strcmp(section, "block") == 0) {
                *ret = 0;
                return 0;
        }
        for (size_t i = 1; i < p->n_scopes; i++)
                if (strcmp(p->scopes[i].name, section) == 0) {
                        *ret = i;
                        return 0;
                }

        struct scope sc = {};
        const char *name;
        if (strncmp(section, "user:", 5) == 0) {
                name = section + 5;
                struct passwd *pw = getpwnam(name);
                if (!pw) {
                        record_error(ps->reader.err, ps->reader.line, "unknown user '%s' in [%s]", name, section);
                        return -EINVAL;
                }
                sc = (struct scope){ .kind = POLICY_SCOPE_USER, .id = pw->pw_uid };
        } else {
                name = section + 6;
                struct group *gr = getgrnam(name);
                if (!gr) {
                        record_error(ps->reader.err, ps->reader.line, "unknown group '%s' in [%s]", name, section);
                        return -EINVAL;
                }
                sc = (struct scope){ .kind = POLICY_SCOPE_GROUP, .id = gr->gr_gid };
        }
        for (size_t i = 1; i < p->n_scopes; i++)
                if (p->scopes[i].kind == sc.kind && p->scopes[i].id == sc.id) {
                        record_error(ps->reader.err, ps->reader.line, "[%s] is the same %s as [%s] (id %u)", section,
                                     sc.kind == POLICY_SCOPE_USER ? "user" : "group", p->scopes[i].name,
                                     (unsigned) sc.id);
                        return -EINVAL;
                }
        int r = add_scope(p, &ps->scopes_allocated, &sc, section);
        if (r < 0)
                return r;
        *ret = p->n_scopes - 1;
        return 0;
}

/* A rule of a scope's section: path, hash, or allow (a path, a glob or a hash). */
static int handle_rule(struct parser *ps, size_t scope, const char *section, const char *name, const char *value) {
        unsigned line = ps->reader.line;
        struct policy_error *err = ps->reader.err;
        bool allow = strcmp(name, "allow") == 0;

        if (strcmp(name, "hash") == 0 || (allow && strncmp(value, "sha256:", 7) == 0)) {
                uint8_t digest[SHA256_LEN];
                if (identity_parse_sha256(value, digest) < 0) {
                        record_error(err, line, "invalid hash '%s' (expected sha256: and 64 hex digits)", value);
                        return -EINVAL;
                }
                return add_rule(ps, scope, allow, POLICY_RULE_HASH, value);
        }
        if (strcmp(name, "path") != 0 && !allow) {
                record_error(err, line, "unknown key '%s' in [%s] (known: path, hash, allow)", name, section);
                return -EINVAL;
        }
        if (value[0] != '/') {
                record_error(err, line, "path '%s' is not absolute", value);
                return -EINVAL;
        }
        if (strlen(value) >= EG_PATH_MAX) {
                record_error(err, line, "path is longer than %d bytes", EG_PATH_MAX - 1);
                return -EINVAL;
        }
        /* inih only strips ';' comments; a trailing '# ...' would silently become part of
         * the path and the rule would never match. */
        const char *hash = strchr(value, '#');
        if (hash && (hash[-1] == ' ' || hash[-1] == '\t')) {
                record_error(err, line,
                             "'#' starts a comment only at the beginning of a line; use ' ;' for a trailing comment");
                return -EINVAL;
        }
        return add_rule(ps, scope, allow, has_glob_chars(value) ? POLICY_RULE_GLOB : POLICY_RULE_PATH, value);
}

static int handle_pair(struct parser *ps, const char *section, const char *name, const char *value) {
        if (section[0] == '\0') {
                record_error(ps->reader.err, ps->reader.line,
                             "'%s' outside a section (start with [execguard] or [block])", name);
                return -EINVAL;
        }
        if (strcmp(section, "execguard") == 0)
                return handle_setting(ps, name, value);
        size_t scope;
        int r = section_scope(ps, section, &scope);
        if (r < 0)
                return r;
        return handle_rule(ps, scope, section, name, value);
}

static int policy_ini_handler(void *user, const char *section, const char *name, const char *value) {
        struct parser *ps = user;
        int r = handle_pair(ps, section, name, value);
        if (r < 0) {
                if (r == -ENOMEM)
                        record_error(ps->reader.err, ps->reader.line, "out of memory");
                return 0; /* inih: zero means error */
        }
        return 1;
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

static struct ruleset *ruleset_of(struct policy *p, const struct rule_slot *slot) {
        struct scope *sc = &p->scopes[slot->scope];
        return slot->rule.allow ? &sc->allow : &sc->block;
}

static int index_rule(struct policy *p, struct dir_cache *dirs, struct rule_slot *slot, struct policy_error *err) {
        struct policy_rule *rule = &slot->rule;
        struct ruleset *rs = ruleset_of(p, slot);
        int r;

        rule->scope = p->scopes[slot->scope].name;
        if (rule->kind == POLICY_RULE_GLOB) {
                r = canonicalize_glob(rule->text, &rule->canonical);
                if (r < 0)
                        return r;
                size_t dir_len = glob_literal_dir_len(rule->canonical);
                void *first = NULL;
                r = table_put(&rs->glob_dirs, rule->canonical, dir_len, rule, &first);
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
                rs->hash_every_file = true;
                r = table_put(&rs->contents, slot->digest, SHA256_LEN, rule, NULL);
                return r == -EEXIST ? 0 : r;
        }

        struct stat st;
        bool exists;
        r = canonicalize_cached(dirs, rule->text, &rule->canonical, &st, &exists);
        if (r < 0) {
                record_error(err, rule->line, "cannot resolve path '%s': %s", rule->text, strerror(-r));
                return -EINVAL;
        }
        if (exists) {
                if (S_ISDIR(st.st_mode)) {
                        record_error(err, rule->line, "'%s' is a directory: name a program, or use a glob such as %s/*",
                                     rule->text, rule->canonical);
                        return -EINVAL;
                }
                slot->id = (struct file_key){ .dev = st.st_dev, .ino = st.st_ino };
                slot->has_id = true;
        }
        /* Two rules naming one file (say /bin/df and /usr/bin/df) are harmless: the first
         * one is reported. */
        r = table_put(&rs->paths, rule->canonical, strlen(rule->canonical), rule, NULL);
        if (r < 0 && r != -EEXIST)
                return r;
        if (slot->has_id) {
                r = table_put(&rs->identities, &slot->id, sizeof slot->id, rule, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        /* Copies: remember the content and the size of every blocked file that exists. A
         * file we cannot read stays blocked by name and identity. */
        if (p->match_content && slot->has_id && identity_sha256_path(rule->canonical, slot->digest, NULL) == 0) {
                slot->has_digest = true;
                slot->size = (uint64_t) st.st_size;
                r = table_put(&rs->contents, slot->digest, SHA256_LEN, rule, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = table_put(&rs->sizes, &slot->size, sizeof slot->size, rule, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

static int policy_index(struct policy *p, struct policy_error *err) {
        for (size_t i = 1; i < p->n_scopes; i++) {
                struct scope *sc = &p->scopes[i];
                int r = table_put(sc->kind == POLICY_SCOPE_USER ? &p->users : &p->groups, &sc->id, sizeof sc->id, sc,
                                  NULL);
                if (r < 0)
                        return r; /* -EEXIST: two names of one id ("[user:root]", "[user:toor]") */
        }
        /* The path tables at their final size at once: no growing through a dozen
         * doublings, each touching fresh memory, for 100,000 rules. */
        _cleanup_free_ size_t *paths = calloc(2 * p->n_scopes, sizeof *paths); /* [2 * scope + allow] */
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_rules; i++)
                if (p->rules[i].rule.kind == POLICY_RULE_PATH)
                        paths[2 * p->rules[i].scope + p->rules[i].rule.allow]++;
        for (size_t i = 0; i < 2 * p->n_scopes; i++) {
                struct scope *sc = &p->scopes[i / 2];
                if (table_reserve(i % 2 ? &sc->allow.paths : &sc->block.paths, paths[i]) < 0)
                        return -ENOMEM;
        }
        struct dir_cache dirs = {};
        int r = 0;
        for (size_t i = 0; i < p->n_rules && r >= 0; i++)
                r = index_rule(p, &dirs, &p->rules[i], err);
        dir_cache_done(&dirs);
        return r;
}

static int carry_formers(struct policy *p, const struct policy *old);

/* Index the parsed rules of *pp (carrying over what old's files were, if old is given) and
 * hand the policy out, or say why not. */
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
        r = ini_parse_stream(reader_gets, &ps.reader, policy_ini_handler, &ps);
        /* Any nonzero return is a failure, and so is an error our reader or handler recorded:
         * inih may already have handed truncated or continued values to the handler. */
        if (r != 0 || err.line != 0 || ferror(stream)) {
                if (ferror(stream) && err.line == 0)
                        snprintf(err.message, sizeof err.message, "read error");
                else if (err.line == 0) {
                        err.line = r > 0 ? (unsigned) r : 0;
                        snprintf(err.message, sizeof err.message,
                                 r == -2 ? "out of memory"
                                         : "syntax error (expected [section], key = value or a comment)");
                }
                if (reterr)
                        *reterr = err;
                return r == -2 ? -ENOMEM : -EINVAL;
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
                struct ruleset *rs = ruleset_of(p, &p->rules[f->rule]);
                int r = table_put(&rs->identities, &f->id, sizeof f->id, rule, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
                if (!f->has_digest || !p->match_content)
                        continue;
                r = table_put(&rs->contents, f->digest, SHA256_LEN, rule, NULL);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = table_put(&rs->sizes, &f->size, sizeof f->size, rule, NULL);
                if (r < 0 && r != -EEXIST)
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
        p->settings = old->settings;
        if (old->settings.log_file && !(p->settings.log_file = strdup(old->settings.log_file)))
                return -ENOMEM;
        for (size_t i = 0; i < old->n_rules; i++) {
                const struct policy_rule *was = &old->rules[i].rule;
                struct rule_slot *slot = &p->rules[p->n_rules];
                *slot = (struct rule_slot){
                        .rule = { .kind = was->kind, .line = was->line, .allow = was->allow },
                        .scope = old->rules[i].scope,
                };
                slot->rule.text = strdup(was->text);
                if (!slot->rule.text)
                        return -ENOMEM;
                p->n_rules++;
        }
        return index_and_hand_out(&p, old, ret_policy, reterr);
}

size_t policy_n_rules(const struct policy *p) {
        return p->n_rules;
}

const struct policy_rule *policy_rule_at(const struct policy *p, size_t i) {
        return i < p->n_rules ? &p->rules[i].rule : NULL;
}

static void ruleset_free(struct ruleset *rs) {
        table_free(&rs->paths);
        table_free(&rs->identities);
        table_free(&rs->glob_dirs);
        table_free(&rs->contents);
        table_free(&rs->sizes);
}

void policy_free(struct policy *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++) {
                free(p->rules[i].rule.text);
                free(p->rules[i].rule.canonical);
        }
        free(p->rules);
        free(p->formers);
        for (size_t i = 0; i < p->n_scopes; i++) {
                ruleset_free(&p->scopes[i].block);
                ruleset_free(&p->scopes[i].allow);
                free(p->scopes[i].name);
        }
        free(p->scopes);
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

/* The rule of rs that names the file: by identity, path, glob, or (digest given) content. */
static const struct policy_rule *ruleset_match(const struct ruleset *rs, const char *canonical_path,
                                               const struct stat *st, const uint8_t *digest) {
        const struct policy_rule *rule;

        if (st) {
                struct file_key id = { .dev = st->st_dev, .ino = st->st_ino };
                rule = table_get(&rs->identities, &id, sizeof id);
                if (rule)
                        return rule;
        }
        rule = table_get(&rs->paths, canonical_path, strlen(canonical_path));
        if (rule)
                return rule;
        if (rs->glob_dirs.count != 0)
                /* One probe per directory level: only globs whose literal directory is a
                 * prefix of the path are ever tried. */
                for (const char *s = canonical_path; (s = strchr(s, '/')); s++) {
                        for (rule = table_get(&rs->glob_dirs, canonical_path, s - canonical_path + 1); rule;
                             rule = rule->next_in_bucket)
                                if (fnmatch(rule->canonical, canonical_path, FNM_PATHNAME) == 0)
                                        return rule;
                }
        return digest ? table_get(&rs->contents, digest, SHA256_LEN) : NULL;
}

static bool ruleset_wants_content(const struct policy *p, const struct ruleset *rs, uint64_t size) {
        if (rs->hash_every_file)
                return true;
        return p->match_content && rs->sizes.count != 0 && table_get(&rs->sizes, &size, sizeof size);
}

bool policy_has_scopes(const struct policy *p) {
        return p->n_scopes > 1;
}

int policy_subject_init(const struct policy *p, uid_t uid, const gid_t *gids, size_t n_gids,
                        struct policy_subject *ret) {
        struct policy_subject subj = { .uid = uid };
        if (p->users.count)
                subj.user = table_get(&p->users, &(uint32_t){ uid }, sizeof(uint32_t));
        if (p->groups.count)
                for (size_t i = 0; i < n_gids; i++) {
                        const struct scope *sc = table_get(&p->groups, &(uint32_t){ gids[i] }, sizeof(uint32_t));
                        bool seen = false;
                        for (size_t k = 0; sc && k < subj.n_groups; k++)
                                seen |= subj.groups[k] == sc;
                        if (!sc || seen)
                                continue;
                        if (subj.n_groups == POLICY_SUBJECT_GROUPS_MAX)
                                return -E2BIG;
                        subj.groups[subj.n_groups++] = sc;
                }
        *ret = subj;
        return 0;
}

/* The scopes that apply to subj, as levels from the most specific: its user's, its groups'
 * (one level), the global one. */
static size_t subject_level(const struct policy *p, const struct policy_subject *subj, unsigned level,
                            const struct scope **ret, size_t max) {
        size_t n = 0;
        if (level == 0 && subj && subj->user)
                ret[n++] = subj->user;
        if (level == 1 && subj)
                for (size_t i = 0; i < subj->n_groups && n < max; i++)
                        ret[n++] = subj->groups[i];
        if (level == 2)
                ret[n++] = &p->scopes[0];
        return n;
}

bool policy_wants_content(const struct policy *p, const struct policy_subject *subj, off_t size) {
        const struct scope *scopes[POLICY_SUBJECT_GROUPS_MAX];
        for (unsigned level = 0; level < 3; level++) {
                size_t n = subject_level(p, subj, level, scopes, ELEMENTSOF(scopes));
                for (size_t i = 0; i < n; i++)
                        if (ruleset_wants_content(p, &scopes[i]->block, (uint64_t) size) ||
                            ruleset_wants_content(p, &scopes[i]->allow, (uint64_t) size))
                                return true;
        }
        return false;
}

const struct policy_rule *policy_decide(const struct policy *p, const struct policy_subject *subj,
                                        const char *canonical_path, const struct stat *st, const uint8_t *digest) {
        const struct scope *scopes[POLICY_SUBJECT_GROUPS_MAX];
        for (unsigned level = 0; level < 3; level++) {
                size_t n = subject_level(p, subj, level, scopes, ELEMENTSOF(scopes));
                const struct policy_rule *allowed = NULL;
                for (size_t i = 0; i < n; i++) {
                        const struct policy_rule *rule = ruleset_match(&scopes[i]->block, canonical_path, st, digest);
                        if (rule)
                                return rule; /* within a level, a block beats an allow */
                        if (!allowed)
                                allowed = ruleset_match(&scopes[i]->allow, canonical_path, st, digest);
                }
                if (allowed)
                        return allowed;
        }
        return NULL;
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
        case POLICY_RULE_FILELESS:
                return "fileless";
        }
        return "?";
}

const char *policy_mode_to_string(enum policy_mode m) {
        return m == POLICY_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_action_to_string(enum policy_action a) {
        return a == POLICY_ACTION_KILL ? "kill" : "deny";
}

void policy_dump(const struct policy *p, FILE *out) {
        fprintf(out, "source = %s\nmode = %s\naction = %s\nmatch_content = %s\nfileless = %s\n", p->source,
                policy_mode_to_string(p->mode), policy_action_to_string(p->action), p->match_content ? "yes" : "no",
                policy_fileless_rule(p) ? "deny" : "content");
        const struct policy_settings *st = &p->settings;
        fprintf(out, "log_file = %s\nlog_allowed = %s\nno_new_privs = %s\n", st->log_file ? st->log_file : "",
                st->log_allowed ? "yes" : "no", st->no_new_privs ? "yes" : "no");
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
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct policy_rule *r = &p->rules[i].rule;
                fprintf(out, "%u: %s%s%s%s %s -> %s\n", r->line, r->scope ? "[" : "", r->scope ? r->scope : "",
                        r->scope ? "] " : "", r->allow ? "allow" : policy_rule_kind_to_string(r->kind), r->text,
                        r->canonical);
        }
}
