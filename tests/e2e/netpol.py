#!/usr/bin/python3
"""netpol.py: NetworkPolicy end to end, through npgw between real pods.

  netpol.py [--list] [--keep] [CASE ...]

Brings the harness up (tests/e2e/harness.sh: nine pods in network
namespaces, npgw between them, the cluster's Pods and Namespaces applied
over the control socket), runs the named cases (default: all) and tears
everything down, also when a case fails or the run is interrupted.

Every case applies objects over the control socket as an agent would, then
checks truth tables in the layout of Kubernetes' network policy e2e tests
('.' allowed, 'X' blocked, rows are clients, columns servers): the table
from real connections (tests/e2e/pods.py probe) must equal the expected
table, written as Kubernetes' e2e tests write it (a default, then
expect_peer / expect_all_ingress ... exceptions), and must equal what
`npgwctl explain --offline --batch` says about the same 72 pairs for the
same objects. On a mismatch all three tables are printed with the
differing cells marked '*'. Between cases the gateway is reset to the bare
cluster with `npgwctl replace`.

Exit status: 0 every case passed, 1 some failed, 2 usage, 77 skipped (not
root). Needs root, python3-yaml, the npgw build (NPGW, NPGWCTL).
"""

import argparse
import copy
import errno
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
HARNESS = os.path.join(HERE, "harness.sh")
CLUSTER = os.path.join(TOP, "config", "examples", "cluster.yaml")
EXAMPLES = os.path.join(TOP, "config", "examples")
NPGWCTL = os.environ.get("NPGWCTL", os.path.join(TOP, "build", "app", "npgwctl"))
sys.path.insert(0, HERE)
import pods  # noqa: E402  (tests/e2e/pods.py)

LOCK = "/run/lock/npgw-e2e.lock"
LOOPBACK_NOTE = "a pod's connections to itself stay inside it and never reach the gateway"


class Failed(Exception):
    """A harness step failed: the case cannot go on."""


# ---------------------------------------------------------------------------
# Expected tables, the way Kubernetes' e2e tests write them
# ---------------------------------------------------------------------------


class Peer:
    """A set of pods: every pod (no fields), a namespace, or one pod."""

    def __init__(self, ns=None, pod=None):
        self.ns = ns
        self.pod = pod

    def matches(self, name):
        ns, pod = name.split("/")
        return (self.ns is None or self.ns == ns) and (self.pod is None or self.pod == pod)


class Reachability:
    """An expected truth table: a default for every pair, then exceptions
    in order (later ones win), as in k8s.io/kubernetes/test/e2e/network/
    netpol (NewReachability, ExpectPeer, ExpectAllIngress, AllowLoopback)."""

    def __init__(self, names, default):
        self.names = names
        self.m = {(a, b): default for a in names for b in names}

    def expect(self, frm, to, ok):
        self.m[(frm, to)] = ok
        return self

    def expect_peer(self, frm, to, ok):
        for a in self.names:
            for b in self.names:
                if frm.matches(a) and to.matches(b):
                    self.m[(a, b)] = ok
        return self

    def expect_all_ingress(self, pod, ok):
        return self.expect_peer(Peer(), Peer(*pod.split("/")), ok)

    def expect_all_egress(self, pod, ok):
        return self.expect_peer(Peer(*pod.split("/")), Peer(), ok)

    def allow_loopback(self):
        for a in self.names:
            self.m[(a, a)] = True
        return self


def render(names, cells, marks=()):
    """A truth table as text; cells maps (from, to) to True, False or None
    (not asked); marked cells get a '*'."""
    lines = ["-\t" + "\t".join(names)]
    for a in names:
        row = []
        for b in names:
            v = cells[(a, b)]
            c = "-" if v is None else ("." if v else "X")
            row.append(c + ("*" if (a, b) in marks else ""))
        lines.append(a + "\t" + "\t".join(row))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The objects the gateway holds, as this run applied them
# ---------------------------------------------------------------------------


def key(doc):
    md = doc.get("metadata", {})
    ns = "" if doc["kind"] == "Namespace" else str(md.get("namespace", "default"))
    return (doc["kind"], ns, str(md["name"]))


class Objects:
    """What an agent has sent: (kind, namespace, name) -> object. Written
    out as one JSON List for `npgwctl explain --offline`, so that explain
    reads the very objects the gateway was given."""

    def __init__(self, docs):
        self.docs = {}
        self.apply(docs)

    def apply(self, docs):
        for d in docs:
            self.docs[key(d)] = copy.deepcopy(d)

    def delete(self, kind, ns, name):
        del self.docs[(kind, ns, name)]

    def get(self, kind, ns, name):
        return copy.deepcopy(self.docs[(kind, ns, name)])

    def write(self, path):
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": list(self.docs.values())}, f, indent=1)


# ---------------------------------------------------------------------------
# The run: harness, checks, report
# ---------------------------------------------------------------------------


