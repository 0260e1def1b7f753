/*
 * read.c: from a file to documents: the capped file reader, and
 * npgw_doc_parse, which checks size and encoding and picks the front-end
 * (YAML or JSON) by the file name or the first character. Both loaders
 * (lib/k8s, lib/config) read their files through these, so a file is
 * refused for the same reasons with the same words whoever reads it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc_private.h"

/* Read at most NPGW_DOC_MAX_FILE_SIZE + 1 bytes of fd: one more than the
 * limit is enough to know the file is too large. */
static int read_capped(int fd, char **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	struct stat st;
	char *buf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)NPGW_MIN((uint64_t)st.st_size + 1,
				       (uint64_t)NPGW_DOC_MAX_FILE_SIZE + 1);
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = NPGW_MIN(cap * 2, (size_t)NPGW_DOC_MAX_FILE_SIZE + 1);
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

int npgw_doc_read_file(const char *path, char **buf, size_t *len)
{
	int fd, rc;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_capped(fd, buf, len);
	close(fd);
	if (rc == 0 && *len > NPGW_DOC_MAX_FILE_SIZE) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		rc = -EFBIG;
	}
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- paths: a file, stdin or a directory ---- */

/* One file (or stdin): read, then fn. */
static int read_one(const char *path, struct npgw_diags *diags, npgw_doc_file_fn fn, void *arg)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (is_stdin) {
		rc = read_capped(STDIN_FILENO, &buf, &len);
		if (rc == 0 && len > NPGW_DOC_MAX_FILE_SIZE) {
			free(buf);
			buf = NULL;
			rc = -EFBIG;
		}
	} else {
		rc = npgw_doc_read_file(path, &buf, &len);
	}
	if (rc == -EFBIG) {
		/* the words npgw_doc_parse uses for a buffer over the limit */
		if (npgw_diags_add(diags, NPGW_SEV_ERROR, name, 0, 0, "",
				   "larger than the limit of %u MiB",
				   NPGW_DOC_MAX_FILE_SIZE / 1024 / 1024) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	rc = fn(arg, name, buf, len);
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

static int read_dir(const char *path, struct npgw_diags *diags, npgw_doc_file_fn fn, void *arg)
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
		r = read_one(full, diags, fn, arg);
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

int npgw_doc_read_path(const char *path, struct npgw_diags *diags, npgw_doc_file_fn fn,
		       void *arg)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return read_one(path, diags, fn, arg);
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return read_dir(path, diags, fn, arg);
	return read_one(path, diags, fn, arg);
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

int npgw_doc_parse(struct npgw_doc_sink *sink, const char *buf, size_t len, npgw_doc_fn fn,
		   void *arg)
{
	uint32_t line, col;
	const char *why;

	if (len > NPGW_DOC_MAX_FILE_SIZE) {
		npgw_doc_error(sink, 0, 0, "larger than the limit of %u MiB",
			       NPGW_DOC_MAX_FILE_SIZE / 1024 / 1024);
		return sink->nomem ? -ENOMEM : -EINVAL;
	}
	if ((why = npgw_doc_check_utf8(buf, len, &line, &col)) != NULL) {
		npgw_doc_error(sink, line, col, "%s: input must be UTF-8 text", why);
		return sink->nomem ? -ENOMEM : -EINVAL;
	}
	if (is_json(sink->file ? sink->file : "", buf, len))
		return npgw_doc_parse_json(sink, buf, len, fn, arg);
	return npgw_doc_parse_yaml(sink, buf, len, fn, arg);
}
