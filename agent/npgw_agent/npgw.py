"""npgw.py: a connection to npgw's control socket.

The protocol is lib/ctl's (npgwctl is the reference client): one JSON
request per line, {"id", "cmd", "args"}, and one reply per line in request
order, {"id", "ok": true, "result"} or {"id", "ok": false, "error": {"code",
"message", "details"?}}. Requests may be pipelined. A reader thread puts
every reply on the reconciler's queue, and ("npgw-down", serial, why) when
the connection ends; sends happen on the reconciler's thread.
"""

import json
import socket
import struct
import threading

MAX_LINE = 256 << 20  # npgw's output bound (a get of a large cluster)


class Conn:
    """One connection; serial tells its messages from a later one's."""

    def __init__(self, path, q, serial, send_timeout=30.0):
        self.q, self.serial, self.next_id = q, serial, 1
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
            # a send that makes no progress for this long means a stuck npgw
            tv = struct.pack("ll", int(send_timeout), 0)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        except OSError:
            self.sock.close()
            raise
        self.closed = False
        self.reader = threading.Thread(target=self._read, name="npgw-reader", daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        why = "closed by npgw"
        try:
            while True:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
                while True:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    line, buf = buf[:nl], buf[nl + 1:]
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        why = "npgw sent a line that is not JSON"
                        raise OSError(why) from None
                    self.q.put(("reply", self.serial, msg))
                if len(buf) > MAX_LINE:
                    why = "npgw sent an over-long line"
                    break
        except OSError as e:
            why = str(e) or why
        self.q.put(("npgw-down", self.serial, why))

    def send(self, cmd, args):
        """Send one request; returns its id. Raises OSError."""
        rid = self.next_id
        self.next_id += 1
        line = json.dumps({"id": rid, "cmd": cmd, "args": args}, separators=(",", ":"))
        self.sock.sendall(line.encode() + b"\n")
        return rid

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
