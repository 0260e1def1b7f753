#!/usr/bin/python3
"""update.py: how long a change takes to go live, and what a generation costs.

  update.py [--sizes 1000x100,1000x1000,10000x100,10000x1000] [--runs 5]
            [--quick] [--data DIR] [--json FILE]
            [--control-plane | --only-control-plane] [--round-trips N]
            [--churn-rate N] [--churn-seconds S] [--builds N]
            [--with-100k | --only-100k]

For each size (pods x policies, gen_cluster.py clusters): npgw starts with
no policies and no load; `npgwctl apply -f` sends the whole cluster.
Reported, medians of --runs daemons:
- apply: the client's wall time (npgwctl reads the files, sends them, the
  daemon parses, validates, compiles, builds, saves the state, publishes,
  waits for the RCU grace period, replies) and commit_ms (the daemon's
  share from the parsed request to live: validate, compile, build, save,
  publish);
- the generation: ACL rules, classes, acl.memory_bytes, build_ms (status);
- pod add: `npgwctl apply` of one new replica of an existing Deployment
  (no ACL change: the build reuses the previous ACL), and pod remove:
  `npgwctl delete pod NS/NAME` of that pod; wall time and commit_ms,
  medians of --runs adds and removes on the live cluster.
--quick: 1000x100, one run (the CI smoke run).

--control-plane adds the control plane's goals (issue 12), each on its own
daemon over persistent socket connections (what an agent does; no
npgwctl process per change):
- round trip: one pod apply (a new replica) and its delete at 10,000 pods
  and 1,000 policies, --round-trips of each, one client: median and p99
  of the socket round trip (request sent to live, durability included),
  with the daemon's share (timing_ms) and this disk's fdatasync;
- churn: --churn-rate pod changes a second (apply or delete of one pod)
  for --churn-seconds from 16 clients, paced: p50/p99/max from the send
  to the reply (the reply comes when the generation is live), the
  changes per generation, and at the end every acknowledged pod is there
  and no deleted one (none lost);
- during a build: a policy change that rebuilds the 10k-rule ACL (the
  throughput benchmark's 10k set) on one client while two others send
  `stats` and `get policies -n NS` back to back: their p50/p99/max while
  the build runs;
- --with-100k: 100,000 pods and 10,000 policies: apply, compile, build,
  ACL rules and memory, the daemon's peak RSS, the state directory's size,
  and the restart: process start to a live generation (status ready) and
  to the workers forwarding (its log line).
"""

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def make_size(data, pods, pols):
    d = os.path.join(data, "upd-%dx%d" % (pods, pols))
    if not os.path.exists(os.path.join(d, "set.meta")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_set.py"), "--pods", str(pods),
                        "--policies", str(pols), "--out", d], check=True)
    return d


def a_pod(d):
    """The first pod of the set: its namespace and labels."""
    with open(os.path.join(d, "00-pods-000.json")) as f:
        for it in json.load(f)["items"]:
            if it["kind"] == "Pod":
                return it
    raise RuntimeError("no pod in " + d)


def timed(g, *args):
    t0 = time.monotonic()
    r = g.ctl(*args)
    wall = (time.monotonic() - t0) * 1e3
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        rep = {}
    return wall, rep.get("commit_ms")


