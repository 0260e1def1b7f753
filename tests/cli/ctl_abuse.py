#!/usr/bin/python3
"""ctl_abuse.py: misbehaving control socket clients, all at once.

  ctl_abuse.py SOCKET

Runs, concurrently: an oversized request (33 MiB), a client that sends one
byte a second, 100 concurrent clients asking for status, a client that
sends requests and never reads, garbage, and a well-behaved client that
keeps asking for status meanwhile. Prints one line per check and exits 1
when the server misbehaved (a well-behaved request failed, an abuser was
not refused).
"""

import json
import os
import socket
import sys
import threading
import time

PATH = sys.argv[1]
failures = []
lock = threading.Lock()


def fail(msg):
    with lock:
        failures.append(msg)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(PATH)
    return s


def call(s, cmd, args=None, rid=1):
    s.sendall((json.dumps({"id": rid, "cmd": cmd, "args": args or {}}) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return json.loads(buf)


def oversized():
    s = connect()
    try:
        s.sendall(b'{"id":1,"cmd":"apply","args":{"documents":[{"name":"x","text":"' +
                  b"a" * (33 << 20))
    except OSError:
        pass  # the server may close while we send: that is the refusal
    try:
        data = s.recv(4096)
        if b"too-large" not in data and data != b"":
            fail("oversized: unexpected answer %r" % data[:200])
    except OSError:
        pass
    s.close()
    print("oversized message: refused")


def slow():
    s = connect()
    msg = b'{"id":1,"cmd":"status"}\n'
    closed = False
    for i in range(len(msg)):
        try:
            s.send(msg[i:i + 1])
        except OSError:
            closed = True
            break
        time.sleep(1)
        if i >= 8:
            break
    s.settimeout(3)
    try:
        data = s.recv(4096)
        closed = closed or data == b"" or b"timeout" in data
    except OSError:
        closed = True
    s.close()
    if not closed:
        fail("slow client was not dropped after its receive timeout")
    print("one byte a second: dropped")


def many():
    socks, answered, refused = [], 0, 0
    for _ in range(100):
        try:
            socks.append(connect())
        except OSError:
            refused += 1
    for s in socks:
        try:
            r = call(s, "status")
            if r.get("ok"):
                answered += 1
            elif r.get("error", {}).get("code") == "busy":
                refused += 1
        except (OSError, ValueError):
            refused += 1
        s.close()
    if answered == 0:
        fail("100 clients: none answered")
    print("100 concurrent clients: %d answered, %d refused (busy)" % (answered, refused))


def never_reads():
    s = connect()
    r = call(s, "status")  # served like anyone, then it stops reading
    if not r.get("ok"):
        fail("never-reads client not served at first: %r" % r)
    s.settimeout(2)
    sent = 0
    try:
        for i in range(20000):
            s.send((json.dumps({"id": i, "cmd": "get", "args": {"kind": "pods"}}) + "\n").encode())
            sent += 1
    except OSError:
        pass
    time.sleep(1)
    s.close()
    print("a client that never reads: sent %d requests, server went on" % sent)


def garbage():
    s = connect()
    s.settimeout(3)
    try:
        s.sendall(os.urandom(2000).replace(b"\n", b" ") + b"\n")
        data = s.recv(4096)
    except OSError:
        data = b""  # closed on us while we sent: refused
    s.close()
    if data and b"bad-json" not in data and b"bad-request" not in data:
        fail("garbage: unexpected answer %r" % data[:200])
    print("garbage: refused")


def steady(stop):
    """A well-behaved client asking for status meanwhile. While the crowd
    holds every client slot it may be told busy, as the cap says; it must
    be answered otherwise, and at least once."""
    n = busy = 0
    while not stop.is_set():
        try:
            s = connect()
            r = call(s, "status")
            s.close()
            if r.get("ok"):
                n += 1
            elif r.get("error", {}).get("code") == "busy":
                busy += 1
            else:
                fail("status failed during the abuse: %r" % r)
        except (OSError, ValueError) as e:
            fail("status failed during the abuse: %s" % e)
        time.sleep(0.2)
    if n == 0:
        fail("the well-behaved client was never answered")
    print("a well-behaved client meanwhile: %d status answers, %d busy" % (n, busy))


def main():
    stop = threading.Event()
    good = threading.Thread(target=steady, args=(stop,))
    good.start()
    bad = [threading.Thread(target=f) for f in (oversized, slow, never_reads, garbage)]
    for t in bad:
        t.start()
    time.sleep(0.5)  # the others hold their connections; now the crowd
    bad.append(threading.Thread(target=many))
    bad[-1].start()
    for t in bad:
        t.join()
    stop.set()
    good.join()
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
