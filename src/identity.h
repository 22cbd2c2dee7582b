/* The content identity of a file: SHA-256 of its bytes, with a cache keyed by device and
 * inode and validated by size, mtime and ctime, so an unchanged file is hashed once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define SHA256_LEN 32

/* What says a file is the one seen before, unchanged: device and inode, then size, mtime and
 * ctime (a write changes mtime, a chmod, chown or rename ctime). */
struct file_stamp {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
};

static inline struct file_stamp file_stamp_of(const struct stat *st) {
        return (struct file_stamp){
                .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim, .ctime = st->st_ctim
        };
}

bool file_stamp_matches(const struct file_stamp *s, const struct stat *st);

/* A slot of a table of slots entries (a power of two) for the file st: by device and inode. */
size_t file_stamp_slot(const struct stat *st, size_t slots);

/* Whether what is known of the file st may be remembered by its stamp. Timestamps are coarse:
 * a file rewritten within the same tick keeps its mtime and ctime. Like git's "racily clean"
 * index entries, a file changed in the last two seconds is not remembered, so a same-size
 * rewrite cannot hide behind a remembered stamp. */
bool file_stamp_settled(const struct stat *st);

struct identity_cache;

/* A cache of a fixed number of entries, allocated once. Returns NULL on ENOMEM. */
struct identity_cache *identity_cache_new(void);
void identity_cache_free(struct identity_cache *c);
static inline void identity_cache_freep(struct identity_cache **c) {
        identity_cache_free(*c);
}

/* Whether nobody but root can change the content of the file st: root owns it and it has
 * no group or other write bit (a POSIX ACL that grants writes to anybody else shows as the
 * group write bit: its mask). Only such a file is hashed from the cache: a stamp does not
 * prove a file unchanged against somebody who can write it. Whoever holds a shared writable
 * mapping of it writes through pages already dirty without a fault, and so without a new
 * mtime or ctime: the file takes other content under the stamp that was hashed. */
bool identity_only_root_writes(const struct stat *st);

/* SHA-256 of the regular file open for reading at fd, whose fstat is st, by reading it
 * (bounded by its size); or, for a file that only root can write
 * (identity_only_root_writes()) and that has not changed since, from the cache. */
int identity_sha256(struct identity_cache *c, int fd, const struct stat *st, uint8_t ret_digest[SHA256_LEN]);

/* The same, always read from the file, never from the cache (which it updates): for the
 * check of what an exec really runs. */
int identity_sha256_fresh(struct identity_cache *c, int fd, const struct stat *st, uint8_t ret_digest[SHA256_LEN]);

/* SHA-256 of a whole file, no cache (policy loading). */
int identity_sha256_path(const char *path, uint8_t ret_digest[SHA256_LEN], struct stat *ret_st);

/* Parse "sha256:<64 hex digits>". Returns 0 or -EINVAL. */
int identity_parse_sha256(const char *text, uint8_t ret_digest[SHA256_LEN]);

/* A SHA-256 computed piece by piece, its context made once and reused (no allocation per
 * digest): for the arguments of an exec, judged before it and confirmed after it. */
struct digest_stream;
struct digest_stream *digest_stream_new(void);
void digest_stream_free(struct digest_stream *d);
int digest_stream_begin(struct digest_stream *d);
int digest_stream_add(struct digest_stream *d, const void *data, size_t len);
int digest_stream_end(struct digest_stream *d, uint8_t ret_digest[SHA256_LEN]);
