#!/usr/bin/python3
# A FUSE filesystem a hostile user could run: it serves SOURCE read-only at
# MOUNTPOINT and, while the file FLAG exists, holds every getattr request
# (or with `read`, every read) up to a minute instead of answering it. Used
# by the kernel tests that show a stalled server never holds the agent's
# decisions.
#   stall-fuse.py SOURCE MOUNTPOINT FLAG [getattr|read]
import errno, os, sys, time
from fusepy import FUSE, FuseOSError, Operations

source, mountpoint, flag = sys.argv[1:4]
stalled = sys.argv[4] if len(sys.argv) > 4 else "getattr"


def hold(operation):
    deadline = time.monotonic() + 60
    while operation == stalled and os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.05)

class Stalling(Operations):
    def _real(self, path):
        return os.path.join(source, path.lstrip("/"))

    def getattr(self, path, fh=None):
        hold("getattr")
        try:
            st = os.lstat(self._real(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size",
                                             "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._real(path))

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        return os.open(self._real(path), os.O_RDONLY)

    def read(self, path, size, offset, fh):
        hold("read")
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)

FUSE(Stalling(), mountpoint, foreground=True, ro=True, allow_other=True)
