#!/usr/bin/env python3
"""The client side of the port's conformance checks, for fanfilter_port.py.

    conformance.py SOCKET STEP...

Runs the steps in order and prints one line for each, exactly as the Swift
client's runner (Tests/PortConformance) does, so one test checks both:
  hello:ROLE:NAME  prime:N  get  reply:allow|deny  reply-prime:allow|deny  reply-to:ID:allow|deny
  reply-large  reply-status:N  notice  sleep:MS  raw:HEX  wait-end
  control:COMMAND[:ARG]  decision  disconnect  gets:N  open:PATH
"""
import errno
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fanfilter_port as fp  # noqa: E402

ROLES = {"decider": fp.DECIDER, "observer": fp.OBSERVER, "control": fp.CONTROL}
VERDICTS = {"allow": fp.ALLOW, "deny": fp.DENY}
COMMANDS = {"status": fp.STATUS, "reload": fp.RELOAD, "set-mode": fp.SET_MODE, "flush": fp.FLUSH_CACHES,
            "clients": fp.CLIENTS, "metrics": fp.METRICS}
SOURCES = ["rule", "on_timeout", "on_overload", "on_no_client", "client", "on_disconnect", "on_unknown_path", "default"]


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def ended_name(error):
    return fp.ERRORS.get(error.code, "closed") if error.code else "closed"


def main():
    path, steps = sys.argv[1], sys.argv[2:]
    port, last = None, None
    for step in steps:
        words = step.split(":")
        verb = words[0]
        try:
            if verb == "hello":
                try:
                    port = fp.Port(path, role=ROLES[words[1]], name=words[2])
                    say("welcome")
                except fp.PortError as e:
                    say(f"refused {ended_name(e)}")
                    return
            elif verb == "prime":
                port.prime(int(words[1]))
                say(f"primed {words[1]}")
            elif verb == "get":
                m = port.get_message(timeout=10)
                if m is None:
                    say("no-message")
                    continue
                last = m
                if m.fd >= 0:
                    os.close(m.fd)
                say(f"message {m.message_id} {'execute' if m.access == fp.EXECUTE else 'open'} {m.rule} "
                    f"{m.path.decode(errors='replace')} {len(m.content)} {'fd' if m.fd >= 0 else 'no-fd'}")
            elif verb == "gets":
                got = 0
                while got < int(words[1]) and port.get_message(timeout=10) is not None:
                    got += 1
                say(f"messages {got}")
            elif verb == "open":
                try:
                    os.close(os.open(":".join(words[1:]), os.O_RDONLY))
                    say("open ok")
                except OSError as e:
                    say(f"open {errno.errorcode.get(e.errno, e.errno)}")
            elif verb == "reply":
                port.reply(last.message_id, VERDICTS[words[1]])
                say(f"replied {last.message_id}")
            elif verb == "reply-prime":
                port.reply(last.message_id, VERDICTS[words[1]], prime_again=True)
                say(f"replied {last.message_id}")
            elif verb == "reply-to":
                port.reply(int(words[1]), VERDICTS[words[2]])
                say(f"replied {words[1]}")
            elif verb == "reply-large":
                port.reply_payload(last.message_id, bytes(8))
                say(f"replied {last.message_id}")
            elif verb == "reply-status":
                port.reply(last.message_id, fp.ALLOW, status=int(words[1]))
                say(f"replied {last.message_id}")
            elif verb == "notice":
                n = port.no_waiter_notice(timeout=2)
                say("no-notice" if n is None else f"notice {n}")
            elif verb == "sleep":
                time.sleep(int(words[1]) / 1000)
            elif verb == "raw":
                port.send_raw(bytes.fromhex(words[1]))
                say("sent")
            elif verb == "wait-end":
                try:
                    while port.get_message(timeout=10) is not None:
                        pass
                    say("still-open")
                except fp.PortError as e:
                    say(f"ended {ended_name(e)}")
            elif verb == "control":
                status, text = port.control(COMMANDS[words[1]], (words[2] if len(words) > 2 else "").encode())
                say(f"control {status} {len(text.encode())} {text.splitlines()[0] if text else ''}")
            elif verb == "decision":
                d = port.next_decision(timeout=5)
                if d is None:
                    say("no-decision")
                else:
                    say(f"decision {'deny' if d.verdict == fp.DENY else 'allow'} {SOURCES[d.source]} "
                        f"{d.path.decode(errors='replace')} lost={d.lost} client={d.client.decode(errors='replace')}")
            elif verb == "disconnect":
                port.disconnect()
                say("disconnected")
            else:
                say(f"unknown-step {step}")
        except fp.PortError as e:
            say(f"ended {ended_name(e)}")
            return


if __name__ == "__main__":
    main()
