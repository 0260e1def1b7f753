/*
 * proto.c: the control protocol's messages: reading a request strictly
 * (cJSON accepts duplicate keys and deep nesting, so the tree is walked
 * after parsing), formatting replies, and the argument helpers handlers
 * use to read numbers as doubles safely.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_private.h"

int npgw_ctl_error(struct npgw_ctl_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : NPGW_CTL_E_INTERNAL);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key that appears twice among o's members, or NULL; *nomem
 * set when the check could not run. Small objects pairwise, large ones by
 * sorting, so a hostile object of a million keys costs n log n. */
static const char *duplicate_key(const cJSON *o, bool *nomem)
{
	const char **names, *dup = NULL;
	size_t n = 0, i = 0;

	for (const cJSON *c = o->child; c != NULL; c = c->next)
		n++;
	if (n <= 16) {
		for (const cJSON *a = o->child; a != NULL; a = a->next)
			for (const cJSON *b = a->next; b != NULL; b = b->next)
				if (strcmp(a->string, b->string) == 0)
					return a->string;
		return NULL;
	}
	names = malloc(n * sizeof(*names));
	if (names == NULL) {
		*nomem = true;
		return NULL;
	}
	for (const cJSON *c = o->child; c != NULL; c = c->next)
		names[i++] = c->string;
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 1; i < n && dup == NULL; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = names[i];
	free(names);
	return dup;
}

/* Recursion is bounded: cJSON stops parsing at CJSON_NESTING_LIMIT, and
 * this walk stops at NPGW_CTL_MAX_DEPTH. */
static int check_node(const cJSON *node, int depth, struct npgw_ctl_error *err)
{
	bool nomem = false;
	const char *dup;

	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return 0;
	if (depth > NPGW_CTL_MAX_DEPTH)
		return npgw_ctl_error(err, NPGW_CTL_E_TOO_DEEP,
				      "JSON nested deeper than %d levels", NPGW_CTL_MAX_DEPTH);
	if (cJSON_IsObject(node)) {
		dup = duplicate_key(node, &nomem);
		if (nomem) {
			npgw_ctl_error(err, NPGW_CTL_E_INTERNAL, "out of memory");
			return -ENOMEM;
		}
		if (dup != NULL)
			return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
					      "duplicate key \"%.64s\"", dup);
	}
	for (const cJSON *c = node->child; c != NULL; c = c->next) {
		int rc = check_node(c, depth + 1, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int ctl_check_tree(const cJSON *node, struct npgw_ctl_error *err)
{
	return check_node(node, 1, err);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The deepest nesting of [ and { in buf, outside strings: what the tree
 * would have, whether or not the text parses. */
static size_t bracket_depth(const char *buf, size_t len)
{
	size_t depth = 0, max = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '[' || ch == '{') {
			if (++depth > max)
				max = depth;
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
	}
	return max;
}

int ctl_parse_request(const char *buf, size_t len, struct ctl_request *rq,
		      struct npgw_ctl_error *err)
{
	const char *end = NULL;
	const cJSON *id;
	cJSON *root;
	int rc;

	memset(rq, 0, sizeof(*rq));
	if (memchr(buf, '\0', len) != NULL)
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_JSON, "NUL byte in the message");
	/* Nesting first: cJSON refuses more than 1000 levels as a syntax error,
	 * so a deep request would read as bad-json here and too-deep there. */
	if (bracket_depth(buf, len) > NPGW_CTL_MAX_DEPTH)
		return npgw_ctl_error(err, NPGW_CTL_E_TOO_DEEP, "JSON nested deeper than %d levels",
				      NPGW_CTL_MAX_DEPTH);
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (root == NULL) {
		size_t at = end != NULL && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;

		return npgw_ctl_error(err, NPGW_CTL_E_BAD_JSON, "not JSON (at byte %zu)", at);
	}
	while (end != NULL && end < buf + len && is_space(*end))
		end++;
	if (end == NULL || end != buf + len) {
		cJSON_Delete(root);
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_JSON,
				      "more than one JSON value on the line (at byte %zu)",
				      end ? (size_t)(end - buf) : 0);
	}
	rc = ctl_check_tree(root, err);
	if (rc < 0) {
		cJSON_Delete(root);
		return rc;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
				      "a request is a JSON object {\"id\", \"cmd\", \"args\"}");
	}
	/* From here on the tree is kept so the error reply can carry the id. */
	rq->root = root;
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (id != NULL) {
		if (!(cJSON_IsString(id) || (cJSON_IsNumber(id) && isfinite(id->valuedouble))))
			return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
					      "\"id\" must be a number or a string");
		rq->id = id;
	}
	for (const cJSON *c = root->child; c != NULL; c = c->next) {
		if (strcmp(c->string, "id") == 0) {
			continue;
		} else if (strcmp(c->string, "cmd") == 0) {
			if (!cJSON_IsString(c))
				return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
						      "\"cmd\" must be a string");
			rq->cmd = c->valuestring;
		} else if (strcmp(c->string, "args") == 0) {
			if (!cJSON_IsObject(c))
				return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
						      "\"args\" must be an object");
			rq->args = c;
		} else {
			return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST,
					      "unknown key \"%.64s\" (a request has id, cmd, args)",
					      c->string);
		}
	}
	if (rq->cmd == NULL)
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_REQUEST, "\"cmd\" is missing");
	return 0;
}

