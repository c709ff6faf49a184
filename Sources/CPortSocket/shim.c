#define _GNU_SOURCE
#include "CPortSocket.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static int address(const char *path, struct sockaddr_un *out) {
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof(out->sun_path)) return -ENAMETOOLONG;
    memset(out, 0, sizeof(*out));
    out->sun_family = AF_UNIX;
    memcpy(out->sun_path, path, length);
    return 0;
}

int cport_listen(const char *path, unsigned int mode, int gid, int backlog) {
    struct sockaddr_un addr;
    int r = address(path, &addr);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) { close(fd); return -EEXIST; }
        unlink(path);
    }
    /* Created with no access at all, then opened up to `mode` once its group is right. */
    mode_t old = umask(0777);
    r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (r < 0) { r = -errno; close(fd); return r; }
    if ((gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid) < 0) || chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        r = -errno;
        unlink(path);
        close(fd);
        return r;
    }
    return fd;
}

int cport_accept(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int connect_to(const char *path, int type) {
    struct sockaddr_un addr;
    int r = address(path, &addr);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) { r = -errno; close(fd); return r; }
    return fd;
}

int cport_connect(const char *path) { return connect_to(path, SOCK_SEQPACKET); }

int cport_connect_stream(const char *path) { return connect_to(path, SOCK_STREAM); }

int cport_peer(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid, int *pidfd) {
    struct ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) < 0) return -errno;
    *uid = cred.uid;
    *gid = cred.gid;
    *pid = cred.pid;
    int p = -1;
    length = sizeof(p);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &p, &length) < 0) p = -1;
    *pidfd = p;
    return 0;
}

int cport_peer_in_group(int fd, uint32_t gid) {
    gid_t groups[256];
    socklen_t length = sizeof(groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &length) < 0) return -errno;
    for (size_t i = 0; i < length / sizeof(gid_t); i++) if (groups[i] == gid) return 1;
    return 0;
}

ssize_t cport_send(int fd, const void *buffer, size_t length, int pass_fd, int flags) {
    struct iovec iov = { .iov_base = (void *)buffer, .iov_len = length };
    union { char bytes[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (pass_fd >= 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.bytes;
        msg.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

/* Room for the descriptors one record may carry (more are cut off by the kernel, and closed). */
typedef union { char bytes[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr align; } cport_control;

/* The first descriptor a received record carried (else -1); the others are closed. */
static int first_descriptor(struct msghdr *msg) {
    int first = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (first < 0) first = got; else close(got);
        }
    }
    return first;
}

ssize_t cport_receive(int fd, void *buffer, size_t capacity, size_t *record_length, int *received_fd, int flags) {
    struct iovec iov = { .iov_base = buffer, .iov_len = capacity };
    cport_control control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof(control.bytes) };
    *received_fd = -1;
    /* MSG_TRUNC: the record's real length comes back even when it did not fit. */
    ssize_t n;
    do { n = recvmsg(fd, &msg, flags | MSG_TRUNC | MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    *received_fd = first_descriptor(&msg);
    *record_length = (size_t)n;
    return (ssize_t)(n > (ssize_t)capacity ? (ssize_t)capacity : n);
}

int cport_receive_many(int fd, void *buffers, size_t stride, int count, size_t *record_lengths, int *received_fds) {
    struct mmsghdr messages[CPORT_RECEIVE_MANY_MAX];
    struct iovec iovs[CPORT_RECEIVE_MANY_MAX];
    cport_control controls[CPORT_RECEIVE_MANY_MAX];
    if (count > CPORT_RECEIVE_MANY_MAX) count = CPORT_RECEIVE_MANY_MAX;
    if (count < 1) return -EINVAL;
    for (int i = 0; i < count; i++) {
        iovs[i] = (struct iovec){ .iov_base = (char *)buffers + (size_t)i * stride, .iov_len = stride };
        messages[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iovs[i], .msg_iovlen = 1,
            .msg_control = controls[i].bytes, .msg_controllen = sizeof(controls[i].bytes) } };
    }
    int n;
    do { n = recvmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC, NULL); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        received_fds[i] = first_descriptor(&messages[i].msg_hdr);
        record_lengths[i] = messages[i].msg_len;
    }
    return n;
}

int cport_ready_set_create(void) {
    int set = epoll_create1(EPOLL_CLOEXEC);
    return set < 0 ? -errno : set;
}

int cport_ready_set_add(int set, int fd, uint64_t key) {
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = key };
    return epoll_ctl(set, EPOLL_CTL_ADD, fd, &event) < 0 ? -errno : 0;
}

int cport_ready_set_remove(int set, int fd) {
    return epoll_ctl(set, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int cport_ready_set_poll(int set, uint64_t *keys, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int n;
    do { n = epoll_wait(set, events, capacity, 0); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) keys[i] = events[i].data.u64;
    return n;
}
