/*
 * kinds.c: what get, describe and delete share: the kinds with every name
 * kubectl users type for them (singular, plural, short), object names on
 * the command line (NS/NAME, or NAME with -n), and kubectl's label
 * selector syntax for -l.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "npgw_k8s.h"
#include "npgwctl.h"

const struct npgwctl_kind npgwctl_kinds[] = {
	{"policies", "NetworkPolicy", "networkpolicy",
	 {"networkpolicies", "networkpolicy", "netpol", "netpols", "policies", "policy", NULL},
	 true, NULL},
	{"pods", "Pod", "pod", {"pods", "pod", "po", NULL}, true, NULL},
	{"namespaces", "Namespace", "namespace", {"namespaces", "namespace", "ns", NULL}, false,
	 NULL},
	{"policies", "AdminNetworkPolicy", "adminnetworkpolicy",
	 {"adminnetworkpolicies", "adminnetworkpolicy", "anp", NULL}, false, NPGW_K8S_NS_ANP},
	{"policies", "BaselineAdminNetworkPolicy", "baselineadminnetworkpolicy",
	 {"baselineadminnetworkpolicies", "baselineadminnetworkpolicy", "banp", NULL}, false,
	 NPGW_K8S_NS_BANP},
	{"policies", "ClusterNetworkPolicy", "clusternetworkpolicy",
	 {"clusternetworkpolicies", "clusternetworkpolicy", "cnp", NULL}, false, NPGW_K8S_NS_CNP},
	{"pods", "Node", "node", {"nodes", "node", "no", NULL}, false, NPGW_K8S_NS_NODE},
};
const size_t npgwctl_n_kinds = NPGW_ARRAY_SIZE(npgwctl_kinds);

const struct npgwctl_kind *npgwctl_find_kind(const char *s)
{
	for (size_t i = 0; i < npgwctl_n_kinds; i++)
		for (size_t j = 0; npgwctl_kinds[i].names[j] != NULL; j++)
			if (strcasecmp(s, npgwctl_kinds[i].names[j]) == 0)
				return &npgwctl_kinds[i];
	return NULL;
}

char *npgwctl_split_name(const char *cmd, const struct npgwctl_kind *k, const char *arg,
			 const char *ns, const char **ns_out, const char **name_out)
{
	char *copy = strdup(arg), *slash;

	if (copy == NULL) {
		fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
		return NULL;
	}
	slash = strchr(copy, '/');
	*ns_out = NULL;
	*name_out = copy;
	if (!k->namespaced) {
		if (slash != NULL) {
			fprintf(stderr, "npgwctl %s: '%s': a namespace has a plain name\n", cmd, arg);
			free(copy);
			return NULL;
		}
		return copy;
	}
	if (slash == NULL) {
		*ns_out = ns;
	} else {
		if (slash == copy || slash[1] == '\0' || strchr(slash + 1, '/') != NULL) {
			fprintf(stderr, "npgwctl %s: '%s' is not NAMESPACE/NAME\n", cmd, arg);
			free(copy);
			return NULL;
		}
		if (ns != NULL && strncmp(ns, copy, (size_t)(slash - copy)) != 0) {
			fprintf(stderr, "npgwctl %s: '%s' is in another namespace than -n %s\n", cmd,
				arg, ns);
			free(copy);
			return NULL;
		}
		*slash = '\0';
		*ns_out = copy;
		*name_out = slash + 1;
	}
	if ((*name_out)[0] == '\0') {
		fprintf(stderr, "npgwctl %s: an empty name\n", cmd);
		free(copy);
		return NULL;
	}
	return copy;
}

/* ---- label selectors ---- */

enum sel_op { SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOT_EXISTS };

struct sel_term {
	char *key;
	enum sel_op op;
	char **values;
	size_t n_values;
};

struct npgwctl_selector {
	struct sel_term *t;
	size_t n;
};

void npgwctl_selector_free(struct npgwctl_selector *sel)
{
	if (sel == NULL)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->t[i].key);
		for (size_t k = 0; k < sel->t[i].n_values; k++)
			free(sel->t[i].values[k]);
		free(sel->t[i].values);
	}
	free(sel->t);
	free(sel);
}

static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

/* A key or value: label characters only ([A-Za-z0-9._/-]). */
static bool word_ok(const char *s, bool allow_empty)
{
	if (*s == '\0')
		return allow_empty;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._/-", *s))
			return false;
	return true;
}

