"""apiserver.py: a stand-in for kube-apiserver's list and watch, for tests.

It serves, over plain HTTP/1.1 with a bearer token, what npgw-agent asks
of a real API server, following the protocol exactly:
- GET /api/v1/namespaces, /api/v1/pods, /api/v1/nodes,
  /apis/networking.k8s.io/v1/networkpolicies and the tier CRDs'
  /apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies,
  .../v1alpha1/baselineadminnetworkpolicies and
  .../v1alpha2/clusternetworkpolicies: a JSON list (kind
  NamespaceList etc.; items without kind and apiVersion, as the typed
  APIs send them) whose metadata.resourceVersion is the store's
  current version; limit/continue pages, from one snapshot; a continue
  token older than the compacted version is 410 Gone (Status, reason
  Expired), as etcd compaction makes it;
- the same with watch=true: a chunked stream of lines
  {"type": "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR", "object": ...}
  of every change after resourceVersion; BOOKMARKs (an object of the kind
  with only metadata.resourceVersion) when allowWatchBookmarks=true; a
  resourceVersion older than the compacted one gets an ERROR event whose
  object is a Status with code 410 (reason Expired), then the stream ends;
  the server ends every watch after min(timeoutSeconds, watch_max_s) with
  the terminating chunk, as the API server's own request timeout does;
- resourceVersions are one counter across all kinds (etcd's revision),
  sent as strings; the store keeps a bounded history;
- a kind the store does not serve (a CRD not installed: Store.unserve)
  is 404 NotFound, on its list and on its watch, and its open watches end,
  as the API server ends them when a CRD is deleted;
- a kind the agent may not list (Store.forbid: its ClusterRole lacks it)
  is 403 Forbidden on new requests; open watches go on, as RBAC is checked
  when a request starts.

The test drives the store in process (create, update, delete, compact,
expire_watches, kill, start) and reads when each change was made
(committed[rv]) to measure the lag to npgw.
"""

import base64
import bisect
import copy
import http.server
import json
import socket
import socketserver
import threading
import time
import urllib.parse

PATHS = {
    "/api/v1/namespaces": ("namespaces", "Namespace", "v1"),
    "/api/v1/pods": ("pods", "Pod", "v1"),
    "/apis/networking.k8s.io/v1/networkpolicies": ("networkpolicies", "NetworkPolicy",
                                                   "networking.k8s.io/v1"),
    "/api/v1/nodes": ("nodes", "Node", "v1"),
    "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies": (
        "adminnetworkpolicies", "AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1"),
    "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies": (
        "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy",
        "policy.networking.k8s.io/v1alpha1"),
    "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies": (
        "clusternetworkpolicies", "ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2"),
}
KIND = {r: (k, v) for _, (r, k, v) in PATHS.items()}
CLUSTER_SCOPED = {"namespaces", "nodes", "adminnetworkpolicies",
                  "baselineadminnetworkpolicies", "clusternetworkpolicies"}
CRDS = ("adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies")


def key_of(resource, obj):
    md = obj["metadata"]
    return ("" if resource in CLUSTER_SCOPED else md.get("namespace", "default"), md["name"])