class Run:
    def __init__(self, tmp):
        self.tmp = tmp
        self.nfile = 0
        self.failures = []
        self.warnings = []
        with open(CLUSTER) as f:
            self.cluster = [d for d in yaml.safe_load_all(f) if d]
        self.objects = Objects(self.cluster)
        self.baseline = os.path.join(tmp, "cluster.json")
        self.objects.write(self.baseline)
        specs = self.harness("specs").split()
        self.pods = pods.parse_pods(specs)
        self.names = [p["name"] for p in self.pods]
        self.addr = {p["name"]: {4: p["v4"], 6: p["v6"]} for p in self.pods}
        self.netns = {p["name"]: p["netns"] for p in self.pods}
        self.case = None
        self.revoke = None  # the revocation mode npgw runs with; None: default

    def harness(self, *args):
        """Run harness.sh; its stdout, or Failed with its output."""
        r = subprocess.run(["bash", HARNESS] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise Failed("harness.sh %s failed (exit %d):\n%s" % (" ".join(args), r.returncode, r.stdout))
        return r.stdout

    def file(self, text, ext="yaml"):
        self.nfile += 1
        path = os.path.join(self.tmp, "%02d-%s.%s" % (self.nfile, self.case or "run", ext))
        with open(path, "w") as f:
            f.write(text)
        return path

    # --- what an agent does ---------------------------------------------

    def apply_yaml(self, text, what=None):
        """Apply YAML text (as written in the case) over the control socket."""
        path = self.file(text)
        print("apply %s" % (what or ", ".join("%s %s/%s" % (k[0], k[1], k[2]) for k in map(key, self.load(text)))))
        self.harness("apply", path)
        self.objects.apply(self.load(text))

    def apply_file(self, path):
        print("apply %s" % os.path.relpath(path, TOP))
        self.harness("apply", path)
        with open(path) as f:
            self.objects.apply(self.load(f.read()))

    def apply_objects(self, docs, what):
        """Apply objects as JSON, the way an agent relays the API server."""
        path = self.file(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=1), "json")
        print("apply %s" % what)
        self.harness("apply", path)
        self.objects.apply(docs)

    def delete_policy(self, ns, name):
        print("delete networkpolicy %s/%s" % (ns, name))
        self.harness("delete", "networkpolicy", "%s/%s" % (ns, name))
        self.objects.delete("NetworkPolicy", ns, name)

    def relabel(self, pod, labels):
        """Re-apply a Pod with new labels, as the API server reports a
        label change."""
        ns, name = pod.split("/")
        doc = self.objects.get("Pod", ns, name)
        doc["metadata"]["labels"] = labels
        self.apply_objects([doc], "Pod %s with labels %s" % (pod, ",".join("%s=%s" % kv for kv in labels.items())))

    def start(self, revoke):
        """(Re)start npgw with a revocation mode (None: npgw's default) and
        apply the cluster again."""
        self.revoke = "?"  # unknown until the start succeeds
        self.harness("start", *(["--revoke", revoke] if revoke else []))
        self.objects = Objects(self.cluster)
        self.revoke = revoke
        print("npgw started%s; the cluster's Pods and Namespaces applied"
              % (" with conntrack.revoke: " + revoke if revoke else ""))

    def reset(self):
        """Back to the bare cluster: replace the gateway's whole state."""
        self.harness("ctl", "replace", "-f", self.baseline)
        self.objects = Objects(self.cluster)

    @staticmethod
    def load(text):
        return [d for d in yaml.safe_load_all(text) if d]

    # --- checks ---------------------------------------------------------

    def reach(self, default=True):
        return Reachability(self.names, default)

    def explain(self, proto, port, family):
        """npgwctl explain --offline --batch over the objects applied:
        {(from, to): allowed} for every pair but a pod and itself."""
        path = os.path.join(self.tmp, "objects.json")
        self.objects.write(path)
        pairs = [(a, b) for a in self.names for b in self.names if a != b]
        lines = "".join(json.dumps({"from": self.addr[a][family], "to": self.addr[b][family],
                                    "protocol": proto.upper(), "port": port}) + "\n" for a, b in pairs)
        r = subprocess.run([NPGWCTL, "explain", "--offline", "-f", path, "--batch", "-", "-o", "json"],
                           input=lines, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise Failed("npgwctl explain --offline failed (exit %d): %s" % (r.returncode, r.stderr))
        answers = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        if len(answers) != len(pairs):
            raise Failed("explain gave %d answers for %d queries" % (len(answers), len(pairs)))
        out = {(a, a): None for a in self.names}
        for (a, b), ans in zip(pairs, answers):
            if "allowed" not in ans:
                raise Failed("explain: %s" % ans)
            out[(a, b)] = ans["allowed"]
        return out

    def check(self, what, expected, proto="tcp", port=80, family=4):
        """Probe every pair for real and compare with the expected table
        and with explain. Prints the real table; on a mismatch, all three
        with the differing cells marked."""
        title = "%s/%d IPv%d" % (proto.upper(), port, family)
        want = expected.m
        real = pods.probe(self.pods, port, proto, family, 2.0)
        if real != want:
            # one lost frame must not fail a run: probe again, and say so
            first = real
            real = pods.probe(self.pods, port, proto, family, 2.0)
            if real == want:
                diff = {p for p in want if first[p] != want[p]}
                self.warnings.append("%s: %s %s: the first probe differed in %d cells, the second matched"
                                     % (self.case, what, title, len(diff)))
                print("WARNING: the first probe differed in %d cells (marked), the second matched:" % len(diff))
                print(render(self.names, first, diff))
        expl = self.explain(proto, port, family)
        bad_real = {p for p in want if real[p] != want[p]}
        bad_expl = {p for p in want if expl[p] is not None and expl[p] != want[p]}
        if not bad_real and not bad_expl:
            print("ok: %s, %s: real connections == expected == explain" % (what, title))
            print(render(self.names, real))
            return True
        print("FAIL: %s, %s: %d cells of the real table and %d of explain differ from the expected one (marked *)"
              % (what, title, len(bad_real), len(bad_expl)))
        print("expected:")
        print(render(self.names, want))
        print("real connections:")
        print(render(self.names, real, bad_real))
        print("npgwctl explain (- : not asked, %s):" % LOOPBACK_NOTE)
        print(render(self.names, expl, bad_expl))
        self.failures.append("%s: %s %s" % (self.case, what, title))
        return False

    def fail(self, msg):
        print("FAIL: " + msg)
        self.failures.append("%s: %s" % (self.case, msg))


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

CASES = []


def case(name, needs=None, revoke=None):
    """Register a case. needs: what it needs from npgw beyond policies
    (printed with the case); revoke: the conntrack revocation mode npgw
    must run with (None: npgw's default)."""
    def reg(fn):
        CASES.append((name, fn, needs, revoke))
        return fn
    return reg


@case("no-policy")
def no_policy(t):
    r = t.reach(True)
    t.check("no policy: everything is allowed", r)
    t.check("no policy: everything is allowed", r, "udp", 81, 6)


@case("default-deny-ingress", needs="conntrack (replies to x's own connections)")
def default_deny_ingress(t):
    t.apply_file(os.path.join(EXAMPLES, "01-default-deny-ingress.yaml"))
    r = t.reach(True).expect_peer(Peer(), Peer("x"), False).allow_loopback()
    t.check("x denies all ingress; x's own connections are answered", r)
    t.check("x denies all ingress", r, "udp", 80)
    t.check("x denies all ingress", r, "udp", 81, 6)


@case("pod-selector", needs="conntrack (replies from x/a)")
def pod_selector(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: b}}
""")
    r = t.reach(True).expect_all_ingress("x/a", False).expect("x/b", "x/a", True).allow_loopback()
    t.check("x/a admits only pod=b of its own namespace", r)


@case("namespace-selector", needs="conntrack (replies from x/a)")
def namespace_selector(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
""")
    r = t.reach(True).expect_all_ingress("x/a", False)
    r.expect_peer(Peer("y"), Peer("x", "a"), True).allow_loopback()
    t.check("x/a admits every pod of namespaces labelled ns=y", r)


