"""A client of fanfilter's port, written from docs/port-protocol.md alone,
with Python's standard library only: the proof that the page is enough.

    port = Port("/run/fanfilter/port", role=DECIDER, name="my-scanner")
    port.prime(10)
    while True:
        m = port.get_message()
        port.reply(m.message_id, DENY if b"foul" in m.content else ALLOW, prime_again=True)
"""
import array
import socket
import struct
import threading
from collections import deque

VERSION = 1
MAX_CLIENT_FRAME = 4096
MAX_AGENT_FRAME = 81920

DECIDER, OBSERVER, CONTROL = 0, 1, 2
OPEN, EXECUTE = 1, 2
ALLOW, DENY = 1, 2

HELLO, PRIME, REPLY, CONTROL_FRAME, REPLY_AND_PRIME = 1, 2, 3, 4, 5
WELCOME, REFUSED, MESSAGE, ERROR, CONTROL_REPLY, DECISION = 0x101, 0x102, 0x103, 0x104, 0x105, 0x106

ERRORS = {1: "bad-version", 2: "malformed", 3: "oversized", 4: "unknown-type", 5: "bad-handshake",
          6: "no-waiter", 7: "too-many-connections", 8: "not-permitted", 9: "handshake-timeout",
          10: "too-many-primed", 11: "not-reading", 12: "shutting-down", 13: "wrong-role",
          14: "control-failed", 15: "unknown-command"}
NOT_FATAL = {6, 14, 15}
MORE_PIECES = 0x80000000  # in a control reply's status: more pieces of this answer follow

STATUS, RELOAD, SET_MODE, FLUSH_CACHES, CLIENTS, METRICS = 1, 2, 3, 4, 5, 6


class PortError(Exception):
    """The agent refused or ended the connection: `code` names why (None: it closed)."""

    def __init__(self, code, reason):
        super().__init__(f"{ERRORS.get(code, code)}: {reason}" if code else reason)
        self.code = code
        self.reason = reason


class Message:
    """A message for a decider: the header, the event, and a descriptor (-1: none) the receiver must close."""

    FIXED = struct.Struct("<IIQIiIIQQIIQHHHHI")

    def __init__(self, frame, fd):
        (_, self.reply_length, self.message_id, self.access, self.pid, self.uid, self.gid, self.device,
         self.inode, self.rule, self.flags, self.file_size, path_len, comm_len, exe_len, _,
         content_len) = self.FIXED.unpack_from(frame, 0)
        at = self.FIXED.size
        if at + path_len + comm_len + exe_len + content_len != len(frame):
            raise PortError(2, "a message whose lengths do not add up")
        self.path = frame[at:at + path_len]; at += path_len
        self.comm = frame[at:at + comm_len]; at += comm_len
        self.exe = frame[at:at + exe_len]; at += exe_len
        self.content = frame[at:at + content_len]
        self.fd = fd


class Decision:
    """An observer's copy of one decision."""

    FIXED = struct.Struct("<IQIIiIIIIHH")

    def __init__(self, frame):
        (_, self.sequence, self.lost, self.access, self.pid, self.verdict, self.not_enforced, self.source,
         self.rule, path_len, client_len) = self.FIXED.unpack_from(frame, 0)
        at = self.FIXED.size
        self.path = frame[at:at + path_len]
        self.client = frame[at + path_len:at + path_len + client_len]


