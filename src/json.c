#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 64 /* our records nest 4 deep: deeper is not ours, and the stack is bounded */

struct parser {
        const char *s, *end, *start;
        const char *error;
        int depth;
};

static int fail(struct parser *p, const char *why) {
        if (!p->error)
                p->error = why;
        return -EINVAL;
}

static void skip_blanks(struct parser *p) {
        while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
                p->s++;
}

static int hex4(struct parser *p, unsigned *ret) {
        if (p->end - p->s < 4)
                return fail(p, "short \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = *p->s++;
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return fail(p, "bad \\u escape");
        }
        *ret = v;
        return 0;
}

static size_t put_utf8(char *out, unsigned cp) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* At the opening quote: the decoded string, malloc'ed. Decoded text is never longer than
 * its escaped form. */
static int parse_string(struct parser *p, char **ret) {
        const char *close = p->s + 1;
        while (close < p->end && *close != '"')
                close += *close == '\\' && close + 1 < p->end ? 2 : 1;
        if (close >= p->end)
                return fail(p, "unterminated string"); /* said at its opening quote */
        p->s++;
        char *out = malloc((size_t) (close - p->s) + 1);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        while (p->s < close) {
                unsigned char c = (unsigned char) *p->s++;
                if (c < 0x20) {
                        free(out);
                        return fail(p, "control character in a string");
                }
                if (c != '\\') {
                        out[n++] = (char) c;
                        continue;
                }
                char e = *p->s++;
                unsigned cp;
                switch (e) {
                case '"':
                case '\\':
                case '/':
                        out[n++] = e;
                        continue;
                case 'b':
                        out[n++] = '\b';
                        continue;
                case 'f':
                        out[n++] = '\f';
                        continue;
                case 'n':
                        out[n++] = '\n';
                        continue;
                case 'r':
                        out[n++] = '\r';
                        continue;
                case 't':
                        out[n++] = '\t';
                        continue;
                case 'u':
                        if (hex4(p, &cp) < 0)
                                break;
                        if (cp >= 0xd800 && cp < 0xdc00) {
                                unsigned lo;
                                if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u')
                                        break;
                                p->s += 2;
                                if (hex4(p, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
                                        break;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        } else if (cp >= 0xdc00 && cp < 0xe000)
                                break;
                        if (cp == 0)
                                break; /* a NUL would cut the string short: refused */
                        n += put_utf8(out + n, cp);
                        continue;
                default:
                        break;
                }
                free(out);
                return fail(p, "bad escape in a string");
        }
        p->s = close + 1;
        out[n] = '\0';
        *ret = out;
        return 0;
}

static int parse_value(struct parser *p, struct json **ret);

static int parse_number(struct parser *p, struct json *j) {
        const char *s = p->s;
        if (s < p->end && *s == '-')
                s++;
        if (s >= p->end || *s < '0' || *s > '9')
                return fail(p, "bad number");
        if (*s == '0')
                s++;
        else
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        if (s < p->end && *s == '.') {
                s++;
                if (s >= p->end || *s < '0' || *s > '9')
                        return fail(p, "bad number");
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        }
        if (s < p->end && (*s == 'e' || *s == 'E')) {
                s++;
                if (s < p->end && (*s == '+' || *s == '-'))
                        s++;
                if (s >= p->end || *s < '0' || *s > '9')
                        return fail(p, "bad number");
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        }
        char buf[64];
        size_t len = (size_t) (s - p->s);
        if (len >= sizeof buf)
                return fail(p, "number too long");
        memcpy(buf, p->s, len);
        buf[len] = '\0';
        j->type = JSON_NUMBER;
        j->number = strtod(buf, NULL);
        p->s = s;
        return 0;
}

static bool literal(struct parser *p, const char *word) {
        size_t len = strlen(word);
        if ((size_t) (p->end - p->s) < len || memcmp(p->s, word, len) != 0)
                return false;
        p->s += len;
        return true;
}

/* The elements of an array, or the members of an object (keyed), up to close. */
static int parse_list(struct parser *p, struct json *j, bool keyed, char close) {
        p->s++;
        struct json **tail = &j->kid;
        skip_blanks(p);
        if (p->s < p->end && *p->s == close) {
                p->s++;
                return 0;
        }
        for (;;) {
                char *key = NULL;
                skip_blanks(p);
                if (keyed) {
                        if (p->s >= p->end || *p->s != '"')
                                return fail(p, "expected a member name");
                        int r = parse_string(p, &key);
                        if (r < 0)
                                return r;
                        skip_blanks(p);
                        if (p->s >= p->end || *p->s != ':') {
                                free(key);
                                return fail(p, "expected ':'");
                        }
                        p->s++;
                }
                struct json *kid = NULL;
                int r = parse_value(p, &kid);
                if (r < 0) {
                        free(key);
                        json_free(kid); /* what it made of the value before it failed */
                        return r;
                }
                kid->key = key;
                *tail = kid;
                tail = &kid->next;
                skip_blanks(p);
                if (p->s < p->end && *p->s == ',') {
                        p->s++;
                        continue;
                }
                if (p->s < p->end && *p->s == close) {
                        p->s++;
                        return 0;
                }
                return fail(p, keyed ? "expected ',' or '}'" : "expected ',' or ']'");
        }
}

static int parse_value(struct parser *p, struct json **ret) {
        skip_blanks(p);
        if (p->s >= p->end)
                return fail(p, "unexpected end");
        struct json *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *ret = j; /* freed by the caller's tree on failure */
        int r = 0;
        char c = *p->s;
        if (c == '{' || c == '[') {
                if (++p->depth > DEPTH_MAX)
                        return fail(p, "nested too deep");
                j->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
                r = parse_list(p, j, c == '{', c == '{' ? '}' : ']');
                p->depth--;
        } else if (c == '"') {
                j->type = JSON_STRING;
                r = parse_string(p, &j->string);
        } else if (literal(p, "true") || literal(p, "false")) {
                j->type = JSON_BOOL;
                j->boolean = p->s[-1] == 'e' && p->s[-2] == 'u';
        } else if (literal(p, "null"))
                j->type = JSON_NULL;
        else
                r = parse_number(p, j);
        return r;
}

void json_free(struct json *j) {
        while (j) {
                struct json *next = j->next;
                json_free(j->kid);
                free(j->string);
                free(j->key);
                free(j);
                j = next;
        }
}

int json_parse(const char *text, size_t size, struct json **ret, size_t *error_at, const char **error) {
        struct parser p = { .s = text, .end = text + size, .start = text };
        struct json *j = NULL;
        int r = parse_value(&p, &j);
        if (r >= 0) {
                skip_blanks(&p);
                if (p.s != p.end)
                        r = fail(&p, "text after the value");
        }
        if (r < 0) {
                json_free(j);
                *error_at = (size_t) (p.s - p.start);
                *error = r == -ENOMEM ? "out of memory" : p.error;
                return r;
        }
        *ret = j;
        return 0;
}

const struct json *json_get(const struct json *j, const char *path) {
        while (j && *path) {
                if (j->type != JSON_OBJECT)
                        return NULL;
                size_t len = strcspn(path, ".");
                const struct json *m = j->kid;
                while (m && !(strlen(m->key) == len && memcmp(m->key, path, len) == 0))
                        m = m->next;
                j = m;
                path += len;
                if (*path == '.')
                        path++;
        }
        return j;
}

const char *json_get_string(const struct json *j, const char *path) {
        const struct json *m = json_get(j, path);
        return m && m->type == JSON_STRING ? m->string : NULL;
}
