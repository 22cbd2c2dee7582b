/* Audit records to journald (structured fields) or syslog (one key="value" line), and to a
 * file as JSON lines (ECS). Every value a process controls is escaped on its way out, and
 * every buffer is bounded and allocated once, when the audit is opened. */
#include "audit.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include "utf8.h"
#include "util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define SYSLOG_SOCKET  "/dev/log"

/* One line of the log file. A record that does not fit (a process can make its paths and
 * arguments grow sixfold through escaping) is formatted again with its strings cut, so that
 * it still fits: a long name must not keep a record out of the file. */
#define JSON_LINE_MAX (64 * 1024)

/* The journal fields of one record, or its syslog line: each value has a bound of its own
 * (below), and all of them together fit here. */
#define FIELDS_MAX (96 * 1024)

/* One syslog datagram. Far below what a unix datagram can carry; rsyslog keeps only the
 * first 8 KiB by default, which is why the fixed fields come first. */
#define SYSLOG_LINE_MAX (32 * 1024)
/* Room kept at the end of the line for the last, short pair (mode), so that a long argv is
 * cut rather than push it out. */
#define SYSLOG_TAIL 64

/* Bounds on one value in the journal or in syslog, terminator included. A path of
 * EG_PATH_MAX - 1 plain characters fits; one made of control characters is cut with "...". */
#define VALUE_SMALL 512
#define VALUE_PATH  EG_PATH_MAX
#define VALUE_LONG  (2 * EG_PATH_MAX)
#define VALUE_ARGV  (2 * AUDIT_ARGS_BYTES)

struct audit {
        /* One record at a time: the buffers below are the record's, and deciders of several
         * threads record. */
        pthread_mutex_t lock;
        bool journal; /* else syslog */
        int log_fd;
        char hostname[HOST_NAME_MAX + 1];
        /* Allocated once with the object: nothing is allocated per record. */
        char json[JSON_LINE_MAX];
        char fields[FIELDS_MAX];
};

/* What a record may show of each string and of argv. */
struct limits {
        size_t str;        /* bytes of one string (cut ones end in "...") */
        size_t args;       /* arguments */
        size_t arg;        /* bytes of one argument */
        size_t args_bytes; /* bytes of all arguments */
        bool compact;      /* strings were cut to make the record fit */
};

static const struct limits full_limits = {
        .str = SIZE_MAX,
        .args = AUDIT_ARGS_MAX,
        .arg = AUDIT_ARG_BYTES,
        .args_bytes = AUDIT_ARGS_BYTES,
};

/* Every string of a record, each escaped to at most six bytes per byte, and the message
 * made of them: about 30 KiB at most, well within JSON_LINE_MAX. */
static const struct limits compact_limits = {
        .str = 128,
        .args = 8,
        .arg = 128,
        .args_bytes = 1024,
        .compact = true,
};

/* A bounded writer: it never writes past size (which includes the terminating NUL) and
 * remembers when something did not fit. With dots, what does not fit is cut at a piece
 * boundary and marked "..." (a value); without, the output is void (a JSON line).
 * Text goes through JSON string escaping when json is set, and values through the
 * escaping of out_value() when escape is set (spaces too with escape_space). */
struct out {
        char *buf;
        size_t size;
        size_t len;
        bool dots;
        bool json;
        bool escape;
        bool escape_space;
        bool full;
};

/* Append n bytes. A divisible piece (plain text) may be cut anywhere, an escape sequence or
 * a UTF-8 character never. */
static void out_add(struct out *o, const char *p, size_t n, bool divisible) {
        size_t keep = o->dots ? 4 : 1; /* "..." and the NUL, or the NUL */
        if (o->full)
                return;
        if (o->size < keep) {
                o->full = true;
                return;
        }
        size_t room = o->size - keep - o->len;
        if (n > room) {
                if (o->dots && divisible) {
                        memcpy(o->buf + o->len, p, room);
                        o->len += room;
                }
                o->full = true;
                if (o->dots) {
                        memcpy(o->buf + o->len, "...", 3);
                        o->len += 3;
                }
                return;
        }
        memcpy(o->buf + o->len, p, n);
        o->len += n;
}

static void out_raw(struct out *o, const char *s) {
        out_add(o, s, strlen(s), false);
}

static void out_end(struct out *o) {
        if (o->size > 0)
                o->buf[o->len] = '\0';
}

static const char hexdigits[] = "0123456789abcdef";

/* Bytes as the content of a JSON string: valid UTF-8 whatever they are. Control characters
 * (C0, DEL and C1) become \uXXXX; a byte that is not part of well-formed UTF-8 becomes the
 * text \xNN (written \\xNN), as out_value() would show it. */
