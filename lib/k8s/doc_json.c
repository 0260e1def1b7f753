/*
 * doc_json.c: a strict JSON (RFC 8259) front-end.
 *
 * Why not cJSON or libyaml: cJSON 1.7.15 keeps no positions, accepts
 * duplicate keys, recurses without a depth limit (CJSON_NESTING_LIMIT is
 * 1000 frames of C stack) and reads every number as a double, so 80.0 and 80
 * look alike and 2^64 silently rounds. libyaml reads most JSON, but as YAML:
 * it accepts what JSON forbids (single quotes, comments, unquoted strings,
 * further documents after the value) and types plain words by YAML 1.1
 * rules. A small
 * recursive-descent parser gives exact line:col for every value, the exact
 * number grammar (integer vs. fraction/exponent, kept as text so the
 * reader checks ranges itself), duplicate-key detection through the shared
 * tree builder, and recursion bounded by NPGW_K8S_MAX_DEPTH.
 *
 * One JSON value per input (kubectl -o json prints one object or a List);
 * anything after it but whitespace is an error. A leading UTF-8 byte order
 * mark is skipped. Columns count characters, as libyaml's do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

struct jp {
	struct doc_sink *sink;
	struct doc_builder *b;
	const char *p, *end;
	uint32_t line, col;
	char *sbuf; /* decoded string scratch */
	size_t scap;
};

static void adv(struct jp *j)
{
	unsigned char c = (unsigned char)*j->p++;

	if (c == '\n') {
		j->line++;
		j->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		j->col++;
	}
}

static int fail(struct jp *j, const char *what)
{
	if (j->p >= j->end)
		doc_error(j->sink, j->line, j->col, "JSON: %s, found the end of the input", what);
	else if ((unsigned char)*j->p >= 0x20 && (unsigned char)*j->p < 0x7f)
		doc_error(j->sink, j->line, j->col, "JSON: %s, found '%c'", what, *j->p);
	else
		doc_error(j->sink, j->line, j->col, "JSON: %s, found byte 0x%02x", what,
			  (unsigned char)*j->p);
	return -EINVAL;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		adv(j);
}

static int sbuf_put(struct jp *j, size_t *n, const char *s, size_t len)
{
	while (*n + len + 1 > j->scap) {
		size_t cap = j->scap ? j->scap * 2 : 256;
		char *nb = realloc(j->sbuf, cap);

		if (nb == NULL)
			return -ENOMEM;
		j->sbuf = nb;
		j->scap = cap;
	}
	memcpy(j->sbuf + *n, s, len);
	*n += len;
	j->sbuf[*n] = '\0';
	return 0;
}

static int hex4(struct jp *j, uint32_t *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = j->p < j->end ? *j->p : '\0';
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return fail(j, "expected 4 hex digits after \\u");
		*out = *out << 4 | d;
		adv(j);
	}
	return 0;
}

static size_t utf8_encode(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parse a string at j->p (the opening quote) into j->sbuf; *len its size. */
static int parse_string(struct jp *j, size_t *len)
{
	size_t n = 0;
	int rc;

	adv(j); /* " */
	if ((rc = sbuf_put(j, &n, "", 0)) < 0)
		return rc;
	for (;;) {
		const char *run = j->p;

		while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
		       (unsigned char)*j->p >= 0x20)
			adv(j);
		if ((rc = sbuf_put(j, &n, run, (size_t)(j->p - run))) < 0)
			return rc;
		if (n > NPGW_K8S_MAX_SCALAR) {
			doc_error(j->sink, j->line, j->col, "string longer than the limit of %u bytes",
				  NPGW_K8S_MAX_SCALAR);
			return -EINVAL;
		}
		if (j->p >= j->end)
			return fail(j, "unterminated string");
		if (*j->p == '"') {
			adv(j);
			*len = n;
			return 0;
		}
		if (*j->p != '\\')
			return fail(j, "control character in a string (escape it)");
		adv(j);
		if (j->p >= j->end)
			return fail(j, "unterminated escape");
		char c = *j->p, out[4];
		size_t olen = 1;
		uint32_t cp, lo;

		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[0] = c;
			break;
		case 'b':
			out[0] = '\b';
			break;
		case 'f':
			out[0] = '\f';
			break;
		case 'n':
			out[0] = '\n';
			break;
		case 'r':
			out[0] = '\r';
			break;
		case 't':
			out[0] = '\t';
			break;
		case 'u':
			adv(j);
			if ((rc = hex4(j, &cp)) < 0)
				return rc;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(j, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return fail(j, "high surrogate not followed by a low one");
				adv(j);
				adv(j);
				if ((rc = hex4(j, &lo)) < 0)
					return rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(j, "high surrogate not followed by a low one");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return fail(j, "NUL character (\\u0000) in a string");
			olen = utf8_encode(cp, out);
			if ((rc = sbuf_put(j, &n, out, olen)) < 0)
				return rc;
			continue;
		default:
			return fail(j, "invalid escape");
		}
		adv(j);
		if ((rc = sbuf_put(j, &n, out, olen)) < 0)
			return rc;
	}
}

