/*
 * model.c: documents to objects. Dispatches on kind (unwrapping kind: List
 * and the typed lists kubectl and the API server print), checks apiVersion,
 * reads metadata, Namespace and Pod objects, and provides the Kubernetes
 * typed readers (port, protocol, labels, metadata) that policy.c shares;
 * the generic ones (string, integer, boolean, field paths) are lib/doc's.
 * Every message names the field path relative
 * to the object ("items[3].metadata.name") and the position of the
 * offending value. Fields npgw does not use are ignored here: kubectl output
 * carries many (managedFields, annotations, most of status).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8s_private.h"

/* ---- typed readers of Kubernetes values ---- */

bool k8s_get_port(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path, uint16_t *out)
{
	int64_t v;

	*out = 0;
	if (!npgw_doc_get_int(&x->rd, n, path, &v))
		return false;
	if (v < 1 || v > 65535) {
		npgw_doc_err(&x->rd, n, path, "%lld is outside 1..65535", (long long)v);
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

bool k8s_get_proto(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path, uint8_t *out)
{
	int p;

	*out = NPGW_PROTO_TCP;
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return false;
	p = npgw_proto_parse(n->text);
	if (p < 0) {
		npgw_doc_err(&x->rd, n, path, "unknown protocol \"%.64s\" (TCP, UDP or SCTP)",
			     n->text);
		return false;
	}
	*out = (uint8_t)p;
	return true;
}

bool k8s_get_labels(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		    struct npgw_k8s_labels *out)
{
	size_t before = x->rd.errors;
	char kp[NPGW_DOC_PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return false;
	out->v = calloc(n->n ? n->n : 1, sizeof(*out->v));
	if (out->v == NULL) {
		x->rd.nomem = true;
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *kv = &n->kids[i];
		const char *why = k8s_check_label_key(kv->key);

		npgw_doc_path_key(kp, path, kv->key);
		if (why != NULL) {
			npgw_doc_err_key(&x->rd, kv, kp, "invalid label key \"%.80s\": %s", kv->key,
					 why);
			continue;
		}
		if (kv->type == NPGW_DOC_NULL) {
			/* the API server reads a null value as "" */
			npgw_doc_err(&x->rd, kv, kp,
				     "label value is null (write \"\" for an empty value)");
			continue;
		}
		if (!npgw_doc_want(&x->rd, kv, NPGW_DOC_STR, kp))
			continue;
		if ((why = k8s_check_label_value(kv->text)) != NULL) {
			npgw_doc_err(&x->rd, kv, kp, "invalid label value \"%.80s\": %s", kv->text,
				     why);
			continue;
		}
		out->v[out->n].key = strdup(kv->key);
		out->v[out->n].value = strdup(kv->text);
		out->n++;
		if (out->v[out->n - 1].key == NULL || out->v[out->n - 1].value == NULL)
			x->rd.nomem = true;
	}
	k8s_labels_sort(out);
	return x->rd.errors == before && !x->rd.nomem;
}

/* ---- metadata ---- */

static const struct npgw_doc_node *get_metadata(struct k8s_ctx *x, const struct npgw_doc_node *root,
						const char *prefix)
{
	const struct npgw_doc_node *m = npgw_doc_get(root, "metadata");
	char p[NPGW_DOC_PATH_MAX];

	npgw_doc_path(p, prefix, "metadata");
	if (m == NULL) {
		npgw_doc_err(&x->rd, root, p, "missing required field");
		return NULL;
	}
	return npgw_doc_want(&x->rd, m, NPGW_DOC_MAP, p) ? m : NULL;
}

/* metadata.name, checked as a DNS subdomain or label. */
static bool get_name(struct k8s_ctx *x, const struct npgw_doc_node *m, const char *prefix,
		     bool label, char **out)
{
	const struct npgw_doc_node *n = npgw_doc_get(m, "name");
	char p[NPGW_DOC_PATH_MAX];
	const char *why;

	*out = NULL;
	npgw_doc_path(p, prefix, "metadata.name");
	if (n == NULL) {
		npgw_doc_err(&x->rd, m, p, "missing required field");
		return false;
	}
	if (!npgw_doc_get_str(&x->rd, n, p, out))
		return false;
	why = label ? k8s_check_dns_label(*out) : k8s_check_dns_subdomain(*out);
	if (why != NULL) {
		npgw_doc_err(&x->rd, n, p, "invalid name \"%.80s\": %s", *out, why);
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

bool k8s_get_meta(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
		  char **ns, char **name)
{
	const struct npgw_doc_node *m = get_metadata(x, root, prefix), *n;
	char p[NPGW_DOC_PATH_MAX];
	const char *why;
	bool ok;

	*ns = NULL;
	*name = NULL;
	if (m == NULL)
		return false;
	ok = get_name(x, m, prefix, false, name);
	n = npgw_doc_get(m, "namespace");
	npgw_doc_path(p, prefix, "metadata.namespace");
	if (n == NULL) {
		*ns = strdup("default");
		if (*ns == NULL)
			x->rd.nomem = true;
	} else if (npgw_doc_get_str(&x->rd, n, p, ns) && (why = k8s_check_dns_label(*ns)) != NULL) {
		npgw_doc_err(&x->rd, n, p, "invalid namespace \"%.80s\": %s", *ns, why);
		ok = false;
	}
	return ok && *ns != NULL;
}

bool k8s_get_cluster_meta(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
			  const char *kind, char **name)
{
	const struct npgw_doc_node *m = get_metadata(x, root, prefix), *n;
	char p[NPGW_DOC_PATH_MAX];

	*name = NULL;
	if (m == NULL)
		return false;
	if ((n = npgw_doc_get(m, "namespace")) != NULL)
		npgw_doc_warn(&x->rd, n, npgw_doc_path(p, prefix, "metadata.namespace"),
			      "a %s is cluster-scoped: its namespace is ignored", kind);
	return get_name(x, m, prefix, false, name);
}

bool k8s_set_origin(struct k8s_ctx *x, struct npgw_k8s_origin *o, const struct npgw_doc_node *root)
{
	o->file = strdup(x->rd.file);
	o->line = root->line;
	o->col = root->col;
	if (o->file == NULL)
		x->rd.nomem = true;
	return o->file != NULL;
}

/* ---- Namespace ---- */

static struct npgw_k8s_namespace *
namespace_object(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix)
{
	struct npgw_k8s_namespace *ns = calloc(1, sizeof(*ns));
	const struct npgw_doc_node *m, *l;
	char p[NPGW_DOC_PATH_MAX];

	if (ns == NULL) {
		x->rd.nomem = true;
		return NULL;
	}
	k8s_set_origin(x, &ns->origin, root);
	m = get_metadata(x, root, prefix);
	if (m == NULL || !get_name(x, m, prefix, true, &ns->name))
		return ns;
	l = npgw_doc_get(m, "labels");
	if (l != NULL &&
	    !k8s_get_labels(x, l, npgw_doc_path(p, prefix, "metadata.labels"), &ns->labels))
		return ns;
	/* The API server sets kubernetes.io/metadata.name to the name, whatever
	 * the object says; so do we, with a warning when it differed. */
	for (size_t i = 0; i < ns->labels.n; i++) {
		struct npgw_k8s_label *lb = &ns->labels.v[i];

		if (strcmp(lb->key, NPGW_K8S_NS_NAME_LABEL) != 0)
			continue;
		if (strcmp(lb->value, ns->name) != 0) {
			const struct npgw_doc_node *v = npgw_doc_get(l, NPGW_K8S_NS_NAME_LABEL);
			char q[NPGW_DOC_PATH_MAX];

			npgw_doc_path_key(q, npgw_doc_path(p, prefix, "metadata.labels"),
					  NPGW_K8S_NS_NAME_LABEL);
			memcpy(p, q, sizeof(p));
			npgw_doc_warn(&x->rd, v, p,
				      "label %s is \"%s\" but the namespace is \"%s\": "
				      "using \"%s\", as the API server does",
				      NPGW_K8S_NS_NAME_LABEL, lb->value, ns->name, ns->name);
			free(lb->value);
			lb->value = strdup(ns->name);
			if (lb->value == NULL)
				x->rd.nomem = true;
		}
		return ns;
	}
	struct npgw_k8s_label *v = realloc(ns->labels.v, (ns->labels.n + 1) * sizeof(*v));

	if (v == NULL) {
		x->rd.nomem = true;
		return ns;
	}
	ns->labels.v = v;
	v[ns->labels.n].key = strdup(NPGW_K8S_NS_NAME_LABEL);
	v[ns->labels.n].value = strdup(ns->name);
	ns->labels.n++;
	if (v[ns->labels.n - 1].key == NULL || v[ns->labels.n - 1].value == NULL)
		x->rd.nomem = true;
	k8s_labels_sort(&ns->labels);
	return ns;
}

/* ---- Pod ---- */

static void pod_add_addr(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct npgw_doc_node *n,
			 const char *path)
{
	struct npgw_addr a;
	struct npgw_addr *v;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return;
	if (npgw_addr_parse(n->text, &a) < 0) {
		npgw_doc_err(&x->rd, n, path, "\"%.64s\" is not an IPv4 or IPv6 address", n->text);
		return;
	}
	for (size_t i = 0; i < pod->n_addrs; i++)
		if (npgw_addr_cmp(&pod->addrs[i], &a) == 0)
			return;
	v = realloc(pod->addrs, (pod->n_addrs + 1) * sizeof(*v));
	if (v == NULL) {
		x->rd.nomem = true;
		return;
	}
	pod->addrs = v;
	v[pod->n_addrs++] = a;
}

static void pod_status(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct npgw_doc_node *st,
		       const char *prefix)
{
	const struct npgw_doc_node *n;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, st, NPGW_DOC_MAP, npgw_doc_path(p, prefix, "status")))
		return;
	if ((n = npgw_doc_get(st, "phase")) != NULL)
		npgw_doc_get_str(&x->rd, n, npgw_doc_path(p, prefix, "status.phase"), &pod->phase);
	if ((n = npgw_doc_get(st, "podIPs")) != NULL &&
	    npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, npgw_doc_path(p, prefix, "status.podIPs"))) {
		for (size_t i = 0; i < n->n; i++) {
			const struct npgw_doc_node *e = &n->kids[i], *ip;

			char r[NPGW_DOC_PATH_MAX];

			npgw_doc_path_index(q, p, i);
			if (!npgw_doc_want(&x->rd, e, NPGW_DOC_MAP, q))
				continue;
			npgw_doc_path(r, q, "ip");
			memcpy(q, r, sizeof(q));
			if ((ip = npgw_doc_get(e, "ip")) == NULL)
				npgw_doc_err(&x->rd, e, q, "missing required field");
			else
				pod_add_addr(x, pod, ip, q);
		}
	}
	if ((n = npgw_doc_get(st, "podIP")) != NULL)
		pod_add_addr(x, pod, n, npgw_doc_path(p, prefix, "status.podIP"));
}

static void container_ports(struct k8s_ctx *x, struct npgw_k8s_pod *pod,
			    const struct npgw_doc_node *ports, const char *path, size_t first)
{
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, ports, NPGW_DOC_SEQ, path))
		return;
	for (size_t i = 0; i < ports->n; i++) {
		const struct npgw_doc_node *e = &ports->kids[i], *n;
		struct npgw_k8s_container_port cp = {.protocol = NPGW_PROTO_TCP};
		struct npgw_k8s_container_port *v;
		bool ok = true;

		npgw_doc_path_index(p, path, i);
		if (!npgw_doc_want(&x->rd, e, NPGW_DOC_MAP, p))
			continue;
		if ((n = npgw_doc_get(e, "containerPort")) == NULL) {
			npgw_doc_err(&x->rd, e, npgw_doc_path(q, p, "containerPort"),
				     "missing required field");
			ok = false;
		} else {
			ok = k8s_get_port(x, n, npgw_doc_path(q, p, "containerPort"), &cp.port) &&
			     ok;
		}
		if ((n = npgw_doc_get(e, "protocol")) != NULL)
			ok = k8s_get_proto(x, n, npgw_doc_path(q, p, "protocol"), &cp.protocol) &&
			     ok;
		if ((n = npgw_doc_get(e, "name")) != NULL) {
			const char *why;

			npgw_doc_path(q, p, "name");
			if (!npgw_doc_get_str(&x->rd, n, q, &cp.name)) {
				ok = false;
			} else if ((why = k8s_check_port_name(cp.name)) != NULL) {
				npgw_doc_err(&x->rd, n, q, "invalid port name \"%.64s\": %s",
					     cp.name, why);
				ok = false;
			} else {
				for (size_t k = 0; k < pod->n_ports; k++) {
					const struct npgw_k8s_container_port *o = &pod->ports[k];

					if (o->name == NULL || strcmp(o->name, cp.name) != 0)
						continue;
					if (k >= first) {
						npgw_doc_err(&x->rd, n, q,
							     "duplicate port name \"%s\" in this "
							     "container",
							     cp.name);
						ok = false;
					} else if (o->port != cp.port || o->protocol != cp.protocol) {
						npgw_doc_warn(&x->rd, n, q,
							      "port name \"%s\" also names another "
							      "port of an earlier container; a "
							      "policy naming it matches both",
							      cp.name);
					}
					break;
				}
			}
		}
		if (!ok) {
			free(cp.name);
			continue;
		}
		v = realloc(pod->ports, (pod->n_ports + 1) * sizeof(*v));
		if (v == NULL) {
			free(cp.name);
			x->rd.nomem = true;
			return;
		}
		pod->ports = v;
		v[pod->n_ports++] = cp;
	}
}