static void out_json_bytes(struct out *o, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s, *end = p + n;
        while (p < end) {
                const unsigned char *run = p;
                while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
                        p++;
                if (p > run) {
                        out_add(o, (const char *) run, (size_t) (p - run), true);
                        continue;
                }
                unsigned c = *p;
                size_t len = utf8_sequence(p, (size_t) (end - p));
                if (len == 0) {
                        char e[5] = { '\\', '\\', 'x', hexdigits[c >> 4], hexdigits[c & 0xf] };
                        out_add(o, e, sizeof e, false);
                        p++;
                        continue;
                }
                /* C1 controls are escaped too: a terminal may act on U+009B as on ESC [. */
                bool c1 = utf8_is_c1(p, len);
                if (len > 1 && !c1) {
                        out_add(o, (const char *) p, len, false);
                        p += len;
                        continue;
                }
                if (c1)
                        c = p[1];
                p += len;
                const char *e = NULL;
                switch (c) {
                case '"':
                        e = "\\\"";
                        break;
                case '\\':
                        e = "\\\\";
                        break;
                case '\b':
                        e = "\\b";
                        break;
                case '\f':
                        e = "\\f";
                        break;
                case '\n':
                        e = "\\n";
                        break;
                case '\r':
                        e = "\\r";
                        break;
                case '\t':
                        e = "\\t";
                        break;
                }
                if (e)
                        out_add(o, e, 2, false);
                else {
                        char u[6] = { '\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 0xf] };
                        out_add(o, u, sizeof u, false);
                }
        }
}

/* Text: as it is, or JSON-escaped. */
static void out_text(struct out *o, const char *s, size_t n) {
        if (o->json)
                out_json_bytes(o, s, n);
        else
                out_add(o, s, n, true);
}

static void out_str(struct out *o, const char *s) {
        out_text(o, s, strlen(s));
}

static void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...) {
        char s[64];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s, sizeof s, fmt, ap);
        va_end(ap);
        if (n >= 0)
                out_text(o, s, (size_t) n < sizeof s ? (size_t) n : sizeof s - 1);
}

static bool escaped_byte(unsigned char c, bool space) {
        return c < 0x20 || c == 0x7f || c == '\\' || c == '"' || (space && c == ' ');
}

/* A piece that is never cut: an escape sequence, a UTF-8 character. */
static void out_piece(struct out *o, const char *p, size_t n) {
        if (o->json)
                out_json_bytes(o, p, n);
        else
                out_add(o, p, n, false);
}

/* A value a process may control, at most max bytes of it ("..." when cut).
 * With o->escape, the C0 controls, DEL, backslash and double quote are written \xNN, so that
 * it can never end a line or a quoted value; and so are every byte that is not part of
 * well-formed UTF-8 and the C1 controls: journalctl shows an entry with invalid UTF-8 as "blob
 * data", not as text, and a terminal may act on U+009B as on ESC [. Since a backslash is
 * always \x5c, \xNN is never ambiguous.
 * Without o->escape, as it is (for JSON, which escapes it in its own way). */
static void out_value(struct out *o, const char *s, size_t max) {
        size_t n = strnlen(s, max == SIZE_MAX ? SIZE_MAX : max + 1);
        bool cut = n > max;
        if (cut)
                n = max;
        if (!o->escape)
                out_text(o, s, n);
        else
                for (size_t i = 0; i < n;) {
                        const unsigned char *u = (const unsigned char *) s + i;
                        size_t len = 1;
                        if (*u < 0x80 && !escaped_byte(*u, o->escape_space)) {
                                /* Plain ASCII: may be cut anywhere. */
                                while (i + len < n && u[len] < 0x80 && !escaped_byte(u[len], o->escape_space))
                                        len++;
                                out_text(o, s + i, len);
                        } else if (*u >= 0x80 && (len = utf8_sequence(u, n - i)) > 0 && !utf8_is_c1(u, len))
                                out_piece(o, s + i, len);
                        else {
                                char e[4] = { '\\', 'x', hexdigits[*u >> 4], hexdigits[*u & 0xf] };
                                out_piece(o, e, sizeof e);
                                len = 1;
                        }
                        i += len;
                }
        if (cut)
                out_text(o, "...", 3);
}

/* The arguments a record shows, within lim: one at a time. */
struct args_iter {
        size_t i, shown, bytes;
        bool cut; /* not all of argv is shown */
};

static bool args_next(const struct audit_process *p, const struct limits *lim, struct args_iter *it,
                      const char **ret_arg, size_t *ret_len) {
        if (!p->argv || it->i >= p->argc)
                return false;
        if (it->shown >= lim->args) {
                it->cut = true;
                return false;
        }
        const char *arg = p->argv[it->i] ? p->argv[it->i] : "";
        size_t n = strnlen(arg, lim->arg + 1);
        if (n > lim->arg) {
                n = lim->arg;
                it->cut = true;
        }
        if (it->bytes + n > lim->args_bytes) {
                it->cut = true;
                return false;
        }
        it->i++;
        it->shown++;
        it->bytes += n;
        *ret_arg = arg;
        *ret_len = n;
        return true;
}

/* The key of a rule as written; NULL for a setting ("fileless = deny"), whose text is whole. */
static const char *rule_key(const struct policy_rule *rule) {
        if (rule->key)
                return rule->key;
        switch (rule->kind) { /* a rule made by hand, not parsed */
        case POLICY_RULE_PATH:
        case POLICY_RULE_GLOB:
        case POLICY_RULE_HASH:
        case POLICY_RULE_DIR:
        case POLICY_RULE_COMMAND:
                return rule->allow ? "allow"
                                   : policy_rule_kind_to_string(rule->kind == POLICY_RULE_GLOB ? POLICY_RULE_PATH
                                                                                               : rule->kind);
        case POLICY_RULE_FILELESS:
        case POLICY_RULE_DEFAULT:
        case POLICY_RULE_TRUSTED_PATH:
                return NULL;
        }
        return NULL;
}

