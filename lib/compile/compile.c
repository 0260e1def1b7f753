/*
 * compile.c: cluster model -> rule set (address classes + class-pair ACL
 * rules). See npgw_compile.h for what the output means.
 *
 * The steps:
 *  1. Columns. Every policy gives a "selected by" column; every pod or
 *     namespace selector peer gives a "matched by" column (identical peers
 *     share one); every distinct ipBlock gives a membership column; every
 *     named port (name, protocol) a rule uses gives a resolved-number column.
 *  2. Pods with the same namespace, labels and named-port numbers form a
 *     group; each group's selector columns are evaluated once, so the cost
 *     is groups x columns, not pods x columns. A group's column values are
 *     its behaviour; groups with the same behaviour share it.
 *  3. An address's class is (behaviour, ipBlock memberships). Pod addresses
 *     get host entries; every cidr and except boundary is a prefix entry,
 *     and the memberships are constant over the addresses whose longest
 *     matching boundary is that prefix, so longest-prefix match is exact.
 *  4. Classes are numbered in order of (namespace of their first pod,
 *     signature), so that a namespace's classes lie next to each other and
 *     "every pod of namespace N" is one id range.
 *  5. Each rule of each policy becomes (src class ranges) x (dst class
 *     ranges) x ports ACL rules; each isolated class a default deny.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile_private.h"
#include "npgw_compile.h"

/* ---- step 1: columns ---- */

/* Append the canonical text of a selector to a growing buffer. Labels and
 * expression values are sorted in the model, so equal selectors give equal
 * text (up to expression order, which only costs a shared column). */
static int sel_key(char **buf, size_t *len, size_t *cap, const struct npgw_k8s_selector *s)
{
	size_t need = *len + 8;

	for (size_t i = 0; i < s->match_labels.n; i++)
		need += strlen(s->match_labels.v[i].key) + strlen(s->match_labels.v[i].value) + 2;
	for (size_t i = 0; i < s->n_exprs; i++) {
		need += strlen(s->exprs[i].key) + 3;
		for (size_t j = 0; j < s->exprs[i].n_values; j++)
			need += strlen(s->exprs[i].values[j]) + 1;
	}
	if (grow((void **)buf, cap, need, 1) < 0)
		return -ENOMEM;
	char *p = *buf + *len;
	for (size_t i = 0; i < s->match_labels.n; i++)
		p += sprintf(p, "%s=%s", s->match_labels.v[i].key, s->match_labels.v[i].value) + 1;
	*p++ = '\1';
	for (size_t i = 0; i < s->n_exprs; i++) {
		p += sprintf(p, "%s%c", s->exprs[i].key, '0' + s->exprs[i].op) + 1;
		for (size_t j = 0; j < s->exprs[i].n_values; j++)
			p += sprintf(p, "%s", s->exprs[i].values[j]) + 1;
		*p++ = '\2';
	}
	*p++ = '\3';
	*len = (size_t)(p - *buf);
	return 0;
}

static int add_selector_peer(struct ctx *x, const struct npgw_k8s_policy *pol,
			     const struct npgw_k8s_peer *peer, struct peer_ref *ref)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	bool added;
	int64_t id;
	int rc = 0;

	/* Without a namespace selector the peer is scoped to the policy's
	 * namespace: that is part of its identity. */
	if (grow((void **)&buf, &cap, strlen(pol->namespace) + 4, 1) < 0)
		return -ENOMEM;
	len = (size_t)sprintf(buf, "%c%s", peer->has_ns_selector ? 'N' : 'S',
			      peer->has_ns_selector ? "" : pol->namespace) + 1;
	buf[len++] = peer->has_pod_selector ? 'P' : '-';
	if (peer->has_pod_selector && sel_key(&buf, &len, &cap, &peer->pod_selector) < 0)
		rc = -ENOMEM;
	if (rc == 0 && peer->has_ns_selector && sel_key(&buf, &len, &cap, &peer->ns_selector) < 0)
		rc = -ENOMEM;
	if (rc == 0) {
		id = intern_put(&x->peer_keys, buf, (uint32_t)len, &added);
		if (id < 0) {
			rc = -ENOMEM;
		} else if (added) {
			if (grow((void **)&x->cols, &x->cols_cap, (size_t)id + 1,
				 sizeof(*x->cols)) < 0)
				rc = -ENOMEM;
			else
				x->cols[id] = (struct sel_col){.policy = pol, .peer = peer};
		}
		if (rc == 0)
			ref->col = (int32_t)(x->n_pol + (uint32_t)id);
	}
	free(buf);
	return rc;
}

static int add_block_peer(struct ctx *x, const struct npgw_k8s_peer *peer, struct peer_ref *ref)
{
	size_t n = 1 + peer->n_except;
	struct npgw_prefix *key = calloc(n, sizeof(*key));
	bool added;
	int64_t id;

	if (key == NULL)
		return -ENOMEM;
	key[0] = peer->cidr;
	if (peer->n_except > 0)
		memcpy(key + 1, peer->except, peer->n_except * sizeof(*key));
	id = intern_put(&x->block_keys, key, (uint32_t)(n * sizeof(*key)), &added);
	free(key);
	if (id < 0)
		return -ENOMEM;
	if (added) {
		if (grow((void **)&x->blocks, &x->blocks_cap, (size_t)id + 1, sizeof(*x->blocks)) < 0)
			return -ENOMEM;
		x->blocks[id] = peer;
		x->n_blocks = (size_t)id + 1;
	}
	ref->block = (int32_t)id;
	return 0;
}

static int add_named(struct ctx *x, const struct npgw_k8s_port *pt)
{
	for (size_t i = 0; i < x->n_names; i++)
		if (x->names[i].proto == pt->protocol && strcmp(x->names[i].name, pt->name) == 0)
			return 0;
	if (grow((void **)&x->names, &x->names_cap, x->n_names + 1, sizeof(*x->names)) < 0)
		return -ENOMEM;
	x->names[x->n_names] = (struct named){.name = pt->name, .proto = pt->protocol, .slot = 0};
	x->n_names++;
	return 0;
}

static int collect_rule(struct ctx *x, const struct npgw_k8s_policy *pol,
			const struct npgw_k8s_rule *r)
{
	for (size_t k = 0; k < r->n_peers; k++) {
		const struct npgw_k8s_peer *peer = &r->peers[k];
		struct peer_ref ref = {.col = -1, .block = -1};
		int rc;

		if (peer->has_ip_block)
			rc = add_block_peer(x, peer, &ref);
		else
			rc = add_selector_peer(x, pol, peer, &ref);
		if (rc < 0)
			return rc;
		if (grow((void **)&x->peers, &x->peers_cap, x->n_peers + 1, sizeof(*x->peers)) < 0)
			return -ENOMEM;
		x->peers[x->n_peers++] = ref;
	}
	for (size_t k = 0; k < r->n_ports; k++)
		if (r->ports[k].name != NULL && add_named(x, &r->ports[k]) < 0)
			return -ENOMEM;
	return 0;
}

/* The distinct numbers pod gives (name, proto), ascending, at most max;
 * the count of them (which may exceed max). */
