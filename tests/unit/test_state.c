/*
 * test_state.c: lib/state saves the desired state atomically and restores
 * exactly it, or nothing. Round trip (every field, the generation), the
 * directory and file modes, failures that must leave the old state whole
 * (a full disk simulated with RLIMIT_FSIZE, a path that is not a directory,
 * state.json replaced by a directory, a state that would not load back),
 * temporary files left by a crash, corrupt and hostile files (every
 * truncation, wrong types, bad numbers, a count that does not match, a
 * newer format, a FIFO), and a second process reading while the first
 * saves, or is killed while saving: state.json is always old or new, whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cunit_main.h"
#include "k8s_compare.h"
#include "npgw_k8s.h"
#include "npgw_state.h"

/* ---- helpers ---- */

static struct npgw_k8s_cluster *load_text(const char *name, const char *text)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rc = npgw_k8s_load_buffer(c, name, text, strlen(text), &d);
	if (d.n_errors)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_EQUAL(rc, 0);
	npgw_diags_free(&d);
	return c;
}

/* A new empty directory under /tmp; the caller removes it with rm_tree. */
static char *temp_dir(void)
{
	char *d = strdup("/tmp/npgw-state-test-XXXXXX");

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d));
	return d;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *join(const char *dir, const char *name)
{
	char *p;

	CU_ASSERT_FATAL(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void write_text(const char *dir, const char *name, const char *text, size_t len)
{
	char *p = join(dir, name);
	FILE *f = fopen(p, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
	fclose(f);
	free(p);
}

/* The whole of dir/name (NUL-terminated), length in *len. */
static char *read_text(const char *dir, const char *name, size_t *len)
{
	char *p = join(dir, name), *buf = NULL;
	FILE *f = fopen(p, "r");
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(p);
	*len = (size_t)n;
	return buf;
}

/* Number of entries of dir other than . and .. */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void save_ok(const char *dir, const struct npgw_k8s_cluster *c, uint64_t gen)
{
	char err[512];
	int rc = npgw_state_save(dir, c, gen, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "\nsave: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(err, "");
}

/* Load and expect failure rc; returns the diagnostics' text (caller frees). */
static char *load_fails(const char *dir, int want)
{
	struct npgw_diags d = {0};
	uint64_t gen = 12345;
	int err = 0;
	struct npgw_k8s_cluster *c = npgw_state_load(dir, &gen, &d, &err);
	char *text = npgw_diags_to_json(&d);

	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(err, want);
	if (err != want)
		fprintf(stderr, "\nload: got %d (%s), want %d: %s\n", err, strerror(-err), want,
			text);
	CU_ASSERT_EQUAL(gen, 12345); /* untouched */
	if (want != -ENOENT && want != -ENOMEM)
		CU_ASSERT(d.n_errors > 0);
	npgw_k8s_cluster_free(c);
	npgw_diags_free(&d);
	return text;
}

static struct npgw_k8s_cluster *load_state(const char *dir, uint64_t *gen)
{
	struct npgw_diags d = {0};
	int err = -1;
	struct npgw_k8s_cluster *c = npgw_state_load(dir, gen, &d, &err);

	if (c == NULL)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	npgw_diags_free(&d);
	return c;
}

static const char cluster_a[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web}}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-1, namespace: shop, labels: {app: web}}\n"
	"spec:\n"
	"  hostNetwork: false\n"
	"  containers:\n"
	"  - {name: a, ports: [{name: http, containerPort: 80}, {containerPort: 53, "
	"protocol: UDP}]}\n"
	"  - {name: b, ports: [{name: http, containerPort: 81, protocol: SCTP}]}\n"
	"status: {phase: Running, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: node-agent, namespace: kube-system}\n"
	"spec: {hostNetwork: true}\n"
	"status: {podIP: 192.168.0.1}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}, matchExpressions: [{key: env, operator: "
	"NotIn, values: [dev]}, {key: x, operator: DoesNotExist}]}\n"
	"  policyTypes: [Ingress, Egress]\n"
	"  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: lb}}, namespaceSelector: {}}, "
	"{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}, {ipBlock: {cidr: 'fd00::/8'}}]\n"
	"    ports: [{port: http}, {port: 8000, endPort: 8100, protocol: UDP}, {protocol: SCTP}]\n"
	"  - {}\n"
	"  egress: [{to: [{namespaceSelector: {matchLabels: {team: dns}}}], ports: [{port: 53, "
	"protocol: UDP}]}]\n";

static const char cluster_b[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: deny, namespace: other}\n"
	"spec: {podSelector: {}}\n";

/* ---- round trip ---- */

static void test_round_trip(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a), *b;
	char *dir = temp_dir(), *path = join(dir, NPGW_STATE_FILE), why[1024];
	uint64_t gen = 0;
	struct stat st;

	save_ok(dir, a, 42);
	b = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(gen, 42);
	CU_ASSERT_TRUE(k8s_cluster_same(a, b, K8S_CMP_REFUSED, why, sizeof(why)));
	/* a restored object says where it is in the state file */
	CU_ASSERT_STRING_EQUAL(b->pods[0]->origin.file, path);
	CU_ASSERT(b->pods[0]->origin.line > 1);
	/* the file is private */
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	npgw_k8s_cluster_free(b);
	/* the whole range of generations (above 2^53: see
	 * test_generation_above_2_53_is_refused) */
	save_ok(dir, a, NPGW_STATE_MAX_GENERATION);
	b = load_state(dir, &gen);
	CU_ASSERT_EQUAL(gen, NPGW_STATE_MAX_GENERATION);
	npgw_k8s_cluster_free(b);
	save_ok(dir, a, 0);
	b = load_state(dir, &gen);
	CU_ASSERT_EQUAL(gen, 0);
	npgw_k8s_cluster_free(b);
	npgw_k8s_cluster_free(a);
	free(path);
	rm_tree(dir);
}

static void test_empty_state_round_trips(void)
{
	struct npgw_k8s_cluster *a = npgw_k8s_cluster_new(), *b;
	char *dir = temp_dir();
	uint64_t gen = 0;

	save_ok(dir, a, 7);
	b = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(npgw_k8s_object_count(b), 0);
	CU_ASSERT_EQUAL(gen, 7);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

/* The shipped examples: saved, restored, the same. */
static void test_examples_round_trip(void)
{
	const char *path = NPGW_SOURCE_ROOT "/config/examples";
	struct npgw_diags d = {0};
	int err = 0;
	struct npgw_k8s_cluster *a = npgw_k8s_load_paths(&path, 1, &d, &err), *b;
	char *dir = temp_dir(), why[1024];
	uint64_t gen = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	save_ok(dir, a, 3);
	b = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_TRUE(k8s_cluster_same(a, b, 0, why, sizeof(why)));
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

static void test_file_format(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	static const char head[] = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{"
				   "\"annotations\":{\"npgw.io/state-version\":\"1\","
				   "\"npgw.io/generation\":\"99\",\"npgw.io/objects\":\"2\","
				   "\"npgw.io/saved-at\":\"";
	static const char items[] =
		"\"}},\"items\":[\n"
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"other\","
		"\"labels\":{\"kubernetes.io/metadata.name\":\"other\"}}},\n"
		"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{"
		"\"namespace\":\"other\",\"name\":\"deny\"},\"spec\":{\"podSelector\":{},"
		"\"policyTypes\":[\"Ingress\"]}}\n"
		"]}\n";
	char *dir = temp_dir(), *text;
	size_t len;

	save_ok(dir, a, 99);
	text = read_text(dir, NPGW_STATE_FILE, &len);
	/* a kubectl List, our facts in its annotations, then one object a
	 * line */
	CU_ASSERT_EQUAL(strncmp(text, head, strlen(head)), 0);
	CU_ASSERT_EQUAL(len, strlen(head) + strlen("2025-01-31T12:00:00Z") + strlen(items));
	CU_ASSERT_STRING_EQUAL(text + strlen(head) + strlen("2025-01-31T12:00:00Z"), items);
	free(text);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
}

/* A state reformatted by a person (jq ., an editor) still loads: the
 * envelope is then read from the whole file. */
static void test_reformatted_state_loads(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a), *r;
	char *dir = temp_dir(), *text, *pretty, why[1024];
	uint64_t gen = 0;
	cJSON *j;
	size_t len;

	save_ok(dir, a, 31);
	text = read_text(dir, NPGW_STATE_FILE, &len);
	j = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	pretty = cJSON_Print(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pretty);
	write_text(dir, NPGW_STATE_FILE, pretty, strlen(pretty));
	r = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(gen, 31);
	CU_ASSERT_TRUE(k8s_cluster_same(a, r, 0, why, sizeof(why)));
	npgw_k8s_cluster_free(r);
	cJSON_free(pretty);
	cJSON_Delete(j);
	free(text);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
}

/* ---- no state ---- */

static void test_no_state_is_enoent(void)
{
	char *dir = temp_dir(), *missing = join(dir, "not/there"), *text;

	text = load_fails(dir, -ENOENT);
	CU_ASSERT_STRING_EQUAL(text, "[]"); /* nothing said */
	free(text);
	text = load_fails(missing, -ENOENT);
	free(text);
	/* a crash before the first rename leaves only a temporary file */
	write_text(dir, ".state.json.tmp-1-1", "{\"half", 6);
	text = load_fails(dir, -ENOENT);
	free(text);
	free(missing);
	rm_tree(dir);
}

/* ---- the directory ---- */

static void test_directory_is_created_private(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b), *b;
	char *dir = temp_dir(), *deep = join(dir, "var/lib/npgw");
	uint64_t gen;
	struct stat st;

	save_ok(deep, a, 1);
	CU_ASSERT_EQUAL_FATAL(stat(deep, &st), 0);
	CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	b = load_state(deep, &gen);
	CU_ASSERT_PTR_NOT_NULL(b);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	free(deep);
	rm_tree(dir);
}

static void test_save_replaces(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a);
	struct npgw_k8s_cluster *b = load_text("b.yaml", cluster_b), *r;
	char *dir = temp_dir(), why[1024];
	uint64_t gen;

	save_ok(dir, a, 1);
	save_ok(dir, b, 2);
	r = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(gen, 2);
	CU_ASSERT_TRUE(k8s_cluster_same(b, r, 0, why, sizeof(why)));
	CU_ASSERT_EQUAL(count_entries(dir), 1); /* no temporary file left */
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	npgw_k8s_cluster_free(r);
	rm_tree(dir);
}

/* ---- failures leave the old state whole ---- */

/* The old state is still what dir holds, and nothing else is there. */
static void check_still(const char *dir, const struct npgw_k8s_cluster *want, uint64_t want_gen)
{
	struct npgw_k8s_cluster *r;
	uint64_t gen = 0;
	char why[1024];

	r = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(gen, want_gen);
	CU_ASSERT_TRUE(k8s_cluster_same(want, r, 0, why, sizeof(why)));
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	npgw_k8s_cluster_free(r);
}

/* A full disk: RLIMIT_FSIZE makes the write fail with EFBIG. */
static void test_full_disk_keeps_old_state(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	struct npgw_k8s_cluster *b = load_text("a.yaml", cluster_a);
	char *dir = temp_dir(), err[512];
	struct rlimit old, small;
	void (*old_handler)(int);
	int rc;

	save_ok(dir, a, 1);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 1024; /* the new state is larger */
	old_handler = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = npgw_state_save(dir, b, 2, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	CU_ASSERT_EQUAL(rc, -EFBIG);
	/* what failed, on which file, why */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot write "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(EFBIG)));
	check_still(dir, a, 1);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

static void test_unusable_directory(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	char *dir = temp_dir(), *file = join(dir, "file"), *under = join(dir, "file/sub"), err[512];
	int rc;

	write_text(dir, "file", "x", 1);
	rc = npgw_state_save(under, a, 1, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -ENOTDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create directory"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, under));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(ENOTDIR)));
	rc = npgw_state_save(file, a, 1, err, sizeof(err));
	CU_ASSERT(rc == -ENOTDIR || rc == -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, file));
	/* a read-only directory: only meaningful when not root */
	if (geteuid() != 0) {
		char *ro = join(dir, "ro");

		CU_ASSERT_EQUAL_FATAL(mkdir(ro, 0500), 0);
		rc = npgw_state_save(ro, a, 1, err, sizeof(err));
		CU_ASSERT_EQUAL(rc, -EACCES);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, ro));
		chmod(ro, 0700);
		free(ro);
	}
	CU_ASSERT_EQUAL(npgw_state_save("", a, 1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(npgw_state_save(NULL, a, 1, NULL, 0), -EINVAL);
	npgw_k8s_cluster_free(a);
	free(file);
	free(under);
	rm_tree(dir);
}

/* state.json is a directory: the rename fails, the temporary file goes. */
static void test_rename_failure_cleans_up(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	char *dir = temp_dir(), *sj = join(dir, NPGW_STATE_FILE), *inner = join(sj, "x"), err[512];
	int rc;

	CU_ASSERT_EQUAL_FATAL(mkdir(sj, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(inner, 0700), 0); /* not empty: rename cannot replace it */
	rc = npgw_state_save(dir, a, 1, err, sizeof(err));
	CU_ASSERT(rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot rename"));
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	free(load_fails(dir, -EBADMSG)); /* a directory is no state */
	npgw_k8s_cluster_free(a);
	free(inner);
	free(sj);
	rm_tree(dir);
}

/* A cluster that would not load back (two pods of one name, as a merge
 * of a bad apply could make) is refused before anything is written. */
static void test_unloadable_state_is_not_saved(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	struct npgw_k8s_cluster *bad = load_text("a.yaml", cluster_a);
	struct npgw_k8s_cluster *dup = load_text(
		"dup.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n---\n"
			    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n");
	char *dir = temp_dir(), err[512];
	int rc;

	save_ok(dir, a, 1);
	CU_ASSERT_EQUAL_FATAL(npgw_k8s_cluster_merge(bad, dup), 0);
	rc = npgw_state_save(dir, bad, 2, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "would not load back"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "defined twice"));
	/* a protocol the loader does not take */
	npgw_k8s_cluster_free(bad);
	bad = load_text("a.yaml", cluster_a);
	bad->pods[1]->ports[0].protocol = NPGW_PROTO_ICMP;
	rc = npgw_state_save(dir, bad, 3, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown protocol"));
	check_still(dir, a, 1);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(bad);
	npgw_k8s_cluster_free(dup);
	rm_tree(dir);
}

/* ---- crash leftovers ---- */

static void test_leftover_temp_is_ignored_and_cleaned(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b), *r;
	char *dir = temp_dir();
	uint64_t gen = 0;

	save_ok(dir, a, 5);
	write_text(dir, ".state.json.tmp-999-1", "garbage", 7);
	write_text(dir, ".state.json.tmp-1-2", "", 0);
	r = load_state(dir, &gen); /* never read */
	CU_ASSERT_PTR_NOT_NULL(r);
	CU_ASSERT_EQUAL(gen, 5);
	npgw_k8s_cluster_free(r);
	CU_ASSERT_EQUAL(count_entries(dir), 3);
	save_ok(dir, a, 6); /* removes them */
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
}

/* ---- corrupt and hostile files ---- */

/* Every prefix of a good file is refused, never read in part. */
static void test_every_truncation_is_refused(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a);
	char *dir = temp_dir(), *text;
	size_t len, refused = 0;

	save_ok(dir, a, 8);
	text = read_text(dir, NPGW_STATE_FILE, &len);
	CU_ASSERT(len > 1000);
	for (size_t n = 0; n < len; n++) {
		struct npgw_diags d = {0};
		uint64_t gen = 0;
		int err = 0;
		struct npgw_k8s_cluster *r;

		/* what follows the last closing brace is only a newline, if anything */
		if (strspn(text + n, "\n") == len - n)
			continue;
		write_text(dir, NPGW_STATE_FILE, text, n);
		r = npgw_state_load(dir, &gen, &d, &err);
		if (r != NULL || err != -EBADMSG || d.n_errors == 0)
			fprintf(stderr, "\ntruncated at %zu: err %d\n", n, err);
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT_EQUAL(err, -EBADMSG);
		CU_ASSERT(d.n_errors > 0);
		refused += r == NULL;
		npgw_k8s_cluster_free(r);
		npgw_diags_free(&d);
	}
	CU_ASSERT(refused > 1000);
	free(text);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
}

/* A good file with substitutions applied (from, to, from, to...: the
 * first occurrence of each); expect want. Returns the diagnostics' JSON
 * for more checks (caller frees). */
static char *edited(const char *const *pairs, size_t n, int want)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a);
	char *dir = temp_dir(), *text, *msgs;
	size_t len;

	save_ok(dir, a, 8);
	text = read_text(dir, NPGW_STATE_FILE, &len);
	for (size_t i = 0; i + 1 < n; i += 2) {
		char *at = strstr(text, pairs[i]), *out;

		CU_ASSERT_PTR_NOT_NULL_FATAL(at);
		CU_ASSERT_FATAL(asprintf(&out, "%.*s%s%s", (int)(at - text), text, pairs[i + 1],
					 at + strlen(pairs[i])) > 0);
		free(text);
		text = out;
	}
	write_text(dir, NPGW_STATE_FILE, text, strlen(text));
	msgs = load_fails(dir, want);
	free(text);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
	return msgs;
}

static void expect_edit(const char *from, const char *to, int want, const char *said)
{
	const char *pairs[] = {from, to};
	char *msgs = edited(pairs, 2, want);

	if (strstr(msgs, said) == NULL)
		fprintf(stderr, "\n%s -> %s: no \"%s\" in %s\n", from, to, said, msgs);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, said));
	free(msgs);
}

