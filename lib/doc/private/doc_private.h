/*
 * doc_private.h: internals of lib/doc: the tree builder that both
 * front-ends (doc_yaml.c, doc_json.c) feed, one event at a time, and that
 * enforces the limits of npgw_doc.h as the events arrive.
 */
#ifndef NPGW_DOC_PRIVATE_H
#define NPGW_DOC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_doc.h"

struct doc_arena;

/* A container being built. */
struct doc_frame {
	struct npgw_doc_node node; /* the container being built */
	struct npgw_doc_node *kids; /* malloc'd, grows */
	size_t cap;
	/* mapping: a key was read and waits for its value */
	bool have_key;
	const char *key;
	uint32_t key_line, key_col;
};

struct doc_builder {
	struct npgw_doc_sink *sink;
	struct doc_arena *arena;
	struct doc_frame stack[NPGW_DOC_MAX_DEPTH];
	unsigned int depth;
	size_t nodes;
	size_t doc_errors; /* sink->errors when the document began */
	struct npgw_doc_node root;
	bool have_root;
	npgw_doc_fn fn;
	void *fn_arg;
};

int doc_builder_init(struct doc_builder *b, struct npgw_doc_sink *sink, npgw_doc_fn fn, void *arg);
void doc_builder_fini(struct doc_builder *b);
/* Start a document (after the previous one ended). */
void doc_begin(struct doc_builder *b);
/* Add a scalar; text is copied (len bytes). Returns 0, or a negative errno
 * when parsing must stop (limit reached: reported; out of memory). */
int doc_scalar(struct doc_builder *b, enum npgw_doc_type t, uint8_t flags, const char *text,
	       size_t len, uint32_t line, uint32_t col);
/* Open a mapping or sequence. Same returns. */
int doc_open(struct doc_builder *b, enum npgw_doc_type t, uint32_t line, uint32_t col);
/* Close the innermost container (duplicate keys are reported here). */
int doc_close(struct doc_builder *b);
/* End a document: calls the callback, then drops the tree. */
int doc_end(struct doc_builder *b);

/* What the sink's input holds, for messages ("Kubernetes objects"). */
static inline const char *doc_what(const struct npgw_doc_sink *s)
{
	return s->what ? s->what : "npgw's inputs";
}

#endif /* NPGW_DOC_PRIVATE_H */
