/*
 * selector.c: label sets and label selectors: lookup, matching, sorting
 * and freeing.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

const char *npgw_k8s_label_get(const struct npgw_k8s_labels *l, const char *key)
{
	/* Label sets are small (a handful of keys): a linear scan is as fast
	 * as a binary search and does not depend on the set being sorted. */
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

static bool value_in(const struct npgw_k8s_expr *e, const char *v)
{
	for (size_t i = 0; i < e->n_values; i++)
		if (strcmp(e->values[i], v) == 0)
			return true;
	return false;
}

bool npgw_k8s_selector_matches(const struct npgw_k8s_selector *s, const struct npgw_k8s_labels *l)
{
	for (size_t i = 0; i < s->match_labels.n; i++) {
		const char *v = npgw_k8s_label_get(l, s->match_labels.v[i].key);

		if (v == NULL || strcmp(v, s->match_labels.v[i].value) != 0)
			return false;
	}
	for (size_t i = 0; i < s->n_exprs; i++) {
		const struct npgw_k8s_expr *e = &s->exprs[i];
		const char *v = npgw_k8s_label_get(l, e->key);

		switch (e->op) {
		case NPGW_K8S_OP_IN:
			if (v == NULL || !value_in(e, v))
				return false;
			break;
		case NPGW_K8S_OP_NOT_IN:
			/* true when the key is missing, as Kubernetes */
			if (v != NULL && value_in(e, v))
				return false;
			break;
		case NPGW_K8S_OP_EXISTS:
			if (v == NULL)
				return false;
			break;
		case NPGW_K8S_OP_DOES_NOT_EXIST:
			if (v != NULL)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct npgw_k8s_label *)a)->key,
		      ((const struct npgw_k8s_label *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void k8s_labels_sort(struct npgw_k8s_labels *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), label_cmp);
}

void k8s_labels_free(struct npgw_k8s_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void k8s_selector_sort(struct npgw_k8s_selector *s)
{
	k8s_labels_sort(&s->match_labels);
	for (size_t i = 0; i < s->n_exprs; i++)
		if (s->exprs[i].n_values > 1)
			qsort(s->exprs[i].values, s->exprs[i].n_values, sizeof(char *), str_cmp);
}

void k8s_selector_free(struct npgw_k8s_selector *s)
{
	k8s_labels_free(&s->match_labels);
	for (size_t i = 0; i < s->n_exprs; i++) {
		struct npgw_k8s_expr *e = &s->exprs[i];

		free(e->key);
		for (size_t k = 0; k < e->n_values; k++)
			free(e->values[k]);
		free(e->values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->n_exprs = 0;
}

void npgw_k8s_selector_clear(struct npgw_k8s_selector *s)
{
	k8s_selector_free(s);
	memset(s, 0, sizeof(*s));
}
