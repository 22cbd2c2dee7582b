#include "elf.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* load_elf_phdrs() refuses a program header table larger than ELF_MIN_ALIGN, the page
 * size on x86. */
#define PHDRS_MAX_BYTES 4096

/* The first bytes of the file, read already (len of them: fewer only at its end). */
struct head {
        const unsigned char *data;
        size_t len;
};

static int read_exact(int fd, const struct head *head, void *buf, size_t len, off_t off) {
        if ((uint64_t) off <= head->len && len <= head->len - (size_t) off) {
                memcpy(buf, head->data + off, len);
                return 0;
        }
        ssize_t n = pread_full(fd, buf, len, off);
        if (n < 0)
                return (int) n;
        return (size_t) n == len ? 0 : -ENOEXEC; /* truncated: the kernel fails such a file */
}

/* The fields we need, whatever the ELF class. */
struct phdr_view {
        uint32_t type;
        uint64_t offset, filesz;
};

int elf_interpreter_head(int fd, const void *head_data, size_t head_len, char *ret_path, size_t size) {
        const struct head head = { head_data, head_data ? head_len : 0 };
        /* No ELF magic in what was read: nothing more to read (the file may be short). */
        if (head.len >= SELFMAG && memcmp(head.data, ELFMAG, SELFMAG) != 0)
                return 0;
        union {
                unsigned char ident[EI_NIDENT];
                Elf64_Ehdr e64;
                Elf32_Ehdr e32;
        } eh;
        int r = read_exact(fd, &head, &eh, sizeof eh, 0);
        if (r == -ENOEXEC)
                return 0;
        if (r < 0)
                return r;
        if (memcmp(eh.ident, ELFMAG, SELFMAG) != 0)
                return 0;

        bool is64 = eh.ident[EI_CLASS] == ELFCLASS64;
        if (!is64 && eh.ident[EI_CLASS] != ELFCLASS32)
                return 0;
        uint16_t type = is64 ? eh.e64.e_type : eh.e32.e_type;
        uint16_t machine = is64 ? eh.e64.e_machine : eh.e32.e_machine;
        uint16_t phentsize = is64 ? eh.e64.e_phentsize : eh.e32.e_phentsize;
        uint16_t phnum = is64 ? eh.e64.e_phnum : eh.e32.e_phnum;
        uint64_t phoff = is64 ? eh.e64.e_phoff : eh.e32.e_phoff;

        /* Only what this host's kernel loads: x86_64 and x32 (EM_X86_64), i386 (EM_386). */
        if (type != ET_EXEC && type != ET_DYN)
                return 0;
        if (machine != EM_X86_64 && machine != EM_386)
                return 0;
        size_t entsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
        if (phentsize != entsize || phnum == 0 || (size_t) phnum * entsize > PHDRS_MAX_BYTES)
                return 0;
        if (phoff > (uint64_t) LLONG_MAX)
                return 0;

        unsigned char phdrs[PHDRS_MAX_BYTES];
        r = read_exact(fd, &head, phdrs, (size_t) phnum * entsize, (off_t) phoff);
        if (r == -ENOEXEC)
                return 0;
        if (r < 0)
                return r;

        for (size_t i = 0; i < phnum; i++) {
                struct phdr_view p;
                if (is64) {
                        Elf64_Phdr ph;
                        memcpy(&ph, phdrs + i * entsize, sizeof ph);
                        p = (struct phdr_view){ ph.p_type, ph.p_offset, ph.p_filesz };
                } else {
                        Elf32_Phdr ph;
                        memcpy(&ph, phdrs + i * entsize, sizeof ph);
                        p = (struct phdr_view){ ph.p_type, ph.p_offset, ph.p_filesz };
                }
                if (p.type != PT_INTERP)
                        continue;
                /* The kernel's checks, in its order; only the first PT_INTERP counts. */
                if (p.filesz > PATH_MAX || p.filesz < 2)
                        return -ENOEXEC;
                if (p.filesz > size)
                        return -ENAMETOOLONG;
                if (p.offset > (uint64_t) LLONG_MAX)
                        return -ENOEXEC;
                r = read_exact(fd, &head, ret_path, (size_t) p.filesz, (off_t) p.offset);
                if (r < 0)
                        return r;
                if (ret_path[p.filesz - 1] != '\0')
                        return -ENOEXEC;
                return 1;
        }
        return 0;
}

bool elf_native_head(const void *head_data, size_t head_len) {
        union {
                unsigned char ident[EI_NIDENT];
                Elf64_Ehdr e64;
                Elf32_Ehdr e32;
        } eh;
        if (head_len < sizeof eh)
                return false;
        memcpy(&eh, head_data, sizeof eh);
        if (memcmp(eh.ident, ELFMAG, SELFMAG) != 0)
                return false;
        bool is64 = eh.ident[EI_CLASS] == ELFCLASS64;
        if (!is64 && eh.ident[EI_CLASS] != ELFCLASS32)
                return false;
        uint16_t type = is64 ? eh.e64.e_type : eh.e32.e_type;
        uint16_t machine = is64 ? eh.e64.e_machine : eh.e32.e_machine;
        return (type == ET_EXEC || type == ET_DYN) && (machine == EM_X86_64 || machine == EM_386);
}

int elf_interpreter(int fd, char *ret_path, size_t size) {
        return elf_interpreter_head(fd, NULL, 0, ret_path, size);
}
