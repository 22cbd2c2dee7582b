#include "trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util.h"

/* Is st (of what) owned by root and not writable by group or others? */
static bool trusted_inode(const struct stat *st, const char *what, char *why, size_t size) {
        if (st->st_uid != 0) {
                snprintf(why, size, "%s is owned by uid %u, not root", what, (unsigned) st->st_uid);
                return false;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(why, size, "%s is writable by %s (mode %04o)", what,
                         st->st_mode & S_IWOTH ? "others" : "its group", (unsigned) (st->st_mode & 07777));
                return false;
        }
        return true;
}

int trusted_path_check(const struct exec_file *f, char *why, size_t size) {
        if (f->st.st_nlink == 0) {
                snprintf(why, size, "it has no name (memfd or deleted), so no trusted directory");
                return 0;
        }
        if (!trusted_inode(&f->st, f->path, why, size))
                return 0;
        struct statvfs vfs;
        if (fstatvfs(f->fd, &vfs) < 0)
                return negative_errno();
        if (vfs.f_flag & ST_NOEXEC) {
                snprintf(why, size, "%s is on a file system mounted noexec", f->path);
                return 0;
        }

        /* Its directory, confirmed to hold this very file under its name. */
        char dir[EG_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", f->path);
        char *slash = strrchr(dir, '/');
        if (!slash || dir[0] != '/') {
                snprintf(why, size, "%s is not a path from the root", f->path);
                return 0;
        }
        const char *name = f->path + (slash - dir) + 1;
        slash[slash == dir ? 1 : 0] = '\0';
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino) {
                safe_close(fd);
                snprintf(why, size, "%s is not in %s any more", f->path, dir);
                return 0;
        }

        /* Up to the root, one ".." at a time. */
        for (unsigned depth = 0;; depth++) {
                if (fstat(fd, &st) < 0 || depth > EG_PATH_MAX / 2) {
                        int r = depth > EG_PATH_MAX / 2 ? -ELOOP : negative_errno();
                        safe_close(fd);
                        return r;
                }
                if (!trusted_inode(&st, dir, why, size)) {
                        safe_close(fd);
                        return 0;
                }
                int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                safe_close(fd);
                if (up < 0)
                        return negative_errno();
                struct stat up_st;
                if (fstat(up, &up_st) < 0) {
                        safe_close(up);
                        return negative_errno();
                }
                if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino) {
                        safe_close(up); /* the root: its own parent */
                        return 1;
                }
                fd = up;
                /* The name shown is the path's, one level up. */
                char *cut = strrchr(dir, '/');
                if (cut)
                        cut[cut == dir ? 1 : 0] = '\0';
        }
}
