"""sync.py: the reconciler. Keeps npgw's desired state equal to the API's.

One thread owns everything here; watchers and the npgw reader feed it
through one queue. What it keeps:
- cache: per resource, key -> slim text: the API's state as listed and
  watched (objects.py keeps only the fields npgw uses);
- held: what npgw holds, as its replies say (updated in reply order);
- expect: held plus the effect of the requests in flight; what the next
  request is decided against (an event that changes nothing npgw uses
  sends nothing);
- refused: objects npgw refused, with the reason; they are left out of
  npgw (a previous version it held is deleted), logged, and reported in the
  status and counters.

How npgw is fed:
- Once every resource has been listed, and again after any relist or a
  new connection to npgw (npgw restarted, or the connection dropped), one
  atomic `replace` of the whole state. npgw keeps its last good state until
  that replace is live; it never sees a partial one. The replace is one
  JSON List with one object per line, so that the line of each of npgw's
  messages names the object refused; those are left out and the replace is
  sent again.
- Between relists, each watch event becomes one `apply` or `delete` of
  that object, so pod churn takes npgw's incremental path. Requests are
  pipelined (up to WINDOW in flight); the others wait in the API's order
  (never coalesced: a pod's address must be released before another pod
  claims it).
- An object refused because another pod claims its address is tried again
  after a later delete or pod change; one refused for itself is tried again
  when it changes.
"""

import collections
import json
import logging
import os
import statistics
import time

from . import objects
from .kube import Backoff
from .npgw import Conn

log = logging.getLogger("npgw-agent")

WINDOW = 64  # requests in flight to npgw
KEEPALIVE_S = 20.0  # npgw closes idle connections after 60 s
STATUS_EVERY_S = 1.0
CONFLICT = "already claimed by"  # npgw's message for an address two pods claim
RETRY = object()  # a pending entry that sends the object as the cache has it


class Cmd:
    __slots__ = ("id", "op", "key", "text", "docs", "events", "t_sent")

    def __init__(self, rid, op, key=None, text=None, docs=None, events=None):
        self.id, self.op, self.key, self.text, self.docs = rid, op, key, text, docs
        self.events = events or []
        self.t_sent = time.time()


