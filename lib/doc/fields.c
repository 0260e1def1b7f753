/*
 * fields.c: npgw_doc_read_fields, the table-driven walk of a mapping that
 * the config and policy readers share: dispatch each known key to its
 * reader, report unknown keys with the list of known ones taken from the
 * same table, and report required fields that are missing.
 */
#include <stdio.h>
#include <string.h>

#include "npgw_doc.h"

/* Append s to out (of size bytes, used so far *used); false when full. */
static bool append(char *out, size_t size, size_t *used, const char *a, const char *b)
{
	int n = snprintf(out + *used, size - *used, "%s%s", a, b);

	if (n < 0 || (size_t)n >= size - *used)
		return false;
	*used += (size_t)n;
	return true;
}

char *npgw_doc_fields_list(const struct npgw_doc_fields *t, char *out, size_t size)
{
	const char *conj = t->conj ? t->conj : "and";
	size_t used = 0;
	bool ok;
	char sep[32];

	if (size == 0)
		return out;
	out[0] = '\0';
	ok = append(out, size, &used, t->what, "");
	for (size_t i = 0; ok && i < t->n; i++) {
		if (i == 0)
			snprintf(sep, sizeof(sep), " ");
		else if (i + 1 == t->n)
			snprintf(sep, sizeof(sep), " %.16s ", conj);
		else
			snprintf(sep, sizeof(sep), ", ");
		ok = append(out, size, &used, sep, t->v[i].key);
	}
	if (ok && t->note != NULL && t->note[0] != '\0')
		ok = append(out, size, &used, " ", t->note);
	if (!ok && size >= 4)
		memcpy(out + size - 4, "...", 4);
	return out;
}

static size_t find(const struct npgw_doc_fields *t, const char *key)
{
	size_t k;

	for (k = 0; k < t->n; k++)
		if (strcmp(t->v[k].key, key) == 0)
			break;
	return k;
}

bool npgw_doc_read_fields(struct npgw_doc_reader *rd, void *ctx, const struct npgw_doc_node *map,
			  const char *path, const struct npgw_doc_fields *t, void *obj,
			  const struct npgw_doc_node **got)
{
	bool seen[NPGW_DOC_MAX_FIELDS] = {false};
	char p[NPGW_DOC_PATH_MAX];

	if (got != NULL)
		for (size_t k = 0; k < t->n; k++)
			got[k] = NULL;
	if (!npgw_doc_want(rd, map, NPGW_DOC_MAP, path))
		return false;
	for (size_t i = 0; i < map->n; i++) {
		const struct npgw_doc_node *f = &map->kids[i];
		size_t k = find(t, f->key);

		npgw_doc_path_key(p, path, f->key);
		if (k == t->n) {
			char list[1024];

			npgw_doc_err_key(rd, f, p, "unknown field \"%.64s\" (%s)", f->key,
					 npgw_doc_fields_list(t, list, sizeof(list)));
			continue;
		}
		if (f->type == NPGW_DOC_NULL)
			continue; /* null: as if absent */
		if (k < NPGW_DOC_MAX_FIELDS)
			seen[k] = true;
		if (got != NULL)
			got[k] = f;
		if (t->v[k].read != NULL)
			t->v[k].read(ctx, &t->v[k], f, p, obj);
	}
	for (size_t k = 0; k < t->n && k < NPGW_DOC_MAX_FIELDS; k++)
		if (t->v[k].required && !seen[k])
			npgw_doc_err(rd, map, npgw_doc_path(p, path, t->v[k].key),
				     "missing required field");
	return true;
}
