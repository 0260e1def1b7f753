/*
 * incr.c: npgw_compile_update_pods, pods that join and leave the classes of
 * a full compile without compiling again (DESIGN.md, "Why classes": pod
 * churn changes stage-1 tables, not the ACL).
 *
 * Why the result equals a full compile of the next cluster: a class is
 * (behaviour, ipBlock memberships), and the rules, metas and class_bits
 * depend only on the policies and on the set of classes with their keys
 * and ids. Ids come from sorting the classes by (namespace of the first
 * member, key), a region (ipBlock boundary) member counting as namespace
 * "" and coming before every pod. So when
 *  (1) every address added falls into a class prev has,
 *  (2) no class loses its last member, and
 *  (3) no class's first member changes namespace,
 * the full compile would find the same classes with the same ids, and all
 * but three things are prev's: the stage-1 host entries, the member counts
 * and the examples (the first member, "ns/name"). Those are redone here as
 * compile.c makes them; anything else answers -EAGAIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_private.h"
#include "npgw_compile.h"

enum change_op {
	CH_DROP, /* a removed pod's host entry goes */
	CH_REGION, /* a removed pod's host entry gives way to the region it hid */
	CH_POD, /* an added pod's host entry */
};

/* One change to the stage-1 entries; seq orders those of one prefix
 * (removals come first). */
struct change {
	struct npgw_prefix prefix;
	uint32_t cls;
	uint32_t seq;
	uint8_t op; /* enum change_op */
};

/* A pod's place in cluster order: (namespace, name). */
struct pod_key {
	const char *ns;
	size_t ns_len;
	const char *name;
};

struct upd {
	struct ctx x; /* the state's context, read only, with its own scratch */
	const struct npgw_compile_result *prev;
	const struct npgw_k8s_cluster *next;
	struct npgw_compile_result *res;
	struct change *ch;
	size_t n_ch, ch_cap;
	uint8_t *dirty; /* by class: its first member was removed */
	const struct npgw_k8s_pod **cand; /* by class: its first added member */
	char *buf; /* group keys */
	size_t buf_cap;
};

static struct pod_key key_of_pod(const struct npgw_k8s_pod *p)
{
	return (struct pod_key){.ns = p->namespace, .ns_len = strlen(p->namespace), .name = p->name};
}

/* The first member of a pod class from its example "ns/name" (names hold no
 * '/': plain_names). */
static struct pod_key key_of_example(const char *ex)
{
	const char *slash = strchr(ex, '/');
	size_t n = slash ? (size_t)(slash - ex) : strlen(ex);

	return (struct pod_key){.ns = ex, .ns_len = n, .name = slash ? slash + 1 : ""};
}

/* Cluster order (lib/k8s sorts by strcmp of namespace, then of name). */
static int key_cmp(const struct pod_key *a, const struct pod_key *b)
{
	int c = memcmp(a->ns, b->ns, NPGW_MIN(a->ns_len, b->ns_len));

	if (c == 0 && a->ns_len != b->ns_len)
		c = a->ns_len < b->ns_len ? -1 : 1;
	return c ? c : strcmp(a->name, b->name);
}

/* The entry of exactly prefix p in a sorted stage-1 array, or NULL. */
static const struct npgw_compile_stage1 *find_entry(const struct npgw_compile_stage1 *v, size_t n,
						    const struct npgw_prefix *p)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = npgw_prefix_cmp(&v[mid].prefix, p);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The index of the first pod of c at or after k in cluster order. */
