/* flood-exec THREADS ROUNDS BLOCKED READY: one flood session's load. THREADS threads each
 * execve() BLOCKED ROUNDS times, all of them at once: the process creates READY once every
 * thread waits, then lets them go at the end of file on its standard input (the gate the
 * flood opens for every session together). Every exec must be refused with EACCES (one
 * that succeeded would replace this process, and its counts would never be printed). One
 * line on stdout:
 *
 *   refused=R wrong=W
 *
 * Exits 0 when every exec was refused with EACCES, 1 otherwise, 2 on a usage or setup error. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char *blocked;
static long rounds;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate = PTHREAD_COND_INITIALIZER;
static long waiting, refused, wrong;
static int open_gate;

static void *flood(void *arg) {
        (void) arg;
        pthread_mutex_lock(&lock);
        waiting++;
        pthread_cond_broadcast(&gate);
        while (!open_gate)
                pthread_cond_wait(&gate, &lock);
        pthread_mutex_unlock(&lock);
        char *argv[] = { (char *) blocked, NULL };
        long ok = 0, bad = 0;
        for (long i = 0; i < rounds; i++) {
                execve(blocked, argv, environ);
                if (errno == EACCES)
                        ok++;
                else
                        bad++;
        }
        pthread_mutex_lock(&lock);
        refused += ok;
        wrong += bad;
        pthread_mutex_unlock(&lock);
        return NULL;
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: flood-exec THREADS ROUNDS BLOCKED READY\n");
                return 2;
        }
        long threads = strtol(argv[1], NULL, 10);
        rounds = strtol(argv[2], NULL, 10);
        blocked = argv[3];
        if (threads < 1 || threads > 4096 || rounds < 1) {
                fprintf(stderr, "flood-exec: bad counts\n");
                return 2;
        }
        pthread_t *tids = calloc((size_t) threads, sizeof *tids);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (long i = 0; i < threads; i++)
                if (!tids || pthread_create(&tids[i], &attr, flood, NULL) != 0) {
                        fprintf(stderr, "flood-exec: cannot start thread %ld\n", i);
                        return 2;
                }
        pthread_mutex_lock(&lock);
        while (waiting < threads)
                pthread_cond_wait(&gate, &lock);
        pthread_mutex_unlock(&lock);
        int fd = open(argv[4], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                perror("flood-exec: READY");
                return 2;
        }
        close(fd);
        char c;
        while (read(0, &c, 1) > 0)
                ;
        pthread_mutex_lock(&lock);
        open_gate = 1;
        pthread_cond_broadcast(&gate);
        pthread_mutex_unlock(&lock);
        for (long i = 0; i < threads; i++)
                pthread_join(tids[i], NULL);
        printf("refused=%ld wrong=%ld\n", refused, wrong);
        return wrong == 0 && refused == threads * rounds ? 0 : 1;
}