def parse_bool(v):
    """A query boolean as the API server reads it (Go's strconv.ParseBool:
    the Python client sends "True")."""
    return v in ("1", "t", "T", "TRUE", "true", "True")


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Store:
    """Objects by resource, one revision counter, a bounded history."""

    def __init__(self, history=100000):
        self.lock = threading.Condition()
        self.rv = 1
        self.objs = {r: {} for r in KIND}
        self.history = []  # (rv, resource, type, object)
        self.compacted = 0  # watches from below this are 410
        self.max_history = history
        self.committed = {}  # rv -> time.time() of the change
        self.expire_gen = {r: 0 for r in KIND}  # bumped to end open watches with 410
        self.served = set(KIND)  # kinds whose list and watch are not 404
        self.forbidden = set()  # kinds whose list and watch are 403

    def _change(self, resource, typ, obj):
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        k = key_of(resource, obj)
        if typ == "DELETED":
            self.objs[resource].pop(k, None)
        else:
            self.objs[resource][k] = obj
        self.history.append((self.rv, resource, typ, obj))
        self.committed[self.rv] = time.time()
        if len(self.history) > self.max_history:
            drop = len(self.history) - self.max_history
            self.compacted = self.history[drop - 1][0] + 1
            del self.history[:drop]
        self.lock.notify_all()
        return self.rv

    def create(self, resource, obj):
        with self.lock:
            if key_of(resource, obj) in self.objs[resource]:
                raise KeyError("exists: %s %s" % (resource, key_of(resource, obj)))
            return self._change(resource, "ADDED", obj)

    def update(self, resource, obj):
        with self.lock:
            if key_of(resource, obj) not in self.objs[resource]:
                raise KeyError("not found: %s %s" % (resource, key_of(resource, obj)))
            return self._change(resource, "MODIFIED", obj)

    def delete(self, resource, ns, name):
        with self.lock:
            obj = self.objs[resource].get((ns, name))
            if obj is None:
                raise KeyError("not found: %s %s/%s" % (resource, ns, name))
            return self._change(resource, "DELETED", obj)

    def get(self, resource, ns, name):
        with self.lock:
            return copy.deepcopy(self.objs[resource].get((ns, name)))

    def snapshot(self, resource):
        with self.lock:
            return self.rv, [copy.deepcopy(o) for _, o in sorted(self.objs[resource].items())]

    def compact(self):
        """Forget the history: every watch or continue from before now is 410."""
        with self.lock:
            self.compacted = self.rv + 1
            self.history = []

    def unserve(self, resource):
        """Stop serving a kind (its CRD deleted, or never installed): its
        list and watch are 404 and its open watches end. The objects stay
        in the store, to be served again by serve()."""
        with self.lock:
            self.served.discard(resource)
            self.lock.notify_all()

    def forbid(self, resource, forbidden=True):
        """Refuse (or, forbidden=False, allow again) new requests for a kind."""
        with self.lock:
            (self.forbidden.add if forbidden else self.forbidden.discard)(resource)

    def serve(self, resource):
        """Serve a kind (its CRD installed)."""
        with self.lock:
            self.served.add(resource)
            self.lock.notify_all()

    def expire_watches(self, resource):
        """410 in the middle of the open watches of resource (after a
        compaction, so that resuming from their version is 410 too)."""
        with self.lock:
            self.compacted = self.rv + 1
            self.history = []
            self.expire_gen[resource] += 1
            self.lock.notify_all()