static void pod_spec(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct npgw_doc_node *spec,
		     const char *prefix)
{
	const struct npgw_doc_node *n;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], r[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, spec, NPGW_DOC_MAP, npgw_doc_path(p, prefix, "spec")))
		return;
	if ((n = npgw_doc_get(spec, "hostNetwork")) != NULL)
		npgw_doc_get_bool(&x->rd, n, npgw_doc_path(p, prefix, "spec.hostNetwork"),
				  &pod->host_network);
	/* Only containers: init containers have finished before the pod
	 * serves, and named ports of a policy resolve against containers. */
	if ((n = npgw_doc_get(spec, "containers")) == NULL ||
	    !npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, npgw_doc_path(p, prefix, "spec.containers")))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *c = &n->kids[i], *ports;

		npgw_doc_path_index(q, p, i);
		if (!npgw_doc_want(&x->rd, c, NPGW_DOC_MAP, q))
			continue;
		if ((ports = npgw_doc_get(c, "ports")) != NULL)
			container_ports(x, pod, ports, npgw_doc_path(r, q, "ports"), pod->n_ports);
	}
}

static struct npgw_k8s_pod *pod_object(struct k8s_ctx *x, const struct npgw_doc_node *root,
				       const char *prefix)
{
	struct npgw_k8s_pod *pod = calloc(1, sizeof(*pod));
	const struct npgw_doc_node *n, *m;
	char p[NPGW_DOC_PATH_MAX];

	if (pod == NULL) {
		x->rd.nomem = true;
		return NULL;
	}
	k8s_set_origin(x, &pod->origin, root);
	if (!k8s_get_meta(x, root, prefix, &pod->namespace, &pod->name))
		return pod;
	m = npgw_doc_get(root, "metadata");
	if ((n = npgw_doc_get(m, "labels")) != NULL)
		k8s_get_labels(x, n, npgw_doc_path(p, prefix, "metadata.labels"), &pod->labels);
	if ((n = npgw_doc_get(root, "spec")) != NULL)
		pod_spec(x, pod, n, prefix);
	if ((n = npgw_doc_get(root, "status")) != NULL)
		pod_status(x, pod, n, prefix);
	return pod;
}

