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
        ssize_t n = read_upto(pid, addr, buf, size);
        if (n < 0)
                return (int) n;
        char *nul = memchr(buf, '\0', (size_t) n);
        if (!nul)
                return (size_t) n == size ? -ENAMETOOLONG : -EFAULT;
        return (int) (nul - buf);
}