@case("pod-and-namespace-selector", needs="conntrack (replies from x/a)")
def pod_and_namespace(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
      podSelector: {matchLabels: {pod: b}}
""", "networkpolicy x/allow-b, one peer: ns=y AND pod=b")
    r = t.reach(True).expect_all_ingress("x/a", False).expect("y/b", "x/a", True).allow_loopback()
    t.check("one peer with both selectors: the intersection", r)
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
    - podSelector: {matchLabels: {pod: b}}
""", "networkpolicy x/allow-b again, two peers: ns=y OR pod=b (of x)")
    r = t.reach(True).expect_all_ingress("x/a", False)
    r.expect_peer(Peer("y"), Peer("x", "a"), True).expect("x/b", "x/a", True).allow_loopback()
    t.check("two peers: the union", r)
    t.check("two peers: the union", r, "tcp", 80, 6)


@case("egress-dns", needs="conntrack (replies to y's pods)")
def egress_dns(t):
    # z/a stands in for kube-dns and UDP 81 for DNS
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-dns-only, namespace: "y"}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}
      podSelector: {matchLabels: {pod: a}}
    ports:
    - {protocol: UDP, port: 81}
""", "networkpolicy y/egress-dns-only: y may send only UDP 81 to z/a (the 'DNS server')")
    r = t.reach(True).expect_peer(Peer("y"), Peer(), False).allow_loopback()
    t.check("y's pods open nothing, but answer everyone", r)
    r = t.reach(True).expect_peer(Peer("y"), Peer(), False).expect_peer(Peer("y"), Peer("z", "a"), True)
    t.check("y's pods reach only z/a, on 'DNS'", r.allow_loopback(), "udp", 81)
    r = t.reach(True).expect_peer(Peer("y"), Peer(), False).allow_loopback()
    t.check("UDP 80 is not 'DNS'", r, "udp", 80)


@case("ipblock-except", needs="conntrack (replies from z's pods)")
def ipblock_except(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-block, namespace: z}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/16
        except: [10.0.2.0/24, 10.0.1.3/32]
    - ipBlock:
        cidr: fd00::/96
        except: ["fd00::2:0/112"]
""", "networkpolicy z/from-block: 10.0.0.0/16 except y's /24 and x/c; fd00::/96 except y's /112")
    r = t.reach(True).expect_peer(Peer("y"), Peer("z"), False).expect_peer(Peer("x", "c"), Peer("z"), False)
    t.check("z admits the block but its holes", r.allow_loopback())
    r = t.reach(True).expect_peer(Peer("y"), Peer("z"), False)
    t.check("IPv6: z admits the block but y's hole", r.allow_loopback(), "tcp", 80, 6)


