/* What the kernel's ELF loader (fs/binfmt_elf.c) reads from a program before it runs it:
 * the program interpreter named by PT_INTERP, which the kernel opens and runs too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Read the ELF headers of the open file fd. Returns 1 and stores the PT_INTERP path (at
 * most size-1 bytes) when there is one, 0 when the file is not an ELF program the kernel
 * would load or has no PT_INTERP (static), -ENOEXEC when the kernel would refuse the
 * interpreter entry, or another -errno. */
int elf_interpreter(int fd, char *ret_path, size_t size);

/* The same, given the first head_len bytes of the file, read already (fewer than asked for
 * only where the file ends): what lies within them is not read again. */
int elf_interpreter_head(int fd, const void *head, size_t head_len, char *ret_path, size_t size);

/* Do these first bytes of a file start an ELF program of this host's kernel (x86_64, x32,
 * i386; executable or shared object)? No: only a binfmt_misc handler can run it, if any. */
bool elf_native_head(const void *head, size_t head_len);
