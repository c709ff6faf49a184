"""A decider for make stress: denies every path with /d/ in it, allows the
rest, and stalls on a share of its messages for longer than the agent waits.
Four threads take the messages, so one stall holds up a quarter of them.

    stalling_decider.py SOCKET STALL_SHARE STALL_MS [TRAP_AFTER]

Prints "ready" once primed; runs until killed, or with TRAP_AFTER, traps
(abort(3): SIGABRT, as a failed assertion does) in the thread that takes the
next message after that many replies, with messages still unanswered.
Written with fanfilter_port.py, the client written from
docs/port-protocol.md alone.
"""
import os
import random
import sys
import threading
import time

import fanfilter_port as fp

path, share, stall_ms = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
trap_after = int(sys.argv[4]) if len(sys.argv) > 4 else None
replies = 0
count_lock = threading.Lock()
port = fp.Port(path, role=fp.DECIDER, name="stalling-decider")
port.prime(16)


def decide():
    global replies
    while True:
        try:
            m = port.get_message()
        except (fp.PortError, OSError):
            return
        if m is None:
            continue
        if m.fd >= 0:
            os.close(m.fd)
        if trap_after is not None:
            with count_lock:
                if replies >= trap_after:
                    os.abort()
        if random.random() < share:
            time.sleep(stall_ms / 1000)
        try:
            port.reply(m.message_id, fp.DENY if b"/d/" in m.path else fp.ALLOW, prime_again=True)
        except (fp.PortError, OSError):
            return
        with count_lock:
            replies += 1


threads = [threading.Thread(target=decide, daemon=True) for _ in range(4)]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
