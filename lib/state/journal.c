/*
 * journal.c: the state directory: its lock, the journal of changes since
 * the snapshot, restore (snapshot + replay), and the background snapshot
 * (see npgw_state.h for the format and the promises).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "npgw_state.h"
#include "state_private.h"

#define SEG_PREFIX "journal."
#define LOCK_FILE "lock"

struct npgw_state {
	char *dir;
	int dfd; /* the directory */
	int lock_fd; /* DIR/lock, flock'd */
	int seg_fd; /* the segment appended to, -1 before restore */
	uint64_t seg_seq; /* its number */
	uint64_t seg_bytes;
	size_t bound;
	size_t max_record;
	uint64_t generation; /* of the last record or snapshot */
	/* counters for status, read by any thread */
	pthread_mutex_t lock;
	struct npgw_state_info info;
	/* the background snapshot */
	pthread_t snap_thread;
	bool snap_started;
	atomic_bool snap_done;
	struct npgw_k8s_cluster *snap_state;
	uint64_t snap_generation;
	uint64_t snap_upto; /* segments up to this one are covered */
	uint64_t snap_covered_bytes;
};

/* ---- CRC-32C (Castagnoli), bytewise ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const char *buf, size_t len)
{
	const uint32_t *table = crc_table;
	uint32_t crc = 0xffffffffu;

	pthread_once(&crc_once, crc_init);
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ (uint8_t)buf[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* ---- the directory ---- */

/* The pid a lock file names, or 0. */
static long lock_holder(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

struct npgw_state *npgw_state_open(const char *dir, char *err, size_t errlen, int *rc)
{
	struct npgw_state *st;
	char pid[32];
	int r;

	state_set_err(err, errlen, "%s", "");
	if (dir == NULL || dir[0] == '\0') {
		state_set_err(err, errlen, "no state directory");
		*rc = -EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->dir = strdup(dir)) == NULL) {
		free(st);
		state_set_err(err, errlen, "out of memory");
		*rc = -ENOMEM;
		return NULL;
	}
	st->dfd = st->lock_fd = st->seg_fd = -1;
	st->bound = NPGW_STATE_JOURNAL_BOUND;
	st->max_record = NPGW_STATE_MAX_RECORD;
	pthread_mutex_init(&st->lock, NULL);
	r = state_make_dirs(dir, err, errlen);
	if (r < 0)
		goto fail;
	st->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dfd < 0) {
		r = -errno;
		state_set_err(err, errlen, "cannot open directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	st->lock_fd = openat(st->dfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		r = -errno;
		state_set_err(err, errlen, "cannot open %s/%s: %s", dir, LOCK_FILE, strerror(errno));
		goto fail;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY)
			state_set_err(err, errlen,
				"the state directory %s is in use by another npgw (pid %ld): "
				"one daemon per state directory",
				dir, lock_holder(st->lock_fd));
		else
			state_set_err(err, errlen, "cannot lock %s/%s: %s", dir, LOCK_FILE,
				strerror(errno));
		goto fail;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(st->lock_fd, 0) < 0 || pwrite(st->lock_fd, pid, strlen(pid), 0) < 0) {
		/* only the message of a refused second daemon needs it */
	}
	*rc = 0;
	return st;
fail:
	*rc = r;
	npgw_state_close(st);
	return NULL;
}