static unsigned int named_values(const struct npgw_k8s_pod *pod, const char *name, uint8_t proto,
				 uint16_t *v, unsigned int max)
{
	unsigned int n = 0, all = 0;

	for (size_t i = 0; i < pod->n_ports; i++) {
		const struct npgw_k8s_container_port *cp = &pod->ports[i];
		unsigned int j;
		bool dup = false;

		if (cp->name == NULL || cp->protocol != proto || strcmp(cp->name, name) != 0)
			continue;
		for (j = 0; j < n; j++)
			dup |= v[j] == cp->port;
		if (dup)
			continue;
		all++;
		if (n == max)
			continue;
		/* insert sorted */
		for (j = n; j > 0 && v[j - 1] > cp->port; j--)
			v[j] = v[j - 1];
		v[j] = cp->port;
		n++;
	}
	return all;
}

#define NAMED_MAX_SLOTS 16 /* distinct numbers of one name in one pod */

/* One more slot column for every extra number a pod gives a used name. */
static int add_named_slots(struct ctx *x)
{
	size_t n = x->n_names;

	for (size_t i = 0; i < n; i++) {
		unsigned int most = 1;

		for (size_t p = 0; p < x->in->n_pods; p++) {
			uint16_t v[NAMED_MAX_SLOTS];
			unsigned int k = named_values(x->in->pods[p], x->names[i].name,
						      x->names[i].proto, v, NAMED_MAX_SLOTS);

			most = NPGW_MAX(most, NPGW_MIN(k, NAMED_MAX_SLOTS));
		}
		for (unsigned int s = 1; s < most; s++) {
			if (grow((void **)&x->names, &x->names_cap, x->n_names + 1,
				 sizeof(*x->names)) < 0)
				return -ENOMEM;
			x->names[x->n_names] = x->names[i];
			x->names[x->n_names].slot = (uint8_t)s;
			x->n_names++;
		}
	}
	return 0;
}

bool compile_named_fits(const struct ctx *x, const struct npgw_k8s_pod *pod)
{
	for (size_t i = 0; i < x->n_names; i++) {
		uint16_t v[NAMED_MAX_SLOTS];
		unsigned int slots = 0;

		if (x->names[i].slot != 0)
			continue;
		for (size_t j = 0; j < x->n_names; j++)
			slots += x->names[j].proto == x->names[i].proto &&
				 strcmp(x->names[j].name, x->names[i].name) == 0;
		if (named_values(pod, x->names[i].name, x->names[i].proto, v, NAMED_MAX_SLOTS) >
		    slots)
			return false;
	}
	return true;
}

static int collect_columns(struct ctx *x)
{
	const struct npgw_k8s_cluster *c = x->c;

	x->n_pol = (uint32_t)c->n_policies;
	for (size_t p = 0; p < c->n_policies; p++) {
		const struct npgw_k8s_policy *pol = c->policies[p];

		for (size_t r = 0; r < pol->n_egress; r++)
			if (collect_rule(x, pol, &pol->egress[r]) < 0)
				return -ENOMEM;
		for (size_t r = 0; r < pol->n_ingress; r++)
			if (collect_rule(x, pol, &pol->ingress[r]) < 0)
				return -ENOMEM;
	}
	if (add_named_slots(x) < 0)
		return -ENOMEM;
	x->n_cols = x->n_pol + x->peer_keys.n;
	x->vec_words = BITS_WORDS(x->n_cols);
	x->ip_words = BITS_WORDS(x->n_blocks);
	x->beh_len = x->vec_words * 8 + x->n_names * 2;
	x->class_len = 8 + x->ip_words * 8;
	x->scratch = calloc(NPGW_MAX(x->beh_len, x->class_len) / 8 + 2, 8);
	return x->scratch ? 0 : -ENOMEM;
}

/* ---- step 2: pod groups and behaviours ---- */

/* The number a pod gives a named port's slot, 0 when none. */
static uint16_t resolve_named(const struct npgw_k8s_pod *pod, const struct named *n)
{
	uint16_t v[NAMED_MAX_SLOTS];
	unsigned int k = named_values(pod, n->name, n->proto, v, NAMED_MAX_SLOTS);

	return n->slot < NPGW_MIN(k, NAMED_MAX_SLOTS) ? v[n->slot] : 0;
}

static bool peer_matches(const struct npgw_k8s_policy *pol, const struct npgw_k8s_peer *peer,
			 const struct npgw_k8s_pod *pod, const struct npgw_k8s_labels *ns_labels)
{
	if (peer->has_ns_selector) {
		if (!npgw_k8s_selector_matches(&peer->ns_selector, ns_labels))
			return false;
	} else if (strcmp(pod->namespace, pol->namespace) != 0) {
		return false;
	}
	return !peer->has_pod_selector ||
	       npgw_k8s_selector_matches(&peer->pod_selector, &pod->labels);
}

/* The behaviour key of a pod: its column bits and named-port numbers. */
void compile_behaviour_key(struct ctx *x, const struct npgw_k8s_pod *pod, uint8_t *key)
{
	uint64_t *vec = (uint64_t *)key;
	uint16_t *ports = (uint16_t *)(key + x->vec_words * 8);
	struct npgw_k8s_label tmp;
	struct npgw_k8s_labels tmp_set;
	const struct npgw_k8s_labels *ns_labels =
		npgw_k8s_namespace_labels(x->c, pod->namespace, &tmp, &tmp_set);

	memset(key, 0, x->beh_len);
	for (uint32_t p = 0; p < x->n_pol; p++) {
		const struct npgw_k8s_policy *pol = x->c->policies[p];

		if (pol->tier != NPGW_K8S_TIER_NETPOL) {
			/* a tier policy's subject: namespaces and pods anywhere */
			if (npgw_k8s_policy_selects(pol, pod, ns_labels))
				bit_set(vec, p);
		} else if (strcmp(pol->namespace, pod->namespace) == 0 &&
			   npgw_k8s_selector_matches(&pol->pod_selector, &pod->labels)) {
			bit_set(vec, p);
		}
	}
	for (uint32_t i = 0; i < x->peer_keys.n; i++)
		if (peer_matches(x->cols[i].policy, x->cols[i].peer, pod, ns_labels))
			bit_set(vec, x->n_pol + i);
	for (size_t i = 0; i < x->n_names; i++)
		ports[i] = resolve_named(pod, &x->names[i]);
}

/* The group key of a pod: what its behaviour depends on. */
int compile_group_key(struct ctx *x, const struct npgw_k8s_pod *pod, char **buf, size_t *cap,
		      size_t *len)
{
	size_t need = strlen(pod->namespace) + 2 + x->n_names * 2;
	char *p;

	for (size_t i = 0; i < pod->labels.n; i++)
		need += strlen(pod->labels.v[i].key) + strlen(pod->labels.v[i].value) + 2;
	if (grow((void **)buf, cap, need, 1) < 0)
		return -ENOMEM;
	p = *buf;
	p += sprintf(p, "%s", pod->namespace) + 1;
	for (size_t i = 0; i < pod->labels.n; i++)
		p += sprintf(p, "%s=%s", pod->labels.v[i].key, pod->labels.v[i].value) + 1;
	for (size_t i = 0; i < x->n_names; i++) {
		uint16_t v = resolve_named(pod, &x->names[i]);

		memcpy(p, &v, 2);
		p += 2;
	}
	*len = (size_t)(p - *buf);
	return 0;
}