static void test_wrong_envelope_is_refused(void)
{
	expect_edit("\"npgw.io/state-version\":\"1\"", "\"npgw.io/state-version\":1",
		    -EBADMSG, "expected a string");
	expect_edit("\"npgw.io/state-version\":\"1\"", "\"npgw.io/state-version\":\"01\"",
		    -EBADMSG, "is not a format version");
	expect_edit("\"npgw.io/state-version\":\"1\"", "\"npgw.io/state-version\":\"0\"",
		    -EBADMSG, "is not a format version");
	expect_edit("\"npgw.io/state-version\":\"1\",", "", -EBADMSG,
		    "missing: not an npgw state file");
	expect_edit("\"npgw.io/generation\":\"8\"", "\"npgw.io/generation\":\"-8\"", -EBADMSG,
		    "is not a generation");
	expect_edit("\"npgw.io/generation\":\"8\"",
		    "\"npgw.io/generation\":\"18446744073709551616\"", -EBADMSG,
		    "is not a generation");
	expect_edit("\"npgw.io/generation\":\"8\"", "\"npgw.io/generation\":8", -EBADMSG,
		    "expected a string");
	expect_edit("\"npgw.io/objects\":\"4\"", "\"npgw.io/objects\":\"4x\"", -EBADMSG,
		    "is not an object count");
	expect_edit("\"kind\":\"List\"", "\"kind\":\"PodList\"", -EBADMSG,
		    "not an npgw state file");
	expect_edit("\"annotations\":{", "\"annotationz\":{", -EBADMSG,
		    "not an npgw state file");
}

