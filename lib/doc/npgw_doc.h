/*
 * npgw_doc.h: the positioned document tree that npgw reads YAML and JSON
 * into, and the helpers that turn a tree into checked values. Two loaders
 * share it: lib/k8s (NetworkPolicy, Pod, Namespace objects) and lib/config
 * (the gateway's own config file), so both give the same
 * FILE:LINE:COL: field.path: message diagnostics and both stand behind the
 * same limits against hostile input.
 *
 * Reading runs in two layers:
 *  1. a front-end (libyaml's event API for YAML, a strict recursive-descent
 *     parser for JSON) turns text into a tree of struct npgw_doc_node:
 *     every node knows its line and column, scalars know their resolved
 *     type (null, bool, int, float, string). The tree builder enforces the
 *     limits below, refuses duplicate keys, anchors, aliases and foreign
 *     tags, and hands each finished document to a callback; the tree lives
 *     until the callback returns;
 *  2. the caller's reader walks the tree with the typed readers at the end
 *     of this file, which check types and report "expected a string, got a
 *     boolean (quote it: "yes")" with the field path.
 *
 * The node struct is public, unlike most npgw types: readers walk the tree
 * directly, as they would a cJSON or yaml_node tree, and nothing about it is
 * hidden state.
 *
 * Threads: any thread; calls share nothing but what the caller passes.
 * Nothing here depends on DPDK.
 */
#ifndef NPGW_DOC_H
#define NPGW_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"

/* ---- limits against hostile input (libyaml and the JSON grammar enforce
 * none of these) ---- */

/* A file (or buffer) larger than this is refused before parsing. */
#define NPGW_DOC_MAX_FILE_SIZE (16u * 1024 * 1024)
/* Nesting of mappings and sequences. Kubernetes objects as kubectl prints
 * them nest about 15 deep (managedFields); 64 is generous and keeps the
 * recursive JSON parser and libyaml's stacks small. */
#define NPGW_DOC_MAX_DEPTH 64
/* One scalar (a key or a value). Annotations such as
 * kubectl.kubernetes.io/last-applied-configuration can be large; the API
 * server caps all annotations of an object at 256 KiB. */
#define NPGW_DOC_MAX_SCALAR (1024u * 1024)
/* Nodes of one document: bounds the tree's memory (about 100 bytes a node
 * with its text and the builder's vectors, so 100 MiB at worst). A 16 MiB
 * kubectl List holds well under a million nodes (about 20 bytes each). */
#define NPGW_DOC_MAX_NODES (1024u * 1024)
/* Field paths in messages are truncated beyond this. */
#define NPGW_DOC_PATH_MAX 512

/* ---- the tree ---- */

enum npgw_doc_type {
	NPGW_DOC_NULL,
	NPGW_DOC_BOOL,
	NPGW_DOC_INT,
	NPGW_DOC_FLOAT,
	NPGW_DOC_STR,
	NPGW_DOC_SEQ,
	NPGW_DOC_MAP,
};

/* NPGW_DOC_INT written in a form whose value YAML 1.1 readers disagree on
 * or that we refuse to guess (leading zero = octal, 0x, 0b, '_'). It is an
 * error only when a field that npgw reads holds it (npgw_doc_get_int). */
#define NPGW_DOC_F_ODD_INT 0x1
/* A plain (unquoted) YAML scalar: used to hint "quote it" in messages. */
#define NPGW_DOC_F_PLAIN 0x2

struct npgw_doc_node {
	uint8_t type; /* enum npgw_doc_type */
	uint8_t flags;
	bool b; /* NPGW_DOC_BOOL: the value */
	uint32_t line; /* 1-based position of the value */
	uint32_t col;
	/* Member of a mapping: its key and where the key is. */
	const char *key;
	uint32_t key_line;
	uint32_t key_col;
	/* Scalars: the text, NUL-terminated (no NUL inside: refused). */
	const char *text;
	size_t len;
	/* NPGW_DOC_SEQ / NPGW_DOC_MAP: the children, in document order. */
	struct npgw_doc_node *kids;
	size_t n;
};

/* Called with each complete document (root never NULL; an empty YAML
 * document is a NPGW_DOC_NULL root). had_errors: the builder reported
 * errors in this document (duplicate keys, refused tags...). The tree is
 * freed when the callback returns. Returns 0 to go on or a negative errno
 * to stop. */
typedef int (*npgw_doc_fn)(void *arg, const struct npgw_doc_node *root, bool had_errors);

