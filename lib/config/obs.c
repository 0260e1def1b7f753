/*
 * obs.c: the config's observability sections, read in the first pass like
 * every other section (config.c):
 *
 *   metrics:
 *     listen: "127.0.0.1:9469"   # GET /metrics there; no listener without it
 *   events:
 *     rate: 1000                 # drop/verdict events per second per worker
 *     burst: 256                 # how many a worker may record at once
 */
#include <stdlib.h>
#include <string.h>

#include "config_private.h"

void cfg_read_metrics(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "listen") == 0) {
			struct npgw_addr a;
			uint16_t port;
			char *s = NULL;

			if (!npgw_doc_get_str(&x->rd, f, p, &s))
				continue;
			if (npgw_addr_port_parse(s, &a, &port) < 0) {
				npgw_doc_err(&x->rd, f, p,
					     "\"%.64s\" is not ADDR:PORT (127.0.0.1:9469, "
					     "[::1]:9469, localhost:9469; port 1..65535)",
					     s);
				free(s);
				continue;
			}
			free(x->c->metrics_listen);
			x->c->metrics_listen = s;
		} else {
			npgw_doc_err_key(&x->rd, f, p, "unknown field \"%.64s\" (metrics has listen)",
					 f->key);
		}
	}
}

void cfg_read_events(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];
		int64_t v;

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "rate") == 0 || strcmp(f->key, "burst") == 0) {
			bool rate = f->key[0] == 'r';
			int64_t lo = rate ? 0 : 1, hi = rate ? CFG_MAX_EVENTS_RATE : CFG_MAX_EVENTS_BURST;

			if (!npgw_doc_get_int(&x->rd, f, p, &v))
				continue;
			if (v < lo || v > hi) {
				npgw_doc_err(&x->rd, f, p, "%lld is outside %lld..%lld", (long long)v,
					     (long long)lo, (long long)hi);
				continue;
			}
			*(rate ? &x->c->events_rate : &x->c->events_burst) = (uint32_t)v;
		} else {
			npgw_doc_err_key(&x->rd, f, p,
					 "unknown field \"%.64s\" (events has rate and burst)", f->key);
		}
	}
}