static void test_newer_format_is_refused(void)
{
	expect_edit("\"npgw.io/state-version\":\"1\"", "\"npgw.io/state-version\":\"2\"",
		    -ENOTSUP, "written by a newer npgw");
	/* refused as newer, not as the field errors of what it now holds */
	{
		const char *pairs[] = {
			"\"npgw.io/state-version\":\"1\"", "\"npgw.io/state-version\":\"3\"",
			"\"policyTypes\"", "\"policyKinds\"",
			"\"npgw.io/generation\":\"8\"", "\"npgw.io/generation\":{\"at\": 8}",
		};
		char *msgs = edited(pairs, NPGW_ARRAY_SIZE(pairs), -ENOTSUP);

		CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "state format 3 was written by a newer npgw"));
		CU_ASSERT_PTR_NULL(strstr(msgs, "policyKinds"));
		free(msgs);
	}
}

static void test_bad_objects_are_refused(void)
{
	/* an item the loader refuses: named with its position */
	expect_edit("\"containerPort\":80", "\"containerPort\":80000", -EBADMSG,
		    "outside 1..65535");
	expect_edit("\"containerPort\":80", "\"containerPort\":80000", -EBADMSG,
		    "\"line\":");
	expect_edit("\"cidr\":\"10.0.0.0/8\"", "\"cidr\":\"10.0.0.0/33\"", -EBADMSG,
		    "not a valid CIDR");
	expect_edit("\"hostNetwork\":true", "\"hostNetwork\":\"true\"", -EBADMSG,
		    "expected a boolean");
	/* one object fewer than the count says: a Service is not ours */
	expect_edit("\"kind\":\"Namespace\"", "\"kind\":\"Service\"", -EBADMSG,
		    "objects read, but the state says 4");
	/* a duplicate key, which cJSON would take */
	expect_edit("\"name\":\"web-1\"", "\"name\":\"web-1\", \"name\": \"web-2\"", -EBADMSG,
		    "duplicate");
	/* the summary line */
	expect_edit("\"name\":\"web-1\"", "\"name\":\"Web_1\"", -EBADMSG,
		    "the saved state is corrupt: nothing of it is used");
}

