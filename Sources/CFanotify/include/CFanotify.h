// CFanotify: the fanotify pieces Swift cannot reach directly (function-like
// macros, the variable-length event buffer, variadic syscall()). Every
// function is a thin wrapper: no policy, no threads, no allocation.
// Errors come back as a negative errno, never through the global errno.
#ifndef CFANOTIFY_H
#define CFANOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/stat.h>

/// Linux 6.13 (and 6.12.4, 6.6.66): an event whose fd the kernel could not
/// create carries -errno in its fd field instead of failing the read.
#ifndef FAN_REPORT_FD_ERROR
#define FAN_REPORT_FD_ERROR 0x00002000
/// fcntl(F_SETLEASE, F_RDLCK) (behind _GNU_SOURCE) on an fd open read-only:
/// while the lease is held, an open of the file for writing or a truncation
/// waits until it is let go (the fd is closed, or lease-break-time passes).
/// Returns 0; -EAGAIN when the file is open for writing now (a writable
/// shared mapping counts); another -errno where the filesystem takes no
/// leases. The agent ignores SIGIO, which the kernel sends it when a writer waits.
int cfan_hold_read_lease(int fd);

#endif

/// One permission or notification event, flattened from the kernel's
/// fanotify_event_metadata and its info records.
typedef struct cfan_event {
    uint64_t mask;   ///< FAN_* bits of the event
    int32_t fd;      ///< event file descriptor, or FAN_NOFD
    int32_t pid;     ///< pid (or tid) of the process that caused the event
    int32_t pidfd;   ///< pidfd from a FAN_EVENT_INFO_TYPE_PIDFD record, or -1 (none, FAN_NOPIDFD, FAN_EPIDFD)
    const void *dir_handle; ///< struct file_handle of the parent from a DFID_NAME record (groups with FAN_REPORT_DFID_NAME), or NULL
    const char *name;       ///< the entry's name in that directory, NUL-terminated, or NULL
} cfan_event;

/// fanotify_init(2) with event fds opened O_RDONLY|O_LARGEFILE|O_CLOEXEC|O_NOATIME
/// (O_NOATIME needs _GNU_SOURCE, which Swift's Glibc module lacks).
/// Returns the group fd, or -errno.
int cfan_init(unsigned int flags);

/// fanotify_mark(2) relative to the current directory. Returns 0, or -errno.
int cfan_mark(int fanotify_fd, unsigned int flags, uint64_t mask, const char *path);

/// The size of one permission event a group reports: its metadata, and the
/// pidfd record when the group reports one (FAN_REPORT_PIDFD).
size_t cfan_event_size(int with_pidfd);

/// fanotify_mark(2) on `name` in the folder `dirfd` (an O_PATH fd will do):
/// with FAN_MARK_DONT_FOLLOW, the entry itself. Returns 0, or -errno.
int cfan_mark_at(int fanotify_fd, unsigned int flags, uint64_t mask, int dirfd, const char *name);

/// fanotify_mark(2) on the object an open fd refers to (pathname NULL): the
/// way to put an ignore mark on the inode of an event's file. Returns 0, or -errno.
int cfan_mark_fd(int fanotify_fd, unsigned int flags, uint64_t mask, int fd);

/// A file only this process can open (a memfd), to probe which marks the
/// kernel takes; an fd, or -errno.
int cfan_private_inode(void);

/// Writes one struct fanotify_response. Returns 0, or -errno
/// (-EIO when the kernel took fewer bytes than a whole response).
int cfan_respond(int fanotify_fd, int event_fd, uint32_t response);

/// Writes a response with FAN_AUDIT and, where the kernel takes it (6.3+),
/// a FAN_INFO record naming `rule_number` for the audit log. Returns 0, or
/// -errno (-EINVAL from a kernel without FAN_INFO: answer again with
/// cfan_respond and FAN_AUDIT alone).
int cfan_respond_audit_rule(int fanotify_fd, int event_fd, uint32_t response, uint32_t rule_number);

