#define _GNU_SOURCE
#include "CVerity.h"

#include <errno.h>
#include <linux/fsverity.h>
#include <string.h>
#include <sys/ioctl.h>

int cverity_measure(int fd, uint8_t *digest, size_t capacity, uint16_t *algorithm) {
    // The header, then room for the largest digest (SHA-512's 64 bytes).
    uint64_t storage[(sizeof(struct fsverity_digest) + 64 + 7) / 8];
    struct fsverity_digest *m = (struct fsverity_digest *)storage;
    memset(storage, 0, sizeof storage);
    m->digest_size = 64;
    if (ioctl(fd, FS_IOC_MEASURE_VERITY, m) != 0) return -errno;
    if (m->digest_size > capacity) return -EOVERFLOW;
    memcpy(digest, m->digest, m->digest_size);
    *algorithm = m->digest_algorithm;
    return m->digest_size;
}

#include <fcntl.h>
#include <sys/stat.h>

#ifndef STATX_ATTR_VERITY
#define STATX_ATTR_VERITY 0x00100000
#endif

int cverity_enabled(const char *path) {
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) return -errno;
    if (!(stx.stx_attributes_mask & STATX_ATTR_VERITY)) return 0;
    return (stx.stx_attributes & STATX_ATTR_VERITY) ? 1 : 0;
}