static void test_garbage_is_refused(void)
{
#define CASE(s) {s, sizeof(s) - 1}
	static const struct {
		const char *text;
		size_t len;
	} cases[] = {
		CASE(""),
		CASE("\n\n"),
		CASE("null"),
		CASE("[]"),
		CASE("{}"),
		CASE("\"List\""),
		CASE("{\"apiVersion\": \"v1\", \"kind\": \"List\"}"),
		CASE("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}"),
		CASE("apiVersion: v1\nkind: List\nitems: []\n"),
		CASE("\xff\xfe{}"),
		CASE("{\"a\":\"\0\"}"),
		CASE("{} {}"),
		CASE("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"metadata\": {\"annotations\": "
		     "{\"npgw.io/state-version\": \"1\", \"npgw.io/generation\": \"1\", "
		     "\"npgw.io/objects\": \"0\"}}, \"items\": []} trailing"),
	};
#undef CASE
	char *dir = temp_dir();

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(cases); i++) {
		write_text(dir, NPGW_STATE_FILE, cases[i].text, cases[i].len);
		free(load_fails(dir, -EBADMSG));
	}
	rm_tree(dir);
}

/* Issue 18: a generation above 2^53 (2^64 - 1 made the next change go
 * live as generation 0) is refused at load; 2^53 itself loads. */
