#!/usr/bin/python3
# One user's flood of the hasher: runs fresh sparse 63 MiB files in a loop
# (each new, so each must be hashed before it may run), in FOLDER, until
# FOLDER/stop exists; prints how many it ran. Used by the hasher's fairness
# test and by make bench, which run many of these at once as one user.
#   hash-flood.py FOLDER NAME
import os, sys

folder, me = sys.argv[1], sys.argv[2]
n = 0
while not os.path.exists(folder + "/stop"):
    path = f"{folder}/{me}.{n}"
    n += 1
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o755)
    os.ftruncate(fd, 63 << 20)
    os.close(fd)
    try:
        os.waitpid(os.posix_spawn(path, [path], {}), 0)
    except OSError:
        pass
    os.unlink(path)
print(n)
