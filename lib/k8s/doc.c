/*
 * doc.c: the positioned document tree that both front-ends (YAML, JSON)
 * build, with the limits that make hostile input fail cleanly: nesting
 * depth, node count, scalar size, duplicate keys. Also UTF-8 validation
 * and YAML 1.1 plain-scalar typing.
 *
 * Nodes and strings of one document live in an arena freed when the
 * document has been converted, so a large kubectl List costs one tree at a
 * time, and freeing cannot leak on any error path.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

/* ---- arena ---- */

#define ARENA_CHUNK (64u * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct doc_arena {
	struct arena_chunk *head;
};

static void *arena_alloc(struct doc_arena *a, size_t n)
{
	struct arena_chunk *c = a->head;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		/* a big block goes behind the current chunk, whose free space
		 * stays usable */
		if (n > ARENA_CHUNK && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void arena_reset(struct doc_arena *a)
{
	while (a->head != NULL) {
		struct arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

/* ---- diagnostics ---- */

void doc_error(struct doc_sink *s, uint32_t line, uint32_t col, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int rc;

	s->errors++;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		s->nomem = true;
		return;
	}
	if (npgw_diags_add(s->diags, NPGW_SEV_ERROR, s->file, line, col, "", "%s", msg) < 0)
		s->nomem = true;
	free(msg);
}

/* ---- builder ---- */

int doc_builder_init(struct doc_builder *b, struct doc_sink *sink, doc_fn fn, void *arg)
{
	memset(b, 0, sizeof(*b));
	b->arena = calloc(1, sizeof(*b->arena));
	if (b->arena == NULL)
		return -ENOMEM;
	b->sink = sink;
	b->fn = fn;
	b->fn_arg = arg;
	return 0;
}

static void builder_drop(struct doc_builder *b)
{
	while (b->depth > 0)
		free(b->stack[--b->depth].kids);
	arena_reset(b->arena);
	b->have_root = false;
	b->nodes = 0;
}

void doc_builder_fini(struct doc_builder *b)
{
	if (b->arena == NULL)
		return;
	builder_drop(b);
	free(b->arena);
	b->arena = NULL;
}

void doc_begin(struct doc_builder *b)
{
	builder_drop(b);
	b->doc_errors = b->sink->errors;
}

static char *arena_strdup(struct doc_arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Place a finished node: as the root, as a key, or as a child. */
static int place(struct doc_builder *b, struct doc_node *n)
{
	struct doc_frame *f;

	if (b->depth == 0) {
		b->root = *n;
		b->have_root = true;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (f->node.type == DOC_MAP && !f->have_key) {
		/* this node is a key */
		if (n->type == DOC_SEQ || n->type == DOC_MAP) {
			doc_error(b->sink, n->line, n->col, "a mapping key must be a scalar");
			f->key = "?";
		} else {
			f->key = n->text;
		}
		f->have_key = true;
		f->key_line = n->line;
		f->key_col = n->col;
		return 0;
	}
	if (k8s_grow((void **)&f->kids, &f->cap, f->node.n, sizeof(*f->kids)) < 0)
		return -ENOMEM;
	if (f->node.type == DOC_MAP) {
		n->key = f->key;
		n->key_line = f->key_line;
		n->key_col = f->key_col;
		f->have_key = false;
	}
	f->kids[f->node.n++] = *n;
	return 0;
}

static int count_node(struct doc_builder *b, uint32_t line, uint32_t col)
{
	if (++b->nodes > NPGW_K8S_MAX_NODES) {
		doc_error(b->sink, line, col, "document has more than %u nodes", NPGW_K8S_MAX_NODES);
		return -EINVAL;
	}
	return 0;
}

int doc_scalar(struct doc_builder *b, enum doc_type t, uint8_t flags, const char *text,
	       size_t len, uint32_t line, uint32_t col)
{
	struct doc_node n = {.type = (uint8_t)t, .flags = flags, .line = line, .col = col};
	int rc;

	if ((rc = count_node(b, line, col)) < 0)
		return rc;
	if (len > NPGW_K8S_MAX_SCALAR) {
		doc_error(b->sink, line, col, "scalar of %zu bytes is longer than the limit of %u",
			  len, NPGW_K8S_MAX_SCALAR);
		return -EINVAL;
	}
	if (memchr(text, '\0', len) != NULL) {
		doc_error(b->sink, line, col, "NUL character in a string");
		text = "";
		len = 0;
	}
	n.text = arena_strdup(b->arena, text, len);
	if (n.text == NULL)
		return -ENOMEM;
	n.len = len;
	if (t == DOC_BOOL)
		n.b = (text[0] == 't' || text[0] == 'T' || text[0] == 'y' || text[0] == 'Y' ||
		       (len == 2 && (text[1] == 'n' || text[1] == 'N')));
	return place(b, &n);
}

int doc_open(struct doc_builder *b, enum doc_type t, uint32_t line, uint32_t col)
{
	struct doc_frame *f;
	int rc;

	if ((rc = count_node(b, line, col)) < 0)
		return rc;
	if (b->depth >= NPGW_K8S_MAX_DEPTH) {
		doc_error(b->sink, line, col, "nesting deeper than %d levels", NPGW_K8S_MAX_DEPTH);
		return -EINVAL;
	}
	f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node.type = (uint8_t)t;
	f->node.line = line;
	f->node.col = col;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct doc_node *x = *(const struct doc_node *const *)a;
	const struct doc_node *y = *(const struct doc_node *const *)b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Report keys that occur twice in one mapping, at the later occurrence
 * with the line of the first, and drop the later ones so the readers see
 * one value per key. Sorting keeps this O(n log n) for huge maps. Returns
 * the new number of children, or -ENOMEM. */
static long dedup_keys(struct doc_builder *b, struct doc_node *kids, size_t n)
{
	struct doc_node **idx;
	bool *drop;
	size_t k = 0;

	if (n < 2)
		return (long)n;
	idx = malloc(n * sizeof(*idx));
	drop = calloc(n, sizeof(*drop));
	if (idx == NULL || drop == NULL) {
		free(idx);
		free(drop);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = &kids[i];
	qsort(idx, n, sizeof(*idx), key_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(idx[i]->key, idx[first]->key) != 0) {
			first = i;
			continue;
		}
		doc_error(b->sink, idx[i]->key_line, idx[i]->key_col,
			  "duplicate key \"%.64s\" (first at line %u)", idx[i]->key,
			  idx[first]->key_line);
		drop[idx[i] - kids] = true;
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			kids[k++] = kids[i];
	free(idx);
	free(drop);
	return (long)k;
}

int doc_close(struct doc_builder *b)
{
	struct doc_frame *f = &b->stack[b->depth - 1];
	struct doc_node n = f->node;

	if (n.n > 0) {
		n.kids = arena_alloc(b->arena, n.n * sizeof(*n.kids));
		if (n.kids == NULL)
			return -ENOMEM;
		memcpy(n.kids, f->kids, n.n * sizeof(*n.kids));
	}
	free(f->kids);
	f->kids = NULL;
	b->depth--;
	if (n.type == DOC_MAP) {
		long k = dedup_keys(b, n.kids, n.n);

		if (k < 0)
			return (int)k;
		n.n = (size_t)k;
	}
	return place(b, &n);
}

int doc_end(struct doc_builder *b)
{
	struct doc_node null_root = {.type = DOC_NULL, .line = 1, .col = 1, .text = ""};
	int rc;

	rc = b->fn(b->fn_arg, b->have_root ? &b->root : &null_root,
		   b->sink->errors != b->doc_errors);
	builder_drop(b);
	return rc;
}

/* ---- lookups ---- */

const struct doc_node *doc_get(const struct doc_node *map, const char *key)
{
	if (map == NULL || map->type != DOC_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->kids[i].key, key) == 0)
			return map->kids[i].type == DOC_NULL ? NULL : &map->kids[i];
	return NULL;
}

const char *doc_type_name(const struct doc_node *n)
{
	switch (n->type) {
	case DOC_NULL:
		return "null";
	case DOC_BOOL:
		return "a boolean";
	case DOC_INT:
		return "an integer";
	case DOC_FLOAT:
		return "a number with a fraction or exponent";
	case DOC_STR:
		return "a string";
	case DOC_SEQ:
		return "a list";
	case DOC_MAP:
		return "a mapping";
	}
	return "?";
}

/* ---- YAML 1.1 plain scalars ---- */

static bool is_one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static bool all_of(const char *s, size_t len, const char *chars)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (strchr(chars, s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* go-yaml v2's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
	const char *p = s;
	bool digits = false;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	} else {
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
		if (!digits)
			return false;
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

enum doc_type doc_resolve_plain(const char *s, size_t len, uint8_t *flags)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {"y",     "Y",    "yes",  "Yes",   "YES",   "n",
					    "N",     "no",   "No",   "NO",    "true",  "True",
					    "TRUE",  "false", "False", "FALSE", "on",    "On",
					    "ON",    "off",  "Off",  "OFF",   NULL};
	static const char *const floats[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
					     "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
					     NULL};
	const char *d = s;
	size_t dl = len;

	*flags |= DOC_F_PLAIN;
	if (strlen(s) != len)
		return DOC_STR;
	if (is_one_of(s, nulls))
		return DOC_NULL;
	if (is_one_of(s, bools))
		return DOC_BOOL;
	if (dl > 0 && (*d == '+' || *d == '-')) {
		d++;
		dl--;
	}
	if (all_of(d, dl, "0123456789")) {
		if (dl > 1 && d[0] == '0')
			*flags |= DOC_F_ODD_INT; /* octal in YAML 1.1 */
		return DOC_INT;
	}
	if ((dl > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X') &&
	     all_of(d + 2, dl - 2, "0123456789abcdefABCDEF_")) ||
	    (dl > 2 && d[0] == '0' && (d[1] == 'b' || d[1] == 'B') &&
	     all_of(d + 2, dl - 2, "01_")) ||
	    (dl > 0 && d[0] >= '0' && d[0] <= '9' && all_of(d, dl, "0123456789_"))) {
		*flags |= DOC_F_ODD_INT;
		return DOC_INT;
	}
	if (is_float(s) || is_one_of(s, floats))
		return DOC_FLOAT;
	return DOC_STR;
}

/* ---- UTF-8 ---- */

const char *doc_check_utf8(const char *buf, size_t len, uint32_t *line, uint32_t *col)
{
	const unsigned char *p = (const unsigned char *)buf;
	uint32_t ln = 1, cl = 1;
	const char *why;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t need;
		uint32_t cp, min;

		if (c == 0) {
			why = "NUL byte";
			goto bad;
		}
		if (c < 0x80) {
			i++;
			if (c == '\n') {
				ln++;
				cl = 1;
			} else {
				cl++;
			}
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			why = "invalid UTF-8 byte";
			goto bad;
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80) {
				why = "truncated UTF-8 sequence";
				goto bad;
			}
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min) {
			why = "overlong UTF-8 encoding";
			goto bad;
		}
		if (cp > 0x10ffff) {
			why = "UTF-8 code point beyond U+10FFFF";
			goto bad;
		}
		if (cp >= 0xd800 && cp <= 0xdfff) {
			why = "UTF-16 surrogate encoded in UTF-8";
			goto bad;
		}
		i += need + 1;
		cl++;
	}
	return NULL;
bad:
	*line = ln;
	*col = cl;
	return why;
}

/* ---- small shared helper ---- */

int k8s_grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	nv = realloc(*v, ncap * sz);
	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}