@case("ipblock-family", needs="conntrack (replies from z's pods)")
def ipblock_family(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v6-only, namespace: z}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock: {cidr: "fd00::/96", except: ["fd00::1:0/112"]}
""", "networkpolicy z/v6-only: fd00::/96 except x's /112, no IPv4 block")
    r = t.reach(True).expect_peer(Peer("x"), Peer("z"), False)
    t.check("IPv6: z admits all but x", r.allow_loopback(), "tcp", 80, 6)
    r = t.reach(True).expect_peer(Peer(), Peer("z"), False)
    t.check("IPv4: an IPv6 block admits nothing", r.allow_loopback(), "udp", 81, 4)


@case("named-port", needs="conntrack (replies from x's pods)")
def named_port(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: named-ports, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
    ports:
    - port: serve-81-tcp
    - {protocol: UDP, port: serve-80-udp}
""", "networkpolicy x/named-ports: serve-81-tcp and UDP serve-80-udp from every namespace")
    closed = t.reach(True).expect_peer(Peer(), Peer("x"), False).allow_loopback()
    opened = t.reach(True)
    t.check("TCP 80 is no named port of the policy", closed, "tcp", 80)
    t.check("serve-81-tcp resolves to TCP 81", opened, "tcp", 81)
    t.check("serve-80-udp resolves to UDP 80", opened, "udp", 80)
    t.check("serve-81-tcp does not open UDP 81", closed, "udp", 81)


@case("endport", needs="conntrack (replies from y's and z's pods)")
def endport(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range-80-81, namespace: "y"}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: x}}
    ports:
    - {protocol: TCP, port: 80, endPort: 81}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range-81-90, namespace: z}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: x}}
    ports:
    - {protocol: TCP, port: 81, endPort: 90}
""", "y/range-80-81 (TCP 80-81 from x), z/range-81-90 (TCP 81-90 from x)")
    r = t.reach(True).expect_peer(Peer(), Peer("y"), False).expect_peer(Peer(), Peer("z"), False)
    r.expect_peer(Peer("x"), Peer("y"), True).allow_loopback()
    t.check("80 is in 80-81, not in 81-90", r, "tcp", 80)
    r = t.reach(True).expect_peer(Peer(), Peer("y"), False).expect_peer(Peer(), Peer("z"), False)
    r.expect_peer(Peer("x"), Peer("y"), True).expect_peer(Peer("x"), Peer("z"), True).allow_loopback()
    t.check("81 is in both ranges", r, "tcp", 81)
    r = t.reach(True).expect_peer(Peer(), Peer("y"), False).expect_peer(Peer(), Peer("z"), False).allow_loopback()
    t.check("the ranges are TCP only", r, "udp", 81)


@case("label-change", needs="conntrack (replies from x/b)")
def label_change(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: protected, namespace: x}
spec:
  podSelector: {matchLabels: {protected: "true"}}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {role: client}}
""", "networkpolicy x/protected: pods labelled protected=true admit only role=client pods")
    t.check("no pod is labelled: the policy selects nothing", t.reach(True))
    t.relabel("x/b", {"pod": "b", "protected": "true"})
    r = t.reach(True).expect_all_ingress("x/b", False).allow_loopback()
    t.check("x/b is protected: isolated", r)
    t.relabel("y/c", {"pod": "c", "role": "client"})
    r = t.reach(True).expect_all_ingress("x/b", False).expect("y/c", "x/b", True).allow_loopback()
    t.check("y/c became a client: admitted", r)
    t.check("y/c became a client: admitted", r, "udp", 81, 6)
    t.relabel("x/b", {"pod": "b"})
    t.check("x/b is no longer protected", t.reach(True))


def revoke(t, mode):
    """A long connection y/a -> x/a:82 allowed by a policy; the policy is
    deleted while it runs (x/a stays isolated by x's default deny)."""
    t.apply_file(os.path.join(EXAMPLES, "01-default-deny-ingress.yaml"))
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-talk, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
      podSelector: {matchLabels: {pod: a}}