/* The behaviour id of a pod, computing it once per group. */
static int64_t pod_behaviour(struct ctx *x, const struct npgw_k8s_pod *pod, char **buf,
			     size_t *cap)
{
	size_t len;
	bool added;
	int64_t g, b;

	if (compile_group_key(x, pod, buf, cap, &len) < 0)
		return -1;
	g = intern_put(&x->groups, *buf, (uint32_t)len, &added);
	if (g < 0)
		return -1;
	if (!added)
		return x->group_beh[g];
	compile_behaviour_key(x, pod, (uint8_t *)x->scratch);
	b = intern_put(&x->behaviours, x->scratch, (uint32_t)x->beh_len, &added);
	if (b < 0 || grow((void **)&x->group_beh, &x->group_beh_cap, (size_t)g + 1,
			  sizeof(*x->group_beh)) < 0)
		return -1;
	x->group_beh[g] = (uint32_t)b;
	return b;
}

/* ---- step 3: classes and stage-1 entries ---- */

static bool block_has_addr(const struct npgw_k8s_peer *b, const struct npgw_addr *a)
{
	if (!npgw_prefix_contains(&b->cidr, a))
		return false;
	for (size_t i = 0; i < b->n_except; i++)
		if (npgw_prefix_contains(&b->except[i], a))
			return false;
	return true;
}

static bool block_has_region(const struct npgw_k8s_peer *b, const struct npgw_prefix *r)
{
	if (!npgw_prefix_covers(&b->cidr, r))
		return false;
	for (size_t i = 0; i < b->n_except; i++)
		if (npgw_prefix_covers(&b->except[i], r))
			return false;
	return true;
}

/* The ipBlock memberships of an address, into the class key in scratch. */
static void addr_ipvec(struct ctx *x, const struct npgw_addr *a)
{
	uint64_t *ipvec = x->scratch + 1;

	memset(ipvec, 0, x->ip_words * 8);
	for (size_t b = 0; b < x->n_blocks; b++)
		if (block_has_addr(x->blocks[b], a))
			bit_set(ipvec, (uint32_t)b);
}

void compile_host_prefix(const struct npgw_addr *a, struct npgw_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr = *a;
	p->len = a->family == 4 ? 32 : 128;
}

/* Complete the class key in scratch (the ipvec is there): behaviour first. */
static void class_key_head(struct ctx *x, uint32_t beh)
{
	uint8_t *key = (uint8_t *)x->scratch;

	memcpy(key, &beh, 4);
	memset(key + 4, 0, 4);
}

void compile_class_key(struct ctx *x, uint32_t beh, const struct npgw_addr *a)
{
	addr_ipvec(x, a);
	class_key_head(x, beh);
}

/* Intern the class (behaviour, ipvec in scratch) and note a member. */
static int64_t put_class(struct ctx *x, uint32_t beh, const char *ns_key, const char *example,
			 bool is_pod)
{
	uint8_t *key = (uint8_t *)x->scratch;
	bool added;
	int64_t id;

	class_key_head(x, beh);
	id = intern_put(&x->classes, key, (uint32_t)x->class_len, &added);
	if (id < 0)
		return -1;
	if (added) {
		struct class_info *ci;

		if (grow((void **)&x->cinfo, &x->cinfo_cap, (size_t)id + 1, sizeof(*x->cinfo)) < 0)
			return -1;
		ci = &x->cinfo[id];
		memset(ci, 0, sizeof(*ci));
		ci->tmp_id = (uint32_t)id;
		ci->behaviour = beh;
		ci->ns_key = ns_key;
		ci->example = strdup(example);
		if (ci->example == NULL)
			return -1;
	}
	if (is_pod)
		x->cinfo[id].n_pod_addrs++;
	else
		x->cinfo[id].region = true;
	return id;
}

static int add_stage1(struct ctx *x, const struct npgw_prefix *p, uint32_t cls)
{
	if (grow((void **)&x->stage1, &x->stage1_cap, x->n_stage1 + 1, sizeof(*x->stage1)) < 0)
		return -ENOMEM;
	x->stage1[x->n_stage1].prefix = *p;
	x->stage1[x->n_stage1].class_id = cls;
	x->n_stage1++;
	return 0;
}

static int cmp_prefix_ptr(const void *a, const void *b)
{
	return npgw_prefix_cmp(a, b);
}

/* Every cidr and except boundary, and /0 of both families, is a region. */
static int add_regions(struct ctx *x, uint32_t zero_beh)
{
	size_t n = 2, cap = 0;
	struct npgw_prefix *v = NULL;
	char ex[64];
	int rc = 0;

	for (size_t b = 0; b < x->n_blocks; b++)
		n += 1 + x->blocks[b]->n_except;
	if (grow((void **)&v, &cap, n, sizeof(*v)) < 0)
		return -ENOMEM;
	memset(v, 0, n * sizeof(*v));
	n = 0;
	v[n++].addr.family = 4;
	v[n++].addr.family = 6;
	for (size_t b = 0; b < x->n_blocks; b++) {
		v[n++] = x->blocks[b]->cidr;
		for (size_t i = 0; i < x->blocks[b]->n_except; i++)
			v[n++] = x->blocks[b]->except[i];
	}
	qsort(v, n, sizeof(*v), cmp_prefix_ptr);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t *ipvec = x->scratch + 1;
		int64_t cls;

		if (i > 0 && npgw_prefix_cmp(&v[i - 1], &v[i]) == 0)
			continue;
		memset(ipvec, 0, x->ip_words * 8);
		for (size_t b = 0; b < x->n_blocks; b++)
			if (block_has_region(x->blocks[b], &v[i]))
				bit_set(ipvec, (uint32_t)b);
		cls = put_class(x, zero_beh, "", npgw_prefix_format(&v[i], ex, sizeof(ex)), false);
		if (cls < 0) {
			rc = -ENOMEM;
		} else if (v[i].len == 0) {
			x->have_default[v[i].addr.family == 6] = true;
			x->default_class[v[i].addr.family == 6] = (uint32_t)cls;
		} else {
			rc = add_stage1(x, &v[i], (uint32_t)cls);
		}
	}
	free(v);
	return rc;
}

static int add_pods(struct ctx *x)
{
	char *buf = NULL, ex[512];
	size_t cap = 0;
	int rc = 0;

	for (size_t i = 0; i < x->in->n_pods && rc == 0; i++) {
		const struct npgw_k8s_pod *pod = x->in->pods[i];
		int64_t beh;

		if (!npgw_k8s_pod_is_policy_target(pod) || pod->n_addrs == 0)
			continue;
		if (strchr(pod->namespace, '/') != NULL)
			x->plain_names = false;
		beh = pod_behaviour(x, pod, &buf, &cap);
		if (beh < 0) {
			rc = -ENOMEM;
			break;
		}
		snprintf(ex, sizeof(ex), "%s/%s", pod->namespace, pod->name);
		for (size_t a = 0; a < pod->n_addrs && rc == 0; a++) {
			struct npgw_prefix host;
			int64_t cls;

			compile_host_prefix(&pod->addrs[a], &host);
			addr_ipvec(x, &pod->addrs[a]);
			cls = put_class(x, (uint32_t)beh, pod->namespace, ex, true);
			rc = cls < 0 ? -ENOMEM
				     : add_stage1(x, &host, (uint32_t)cls | STAGE1_POD_ENTRY);
		}
	}
	free(buf);
	return rc;
}

/* ---- step 4: numbering ---- */

static const struct ctx *sort_ctx; /* qsort has no context argument */

