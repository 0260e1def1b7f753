/*
 * state.c: save and restore the desired state (see npgw_state.h for the
 * format and the promises).
 *
 * Save: emit the List one object a line, read it back with the loader
 * (what cannot be restored is refused now), then temp file, write, fsync,
 * rename, fsync of the directory. Load: read the file (regular files only,
 * size-capped), check the envelope with cJSON on the head line (version
 * first, so that a newer format is named as such rather than as a pile of
 * field errors), then the loader and the cluster checks on the whole file,
 * then the object count.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "npgw_doc.h"
#include "npgw_state.h"
#include "state_private.h"

#define STATE_MAX_SIZE NPGW_STATE_MAX_SIZE
#define TMP_PREFIX "." NPGW_STATE_FILE ".tmp-"

void state_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the text ---- */

static bool add_ann(cJSON *ann, const char *key, const char *fmt, ...) NPGW_PRINTF(3, 4);

static bool add_ann(cJSON *ann, const char *key, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cJSON_AddStringToObject(ann, key, buf) != NULL;
}

/* Print one item (or the head) unformatted to f. false when out of
 * memory. */
static bool print_json(FILE *f, const cJSON *j, size_t drop_tail)
{
	char *t = cJSON_PrintUnformatted(j);
	bool ok;

	if (t == NULL)
		return false;
	ok = fwrite(t, 1, strlen(t) - drop_tail, f) == strlen(t) - drop_tail;
	cJSON_free(t);
	return ok;
}

/*
 * The List with the state's annotations, one object a line: compact (half
 * the size of cJSON's indented print) and yet a loader message's line
 * names the object, its column the field. The caller frees the text.
 * NULL when out of memory.
 */