/* ---- dispatch ---- */

/* What an object becomes in the model. */
enum obj_type { OBJ_POLICY, OBJ_POD, OBJ_NAMESPACE, OBJ_TIER, OBJ_NODE };

struct kind_info {
	const char *kind;
	const char *api_version;
	const char *item_kind; /* lists: kind of the items, NULL for any */
	bool is_list;
	enum obj_type type;
	unsigned int policy_kind; /* OBJ_TIER: enum npgw_k8s_policy_kind */
};

#define NPAPI "policy.networking.k8s.io/"
static const struct kind_info kinds[] = {
	{"NetworkPolicy", "networking.k8s.io/v1", NULL, false, OBJ_POLICY, 0},
	{"Pod", "v1", NULL, false, OBJ_POD, 0},
	{"Namespace", "v1", NULL, false, OBJ_NAMESPACE, 0},
	{"Node", "v1", NULL, false, OBJ_NODE, 0},
	{"AdminNetworkPolicy", NPAPI "v1alpha1", NULL, false, OBJ_TIER,
	 NPGW_K8S_ADMIN_NETWORK_POLICY},
	{"BaselineAdminNetworkPolicy", NPAPI "v1alpha1", NULL, false, OBJ_TIER,
	 NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY},
	{"ClusterNetworkPolicy", NPAPI "v1alpha2", NULL, false, OBJ_TIER,
	 NPGW_K8S_CLUSTER_NETWORK_POLICY},
	{"List", "v1", NULL, true, OBJ_POLICY, 0},
	{"NetworkPolicyList", "networking.k8s.io/v1", "NetworkPolicy", true, OBJ_POLICY, 0},
	{"PodList", "v1", "Pod", true, OBJ_POLICY, 0},
	{"NamespaceList", "v1", "Namespace", true, OBJ_POLICY, 0},
	{"NodeList", "v1", "Node", true, OBJ_POLICY, 0},
	{"AdminNetworkPolicyList", NPAPI "v1alpha1", "AdminNetworkPolicy", true, OBJ_POLICY, 0},
	{"BaselineAdminNetworkPolicyList", NPAPI "v1alpha1", "BaselineAdminNetworkPolicy", true,
	 OBJ_POLICY, 0},
	{"ClusterNetworkPolicyList", NPAPI "v1alpha2", "ClusterNetworkPolicy", true, OBJ_POLICY,
	 0},
};

