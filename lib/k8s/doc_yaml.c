/*
 * doc_yaml.c: the YAML front-end. It reads libyaml's event stream (not
 * yaml_parser_load, whose document loader recurses without a depth limit
 * and expands aliases) and feeds the tree builder, so every limit is
 * checked as the events arrive and parsing stops at the first one
 * exceeded: memory and time stay bounded by the input size.
 *
 * Refused on purpose:
 *  - anchors and aliases: Kubernetes objects never need them, and they are
 *    how alias bombs ("billion laughs") and cycles are built;
 *  - tags other than the YAML core ones (!!str, !!int, !!bool, !!null,
 *    !!float, !!map, !!seq): a tag such as !!python/object means the file
 *    was not written for Kubernetes.
 * Plain scalars are typed as go-yaml v2 (YAML 1.1) types them, since that
 * is what kubectl and the API server read: `yes` is a boolean, `80` an
 * integer, `"80"` a string.
 */
#include <errno.h>
#include <string.h>

#include <yaml.h>

#include "k8s_private.h"

#define CORE_TAG "tag:yaml.org,2002:"

static uint32_t u32(size_t v)
{
	return v >= UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Type a scalar event from its style and tag. Returns false (reported)
 * when the tag is refused or does not fit the text. */
static bool scalar_type(struct doc_sink *sink, const yaml_event_t *ev, enum doc_type *t,
			uint8_t *flags)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	uint32_t line = u32(ev->start_mark.line + 1), col = u32(ev->start_mark.column + 1);
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	uint8_t f = 0;
	enum doc_type r;

	*flags = 0;
	if (tag == NULL) {
		*t = plain ? doc_resolve_plain(v, len, flags) : DOC_STR;
		return true;
	}
	if (strcmp(tag, "!") == 0 || strcmp(tag, CORE_TAG "str") == 0) {
		*t = DOC_STR;
		return true;
	}
	r = doc_resolve_plain(v, len, &f);
	if (strcmp(tag, CORE_TAG "int") == 0 && r == DOC_INT) {
		*t = DOC_INT;
		*flags = f & DOC_F_ODD_INT;
		return true;
	}
	if ((strcmp(tag, CORE_TAG "bool") == 0 && r == DOC_BOOL) ||
	    (strcmp(tag, CORE_TAG "null") == 0 && r == DOC_NULL)) {
		*t = r;
		return true;
	}
	if (strcmp(tag, CORE_TAG "float") == 0 && (r == DOC_FLOAT || r == DOC_INT)) {
		*t = DOC_FLOAT;
		return true;
	}
	if (strncmp(tag, CORE_TAG, strlen(CORE_TAG)) == 0 &&
	    (strcmp(tag, CORE_TAG "int") == 0 || strcmp(tag, CORE_TAG "bool") == 0 ||
	     strcmp(tag, CORE_TAG "null") == 0 || strcmp(tag, CORE_TAG "float") == 0))
		doc_error(sink, line, col, "\"%.64s\" is not a valid !!%s", v,
			  tag + strlen(CORE_TAG));
	else
		doc_error(sink, line, col,
			  "YAML tag \"%.64s\" is not allowed: Kubernetes objects use only plain YAML",
			  tag);
	return false;
}

static bool collection_tag_ok(struct doc_sink *sink, const char *tag, const char *want,
			      const yaml_event_t *ev)
{
	if (tag == NULL || strcmp(tag, "!") == 0 || strcmp(tag, want) == 0)
		return true;
	doc_error(sink, u32(ev->start_mark.line + 1), u32(ev->start_mark.column + 1),
		  "YAML tag \"%.64s\" is not allowed: Kubernetes objects use only plain YAML", tag);
	return false;
}

/* Only the first anchor or alias of a file is reported: an alias bomb has
 * thousands, and one message says it all. The documents holding the
 * others are refused all the same. */
static void refuse_anchor(struct doc_sink *sink, const yaml_event_t *ev)
{
	if (sink->anchors++ > 0) {
		sink->errors++;
		return;
	}
	doc_error(sink, u32(ev->start_mark.line + 1), u32(ev->start_mark.column + 1),
		  "YAML anchors and aliases are not supported (Kubernetes objects never need "
		  "them; they are how alias bombs are built)");
}

/* Feed one event to the builder. Returns 0, or < 0 to stop. */
static int on_event(struct doc_builder *b, struct doc_sink *sink, const yaml_event_t *ev)
{
	uint32_t line = u32(ev->start_mark.line + 1), col = u32(ev->start_mark.column + 1);
	enum doc_type t;
	uint8_t flags;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		doc_begin(b);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return doc_end(b);
	case YAML_ALIAS_EVENT:
		refuse_anchor(sink, ev);
		/* stands in as null so the tree keeps its shape */
		return doc_scalar(b, DOC_NULL, 0, "", 0, line, col);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			refuse_anchor(sink, ev);
		if (!scalar_type(sink, ev, &t, &flags)) {
			t = DOC_NULL;
			flags = 0;
		}
		return doc_scalar(b, t, flags, (const char *)ev->data.scalar.value,
				  ev->data.scalar.length, line, col);
	case YAML_SEQUENCE_START_EVENT:
		if (ev->data.sequence_start.anchor != NULL)
			refuse_anchor(sink, ev);
		collection_tag_ok(sink, (const char *)ev->data.sequence_start.tag, CORE_TAG "seq",
				  ev);
		return doc_open(b, DOC_SEQ, line, col);
	case YAML_MAPPING_START_EVENT:
		if (ev->data.mapping_start.anchor != NULL)
			refuse_anchor(sink, ev);
		collection_tag_ok(sink, (const char *)ev->data.mapping_start.tag, CORE_TAG "map",
				  ev);
		return doc_open(b, DOC_MAP, line, col);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return doc_close(b);
	default:
		return 0;
	}
}

int doc_parse_yaml(struct doc_sink *sink, const char *buf, size_t len, doc_fn fn, void *arg)
{
	struct doc_builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;

	if (doc_builder_init(&b, sink, fn, arg) < 0)
		return -ENOMEM;
	if (!yaml_parser_initialize(&parser)) {
		doc_builder_fini(&b);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = -ENOMEM;
				break;
			}
			doc_error(sink, u32(parser.problem_mark.line + 1),
				  u32(parser.problem_mark.column + 1), "YAML: %s%s%s",
				  parser.problem ? parser.problem : "syntax error",
				  parser.context ? " " : "", parser.context ? parser.context : "");
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		rc = on_event(&b, sink, &ev);
		yaml_event_delete(&ev);
		if (rc < 0)
			break;
	}
	yaml_parser_delete(&parser);
	doc_builder_fini(&b);
	if (rc == 0 && sink->nomem)
		rc = -ENOMEM;
	return rc;
}