void npgw_state_close(struct npgw_state *st)
{
	if (st == NULL)
		return;
	npgw_state_wait(st);
	if (st->seg_fd >= 0)
		close(st->seg_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	if (st->dfd >= 0)
		close(st->dfd);
	pthread_mutex_destroy(&st->lock);
	free(st->dir);
	free(st);
}

void npgw_state_set_bound(struct npgw_state *st, size_t bytes)
{
	st->bound = bytes ? bytes : NPGW_STATE_JOURNAL_BOUND;
}

void npgw_state_set_max_record(struct npgw_state *st, size_t bytes)
{
	st->max_record = bytes ? bytes : NPGW_STATE_MAX_RECORD;
}

void npgw_state_get_info(struct npgw_state *st, struct npgw_state_info *info)
{
	pthread_mutex_lock(&st->lock);
	*info = st->info;
	info->snapshot_running = st->snap_started && !atomic_load(&st->snap_done);
	pthread_mutex_unlock(&st->lock);
}

/* The journal segments of the directory, sorted. *v is malloc'd. */
static int list_segments(struct npgw_state *st, uint64_t **v, size_t *n)
{
	int fd = dup(st->dfd);
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*v = NULL;
	*n = 0;
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name + strlen(SEG_PREFIX);
		char *end;
		uint64_t seq;

		if (strncmp(de->d_name, SEG_PREFIX, strlen(SEG_PREFIX)) != 0 || *s < '0' ||
		    *s > '9')
			continue;
		seq = strtoull(s, &end, 10);
		if (*end != '\0')
			continue;
		if (*n == cap) {
			uint64_t *nv = realloc(*v, (cap ? 2 * cap : 8) * sizeof(*nv));

			if (nv == NULL) {
				closedir(d);
				return -ENOMEM;
			}
			*v = nv;
			cap = cap ? 2 * cap : 8;
		}
		(*v)[(*n)++] = seq;
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++) /* insertion sort: a handful */
		for (size_t j = i; j > 0 && (*v)[j - 1] > (*v)[j]; j--) {
			uint64_t t = (*v)[j];

			(*v)[j] = (*v)[j - 1];
			(*v)[j - 1] = t;
		}
	return 0;
}

static void seg_name(char *buf, size_t len, uint64_t seq)
{
	snprintf(buf, len, SEG_PREFIX "%06" PRIu64, seq);
}

/* ---- records ---- */

static cJSON *objects_json(const struct npgw_k8s_cluster *c)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && c && i < c->n_namespaces; i++)
		cJSON_AddItemToArray(arr, npgw_k8s_namespace_to_json(c->namespaces[i]));
	for (size_t i = 0; arr && c && i < c->n_pods; i++)
		cJSON_AddItemToArray(arr, npgw_k8s_pod_to_json(c->pods[i]));
	for (size_t i = 0; arr && c && i < c->n_policies; i++)
		cJSON_AddItemToArray(arr, npgw_k8s_policy_to_json(c->policies[i]));
	/* an item that failed to print is missing: count to be sure */
	if (arr && (size_t)cJSON_GetArraySize(arr) != npgw_k8s_object_count(c)) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

char *npgw_state_change_json(const struct npgw_state_change *ch)
{
	cJSON *o = cJSON_CreateObject(), *rm = NULL, *items = NULL;
	bool ok = o != NULL;
	char *text;

	if (ok && ch->replace)
		ok = cJSON_AddBoolToObject(o, "replace", true) != NULL;
	if (ok && ch->n_removals > 0)
		ok = (rm = cJSON_AddArrayToObject(o, "remove")) != NULL;
	for (size_t k = 0; ok && k < ch->n_removals; k++) {
		const struct npgw_state_removal *r = &ch->removals[k];
		cJSON *t = cJSON_CreateArray();

		ok = t != NULL && cJSON_AddItemToArray(rm, t) &&
		     cJSON_AddItemToArray(t, cJSON_CreateString(r->kind)) &&
		     cJSON_AddItemToArray(t, r->ns ? cJSON_CreateString(r->ns) : cJSON_CreateNull()) &&
		     cJSON_AddItemToArray(t, cJSON_CreateString(r->name)) &&
		     cJSON_GetArraySize(t) == 3;
	}
	if (ok && npgw_k8s_object_count(ch->items) > 0)
		ok = (items = objects_json(ch->items)) != NULL &&
		     cJSON_AddItemToObject(o, "items", items);
	text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

/* "R crc len payload\n", malloc'd; NULL when out of memory. */
static char *record_text(uint64_t generation, const char *const *changes, size_t n, size_t *len)
{
	char *payload = NULL, *line = NULL;
	size_t plen = 0;
	FILE *f = open_memstream(&payload, &plen);
	bool ok = f != NULL;

	if (f == NULL)
		return NULL;
	ok = fprintf(f, "{\"generation\":\"%" PRIu64 "\",\"changes\":[", generation) > 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = fprintf(f, "%s%s", i ? "," : "", changes[i]) >= 0;
	ok = ok && fputs("]}", f) >= 0;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		free(payload);
		return NULL;
	}
	if (asprintf(&line, "R %08" PRIx32 " %zu %s\n", crc32c(payload, plen), plen, payload) < 0)
		line = NULL;
	else
		*len = strlen(line);
	free(payload);
	return line;
}

