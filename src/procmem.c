#include "procmem.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u

/* Read up to size bytes (at most a page) at addr; returns how many bytes could be read
 * before the first page that faults. */
static ssize_t read_upto(pid_t pid, uint64_t addr, void *buf, size_t size) {
        if (addr == 0 || size == 0 || size > PAGE)
                return -EFAULT;
        if (addr > UINT64_MAX - size)
                return -EFAULT;
        /* process_vm_readv() never splits one iovec element: a string that ends just before
         * an unmapped page would fail whole. One remote element per page lets the read stop
         * at the first page that faults, returning what came before it. */
        size_t first = PAGE - (size_t) (addr % PAGE);
        if (first > size)
                first = size;
        struct iovec local = { .iov_base = buf, .iov_len = size };
        struct iovec remote[2] = {
                { .iov_base = (void *) (uintptr_t) addr, .iov_len = first },
                { .iov_base = (void *) (uintptr_t) (addr + first), .iov_len = size - first },
        };
        ssize_t n;
        do
                n = process_vm_readv(pid, &local, 1, remote, size > first ? 2 : 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EFAULT || errno == ENOMEM ? -EFAULT : -errno;
        return n == 0 ? -EFAULT : n;
}

int procmem_read(pid_t pid, uint64_t addr, void *buf, size_t len) {
        ssize_t n = read_upto(pid, addr, buf, len);
        if (n < 0)
                return (int) n;
        return (size_t) n == len ? 0 : -EFAULT;
}

int procmem_read_string(pid_t pid, uint64_t addr, char *buf, size_t size) {
        /* Page by page: most strings end in the page they start in, and reading a page of a
         * process just forked costs several µs the first time (about 7 µs for one page and
         * 14 for two on the test machine): a page we do not need is dearer than a second
         * read when we do. */
        size_t done = 0;
        while (done < size) {
                uint64_t at = addr + done;
                size_t want = PAGE - (size_t) (at % PAGE);
                if (want > size - done)
                        want = size - done;
                ssize_t n = read_upto(pid, at, buf + done, want);
                if (n < 0)
                        return (int) n;
                char *nul = memchr(buf + done, '\0', (size_t) n);
                if (nul)
                        return (int) (nul - buf);
                done += (size_t) n;
                if ((size_t) n < want)
                        return -EFAULT;
        }
        return -ENAMETOOLONG;
}

/* The last piece of memory read, so that arguments laid end to end (as a shell or the
 * kernel lays them) cost one read for many. */
struct window {
        uint64_t base;
        size_t len;
        char data[PAGE];
};

/* The length of the string at addr, read page by page; -E2BIG once it passes limit. With
 * dst, the string is copied there too (limit + 1 bytes at most, its NUL included). */
static ssize_t string_length(pid_t pid, struct window *w, uint64_t addr, size_t limit, char *dst) {
        size_t len = 0;
        for (;;) {
                if (!(addr >= w->base && addr < w->base + w->len)) {
                        ssize_t n = read_upto(pid, addr, w->data, PAGE - (size_t) (addr % PAGE));
                        if (n < 0)
                                return n;
                        w->base = addr;
                        w->len = (size_t) n;
                }
                size_t off = (size_t) (addr - w->base), avail = w->len - off;
                const char *nul = memchr(w->data + off, '\0', avail);
                size_t piece = nul ? (size_t) (nul - (w->data + off)) : avail;
                if (len + piece > limit)
                        return -E2BIG;
                if (dst) {
                        memcpy(dst + len, w->data + off, piece);
                        dst[len + piece] = '\0';
                }
                len += piece;
                if (nul)
                        return (ssize_t) len;
                if (addr > UINT64_MAX - avail)
                        return -EFAULT;
                addr += avail; /* the next page; a read that fails there is a fault */
        }
}

int procmem_read_argv(pid_t pid, uint64_t addr, unsigned pointer_size, size_t max_args, size_t max_bytes, char *buf,
                      size_t *ret_args, size_t *ret_bytes) {
        struct window strings = {};
        unsigned char pointers[PAGE + 8];
        size_t args = 0, bytes = 0;

        while (addr) {
                /* The pointers up to the end of this page, or one that straddles it. */
                size_t want = PAGE - (size_t) (addr % PAGE);
                if (want < pointer_size)
                        want += pointer_size;
                ssize_t n = read_upto(pid, addr, pointers, want);
                if (n < 0)
                        return (int) n;
                size_t count = (size_t) n / pointer_size;
                if (count == 0)
                        return -EFAULT;
                for (size_t i = 0; i < count; i++) {
                        uint64_t p;
                        if (pointer_size == 4) {
                                uint32_t p32;
                                memcpy(&p32, pointers + i * 4, 4);
                                p = p32;
                        } else
                                memcpy(&p, pointers + i * 8, 8);
                        if (p == 0) {
                                addr = 0;
                                break;
                        }
                        *ret_args = ++args;
                        ssize_t len = args > max_args || bytes >= max_bytes
                                              ? -E2BIG
                                              : string_length(pid, &strings, p, max_bytes - bytes - 1,
                                                              buf ? buf + bytes : NULL);
                        if (len < 0)
                                return (int) len;
                        bytes += (size_t) len + 1;
                }
                if (addr)
                        addr += count * pointer_size;
        }
        *ret_args = args;
        *ret_bytes = bytes;
        return 0;
}