/* "path = /usr/bin/df", "[user:alice] allow = /opt/tools/df" */
static void write_rule_text(struct out *o, const struct policy_rule *rule, size_t max) {
        if (rule->scope) {
                out_str(o, "[");
                out_value(o, rule->scope, max);
                out_str(o, "] ");
        }
        const char *key = rule_key(rule);
        if (key) {
                out_str(o, key);
                out_str(o, " = ");
        }
        out_value(o, rule->text ? rule->text : "", max);
}

/* "/etc/execguard.ini:6" */
static void write_rule_name(struct out *o, const char *source, unsigned line, size_t max) {
        if (source) {
                out_value(o, source, max);
                out_fmt(o, ":%u", line);
        } else
                out_fmt(o, "line %u", line);
}

static bool uid_known(uid_t uid) {
        return uid != (uid_t) -1;
}

/* One sentence for people: what was decided about which file, for whom, and why. */
static void write_message(struct out *o, const struct audit_record *rec, size_t max) {
        const struct audit_process *p = &rec->process;
        const char *file = rec->blocked ? rec->blocked : rec->executable ? rec->executable : rec->requested;

        if (rec->decision == AUDIT_SUPERVISOR_LOST) {
                /* The same sentence the wrapper prints on stderr, with the pid. */
                out_str(o, "execguard: the supervisor of session ");
                out_value(o, rec->session ? rec->session : "?", max);
                if (p->pid > 0)
                        out_fmt(o, " (pid %d)", (int) p->pid);
                out_str(o, " was lost");
                if (rec->note) {
                        out_str(o, " (");
                        out_value(o, rec->note, max);
                        out_str(o, ")");
                }
                out_str(o, ": execs in this session now fail");
                return;
        }
        if (rec->decision == AUDIT_SESSION_DEGRADED) {
                out_str(o, "execguard: session ");
                out_value(o, rec->session ? rec->session : "?", max);
                out_str(o, " reached no daemon and is supervised standalone, degraded: ");
                out_value(o, rec->degraded ? rec->degraded : "?", max);
                return;
        }
        out_str(o, "execguard: ");
        out_str(o, audit_decision_to_string(rec->decision));
        if (rec->operation) {
                out_str(o, " ");
                out_value(o, rec->operation, max);
                out_str(o, " of");
        }
        if (file) {
                out_str(o, " ");
                out_value(o, file, max);
        }
        if (rec->requested && file != rec->requested && strcmp(rec->requested, file) != 0) {
                out_str(o, " (requested \"");
                out_value(o, rec->requested, max);
                out_str(o, "\")");
        }
        if (rec->target) {
                out_str(o, " to \"");
                out_value(o, rec->target, max);
                out_str(o, "\"");
        }
        if (rec->syscall) {
                out_str(o, " with ");
                out_value(o, rec->syscall, max);
                out_str(o, "()");
        }
        if (p->pid > 0 || uid_known(p->uid))
                out_str(o, " by");
        if (p->pid > 0)
                out_fmt(o, " pid %d", (int) p->pid);
        if (uid_known(p->uid)) {
                out_fmt(o, " uid %u", (unsigned) p->uid);
                if (p->user) {
                        out_str(o, " (");
                        out_value(o, p->user, max);
                        out_str(o, ")");
                }
        }
        if (uid_known(p->euid) && p->euid != p->uid) {
                out_fmt(o, " euid %u", (unsigned) p->euid);
                if (p->euser) {
                        out_str(o, " (");
                        out_value(o, p->euser, max);
                        out_str(o, ")");
                }
        }
        if (rec->rule) {
                out_str(o, rec->rule->allow                     ? ": allowed by "
                           : rec->decision == AUDIT_WOULD_BLOCK ? ": would be blocked by "
                                                                : ": blocked by ");
                write_rule_name(o, rec->policy_source, rec->rule->line, max);
                out_str(o, " (");
                write_rule_text(o, rec->rule, max);
                out_str(o, ")");
        }
        if (rec->note) {
                out_str(o, rec->rule ? "; " : ": ");
                out_value(o, rec->note, max);
        } else if (!rec->rule && rec->decision == AUDIT_ALLOW)
                out_str(o, ": no rule matched");
}

/* argv for the journal: "arg" "arg" ..., or for syslog (spaces escaped): arg arg ...; then
 * " ..." when not all of it is shown. */
static void write_argv_text(struct out *o, const struct audit_process *p, bool quoted) {
        struct args_iter it = {};
        const char *arg;
        size_t n;
        while (args_next(p, &full_limits, &it, &arg, &n)) {
                if (it.shown > 1)
                        out_str(o, " ");
                if (quoted)
                        out_str(o, "\"");
                out_value(o, arg, n);
                if (quoted)
                        out_str(o, "\"");
        }
        if (it.cut || p->argv_truncated)
                out_str(o, it.shown > 0 ? " ..." : "...");
}

static void write_chain_text(struct out *o, const struct audit_record *rec) {
        for (size_t i = 0; i < rec->chain_len && i < AUDIT_CHAIN_MAX; i++) {
                if (i > 0)
                        out_str(o, " -> ");
                out_value(o, rec->chain[i] ? rec->chain[i] : "", SIZE_MAX);
        }
        if (rec->chain_len > AUDIT_CHAIN_MAX)
                out_str(o, " -> ...");
}

const char *audit_decision_to_string(enum audit_decision d) {
        switch (d) {
        case AUDIT_ALLOW:
                return "allow";
        case AUDIT_DENY:
                return "deny";
        case AUDIT_KILL:
                return "kill";
        case AUDIT_WOULD_BLOCK:
                return "audit";
        case AUDIT_SUPERVISOR_LOST:
                return "supervisor-lost";
        case AUDIT_SESSION_DEGRADED:
                return "session-degraded";
        }
        return "?";
}