/* Check the record at buf (len bytes to the end of the segment): 0 with
 * the payload and the record's length, or -EBADMSG. */
static int record_parse(const char *buf, size_t len, const char **payload, size_t *plen,
			size_t *rlen)
{
	const char *nl = memchr(buf, '\n', len);
	char crc_s[9], *end;
	unsigned long long n;
	uint32_t crc;
	size_t head;

	if (nl == NULL || len < 13 || buf[0] != 'R' || buf[1] != ' ' || buf[10] != ' ')
		return -EBADMSG;
	memcpy(crc_s, buf + 2, 8);
	crc_s[8] = '\0';
	crc = (uint32_t)strtoul(crc_s, &end, 16);
	if (*end != '\0')
		return -EBADMSG;
	if (buf[11] < '0' || buf[11] > '9')
		return -EBADMSG;
	n = strtoull(buf + 11, &end, 10);
	if (end >= nl || *end != ' ')
		return -EBADMSG;
	head = (size_t)(end + 1 - buf);
	if (n != (unsigned long long)(nl - buf) - head)
		return -EBADMSG;
	if (crc32c(end + 1, (size_t)n) != crc)
		return -EBADMSG;
	*payload = end + 1;
	*plen = (size_t)n;
	*rlen = (size_t)(nl + 1 - buf);
	return 0;
}

/* Apply the changes of one record's payload to c. -EBADMSG (reason in d)
 * or -ENOMEM. */
static int replay(struct npgw_k8s_cluster *c, const char *name, const cJSON *changes,
		  struct npgw_diags *d)
{
	const cJSON *ch;
	int rc = 0;

	cJSON_ArrayForEach(ch, changes)
	{
		const cJSON *rm = cJSON_GetObjectItemCaseSensitive(ch, "remove");
		cJSON *items = cJSON_GetObjectItemCaseSensitive(ch, "items");
		struct npgw_state_removal *rv = NULL;
		struct npgw_state_change change = {0};
		struct npgw_k8s_cluster *in = NULL;
		struct npgw_state_undo u = {0};
		const cJSON *r;
		size_t n = 0;

		change.replace = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ch, "replace"));
		if (cJSON_IsArray(rm)) {
			rv = calloc((size_t)cJSON_GetArraySize(rm) + 1, sizeof(*rv));
			if (rv == NULL)
				return -ENOMEM;
			cJSON_ArrayForEach(r, rm)
			{
				const cJSON *k = cJSON_GetArrayItem(r, 0), *ns = cJSON_GetArrayItem(r, 1),
					    *nm = cJSON_GetArrayItem(r, 2);

				if (!cJSON_IsString(k) || !cJSON_IsString(nm)) {
					free(rv);
					npgw_diags_add(d, NPGW_SEV_ERROR, name, 0, 0, "remove",
						       "not [kind, namespace, name]");
					return -EBADMSG;
				}
				rv[n++] = (struct npgw_state_removal){
					k->valuestring, cJSON_IsString(ns) ? ns->valuestring : NULL,
					nm->valuestring};
			}
		}
		change.removals = rv;
		change.n_removals = n;
		if (cJSON_IsArray(items)) {
			cJSON *list = cJSON_CreateObject();
			char *text = NULL;

			in = npgw_k8s_cluster_new();
			if (list != NULL && in != NULL &&
			    cJSON_AddStringToObject(list, "apiVersion", "v1") &&
			    cJSON_AddStringToObject(list, "kind", "List")) {
				cJSON_AddItemReferenceToObject(list, "items", items);
				text = cJSON_PrintUnformatted(list);
			}
			cJSON_Delete(list);
			if (text == NULL) {
				npgw_k8s_cluster_free(in);
				free(rv);
				return -ENOMEM;
			}
			rc = npgw_k8s_load_buffer(in, name, text, strlen(text), d);
			cJSON_free(text);
			if (rc == -ENOMEM) {
				npgw_k8s_cluster_free(in);
				free(rv);
				return rc;
			}
			if (rc < 0 || in->n_refused > 0) {
				npgw_k8s_cluster_free(in);
				free(rv);
				npgw_diags_add(d, NPGW_SEV_ERROR, name, 0, 0, "items",
					       "objects of the record do not load");
				return -EBADMSG;
			}
		}
		rc = npgw_state_change_apply(c, &change, in, &u);
		if (rc == 0)
			npgw_state_undo_commit(&u);
		npgw_state_undo_clear(&u);
		npgw_k8s_cluster_free(in);
		free(rv);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0 && rc != -ENOENT) {
			/* a removal of what is not there is harmless (-ENOENT) */
			npgw_diags_add(d, NPGW_SEV_ERROR, name, 0, 0, "",
				       "the record cannot be applied: %s", strerror(-rc));
			return -EBADMSG;
		}
	}
	return 0;
}