static int cmp_class(const void *a, const void *b)
{
	const struct class_info *ca = *(struct class_info *const *)a;
	const struct class_info *cb = *(struct class_info *const *)b;
	int c = strcmp(ca->ns_key, cb->ns_key);

	if (c)
		return c;
	c = memcmp(intern_str(&sort_ctx->behaviours, ca->behaviour),
		   intern_str(&sort_ctx->behaviours, cb->behaviour), sort_ctx->beh_len);
	if (c)
		return c;
	return memcmp(intern_str(&sort_ctx->classes, ca->tmp_id) + 8,
		      intern_str(&sort_ctx->classes, cb->tmp_id) + 8, sort_ctx->ip_words * 8);
}

/* Orders by prefix, then region entries before pod host entries of the
 * same prefix (STAGE1_POD_ENTRY is the high bit of the class id). */
static int cmp_stage1(const void *a, const void *b)
{
	const struct npgw_compile_stage1 *sa = a, *sb = b;
	int c = npgw_prefix_cmp(&sa->prefix, &sb->prefix);

	if (c)
		return c;
	return sa->class_id < sb->class_id ? -1 : sa->class_id > sb->class_id;
}

static int number_classes(struct ctx *x)
{
	struct npgw_compile_result *res = x->res;
	size_t n = 0;

	x->n_classes = x->classes.n;
	if (x->n_classes >= NPGW_COMPILE_MAX_CLASSES)
		return -E2BIG;
	x->by_final = calloc(x->n_classes, sizeof(*x->by_final));
	x->final_of_tmp = calloc(x->n_classes, sizeof(*x->final_of_tmp));
	res->classes = calloc(x->n_classes, sizeof(*res->classes));
	x->has_region = calloc(x->n_classes ? x->n_classes : 1, 1);
	if (!x->by_final || !x->final_of_tmp || !res->classes || !x->has_region)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->n_classes; i++) {
		x->cinfo[i].ipvec = (const uint64_t *)(intern_str(&x->classes, i) + 8);
		x->by_final[i] = &x->cinfo[i];
	}
	sort_ctx = x;
	qsort(x->by_final, x->n_classes, sizeof(*x->by_final), cmp_class);
	sort_ctx = NULL;
	for (uint32_t f = 0; f < x->n_classes; f++) {
		struct class_info *ci = x->by_final[f];
		const uint64_t *vec = (const uint64_t *)intern_str(&x->behaviours, ci->behaviour);
		struct npgw_compile_class *rc = &res->classes[f];

		x->final_of_tmp[ci->tmp_id] = f;
		x->has_region[f] = ci->region;
		rc->n_pod_addrs = ci->n_pod_addrs;
		rc->example = ci->example;
		ci->example = NULL;
		rc->isolated_ingress_by = -1;
		rc->isolated_egress_by = -1;
		for (uint32_t p = 0; p < x->n_pol; p++) {
			if (!bit_get(vec, p))
				continue;
			if (rc->isolated_ingress_by < 0 && x->c->policies[p]->isolates_ingress)
				rc->isolated_ingress_by = (int32_t)p;
			if (rc->isolated_egress_by < 0 && x->c->policies[p]->isolates_egress)
				rc->isolated_egress_by = (int32_t)p;
		}
	}
	res->n_classes = x->n_classes;
	res->default_class4 = x->final_of_tmp[x->default_class[0]];
	res->default_class6 = x->final_of_tmp[x->default_class[1]];

	/* Stage 1: renumber, sort, and let a pod's host entry win over an
	 * ipBlock boundary of the same prefix (an except that is exactly a pod
	 * address): the pod's class already carries the ipBlock memberships.
	 * Which entry is the pod's is marked on the entry itself; the class
	 * cannot tell, since a region may share its class with other pods. */
	for (size_t i = 0; i < x->n_stage1; i++) {
		uint32_t pod = x->stage1[i].class_id & STAGE1_POD_ENTRY;

		x->stage1[i].class_id = x->final_of_tmp[x->stage1[i].class_id & ~STAGE1_POD_ENTRY] | pod;
	}
	if (x->n_stage1 > 0)
		qsort(x->stage1, x->n_stage1, sizeof(*x->stage1), cmp_stage1);
	/* the host-length region entries, for npgw_compile_update_pods */
	x->regions = calloc(x->n_stage1 ? x->n_stage1 : 1, sizeof(*x->regions));
	if (x->regions == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < x->n_stage1; i++) {
		const struct npgw_compile_stage1 *e = &x->stage1[i];

		if (!(e->class_id & STAGE1_POD_ENTRY) &&
		    e->prefix.len == (e->prefix.addr.family == 4 ? 32 : 128))
			x->regions[x->n_regions++] = *e;
	}
	for (size_t i = 0; i < x->n_stage1; i++) {
		/* the last of equal prefixes is the pod's, if there is one */
		if (n > 0 && npgw_prefix_cmp(&x->stage1[n - 1].prefix, &x->stage1[i].prefix) == 0)
			n--;
		x->stage1[n++] = x->stage1[i];
	}
	for (size_t i = 0; i < n; i++)
		x->stage1[i].class_id &= ~STAGE1_POD_ENTRY;
	res->stage1 = x->stage1;
	res->n_stage1 = n;
	x->stage1 = NULL;
	return 0;
}

/* ---- step 5: rules ---- */

/* A set of classes, as a bitmap over final class ids. */
struct cset {
	uint64_t *w;
	size_t n_words;
};

static int cset_init(struct cset *s, uint32_t n_classes)
{
	s->n_words = BITS_WORDS(n_classes) ? BITS_WORDS(n_classes) : 1;
	s->w = calloc(s->n_words, 8);
	return s->w ? 0 : -ENOMEM;
}

static bool cset_empty(const struct cset *s)
{
	for (size_t i = 0; i < s->n_words; i++)
		if (s->w[i])
			return false;
	return true;
}

