#!/usr/bin/python3
"""agent_test.py: npgw-agent against a stand-in API server and a real npgw.

  agent_test.py --npgw NPGW --npgwctl NPGWCTL --agent LAUNCHER
                [--pods 10000] [--policies 1000] [--rate 100] [--seconds 60]
                [--report FILE] [SCENARIO...]

The stand-in (apiserver.py) follows kube-apiserver's list and watch
protocol; npgw runs for real (--no-huge, net_ring ports, no traffic); the
agent runs as it would on a node, with a kubeconfig naming the stand-in
(plain http, a bearer token). Each scenario changes the API's objects and
then waits until `npgwctl get` of every kind equals the API's state. The
scenarios, in order (all by default):

  initial-sync     the store holds --pods pods and --policies policies
                   before the agent starts; reported: the time from the
                   agent's start to npgw holding all of it
  churn            --rate pod events per second for --seconds (pods created
                   Pending, given an address, relabelled, deleted; freed
                   addresses are reused first); reported: the lag from each
                   change at the API to its generation being live (median,
                   p99), from the agent's trace
  address-reuse    a pod deleted and its address given to a new pod; then a
                   new pod claiming the address of a pod that still exists:
                   refused and reported, the others go on, and it is taken
                   once the old pod is deleted
  refused-policy   a policy npgw refuses (port 70000) is left out and
                   reported with its reason; the rest goes on; deleting it
                   clears the report
  bookmark         a quiet watch moves on with BOOKMARKs: after a compaction
                   the re-watch (the server's timeout ended the watch) needs
                   no relist
  gone-410         an ERROR 410 in the middle of the pods watch, with changes
                   meanwhile: the agent lists again and replaces, npgw never
                   holds less than the whole state
  apiserver-restart  the stand-in killed (connections cut), objects changed,
                   history compacted, restarted: the agent backs off,
                   reconnects, relists, resyncs
  npgw-restart     npgw killed with SIGKILL, objects changed, npgw
                   restarted: the agent notices, waits and resyncs
  crd-missing      the three tier CRDs are not served (404) from the start
                   (the store holds tier objects all the same): the agent
                   says so once, syncs and reports synced, and Namespaces,
                   Pods, NetworkPolicies and Nodes go on reaching npgw; once
                   the CRDs are served, their objects reach npgw without a
                   restart; a CRD served no more takes its objects out
  tiers            Nodes, AdminNetworkPolicies, BaselineAdminNetworkPolicies
                   and ClusterNetworkPolicies created, updated and deleted
                   reach npgw, as apply and delete, not a replace; a Node's
                   heartbeat (conditions only) sends nothing
  rbac-missing     the agent restarted while its ClusterRole lacks nodes
                   and adminnetworkpolicies (403): the rest syncs and the
                   agent is ready; granted, they reach npgw; a 403 after
                   they were listed is an error and npgw keeps them
  no-tiers         the agent restarted with --no-tiers: npgw holds no tier
                   policy and no Node, the rest stays, and the agent asks the
                   API for none of them

Prints one line per check and "N passed, N failed"; exit 0 when none
failed. Timing figures go to --report (JSON) and stdout; they are
reported, never asserted (the machine is shared).
"""

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apiserver  # noqa: E402

ALL = ["initial-sync", "churn", "address-reuse", "refused-policy", "bookmark", "gone-410",
       "apiserver-restart", "npgw-restart", "crd-missing", "tiers", "rbac-missing", "no-tiers"]
TIER_KINDS = {  # resource -> npgwctl get's name
    "adminnetworkpolicies": "adminnetworkpolicies",
    "baselineadminnetworkpolicies": "baselineadminnetworkpolicies",
    "clusternetworkpolicies": "clusternetworkpolicies",
}
TOKEN = "npgw-test-token"


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok: " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL: %s%s" % (what, (": " + detail) if detail else ""), flush=True)
        return ok


