/* A small open-addressing hash table keyed by byte strings. Built once while a policy is
 * parsed, then only read: lookups are O(key length). Keys are not copied: the caller keeps
 * them alive as long as the table. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct table_entry {
        uint64_t hash;
        const void *key;
        size_t key_len;
        void *value;
};

struct table {
        struct table_entry *entries;
        size_t capacity; /* a power of two, or 0 */
        size_t count;
};

/* Insert key → value. Returns 0, -EEXIST (leaving the table unchanged and storing the
 * existing value in *ret_existing if non-NULL) or -ENOMEM. */
int table_put(struct table *t, const void *key, size_t key_len, void *value, void **ret_existing);

/* Make room for n entries in all, so that as many puts do not grow the table (which
 * rehashes every entry each time it doubles). Returns 0 or -ENOMEM. */
int table_reserve(struct table *t, size_t n);

/* The value stored for key, or NULL. */
void *table_get(const struct table *t, const void *key, size_t key_len);

/* Release the table's own memory (not keys or values). Accepts a zeroed table. */
void table_free(struct table *t);
