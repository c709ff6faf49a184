/* The floor of a decision by another process: a bare round trip between two
 * processes over a SOCK_SEQPACKET socket pair (a 200-byte message out, a
 * 24-byte reply back, as the port's frames are about). The answering
 * process blocks in recv(2); the asking one blocks too, or with `spin`
 * looks for the answer without waiting, yielding between looks, as
 * fanfilter's event reader does on an idle machine (then only the answering
 * process is woken).
 *
 *   pingpong COUNT [spin]    prints round_trip_ns=N (the mean over COUNT round trips)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The answer to the last message: waiting in recv, or looking for it until it is there. */
static ssize_t answer(int fd, char *buffer, size_t size, int spin) {
    if (!spin) return recv(fd, buffer, size, 0);
    for (;;) {
        ssize_t n = recv(fd, buffer, size, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR)) return n;
        sched_yield();
    }
}

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 100000;
    int spin = argc > 2 && strcmp(argv[2], "spin") == 0;
    int pair[2];
    if (count <= 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) < 0) { perror("pingpong"); return 2; }
    char buffer[256] = {0};
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        close(pair[0]);
        while (recv(pair[1], buffer, sizeof buffer, 0) > 0) send(pair[1], buffer, 24, 0);
        _exit(0);
    }
    close(pair[1]);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count; i++) {
        if (send(pair[0], buffer, 200, 0) < 0 || answer(pair[0], buffer, sizeof buffer, spin) <= 0) { perror("pingpong"); return 1; }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    close(pair[0]);
    waitpid(child, NULL, 0);
    printf("round_trip_ns=%.0f\n", ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / count);
    return 0;
}
