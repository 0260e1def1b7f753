/*
 * test_journal.c: the state directory of lib/state: the journal round trip
 * (snapshot + records, in order, generations kept), the lock that keeps a
 * second daemon out, a torn last record dropped at every cut point (and a
 * tail of zeros), a damaged record that is not the last refused, the
 * background snapshot covering the segments it replaces, and changes
 * applied in place with undo: a Namespace removal takes its Pods and
 * NetworkPolicies, a rollback restores everything, and the pod delta of
 * several changes is what a full diff would say.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit_main.h"
#include "k8s_compare.h"
#include "npgw_k8s.h"
#include "npgw_state.h"

static const char cluster_a[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web}}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-1, namespace: shop, labels: {app: web}}\n"
	"spec: {containers: [{name: a, ports: [{name: http, containerPort: 80}]}]}\n"
	"status: {phase: Running, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-2, namespace: shop, labels: {app: web}}\n"
	"status: {podIP: 10.0.0.2}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: node-agent, namespace: kube-system}\n"
	"spec: {hostNetwork: true}\n"
	"status: {podIP: 192.168.0.1}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}}\n"
	"  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}], "
	"ports: [{port: http}]}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: deny, namespace: kube-system}\n"
	"spec: {podSelector: {}}\n";

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
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	npgw_diags_free(&d);
	npgw_k8s_cluster_sort(c);
	return c;
}

/* A pod named NAME in shop with address 10.1.(i/250).(i%250+1). */
static struct npgw_k8s_cluster *pod(int i, const char *app)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: shop, labels: "
		 "{app: %s}}\nstatus: {podIP: 10.1.%d.%d}\n",
		 i, app, i / 250, i % 250 + 1);
	return load_text("pod.yaml", text);
}