static const struct kind_info *find_kind(const char *kind)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

/* Levenshtein distance of a and b, case-insensitive, capped at 3. */
static unsigned int distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned int row[32], prev;

	if (n >= NPGW_ARRAY_SIZE(row) || m >= NPGW_ARRAY_SIZE(row))
		return 3;
	for (size_t j = 0; j <= m; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= n; i++) {
		prev = row[0];
		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= m; j++) {
			unsigned int cur = row[j];
			unsigned int sub = prev + (tolower((unsigned char)a[i - 1]) !=
						   tolower((unsigned char)b[j - 1]));
			unsigned int best = row[j - 1] + 1 < cur + 1 ? row[j - 1] + 1 : cur + 1;

			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[m] > 3 ? 3 : row[m];
}

/*
 * The kind npgw reads that an unknown kind most likely meant, or NULL: the
 * same name in another case (Networkpolicy), a plural (NetworkPolicies,
 * pods), or one or two letters off for the long names (NetworkPolcy,
 * Namepsace). Short names need an exact case-insensitive match, so that
 * real kinds (Node, Role) are not taken for Pod.
 */
static const char *near_miss(const char *kind)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(kinds); i++) {
		const char *k = kinds[i].kind;
		size_t n = strlen(k), m = strlen(kind);
		unsigned int d = distance(kind, k);

		if (d == 0)
			return k; /* differs in case only */
		if (m == n + 1 && strncasecmp(kind, k, n) == 0 && tolower((unsigned char)kind[n]) == 's')
			return k; /* pods, namespaces */
		if (k[n - 1] == 'y' && m == n + 2 && strncasecmp(kind, k, n - 1) == 0 &&
		    strcasecmp(kind + n - 1, "ies") == 0)
			return k; /* NetworkPolicies */
		if (n >= 8 && d <= 2)
			return k;
	}
	return NULL;
}

