/*
 * change.c: apply a change (replace, removals, upserts) to a cluster in
 * place, keeping what it displaced so that the change can be undone, and
 * tell which pods it added and removed (for the incremental compile). The
 * journal's replay, the daemon's desired state and its builder's copy all
 * go through here, so that they agree on what a change does (a Namespace
 * removal takes its Pods and NetworkPolicies with it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_state.h"

/* K_ARRAY: the array of one kind as it was before a bulk merge (in points
 * at a struct saved_array) */
enum kind { K_NONE, K_NS, K_POD, K_POL, K_ARRAY };

struct npgw_state_undo_entry {
	enum kind kind;
	bool bulk; /* put by a bulk merge: undone with its K_ARRAY entry */
	void *in; /* put by the change, or NULL */
	void *old; /* displaced: replaced or removed, or NULL */
};

struct saved_array {
	enum kind kind;
	void **v;
	size_t n;
};

/* Items past this many of a kind are merged in one pass (O(n + m)), not
 * put one by one (O(m log n) compares, O(n m) pointer moves). */
#define BULK_ITEMS 64

static enum kind kind_of(const char *s)
{
	static const struct {
		const char *name;
		enum kind kind;
	} names[] = {
		{"NetworkPolicy", K_POL}, {"networkpolicy", K_POL}, {"networkpolicies", K_POL},
		{"netpol", K_POL}, {"Pod", K_POD}, {"pod", K_POD}, {"pods", K_POD}, {"po", K_POD},
		{"Namespace", K_NS}, {"namespace", K_NS}, {"namespaces", K_NS}, {"ns", K_NS},
	};

	for (size_t i = 0; s != NULL && i < NPGW_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].kind;
	return K_NONE;
}

const char *npgw_state_kind(const char *kind)
{
	switch (kind_of(kind)) {
	case K_NS:
		return "Namespace";
	case K_POD:
		return "Pod";
	case K_POL:
		return "NetworkPolicy";
	default:
		return NULL;
	}
}

static int log_entry(struct npgw_state_undo *u, enum kind k, void *in, void *old)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 16;
		struct npgw_state_undo_entry *v = realloc(u->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = (struct npgw_state_undo_entry){k, false, in, old};
	return 0;
}

/* Room in the log for n more entries, so that a change, once started,
 * cannot fail half-way for want of log space. */
