/*
 * load.c: npgw_k8s_load_path and npgw_k8s_load_buffer: read files and
 * directories, and hand each document to the object reader. lib/doc reads
 * the file with its size limit, checks the encoding and picks the front-end
 * (npgw_doc_parse: .json is JSON, .yaml / .yml YAML, any other name by its
 * first character).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s_private.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int on_doc(void *arg, const struct npgw_doc_node *root, bool had_errors)
{
	struct k8s_ctx *x = arg;

	x->tainted = had_errors;
	k8s_object(x, root, "", NULL);
	return x->rd.nomem ? -ENOMEM : 0;
}

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
			   "skipped %zu document%s: kind%s %s (npgw reads NetworkPolicy, Pod and "
			   "Namespace)", x.skipped, x.skipped == 1 ? "" : "s",
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

static int load_file(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = npgw_doc_read_file(path, &buf, &len);
	if (rc == -EFBIG) {
		/* the words npgw_doc_parse uses for a buffer over the limit */
		if (npgw_diags_add(diags, NPGW_SEV_ERROR, path, 0, 0, "",
				   "larger than the limit of %u MiB",
				   NPGW_DOC_MAX_FILE_SIZE / 1024 / 1024) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	rc = load_buffer(c, path, buf, len, diags);
	free(buf);
	return rc;
}

static bool wanted(const char *name)
{
	return ends_with(name, ".yaml") || ends_with(name, ".yml") || ends_with(name, ".json");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Worse of two results: -ENOMEM, then other errnos, then -EINVAL, then 0. */
static int worse(int a, int b)
{
	if (a == -ENOMEM || b == -ENOMEM)
		return -ENOMEM;
	if (a == 0 || a == -EINVAL)
		return b ? b : a;
	return a;
}

static int load_dir(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	d = opendir(path);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (!wanted(de->d_name))
			continue;
		if (npgw_doc_grow((void **)&names, &cap, n, sizeof(*names)) < 0 ||
		    (names[n] = strdup(de->d_name)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0 &&
	    npgw_diags_add(diags, NPGW_SEV_WARNING, path, 0, 0, "",
			   "no .yaml, .yml or .json file in this directory") < 0)
		rc = -ENOMEM;
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && rc != -ENOMEM; i++) {
		size_t plen = strlen(path);
		char *full;
		struct stat st;
		int r;

		if (asprintf(&full, "%s%s%s", path, plen && path[plen - 1] == '/' ? "" : "/",
			     names[i]) < 0) {
			rc = -ENOMEM;
			break;
		}
		/* not recursive: a directory called x.yaml is skipped */
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(full);
			continue;
		}
		r = load_file(c, full, diags);
		if (r < 0 && r != -EINVAL && r != -ENOMEM) {
			if (npgw_diags_add(diags, NPGW_SEV_ERROR, full, 0, 0, "", "cannot read: %s",
					   strerror(-r)) < 0)
				r = -ENOMEM;
			else
				r = -EINVAL;
		}
		rc = worse(rc, r);
		free(full);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int npgw_k8s_load_path(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		rc = load_dir(c, path, diags);
	else
		rc = load_file(c, path, diags);
	npgw_k8s_cluster_sort(c);
	return rc;
}
