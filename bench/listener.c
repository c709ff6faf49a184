/* The minimal fanotify permission listener: the floor for a user-space agent.
 * One thread: read events, readlink /proc/self/fd/N (what any real agent
 * needs to learn the path), write FAN_ALLOW, close the fd. Marks the
 * filesystem holding argv[1]; prints "ready" once marked; stops on SIGTERM.
 *   cc -O2 -o listener listener.c && ./listener /path/on/fs */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: listener PATH\n"); return 2; }
    struct sigaction sa = { .sa_handler = on_term };
    sigaction(SIGTERM, &sa, NULL);
    int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (fan < 0) { perror("fanotify_init"); return 1; }
    if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM, AT_FDCWD, argv[1]) < 0) {
        perror("fanotify_mark"); return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char buf[16384] __attribute__((aligned(8)));
    char link[64], path[PATH_MAX];
    while (!stop) {
        ssize_t len = read(fan, buf, sizeof buf);
        if (len <= 0) continue;
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
        for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
            if (m->fd < 0) continue;
            snprintf(link, sizeof link, "/proc/self/fd/%d", m->fd);
            ssize_t n = readlink(link, path, sizeof path - 1);
            (void)n;
            struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };
            if (write(fan, &r, sizeof r) < 0) perror("write");
            close(m->fd);
        }
    }
    close(fan);
    return 0;
}
