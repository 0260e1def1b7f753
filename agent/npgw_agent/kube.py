"""kube.py: list, then watch, one resource of the Kubernetes API.

The official Python client (Debian python3-kubernetes) does the protocol:
configuration (in-cluster service account, or a kubeconfig with a bearer
token or a client certificate, https or plain http), the requests, TLS,
and the watch stream (kubernetes.watch.Watch). This module adds what an
informer adds on top (client-go's reflector):
- a paged list (limit/continue) whose metadata.resourceVersion the watch
  starts from;
- a watch with allowWatchBookmarks and a randomised timeoutSeconds; a
  BOOKMARK moves the resourceVersion on without an object, so that a
  re-watch after a quiet period does not start from a compacted version;
- a watch that ends (the server's timeout, a dropped connection, an API
  server restart) is resumed from the last resourceVersion; 410 Gone (an
  ERROR event with a 410 Status, or a 410 reply) means that version is too
  old, and the resource is listed again;
- failures back off exponentially with jitter;
- a kind the API server does not serve (a 404 on its list: the tier CRDs
  not installed) has no objects: the reconciler is handed an empty list
  once, the agent logs it once, and the list is tried again with backoff,
  so that a CRD installed later is picked up. A 403 on the list of a tier
  kind or of Nodes (a ClusterRole from before the agent watched them) is
  handled alike until that kind was listed once; after that it is an error
  like any other (npgw keeps what it has). Neither stops the other kinds,
  nor the agent's readiness.
Each Watcher runs in its own thread and hands slimmed objects to the
reconciler's queue; it never talks to npgw.
"""

import functools
import http
import json
import logging
import random
import threading
import time

import urllib3
from kubernetes import client, config, watch

from . import objects

log = logging.getLogger("npgw-agent")

GONE = http.HTTPStatus.GONE  # 410
NOT_FOUND = http.HTTPStatus.NOT_FOUND  # 404
FORBIDDEN = http.HTTPStatus.FORBIDDEN  # 403
PAGE = 500  # list page size, as client-go's pager


def api_client(kubeconfig):
    """An ApiClient from a kubeconfig file, or (None) the in-cluster
    configuration: KUBERNETES_SERVICE_HOST/PORT, the service account's
    token (re-read as it rotates) and CA."""
    cfg = client.Configuration()
    if kubeconfig:
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
    else:
        config.load_incluster_config(client_configuration=cfg)
    # the watch's read timeout is set per request; no retries of our own
    # inside urllib3: a failure is the watcher's to back off from
    cfg.retries = False
    return client.ApiClient(cfg)


def list_function(api, resource, **kw):
    """The client's list function of a resource (list or watch)."""
    if resource == "namespaces":
        return client.CoreV1Api(api).list_namespace
    if resource == "pods":
        return client.CoreV1Api(api).list_pod_for_all_namespaces
    if resource == "networkpolicies":
        return client.NetworkingV1Api(api).list_network_policy_for_all_namespaces
    if resource == "nodes":
        return client.CoreV1Api(api).list_node
    if resource in objects.CRDS:
        group, version = objects.CRDS[resource]
        # watch.Watch.stream calls it with watch=True, as the typed ones
        return functools.partial(client.CustomObjectsApi(api).list_cluster_custom_object,
                                 group, version, resource)
    raise ValueError(resource)


class Backoff:
    """Exponential backoff with jitter: the n-th delay is drawn from
    [d/2, d] with d = min(cap, base * 2^n) ("equal jitter")."""

    def __init__(self, base=0.25, cap=30.0, rnd=None):
        self.base, self.cap, self.n = base, cap, 0
        self.rnd = rnd or random.Random()

    def next(self):
        d = min(self.cap, self.base * (2 ** self.n))
        self.n = min(self.n + 1, 30)
        return self.rnd.uniform(d / 2, d)

    def reset(self):
        self.n = 0


class Gone(Exception):
    """410: the resourceVersion is too old; list again."""