def percentile(v, p):
    if not v:
        return None
    s = sorted(v)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Reconciler:
    def __init__(self, socket_path, q, stop, status_path=None, trace_path=None,
                 backoff_cap=30.0, resources=objects.ORDER):
        self.socket_path, self.q, self.stop = socket_path, q, stop
        # the kinds watched, in objects.ORDER's order (--no-tiers: BASE)
        self.resources = tuple(r for r in objects.ORDER if r in resources)
        self.status_path = status_path
        self.trace = open(trace_path, "a", buffering=1) if trace_path else None
        self.t_start = time.time()
        self.cache = {r: {} for r in self.resources}
        self.synced = set()
        self.held = {}
        self.expect = {}
        self.inflight = collections.deque()
        # (key, text or None or RETRY, [events]) waiting for the window, in
        # the API's order: a pod's address is released before it is claimed
        self.pending = collections.deque()
        self.replace_events = []  # events a coming replace makes live
        self.refused = {}  # key -> {"reason", "since", "text", "conflict"}
        self.need_replace = True
        self.conn = None
        self.serial = 0
        self.conn_backoff = Backoff(base=0.1, cap=min(backoff_cap, 5.0))
        self.next_connect = 0.0
        self.last_sent = 0.0
        self.generation = None
        self.initial_sync_ms = None
        self.npgw_error = "not connected yet"
        self.watch = {r: {} for r in self.resources}
        self.lags = collections.deque(maxlen=10000)  # received -> live, seconds
        self.c = collections.Counter()
        self.dirty = True
        self.urgent = False  # a change of state: write the status now
        self.last_status = 0.0

    # ---- the loop ----

    def run(self):
        while not self.stop.is_set():
            self._maybe_connect()
            self._maybe_replace()
            self._flush()
            now = time.time()
            if self.conn and not self.inflight and now - self.last_sent > KEEPALIVE_S:
                self._send("version", {}, Cmd(None, "ping"))
            if self.dirty and (self.urgent or now - self.last_status >= STATUS_EVERY_S):
                self.write_status()
            try:
                item = self.q.get(timeout=0.2)
            except Exception:  # queue.Empty
                continue
            self._handle(item)
            # take what else is queued before deciding what to send
            for _ in range(10000):
                try:
                    item = self.q.get_nowait()
                except Exception:
                    break
                self._handle(item)
        self.write_status()
        if self.conn:
            self.conn.close()

    def _handle(self, item):
        kind = item[0]
        self.dirty = True
        if kind == "event":
            self.on_event(*item[1:])
        elif kind == "list":
            self.on_list(*item[1:])
        elif kind == "reply":
            self.on_reply(*item[1:])
        elif kind == "npgw-down":
            if item[1] == self.serial and self.conn is not None:
                self._drop_conn(item[2])
        elif kind == "watch-state":
            self.watch[item[1]] = item[2]

    # ---- the API side ----

    def on_list(self, resource, items, rv, t):
        old = self.cache[resource]
        self.cache[resource] = items
        first = resource not in self.synced
        self.synced.add(resource)
        self.c["lists"] += 1
        # refusals of objects that are gone are over
        for key in [k for k in self.refused if k[0] == resource and k not in items]:
            del self.refused[key]
        if first or old != items:
            self.need_replace = True
            for _, _, evs in self.pending:
                self.replace_events.extend(evs)
            self.pending.clear()
        log.debug("%s: %d objects at %s%s", resource, len(items), rv,
                  "" if first or old != items else " (unchanged: no replace)")

    def on_event(self, resource, typ, key, text, rv, t):
        self.c["events"] += 1
        self.c["events_" + typ.lower()] += 1
        if text is None:
            self.cache[resource].pop(key, None)
            self.refused.pop(key, None)
        else:
            self.cache[resource][key] = text
        ev = (resource, typ, key, rv, t)
        if self.need_replace or self.conn is None:
            self.replace_events.append(ev)
            return
        self.pending.append((key, text, [ev]))

    # ---- npgw ----

    def _maybe_connect(self):
        if self.conn is not None or time.time() < self.next_connect:
            return
        self.serial += 1
        try:
            self.conn = Conn(self.socket_path, self.q, self.serial)
        except OSError as e:
            self.next_connect = time.time() + self.conn_backoff.next()
            if self.npgw_error != str(e):
                log.warning("npgw: cannot connect to %s: %s (trying again)", self.socket_path, e)
            self.npgw_error = str(e)
            self.dirty = True
            return
        log.info("npgw: connected to %s: sending the whole state", self.socket_path)
        self.c["npgw_connects"] += 1
        self.npgw_error = None
        self.need_replace = True
        self.urgent = True

    def _drop_conn(self, why):
        log.warning("npgw: connection lost (%s): resync when it is back", why)
        self.c["npgw_disconnects"] += 1
        self.npgw_error = why
        self.urgent = True
        if self.conn:
            self.conn.close()
        self.conn = None
        # what the lost requests carried becomes part of the next replace
        for cmd in self.inflight:
            self.replace_events.extend(cmd.events)
        for _, _, evs in self.pending:
            self.replace_events.extend(evs)
        self.inflight.clear()
        self.pending.clear()
        self.expect = dict(self.held)
        self.need_replace = True
        self.next_connect = time.time() + self.conn_backoff.next()

    def _send(self, cmd, args, c):
        try:
            c.id = self.conn.send(cmd, args)
        except OSError as e:
            self._drop_conn("send: %s" % e)
            return False
        self.last_sent = time.time()
        self.inflight.append(c)
        return True

    def _maybe_replace(self):
        if (self.conn is None or not self.need_replace or self.inflight or
                len(self.synced) < len(self.resources)):
            return
        docs = {}
        for r in self.resources:
            for key, text in self.cache[r].items():
                ref = self.refused.get(key)
                # a refused object stays out until it changes (or, refused
                # for an address, until another pod changes: see _accepted)
                if ref is not None and ref["text"] == text:
                    continue
                docs[key] = text
        text, lines = objects.list_document(docs)
        args = {"documents": [{"name": objects.REPLACE_DOC, "text": text}]}
        c = Cmd(None, "replace", docs=docs, events=self.replace_events)
        c.key = lines  # line number -> key, for refusals
        self.replace_events = []
        self.need_replace = False
        if self._send("replace", args, c):
            self.expect = dict(docs)
            self.c["replaces"] += 1
            log.info("npgw: replace with %d objects sent", len(docs))

    def _flush(self):
        while (self.pending and self.conn is not None and not self.need_replace and
               len(self.inflight) < WINDOW):
            key, want, evs = self.pending.popleft()
            if want is RETRY:
                want = self.cache[key[0]].get(key)
            cur = self.expect.get(key)
            ref = self.refused.get(key)
            if ref is not None and not ref["conflict"] and ref["text"] == want:
                self.c["events_refused_unchanged"] += 1
                continue
            if want == cur:
                self.c["events_unchanged"] += 1
                if key not in self.refused or want is None:
                    self._trace_live(evs, None, "unchanged")
                continue
            if want is None:
                c = Cmd(None, "delete", key=key, events=evs)
                if not self._send("delete", {"objects": [objects.delete_object(key)]}, c):
                    return
                self.expect.pop(key, None)
                self.c["deletes_sent"] += 1
            else:
                c = Cmd(None, "apply", key=key, text=want, events=evs)
                doc = {"name": objects.doc_name(key), "text": want}
                if not self._send("apply", {"documents": [doc]}, c):
                    return
                self.expect[key] = want
                self.c["applies_sent"] += 1

    def _retry_conflicts(self):
        """Objects refused for an address another pod claimed: try again."""
        for key, ref in self.refused.items():
            if ref["conflict"] and key in self.cache[key[0]] and \
                    not any(k == key for k, _, _ in self.pending):
                self.pending.append((key, RETRY, []))
                self.c["refused_retries"] += 1

    def on_reply(self, serial, msg):
        if serial != self.serial or self.conn is None:
            return
        if msg.get("id") is None or not self.inflight:
            err = msg.get("error") or {}
            self._drop_conn("npgw: %s: %s" % (err.get("code"), err.get("message")))
            return
        c = self.inflight.popleft()
        if msg.get("id") != c.id:
            self._drop_conn("reply %r to request %r" % (msg.get("id"), c.id))
            return
        if c.op == "ping":
            return
        if msg.get("ok"):
            self._accepted(c, msg.get("result") or {})
        else:
            self._refused(c, msg.get("error") or {})

    def _accepted(self, c, result):
        gen = result.get("generation")
        if gen is not None:
            self.generation = gen
        if c.op == "replace":
            self.held = dict(c.docs)
            for key in list(self.refused):
                if key in c.docs:
                    del self.refused[key]
            if self.initial_sync_ms is None:
                self.initial_sync_ms = (time.time() - self.t_start) * 1e3
                log.info("npgw: initial sync live at generation %s, %.0f ms after start: "
                         "%d objects", gen, self.initial_sync_ms, len(c.docs))
            else:
                log.info("npgw: replace live at generation %s: %d objects", gen, len(c.docs))
            self.conn_backoff.reset()
            self.urgent = True
            self._retry_conflicts()
        elif c.op == "apply":
            self.held[c.key] = c.text
            if self.refused.pop(c.key, None) is not None:
                log.info("npgw: %s accepted now", objects.doc_name(c.key))
            elif c.key[0] == "pods":  # it may have given up an address
                self._retry_conflicts()
        elif c.op == "delete":
            self.held.pop(c.key, None)
            self._retry_conflicts()
        self.c[c.op + "s_ok"] += 1
        self._trace_live(c.events, gen, c.op)

    def _refused(self, c, err):
        code, message = err.get("code"), err.get("message", "")
        diags = ((err.get("details") or {}).get("diagnostics")) or []
        if c.op == "delete" and code == "not-found":
            self.held.pop(c.key, None)
            self._trace_live(c.events, None, "delete")
            return
        if code == "invalid" and c.op == "apply":
            self._note_refused(c.key, c.text, diags, message)
            if any(o.key == c.key for o in self.inflight) or \
                    any(k == c.key for k, _, _ in self.pending):
                return  # a later request for it decides
            # left out: the version npgw held before (if any) goes too
            self.expect[c.key] = self.held.get(c.key)
            if c.key in self.held:
                self._delete_refused(c.key)
            return
        if code == "invalid" and c.op == "replace":
            named = set()
            by_key = {}
            for d in diags:
                key = c.key.get(d.get("line")) if d.get("file") == objects.REPLACE_DOC else None
                if key is not None and d.get("severity", "error") == "error":
                    by_key.setdefault(key, []).append(d)
            named = set(by_key)
            if named:
                for key, ds in by_key.items():
                    self._note_refused(key, c.docs[key], ds, message)
                self.replace_events.extend(c.events)
                self.need_replace = True
                self.c["replaces_refused"] += 1
                log.warning("npgw: replace refused for %d object(s); sending it again "
                            "without them", len(named))
                return
        # anything else: npgw could not take it (busy, saving failed, state
        # unreadable...). Keep what it has, resync from scratch a little later.
        self.c["npgw_errors"] += 1
        log.error("npgw refused %s (%s): %s; resync later", c.op, code, message)
        self.npgw_error = "%s: %s" % (code, message)
        self._drop_conn("%s refused with %s" % (c.op, code))

    def _delete_refused(self, key):
        """Send a delete of what npgw holds of a refused object."""
        if self._send("delete", {"objects": [objects.delete_object(key)]},
                      Cmd(None, "delete", key=key)):
            self.expect.pop(key, None)
            self.c["deletes_sent"] += 1

    def _note_refused(self, key, text, diags, message):
        reason = "; ".join("%s: %s" % (d.get("path") or "", d.get("message") or "")
                           if d.get("path") else d.get("message") or ""
                           for d in diags if d.get("severity", "error") == "error") or message
        conflict = CONFLICT in reason
        old = self.refused.get(key)
        self.refused[key] = {"reason": reason, "text": text, "conflict": conflict,
                             "since": old["since"] if old else time.time()}
        if old is None or old["reason"] != reason:
            self.c["refused"] += 1
            log.warning("npgw refused %s: %s%s", objects.doc_name(key), reason,
                        " (tried again when another pod changes)" if conflict else
                        " (left out until it changes)")

    def _trace_live(self, events, gen, op):
        if not events:
            return
        now = time.time()
        for (resource, typ, key, rv, t) in events:
            if op != "unchanged":
                self.lags.append(now - t)
            if self.trace:
                self.trace.write(json.dumps({
                    "resource": resource, "type": typ, "object": objects.doc_name(key),
                    "rv": rv, "received": t, "live": now, "generation": gen, "op": op},
                    separators=(",", ":")) + "\n")

    # ---- status ----

    def status(self):
        lags = list(self.lags)
        in_sync = (self.conn is not None and not self.need_replace and not self.inflight and
                   not self.pending and len(self.synced) == len(self.resources))
        st = {
            "state": ("synced" if in_sync else
                      "listing" if len(self.synced) < len(self.resources) else
                      "npgw-unreachable" if self.conn is None else "syncing"),
            "synced": in_sync,
            "since_start_s": round(time.time() - self.t_start, 3),
            "generation": self.generation,
            "initial_sync_ms": self.initial_sync_ms,
            "npgw": {"socket": self.socket_path, "connected": self.conn is not None,
                     "error": self.npgw_error, "in_flight": len(self.inflight),
                     "waiting": len(self.pending)},
            "objects": {r: len(self.cache[r]) for r in self.resources},
            # kinds the API server does not serve (a 404: the CRD is not
            # installed) or lets the agent list (403): taken as none
            "not_served": sorted(r for r in self.resources
                                 if self.watch.get(r, {}).get("served") is False),
            "held": len(self.held),
            "resources": self.watch,
            "counters": dict(self.c),
            "refused": [{"object": objects.doc_name(k), "reason": v["reason"],
                         "since": v["since"]} for k, v in sorted(self.refused.items())],
            "lag_ms": {"n": len(lags),
                       "median": round(statistics.median(lags) * 1e3, 2) if lags else None,
                       "p99": round(percentile(lags, 99) * 1e3, 2) if lags else None},
        }
        st["counters"]["refused_now"] = len(self.refused)
        return st

    def write_status(self):
        self.last_status = time.time()
        self.dirty = self.urgent = False
        if not self.status_path:
            return
        tmp = self.status_path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.status(), f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self.status_path)
        except OSError as e:
            log.warning("cannot write the status to %s: %s", self.status_path, e)
