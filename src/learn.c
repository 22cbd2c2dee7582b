#include "learn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "policy.h"
#include "table.h"
#include "util.h"

#define BAD_LINES_SHOWN 10
#define DIR_WALK_MAX    4096 /* entries looked at under a directory before it is not grouped */

/* How often one user ran a file. */
struct tally {
        size_t user;
        unsigned runs;
};

struct file {
        char *path;
        unsigned runs;
        unsigned interpreted; /* of its runs, those as a #! or ELF interpreter of what was named */
        struct tally *by;
        size_t n_by;
        bool placed; /* written already, under a directory rule */
};

struct user {
        char *name;
        size_t index; /* in learner.users */
        gid_t *groups; /* as the host says now: NULL until asked */
        int n_groups;
};

/* One exec as --diff judges it: the program named (a script, not its interpreter), the user
 * and the arguments. */
struct exec_seen {
        char *key; /* executable \0 user \0 argv (quoted for check's --argv) */
        const char *executable, *user, *argv;
        char time[32]; /* the first run, local: "YYYY-MM-DD HH:MM" */
        unsigned runs;
};

struct learner {
        struct table files_by_path, users_by_name, execs_by_key, sessions;
        struct file **files;
        size_t n_files, files_size;
        struct user **users;
        size_t n_users, users_size;
        struct exec_seen **execs;
        size_t n_execs, execs_size;
        char **session_ids;
        size_t n_sessions, sessions_size;
        unsigned records, ran, not_ran, bad_lines, nameless;
};

static int grow(void *array_ptr, size_t *size, size_t n, size_t elem) {
        void **array = array_ptr;
        if (n < *size)
                return 0;
        size_t bigger = *size ? 2 * *size : 64;
        void *p = realloc(*array, bigger * elem);
        if (!p)
                return -ENOMEM;
        *array = p;
        *size = bigger;
        return 0;
}

static int user_index(struct learner *l, const char *name, size_t *ret) {
        struct user *u = table_get(&l->users_by_name, name, strlen(name));
        if (!u) {
                if (grow(&l->users, &l->users_size, l->n_users, sizeof *l->users) < 0 || !(u = calloc(1, sizeof *u)))
                        return -ENOMEM;
                if (!(u->name = strdup(name)) || table_put(&l->users_by_name, u->name, strlen(u->name), u, NULL) < 0) {
                        free(u->name);
                        free(u);
                        return -ENOMEM;
                }
                u->index = l->n_users;
                l->users[l->n_users++] = u;
        }
        *ret = u->index;
        return 0;
}

static int count_file(struct learner *l, const char *path, bool interpreter, size_t user) {
        struct file *f = table_get(&l->files_by_path, path, strlen(path));
        if (!f) {
                if (grow(&l->files, &l->files_size, l->n_files, sizeof *l->files) < 0 || !(f = calloc(1, sizeof *f)))
                        return -ENOMEM;
                if (!(f->path = strdup(path)) || table_put(&l->files_by_path, f->path, strlen(f->path), f, NULL) < 0) {
                        free(f->path);
                        free(f);
                        return -ENOMEM;
                }
                l->files[l->n_files++] = f;
        }
        f->runs++;
        f->interpreted += interpreter;
        for (size_t i = 0; i < f->n_by; i++)
                if (f->by[i].user == user) {
                        f->by[i].runs++;
                        return 0;
                }
        struct tally *by = realloc(f->by, (f->n_by + 1) * sizeof *by);
        if (!by)
                return -ENOMEM;
        f->by = by;
        f->by[f->n_by++] = (struct tally){ .user = user, .runs = 1 };
        return 0;
}

