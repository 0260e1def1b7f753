"""npgw_agent: keeps npgw's desired state equal to the Kubernetes API's.

Modules: objects (what npgw is sent of each object), kube (list and
watch one resource with the official Python client), npgw (the control
socket client), sync (the reconciler: the cache, what npgw holds, refusals,
counters and status), main (the command line).
"""
