#!/usr/bin/python3
"""deploy_check.py: the Kubernetes manifests, checked offline.

  deploy_check.py SOURCE_ROOT NPGW

There is no API server here, so kubectl cannot validate against one
(`kubectl apply --dry-run=client` still asks the server for its API
groups). What is checked instead:
- every object of deploy/kubernetes (kustomization.yaml's list, rendered
  by `kubectl kustomize` when kubectl is installed) against the official
  client's models (python3-kubernetes, API 1.22 schema): every field name
  known at its place, every value of its type, required fields present;
- what the issue asks of them: the ClusterRole grants get, list and watch
  on pods, namespaces, nodes, networkpolicies and the three tier kinds
  (policy.networking.k8s.io) and nothing else; the DaemonSet
  runs npgw and the agent in one pod with hostNetwork, a node selector,
  hugepages, no privileged container, only the agent with a token;
- the ConfigMap's npgw.yaml is deploy/npgw-node.yaml, and `npgw --check`
  accepts it;
- the Containerfile builds from this repository on Debian 12 with the
  packages scripts/install-deps.sh names for the build.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml
from kubernetes import client

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok: " + what)
    else:
        failed += 1
        print("FAIL: %s%s" % (what, (": " + detail) if detail else ""))
    return ok


PRIMITIVE = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def strict(data, type_name, path, errors):
    """Walk data along the client's model type_name; report unknown fields
    and values of the wrong type."""
    if type_name == "object":
        return
    if type_name in PRIMITIVE:
        if type_name == "str" and isinstance(data, (int, float)) and path.endswith(
                ("quantity", "]")):
            return  # resource quantities may be numbers
        if not isinstance(data, PRIMITIVE[type_name]) or (
                type_name == "int" and isinstance(data, bool)):
            errors.append("%s: %r is not %s" % (path, data, type_name))
        return
    m = re.match(r"list\[(.*)\]$", type_name)
    if m:
        if not isinstance(data, list):
            errors.append("%s: not a list" % path)
            return
        for i, e in enumerate(data):
            strict(e, m.group(1), "%s[%d]" % (path, i), errors)
        return
    m = re.match(r"dict\(str, (.*)\)$", type_name)
    if m:
        if not isinstance(data, dict):
            errors.append("%s: not a map" % path)
            return
        for k, v in data.items():
            if m.group(1) == "str" and isinstance(v, (int, float)) and not isinstance(v, bool):
                continue  # quantities: "2" or 2
            strict(v, m.group(1), "%s.%s" % (path, k), errors)
        return
    cls = getattr(client.models, type_name, None)
    if cls is None:
        errors.append("%s: unknown type %s" % (path, type_name))
        return
    if not isinstance(data, dict):
        errors.append("%s: not an object (%s)" % (path, type_name))
        return
    by_json = {v: k for k, v in cls.attribute_map.items()}
    for k, v in data.items():
        if k not in by_json:
            errors.append("%s.%s: unknown field of %s" % (path, k, type_name))
            continue
        strict(v, cls.openapi_types[by_json[k]], "%s.%s" % (path, k), errors)


def model_name(obj):
    group_version = obj.get("apiVersion", "")
    version = group_version.split("/")[-1]
    return version[0].upper() + version[1:] + obj.get("kind", "")


def load_objects(root):
    kdir = os.path.join(root, "deploy", "kubernetes")
    kubectl = shutil.which("kubectl")
    if kubectl:
        r = subprocess.run([kubectl, "kustomize", kdir], capture_output=True, text=True)
        check(r.returncode == 0, "kubectl kustomize deploy/kubernetes renders", r.stderr.strip())
        if r.returncode == 0:
            return list(yaml.safe_load_all(r.stdout))
    with open(os.path.join(kdir, "kustomization.yaml")) as f:
        files = yaml.safe_load(f)["resources"]
    out = []
    for name in files:
        with open(os.path.join(kdir, name)) as f:
            out.extend(o for o in yaml.safe_load_all(f) if o)
    return out


def main():
    root, npgw = sys.argv[1], sys.argv[2]
    objs = load_objects(root)
    by_kind = {}
    api = client.ApiClient()
    for o in objs:
        name = "%s %s" % (o.get("kind"), (o.get("metadata") or {}).get("name"))
        by_kind.setdefault(o.get("kind"), []).append(o)
        errors = []
        strict(o, model_name(o), o.get("kind", "?"), errors)
        try:  # required fields, through the client's own deserializer
            api._ApiClient__deserialize(o, model_name(o))
        except (ValueError, TypeError, AttributeError) as e:
            errors.append(str(e))
        check(not errors, "%s: valid against the client's %s model" % (name, model_name(o)),
              "; ".join(errors[:5]))
    for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap",
                 "DaemonSet"):
        check(len(by_kind.get(kind, [])) == 1, "one %s" % kind)
    if failed:
        return finish()

    role = by_kind["ClusterRole"][0]
    grants = set()
    for r in role["rules"]:
        for g in r["apiGroups"]:
            for res in r["resources"]:
                for v in r["verbs"]:
                    grants.add((g, res, v))
    tiers = "policy.networking.k8s.io"
    want = {(g, r, v) for g, r in [("", "pods"), ("", "namespaces"), ("", "nodes"),
                                   ("networking.k8s.io", "networkpolicies"),
                                   (tiers, "adminnetworkpolicies"),
                                   (tiers, "baselineadminnetworkpolicies"),
                                   (tiers, "clusternetworkpolicies")]
            for v in ("get", "list", "watch")}
    check(grants == want, "ClusterRole: get, list, watch on pods, namespaces, nodes, "
          "networkpolicies and the three tier kinds only", str(sorted(grants ^ want)))
    sa = by_kind["ServiceAccount"][0]["metadata"]
    binding = by_kind["ClusterRoleBinding"][0]
    check(binding["roleRef"]["name"] == role["metadata"]["name"] and
          binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"],
                                   "namespace": sa["namespace"]}],
          "ClusterRoleBinding: the role to the agent's ServiceAccount")

    ds = by_kind["DaemonSet"][0]
    spec = ds["spec"]["template"]["spec"]
    cs = {c["name"]: c for c in spec["containers"]}
    check(set(cs) == {"npgw", "agent"}, "DaemonSet: npgw and the agent in one pod")
    check(spec.get("hostNetwork") is True, "DaemonSet: hostNetwork")
    check(bool(spec.get("nodeSelector")), "DaemonSet: a node selector")
    check(spec.get("serviceAccountName") == sa["name"], "DaemonSet: the agent's ServiceAccount")
    lim = cs["npgw"]["resources"]["limits"]
    check(any(k.startswith("hugepages-") for k in lim) and "memory" in lim,
          "DaemonSet: hugepages (with memory) in npgw's limits")
    check(all(not (c.get("securityContext") or {}).get("privileged") for c in cs.values()),
          "DaemonSet: no privileged container")
    caps = cs["npgw"]["securityContext"]["capabilities"]
    check(caps.get("drop") == ["ALL"] and set(caps.get("add", [])) <= {
        "IPC_LOCK", "NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_RAWIO"},
        "DaemonSet: npgw drops every capability but DPDK's", str(caps))
    check(cs["agent"]["securityContext"]["capabilities"].get("drop") == ["ALL"] and
          not cs["agent"]["securityContext"]["capabilities"].get("add"),
          "DaemonSet: the agent has no capability")
    check(spec.get("automountServiceAccountToken") is False and
          not any(m["mountPath"].startswith("/var/run/secrets")
                  for m in cs["npgw"].get("volumeMounts", [])) and
          any(m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
              for m in cs["agent"].get("volumeMounts", [])),
          "DaemonSet: only the agent gets a service account token")
    cm = by_kind["ConfigMap"][0]
    mounts = {m["name"]: m["mountPath"] for m in cs["npgw"]["volumeMounts"]}
    cmd = cs["npgw"]["command"]
    conf_vol = [v["name"] for v in spec["volumes"] if (v.get("configMap") or {}).get("name") ==
                cm["metadata"]["name"]]
    check(conf_vol and os.path.join(mounts.get(conf_vol[0], "?"), "npgw.yaml") == cmd[-1],
          "DaemonSet: npgw reads the ConfigMap's npgw.yaml", " ".join(cmd))
    with open(os.path.join(root, "deploy", "npgw-node.yaml")) as f:
        node = f.read()
    text = cm["data"].get("npgw.yaml", "")
    check(text.strip() == node.strip(), "ConfigMap: npgw.yaml is deploy/npgw-node.yaml")
    tmp = tempfile.mkdtemp(prefix="npgw-deploy.")
    try:
        p = os.path.join(tmp, "npgw.yaml")
        with open(p, "w") as f:
            f.write(text)
        r = subprocess.run([npgw, "--config", p, "--check"], capture_output=True, text=True)
        check(r.returncode == 0, "ConfigMap: npgw --check accepts its npgw.yaml", r.stderr)
    finally:
        shutil.rmtree(tmp)
    sock = [a for a in cs["agent"]["command"] if a.endswith(".sock")]
    check(sock == ["/run/npgw/npgw.sock"] and "socket: /run/npgw/npgw.sock" in text,
          "DaemonSet: the agent talks to the socket npgw.yaml names")

    with open(os.path.join(root, "deploy", "Containerfile")) as f:
        cf = f.read()
    with open(os.path.join(root, "scripts", "install-deps.sh")) as f:
        deps = f.read()
    check(re.search(r"^FROM debian:12", cf, re.M) is not None, "Containerfile: from Debian 12")
    check("meson setup" in cf and "meson install" in cf and "COPY . " in cf,
          "Containerfile: builds this repository with meson and installs it")
    for pkg in ("libdpdk-dev", "libyaml-dev", "libcjson-dev", "libsystemd-dev", "meson",
                "python3-kubernetes"):
        check(pkg in cf and pkg in deps, "Containerfile and install-deps.sh: %s" % pkg)
    return finish()


def finish():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