/* One exec as a record tells it, whichever form the record has. */
struct exec_view {
        bool ran;                      /* allowed, or audited: it would have been blocked */
        const char *user, *executable; /* the effective user; what the kernel ran */
        const char *session;
        char **chain; /* the program named (a script: not its interpreter), then what it needed */
        size_t n_chain;
        char *argv;    /* quoted for check's --argv (each word in '...'), "" if not known */
        char time[32]; /* local: "YYYY-MM-DD HH:MM" (--time's form), "" if not known */
        char *owned;   /* what user, executable and session point into, when not the record */
};

static void exec_view_free(struct exec_view *v) {
        for (size_t i = 0; i < v->n_chain; i++)
                free(v->chain[i]);
        free(v->chain);
        free(v->argv);
        free(v->owned);
}

static int chain_add(struct exec_view *v, const char *path, size_t len) {
        char **grown = realloc(v->chain, (v->n_chain + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        v->chain = grown;
        if (!(v->chain[v->n_chain] = strndup(path, len)))
                return -ENOMEM;
        v->n_chain++;
        return 0;
}

/* Add one word, quoted for check's --argv ('...', a ' as '\''), to out. */
static void quote_word(FILE *out, const char *word, size_t len, bool first) {
        fputs(first ? "'" : " '", out);
        for (size_t i = 0; i < len; i++)
                if (word[i] == '\'')
                        fputs("'\\''", out);
                else
                        fputc(word[i], out);
        fputc('\'', out);
}

static void minute_of(time_t t, char *out, size_t size) {
        struct tm local;
        out[0] = '\0';
        if (localtime_r(&t, &local))
                strftime(out, size, "%Y-%m-%d %H:%M", &local);
}

/* The JSON file's record (ECS). */
static int view_of_file_record(const struct json *rec, struct exec_view *v) {
        const char *action = json_get_string(rec, "event.action");
        v->ran = action && (strcmp(action, "exec-allowed") == 0 || strcmp(action, "exec-audited") == 0);
        /* The policy's user sections are for the effective user. */
        v->user = json_get_string(rec, "user.effective.name");
        if (!v->user)
                v->user = json_get_string(rec, "user.name");
        v->executable = json_get_string(rec, "process.executable");
        v->session = json_get_string(rec, "execguard.session");
        const struct json *chain = json_get(rec, "execguard.chain");
        for (const struct json *f = chain && chain->type == JSON_ARRAY ? chain->kid : NULL; f; f = f->next)
                if (f->type == JSON_STRING && chain_add(v, f->string, strlen(f->string)) < 0)
                        return -ENOMEM;
        size_t size = 0;
        FILE *out = open_memstream(&v->argv, &size);
        if (!out)
                return -ENOMEM;
        const struct json *args = json_get(rec, "process.args");
        bool first = true;
        for (const struct json *a = args && args->type == JSON_ARRAY ? args->kid : NULL; a; a = a->next)
                if (a->type == JSON_STRING) {
                        quote_word(out, a->string, strlen(a->string), first);
                        first = false;
                }
        if (fclose(out) != 0)
                return -ENOMEM;
        struct tm tm = {};
        const char *timestamp = json_get_string(rec, "@timestamp");
        if (timestamp && strptime(timestamp, "%Y-%m-%dT%H:%M:%S", &tm))
                minute_of(timegm(&tm), v->time, sizeof v->time);
        return 0;
}

/* A value of the journal's fields as execguard wrote it: \xNN for the bytes it escapes (a
 * backslash among them), decoded into out (at least len + 1 bytes). */
static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static size_t unescape(const char *s, size_t len, char *out) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                int hi = i + 3 < len && s[i] == '\\' && s[i + 1] == 'x' ? hex_digit(s[i + 2]) : -1;
                int lo = hi >= 0 ? hex_digit(s[i + 3]) : -1;
                if (lo >= 0) {
                        out[n++] = (char) (hi << 4 | lo);
                        i += 3;
                } else
                        out[n++] = s[i];
        }
        out[n] = '\0';
        return n;
}

/* A journal entry as journalctl -o json prints it (the EXECGUARD_ fields). Its chain is
 * "PATH -> PATH", its arguments "\"ARG\" \"ARG\"": a path holding " -> ", or an argument
 * holding "\" \"", is cut there (the journal's text form cannot tell). */