/* The runs of consecutive ids in s, as [lo, hi] pairs; *n_runs pairs. */
static int cset_runs(const struct cset *s, uint32_t n_classes, uint32_t **runs, size_t *n_runs)
{
	size_t cap = 0, n = 0;
	uint32_t *v = NULL;

	for (uint32_t i = 0; i < n_classes;) {
		uint32_t j;

		if (!bit_get(s->w, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n_classes && bit_get(s->w, j + 1); j++)
			;
		if (grow((void **)&v, &cap, n * 2 + 2, sizeof(*v)) < 0) {
			free(v);
			return -ENOMEM;
		}
		v[n * 2] = i;
		v[n * 2 + 1] = j;
		n++;
		i = j + 1;
	}
	*runs = v;
	*n_runs = n;
	return 0;
}

static int add_meta(struct ctx *x, uint8_t action, uint8_t dir, uint32_t policy, int32_t rule)
{
	struct npgw_compile_result *res = x->res;
	const struct npgw_k8s_policy *pol = x->c->policies[policy];
	size_t cap = x->metas_cap_;
	struct npgw_compile_meta *m;

	if (grow((void **)&res->metas, &cap, res->n_metas + 1, sizeof(*res->metas)) < 0)
		return -ENOMEM;
	x->metas_cap_ = (uint32_t)cap;
	m = &res->metas[res->n_metas];
	memset(m, 0, sizeof(*m));
	m->action = action;
	m->dir = dir;
	m->policy = policy;
	m->rule = rule;
	m->tier = pol->tier;
	m->kind = pol->kind;
	m->priority = pol->priority;
	if (rule >= 0) {
		const char *rn = (dir == NPGW_COMPILE_INGRESS ? pol->ingress : pol->egress)[rule].name;

		if (rn != NULL && (m->rule_name = strdup(rn)) == NULL)
			return -ENOMEM;
	}
	m->policy_ns = strdup(pol->namespace);
	m->policy_name = strdup(pol->name);
	if (pol->origin.file != NULL)
		m->file = strdup(pol->origin.file);
	if (rule >= 0)
		m->line = (dir == NPGW_COMPILE_INGRESS ? pol->ingress : pol->egress)[rule].line;
	else
		m->line = pol->origin.line;
	res->n_metas++;
	if (m->policy_ns == NULL || m->policy_name == NULL ||
	    (pol->origin.file != NULL && m->file == NULL))
		return -ENOMEM;
	return (int)res->n_metas; /* userdata: index + 1 */
}

struct emit {
	uint8_t proto;
	uint8_t proto_mask;
	uint16_t port_lo, port_hi;
	uint32_t src_bits, dst_bits;
	uint32_t categories;
	uint32_t priority;
	uint32_t userdata;
};

static int emit_rules(struct ctx *x, const struct cset *src, const struct cset *dst,
		      const struct emit *e)
{
	struct npgw_compile_result *res = x->res;
	uint32_t *sr = NULL, *dr = NULL;
	size_t ns = 0, nd = 0;
	int rc;

	rc = cset_runs(src, x->n_classes, &sr, &ns);
	if (rc == 0)
		rc = cset_runs(dst, x->n_classes, &dr, &nd);
	if (rc == 0 && res->n_rules + ns * nd > NPGW_COMPILE_MAX_RULES)
		rc = -E2BIG;
	if (rc == 0 &&
	    grow((void **)&res->rules, &x->rules_cap, res->n_rules + ns * nd, sizeof(*res->rules)) < 0)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < ns; i++) {
		for (size_t j = 0; j < nd; j++) {
			struct npgw_compile_rule *r = &res->rules[res->n_rules++];

			memset(r, 0, sizeof(*r));
			r->proto = e->proto;
			r->proto_mask = e->proto_mask;
			r->port_lo = e->port_lo;
			r->port_hi = e->port_hi;
			r->src_lo = sr[i * 2];
			r->src_hi = sr[i * 2 + 1];
			r->dst_lo = dr[j * 2];
			r->dst_hi = dr[j * 2 + 1];
			r->src_bits = e->src_bits;
			r->dst_bits = e->dst_bits;
			r->categories = e->categories;
			r->priority = e->priority;
			r->userdata = e->userdata;
		}
	}
	free(sr);
	free(dr);
	return rc;
}

/* The classes a column holds (policy selection or selector peer). */
static void cset_of_col(const struct ctx *x, uint32_t col, struct cset *out)
{
	for (uint32_t f = 0; f < x->n_classes; f++) {
		const uint64_t *vec =
			(const uint64_t *)intern_str(&x->behaviours, x->by_final[f]->behaviour);

		if (bit_get(vec, col))
			bit_set(out->w, f);
	}
}

static void cset_of_block(const struct ctx *x, uint32_t block, struct cset *out)
{
	for (uint32_t f = 0; f < x->n_classes; f++)
		if (bit_get(x->by_final[f]->ipvec, block))
			bit_set(out->w, f);
}

static uint16_t class_named_port(const struct ctx *x, uint32_t f, size_t name)
{
	const uint8_t *k = intern_str(&x->behaviours, x->by_final[f]->behaviour);
	uint16_t v;

	memcpy(&v, k + x->vec_words * 8 + name * 2, 2);
	return v;
}


/* The peer id of a peer reference: its selector column, or n_cols + its
 * ipBlock. */
static uint32_t peer_id(const struct ctx *x, const struct peer_ref *ref)
{
	return ref->col >= 0 ? (uint32_t)ref->col : x->n_cols + (uint32_t)ref->block;
}

static void cset_of_peer(const struct ctx *x, uint32_t id, struct cset *out)
{
	if (id < x->n_cols)
		cset_of_col(x, id, out);
	else
		cset_of_block(x, id - x->n_cols, out);
}

static uint32_t cset_count_runs(const struct cset *s, uint32_t n_classes)
{
	uint32_t runs = 0;

	for (uint32_t i = 0; i < n_classes; i++)
		if (bit_get(s->w, i) && (i == 0 || !bit_get(s->w, i - 1)))
			runs++;
	return runs;
}

struct bit_cand {
	uint32_t id;
	uint32_t runs;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct bit_cand *ca = a, *cb = b;

	if (ca->runs != cb->runs)
		return ca->runs > cb->runs ? -1 : 1;
	return ca->id < cb->id ? -1 : ca->id > cb->id;
}

/*
 * Give a bit of class_bits to the peers whose classes are most scattered
 * over the id order (most runs), up to NPGW_COMPILE_MAX_BITS: a rule with
 * such a peer tests the bit instead of listing every run. Deterministic:
 * ties go to the lower peer id.
 */
static int assign_bits(struct ctx *x)
{
	uint32_t n_ids = x->n_cols + (uint32_t)x->n_blocks, n_cand = 0;
	struct bit_cand *cand = calloc(n_ids ? n_ids : 1, sizeof(*cand));
	bool *used = calloc(n_ids ? n_ids : 1, sizeof(*used));
	struct cset one;
	int rc = 0;

	x->bit_of = malloc((n_ids ? n_ids : 1) * sizeof(*x->bit_of));
	x->res->class_bits = calloc(x->n_classes ? x->n_classes : 1, sizeof(uint32_t));
	if (cand == NULL || used == NULL || x->bit_of == NULL || x->res->class_bits == NULL ||
	    cset_init(&one, x->n_classes) < 0) {
		free(cand);
		free(used);
		return -ENOMEM;
	}
	memset(x->bit_of, -1, (n_ids ? n_ids : 1) * sizeof(*x->bit_of));
	for (size_t i = 0; i < x->n_peers; i++)
		used[peer_id(x, &x->peers[i])] = true;
	for (uint32_t id = 0; id < n_ids; id++) {
		uint32_t runs;

		if (!used[id])
			continue;
		memset(one.w, 0, one.n_words * 8);
		cset_of_peer(x, id, &one);
		runs = cset_count_runs(&one, x->n_classes);
		if (runs >= NPGW_COMPILE_BIT_MIN_RUNS)
			cand[n_cand++] = (struct bit_cand){.id = id, .runs = runs};
	}
	qsort(cand, n_cand, sizeof(*cand), cmp_cand);
	for (uint32_t k = 0; k < n_cand && k < x->max_bits; k++) {
		x->bit_of[cand[k].id] = (int8_t)k;
		memset(one.w, 0, one.n_words * 8);
		cset_of_peer(x, cand[k].id, &one);
		for (uint32_t f = 0; f < x->n_classes; f++)
			if (bit_get(one.w, f))
				x->res->class_bits[f] |= 1u << k;
	}
	free(cand);
	free(used);
	free(one.w);
	return rc;
}

/* The ACL rules of one slot of a named port: the destination side (the
 * peers for egress, the selected pods for ingress) split by the number the
 * slot resolves to. part is scratch. */