char *ctl_format_reply(const cJSON *id, cJSON *result, const struct npgw_ctl_error *err,
		       size_t *len)
{
	cJSON *o = cJSON_CreateObject(), *idc, *e;
	char *s = NULL, *line = NULL;
	size_t n;

	if (o == NULL)
		goto out;
	idc = id != NULL ? cJSON_Duplicate(id, false) : cJSON_CreateNull();
	if (idc == NULL)
		goto out;
	cJSON_AddItemToObject(o, "id", idc);
	if (!cJSON_AddBoolToObject(o, "ok", err == NULL))
		goto out;
	if (err == NULL) {
		if (result == NULL && (result = cJSON_CreateNull()) == NULL)
			goto out;
		cJSON_AddItemToObject(o, "result", result);
		result = NULL;
	} else {
		e = cJSON_AddObjectToObject(o, "error");
		if (e == NULL ||
		    !cJSON_AddStringToObject(e, "code",
					     err->code[0] ? err->code : NPGW_CTL_E_INTERNAL) ||
		    !cJSON_AddStringToObject(e, "message", err->message))
			goto out;
		if (result != NULL) { /* what the error is about: the validator's list */
			cJSON_AddItemToObject(e, "details", result);
			result = NULL;
		}
	}
	/* Unformatted: cJSON escapes control characters in strings, so the
	 * line holds no raw newline and the framing holds. */
	s = cJSON_PrintUnformatted(o);
	if (s == NULL)
		goto out;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (line == NULL) {
		free(s);
		goto out;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
out:
	cJSON_Delete(result);
	cJSON_Delete(o);
	return line;
}

/* ---- argument helpers ---- */

static const cJSON *arg_get(const cJSON *args, const char *name, bool required,
			    struct npgw_ctl_error *err, int *rc)
{
	const cJSON *v = args != NULL ? cJSON_GetObjectItemCaseSensitive(args, name) : NULL;

	*rc = 0;
	if (v == NULL && required)
		*rc = npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS, "argument \"%s\" is required",
				     name);
	return v;
}

int npgw_ctl_arg_string(const cJSON *args, const char *name, bool required, const char **out,
			struct npgw_ctl_error *err)
{
	int rc;
	const cJSON *v = arg_get(args, name, required, err, &rc);

	if (v == NULL)
		return rc;
	if (!cJSON_IsString(v))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS, "argument \"%s\" must be a string",
				      name);
	*out = v->valuestring;
	return 0;
}

int npgw_ctl_arg_uint(const cJSON *args, const char *name, uint64_t min, uint64_t max,
		      bool required, uint64_t *out, struct npgw_ctl_error *err)
{
	int rc;
	const cJSON *v = arg_get(args, name, required, err, &rc);
	double d;

	if (v == NULL)
		return rc;
	if (!cJSON_IsNumber(v))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS, "argument \"%s\" must be a number",
				      name);
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS,
				      "argument \"%s\" must be a whole number", name);
	/* Compare as doubles first (casting an out-of-range double is
	 * undefined), with max clamped to 2^53, which a double holds exactly. */
	if (max > (UINT64_C(1) << 53))
		max = UINT64_C(1) << 53;
	if (d < 0 || d > (double)max || (uint64_t)d < min)
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS,
				      "argument \"%s\" must be within %llu..%llu", name,
				      (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)d;
	return 0;
}

int npgw_ctl_arg_bool(const cJSON *args, const char *name, bool required, bool *out,
		      struct npgw_ctl_error *err)
{
	int rc;
	const cJSON *v = arg_get(args, name, required, err, &rc);

	if (v == NULL)
		return rc;
	if (!cJSON_IsBool(v))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS,
				      "argument \"%s\" must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

int npgw_ctl_arg_array(const cJSON *args, const char *name, bool required, const cJSON **out,
		       struct npgw_ctl_error *err)
{
	int rc;
	const cJSON *v = arg_get(args, name, required, err, &rc);

	if (v == NULL)
		return rc;
	if (!cJSON_IsArray(v))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS, "argument \"%s\" must be an array",
				      name);
	*out = v;
	return 0;
}

cJSON *npgw_ctl_add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];
	cJSON *n;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	n = cJSON_CreateRaw(buf);
	if (n == NULL || !cJSON_AddItemToObject(obj, name, n)) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

int npgw_ctl_arg_object(const cJSON *args, const char *name, bool required, const cJSON **out,
			struct npgw_ctl_error *err)
{
	int rc;
	const cJSON *v = arg_get(args, name, required, err, &rc);

	if (v == NULL)
		return rc;
	if (!cJSON_IsObject(v))
		return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS,
				      "argument \"%s\" must be an object", name);
	*out = v;
	return 0;
}

int npgw_ctl_arg_only(const cJSON *args, struct npgw_ctl_error *err, ...)
{
	if (args == NULL)
		return 0;
	for (const cJSON *c = args->child; c != NULL; c = c->next) {
		bool known = false;
		const char *name;
		va_list ap;

		va_start(ap, err);
		while (!known && (name = va_arg(ap, const char *)) != NULL)
			known = strcmp(name, c->string) == 0;
		va_end(ap);
		if (!known)
			return npgw_ctl_error(err, NPGW_CTL_E_BAD_ARGS, "unknown argument \"%.64s\"",
					      c->string);
	}
	return 0;
}
