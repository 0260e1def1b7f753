/*
 * k8s_private.h: internals of lib/k8s.
 *
 * Loading runs in three layers:
 *  1. lib/doc turns text (YAML or JSON) into a positioned document tree:
 *     every node knows its line and column, scalars know their resolved
 *     type (null, bool, int, float, string). Its tree builder enforces the
 *     hostile-input limits (NPGW_DOC_MAX_*), refuses duplicate keys, and
 *     hands each finished document to a callback;
 *  2. model.c turns a document into Namespace / Pod objects (and unwraps
 *     kind: List and the typed lists), policy.c into NetworkPolicy objects,
 *     validating every field it reads and naming the field path in each
 *     message;
 *  3. cluster.c keeps the objects, sorts them and runs the checks that span
 *     objects.
 */
#ifndef NPGW_K8S_PRIVATE_H
#define NPGW_K8S_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_doc.h"
#include "npgw_k8s.h"

/* Objects (documents and List items) of one file. The limits of the
 * document tree itself (file size, depth, scalar size, nodes) are lib/doc's
 * NPGW_DOC_MAX_*. */
#define NPGW_K8S_MAX_OBJECTS 100000

/* ---- names (names.c): each returns NULL when s is valid, else why not ---- */

const char *k8s_check_dns_label(const char *s);
const char *k8s_check_dns_subdomain(const char *s);
const char *k8s_check_label_key(const char *s);
const char *k8s_check_label_value(const char *s);
const char *k8s_check_port_name(const char *s);

/* ---- conversion (model.c, policy.c) ---- */

struct k8s_ctx {
	struct npgw_doc_reader rd; /* diags, file name, error count, nomem */
	struct npgw_k8s_cluster *c;
	size_t objects; /* objects met in this file */
	bool stop; /* too many objects: ignore the rest of the file */
	bool tainted; /* the document had parse errors: keep none of it */
	size_t skipped; /* objects of kinds npgw does not read */
	char skipped_kinds[160]; /* their kinds, ", "-separated, distinct */
};

/* Field paths, messages and typed readers are lib/doc's: npgw_doc_path*,
 * npgw_doc_err / _err_key / _warn, npgw_doc_want / _get_str / _get_int /
 * _get_bool, called with &x->rd. */

/* A port number 1..65535. */
bool k8s_get_port(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		  uint16_t *out);
/* A protocol name; the IP protocol number in *out. */
bool k8s_get_proto(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		   uint8_t *out);
/* A label map (metadata.labels, matchLabels): keys and values validated. */
bool k8s_get_labels(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		    struct npgw_k8s_labels *out);
/* Convert one object document; prefix is "" or "items[3]". */
void k8s_object(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
		const char *list_kind);

/* metadata of a namespaced object: name (DNS subdomain), namespace
 * (default "default"). */
bool k8s_get_meta(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
		  char **ns, char **name);

/* metadata of a cluster-scoped object: name (DNS subdomain); a namespace
 * is ignored with a warning. */
bool k8s_get_cluster_meta(struct k8s_ctx *x, const struct npgw_doc_node *root, const char *prefix,
			  const char *kind, char **name);

/* Record where the object is. false when out of memory. */
bool k8s_set_origin(struct k8s_ctx *x, struct npgw_k8s_origin *o, const struct npgw_doc_node *root);

/* A label selector (policy.c's field table). */
void k8s_selector_read(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		       struct npgw_k8s_selector *s);
/* A CIDR (host bits: a warning, read as the network). */
bool k8s_get_cidr(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		  struct npgw_prefix *out);

/* AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
 * (tier.c): kind is the policy kind; returns the object or NULL. */
struct npgw_k8s_policy *k8s_tier_policy(struct k8s_ctx *x, const struct npgw_doc_node *root,
					const char *prefix, unsigned int kind);
/* v1 Node (tier.c), as a pod of namespace NPGW_K8S_NS_NODE. */
struct npgw_k8s_pod *k8s_node(struct k8s_ctx *x, const struct npgw_doc_node *root,
			      const char *prefix);

/* NetworkPolicy (policy.c): returns the object or NULL (errors reported). */
struct npgw_k8s_policy *k8s_policy(struct k8s_ctx *x, const struct npgw_doc_node *root,
				   const char *prefix);

/* ---- helpers shared by the model files ---- */

void k8s_labels_free(struct npgw_k8s_labels *l);
void k8s_labels_sort(struct npgw_k8s_labels *l);
void k8s_selector_free(struct npgw_k8s_selector *s);
void k8s_selector_sort(struct npgw_k8s_selector *s);
void k8s_policy_free(struct npgw_k8s_policy *p);
void k8s_pod_free(struct npgw_k8s_pod *p);
void k8s_namespace_free(struct npgw_k8s_namespace *n);

/* Append an object to the cluster. Returns 0 or -ENOMEM. */
int k8s_cluster_add_policy(struct npgw_k8s_cluster *c, struct npgw_k8s_policy *p);
int k8s_cluster_add_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p);
int k8s_cluster_add_namespace(struct npgw_k8s_cluster *c, struct npgw_k8s_namespace *n);

#endif /* NPGW_K8S_PRIVATE_H */
