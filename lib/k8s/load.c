/*
 * load.c: npgw_k8s_load_path and npgw_k8s_load_buffer: read files and
 * directories with a size limit, check the encoding, pick the front-end,
 * and hand each document to the object reader.
 *
 * Front-end choice: a name ending in .json is JSON, .yaml / .yml is YAML;
 * any other name (a buffer from the control socket, /dev/stdin) is JSON
 * when its first non-blank character is '{' or '[' (what kubectl -o json
 * prints), YAML otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s_private.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_json(const char *name, const char *buf, size_t len)
{
	size_t i = 0;

	if (ends_with(name, ".json"))
		return true;
	if (ends_with(name, ".yaml") || ends_with(name, ".yml"))
		return false;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	return i < len && (buf[i] == '{' || buf[i] == '[');
}

static int on_doc(void *arg, const struct doc_node *root, bool had_errors)
{
	struct k8s_ctx *x = arg;

	x->tainted = had_errors;
	k8s_object(x, root, "", NULL);
	return x->nomem ? -ENOMEM : 0;
}

/* Load one buffer without sorting. */
static int load_buffer(struct npgw_k8s_cluster *c, const char *name, const char *buf, size_t len,
		       struct npgw_diags *diags)
{
	struct doc_sink sink = {.diags = diags, .file = name};
	struct k8s_ctx x = {.c = c, .diags = diags, .file = name};
	uint32_t line, col;
	const char *why;
	int rc;

	if (len > NPGW_K8S_MAX_FILE_SIZE) {
		if (npgw_diags_add(diags, NPGW_SEV_ERROR, name, 0, 0, "",
				   "larger than the limit of %u MiB",
				   NPGW_K8S_MAX_FILE_SIZE / 1024 / 1024) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	if ((why = doc_check_utf8(buf, len, &line, &col)) != NULL) {
		if (npgw_diags_add(diags, NPGW_SEV_ERROR, name, line, col, "",
				   "%s: input must be UTF-8 text", why) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	if (is_json(name, buf, len))
		rc = doc_parse_json(&sink, buf, len, on_doc, &x);
	else
		rc = doc_parse_yaml(&sink, buf, len, on_doc, &x);
	if (rc == -ENOMEM || x.nomem || sink.nomem)
		return -ENOMEM;
	return sink.errors || x.errors || rc < 0 ? -EINVAL : 0;
}

int npgw_k8s_load_buffer(struct npgw_k8s_cluster *c, const char *name, const char *buf,
			 size_t len, struct npgw_diags *diags)
{
	int rc = load_buffer(c, name ? name : "-", buf, len, diags);

	npgw_k8s_cluster_sort(c);
	return rc;
}

/* Read at most NPGW_K8S_MAX_FILE_SIZE + 1 bytes of fd: one more than the
 * limit is enough to know the file is too large. */
static int read_capped(int fd, char **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	struct stat st;
	char *buf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)NPGW_MIN((uint64_t)st.st_size + 1,
				       (uint64_t)NPGW_K8S_MAX_FILE_SIZE + 1);
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = NPGW_MIN(cap * 2, (size_t)NPGW_K8S_MAX_FILE_SIZE + 1);
			char *nb;

			if (ncap == cap)
				break; /* over the limit: the caller says so */
			nb = realloc(buf, ncap);
			if (nb == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int load_file(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_capped(fd, &buf, &len);
	close(fd);
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
		if (k8s_grow((void **)&names, &cap, n, sizeof(*names)) < 0 ||
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