static bool digit(struct jp *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static int parse_number(struct jp *j)
{
	const char *start = j->p;
	uint32_t line = j->line, col = j->col;
	enum doc_type t = DOC_INT;

	if (*j->p == '-')
		adv(j);
	if (!digit(j))
		return fail(j, "expected a digit");
	if (*j->p == '0') {
		adv(j);
		if (digit(j))
			return fail(j, "leading zero in a number");
	} else {
		while (digit(j))
			adv(j);
	}
	if (j->p < j->end && *j->p == '.') {
		t = DOC_FLOAT;
		adv(j);
		if (!digit(j))
			return fail(j, "expected a digit after '.'");
		while (digit(j))
			adv(j);
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		t = DOC_FLOAT;
		adv(j);
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			adv(j);
		if (!digit(j))
			return fail(j, "expected a digit in the exponent");
		while (digit(j))
			adv(j);
	}
	return doc_scalar(j->b, t, 0, start, (size_t)(j->p - start), line, col);
}

static int parse_literal(struct jp *j, const char *word, enum doc_type t)
{
	size_t n = strlen(word);
	uint32_t line = j->line, col = j->col;

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return fail(j, "expected a value");
	for (size_t i = 0; i < n; i++)
		adv(j);
	return doc_scalar(j->b, t, 0, word, n, line, col);
}

static int parse_value(struct jp *j);

static int parse_container(struct jp *j, bool is_map)
{
	char close = is_map ? '}' : ']';
	int rc;

	if ((rc = doc_open(j->b, is_map ? DOC_MAP : DOC_SEQ, j->line, j->col)) < 0)
		return rc;
	adv(j);
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		adv(j);
		return doc_close(j->b);
	}
	for (;;) {
		if (is_map) {
			uint32_t line = j->line, col = j->col;
			size_t len;

			if (j->p >= j->end || *j->p != '"')
				return fail(j, "expected a string key");
			if ((rc = parse_string(j, &len)) < 0)
				return rc;
			if ((rc = doc_scalar(j->b, DOC_STR, 0, j->sbuf, len, line, col)) < 0)
				return rc;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return fail(j, "expected ':' after a key");
			adv(j);
			skip_ws(j);
		}
		if ((rc = parse_value(j)) < 0)
			return rc;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			adv(j);
			skip_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			adv(j);
			return doc_close(j->b);
		}
		return fail(j, is_map ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(struct jp *j)
{
	uint32_t line = j->line, col = j->col;
	size_t len;
	int rc;

	if (j->p >= j->end)
		return fail(j, "expected a value");
	switch (*j->p) {
	case '{':
		return parse_container(j, true);
	case '[':
		return parse_container(j, false);
	case '"':
		if ((rc = parse_string(j, &len)) < 0)
			return rc;
		return doc_scalar(j->b, DOC_STR, 0, j->sbuf, len, line, col);
	case 't':
		return parse_literal(j, "true", DOC_BOOL);
	case 'f':
		return parse_literal(j, "false", DOC_BOOL);
	case 'n':
		return parse_literal(j, "null", DOC_NULL);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return parse_number(j);
		return fail(j, "expected a value");
	}
}

int doc_parse_json(struct doc_sink *sink, const char *buf, size_t len, doc_fn fn, void *arg)
{
	struct doc_builder b;
	struct jp j = {.sink = sink, .b = &b, .p = buf, .end = buf + len, .line = 1, .col = 1};
	int rc;

	if (doc_builder_init(&b, sink, fn, arg) < 0)
		return -ENOMEM;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		j.p += 3;
	doc_begin(&b);
	skip_ws(&j);
	rc = parse_value(&j);
	if (rc == 0) {
		skip_ws(&j);
		if (j.p < j.end)
			rc = fail(&j, "expected the end of the input after the value");
	}
	if (rc == 0)
		rc = doc_end(&b);
	free(j.sbuf);
	doc_builder_fini(&b);
	if (rc == 0 && sink->nomem)
		rc = -ENOMEM;
	return rc;
}