/* One term: key, !key, key=v, key==v, key!=v, key in (a,b), key notin (a,b). */
static int parse_term(const char *cmd, const char *s, size_t n, struct sel_term *t)
{
	char *term = trimmed(s, n), *p, *in_at, *notin_at;
	int rc = -1;

	if (term == NULL)
		return -1;
	in_at = strstr(term, " in ");
	notin_at = strstr(term, " notin ");
	if (in_at != NULL || notin_at != NULL) {
		bool in = in_at != NULL && (notin_at == NULL || in_at < notin_at);
		char *open, *close, *v;

		p = in ? in_at : notin_at;
		t->op = in ? SEL_IN : SEL_NOTIN;
		t->key = trimmed(term, (size_t)(p - term));
		open = strchr(p, '(');
		close = strrchr(p, ')');
		if (t->key == NULL || open == NULL || close == NULL || close < open ||
		    !word_ok(t->key, false))
			goto bad;
		for (char *tail = close + 1; *tail; tail++)
			if (!isspace((unsigned char)*tail))
				goto bad;
		*close = '\0';
		for (v = open + 1;;) {
			char *comma = strchr(v, ',');
			char *val = trimmed(v, comma ? (size_t)(comma - v) : strlen(v));
			char **nv = realloc(t->values, (t->n_values + 1) * sizeof(*nv));

			if (val == NULL || nv == NULL || !word_ok(val, true)) {
				free(val);
				if (nv != NULL)
					t->values = nv;
				goto bad;
			}
			t->values = nv;
			t->values[t->n_values++] = val;
			if (comma == NULL)
				break;
			v = comma + 1;
		}
	} else if ((p = strstr(term, "!=")) != NULL || (p = strchr(term, '=')) != NULL) {
		bool ne = p[0] == '!';
		const char *val = p + (ne ? 2 : p[1] == '=' ? 2 : 1);

		t->op = ne ? SEL_NE : SEL_EQ;
		t->key = trimmed(term, (size_t)(p - term));
		t->values = calloc(1, sizeof(*t->values));
		if (t->key == NULL || t->values == NULL)
			goto bad;
		t->values[0] = trimmed(val, strlen(val));
		if (t->values[0] == NULL)
			goto bad;
		t->n_values = 1;
		if (!word_ok(t->key, false) || !word_ok(t->values[0], true))
			goto bad;
	} else if (term[0] == '!') {
		t->op = SEL_NOT_EXISTS;
		t->key = trimmed(term + 1, strlen(term + 1));
		if (t->key == NULL || !word_ok(t->key, false))
			goto bad;
	} else {
		t->op = SEL_EXISTS;
		t->key = strdup(term);
		if (t->key == NULL || !word_ok(t->key, false))
			goto bad;
	}
	rc = 0;
bad:
	if (rc < 0)
		fprintf(stderr, "npgwctl %s: -l: cannot read '%s' (key, !key, key=value, "
				"key!=value, key in (a,b), key notin (a,b))\n",
			cmd, term);
	free(term);
	return rc;
}

struct npgwctl_selector *npgwctl_selector_parse(const char *cmd, const char *s)
{
	struct npgwctl_selector *sel = calloc(1, sizeof(*sel));
	const char *start = s;
	int depth = 0;

	if (sel == NULL)
		return NULL;
	for (const char *p = s;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			struct sel_term *nt = realloc(sel->t, (sel->n + 1) * sizeof(*nt));

			if (nt == NULL) {
				npgwctl_selector_free(sel);
				return NULL;
			}
			sel->t = nt;
			memset(&sel->t[sel->n], 0, sizeof(sel->t[0]));
			sel->n++;
			if (parse_term(cmd, start, (size_t)(p - start), &sel->t[sel->n - 1]) < 0) {
				npgwctl_selector_free(sel);
				return NULL;
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return sel;
}

static bool in_values(const struct sel_term *t, const char *v)
{
	for (size_t i = 0; i < t->n_values; i++)
		if (strcmp(t->values[i], v) == 0)
			return true;
	return false;
}

bool npgwctl_selector_matches(const struct npgwctl_selector *sel, const cJSON *labels)
{
	for (size_t i = 0; sel != NULL && i < sel->n; i++) {
		const struct sel_term *t = &sel->t[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, t->key);
		const char *val = cJSON_IsString(v) ? v->valuestring : NULL;
		bool ok;

		switch (t->op) {
		case SEL_EQ:
		case SEL_IN:
			ok = val != NULL && in_values(t, val);
			break;
		case SEL_NE:
		case SEL_NOTIN: /* true when the label is missing, as in Kubernetes */
			ok = val == NULL || !in_values(t, val);
			break;
		case SEL_EXISTS:
			ok = val != NULL;
			break;
		default:
			ok = val == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}
