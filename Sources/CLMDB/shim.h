// LMDB (the Lightning memory-mapped database), found through pkg-config: the trust database.
#include <lmdb.h>
