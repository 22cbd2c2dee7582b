#include "wallclock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void from_tm(const struct tm *tm, struct policy_context *ctx) {
        ctx->time_known = true;
        ctx->weekday = tm->tm_wday;
        ctx->minute = tm->tm_hour * 60 + tm->tm_min;
}

int wallclock_parse(const char *text, struct policy_context *ctx) {
        struct tm tm = {};
        const char *end = strptime(text, "%Y-%m-%d %H:%M", &tm);
        if (!end || *end != '\0')
                return -EINVAL;
        tm.tm_isdst = -1;
        /* mktime() works out the weekday, and rejects nothing; a date it moved is invalid. */
        struct tm checked = tm;
        if (mktime(&checked) == (time_t) -1 || checked.tm_mday != tm.tm_mday || checked.tm_mon != tm.tm_mon)
                return -EINVAL;
        tm.tm_wday = checked.tm_wday;
        from_tm(&tm, ctx);
        return 0;
}

/* The time in the test clock's file. */
static int test_clock(const char *path, struct policy_context *ctx) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Root's: a user who starts a supervisor of their own must not choose its time. */
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        char buf[64];
        ssize_t n = pread_full(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return (int) n;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return wallclock_parse(buf, ctx);
}

int wallclock_now(struct policy_context *ctx) {
        const char *path = secure_getenv("EXECGUARD_TEST_CLOCK");
        if (path && *path)
                return test_clock(path, ctx);
        time_t now = time(NULL);
        struct tm tm;
        if (!localtime_r(&now, &tm))
                return negative_errno();
        from_tm(&tm, ctx);
        return 0;
}