static char *state_text(const struct npgw_k8s_cluster *c, uint64_t generation, size_t *len)
{
	cJSON *list = npgw_k8s_cluster_to_json(c), *head = cJSON_CreateObject(), *meta, *ann;
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items"), *it;
	char when[32] = "", *text = NULL;
	time_t now = time(NULL);
	bool ok = list != NULL && head != NULL;
	struct tm tm;
	FILE *f;

	if (gmtime_r(&now, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ok = ok && cJSON_AddStringToObject(head, "apiVersion", "v1") &&
	     cJSON_AddStringToObject(head, "kind", "List") &&
	     (meta = cJSON_AddObjectToObject(head, "metadata")) != NULL &&
	     (ann = cJSON_AddObjectToObject(meta, "annotations")) != NULL &&
	     add_ann(ann, NPGW_STATE_ANN_VERSION, "%d", NPGW_STATE_VERSION) &&
	     add_ann(ann, NPGW_STATE_ANN_GENERATION, "%" PRIu64, generation) &&
	     add_ann(ann, NPGW_STATE_ANN_OBJECTS, "%zu", npgw_k8s_object_count(c)) &&
	     add_ann(ann, NPGW_STATE_ANN_SAVED_AT, "%s", when);
	f = ok ? open_memstream(&text, len) : NULL;
	if (f != NULL) {
		/* {"apiVersion":...,"metadata":{...},"items":[
		 * {object},
		 * ...
		 * {object}
		 * ]}  */
		ok = print_json(f, head, 1) && fputs(",\"items\":[\n", f) >= 0;
		cJSON_ArrayForEach(it, items)
		{
			ok = ok && print_json(f, it, 0) && fputs(it->next ? ",\n" : "\n", f) >= 0;
		}
		ok = ok && fputs("]}\n", f) >= 0;
		ok = fclose(f) == 0 && ok;
	}
	if (f == NULL || !ok) {
		free(text);
		text = NULL;
	}
	cJSON_Delete(head);
	cJSON_Delete(list);
	return text;
}

/*
 * Load the items of a state file as save lays it out: a head line ending in
 * "items":[, one object a line (a comma after all but the last), "]}". Each
 * object line goes through the loader on its own, so the loader's limits
 * against hostile input (16 MiB and a million nodes a document) bound one
 * object, not the whole state, and a state of 100,000 pods reads; a
 * message's line is the object's line in the file. A file laid out
 * otherwise (edited by hand, reformatted) is read whole, under the
 * loader's limits. Returns what npgw_k8s_load_buffer returns.
 */
/* A growing array of object pointers. */
struct vec {
	void **v;
	size_t n, cap;
};

static int vec_push(struct vec *v, void *p)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 256;
		void **nv = realloc(v->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = p;
	return 0;
}

/* Append the objects of v to the array *arr of *n. */
static int vec_install(void ***arr, size_t *n, struct vec *v)
{
	void **nv;

	if (v->n == 0)
		return 0;
	nv = realloc(*arr, (*n + v->n) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	memcpy(nv + *n, v->v, v->n * sizeof(*nv));
	*arr = nv;
	*n += v->n;
	v->n = 0;
	return 0;
}

int npgw_state_load_items(struct npgw_k8s_cluster *c, const char *path, const char *buf,
			  size_t len, struct npgw_diags *d)
{
	static const char head_tail[] = "\"items\":[", end[] = "]}";
	const char *p = memchr(buf, '\n', len), *stop = buf + len;
	struct vec ns = {0}, pods = {0}, pols = {0};
	size_t ht = sizeof(head_tail) - 1;
	struct npgw_k8s_cluster *tmp;
	uint32_t line = 2;
	int rc = 0;

	/* the layout first: head line, then every line an object but the last */
	if (p == NULL || (size_t)(p - buf) < ht || memcmp(p - ht, head_tail, ht) != 0)
		return npgw_k8s_load_buffer(c, path, buf, len, d);
	if (stop > p + 1 && stop[-1] == '\n')
		stop--;
	if ((size_t)(stop - (p + 1)) < 2 || memcmp(stop - 2, end, 2) != 0)
		return npgw_k8s_load_buffer(c, path, buf, len, d);
	for (const char *s = p + 1; s < stop - 2;
	     s = (const char *)memchr(s, '\n', (size_t)(stop - s)) + 1)
		if (memchr(s, '\n', (size_t)(stop - 2 - s)) == NULL) /* "]}" not alone */
			return npgw_k8s_load_buffer(c, path, buf, len, d);
	/* each line into a scratch cluster (the loader sorts what it loads
	 * into: a small one keeps that cheap), its objects moved out */
	tmp = npgw_k8s_cluster_new();
	if (tmp == NULL)
		return -ENOMEM;
	for (const char *s = p + 1; s < stop - 2 && rc != -ENOMEM; line++) {
		const char *e = memchr(s, '\n', (size_t)(stop - 2 - s));
		size_t n = (size_t)(e - s), before = d->n;
		int r;

		if (n > 0 && s[n - 1] == ',')
			n--;
		r = npgw_k8s_load_buffer(tmp, path, s, n, d);
		/* positions in the line are positions in the file, lines down */
		for (size_t i = before; i < d->n; i++)
			if (d->v[i].line > 0)
				d->v[i].line += line - 1;
		for (size_t i = 0; i < tmp->n_namespaces && r != -ENOMEM; i++) {
			tmp->namespaces[i]->origin.line += line - 1;
			if (vec_push(&ns, tmp->namespaces[i]) < 0)
				r = -ENOMEM;
			else
				tmp->namespaces[i] = NULL;
		}
		for (size_t i = 0; i < tmp->n_pods && r != -ENOMEM; i++) {
			tmp->pods[i]->origin.line += line - 1;
			if (vec_push(&pods, tmp->pods[i]) < 0)
				r = -ENOMEM;
			else
				tmp->pods[i] = NULL;
		}
		for (size_t i = 0; i < tmp->n_policies && r != -ENOMEM; i++) {
			tmp->policies[i]->origin.line += line - 1;
			if (vec_push(&pols, tmp->policies[i]) < 0)
				r = -ENOMEM;
			else
				tmp->policies[i] = NULL;
		}
		if (r == -ENOMEM) {
			rc = r;
			break;
		}
		tmp->n_namespaces = tmp->n_pods = tmp->n_policies = 0;
		c->n_refused += tmp->n_refused;
		tmp->n_refused = 0;
		if (r < 0 && rc == 0)
			rc = r;
		s = e + 1;
	}
	if (vec_install((void ***)&c->namespaces, &c->n_namespaces, &ns) < 0 ||
	    vec_install((void ***)&c->pods, &c->n_pods, &pods) < 0 ||
	    vec_install((void ***)&c->policies, &c->n_policies, &pols) < 0)
		rc = -ENOMEM;
	/* what could not be installed is freed with the scratch cluster */
	for (size_t i = 0; i < ns.n; i++)
		npgw_k8s_namespace_free(ns.v[i]);
	for (size_t i = 0; i < pods.n; i++)
		npgw_k8s_pod_free(pods.v[i]);
	for (size_t i = 0; i < pols.n; i++)
		npgw_k8s_policy_free(pols.v[i]);
	free(ns.v);
	free(pods.v);
	free(pols.v);
	npgw_k8s_cluster_free(tmp);
	npgw_k8s_cluster_sort(c);
	return rc;
}

/* Read text back as the next start will; 0 when it gives every object of
 * c without error, else -EINVAL (or -ENOMEM) with the first reason. */
static int check_readable(const char *path, const char *text, size_t len,
			  const struct npgw_k8s_cluster *c, char *err, size_t errlen)
{
	struct npgw_k8s_cluster *back = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	int rc;

	if (back == NULL)
		return -ENOMEM;
	rc = npgw_state_load_items(back, path, text, len, &d);
	if (rc == 0)
		rc = npgw_k8s_cluster_validate(back, &d);
	if (rc == -ENOMEM) {
		state_set_err(err, errlen, "out of memory reading the state back");
	} else if (rc < 0 || d.n_errors > 0) {
		const struct npgw_diag *e = NULL;

		for (size_t i = 0; i < d.n && e == NULL; i++)
			if (d.v[i].severity == NPGW_SEV_ERROR)
				e = &d.v[i];
		state_set_err(err, errlen, "the state would not load back (%zu error%s), not saved: "
			"%s%s%s", d.n_errors, d.n_errors == 1 ? "" : "s", e ? e->path : "",
			e && e->path[0] ? ": " : "", e ? e->message : "unknown error");
		rc = -EINVAL;
	} else if (npgw_k8s_object_count(back) != npgw_k8s_object_count(c)) {
		state_set_err(err, errlen, "the state would load back with %zu objects instead of %zu, "
				     "not saved",
			npgw_k8s_object_count(back), npgw_k8s_object_count(c));
		rc = -EINVAL;
	}
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(back);
	return rc;
}

/* ---- the directory ---- */

/* mkdir -p with mode 0700 for what is created. */
int state_make_dirs(const char *dir, char *err, size_t errlen)
{
	char *p = strdup(dir);
	int rc = 0;

	if (p == NULL)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
			state_set_err(err, errlen, "cannot create directory %s: %s", p, strerror(errno));
			break;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

/* Remove temporary files a crash left behind (ours included, if any). */
static void remove_temps(int dfd)
{
	int fd = dup(dfd);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write text as dir/state.json through a temporary file. dfd is dir. */
static int replace_file(int dfd, const char *dir, const char *text, size_t len, char *err,
			size_t errlen)
{
	static unsigned int counter;
	char tmp[64];
	int fd = -1, rc;

	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%u", (long)getpid(), ++counter);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		state_set_err(err, errlen, "cannot create %s/%s: %s", dir, tmp, strerror(errno));
		return rc;
	}
	rc = write_all(fd, text, len);
	if (rc < 0) {
		state_set_err(err, errlen, "cannot write %s/%s: %s", dir, tmp, strerror(-rc));
		goto fail;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		state_set_err(err, errlen, "cannot fsync %s/%s: %s", dir, tmp, strerror(errno));
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		rc = -errno;
		state_set_err(err, errlen, "cannot close %s/%s: %s", dir, tmp, strerror(errno));
		goto fail;
	}
	if (renameat(dfd, tmp, dfd, NPGW_STATE_FILE) < 0) {
		rc = -errno;
		state_set_err(err, errlen, "cannot rename %s/%s to %s: %s", dir, tmp, NPGW_STATE_FILE,
			strerror(errno));
		goto fail;
	}
	if (fsync(dfd) < 0) {
		rc = -errno;
		state_set_err(err, errlen, "renamed, but cannot fsync directory %s: %s", dir,
			strerror(errno));
		return rc;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	return rc;
}

int npgw_state_save(const char *dir, const struct npgw_k8s_cluster *c, uint64_t generation,
		    char *err, size_t errlen)
{
	char *text, *path = NULL;
	size_t len;
	int dfd, rc;

	state_set_err(err, errlen, "%s", "");
	if (dir == NULL || dir[0] == '\0' || c == NULL) {
		state_set_err(err, errlen, "no state directory or no state");
		return -EINVAL;
	}
	text = state_text(c, generation, &len);
	if (text == NULL || asprintf(&path, "%s/%s", dir, NPGW_STATE_FILE) < 0) {
		free(text);
		state_set_err(err, errlen, "out of memory writing the state");
		return -ENOMEM;
	}
	if (len > STATE_MAX_SIZE) {
		state_set_err(err, errlen,
			"the state is %zu bytes, more than the %u MiB a state file may hold, "
			"not saved",
			len, STATE_MAX_SIZE / 1024 / 1024);
		rc = -EFBIG;
		goto out;
	}
	rc = check_readable(path, text, len, c, err, errlen);
	if (rc < 0)
		goto out;
	rc = state_make_dirs(dir, err, errlen);
	if (rc < 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		state_set_err(err, errlen, "cannot open directory %s: %s", dir, strerror(errno));
		goto out;
	}
	remove_temps(dfd);
	rc = replace_file(dfd, dir, text, len, err, errlen);
	close(dfd);
out:
	free(path);
	free(text);
	return rc;
}

/* ---- load ---- */

static int diag(struct npgw_diags *d, const char *file, uint32_t line, uint32_t col,
		const char *path, const char *fmt, ...) NPGW_PRINTF(6, 7);

static int diag(struct npgw_diags *d, const char *file, uint32_t line, uint32_t col,
		const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -ENOMEM;
	rc = npgw_diags_add(d, NPGW_SEV_ERROR, file, line, col, path, "%s", msg);
	free(msg);
	return rc;
}

/* Read the whole file (a regular file of at most STATE_MAX_SIZE bytes). */
static int read_file(const char *path, char **out, size_t *len, struct npgw_diags *d)
{
	const char *why;
	struct stat st;
	size_t n = 0;
	char *buf;
	int fd, rc;

	/* O_NONBLOCK: a FIFO in its place must not hang the start */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP)
			return diag(d, path, 0, 0, "", "is a symbolic link: refused, the state "
				    "file must be the gateway's own") < 0 ? -ENOMEM : -EPERM;
		if (rc != -ENOENT && diag(d, path, 0, 0, "", "cannot open: %s", strerror(-rc)) < 0)
			rc = -ENOMEM;
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		diag(d, path, 0, 0, "", "cannot stat: %s", strerror(-rc));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return diag(d, path, 0, 0, "", "not a regular file") < 0 ? -ENOMEM : -EBADMSG;
	}
	if ((why = npgw_state_untrusted(&st)) != NULL) {
		char msg[200];

		close(fd);
		snprintf(msg, sizeof(msg), why,
			 strstr(why, "uid") ? (unsigned int)st.st_uid : (unsigned int)(st.st_mode & 07777));
		return diag(d, path, 0, 0, "", "%s: refused", msg) < 0 ? -ENOMEM : -EPERM;
	}
	if ((uint64_t)st.st_size > STATE_MAX_SIZE) {
		close(fd);
		return diag(d, path, 0, 0, "", "%jd bytes: larger than the %u MiB a state file may hold",
			    (intmax_t)st.st_size, STATE_MAX_SIZE / 1024 / 1024) < 0
			       ? -ENOMEM
			       : -EBADMSG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	/* read to the end, but never past the size known above (the file is
	 * replaced by rename, never written in place) */
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			diag(d, path, 0, 0, "", "cannot read: %s", strerror(-rc));
			free(buf);
			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Strict decimal uint64: digits only, no sign, no leading zero, no
 * overflow. */
bool state_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		unsigned int dgt = (unsigned int)(*s - '0');

		if (dgt > 9 || v > (UINT64_MAX - dgt) / 10)
			return false;
		v = v * 10 + dgt;
	}
	*out = v;
	return true;
}

/* The string annotation key of ann, or NULL with a message. */
static const char *annotation(const cJSON *ann, const char *key, const char *path,
			      struct npgw_diags *d, bool *nomem)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, key);
	char p[160];

	snprintf(p, sizeof(p), "metadata.annotations[\"%s\"]", key);
	if (v == NULL) {
		*nomem |= diag(d, path, 0, 0, p, "missing: not an npgw state file") < 0;
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		*nomem |= diag(d, path, 0, 0, p, "expected a string") < 0;
		return NULL;
	}
	return v->valuestring;
}

/*
 * The head of a file as save writes it: its first line, up to and with
 * "items":[, closed with ]} into a small document of its own. NULL when
 * the file is laid out otherwise (edited, reformatted, truncated) or on
 * allocation failure; the caller then parses the whole file.
 */
static cJSON *parse_head(const char *buf, size_t len)
{
	static const char tail[] = "\"items\":[";
	const char *nl = memchr(buf, '\n', len);
	size_t n, t = sizeof(tail) - 1;
	cJSON *j;
	char *s;

	if (nl == NULL)
		return NULL;
	n = (size_t)(nl - buf);
	if (n < t || memcmp(nl - t, tail, t) != 0 || (s = malloc(n + 3)) == NULL)
		return NULL;
	memcpy(s, buf, n);
	memcpy(s + n, "]}", 3);
	j = cJSON_ParseWithLength(s, n + 2);
	free(s);
	return j;
}

/*
 * The envelope: a JSON List with our annotations, read from the head line
 * (cheap: the items are the loader's) or else from the whole file. The
 * loader checks the whole file afterwards, so a head that does not belong
 * to a valid file is refused there. Returns 0 with the generation and
 * object count, -ENOTSUP for a newer format, -EBADMSG, or -ENOMEM.
 */
static int check_envelope(const char *path, const char *buf, size_t len, uint64_t *generation,
			  uint64_t *objects, struct npgw_diags *d)
{
	const cJSON *kind, *av, *meta, *ann;
	const char *ver, *gen, *cnt;
	bool nomem = false;
	uint64_t version;
	int rc = -EBADMSG;
	cJSON *root;

	root = parse_head(buf, len);
	if (root == NULL)
		root = cJSON_ParseWithLength(buf, len);
	if (root == NULL) {
		/* let the loader say where and what, with its positions */
		struct npgw_k8s_cluster *scratch = npgw_k8s_cluster_new();
		size_t before = d->n_errors;

		if (scratch == NULL)
			return -ENOMEM;
		if (npgw_k8s_load_buffer(scratch, path, buf, len, d) == -ENOMEM)
			nomem = true;
		npgw_k8s_cluster_free(scratch);
		if (nomem)
			return -ENOMEM;
		if (d->n_errors != before)
			return -EBADMSG;
		/* valid to the strict loader, yet cJSON failed: it ran out of
		 * memory (or hit a limit of its own); not the file's fault */
		diag(d, path, 0, 0, "", "cannot read the state's head (out of memory?)");
		return -ENOMEM;
	}
	if (!cJSON_IsObject(root)) {
		nomem |= diag(d, path, 1, 1, "", "expected an object (a kind: List)") < 0;
		goto out;
	}
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "List") != 0 ||
	    !cJSON_IsString(av) || strcmp(av->valuestring, "v1") != 0) {
		nomem |= diag(d, path, 0, 0, "kind", "expected apiVersion v1, kind List: not an "
						     "npgw state file") < 0;
		goto out;
	}
	meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	if (!cJSON_IsObject(meta) || !cJSON_IsObject(ann)) {
		nomem |= diag(d, path, 0, 0, "metadata.annotations",
			      "missing or not an object: not an npgw state file") < 0;
		goto out;
	}
	ver = annotation(ann, NPGW_STATE_ANN_VERSION, path, d, &nomem);
	if (ver == NULL)
		goto out;
	if (!state_parse_u64(ver, &version) || version == 0) {
		nomem |= diag(d, path, 0, 0, "metadata.annotations[\"" NPGW_STATE_ANN_VERSION "\"]",
			      "\"%.32s\" is not a format version", ver) < 0;
		goto out;
	}
	if (version > NPGW_STATE_VERSION) {
		nomem |= diag(d, path, 0, 0, "metadata.annotations[\"" NPGW_STATE_ANN_VERSION "\"]",
			      "state format %" PRIu64 " was written by a newer npgw; this one "
			      "reads format %d and older: refused rather than guessed",
			      version, NPGW_STATE_VERSION) < 0;
		rc = -ENOTSUP;
		goto out;
	}
	gen = annotation(ann, NPGW_STATE_ANN_GENERATION, path, d, &nomem);
	cnt = annotation(ann, NPGW_STATE_ANN_OBJECTS, path, d, &nomem);
	if (gen != NULL && !state_parse_u64(gen, generation))
		nomem |= diag(d, path, 0, 0,
			      "metadata.annotations[\"" NPGW_STATE_ANN_GENERATION "\"]",
			      "\"%.32s\" is not a generation (a decimal number)", gen) < 0;
	else if (gen != NULL && *generation > NPGW_STATE_MAX_GENERATION)
		nomem |= diag(d, path, 0, 0,
			      "metadata.annotations[\"" NPGW_STATE_ANN_GENERATION "\"]",
			      "generation %" PRIu64 " is above the limit of 2^53 (%" PRIu64 "): "
			      "refused rather than wrapped", *generation,
			      NPGW_STATE_MAX_GENERATION) < 0;
	else if (cnt != NULL && !state_parse_u64(cnt, objects))
		nomem |= diag(d, path, 0, 0, "metadata.annotations[\"" NPGW_STATE_ANN_OBJECTS "\"]",
			      "\"%.32s\" is not an object count", cnt) < 0;
	else if (gen != NULL && cnt != NULL)
		rc = 0;
