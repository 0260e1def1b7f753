#!/usr/bin/python3
"""observability.py: npgw's metrics, telemetry, events and dashboard, end to end.

  observability.py [--keep] [--plot DIR]

Brings the harness up (tests/e2e/harness.sh: nine pods, npgw between them
with metrics on 127.0.0.1:19469), starts the real Prometheus server
(Debian's prometheus) scraping npgw every second, makes real traffic
(TCP probes between every pair of pods under config/examples/02-namespace-
isolation.yaml, then under 01-default-deny-ingress.yaml as well), and checks:

  - `promtool check metrics` passes on GET /metrics, which holds every
    metric name of the contract (issue 13) and nothing of a wrong type;
  - what PromQL answers from Prometheus's HTTP API equals `npgwctl stats`
    (packets allowed, drops by reason, rule hits, flows, generations);
  - rule hits carry over a new generation (no counter reset in Prometheus);
  - DPDK telemetry (/npgw/status, /npgw/stats, /npgw/flows through
    dpdk-telemetry.py) agrees with npgwctl;
  - `npgwctl status` reads every port's link, `stats` gives every worker;
  - `npgwctl observe` shows the denied and allowed new flows with their pods,
    policy and rule, and the filters work; the lost count is reported;
  - the log has one audit line per change, accepted or refused;
  - every PromQL expression of config/grafana/npgw.json is accepted by
    Prometheus and returns series.

--plot DIR writes DIR/observability.png and DIR/observability.json: a plot
made from Prometheus's query_range answers over the run, and those answers.

Exit status: 0 passed, 1 failed, 2 usage, 77 skipped (not root).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netpol  # noqa: E402  (tests/e2e/netpol.py: the harness runner)
import pods  # noqa: E402

TOP = netpol.TOP
NPGWCTL = netpol.NPGWCTL
METRICS = os.environ.get("NPGW_E2E_METRICS", "127.0.0.1:19469")
PROM = "127.0.0.1:19090"
DASHBOARD = os.path.join(TOP, "config", "grafana", "npgw.json")
RUN = os.environ.get("NPGW_E2E_RUN", "/tmp/npgw-e2e")

# The contract of issue 13: these names and types, exactly.
CONTRACT = {
    "npgw_build_info": "gauge", "npgw_generation": "gauge",
    "npgw_generations_published_total": "counter", "npgw_apply_duration_seconds": "histogram",
    "npgw_apply_failures_total": "counter",
    "npgw_port_rx_packets_total": "counter", "npgw_port_tx_packets_total": "counter",
    "npgw_port_rx_bytes_total": "counter", "npgw_port_tx_bytes_total": "counter",
    "npgw_port_rx_missed_total": "counter", "npgw_port_rx_nombuf_total": "counter",
    "npgw_port_link_up": "gauge",
    "npgw_packets_total": "counter", "npgw_drops_total": "counter",
    "npgw_non_ip_packets_total": "counter", "npgw_policy_rule_hits_total": "counter",
    "npgw_steered_packets_total": "counter",
    "npgw_flows_active": "gauge", "npgw_flow_table_capacity": "gauge",
    "npgw_flows_created_total": "counter", "npgw_flows_refused_full_total": "counter",
    "npgw_flows_expired_total": "counter", "npgw_flows_revoked_total": "counter",
    "npgw_denied_flows_active": "gauge", "npgw_denied_flows_created_total": "counter",
    "npgw_denied_flows_hits_total": "counter", "npgw_denied_flows_evicted_total": "counter",
    "npgw_denied_flows_skipped_total": "counter",
    "npgw_tcp_out_of_window_total": "counter", "npgw_sctp_invalid_total": "counter",
    "npgw_worker_polls_total": "counter", "npgw_worker_busy_polls_total": "counter",
    "npgw_events_total": "counter", "npgw_events_lost_total": "counter",
}


class Check:
    def __init__(self):
        self.failures = []

    def ok(self, cond, what, detail=""):
        print("%s: %s%s" % ("ok" if cond else "FAIL", what, (": " + detail) if detail and not cond else ""))
        if not cond:
            self.failures.append(what + ((": " + detail) if detail else ""))
        return cond


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def promql(expr, at=None):
    """Prometheus's instant query answer: (status, result list)."""
    q = {"query": expr}
    if at is not None:
        q["time"] = "%.3f" % at
    try:
        d = json.loads(http_get("http://%s/api/v1/query?%s" % (PROM, urllib.parse.urlencode(q))))
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        try:
            d = json.loads(body)
        except ValueError:  # not an API answer (Prometheus still starting)
            return "error", [], "HTTP %d: %s" % (e.code, body[:200])
    return d.get("status"), d.get("data", {}).get("result", []), d.get("error")


