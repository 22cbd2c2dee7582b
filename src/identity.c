#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define CACHE_SLOTS 4096 /* a power of two */
#define READ_CHUNK  (256 * 1024)

struct cache_entry {
        bool used;
        struct file_stamp stamp;
        uint8_t digest[SHA256_LEN];
};

bool file_stamp_matches(const struct file_stamp *s, const struct stat *st) {
        return s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
               timespec_equal(&s->mtime, &st->st_mtim) && timespec_equal(&s->ctime, &st->st_ctim);
}

size_t file_stamp_slot(const struct stat *st, size_t slots) {
        uint64_t key = (uint64_t) st->st_dev * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t) st->st_ino;
        return (size_t) (key ^ (key >> 29)) & (slots - 1);
}

bool file_stamp_settled(const struct stat *st) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        return now.tv_sec - st->st_ctim.tv_sec >= 2 && now.tv_sec - st->st_mtim.tv_sec >= 2;
}

struct identity_cache {
        EVP_MD_CTX *md;
        unsigned char *buf; /* READ_CHUNK bytes, reused for every file */
        struct cache_entry slots[CACHE_SLOTS];
};

struct identity_cache *identity_cache_new(void) {
        struct identity_cache *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        c->md = EVP_MD_CTX_new();
        c->buf = malloc(READ_CHUNK);
        if (!c->md || !c->buf) {
                identity_cache_free(c);
                return NULL;
        }
        return c;
}

void identity_cache_free(struct identity_cache *c) {
        if (!c)
                return;
        EVP_MD_CTX_free(c->md);
        free(c->buf);
        free(c);
}

static int hash_fd(EVP_MD_CTX *md, unsigned char *buf, int fd, off_t size, uint8_t out[SHA256_LEN]) {
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return -EIO;
        off_t off = 0;
        for (;;) {
                ssize_t n = pread_full(fd, buf, READ_CHUNK, off);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                if (EVP_DigestUpdate(md, buf, (size_t) n) != 1)
                        return -EIO;
                off += n;
                /* The file grew while we read it: it is not the file we stat'ed. */
                if (off > size)
                        return -EAGAIN;
        }
        if (off != size)
                return -EAGAIN;
        unsigned len = 0;
        if (EVP_DigestFinal_ex(md, out, &len) != 1 || len != SHA256_LEN)
                return -EIO;
        return 0;
}

bool identity_only_root_writes(const struct stat *st) {
        /* Root is not who this guards against: it can change the policy itself. The test is
         * on the file, not on the credentials of the process that execs: the cache serves
         * every session (the daemon's are many users), so an entry must be one that no
         * session's user can falsify. */
        return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Hash the file at fd (st), and remember it by its stamp if only root can change it and it
 * is settled. */
static int hash_and_remember(struct identity_cache *c, int fd, const struct stat *st, uint8_t ret_digest[SHA256_LEN]) {
        uint8_t digest[SHA256_LEN];
        int r = hash_fd(c->md, c->buf, fd, st->st_size, digest);
        if (r == -EBADF) {
                /* An O_PATH fd (resolve.h: a file whose head was not read, or was known
                 * already): the file it stands for, opened for reading through its magic
                 * link. */
                char link[32];
                snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                _cleanup_close_ int rfd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (rfd < 0)
                        return errno == EACCES || errno == EPERM ? -EACCES : negative_errno();
                r = hash_fd(c->md, c->buf, rfd, st->st_size, digest);
        }
        if (r < 0)
                return r;
        memcpy(ret_digest, digest, SHA256_LEN);

        struct cache_entry *e = &c->slots[file_stamp_slot(st, CACHE_SLOTS)];
        if (!identity_only_root_writes(st) || !file_stamp_settled(st)) {
                /* Whatever the slot held for this file is no longer known to be true. */
                if (e->used && e->stamp.dev == st->st_dev && e->stamp.ino == st->st_ino)
                        e->used = false;
                return 0;
        }
        *e = (struct cache_entry){ .used = true, .stamp = file_stamp_of(st) };
        memcpy(e->digest, digest, SHA256_LEN);
        return 0;
}

int identity_sha256(struct identity_cache *c, int fd, const struct stat *st, uint8_t ret_digest[SHA256_LEN]) {
        struct cache_entry *e = &c->slots[file_stamp_slot(st, CACHE_SLOTS)];
        if (e->used && identity_only_root_writes(st) && file_stamp_matches(&e->stamp, st)) {
                memcpy(ret_digest, e->digest, SHA256_LEN);
                return 0;
        }
        return hash_and_remember(c, fd, st, ret_digest);
}

int identity_sha256_fresh(struct identity_cache *c, int fd, const struct stat *st, uint8_t ret_digest[SHA256_LEN]) {
        return hash_and_remember(c, fd, st, ret_digest);
}

int identity_sha256_path(const char *path, uint8_t ret_digest[SHA256_LEN], struct stat *ret_st) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_free_ unsigned char *buf = malloc(READ_CHUNK);
        int r = md && buf ? hash_fd(md, buf, fd, st.st_size, ret_digest) : -ENOMEM;
        EVP_MD_CTX_free(md);
        if (r >= 0 && ret_st)
                *ret_st = st;
        return r;
}

int identity_parse_sha256(const char *text, uint8_t ret_digest[SHA256_LEN]) {
        if (strncmp(text, "sha256:", 7) != 0)
                return -EINVAL;
        text += 7;
        if (strlen(text) != 2 * SHA256_LEN)
                return -EINVAL;
        for (size_t i = 0; i < SHA256_LEN; i++) {
                int v = 0;
                for (int k = 0; k < 2; k++) {
                        char ch = text[2 * i + k];
                        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                         : -1;
                        if (d < 0)
                                return -EINVAL;
                        v = v * 16 + d;
                }
                ret_digest[i] = (uint8_t) v;
        }
        return 0;
}

struct digest_stream {
        EVP_MD_CTX *md;
};

struct digest_stream *digest_stream_new(void) {
        struct digest_stream *d = calloc(1, sizeof *d);
        if (d && !(d->md = EVP_MD_CTX_new())) {
                free(d);
                return NULL;
        }
        return d;
}

void digest_stream_free(struct digest_stream *d) {
        if (!d)
                return;
        EVP_MD_CTX_free(d->md);
        free(d);
}

int digest_stream_begin(struct digest_stream *d) {
        return EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

int digest_stream_add(struct digest_stream *d, const void *data, size_t len) {
        return EVP_DigestUpdate(d->md, data, len) == 1 ? 0 : -EIO;
}

int digest_stream_end(struct digest_stream *d, uint8_t ret_digest[SHA256_LEN]) {
        unsigned len = 0;
        return EVP_DigestFinal_ex(d->md, ret_digest, &len) == 1 && len == SHA256_LEN ? 0 : -EIO;
}
