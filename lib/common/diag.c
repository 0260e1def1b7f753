/*
 * diag.c: the diagnostics list shared by the loader, the validator and the
 * config reader, and its text and JSON renderings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "npgw_common.h"

char *npgw_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void npgw_diags_free(struct npgw_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].message);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Store *m in d, which then owns its strings (*stored true), or only count it
 * when the list is full (*stored false: the caller keeps ownership). */
static int diags_push(struct npgw_diags *d, struct npgw_diag *m, bool *stored)
{
	*stored = false;
	if (m->severity == NPGW_SEV_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= NPGW_DIAGS_MAX) {
		d->dropped++;
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct npgw_diag *v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = *m;
	*stored = true;
	return 0;
}

int npgw_diags_add(struct npgw_diags *d, enum npgw_severity sev, const char *file,
		   uint32_t line, uint32_t col, const char *path, const char *fmt, ...)
{
	struct npgw_diag m = {
		.severity = sev,
		.line = line,
		.col = col,
	};
	va_list ap;
	bool stored;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&m.message, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		m.message = NULL;
		goto nomem;
	}
	m.file = strdup(file ? file : "-");
	m.path = strdup(path ? path : "");
	if (m.file == NULL || m.path == NULL)
		goto nomem;
	if (diags_push(d, &m, &stored) < 0)
		goto nomem;
	if (!stored)
		goto not_stored;
	return 0;
not_stored:
	free(m.file);
	free(m.path);
	free(m.message);
	return 0;
nomem:
	free(m.file);
	free(m.path);
	free(m.message);
	return -ENOMEM;
}

int npgw_diags_append(struct npgw_diags *dst, struct npgw_diags *src)
{
	for (size_t i = 0; i < src->n; i++) {
		bool stored;

		if (diags_push(dst, &src->v[i], &stored) < 0) {
			/* keep the rest in src so nothing leaks */
			memmove(src->v, src->v + i, (src->n - i) * sizeof(*src->v));
			src->n -= i;
			return -ENOMEM;
		}
		if (!stored) {
			free(src->v[i].file);
			free(src->v[i].path);
			free(src->v[i].message);
		}
	}
	dst->dropped += src->dropped;
	free(src->v);
	memset(src, 0, sizeof(*src));
	return 0;
}

void npgw_diags_print(const struct npgw_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct npgw_diag *m = &d->v[i];
		const char *sev = m->severity == NPGW_SEV_WARNING ? "warning: " : "";

		fprintf(out, "%s:%u:%u: %s%s%s%s\n", m->file, m->line, m->col, m->path,
			m->path[0] ? ": " : "", sev, m->message);
	}
	if (d->dropped)
		fprintf(out, "... %zu more messages not shown\n", d->dropped);
}

char *npgw_diags_to_json(const struct npgw_diags *d)
{
	cJSON *arr = cJSON_CreateArray();
	char *s = NULL;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct npgw_diag *m = &d->v[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (!cJSON_AddStringToObject(o, "file", m->file) ||
		    !cJSON_AddNumberToObject(o, "line", m->line) ||
		    !cJSON_AddNumberToObject(o, "column", m->col) ||
		    !cJSON_AddStringToObject(o, "path", m->path) ||
		    !cJSON_AddStringToObject(o, "message", m->message) ||
		    !cJSON_AddStringToObject(o, "severity",
					     m->severity == NPGW_SEV_ERROR ? "error" : "warning"))
			goto out;
	}
	s = cJSON_PrintUnformatted(arr);
out:
	cJSON_Delete(arr);
	return s;
}