/* Count an object of a kind npgw does not read, and remember the kind
 * (its first 64 bytes; past the room, "..." says that more were met). */
static void skip_kind(struct k8s_ctx *x, const char *kind)
{
	char *l = x->skipped_kinds;
	size_t used = strlen(l), n = strnlen(kind, 64);

	x->skipped++;
	for (const char *p = l; *p != '\0';) {
		const char *e = strstr(p, ", ");
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && strncmp(p, kind, n) == 0)
			return;
		p = e ? e + 2 : p + len;
	}
	if (used + n + 8 < sizeof(x->skipped_kinds))
		snprintf(l + used, sizeof(x->skipped_kinds) - used, "%s%.*s", used ? ", " : "",
			 (int)n, kind);
	else if (used >= 3 && used + 6 < sizeof(x->skipped_kinds) && strcmp(l + used - 3, "...") != 0)
		snprintf(l + used, sizeof(x->skipped_kinds) - used, ", ...");
}

static void list_items(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
		       const struct kind_info *k)
{
	const struct npgw_doc_node *items = npgw_doc_get(root, "items");
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];

	npgw_doc_path(p, prefix, "items");
	if (items == NULL || !npgw_doc_want(&x->rd, items, NPGW_DOC_SEQ, p))
		return;
	for (size_t i = 0; i < items->n && !x->stop; i++)
		k8s_object(x, &items->kids[i], npgw_doc_path_index(q, p, i),
			   k->item_kind ? k->item_kind : "");
}

/* Keep obj when its conversion added no error; count it either way. */
static void keep(struct k8s_ctx *x, size_t before, void *obj, const struct kind_info *k)
{
	int rc = 0;

	if (obj == NULL)
		return;
	bool policy = k->type == OBJ_POLICY || k->type == OBJ_TIER;
	bool pod = k->type == OBJ_POD || k->type == OBJ_NODE;

	if (x->rd.errors != before || x->rd.nomem || x->tainted) {
		x->c->n_refused++;
		if (policy)
			k8s_policy_free(obj);
		else if (pod)
			k8s_pod_free(obj);
		else
			k8s_namespace_free(obj);
		return;
	}
	if (policy)
		rc = k8s_cluster_add_policy(x->c, obj);
	else if (pod)
		rc = k8s_cluster_add_pod(x->c, obj);
	else
		rc = k8s_cluster_add_namespace(x->c, obj);
	if (rc < 0)
		x->rd.nomem = true;
}

