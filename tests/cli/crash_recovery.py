#!/usr/bin/python3
"""crash_recovery.py: acknowledged changes survive SIGKILL; unacknowledged
ones are there whole or not at all.

  crash_recovery.py NPGW [--rounds 20] [--changes 1000] [--clients 4] [--seed S]

npgw runs in socket mode on net_null ports. --clients threads, each on its
own connection and with pods of its own, send changes back to back: an
apply of three pods (a Deployment's worth, one change) or a delete of the
three pods of an earlier change, so that changes are coalesced into shared
generations. At a random moment of each round the daemon is killed with
SIGKILL and started again on the same state directory. After each restart
every client's pods must be exactly what its acknowledged changes made,
with its one unacknowledged change (if any) applied whole or not at all;
the live generation must not be older than the last acknowledged one.
The kills land after a random number of acknowledgements (about
--changes / --rounds on average) plus up to 20 ms, so most hit builds and
fsyncs in flight; what is left of --changes then runs without a kill, and
a clean restart is checked too. Prints a summary line and exits 0
when every round holds, 1 otherwise.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


class Conn:
    def __init__(self, path, timeout=60):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.n = 0

    def call(self, cmd, args=None):
        self.n += 1
        self.s.sendall((json.dumps({"id": self.n, "cmd": cmd, "args": args or {}}) + "\n")
                       .encode())
        line = self.f.readline()
        if not line:
            raise ConnectionError("closed")
        return json.loads(line)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def pod_doc(client, name, i, k):
    # 10.C.X.Y: the client's own /16, change and pod number in the host part
    h = 3 * i + k
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "crash", "name": name,
                         "labels": {"app": "c%d" % client, "change": str(i)}},
            "status": {"podIP": "10.%d.%d.%d" % (100 + client, (h // 250) % 250, h % 250 + 1)}}


class Client:
    """One connection's changes, its model of its pods and its change in
    flight."""

    def __init__(self, idx, rng):
        self.idx = idx
        self.rng = rng
        self.model = {}  # name -> change number
        self.groups = []  # pod-name triples of applied changes, acknowledged
        self.inflight = None  # (kind, names, i)
        self.n = 0
        self.acked = 0
        self.max_gen = 0
        self.error = None
        self.adopted = 0  # changes in flight at a kill that were there after it

    def next_change(self):
        i = self.n
        self.n += 1
        if self.groups and i % 4 == 3:
            names = self.groups[self.rng.randrange(len(self.groups))]
            return ("delete", names, i)
        names = ["c%d-%d-%d" % (self.idx, i, k) for k in range(3)]
        return ("apply", names, i)

    def request(self, ch):
        kind, names, i = ch
        if kind == "apply":
            docs = [{"name": "c%d.json" % self.idx,
                     "text": json.dumps({"apiVersion": "v1", "kind": "List",
                                         "items": [pod_doc(self.idx, n, i, k)
                                                   for k, n in enumerate(names)]})}]
            return "apply", {"documents": docs}
        return "delete", {"objects": [{"kind": "Pod", "namespace": "crash", "name": n}
                                      for n in names]}

    def done(self, ch):
        kind, names, i = ch
        if kind == "apply":
            for n in names:
                self.model[n] = i
            self.groups.append(names)
        else:
            for n in names:
                self.model.pop(n, None)
            self.groups.remove(names)

    def run(self, path, budget, stop):
        try:
            c = Conn(path)
        except OSError:
            return
        try:
            while budget[0] > 0 and not stop.is_set():
                budget[0] -= 1
                ch = self.next_change()
                self.inflight = ch
                cmd, args = self.request(ch)
                r = c.call(cmd, args)
                if not r.get("ok"):
                    self.error = "client %d: %s refused: %s" % (self.idx, cmd, r)
                    return
                self.max_gen = max(self.max_gen, r["result"]["generation"])
                self.done(ch)
                self.inflight = None
                self.acked += 1
        except (OSError, ConnectionError, ValueError):
            pass  # killed under us: the change in flight stays in self.inflight
        finally:
            c.close()

    def check(self, present):
        """present: name -> change number of this client's pods after the
        restart. Adopt the in-flight change if it happened; return a
        problem or None."""
        if present == self.model:
            self.inflight = None
            return None
        if self.inflight is not None:
            kind, names, i = self.inflight
            after = dict(self.model)
            if kind == "apply":
                for n in names:
                    after[n] = i
            else:
                for n in names:
                    after.pop(n, None)
            if present == after:
                self.adopted += 1
                self.done(self.inflight)
                self.inflight = None
                return None
        missing = sorted(set(self.model) - set(present))
        extra = sorted(set(present) - set(self.model))
        return ("client %d: acknowledged %d, in flight %s; missing %s, extra %s" %
                (self.idx, self.acked, self.inflight, missing[:6], extra[:6]))


def write_config(d, tag):
    cfg = os.path.join(d, "npgw.yaml")
    with open(cfg, "w") as f:
        f.write("\n".join([
            "desired_state: socket",
            "control: {socket: %s}" % os.path.join(d, "npgw.sock"),
            "state_dir: %s" % os.path.join(d, "state"),
            "ports:",
            "  - {name: a, device: net_null0}",
            "  - {name: b, device: net_null1}",
            "bridges:",
            "  - {name: wire, ports: [a, b]}",
            "workers:",
            "  - lcore: 1",
            "mempool: {mbufs: 4095, cache: 128}",
            "conntrack: {enabled: false}",
            'eal: ["--no-huge", "-m", "256", "--no-pci", "--file-prefix", "%s", '
            '"--log-level", "error"]' % tag,
        ]) + "\n")
    return cfg


def start(npgw, cfg, d, log):
    sock = os.path.join(d, "npgw.sock")
    p = subprocess.Popen([npgw, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    t_end = time.monotonic() + 120
    while time.monotonic() < t_end:
        if p.poll() is not None:
            raise RuntimeError("npgw exited %d" % p.returncode)
        try:
            c = Conn(sock, timeout=5)
            r = c.call("status")
            c.close()
            if r.get("ok") and r["result"].get("ready"):
                return p, r["result"]["generation"]
        except OSError:
            pass
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("npgw did not become ready")


def pods_now(sock):
    c = Conn(sock)
    r = c.call("get", {"kind": "pods", "namespace": "crash"})
    c.close()
    out = {}
    for it in r["result"]["items"]:
        out[it["metadata"]["name"]] = int(it["metadata"]["labels"]["change"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npgw")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    d = tempfile.mkdtemp(prefix="npgw-crash.")
    cfg = write_config(d, "npgw-crash-%d" % os.getpid())
    log = open(os.path.join(d, "npgw.log"), "a")
    clients = [Client(i, random.Random(rng.random())) for i in range(a.clients)]
    problems, kills, unacked_seen = [], 0, 0
    per_round = max(1, a.changes // a.rounds)
    t0 = time.monotonic()
    p = None
    try:
        p, gen = start(a.npgw, cfg, d, log)
        sock = os.path.join(d, "npgw.sock")
        budget = [a.changes]
        for rnd in range(a.rounds + 1):
            last = rnd == a.rounds
            stop = threading.Event()
            ths = [threading.Thread(target=c.run, args=(sock, budget, stop)) for c in clients]
            for t in ths:
                t.start()
            if last:
                # what is left of the changes, then a clean stop and start
                for t in ths:
                    t.join()
                p.send_signal(signal.SIGTERM)
                p.wait()
            else:
                # kill after a random share of the changes, at a random
                # moment between two acknowledgements
                target = sum(c.acked for c in clients) + rng.randint(1, 2 * per_round)
                while (sum(c.acked for c in clients) < target and budget[0] > 0 and
                       any(t.is_alive() for t in ths)):
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.02))
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills += 1
                stop.set()
                for t in ths:
                    t.join()
            problems += [c.error for c in clients if c.error]
            if problems:
                break
            p, gen = start(a.npgw, cfg, d, log)
            present = pods_now(sock)
            last_acked = max(c.max_gen for c in clients)
            if gen < last_acked:
                problems.append("round %d: generation %d after restart, %d acknowledged" %
                                (rnd, gen, last_acked))
            for c in clients:
                mine = {n: v for n, v in present.items() if n.startswith("c%d-" % c.idx)}
                unacked_seen += c.inflight is not None
                why = c.check(mine)
                if why:
                    problems.append("round %d: %s" % (rnd, why))
            if problems:
                break
    finally:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
    acked = sum(c.acked for c in clients)
    print("crash recovery: %d SIGKILLs, %d changes acknowledged, %d in flight at a kill "
          "(%d there whole after it, the others not at all), %.0f s, seed %d: %s" %
          (kills, acked, unacked_seen, sum(c.adopted for c in clients),
           time.monotonic() - t0, seed,
           "every acknowledged change was back" if not problems else "FAILED"))
    for pr in problems:
        print("  " + pr)
    if problems:
        print("  npgw log: %s" % os.path.join(d, "npgw.log"))
        return 1
    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