static void test_generation_above_2_53_is_refused(void)
{
	char *dir = temp_dir(), *msgs;
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_b), *r;
	uint64_t gen = 0;

	save_ok(dir, a, UINT64_MAX);
	msgs = load_fails(dir, -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "generation 18446744073709551615 is above the limit "
					    "of 2^53 (9007199254740992): refused rather than wrapped"));
	free(msgs);
	save_ok(dir, a, NPGW_STATE_MAX_GENERATION + 1);
	free(load_fails(dir, -EBADMSG));
	save_ok(dir, a, NPGW_STATE_MAX_GENERATION);
	r = load_state(dir, &gen);
	CU_ASSERT_PTR_NOT_NULL(r);
	CU_ASSERT_EQUAL(gen, NPGW_STATE_MAX_GENERATION);
	npgw_k8s_cluster_free(r);
	npgw_k8s_cluster_free(a);
	rm_tree(dir);
}

/* Issue 18: a state directory or state file that others can write, one
 * owned by another user, and a symbolic link in place of the file are
 * refused (the daemon refuses to start on npgw_state_check_dir). */
static void test_untrusted_state_directory_is_refused(void)
{
	char *dir = temp_dir(), *p = join(dir, NPGW_STATE_FILE), *other, *msgs;
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_b);
	struct npgw_diags d = {0};

	save_ok(dir, a, 7);
	CU_ASSERT_EQUAL(npgw_state_check_dir(dir, &d), 0);
	CU_ASSERT_EQUAL(d.n, 0);
	/* a missing directory is fine: save creates it private */
	other = join(dir, "missing");
	CU_ASSERT_EQUAL(npgw_state_check_dir(other, &d), 0);
	free(other);

	CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
	CU_ASSERT_EQUAL(npgw_state_check_dir(dir, &d), -EPERM);
	CU_ASSERT_EQUAL_FATAL(d.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.v[0].message, "is writable by its group or by others "
						      "(mode 0777)"));
	npgw_diags_free(&d);
	CU_ASSERT_EQUAL(chmod(dir, 0700), 0);

	CU_ASSERT_EQUAL(chmod(p, 0666), 0);
	CU_ASSERT_EQUAL(npgw_state_check_dir(dir, &d), -EPERM);
	CU_ASSERT_EQUAL(d.n, 1);
	npgw_diags_free(&d);
	msgs = load_fails(dir, -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "(mode 0666): chmod go-w it: refused"));
	free(msgs);
	CU_ASSERT_EQUAL(chmod(p, 0600), 0);

	if (geteuid() == 0) {
		/* owned by nobody (65534), as in the probe */
		CU_ASSERT_EQUAL(chown(p, 65534, 65534), 0);
		CU_ASSERT_EQUAL(npgw_state_check_dir(dir, &d), -EPERM);
		CU_ASSERT_EQUAL_FATAL(d.n, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.v[0].message, "owned by another user (uid 65534)"));
		npgw_diags_free(&d);
		free(load_fails(dir, -EPERM));
		CU_ASSERT_EQUAL(chown(p, 0, 0), 0);
	} else {
		fprintf(stderr, "\n(not root: the check of another owner is not run)\n");
	}

	/* a symbolic link in place of the file, to a good state elsewhere */
	char *elsewhere = temp_dir(), *target = join(elsewhere, NPGW_STATE_FILE);
	save_ok(elsewhere, a, 9);
	CU_ASSERT_EQUAL(unlink(p), 0);
	CU_ASSERT_EQUAL(symlink(target, p), 0);
	CU_ASSERT_EQUAL(npgw_state_check_dir(dir, &d), -EPERM);
	CU_ASSERT_EQUAL_FATAL(d.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.v[0].message, "is a symbolic link"));
	npgw_diags_free(&d);
	msgs = load_fails(dir, -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "is a symbolic link: refused"));
	free(msgs);
	free(target);
	rm_tree(elsewhere);
	npgw_k8s_cluster_free(a);
	free(p);
	rm_tree(dir);
}