class Port:
    """One connection. A reader thread files what the agent sends: messages,
    decisions, control replies, no-waiter notices; any thread may call any method."""

    def __init__(self, path, role=DECIDER, name="python-client", accesses=OPEN | EXECUTE, rules=(),
                 denied_only=False, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        encoded = name.encode()
        hello = struct.pack("<IIIIIHH", HELLO, VERSION, role, accesses if role == DECIDER else 0,
                            1 if denied_only else 0, len(encoded), len(rules))
        hello += b"".join(struct.pack("<I", r) for r in rules) + encoded
        try:
            self.sock.send(hello)
        except OSError:
            pass  # a peer the agent refuses at connect is told why before its hello: read that
        frame = self.sock.recv(MAX_AGENT_FRAME)
        if len(frame) < 8:
            raise PortError(None, "the agent closed the connection before it answered the hello")
        kind, code = struct.unpack_from("<II", frame)
        if kind == REFUSED:
            raise PortError(code, frame[8:].decode(errors="replace"))
        if kind == ERROR:
            raise PortError(code, frame[16:].decode(errors="replace"))
        if kind != WELCOME:
            raise PortError(None, f"the agent answered the hello with frame type {kind:#x}")
        self.connection_id = struct.unpack_from("<Q", frame, 12)[0]
        self.sock.settimeout(None)
        self._lock = threading.Condition()
        self._messages, self._decisions, self._notices = deque(), deque(), deque()
        self._control = {}
        self._pieces = {}
        self._next_request = 0
        self.ended = None
        threading.Thread(target=self._read, daemon=True).start()

    # Sending

    def send_raw(self, frame):
        self.sock.send(frame)

    def prime(self, count=1):
        self.send_raw(struct.pack("<II", PRIME, count))

    def reply(self, message_id, verdict, status=0, prime_again=False):
        """Answers a message; with prime_again, one more get is primed in the same frame."""
        self.send_raw(struct.pack("<IiQI", REPLY_AND_PRIME if prime_again else REPLY, status, message_id, verdict))

    def reply_payload(self, message_id, payload, status=0):
        self.send_raw(struct.pack("<IiQ", REPLY, status, message_id) + payload)

    def control(self, command, argument=b"", timeout=60.0):
        """Returns (status, text): status 0, or an error code."""
        with self._lock:
            self._next_request += 1
            request = self._next_request
        self.send_raw(struct.pack("<III", CONTROL_FRAME, request, command) + argument)
        return self._take(lambda: self._control.pop(request, None), timeout)

    def disconnect(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # Receiving

    def get_message(self, timeout=None):
        return self._take(lambda: self._messages.popleft() if self._messages else None, timeout)

    def next_decision(self, timeout=None):
        return self._take(lambda: self._decisions.popleft() if self._decisions else None, timeout)

    def no_waiter_notice(self, timeout=None):
        """The id of a reply the agent had no waiter for, or None when `timeout` passes."""
        return self._take(lambda: self._notices.popleft() if self._notices else None, timeout)

    def _take(self, pop, timeout):
        with self._lock:
            while True:
                item = pop()
                if item is not None:
                    return item
                if self.ended is not None:
                    raise self.ended
                if not self._lock.wait(timeout):
                    return None

    def _read(self):
        ended = PortError(None, "the agent closed the connection")
        try:
            while True:
                fds = array.array("i")
                frame, ancillary, _, _ = self.sock.recvmsg(MAX_AGENT_FRAME, socket.CMSG_SPACE(fds.itemsize))
                for level, kind, data in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                if not frame:
                    break
                kind = struct.unpack_from("<I", frame)[0]
                with self._lock:
                    if kind == MESSAGE:
                        self._messages.append(Message(frame, fds[0] if fds else -1))
                    elif kind == DECISION:
                        self._decisions.append(Decision(frame))
                    elif kind == CONTROL_REPLY:
                        request, status = struct.unpack_from("<II", frame, 4)
                        whole = self._pieces.pop(request, b"") + frame[12:]
                        if status & MORE_PIECES:
                            self._pieces[request] = whole
                        else:
                            self._control[request] = (status, whole.decode(errors="replace"))
                    elif kind == ERROR:
                        code, message_id = struct.unpack_from("<IQ", frame, 4)
                        if code == 6:
                            self._notices.append(message_id)
                        elif code not in NOT_FATAL:
                            ended = PortError(code, frame[16:].decode(errors="replace"))
                            break
                    self._lock.notify_all()
        except OSError as e:
            ended = PortError(None, str(e))
        finally:
            with self._lock:
                self.ended = ended
                self._lock.notify_all()
