/*
 * model.c: documents to objects. Dispatches on kind (unwrapping kind: List
 * and the typed lists kubectl and the API server print), checks apiVersion,
 * reads metadata, Namespace and Pod objects, and provides the typed field
 * readers that policy.c shares. Every message names the field path relative
 * to the object ("items[3].metadata.name") and the position of the
 * offending value. Fields npgw does not use are ignored here: kubectl output
 * carries many (managedFields, annotations, most of status).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

/* ---- messages ---- */

static void vreport(struct k8s_ctx *x, enum npgw_severity sev, uint32_t line, uint32_t col,
		    const char *path, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (sev == NPGW_SEV_ERROR)
		x->errors++;
	if (vasprintf(&msg, fmt, ap) < 0) {
		x->nomem = true;
		return;
	}
	if (npgw_diags_add(x->diags, sev, x->file, line, col, path, "%s", msg) < 0)
		x->nomem = true;
	free(msg);
}

void k8s_err(struct k8s_ctx *x, const struct doc_node *at, const char *path, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(x, NPGW_SEV_ERROR, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
	va_end(ap);
}

void k8s_err_key(struct k8s_ctx *x, const struct doc_node *at, const char *path,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(x, NPGW_SEV_ERROR, at->key_line, at->key_col, path, fmt, ap);
	va_end(ap);
}

void k8s_warn(struct k8s_ctx *x, const struct doc_node *at, const char *path, const char *fmt,
	      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(x, NPGW_SEV_WARNING, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
	va_end(ap);
}

/* ---- paths ---- */

static char *path_fmt(char *out, const char *fmt, const char *base, const char *sep,
		      const char *field)
{
	int n = snprintf(out, K8S_PATH_MAX, fmt, base, sep, field);

	if (n < 0 || n >= K8S_PATH_MAX)
		memcpy(out + K8S_PATH_MAX - 4, "...", 4);
	return out;
}

char *k8s_path(char *out, const char *base, const char *field)
{
	return path_fmt(out, "%s%s%s", base, base[0] ? "." : "", field);
}

char *k8s_path_index(char *out, const char *base, size_t i)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	return path_fmt(out, "%s%s%s", base, "", idx);
}

/* metadata.labels.app, or metadata.labels["app.kubernetes.io/name"] for a
 * key that is not a plain word. */
char *k8s_path_key(char *out, const char *base, const char *key)
{
	bool word = key[0] != '\0' && strlen(key) <= 64;

	for (const char *p = key; *p && word; p++)
		word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
	if (word)
		return k8s_path(out, base, key);
	return path_fmt(out, "%s%s[\"%.64s\"]", base, "", key);
}

/* ---- typed readers ---- */

static const char *type_name(enum doc_type t)
{
	struct doc_node n = {.type = (uint8_t)t};

	return doc_type_name(&n);
}

bool k8s_want(struct k8s_ctx *x, const struct doc_node *n, enum doc_type t, const char *path)
{
	if (n->type == t)
		return true;
	if (t == DOC_STR && (n->flags & DOC_F_PLAIN) &&
	    (n->type == DOC_BOOL || n->type == DOC_INT || n->type == DOC_FLOAT))
		k8s_err(x, n, path, "expected a string, got %s (quote it: \"%s\")",
			doc_type_name(n), n->text);
	else if (t == DOC_BOOL && n->type == DOC_STR)
		k8s_err(x, n, path, "expected a boolean, got a string (write true or false "
				    "without quotes)");
	else if (t == DOC_INT && n->type == DOC_STR)
		k8s_err(x, n, path, "expected an integer, got a string");
	else if (t == DOC_INT && n->type == DOC_FLOAT)
		k8s_err(x, n, path, "expected an integer, got %s", n->text);
	else
		k8s_err(x, n, path, "expected %s, got %s", type_name(t), doc_type_name(n));
	return false;
}

bool k8s_get_str(struct k8s_ctx *x, const struct doc_node *n, const char *path, char **out)
{
	*out = NULL;
	if (!k8s_want(x, n, DOC_STR, path))
		return false;
	*out = strdup(n->text);
	if (*out == NULL) {
		x->nomem = true;
		return false;
	}
	return true;
}

bool k8s_get_int(struct k8s_ctx *x, const struct doc_node *n, const char *path, int64_t *out)
{
	const char *p = n->text;
	bool neg = false;
	uint64_t v = 0;

	*out = 0;
	if (!k8s_want(x, n, DOC_INT, path))
		return false;
	if (n->flags & DOC_F_ODD_INT) {
		k8s_err(x, n, path,
			"%.32s is not a plain decimal integer (YAML 1.1 reads a leading 0 as "
			"octal, 0x as hex, 0b as binary): write it in decimal",
			n->text);
		return false;
	}
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10 || v * 10 + d > (uint64_t)INT64_MAX + neg) {
			k8s_err(x, n, path, "integer %.32s%s is out of range", n->text,
				n->len > 32 ? "..." : "");
			return false;
		}
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool k8s_get_bool(struct k8s_ctx *x, const struct doc_node *n, const char *path, bool *out)
{
	*out = false;
	if (!k8s_want(x, n, DOC_BOOL, path))
		return false;
	*out = n->b;
	return true;
}

bool k8s_get_port(struct k8s_ctx *x, const struct doc_node *n, const char *path, uint16_t *out)
{
	int64_t v;

	*out = 0;
	if (!k8s_get_int(x, n, path, &v))
		return false;
	if (v < 1 || v > 65535) {
		k8s_err(x, n, path, "%lld is outside 1..65535", (long long)v);
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

bool k8s_get_proto(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		   uint8_t *out)
{
	int p;

	*out = NPGW_PROTO_TCP;
	if (!k8s_want(x, n, DOC_STR, path))
		return false;
	p = npgw_proto_parse(n->text);
	if (p < 0) {
		k8s_err(x, n, path, "unknown protocol \"%.64s\" (TCP, UDP or SCTP)", n->text);
		return false;
	}
	*out = (uint8_t)p;
	return true;
}

bool k8s_get_labels(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		    struct npgw_k8s_labels *out)
{
	size_t before = x->errors;
	char kp[K8S_PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (!k8s_want(x, n, DOC_MAP, path))
		return false;
	out->v = calloc(n->n ? n->n : 1, sizeof(*out->v));
	if (out->v == NULL) {
		x->nomem = true;
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *kv = &n->kids[i];
		const char *why = k8s_check_label_key(kv->key);

		k8s_path_key(kp, path, kv->key);
		if (why != NULL) {
			k8s_err_key(x, kv, kp, "invalid label key \"%.80s\": %s", kv->key, why);
			continue;
		}
		if (kv->type == DOC_NULL) {
			/* the API server reads a null value as "" */
			k8s_err(x, kv, kp, "label value is null (write \"\" for an empty value)");
			continue;
		}
		if (!k8s_want(x, kv, DOC_STR, kp))
			continue;
		if ((why = k8s_check_label_value(kv->text)) != NULL) {
			k8s_err(x, kv, kp, "invalid label value \"%.80s\": %s", kv->text, why);
			continue;
		}
		out->v[out->n].key = strdup(kv->key);
		out->v[out->n].value = strdup(kv->text);
		out->n++;
		if (out->v[out->n - 1].key == NULL || out->v[out->n - 1].value == NULL)
			x->nomem = true;
	}
	k8s_labels_sort(out);
	return x->errors == before && !x->nomem;
}

/* ---- metadata ---- */

static const struct doc_node *get_metadata(struct k8s_ctx *x, const struct doc_node *root,
					   const char *prefix)
{
	const struct doc_node *m = doc_get(root, "metadata");
	char p[K8S_PATH_MAX];

	k8s_path(p, prefix, "metadata");
	if (m == NULL) {
		k8s_err(x, root, p, "missing required field");
		return NULL;
	}
	return k8s_want(x, m, DOC_MAP, p) ? m : NULL;
}

/* metadata.name, checked as a DNS subdomain or label. */
static bool get_name(struct k8s_ctx *x, const struct doc_node *m, const char *prefix,
		     bool label, char **out)
{
	const struct doc_node *n = doc_get(m, "name");
	char p[K8S_PATH_MAX];
	const char *why;

	*out = NULL;
	k8s_path(p, prefix, "metadata.name");
	if (n == NULL) {
		k8s_err(x, m, p, "missing required field");
		return false;
	}
	if (!k8s_get_str(x, n, p, out))
		return false;
	why = label ? k8s_check_dns_label(*out) : k8s_check_dns_subdomain(*out);
	if (why != NULL) {
		k8s_err(x, n, p, "invalid name \"%.80s\": %s", *out, why);
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

bool k8s_get_meta(struct k8s_ctx *x, const struct doc_node *root, const char *prefix,
		  char **ns, char **name)
{
	const struct doc_node *m = get_metadata(x, root, prefix), *n;
	char p[K8S_PATH_MAX];
	const char *why;
	bool ok;

	*ns = NULL;
	*name = NULL;
	if (m == NULL)
		return false;
	ok = get_name(x, m, prefix, false, name);
	n = doc_get(m, "namespace");
	k8s_path(p, prefix, "metadata.namespace");
	if (n == NULL) {
		*ns = strdup("default");
		if (*ns == NULL)
			x->nomem = true;
	} else if (k8s_get_str(x, n, p, ns) && (why = k8s_check_dns_label(*ns)) != NULL) {
		k8s_err(x, n, p, "invalid namespace \"%.80s\": %s", *ns, why);
		ok = false;
	}
	return ok && *ns != NULL;
}

bool k8s_set_origin(struct k8s_ctx *x, struct npgw_k8s_origin *o, const struct doc_node *root)
{
	o->file = strdup(x->file);
	o->line = root->line;
	o->col = root->col;
	if (o->file == NULL)
		x->nomem = true;
	return o->file != NULL;
}

/* ---- Namespace ---- */

static struct npgw_k8s_namespace *namespace_object(struct k8s_ctx *x,
						   const struct doc_node *root,
						   const char *prefix)
{
	struct npgw_k8s_namespace *ns = calloc(1, sizeof(*ns));
	const struct doc_node *m, *l;
	char p[K8S_PATH_MAX];

	if (ns == NULL) {
		x->nomem = true;
		return NULL;
	}
	k8s_set_origin(x, &ns->origin, root);
	m = get_metadata(x, root, prefix);
	if (m == NULL || !get_name(x, m, prefix, true, &ns->name))
		return ns;
	l = doc_get(m, "labels");
	if (l != NULL && !k8s_get_labels(x, l, k8s_path(p, prefix, "metadata.labels"), &ns->labels))
		return ns;
	/* The API server sets kubernetes.io/metadata.name to the name, whatever
	 * the object says; so do we, with a warning when it differed. */
	for (size_t i = 0; i < ns->labels.n; i++) {
		struct npgw_k8s_label *lb = &ns->labels.v[i];

		if (strcmp(lb->key, NPGW_K8S_NS_NAME_LABEL) != 0)
			continue;
		if (strcmp(lb->value, ns->name) != 0) {
			const struct doc_node *v = doc_get(l, NPGW_K8S_NS_NAME_LABEL);
			char q[K8S_PATH_MAX];

			k8s_path_key(q, k8s_path(p, prefix, "metadata.labels"),
				     NPGW_K8S_NS_NAME_LABEL);
			memcpy(p, q, sizeof(p));
			k8s_warn(x, v, p, "label %s is \"%s\" but the namespace is \"%s\": "
					  "using \"%s\", as the API server does",
				 NPGW_K8S_NS_NAME_LABEL, lb->value, ns->name, ns->name);
			free(lb->value);
			lb->value = strdup(ns->name);
			if (lb->value == NULL)
				x->nomem = true;
		}
		return ns;
	}
	struct npgw_k8s_label *v = realloc(ns->labels.v, (ns->labels.n + 1) * sizeof(*v));

	if (v == NULL) {
		x->nomem = true;
		return ns;
	}
	ns->labels.v = v;
	v[ns->labels.n].key = strdup(NPGW_K8S_NS_NAME_LABEL);
	v[ns->labels.n].value = strdup(ns->name);
	ns->labels.n++;
	if (v[ns->labels.n - 1].key == NULL || v[ns->labels.n - 1].value == NULL)
		x->nomem = true;
	k8s_labels_sort(&ns->labels);
	return ns;
}

/* ---- Pod ---- */

static void pod_add_addr(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct doc_node *n,
			 const char *path)
{
	struct npgw_addr a;
	struct npgw_addr *v;

	if (!k8s_want(x, n, DOC_STR, path))
		return;
	if (npgw_addr_parse(n->text, &a) < 0) {
		k8s_err(x, n, path, "\"%.64s\" is not an IPv4 or IPv6 address", n->text);
		return;
	}
	for (size_t i = 0; i < pod->n_addrs; i++)
		if (npgw_addr_cmp(&pod->addrs[i], &a) == 0)
			return;
	v = realloc(pod->addrs, (pod->n_addrs + 1) * sizeof(*v));
	if (v == NULL) {
		x->nomem = true;
		return;
	}
	pod->addrs = v;
	v[pod->n_addrs++] = a;
}

static void pod_status(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct doc_node *st,
		       const char *prefix)
{
	const struct doc_node *n;
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX];

	if (!k8s_want(x, st, DOC_MAP, k8s_path(p, prefix, "status")))
		return;
	if ((n = doc_get(st, "phase")) != NULL)
		k8s_get_str(x, n, k8s_path(p, prefix, "status.phase"), &pod->phase);
	if ((n = doc_get(st, "podIPs")) != NULL &&
	    k8s_want(x, n, DOC_SEQ, k8s_path(p, prefix, "status.podIPs"))) {
		for (size_t i = 0; i < n->n; i++) {
			const struct doc_node *e = &n->kids[i], *ip;

			char r[K8S_PATH_MAX];

			k8s_path_index(q, p, i);
			if (!k8s_want(x, e, DOC_MAP, q))
				continue;
			k8s_path(r, q, "ip");
			memcpy(q, r, sizeof(q));
			if ((ip = doc_get(e, "ip")) == NULL)
				k8s_err(x, e, q, "missing required field");
			else
				pod_add_addr(x, pod, ip, q);
		}
	}
	if ((n = doc_get(st, "podIP")) != NULL)
		pod_add_addr(x, pod, n, k8s_path(p, prefix, "status.podIP"));
}

static void container_ports(struct k8s_ctx *x, struct npgw_k8s_pod *pod,
			    const struct doc_node *ports, const char *path, size_t first)
{
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX];

	if (!k8s_want(x, ports, DOC_SEQ, path))
		return;
	for (size_t i = 0; i < ports->n; i++) {
		const struct doc_node *e = &ports->kids[i], *n;
		struct npgw_k8s_container_port cp = {.protocol = NPGW_PROTO_TCP};
		struct npgw_k8s_container_port *v;
		bool ok = true;

		k8s_path_index(p, path, i);
		if (!k8s_want(x, e, DOC_MAP, p))
			continue;
		if ((n = doc_get(e, "containerPort")) == NULL) {
			k8s_err(x, e, k8s_path(q, p, "containerPort"), "missing required field");
			ok = false;
		} else {
			ok = k8s_get_port(x, n, k8s_path(q, p, "containerPort"), &cp.port) && ok;
		}
		if ((n = doc_get(e, "protocol")) != NULL)
			ok = k8s_get_proto(x, n, k8s_path(q, p, "protocol"), &cp.protocol) && ok;
		if ((n = doc_get(e, "name")) != NULL) {
			const char *why;

			k8s_path(q, p, "name");
			if (!k8s_get_str(x, n, q, &cp.name)) {
				ok = false;
			} else if ((why = k8s_check_port_name(cp.name)) != NULL) {
				k8s_err(x, n, q, "invalid port name \"%.64s\": %s", cp.name, why);
				ok = false;
			} else {
				for (size_t k = 0; k < pod->n_ports; k++) {
					const struct npgw_k8s_container_port *o = &pod->ports[k];

					if (o->name == NULL || strcmp(o->name, cp.name) != 0)
						continue;
					if (k >= first) {
						k8s_err(x, n, q, "duplicate port name \"%s\" in this "
								 "container", cp.name);
						ok = false;
					} else if (o->port != cp.port || o->protocol != cp.protocol) {
						k8s_warn(x, n, q, "port name \"%s\" also names another "
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
			x->nomem = true;
			return;
		}
		pod->ports = v;
		v[pod->n_ports++] = cp;
	}
}

static void pod_spec(struct k8s_ctx *x, struct npgw_k8s_pod *pod, const struct doc_node *spec,
		     const char *prefix)
{
	const struct doc_node *n;
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX], r[K8S_PATH_MAX];

	if (!k8s_want(x, spec, DOC_MAP, k8s_path(p, prefix, "spec")))
		return;
	if ((n = doc_get(spec, "hostNetwork")) != NULL)
		k8s_get_bool(x, n, k8s_path(p, prefix, "spec.hostNetwork"), &pod->host_network);
	/* Only containers: init containers have finished before the pod
	 * serves, and named ports of a policy resolve against containers. */
	if ((n = doc_get(spec, "containers")) == NULL ||
	    !k8s_want(x, n, DOC_SEQ, k8s_path(p, prefix, "spec.containers")))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *c = &n->kids[i], *ports;

		k8s_path_index(q, p, i);
		if (!k8s_want(x, c, DOC_MAP, q))
			continue;
		if ((ports = doc_get(c, "ports")) != NULL)
			container_ports(x, pod, ports, k8s_path(r, q, "ports"), pod->n_ports);
	}
}

static struct npgw_k8s_pod *pod_object(struct k8s_ctx *x, const struct doc_node *root,
				       const char *prefix)
{
	struct npgw_k8s_pod *pod = calloc(1, sizeof(*pod));
	const struct doc_node *n, *m;
	char p[K8S_PATH_MAX];

	if (pod == NULL) {
		x->nomem = true;
		return NULL;
	}
	k8s_set_origin(x, &pod->origin, root);
	if (!k8s_get_meta(x, root, prefix, &pod->namespace, &pod->name))
		return pod;
	m = doc_get(root, "metadata");
	if ((n = doc_get(m, "labels")) != NULL)
		k8s_get_labels(x, n, k8s_path(p, prefix, "metadata.labels"), &pod->labels);
	if ((n = doc_get(root, "spec")) != NULL)
		pod_spec(x, pod, n, prefix);
	if ((n = doc_get(root, "status")) != NULL)
		pod_status(x, pod, n, prefix);
	return pod;
}

/* ---- dispatch ---- */

struct kind_info {
	const char *kind;
	const char *api_version;
	const char *item_kind; /* lists: kind of the items, NULL for any */
	bool is_list;
};

static const struct kind_info kinds[] = {
	{"NetworkPolicy", "networking.k8s.io/v1", NULL, false},
	{"Pod", "v1", NULL, false},
	{"Namespace", "v1", NULL, false},
	{"List", "v1", NULL, true},
	{"NetworkPolicyList", "networking.k8s.io/v1", "NetworkPolicy", true},
	{"PodList", "v1", "Pod", true},
	{"NamespaceList", "v1", "Namespace", true},
};

static const struct kind_info *find_kind(const char *kind)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

static void list_items(struct k8s_ctx *x, const struct doc_node *root, const char *prefix,
		       const struct kind_info *k)
{
	const struct doc_node *items = doc_get(root, "items");
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX];

	k8s_path(p, prefix, "items");
	if (items == NULL || !k8s_want(x, items, DOC_SEQ, p))
		return;
	for (size_t i = 0; i < items->n && !x->stop; i++)
		k8s_object(x, &items->kids[i], k8s_path_index(q, p, i),
			   k->item_kind ? k->item_kind : "");
}

/* Keep obj when its conversion added no error; count it either way. */
static void keep(struct k8s_ctx *x, size_t before, void *obj, const struct kind_info *k)
{
	int rc = 0;

	if (obj == NULL)
		return;
	if (x->errors != before || x->nomem || x->tainted) {
		x->c->n_refused++;
		if (strcmp(k->kind, "NetworkPolicy") == 0)
			k8s_policy_free(obj);
		else if (strcmp(k->kind, "Pod") == 0)
			k8s_pod_free(obj);
		else
			k8s_namespace_free(obj);
		return;
	}
	if (strcmp(k->kind, "NetworkPolicy") == 0)
		rc = k8s_cluster_add_policy(x->c, obj);
	else if (strcmp(k->kind, "Pod") == 0)
		rc = k8s_cluster_add_pod(x->c, obj);
	else
		rc = k8s_cluster_add_namespace(x->c, obj);
	if (rc < 0)
		x->nomem = true;
}

void k8s_object(struct k8s_ctx *x, const struct doc_node *root, const char *prefix,
		const char *list_kind)
{
	const struct doc_node *kn, *av;
	const struct kind_info *k;
	char p[K8S_PATH_MAX];
	const char *kind;
	size_t before = x->errors;
	void *obj;

	if (x->stop)
		return;
	if (++x->objects > NPGW_K8S_MAX_OBJECTS) {
		k8s_err(x, root, prefix, "more than %d objects in one file: the rest is ignored",
			NPGW_K8S_MAX_OBJECTS);
		x->stop = true;
		return;
	}
	if (root->type == DOC_NULL && list_kind == NULL)
		return; /* an empty document, as between two "---" */
	if (!k8s_want(x, root, DOC_MAP, prefix))
		return;
	kn = doc_get(root, "kind");
	av = doc_get(root, "apiVersion");
	if (kn == NULL && list_kind != NULL && list_kind[0] != '\0') {
		kind = list_kind; /* API server list responses omit the items' kind */
	} else if (kn == NULL) {
		k8s_err(x, root, k8s_path(p, prefix, "kind"), "missing required field");
		return;
	} else if (!k8s_want(x, kn, DOC_STR, k8s_path(p, prefix, "kind"))) {
		return;
	} else {
		kind = kn->text;
	}
	if (list_kind != NULL && list_kind[0] != '\0' && strcmp(kind, list_kind) != 0) {
		k8s_err(x, kn, k8s_path(p, prefix, "kind"), "a %sList item must be a %s, not %s",
			list_kind, list_kind, kind);
		return;
	}
	k = find_kind(kind);
	if (k == NULL)
		return; /* Service, Deployment...: not ours */
	if (k->is_list && list_kind != NULL) {
		k8s_err(x, kn, k8s_path(p, prefix, "kind"), "a list cannot hold another list");
		return;
	}
	k8s_path(p, prefix, "apiVersion");
	if (av == NULL && !(list_kind != NULL && list_kind[0] != '\0')) {
		k8s_err(x, root, p, "missing required field");
		goto refused;
	}
	if (av != NULL) {
		if (!k8s_want(x, av, DOC_STR, p))
			goto refused;
		if (strcmp(av->text, k->api_version) != 0) {
			k8s_err(x, av, p, "%s must be apiVersion %s, not \"%.64s\"", k->kind,
				k->api_version, av->text);
			goto refused;
		}
	}
	if (k->is_list) {
		list_items(x, root, prefix, k);
		return;
	}
	if (strcmp(k->kind, "NetworkPolicy") == 0)
		obj = k8s_policy(x, root, prefix);
	else if (strcmp(k->kind, "Pod") == 0)
		obj = pod_object(x, root, prefix);
	else
		obj = namespace_object(x, root, prefix);
	keep(x, before, obj, k);
	return;
refused:
	if (!k->is_list)
		x->c->n_refused++;
}
