// fs-verity's measurement ioctl, which Swift cannot call (ioctl is variadic).
#pragma once
#include <stdint.h>
#include <stddef.h>

/// The file's fs-verity digest (FS_IOC_MEASURE_VERITY) into `digest`
/// (`capacity` bytes) and its hash algorithm into `algorithm`
/// (FS_VERITY_HASH_ALG_SHA256 = 1). Returns the digest's length, or -errno:
/// -ENODATA when the file has no fs-verity, -ENOTTY or -EOPNOTSUPP where the
/// filesystem has none, -EOVERFLOW when `capacity` is too small.
int cverity_measure(int fd, uint8_t *digest, size_t capacity, uint16_t *algorithm);

/// 1 when the file at `path` has fs-verity (statx's STATX_ATTR_VERITY, no
/// open), 0 when it has not, -errno when it cannot be told.
int cverity_enabled(const char *path);
