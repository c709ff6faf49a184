// CPortSocket: the Unix-socket pieces of the port's transport that Swift
// cannot reach directly (sockaddr_un, the CMSG macros of SCM_RIGHTS,
// SO_PEERCRED's struct). Thin wrappers: no policy, no threads, no allocation.
// Errors come back as a negative errno, never through the global errno.
#ifndef CPORTSOCKET_H
#define CPORTSOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// A SOCK_SEQPACKET socket listening at `path` (a stale socket file there is
/// replaced), mode `mode`, group `gid` (-1: unchanged). Returns the fd or -errno.
int cport_listen(const char *path, unsigned int mode, int gid, int backlog);

/// accept4 with SOCK_CLOEXEC: the connection's fd, or -errno.
int cport_accept(int listen_fd);

/// A SOCK_SEQPACKET connection to `path`: the fd, or -errno.
int cport_connect(const char *path);

/// A SOCK_STREAM connection to `path` (another daemon's socket, such as
/// clamd's): the fd, or -errno. `cport_send` passes descriptors over it too.
int cport_connect_stream(const char *path);

/// The peer's credentials at connect time (SO_PEERCRED), and a pidfd for it
/// (SO_PEERPIDFD, Linux 6.5; -1 where the kernel has none). 0 or -errno.
int cport_peer(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid, int *pidfd);

/// Whether the peer's supplementary groups (SO_PEERGROUPS) hold `gid`: 1,
/// 0, or -errno.
int cport_peer_in_group(int fd, uint32_t gid);

/// One record, with `pass_fd` (>= 0) attached as SCM_RIGHTS. `flags` goes to
/// sendmsg (MSG_DONTWAIT). Bytes sent, or -errno (EINTR retried).
ssize_t cport_send(int fd, const void *buffer, size_t length, int pass_fd, int flags);

/// One record into `buffer`. Its whole length comes back in `*record_length`
/// (larger than `capacity` when it did not fit: the rest is dropped), and a
/// descriptor it carried in `*received_fd` (else -1; a second one is closed).
/// Bytes stored, 0 at end of stream, or -errno (EINTR retried).
ssize_t cport_receive(int fd, void *buffer, size_t capacity, size_t *record_length, int *received_fd, int flags);

/// The most records one cport_receive_many takes.
#define CPORT_RECEIVE_MANY_MAX 16

/// Up to `count` records (at most CPORT_RECEIVE_MANY_MAX) with one system
/// call, without waiting: record i into `buffers + i * stride`, at most
/// `stride` bytes, its whole length in `record_lengths[i]` (larger than
/// `stride` when it did not fit: the rest is dropped; 0 at end of stream),
/// and a descriptor it carried in `received_fds[i]` (else -1; a second one
/// is closed). How many records, or -errno (-EAGAIN: none was waiting).
int cport_receive_many(int fd, void *buffers, size_t stride, int count, size_t *record_lengths, int *received_fds);

/// A readiness set of sockets (epoll, close-on-exec): the fd, or -errno.
int cport_ready_set_create(void);

/// Watches `fd` for frames to read, to be reported as `key`. 0 or -errno.
int cport_ready_set_add(int set, int fd, uint64_t key);

/// Stops watching `fd`. 0 or -errno.
int cport_ready_set_remove(int set, int fd);

/// The keys of up to `capacity` watched sockets that have something to
/// read (or have ended), without waiting. How many, or -errno.
int cport_ready_set_poll(int set, uint64_t *keys, int capacity);

#endif
