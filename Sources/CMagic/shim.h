// libmagic (file(1)'s library), found through pkg-config: MIME types for ftype=.
#include <magic.h>
