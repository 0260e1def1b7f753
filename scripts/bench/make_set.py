#!/usr/bin/python3
"""make_set.py: a policy set of the throughput benchmark, as a directory.

  make_set.py --rules {0,100,1k,10k,100k} --out DIR [--variant a|b]
  make_set.py --pods N --policies M --out DIR [--variant a|b] [--seed S]

Runs gen_cluster.py (a cluster of realistic shape: Deployments, namespace
isolation, per-app allow policies on 1-3 ports, DNS egress, ipBlocks) and
splits its List into files under the daemon's 16 MiB per-file limit:
DIR/00-pods-NNN.json (namespaces and pods) and DIR/10-policies-NNN.json.
The compiler collapses the pods of a Deployment into one class, so the ACL
rule count follows the number of distinct policies, not pods; --rules
picks pods and policies measured to compile to about that many rules
(npgw-bench-rules or `npgwctl status -o json` gives the real count).

--variant b is the same cluster with every allow policy also admitting TCP
port 9090 from its peers: another ACL (the hot-swap benchmark alternates a
and b), and traffic to port 9090 that a denies and b allows.

DIR/set.meta (JSON, not .json: the daemon reads every .json of DIR)
records the parameters.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# rule-count target -> (pods, policies), measured with npgw-bench-rules on
# gen_cluster.py --seed 1 (about 3.6 rules per allow policy).
SIZES = {
    "0": (1000, 0),
    "100": (1000, 25),
    "1k": (2000, 300),
    "10k": (10000, 2800),
    "100k": (10000, 28000),
}
CHUNK = 4000  # objects per file: far below 16 MiB


def write_chunks(out, prefix, items):
    for i in range(0, max(len(items), 1), CHUNK):
        part = items[i:i + CHUNK]
        if not part:
            break
        with open(os.path.join(out, "%s-%03d.json" % (prefix, i // CHUNK)), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": part}, f)


def variant_b(pol):
    for rule in pol["spec"].get("ingress", []):
        rule.setdefault("ports", []).append({"protocol": "TCP", "port": 9090})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", choices=sorted(SIZES))
    ap.add_argument("--pods", type=int)
    ap.add_argument("--policies", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", choices=["a", "b"], default="a")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.rules:
        pods, policies = SIZES[a.rules]
    elif a.pods and a.policies is not None:
        pods, policies = a.pods, a.policies
    else:
        ap.error("give --rules or --pods and --policies")
    text = subprocess.run([sys.executable, os.path.join(HERE, "gen_cluster.py"),
                           "--pods", str(pods), "--policies", str(policies),
                           "--seed", str(a.seed)],
                          check=True, capture_output=True, text=True).stdout
    items = json.loads(text)["items"]
    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        if f.endswith(".json") or f == "set.meta":
            os.unlink(os.path.join(a.out, f))
    objs = [i for i in items if i["kind"] != "NetworkPolicy"]
    pols = [i for i in items if i["kind"] == "NetworkPolicy"]
    if a.variant == "b":
        for p in pols:
            variant_b(p)
    write_chunks(a.out, "00-pods", objs)
    write_chunks(a.out, "10-policies", pols)
    with open(os.path.join(a.out, "set.meta"), "w") as f:
        json.dump({"rules_target": a.rules, "pods": pods, "policies": policies,
                   "seed": a.seed, "variant": a.variant}, f)


if __name__ == "__main__":
    main()