static char *temp_dir(void)
{
	char *d = strdup("/tmp/npgw-journal-test-XXXXXX");

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

static struct npgw_state *open_ok(const char *dir)
{
	char why[512];
	int rc = 0;
	struct npgw_state *st = npgw_state_open(dir, why, sizeof(why), &rc);

	if (st == NULL)
		fprintf(stderr, "\nopen: %s\n", why);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	return st;
}

/* Restore and expect success; the warnings' count in *warnings. */
static struct npgw_k8s_cluster *restore_ok(struct npgw_state *st, uint64_t *gen,
					   size_t *warnings)
{
	struct npgw_diags d = {0};
	int rc = -1;
	struct npgw_k8s_cluster *c = npgw_state_restore(st, gen, &d, &rc);

	if (c == NULL || d.n_errors)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (warnings)
		*warnings = d.n_warnings;
	npgw_diags_free(&d);
	return c;
}

/*
 * Apply a change to model (with a copy of items) and journal it as one
 * record of generation gen.
 */
static void change(struct npgw_state *st, struct npgw_k8s_cluster *model, uint64_t gen,
		   bool replace, const struct npgw_state_removal *rm, size_t n_rm,
		   struct npgw_k8s_cluster *items)
{
	struct npgw_state_change ch = {replace, rm, n_rm, items};
	struct npgw_state_undo u = {0};
	char *json = npgw_state_change_json(&ch), why[512];
	const char *texts[1] = {json};

	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_EQUAL_FATAL(npgw_state_change_apply(model, &ch, items, &u), 0);
	npgw_state_undo_commit(&u);
	npgw_state_undo_clear(&u);
	CU_ASSERT_EQUAL_FATAL(npgw_state_append(st, gen, texts, 1, model, why, sizeof(why)), 0);
	free(json);
	npgw_k8s_cluster_free(items);
}

static bool same(const struct npgw_k8s_cluster *a, const struct npgw_k8s_cluster *b)
{
	char why[1024];
	bool ok = k8s_cluster_same(a, b, 0, why, sizeof(why));

	if (!ok)
		fprintf(stderr, "\nclusters differ: %s\n", why);
	return ok;
}

static char *seg_path(const char *dir, int seq)
{
	char *p;

	CU_ASSERT_FATAL(asprintf(&p, "%s/journal.%06d", dir, seq) > 0);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spill(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Three records: cluster_a, a pod removed, a pod added. model ends as the
 * state after all three; after2 (when not NULL) gets the state after two. */
static void three_records(const char *dir, struct npgw_k8s_cluster *model,
			  struct npgw_k8s_cluster **after2)
{
	struct npgw_state *st = open_ok(dir);
	struct npgw_diags d = {0};
	struct npgw_state_removal rm = {"Pod", "shop", "web-2"};
	int rc = 0, e = 0;

	CU_ASSERT_PTR_NULL(npgw_state_restore(st, NULL, &d, &rc));
	CU_ASSERT_EQUAL(rc, -ENOENT);
	npgw_diags_free(&d);
	change(st, model, 1, false, NULL, 0, load_text("a.yaml", cluster_a));
	change(st, model, 2, false, &rm, 1, NULL);
	if (after2)
		*after2 = npgw_k8s_cluster_clone(model, &e);
	change(st, model, 3, false, NULL, 0, pod(7, "db"));
	npgw_state_close(st);
}

/* ---- tests ---- */

static void test_journal_round_trip(void)
{
	char *dir = temp_dir();
	struct npgw_k8s_cluster *model = npgw_k8s_cluster_new(), *back;
	struct npgw_state *st;
	uint64_t gen = 0;
	size_t warn = 9;

	three_records(dir, model, NULL);
	CU_ASSERT_EQUAL(model->n_pods, 3);
	st = open_ok(dir);
	back = restore_ok(st, &gen, &warn);
	CU_ASSERT_EQUAL(gen, 3);
	CU_ASSERT_EQUAL(warn, 0);
	CU_ASSERT_TRUE(same(model, back));
	npgw_k8s_cluster_free(back);
	npgw_state_close(st);
	npgw_k8s_cluster_free(model);
	rm_tree(dir);
}

static void test_second_daemon_is_kept_out(void)
{
	char *dir = temp_dir(), why[512], want[128];
	struct npgw_state *a = open_ok(dir), *b;
	int rc = 0;

	b = npgw_state_open(dir, why, sizeof(why), &rc);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(rc, -EBUSY);
	snprintf(want, sizeof(want), "is in use by another npgw (pid %ld)", (long)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(why, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, dir));
	npgw_state_close(a);
	b = open_ok(dir); /* the lock went with the first */
	npgw_state_close(b);
	rm_tree(dir);
}

static void test_torn_last_record_is_dropped(void)
{
	char *dir = temp_dir(), *seg = seg_path(dir, 1);
	struct npgw_k8s_cluster *model = npgw_k8s_cluster_new(), *after2 = NULL;
	size_t len, third = 0, cuts = 0;
	char *whole;

	three_records(dir, model, &after2);
	whole = slurp(seg, &len);
	/* the third record starts after the second newline */
	for (size_t i = 0, nl = 0; i < len && nl < 2; i++)
		if (whole[i] == '\n' && ++nl == 2)
			third = i + 1;
	CU_ASSERT_FATAL(third > 0 && third < len);
	for (size_t cut = third + 1; cut < len; cut += 1 + (cut > third + 64 ? 7 : 0)) {
		struct npgw_state *st;
		struct npgw_k8s_cluster *back;
		uint64_t gen = 0;
		size_t warn = 0, now;

		spill(seg, whole, cut);
		st = open_ok(dir);
		back = restore_ok(st, &gen, &warn);
		CU_ASSERT_EQUAL(gen, 2);
		CU_ASSERT_EQUAL(warn, 1);
		CU_ASSERT_TRUE(same(after2, back));
		npgw_k8s_cluster_free(back);
		npgw_state_close(st);
		free(slurp(seg, &now));
		CU_ASSERT_EQUAL(now, third); /* truncated before the torn record */
		cuts++;
	}
	CU_ASSERT(cuts > 20);
	/* a tail of zeros where the record was (a crash after the size grew) */
	memset(whole + third, 0, len - third);
	spill(seg, whole, len);
	{
		struct npgw_state *st = open_ok(dir);
		struct npgw_k8s_cluster *back;
		uint64_t gen = 0;
		size_t warn = 0;
		char why[512];
		const char *texts[1] = {"{}"};

		back = restore_ok(st, &gen, &warn);
		CU_ASSERT_EQUAL(gen, 2);
		CU_ASSERT_TRUE(same(after2, back));
		/* and the journal goes on from there */
		CU_ASSERT_EQUAL(npgw_state_append(st, 3, texts, 1, back, why, sizeof(why)), 0);
		npgw_state_close(st);
		st = open_ok(dir);
		npgw_k8s_cluster_free(back);
		back = restore_ok(st, &gen, &warn);
		CU_ASSERT_EQUAL(gen, 3);
		CU_ASSERT_EQUAL(warn, 0);
		CU_ASSERT_TRUE(same(after2, back));
		npgw_k8s_cluster_free(back);
		npgw_state_close(st);
	}
	free(whole);
	free(seg);
	npgw_k8s_cluster_free(model);
	npgw_k8s_cluster_free(after2);
	rm_tree(dir);
}

static void test_damaged_record_not_last_is_refused(void)
{
	char *dir = temp_dir(), *seg = seg_path(dir, 1), *whole;
	struct npgw_k8s_cluster *model = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	struct npgw_state *st;
	char *msgs;
	size_t len;
	int rc = 0;

	three_records(dir, model, NULL);
	whole = slurp(seg, &len);
	whole[40] ^= 0x01; /* inside the first record's payload */
	spill(seg, whole, len);
	st = open_ok(dir);
	CU_ASSERT_PTR_NULL(npgw_state_restore(st, NULL, &d, &rc));
	CU_ASSERT_EQUAL(rc, -EBADMSG);
	msgs = npgw_diags_to_json(&d);
	CU_ASSERT_PTR_NOT_NULL(strstr(msgs, "record 1 (at byte 0) is corrupt"));
	free(msgs);
	npgw_diags_free(&d);
	npgw_state_close(st);
	/* the file is left as it was, for an operator */
	{
		size_t now = 0;

		free(slurp(seg, &now));
		CU_ASSERT_EQUAL(now, len);
	}
	free(whole);
	free(seg);
	npgw_k8s_cluster_free(model);
	rm_tree(dir);
}

static size_t segments(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "journal.", 8) == 0;
	closedir(d);
	return n;
}

static void test_background_snapshot_covers_the_journal(void)
{
	char *dir = temp_dir(), *snap;
	struct npgw_k8s_cluster *model = npgw_k8s_cluster_new(), *back;
	struct npgw_state_info info;
	struct npgw_diags d = {0};
	struct npgw_state *st = open_ok(dir);
	struct stat sb;
	uint64_t gen = 0;
	int rc = 0;

	CU_ASSERT_PTR_NULL(npgw_state_restore(st, NULL, &d, &rc));
	npgw_diags_free(&d);
	npgw_state_set_bound(st, 2048);
	change(st, model, 1, false, NULL, 0, load_text("a.yaml", cluster_a));
	for (int i = 0; i < 60; i++) {
		struct npgw_state_removal rm = {"Pod", "shop", NULL};
		char name[16];

		change(st, model, 2 + 2 * (uint64_t)i, false, NULL, 0, pod(i, "db"));
		if (i % 3 == 0) {
			snprintf(name, sizeof(name), "p%d", i);
			rm.name = name;
			change(st, model, 3 + 2 * (uint64_t)i, false, &rm, 1, NULL);
		}
	}
	npgw_state_wait(st);
	npgw_state_get_info(st, &info);
	CU_ASSERT(info.snapshots >= 1);
	CU_ASSERT_STRING_EQUAL(info.snapshot_error, "");
	CU_ASSERT(info.snapshot_generation > 1);
	npgw_state_close(st);
	CU_ASSERT_FATAL(asprintf(&snap, "%s/state.json", dir) > 0);
	CU_ASSERT_EQUAL(stat(snap, &sb), 0);
	free(snap);
	/* covered segments are gone: what is left is the bound's worth */
	CU_ASSERT(segments(dir) <= 3);
	st = open_ok(dir);
	back = restore_ok(st, &gen, NULL);
	CU_ASSERT_EQUAL(gen, 2 + 2 * 59);
	CU_ASSERT_TRUE(same(model, back));
	CU_ASSERT_EQUAL(back->n_pods, 3 + 60 - 20);
	npgw_k8s_cluster_free(back);
	npgw_state_close(st);
	npgw_k8s_cluster_free(model);
	rm_tree(dir);
}

static void test_large_record_becomes_a_snapshot(void)
{
	char *dir = temp_dir();
	struct npgw_k8s_cluster *model = npgw_k8s_cluster_new(), *back, *big;
	struct npgw_state_change ch = {.replace = true};
	struct npgw_state_info info;
	struct npgw_state_undo u = {0};
	struct npgw_diags d = {0};
	struct npgw_state *st = open_ok(dir);
	char why[512], *json, *text = NULL;
	const char *texts[1];
	uint64_t gen = 0;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = 0;

	CU_ASSERT_PTR_NULL(npgw_state_restore(st, NULL, &d, &rc));
	npgw_diags_free(&d);
	/* a replace of 200 pods, over a record limit of 4 KiB (the real one,
	 * 8 MiB, behaves the same: a smaller one keeps the test short) */
	npgw_state_set_max_record(st, 4096);
	change(st, model, 4, false, NULL, 0, pod(1, "a")); /* journaled */
	for (int i = 0; i < 200; i++)
		fprintf(f,
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: pod-with-a-long-name-%d, "
			"namespace: ns%d, labels: {app: a%d, tier: backend, release: stable}}\n"
			"status: {podIP: 10.%d.%d.%d}\n",
			i, i % 10, i % 50, 1 + i / 65536, (i / 256) % 256, i % 256);
	fclose(f);
	big = load_text("big.yaml", text);
	free(text);
	ch.items = big;
	json = npgw_state_change_json(&ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT(strlen(json) > 4096);
	CU_ASSERT_EQUAL_FATAL(npgw_state_change_apply(model, &ch, big, &u), 0);
	npgw_state_undo_commit(&u);
	npgw_state_undo_clear(&u);
	texts[0] = json;
	CU_ASSERT_EQUAL(npgw_state_append(st, 5, texts, 1, model, why, sizeof(why)), 0);
	npgw_state_get_info(st, &info);
	CU_ASSERT_EQUAL(info.snapshots, 1);
	CU_ASSERT_EQUAL(info.snapshot_generation, 5);
	CU_ASSERT_EQUAL(info.journal_bytes, 0);
	free(json);
	npgw_k8s_cluster_free(big);
	npgw_state_close(st);
	CU_ASSERT_EQUAL(segments(dir), 1); /* the new, empty one */
	st = open_ok(dir);
	back = restore_ok(st, &gen, NULL);
	CU_ASSERT_EQUAL(gen, 5);
	CU_ASSERT_EQUAL(back->n_pods, 200);
	CU_ASSERT_TRUE(same(model, back));
	npgw_k8s_cluster_free(back);
	npgw_state_close(st);
	npgw_k8s_cluster_free(model);
	rm_tree(dir);
}

static void test_namespace_removal_cascades_and_undoes(void)
{
	struct npgw_k8s_cluster *c = load_text("a.yaml", cluster_a), *before;
	struct npgw_state_removal rm = {"Namespace", NULL, "shop"};
	struct npgw_state_change ch = {false, &rm, 1, NULL};
	struct npgw_state_undo u = {0};
	int e = 0;

	before = npgw_k8s_cluster_clone(c, &e);
	CU_ASSERT_EQUAL_FATAL(npgw_state_change_apply(c, &ch, NULL, &u), 0);
	CU_ASSERT_EQUAL(c->n_namespaces, 0);
	CU_ASSERT_EQUAL(c->n_pods, 1); /* kube-system's */
	CU_ASSERT_STRING_EQUAL(c->pods[0]->namespace, "kube-system");
	CU_ASSERT_EQUAL(c->n_policies, 1);
	CU_ASSERT_STRING_EQUAL(c->policies[0]->namespace, "kube-system");
	npgw_state_undo_rollback(c, &u);
	CU_ASSERT_TRUE(same(before, c));
	/* a removal of what is not there changes nothing */
	rm.name = "nope";
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &ch, NULL, &u), -ENOENT);
	CU_ASSERT_TRUE(same(before, c));
	CU_ASSERT_STRING_EQUAL(npgw_state_kind("ns"), "Namespace");
	CU_ASSERT_STRING_EQUAL(npgw_state_kind("netpol"), "NetworkPolicy");
	CU_ASSERT_PTR_NULL(npgw_state_kind("Service"));
	npgw_state_undo_clear(&u);
	npgw_k8s_cluster_free(before);
	npgw_k8s_cluster_free(c);
}

static void test_changes_undo_and_pod_delta(void)
{
	struct npgw_k8s_cluster *c = load_text("a.yaml", cluster_a), *before, *x;
	struct npgw_state_removal rm = {"Pod", "shop", "web-1"};
	struct npgw_state_change add = {0}, del = {false, &rm, 1, NULL}, repl = {.replace = true};
	const struct npgw_k8s_pod **removed, **added;
	size_t n_removed, n_added;
	struct npgw_state_undo u = {0};
	int e = 0;

	before = npgw_k8s_cluster_clone(c, &e);
	/* p1 added, then replaced by a new p1; web-1 removed; p2 added */
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &add, x = pod(1, "a"), &u), 0);
	npgw_k8s_cluster_free(x);
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &add, x = pod(1, "b"), &u), 0);
	npgw_k8s_cluster_free(x);
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &del, NULL, &u), 0);
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &add, x = pod(2, "a"), &u), 0);
	npgw_k8s_cluster_free(x);
	CU_ASSERT_EQUAL_FATAL(npgw_state_undo_pods(&u, &removed, &n_removed, &added, &n_added), 0);
	CU_ASSERT_EQUAL(n_removed, 1);
	CU_ASSERT_STRING_EQUAL(removed[0]->name, "web-1");
	CU_ASSERT_EQUAL_FATAL(n_added, 2);
	CU_ASSERT_STRING_EQUAL(added[0]->name, "p1");
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&added[0]->labels, "app"), "b");
	CU_ASSERT_STRING_EQUAL(added[1]->name, "p2");
	free(removed);
	free(added);
	CU_ASSERT_EQUAL(c->n_pods, 4);
	npgw_state_undo_rollback(c, &u);
	CU_ASSERT_TRUE(same(before, c));
	/* a replace is not pods only, and undoes to the whole old state */
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &repl, x = pod(3, "a"), &u), 0);
	npgw_k8s_cluster_free(x);
	CU_ASSERT_EQUAL(c->n_pods, 1);
	CU_ASSERT_EQUAL(c->n_policies, 0);
	CU_ASSERT_EQUAL(npgw_state_undo_pods(&u, &removed, &n_removed, &added, &n_added), 1);
	npgw_state_undo_rollback(c, &u);
	CU_ASSERT_TRUE(same(before, c));
	/* committed, the changes stay */
	CU_ASSERT_EQUAL(npgw_state_change_apply(c, &del, NULL, &u), 0);
	npgw_state_undo_commit(&u);
	CU_ASSERT_EQUAL(c->n_pods, 2);
	npgw_state_undo_clear(&u);
	npgw_k8s_cluster_free(before);
	npgw_k8s_cluster_free(c);
}

