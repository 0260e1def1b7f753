#!/usr/bin/python3
"""harness.py: run npgw or dpdk-testpmd on the benchmark's ports and measure.

A library for the scripts of scripts/bench/ (throughput.py, hotswap.py,
update.py), not a command. The ports, the same for both programs:

  port 0: net_pcap0,rx_pcap=TRAFFIC,infinite_rx=1   the load, replayed
          forever from mbufs preloaded at start (each rx copies a frame
          into a fresh mbuf); no tx file, so what leaves by it is dropped
  port 1: net_pcap1,rx_pcap=ONCE                    frames read once (the
          TCP handshakes that make flows established, or nothing); what
          leaves by it is dropped by the driver (tx_drop)

npgw bridges the two as a wire with one worker on lcore 1; testpmd
forwards with --forward-mode=io on lcore 1. Both run --no-pci, on 4 KiB
pages (--no-huge) or, with NPGW_BENCH_HUGE=1, on 2 MiB hugepages,
each with its own --file-prefix, one at a time (the machine has two
cores: lcore 0 runs npgw's control thread or testpmd's prompt).

Measurement: counters over a fixed window after a warm-up. npgw: port 0 rx
and port 1 tx from `npgwctl stats -o json`, timed on the client (two calls
a few ms each, against a window of seconds). testpmd: the Rx-pps of port 0
that "show port stats" computes itself between two calls. Cycles per packet
= TSC Hz / packets per second: the worker polls without pause and the
replayed port never runs dry, so its core is 100% busy (npgw's idle-poll
count would say otherwise; it has none to say).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("NPGW_BENCH_BUILD", os.path.join(TOP, "build-release"))
NPGW = os.environ.get("NPGW", os.path.join(BUILD, "app", "npgw", "npgw"))
NPGWCTL = os.environ.get("NPGWCTL", os.path.join(BUILD, "app", "npgwctl"))
TESTPMD = os.environ.get("TESTPMD", "dpdk-testpmd")
EMPTY_PCAP = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + bytes(8) + b"\xff\xff\x00\x00\x01\x00\x00\x00"


def tsc_hz():
    """The TSC frequency: what the kernel detected, else cpu MHz."""
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        m = re.search(r"tsc: Detected ([0-9.]+) MHz", out)
        if m:
            return float(m.group(1)) * 1e6
    except OSError:
        pass
    with open("/proc/cpuinfo") as f:
        m = re.search(r"cpu MHz\s*:\s*([0-9.]+)", f.read())
    return float(m.group(1)) * 1e6


def frames_of(pcap):
    try:
        with open(pcap + ".meta") as f:
            return json.load(f)["frames"]
    except OSError:
        return 4096


# NPGW_BENCH_HUGE=1: every program of the benchmark (npgw, testpmd, l3fwd,
# Open vSwitch) runs on 2 MiB hugepages, reserved and mounted here on
# demand (hugepages_setup), instead of --no-huge's 4 KiB pages. What a NIC
# deployment runs on; the 1,000,000-flow captures need it (net_pcap
# preloads them into mbufs: 2.5 GB).
HUGE = os.environ.get("NPGW_BENCH_HUGE") == "1"
HUGE_DIR = "/dev/hugepages"


def mbufs_for(pcap, once=None):
    """Mbufs to hold the preloaded capture plus rings and caches: 2^n - 1
    up to 2^18 (a mempool's best size); above, just what is needed (a
    million-frame capture would otherwise take 2^21)."""
    need = frames_of(pcap) + 16384
    if need > 262143:
        return need
    n = 1
    while n - 1 < need:
        n <<= 1
    return n - 1


def mem_mb(mbufs, extra_mb=256):
    """EAL memory for a pool of mbufs and extra_mb for the rest. An mbuf
    takes about 2.4 KiB; without hugepages pools of a million mbufs fail
    below about 5.5 KiB each (measured: 3.6 GB refused, 6 GB works)."""
    per = 2.6 if HUGE else 5.5 if mbufs > 100000 else 3
    return int(mbufs * per / 1024) + extra_mb + 256


def hugepages_setup(mb):
    """Make room for a DPDK process of mb MB on 2 MiB hugepages: reserve
    pages (vm.nr_hugepages) until that many are free, and mount hugetlbfs
    on /dev/hugepages when nothing is. Returns None, or why it cannot."""
    need = mb // 2 + 32
    try:
        with open("/proc/meminfo") as f:
            mi = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        total = int(mi["HugePages_Total"].split()[0])
        free = int(mi["HugePages_Free"].split()[0])
        if free < need:
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(total + need - free))
            with open("/proc/meminfo") as f:
                mi = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
            free = int(mi["HugePages_Free"].split()[0])
            if free < need:
                return "only %d of the %d 2 MiB hugepages needed could be reserved" % (
                    free, need)
        with open("/proc/mounts") as f:
            mounted = any(l.split()[2] == "hugetlbfs" for l in f if len(l.split()) > 2)
        if not mounted:
            os.makedirs(HUGE_DIR, exist_ok=True)
            r = subprocess.run(["mount", "-t", "hugetlbfs", "nodev", HUGE_DIR],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return "cannot mount hugetlbfs on %s: %s" % (HUGE_DIR, r.stderr.strip())
    except (OSError, KeyError, ValueError) as e:
        return "cannot reserve hugepages: %s" % e
    return None


def eal_mem(mb):
    """The EAL's memory arguments for mb MB: 2 MiB hugepages under
    NPGW_BENCH_HUGE=1 (reserved here; --huge-unlink: no page files left
    behind by a killed run), else --no-huge."""
    if not HUGE:
        return ["--no-huge", "-m", str(mb)]
    why = hugepages_setup(mb)
    if why:
        raise RuntimeError(why)
    return ["-m", str(mb)]


class Tmp:
    def __init__(self, keep=False):
        self.dir = tempfile.mkdtemp(prefix="npgw-bench.")
        self.keep = keep

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def ports(pcap, once, infinite=True):
    return ["net_pcap0,rx_pcap=%s%s" % (pcap, ",infinite_rx=1" if infinite else ""),
            "net_pcap1,rx_pcap=%s" % once]


def empty_pcap(tmp):
    p = tmp.path("empty.pcap")
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(EMPTY_PCAP)
    return p


class Npgw:
    """A running npgw daemon on the benchmark's ports."""

    def __init__(self, tmp, policies, pcap, once=None, conntrack=None, extra_mb=256,
                 tag="npgw", burst=32, extra_cfg=()):
        """pcap None: no load (port 0 reads an empty capture once);
        extra_cfg: more top-level config lines (events:, metrics:)."""
        self.tmp = tmp
        infinite = pcap is not None
        pcap = pcap or empty_pcap(tmp)
        self.sock = tmp.path(tag + ".sock")
        once = once or empty_pcap(tmp)
        mbufs = mbufs_for(pcap)
        dev = ports(pcap, once, infinite)
        cfg = [
            "policies: [%s]" % ", ".join(json.dumps(p) for p in policies),
            "control: {socket: %s}" % self.sock,
            "state_dir: %s" % tempfile.mkdtemp(prefix=tag + "-state.", dir=tmp.dir),
            "ports:",
            '  - {name: in, device: "%s"}' % dev[0],
            '  - {name: out, device: "%s"}' % dev[1],
            "bridges:",
            "  - {name: wire, ports: [in, out]}",
            "workers:",
            "  - lcore: 1",
            "mempool: {mbufs: %d, cache: 256}" % mbufs,
            "burst: %d" % burst,
            "eal: %s" % json.dumps(
                eal_mem(mem_mb(mbufs, extra_mb)) + (["--huge-unlink"] if HUGE else []) +
                ["--no-pci", "--file-prefix", "%s-%d" % (tag, os.getpid()),
                 "--log-level", "lib.*:error", "--log-level", "pmd.*:error"]),
        ] + list(extra_cfg)
        if conntrack is not None:
            cfg.append("conntrack: %s" % json.dumps(conntrack))
        self.cfg_path = tmp.path(tag + ".yaml")
        with open(self.cfg_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log = open(tmp.path(tag + ".log"), "w")
        self.proc = subprocess.Popen([NPGW, "--config", self.cfg_path], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def ctl(self, *args, check=True, input=None):
        r = subprocess.run([NPGWCTL, "--socket", self.sock] + list(args), capture_output=True,
                           text=True, input=input)
        if check and r.returncode != 0:
            raise RuntimeError("npgwctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def ready(self, timeout=600):
        t_end = time.monotonic() + timeout
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None:
                raise RuntimeError("npgw exited %d: see %s" % (self.proc.returncode,
                                                              self.log.name))
            if time.monotonic() > t_end:
                raise RuntimeError("npgw: no control socket after %d s" % timeout)
            time.sleep(0.05)
        # a start-up generation that failed (say, a state over the state
        # file's limit) leaves npgw running with none: say so, do not wait
        while not self.status().get("ready"):
            with open(self.log.name) as f:
                text = f.read()
            if "no generation at start" in text:
                why = [l for l in text.splitlines() if "refused" in l or "cannot" in l]
                self.stop()
                raise RuntimeError("npgw started without a generation: %s" %
                                   (why[-1] if why else "see " + self.log.name))
            if time.monotonic() > t_end:
                raise RuntimeError("npgw: no generation after %d s" % timeout)
            time.sleep(0.1)
        return self

    def stats(self):
        t0 = time.monotonic()
        s = json.loads(self.ctl("stats", "-o", "json").stdout)
        t1 = time.monotonic()
        s["t"] = (t0 + t1) / 2
        s["cpu"] = worker_cpu(self.proc.pid)
        return s

    def status(self):
        return json.loads(self.ctl("status", "-o", "json").stdout)

    def stop(self):
        """SIGTERM; returns the final counters npgw prints once its worker
        has stopped (exact, unlike snapshots of a running worker, whose rx
        is counted a burst before its tx): {"rx", "tx", "drops"}, summed
        over the ports, or None when it did not print them."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return final_counters(self.log.name)


def final_counters(log):
    with open(log) as f:
        text = f.read()
    i = text.rfind("npgw: final counters")
    if i < 0:
        return None
    rx = tx = 0
    drops = {}
    in_ports = False
    for line in text[i:].splitlines()[1:]:
        w = line.split()
        if line.startswith("port ") and w[1:] == ["rx", "tx", "drop"]:
            in_ports = True
        elif in_ports and len(w) == 4 and all(x.isdigit() for x in w[1:]):
            rx += int(w[1])
            tx += int(w[2])
        elif w[:1] == ["drop"] and len(w) == 3 and w[2].isdigit():
            in_ports = False
            drops[w[1]] = int(w[2])
        else:
            in_ports = False
    return {"rx": rx, "tx": tx, "drops": drops}


def worker_cpu(pid, main_thread=False):
    """CPU seconds (user + system) of the DPDK worker thread(s) of process
    pid: the threads EAL names lcore-worker-N. On this shared machine a
    worker is often off its core; packets per CPU-second of the worker is
    the rate per core, where packets per wall second is not. DPDK 22.11
    names them rte-worker-N (earlier releases lcore-worker-N); main_thread:
    also the main thread, for a program that forwards on its main lcore."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                worker = f.read().startswith(("rte-worker", "lcore-worker"))
            if not (worker or (main_thread and int(tid) == pid)):
                continue
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read().rsplit(")", 1)[1].split()
            total += int(st[11]) + int(st[12])  # utime, stime
        except OSError:
            continue
    return total / tick


def window(a, b):
    """Rates and counts between two npgw stats snapshots: per wall second,
    and per CPU-second of the worker (rx_pps_cpu)."""
    dt = b["t"] - a["t"]
    rx = b["ports"][0]["rx"] - a["ports"][0]["rx"]
    tx = b["ports"][1]["tx"] - a["ports"][1]["tx"]
    cpu = b.get("cpu", 0) - a.get("cpu", 0)
    drops = {k: v - a["drops"].get(k, 0) for k, v in b["drops"].items()}
    return {"seconds": dt, "rx": rx, "tx": tx, "rx_pps": rx / dt, "tx_pps": tx / dt,
            "cpu": cpu, "rx_pps_cpu": rx / cpu if cpu > 0 else float("nan"),
            "tx_pps_cpu": tx / cpu if cpu > 0 else float("nan"),
            "drops": {k: v for k, v in drops.items() if v}}


def wait_once(g, n, timeout=300):
    """Wait until npgw's port 1 has received all n frames of its read-once
    capture (the TCP handshakes): only then does a window see the load
    alone, every flow established. Raises RuntimeError after timeout s."""
    t_end = time.monotonic() + timeout
    while True:
        got = g.stats()["ports"][1]["rx"]
        if got >= n:
            return
        if time.monotonic() > t_end:
            raise RuntimeError("port 1 received %d of its %d frames in %d s" % (got, n, timeout))
        time.sleep(0.1)


def loss(rx, tx, drops):
    """Packets neither sent nor dropped by policy: everything else is loss."""
    policy = drops.get("policy-egress", 0) + drops.get("policy-ingress", 0)
    return rx - tx - policy


def npgw_run(tmp, policies, pcap, once=None, conntrack=None, warmup=1.5, seconds=3.0,
             extra_mb=256):
    """Start npgw, warm up, measure one window, stop. Returns the window plus
    the generation's rule count and memory."""
    g = Npgw(tmp, policies, pcap, once, conntrack, extra_mb).ready()
    try:
        st = g.status()
        time.sleep(warmup)
        a = g.stats()
        time.sleep(seconds)
        b = g.stats()
    finally:
        fin = g.stop()
    w = window(a, b)
    w["rules"] = st.get("acl", {}).get("rules", 0)
    w["acl_bytes"] = st.get("acl", {}).get("memory_bytes", 0)
    w["final"] = fin
    w["loss"] = loss(fin["rx"], fin["tx"], fin["drops"]) if fin else None
    return w


def testpmd_run(tmp, pcap, once=None, warmup=1.5, seconds=3.0):
    """dpdk-testpmd --forward-mode=io on the same ports: its port 0 rx over
    the window (telemetry_window)."""
    once = once or empty_pcap(tmp)
    mbufs = mbufs_for(pcap)
    dev = ports(pcap, once)
    prefix = "testpmd-%d" % os.getpid()
    args = [TESTPMD, "-l", "0,1"] + eal_mem(mem_mb(mbufs)) + (
        ["--huge-unlink"] if HUGE else []) + ["--no-pci",
            "--file-prefix", prefix, "--log-level", "error",
            "--vdev", dev[0], "--vdev", dev[1], "--", "-i", "--auto-start",
            "--forward-mode=io", "--total-num-mbufs=%d" % mbufs, "--burst=32"]
    log = open(tmp.path("testpmd.log"), "w")
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                         text=True)
    try:
        r = telemetry_window(p, prefix, log.name, warmup, seconds)
    finally:
        try:
            p.stdin.write("quit\n")
            p.stdin.close()
            p.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()
        log.close()
    r["seconds"] = seconds
    return r


def telemetry_window(p, prefix, log, warmup, seconds, main_thread=False):
    """Wait until process p (DPDK, --file-prefix prefix) receives on port
    0, warm up, then measure port 0's rx (DPDK telemetry /ethdev/stats) over
    `seconds`: per wall second and per CPU-second of its worker thread."""
    t_end = time.monotonic() + 300
    while True:
        if p.poll() is not None:
            with open(log) as f:
                raise RuntimeError("%s exited %d: %s" % (prefix, p.returncode, f.read()[-2000:]))
        try:
            if telemetry(prefix, "/ethdev/stats,0")["/ethdev/stats"]["ipackets"] > 0:
                break
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if time.monotonic() > t_end:
            raise RuntimeError("%s: not receiving after 300 s" % prefix)
        time.sleep(0.2)
    time.sleep(warmup)
    c0, t0 = worker_cpu(p.pid, main_thread), time.monotonic()
    a = telemetry(prefix, "/ethdev/stats,0")["/ethdev/stats"]["ipackets"]
    time.sleep(seconds)
    c1, t1 = worker_cpu(p.pid, main_thread), time.monotonic()
    b = telemetry(prefix, "/ethdev/stats,0")["/ethdev/stats"]["ipackets"]
    if b == a or c1 <= c0:
        # a failed measurement (the machine too busy to run it), not a
        # rate to divide by
        raise RuntimeError("%s: counted no packets or no CPU time in its window" % prefix)
    return {"rx_pps": (b - a) / (t1 - t0),
            "rx_pps_cpu": (b - a) / (c1 - c0) if c1 > c0 else float("nan")}


def telemetry(prefix, cmd):
    """One DPDK telemetry command to the process with --file-prefix prefix
    (its socket in /var/run/dpdk/PREFIX/dpdk_telemetry.v2)."""
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(5)
        s.connect(path)
        s.recv(16384)  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(65536).decode())
    finally:
        s.close()


L3FWD = os.environ.get("L3FWD", os.path.join(BUILD, "bench-peers", "l3fwd", "l3fwd"))


def l3fwd_run(tmp, pcap, once=None, lookup="acl", rules=None, warmup=1.5, seconds=3.0):
    """DPDK's l3fwd sample (scripts/bench/build-l3fwd.sh builds it from
    Debian's dpdk-doc) on the same ports, capture and core: --lookup=acl
    with rules = (IPv4 file, IPv6 file), or --lookup=em (a hash-lookup
    forwarder). Its port 0 rx over the window, from DPDK telemetry, per
    wall second and per CPU-second of its worker."""
    once = once or empty_pcap(tmp)
    mbufs = mbufs_for(pcap)
    dev = ports(pcap, once)
    prefix = "l3fwd-%d" % os.getpid()
    # one lcore (1, the main one): l3fwd opens a tx queue per lcore, and a
    # pcap port without a tx file has one
    # l3fwd's pool: at least 262143 mbufs (build-l3fwd.sh's floor)
    args = [L3FWD, "-l", "1"] + eal_mem(mem_mb(max(mbufs, 262143))) + (
        ["--huge-unlink"] if HUGE else []) + ["--no-pci",
            "--file-prefix", prefix, "--log-level", "error",
            "--vdev", dev[0], "--vdev", dev[1], "--", "-p", "0x3",
            "--config=(0,0,1),(1,0,1)", "--parse-ptype", "--lookup=" + lookup]
    if rules:
        args += ["--rule_ipv4=" + rules[0], "--rule_ipv6=" + rules[1]]
    log = open(tmp.path("l3fwd-%s.log" % lookup), "w")
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        r = telemetry_window(p, prefix, log.name, warmup, seconds, main_thread=True)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
    return r
