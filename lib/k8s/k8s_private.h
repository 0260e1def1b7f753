/*
 * k8s_private.h: internals of lib/k8s.
 *
 * Loading runs in three layers:
 *  1. a front-end (doc_yaml.c on libyaml's event API, doc_json.c a strict
 *     recursive-descent JSON parser) turns text into a positioned document
 *     tree (doc.c): every node knows its line and column, scalars know their
 *     resolved type (null, bool, int, float, string). The tree builder
 *     enforces the hostile-input limits below, refuses duplicate keys, and
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

#include "npgw_k8s.h"

/* ---- limits against hostile input (libyaml and the JSON grammar enforce
 * none of these) ---- */

/* A file (or buffer) larger than this is refused before parsing. */
#define NPGW_K8S_MAX_FILE_SIZE (16u * 1024 * 1024)
/* Nesting of mappings and sequences. Kubernetes objects as kubectl prints
 * them nest about 15 deep (managedFields); 64 is generous and keeps the
 * recursive JSON parser and libyaml's stacks small. */
#define NPGW_K8S_MAX_DEPTH 64
/* One scalar (a key or a value). Annotations such as
 * kubectl.kubernetes.io/last-applied-configuration can be large; the API
 * server caps all annotations of an object at 256 KiB. */
#define NPGW_K8S_MAX_SCALAR (1024u * 1024)
/* Nodes of one document: bounds the tree's memory (about 100 bytes a node
 * with its text and the builder's vectors, so 100 MiB at worst). A 16 MiB
 * kubectl List holds well under a million nodes (about 20 bytes each). */
#define NPGW_K8S_MAX_NODES (1024u * 1024)
/* Objects (documents and List items) of one file. */
#define NPGW_K8S_MAX_OBJECTS 100000
/* Field paths in messages are truncated beyond this. */
#define K8S_PATH_MAX 512

/* ---- the positioned document tree ---- */

enum doc_type {
	DOC_NULL,
	DOC_BOOL,
	DOC_INT,
	DOC_FLOAT,
	DOC_STR,
	DOC_SEQ,
	DOC_MAP,
};

/* DOC_INT written in a form whose value YAML 1.1 readers disagree on or
 * that we refuse to guess (leading zero = octal, 0x, 0b, '_'). It is an
 * error only when a field that npgw reads holds it. */
#define DOC_F_ODD_INT 0x1
/* A plain (unquoted) YAML scalar: used to hint "quote it" in messages. */
#define DOC_F_PLAIN 0x2

struct doc_node {
	uint8_t type; /* enum doc_type */
	uint8_t flags;
	bool b; /* DOC_BOOL: the value */
	uint32_t line; /* 1-based position of the value */
	uint32_t col;
	/* Member of a mapping: its key and where the key is. */
	const char *key;
	uint32_t key_line;
	uint32_t key_col;
	/* Scalars: the text, NUL-terminated (no NUL inside: refused). */
	const char *text;
	size_t len;
	/* DOC_SEQ / DOC_MAP: the children, in document order. */
	struct doc_node *kids;
	size_t n;
};

struct doc_arena;

/* Called with each complete document (root never NULL; an empty YAML
 * document is a DOC_NULL root). had_errors: the builder reported errors in
 * this document (duplicate keys, refused tags...). Returns 0 to go on or a
 * negative errno to stop. */
typedef int (*doc_fn)(void *arg, const struct doc_node *root, bool had_errors);

/* Diagnostics sink of the parsers. */
struct doc_sink {
	struct npgw_diags *diags;
	const char *file;
	size_t errors;
	size_t anchors; /* YAML anchors and aliases met (refused) */
	bool nomem;
};

void doc_error(struct doc_sink *s, uint32_t line, uint32_t col, const char *fmt, ...)
	NPGW_PRINTF(4, 5);

/* The tree builder shared by both front-ends. */
struct doc_frame {
	struct doc_node node; /* the container being built */
	struct doc_node *kids; /* malloc'd, grows */
	size_t cap;
	/* mapping: a key was read and waits for its value */
	bool have_key;
	const char *key;
	uint32_t key_line, key_col;
};

struct doc_builder {
	struct doc_sink *sink;
	struct doc_arena *arena;
	struct doc_frame stack[NPGW_K8S_MAX_DEPTH];
	unsigned int depth;
	size_t nodes;
	size_t doc_errors; /* sink->errors when the document began */
	struct doc_node root;
	bool have_root;
	doc_fn fn;
	void *fn_arg;
};

int doc_builder_init(struct doc_builder *b, struct doc_sink *sink, doc_fn fn, void *arg);
void doc_builder_fini(struct doc_builder *b);
/* Start a document (after the previous one ended). */
void doc_begin(struct doc_builder *b);
/* Add a scalar; text is copied (len bytes). Returns 0, or a negative errno
 * when parsing must stop (limit reached: reported; out of memory). */
int doc_scalar(struct doc_builder *b, enum doc_type t, uint8_t flags, const char *text,
	       size_t len, uint32_t line, uint32_t col);
