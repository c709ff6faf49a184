/* The workloads of `make bench`, timed from a process of their own.
 *   openbench WORKLOAD THREADS DIR COUNT
 * WORKLOAD: hot   open+close of DIR/hot/0..999 round-robin, COUNT times
 *           cold  open+close of DIR/cold/0..COUNT-1, each once
 *           read  open, read 4 KiB, close of DIR/hot/0..999 round-robin
 *           exec  fork+exec of DIR/bin/true, COUNT times
 *           execcold  fork+exec of DIR/bin/true.0..COUNT-1, each once (files never seen before)
 *           create  makes DIR/hot/0..999 and DIR/cold/0..COUNT-1 (small files)
 * THREADS threads share COUNT operations. Prints "ns_per_op=N ops=N".
 * hot, read and exec first do one untimed pass (each hot file opened once, one
 * exec), so they measure the steady state of a file seen before. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *workload, *dir;
static long count;
static atomic_long next;
static char buf4k[4096];

static void *run(void *arg) {
    (void)arg;
    char path[4096], buf[4096];
    long i;
    while ((i = atomic_fetch_add(&next, 1)) < count) {
        if (!strcmp(workload, "exec") || !strcmp(workload, "execcold")) {
            if (!strcmp(workload, "exec")) snprintf(path, sizeof path, "%s/bin/true", dir);
            else snprintf(path, sizeof path, "%s/bin/true.%ld", dir, i);
            pid_t pid = fork();
            if (pid == 0) { execl(path, path, (char *)NULL); _exit(127); }
            int status;
            waitpid(pid, &status, 0);
            continue;
        }
        if (!strcmp(workload, "cold")) snprintf(path, sizeof path, "%s/cold/%ld", dir, i);
        else snprintf(path, sizeof path, "%s/hot/%ld", dir, i % 1000);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { perror(path); exit(1); }
        if (!strcmp(workload, "read") && read(fd, buf, sizeof buf) < 0) { perror("read"); exit(1); }
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: openbench hot|cold|read|exec|execcold THREADS DIR COUNT\n"); return 2; }
    workload = argv[1];
    int threads = atoi(argv[2]);
    dir = argv[3];
    count = atol(argv[4]);
    if (!strcmp(workload, "create")) {
        char path[4096];
        for (int set = 0; set < 2; set++) {
            long n = set == 0 ? 1000 : count;
            snprintf(path, sizeof path, "%s/%s", dir, set == 0 ? "hot" : "cold");
            mkdir(path, 0755);
            for (long i = 0; i < n; i++) {
                snprintf(path, sizeof path, "%s/%s/%ld", dir, set == 0 ? "hot" : "cold", i);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, buf4k, sizeof buf4k) < 0) { perror(path); return 1; }
                close(fd);
            }
        }
        return 0;
    }
    if (threads < 1 || threads > 64) { fprintf(stderr, "THREADS is 1 to 64\n"); return 2; }
    long timed = count;
    if (strcmp(workload, "cold") && strcmp(workload, "execcold")) {
        count = strcmp(workload, "exec") ? 1000 : 1;
        run(NULL);
        atomic_store(&next, 0);
        count = timed;
    }
    pthread_t t[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("ns_per_op=%.0f ops=%ld\n", ns / count, count);
    return 0;
}