static void test_special_files_are_refused(void)
{
	char *dir = temp_dir(), *p = join(dir, NPGW_STATE_FILE), *msgs;
	int fd;

	/* a FIFO: refused at once, not waited on */
	CU_ASSERT_EQUAL_FATAL(mkfifo(p, 0600), 0);
	msgs = load_fails(dir, -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "not a regular file"));
	free(msgs);
	unlink(p);
	/* larger than the limit: refused before reading */
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, (off_t)NPGW_STATE_MAX_SIZE + 1), 0);
	close(fd);
	msgs = load_fails(dir, -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "larger than the 1024 MiB a state file may hold"));
	free(msgs);
	free(p);
	rm_tree(dir);
}

/* ---- another process reads while one saves ---- */

/* Cluster a with generation odd, b with generation even: a reader can
 * tell which it got and check it whole. */
static void check_either(const char *dir, const struct npgw_k8s_cluster *a,
			 const struct npgw_k8s_cluster *b, size_t *n)
{
	struct npgw_diags d = {0};
	uint64_t gen = 0;
	int err = 0;
	struct npgw_k8s_cluster *r = npgw_state_load(dir, &gen, &d, &err);
	char why[1024];

	if (r == NULL) {
		npgw_diags_print(&d, stderr);
		CU_FAIL("a reader saw no state or a broken one");
	} else {
		CU_ASSERT_TRUE(k8s_cluster_same(gen % 2 ? a : b, r, 0, why, sizeof(why)));
		++*n;
	}
	npgw_k8s_cluster_free(r);
	npgw_diags_free(&d);
}

