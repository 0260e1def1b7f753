#!/usr/bin/python3
"""coalesce.py: changes sent during a build are coalesced, and a refused one
changes nothing.

  coalesce.py NPGW

npgw runs in socket mode on net_null ports. One client applies a large
policy set (a build of a second or more here); while it builds, three
more clients send: A (a pod), B (a policy with endPort below port: refused)
and C (another pod), and a fourth asks for stats. Checked:
- B is refused at once, before the build ends, naming the field; status
  and stats are answered during the build;
- A and C are acknowledged with the same generation, after the large set,
  with "coalesced": 2, and both are there; nothing of B is;
- the journal holds it all: after SIGKILL and a restart the state is the
  same.
Exits 0 when every check holds.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_recovery as cr  # noqa: E402


def policies(n):
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "big"}}]
    for i in range(n):
        items.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": "big", "name": "p%d" % i},
            "spec": {"podSelector": {"matchLabels": {"app": "a%d" % (i % 50)}},
                     "ingress": [{"from": [{"ipBlock": {"cidr": "10.%d.%d.0/24" %
                                                        (i // 200, i % 200)}}],
                                  "ports": [{"port": 1000 + i}, {"port": 30000 + i}]}]}})
    return {"documents": [{"name": "big.json", "text": json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": items})}]}


def pod(name, ip):
    return {"documents": [{"name": name + ".json", "text": json.dumps(
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"namespace": "big", "name": name, "labels": {"app": "a1"}},
         "status": {"podIP": ip}})}]}


BAD = {"documents": [{"name": "bad.yaml", "text":
                      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                      "metadata: {name: bad, namespace: big}\n"
                      "spec: {podSelector: {}, ingress: [{ports: [{port: 80, endPort: 79}]}]}\n"}]}


# large enough to be building while A, B, C and the stats arrive, also on
# an idle machine (the checks compare timestamps with the set's reply)
N_POLICIES = 3000


def main():
    npgw = sys.argv[1]
    d = tempfile.mkdtemp(prefix="npgw-coalesce.")
    cfg = cr.write_config(d, "npgw-coalesce-%d" % os.getpid())
    sock = os.path.join(d, "npgw.sock")
    log = open(os.path.join(d, "npgw.log"), "a")
    fails = []
    p = None

    def check(ok, what):
        print(("ok: " if ok else "FAIL: ") + what)
        if not ok:
            fails.append(what)

    try:
        p, _ = cr.start(npgw, cfg, d, log)
        res = {}

        def send(key, cmd, args):
            c = cr.Conn(sock, timeout=600)
            t0 = time.monotonic()
            res[key] = c.call(cmd, args)
            res[key + "_t"] = time.monotonic()
            res[key + "_ms"] = (res[key + "_t"] - t0) * 1e3
            c.close()

        t_big = threading.Thread(target=send, args=("big", "apply", policies(N_POLICIES)))
        t_big.start()
        # wait until the large set is being built
        c = cr.Conn(sock)
        for _ in range(2000):
            st = c.call("status")["result"]
            if st["builder"]["building"]:
                break
            time.sleep(0.005)
        building = st["builder"]["building"]
        ths = [threading.Thread(target=send, args=a) for a in
               (("a", "apply", pod("pod-a", "10.200.0.1")), ("b", "apply", BAD),
                ("c", "apply", pod("pod-c", "10.200.0.2")))]
        for t in ths:
            t.start()
            time.sleep(0.01) # A, B, C in that order
        ths[1].join()
        t0 = time.monotonic()
        stats_ok = c.call("stats").get("ok") and c.call("status").get("ok")
        t_stats = time.monotonic()
        stats_ms = (t_stats - t0) * 1e3
        c.close()
        t_big.join()
        for t in ths:
            t.join()
        # answered before the large set's reply came: during its build
        during = t_stats < res["big_t"]
        check(building, "the large set was being built when A, B and C were sent")
        check(during and not res["b"]["ok"] and res["b"]["error"]["code"] == "invalid" and
              "endPort" in json.dumps(res["b"]["error"]) and res["b_t"] < res["big_t"],
              "B was refused at once, during the build (%.1f ms), naming endPort" %
              res["b_ms"])
        check(during and stats_ok,
              "stats and status were answered during the build (%.1f ms)" % stats_ms)
        ga = res["a"]["result"]["generation"] if res["a"]["ok"] else None
        gc = res["c"]["result"]["generation"] if res["c"]["ok"] else None
        gb = res["big"]["result"]["generation"] if res["big"]["ok"] else None
        check(res["big"]["ok"] and ga is not None and ga == gc and ga == gb + 1 and
              res["a"]["result"]["coalesced"] == 2,
              "A and C went live together in generation %s (after %s), coalesced %s" %
              (ga, gb, res["a"].get("result", {}).get("coalesced")))
        c = cr.Conn(sock)
        pods = {it["metadata"]["name"] for it in
                c.call("get", {"kind": "pods", "namespace": "big"})["result"]["items"]}
        pols = {it["metadata"]["name"] for it in
                c.call("get", {"kind": "policies", "namespace": "big"})["result"]["items"]}
        c.close()
        check(pods == {"pod-a", "pod-c"} and "bad" not in pols and len(pols) == N_POLICIES,
              "A and C are there, B is not, the %d policies are" % N_POLICIES)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p, gen = cr.start(npgw, cfg, d, log)
        c = cr.Conn(sock)
        pods2 = {it["metadata"]["name"] for it in
                 c.call("get", {"kind": "pods", "namespace": "big"})["result"]["items"]}
        n_pols = len(c.call("get", {"kind": "policies", "namespace": "big"})["result"]["items"])
        c.close()
        check(gen == ga and pods2 == pods and n_pols == N_POLICIES,
              "after SIGKILL the journal gives generation %s with A, C and the set" % gen)
    finally:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(60)
        log.close()
    if fails:
        print("npgw log: %s" % os.path.join(d, "npgw.log"))
        return 1
    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
