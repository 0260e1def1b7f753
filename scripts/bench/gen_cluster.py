#!/usr/bin/python3
"""gen_cluster.py: a cluster of realistic shape, as Kubernetes JSON.

  gen_cluster.py --pods N --policies M [--namespaces K] [--seed S] > cluster.json

Namespaces hold Deployments of 5 to 50 replicas (pods share labels
app=<deployment>, tier=<web|api|db|cache>); each namespace isolates its
ingress; per-deployment policies admit 1 to 3 other apps (same namespace or
another, by namespace selector) on 1 to 3 ports (numbers, a named port, a
range); a few egress policies limit traffic to DNS and an ipBlock with an
except. Pod addresses are 10.<64+i/65536>.x.y and fd00::/64 dual stack.
Output: one JSON List (what `kubectl get -o json` prints) on stdout.
"""

import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--policies", type=int, default=100)
    ap.add_argument("--namespaces", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    n_ns = a.namespaces or max(2, a.pods // 500)
    namespaces = ["ns%03d" % i for i in range(n_ns)]
    items = []
    for ns in namespaces:
        items.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": ns, "labels": {"team": rnd.choice(["a", "b", "c"]),
                                                          "env": rnd.choice(["prod", "dev"])}}})
    deployments = []  # (ns, app, tier)
    pod_i = 0
    d = 0
    while pod_i < a.pods:
        ns = namespaces[d % n_ns]
        app = "app%04d" % d
        tier = rnd.choice(["web", "api", "db", "cache"])
        deployments.append((ns, app, tier))
        for r in range(min(rnd.randint(5, 50), a.pods - pod_i)):
            hi, lo = divmod(pod_i, 65536)
            ip4 = "10.%d.%d.%d" % (64 + hi, lo // 256, lo % 256)
            ip6 = "fd00::%x:%x" % (hi + 1, lo)
            items.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"namespace": ns, "name": "%s-%d" % (app, r),
                             "labels": {"app": app, "tier": tier}},
                "spec": {"containers": [{"name": "main", "ports": [
                    {"name": "http", "containerPort": 8080},
                    {"name": "metrics", "containerPort": 9090}]}]},
                "status": {"phase": "Running", "podIP": ip4,
                           "podIPs": [{"ip": ip4}, {"ip": ip6}]}})
            pod_i += 1
        d += 1
    pol = 0
    for ns in namespaces:
        if pol >= a.policies:
            break
        items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"namespace": ns, "name": "default-deny"},
                      "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
        pol += 1
    while pol < a.policies:
        ns, app, tier = deployments[pol % len(deployments)]
        peers = []
        for _ in range(rnd.randint(1, 3)):
            pns, papp, _ = rnd.choice(deployments)
            peer = {"podSelector": {"matchLabels": {"app": papp}}}
            if pns != ns:
                peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": pns}}
            peers.append(peer)
        ports = []
        for _ in range(rnd.randint(1, 3)):
            k = rnd.random()
            if k < 0.5:
                ports.append({"protocol": "TCP", "port": rnd.choice([80, 443, 5432, 6379, 8080])})
            elif k < 0.8:
                ports.append({"protocol": "TCP", "port": "http"})
            else:
                lo = rnd.choice([30000, 31000, 32000])
                ports.append({"protocol": "TCP", "port": lo, "endPort": lo + 99})
        spec = {"podSelector": {"matchLabels": {"app": app}},
                "ingress": [{"from": peers, "ports": ports}]}
        if pol % 10 == 0:
            spec["policyTypes"] = ["Ingress", "Egress"]
            spec["egress"] = [
                {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
                 "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.%d.0.0/16" % (64 + rnd.randint(0, 3))]}}]}]
        items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"namespace": ns, "name": "allow-%s-%d" % (app, pol)},
                      "spec": spec})
        pol += 1
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, __import__("sys").stdout)


if __name__ == "__main__":
    main()