static int emit_named_slot(struct ctx *x, bool egress, const struct cset *sel,
			   const struct cset *full, size_t name, struct cset *part, struct emit *e)
{
	const struct cset *dst = egress ? full : sel;
	uint32_t last = 0;

	for (;;) {
		uint32_t next = UINT32_MAX;
		int rc;

		for (uint32_t f = 0; f < x->n_classes; f++) {
			uint16_t v;

			if (!bit_get(dst->w, f))
				continue;
			v = class_named_port(x, f, name);
			if (v > last && v < next)
				next = v;
		}
		if (next == UINT32_MAX)
			return 0;
		memset(part->w, 0, part->n_words * 8);
		for (uint32_t f = 0; f < x->n_classes; f++)
			if (bit_get(dst->w, f) && class_named_port(x, f, name) == next)
				bit_set(part->w, f);
		e->port_lo = e->port_hi = (uint16_t)next;
		rc = egress ? emit_rules(x, sel, part, e) : emit_rules(x, full, part, e);
		if (rc < 0)
			return rc;
		last = next;
	}
}

/*
 * Emit one rule's ACL rules. sel: the classes the policy selects. The
 * rule's peers come as nonbit (the union of the peers without a bit, as
 * class ranges), bits (the peers with a bit: one ACL rule each, testing it)
 * and full (every peer's classes). For egress the selected side is the
 * source, for ingress the destination. A named port resolves against the
 * destination's class, so that side is split by the number it resolves to,
 * over the full peer set.
 */
static int emit_policy_rule(struct ctx *x, const struct npgw_k8s_rule *r, uint8_t dir,
			    const struct cset *sel, const struct cset *nonbit, uint32_t bits,
			    const struct cset *full, const struct cset *all, struct emit *e)
{
	bool egress = dir == NPGW_COMPILE_EGRESS;
	int rc = 0;

	for (size_t k = 0; k < (r->n_ports ? r->n_ports : 1) && rc == 0; k++) {
		const struct npgw_k8s_port *pt = r->n_ports ? &r->ports[k] : NULL;

		if (pt == NULL) { /* no ports: every protocol and port */
			e->proto = 0;
			e->proto_mask = 0;
			e->port_lo = 0;
			e->port_hi = UINT16_MAX;
		} else {
			e->proto = pt->protocol;
			e->proto_mask = 0xff;
		}
		if (pt == NULL || pt->name == NULL) {
			if (pt != NULL) {
				e->port_lo = pt->has_port ? pt->port : 0;
				e->port_hi = !pt->has_port ? UINT16_MAX
					     : pt->end_port ? pt->end_port
							    : pt->port;
			}
			if (!cset_empty(nonbit))
				rc = egress ? emit_rules(x, sel, nonbit, e) : emit_rules(x, nonbit, sel, e);
			for (uint32_t b = 0; b < NPGW_COMPILE_MAX_BITS && rc == 0; b++) {
				if (!(bits & (1u << b)))
					continue;
				if (egress)
					e->dst_bits = 1u << b;
				else
					e->src_bits = 1u << b;
				rc = egress ? emit_rules(x, sel, all, e) : emit_rules(x, all, sel, e);
				e->src_bits = e->dst_bits = 0;
			}
			continue;
		}
		/* Named: split the destination side by resolved number, for
		 * each slot of the name (a pod may give it several). */
		struct cset part;

		if (cset_init(&part, x->n_classes) < 0)
			return -ENOMEM;
		for (size_t name = 0; name < x->n_names && rc == 0; name++)
			if (x->names[name].proto == pt->protocol &&
			    strcmp(x->names[name].name, pt->name) == 0)
				rc = emit_named_slot(x, egress, sel, full, name, &part, e);
		free(part.w);
	}
	return rc;
}

/* The order of the tier policies: (tier, priority, cluster order), which
 * is (kind, name) (see npgw_k8s.h); rank[p] for each, others 0. */
static const struct ctx *rank_ctx;

