/* no-vm-read PID PROG [ARG...]: run PROG with process_vm_readv(PID, ...) failing with EPERM
 * for it and everything it starts; every other call, and every other PID, as usual.
 *
 * The tests run the daemon so to make the memory of one supervised process unreadable to
 * it, as a kernel or LSM refusal would, with no hook in the product. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARG0_LOW offsetof(struct seccomp_data, args[0])

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: no-vm-read PID PROG [ARG...]\n");
                return 100;
        }
        char *end;
        long pid = strtol(argv[1], &end, 10);
        if (*end || pid <= 0) {
                fprintf(stderr, "no-vm-read: bad pid '%s'\n", argv[1]);
                return 100;
        }
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 3),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW), /* little endian: the pid */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned) pid, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
        /* Root needs no no_new_privs for this; anybody else does. */
        if (getuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                perror("no-vm-read: PR_SET_NO_NEW_PRIVS");
                return 101;
        }
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                perror("no-vm-read: seccomp");
                return 101;
        }
        execvp(argv[2], argv + 2);
        fprintf(stderr, "no-vm-read: %s: %s\n", argv[2], strerror(errno));
        return 127;
}
