"""For make stress: sends the port frame corpus (fuzz/port-corpus), and
mutations of it, to a running agent, each frame on a connection of its own:
as the first frame, and after a valid decider hello. What the agent answers
is read for half a second (a frame it takes may leave the connection open),
then the connection is closed.

    hostile_frames.py SOCKET CORPUS_DIR MUTATIONS SEED

Prints "connections N ended-by-agent M".
"""
import os
import random
import socket
import struct
import sys

path, corpus, mutations, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
frames = [open(os.path.join(corpus, name), "rb").read() for name in sorted(os.listdir(corpus))]
name = b"hostile"
hello = struct.pack("<IIIIIHH", 1, 1, 0, 3, 0, len(name), 0) + name


def mutate(frame):
    data = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.5 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.75:
            data[rng.randrange(len(data) + 1):rng.randrange(len(data) + 1)] = os.urandom(rng.randint(1, 16))
        elif data:
            del data[rng.randrange(len(data))]
    return bytes(data)


connections = ended = 0
for frame in frames:
    for variant in [frame] + [mutate(frame) for _ in range(mutations)]:
        for after_hello in (False, True):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            connections += 1
            try:
                s.connect(path)
                if after_hello:
                    s.send(hello)
                    s.recv(81920)  # welcome
                s.send(variant)
                # The agent answers what it takes (a control request) or ends the connection.
                s.settimeout(0.5)
                while s.recv(81920):
                    pass
                ended += 1
            except socket.timeout:
                pass
            except OSError:
                ended += 1
            finally:
                s.close()
print(f"connections {connections} ended-by-agent {ended}", flush=True)
