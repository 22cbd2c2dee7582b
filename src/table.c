#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: keys come from the administrator's policy, not from supervised processes, so a
 * keyed hash buys nothing here. */
static uint64_t hash_bytes(const void *key, size_t len) {
        const unsigned char *p = key;
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= UINT64_C(0x100000001b3);
        }
        /* FNV's low bits, which pick the slot, depend on the low bits of the bytes only:
         * keys that differ in a few digits ("prog004123") would cluster. Mix the high
         * bits down (a murmur3-style finaliser). */
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        return h;
}

static struct table_entry *find_slot(struct table_entry *entries, size_t capacity, uint64_t hash, const void *key,
                                     size_t key_len) {
        size_t mask = capacity - 1;
        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                struct table_entry *e = &entries[i];
                if (!e->key)
                        return e;
                if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
                        return e;
        }
}

static int resize(struct table *t, size_t capacity) {
        struct table_entry *entries = calloc(capacity, sizeof *entries);
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < t->capacity; i++) {
                struct table_entry *old = &t->entries[i];
                if (old->key)
                        *find_slot(entries, capacity, old->hash, old->key, old->key_len) = *old;
        }
        free(t->entries);
        t->entries = entries;
        t->capacity = capacity;
        return 0;
}

static int grow(struct table *t) {
        return resize(t, t->capacity ? t->capacity * 2 : 16);
}

int table_reserve(struct table *t, size_t n) {
        if (n == 0)
                return 0;
        size_t capacity = t->capacity ? t->capacity : 16;
        while (capacity < n * 2) {
                if (capacity > SIZE_MAX / 4 / sizeof(struct table_entry))
                        return -ENOMEM;
                capacity *= 2;
        }
        return capacity == t->capacity ? 0 : resize(t, capacity);
}

int table_put(struct table *t, const void *key, size_t key_len, void *value, void **ret_existing) {
        /* Keep the load factor at or below one half so probes stay short. */
        if ((t->count + 1) * 2 > t->capacity) {
                int r = grow(t);
                if (r < 0)
                        return r;
        }
        uint64_t hash = hash_bytes(key, key_len);
        struct table_entry *e = find_slot(t->entries, t->capacity, hash, key, key_len);
        if (e->key) {
                if (ret_existing)
                        *ret_existing = e->value;
                return -EEXIST;
        }
        *e = (struct table_entry){ .hash = hash, .key = key, .key_len = key_len, .value = value };
        t->count++;
        return 0;
}

void *table_get(const struct table *t, const void *key, size_t key_len) {
        if (t->count == 0)
                return NULL;
        struct table_entry *e = find_slot(t->entries, t->capacity, hash_bytes(key, key_len), key, key_len);
        return e->key ? e->value : NULL;
}

void table_free(struct table *t) {
        free(t->entries);
        *t = (struct table){};
}
