/*
 * hits.c: rule hit counters that outlive generations. A generation counts
 * hits by ACL result; when it is replaced its counts are folded here by
 * identity (namespace, policy, direction, rule, action), so that a rule's
 * counter keeps growing whatever generation decides: what Prometheus needs
 * of a counter. Open addressing on a string hash. Control thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_private.h"

struct dp_hit {
	struct npgw_compile_meta id; /* owns policy_ns and policy_name */
	uint64_t hits;
};

struct dp_hitmap {
	struct dp_hit *v;
	size_t n, cap;
	uint32_t *slot; /* index + 1 into v; 0 empty */
	size_t n_slots; /* a power of two, at least 2 * cap */
};

static uint64_t id_hash(const struct npgw_compile_meta *m)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *s = m->policy_ns; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const char *s = m->policy_name; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	h = (h ^ m->dir) * 1099511628211ULL;
	h = (h ^ m->action) * 1099511628211ULL;
	return (h ^ (uint32_t)m->rule) * 1099511628211ULL;
}

static bool id_eq(const struct npgw_compile_meta *a, const struct npgw_compile_meta *b)
{
	return a->dir == b->dir && a->action == b->action && a->rule == b->rule &&
	       strcmp(a->policy_ns, b->policy_ns) == 0 &&
	       strcmp(a->policy_name, b->policy_name) == 0;
}

struct dp_hitmap *dp_hitmap_new(void)
{
	return calloc(1, sizeof(struct dp_hitmap));
}

void dp_hitmap_free(struct dp_hitmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].id.policy_ns);
		free(m->v[i].id.policy_name);
	}
	free(m->v);
	free(m->slot);
	free(m);
}

static int rehash(struct dp_hitmap *m, size_t n_slots)
{
	uint32_t *slot = calloc(n_slots, sizeof(*slot));

	if (slot == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t k = id_hash(&m->v[i].id) & (n_slots - 1);

		while (slot[k] != 0)
			k = (k + 1) & (n_slots - 1);
		slot[k] = (uint32_t)i + 1;
	}
	free(m->slot);
	m->slot = slot;
	m->n_slots = n_slots;
	return 0;
}

int dp_hitmap_add(struct dp_hitmap *m, const struct npgw_compile_meta *meta, uint64_t hits)
{
	struct dp_hit *h;
	size_t k;

	if (m->n_slots > 0) {
		for (k = id_hash(meta) & (m->n_slots - 1); m->slot[k] != 0;
		     k = (k + 1) & (m->n_slots - 1))
			if (id_eq(&m->v[m->slot[k] - 1].id, meta)) {
				m->v[m->slot[k] - 1].hits += hits;
				return 0;
			}
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct dp_hit *v = realloc(m->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	h = &m->v[m->n];
	memset(h, 0, sizeof(*h));
	h->id.dir = meta->dir;
	h->id.action = meta->action;
	h->id.rule = meta->rule;
	h->id.tier = meta->tier; /* the identity decides it (the policy's) */
	h->id.kind = meta->kind;
	h->id.policy_ns = strdup(meta->policy_ns);
	h->id.policy_name = strdup(meta->policy_name);
	if (h->id.policy_ns == NULL || h->id.policy_name == NULL) {
		free(h->id.policy_ns);
		free(h->id.policy_name);
		return -ENOMEM;
	}
	h->hits = hits;
	m->n++;
	if (2 * m->n > m->n_slots) {
		if (rehash(m, m->n_slots ? 2 * m->n_slots : 256) < 0) {
			m->n--;
			free(h->id.policy_ns);
			free(h->id.policy_name);
			return -ENOMEM;
		}
		return 0;
	}
	for (k = id_hash(meta) & (m->n_slots - 1); m->slot[k] != 0; k = (k + 1) & (m->n_slots - 1))
		;
	m->slot[k] = (uint32_t)m->n;
	return 0;
}

void dp_hitmap_each(const struct dp_hitmap *m,
		    void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
		    void *arg)
{
	for (size_t i = 0; i < m->n; i++)
		fn(&m->v[i].id, m->v[i].hits, arg);
}

int dp_gen_fold_hits(const struct npgw_dp *dp, const struct dp_gen *g, struct dp_hitmap *m)
{
	int rc = 0;

	for (uint32_t r = 1; r < g->n_results && rc == 0; r++) {
		uint64_t sum = 0;

		for (unsigned int w = 0; w < NPGW_MAX(dp->n_workers, 1u); w++)
			sum += g->hits[w * g->stride + r];
		if (sum > 0)
			rc = dp_hitmap_add(m, npgw_ruleset_meta(g->rs, r), sum);
	}
	return rc;
}