static int decision_priority(enum audit_decision d) {
        switch (d) {
        case AUDIT_ALLOW:
                return LOG_INFO;
        case AUDIT_DENY:
        case AUDIT_KILL:
                return LOG_WARNING;
        case AUDIT_WOULD_BLOCK:
                return LOG_NOTICE;
        case AUDIT_SESSION_DEGRADED:
                return LOG_WARNING;
        case AUDIT_SUPERVISOR_LOST:
                return LOG_ERR;
        }
        return LOG_WARNING;
}

static bool decision_refused(enum audit_decision d) {
        switch (d) {
        case AUDIT_DENY:
        case AUDIT_KILL:
        case AUDIT_SUPERVISOR_LOST:
                return true;
        case AUDIT_ALLOW:
        case AUDIT_WOULD_BLOCK:
        case AUDIT_SESSION_DEGRADED:
                return false;
        }
        return true;
}

/* A file operation's event.action: "file-delete-denied". */
static const char *file_action_verb(const char *operation) {
        return strcmp(operation, "unlink") == 0 ? "delete" : operation;
}

static const char *decision_outcome_word(enum audit_decision d) {
        switch (d) {
        case AUDIT_ALLOW:
                return "allowed";
        case AUDIT_KILL:
                return "killed";
        case AUDIT_WOULD_BLOCK:
                return "audited";
        case AUDIT_DENY:
        case AUDIT_SUPERVISOR_LOST:
        case AUDIT_SESSION_DEGRADED:
                break;
        }
        return "denied";
}

