"""main.py: the npgw-agent command line.

  npgw-agent [--kubeconfig FILE] [--socket PATH] [--no-tiers]

Environment (tuning and tests; none is needed in a cluster):
  NPGW_AGENT_STATUS   the status file (JSON, rewritten atomically at most once
                      a second); default: agent-status.json beside the socket
  NPGW_AGENT_TRACE    append one JSON line per event made live (resource,
                      object, type, resourceVersion, received, live,
                      generation): for measuring the event-to-live lag
  NPGW_AGENT_LOG      error, warning, info (default), debug
  NPGW_AGENT_BACKOFF_MAX  the longest backoff in seconds (default 30)
"""

import argparse
import json
import logging
import os
import queue
import signal
import sys
import threading

USAGE_EPILOG = """\
Lists, then watches, the cluster's Namespaces, Pods and NetworkPolicies
(networking.k8s.io/v1), its Nodes, and the cluster-wide tiers:
AdminNetworkPolicy and BaselineAdminNetworkPolicy
(policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy
(policy.networking.k8s.io/v1alpha2). It keeps npgw's desired state equal
to them over its control socket: one atomic replace after every (re)list or
reconnect, then one apply or delete per watch event. npgw keeps enforcing
its last good state while the API server or the agent is away.

A tier kind whose CRD is not installed (404 on its list) has no objects:
this is logged once, the rest is synced as usual (the agent is ready), and
the list is tried again with backoff, so that a CRD installed later is
picked up. A 403 on the list of a tier kind or of Nodes (a ClusterRole
without them) is taken the same way until that kind has been listed once.
--no-tiers watches neither the tier kinds nor Nodes (npgw uses Nodes only
for the tiers' nodes peers); npgw then holds none of them.

Without --kubeconfig the in-cluster configuration is used
(KUBERNETES_SERVICE_HOST/PORT and the service account's token and CA).
A kubeconfig may use a bearer token or a client certificate, https or
plain http.

Status: the file named by $NPGW_AGENT_STATUS (default: agent-status.json
beside the socket), also logged on SIGUSR1. SIGTERM and SIGINT stop the
agent; npgw keeps the state it has.

Environment: NPGW_AGENT_STATUS (the status file), NPGW_AGENT_TRACE (append
one JSON line per event made live), NPGW_AGENT_LOG (error, warning, info,
debug), NPGW_AGENT_BACKOFF_MAX (seconds, default 30).
"""

log = logging.getLogger("npgw-agent")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="npgw-agent", usage="npgw-agent [--kubeconfig FILE] [--socket PATH] [--no-tiers]",
        description="Feed npgw from the Kubernetes API.", epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", metavar="FILE",
                    help="a kubeconfig file (default: the in-cluster configuration)")
    ap.add_argument("--socket", metavar="PATH", default="/run/npgw/npgw.sock",
                    help="npgw's control socket (default: /run/npgw/npgw.sock)")
    ap.add_argument("--no-tiers", action="store_true",
                    help="do not watch AdminNetworkPolicies, BaselineAdminNetworkPolicies, "
                    "ClusterNetworkPolicies or Nodes (default: watch them)")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    level = os.environ.get("NPGW_AGENT_LOG", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="npgw-agent: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    try:
        backoff_cap = float(os.environ.get("NPGW_AGENT_BACKOFF_MAX", "30"))
    except ValueError:
        print("npgw-agent: NPGW_AGENT_BACKOFF_MAX: not a number", file=sys.stderr)
        return 2
    # imported here so that --help works without the client installed
    try:
        from . import kube, objects, sync
    except ImportError as e:
        print("npgw-agent: %s (install python3-kubernetes)" % e, file=sys.stderr)
        return 2
    try:
        api = kube.api_client(a.kubeconfig)
    except Exception as e:  # the client raises ConfigException, OSError, yaml errors
        where = a.kubeconfig or "the in-cluster configuration"
        print("npgw-agent: %s: cannot use it: %s" % (where, e), file=sys.stderr)
        return 2
    status_path = os.environ.get("NPGW_AGENT_STATUS") or os.path.join(
        os.path.dirname(os.path.abspath(a.socket)), "agent-status.json")
    q = queue.Queue()
    stop = threading.Event()
    resources = objects.BASE if a.no_tiers else objects.ORDER
    rec = sync.Reconciler(a.socket, q, stop, status_path=status_path,
                          trace_path=os.environ.get("NPGW_AGENT_TRACE"),
                          backoff_cap=backoff_cap, resources=resources)

    def on_signal(signo, frame):
        if signo == signal.SIGUSR1:
            log.info("status: %s", json.dumps(rec.status(), sort_keys=True))
            return
        log.info("%s: stopping", signal.Signals(signo).name)
        stop.set()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, on_signal)
    log.info("API server %s; npgw at %s; status in %s; watching %s",
             api.configuration.host, a.socket, status_path, ", ".join(resources))
    watchers = [kube.Watcher(api, r, q, stop, backoff_cap=backoff_cap) for r in resources]
    for w in watchers:
        w.start()
    rec.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