""")
    talk = pods.Talk(t.netns["y/a"], t.netns["x/a"], t.addr["x/a"][4], 82)
    try:
        try:
            talk.start()
        except OSError as e:
            t.fail("the long connection y/a -> x/a:82 did not connect: %s" % e)
            return
        end = time.monotonic() + 3
        while talk.echoes < 10 and time.monotonic() < end:
            time.sleep(0.05)
        print("long connection y/a -> x/a TCP/82: %d lines sent, %d echoed" % (talk.sent, talk.echoes))
        if talk.echoes < 10:
            t.fail("the long connection does not talk (%d echoes in 3 s, %s)" % (talk.echoes, talk.error))
            return
        t.delete_policy("x", "allow-talk")
        time.sleep(0.5)  # echoes in flight arrive
        before = talk.echoes
        time.sleep(2.0)
        after = talk.echoes
        state = "%d echoes in the 2 s after the delete, connection %s" % (after - before, talk.error or "open")
        print("after the delete: " + state)
        if mode == "keep":
            ok = talk.error is None and after - before >= 10
            why = "it should go on (revoke: keep)"
        elif mode == "reset":
            ok = talk.error == "reset"
            why = "it should be reset (revoke: reset)"
        else:
            ok = after == before
            why = "it should stop (revoke: drop)"
        if ok:
            print("ok: revoke %s: %s" % (mode, state))
        else:
            t.fail("revoke %s: %s; %s" % (mode, state, why))
    finally:
        talk.stop()
    # new connections follow the policies whatever the mode
    r = t.reach(True).expect_peer(Peer(), Peer("x"), False).allow_loopback()
    t.check("after the delete, new connections to x are refused", r)


@case("revoke-drop", needs="conntrack (revocation: drop is npgw's default)")
def revoke_drop(t):
    revoke(t, "drop")


@case("revoke-keep", needs="conntrack (revocation mode keep)", revoke="keep")
def revoke_keep(t):
    revoke(t, "keep")


@case("revoke-reset", needs="conntrack (revocation mode reset)", revoke="reset")
def revoke_reset(t):
    revoke(t, "reset")


def ctl_json(t, *args):
    """npgwctl ARGS -o json through the harness: the reply's result."""
    out = t.harness("ctl", *args, "-o", "json")
    return json.loads(out)


def window_counters(t):
    """(tcp-out-of-window drops, flows.tcp_window.dropped) from npgwctl stats."""
    st = ctl_json(t, "stats")
    return (st.get("drops", {}).get("tcp-out-of-window", 0),
            st.get("flows", {}).get("tcp_window", {}).get("dropped", 0))


def flow_states(t, port):
    """The states of the tracked TCP flows with port at either end (the
    client's ephemeral port names one connection)."""
    fl = ctl_json(t, "flows", "--port", str(port), "--protocol", "TCP")
    return sorted(f["state"] for f in fl.get("flows", []))


def sniff_segment(netns, sport):
    """In netns, wait for one TCP segment with data from port sport; return
    (its Ethernet src, dst, dport, the sender's next sequence number, its
    ack), or None after 3 s."""
    from scapy.all import TCP, Ether, sniff  # noqa: E402  (Debian's python3-scapy)
    with pods.Home():
        pods.enter(netns)
        got = sniff(iface="eth0", count=1, timeout=3,
                    lfilter=lambda p: TCP in p and p[TCP].sport == sport and len(bytes(p[TCP].payload)) > 0)
    if not got:
        return None
    p = got[0]
    return (p[Ether].src, p[Ether].dst, p[TCP].dport, (p[TCP].seq + len(bytes(p[TCP].payload))) & 0xffffffff,
            p[TCP].ack)


def send_segment(netns, smac, dmac, src, dst, sport, dport, flags, seq, ack):
    """Send one TCP segment from netns's eth0, as crafted (scapy)."""
    from scapy.all import IP, TCP, Ether, sendp  # noqa: E402
    with pods.Home():
        pods.enter(netns)
        sendp(Ether(src=smac, dst=dmac) / IP(src=src, dst=dst) /
              TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=502),
              iface="eth0", verbose=False)


@case("spoofed-rst", needs="conntrack (TCP sequence windows)")
def spoofed_rst(t):
    """A long connection y/a -> x/a:82, the only way x/a's replies reach
    y/a (both namespaces deny ingress): an RST and a FIN with its tuple but
    a sequence number far outside the window, sent from the server's pod
    as a spoofer would, are dropped and counted, and the flow stays
    established; an RST at the sequence number the client expects closes
    the flow, and the client sees the reset."""
    if importlib.util.find_spec("scapy") is None:
        t.fail("spoofed-rst needs scapy (python3-scapy)")
        return
    for ns in ("x", "y"):
        t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: "%s"}
spec:
  podSelector: {}
  policyTypes: [Ingress]