def one(tmp, d, runs_pod):
    files = sum((["-f", os.path.join(d, f)] for f in sorted(os.listdir(d))
                 if f.endswith(".json")), [])
    g = h.Npgw(tmp, [], None, None, {"enabled": False}, extra_mb=1024, tag="upd").ready()
    out = {}
    try:
        wall, commit = timed(g, "apply", "-o", "json", *files)
        st = g.status()
        out.update(apply_wall_ms=wall, apply_commit_ms=commit, rules=st["acl"]["rules"],
                   classes=st["classes"], acl_bytes=st["acl"]["memory_bytes"],
                   build_ms=st["build_ms"])
        base = a_pod(d)
        ns = base["metadata"]["namespace"]
        add_w, add_c, del_w, del_c, shared = [], [], [], [], []
        for i in range(runs_pod):
            pod = json.loads(json.dumps(base))
            name = "bench-extra-%d" % i
            pod["metadata"]["name"] = name
            # inside 10.64.0.0/16 and fd00::1:0/112 with the other pods, past
            # the last one: the same class as its Deployment (the egress
            # ipBlocks cut 10.64-67/16 out of 10.0.0.0/8)
            ip4, ip6 = "10.64.250.%d" % (i + 1), "fd00::1:fa%02x" % (i + 1)
            pod["status"]["podIP"] = ip4
            pod["status"]["podIPs"] = [{"ip": ip4}, {"ip": ip6}]
            pf = tmp.path("pod.json")
            with open(pf, "w") as f:
                json.dump(pod, f)
            w, c = timed(g, "apply", "-o", "json", "-f", pf)
            add_w.append(w)
            add_c.append(c)
            shared.append(bool(g.status()["acl"].get("shared_with_previous")))
            w, c = timed(g, "delete", "-o", "json", "pod", "%s/%s" % (ns, name))
            del_w.append(w)
            del_c.append(c if c is not None else float("nan"))
        out.update(add_wall_ms=statistics.median(add_w), add_commit_ms=statistics.median(add_c),
                   del_wall_ms=statistics.median(del_w), del_commit_ms=statistics.median(del_c),
                   add_acl_shared="%d/%d" % (sum(shared), len(shared)))
    finally:
        g.stop()
    return out


# ---- the control plane (issue 12) ----

class Sock:
    """One persistent control-socket connection."""

    def __init__(self, path, timeout=600):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.n = 0

    def call(self, cmd, args=None):
        self.n += 1
        self.s.sendall((json.dumps({"id": self.n, "cmd": cmd, "args": args or {}}) + "\n")
                       .encode())
        return json.loads(self.f.readline())

    def close(self):
        self.s.close()


