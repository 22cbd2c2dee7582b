/* marker FILE: create FILE. A stand-in for a blocked program: if FILE exists, it ran. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 2)
                return 2;
        int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        return fd < 0 ? 1 : 0;
}
