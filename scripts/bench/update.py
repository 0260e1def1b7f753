#!/usr/bin/python3
"""update.py: how long a change takes to go live, and what a generation costs.

  update.py [--sizes 1000x100,1000x1000,10000x100,10000x1000] [--runs 5]
            [--quick] [--data DIR] [--json FILE]

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
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000x100,1000x1000,10000x100,10000x1000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", default="/tmp/npgw-bench-data")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.sizes, a.runs = "1000x100", 1
    os.makedirs(a.data, exist_ok=True)
    tmp = h.Tmp()
    rows = []
    try:
        for size in a.sizes.split(","):
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
            json.dump({"rows": rows, "runs": a.runs}, f, indent=1)
    print_table(rows, a.runs)
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