static int view_of_journal_entry(const struct json *rec, struct exec_view *v) {
        const char *decision = json_get_string(rec, "EXECGUARD_DECISION");
        v->ran = decision && (strcmp(decision, "allow") == 0 || strcmp(decision, "audit") == 0);
        const char *user = json_get_string(rec, "EXECGUARD_EUSER");
        if (!user)
                user = json_get_string(rec, "EXECGUARD_USER");
        const char *executable = json_get_string(rec, "EXECGUARD_EXECUTABLE");
        const char *session = json_get_string(rec, "EXECGUARD_SESSION");
        /* user \0 executable \0 session \0, decoded */
        size_t ul = user ? strlen(user) : 0, el = executable ? strlen(executable) : 0, sl = session ? strlen(session) : 0;
        if (!(v->owned = malloc(ul + el + sl + 3)))
                return -ENOMEM;
        char *o = v->owned;
        if (user) {
                v->user = o;
                o += unescape(user, ul, o) + 1;
        }
        if (executable) {
                v->executable = o;
                o += unescape(executable, el, o) + 1;
        }
        if (session) {
                v->session = o;
                unescape(session, sl, o);
        }
        const char *chain = json_get_string(rec, "EXECGUARD_CHAIN");
        while (chain && *chain) {
                const char *arrow = strstr(chain, " -> ");
                size_t len = arrow ? (size_t) (arrow - chain) : strlen(chain);
                _cleanup_free_ char *path = malloc(len + 1);
                if (!path || chain_add(v, path, unescape(chain, len, path)) < 0)
                        return -ENOMEM;
                chain = arrow ? arrow + 4 : NULL;
        }
        size_t size = 0;
        FILE *out = open_memstream(&v->argv, &size);
        if (!out)
                return -ENOMEM;
        const char *argv = json_get_string(rec, "EXECGUARD_ARGV");
        bool first = true;
        while (argv && *argv == '"') {
                const char *end = strstr(argv + 1, "\" \"");
                size_t len = end ? (size_t) (end - argv - 1) : strlen(argv + 1);
                if (!end && len > 0 && argv[len] == '"')
                        len--; /* the last one's closing quote */
                _cleanup_free_ char *word = malloc(len + 1);
                if (!word) {
                        fclose(out);
                        return -ENOMEM;
                }
                quote_word(out, word, unescape(argv + 1, len, word), first);
                first = false;
                argv = end ? end + 2 : NULL;
        }
        if (fclose(out) != 0)
                return -ENOMEM;
        const char *usec = json_get_string(rec, "__REALTIME_TIMESTAMP");
        if (usec)
                minute_of((time_t) (strtoull(usec, NULL, 10) / 1000000), v->time, sizeof v->time);
        return 0;
}

static int count_exec(struct learner *l, const struct exec_view *v) {
        const char *named = v->chain[0], *user = v->user, *argv = v->argv;
        size_t len = strlen(named) + 1 + strlen(user) + 1 + strlen(argv) + 1;
        _cleanup_free_ char *key = malloc(len);
        if (!key)
                return -ENOMEM;
        memcpy(key, named, strlen(named) + 1);
        memcpy(key + strlen(named) + 1, user, strlen(user) + 1);
        memcpy(key + strlen(named) + 1 + strlen(user) + 1, argv, strlen(argv) + 1);
        struct exec_seen *e = table_get(&l->execs_by_key, key, len);
        if (!e) {
                if (grow(&l->execs, &l->execs_size, l->n_execs, sizeof *l->execs) < 0 || !(e = calloc(1, sizeof *e)))
                        return -ENOMEM;
                e->key = TAKE_PTR(key);
                e->executable = e->key;
                e->user = e->key + strlen(named) + 1;
                e->argv = e->user + strlen(user) + 1;
                snprintf(e->time, sizeof e->time, "%s", v->time);
                if (table_put(&l->execs_by_key, e->key, len, e, NULL) < 0) {
                        free(e->key);
                        free(e);
                        return -ENOMEM;
                }
                l->execs[l->n_execs++] = e;
        }
        e->runs++;
        return 0;
}

