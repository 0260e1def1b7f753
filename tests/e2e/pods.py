#!/usr/bin/python3
"""pods.py: the pods of the end-to-end harness, from one process.

Every pod is a Linux network namespace (made by harness.sh). This script
enters them with setns(2): a socket belongs to the namespace it was created
in, so one process can serve all pods and one process can probe all pairs.

  pods.py serve POD=NETNS...          serve TCP and UDP on ports 80 and 81
                                      (IPv4 and IPv6) in every pod; each
                                      answer is the pod's name
  pods.py probe [options] POD=NETNS:ADDR4,ADDR6...
                                      connect from every pod to every pod,
                                      print the truth table ('.' allowed,
                                      'X' blocked), as Kubernetes' network
                                      policy e2e tests print it

  pods.py talk CLIENT_NETNS SERVER_NETNS ADDR [--port N] [--seconds S]
                                      one long TCP connection: a server in
                                      SERVER_NETNS, a client in CLIENT_NETNS
                                      sending a line every 100 ms; says when
                                      the echoes stop or the connection is
                                      reset

Probe options: --port N, --protocol tcp|udp, --family 4|6, --timeout S,
--json (one line {"from","to","allowed"} per pair instead of the table).
A UDP probe is sent again every half second until answered, so one lost
datagram does not read as blocked; a TCP SYN is retransmitted by the kernel.
Root only (setns). Test traffic stays inside the namespaces.
"""

import argparse
import ctypes
import json
import os
import selectors
import socket
import sys
import threading
import time

PORTS = (80, 81)
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    """setns(2) through libc: Debian 12's Python 3.11 has no os.setns."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def enter(netns):
    """Switch this thread to a named network namespace."""
    with open("/var/run/netns/" + netns) as f:
        setns(f.fileno())


class Home:
    """Remember the namespace we started in, to come back to it. As a
    context manager it comes back on leaving the block, also on an
    exception: a process left in a pod's namespace by an interrupt would
    run its clean-up there, where the harness's veths are not."""

    def __init__(self):
        self.f = open("/proc/self/ns/net")

    def back(self):
        setns(self.f.fileno())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.back()
        self.f.close()


def parse_pods(specs):
    pods = []
    for s in specs:
        name, _, rest = s.partition("=")
        netns, _, addrs = rest.partition(":")
        a4, _, a6 = addrs.partition(",")
        pods.append({"name": name, "netns": netns, "v4": a4, "v6": a6})
    return pods


def serve(pods):
    home = Home()
    sel = selectors.DefaultSelector()
    for p in pods:
        enter(p["netns"])
        for port in PORTS:
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            t.bind(("::", port))
            t.listen(64)
            t.setblocking(False)
            sel.register(t, selectors.EVENT_READ, ("tcp", p["name"]))
            u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            u.bind(("::", port))
            u.setblocking(False)
            sel.register(u, selectors.EVENT_READ, ("udp", p["name"]))
        home.back()
    print("serving %d pods on TCP and UDP %s" % (len(pods), PORTS), flush=True)
    while True:
        for key, _ in sel.select():
            kind, name = key.data
            try:
                if kind == "tcp":
                    c, _ = key.fileobj.accept()
                    c.settimeout(1)
                    try:
                        c.sendall((name + "\n").encode())
                    finally:
                        c.close()
                else:
                    data, peer = key.fileobj.recvfrom(2048)
                    key.fileobj.sendto((name + "\n").encode(), peer)
            except OSError:
                pass