out:
	cJSON_Delete(root);
	return nomem ? -ENOMEM : rc;
}

struct npgw_k8s_cluster *npgw_state_load(const char *dir, uint64_t *generation,
					 struct npgw_diags *diags, int *err)
{
	struct npgw_k8s_cluster *c = NULL;
	uint64_t gen = 0, objects = 0;
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int rc;

	if (asprintf(&path, "%s/%s", dir, NPGW_STATE_FILE) < 0) {
		path = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = read_file(path, &buf, &len, diags);
	if (rc < 0)
		goto out;
	rc = check_envelope(path, buf, len, &gen, &objects, diags);
	if (rc < 0)
		goto out;
	c = npgw_k8s_cluster_new();
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = npgw_state_load_items(c, path, buf, len, diags);
	if (rc == 0)
		rc = npgw_k8s_cluster_validate(c, diags);
	if (rc == -EINVAL || (rc == 0 && c->n_refused > 0)) {
		rc = -EBADMSG;
	} else if (rc == 0 && npgw_k8s_object_count(c) != objects) {
		if (diag(diags, path, 0, 0, "items", "%zu objects read, but the state says %" PRIu64
						     ": refused rather than restored in part",
			 npgw_k8s_object_count(c), objects) < 0)
			rc = -ENOMEM;
		else
			rc = -EBADMSG;
	}
out:
	if (rc == -EBADMSG &&
	    diag(diags, path, 0, 0, "", "the saved state is corrupt: nothing of it is used") < 0)
		rc = -ENOMEM;
	if (rc < 0) {
		npgw_k8s_cluster_free(c);
		c = NULL;
	} else if (generation != NULL) {
		*generation = gen;
	}
	if (err != NULL)
		*err = rc;
	free(buf);
	free(path);
	return c;
}