static int count_session(struct learner *l, const char *id) {
        if (!id || table_get(&l->sessions, id, strlen(id)))
                return 0;
        if (grow(&l->session_ids, &l->sessions_size, l->n_sessions, sizeof *l->session_ids) < 0)
                return -ENOMEM;
        char *copy = strdup(id);
        if (!copy || table_put(&l->sessions, copy, strlen(copy), copy, NULL) < 0) {
                free(copy);
                return -ENOMEM;
        }
        l->session_ids[l->n_sessions++] = copy;
        return 0;
}

/* One record, of the JSON file or of the journal (journalctl -o json): an exec that ran
 * counts every file of its chain for its user (the first, what was named; the others, its
 * interpreters); anything else is counted as not run. */
static int take_record(struct learner *l, const struct json *rec) {
        struct exec_view v = {};
        bool journal = json_get(rec, "EXECGUARD_DECISION") != NULL;
        int r = journal ? view_of_journal_entry(rec, &v) : view_of_file_record(rec, &v);
        l->records++;
        if (r >= 0 && !v.ran)
                l->not_ran++;
        else if (r >= 0 && (!v.user || !v.executable))
                l->nameless++;
        else if (r >= 0) {
                size_t u = 0;
                r = user_index(l, v.user, &u);
                if (r >= 0 && v.n_chain == 0) /* no chain: the program alone */
                        r = chain_add(&v, v.executable, strlen(v.executable));
                for (size_t i = 0; r >= 0 && i < v.n_chain; i++)
                        r = count_file(l, v.chain[i], i > 0, u);
                if (r >= 0)
                        r = count_exec(l, &v);
                if (r >= 0)
                        r = count_session(l, v.session);
                if (r >= 0)
                        l->ran++;
        }
        exec_view_free(&v);
        return r;
}

static int read_records(struct learner *l, FILE *in, const char *name) {
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t n;
        unsigned lineno = 0;
        while ((n = getline(&line, &size, in)) >= 0) {
                lineno++;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        line[--n] = '\0';
                if (n == 0)
                        continue;
                struct json *rec = NULL;
                size_t at = 0;
                const char *why = NULL;
                int r = json_parse(line, (size_t) n, &rec, &at, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || rec->type != JSON_OBJECT) {
                        if (l->bad_lines++ < BAD_LINES_SHOWN)
                                fprintf(stderr, "execguard: learn: %s:%u: not a record: %s%s%zu)\n", name, lineno,
                                        r < 0 ? why : "not a JSON object", r < 0 ? " (at byte " : " (", r < 0 ? at + 1 : 1);
                        json_free(rec);
                        continue;
                }
                r = take_record(l, rec);
                json_free(rec);
                if (r < 0)
                        return r;
        }
        if (ferror(in))
                return negative_errno();
        return 0;
}

/* ---- the policy ----------------------------------------------------------------------- */

/* Can path be written as a rule's value, and then how: the characters that make a glob
 * are escaped, so that it names this file alone. NULL: it cannot (a newline, blanks at its
 * ends, or a ';' after a blank, which starts a comment). */
static char *rule_value(const char *path) {
        size_t len = strlen(path);
        if (len == 0 || path[0] != '/' || strchr(path, '\n') || strchr(path, '\r') || path[len - 1] == ' ' ||
            path[len - 1] == '\t' || strstr(path, " ;") || strstr(path, "\t;"))
                return NULL;
        char *out = malloc(2 * len + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *c = path; *c; c++) {
                if (strchr("*?[\\", *c))
                        *o++ = '\\';
                *o++ = *c;
        }
        *o = '\0';
        return out;
}