def probe(pods, port, proto, family, timeout):
    """Try every pair at once; return {(from, to): allowed}."""
    sel = selectors.DefaultSelector()
    result = {}
    udp = {}  # socket -> destination address, to send again
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    key = "v4" if family == 4 else "v6"
    with Home():
        for src in pods:
            enter(src["netns"])
            for dst in pods:
                pair = (src["name"], dst["name"])
                result[pair] = False
                s = socket.socket(af, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
                s.setblocking(False)
                addr = (dst[key], port)
                if proto == "tcp":
                    try:
                        s.connect(addr)
                    except BlockingIOError:
                        pass
                    except OSError:
                        s.close()
                        continue
                else:
                    try:
                        s.sendto(b"probe\n", addr)
                    except OSError:
                        s.close()
                        continue
                    udp[s] = addr
                sel.register(s, selectors.EVENT_READ, (pair, dst["name"]))
    start = time.monotonic()
    deadline = start + timeout
    resend = start + 0.5
    while sel.get_map() and time.monotonic() < deadline:
        wake = min(deadline, resend)
        for k, _ in sel.select(max(0.0, wake - time.monotonic())):
            pair, want = k.data
            try:
                data = k.fileobj.recv(256)
                # allowed only when the answer is the destination's own name
                result[pair] = data.decode(errors="replace").strip() == want
            except OSError:
                result[pair] = False
            sel.unregister(k.fileobj)
            udp.pop(k.fileobj, None)
            k.fileobj.close()
        if time.monotonic() >= resend:
            resend += 0.5
            for s, addr in udp.items():
                try:
                    s.sendto(b"probe\n", addr)
                except OSError:
                    pass
    for k in list(sel.get_map().values()):
        sel.unregister(k.fileobj)
        k.fileobj.close()
    return result


class Talk:
    """One long-lived TCP connection between two pods.

    A server in one pod echoes every line; a client in another sends a
    numbered line every `interval` seconds and counts the echoes. Threads
    do the talking; the caller reads `echoes`, `last_echo` (monotonic
    time) and `error` ("reset" when either end saw a reset). Root only.
    """

    def __init__(self, client_netns, server_netns, addr, port=82, interval=0.1):
        self.client_netns = client_netns
        self.server_netns = server_netns
        self.addr = addr
        self.port = port
        self.interval = interval
        self.sent = 0
        self.echoes = 0
        self.last_echo = None
        self.error = None
        self._stop = threading.Event()
        self._socks = []

    def start(self, timeout=3.0):
        """Connect and start talking; raise OSError when the connection
        cannot be made."""
        af = socket.AF_INET6 if ":" in self.addr else socket.AF_INET
        with Home():
            enter(self.server_netns)
            ls = socket.socket(af, socket.SOCK_STREAM)
            self._socks.append(ls)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("::" if af == socket.AF_INET6 else "0.0.0.0", self.port))
            ls.listen(1)
            enter(self.client_netns)
            c = socket.socket(af, socket.SOCK_STREAM)
            self._socks.append(c)
        c.settimeout(timeout)
        c.connect((self.addr, self.port))
        ls.settimeout(timeout)
        srv, _ = ls.accept()
        self._socks.append(srv)
        c.settimeout(None)
        srv.settimeout(None)
        for fn, arg in ((self._echo, srv), (self._send, c), (self._count, c)):
            threading.Thread(target=fn, args=(arg,), daemon=True).start()

    def _fail(self, e):
        if self._stop.is_set():
            return
        if isinstance(e, (ConnectionResetError, BrokenPipeError)):
            self.error = "reset"
        elif self.error is None:
            self.error = str(e)

    def _echo(self, s):
        try:
            while not self._stop.is_set():
                data = s.recv(4096)
                if not data:
                    return
                s.sendall(data)
        except OSError as e:
            self._fail(e)

    def _send(self, s):
        try:
            while not self._stop.wait(self.interval):
                self.sent += 1
                s.sendall(b"%d\n" % self.sent)
        except OSError as e:
            self._fail(e)

    def _count(self, s):
        buf = b""
        try:
            while not self._stop.is_set():
                data = s.recv(4096)
                if not data:
                    if self.error is None and not self._stop.is_set():
                        self.error = "closed"
                    return
                buf += data
                while b"\n" in buf:
                    _, buf = buf.split(b"\n", 1)
                    self.echoes += 1
                    self.last_echo = time.monotonic()
        except OSError as e:
            self._fail(e)

    def stop(self):
        """Stop the threads and close every socket."""
        self._stop.set()
        for s in self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def talk(client, server, addr, port, seconds):
    """The talk subcommand: report once a second, and when echoes stop."""
    t = Talk(client, server, addr, port)
    try:
        t.start()
    except OSError as e:
        print("cannot connect %s -> %s port %d: %s" % (client, addr, port, e), flush=True)
        t.stop()
        return 1
    print("connected %s -> %s port %d" % (client, addr, port), flush=True)
    quiet = False
    end = time.monotonic() + seconds
    while time.monotonic() < end and t.error is None:
        time.sleep(1)
        now = time.monotonic()
        if t.last_echo is not None and now - t.last_echo > 1:
            if not quiet:
                print("no echo for %.1f s (sent %d, echoed %d)" % (now - t.last_echo, t.sent, t.echoes), flush=True)
            quiet = True
        else:
            if quiet:
                print("echoes again", flush=True)
            quiet = False
            print("sent %d, echoed %d" % (t.sent, t.echoes), flush=True)
    if t.error is not None:
        print("connection %s (sent %d, echoed %d)" % (t.error, t.sent, t.echoes), flush=True)
    t.stop()
    return 0 if t.error is None and not quiet else 1


def table(pods, result):
    names = [p["name"] for p in pods]
    lines = ["-\t" + "\t".join(names)]
    for a in names:
        lines.append(a + "\t" + "\t".join("." if result[(a, b)] else "X" for b in names))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("pods", nargs="+")
    p = sub.add_parser("probe")
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--protocol", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--family", type=int, choices=(4, 6), default=4)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--json", action="store_true")
    p.add_argument("pods", nargs="+")
    t = sub.add_parser("talk")
    t.add_argument("client")
    t.add_argument("server")
    t.add_argument("addr")
    t.add_argument("--port", type=int, default=82)
    t.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    if a.cmd == "talk":
        return talk(a.client, a.server, a.addr, a.port, a.seconds)
    pods = parse_pods(a.pods)
    if a.cmd == "serve":
        serve(pods)
        return 0
    res = probe(pods, a.port, a.protocol, a.family, a.timeout)
    if a.json:
        for (f, t), ok in sorted(res.items()):
            print(json.dumps({"from": f, "to": t, "allowed": ok}))
    else:
        print(table(pods, res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