/* Diagnostics sink of the parsers. Zero-initialise, set diags and file. */
struct npgw_doc_sink {
	struct npgw_diags *diags;
	const char *file; /* the name in messages */
	/* What the input holds, for messages that refuse YAML features:
	 * "Kubernetes objects use only plain YAML". NULL: "npgw's inputs". */
	const char *what;
	size_t errors; /* errors reported through this sink */
	size_t anchors; /* YAML anchors and aliases met (refused) */
	bool nomem;
};

/* Report an error of the input (no field path) through the sink. */
void npgw_doc_error(struct npgw_doc_sink *s, uint32_t line, uint32_t col, const char *fmt, ...)
	NPGW_PRINTF(4, 5);

/*
 * Parse buf into documents and call fn with each. Errors go to the sink.
 * Return 0, -EINVAL on a syntax error or refused input (reported), -ENOMEM,
 * or what the callback returned.
 *
 * npgw_doc_parse first refuses input over NPGW_DOC_MAX_FILE_SIZE and input
 * that is not UTF-8 text, then picks the front-end by the sink's file name:
 * a name ending in .json is JSON, .yaml / .yml is YAML; any other name (a
 * buffer from the control socket, /dev/stdin) is JSON when its first
 * non-blank character is '{' or '[' (what kubectl -o json prints), YAML
 * otherwise. The other two take their grammar as named and assume those
 * checks were made.
 */
int npgw_doc_parse(struct npgw_doc_sink *sink, const char *buf, size_t len, npgw_doc_fn fn,
		   void *arg);
int npgw_doc_parse_yaml(struct npgw_doc_sink *sink, const char *buf, size_t len, npgw_doc_fn fn,
			void *arg);
int npgw_doc_parse_json(struct npgw_doc_sink *sink, const char *buf, size_t len, npgw_doc_fn fn,
			void *arg);

/*
 * Read a whole file into *buf (malloc'd, not NUL-terminated; the caller
 * frees it) and its size into *len. Reads at most NPGW_DOC_MAX_FILE_SIZE + 1
 * bytes, so a huge file or an endless pipe costs bounded memory. Returns 0,
 * -EFBIG when the file is larger than NPGW_DOC_MAX_FILE_SIZE (nothing is
 * returned then), or another negative errno of open/read.
 */
int npgw_doc_read_file(const char *path, char **buf, size_t *len);

/*
 * Read path for a loader: "-" is stdin (named "<stdin>" in messages), a
 * directory is its .yaml, .yml and .json files in name order (not
 * recursive), anything else one file; each is read with
 * npgw_doc_read_file's limit and handed to fn(arg, name, buf, len), whose
 * negative return stops the walk and is returned. A file over the limit or
 * unreadable inside a directory is reported in diags (FILE:0:0) and makes
 * the result -EINVAL; an empty directory is a warning. Returns 0, -EINVAL,
 * -ENOMEM, the negative errno of a path that cannot be read at all (not
 * reported), or what fn returned. Every npgw tool reads its input files
 * through this, so they refuse the same files with the same words.
 */
typedef int (*npgw_doc_file_fn)(void *arg, const char *name, const char *buf, size_t len);
int npgw_doc_read_path(const char *path, struct npgw_diags *diags, npgw_doc_file_fn fn,
		       void *arg);

/* The member key of a mapping, or NULL when map is not a mapping, has no
 * such key, or its value is null (a null field reads as an absent one). */
const struct npgw_doc_node *npgw_doc_get(const struct npgw_doc_node *map, const char *key);

/* "a string", "an integer", "a list"...: for messages. */
const char *npgw_doc_type_name(const struct npgw_doc_node *n);

/* Resolve a plain YAML scalar as go-yaml v2 (YAML 1.1, what kubectl and the
 * API server use) does: null, bool, int, float or string. Sets
 * NPGW_DOC_F_PLAIN, and NPGW_DOC_F_ODD_INT as described above. */
enum npgw_doc_type npgw_doc_resolve_plain(const char *s, size_t len, uint8_t *flags);

/* Check that buf is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) without NUL bytes. Returns NULL, or what is
 * wrong with the 1-based position of the first bad character. */
const char *npgw_doc_check_utf8(const char *buf, size_t len, uint32_t *line, uint32_t *col);

/* Grow *v (of *cap elements of size sz) to hold n + 1. Returns 0 or
 * -ENOMEM (*v and *cap unchanged). */
int npgw_doc_grow(void **v, size_t *cap, size_t n, size_t sz);

/* ---- field paths ---- */

