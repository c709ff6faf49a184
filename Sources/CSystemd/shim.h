// libsystemd's journal and service-manager calls, found through pkg-config.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