""" % ns)
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-talk, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
      podSelector: {matchLabels: {pod: a}}
""")
    srv, cli = t.addr["x/a"][4], t.addr["y/a"][4]
    talk = pods.Talk(t.netns["y/a"], t.netns["x/a"], srv, 82, interval=0.5)
    try:
        try:
            talk.start()
        except OSError as e:
            t.fail("the connection y/a -> x/a:82 did not connect: %s" % e)
            return
        end = time.monotonic() + 5
        while talk.echoes < 3 and time.monotonic() < end:
            time.sleep(0.05)
        if talk.echoes < 3:
            t.fail("the connection does not talk (%d echoes in 5 s, %s)" % (talk.echoes, talk.error))
            return
        drops0, ct0 = window_counters(t)
        seg = sniff_segment(t.netns["y/a"], 82)
        if seg is None:
            t.fail("no echo seen in y/a for 3 s")
            return
        smac, dmac, cport, nxt, ack = seg
        far = (nxt + 0x40000000) & 0xffffffff
        send_segment(t.netns["x/a"], smac, dmac, srv, cli, 82, cport, "RA", far, ack)
        send_segment(t.netns["x/a"], smac, dmac, srv, cli, 82, cport, "FA", far, ack)
        e0 = talk.echoes
        time.sleep(1.5)
        drops1, ct1 = window_counters(t)
        states = flow_states(t, cport)
        print("spoofed RST and FIN (seq %u, the server's next is %u): tcp-out-of-window drops +%d, "
              "flows.tcp_window.dropped +%d, %d echoes since, connection %s, flow %s"
              % (far, nxt, drops1 - drops0, ct1 - ct0, talk.echoes - e0, talk.error or "open", states))
        if drops1 - drops0 != 2 or ct1 - ct0 != 2:
            t.fail("the spoofed RST and FIN should be counted as 2 tcp-out-of-window drops "
                   "(+%d drops, +%d flows.tcp_window.dropped)" % (drops1 - drops0, ct1 - ct0))
        if talk.error is not None or talk.echoes - e0 < 2 or states != ["established"]:
            t.fail("the connection should go on, its flow established (%s, %d echoes, flow %s)"
                   % (talk.error or "open", talk.echoes - e0, states))
        # both are drop events: type invalid, reason tcp-out-of-window,
        # the flow's state (observe's events are drained every 100 ms)
        out = t.harness("ctl", "observe", "--verdict", "denied", "--protocol", "TCP",
                        "--port", str(cport), "-o", "json")
        evs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        inv = [e for e in evs if e.get("type") == "invalid"
               and e.get("reason") == "tcp-out-of-window" and e.get("state") == "established"]
        print("observe: %d events to port %d, %d invalid tcp-out-of-window in state established"
              % (len(evs), cport, len(inv)))
        if len(inv) != 2:
            t.fail("observe should show the spoofed RST and FIN as 2 invalid events "
                   "(tcp-out-of-window, state established): %s" % evs)
        # the genuine article: an RST where the client expects the next byte
        seg = sniff_segment(t.netns["y/a"], 82)
        if seg is None:
            t.fail("no echo seen in y/a for 3 s")
            return
        smac, dmac, cport, nxt, ack = seg
        send_segment(t.netns["x/a"], smac, dmac, srv, cli, 82, cport, "RA", nxt, ack)
        end = time.monotonic() + 3
        while talk.error is None and time.monotonic() < end:
            time.sleep(0.05)
        drops2, _ = window_counters(t)
        states = flow_states(t, cport)
        print("RST at the expected sequence number %u: connection %s, flow %s, tcp-out-of-window drops +%d"
              % (nxt, talk.error or "open", states, drops2 - drops1))
        if talk.error != "reset" or states != ["closed"] or drops2 != drops1:
            t.fail("an RST in the window should close the flow and reset the client "
                   "(connection %s, flow %s)" % (talk.error or "open", states))
        else:
            print("ok: spoofed RST and FIN dropped and counted, the connection went on; "
                  "the in-window RST closed it")
    finally:
        talk.stop()
def pod_mac(name):
    """The MAC harness.sh gives a pod's eth0: 02:00:00:00:0N:0M."""
    ns, pod = name.split("/")
    return "02:00:00:00:%02x:%02x" % ("xyz".index(ns) + 1, "abc".index(pod) + 1)


