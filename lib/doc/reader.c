/*
 * reader.c: what a reader of the tree needs to turn nodes into checked
 * values: field paths for messages ("ports[1].rx_descriptors",
 * metadata.labels["app.kubernetes.io/name"]), messages at a node's value or
 * key, and typed readers whose type errors tell the writer how to fix the
 * file ("expected a string, got a boolean (quote it: "yes")").
 *
 * Moved here from lib/k8s (model.c) so the config reader words its errors
 * exactly as the policy reader does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_doc.h"

/* ---- messages ---- */

static void vreport(struct npgw_doc_reader *r, enum npgw_severity sev, uint32_t line, uint32_t col,
		    const char *path, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (sev == NPGW_SEV_ERROR)
		r->errors++;
	if (vasprintf(&msg, fmt, ap) < 0) {
		r->nomem = true;
		return;
	}
	if (npgw_diags_add(r->diags, sev, r->file, line, col, path, "%s", msg) < 0)
		r->nomem = true;
	free(msg);
}

void npgw_doc_err(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(r, NPGW_SEV_ERROR, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
	va_end(ap);
}

void npgw_doc_err_key(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(r, NPGW_SEV_ERROR, at->key_line, at->key_col, path, fmt, ap);
	va_end(ap);
}

void npgw_doc_warn(struct npgw_doc_reader *r, const struct npgw_doc_node *at, const char *path,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(r, NPGW_SEV_WARNING, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
	va_end(ap);
}

/* ---- paths ---- */

static char *path_fmt(char *out, const char *fmt, const char *base, const char *sep,
		      const char *field)
{
	int n = snprintf(out, NPGW_DOC_PATH_MAX, fmt, base, sep, field);

	if (n < 0 || n >= NPGW_DOC_PATH_MAX)
		memcpy(out + NPGW_DOC_PATH_MAX - 4, "...", 4);
	return out;
}

char *npgw_doc_path(char *out, const char *base, const char *field)
{
	return path_fmt(out, "%s%s%s", base, base[0] ? "." : "", field);
}

char *npgw_doc_path_index(char *out, const char *base, size_t i)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	return path_fmt(out, "%s%s%s", base, "", idx);
}

/* metadata.labels.app, or metadata.labels["app.kubernetes.io/name"] for a
 * key that is not a plain word. */
char *npgw_doc_path_key(char *out, const char *base, const char *key)
{
	bool word = key[0] != '\0' && strlen(key) <= 64;

	for (const char *p = key; *p && word; p++)
		word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
	if (word)
		return npgw_doc_path(out, base, key);
	return path_fmt(out, "%s%s[\"%.64s\"]", base, "", key);
}

/* ---- typed readers ---- */

static const char *type_name(enum npgw_doc_type t)
{
	struct npgw_doc_node n = {.type = (uint8_t)t};

	return npgw_doc_type_name(&n);
}

bool npgw_doc_want(struct npgw_doc_reader *r, const struct npgw_doc_node *n, enum npgw_doc_type t,
		   const char *path)
{
	if (n->type == t)
		return true;
	if (t == NPGW_DOC_STR && (n->flags & NPGW_DOC_F_PLAIN) &&
	    (n->type == NPGW_DOC_BOOL || n->type == NPGW_DOC_INT || n->type == NPGW_DOC_FLOAT))
		npgw_doc_err(r, n, path, "expected a string, got %s (quote it: \"%s\")",
			     npgw_doc_type_name(n), n->text);
	else if (t == NPGW_DOC_BOOL && n->type == NPGW_DOC_STR)
		npgw_doc_err(r, n, path,
			     "expected a boolean, got a string (write true or false "
			     "without quotes)");
	else if (t == NPGW_DOC_INT && n->type == NPGW_DOC_STR)
		npgw_doc_err(r, n, path, "expected an integer, got a string");
	else if (t == NPGW_DOC_INT && n->type == NPGW_DOC_FLOAT)
		npgw_doc_err(r, n, path, "expected an integer, got %s", n->text);
	else
		npgw_doc_err(r, n, path, "expected %s, got %s", type_name(t),
			     npgw_doc_type_name(n));
	return false;
}

bool npgw_doc_get_str(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		      char **out)
{
	*out = NULL;
	if (!npgw_doc_want(r, n, NPGW_DOC_STR, path))
		return false;
	*out = strdup(n->text);
	if (*out == NULL) {
		r->nomem = true;
		return false;
	}
	return true;
}

bool npgw_doc_get_int(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		      int64_t *out)
{
	const char *p = n->text;
	bool neg = false;
	uint64_t v = 0;

	*out = 0;
	if (!npgw_doc_want(r, n, NPGW_DOC_INT, path))
		return false;
	if (n->flags & NPGW_DOC_F_ODD_INT) {
		npgw_doc_err(r, n, path,
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
			npgw_doc_err(r, n, path, "integer %.32s%s is out of range", n->text,
				     n->len > 32 ? "..." : "");
			return false;
		}
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool npgw_doc_get_bool(struct npgw_doc_reader *r, const struct npgw_doc_node *n, const char *path,
		       bool *out)
{
	*out = false;
	if (!npgw_doc_want(r, n, NPGW_DOC_BOOL, path))
		return false;
	*out = n->b;
	return true;
}