/* out = base.field, base[i], base.key or base["a.b/c"] (a key that is not a
 * plain word). out has NPGW_DOC_PATH_MAX bytes; longer paths end in "...".
 * base may be "" (then no leading dot). Return out. */
char *npgw_doc_path(char *out, const char *base, const char *field);
char *npgw_doc_path_index(char *out, const char *base, size_t i);
char *npgw_doc_path_key(char *out, const char *base, const char *key);

/* ---- typed readers ---- */

/* The context of one file's reader: where messages go and what they say. */
struct npgw_doc_reader {
	struct npgw_diags *diags;
	const char *file; /* the name in messages */
	size_t errors; /* errors reported so far */
	bool nomem; /* an allocation failed: the result is not to be trusted */
};

/* Report at the node's value (at may be NULL: position 0:0), or at its key
 * (npgw_doc_err_key: unknown fields, bad keys). Errors count in r->errors. */
void npgw_doc_err(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		  const char *fmt, ...) NPGW_PRINTF(4, 5);
void npgw_doc_err_key(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		      const char *fmt, ...) NPGW_PRINTF(4, 5);
void npgw_doc_warn(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		   const char *fmt, ...) NPGW_PRINTF(4, 5);

/* Check the node's type; when it is wrong report "expected a string, got a
 * boolean (quote it: "yes")" and the like at path, and return false. */
bool npgw_doc_want(struct npgw_doc_reader *r, const struct npgw_doc_node *n, enum npgw_doc_type t,
		   const char *path);
/* A string, copied into *out (malloc'd; NULL on error). */
bool npgw_doc_get_str(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		      char **out);
/* A plain decimal integer that fits int64_t (0x.., 0o.., 010 refused). */
bool npgw_doc_get_int(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		      int64_t *out);
bool npgw_doc_get_bool(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		       bool *out);

/* ---- field tables ----
 *
 * A mapping that npgw reads field by field (a config section, a policy's
 * spec, a peer) is described by a table: the keys it knows, what reads
 * each, which are required. npgw_doc_read_fields walks the mapping with it,
 * so the "unknown field" message lists exactly the keys the table holds and
 * cannot drift from the reader. A null value reads as an absent field, as
 * the API server reads it; an unknown key is an error even when null.
 */

struct npgw_doc_field;

/* Read one known field whose value is not null. ctx: the caller's reader
 * context (whose first member is its struct npgw_doc_reader); fd: the
 * table entry (fd->off for readers shared by several fields); f: the
 * mapping member (f->key is its key); path: its field path; obj: what the
 * table fills. Errors go through the reader. */
typedef void (*npgw_doc_field_fn)(void *ctx, const struct npgw_doc_field *fd,
				  const struct npgw_doc_node *f, const char *path, void *obj);

struct npgw_doc_field {
	const char *key;
	npgw_doc_field_fn read; /* NULL: only collected into got[] */
	bool required; /* absent or null: "missing required field" at the mapping */
	/* Free for the reader, so one reader serves several fields: an
	 * offset into obj and a range. */
	size_t off;
	int64_t min, max;
};

struct npgw_doc_fields {
	/* The unknown-field message reads
	 * unknown field "KEY" (WHAT k1, k2 CONJ k3 NOTE):
	 * what "a port has", conj "and" when NULL, note "" when NULL. */
	const char *what;
	const struct npgw_doc_field *v;
	size_t n; /* at most NPGW_DOC_MAX_FIELDS */
	const char *conj;
	const char *note;
};

#define NPGW_DOC_MAX_FIELDS 64

/*
 * Walk the mapping map (at path; anything else is reported as the wrong
 * type) with table t: call each known field's reader in document order,
 * report every unknown key at the key, then every required field that is
 * absent or null, in table order. got, when not NULL, holds t->n entries
 * and receives each field's member node (NULL when absent or null), for
 * readers that check fields together after the walk. Returns false when
 * map is not a mapping (got is then all NULL), true otherwise: errors of
 * the fields are counted in rd->errors.
 */
bool npgw_doc_read_fields(struct npgw_doc_reader *rd, void *ctx, const struct npgw_doc_node *map,
			  const char *path, const struct npgw_doc_fields *t, void *obj,
			  const struct npgw_doc_node **got);

/* The table's field list as the unknown-field message words it
 * ("a port has name, device and promiscuous"): into out of size bytes,
 * truncated with "..." when longer. Returns out. */
char *npgw_doc_fields_list(const struct npgw_doc_fields *t, char *out, size_t size);

#endif /* NPGW_DOC_H */