class Cluster:
    """What the test puts in the store: namespaces, deployments of pods,
    policies, and a pool of addresses (freed ones are reused first)."""

    def __init__(self, store, n_pods, n_policies, seed=1):
        self.st = store
        self.rnd = random.Random(seed)
        self.n_ns = max(2, n_pods // 500)
        self.namespaces = ["ns%03d" % i for i in range(self.n_ns)]
        self.deployments = []  # (ns, app, tier)
        self.free = []  # addresses freed, reused first (FIFO)
        self.next_ip = 0
        self.pods = {}  # (ns, name) -> address or None
        self.seq = 0
        for ns in self.namespaces:
            store.create("namespaces", {"metadata": {
                "name": ns, "labels": {"kubernetes.io/metadata.name": ns,
                                       "team": self.rnd.choice("abc")}}})
        d = 0
        while len(self.pods) < n_pods:
            ns = self.namespaces[d % self.n_ns]
            app, tier = "app%04d" % d, self.rnd.choice(["web", "api", "db", "cache"])
            self.deployments.append((ns, app, tier))
            for _ in range(min(self.rnd.randint(5, 50), n_pods - len(self.pods))):
                self.add_pod(ns, app, tier, running=True)
            d += 1
        for i in range(n_policies):
            self.st.create("networkpolicies", self.policy(i))
        # the cluster-wide part: Nodes, one policy of each tier kind
        for i in range(3):
            store.create("nodes", self.node_obj("node-%d" % i, {"role": "worker" if i else "infra"},
                                                "192.0.2.%d" % (10 + i)))
        store.create("adminnetworkpolicies", self.anp("guard", 10, ["deny-team-a"]))
        store.create("baselineadminnetworkpolicies", self.banp(["default-deny"]))
        store.create("clusternetworkpolicies", self.cnp("infra", 20, ["no-infra-nodes"]))

    def node_obj(self, name, labels, ip):
        return {"metadata": {"name": name, "labels": labels, "uid": "u-" + name},
                "spec": {"podCIDR": "10.244.0.0/24"},
                "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                         {"type": "Hostname", "address": name}],
                           "conditions": [{"type": "Ready", "status": "True",
                                           "lastHeartbeatTime": "2026-12-05T12:00:00Z"}],
                           "nodeInfo": {"kubeletVersion": "v1.31.0"}}}

    def anp(self, name, priority, rules):
        team = {"namespaces": {"matchLabels": {"team": "a"}}}
        return {"metadata": {"name": name, "labels": {"owner": "sec"}},
                "spec": {"priority": priority, "subject": {"namespaces": {}},
                         "ingress": [{"name": r, "action": "Deny", "from": [team]}
                                     for r in rules]}}

    def banp(self, rules):
        return {"metadata": {"name": "default"},
                "spec": {"subject": {"namespaces": {}},
                         "ingress": [{"name": r, "action": "Deny", "from": [{"namespaces": {}}]}
                                     for r in rules]}}

    def cnp(self, name, priority, rules, tier="Admin"):
        return {"metadata": {"name": name},
                "spec": {"tier": tier, "priority": priority, "subject": {"namespaces": {}},
                         "egress": [{"name": r, "action": "Deny", "to": [
                             {"nodes": {"matchLabels": {"role": "infra"}}}]} for r in rules]}}

    def address(self):
        if self.free:
            return self.free.pop(0)
        i = self.next_ip
        self.next_ip += 1
        hi, lo = divmod(i, 65536)
        return "10.%d.%d.%d" % (64 + hi, lo // 256, lo % 256)

    def pod_obj(self, ns, name, labels, ip):
        st = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]} if ip else \
            {"phase": "Pending"}
        return {"metadata": {"namespace": ns, "name": name, "labels": labels,
                             "uid": "u-%s-%s" % (ns, name)},
                "spec": {"nodeName": "node-1", "containers": [{
                    "name": "main", "image": "registry.example/app:1",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                              {"name": "metrics", "containerPort": 9090}]}]},
                "status": dict(st, conditions=[{"type": "Ready", "status": "True"}],
                               hostIP="192.0.2.1")}

    def add_pod(self, ns, app, tier, running, ip=None):
        self.seq += 1
        name = "%s-%05d" % (app, self.seq)
        ip = ip or (self.address() if running else None)
        self.pods[(ns, name)] = ip
        return self.st.create("pods", self.pod_obj(ns, name, {"app": app, "tier": tier}, ip)), \
            (ns, name)

    def delete_pod(self, key):
        ip = self.pods.pop(key)
        rv = self.st.delete("pods", *key)
        if ip:
            self.free.append(ip)
        return rv

    def policy(self, i):
        ns, app, _ = self.deployments[i % len(self.deployments)]
        if i < self.n_ns:
            return {"metadata": {"namespace": self.namespaces[i], "name": "default-deny"},
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
        peers = []
        for _ in range(self.rnd.randint(1, 3)):
            pns, papp, _ = self.rnd.choice(self.deployments)
            peer = {"podSelector": {"matchLabels": {"app": papp}}}
            if pns != ns:
                peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": pns}}
            peers.append(peer)
        ports = [{"protocol": "TCP", "port": self.rnd.choice([80, 443, 5432, 8080])}]
        if self.rnd.random() < 0.3:
            ports.append({"protocol": "TCP", "port": "http"})
        return {"metadata": {"namespace": ns, "name": "allow-%s-%d" % (app, i)},
                "spec": {"podSelector": {"matchLabels": {"app": app}},
                         "ingress": [{"from": peers, "ports": ports}]}}

    def churn_one(self):
        """One pod event: a Pending pod created, a Pending pod given an
        address, a pod relabelled, or a pod deleted. Returns its rv."""
        pending = [k for k, ip in self.pods.items() if ip is None]
        r = self.rnd.random()
        if pending and r < 0.3:
            key = self.rnd.choice(pending)
            obj = self.st.get("pods", *key)
            ip = self.address()
            self.pods[key] = ip
            obj["status"].update(phase="Running", podIP=ip, podIPs=[{"ip": ip}])
            return self.st.update("pods", obj)
        if r < 0.55:
            ns, app, tier = self.rnd.choice(self.deployments)
            return self.add_pod(ns, app, tier, running=False)[0]
        running = [k for k, ip in self.pods.items() if ip]
        key = self.rnd.choice(running)
        if r < 0.7:
            obj = self.st.get("pods", *key)
            obj["metadata"]["labels"]["rev"] = str(self.rnd.randint(1, 5))
            return self.st.update("pods", obj)
        return self.delete_pod(key)


def tier_summary(kind, o):
    """What the test compares of a tier policy: its tier, its priority, its
    rules' names and actions (npgwctl get shows them as applied)."""
    spec = o.get("spec") or {}
    return (kind, spec.get("tier"), spec.get("priority"),
            tuple((r.get("name"), r.get("action")) for r in spec.get("ingress") or []),
            tuple((r.get("name"), r.get("action")) for r in spec.get("egress") or []))


def node_summary(o):
    st = o.get("status") or {}
    return (json.dumps(o["metadata"].get("labels") or {}, sort_keys=True),
            tuple(sorted(a["address"] for a in st.get("addresses") or []
                         if a.get("type") in ("InternalIP", "ExternalIP"))))


def api_state(store, tiers=True):
    """The store as npgw would hold it, for comparison. A kind the store
    does not serve has no objects; tiers=False (the agent's --no-tiers):
    neither tier policies nor Nodes."""
    out = {"pods": {}, "namespaces": {}, "policies": set(), "nodes": {}, "tiers": {}}
    with store.lock:
        for r in (TIER_KINDS if tiers else ()):
            if r in store.served and r not in store.forbidden:
                for (_, name), o in store.objs[r].items():
                    out["tiers"][(r, name)] = tier_summary(apiserver.KIND[r][0], o)
        if tiers and "nodes" not in store.forbidden:
            for (_, name), o in store.objs["nodes"].items():
                out["nodes"][name] = node_summary(o)
        for (ns, name), o in store.objs["pods"].items():
            st = o.get("status") or {}
            ips = sorted(e["ip"] for e in st.get("podIPs") or [])
            out["pods"][(ns, name)] = (json.dumps(o["metadata"].get("labels") or {},
                                                  sort_keys=True), tuple(ips),
                                       st.get("phase"))
        for (_, name), o in store.objs["namespaces"].items():
            out["namespaces"][name] = json.dumps(o["metadata"].get("labels") or {},
                                                 sort_keys=True)
        out["policies"] = set(store.objs["networkpolicies"])
    return out


class Env:
    def __init__(self, a, tmp):
        self.a, self.tmp = a, tmp
        self.store = apiserver.Store(history=200000)
        self.server = apiserver.Server(self.store, token=TOKEN, watch_max_s=4.0,
                                       bookmark_s=1.0).start()
        self.sock = os.path.join(tmp, "npgw.sock")
        self.status_path = os.path.join(tmp, "agent-status.json")
        self.trace_path = os.path.join(tmp, "agent-trace.jsonl")
        self.kubeconfig = os.path.join(tmp, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "test",
                       "clusters": [{"name": "stand-in", "cluster": {
                           "server": "http://127.0.0.1:%d" % self.server.port}}],
                       "users": [{"name": "agent", "user": {"token": TOKEN}}],
                       "contexts": [{"name": "test", "context": {
                           "cluster": "stand-in", "user": "agent"}}]}, f)
        with open(os.path.join(tmp, "npgw.yaml"), "w") as f:
            f.write("\n".join([
                "policies: []",
                "control: {socket: %s}" % self.sock,
                "state_dir: %s" % os.path.join(tmp, "state"),
                "ports:",
                '  - {name: a, device: "net_ring0"}',
                '  - {name: b, device: "net_ring1"}',
                "bridges:",
                "  - {name: wire, ports: [a, b]}",
                "workers:",
                "  - lcore: 1",
                "mempool: {mbufs: 4095, cache: 64}",
                "conntrack: {enabled: false}",
                'eal: ["--no-huge", "-m", "1024", "--no-pci", "--file-prefix", '
                '"npgw-agent-test-%d", "--log-level", "error"]' % os.getpid(),
            ]) + "\n")
        self.npgw = self.agent = None
        self.tiers = True  # the agent runs without --no-tiers
        self.npgw_log = open(os.path.join(tmp, "npgw.log"), "a")
        self.agent_log = open(os.path.join(tmp, "agent.log"), "a")

    def start_npgw(self):
        self.npgw = subprocess.Popen([self.a.npgw, "--config", os.path.join(self.tmp, "npgw.yaml")],
                                     stdout=self.npgw_log, stderr=subprocess.STDOUT)
        t_end = time.time() + 120
        while time.time() < t_end:
            if self.npgw.poll() is not None:
                raise RuntimeError("npgw exited %d (see npgw.log)" % self.npgw.returncode)
            if os.path.exists(self.sock) and self.ctl("status", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("npgw did not start")

    def start_agent(self, *extra):
        env = dict(os.environ, NPGW_AGENT_STATUS=self.status_path,
                   NPGW_AGENT_TRACE=self.trace_path, NPGW_AGENT_BACKOFF_MAX="4")
        self.t_agent = time.time()
        self.tiers = "--no-tiers" not in extra
        self.agent = subprocess.Popen(["/usr/bin/python3", self.a.agent, "--kubeconfig",
                                       self.kubeconfig, "--socket", self.sock] + list(extra),
                                      stdout=self.agent_log, stderr=subprocess.STDOUT, env=env)

    def stop_agent(self):
        self.agent.send_signal(signal.SIGTERM)
        self.agent.wait(30)
        try:
            os.unlink(self.status_path)
        except OSError:
            pass

    def agent_log_text(self):
        self.agent_log.flush()
        with open(os.path.join(self.tmp, "agent.log")) as f:
            return f.read()

    def stop(self):
        for p in (self.agent, self.npgw):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def ctl(self, *args, check=True):
        r = subprocess.run([self.a.npgwctl, "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("npgwctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def status(self):
        try:
            with open(self.status_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def npgw_state(self):
        out = {"pods": {}, "namespaces": {}, "policies": set(), "nodes": {}, "tiers": {}}
        for r, get in TIER_KINDS.items():
            for o in json.loads(self.ctl("get", get, "-o", "json").stdout)["items"]:
                out["tiers"][(r, o["metadata"]["name"])] = tier_summary(o["kind"], o)
        for o in json.loads(self.ctl("get", "nodes", "-o", "json").stdout)["items"]:
            out["nodes"][o["metadata"]["name"]] = node_summary(o)
        for o in json.loads(self.ctl("get", "pods", "-A", "-o", "json").stdout)["items"]:
            st = o.get("status") or {}
            ips = sorted(e["ip"] for e in st.get("podIPs") or [])
            md = o["metadata"]
            out["pods"][(md["namespace"], md["name"])] = (
                json.dumps(md.get("labels") or {}, sort_keys=True), tuple(ips), st.get("phase"))
        for o in json.loads(self.ctl("get", "namespaces", "-o", "json").stdout)["items"]:
            out["namespaces"][o["metadata"]["name"]] = json.dumps(
                o["metadata"].get("labels") or {}, sort_keys=True)
        for o in json.loads(self.ctl("get", "policies", "-A", "-o", "json").stdout)["items"]:
            out["policies"].add((o["metadata"]["namespace"], o["metadata"]["name"]))
        return out

    def wait_equal(self, timeout, leave_out=()):
        """Until npgw's state equals the API's (less leave_out, policy
        keys); returns (ok, seconds, a difference)."""
        t0 = time.time()
        diff = ""
        while True:
            want = api_state(self.store, self.tiers)
            for k in leave_out:
                want["policies"].discard(k)
                want["pods"].pop(k, None)
            try:
                have = self.npgw_state()
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                have, diff = None, str(e)
            if have == want:
                return True, time.time() - t0, ""
            if have is not None:
                diff = describe(want, have)
            if time.time() - t0 > timeout:
                return False, time.time() - t0, diff
            time.sleep(0.5)


def describe(want, have):
    out = []
    for kind in ("namespaces", "pods", "policies", "nodes", "tiers"):
        w, h = want[kind], have[kind]
        wk, hk = set(w), set(h)
        if wk - hk:
            out.append("%s missing in npgw: %d (e.g. %s)" % (kind, len(wk - hk),
                                                             sorted(wk - hk)[:3]))
        if hk - wk:
            out.append("%s only in npgw: %d (e.g. %s)" % (kind, len(hk - wk), sorted(hk - wk)[:3]))
        if isinstance(w, dict):
            d = [k for k in wk & hk if w[k] != h[k]]
            if d:
                out.append("%s differing: %d (e.g. %s: api %s, npgw %s)" % (
                    kind, len(d), d[0], w[d[0]], h[d[0]]))
    return "; ".join(out)


class FloorWatch(threading.Thread):
    """Polls npgw's object counts while something disruptive happens: the
    fewest pods and policies it ever held (a partial state would show)."""

    def __init__(self, env):
        super().__init__(daemon=True)
        self.env, self.stop_ev = env, threading.Event()
        self.min_pods = self.min_pols = None
        self.samples = 0

    def run(self):
        while not self.stop_ev.is_set():
            r = self.env.ctl("status", "-o", "json", check=False)
            if r.returncode == 0:
                o = json.loads(r.stdout).get("objects") or {}
                p, q = o.get("pods", 0), o.get("policies", 0)
                self.min_pods = p if self.min_pods is None else min(self.min_pods, p)
                self.min_pols = q if self.min_pols is None else min(self.min_pols, q)
                self.samples += 1
            self.stop_ev.wait(0.1)

    def done(self):
        self.stop_ev.set()
        self.join()


def wait_for(pred, timeout, step=0.2):
    t_end = time.time() + timeout
    while time.time() < t_end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def lag_report(env, since_rv):
    """Lags (ms) from the change at the API (store.committed) to live
    (the agent's trace), for the changes after since_rv."""
    lags = []
    with open(env.trace_path) as f:
        for line in f:
            e = json.loads(line)
            if e.get("op") == "unchanged" or not e.get("rv"):
                continue
            rv = int(e["rv"])
            if rv > since_rv and rv in env.store.committed:
                lags.append((e["live"] - env.store.committed[rv]) * 1e3)
    if not lags:
        return {"n": 0}
    s = sorted(lags)
    return {"n": len(s), "median_ms": round(statistics.median(s), 1),
            "p99_ms": round(s[min(len(s) - 1, int(0.99 * (len(s) - 1) + 0.5))], 1),
            "max_ms": round(s[-1], 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npgw", required=True)
    ap.add_argument("--npgwctl", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--policies", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--converge", type=float, default=900,
                    help="seconds allowed for npgw to catch up after churn")
    ap.add_argument("--report")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("scenarios", nargs="*")
    a = ap.parse_args()
    todo = a.scenarios or ALL
    for s in todo:
        if s not in ALL:
            ap.error("unknown scenario %s (%s)" % (s, ", ".join(ALL)))
    tmp = tempfile.mkdtemp(prefix="npgw-agent-test.")
    c = Checks()
    report = {"pods": a.pods, "policies": a.policies}
    env = Env(a, tmp)
    try:
        run(a, env, c, todo, report)
    except Exception as e:  # a harness failure is a failed check, with the logs
        c.check(False, "harness", "%s: %s" % (type(e).__name__, e))
    finally:
        env.stop()
        env.server.kill()
    report["agent_status"] = env.status()
    if c.failed:
        for name in ("agent.log", "npgw.log"):
            try:
                with open(os.path.join(tmp, name)) as f:
                    tail = f.readlines()[-40:]
                print("--- last lines of %s ---\n%s" % (name, "".join(tail)))
            except OSError:
                pass
    print("report: " + json.dumps({k: v for k, v in report.items() if k != "agent_status"}))
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1, default=str)
    if a.keep or c.failed:
        print("files kept in " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


def run(a, env, c, todo, report):
    t0 = time.time()
    cl = Cluster(env.store, a.pods, a.policies)
    report["generate_s"] = round(time.time() - t0, 2)
    if "crd-missing" in todo:  # the tier CRDs not installed when the agent starts
        for r in apiserver.CRDS:
            env.store.unserve(r)
    env.start_npgw()
    env.start_agent()
    ok, secs, diff = env.wait_equal(600)
    sync_s = time.time() - env.t_agent
    c.check(ok, "initial sync: npgw holds the %d pods, %d policies, %d namespaces" % (
        a.pods, a.policies, cl.n_ns), diff)
    st = wait_for(lambda: env.status().get("initial_sync_ms") and env.status(), 30) or {}
    report["initial_sync_s"] = round(sync_s, 2)
    report["agent_initial_sync_ms"] = st.get("initial_sync_ms")
    c.check(st.get("counters", {}).get("replaces_ok") == 1,
            "initial sync: one replace", str(st.get("counters")))
    print("initial sync: %.2f s from the agent's start to npgw equal to the API "
          "(agent: replace live after %s ms)" % (sync_s, st.get("initial_sync_ms")), flush=True)
    if not ok:
        return

    if "churn" in todo:
        rv0 = env.store.rv
        n = int(a.rate * a.seconds)
        t_start = time.time()
        for i in range(n):
            cl.churn_one()
            delay = t_start + (i + 1) / a.rate - time.time()
            if delay > 0:
                time.sleep(delay)
        sent_s = time.time() - t_start
        ok, secs, diff = env.wait_equal(a.converge)
        c.check(ok, "churn: %d pod events in %.1f s, then npgw equals the API (%.1f s later)" % (
            n, sent_s, secs), diff)
        lag = lag_report(env, rv0)
        report["churn"] = dict(lag, events=n, seconds=round(sent_s, 1),
                               converge_s=round(secs, 2))
        c.check(lag.get("n", 0) > 0, "churn: the trace has the events made live")
        print("churn: lag from the API to live: %s" % json.dumps(lag), flush=True)
        st = env.status()
        report["churn"]["agent_counters"] = st.get("counters")

    if "address-reuse" in todo:
        running = sorted(k for k, ip in cl.pods.items() if ip)
        old = running[0]
        ip = cl.pods[old]
        cl.delete_pod(old)
        cl.free.remove(ip)
        ns, app, tier = cl.deployments[-1]
        _, new = cl.add_pod(ns, app, tier, running=True, ip=ip)
        ok, secs, diff = env.wait_equal(120)
        c.check(ok, "address-reuse: %s/%s deleted, %s/%s has its address %s" % (
            old + new + (ip,)), diff)
        # a pod claiming the address of one that still exists (the old one
        # terminating): refused and reported, the rest goes on
        holder = running[1]
        hip = cl.pods[holder]
        _, claimer = cl.add_pod(ns, app, tier, running=True, ip=hip)
        st = wait_for(lambda: (lambda s: s if any(r["object"] == "pods/%s/%s" % claimer
                                                 for r in s.get("refused", [])) else None)(
            env.status()), 60) or {}
        ref = [r for r in st.get("refused", []) if r["object"] == "pods/%s/%s" % claimer]
        c.check(bool(ref) and "already claimed" in ref[0]["reason"],
                "address-reuse: a second claim of %s is refused and reported" % hip,
                json.dumps(st.get("refused")))
        _, other = cl.add_pod(ns, app, tier, running=True)
        ok, secs, diff = env.wait_equal(60, leave_out=[claimer])
        c.check(ok, "address-reuse: the rest goes on (%s/%s applied) with only the refused "
                "pod left out" % other, diff)
        cl.delete_pod(holder)
        cl.free.remove(hip)
        ok, secs, diff = env.wait_equal(60)
        c.check(ok, "address-reuse: once %s/%s is deleted the claim is taken" % holder, diff)
        st = wait_for(lambda: (lambda s: s if not s.get("refused") else None)(env.status()), 10)
        c.check(st is not None, "address-reuse: nothing refused any more")

    if "refused-policy" in todo:
        ns = cl.namespaces[0]
        bad = {"metadata": {"namespace": ns, "name": "bad-port"}, "spec": {
            "podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}}
        env.store.create("networkpolicies", bad)
        good = cl.policy(a.policies + 1)
        good["metadata"]["name"] = "after-bad"
        good["metadata"]["namespace"] = ns
        env.store.create("networkpolicies", good)
        ok, secs, diff = env.wait_equal(60, leave_out=[(ns, "bad-port")])
        c.check(ok, "refused-policy: the policy after the refused one is applied", diff)
        st = wait_for(lambda: (lambda s: s if s.get("refused") else None)(env.status()), 10)
        ref = (st or {}).get("refused") or []
        c.check(len(ref) == 1 and ref[0]["object"] == "networkpolicies/%s/bad-port" % ns and
                "port" in ref[0]["reason"],
                "refused-policy: reported with its reason", json.dumps(ref))
        c.check((st or {}).get("counters", {}).get("refused_now") == 1,
                "refused-policy: counted (refused_now 1)")
        # one more, arriving with a relist: the replace is refused, sent
        # again without it, and it is reported the same way
        lists0 = env.status()["resources"]["networkpolicies"]["lists"]
        bad["metadata"]["name"] = "bad-port-2"
        env.server.kill()  # so that the object comes by the relist only
        env.store.create("networkpolicies", bad)
        env.store.compact()
        env.server.start()
        ok, secs, diff = env.wait_equal(60, leave_out=[(ns, "bad-port"), (ns, "bad-port-2")])
        st = wait_for(lambda: (lambda s: s if len(s.get("refused", [])) == 2 else None)(
            env.status()), 10) or env.status()
        c.check(ok and st["resources"]["networkpolicies"]["lists"] > lists0 and
                [r["object"] for r in st.get("refused", [])] == [
                    "networkpolicies/%s/bad-port" % ns, "networkpolicies/%s/bad-port-2" % ns] and
                st["counters"].get("replaces_refused", 0) >= 1,
                "refused-policy: a refused object in a relist's replace is left out, the rest "
                "replaced", diff + json.dumps(st.get("refused")) + json.dumps(st.get("counters")))
        env.store.delete("networkpolicies", ns, "bad-port")
        env.store.delete("networkpolicies", ns, "bad-port-2")
        ok, secs, diff = env.wait_equal(60)
        st = wait_for(lambda: (lambda s: s if not s.get("refused") else None)(env.status()), 10)
        c.check(ok and st is not None, "refused-policy: deleted, nothing refused any more", diff)

    if "bookmark" in todo:
        st0 = env.status()
        gone0 = st0["resources"]["pods"]["gone"]
        lists0 = st0["resources"]["pods"]["lists"]
        time.sleep(2.5)  # bookmarks (every 1 s) move the watch's version on
        env.store.compact()
        time.sleep(env.server.watch_max_s + 1)  # the server ends the watch; the agent resumes
        cl.add_pod(*cl.deployments[0], running=True)
        ok, secs, diff = env.wait_equal(60)
        st = env.status()
        r = st["resources"]["pods"]
        c.check(ok and r["gone"] == gone0 and r["lists"] == lists0 and r["bookmarks"] > 0,
                "bookmark: after a compaction the watch resumed from its bookmark, no relist "
                "(bookmarks %d, 410s %d -> %d, lists %d -> %d)" % (
                    r["bookmarks"], gone0, r["gone"], lists0, r["lists"]), diff)

    if "gone-410" in todo:
        st0 = env.status()
        lists0 = st0["resources"]["pods"]["lists"]
        fw = FloorWatch(env)
        fw.start()
        floor = len(cl.pods)
        env.store.expire_watches("pods")
        for _ in range(20):  # changes while the agent lists again
            cl.churn_one()
            time.sleep(0.02)
        floor = min(floor, len(cl.pods))
        ok, secs, diff = env.wait_equal(300)
        st = wait_for(lambda: (lambda s: s if s["resources"]["pods"]["lists"] > lists0 else None)(
            env.status()), 30) or env.status()
        fw.done()
        c.check(ok, "gone-410: after an ERROR 410 mid-watch npgw equals the API", diff)
        c.check(st["resources"]["pods"]["lists"] > lists0 and st["resources"]["pods"]["gone"] > 0,
                "gone-410: the agent listed the pods again (lists %d -> %d)" % (
                    lists0, st["resources"]["pods"]["lists"]))
        c.check(fw.samples > 0 and fw.min_pods >= floor - 20 and fw.min_pols >= a.policies,
                "gone-410: npgw never held a partial state (fewest pods %s, policies %s; "
                "%d samples)" % (fw.min_pods, fw.min_pols, fw.samples))

    if "apiserver-restart" in todo:
        st0 = env.status()
        fw = FloorWatch(env)
        fw.start()
        env.server.kill()
        time.sleep(1)
        for _ in range(30):
            cl.churn_one()
        env.store.compact()  # a restarted API server has no watch cache
        time.sleep(3)
        env.server.start()
        ok, secs, diff = env.wait_equal(120)
        fw.done()
        st = env.status()
        errs = sum(st["resources"][r]["errors"] for r in st["resources"])
        errs0 = sum(st0["resources"][r]["errors"] for r in st0["resources"])
        c.check(ok, "apiserver-restart: npgw equals the API %.1f s after the restart" % secs, diff)
        c.check(errs > errs0, "apiserver-restart: the agent saw the failures (%d -> %d) and "
                "backed off" % (errs0, errs))
        c.check(fw.samples > 0 and fw.min_pols >= a.policies and
                fw.min_pods >= len(cl.pods) - 30,
                "apiserver-restart: npgw kept its state meanwhile (fewest pods %s)" % fw.min_pods)

    if "npgw-restart" in todo:
        st0 = env.status()
        env.npgw.kill()
        env.npgw.wait()
        for _ in range(20):
            cl.churn_one()
        time.sleep(1)
        env.start_npgw()
        ok, secs, diff = env.wait_equal(300)
        st = wait_for(lambda: (lambda s: s if s.get("synced") else None)(env.status()), 10) or \
            env.status()
        c.check(ok, "npgw-restart: after SIGKILL and a restart npgw equals the API (%.1f s)" % secs,
                diff)
        c.check(st["counters"].get("npgw_connects", 0) > st0["counters"].get("npgw_connects", 0),
                "npgw-restart: the agent reconnected and resynced (replaces %s -> %s)" % (
                    st0["counters"].get("replaces_ok"), st["counters"].get("replaces_ok")))

    if "crd-missing" in todo:
        crd_missing(env, c, cl)
    if "tiers" in todo:
        tiers(env, c, cl)
    if "rbac-missing" in todo:
        rbac_missing(env, c)
    if "no-tiers" in todo:
        no_tiers(env, c)

    c.check(env.agent.poll() is None, "the agent is still running")
    st = wait_for(lambda: (lambda s: s if s.get("synced") else None)(env.status()), 10) or \
        env.status()
    report["lag_agent"] = st.get("lag_ms")
    c.check(st.get("synced") is True, "the agent's status says synced",
            json.dumps({k: st.get(k) for k in ("state", "npgw")}))



def crd_missing(env, c, cl):
    crds = sorted(apiserver.CRDS)
    # a few tries of the lists, with backoff, and still synced
    st = wait_for(lambda: (lambda s: s if s.get("synced") and all(
        s["resources"][r].get("not_served", 0) >= 3 for r in crds) else None)(env.status()),
        60) or env.status()
    c.check(st.get("synced") is True and st.get("not_served") == crds and
            all(st["resources"][r].get("served") is False for r in crds),
            "crd-missing: 404 on the three tier CRDs: the agent is synced and reports them "
            "not served", json.dumps({k: st.get(k) for k in ("state", "synced", "not_served")}))
    c.check(all(st["resources"][r].get("not_served", 0) >= 3 for r in crds) and
            all(st["resources"][r].get("errors", 0) == 0 for r in crds),
            "crd-missing: their lists are tried again with backoff, not counted as errors",
            json.dumps({r: st["resources"][r] for r in crds}))
    log_text = env.agent_log_text()
    once = {r: log_text.count("WARNING: %s: HTTP 404" % r) for r in crds}
    c.check(all(n == 1 for n in once.values()), "crd-missing: each logged once", str(once))
    # the rest goes on: a namespace, a pod, a policy, a Node changed
    env.store.create("namespaces", {"metadata": {"name": "late", "labels": {
        "kubernetes.io/metadata.name": "late", "team": "a"}}})
    cl.add_pod("late", "app-late", "web", running=True)
    env.store.create("networkpolicies", {"metadata": {"namespace": "late", "name": "deny"},
                                         "spec": {"podSelector": {}}})
    node = env.store.get("nodes", "", "node-1")
    node["metadata"]["labels"]["zone"] = "b"
    env.store.update("nodes", node)
    ok, secs, diff = env.wait_equal(60)
    st = env.status()
    c.check(ok and st.get("synced") is True, "crd-missing: Namespaces, Pods, NetworkPolicies "
            "and Nodes go on reaching npgw (%.1f s)" % secs, diff)
    # the CRDs installed (their objects already there): picked up, no restart
    for r in crds:
        env.store.serve(r)
    ok, secs, diff = env.wait_equal(60)
    st = wait_for(lambda: (lambda s: s if s.get("synced") and not s.get("not_served") else None)(
        env.status()), 20) or env.status()
    held = env.npgw_state()["tiers"]
    c.check(ok and len(held) == 3 and not st.get("not_served") and
            all(st["resources"][r].get("served") is True for r in crds),
            "crd-missing: the CRDs installed later: their objects reach npgw within the backoff "
            "(%.1f s): %s" % (secs, sorted(held)), diff)
    # a CRD removed: none of its objects any more (the API server deletes
    # them with it); served again, they are back
    env.store.unserve("clusternetworkpolicies")
    ok, secs, diff = env.wait_equal(60)
    ok = ok and not any(r == "clusternetworkpolicies" for r, _ in env.npgw_state()["tiers"])
    c.check(ok, "crd-missing: the ClusterNetworkPolicy CRD removed: npgw holds none of them "
            "(%.1f s)" % secs, diff)
    env.store.serve("clusternetworkpolicies")
    ok, secs, diff = env.wait_equal(60)
    c.check(ok, "crd-missing: installed again: back in npgw (%.1f s)" % secs, diff)
    st = wait_for(lambda: (lambda s: s if s.get("synced") else None)(env.status()), 20) or {}
    c.check(st.get("synced") is True and not st.get("refused"),
            "crd-missing: synced, nothing refused", json.dumps(st.get("refused")))


def tiers(env, c, cl):
    time.sleep(1.5)  # the status is rewritten at most once a second: a fresh one
    st0 = wait_for(lambda: (lambda s: s if s.get("synced") else None)(env.status()), 30) or \
        env.status()
    k0 = st0.get("counters", {})
    # a Node's heartbeat (conditions only) sends nothing to npgw
    node = env.store.get("nodes", "", "node-2")
    node["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-12-05T12:00:40Z"
    env.store.update("nodes", node)
    st = wait_for(lambda: (lambda s: s if s["counters"].get("events", 0) >
                           k0.get("events", 0) and s.get("synced") else None)(
        env.status()), 20) or env.status()
    k = st.get("counters", {})
    c.check(k.get("applies_sent", 0) == k0.get("applies_sent", 0) and
            k.get("events_unchanged", 0) > k0.get("events_unchanged", 0),
            "tiers: a Node's heartbeat sends nothing to npgw",
            json.dumps({x: (k0.get(x), k.get(x)) for x in ("applies_sent", "events_unchanged")}))
    # created and updated: each kind
    env.store.create("nodes", cl.node_obj("node-9", {"role": "infra"}, "192.0.2.99"))
    node = env.store.get("nodes", "", "node-1")
    node["metadata"]["labels"]["role"] = "infra"
    node["status"]["addresses"].append({"type": "ExternalIP", "address": "198.51.100.1"})
    env.store.update("nodes", node)
    env.store.create("adminnetworkpolicies", cl.anp("guard2", 11, ["deny-a"]))
    env.store.update("adminnetworkpolicies", cl.anp("guard", 12, ["deny-team-a", "more"]))
    env.store.update("baselineadminnetworkpolicies", cl.banp(["default-deny", "and-more"]))
    env.store.create("clusternetworkpolicies", cl.cnp("base", 3, ["b"], tier="Baseline"))
    env.store.update("clusternetworkpolicies", cl.cnp("infra", 21, ["no-infra-nodes", "x"]))
    ok, secs, diff = env.wait_equal(60)
    have = env.npgw_state()
    c.check(ok and have["tiers"][("adminnetworkpolicies", "guard")][2] == 12 and
            have["nodes"]["node-1"][1] == ("192.0.2.11", "198.51.100.1") and
            ("clusternetworkpolicies", "base") in have["tiers"],
            "tiers: Nodes, AdminNetworkPolicies, the BaselineAdminNetworkPolicy and "
            "ClusterNetworkPolicies created and updated reach npgw (%.1f s)" % secs, diff)
    # deleted: each kind
    env.store.delete("nodes", "", "node-9")
    env.store.delete("adminnetworkpolicies", "", "guard2")
    env.store.delete("baselineadminnetworkpolicies", "", "default")
    env.store.delete("clusternetworkpolicies", "", "base")
    ok, secs, diff = env.wait_equal(60)
    have = env.npgw_state()
    c.check(ok and "node-9" not in have["nodes"] and
            not any(r == "baselineadminnetworkpolicies" for r, _ in have["tiers"]) and
            ("adminnetworkpolicies", "guard") in have["tiers"],
            "tiers: a Node and one policy of each tier kind deleted: gone from npgw (%.1f s)" %
            secs, diff)
    # the status is rewritten at most once a second: wait for the deletes
    st = wait_for(lambda: (lambda s: s if s.get("synced") and s["counters"].get(
        "deletes_ok", 0) - k0.get("deletes_ok", 0) >= 4 else None)(env.status()), 20) or \
        env.status()
    k = st.get("counters", {})
    c.check(k.get("replaces_ok") == k0.get("replaces_ok") and
            k.get("applys_ok", 0) - k0.get("applys_ok", 0) >= 7 and
            k.get("deletes_ok", 0) - k0.get("deletes_ok", 0) >= 4 and not st.get("refused"),
            "tiers: as applies and deletes, no replace, nothing refused",
            json.dumps({x: (k0.get(x), k.get(x)) for x in ("replaces_ok", "applys_ok",
                                                            "deletes_ok")}) +
            json.dumps(st.get("refused")))
    # the one BaselineAdminNetworkPolicy back, for what follows
    env.store.create("baselineadminnetworkpolicies", cl.banp(["default-deny"]))
    ok, secs, diff = env.wait_equal(60)
    c.check(ok, "tiers: the BaselineAdminNetworkPolicy created again", diff)


def rbac_missing(env, c):
    env.stop_agent()
    for r in ("nodes", "adminnetworkpolicies"):
        env.store.forbid(r)
    env.start_agent()
    ok, secs, diff = env.wait_equal(60)
    st = wait_for(lambda: (lambda s: s if s.get("synced") and s.get("not_served") == [
        "adminnetworkpolicies", "nodes"] else None)(env.status()), 20) or env.status()
    have = env.npgw_state()
    c.check(ok and st.get("synced") is True and not have["nodes"] and have["pods"] and
            not any(r == "adminnetworkpolicies" for r, _ in have["tiers"]) and
            any(r == "clusternetworkpolicies" for r, _ in have["tiers"]),
            "rbac-missing: 403 on nodes and adminnetworkpolicies from the start: the rest "
            "syncs, the agent is ready (%.1f s)" % secs,
            diff + json.dumps({k: st.get(k) for k in ("state", "not_served")}))
    log_text = env.agent_log_text()
    c.check("WARNING: nodes: HTTP 403" in log_text, "rbac-missing: logged")
    for r in ("nodes", "adminnetworkpolicies"):
        env.store.forbid(r, False)
    ok, secs, diff = env.wait_equal(60)
    have = env.npgw_state()
    c.check(ok and have["nodes"] and
            any(r == "adminnetworkpolicies" for r, _ in have["tiers"]),
            "rbac-missing: granted: they reach npgw without a restart (%.1f s)" % secs, diff)
    # listed once, a 403 is an error like any other: npgw keeps what it has
    st0 = env.status()
    env.store.forbid("nodes")
    time.sleep(env.server.watch_max_s + 3)  # the open watch ends; the next is 403
    st = env.status()
    have = env.npgw_state()
    c.check(have["nodes"] and st["resources"]["nodes"].get("served") is True and
            st["resources"]["nodes"]["errors"] > st0["resources"]["nodes"]["errors"],
            "rbac-missing: a 403 after the first list is an error, npgw keeps the Nodes",
            json.dumps(st["resources"]["nodes"]))
    env.store.forbid("nodes", False)
    ok, secs, diff = env.wait_equal(60)
    c.check(ok, "rbac-missing: granted again, in sync", diff)


def no_tiers(env, c):
    env.stop_agent()
    before = dict(env.server.by_resource)
    env.start_agent("--no-tiers")
    ok, secs, diff = env.wait_equal(60)
    have = env.npgw_state()
    st = wait_for(lambda: (lambda s: s if s.get("synced") else None)(env.status()), 20) or \
        env.status()
    c.check(ok and not have["tiers"] and not have["nodes"] and have["pods"],
            "no-tiers: with --no-tiers npgw holds no tier policy and no Node; the rest stays "
            "(%.1f s)" % secs, diff)
    asked = {r: env.server.by_resource[r] - before[r] for r in ("nodes",) + tuple(TIER_KINDS)}
    c.check(not any(asked.values()) and
            sorted(st.get("objects") or {}) == ["namespaces", "networkpolicies", "pods"],
            "no-tiers: the agent asked the API for none of them", str(asked))


if __name__ == "__main__":
    sys.exit(main())