/* "12 runs: alice 10, bob 2" */
static void print_tally(FILE *out, const struct learner *l, unsigned runs, const struct tally *by, size_t n_by) {
        fprintf(out, "%u run%s:", runs, runs == 1 ? "" : "s");
        for (size_t i = 0; i < n_by; i++)
                fprintf(out, "%s %s %u", i ? "," : "", l->users[by[i].user]->name, by[i].runs);
}

static int by_runs(const void *a, const void *b) {
        const struct tally *x = a, *y = b;
        return x->runs != y->runs ? (x->runs < y->runs ? 1 : -1) : (x->user > y->user) - (x->user < y->user);
}

/* A warning for a rule that allows by path what others than root could replace. */
static void print_path_warning(FILE *out, const char *path) {
        struct stat st, dir_st;
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        if (lstat(path, &st) < 0)
                fputs("# gone since it ran: this rule allows whatever is put at its path\n", out);
        else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
                 (dir && stat(dir, &dir_st) == 0 && (dir_st.st_uid != 0 || (dir_st.st_mode & (S_IWGRP | S_IWOTH)))))
                fputs("# writable by others than root (the file or its directory): what they put there runs\n", out);
}

/* Does dir hold, at any depth, no executable file that is not in files (n of them), every
 * one owned by root, in directories only root can write? Then a directory rule allows
 * exactly what ran there. */
static bool whole_dir_ran(const char *dir, struct file *const *files, size_t n, unsigned *budget) {
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return false;
        DIR *d = opendir(dir);
        if (!d)
                return false;
        bool whole = true;
        struct dirent *e;
        while (whole && (e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if ((*budget)-- == 0) {
                        whole = false;
                        break;
                }
                char path[EG_PATH_MAX];
                if ((size_t) snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
                    lstat(path, &st) < 0) {
                        whole = false;
                        break;
                }
                if (S_ISDIR(st.st_mode))
                        whole = whole_dir_ran(path, files, n, budget);
                else if (S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                        bool ran = false;
                        for (size_t i = 0; i < n && !ran; i++)
                                ran = strcmp(files[i]->path, path) == 0;
                        whole = ran && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
                }
        }
        closedir(d);
        return whole;
}

static int by_path(const void *a, const void *b) {
        return strcmp((*(struct file *const *) a)->path, (*(struct file *const *) b)->path);
}

/* The rules of one section: files (sorted by path), a directory rule where a whole
 * directory of them ran, path rules for the rest. dir_key and path_key: the keys that
 * allow in this section ("dir"/"path" in [allow], "allow_dir"/"allow" elsewhere). */
static void print_rules(FILE *out, const struct learner *l, struct file **files, size_t n, const char *dir_key,
                        const char *path_key) {
        qsort(files, n, sizeof *files, by_path);
        for (size_t i = 0; i < n; i++) {
                if (files[i]->placed)
                        continue;
                /* The files of this section in its directory, and below. */
                size_t dir_len = (size_t) (strrchr(files[i]->path, '/') - files[i]->path);
                _cleanup_free_ char *dir = strndup(files[i]->path, dir_len);
                size_t j = i;
                while (j < n && strncmp(files[j]->path, files[i]->path, dir_len + 1) == 0)
                        j++;
                unsigned budget = DIR_WALK_MAX, runs = 0;
                _cleanup_free_ char *value = dir && dir_len > 0 ? rule_value(dir) : NULL;
                if (value && j - i >= 2 && whole_dir_ran(dir, files + i, j - i, &budget)) {
                        fprintf(out, "# the whole directory ran: %zu programs, ", j - i);
                        for (size_t k = i; k < j; k++)
                                runs += files[k]->runs;
                        fprintf(out, "%u runs\n%s = %s\n", runs, dir_key, value);
                        for (size_t k = i; k < j; k++)
                                files[k]->placed = true;
                        continue;
                }
                struct file *f = files[i];
                _cleanup_free_ char *path = rule_value(f->path);
                qsort(f->by, f->n_by, sizeof *f->by, by_runs);
                fputs("# ", out);
                print_tally(out, l, f->runs, f->by, f->n_by);
                if (f->interpreted == f->runs)
                        fputs(" (as the interpreter or loader of what was run)", out);
                else if (f->interpreted)
                        fprintf(out, " (%u as the interpreter or loader of what was run)", f->interpreted);
                fputc('\n', out);
                if (!path) {
                        fputs("# not written: its path cannot be a rule's value (a newline, or blanks that "
                              "a rule would lose)\n",
                              out);
                        fprintf(stderr, "execguard: learn: a file that ran cannot be named in a rule: left out\n");
                        continue;
                }
                print_path_warning(out, f->path);
                fprintf(out, "%s = %s\n", path_key, path);
        }
}

static struct user *user_groups(struct user *u) {
        if (u->groups)
                return u;
        struct passwd *pw = getpwnam(u->name);
        int n = 0;
        if (pw)
                getgrouplist(pw->pw_name, pw->pw_gid, NULL, &n);
        u->groups = calloc((size_t) n + 1, sizeof *u->groups);
        if (u->groups && pw && getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) >= 0)
                u->n_groups = n;
        return u;
}