static int reserve(struct npgw_state_undo *u, size_t n)
{
	size_t cap = u->cap ? u->cap : 16;
	struct npgw_state_undo_entry *v;

	if (u->n + n <= u->cap)
		return 0;
	while (cap < u->n + n)
		cap *= 2;
	v = realloc(u->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	u->v = v;
	u->cap = cap;
	return 0;
}

static void free_obj(enum kind k, void *o)
{
	if (k == K_NS)
		npgw_k8s_namespace_free(o);
	else if (k == K_POD)
		npgw_k8s_pod_free(o);
	else if (k == K_POL)
		npgw_k8s_policy_free(o);
}

/* Remove one object (and, for a Namespace, its pods and policies). */
static int remove_one(struct npgw_k8s_cluster *c, const struct npgw_state_removal *r,
		      struct npgw_state_undo *u)
{
	const char *ns = r->ns && r->ns[0] ? r->ns : "default";
	enum kind k = kind_of(r->kind);
	void *o = NULL;
	int rc;

	if (k == K_NONE || r->name == NULL)
		return -EINVAL;
	if (k == K_NS) {
		size_t n = 0;

		for (size_t i = 0; i < c->n_pods; i++)
			n += strcmp(c->pods[i]->namespace, r->name) == 0;
		for (size_t i = 0; i < c->n_policies; i++)
			n += strcmp(c->policies[i]->namespace, r->name) == 0;
		rc = reserve(u, n + 1);
		if (rc < 0)
			return rc;
		o = npgw_k8s_cluster_take_namespace(c, r->name);
		if (o == NULL)
			return -ENOENT;
		log_entry(u, K_NS, NULL, o);
		/* as the API server does: what lived in it goes with it */
		for (size_t i = c->n_pods; i-- > 0;)
			if (strcmp(c->pods[i]->namespace, r->name) == 0)
				log_entry(u, K_POD, NULL,
					  npgw_k8s_cluster_take_pod(c, r->name, c->pods[i]->name));
		for (size_t i = c->n_policies; i-- > 0;)
			if (strcmp(c->policies[i]->namespace, r->name) == 0)
				log_entry(u, K_POL, NULL,
					  npgw_k8s_cluster_take_policy(c, r->name,
								       c->policies[i]->name));
		return 0;
	}
	rc = reserve(u, 1);
	if (rc < 0)
		return rc;
	o = k == K_POD ? (void *)npgw_k8s_cluster_take_pod(c, ns, r->name)
		       : (void *)npgw_k8s_cluster_take_policy(c, ns, r->name);
	if (o == NULL)
		return -ENOENT;
	log_entry(u, k, NULL, o);
	return 0;
}

static int key_cmp(enum kind k, const void *a, const void *b)
{
	const char *an, *bn, *as = "", *bs = "";
	int c;

	if (k == K_NS) {
		an = ((const struct npgw_k8s_namespace *)a)->name;
		bn = ((const struct npgw_k8s_namespace *)b)->name;
	} else if (k == K_POD) {
		as = ((const struct npgw_k8s_pod *)a)->namespace;
		bs = ((const struct npgw_k8s_pod *)b)->namespace;
		an = ((const struct npgw_k8s_pod *)a)->name;
		bn = ((const struct npgw_k8s_pod *)b)->name;
	} else {
		as = ((const struct npgw_k8s_policy *)a)->namespace;
		bs = ((const struct npgw_k8s_policy *)b)->namespace;
		an = ((const struct npgw_k8s_policy *)a)->name;
		bn = ((const struct npgw_k8s_policy *)b)->name;
	}
	c = strcmp(as ? as : "", bs ? bs : "");
	return c ? c : strcmp(an ? an : "", bn ? bn : "");
}

/* Merge the sorted items (taken) into the sorted array *arr of *n in one
 * pass; the old array is kept in the log, so that undo puts it back
 * whole. */
static int merge_bulk(enum kind k, void ***arr, size_t *n, void **items, size_t n_items,
		      struct npgw_state_undo *u)
{
	struct saved_array *sa = malloc(sizeof(*sa));
	void **nv = malloc((*n + n_items + 1) * sizeof(*nv));
	size_t i = 0, j = 0, m = 0;

	if (sa == NULL || nv == NULL || reserve(u, n_items + 1) < 0) {
		free(sa);
		free(nv);
		return -ENOMEM;
	}
	*sa = (struct saved_array){k, *arr, *n};
	log_entry(u, K_ARRAY, sa, NULL);
	while (i < *n || j < n_items) {
		int c = i == *n ? 1 : j == n_items ? -1 : key_cmp(k, (*arr)[i], items[j]);

		if (c < 0) {
			nv[m++] = (*arr)[i++];
			continue;
		}
		log_entry(u, k, items[j], c == 0 ? (*arr)[i] : NULL);
		u->v[u->n - 1].bulk = true;
		nv[m++] = items[j++];
		if (c == 0)
			i++;
	}
	*arr = nv;
	*n = m;
	return 0;
}

/* Move every object of items into c (upsert). */
static int put_items(struct npgw_k8s_cluster *c, struct npgw_k8s_cluster *items,
		     struct npgw_state_undo *u)
{
	int rc = reserve(u, npgw_k8s_object_count(items));

	if (rc < 0)
		return rc;
	npgw_k8s_cluster_sort(items);
	if (items->n_namespaces > BULK_ITEMS) {
		rc = merge_bulk(K_NS, (void ***)&c->namespaces, &c->n_namespaces,
				(void **)items->namespaces, items->n_namespaces, u);
		if (rc < 0)
			return rc;
		items->n_namespaces = 0;
	}
	if (items->n_pods > BULK_ITEMS) {
		rc = merge_bulk(K_POD, (void ***)&c->pods, &c->n_pods, (void **)items->pods,
				items->n_pods, u);
		if (rc < 0)
			return rc;
		items->n_pods = 0;
	}
	if (items->n_policies > BULK_ITEMS) {
		rc = merge_bulk(K_POL, (void ***)&c->policies, &c->n_policies,
				(void **)items->policies, items->n_policies, u);
		if (rc < 0)
			return rc;
		items->n_policies = 0;
	}
	while (items->n_namespaces > 0) {
		struct npgw_k8s_namespace *o = items->namespaces[0], *old;

		rc = npgw_k8s_cluster_put_namespace(c, o, &old);
		if (rc < 0)
			return rc;
		memmove(items->namespaces, items->namespaces + 1,
			--items->n_namespaces * sizeof(*items->namespaces));
		log_entry(u, K_NS, o, old);
	}
	while (items->n_pods > 0) {
		struct npgw_k8s_pod *o = items->pods[items->n_pods - 1], *old;

		rc = npgw_k8s_cluster_put_pod(c, o, &old);
		if (rc < 0)
			return rc;
		items->n_pods--;
		log_entry(u, K_POD, o, old);
	}
	while (items->n_policies > 0) {
		struct npgw_k8s_policy *o = items->policies[items->n_policies - 1], *old;

		rc = npgw_k8s_cluster_put_policy(c, o, &old);
		if (rc < 0)
			return rc;
		items->n_policies--;
		log_entry(u, K_POL, o, old);
	}
	return 0;
}

int npgw_state_change_apply(struct npgw_k8s_cluster *c, const struct npgw_state_change *ch,
			    struct npgw_k8s_cluster *items, struct npgw_state_undo *u)
{
	size_t mark = u->n;
	bool replaced = false;

	int rc = 0;

	if (ch->replace) {
		if (u->replaced != NULL)
			return -EINVAL; /* one replace per undo log */
		u->replaced = npgw_k8s_cluster_new();
		if (u->replaced == NULL)
			return -ENOMEM;
		struct npgw_k8s_cluster tmp = *u->replaced;

		*u->replaced = *c;
		*c = tmp;
		u->replace_mark = mark;
		replaced = true;
	}
	for (size_t i = 0; i < ch->n_removals && rc == 0; i++)
		rc = remove_one(c, &ch->removals[i], u);
	if (rc == 0 && items != NULL)
		rc = put_items(c, items, u);
	if (rc < 0 && replaced)
		u->replace_mark = mark;
	if (rc < 0)
		npgw_state_undo_to(c, u, mark);
	return rc;
}

/* Undo entries down to mark, newest first. */
void npgw_state_undo_to(struct npgw_k8s_cluster *c, struct npgw_state_undo *u, size_t mark)
{
	while (u->n > mark) {
		struct npgw_state_undo_entry *e = &u->v[--u->n];
		void *dummy = NULL;

		if (e->kind == K_ARRAY) {
			/* the array as it was before the bulk merge, whole */
			struct saved_array *sa = e->in;
			void ***arr = sa->kind == K_NS	  ? (void ***)&c->namespaces
				      : sa->kind == K_POD ? (void ***)&c->pods
							  : (void ***)&c->policies;
			size_t *n = sa->kind == K_NS	? &c->n_namespaces
				    : sa->kind == K_POD ? &c->n_pods
							: &c->n_policies;

			free(*arr);
			*arr = sa->v;
			*n = sa->n;
			free(sa);
			continue;
		}
		if (e->bulk) {
			free_obj(e->kind, e->in); /* its array goes back with K_ARRAY */
			continue;
		}
		if (e->in != NULL) {
			/* take the put object out again, or put back what it replaced */
			if (e->old != NULL) {
				if (e->kind == K_NS)
					npgw_k8s_cluster_put_namespace(c, e->old,
								       (struct npgw_k8s_namespace **)&dummy);
				else if (e->kind == K_POD)
					npgw_k8s_cluster_put_pod(c, e->old,
								 (struct npgw_k8s_pod **)&dummy);
				else
					npgw_k8s_cluster_put_policy(c, e->old,
								    (struct npgw_k8s_policy **)&dummy);
			} else if (e->kind == K_NS) {
				dummy = npgw_k8s_cluster_take_namespace(
					c, ((struct npgw_k8s_namespace *)e->in)->name);
			} else if (e->kind == K_POD) {
				const struct npgw_k8s_pod *p = e->in;

				dummy = npgw_k8s_cluster_take_pod(c, p->namespace, p->name);
			} else {
				const struct npgw_k8s_policy *p = e->in;

				dummy = npgw_k8s_cluster_take_policy(c, p->namespace, p->name);
			}
			free_obj(e->kind, e->in);
		} else if (e->old != NULL) {
			/* a removal: put it back (the array had room for it:
			 * realloc to the size a block had does not fail) */
			if (e->kind == K_NS)
				npgw_k8s_cluster_put_namespace(c, e->old,
							       (struct npgw_k8s_namespace **)&dummy);
			else if (e->kind == K_POD)
				npgw_k8s_cluster_put_pod(c, e->old, (struct npgw_k8s_pod **)&dummy);
			else
				npgw_k8s_cluster_put_policy(c, e->old,
							    (struct npgw_k8s_policy **)&dummy);
		}
	}
	if (u->replaced != NULL && u->replace_mark >= mark) {
		struct npgw_k8s_cluster tmp = *c; /* empty again */

		*c = *u->replaced;
		*u->replaced = tmp;
		npgw_k8s_cluster_free(u->replaced);
		u->replaced = NULL;
	}
}

void npgw_state_undo_rollback(struct npgw_k8s_cluster *c, struct npgw_state_undo *u)
{
	npgw_state_undo_to(c, u, 0);
	npgw_state_undo_clear(u);
}

void npgw_state_undo_commit(struct npgw_state_undo *u)
{
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].kind == K_ARRAY) {
			free(((struct saved_array *)u->v[i].in)->v); /* the objects live on */
			free(u->v[i].in);
		} else {
			free_obj(u->v[i].kind, u->v[i].old);
		}
	}
	npgw_k8s_cluster_free(u->replaced);
	u->replaced = NULL;
	u->n = 0;
}

