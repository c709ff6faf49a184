"""A decider for make stress: denies every path with /d/ in it, allows the
rest, and stalls on a share of its messages for longer than the agent waits.
Four threads take the messages, so one stall holds up a quarter of them.

    stalling_decider.py SOCKET STALL_SHARE STALL_MS

Prints "ready" once primed; runs until killed. Written with fanfilter_port.py,
the client written from docs/port-protocol.md alone.
"""
import os
import random
import sys
import threading
import time

import fanfilter_port as fp

path, share, stall_ms = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
port = fp.Port(path, role=fp.DECIDER, name="stalling-decider")
port.prime(16)


def decide():
    while True:
        try:
            m = port.get_message()
        except (fp.PortError, OSError):
            return
        if m is None:
            continue
        if m.fd >= 0:
            os.close(m.fd)
        if random.random() < share:
            time.sleep(stall_ms / 1000)
        try:
            port.reply(m.message_id, fp.DENY if b"/d/" in m.path else fp.ALLOW, prime_again=True)
        except (fp.PortError, OSError):
            return


threads = [threading.Thread(target=decide, daemon=True) for _ in range(4)]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