static bool in_group(struct user *u, gid_t gid) {
        user_groups(u);
        for (int i = 0; i < u->n_groups; i++)
                if (u->groups[i] == gid)
                        return true;
        return false;
}

/* A group whose members among the users seen are exactly those who ran f (two or more):
 * its name, or NULL. */
static const char *group_of(const struct learner *l, const struct file *f) {
        if (f->n_by < 2)
                return NULL;
        struct user *first = user_groups(l->users[f->by[0].user]);
        for (int g = 0; g < first->n_groups; g++) {
                gid_t gid = first->groups[g];
                bool exact = true;
                for (size_t u = 0; u < l->n_users && exact; u++) {
                        bool ran = false;
                        for (size_t k = 0; k < f->n_by && !ran; k++)
                                ran = f->by[k].user == u;
                        exact = ran == in_group(l->users[u], gid);
                }
                struct group *gr = exact ? getgrgid(gid) : NULL;
                if (gr)
                        return gr->gr_name;
        }
        return NULL;
}

/* Can name be written in a section's header? */
static bool section_name_ok(const char *name) {
        return name[0] && !name[strcspn(name, "[]\n\r;#")] && name[0] != ' ' && name[strlen(name) - 1] != ' ';
}

/* A section and the files its rules allow. */
struct section {
        char name[300];
        struct file **files;
        size_t n;
};

static struct section *section_for(struct section **sections, size_t *n, const char *name) {
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*sections)[i].name, name) == 0)
                        return &(*sections)[i];
        struct section *grown = realloc(*sections, (*n + 1) * sizeof *grown);
        if (!grown)
                return NULL;
        *sections = grown;
        struct section *s = &grown[(*n)++];
        *s = (struct section){};
        snprintf(s->name, sizeof s->name, "%s", name);
        return s;
}

static int section_add(struct section *s, struct file *f) {
        struct file **grown = s ? realloc(s->files, (s->n + 1) * sizeof *grown) : NULL;
        if (!grown)
                return -ENOMEM;
        s->files = grown;
        s->files[s->n++] = f;
        return 0;
}