class Link:
    """A raw AF_PACKET socket on a pod's eth0, opened in its namespace: to
    send crafted frames from the pod, or to see what reaches it."""

    def __init__(self, netns):
        with pods.Home():
            pods.enter(netns)
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.s.bind(("eth0", 0))
        self.s.settimeout(0.2)

    def send(self, frame):
        self.s.send(frame)

    def seen(self, marker, seconds=1.0):
        """Whether a frame holding the bytes marker arrives within seconds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data, addr = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            if addr[2] != socket.PACKET_OUTGOING and marker in data:
                return True
        return False

    def close(self):
        self.s.close()


@case("nd-hop-limit", needs="scapy (python3-scapy)")
def nd_hop_limit(t):
    """IPv6 neighbour discovery and MLD pass without a policy only with the
    hop limit their receivers require (ND 255, MLD 1); otherwise they are
    classified like any ICMPv6. x/a is isolated for ingress and no policy
    admits ICMPv6 to it."""
    try:
        from scapy.layers.inet6 import (IPv6, ICMPv6MLDMultAddrRec, ICMPv6MLReport2,
                                        ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr)
        from scapy.layers.l2 import Ether
    except ImportError as e:
        t.fail("scapy is needed to craft neighbour solicitations: %s" % e)
        return
    t.apply_file(os.path.join(EXAMPLES, "01-default-deny-ingress.yaml"))
    # real neighbour discovery between namespaces: every cache empty, every
    # IPv6 connection must resolve its peer through the gateway (replies to
    # x's pods too: their neighbour unreachability probes go to isolated pods)
    for n in t.names:
        subprocess.run(["ip", "-n", t.netns[n], "-6", "neigh", "flush", "all"], check=True)
    r = t.reach(True).expect_peer(Peer(), Peer("x"), False).allow_loopback()
    t.check("neighbour caches flushed, x isolated for ingress", r, "tcp", 80, 6)
    src, dst = "y/a", "x/a"
    tx, rx = Link(t.netns[src]), Link(t.netns[dst])
    try:
        before = json.loads(t.harness("ctl", "stats", "-o", "json"))
        for hlim, want in ((255, True), (64, False), (254, False), (1, False)):
            # the target is nobody's address: unique per probe, ignored by
            # the kernel, recognised by the listener
            target = "fd00::ee:%x" % (hlim + 1)
            frame = bytes(Ether(src=pod_mac(src), dst=pod_mac(dst))
                          / IPv6(src=t.addr[src][6], dst=t.addr[dst][6], hlim=hlim)
                          / ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=pod_mac(src)))
            tx.send(frame)
            got = rx.seen(socket.inet_pton(socket.AF_INET6, target))
            what = "neighbour solicitation %s -> %s with hop limit %d" % (src, dst, hlim)
            if got == want:
                print("ok: %s %s" % (what, "passed" if got else "dropped"))
            else:
                t.fail("%s %s; it should be %s" % (what, "passed" if got else "dropped",
                                                   "passed" if want else "dropped"))
        for hlim, want in ((1, True), (64, False)):
            group = "ff05::ee:%x" % (hlim + 1)
            frame = bytes(Ether(src=pod_mac(src), dst=pod_mac(dst))
                          / IPv6(src=t.addr[src][6], dst=t.addr[dst][6], hlim=hlim)
                          / ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst=group)]))
            tx.send(frame)
            got = rx.seen(socket.inet_pton(socket.AF_INET6, group))
            what = "MLDv2 report %s -> %s with hop limit %d" % (src, dst, hlim)
            if got == want:
                print("ok: %s %s" % (what, "passed" if got else "dropped"))
            else:
                t.fail("%s %s; it should be %s" % (what, "passed" if got else "dropped",
                                                   "passed" if want else "dropped"))
        after = json.loads(t.harness("ctl", "stats", "-o", "json"))
        denied = after["drops"].get("policy-ingress", 0) - before["drops"].get("policy-ingress", 0)
        if denied < 4:
            t.fail("policy-ingress drops rose by %d, not by the 4 messages with a wrong hop limit"
                   % denied)
        else:
            print("ok: policy-ingress drops rose by %d (4 crafted messages, and what else "
                  "knocked on x)" % denied)
    finally:
        tx.close()
        rx.close()


# ---------------------------------------------------------------------------


# --- the cluster-wide tiers (issue 16) ----------------------------------


@case("admin-deny", needs="conntrack (replies to x's connections)")
def admin_deny(t):
    t.apply_yaml("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: "y"}
spec:
  podSelector: {}
  ingress: [{}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-x-to-y}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {ns: "y"}}}
  ingress:
  - name: deny-x
    action: Deny
    from: [{namespaces: {matchLabels: {ns: x}}}]
""", "networkpolicy y/allow-all (every ingress) and adminnetworkpolicy no-x-to-y (Deny x -> y)")
    r = t.reach(True).expect_peer(Peer("x"), Peer("y"), False).allow_loopback()
    t.check("an Admin Deny wins over a NetworkPolicy that allows", r)
    t.check("an Admin Deny wins over a NetworkPolicy that allows", r, "udp", 81, 6)