static void test_reader_sees_old_or_new(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a);
	struct npgw_k8s_cluster *b = load_text("b.yaml", cluster_b);
	char *dir = temp_dir();
	size_t reads = 0;
	pid_t pid;
	int status;

	save_ok(dir, a, 1);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char err[512];

		for (uint64_t g = 2; g < 300; g++)
			if (npgw_state_save(dir, g % 2 ? a : b, g, err, sizeof(err)) != 0)
				_exit(1);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0)
		check_either(dir, a, b, &reads);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_either(dir, a, b, &reads);
	CU_ASSERT(reads > 1);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

/* SIGKILL a saver at random moments: what is left always loads. */
static void test_killed_saver_leaves_old_or_new(void)
{
	struct npgw_k8s_cluster *a = load_text("a.yaml", cluster_a);
	struct npgw_k8s_cluster *b = load_text("b.yaml", cluster_b);
	char *dir = temp_dir();
	size_t reads = 0;

	srand((unsigned int)time(NULL));
	save_ok(dir, a, 1);
	for (int round = 0; round < 20; round++) {
		struct timespec ts = {0, (rand() % 20000) * 1000L};
		pid_t pid = fork();
		int status;

		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			char err[512];

			for (uint64_t g = 2;; g++)
				npgw_state_save(dir, g % 2 ? a : b, g, err, sizeof(err));
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		check_either(dir, a, b, &reads);
	}
	CU_ASSERT_EQUAL(reads, 20);
	save_ok(dir, b, 2); /* and the leftovers go */
	CU_ASSERT_EQUAL(count_entries(dir), 1);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

/* ---- allocation failures (cJSON's, through its hooks) ---- */

static long fail_after = -1; /* allocations left before one fails; -1 never */
static bool failed;

static void *failing_malloc(size_t n)
{
	if (fail_after == 0) {
		failed = true;
		return NULL;
	}
	if (fail_after > 0)
		fail_after--;
	return malloc(n);
}

static void test_allocation_failures(void)
{
	struct npgw_k8s_cluster *a = load_text("b.yaml", cluster_b);
	struct npgw_k8s_cluster *b = load_text("a.yaml", cluster_a);
	cJSON_Hooks hooks = {.malloc_fn = failing_malloc, .free_fn = free};
	cJSON_Hooks plain = {.malloc_fn = malloc, .free_fn = free};
	char *dir = temp_dir(), err[512];
	long n, saves = 0, loads = 0;
	int rc = -1;

	save_ok(dir, a, 1);
	cJSON_InitHooks(&hooks);
	/* a save that cannot allocate says so and leaves the old state */
	for (n = 0; n < 100000; n++) {
		failed = false;
		fail_after = n;
		rc = npgw_state_save(dir, b, 2, err, sizeof(err));
		fail_after = -1;
		if (!failed)
			break;
		CU_ASSERT_EQUAL(rc, -ENOMEM);
		saves++;
	}
	cJSON_InitHooks(&plain);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(saves > 50);
	save_ok(dir, a, 1);
	/* a load that cannot allocate is -ENOMEM, never "corrupt" */
	cJSON_InitHooks(&hooks);
	for (n = 0; n < 100000; n++) {
		struct npgw_diags d = {0};
		struct npgw_k8s_cluster *r;
		uint64_t gen;

		failed = false;
		fail_after = n;
		r = npgw_state_load(dir, &gen, &d, &rc);
		fail_after = -1;
		npgw_diags_free(&d);
		if (!failed) {
			CU_ASSERT_PTR_NOT_NULL(r);
			npgw_k8s_cluster_free(r);
			break;
		}
		CU_ASSERT_EQUAL(rc, -ENOMEM);
		CU_ASSERT_PTR_NULL(r);
		npgw_k8s_cluster_free(r);
		loads++;
	}
	cJSON_InitHooks(&plain);
	CU_ASSERT(loads > 5);
	check_still(dir, a, 1);
	npgw_k8s_cluster_free(a);
	npgw_k8s_cluster_free(b);
	rm_tree(dir);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"round trip", test_round_trip},
		{"empty state", test_empty_state_round_trips},
		{"shipped examples", test_examples_round_trip},
		{"file format", test_file_format},
		{"reformatted state loads", test_reformatted_state_loads},
		{"no state is -ENOENT", test_no_state_is_enoent},
		{"directory created 0700", test_directory_is_created_private},
		{"save replaces", test_save_replaces},
		{"full disk keeps the old state", test_full_disk_keeps_old_state},
		{"unusable directory", test_unusable_directory},
		{"rename failure cleans up", test_rename_failure_cleans_up},
		{"unloadable state is not saved", test_unloadable_state_is_not_saved},
		{"crash leftovers ignored and cleaned", test_leftover_temp_is_ignored_and_cleaned},
		{"every truncation refused", test_every_truncation_is_refused},
		{"wrong envelope refused", test_wrong_envelope_is_refused},
		{"newer format refused", test_newer_format_is_refused},
		{"bad objects refused", test_bad_objects_are_refused},
		{"garbage refused", test_garbage_is_refused},
		{"special files refused", test_special_files_are_refused},
		{"generation above 2^53 refused", test_generation_above_2_53_is_refused},
		{"untrusted state directory refused", test_untrusted_state_directory_is_refused},
		{"reader sees old or new", test_reader_sees_old_or_new},
		{"killed saver leaves old or new", test_killed_saver_leaves_old_or_new},
		{"allocation failures", test_allocation_failures},
		{NULL, NULL},
	};

	return npgw_test_add_suite("state", tests);
}