/* Open a mapping or sequence. Same returns. */
int doc_open(struct doc_builder *b, enum doc_type t, uint32_t line, uint32_t col);
/* Close the innermost container (duplicate keys are reported here). */
int doc_close(struct doc_builder *b);
/* End a document: calls the callback, then drops the tree. */
int doc_end(struct doc_builder *b);

/* Resolve a plain YAML scalar as go-yaml v2 (YAML 1.1, what kubectl and the
 * API server use) does: null, bool, int, float or string. Sets
 * DOC_F_ODD_INT as described above. */
enum doc_type doc_resolve_plain(const char *s, size_t len, uint8_t *flags);

/* Check that buf is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) without NUL bytes. Returns NULL, or what is
 * wrong with the 1-based position of the first bad character. */
const char *doc_check_utf8(const char *buf, size_t len, uint32_t *line, uint32_t *col);

/* Front-ends: parse buf into documents. Errors go to the sink. Return 0,
 * -EINVAL on a syntax error or refused input (reported), -ENOMEM, or what
 * the callback returned. */
int doc_parse_yaml(struct doc_sink *sink, const char *buf, size_t len, doc_fn fn, void *arg);
int doc_parse_json(struct doc_sink *sink, const char *buf, size_t len, doc_fn fn, void *arg);

/* Lookups and names. */
const struct doc_node *doc_get(const struct doc_node *map, const char *key);
const char *doc_type_name(const struct doc_node *n);

/* ---- names (names.c): each returns NULL when s is valid, else why not ---- */

const char *k8s_check_dns_label(const char *s);
const char *k8s_check_dns_subdomain(const char *s);
const char *k8s_check_label_key(const char *s);
const char *k8s_check_label_value(const char *s);
const char *k8s_check_port_name(const char *s);

/* ---- conversion (model.c, policy.c) ---- */

struct k8s_ctx {
	struct npgw_k8s_cluster *c;
	struct npgw_diags *diags;
	const char *file;
	size_t errors; /* errors reported so far in this file */
	size_t objects; /* objects met in this file */
	bool nomem;
	bool stop; /* too many objects: ignore the rest of the file */
	bool tainted; /* the document had parse errors: keep none of it */
};

void k8s_err(struct k8s_ctx *x, const struct doc_node *at, const char *path, const char *fmt,
	     ...) NPGW_PRINTF(4, 5);
/* Same at the key of a mapping member (unknown fields). */
void k8s_err_key(struct k8s_ctx *x, const struct doc_node *at, const char *path,
		 const char *fmt, ...) NPGW_PRINTF(4, 5);
void k8s_warn(struct k8s_ctx *x, const struct doc_node *at, const char *path, const char *fmt,
	      ...) NPGW_PRINTF(4, 5);

/* Field paths: out = base.field, base[i], base[KEY]. out has K8S_PATH_MAX
 * bytes; longer paths are truncated. Return out. */
char *k8s_path(char *out, const char *base, const char *field);
char *k8s_path_index(char *out, const char *base, size_t i);
char *k8s_path_key(char *out, const char *base, const char *key);

/* Typed readers: each checks the node's type and reports "expected a
 * string, got ..." (with path) when it is wrong; false on error. */
bool k8s_want(struct k8s_ctx *x, const struct doc_node *n, enum doc_type t, const char *path);
bool k8s_get_str(struct k8s_ctx *x, const struct doc_node *n, const char *path, char **out);
bool k8s_get_int(struct k8s_ctx *x, const struct doc_node *n, const char *path, int64_t *out);
bool k8s_get_bool(struct k8s_ctx *x, const struct doc_node *n, const char *path, bool *out);
/* A port number 1..65535. */
bool k8s_get_port(struct k8s_ctx *x, const struct doc_node *n, const char *path, uint16_t *out);
/* A protocol name; the IP protocol number in *out. */
bool k8s_get_proto(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		   uint8_t *out);
/* A label map (metadata.labels, matchLabels): keys and values validated. */
bool k8s_get_labels(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		    struct npgw_k8s_labels *out);
/* Convert one object document; prefix is "" or "items[3]". */
void k8s_object(struct k8s_ctx *x, const struct doc_node *root, const char *prefix,
		const char *list_kind);

/* metadata of a namespaced object: name (DNS subdomain), namespace
 * (default "default"). */
bool k8s_get_meta(struct k8s_ctx *x, const struct doc_node *root, const char *prefix,
		  char **ns, char **name);

/* Record where the object is. false when out of memory. */
bool k8s_set_origin(struct k8s_ctx *x, struct npgw_k8s_origin *o, const struct doc_node *root);

/* NetworkPolicy (policy.c): returns the object or NULL (errors reported). */
struct npgw_k8s_policy *k8s_policy(struct k8s_ctx *x, const struct doc_node *root,
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

/* Grow *v (of *cap elements of size sz) to hold n + 1. Returns 0 or
 * -ENOMEM. */
int k8s_grow(void **v, size_t *cap, size_t n, size_t sz);

#endif /* NPGW_K8S_PRIVATE_H */