@case("admin-pass", needs="conntrack (replies to z/a's connections)")
def admin_pass(t):
    t.apply_file(os.path.join(EXAMPLES, "01-default-deny-ingress.yaml"))
    t.apply_yaml("""
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: pass-z-a}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: Pass
    from: [{pods: {namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: a}}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-z}
spec:
  tier: Admin
  priority: 2
  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from: [{namespaces: {matchLabels: {ns: z}}}]
""", "clusternetworkpolicies pass-z-a (Admin 1: Pass from z/a) and deny-z (Admin 2: Deny from z)")
    # z/a is passed on to NetworkPolicy: x denies it (default deny), y and
    # z admit it (no NetworkPolicy); the rest of z meets the Admin Deny
    r = t.reach(True).expect_peer(Peer("z"), Peer(), False)
    r.expect_peer(Peer("z", "a"), Peer(), True)
    r.expect_peer(Peer(), Peer("x"), False).allow_loopback()
    t.check("a Pass goes on to NetworkPolicy; the next Admin policy denies the rest", r)


@case("baseline-default-deny", needs="conntrack (replies to y's and z's connections)")
def baseline_default_deny(t):
    t.apply_yaml("""
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: isolate, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {}
  ingress: [{}]
""", "baselineadminnetworkpolicy default (Deny all ingress) and networkpolicy x/allow-all")
    # Baseline decides only for pods no NetworkPolicy selects: x is open
    r = t.reach(False).expect_peer(Peer(), Peer("x"), True).allow_loopback()
    t.check("Baseline denies where no NetworkPolicy selects the pod", r)
    t.check("Baseline denies where no NetworkPolicy selects the pod", r, "tcp", 80, 6)


def sctp_note():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
        s.close()
        return "SCTP: skipped: the pod servers (tests/e2e/pods.py) do not serve SCTP yet"
    except OSError as e:
        return ("SCTP: skipped: this kernel has no SCTP sockets (socket(AF_INET, SOCK_STREAM, "
                "IPPROTO_SCTP): %s); SCTP verdicts are tested with crafted frames in tests/func"
                % (errno.errorcode.get(e.errno, e.errno)))


def take_lock():
    """One harness at a time on this machine (its names are fixed): wait
    for the lock that scripts/demo.sh and scripts/e2e.sh take too, up to
    NPGW_E2E_LOCK_WAIT seconds (default 1800: on a machine shared by
    several developers' test runs, the queue can be long). A caller that
    holds the lock itself (tests/e2e/cleanup.sh) sets NPGW_E2E_LOCK_HELD=1.
    Returns what holds the lock (never None: None means "not ours")."""
    if os.environ.get("NPGW_E2E_LOCK_HELD") == "1":
        return True  # held for us: the harness is ours to tear down
    f = open(LOCK, "w")
    end = time.monotonic() + float(os.environ.get("NPGW_E2E_LOCK_WAIT", "1800"))
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > end:
                raise Failed("another harness run holds %s" % LOCK)
            time.sleep(0.5)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="leave the harness up at the end")
    ap.add_argument("cases", nargs="*")
    a = ap.parse_args()
    names = [c[0] for c in CASES]
    if a.list:
        print("\n".join(names))
        return 0
    unknown = [c for c in a.cases if c not in names]
    if unknown:
        print("netpol.py: unknown case %s (--list)" % ", ".join(unknown), file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("netpol.py: skipped: needs root (network namespaces)")
        return 77
    todo = [c for c in CASES if not a.cases or c[0] in a.cases]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    tmp = tempfile.mkdtemp(prefix="npgw-netpol.")
    home = pods.Home()  # clean up from here, whatever namespace an interrupt left us in
    t = None
    lock = None
    times = []
    try:
        t0 = time.monotonic()
        lock = take_lock()
        t = Run(tmp)
        t.harness("up")
        t.harness("start")
        print("harness up: 9 pods, npgw started with no objects, the cluster's Pods and "
              "Namespaces applied over the control socket (%.1f s)" % (time.monotonic() - t0))
        print(sctp_note())
        print("loopback: " + LOOPBACK_NOTE + "; the expected tables allow it (AllowLoopback)")
        for name, fn, needs, mode in todo:
            t.case = name
            print("\n=== %s%s" % (name, " (needs %s)" % needs if needs else ""))
            n = len(t.failures)
            c0 = time.monotonic()
            try:
                if mode != t.revoke:
                    t.start(mode)
                fn(t)
            except Failed as e:
                t.fail(str(e))
            try:
                t.reset()
            except Failed as e:
                t.fail("reset: %s" % e)
            dt = time.monotonic() - c0
            times.append((name, dt, len(t.failures) == n))
            print("=== %s: %s (%.1f s)" % (name, "ok" if len(t.failures) == n else "FAIL", dt))
    except Failed as e:
        print("FAIL: %s" % e)
        if t is not None:
            t.failures.append(str(e))
        else:
            return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not stop the clean-up
        home.back()
        if lock is None:
            pass  # never got the lock: the harness up is another run's, leave it
        elif a.keep:
            print("\nharness kept up: scripts/e2e.sh down removes it")
        else:
            subprocess.run(["bash", HARNESS, "down"])
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n=== summary")
    for name, dt, ok in times:
        print("%-28s %-4s %5.1f s" % (name, "ok" if ok else "FAIL", dt))
    for w in t.warnings:
        print("warning: " + w)
    for f in t.failures:
        print("failed: " + f)
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
