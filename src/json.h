/* A small JSON reader, for the audit records execguard wrote itself (execguard learn): one
 * document parsed into a tree held in one allocation, strings decoded to UTF-8. Strict:
 * what RFC 8259 does not allow is an error, with the offset where it was found. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum json_type {
        JSON_NULL,
        JSON_BOOL,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
};

struct json {
        enum json_type type;
        bool boolean;
        double number;
        char *string;     /* JSON_STRING: decoded, NUL-terminated (a "\u0000" is refused) */
        char *key;        /* a member of an object: its name */
        struct json *kid; /* JSON_ARRAY, JSON_OBJECT: the first element or member */
        struct json *next;
};

/* Parse text (size bytes, the whole document, surrounding blanks allowed). Returns 0 and the
 * tree in *ret (json_free() it), or -EINVAL with the offset of the error in *error_at and
 * what was wrong in *error, or -ENOMEM. */
int json_parse(const char *text, size_t size, struct json **ret, size_t *error_at, const char **error);
void json_free(struct json *j);

/* The member at a dotted path ("process.parent.pid") of object j, or NULL. */
const struct json *json_get(const struct json *j, const char *path);

/* The string at path, or NULL if absent or not a string. */
const char *json_get_string(const struct json *j, const char *path);
