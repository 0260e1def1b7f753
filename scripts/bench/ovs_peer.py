#!/usr/bin/python3
"""ovs_peer.py: Open vSwitch's userspace (DPDK) datapath as a peer of the
throughput benchmark, on the same ports, capture and core as npgw.

  ovs_peer.py [--mode stateful|stateless|both] [--rules V4FILE[,V6FILE]]
              [--testpmd] [--runs 1] [--seconds 3] [--warmup 1.5] [--keep]
              TRAFFIC.pcap [HANDSHAKES.pcap]

A library (ovs_run, for throughput.py) and a command that runs it on a
capture and prints the results as JSON: per run, and the medians of the
rates per CPU-second, cycles per packet (TSC Hz / that rate) and, with
--testpmd (dpdk-testpmd io before each OVS run, on the same ports and
capture), the median ratio to testpmd. NPGW_BENCH_HUGE=1: on 2 MiB
hugepages, as harness.py. It needs Debian's
openvswitch-switch-dpdk (ovs-vswitchd-dpdk, DPDK 22.11 as npgw's) and runs
it directly from /usr/lib/openvswitch-switch-dpdk: it changes no
alternative and never touches a system Open vSwitch.

What it starts, in a private directory, and stops again, always:
  - ovsdb-server on a fresh database (its own socket, pid and log files);
  - ovs-vswitchd-dpdk in a network namespace of its own (unshare --net:
    the netdev bridge's local port is a tap device, which then never
    appears in the host's namespace), with other_config dpdk-init=true,
    dpdk-extra = the harness's EAL memory (2 MiB hugepages under
    NPGW_BENCH_HUGE=1, else --no-huge) plus --no-pci and its own
    --file-prefix, pmd-cpu-mask=0x2 (one PMD thread, on core 1: the
    forwarding core of the other programs), one handler and one
    revalidator thread;
  - a netdev bridge with the harness's two ports as type=dpdk interfaces,
    options:dpdk-devargs = "net_pcap0,rx_pcap=TRAFFIC,infinite_rx=1"
    (OpenFlow port 1) and "net_pcap1,rx_pcap=HANDSHAKES" (port 2).

OpenFlow flows equivalent to the l3fwd rule files of throughput.py
(l3fwd_rules: one deny rule per denied flow's addresses and TCP port,
then /32 (IPv6 /128) source-destination pairs the traffic never has;
every rule a drop):
  stateless  table 0: each deny rule a drop flow (priority from the rule's
             order, first rule highest, as rte_acl's priority); then
             in_port=1 -> output:2, in_port=2 -> output:1.
  stateful   the conntrack pipeline OVN and Antrea write:
             table 0: ip/ipv6 with ct_state=-trk -> ct(table=1) (every IP
             frame goes through the userspace conntrack once); other
             frames forwarded;
             table 1: +trk+est and +trk+rel forwarded (the established
             pass: no policy lookup); +trk+inv dropped; +trk+new: the deny
             rules as drops, then ct(commit) and forward.
             The handshakes of every flow (port 2, read once) open the
             connections, so the traffic's ACKs are +est.

Checksums: the benchmark's captures carry TCP checksum 0 (npgw, testpmd
and l3fwd do not check them). OVS's userspace conntrack does check them
unless the NIC reported them good (net_pcap reports nothing), and marks a
bad one +inv. So ovs_run replays copies of the captures with the TCP
checksums filled in (same frames, sizes and order), and the stateful rate
includes OVS's software checksum check of every frame, which a NIC with
Rx checksum offload would spare it.

Measurement, as harness.telemetry_window: port 0's rx packets (OpenFlow
port stats, read live from the DPDK port by `ovs-ofctl dump-ports`) over a
window after a warm-up, per wall second and per CPU-second (utime + stime)
of the PMD thread (the thread named pmd-c01/id:N). Cross-check: OVS's own
`dpif-netdev/pmd-stats-show` cycles per packet over the same window
(cleared at its start).
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

VSWITCHD = os.environ.get("OVS_VSWITCHD",
                          "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk")
SCHEMA = os.environ.get("OVS_SCHEMA", "/usr/share/openvswitch/vswitch.ovsschema")
BRIDGE = "npgwbr"


def eal_mem(mb):
    """The harness's EAL memory arguments (hugepages under NPGW_BENCH_HUGE=1);
    a harness without the hugepage mode runs --no-huge, and refuses it."""
    if hasattr(h, "eal_mem"):
        return h.eal_mem(mb)
    if os.environ.get("NPGW_BENCH_HUGE") == "1":
        raise RuntimeError("ovs: NPGW_BENCH_HUGE=1 but harness.py has no hugepage mode")
    return ["--no-huge", "-m", str(mb)]


# ---------------------------------------------------------------- captures

def _sum16(b):
    if len(b) & 1:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def _fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def tcp_checksummed(frame):
    """frame (Ethernet, optionally VLAN-tagged, IPv4 or IPv6, TCP) with its
    TCP checksum computed; any other frame unchanged."""
    off, et = 12, struct.unpack_from("!H", frame, 12)[0]
    while et in (0x8100, 0x88a8) and len(frame) >= off + 6:
        off += 4
        et = struct.unpack_from("!H", frame, off)[0]
    l3 = off + 2
    if et == 0x0800 and len(frame) >= l3 + 20:
        ihl = (frame[l3] & 15) * 4
        tot = struct.unpack_from("!H", frame, l3 + 2)[0]
        if frame[l3 + 9] != 6 or struct.unpack_from("!H", frame, l3 + 6)[0] & 0x3fff:
            return frame
        l4, l4len = l3 + ihl, tot - ihl
        pseudo = frame[l3 + 12:l3 + 20] + struct.pack("!BBH", 0, 6, l4len)
    elif et == 0x86dd and len(frame) >= l3 + 40:
        if frame[l3 + 6] != 6:
            return frame
        l4, l4len = l3 + 40, struct.unpack_from("!H", frame, l3 + 4)[0]
        pseudo = frame[l3 + 8:l3 + 40] + struct.pack("!IxxxB", l4len, 6)
    else:
        return frame
    if l4len < 20 or len(frame) < l4 + l4len:
        return frame
    seg = bytearray(frame[l4:l4 + l4len])
    seg[16:18] = b"\0\0"
    c = _fold(_sum16(pseudo) + _sum16(bytes(seg)))
    out = bytearray(frame)
    struct.pack_into("!H", out, l4 + 16, c)
    return bytes(out)


def checksummed_pcap(src, dst):
    """Copy the pcap file src to dst with every TCP checksum filled in;
    returns the number of frames."""
    try:
        with open(src, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RuntimeError("ovs: cannot read the capture: %s" % e)
    if len(data) < 24:
        raise RuntimeError("ovs: %s is not a pcap file" % src)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise RuntimeError("ovs: %s is not a pcap file (magic %s)" % (src, magic.hex()))
    out = [data[:24]]
    i = 24
    while i + 16 <= len(data):
        hdr = data[i:i + 16]
        incl = struct.unpack(end + "IIII", hdr)[2]
        frame = data[i + 16:i + 16 + incl]
        if len(frame) < incl:
            raise RuntimeError("ovs: %s is truncated at byte %d" % (src, i))
        out.append(hdr)
        out.append(tcp_checksummed(frame))
        i += 16 + incl
    with open(dst, "wb") as f:
        f.write(b"".join(out))
    return (len(out) - 1) // 2


def checksummed(tmp, pcap):
    """The copy of pcap with TCP checksums, made once per tmp directory,
    and its number of frames."""
    d = os.path.join(tmp.dir, "ovs-pcap")
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, "%x-%s" % (abs(hash(os.path.abspath(pcap))), os.path.basename(pcap)))
    if not os.path.exists(dst):
        n = checksummed_pcap(pcap, dst + ".part")
        with open(dst + ".frames", "w") as f:
            f.write(str(n))
        os.rename(dst + ".part", dst)
    with open(dst + ".frames") as f:
        return dst, int(f.read())


# ------------------------------------------------------------------- flows

def acl_rules(rules):
    """The deny rules of l3fwd ACL rule files (throughput.l3fwd_rules), in
    order: a list of OpenFlow match strings (without priority). Route
    lines (R...) are skipped: every ACL line of those files is a drop."""
    out = []
    for path, fam in zip(rules, (4, 6)):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line.startswith("@"):
                    continue
                w = line[1:].replace(":", " : ").split()
                # src dst sp_lo : sp_hi dp_lo : dp_hi proto/mask
                if fam == 6:
                    # IPv6 addresses contain ':' too: re-split the tokens
                    w = line[1:].split()
                    w = w[:2] + [w[2], ":", w[4], w[5], ":", w[7], w[8]]
                if len(w) != 9 or w[3] != ":" or w[6] != ":":
                    raise RuntimeError("ovs: %s:%d: not an l3fwd ACL rule: %s" % (path, n, line))
                proto, _, pmask = w[8].partition("/")
                if int(pmask, 0) != 0xff or int(proto, 0) != 6:
                    raise RuntimeError("ovs: %s:%d: only TCP rules are supported: %s"
                                       % (path, n, line))
                m = ["tcp" if fam == 4 else "tcp6"]
                for addr, field in ((w[0], "nw_src"), (w[1], "nw_dst")):
                    a, _, plen = addr.partition("/")
                    if int(plen) == 0:
                        continue
                    if fam == 6:
                        field = field.replace("nw_", "ipv6_")
                    m.append("%s=%s/%s" % (field, a, plen))
                for lo, hi, field in ((w[2], w[4], "tp_src"), (w[5], w[7], "tp_dst")):
                    lo, hi = int(lo), int(hi)
                    if (lo, hi) == (0, 65535):
                        continue
                    if lo != hi:
                        raise RuntimeError("ovs: %s:%d: port ranges other than one port or "
                                           "all are not supported: %s" % (path, n, line))
                    m.append("%s=%d" % (field, lo))
                out.append(",".join(m))
    return out


def flows(rules, conntrack):
    """OpenFlow flows (ovs-ofctl add-flows lines) for the bridge of ports 1
    and 2: the rules' drops, everything else forwarded 1 <-> 2; with
    conntrack, the OVN/Antrea pipeline (see the module's doc)."""
    deny = acl_rules(rules) if rules else []
    top = len(deny) + 10
    fwd = ["in_port=1 actions=%soutput:2", "in_port=2 actions=%soutput:1"]
    if not conntrack:
        out = ["table=0,priority=%d,%s actions=drop" % (top - i, m) for i, m in enumerate(deny)]
        out += ["table=0,priority=1," + f % "" for f in fwd]
        return out
    out = ["table=0,priority=100,ct_state=-trk,ip actions=ct(table=1)",
           "table=0,priority=100,ct_state=-trk,ipv6 actions=ct(table=1)"]
    out += ["table=0,priority=1," + f % "" for f in fwd]
    out += ["table=1,priority=65000,ct_state=+trk+est," + f % "" for f in fwd]
    out += ["table=1,priority=65000,ct_state=+trk+rel," + f % "" for f in fwd]
    out += ["table=1,priority=64000,ct_state=+trk+inv actions=drop"]
    out += ["table=1,priority=%d,ct_state=+trk+new,%s actions=drop" % (top - i, m)
            for i, m in enumerate(deny)]
    # ct() needs an IP match: one pair of commit flows per family
    out += ["table=1,priority=1,ct_state=+trk+new,%s,%s" % (fam, f % "ct(commit),")
            for fam in ("ip", "ipv6") for f in fwd]
    return out


# ------------------------------------------------------------- the switch

def _need(path, what):
    if not os.path.exists(path):
        raise RuntimeError("ovs: %s not found (%s): install openvswitch-switch-dpdk "
                           "(scripts/install-deps.sh)" % (path, what))


class Ovs:
    """ovsdb-server and ovs-vswitchd-dpdk of our own, in a private
    directory under tmp; stop() stops both, whatever state they are in."""

    def __init__(self, tmp, eal, tag="ovs"):
        """eal: the EAL arguments for other_config:dpdk-extra (with a
        --file-prefix of its own: stop() removes its runtime directory)."""
        for tool in ("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-ofctl", "ovs-appctl",
                     "unshare"):
            if not shutil.which(tool):
                raise RuntimeError("ovs: %s not found: install openvswitch-switch-dpdk "
                                   "(scripts/install-deps.sh)" % tool)
        _need(VSWITCHD, "the DPDK build of ovs-vswitchd")
        _need(SCHEMA, "the Open_vSwitch database schema")
        self.dir = tempfile.mkdtemp(prefix=tag + ".", dir=tmp.dir)
        self.db_sock = self.p("db.sock")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_LOGDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.db = self.vswitchd = None
        self.logs = []
        self.prefix = eal[eal.index("--file-prefix") + 1] if "--file-prefix" in eal else None
        try:
            self._start(eal)
        except BaseException:
            self.stop()
            raise

    def p(self, name):
        return os.path.join(self.dir, name)

    def run(self, args, check=True, timeout=120, **kw):
        try:
            r = subprocess.run(args, capture_output=True, text=True, env=self.env,
                               timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise RuntimeError("ovs: %s timed out after %d s%s" % (
                " ".join(args[:3]), timeout, self.why()))
        if check and r.returncode != 0:
            raise RuntimeError("ovs: %s: %s%s" % (" ".join(args[:4]), (r.stderr or r.stdout)
                                                  .strip()[-1000:], self.why()))
        return r

    def vsctl(self, *args, **kw):
        return self.run(["ovs-vsctl", "--db=unix:" + self.db_sock, "--timeout=120"]
                        + list(args), **kw)

    def ofctl(self, *args, **kw):
        return self.run(["ovs-ofctl"] + [a.replace("@BR", "unix:" + self.p(BRIDGE + ".mgmt"))
                                         for a in args], **kw)

    def appctl(self, *args, **kw):
        return self.run(["ovs-appctl", "-t", self.p("vswitchd.ctl")] + list(args), **kw)

    def why(self):
        """The errors of ovs-vswitchd's log, to explain a failure."""
        try:
            with open(self.p("vswitchd.log")) as f:
                bad = [l.strip() for l in f if re.search(r"\|(ERR|EMER)\|", l) or
                       re.search(r"\|WARN\|.*(fail|cannot|not enough|error|refus|invalid)",
                                 l, re.I)]
        except OSError:
            return ""
        return ("; ovs-vswitchd says: " + " / ".join(bad[-6:])) if bad else ""

    def _spawn(self, name, args):
        log = open(self.p(name + ".out"), "w")
        self.logs.append(log)
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=self.env)

    def _start(self, eal):
        self.run(["ovsdb-tool", "create", self.p("conf.db"), SCHEMA])
        self.db = self._spawn("ovsdb-server", [
            "ovsdb-server", self.p("conf.db"), "--remote=punix:" + self.db_sock,
            "--pidfile=" + self.p("ovsdb-server.pid"), "--unixctl=" + self.p("ovsdb-server.ctl"),
            "--log-file=" + self.p("ovsdb-server.log"), "-vconsole:off"])
        t_end = time.monotonic() + 60
        while not os.path.exists(self.db_sock):
            if self.db.poll() is not None:
                raise RuntimeError("ovs: ovsdb-server exited %d: see %s" % (
                    self.db.returncode, self.p("ovsdb-server.log")))
            if time.monotonic() > t_end:
                raise RuntimeError("ovs: ovsdb-server: no socket after 60 s")
            time.sleep(0.05)
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   "other_config:dpdk-extra=%s" % json.dumps(" ".join(eal)),
                   "other_config:pmd-cpu-mask=0x2",
                   "other_config:n-handler-threads=1",
                   "other_config:n-revalidator-threads=1")
        # its own network namespace: the netdev bridge's local port is a
        # tap device, which then lives and dies with this namespace
        self.vswitchd = self._spawn("ovs-vswitchd", [
            "unshare", "--net", VSWITCHD, "unix:" + self.db_sock,
            "--pidfile=" + self.p("vswitchd.pid"), "--unixctl=" + self.p("vswitchd.ctl"),
            "--log-file=" + self.p("vswitchd.log"), "-vconsole:off"])
        t_end = time.monotonic() + 300
        while True:
            if self.vswitchd.poll() is not None:
                with open(self.p("ovs-vswitchd.out")) as f:
                    out = f.read().strip()[-1000:]
                raise RuntimeError("ovs: ovs-vswitchd exited %d: %s%s" % (
                    self.vswitchd.returncode, out, self.why()))
            r = self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized", check=False)
            if r.stdout.strip() == "true":
                break
            if time.monotonic() > t_end:
                raise RuntimeError("ovs: DPDK not initialized after 300 s" + self.why())
            time.sleep(0.2)

    def bridge(self, flow_lines, devs):
        """The netdev bridge, its flows, then its ports (OpenFlow 1 and 2):
        the flows first, so the handshakes, read once as soon as the port
        exists, meet them."""
        self.vsctl("add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath_type=netdev",
                   "fail_mode=secure")
        path = self.p("flows.txt")
        with open(path, "w") as f:
            f.write("\n".join(flow_lines) + "\n")
        self.ofctl("add-flows", "@BR", path, timeout=600)
        for i, dev in enumerate(devs):
            r = self.vsctl("add-port", BRIDGE, "p%d" % i, "--", "set", "Interface", "p%d" % i,
                           "type=dpdk", "options:dpdk-devargs=%s" % json.dumps(dev),
                           "ofport_request=%d" % (i + 1), check=False)
            err = self.vsctl("get", "Interface", "p%d" % i, "error", check=False).stdout.strip()
            ofport = self.vsctl("get", "Interface", "p%d" % i, "ofport",
                                check=False).stdout.strip()
            if r.returncode != 0 or (err and err != "[]") or ofport != str(i + 1):
                raise RuntimeError("ovs: port p%d (%s) refused: %s%s" % (
                    i, dev, (err if err and err != "[]" else r.stderr.strip()) or
                    "ofport " + ofport, self.why()))

    def pmd_cpu(self):
        """CPU seconds (utime + stime) of the PMD thread(s): pmd-c01/id:N."""
        tick = os.sysconf("SC_CLK_TCK")
        total, found = 0, False
        pid = self.vswitchd.pid
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    if not f.read().startswith("pmd"):
                        continue
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found = True
            total += int(st[11]) + int(st[12])
        if not found:
            raise RuntimeError("ovs: no PMD thread in ovs-vswitchd" + self.why())
        return total / tick

    def rx(self, port=1):
        """Packets received by OpenFlow port `port` (live from the DPDK port)."""
        out = self.ofctl("dump-ports", "@BR", str(port)).stdout
        m = re.search(r"rx pkts=(\d+)", out)
        if not m:
            raise RuntimeError("ovs: no rx counter in dump-ports: " + out[-300:])
        return int(m.group(1))

    def stop(self):
        """Stop ovs-vswitchd (then ovsdb-server): exit over its control
        socket, SIGTERM, SIGKILL, whichever ends it."""
        for proc, ctl in ((self.vswitchd, "vswitchd.ctl"), (self.db, "ovsdb-server.ctl")):
            if proc is None or proc.poll() is not None:
                continue
            try:
                subprocess.run(["ovs-appctl", "-t", self.p(ctl), "exit"], capture_output=True,
                               env=self.env, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    proc.send_signal(sig)
                try:
                    proc.wait(20)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for log in self.logs:
            log.close()
        self.logs = []
        if self.prefix and (self.vswitchd is None or self.vswitchd.poll() is not None):
            shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


# ------------------------------------------------------------ measurement

def pmd_stats(text):
    """The numbers of `dpif-netdev/pmd-stats-show` for the PMD thread."""
    i = text.find("pmd thread")
    j = text.find("main thread")
    part = text[i:j if j > i else len(text)]
    out = {}
    for key, name in (("packets received", "packets"), ("packet recirculations", "recirc"),
                      ("avg. datapath passes per packet", "passes"),
                      ("simple match hits", "simple_hits"), ("emc hits", "emc_hits"),
                      ("smc hits", "smc_hits"), ("megaflow hits", "megaflow_hits"),
                      ("miss with success upcall", "upcalls"),
                      ("miss with failed upcall", "failed_upcalls"),
                      ("avg cycles per packet", "cycles_per_pkt"),
                      ("avg processing cycles per packet", "proc_cycles_per_pkt")):
        m = re.search(r"^\s*%s: ([0-9.]+)" % re.escape(key), part, re.M)
        if m:
            out[name] = float(m.group(1))
    return out


def flow_shares(o):
    """The packets each kind of flow has taken so far (table 1 of the
    conntrack pipeline, or table 0 without it): established, committed
    (new, allowed), denied (a rule's drop), invalid, forwarded without
    conntrack. ovs_run reports their growth over its window."""
    out = {"est": 0, "commit": 0, "deny": 0, "inv": 0, "forward": 0}
    for line in o.ofctl("dump-flows", "@BR", timeout=300).stdout.splitlines():
        m = re.search(r"n_packets=(\d+)", line)
        if not m or "priority=100" in line:
            continue
        n = int(m.group(1))
        if "+est" in line or "+rel" in line:
            out["est"] += n
        elif "+inv" in line:
            out["inv"] += n
        elif "ct(commit)" in line:
            out["commit"] += n
        elif "actions=drop" in line:
            out["deny"] += n
        elif "output:" in line:
            out["forward"] += n
    return out


def ovs_run(tmp, pcap, once=None, rules=None, warmup=1.5, seconds=3.0, conntrack=True):
    """Open vSwitch (userspace DPDK datapath) on the benchmark's ports,
    capture and core, with the flows of `rules` (the l3fwd rule files,
    (IPv4 file, IPv6 file), or None for no rules), stateful (the conntrack
    pipeline) or not. Returns, like harness.l3fwd_run, port 0's rx over the
    window per wall second and per CPU-second of the PMD thread ("rx_pps",
    "rx_pps_cpu"), plus OVS's own pmd-stats over the window ("pmd") and the
    packets each kind of flow took ("flows"). Raises RuntimeError saying
    why when OVS cannot run or measure."""
    once = once or h.empty_pcap(tmp)
    tag = "ovs-%s" % ("ct" if conntrack else "nct")
    (cpcap, _), (conce, n_once) = checksummed(tmp, pcap), checksummed(tmp, once)
    # OVS's shared mempool: 262,144 mbufs for MTU 1500 (halved until it
    # fits); the capture is preloaded from it
    frames = h.frames_of(pcap)
    if frames + 16384 > 262144:
        raise RuntimeError("ovs: the capture's %d frames do not fit OVS's mempool of "
                           "262,144 mbufs next to its rings (net_pcap preloads them)" % frames)
    mb = h.mem_mb(262143)
    if getattr(h, "HUGE", False):
        why = h.hugepages_setup(mb)
        if why:
            raise RuntimeError("ovs: " + why)
    eal = eal_mem(mb) + ["--no-pci", "--file-prefix", "%s-%d" % (tag, os.getpid())]
    if "--no-huge" in eal:
        # ovs-vswitchd adds --in-memory unless --in-memory or --legacy-mem
        # is given, and the EAL refuses --in-memory with --no-huge (which
        # implies legacy memory): "Option --legacy-mem is not compatible
        # with --in-memory". Saying --legacy-mem keeps it out.
        eal.append("--legacy-mem")
    o = Ovs(tmp, eal, tag)
    try:
        o.bridge(flows(rules, conntrack), h.ports(cpcap, conce))
        t_end = time.monotonic() + 300
        while o.rx(1) == 0:
            if o.vswitchd.poll() is not None:
                raise RuntimeError("ovs: ovs-vswitchd exited %d%s" % (o.vswitchd.returncode,
                                                                     o.why()))
            if time.monotonic() > t_end:
                raise RuntimeError("ovs: port 0 not receiving after 300 s" + o.why())
            time.sleep(0.2)
        # the handshakes (port 2, read once) all through before the warm-up:
        # the window then sees the load alone
        while o.rx(2) < n_once:
            if time.monotonic() > t_end:
                raise RuntimeError("ovs: port 1 received %d of its %d frames in 300 s%s"
                                   % (o.rx(2), n_once, o.why()))
            time.sleep(0.1)
        time.sleep(warmup)
        f0 = flow_shares(o)
        o.appctl("dpif-netdev/pmd-stats-clear")
        c0, t0, a = o.pmd_cpu(), time.monotonic(), o.rx(1)
        time.sleep(seconds)
        c1, t1, b = o.pmd_cpu(), time.monotonic(), o.rx(1)
        pmd = pmd_stats(o.appctl("dpif-netdev/pmd-stats-show").stdout)
        f1 = flow_shares(o)
        shares = {k: f1[k] - f0[k] for k in f1}
        ct = o.appctl("dpctl/ct-stats-show", check=False).stdout if conntrack else ""
        m = re.search(r"Total: (\d+)", ct)
        if b == a or c1 <= c0:
            raise RuntimeError("ovs: counted no packets or no CPU time in its window")
    finally:
        o.stop()
    r = {"rx_pps": (b - a) / (t1 - t0), "rx_pps_cpu": (b - a) / (c1 - c0),
         "seconds": t1 - t0, "cpu": c1 - c0, "pmd": pmd, "flows": shares,
         "rules": len(acl_rules(rules)) if rules else 0}
    if m:
        r["connections"] = int(m.group(1))
    return r


def main():
    ap = argparse.ArgumentParser(description="Open vSwitch (DPDK) on the throughput "
                                 "benchmark's ports; prints the result as JSON")
    ap.add_argument("pcap", help="the load (port 0, replayed forever)")
    ap.add_argument("once", nargs="?", help="frames read once on port 1 (the handshakes)")
    ap.add_argument("--rules", help="l3fwd ACL rule files: V4[,V6]")
    ap.add_argument("--mode", choices=("stateful", "stateless", "both"), default="both")
    ap.add_argument("--testpmd", action="store_true",
                    help="also dpdk-testpmd io on the same capture, before each OVS run; "
                    "ratios to it")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.5)
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    a = ap.parse_args()
    rules = tuple(a.rules.split(",")) if a.rules else None
    modes = ["stateless", "stateful"] if a.mode == "both" else [a.mode]
    progs = (["testpmd"] if a.testpmd else []) + ["ovs-" + m for m in modes]
    huge = getattr(h, "HUGE", False)
    if huge:
        why = h.hugepages_setup(h.mem_mb(262143))
        if why:
            sys.exit("ovs_peer: " + why)
    tmp = h.Tmp(a.keep)
    runs = []
    try:
        for run in range(a.runs):
            res = {}
            for prog in progs:
                try:
                    if prog == "testpmd":
                        res[prog] = h.testpmd_run(tmp, a.pcap, a.once, a.warmup, a.seconds)
                    else:
                        res[prog] = ovs_run(tmp, a.pcap, a.once, rules, a.warmup, a.seconds,
                                            prog == "ovs-stateful")
                except RuntimeError as e:
                    res[prog] = {"error": str(e)}
                    print("run %d %s: %s" % (run + 1, prog, e), file=sys.stderr, flush=True)
            runs.append(res)
    finally:
        tmp.close()
    hz = h.tsc_hz()
    out = {"capture": a.pcap, "rules": rules, "hugepages": huge, "seconds": a.seconds,
           "runs": runs, "median_pps_cpu": {}, "cycles_per_pkt": {}, "ratio_to_testpmd": {}}
    for prog in progs:
        v = [r[prog]["rx_pps_cpu"] for r in runs if "rx_pps_cpu" in r[prog]]
        if v:
            out["median_pps_cpu"][prog] = statistics.median(v)
            out["cycles_per_pkt"][prog] = hz / statistics.median(v)
        if a.testpmd and prog != "testpmd":
            q = [r[prog]["rx_pps_cpu"] / r["testpmd"]["rx_pps_cpu"] for r in runs
                 if "rx_pps_cpu" in r[prog] and "rx_pps_cpu" in r["testpmd"]]
            if q:
                out["ratio_to_testpmd"][prog] = statistics.median(q)
    if a.keep:
        out["dir"] = tmp.dir
    print(json.dumps(out, indent=1))
    if not any(out["median_pps_cpu"].get(p) for p in progs if p != "testpmd"):
        sys.exit("ovs_peer: no OVS run succeeded")


if __name__ == "__main__":
    main()