static const char *decision_ecs_action(enum audit_decision d) {
        switch (d) {
        case AUDIT_ALLOW:
                return "exec-allowed";
        case AUDIT_DENY:
                return "exec-denied";
        case AUDIT_KILL:
                return "exec-killed";
        case AUDIT_WOULD_BLOCK:
                return "exec-audited";
        case AUDIT_SUPERVISOR_LOST:
                return "supervisor-lost";
        case AUDIT_SESSION_DEGRADED:
                return "session-degraded";
        }
        return "exec-denied";
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* The comma before a member or an element, unless it is the first one. Only ever called
 * where the last byte written is structural, never inside a string. */
static void json_sep(struct out *o) {
        if (!o->full && o->len > 0 && o->buf[o->len - 1] != '{' && o->buf[o->len - 1] != '[')
                out_add(o, ",", 1, false);
}

static void json_key(struct out *o, const char *key) {
        json_sep(o);
        out_raw(o, "\"");
        out_raw(o, key);
        out_raw(o, "\":");
}

/* Open a member that is an object or an array; returns where it began. */
static size_t json_open(struct out *o, const char *key, const char *bracket) {
        size_t mark = o->len;
        json_key(o, key);
        out_raw(o, bracket);
        return mark;
}

/* Close it, or take it back when nothing went into it: unknown is left out. */
static void json_close(struct out *o, size_t mark, const char *bracket) {
        if (!o->full && o->buf[o->len - 1] == (bracket[0] == '}' ? '{' : '['))
                o->len = mark;
        else
                out_raw(o, bracket);
}

static void json_string(struct out *o, const char *s, size_t max) {
        out_raw(o, "\"");
        o->json = true;
        out_value(o, s, max);
        o->json = false;
        out_raw(o, "\"");
}

static void json_str(struct out *o, const char *key, const char *s, const struct limits *lim) {
        if (!s)
                return;
        json_key(o, key);
        json_string(o, s, lim->str);
}

static void json_int(struct out *o, const char *key, long long v) {
        char s[32];
        json_key(o, key);
        snprintf(s, sizeof s, "%lld", v);
        out_raw(o, s);
}

/* user.id is a keyword in ECS: a string. */
static void json_id(struct out *o, const char *key, uid_t id) {
        char s[32];
        json_key(o, key);
        snprintf(s, sizeof s, "\"%u\"", (unsigned) id);
        out_raw(o, s);
}

static void json_timestamp(struct out *o, const struct timespec *t) {
        struct tm tm;
        time_t sec = t->tv_sec;
        long usec = t->tv_nsec >= 0 && t->tv_nsec < 1000000000L ? t->tv_nsec / 1000 : 0;
        char s[96];
        if (!gmtime_r(&sec, &tm))
                return;
        snprintf(s, sizeof s, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
        json_key(o, "@timestamp");
        out_raw(o, s);
}

static int format_json(const struct audit_record *rec, const char *hostname, const struct limits *lim, char *buf,
                       size_t size) {
        const struct audit_process *p = &rec->process;
        /* The length is returned as an int. */
        struct out o = { .buf = buf, .size = size < INT_MAX ? size : INT_MAX };
        struct timespec t = rec->time;
        size_t m, m2;

        if (t.tv_sec == 0 && t.tv_nsec == 0)
                clock_gettime(CLOCK_REALTIME, &t);

        out_raw(&o, "{");
        json_timestamp(&o, &t);
        json_key(&o, "ecs");
        out_raw(&o, "{\"version\":\"8.11.0\"}");

        json_key(&o, "message");
        out_raw(&o, "\"");
        o.json = o.escape = true;
        write_message(&o, rec, lim->str);
        o.json = o.escape = false;
        out_raw(&o, "\"");

        bool refused = decision_refused(rec->decision);
        json_key(&o, "event");
        /* A degraded session's start is a session's event, not a process's: a count of
         * process starts must not count it as an exec. */
        out_raw(&o, rec->decision == AUDIT_SESSION_DEGRADED
                            ? "{\"kind\":\"event\",\"category\":[\"session\"],\"type\":["
                    : rec->operation ? "{\"kind\":\"event\",\"category\":[\"file\"],\"type\":["
                                     : "{\"kind\":\"event\",\"category\":[\"process\"],\"type\":[");
        /* A lost supervisor is a process that ended; a decision, an exec allowed or not. */
        if (rec->operation) {
                bool deletion = strcmp(rec->operation, "unlink") == 0;
                bool creation = strcmp(rec->operation, "link") == 0 || strcmp(rec->operation, "symlink") == 0;
                out_raw(&o, deletion ? "\"deletion\"" : creation ? "\"creation\"" : "\"change\"");
                out_raw(&o, refused ? ",\"denied\"]" : ",\"allowed\"]");
                out_raw(&o, ",\"action\":\"file-");
                out_raw(&o, file_action_verb(rec->operation));
                out_raw(&o, "-");
                out_raw(&o, decision_outcome_word(rec->decision));
        } else {
                out_raw(&o, rec->decision == AUDIT_SUPERVISOR_LOST    ? "\"end\"]"
                            : rec->decision == AUDIT_SESSION_DEGRADED ? "\"start\"]"
                            : refused                                 ? "\"start\",\"denied\"]"
                                                                      : "\"start\",\"allowed\"]");
                out_raw(&o, ",\"action\":\"");
                out_raw(&o, decision_ecs_action(rec->decision));
        }
        out_raw(&o, refused ? "\",\"outcome\":\"failure\"" : "\",\"outcome\":\"success\"");
        out_raw(&o, rec->operation ? ",\"module\":\"execguard\",\"dataset\":\"execguard.file\"}"
                                   : ",\"module\":\"execguard\",\"dataset\":\"execguard.exec\"}");
        if (rec->operation && rec->blocked) {
                m = json_open(&o, "file", "{");
                json_str(&o, "path", rec->blocked, lim);
                json_close(&o, m, "}");
        }

        struct args_iter it = {};
        m = json_open(&o, "process", "{");
        if (p->pid > 0)
                json_int(&o, "pid", p->pid);
        json_str(&o, "executable", rec->executable, lim);
        if (p->argv) {
                const char *arg;
                size_t n;
                /* Kept even when empty: an exec with no argv[0] at all is worth seeing. */
                json_key(&o, "args");
                out_raw(&o, "[");
                while (args_next(p, lim, &it, &arg, &n)) {
                        json_sep(&o);
                        json_string(&o, arg, n);
                }
                out_raw(&o, "]");
                json_int(&o, "args_count", (long long) it.shown);
        }
        json_str(&o, "working_directory", p->cwd, lim);
        if (p->ppid >= 0) {
                m2 = json_open(&o, "parent", "{");
                json_int(&o, "pid", p->ppid);
                json_close(&o, m2, "}");
        }
        json_close(&o, m, "}");

        m = json_open(&o, "user", "{");
        if (uid_known(p->uid))
                json_id(&o, "id", p->uid);
        json_str(&o, "name", p->user, lim);
        m2 = json_open(&o, "effective", "{");
        if (uid_known(p->euid))
                json_id(&o, "id", p->euid);
        json_str(&o, "name", p->euser, lim);
        json_close(&o, m2, "}");
        m2 = json_open(&o, "audit", "{");
        if (p->has_auid)
                json_id(&o, "id", p->auid);
        json_str(&o, "name", p->auser, lim);
        json_close(&o, m2, "}");
        json_close(&o, m, "}");

        if (rec->source_ip) {
                m = json_open(&o, "source", "{");
                json_str(&o, "ip", rec->source_ip, lim);
                json_int(&o, "port", rec->source_port);
                json_close(&o, m, "}");
        }

        if (hostname) {
                m = json_open(&o, "host", "{");
                json_str(&o, "hostname", hostname, lim);
                json_close(&o, m, "}");
        }

        if (rec->rule) {
                m = json_open(&o, "rule", "{");
                json_key(&o, "name");
                out_raw(&o, "\"");
                o.json = true;
                write_rule_name(&o, rec->policy_source, rec->rule->line, lim->str);
                out_raw(&o, "\",\"description\":\"");
                write_rule_text(&o, rec->rule, lim->str);
                o.json = false;
                out_raw(&o, "\"");
                json_str(&o, "ruleset", rec->policy_source, lim);
                json_close(&o, m, "}");
        }

        m = json_open(&o, "execguard", "{");
        json_str(&o, "decision", audit_decision_to_string(rec->decision), lim);
        json_str(&o, "mode", rec->mode, lim);
        json_str(&o, "session", rec->session, lim);
        json_str(&o, "degraded", rec->degraded, lim);
        json_str(&o, "verifier", rec->verifier, lim);
        if (p->has_audit_session)
                json_int(&o, "audit_session", p->audit_session);
        json_str(&o, "operation", rec->operation, lim);
        json_str(&o, "syscall", rec->syscall, lim);
        json_str(&o, "requested", rec->requested, lim);
        json_str(&o, "target", rec->target, lim);
        if (rec->chain && rec->chain_len > 0) {
                m2 = json_open(&o, "chain", "[");
                for (size_t i = 0; i < rec->chain_len && i < AUDIT_CHAIN_MAX; i++) {
                        json_sep(&o);
                        json_string(&o, rec->chain[i] ? rec->chain[i] : "", lim->str);
                }
                json_close(&o, m2, "]");
        }
        json_str(&o, "blocked", rec->blocked, lim);
        json_str(&o, "tty", p->tty, lim);
        json_str(&o, "note", rec->note, lim);
        if (p->argv && (it.cut || p->argv_truncated)) {
                json_key(&o, "args_truncated");
                out_raw(&o, "true");
        }
        if (lim->compact) {
                json_key(&o, "truncated");
                out_raw(&o, "true");
        }
        json_close(&o, m, "}");
        out_raw(&o, "}\n");

        if (o.full)
                return -ENOBUFS;
        out_end(&o);
        return (int) o.len;
}

int audit_format_json(const struct audit_record *rec, const char *hostname, char *buf, size_t size) {
        return format_json(rec, hostname, &full_limits, buf, size);
}

/* ---- journald and syslog -------------------------------------------------------------- */

/* The journal fields of one record, "NAME=value" each, carved out of audit->fields. */
struct fields {
        char *buf;
        size_t size, used;
        struct iovec iov[48];
        size_t n;
        struct out value; /* the field being written */
        bool named;       /* its "NAME=" is there */
};

/* Start field name; its value may take cap bytes. */
static struct out *field_begin(struct fields *f, const char *name, size_t cap) {
        size_t room = f->size - f->used;
        size_t size = strlen(name) + 1 + cap;
        f->value = (struct out){
                .buf = f->buf + f->used,
                .size = size < room ? size : room,
                .dots = true,
                .escape = true,
        };
        out_raw(&f->value, name);
        out_raw(&f->value, "=");
        f->named = !f->value.full;
        return &f->value;
}

static void field_end(struct fields *f) {
        struct out *v = &f->value;
        /* The bounds leave room for every field; should they not, a field is left out rather
         * than sent without its name. */
        if (!f->named || f->n == ELEMENTSOF(f->iov))
                return;
        out_end(v);
        f->iov[f->n++] = (struct iovec){ .iov_base = v->buf, .iov_len = v->len };
        f->used += v->len + 1;
}

static void field_str(struct fields *f, const char *name, const char *value, size_t cap) {
        if (!value)
                return;
        out_value(field_begin(f, name, cap), value, SIZE_MAX);
        field_end(f);
}

static void field_num(struct fields *f, const char *name, long long v) {
        out_fmt(field_begin(f, name, 32), "%lld", v);
        field_end(f);
}

static int log_journal(struct audit *a, const struct audit_record *rec) {
        const struct audit_process *p = &rec->process;
        struct fields f = { .buf = a->fields, .size = sizeof a->fields };
        struct out *o;

        write_message(field_begin(&f, "MESSAGE", VALUE_LONG), rec, SIZE_MAX);
        field_end(&f);
        field_str(&f, "MESSAGE_ID",
                  rec->decision == AUDIT_SUPERVISOR_LOST    ? AUDIT_MESSAGE_ID_SUPERVISOR_LOST
                  : rec->decision == AUDIT_SESSION_DEGRADED ? AUDIT_MESSAGE_ID_SESSION_DEGRADED
                                                            : AUDIT_MESSAGE_ID,
                  VALUE_SMALL);
        field_num(&f, "PRIORITY", decision_priority(rec->decision));
        field_str(&f, "SYSLOG_IDENTIFIER", "execguard", VALUE_SMALL);
        field_num(&f, "SYSLOG_FACILITY", LOG_AUTHPRIV >> 3);
        field_str(&f, "EXECGUARD_DECISION", audit_decision_to_string(rec->decision), VALUE_SMALL);
        field_str(&f, "EXECGUARD_MODE", rec->mode, VALUE_SMALL);
        field_str(&f, "EXECGUARD_SESSION", rec->session, VALUE_SMALL);
        field_str(&f, "EXECGUARD_DEGRADED", rec->degraded, VALUE_SMALL);
        field_str(&f, "EXECGUARD_VERIFIER", rec->verifier, VALUE_SMALL);
        if (rec->source_ip) {
                field_str(&f, "EXECGUARD_SOURCE_IP", rec->source_ip, VALUE_SMALL);
                field_num(&f, "EXECGUARD_SOURCE_PORT", rec->source_port);
        }
        if (p->has_auid)
                field_num(&f, "EXECGUARD_AUDIT_UID", p->auid);
        field_str(&f, "EXECGUARD_AUDIT_USER", p->auser, VALUE_SMALL);
        if (p->has_audit_session)
                field_num(&f, "EXECGUARD_AUDIT_SESSION", p->audit_session);
        if (p->pid > 0)
                field_num(&f, "EXECGUARD_PID", p->pid);
        if (p->ppid >= 0)
                field_num(&f, "EXECGUARD_PPID", p->ppid);
        if (uid_known(p->uid))
                field_num(&f, "EXECGUARD_UID", p->uid);
        if (uid_known(p->euid))
                field_num(&f, "EXECGUARD_EUID", p->euid);
        field_str(&f, "EXECGUARD_USER", p->user, VALUE_SMALL);
        field_str(&f, "EXECGUARD_EUSER", p->euser, VALUE_SMALL);
        field_str(&f, "EXECGUARD_TTY", p->tty, VALUE_SMALL);
        field_str(&f, "EXECGUARD_CWD", p->cwd, VALUE_PATH);
        field_str(&f, "EXECGUARD_OPERATION", rec->operation, VALUE_SMALL);
        field_str(&f, "EXECGUARD_SYSCALL", rec->syscall, VALUE_SMALL);
        field_str(&f, "EXECGUARD_REQUESTED", rec->requested, VALUE_PATH);
        field_str(&f, "EXECGUARD_TARGET", rec->target, VALUE_PATH);
        field_str(&f, "EXECGUARD_EXECUTABLE", rec->executable, VALUE_PATH);
        if (rec->chain && rec->chain_len > 0) {
                write_chain_text(field_begin(&f, "EXECGUARD_CHAIN", VALUE_LONG), rec);
                field_end(&f);
        }
        if (p->argv) {
                write_argv_text(field_begin(&f, "EXECGUARD_ARGV", VALUE_ARGV), p, true);
                field_end(&f);
        }
        field_str(&f, "EXECGUARD_BLOCKED", rec->blocked, VALUE_PATH);
        if (rec->rule) {
                o = field_begin(&f, "EXECGUARD_RULE", VALUE_PATH);
                write_rule_name(o, rec->policy_source, rec->rule->line, SIZE_MAX);
                field_end(&f);
                write_rule_text(field_begin(&f, "EXECGUARD_RULE_TEXT", VALUE_LONG), rec->rule, SIZE_MAX);
                field_end(&f);
        }
        field_str(&f, "EXECGUARD_NOTE", rec->note, VALUE_SMALL);
        field_str(&f, "EXECGUARD_HOSTNAME", a->hostname[0] ? a->hostname : NULL, VALUE_SMALL);

        int r = sd_journal_sendv(f.iov, (int) f.n);
        return r < 0 ? r : 0;
}

/* Start a pair ` key="` on the syslog line whose value may take cap bytes, leaving reserve
 * bytes for what follows it; false (nothing written) when it does not fit at all. */
static bool pair_begin(struct out *line, const char *key, size_t cap, size_t reserve, struct out *ret_value) {
        size_t need = 1 + strlen(key) + 2 + 1 + 1 + reserve; /* ' ' key '="' value '"' NUL */
        if (line->full || line->size - line->len < need + 4)
                return false;
        out_raw(line, " ");
        out_raw(line, key);
        out_raw(line, "=\"");
        size_t room = line->size - line->len - 2 - reserve; /* '"' NUL */
        *ret_value = (struct out){
                .buf = line->buf + line->len,
                .size = cap < room ? cap : room,
                .dots = true,
                .escape = true,
        };
        return true;
}

static void pair_end(struct out *line, struct out *value) {
        line->len += value->len;
        out_raw(line, "\"");
}

/* A value that is absent or empty is left out, not written key="". */
static void pair_str(struct out *line, const char *key, const char *s, size_t cap) {
        struct out v;
        if (s && s[0] && pair_begin(line, key, cap, SYSLOG_TAIL, &v)) {
                out_value(&v, s, SIZE_MAX);
                pair_end(line, &v);
        }
}

static void pair_num(struct out *line, const char *key, long long n) {
        struct out v;
        if (pair_begin(line, key, 32, SYSLOG_TAIL, &v)) {
                out_fmt(&v, "%lld", n);
                pair_end(line, &v);
        }
}

/* One line, one datagram. Its beginning is what it has always been, for the scripts that
 * read it: decision= pid= uid= [requested=] [blocked=] [rule= match=] [note=]; then the
 * rest. A field that is not known is left out, as everywhere else. */
static void log_syslog(struct audit *a, const struct audit_record *rec) {
        const struct audit_process *p = &rec->process;
        struct out line = { .buf = a->fields, .size = SYSLOG_LINE_MAX < FIELDS_MAX ? SYSLOG_LINE_MAX : FIELDS_MAX };
        struct out v;

        out_raw(&line, "decision=");
        out_raw(&line, audit_decision_to_string(rec->decision));
        char ids[64];
        snprintf(ids, sizeof ids, " pid=%d uid=%u", (int) p->pid, (unsigned) p->uid);
        out_raw(&line, ids);
        pair_str(&line, "requested", rec->requested, VALUE_PATH);
        pair_str(&line, "blocked", rec->blocked, VALUE_PATH);
        if (rec->rule && pair_begin(&line, "rule", VALUE_PATH, SYSLOG_TAIL, &v)) {
                write_rule_name(&v, rec->policy_source, rec->rule->line, SIZE_MAX);
                pair_end(&line, &v);
        }
        if (rec->rule)
                pair_str(&line, "match", rec->rule->text, VALUE_PATH);
        pair_str(&line, "note", rec->note, VALUE_SMALL);
        pair_str(&line, "operation", rec->operation, VALUE_SMALL);
        pair_str(&line, "syscall", rec->syscall, VALUE_SMALL);
        pair_str(&line, "target", rec->target, VALUE_PATH);
        pair_str(&line, "session", rec->session, VALUE_SMALL);
        pair_str(&line, "degraded", rec->degraded, VALUE_SMALL);
        pair_str(&line, "verifier", rec->verifier, VALUE_SMALL);
        if (rec->source_ip) {
                pair_str(&line, "source_ip", rec->source_ip, VALUE_SMALL);
                pair_num(&line, "source_port", rec->source_port);
        }
        if (p->has_auid)
                pair_num(&line, "auid", p->auid);
        pair_str(&line, "auser", p->auser, VALUE_SMALL);
        if (p->has_audit_session)
                pair_num(&line, "audit_session", p->audit_session);
        if (p->ppid >= 0)
                pair_num(&line, "ppid", p->ppid);
        if (uid_known(p->euid))
                pair_num(&line, "euid", p->euid);
        pair_str(&line, "user", p->user, VALUE_SMALL);
        pair_str(&line, "euser", p->euser, VALUE_SMALL);
        pair_str(&line, "tty", p->tty, VALUE_SMALL);
        pair_str(&line, "cwd", p->cwd, VALUE_PATH);
        pair_str(&line, "executable", rec->executable, VALUE_PATH);
        if (rec->chain && rec->chain_len > 0 && pair_begin(&line, "chain", VALUE_LONG, SYSLOG_TAIL, &v)) {
                write_chain_text(&v, rec);
                pair_end(&line, &v);
        }
        /* Spaces escaped too: the arguments are told apart by the spaces between them. */
        if (p->argv && (p->argc > 0 || p->argv_truncated) && pair_begin(&line, "argv", VALUE_ARGV, SYSLOG_TAIL, &v)) {
                v.escape_space = true;
                write_argv_text(&v, p, false);
                pair_end(&line, &v);
        }
        if (rec->mode && rec->mode[0] && pair_begin(&line, "mode", VALUE_SMALL, 0, &v)) {
                out_value(&v, rec->mode, SIZE_MAX);
                pair_end(&line, &v);
        }
        out_end(&line);
        syslog(LOG_AUTHPRIV | decision_priority(rec->decision), "%s", line.buf);
}

static int write_json_line(struct audit *a, const struct audit_record *rec) {
        const char *hostname = a->hostname[0] ? a->hostname : NULL;
        int n = format_json(rec, hostname, &full_limits, a->json, sizeof a->json);
        if (n == -ENOBUFS)
                n = format_json(rec, hostname, &compact_limits, a->json, sizeof a->json);
        if (n < 0)
                return n;
        for (;;) {
                /* One write(): with O_APPEND, the line lands whole at the end of the file,
                 * even when another process appends to it too. */
                ssize_t w = write(a->log_fd, a->json, (size_t) n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return negative_errno();
                if (w < n) {
                        /* Disk full, most likely: end the partial line, so that the next
                         * record starts a line of its own. */
                        if (write(a->log_fd, "\n", 1) < 0) {
                                /* Then the next record may share its line: nothing more to do. */
                        }
                        return -EIO;
                }
                return 0;
        }
}

int audit_log(struct audit *a, const struct audit_record *rec) {
        struct audit_record r = *rec;
        int ret = 0;

        if (r.time.tv_sec == 0 && r.time.tv_nsec == 0)
                clock_gettime(CLOCK_REALTIME, &r.time);
        pthread_mutex_lock(&a->lock);
        if (a->journal) {
                ret = log_journal(a, &r);
                /* journald went away (or refuses): syslog may still be there. */
                if (ret < 0)
                        log_syslog(a, &r);
        } else
                log_syslog(a, &r);
        if (a->log_fd >= 0) {
                int k = write_json_line(a, &r);
                if (k < 0 && ret == 0)
                        ret = k;
        }
        pthread_mutex_unlock(&a->lock);
        return ret;
}

/* ---- opening -------------------------------------------------------------------------- */

/* Whether a datagram socket listens at path. syslog(3) and sd_journal_sendv() drop records
 * silently when nothing does: find out now. */
static bool socket_reachable(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
}

/* The log file: never through a symlink at its last component, never anything but a
 * regular file. O_NONBLOCK keeps the open from hanging on a FIFO that has no reader. */
static int open_log_file(const char *path) {
        _cleanup_close_ int fd =
                open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int audit_open(const char *log_file, struct audit **ret_audit, const char **ret_warning) {
        _cleanup_(audit_freep) struct audit *a = calloc(1, sizeof *a);
        const char *warning = NULL;

        if (a)
                pthread_mutex_init(&a->lock, NULL);
        if (!a)
                return -ENOMEM;
        a->log_fd = -1;
        /* Once, not a system call per record. */
        if (gethostname(a->hostname, sizeof a->hostname - 1) < 0)
                a->hostname[0] = '\0';

        if (log_file) {
                int fd = open_log_file(log_file);
                if (fd < 0)
                        return fd;
                a->log_fd = fd;
        }

        a->journal = socket_reachable(JOURNAL_SOCKET);
        /* syslog's identity is set either way: records fall back to syslog when journald
         * fails. Its socket is connected now only when syslog is the sink. */
        openlog("execguard", LOG_PID | (a->journal ? 0 : LOG_NDELAY), LOG_AUTHPRIV);
        if (!a->journal && !socket_reachable(SYSLOG_SOCKET))
                warning = log_file ? "neither journald nor syslog (" SYSLOG_SOCKET
                                     ") can be reached: audit records go only to the log_file"
                                   : "neither journald nor syslog (" SYSLOG_SOCKET
                                     ") can be reached: audit records will be lost";

        *ret_audit = TAKE_PTR(a);
        if (ret_warning)
                *ret_warning = warning;
        return 0;
}

void audit_free(struct audit *a) {
        if (!a)
                return;
        /* No closelog(): syslog's connection and identity belong to the process, and the
         * audit that replaces this one on a reload, opened before this one is freed, uses
         * them too. */
        safe_close(a->log_fd);
        pthread_mutex_destroy(&a->lock);
        free(a);
}