void k8s_object(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
		const char *list_kind)
{
	const struct npgw_doc_node *kn, *av;
	const struct kind_info *k;
	char p[NPGW_DOC_PATH_MAX];
	const char *kind;
	size_t before = x->rd.errors;
	void *obj;

	if (x->stop)
		return;
	if (++x->objects > NPGW_K8S_MAX_OBJECTS) {
		npgw_doc_err(&x->rd, root, prefix,
			     "more than %d objects in one file: the rest is ignored",
			     NPGW_K8S_MAX_OBJECTS);
		x->stop = true;
		return;
	}
	if (root->type == NPGW_DOC_NULL && list_kind == NULL)
		return; /* an empty document, as between two "---" */
	if (!npgw_doc_want(&x->rd, root, NPGW_DOC_MAP, prefix))
		return;
	kn = npgw_doc_get(root, "kind");
	av = npgw_doc_get(root, "apiVersion");
	if (kn == NULL && list_kind != NULL && list_kind[0] != '\0') {
		kind = list_kind; /* API server list responses omit the items' kind */
	} else if (kn == NULL) {
		npgw_doc_err(&x->rd, root, npgw_doc_path(p, prefix, "kind"),
			     "missing required field");
		return;
	} else if (!npgw_doc_want(&x->rd, kn, NPGW_DOC_STR, npgw_doc_path(p, prefix, "kind"))) {
		return;
	} else {
		kind = kn->text;
	}
	if (list_kind != NULL && list_kind[0] != '\0' && strcmp(kind, list_kind) != 0) {
		npgw_doc_err(&x->rd, kn, npgw_doc_path(p, prefix, "kind"),
			     "a %sList item must be a %s, not %s", list_kind, list_kind, kind);
		return;
	}
	k = find_kind(kind);
	if (k == NULL) {
		const char *meant = near_miss(kind);

		if (meant != NULL) {
			npgw_doc_err(&x->rd, kn, npgw_doc_path(p, prefix, "kind"),
				     "unknown kind \"%.64s\": did you mean %s?", kind, meant);
			return;
		}
		skip_kind(x, kind); /* Service, Deployment...: not ours */
		return;
	}
	if (k->is_list && list_kind != NULL) {
		npgw_doc_err(&x->rd, kn, npgw_doc_path(p, prefix, "kind"),
			     "a list cannot hold another list");
		return;
	}
	npgw_doc_path(p, prefix, "apiVersion");
	if (av == NULL && !(list_kind != NULL && list_kind[0] != '\0')) {
		npgw_doc_err(&x->rd, root, p, "missing required field");
		goto refused;
	}
	if (av != NULL) {
		if (!npgw_doc_want(&x->rd, av, NPGW_DOC_STR, p))
			goto refused;
		if (strcmp(av->text, k->api_version) != 0 && k->type == OBJ_TIER &&
		    strncmp(av->text, NPAPI, strlen(NPAPI)) != 0) {
			/* another API's kind of that name (Antrea's
			 * crd.antrea.io ClusterNetworkPolicy): not ours */
			skip_kind(x, kind);
			return;
		}
		if (strcmp(av->text, k->api_version) != 0) {
			npgw_doc_err(&x->rd, av, p, "%s must be apiVersion %s, not \"%.64s\"",
				     k->kind, k->api_version, av->text);
			goto refused;
		}
	}
	if (k->is_list) {
		list_items(x, root, prefix, k);
		return;
	}
	switch (k->type) {
	case OBJ_POLICY:
		obj = k8s_policy(x, root, prefix);
		break;
	case OBJ_POD:
		obj = pod_object(x, root, prefix);
		break;
	case OBJ_TIER:
		obj = k8s_tier_policy(x, root, prefix, k->policy_kind);
		break;
	case OBJ_NODE:
		obj = k8s_node(x, root, prefix);
		break;
	default:
		obj = namespace_object(x, root, prefix);
		break;
	}
	keep(x, before, obj, k);
	return;
refused:
	if (!k->is_list)
		x->c->n_refused++;
}