static size_t pod_lower_bound(const struct npgw_k8s_cluster *c, const struct pod_key *k)
{
	size_t lo = 0, hi = c->n_pods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct pod_key m = key_of_pod(c->pods[mid]);

		if (key_cmp(&m, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What can be checked of the caller's promise without reading every
 * policy: the counts. (Comparing the policies' names alone costs 0.2 ms
 * with cold caches at 1,000 policies, more than the rest of an update, and
 * would still not see a changed selector.) */
static bool same_model(const struct npgw_k8s_cluster *m, const struct npgw_k8s_cluster *next)
{
	return m->n_policies == next->n_policies && m->n_namespaces == next->n_namespaces;
}

static bool takes_part(const struct npgw_k8s_pod *pod)
{
	return npgw_k8s_pod_is_policy_target(pod) && pod->n_addrs > 0;
}

static int add_change(struct upd *u, const struct npgw_prefix *p, uint32_t cls, uint8_t op)
{
	if (grow((void **)&u->ch, &u->ch_cap, u->n_ch + 1, sizeof(*u->ch)) < 0)
		return -ENOMEM;
	u->ch[u->n_ch] = (struct change){.prefix = *p, .cls = cls, .seq = (uint32_t)u->n_ch, .op = op};
	u->n_ch++;
	return 0;
}

/* A removed pod: its host entries go (or give way to the regions they hid),
 * its classes lose a member each. */
static int drop_pod(struct upd *u, const struct npgw_k8s_pod *pod)
{
	const struct npgw_compile_result *prev = u->prev;
	char ex[512];
	int rc = 0;

	if (!takes_part(pod))
		return 0;
	snprintf(ex, sizeof(ex), "%s/%s", pod->namespace, pod->name);
	for (size_t a = 0; a < pod->n_addrs && rc == 0; a++) {
		const struct npgw_compile_stage1 *e, *r;
		struct npgw_compile_class *cl;
		struct npgw_prefix host;

		compile_host_prefix(&pod->addrs[a], &host);
		e = find_entry(prev->stage1, prev->n_stage1, &host);
		if (e == NULL)
			return -EAGAIN; /* not a pod of prev's cluster */
		cl = &u->res->classes[e->class_id];
		if (cl->n_pod_addrs == 0)
			return -EAGAIN;
		cl->n_pod_addrs--;
		if (!u->x.has_region[e->class_id] && strcmp(cl->example, ex) == 0)
			u->dirty[e->class_id] = 1;
		r = find_entry(u->x.regions, u->x.n_regions, &host);
		rc = add_change(u, &host, r ? r->class_id : 0, r ? CH_REGION : CH_DROP);
	}
	return rc;
}

/* The behaviour of a pod of next, or -EAGAIN when no class of prev has it. */
static int64_t behaviour_of(struct upd *u, const struct npgw_k8s_pod *pod)
{
	size_t len;
	int64_t g, b;

	/* a pod naming a port more often than prev's columns hold needs a
	 * new column: a full compile */
	if (!compile_named_fits(&u->x, pod))
		return -EAGAIN;
	if (compile_group_key(&u->x, pod, &u->buf, &u->buf_cap, &len) < 0)
		return -ENOMEM;
	g = intern_get(&u->x.groups, u->buf, (uint32_t)len);
	if (g >= 0)
		return u->x.group_beh[g];
	/* a group prev did not have (other labels): its behaviour may still
	 * be known */
	compile_behaviour_key(&u->x, pod, (uint8_t *)u->x.scratch);
	b = intern_get(&u->x.behaviours, u->x.scratch, (uint32_t)u->x.beh_len);
	return b >= 0 ? b : -EAGAIN;
}

/* An added pod: a host entry per address, in a class prev has. */
static int add_pod(struct upd *u, const struct npgw_k8s_pod *pod)
{
	int64_t beh;
	int rc = 0;

	if (!takes_part(pod))
		return 0;
	if (strchr(pod->namespace, '/') != NULL)
		return -EAGAIN; /* its example would not split back */
	beh = behaviour_of(u, pod);
	if (beh < 0)
		return (int)beh;
	for (size_t a = 0; a < pod->n_addrs && rc == 0; a++) {
		struct npgw_prefix host;
		int64_t tmp;
		uint32_t f;

		compile_class_key(&u->x, (uint32_t)beh, &pod->addrs[a]);
		tmp = intern_get(&u->x.classes, u->x.scratch, (uint32_t)u->x.class_len);
		if (tmp < 0)
			return -EAGAIN; /* a new class */
		f = u->x.final_of_tmp[tmp];
		u->res->classes[f].n_pod_addrs++;
		if (!u->x.has_region[f] && u->cand[f] == NULL) {
			u->cand[f] = pod;
		} else if (!u->x.has_region[f]) {
			struct pod_key k = key_of_pod(pod), c = key_of_pod(u->cand[f]);

			if (key_cmp(&k, &c) < 0)
				u->cand[f] = pod;
		}
		compile_host_prefix(&pod->addrs[a], &host);
		rc = add_change(u, &host, f, CH_POD);
	}
	return rc;
}

static int cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int c = npgw_prefix_cmp(&x->prefix, &y->prefix);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The index of the first entry of v[lo..n) at or after p. */
static size_t entry_lower_bound(const struct npgw_compile_stage1 *v, size_t lo, size_t n,
				const struct npgw_prefix *p)
{
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (npgw_prefix_cmp(&v[mid].prefix, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* prev's stage-1 entries with the changes, into res: the spans between
 * changes are copied whole, so the cost is a copy plus a search per
 * change. A prefix keeps its last change; an added pod's entry may replace
 * only a region entry or the entry of a pod removed in the same call (two
 * pods never share an address in a valid cluster). */
static int merge_stage1(struct upd *u)
{
	const struct npgw_compile_result *prev = u->prev;
	struct npgw_compile_stage1 *out;
	size_t i = 0, j = 0, n = 0;

	if (u->n_ch > 1)
		qsort(u->ch, u->n_ch, sizeof(*u->ch), cmp_change);
	out = malloc((prev->n_stage1 + u->n_ch + 1) * sizeof(*out));
	if (out == NULL)
		return -ENOMEM;
	while (j < u->n_ch) {
		const struct npgw_prefix *p = &u->ch[j].prefix;
		unsigned int n_pod = 0, n_gone = 0;
		size_t k, at = entry_lower_bound(prev->stage1, i, prev->n_stage1, p);
		bool exists;

		memcpy(out + n, prev->stage1 + i, (at - i) * sizeof(*out));
		n += at - i;
		i = at;
		for (k = j; k < u->n_ch && npgw_prefix_cmp(&u->ch[k].prefix, p) == 0; k++) {
			if (u->ch[k].op == CH_POD)
				n_pod++;
			else
				n_gone++;
		}
		exists = i < prev->n_stage1 && npgw_prefix_cmp(&prev->stage1[i].prefix, p) == 0;
		if (n_pod > 1 || n_gone > 1 || (n_gone > 0 && !exists))
			goto again;
		if (n_pod > 0 && exists && n_gone == 0) {
			const struct npgw_compile_stage1 *r = find_entry(u->x.regions, u->x.n_regions, p);

			if (r == NULL || r->class_id != prev->stage1[i].class_id)
				goto again; /* a pod of prev holds that address */
		}
		if (u->ch[k - 1].op != CH_DROP) {
			out[n].prefix = *p;
			out[n].class_id = u->ch[k - 1].cls;
			n++;
		}
		if (exists)
			i++;
		j = k;
	}
	memcpy(out + n, prev->stage1 + i, (prev->n_stage1 - i) * sizeof(*out));
	n += prev->n_stage1 - i;
	u->res->stage1 = out;
	u->res->n_stage1 = n;
	return 0;
again:
	free(out);
	return -EAGAIN;
}

/* The first member of class f in next, when it may have changed: the
 * first added member, or (its first member was removed) the first pod at
 * or after the old one that has an address in f, whichever comes first. */
static int first_member(struct upd *u, uint32_t f, const struct pod_key *old,
			const struct npgw_k8s_pod **first)
{
	const struct npgw_k8s_cluster *next = u->next;
	const struct npgw_k8s_pod *best = u->cand[f];
	struct pod_key bk;

	*first = best;
	if (!u->dirty[f])
		return 0;
	if (best != NULL)
		bk = key_of_pod(best);
	for (size_t i = pod_lower_bound(next, old); i < next->n_pods; i++) {
		const struct npgw_k8s_pod *pod = next->pods[i];
		struct pod_key pk;

		if (!takes_part(pod))
			continue;
		pk = key_of_pod(pod);
		if (best != NULL && key_cmp(&pk, &bk) >= 0)
			break; /* the added one comes first */
		for (size_t a = 0; a < pod->n_addrs; a++) {
			const struct npgw_compile_stage1 *e;
			struct npgw_prefix host;

			compile_host_prefix(&pod->addrs[a], &host);
			e = find_entry(u->res->stage1, u->res->n_stage1, &host);
			if (e != NULL && e->class_id == f) {
				*first = pod;
				return 0;
			}
		}
	}
	return best != NULL ? 0 : -EAGAIN; /* members, but none found: not prev's cluster */
}

/* Member counts are done: check that no class empties and that first
 * members keep their namespace, and set the examples that change. */
static int settle_classes(struct upd *u)
{
	struct npgw_compile_result *res = u->res;

	for (uint32_t f = 0; f < res->n_classes; f++) {
		struct npgw_compile_class *cl = &res->classes[f];
		const struct npgw_k8s_pod *first;
		struct pod_key old, nk;
		char ex[512], *dup;
		int rc;

		if (u->x.has_region[f] || (!u->dirty[f] && u->cand[f] == NULL))
			continue;
		if (cl->n_pod_addrs == 0)
			return -EAGAIN; /* the class would vanish */
		old = key_of_example(cl->example);
		rc = first_member(u, f, &old, &first);
		if (rc < 0)
			return rc;
		if (first == NULL)
			continue;
		nk = key_of_pod(first);
		if (!u->dirty[f] && key_cmp(&nk, &old) >= 0)
			continue; /* the old first member stays first */
		if (nk.ns_len != old.ns_len || memcmp(nk.ns, old.ns, nk.ns_len) != 0)
			return -EAGAIN; /* the class would move in the numbering */
		snprintf(ex, sizeof(ex), "%s/%s", first->namespace, first->name);
		dup = strdup(ex);
		if (dup == NULL)
			return -ENOMEM;
		free(cl->example);
		cl->example = dup;
	}
	return 0;
}

/* A copy of prev's public part, sharing the ACL part; no state yet. */
static struct npgw_compile_result *copy_result(const struct npgw_compile_result *prev)
{
	struct npgw_compile_result *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	*r = *prev;
	r->state = NULL;
	r->stage1 = NULL;
	r->n_stage1 = 0;
	r->classes = calloc(prev->n_classes ? prev->n_classes : 1, sizeof(*r->classes));
	if (r->classes == NULL) {
		free(r);
		return NULL;
	}
	for (uint32_t f = 0; f < prev->n_classes; f++) {
		r->classes[f] = prev->classes[f];
		r->classes[f].example = strdup(prev->classes[f].example);
		if (r->classes[f].example == NULL) {
			r->n_classes = f;
			return r; /* the caller sees the short count and frees */
		}
	}
	return r;
}

/* Free a result that does not hold the state yet (its ACL part is
 * prev's). */
static void drop_result(struct npgw_compile_result *r)
{
	if (r == NULL)
		return;
	for (uint32_t f = 0; f < r->n_classes; f++)
		free(r->classes[f].example);
	free(r->classes);
	free(r->stage1);
	free(r);
}

struct npgw_compile_result *npgw_compile_update_pods(const struct npgw_compile_result *prev,
						     const struct npgw_k8s_cluster *next,
						     const struct npgw_k8s_pod *const *removed,
						     size_t n_removed,
						     const struct npgw_k8s_pod *const *added,
						     size_t n_added, int *err)
{
	struct npgw_compile_state *s = prev->state;
	struct upd u = {.prev = prev, .next = next};
	int rc = 0;

	if (s == NULL || !s->x.plain_names || !same_model(s->x.c, next)) {
		rc = -EAGAIN;
		goto fail;
	}
	/* a Node's addresses are what nodes peers match: compile in full */
	for (size_t i = 0; i < n_removed; i++)
		if (npgw_k8s_pod_is_node(removed[i]))
			rc = -EAGAIN;
	for (size_t i = 0; i < n_added; i++)
		if (npgw_k8s_pod_is_node(added[i]))
			rc = -EAGAIN;
	if (rc < 0)
		goto fail;
	u.x = s->x; /* a view: its pointers stay the state's */
	u.x.scratch = calloc(NPGW_MAX(u.x.beh_len, u.x.class_len) / 8 + 2, 8);
	u.dirty = calloc(prev->n_classes ? prev->n_classes : 1, sizeof(*u.dirty));
	u.cand = calloc(prev->n_classes ? prev->n_classes : 1, sizeof(*u.cand));
	u.res = copy_result(prev);
	if (u.x.scratch == NULL || u.dirty == NULL || u.cand == NULL || u.res == NULL ||
	    u.res->n_classes != prev->n_classes) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n_removed && rc == 0; i++)
		rc = drop_pod(&u, removed[i]);
	for (size_t i = 0; i < n_added && rc == 0; i++)
		rc = add_pod(&u, added[i]);
	if (rc == 0)
		rc = merge_stage1(&u);
	if (rc == 0)
		rc = settle_classes(&u);
	if (rc < 0)
		goto fail;
	u.res->state = s;
	s->refcnt++;
	free(u.x.scratch);
	free(u.dirty);
	free(u.cand);
	free(u.ch);
	free(u.buf);
	return u.res;
fail:
	drop_result(u.res);
	free(u.x.scratch);
	free(u.dirty);
	free(u.cand);
	free(u.ch);
	free(u.buf);
	if (err)
		*err = rc;
	return NULL;
}