/// Walks a buffer filled by read(2) on a fanotify fd with FAN_EVENT_OK and
/// FAN_EVENT_NEXT. Decodes the event at *offset into *out and advances
/// *offset. Returns 1 for an event, 0 at the end of the buffer, -EPROTO for a
/// metadata version this build does not know (the caller must stop reading).
int cfan_next_event(const void *buffer, size_t length, size_t *offset, cfan_event *out);

/// open_by_handle_at(2) with O_PATH|O_DIRECTORY|O_CLOEXEC (both hidden behind
/// _GNU_SOURCE): opens the directory of an event's `dir_handle`, on the
/// filesystem of `mount_fd`, without opening its contents. Returns the fd, or -errno.
int cfan_open_dir_by_handle(int mount_fd, const void *handle);

/// fstat(2) of `fd` and the id of the mount it was opened through, in one
/// statx(2) call (STATX_MNT_ID, Linux 5.8; the id mountinfo's first field
/// shows). Returns 0, or -errno; *mount_id is 0 when the kernel gave none.
int cfan_fstat_mount(int fd, struct stat *st, uint64_t *mount_id);

/// The same with the attributes the kernel has cached (AT_STATX_DONT_SYNC):
/// never waits for the server of a FUSE or network filesystem, which a local
/// user may run and stall. For an executable, which may live on any of them.
int cfan_fstat_mount_cached(int fd, struct stat *st, uint64_t *mount_id);

/// The same for a path (followed, as stat(2) does), from the cache as
/// `cfan_fstat_mount_cached`: through /proc/PID/exe, the executable's stat
/// and the mount it was run from, in one call that never waits on a server.
int cfan_stat_mount_cached(const char *path, struct stat *st, uint64_t *mount_id);

/// open(2) with O_PATH|O_CLOEXEC (O_PATH is behind _GNU_SOURCE): a handle on
/// a file that raises no fanotify event. Returns the fd, or -errno.
int cfan_open_path(const char *path);

/// Opens (O_PATH) the file `fd` refers to again, through the mount of
/// `mount_fd`: name_to_handle_at(2) then open_by_handle_at(2) (needs
/// CAP_DAC_READ_SEARCH). The new fd's path is the file's path within that
/// mount, whatever mount `fd` was opened through. Returns the fd, or -errno.
int cfan_reopen_through_mount(int fd, int mount_fd);

/// pidfd_send_signal(pidfd, 0): 0 if the process is still alive, else -errno
/// (-ESRCH once it has exited).
int cfan_pidfd_alive(int pidfd);

/// 1 when pidfds have inodes of their own (pidfs, Linux 6.9: a pidfd of this
/// process is on the filesystem with pidfs' magic number), else 0.
int cfan_pidfds_have_inodes(void);

/// A process's credentials and parent, from its pidfd.
typedef struct cfan_pidfd_creds {
    uint32_t ppid;
    uint32_t ruid;
    uint32_t euid;
    uint32_t fsuid;
    uint32_t rgid;
    uint32_t egid;
    uint32_t fsgid;
} cfan_pidfd_creds;

/// ioctl(PIDFD_GET_INFO) of Linux 6.13: the process's real, effective and
/// filesystem uid and gid and its parent's pid, in one call. Returns 0; -ESRCH once the process has
/// exited; -ENOTTY or -EINVAL from an older kernel (read /proc instead).
int cfan_pidfd_creds_of(int pidfd, cfan_pidfd_creds *out);

/// fcntl(F_SETLEASE, F_RDLCK) (behind _GNU_SOURCE) on an fd open read-only:
/// while the lease is held, an open of the file for writing or a truncation
/// waits until it is let go (the fd is closed, or lease-break-time passes).
/// Returns 0; -EAGAIN when the file is open for writing now (a writable
/// shared mapping counts); another -errno where the filesystem takes no
/// leases. The agent ignores SIGIO, which the kernel sends it when a writer waits.
int cfan_hold_read_lease(int fd);

#endif
