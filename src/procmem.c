#include "procmem.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int procmem_read_string(int mem_fd, uint64_t addr, char *buf, size_t size) {
        if (addr == 0 || size == 0)
                return -EFAULT;
        if (addr > (uint64_t) INT64_MAX)
                return -EFAULT; /* pread's offset is signed */
        /* A read that runs into an unmapped page returns what it got before it: one pread is
         * enough even for a string at the very end of a mapping. */
        ssize_t n;
        do
                n = pread(mem_fd, buf, size, (off_t) addr);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return -EFAULT;
        char *nul = memchr(buf, '\0', (size_t) n);
        if (!nul)
                return (size_t) n == size ? -ENAMETOOLONG : -EFAULT;
        return (int) (nul - buf);
}
