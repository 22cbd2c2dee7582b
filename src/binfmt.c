#include "binfmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define ENTRY_MAX 4096 /* an entry's status: a few lines, magic and mask 128 bytes each in hex */
#define MAGIC_MAX 256  /* the kernel's limit on offset + size: its buffer, 256 bytes */

/* One entry, as its file says it (entry_status()). */
struct entry {
        bool enabled;
        bool by_magic;
        char interp[EG_PATH_MAX];
        char extension[256];
        size_t offset;
        unsigned char magic[MAGIC_MAX], mask[MAGIC_MAX];
        size_t magic_len;
        bool has_mask;
};

static int unhex(const char *s, unsigned char *out, size_t max, size_t *ret_len) {
        size_t n = 0;
        for (; s[0] && s[0] != '\n'; s += 2) {
                unsigned hi, lo;
                if (n >= max || sscanf(s, "%1x%1x", &hi, &lo) != 2)
                        return -EINVAL;
                out[n++] = (unsigned char) (hi << 4 | lo);
        }
        *ret_len = n;
        return 0;
}

static int parse_entry(char *text, struct entry *e) {
        *e = (struct entry){};
        bool have_interp = false;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                size_t len;
                if (strcmp(line, "enabled") == 0)
                        e->enabled = true;
                else if (strncmp(line, "interpreter ", 12) == 0) {
                        if (strlen(line + 12) >= sizeof e->interp)
                                return -ENAMETOOLONG;
                        strcpy(e->interp, line + 12);
                        have_interp = true;
                } else if (strncmp(line, "extension .", 11) == 0) {
                        if (strlen(line + 11) >= sizeof e->extension)
                                return -EINVAL;
                        strcpy(e->extension, line + 11);
                } else if (strncmp(line, "offset ", 7) == 0) {
                        if (sscanf(line + 7, "%zu", &e->offset) != 1)
                                return -EINVAL;
                } else if (strncmp(line, "magic ", 6) == 0) {
                        e->by_magic = true;
                        if (unhex(line + 6, e->magic, sizeof e->magic, &e->magic_len) < 0)
                                return -EINVAL;
                } else if (strncmp(line, "mask ", 5) == 0) {
                        e->has_mask = true;
                        if (unhex(line + 5, e->mask, sizeof e->mask, &len) < 0 || len != e->magic_len)
                                return -EINVAL;
                }
        }
        return have_interp ? 0 : -EINVAL;
}

/* check_file() of fs/binfmt_misc.c. */
static bool matches(const struct entry *e, const char *name, const unsigned char *head, size_t head_len) {
        if (!e->enabled)
                return false;
        if (!e->by_magic) {
                const char *dot = strrchr(name, '.');
                return dot && strcmp(dot + 1, e->extension) == 0;
        }
        if (e->offset > head_len || e->magic_len > head_len - e->offset)
                return false;
        for (size_t j = 0; j < e->magic_len; j++) {
                unsigned char diff = head[e->offset + j] ^ e->magic[j];
                if (e->has_mask ? diff & e->mask[j] : diff)
                        return false;
        }
        return true;
}

int binfmt_handler(const char *dir, const char *name, const void *head, size_t head_len, char *ret_interp,
                   size_t size) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        char text[ENTRY_MAX];
        {
                _cleanup_close_ int fd = openat(dfd, "status", O_RDONLY | O_CLOEXEC);
                ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
                /* Not mounted there (an empty directory of procfs), or disabled. */
                if (n <= 0)
                        return 0;
                text[n] = '\0';
                if (strncmp(text, "enabled", 7) != 0)
                        return 0;
        }
        int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
        DIR *d = dup < 0 ? NULL : fdopendir(dup);
        if (!d) {
                safe_close(dup);
                return negative_errno();
        }
        int r = 0;
        for (struct dirent *de; r == 0 && (de = readdir(d));) {
                if (de->d_name[0] == '.' || strcmp(de->d_name, "status") == 0 || strcmp(de->d_name, "register") == 0)
                        continue;
                _cleanup_close_ int fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
                if (n <= 0)
                        continue; /* unregistered meanwhile */
                text[n] = '\0';
                struct entry e;
                if (parse_entry(text, &e) < 0 || !matches(&e, name, head, head_len))
                        continue;
                if (strlen(e.interp) >= size)
                        r = -ENAMETOOLONG;
                else {
                        strcpy(ret_interp, e.interp);
                        r = 1;
                }
        }
        closedir(d);
        return r;
}
