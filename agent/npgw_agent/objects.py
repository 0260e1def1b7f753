"""objects.py: the fields npgw uses of each watched object, and its key.

Only these fields are kept (as one compact JSON text per object), so that
the agent's memory stays small in large clusters: about 300 bytes per pod
instead of the API's several kilobytes. What npgw reads (lib/k8s):
- Namespace: metadata.name, metadata.labels;
- Pod: metadata.{name, namespace, labels}, spec.hostNetwork,
  spec.containers[].ports[].{name, containerPort, protocol},
  status.{phase, podIP, podIPs};
- NetworkPolicy: metadata.{name, namespace}, the whole spec;
- Node: metadata.{name, labels}, status.addresses[].{type, address} (the
  conditions and heartbeats, which change every few seconds, are left out,
  so that a Node's status updates send nothing to npgw);
- AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
  (cluster-scoped): metadata.name, the whole spec.
"""

import json

# resource -> (kind, apiVersion). A list response of the typed APIs carries
# neither on its items: slim() sets them from here.
KINDS = {
    "namespaces": ("Namespace", "v1"),
    "pods": ("Pod", "v1"),
    "networkpolicies": ("NetworkPolicy", "networking.k8s.io/v1"),
    "nodes": ("Node", "v1"),
    "adminnetworkpolicies": ("AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1"),
    "baselineadminnetworkpolicies": ("BaselineAdminNetworkPolicy",
                                     "policy.networking.k8s.io/v1alpha1"),
    "clusternetworkpolicies": ("ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2"),
}
# The kinds every cluster serves, and those of the cluster-wide tiers: the
# three CRDs of sig-network's network-policy-api and the Nodes their `nodes`
# peers match (npgw uses Nodes for nothing else). --no-tiers leaves TIERS out.
BASE = ("namespaces", "pods", "networkpolicies")
TIERS = ("nodes", "adminnetworkpolicies", "baselineadminnetworkpolicies",
         "clusternetworkpolicies")
# The order a replace lists them in (the loader does not care; people do).
ORDER = BASE + TIERS
# Custom resources: resource -> (group, version), for
# CustomObjectsApi.list_cluster_custom_object. A 404 on their list means
# the CRD is not installed: no objects of that kind (kube.py).
CRDS = {r: tuple(KINDS[r][1].split("/")) for r in TIERS if r != "nodes"}
CLUSTER_SCOPED = frozenset(("namespaces",) + TIERS)
# How npgw's delete names an object: (kind, namespace). npgw holds a tier
# policy in its policy list and a Node in its pod list, under a
# pseudo-namespace named after the kind (lib/k8s/npgw_k8s.h NPGW_K8S_NS_*,
# as npgwctl delete sends them).
DELETE_KIND = {
    "namespaces": ("Namespace", None),
    "pods": ("Pod", ""),
    "networkpolicies": ("NetworkPolicy", ""),
    "nodes": ("Pod", "Node"),
    "adminnetworkpolicies": ("NetworkPolicy", "AdminNetworkPolicy"),
    "baselineadminnetworkpolicies": ("NetworkPolicy", "BaselineAdminNetworkPolicy"),
    "clusternetworkpolicies": ("NetworkPolicy", "ClusterNetworkPolicy"),
}


def key_of(resource, obj):
    """(resource, namespace or "", name) of an API object (a dict)."""
    md = obj.get("metadata") or {}
    ns = "" if resource in CLUSTER_SCOPED else (md.get("namespace") or "default")
    return (resource, ns, md.get("name") or "")


def delete_object(key):
    """The object of npgw's delete command for key: {kind, namespace?, name}."""
    resource, ns, name = key
    kind, pseudo = DELETE_KIND[resource]
    obj = {"kind": kind, "name": name}
    if pseudo is None:
        return obj
    obj["namespace"] = pseudo or ns
    return obj


def doc_name(key):
    """The document name npgw reports errors against: pods/NS/NAME,
    networkpolicies/NS/NAME, namespaces/NAME, nodes/NAME,
    adminnetworkpolicies/NAME... Refusals map back by it."""
    resource, ns, name = key
    return "%s/%s" % (resource, name) if resource in CLUSTER_SCOPED else \
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
    if resource not in CLUSTER_SCOPED:
        out["namespace"] = md.get("namespace") or "default"
    if resource in ("namespaces", "pods", "nodes") and md.get("labels"):
        out["labels"] = md["labels"]
    return out


def _node_status(st):
    """status.addresses, each {type, address}: npgw matches the InternalIP
    and ExternalIP ones (and skips the names, Hostname and *DNS)."""
    addrs = [{k: a[k] for k in ("type", "address") if a.get(k) is not None}
             for a in st.get("addresses") or [] if isinstance(a, dict)]
    return {"addresses": addrs} if addrs else {}


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
    elif resource == "nodes":
        out["status"] = _node_status(obj.get("status") or {})
    elif resource != "namespaces":  # NetworkPolicy, the tiers: npgw reads all the spec
        out["spec"] = obj.get("spec") or {}
    return json.dumps(out, sort_keys=True, separators=(",", ":"))