class NotServed(Exception):
    """404 (the CRD is not installed) or, before a first list, 403 (no RBAC
    for it) on an optional kind: it has no objects for now."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status


class Watcher(threading.Thread):
    """List and watch one resource for ever, putting on queue q:
      ("list", resource, {key: text}, rv, t)      after every (re)list
      ("event", resource, type, key, text|None, rv, t)
      ("watch-state", resource, dict)              for the status
    text is objects.slim(); None for DELETED."""

    def __init__(self, api, resource, q, stop, backoff_cap=30.0,
                 watch_timeout=(300, 600)):
        super().__init__(name="watch-" + resource, daemon=True)
        self.api, self.resource, self.q, self.stop_ev = api, resource, q, stop
        self.backoff = Backoff(cap=backoff_cap)
        self.watch_timeout = watch_timeout
        self.fn = list_function(api, resource)
        self.optional = resource in objects.TIERS
        self.listed = False  # listed once: a 403 is an error from then on
        # served: None until known; False while a 404 (or 403) says it is not
        self.stats = {"lists": 0, "watches": 0, "events": 0, "bookmarks": 0, "gone": 0,
                      "errors": 0, "rv": None, "connected": False, "last_error": None,
                      "served": None, "not_served": 0}

    def _state(self, **kw):
        self.stats.update(kw)
        self.q.put(("watch-state", self.resource, dict(self.stats)))

    def relist(self):
        """A whole, paged list; returns its resourceVersion."""
        items, cont, rv = {}, None, None
        while True:
            kw = {"limit": PAGE, "_preload_content": False, "_request_timeout": (10, 60)}
            if cont:
                kw["_continue"] = cont
            try:
                resp = self.fn(**kw)
            except client.exceptions.ApiException as e:
                self._not_served(e)
                raise
            try:
                body = resp.data
            finally:
                resp.release_conn()
            page = json.loads(body)
            md = page.get("metadata") or {}
            rv = md.get("resourceVersion")
            for obj in page.get("items") or []:
                items[objects.key_of(self.resource, obj)] = objects.slim(self.resource, obj)
            cont = md.get("continue")
            if not cont:
                break
        if not rv:
            raise RuntimeError("%s list has no metadata.resourceVersion" % self.resource)
        self.q.put(("list", self.resource, items, rv, time.time()))
        if self.stats["served"] is False:
            log.info("%s: served now", self.resource)
        self.listed = True
        self._state(lists=self.stats["lists"] + 1, rv=rv, connected=True, served=True,
                    last_error=None)
        log.info("%s: listed %d at resourceVersion %s", self.resource, len(items), rv)
        return rv

    def _not_served(self, e):
        """Raise NotServed for a 404 (or a 403 before the first list) of an
        optional kind."""
        if not self.optional:
            return
        if e.status == NOT_FOUND or (e.status == FORBIDDEN and not self.listed):
            raise NotServed(e.status, (e.reason or "").strip()) from None

    def on_not_served(self, e):
        """The kind has no objects for now: an empty list for the reconciler
        (once: it is then in sync without it), logged once."""
        first = self.stats["served"] is not False
        if e.status == NOT_FOUND:
            msg = "HTTP 404: the API server does not serve %s/%s (its CRD is not " \
                "installed?)" % (objects.KINDS[self.resource][1], self.resource)
        else:
            msg = "HTTP 403: not allowed to list %s (the ClusterRole lacks list/watch on " \
                "them)" % self.resource
        if first:
            log.warning("%s: %s: taken as none of them; trying again with backoff",
                        self.resource, msg)
            self.q.put(("list", self.resource, {}, None, time.time()))
        else:
            log.debug("%s: still not served (%s)", self.resource, msg)
        self._state(served=False, not_served=self.stats["not_served"] + 1, last_error=msg,
                    connected=False, rv=None)

    def watch_once(self, rv):
        """One watch from rv until the server ends it; returns the last
        resourceVersion seen. Raises Gone on 410, NotServed on a 404 of an
        optional kind."""
        lo, hi = self.watch_timeout
        timeout = int(random.uniform(lo, hi))
        w = watch.Watch(return_type="object")  # events as dicts, no models
        self._state(watches=self.stats["watches"] + 1)
        try:
            for ev in w.stream(self.fn, resource_version=rv, allow_watch_bookmarks=True,
                               timeout_seconds=timeout,
                               _request_timeout=(10, timeout + 30)):
                t = time.time()
                typ = ev.get("type")
                raw = ev.get("raw_object") or {}
                new_rv = (raw.get("metadata") or {}).get("resourceVersion")
                if typ == "BOOKMARK":
                    self.stats["bookmarks"] += 1
                elif typ in ("ADDED", "MODIFIED", "DELETED"):
                    key = objects.key_of(self.resource, raw)
                    text = None if typ == "DELETED" else objects.slim(self.resource, raw)
                    self.q.put(("event", self.resource, typ, key, text, new_rv, t))
                    self.stats["events"] += 1
                else:
                    raise RuntimeError("unknown watch event type %r" % typ)
                if new_rv:
                    rv = new_rv
                    self.stats["rv"] = rv
                self.backoff.reset()
        except client.exceptions.ApiException as e:
            if e.status == GONE:
                raise Gone(e.reason) from None
            # the CRD went away under the watch: none of them any more
            self._not_served(e)
            raise
        return rv

    def run(self):
        rv = None
        while not self.stop_ev.is_set():
            try:
                if rv is None:
                    rv = self.relist()
                    self.backoff.reset()
                t0 = time.monotonic()
                rv = self.watch_once(rv)
                self._state(rv=rv)
                # the server ended the watch (its timeout): resume at once,
                # unless it ends them as soon as they start
                if time.monotonic() - t0 >= 1.0:
                    continue
                log.debug("%s: the watch ended at once", self.resource)
            except NotServed as e:
                rv = None
                self.on_not_served(e)
            except Gone as e:
                log.info("%s: resourceVersion %s is too old (%s): listing again",
                         self.resource, rv, e)
                rv = None
                self._state(gone=self.stats["gone"] + 1, last_error="410 Gone")
            except client.exceptions.ApiException as e:
                if e.status == GONE:  # a list's continue token expired
                    rv = None
                msg = "HTTP %s %s" % (e.status, (e.reason or "").strip())
                log.warning("%s: %s", self.resource, msg)
                self._state(errors=self.stats["errors"] + 1, last_error=msg, connected=False)
            except (urllib3.exceptions.HTTPError, OSError, ValueError, RuntimeError) as e:
                msg = "%s: %s" % (type(e).__name__, e)
                log.warning("%s: watch/list failed: %s", self.resource, msg)
                self._state(errors=self.stats["errors"] + 1, last_error=msg, connected=False)
            except Exception as e:  # anything else the client raises: never die
                msg = "%s: %s" % (type(e).__name__, e)
                log.exception("%s: unexpected: %s", self.resource, msg)
                self._state(errors=self.stats["errors"] + 1, last_error=msg, connected=False)
            d = self.backoff.next()
            log.debug("%s: next try in %.2f s", self.resource, d)
            self.stop_ev.wait(d)
