"""objects.py: the fields npgw uses of each watched object, and its key.

Only these fields are kept (as one compact JSON text per object), so that
the agent's memory stays small in large clusters: about 300 bytes per pod
instead of the API's several kilobytes. What npgw reads (lib/k8s):
- Namespace: metadata.name, metadata.labels;
- Pod: metadata.{name, namespace, labels}, spec.hostNetwork,
  spec.containers[].ports[].{name, containerPort, protocol},
  status.{phase, podIP, podIPs};
- NetworkPolicy: metadata.{name, namespace}, the whole spec.
"""

import json

# resource -> (kind, apiVersion)
KINDS = {
    "namespaces": ("Namespace", "v1"),
    "pods": ("Pod", "v1"),
    "networkpolicies": ("NetworkPolicy", "networking.k8s.io/v1"),
}
# The order a replace lists them in (the loader does not care; people do).
ORDER = ("namespaces", "pods", "networkpolicies")
# The kind names npgw's delete command takes.
DELETE_KIND = {"namespaces": "Namespace", "pods": "Pod", "networkpolicies": "NetworkPolicy"}


def key_of(resource, obj):
    """(resource, namespace or "", name) of an API object (a dict)."""
    md = obj.get("metadata") or {}
    ns = "" if resource == "namespaces" else (md.get("namespace") or "default")
    return (resource, ns, md.get("name") or "")


def doc_name(key):
    """The document name npgw reports errors against: pods/NS/NAME,
    networkpolicies/NS/NAME, namespaces/NAME. Refusals map back by it."""
    resource, ns, name = key
    return "%s/%s" % (resource, name) if resource == "namespaces" else \
        "%s/%s/%s" % (resource, ns, name)


REPLACE_DOC = "cluster"  # the document name of a replace


def list_document(docs):
    """A replace's one document: a JSON List with one object per line.
    Returns (text, {line: key}): npgw's messages carry the line of the
    object they are about."""
    out = ['{"apiVersion":"v1","kind":"List","items":[']
    lines = {}
    n = len(docs)
    for i, (key, text) in enumerate(docs.items()):
        lines[i + 2] = key
        out.append(text + ("," if i + 1 < n else ""))
    out.append("]}")
    return "\n".join(out), lines


def _meta(resource, md):
    out = {"name": md.get("name")}
    if resource != "namespaces":
        out["namespace"] = md.get("namespace") or "default"
    if resource != "networkpolicies" and md.get("labels"):
        out["labels"] = md["labels"]
    return out


def _pod_spec(spec):
    out = {}
    if spec.get("hostNetwork"):
        out["hostNetwork"] = True
    containers = []
    for c in spec.get("containers") or []:
        ports = []
        for p in c.get("ports") or []:
            q = {"containerPort": p.get("containerPort")}
            if p.get("name"):
                q["name"] = p["name"]
            if p.get("protocol"):
                q["protocol"] = p["protocol"]
            ports.append(q)
        e = {"name": c.get("name") or ""}
        if ports:
            e["ports"] = ports
        containers.append(e)
    out["containers"] = containers
    return out


def _pod_status(st):
    out = {}
    if st.get("phase"):
        out["phase"] = st["phase"]
    if st.get("podIP"):
        out["podIP"] = st["podIP"]
    ips = [{"ip": e["ip"]} for e in st.get("podIPs") or [] if isinstance(e, dict) and e.get("ip")]
    if ips:
        out["podIPs"] = ips
    return out


def slim(resource, obj):
    """The object as npgw is sent it: one compact JSON text with sorted keys,
    so that equal texts mean an unchanged object."""
    kind, api = KINDS[resource]
    md = obj.get("metadata") or {}
    out = {"apiVersion": api, "kind": kind, "metadata": _meta(resource, md)}
    if resource == "pods":
        out["spec"] = _pod_spec(obj.get("spec") or {})
        out["status"] = _pod_status(obj.get("status") or {})
    elif resource == "networkpolicies":
        out["spec"] = obj.get("spec") or {}
    return json.dumps(out, sort_keys=True, separators=(",", ":"))