void npgw_state_undo_clear(struct npgw_state_undo *u)
{
	free(u->v);
	npgw_k8s_cluster_free(u->replaced);
	memset(u, 0, sizeof(*u));
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

static bool in_set(void *const *v, size_t n, const void *p)
{
	return n > 0 && bsearch(&p, v, n, sizeof(*v), ptr_cmp) != NULL;
}

int npgw_state_undo_pods(const struct npgw_state_undo *u, const struct npgw_k8s_pod ***removed,
			 size_t *n_removed, const struct npgw_k8s_pod ***added, size_t *n_added)
{
	void **ins = NULL, **olds = NULL;
	size_t ni = 0, no = 0;
	int rc = 1;

	*removed = NULL;
	*added = NULL;
	*n_removed = *n_added = 0;
	if (u->replaced != NULL)
		return 1;
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].kind != K_POD && u->v[i].kind != K_ARRAY)
			return 1;
	ins = malloc((u->n + 1) * sizeof(*ins));
	olds = malloc((u->n + 1) * sizeof(*olds));
	*removed = malloc((u->n + 1) * sizeof(**removed));
	*added = malloc((u->n + 1) * sizeof(**added));
	if (ins == NULL || olds == NULL || *removed == NULL || *added == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].kind == K_ARRAY)
			continue;
		if (u->v[i].in)
			ins[ni++] = u->v[i].in;
		if (u->v[i].old)
			olds[no++] = u->v[i].old;
	}
	qsort(ins, ni, sizeof(*ins), ptr_cmp);
	qsort(olds, no, sizeof(*olds), ptr_cmp);
	/* removed: displaced pods that were there before the changes (not put
	 * by an earlier one); added: pods put and not displaced later */
	for (size_t i = 0; i < u->n; i++) {
		if (u->v[i].kind == K_ARRAY)
			continue;
		if (u->v[i].old && !in_set(ins, ni, u->v[i].old))
			(*removed)[(*n_removed)++] = u->v[i].old;
		if (u->v[i].in && !in_set(olds, no, u->v[i].in))
			(*added)[(*n_added)++] = u->v[i].in;
	}
	rc = 0;
out:
	free(ins);
	free(olds);
	if (rc != 0) {
		free(*removed);
		free(*added);
		*removed = *added = NULL;
		*n_removed = *n_added = 0;
	}
	return rc;
}