class Server:
    """The HTTP side; kill() and start() stand for an API server restart
    (the store, etcd, lives on)."""

    def __init__(self, store, token="npgw-test-token", port=0, watch_max_s=5.0,
                 bookmark_s=1.0):
        self.store, self.token = store, token
        self.port = port
        self.watch_max_s, self.bookmark_s = watch_max_s, bookmark_s
        self.httpd = None
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.snapshots = {}  # continue token id -> (rv, items)
        self.requests = {"list": 0, "watch": 0, "watch_410": 0, "unauthorized": 0,
                         "not_found": 0, "forbidden": 0}
        self.by_resource = {r: 0 for r in KIND}  # requests (lists, watches) per kind
        self.alive = False

    def start(self):
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def setup(self):
                super().setup()
                with srv.conns_lock:
                    srv.conns.add(self.connection)

            def finish(self):
                with srv.conns_lock:
                    srv.conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_GET(self):
                try:
                    srv.handle(self)
                except (OSError, ValueError):
                    self.close_connection = True

        class HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.httpd.server_address[1]
        self.alive = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def kill(self):
        """Stop listening and cut every open connection, as a killed API
        server would (the clients see resets or EOF mid-stream)."""
        self.alive = False
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.store.lock:
            self.store.lock.notify_all()

    # ---- requests ----

    def send_json(self, h, code, body):
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
        if h.headers.get("Authorization") != "Bearer " + self.token:
            self.requests["unauthorized"] += 1
            return self.send_json(h, 401, status(401, "Unauthorized", "Unauthorized"))
        resource = PATHS[u.path][0] if u.path in PATHS else None
        if resource is not None:
            self.by_resource[resource] += 1
        if resource is None or resource not in self.store.served:
            self.requests["not_found"] += 1
            return self.send_json(h, 404, status(404, "NotFound", "the server could not "
                                                 "find the requested resource"))
        if resource in self.store.forbidden:
            self.requests["forbidden"] += 1
            return self.send_json(h, 403, status(
                403, "Forbidden", '%s is forbidden: User "system:serviceaccount:npgw-system:'
                'npgw-agent" cannot list resource "%s" at the cluster scope' % (
                    resource, resource)))
        if parse_bool(q.get("watch", "")):
            return self.watch(h, resource, q)
        return self.list(h, resource, q)

    def list(self, h, resource, q):
        self.requests["list"] += 1
        kind, api = KIND[resource]
        limit = int(q.get("limit", "0") or 0)
        cont = q.get("continue")
        if cont:
            try:
                sid, off = json.loads(base64.urlsafe_b64decode(cont.encode()))
                rv, items = self.snapshots[sid]
            except (ValueError, KeyError):
                return self.send_json(h, 400, status(400, "BadRequest", "invalid continue"))
            if rv < self.store.compacted:
                return self.send_json(h, 410, status(
                    410, "Expired", "The provided continue parameter is too old to display "
                    "a consistent list result. You can start a new list without the continue "
                    "parameter."))
        else:
            rv, items = self.store.snapshot(resource)
            sid, off = "%s-%d-%d" % (resource, rv, id(items)), 0
            self.snapshots[sid] = (rv, items)
        page = items[off:off + limit] if limit > 0 else items[off:]
        md = {"resourceVersion": str(rv)}
        if limit > 0 and off + limit < len(items):
            md["continue"] = base64.urlsafe_b64encode(
                json.dumps([sid, off + limit]).encode()).decode()
            md["remainingItemCount"] = len(items) - off - limit
        else:
            self.snapshots.pop(sid, None)
        self.send_json(h, 200, {"kind": kind + "List", "apiVersion": api, "metadata": md,
                                "items": page})

    def watch(self, h, resource, q):
        self.requests["watch"] += 1
        kind, api = KIND[resource]
        st = self.store
        bookmarks = parse_bool(q.get("allowWatchBookmarks", ""))
        timeout = self.watch_max_s
        if q.get("timeoutSeconds"):
            timeout = min(timeout, float(q["timeoutSeconds"]))
        t_end = time.time() + timeout
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def chunk(obj):
            data = (json.dumps(obj) + "\n").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()

        def gone(rv):
            self.requests["watch_410"] += 1
            chunk({"type": "ERROR", "object": status(
                410, "Expired", "too old resource version: %s (%d)" % (rv, st.compacted))})

        rv_s = q.get("resourceVersion", "")
        with st.lock:
            if rv_s in ("", "0"):  # start with the state as ADDED events
                pos = st.rv
                initial = [o for _, o in sorted(st.objs[resource].items())]
            else:
                pos = int(rv_s)
                initial = []
            expire = st.expire_gen[resource]
        for o in initial:
            chunk({"type": "ADDED", "object": o})
        if pos + 1 < st.compacted:
            gone(pos)
            return self.end(h)
        last_bookmark = time.time()
        while self.alive:
            with st.lock:
                if resource not in st.served:
                    out = "end"
                elif st.expire_gen[resource] != expire:
                    out = "gone"
                elif pos + 1 < st.compacted:
                    out = "gone"
                else:
                    out = self._since(pos, resource)
                    if not out:
                        st.lock.wait(0.2)
                        out = self._since(pos, resource)
                    # nothing of this kind: every change up to now is seen
                    if not out:
                        pos = max(pos, st.rv)
                cur = st.rv
            if out == "gone":
                gone(pos)
                break
            if out == "end":  # its CRD was deleted
                break
            for rv, t, o in out:
                chunk({"type": t, "object": o})
                pos = rv
            now = time.time()
            if bookmarks and now - last_bookmark >= self.bookmark_s:
                chunk({"type": "BOOKMARK", "object": {
                    "kind": kind, "apiVersion": api, "metadata": {"resourceVersion": str(cur)}}})
                pos = max(pos, cur)
                last_bookmark = now
            if now >= t_end:
                break
        if self.alive:
            self.end(h)

    def _since(self, pos, resource):
        """Changes of resource after pos (the store's lock held)."""
        h = self.store.history
        i = bisect.bisect_right(h, pos, key=lambda e: e[0])
        return [(rv, t, o) for (rv, r, t, o) in h[i:] if r == resource]

    def end(self, h):
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