def scalar(expr):
    """One value of an expression that must give one series (None if not)."""
    st, res, _ = promql(expr)
    if st != "success" or len(res) != 1:
        return None
    return float(res[0]["value"][1])


def ctl(*args):
    r = subprocess.run([NPGWCTL, "--socket", os.path.join(RUN, "npgw.sock")] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r


def ctl_json(*args):
    r = ctl(*args, "-o", "json")
    if r.returncode != 0:
        raise netpol.Failed("npgwctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return json.loads(r.stdout)


def telemetry(cmd):
    r = subprocess.run(["dpdk-telemetry.py", "-f", "npgw-e2e"], input=cmd + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
    for line in reversed(r.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line).get(cmd)
    raise netpol.Failed("dpdk-telemetry.py %s: no answer: %s" % (cmd, r.stdout))


class Prometheus:
    """The real Prometheus server, scraping npgw every second."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(self.dir)
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: npgw\n    static_configs:\n"
                    "      - targets: ['%s']\n" % METRICS)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=" + PROM, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            if self.wait_up():
                return
        except BaseException:
            self.stop()
            raise
        self.stop()
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            raise netpol.Failed("Prometheus did not come up scraping npgw:\n" + f.read())

    def wait_up(self):
        """True once Prometheus has scraped npgw (up == 1), within a minute."""
        end = time.monotonic() + 60
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                if scalar('up{job="npgw"}') == 1.0:
                    return True
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            time.sleep(0.5)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_equal(c, what, pairs, seconds=15):
    """pairs: [(promql, fn(stats) -> value)]. Poll until Prometheus's
    answers equal what npgwctl stats says (the scrape is a second behind),
    then report each."""
    end = time.monotonic() + seconds
    while True:
        st = ctl_json("stats")
        got = [(e, scalar(e), fn(st)) for e, fn in pairs]
        if all(p == s for _, p, s in got) or time.monotonic() > end:
            break
        time.sleep(0.5)
    for e, p, s in got:
        c.ok(p == s, "%s: PromQL %s == npgwctl stats" % (what, e), "Prometheus %r, stats %r" % (p, s))
    return st


def rule_key(r):
    pol = r["policy"].split("/", 1)
    return (pol[0], pol[1], r["direction"], str(r.get("rule", "default")), r["action"])


def series_key(m):
    return (m["namespace"], m["policy"], m["direction"], m["rule"], m["action"])


def rule_hits():
    st, res, _ = promql("npgw_policy_rule_hits_total")
    return {series_key(s["metric"]): float(s["value"][1]) for s in res}


def check_exposition(c, tmp):
    text = http_get("http://%s/metrics" % METRICS)
    path = os.path.join(tmp, "metrics.txt")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run(["promtool", "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    c.ok(r.returncode == 0, "promtool check metrics passes on GET /metrics", r.stdout)
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
    missing = [n for n in CONTRACT if types.get(n) != CONTRACT[n]]
    c.ok(not missing, "every metric of the contract is there with its type (%d names)" % len(CONTRACT),
         ", ".join("%s (%s)" % (n, types.get(n, "absent")) for n in missing))
    print("\n".join(text.splitlines()[:12]))
    return text


def check_dashboard(c):
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
    c.ok(len(exprs) > 0, "the dashboard has PromQL expressions (%d)" % len(exprs))
    for title, e in exprs:
        q = (e.replace("$__rate_interval", "20s").replace("$__range", "5m")
             .replace("$instance", ".*"))
        st, res, err = promql(q)
        c.ok(st == "success" and len(res) > 0,
             "dashboard '%s': %s -> %d series" % (title, e, len(res)),
             "status %s, error %s" % (st, err))


def plot(dirpath, t0, t1):
    """The run's real query_range answers, kept as JSON and drawn."""
    queries = {
        "packets by verdict (pps)": 'sum by (verdict) (rate(npgw_packets_total[5s]))',
        "drops by reason (pps)": 'sum by (reason) (rate(npgw_drops_total[5s])) > 0',
        "rule hits (new flows/s)": 'sum by (namespace, policy, direction, rule, action) '
                                   '(rate(npgw_policy_rule_hits_total[5s]))',
        "flows": 'npgw_flows_active',
    }
    out = {"start": t0, "end": t1, "step": 1, "queries": {}}
    for title, q in queries.items():
        url = "http://%s/api/v1/query_range?%s" % (PROM, urllib.parse.urlencode(
            {"query": q, "start": "%.0f" % t0, "end": "%.0f" % t1, "step": "1"}))
        out["queries"][title] = {"expr": q, "result": json.loads(http_get(url))["data"]["result"]}
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "observability.json"), "w") as f:
        json.dump(out, f, indent=1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(queries), 1, figsize=(9, 2.6 * len(queries)), sharex=True)
    for ax, (title, d) in zip(axes, out["queries"].items()):
        for s in d["result"]:
            xs, ys = [], []
            for v in s["values"]:
                x = float(v[0]) - t0
                if xs and x - xs[-1] > 1.5:  # no sample there: a gap, not a line
                    xs.append(float("nan"))
                    ys.append(float("nan"))
                xs.append(x)
                ys.append(float(v[1]))
            label = ",".join("%s" % v for k, v in sorted(s["metric"].items())
                             if k not in ("__name__", "instance", "job")) or "total"
            ax.plot(xs, ys, label=label[:60])
        ax.set_title(title + ":  " + d["expr"], fontsize=8)
        if d["result"]:
            ax.legend(fontsize=6, loc="upper left")
    axes[-1].set_xlabel("seconds since Prometheus began to scrape npgw (query_range, step 1 s)")
    fig.tight_layout()
    fig.savefig(os.path.join(dirpath, "observability.png"), dpi=90)
    print("plot: %s" % os.path.join(dirpath, "observability.png"))


def run(c, t, tmp, a):
    prom = Prometheus(tmp)
    t0 = time.time()
    try:
        print("Prometheus %s scrapes npgw at %s every second" % (PROM, METRICS))
        names = t.names
        # --- phase 1: y admits only y (allow rule hits, policy denies) ---
        t.apply_file(os.path.join(netpol.EXAMPLES, "02-namespace-isolation.yaml"))
        pods.probe(t.pods, 80, "tcp", 4, 2.0)
        st = wait_equal(c, "after 02-namespace-isolation", [
            ('npgw_packets_total{verdict="allowed"}', lambda s: float(s["allowed"])),
            ('npgw_drops_total{reason="policy-ingress"}', lambda s: float(s["drops"].get("policy-ingress", 0))),
            ('sum(npgw_drops_total)', lambda s: float(s["dropped"])),
            ('npgw_flows_created_total', lambda s: float(s["flows"]["created"])),
            ('npgw_generation', lambda s: float(s["generation"])),
        ])
        hits = rule_hits()
        live = {rule_key(r): float(r["hits"]) for r in st["rules"]}
        c.ok(live and hits == live, "rule hits: npgw_policy_rule_hits_total == npgwctl stats rules (%d rules)" % len(live),
             "Prometheus %r, stats %r" % (hits, live))
        deny = [k for k in hits if k[:2] == ("y", "allow-same-namespace") and k[4] == "deny"]
        allow = [k for k in hits if k[:2] == ("y", "allow-same-namespace") and k[4] == "allow"]
        c.ok(deny and allow, "y/allow-same-namespace has both allow (rule 0) and deny (default) hits")

        # --- phase 2: a new generation; the counters go on ---
        before = hits
        t.apply_file(os.path.join(netpol.EXAMPLES, "01-default-deny-ingress.yaml"))
        pods.probe(t.pods, 80, "tcp", 4, 2.0)
        st = wait_equal(c, "after 01-default-deny-ingress too", [
            ('npgw_packets_total{verdict="denied"}',
             lambda s: float(s["drops"].get("policy-ingress", 0) + s["drops"].get("policy-egress", 0)
                             + s["drops"].get("ct-revoked", 0))),
            ('npgw_generation', lambda s: float(s["generation"])),
        ])
        after = rule_hits()
        grew = all(after.get(k, -1) >= v for k, v in before.items())
        c.ok(grew, "rule hits of the earlier generation carry over (no counter went down)",
             "before %r after %r" % (before, after))
        live = {rule_key(r): float(r["hits"]) for r in st["rules"]}
        k = deny[0] if deny else None
        if k is not None:
            c.ok(after[k] > live.get(k, 0), "the total of %s exceeds the live generation's own count" % "/".join(k),
                 "total %r live %r" % (after[k], live.get(k, 0)))
        resets = scalar('sum(resets(npgw_policy_rule_hits_total[5m])) + sum(resets(npgw_drops_total[5m]))'
                        ' + sum(resets(npgw_packets_total[5m]))')
        c.ok(resets == 0.0, "PromQL resets() over the run is 0 for rule hits, drops and packets",
             "resets %r" % resets)
        c.ok(scalar("npgw_apply_failures_total") == 0.0, "no apply failed so far")
        bad = t.file("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: x}\n"
                      "spec: {podSelector: {}, ingress: [{ports: [{port: 70000}]}]}\n")
        r = ctl("apply", "-f", bad)
        c.ok(r.returncode == 1, "a bad policy is refused")

        # --- the exposition, status, stats, telemetry ---
        check_exposition(c, tmp)
        status = ctl_json("status")
        ports = status.get("ports", [])
        c.ok(len(ports) == len(names) and all(p["link"] == "up" for p in ports)
             and status.get("ports_up") == len(names),
             "npgwctl status reads the link of every port (%d up)" % status.get("ports_up", 0), json.dumps(ports)[:300])
        st = ctl_json("stats")
        c.ok(len(st.get("workers", [])) == 1 and st["workers"][0]["rx"] > 0,
             "npgwctl stats gives per-worker counters", json.dumps(st.get("workers")))
        tel = telemetry("/npgw/stats")
        c.ok(tel["allowed"] == st["allowed"] and tel["dropped"] == st["dropped"],
             "telemetry /npgw/stats == npgwctl stats (allowed %d, dropped %d)" % (st["allowed"], st["dropped"]),
             json.dumps(tel))
        tel = telemetry("/npgw/status")
        c.ok(tel["ready"] == 1 and tel["generation"] == st["generation"]
             and all(v == "up" for v in tel["links"].values()) and len(tel["links"]) == len(names),
             "telemetry /npgw/status: ready, generation, every link up", json.dumps(tel))
        # flows expire meanwhile: what was created, and active + expired, agree
        for _ in range(5):
            tel = telemetry("/npgw/flows")
            fl = ctl_json("stats")["flows"]
            same = (tel["created"] == fl["created"] and tel["capacity"] == fl["capacity"]
                    and tel["active"] + tel["expired"] == fl["in_use"] + fl["expired"])
            if same:
                break
            time.sleep(0.5)
        c.ok(same, "telemetry /npgw/flows == npgwctl stats flows", "%s vs %s" % (json.dumps(tel), json.dumps(fl)))
        listed = telemetry("/")
        c.ok(all(x in listed for x in ("/npgw/status", "/npgw/stats", "/npgw/flows", "/ethdev/stats")),
             "dpdk-telemetry.py lists /npgw/* next to /ethdev/*")

        # --- the audit log ---
        with open(os.path.join(RUN, "npgw.log")) as f:
            log = f.read()
        acc = [x for x in log.splitlines() if "npgw.ctl: audit: uid 0 pid" in x and "apply accepted" in x]
        ref = [x for x in log.splitlines() if "npgw.ctl: audit: uid 0 pid" in x and "apply refused" in x]
        c.ok(len(acc) >= 3 and len(ref) == 1, "one audit line per change (%d accepted, %d refused)" % (len(acc), len(ref)))
        if ref:
            print(ref[0])
        c.ok("npgw.gateway: " in log and "RTE_LOG_DEFAULT_LOGTYPE" not in log, "log types are npgw.<module>")

        check_events(c, t)

        # the dashboard last: every panel has had traffic in its window
        time.sleep(2)
        check_dashboard(c)
        if a.plot:
            plot(a.plot, t0 - 2, time.time())
    finally:
        prom.stop()


def check_events(c, t):
    """npgwctl observe: the denied and allowed new flows of the probes."""
    r = ctl("observe", "-o", "json", "--verdict", "denied", "--port", "80")
    evs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    c.ok(r.returncode == 0 and "lost since the gateway started" in r.stderr,
         "npgwctl observe answers and reports the lost count", r.stderr)
    want = [e for e in evs if e["type"] == "new-denied" and e.get("policy") == "y/allow-same-namespace"
            and e["source"].get("pod", "").startswith("x/") and e["destination"].get("pod", "").startswith("y/")
            and e["protocol"] == "TCP" and e["destination"].get("port") == 80 and e.get("rule") == "default"
            and e.get("reason") == "policy-ingress" and e.get("direction") == "ingress"]
    c.ok(len(want) > 0, "observe --verdict denied: x/* -> y/*:80 denied by y/allow-same-namespace's default deny "
         "(%d of %d events)" % (len(want), len(evs)), r.stdout[:600])
    c.ok(all(e["verdict"] == "denied" for e in evs), "--verdict denied gives only denied events")
    r = ctl("observe", "-o", "json", "--verdict", "allowed", "--pod", "y/b")
    evs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    want = [e for e in evs if e["type"] == "new-allowed" and e["source"].get("pod", "").startswith("y/")
            and e["destination"].get("pod") == "y/b" and e.get("policy") == "y/allow-same-namespace"
            and e.get("rule") == 0 and e.get("state") == "new"]
    c.ok(len(want) > 0, "observe --verdict allowed --pod y/b: y/* -> y/b allowed by rule 0 (%d of %d)"
         % (len(want), len(evs)), r.stdout[:600])
    c.ok(all("y/b" in (e["source"].get("pod"), e["destination"].get("pod")) for e in evs),
         "--pod y/b gives only y/b's events")
    r = ctl("observe", "-n", "z", "--last", "5")
    print(r.stdout + r.stderr)
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    c.ok(r.returncode == 0 and 0 < len(lines) <= 5 and all(" z/" in x for x in lines),
         "observe -n z --last 5: text lines, each with a pod of z")
    r = ctl("observe", "--verdict", "maybe")
    c.ok(r.returncode == 1 and "verdict" in r.stderr, "a bad --verdict is refused by the gateway", r.stderr)
    # --follow prints what comes after it started
    p = subprocess.Popen([NPGWCTL, "--socket", os.path.join(RUN, "npgw.sock"), "observe", "--follow",
                          "-o", "json", "--last", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    pods.probe(t.pods, 81, "udp", 4, 2.0)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    evs = [json.loads(x) for x in out.splitlines() if x.strip()]
    c.ok(any(e["protocol"] == "UDP" and e["destination"].get("port") == 81 for e in evs),
         "observe --follow prints the UDP/81 flows made after it started (%d events)" % len(evs), err)
    st = ctl_json("stats")
    ev = st.get("events", {})
    c.ok(scalar("npgw_events_total") is not None and ev.get("recorded", 0) > 0,
         "events recorded: %d, lost %d (rate limit) + %d (ring full)"
         % (ev.get("recorded", 0), ev.get("lost_rate_limit", 0), ev.get("lost_ring_full", 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="leave the harness up at the end")
    ap.add_argument("--plot", metavar="DIR", help="write the plot and the query answers there")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("observability.py: skipped: needs root (network namespaces)")
        return 77
    c = Check()
    for tool in ("prometheus", "promtool", "dpdk-telemetry.py"):
        if shutil.which(tool) is None:
            print("FAIL: %s is not installed (scripts/install-deps.sh installs it)" % tool)
            return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, netpol.on_signal)
    tmp = tempfile.mkdtemp(prefix="npgw-obs.")
    home = pods.Home()
    lock = None
    try:
        lock = netpol.take_lock()  # held until exit
        t = netpol.Run(tmp)
        t.case = "observability"
        t.harness("up")
        t.harness("start")
        print("harness up: 9 pods, npgw with metrics on %s" % METRICS)
        run(c, t, tmp, a)
    except netpol.Failed as e:
        c.ok(False, str(e))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        home.back()
        if lock is None:
            pass  # never got the lock: the harness up is another run's, leave it
        elif a.keep:
            print("\nharness kept up: scripts/e2e.sh down removes it")
        else:
            subprocess.run(["bash", netpol.HARNESS, "down"])
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n=== summary: %d failed" % len(c.failures))
    for f in c.failures:
        print("failed: " + f)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