/* Read a whole segment (a regular file). */
static int read_seg(struct npgw_state *st, const char *name, char **buf, size_t *len)
{
	int fd = openat(st->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat sb;
	size_t n = 0;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > NPGW_STATE_MAX_SIZE) {
		close(fd);
		return !S_ISREG(sb.st_mode) ? -EBADMSG : -EFBIG;
	}
	*buf = malloc((size_t)sb.st_size + 1);
	if (*buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, *buf + n, (size_t)sb.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	*len = n;
	return 0;
}

/*
 * Replay one segment into c: records of a generation up to skip are
 * already in the snapshot. A bad record that is the last line of the last
 * segment is torn: the segment is truncated before it. *last_gen: the
 * generation of the last record applied.
 */
static int replay_segment(struct npgw_state *st, uint64_t seq, bool last,
			  struct npgw_k8s_cluster *c, uint64_t skip, uint64_t *last_gen,
			  uint64_t *bytes, struct npgw_diags *d)
{
	char name[64], path[4096], *buf;
	size_t len, off = 0;
	unsigned int k = 0;
	int rc;

	seg_name(name, sizeof(name), seq);
	snprintf(path, sizeof(path), "%s/%s", st->dir, name);
	rc = read_seg(st, name, &buf, &len);
	if (rc < 0) {
		npgw_diags_add(d, NPGW_SEV_ERROR, path, 0, 0, "", "cannot read: %s",
			       strerror(-rc));
		return rc == -ENOMEM ? rc : -EBADMSG;
	}
	while (off < len && rc == 0) {
		const char *payload;
		size_t plen, rlen;
		char where[4200];
		cJSON *j;
		uint64_t gen = 0;

		k++;
		snprintf(where, sizeof(where), "%s: record %u", path, k);
		if (record_parse(buf + off, len - off, &payload, &plen, &rlen) < 0) {
			const char *nl = memchr(buf + off, '\n', len - off);

			if (last && (nl == NULL || (size_t)(nl + 1 - buf) == len)) {
				npgw_diags_add(d, NPGW_SEV_WARNING, path, 0, 0, "",
					       "record %u is torn (%zu bytes; never acknowledged): "
					       "dropped",
					       k, len - off);
				int fd = openat(st->dfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

				if (fd < 0 || ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0) {
					npgw_diags_add(d, NPGW_SEV_ERROR, path, 0, 0, "",
						       "cannot truncate the torn record: %s",
						       strerror(errno));
					rc = -EIO;
				}
				if (fd >= 0)
					close(fd);
				break;
			}
			npgw_diags_add(d, NPGW_SEV_ERROR, path, 0, 0, "",
				       "record %u (at byte %zu) is corrupt (length or checksum) "
				       "and is not the last: the journal is damaged",
				       k, off);
			rc = -EBADMSG;
			break;
		}
		j = cJSON_ParseWithLength(payload, plen);
		if (j == NULL ||
		    !state_parse_u64(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "generation")),
			       &gen) ||
		    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "changes"))) {
			npgw_diags_add(d, NPGW_SEV_ERROR, where, 0, 0, "",
				       "checksum right, but not a record");
			rc = -EBADMSG;
		} else if (gen > NPGW_STATE_MAX_GENERATION) {
			npgw_diags_add(d, NPGW_SEV_ERROR, where, 0, 0, "",
				       "generation %" PRIu64 " is above the limit of 2^53: refused "
				       "rather than wrapped", gen);
			rc = -EBADMSG;
		} else if (gen > skip) {
			rc = replay(c, where, cJSON_GetObjectItemCaseSensitive(j, "changes"), d);
			*last_gen = gen;
		}
		cJSON_Delete(j);
		off += rlen;
	}
	*bytes = off;
	free(buf);
	return rc;
}