static int by_section(const void *a, const void *b) {
        const struct section *x = a, *y = b;
        /* [allow] first, then [group:], then [user:] */
        int rx = strcmp(x->name, "allow") == 0 ? 0 : strncmp(x->name, "group:", 6) == 0 ? 1 : 2;
        int ry = strcmp(y->name, "allow") == 0 ? 0 : strncmp(y->name, "group:", 6) == 0 ? 1 : 2;
        return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

static int write_policy(const struct learner *l, FILE *out, char *const *files, int n_files) {
        struct section *sections = NULL;
        size_t n_sections = 0;
        int r = 0;
        for (size_t i = 0; i < l->n_files && r >= 0; i++) {
                struct file *f = l->files[i];
                if (f->n_by == l->n_users) {
                        r = section_add(section_for(&sections, &n_sections, "allow"), f);
                        continue;
                }
                const char *group = group_of(l, f);
                char name[300];
                if (group && section_name_ok(group)) {
                        snprintf(name, sizeof name, "group:%s", group);
                        r = section_add(section_for(&sections, &n_sections, name), f);
                        continue;
                }
                for (size_t k = 0; k < f->n_by && r >= 0; k++) {
                        const char *user = l->users[f->by[k].user]->name;
                        if (!section_name_ok(user)) {
                                fprintf(stderr, "execguard: learn: user name '%s' cannot head a section: what only "
                                                "it ran is left out\n",
                                        user);
                                continue;
                        }
                        snprintf(name, sizeof name, "user:%s", user);
                        r = section_add(section_for(&sections, &n_sections, name), f);
                }
        }
        if (r >= 0) {
                qsort(sections, n_sections, sizeof *sections, by_section);
                fputs("# Written by execguard learn from", out);
                for (int i = 0; i < n_files; i++)
                        fprintf(out, " %s", files[i]);
                fprintf(out, "%s: %u execs that ran in %zu session%s, by", n_files ? "" : " standard input", l->ran,
                        l->n_sessions, l->n_sessions == 1 ? "" : "s");
                for (size_t u = 0; u < l->n_users; u++)
                        fprintf(out, "%s %s", u ? "," : "", l->users[u]->name);
                fputs(".\n# It allows exactly the files that ran, for the users that ran them (each rule says how\n"
                      "# often, and by whom): anything else is refused.\n\n[execguard]\ndefault = deny\n",
                      out);
                for (size_t i = 0; i < n_sections; i++) {
                        bool everybody = strcmp(sections[i].name, "allow") == 0;
                        fprintf(out, "\n[%s]\n", sections[i].name);
                        /* A file in several users' sections: placed per section. */
                        for (size_t k = 0; k < sections[i].n; k++)
                                sections[i].files[k]->placed = false;
                        print_rules(out, l, sections[i].files, sections[i].n, everybody ? "dir" : "allow_dir",
                                    everybody ? "path" : "allow");
                }
        }
        for (size_t i = 0; i < n_sections; i++)
                free(sections[i].files);
        free(sections);
        return r;
}

/* ---- --diff ----------------------------------------------------------------------------- */

static int diff_policy(const struct learner *l, const char *policy_path, FILE *out) {
        struct policy *p = NULL;
        struct policy_error err = {};
        int r = policy_load(policy_path, &p, &err);
        if (r < 0) {
                char msg[512];
                policy_error_format(policy_path, r, &err, msg, sizeof msg);
                fprintf(stderr, "execguard: learn: %s\n", msg);
                return 2;
        }
        unsigned refused = 0, refused_runs = 0, unjudged = 0;
        for (size_t i = 0; i < l->n_execs; i++) {
                const struct exec_seen *e = l->execs[i];
                struct check_options o = { .user = e->user, .argv = e->argv[0] ? e->argv : NULL,
                                           .time = e->time[0] ? e->time : NULL };
                char *text = NULL;
                size_t size = 0;
                FILE *line = open_memstream(&text, &size);
                if (!line) {
                        policy_free(p);
                        return 2;
                }
                char *paths[] = { (char *) e->executable };
                r = check_paths(p, &o, paths, 1, line);
                fclose(line);
                if (r == 1) {
                        refused++;
                        refused_runs += e->runs;
                        text[strcspn(text, "\n")] = '\0';
                        fprintf(out, "refused: %s; ran %u time%s", text, e->runs, e->runs == 1 ? "" : "s");
                        if (e->argv[0])
                                fprintf(out, " as %s", e->argv);
                        fputc('\n', out);
                } else if (r != 0) {
                        unjudged++;
                        text[strcspn(text, "\n")] = '\0';
                        fprintf(out, "not judged: %s [user %s]\n", text, e->user);
                }
                free(text);
        }
        policy_free(p);
        fprintf(out, "%s would have refused %u of %zu different execs that ran (%u of %u runs)%s\n", policy_path,
                refused, l->n_execs, refused_runs, l->ran, unjudged ? "; some could not be judged here" : "");
        return refused ? 1 : unjudged ? 2 : 0;
}

static void learner_free(struct learner *l) {
        for (size_t i = 0; i < l->n_files; i++) {
                free(l->files[i]->path);
                free(l->files[i]->by);
                free(l->files[i]);
        }
        for (size_t i = 0; i < l->n_users; i++) {
                free(l->users[i]->name);
                free(l->users[i]->groups);
                free(l->users[i]);
        }
        for (size_t i = 0; i < l->n_execs; i++) {
                free(l->execs[i]->key);
                free(l->execs[i]);
        }
        for (size_t i = 0; i < l->n_sessions; i++)
                free(l->session_ids[i]);
        free(l->files);
        free(l->users);
        free(l->execs);
        free(l->session_ids);
        table_free(&l->files_by_path);
        table_free(&l->users_by_name);
        table_free(&l->execs_by_key);
        table_free(&l->sessions);
}

int learn_run(const struct learn_options *o, char *const *files, int n) {
        struct learner l = {};
        int r = 0, status = 0;
        for (int i = 0; i < n || (i == 0 && n == 0); i++) {
                bool stdin_ = n == 0 || strcmp(files[i], "-") == 0;
                FILE *in = stdin_ ? stdin : fopen(files[i], "re");
                if (!in) {
                        fprintf(stderr, "execguard: learn: %s: %s\n", files[i], strerror(errno));
                        learner_free(&l);
                        return 2;
                }
                r = read_records(&l, in, stdin_ ? "standard input" : files[i]);
                if (!stdin_)
                        fclose(in);
                if (r < 0) {
                        fprintf(stderr, "execguard: learn: %s: %s\n", stdin_ ? "standard input" : files[i],
                                strerror(-r));
                        learner_free(&l);
                        return 2;
                }
        }
        fprintf(stderr,
                "execguard: learn: %u records: %u execs that ran (%zu files, %zu users, %zu sessions), %u of others "
                "(refused, or not execs)%s",
                l.records, l.ran, l.n_files, l.n_users, l.n_sessions, l.not_ran, l.bad_lines ? "; " : "");
        if (l.bad_lines)
                fprintf(stderr, "%u lines that are not records", l.bad_lines);
        if (l.nameless)
                fprintf(stderr, "; %u execs without a user name or program, left out", l.nameless);
        fputc('\n', stderr);
        if (l.ran == 0) {
                fprintf(stderr, "execguard: learn: no exec that ran was found (records of sessions with mode = audit "
                                "and log_allowed = yes are needed): nothing written\n");
                learner_free(&l);
                return 1;
        }

        if (o->diff) {
                status = diff_policy(&l, o->diff, stdout);
                learner_free(&l);
                return status;
        }
        FILE *out = stdout;
        if (o->output && !(out = fopen(o->output, "we"))) {
                fprintf(stderr, "execguard: learn: %s: %s\n", o->output, strerror(errno));
                learner_free(&l);
                return 2;
        }
        r = write_policy(&l, out, files, n);
        if ((out != stdout ? fclose(out) : fflush(out)) != 0 && r >= 0)
                r = negative_errno();
        if (r < 0) {
                fprintf(stderr, "execguard: learn: cannot write the policy%s%s: %s\n", o->output ? " to " : "",
                        o->output ? o->output : "", strerror(-r));
                status = 2;
        }
        learner_free(&l);
        return status;
}