/* Past 64 objects of a kind a change is merged in one pass: the same
 * result, the same undo, the same pod delta. */
static void test_bulk_merge_undoes_whole(void)
{
	struct npgw_k8s_cluster *c = load_text("a.yaml", cluster_a), *before, *items, *one;
	struct npgw_state_change add = {0};
	const struct npgw_k8s_pod **removed, **added;
	size_t n_removed, n_added;
	struct npgw_state_undo u = {0};
	int e = 0;

	before = npgw_k8s_cluster_clone(c, &e);
	items = npgw_k8s_cluster_new();
	for (int i = 0; i < 200; i++) {
		one = pod(i, i % 2 ? "a" : "b");
		CU_ASSERT_EQUAL_FATAL(npgw_k8s_cluster_merge(items, one), 0);
		npgw_k8s_cluster_free(one);
	}
	/* and one that replaces a pod of the cluster */
	one = load_text("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web-2, "
				  "namespace: shop, labels: {app: new}}\nstatus: {podIP: 10.0.0.2}\n");
	CU_ASSERT_EQUAL_FATAL(npgw_k8s_cluster_merge(items, one), 0);
	npgw_k8s_cluster_free(one);
	CU_ASSERT_EQUAL_FATAL(npgw_state_change_apply(c, &add, items, &u), 0);
	CU_ASSERT_EQUAL(c->n_pods, 3 + 200);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&npgw_k8s_find_pod(c, "shop", "web-2")->labels,
						  "app"),
			       "new");
	for (size_t i = 1; i < c->n_pods; i++) /* still sorted */
		CU_ASSERT(strcmp(c->pods[i - 1]->namespace, c->pods[i]->namespace) < 0 ||
			  (strcmp(c->pods[i - 1]->namespace, c->pods[i]->namespace) == 0 &&
			   strcmp(c->pods[i - 1]->name, c->pods[i]->name) < 0));
	CU_ASSERT_EQUAL_FATAL(npgw_state_undo_pods(&u, &removed, &n_removed, &added, &n_added), 0);
	CU_ASSERT_EQUAL(n_removed, 1);
	CU_ASSERT_EQUAL(n_added, 201);
	free(removed);
	free(added);
	npgw_state_undo_rollback(c, &u);
	CU_ASSERT_TRUE(same(before, c));
	npgw_k8s_cluster_free(items);
	npgw_k8s_cluster_free(before);
	npgw_k8s_cluster_free(c);
	npgw_state_undo_clear(&u);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"journal round trip", test_journal_round_trip},
		{"second daemon kept out", test_second_daemon_is_kept_out},
		{"torn last record dropped", test_torn_last_record_is_dropped},
		{"damaged record not last refused", test_damaged_record_not_last_is_refused},
		{"background snapshot covers the journal",
		 test_background_snapshot_covers_the_journal},
		{"large record becomes a snapshot", test_large_record_becomes_a_snapshot},
		{"namespace removal cascades and undoes", test_namespace_removal_cascades_and_undoes},
		{"changes undo and pod delta", test_changes_undo_and_pod_delta},
		{"bulk merge undoes whole", test_bulk_merge_undoes_whole},
		{NULL, NULL},
	};

	return npgw_test_add_suite("journal", tests);
}