static int cmp_tier_order(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct npgw_k8s_policy *p = rank_ctx->c->policies[i], *q = rank_ctx->c->policies[j];

	if (p->tier != q->tier)
		return p->tier < q->tier ? -1 : 1;
	if (p->priority != q->priority)
		return p->priority < q->priority ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int tier_ranks(struct ctx *x, uint32_t **out)
{
	uint32_t *order = calloc(x->n_pol ? x->n_pol : 1, sizeof(*order));
	uint32_t *rank = calloc(x->n_pol ? x->n_pol : 1, sizeof(*rank));
	uint32_t n = 0;

	if (order == NULL || rank == NULL) {
		free(order);
		free(rank);
		return -ENOMEM;
	}
	for (uint32_t p = 0; p < x->n_pol; p++)
		if (x->c->policies[p]->tier != NPGW_K8S_TIER_NETPOL)
			order[n++] = p;
	rank_ctx = x;
	qsort(order, n, sizeof(*order), cmp_tier_order);
	rank_ctx = NULL;
	for (uint32_t k = 0; k < n; k++)
		rank[order[k]] = k;
	free(order);
	*out = rank;
	/* every tier rule needs its own priority below the default deny */
	return (uint64_t)n * NPGW_COMPILE_TIER_RULES >= NPGW_COMPILE_PRIO_DENY - 1 ? -E2BIG : 0;
}

/* The category, ACL priority and action of rule r of tier policy p. */
static void tier_emit(const struct npgw_k8s_policy *pol, const struct npgw_k8s_rule *rule,
		      uint32_t rank, size_t r, bool egress, struct emit *e, uint8_t *action)
{
	uint32_t seq = rank * NPGW_COMPILE_TIER_RULES + (uint32_t)r;

	if (pol->tier == NPGW_K8S_TIER_ADMIN) {
		e->categories = 1u << (egress ? NPGW_COMPILE_CAT_ADMIN_EGRESS
					      : NPGW_COMPILE_CAT_ADMIN_INGRESS);
		e->priority = NPGW_COMPILE_PRIO_ALLOW_MAX - seq;
	} else {
		e->categories = 1u << (egress ? NPGW_COMPILE_CAT_EGRESS : NPGW_COMPILE_CAT_INGRESS);
		e->priority = NPGW_COMPILE_PRIO_DENY - 1 - seq;
	}
	*action = rule->action == NPGW_K8S_ACTION_DENY	 ? NPGW_COMPILE_DENY
		  : rule->action == NPGW_K8S_ACTION_PASS ? NPGW_COMPILE_PASS
							 : NPGW_COMPILE_ALLOW;
}

static int emit_allow(struct ctx *x)
{
	struct cset sel, nonbit, full, one, all;
	size_t peer_i = 0;
	uint32_t seq = 0, *rank = NULL;
	int rc;

	memset(&sel, 0, sizeof(sel));
	memset(&nonbit, 0, sizeof(nonbit));
	memset(&full, 0, sizeof(full));
	memset(&one, 0, sizeof(one));
	memset(&all, 0, sizeof(all));
	if (cset_init(&sel, x->n_classes) < 0 || cset_init(&nonbit, x->n_classes) < 0 ||
	    cset_init(&full, x->n_classes) < 0 || cset_init(&one, x->n_classes) < 0 ||
	    cset_init(&all, x->n_classes) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	memset(all.w, 0xff, all.n_words * 8);
	rc = tier_ranks(x, &rank);
	for (uint32_t p = 0; p < x->n_pol && rc == 0; p++) {
		const struct npgw_k8s_policy *pol = x->c->policies[p];

		memset(sel.w, 0, sel.n_words * 8);
		cset_of_col(x, p, &sel);
		for (int d = 0; d < 2 && rc == 0; d++) {
			uint8_t dir = d == 0 ? NPGW_COMPILE_EGRESS : NPGW_COMPILE_INGRESS;
			const struct npgw_k8s_rule *rules = d == 0 ? pol->egress : pol->ingress;
			size_t n_rules = d == 0 ? pol->n_egress : pol->n_ingress;
			/* Rules of a direction the policy does not isolate are
			 * ignored, as the API defines (and as the walk in
			 * collect_columns still counts their peers). */
			bool active = d == 0 ? pol->isolates_egress : pol->isolates_ingress;

			bool tier = pol->tier != NPGW_K8S_TIER_NETPOL;

			for (size_t r = 0; r < n_rules && rc == 0; r++) {
				struct emit e = {0};
				uint8_t action = NPGW_COMPILE_ALLOW;
				uint32_t bits = 0;
				int ud;

				if (tier) {
					tier_emit(pol, &rules[r], rank[p], r, d == 0, &e, &action);
				} else {
					e.categories = 1u << (d == 0 ? NPGW_COMPILE_CAT_EGRESS
								     : NPGW_COMPILE_CAT_INGRESS);
					e.priority = NPGW_COMPILE_PRIO_ALLOW_MAX - seq++;
				}
				ud = add_meta(x, action, dir, p, (int32_t)r);

				if (ud < 0) {
					rc = ud;
					break;
				}
				e.userdata = (uint32_t)ud;
				memset(nonbit.w, 0, nonbit.n_words * 8);
				memset(full.w, 0, full.n_words * 8);
				/* no peers: every peer in a NetworkPolicy; a tier rule
				 * always has peers, unless its nodes peers matched no
				 * address (then it matches nothing) */
				if (rules[r].n_peers == 0 && !tier) {
					memset(nonbit.w, 0xff, nonbit.n_words * 8);
					memset(full.w, 0xff, full.n_words * 8);
				}
				for (size_t k = 0; k < rules[r].n_peers; k++) {
					uint32_t id = peer_id(x, &x->peers[peer_i++]);

					memset(one.w, 0, one.n_words * 8);
					cset_of_peer(x, id, &one);
					for (size_t w = 0; w < one.n_words; w++)
						full.w[w] |= one.w[w];
					if (x->bit_of[id] >= 0) {
						bits |= 1u << x->bit_of[id];
						continue;
					}
					for (size_t w = 0; w < one.n_words; w++)
						nonbit.w[w] |= one.w[w];
				}
				if ((!active && !tier) || cset_empty(&sel) || cset_empty(&full))
					continue;
				rc = emit_policy_rule(x, &rules[r], dir, &sel, &nonbit, bits, &full, &all,
						      &e);
			}
		}
	}
out:
	free(rank);
	free(sel.w);
	free(nonbit.w);
	free(full.w);
	free(one.w);
	free(all.w);
	return rc;
}

/* Default deny for every isolated class, tagged with the first policy that
 * isolates it. */
static int emit_deny(struct ctx *x)
{
	struct npgw_compile_result *res = x->res;
	struct cset set, all;
	int rc = 0;

	if (cset_init(&set, x->n_classes) < 0)
		return -ENOMEM;
	if (cset_init(&all, x->n_classes) < 0) {
		free(set.w);
		return -ENOMEM;
	}
	memset(all.w, 0xff, all.n_words * 8);
	for (int d = 0; d < 2 && rc == 0; d++) {
		uint8_t dir = d == 0 ? NPGW_COMPILE_EGRESS : NPGW_COMPILE_INGRESS;

		for (uint32_t p = 0; p < x->n_pol && rc == 0; p++) {
			struct emit e = {
				.proto_mask = 0,
				.port_lo = 0,
				.port_hi = UINT16_MAX,
				.categories = 1u << (d == 0 ? NPGW_COMPILE_CAT_EGRESS
							    : NPGW_COMPILE_CAT_INGRESS),
				.priority = NPGW_COMPILE_PRIO_DENY,
			};
			int ud;

			memset(set.w, 0, set.n_words * 8);
			for (uint32_t f = 0; f < x->n_classes; f++) {
				int32_t by = d == 0 ? res->classes[f].isolated_egress_by
						    : res->classes[f].isolated_ingress_by;
				if (by == (int32_t)p)
					bit_set(set.w, f);
			}
			if (cset_empty(&set))
				continue;
			ud = add_meta(x, NPGW_COMPILE_DENY, dir, p, -1);
			if (ud < 0) {
				rc = ud;
				break;
			}
			e.userdata = (uint32_t)ud;
			rc = d == 0 ? emit_rules(x, &set, &all, &e) : emit_rules(x, &all, &set, &e);
		}
	}
	free(set.w);
	free(all.w);
	return rc;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct npgw_compile_rule *ra = a, *rb = b;

	if (ra->userdata != rb->userdata)
		return ra->userdata < rb->userdata ? -1 : 1;
	return memcmp(ra, rb, sizeof(*ra));
}

static void sort_rules(struct npgw_compile_result *res)
{
	size_t n = 0;

	if (res->n_rules == 0)
		return;
	qsort(res->rules, res->n_rules, sizeof(*res->rules), cmp_rule);
	for (size_t i = 0; i < res->n_rules; i++)
		if (n == 0 || memcmp(&res->rules[n - 1], &res->rules[i], sizeof(res->rules[i])) != 0)
			res->rules[n++] = res->rules[i];
	res->n_rules = n;
}

/* ---- nodes peers ---- */

/*
 * Replace, in the compiler's model, every nodes peer of a tier rule by one
 * host ipBlock peer per address of the Nodes of in it selects: from then
 * on it is an address set like networks. A rule left without peers
 * matches nothing (emit_allow knows tier rules). Returns 0 or -ENOMEM.
 */
static int nodes_to_blocks(struct npgw_k8s_cluster *model, const struct npgw_k8s_cluster *in)
{
	for (size_t p = 0; p < model->n_policies; p++) {
		struct npgw_k8s_policy *pol = model->policies[p];

		for (size_t r = 0; r < pol->n_egress && pol->tier != NPGW_K8S_TIER_NETPOL; r++) {
			struct npgw_k8s_rule *rule = &pol->egress[r];
			struct npgw_k8s_peer *v = NULL;
			size_t n = 0, cap = 0;
			bool any = false;

			for (size_t k = 0; k < rule->n_peers; k++)
				any |= rule->peers[k].has_node_selector;
			if (!any)
				continue;
			for (size_t k = 0; k < rule->n_peers; k++) {
				struct npgw_k8s_peer *pr = &rule->peers[k];

				if (!pr->has_node_selector) {
					if (grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0)
						goto nomem;
					v[n++] = *pr;
					continue;
				}
				for (size_t i = 0; i < in->n_pods; i++) {
					const struct npgw_k8s_pod *node = in->pods[i];

					if (!npgw_k8s_pod_is_node(node) ||
					    !npgw_k8s_selector_matches(&pr->node_selector,
								       &node->labels))
						continue;
					for (size_t a = 0; a < node->n_addrs; a++) {
						if (grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0)
							goto nomem;
						memset(&v[n], 0, sizeof(*v));
						v[n].has_ip_block = true;
						compile_host_prefix(&node->addrs[a], &v[n].cidr);
						n++;
					}
				}
			}
			for (size_t k = 0; k < rule->n_peers; k++)
				if (rule->peers[k].has_node_selector)
					npgw_k8s_selector_clear(&rule->peers[k].node_selector);
			free(rule->peers);
			rule->peers = v;
			rule->n_peers = n;
			continue;
nomem:
			free(v);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- entry points ---- */

void compile_ctx_free(struct ctx *x)
{
	intern_free(&x->peer_keys);
	intern_free(&x->block_keys);
	intern_free(&x->groups);
	intern_free(&x->behaviours);
	intern_free(&x->classes);
	free(x->cols);
	free(x->peers);
	free(x->names);
	free(x->blocks);
	free(x->group_beh);
	for (size_t i = 0; i < x->classes.n && x->cinfo; i++)
		free(x->cinfo[i].example);
	free(x->cinfo);
	free(x->stage1);
	free(x->final_of_tmp);
	free(x->by_final);
	free(x->has_region);
	free(x->regions);
	free(x->scratch);
	free(x->bit_of);
	npgw_k8s_cluster_free(x->model);
}

/*
 * Move what npgw_compile_update_pods needs from x into a new state that
 * res then holds: the context's columns, model and interning tables, and
 * res's ACL part. What stays in x is what only a full compile uses; it is
 * freed with x. Returns 0 or -ENOMEM (x and res unchanged).
 */
static int keep_state(struct ctx *x)
{
	struct npgw_compile_state *s = calloc(1, sizeof(*s));
	struct ctx *k;

	if (s == NULL)
		return -ENOMEM;
	s->refcnt = 1;
	s->x = *x;
	k = &s->x;
	/* stays with x */
	k->in = NULL;
	k->peers = NULL;
	k->n_peers = k->peers_cap = 0;
	k->cinfo = NULL;
	k->cinfo_cap = 0;
	k->stage1 = NULL;
	k->n_stage1 = k->stage1_cap = 0;
	k->by_final = NULL;
	k->scratch = NULL;
	k->bit_of = NULL;
	k->res = NULL;
	/* moves to s (the class examples in cinfo went to res already) */
	for (size_t i = 0; i < x->classes.n && x->cinfo; i++)
		free(x->cinfo[i].example);
	free(x->cinfo);
	x->cinfo = NULL;
	x->model = NULL;
	x->cols = NULL;
	x->names = NULL;
	x->blocks = NULL;
	x->group_beh = NULL;
	x->final_of_tmp = NULL;
	x->has_region = NULL;
	x->regions = NULL;
	memset(&x->peer_keys, 0, sizeof(x->peer_keys));
	memset(&x->block_keys, 0, sizeof(x->block_keys));
	memset(&x->groups, 0, sizeof(x->groups));
	memset(&x->behaviours, 0, sizeof(x->behaviours));
	memset(&x->classes, 0, sizeof(x->classes));
	s->rules = x->res->rules;
	s->metas = x->res->metas;
	s->n_metas = x->res->n_metas;
	s->class_bits = x->res->class_bits;
	x->res->state = s;
	return 0;
}

void compile_state_put(struct npgw_compile_state *s)
{
	if (s == NULL || --s->refcnt > 0)
		return;
	free(s->rules);
	for (uint32_t i = 0; i < s->n_metas; i++) {
		free(s->metas[i].policy_ns);
		free(s->metas[i].policy_name);
		free(s->metas[i].file);
		free(s->metas[i].rule_name);
	}
	free(s->metas);
	free(s->class_bits);
	compile_ctx_free(&s->x);
	free(s);
}

struct npgw_compile_result *npgw_compile(const struct npgw_k8s_cluster *c, int *err)
{
	const struct npgw_compile_opts opts = {.max_bits = NPGW_COMPILE_MAX_BITS};

	return npgw_compile_with(c, &opts, err);
}

struct npgw_compile_result *npgw_compile_with(const struct npgw_k8s_cluster *c,
					      const struct npgw_compile_opts *opts, int *err)
{
	/* The policies and namespaces of c, copied (not its pods): the
	 * columns point into the copy, which the result keeps. */
	struct npgw_k8s_cluster shell = {
		.namespaces = c->namespaces,
		.n_namespaces = c->n_namespaces,
		.policies = c->policies,
		.n_policies = c->n_policies,
	};
	struct ctx x = {.in = c,
			.plain_names = true,
			.max_bits = NPGW_MIN(opts->max_bits, NPGW_COMPILE_MAX_BITS)};
	uint32_t zero_beh;
	bool added;
	int rc = 0;

	x.res = calloc(1, sizeof(*x.res));
	x.model = x.res ? npgw_k8s_cluster_clone(&shell, &rc) : NULL;
	if (x.model == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	x.c = x.model;
	rc = nodes_to_blocks(x.model, c);
	if (rc == 0)
		rc = collect_columns(&x);
	if (rc < 0)
		goto fail;
	/* Behaviour 0: selected by nothing, matched by no selector, no named
	 * port: what every address that is not a pod behaves like. */
	memset(x.scratch, 0, x.beh_len);
	if (intern_put(&x.behaviours, x.scratch, (uint32_t)x.beh_len, &added) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	zero_beh = 0;
	rc = add_regions(&x, zero_beh);
	if (rc == 0)
		rc = add_pods(&x);
	if (rc == 0)
		rc = number_classes(&x);
	if (rc == 0)
		rc = assign_bits(&x);
	if (rc == 0)
		rc = emit_allow(&x);
	if (rc == 0)
		rc = emit_deny(&x);
	if (rc < 0)
		goto fail;
	sort_rules(x.res);
	rc = keep_state(&x);
	if (rc < 0)
		goto fail;
	compile_ctx_free(&x);
	return x.res;
fail:
	compile_ctx_free(&x);
	npgw_compile_free(x.res);
	if (err)
		*err = rc;
	return NULL;
}

void npgw_compile_free(struct npgw_compile_result *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->n_classes; i++)
		free(r->classes[i].example);
	free(r->classes);
	free(r->stage1);
	if (r->state != NULL) {
		/* rules, metas and class_bits are the state's */
		compile_state_put(r->state);
	} else {
		free(r->class_bits);
		free(r->rules);
		for (uint32_t i = 0; i < r->n_metas; i++) {
			free(r->metas[i].policy_ns);
			free(r->metas[i].policy_name);
			free(r->metas[i].file);
			free(r->metas[i].rule_name);
		}
		free(r->metas);
	}
	free(r);
}

uint32_t npgw_compile_class_of(const struct npgw_compile_result *r, const struct npgw_addr *a)
{
	int best = -1;
	uint32_t cls = a->family == 4 ? r->default_class4 : r->default_class6;

	for (size_t i = 0; i < r->n_stage1; i++) {
		const struct npgw_compile_stage1 *e = &r->stage1[i];

		if (npgw_prefix_contains(&e->prefix, a) && (int)e->prefix.len > best) {
			best = e->prefix.len;
			cls = e->class_id;
		}
	}
	return cls;
}

bool npgw_compile_same_acl(const struct npgw_compile_result *a,
			   const struct npgw_compile_result *b)
{
	/* results of one full compile share their rules */
	if (a->rules == b->rules && a->n_rules == b->n_rules && a->n_classes == b->n_classes)
		return true;
	return a->n_classes == b->n_classes && a->n_rules == b->n_rules &&
	       (a->n_rules == 0 || memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)) == 0);
}
