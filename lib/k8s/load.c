/*
 * load.c: npgw_k8s_load_path and npgw_k8s_load_buffer: read files and
 * directories, and hand each document to the object reader. lib/doc reads
 * the file with its size limit, checks the encoding and picks the front-end
 * (npgw_doc_parse: .json is JSON, .yaml / .yml YAML, any other name by its
 * first character).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

static int on_doc(void *arg, const struct npgw_doc_node *root, bool had_errors)
{
	struct k8s_ctx *x = arg;

	x->tainted = had_errors;
	k8s_object(x, root, "", NULL);
	return x->rd.nomem ? -ENOMEM : 0;
}

struct load_arg {
	struct npgw_k8s_cluster *c;
	struct npgw_diags *diags;
};

/* Load one buffer without sorting. */
static int load_buffer(struct npgw_k8s_cluster *c, const char *name, const char *buf, size_t len,
		       struct npgw_diags *diags)
{
	struct npgw_doc_sink sink = {.diags = diags, .file = name, .what = "Kubernetes objects"};
	struct k8s_ctx x = {.c = c, .rd = {.diags = diags, .file = name}};
	int rc;

	rc = npgw_doc_parse(&sink, buf, len, on_doc, &x);
	if (x.skipped > 0 &&
	    npgw_diags_add(diags, NPGW_SEV_WARNING, name, 0, 0, "",
			   "skipped %zu document%s: kind%s %s (npgw reads NetworkPolicy, Pod, "
			   "Namespace, Node, AdminNetworkPolicy, BaselineAdminNetworkPolicy and "
			   "ClusterNetworkPolicy)", x.skipped, x.skipped == 1 ? "" : "s",
			   strchr(x.skipped_kinds, ',') ? "s" : "", x.skipped_kinds) < 0)
		return -ENOMEM;
	if (rc == -ENOMEM || x.rd.nomem || sink.nomem)
		return -ENOMEM;
	return sink.errors || x.rd.errors || rc < 0 ? -EINVAL : 0;
}

int npgw_k8s_load_buffer(struct npgw_k8s_cluster *c, const char *name, const char *buf,
			 size_t len, struct npgw_diags *diags)
{
	int rc = load_buffer(c, name ? name : "-", buf, len, diags);

	npgw_k8s_cluster_sort(c);
	return rc;
}

/* npgw_doc_read_path's callback: one file's text. */
static int load_text(void *arg, const char *name, const char *buf, size_t len)
{
	struct load_arg *la = arg;

	return load_buffer(la->c, name, buf, len, la->diags);
}

int npgw_k8s_load_path(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags)
{
	struct load_arg la = {c, diags};
	int rc = npgw_doc_read_path(path, diags, load_text, &la);

	npgw_k8s_cluster_sort(c);
	return rc;
}
