#define _GNU_SOURCE
#include "CFanotify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

int cfan_init(unsigned int flags) {
    int fd = fanotify_init(flags, O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
    return fd < 0 ? -errno : fd;
}

int cfan_mark(int fanotify_fd, unsigned int flags, uint64_t mask, const char *path) {
    return fanotify_mark(fanotify_fd, flags, mask, AT_FDCWD, path) < 0 ? -errno : 0;
}

int cfan_mark_fd(int fanotify_fd, unsigned int flags, uint64_t mask, int fd) {
    return fanotify_mark(fanotify_fd, flags, mask, fd, NULL) < 0 ? -errno : 0;
}

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

int cfan_pidfds_have_inodes(void) {
    int fd = (int)syscall(__NR_pidfd_open, getpid(), 0);
    if (fd < 0) return 0;
    struct statfs fs;
    int pidfs = fstatfs(fd, &fs) == 0 && (unsigned long)fs.f_type == 0x50494446UL;
    close(fd);
    return pidfs;
}

int cfan_private_inode(void) {
    int fd = memfd_create("fanfilter-probe", MFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* One write of a whole response: 0, or -errno (-EIO for a short write). */
static int write_response(int fanotify_fd, const void *response, size_t size) {
    ssize_t n;
    do {
        n = write(fanotify_fd, response, size);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    return n == (ssize_t)size ? 0 : -EIO;
}

int cfan_respond(int fanotify_fd, int event_fd, uint32_t response) {
    struct fanotify_response r = { .fd = event_fd, .response = response };
    return write_response(fanotify_fd, &r, sizeof r);
}

/* The FAN_INFO response record of Linux 6.3, for headers older than that. */
#ifndef FAN_INFO
#define FAN_INFO 0x20
#endif
#define CFAN_RESPONSE_INFO_AUDIT_RULE 1

struct cfan_response_with_audit_rule {
    struct fanotify_response response;
    struct {
        uint8_t type;
        uint8_t pad;
        uint16_t len;
        uint32_t rule_number;
        uint32_t subj_trust;
        uint32_t obj_trust;
    } audit_rule;
};

int cfan_respond_audit_rule(int fanotify_fd, int event_fd, uint32_t response, uint32_t rule_number) {
    struct cfan_response_with_audit_rule r = {
        .response = { .fd = event_fd, .response = response | FAN_AUDIT | FAN_INFO },
        .audit_rule = { .type = CFAN_RESPONSE_INFO_AUDIT_RULE, .pad = 0, .len = sizeof r.audit_rule,
                        .rule_number = rule_number, .subj_trust = 2, .obj_trust = 2 },
    };
    return write_response(fanotify_fd, &r, sizeof r);
}

int cfan_next_event(const void *buffer, size_t length, size_t *offset, cfan_event *out) {
    if (*offset >= length) return 0;
    const struct fanotify_event_metadata *meta =
        (const struct fanotify_event_metadata *)((const char *)buffer + *offset);
    size_t left = length - *offset;
    if (!FAN_EVENT_OK(meta, left)) return 0;
    if (meta->vers != FANOTIFY_METADATA_VERSION) return -EPROTO;

    out->mask = meta->mask;
    out->fd = meta->fd;
    out->pid = meta->pid;
    out->pidfd = -1;
    out->dir_handle = NULL;
    out->name = NULL;

    size_t info = meta->metadata_len;
    while (info + sizeof(struct fanotify_event_info_header) <= meta->event_len) {
        const struct fanotify_event_info_header *hdr =
            (const struct fanotify_event_info_header *)((const char *)meta + info);
        if (hdr->len < sizeof *hdr || info + hdr->len > meta->event_len) break;
        if (hdr->info_type == FAN_EVENT_INFO_TYPE_PIDFD &&
            hdr->len >= sizeof(struct fanotify_event_info_pidfd)) {
            int pidfd = ((const struct fanotify_event_info_pidfd *)hdr)->pidfd;
            out->pidfd = pidfd >= 0 ? pidfd : -1;
        } else if (hdr->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME &&
                   hdr->len >= sizeof(struct fanotify_event_info_fid) + sizeof(struct file_handle)) {
            const struct fanotify_event_info_fid *fid = (const struct fanotify_event_info_fid *)hdr;
            const struct file_handle *handle = (const struct file_handle *)fid->handle;
            size_t name_at = sizeof *fid + sizeof *handle + handle->handle_bytes;
            if (name_at < hdr->len) {
                out->dir_handle = handle;
                out->name = (const char *)hdr + name_at;
            }
        }
        info += hdr->len;
    }
    const struct fanotify_event_metadata *next = FAN_EVENT_NEXT(meta, left);
    *offset = (size_t)((const char *)next - (const char *)buffer);
    return 1;
}

int cfan_open_dir_by_handle(int mount_fd, const void *handle) {
    int fd = open_by_handle_at(mount_fd, (struct file_handle *)handle, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

static int statx_mount(int dirfd, const char *path, int flags, struct stat *st, uint64_t *mount_id) {
    struct statx sx;
    if (statx(dirfd, path, flags, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0) return -errno;
    *st = (struct stat){
        .st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor),
        .st_ino = sx.stx_ino,
        .st_mode = sx.stx_mode,
        .st_nlink = sx.stx_nlink,
        .st_uid = sx.stx_uid,
        .st_gid = sx.stx_gid,
        .st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor),
        .st_size = (off_t)sx.stx_size,
        .st_blksize = (blksize_t)sx.stx_blksize,
        .st_blocks = (blkcnt_t)sx.stx_blocks,
        .st_atim = { .tv_sec = sx.stx_atime.tv_sec, .tv_nsec = sx.stx_atime.tv_nsec },
        .st_mtim = { .tv_sec = sx.stx_mtime.tv_sec, .tv_nsec = sx.stx_mtime.tv_nsec },
        .st_ctim = { .tv_sec = sx.stx_ctime.tv_sec, .tv_nsec = sx.stx_ctime.tv_nsec },
    };
    *mount_id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
    return 0;
}

int cfan_fstat_mount(int fd, struct stat *st, uint64_t *mount_id) {
    return statx_mount(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, st, mount_id);
}

int cfan_fstat_mount_cached(int fd, struct stat *st, uint64_t *mount_id) {
    return statx_mount(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, st, mount_id);
}

int cfan_stat_mount_cached(const char *path, struct stat *st, uint64_t *mount_id) {
    return statx_mount(AT_FDCWD, path, AT_STATX_DONT_SYNC, st, mount_id);
}

int cfan_open_path(const char *path) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cfan_reopen_through_mount(int fd, int mount_fd) {
    union {
        struct file_handle handle;
        char bytes[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    } h;
    h.handle.handle_bytes = MAX_HANDLE_SZ;
    int ignored_mount_id;
    if (name_to_handle_at(fd, "", &h.handle, &ignored_mount_id, AT_EMPTY_PATH) < 0) return -errno;
    int reopened = open_by_handle_at(mount_fd, &h.handle, O_PATH | O_CLOEXEC);
    return reopened < 0 ? -errno : reopened;
}

int cfan_pidfd_alive(int pidfd) {
    return syscall(__NR_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 ? -errno : 0;
}

/* struct pidfd_info and PIDFD_GET_INFO of Linux 6.13 (linux/pidfd.h), for older headers. */
struct cfan_pidfd_info {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid;
    uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
}; /* PIDFD_INFO_SIZE_VER0: 64 bytes; the kernel reads the size from the ioctl number */
#define CFAN_PIDFD_INFO_CREDS (1UL << 1)
#define CFAN_PIDFD_GET_INFO _IOWR(0xFF, 11, struct cfan_pidfd_info)

int cfan_pidfd_creds_of(int pidfd, cfan_pidfd_creds *out) {
    struct cfan_pidfd_info info = { .mask = CFAN_PIDFD_INFO_CREDS };
    if (ioctl(pidfd, CFAN_PIDFD_GET_INFO, &info) < 0) return -errno;
    if (!(info.mask & CFAN_PIDFD_INFO_CREDS)) return -EINVAL;
    out->ppid = info.ppid;
    out->ruid = info.ruid;
    out->euid = info.euid;
    out->fsuid = info.fsuid;
    out->rgid = info.rgid;
    out->egid = info.egid;
    out->fsgid = info.fsgid;
    return 0;
}

int cfan_hold_read_lease(int fd) {
    return fcntl(fd, F_SETLEASE, F_RDLCK) < 0 ? -errno : 0;
}

int cfan_mark_at(int fanotify_fd, unsigned int flags, uint64_t mask, int dirfd, const char *name) {
    return fanotify_mark(fanotify_fd, flags, mask, dirfd, name) < 0 ? -errno : 0;
}

size_t cfan_event_size(int with_pidfd) {
    return sizeof(struct fanotify_event_metadata) + (with_pidfd ? sizeof(struct fanotify_event_info_pidfd) : 0);
}