def pct(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


def fsync_ms(d, n=50):
    """This disk's fdatasync of a small append, median (what every
    acknowledged change pays at least once)."""
    path = os.path.join(d, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    v = []
    for _ in range(n):
        os.write(fd, b"x" * 700)
        t0 = time.monotonic()
        os.fdatasync(fd)
        v.append((time.monotonic() - t0) * 1e3)
    os.close(fd)
    os.unlink(path)
    return statistics.median(v), pct(v, 99)


def replica(base, name, k):
    pod = json.loads(json.dumps(base))
    pod["metadata"]["name"] = name
    ip4, ip6 = "10.64.%d.%d" % (200 + k // 250, k % 250 + 1), "fd00::1:%x" % (0xc000 + k)
    pod["status"]["podIP"] = ip4
    pod["status"]["podIPs"] = [{"ip": ip4}, {"ip": ip6}]
    return {"documents": [{"name": name + ".json", "text": json.dumps(pod)}]}


def all_files(d):
    return sum((["-f", os.path.join(d, f)] for f in sorted(os.listdir(d))
                if f.endswith(".json")), [])


def round_trips(tmp, d, n):
    g = h.Npgw(tmp, [], None, None, {"enabled": False}, extra_mb=1024, tag="rt").ready()
    try:
        g.ctl("apply", *all_files(d))
        base = a_pod(d)
        ns = base["metadata"]["namespace"]
        s = Sock(g.sock)
        add, rm, parts = [], [], {}
        for i in range(n):
            name = "rt-%d" % i
            t0 = time.monotonic()
            r = s.call("apply", replica(base, name, i))
            add.append((time.monotonic() - t0) * 1e3)
            assert r["ok"], r
            for k, v in r["result"]["timing_ms"].items():
                parts.setdefault(k, []).append(v)
            t0 = time.monotonic()
            r = s.call("delete", {"objects": [{"kind": "Pod", "namespace": ns, "name": name}]})
            rm.append((time.monotonic() - t0) * 1e3)
            assert r["ok"], r
        st = g.status()
        s.close()
    finally:
        g.stop()
    return {"n": n, "add_p50": pct(add, 50), "add_p99": pct(add, 99),
            "del_p50": pct(rm, 50), "del_p99": pct(rm, 99),
            "parts": {k: statistics.median(v) for k, v in parts.items()},
            "incremental": st.get("compiles_incremental"), "full": st.get("compiles_full")}


def churn(tmp, d, rate, seconds, clients=16):
    g = h.Npgw(tmp, [], None, None, {"enabled": False}, extra_mb=1024, tag="churn").ready()
    base = a_pod(d)
    ns = base["metadata"]["namespace"]
    lat, errors, lock = [], [], threading.Lock()
    acked = {}  # name -> present after its last acknowledged change
    gens = set()
    try:
        g.ctl("apply", *all_files(d))
        t_start = time.monotonic() + 0.5
        total = int(rate * seconds)

        def worker(c):
            s = Sock(g.sock)
            mine, k = [], 0
            for j in range(c, total, clients):
                due = t_start + j / float(rate)
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                if mine and (k % 2 == 1):
                    name = mine.pop(random.randrange(len(mine)))
                    args = {"objects": [{"kind": "Pod", "namespace": ns, "name": name}]}
                    cmd, present = "delete", False
                else:
                    name = "churn-%d-%d" % (c, k)
                    args = replica(base, name, c * 400 + k)
                    cmd, present = "apply", True
                k += 1
                t0 = time.monotonic()
                r = s.call(cmd, args)
                ms = (time.monotonic() - t0) * 1e3
                with lock:
                    if not r.get("ok"):
                        errors.append(r)
                        if len(errors) == 1:
                            print("churn: refused: %s" % r, file=sys.stderr)
                        continue
                    lat.append(ms)
                    acked[name] = present
                    gens.add(r["result"]["generation"])
                if present:
                    mine.append(name)
            s.close()

        ths = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
        t0 = time.monotonic()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        took = time.monotonic() - t0
        s = Sock(g.sock)
        r = s.call("get", {"kind": "pods", "namespace": ns})
        have = {it["metadata"]["name"] for it in r["result"]["items"]}
        s.close()
        lost = [n for n, p in acked.items() if p != (n in have)]
        st = g.status()
    finally:
        g.stop()
    return {"rate": rate, "seconds": seconds, "changes": len(lat), "errors": len(errors),
            "achieved_rate": len(lat) / took, "p50": pct(lat, 50), "p99": pct(lat, 99),
            "max": max(lat) if lat else float("nan"), "generations": len(gens),
            "lost": len(lost), "coalesced": st["builder"]["coalesced_changes"]}


def during_build(tmp, setdir, builds):
    g = h.Npgw(tmp, [], None, None, {"enabled": False}, extra_mb=1024, tag="bld").ready()
    try:
        g.ctl("apply", *all_files(setdir))
        rules = g.status()["acl"]["rules"]
        pol_file = [f for f in sorted(os.listdir(setdir)) if f.startswith("10-policies")][0]
        with open(os.path.join(setdir, pol_file)) as f:
            pol = [it for it in json.load(f)["items"] if it["kind"] == "NetworkPolicy"][0]
        ns = pol["metadata"]["namespace"]
        building = threading.Event()
        done = threading.Event()
        st_lat, get_lat, build_ms = [], [], []

        def reader(cmd, args, out):
            s = Sock(g.sock)
            while not done.is_set():
                t0 = time.monotonic()
                r = s.call(cmd, args)
                ms = (time.monotonic() - t0) * 1e3
                assert r["ok"], r
                if building.is_set():
                    out.append(ms)
                time.sleep(0.002)
            s.close()

        # the same calls with no build, for comparison
        idle = {"stats": [], "get": []}
        s = Sock(g.sock)
        for _ in range(50):
            for cmd, args in (("stats", {}), ("get", {"kind": "policies", "namespace": ns})):
                t0 = time.monotonic()
                s.call(cmd, args)
                idle[cmd].append((time.monotonic() - t0) * 1e3)
        s.close()
        ths = [threading.Thread(target=reader, args=("stats", {}, st_lat)),
               threading.Thread(target=reader, args=("get", {"kind": "policies",
                                                             "namespace": ns}, get_lat))]
        for t in ths:
            t.start()
        w = Sock(g.sock)
        for i in range(builds):
            p = json.loads(json.dumps(pol))
            # one more port on every rule: a new ACL, a full build
            for rule in p["spec"].get("ingress", []):
                rule.setdefault("ports", []).append({"protocol": "TCP", "port": 20000 + i})
            building.set()
            t0 = time.monotonic()
            r = w.call("apply", {"documents": [{"name": "p.json", "text": json.dumps(p)}]})
            building.clear()
            assert r["ok"], r
            build_ms.append((time.monotonic() - t0) * 1e3)
        w.close()
        done.set()
        for t in ths:
            t.join()
    finally:
        g.stop()
    return {"rules": rules, "builds": builds, "change_ms": statistics.median(build_ms),
            "stats_n": len(st_lat), "stats_p50": pct(st_lat, 50), "stats_p99": pct(st_lat, 99),
            "stats_max": max(st_lat) if st_lat else float("nan"),
            "get_n": len(get_lat), "get_p50": pct(get_lat, 50), "get_p99": pct(get_lat, 99),
            "get_max": max(get_lat) if get_lat else float("nan"),
            "idle_stats_p50": pct(idle["stats"], 50), "idle_stats_p99": pct(idle["stats"], 99),
            "idle_get_p50": pct(idle["get"], 50), "idle_get_p99": pct(idle["get"], 99)}


def vm_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024.0 if m else float("nan")


def dir_mb(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 2**20


def big(tmp, data):
    d = make_size(data, 100000, 10000)
    g = h.Npgw(tmp, [], None, None, {"enabled": False}, extra_mb=3072, tag="big").ready()
    out = {"pods": 100000, "policies": 10000}
    try:
        # requests hold at most 32 MiB: groups of files, one after the other
        # (a 20 MiB request takes the control thread seconds to parse: sent
        # at once, the others would pass the server's 5 s receive timeout)
        groups, cur, size = [], [], 0
        for f in sorted(os.listdir(d)):
            if not f.endswith(".json"):
                continue
            fs = os.path.getsize(os.path.join(d, f))
            if cur and size + fs > 20 * 2**20:
                groups.append(cur)
                cur, size = [], 0
            cur.append(os.path.join(d, f))
            size += fs
        groups.append(cur)
        reps = [None] * len(groups)

        def send(i):
            reps[i] = json.loads(g.ctl("apply", "-o", "json",
                                       *sum((["-f", f] for f in groups[i]), [])).stdout)

        t0 = time.monotonic()
        for i in range(len(groups)):
            send(i)
        out["apply_wall_s"] = time.monotonic() - t0
        last = max(reps, key=lambda r: r["generation"])
        out["timing_ms"] = last["timing_ms"]
        out["apply_requests"] = len(groups)
        out["apply_generations"] = len({r["generation"] for r in reps})
        st = g.status()
        out.update(rules=st["acl"]["rules"], classes=st["classes"],
                   acl_mb=st["acl"]["memory_bytes"] / 2**20, build_ms=st["build_ms"],
                   peak_rss_mb=vm_hwm_mb(g.proc.pid))
        state_dir = re.search(r"state_dir: (\S+)", open(g.cfg_path).read()).group(1)
        # stop, then start again on the same state directory
        g.proc.send_signal(signal.SIGTERM)
        g.proc.wait(120)
        out["state_mb"] = dir_mb(state_dir)
        g.log.close()
        g.log = open(tmp.path("big-restart.log"), "w")
        t0 = time.monotonic()
        g.proc = subprocess.Popen([h.NPGW, "--config", g.cfg_path], stdout=g.log,
                                  stderr=subprocess.STDOUT)
        fwd = None
        while time.monotonic() - t0 < 600:
            if g.proc.poll() is not None:
                raise RuntimeError("npgw exited at restart: see " + g.log.name)
            with open(g.log.name) as f:
                if fwd is None and "forwarding with" in f.read():
                    fwd = time.monotonic() - t0
            if fwd is not None:
                break
            time.sleep(0.02)
        out["restart_to_forwarding_s"] = fwd
        st = g.status()
        out["restart_ready"] = st.get("ready")
        out["restart_pods"] = st["objects"]["pods"]
        with open(g.log.name) as f:
            m = re.search(r"generation \d+ is live: .*?; ([0-9.]+) ms from request to live "
                          r"\(wait [0-9.]+, full compile ([0-9.]+), build ([0-9.]+)", f.read())
        if m:
            out["restart_compile_ms"], out["restart_build_ms"] = float(m.group(2)), \
                float(m.group(3))
    finally:
        g.stop()
    return out


def control_plane(a, tmp):
    res = {}
    res["fsync_p50_ms"], res["fsync_p99_ms"] = fsync_ms(tmp.dir)
    if a.only_100k:
        res["big"] = big(tmp, a.data)
        return res
    d = make_size(a.data, 10000, 1000)
    res["round_trip"] = round_trips(tmp, d, a.round_trips)
    res["churn"] = churn(tmp, d, a.churn_rate, a.churn_seconds)
    res["during_build"] = during_build(tmp, make_rules_set(a.data, "10k"), a.builds)
    if a.with_100k:
        res["big"] = big(tmp, a.data)
    return res


def make_rules_set(data, rules):
    d = os.path.join(data, "set-" + rules)
    if not os.path.exists(os.path.join(d, "set.meta")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_set.py"), "--rules", rules,
                        "--out", d], check=True)
    return d


def print_control_plane(r):
    print()
    print("Control plane (issue 12): persistent socket clients; this disk's fdatasync: "
          "median %.1f ms, p99 %.1f ms" % (r["fsync_p50_ms"], r["fsync_p99_ms"]))
    if "round_trip" not in r:
        rt = None
    else:
        rt = r["round_trip"]
    if rt is None:
        print_big(r)
        return
    print()
    print("| one pod at 10k pods x 1k policies (%d each) | p50 ms | p99 ms |" % rt["n"])
    print("|---|---:|---:|")
    print("| apply (a new replica), request to live, fsync'd | %.1f | %.1f |" %
          (rt["add_p50"], rt["add_p99"]))
    print("| delete | %.1f | %.1f |" % (rt["del_p50"], rt["del_p99"]))
    print()
    print("daemon's share of an apply, medians (ms): " + ", ".join(
        "%s %.2f" % (k, v) for k, v in sorted(rt["parts"].items())))
    c = r["churn"]
    print()
    print("Churn: %d changes/s asked for %d s (16 clients): %d acknowledged (%.0f/s), %d "
          "refused, %d lost; request to live p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d "
          "generations, %d changes shared one" %
          (c["rate"], c["seconds"], c["changes"], c["achieved_rate"], c["errors"], c["lost"],
           c["p50"], c["p99"], c["max"], c["generations"], c["coalesced"]))
    b = r["during_build"]
    print()
    print("During %d builds of %d ACL rules (a policy change, %.0f ms each, median): stats "
          "p50 %.2f / p99 %.2f / max %.1f ms (%d calls), get p50 %.2f / p99 %.2f / max %.1f ms "
          "(%d calls)" %
          (b["builds"], b["rules"], b["change_ms"], b["stats_p50"], b["stats_p99"],
           b["stats_max"], b["stats_n"], b["get_p50"], b["get_p99"], b["get_max"], b["get_n"]))
    print("With no build: stats p50 %.2f / p99 %.2f ms, get p50 %.2f / p99 %.2f ms" %
          (b["idle_stats_p50"], b["idle_stats_p99"], b["idle_get_p50"], b["idle_get_p99"]))
    print_big(r)


def print_big(r):
    if "big" in r:
        g = r["big"]
        print()
        print("100,000 pods and 10,000 policies: %d apply requests one after the other, %d "
              "generations" % (g["apply_requests"], g["apply_generations"]))
        print("100,000 pods and 10,000 policies: apply %.1f s (timing ms: %s); %d ACL rules, %d "
              "classes, ACL %.1f MiB, build %.0f ms; peak RSS %.0f MiB; state directory %.1f MiB; "
              "restart to forwarding %.2f s (compile %s ms, build %s ms), ready %s with %s pods" %
              (g["apply_wall_s"], json.dumps(g["timing_ms"]), g["rules"], g["classes"],
               g["acl_mb"], g["build_ms"], g["peak_rss_mb"], g["state_mb"],
               g["restart_to_forwarding_s"] or float("nan"), g.get("restart_compile_ms"),
               g.get("restart_build_ms"), g["restart_ready"], g["restart_pods"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000x100,1000x1000,10000x100,10000x1000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--json")
    ap.add_argument("--control-plane", action="store_true")
    ap.add_argument("--only-control-plane", action="store_true")
    ap.add_argument("--round-trips", type=int, default=200)
    ap.add_argument("--churn-rate", type=int, default=100)
    ap.add_argument("--churn-seconds", type=int, default=60)
    ap.add_argument("--builds", type=int, default=5)
    ap.add_argument("--with-100k", action="store_true")
    ap.add_argument("--only-100k", action="store_true", help="only the 100k case")
    a = ap.parse_args()
    if a.only_100k:
        a.only_control_plane = True
    if a.quick:
        a.sizes, a.runs = "1000x100", 1
        a.round_trips, a.churn_seconds, a.builds = 20, 5, 1
    os.makedirs(a.data, exist_ok=True)
    tmp = h.Tmp()
    rows = []
    cp_res = None
    try:
        if a.control_plane or a.only_control_plane:
            cp_res = control_plane(a, tmp)
        for size in ([] if a.only_control_plane else a.sizes.split(",")):
            pods, pols = (int(x) for x in size.split("x"))
            d = make_size(a.data, pods, pols)
            runs = [one(tmp, d, a.runs) for _ in range(a.runs)]
            row = {"pods": pods, "policies": pols}
            for k in runs[0]:
                v = [r[k] for r in runs]
                row[k] = statistics.median(v) if isinstance(v[0], (int, float)) else v[0]
            rows.append(row)
    finally:
        tmp.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "runs": a.runs, "control_plane": cp_res}, f, indent=1)
    if rows:
        print_table(rows, a.runs)
    if cp_res:
        print_control_plane(cp_res)
    return 0


def print_table(rows, runs):
    print("Update latency: whole cluster applied to an empty gateway, then one pod added and "
          "removed; medians of %d run(s)" % runs)
    print()
    print("| pods | policies | ACL rules | classes | apply wall ms | apply commit ms | build ms | "
          "ACL MiB | pod add wall / commit ms | pod remove wall / commit ms | add reuses ACL |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        print("| %d | %d | %d | %d | %.0f | %.0f | %.0f | %.1f | %.1f / %.1f | %.1f / %.1f | %s |" % (
            r["pods"], r["policies"], r["rules"], r["classes"], r["apply_wall_ms"],
            r["apply_commit_ms"], r["build_ms"], r["acl_bytes"] / 2**20, r["add_wall_ms"],
            r["add_commit_ms"], r["del_wall_ms"], r["del_commit_ms"], r["add_acl_shared"]))


if __name__ == "__main__":
    sys.exit(main())