struct npgw_k8s_cluster *npgw_state_restore(struct npgw_state *st, uint64_t *generation,
					    struct npgw_diags *diags, int *err)
{
	struct npgw_k8s_cluster *c;
	uint64_t snap_gen = 0, last = 0, *segs = NULL, total = 0;
	size_t n_segs = 0;
	bool have_snap;
	char name[64];
	int rc = 0;

	c = npgw_state_load(st->dir, &snap_gen, diags, &rc);
	if (c == NULL && rc != -ENOENT)
		goto fail;
	have_snap = c != NULL;
	if (c == NULL && (c = npgw_k8s_cluster_new()) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	npgw_k8s_cluster_sort(c);
	rc = list_segments(st, &segs, &n_segs);
	if (rc < 0)
		goto fail;
	last = snap_gen;
	for (size_t i = 0; i < n_segs; i++) {
		uint64_t g = 0, bytes = 0;

		rc = replay_segment(st, segs[i], i + 1 == n_segs, c, snap_gen, &g, &bytes, diags);
		if (rc < 0)
			goto fail;
		if (g > last)
			last = g;
		total += bytes;
	}
	if (!have_snap && last == 0 && n_segs == 0) {
		rc = -ENOENT;
		goto fail;
	}
	if (last > 0 || have_snap) {
		/* the replayed state must hold together as every applied one did */
		size_t before = diags->n_errors;

		rc = npgw_k8s_cluster_validate(c, diags);
		if (rc == 0 && diags->n_errors != before)
			rc = -EINVAL;
		if (rc == -EINVAL) {
			npgw_diags_add(diags, NPGW_SEV_ERROR, st->dir, 0, 0, "",
				       "snapshot and journal together do not validate: "
				       "nothing of them is used");
			rc = -EBADMSG;
		}
		if (rc < 0)
			goto fail;
	}
	/* append to the last segment, or start the first */
	st->seg_seq = n_segs ? segs[n_segs - 1] : 1;
	seg_name(name, sizeof(name), st->seg_seq);
	st->seg_fd = openat(st->dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			    0600);
	if (st->seg_fd < 0) {
		rc = -errno;
		npgw_diags_add(diags, NPGW_SEV_ERROR, st->dir, 0, 0, "", "cannot open %s: %s",
			       name, strerror(errno));
		goto fail;
	}
	st->seg_bytes = (uint64_t)lseek(st->seg_fd, 0, SEEK_END);
	st->generation = last;
	pthread_mutex_lock(&st->lock);
	st->info.journal_bytes = total;
	st->info.snapshot_generation = snap_gen;
	pthread_mutex_unlock(&st->lock);
	free(segs);
	if (generation)
		*generation = last;
	*err = 0;
	return c;
fail:
	free(segs);
	npgw_k8s_cluster_free(c);
	if (rc == -ENOENT) {
		/* nothing saved: be ready to append anyway */
		st->seg_seq = 1;
		seg_name(name, sizeof(name), st->seg_seq);
		st->seg_fd = openat(st->dfd, name,
				    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (st->seg_fd < 0) {
			rc = -errno;
			npgw_diags_add(diags, NPGW_SEV_ERROR, st->dir, 0, 0, "",
				       "cannot create %s: %s", name, strerror(errno));
		}
	}
	*err = rc;
	return NULL;
}

/* ---- the snapshot ---- */

/* Remove the segments up to seq (covered by a snapshot). */
static void drop_segments(struct npgw_state *st, uint64_t upto)
{
	uint64_t *segs = NULL;
	size_t n = 0;
	char name[64];

	if (list_segments(st, &segs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (segs[i] <= upto) {
			seg_name(name, sizeof(name), segs[i]);
			unlinkat(st->dfd, name, 0);
		}
	fsync(st->dfd);
	free(segs);
}

static void *snap_main(void *arg)
{
	struct npgw_state *st = arg;
	char why[256] = "";
	int rc = npgw_state_save(st->dir, st->snap_state, st->snap_generation, why, sizeof(why));

	if (rc == 0)
		drop_segments(st, st->snap_upto);
	pthread_mutex_lock(&st->lock);
	if (rc == 0) {
		st->info.snapshots++;
		st->info.snapshot_generation = st->snap_generation;
		st->info.journal_bytes -= st->info.journal_bytes < st->snap_covered_bytes
						  ? st->info.journal_bytes
						  : st->snap_covered_bytes;
		st->info.snapshot_error[0] = '\0';
	} else {
		snprintf(st->info.snapshot_error, sizeof(st->info.snapshot_error), "%s", why);
	}
	pthread_mutex_unlock(&st->lock);
	npgw_k8s_cluster_free(st->snap_state);
	st->snap_state = NULL;
	atomic_store(&st->snap_done, true);
	return NULL;
}

void npgw_state_wait(struct npgw_state *st)
{
	if (st->snap_started) {
		pthread_join(st->snap_thread, NULL);
		st->snap_started = false;
	}
}

/* Close the segment and start the next one (its name made durable). */
static int rotate(struct npgw_state *st, char *err, size_t errlen)
{
	char name[64];
	int fd;

	seg_name(name, sizeof(name), st->seg_seq + 1);
	fd = openat(st->dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fsync(st->dfd) < 0) {
		state_set_err(err, errlen, "cannot start %s/%s: %s", st->dir, name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(st->seg_fd);
	st->seg_fd = fd;
	st->seg_seq++;
	st->seg_bytes = 0;
	return 0;
}

int npgw_state_append(struct npgw_state *st, uint64_t generation, const char *const *changes,
		      size_t n,
		      const struct npgw_k8s_cluster *after, char *err, size_t errlen)
{
	size_t len = 0;
	char *line;
	int rc = 0;

	state_set_err(err, errlen, "%s", "");
	if (st->seg_fd < 0) {
		state_set_err(err, errlen, "the state directory was not restored first");
		return -EINVAL;
	}
	if (st->snap_started && atomic_load(&st->snap_done))
		npgw_state_wait(st);
	line = record_text(generation, changes, n, &len);
	if (line == NULL) {
		state_set_err(err, errlen, "out of memory writing the journal record");
		return -ENOMEM;
	}
	if (len > st->max_record) {
		/* too large for the journal (and for the loader at replay): a
		 * snapshot of the whole state instead, and a new segment */
		free(line);
		npgw_state_wait(st);
		rc = npgw_state_save(st->dir, after, generation, err, errlen);
		if (rc < 0)
			return rc;
		rc = rotate(st, err, errlen);
		if (rc == 0)
			drop_segments(st, st->seg_seq - 1);
		pthread_mutex_lock(&st->lock);
		st->info.snapshots++;
		st->info.snapshot_generation = generation;
		st->info.journal_bytes = 0;
		st->info.records++;
		pthread_mutex_unlock(&st->lock);
		st->generation = generation;
		/* the snapshot is durable: a failed rotate only means the next
		 * records go on in the old segment, after the snapshot's
		 * generation, which replay handles */
		return 0;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(st->seg_fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fdatasync(st->seg_fd) < 0)
		rc = -errno;
	free(line);
	if (rc < 0) {
		char name[64];

		seg_name(name, sizeof(name), st->seg_seq);
		state_set_err(err, errlen, "cannot write %s/%s: %s", st->dir, name, strerror(-rc));
		/* take back what part of it was written: the next record must
		 * not follow a torn one */
		if (ftruncate(st->seg_fd, (off_t)st->seg_bytes) < 0 || fdatasync(st->seg_fd) < 0) {
			/* then the record is torn, and replay drops it */
		}
		return rc;
	}
	st->seg_bytes += len;
	st->generation = generation;
	pthread_mutex_lock(&st->lock);
	st->info.journal_bytes += len;
	st->info.records++;
	pthread_mutex_unlock(&st->lock);
	if (st->seg_bytes > st->bound && !st->snap_started && after != NULL) {
		char why[256];
		int e = 0;
		uint64_t covered;

		/* a new segment first: what follows is after the snapshot */
		if (rotate(st, why, sizeof(why)) < 0)
			return 0; /* the record is durable; the next one retries */
		pthread_mutex_lock(&st->lock);
		covered = st->info.journal_bytes;
		pthread_mutex_unlock(&st->lock);
		st->snap_state = npgw_k8s_cluster_clone(after, &e);
		if (st->snap_state == NULL)
			return 0;
		st->snap_generation = generation;
		st->snap_upto = st->seg_seq - 1;
		st->snap_covered_bytes = covered;
		atomic_store(&st->snap_done, false);
		if (pthread_create(&st->snap_thread, NULL, snap_main, st) != 0) {
			npgw_k8s_cluster_free(st->snap_state);
			st->snap_state = NULL;
			return 0;
		}
		st->snap_started = true;
	}
	return 0;
}
