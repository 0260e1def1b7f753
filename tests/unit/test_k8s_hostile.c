/*
 * test_k8s_hostile.c: hostile input fails cleanly: an error with a
 * position, no object kept, no crash, bounded time and memory. The corpus
 * in tests/data/hostile holds the small cases; the large ones (100k levels
 * of nesting, 20 MiB, millions of nodes, 100k documents) are generated
 * here. Run under ASan and UBSan as well (meson setup -Db_sanitize=...).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_main.h"
#include "npgw_k8s.h"

#ifndef NPGW_TEST_DATA
#error "NPGW_TEST_DATA must name tests/data"
#endif

static size_t objects(const struct npgw_k8s_cluster *c)
{
	return c->n_namespaces + c->n_pods + c->n_policies;
}

/* True when some message contains frag. */
static bool mentions(const struct npgw_diags *d, const char *frag)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].message, frag) != NULL)
			return true;
	fprintf(stderr, "\nno message contains \"%s\"; have:\n", frag);
	npgw_diags_print(d, stderr);
	return false;
}

/* Load buf; it must be refused with a message containing frag. */
static void refused(const char *name, const char *buf, size_t len, const char *frag)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};

	CU_ASSERT_EQUAL(npgw_k8s_load_buffer(c, name, buf, len, &d), -EINVAL);
	CU_ASSERT_TRUE(d.n_errors >= 1);
	CU_ASSERT_TRUE(mentions(&d, frag));
	CU_ASSERT_EQUAL(objects(c), 0);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *buf = malloc(hl + ul * n + tl + 1), *p = buf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	*len = hl + ul * n + tl;
	return buf;
}

static void test_every_corpus_file_is_refused_with_a_position(void)
{
	const char *dir = NPGW_TEST_DATA "/hostile";
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		struct npgw_k8s_cluster *c;
		struct npgw_diags diags = {0};
		char path[1024];
		int rc;

		if (!(l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0) &&
		    !(l > 5 && strcmp(de->d_name + l - 5, ".json") == 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = npgw_k8s_cluster_new();
		rc = npgw_k8s_load_path(c, path, &diags);
		if (rc != -EINVAL || diags.n_errors == 0 || objects(c) != 0)
			fprintf(stderr, "\n%s: rc %d, %zu errors, %zu objects kept\n", de->d_name, rc,
				diags.n_errors, objects(c));
		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT_TRUE(diags.n_errors >= 1);
		CU_ASSERT_EQUAL(objects(c), 0);
		/* every message says where */
		for (size_t i = 0; i < diags.n; i++)
			CU_ASSERT_TRUE(diags.v[i].line >= 1 && diags.v[i].col >= 1);
		npgw_diags_free(&diags);
		npgw_k8s_cluster_free(c);
		n++;
	}
	closedir(d);
	CU_ASSERT_TRUE(n >= 30);
}

static void test_nesting_100k_levels_is_refused_at_the_limit(void)
{
	size_t len;
	char *buf;

	buf = repeat("", "[", 100000, "", &len); /* flow, unclosed: never read to the end */
	refused("deep.yaml", buf, len, "nesting deeper than 64 levels");
	free(buf);
	buf = repeat("", "- ", 100000, "x\n", &len); /* block sequences */
	refused("deep-block.yaml", buf, len, "nesting deeper than 64 levels");
	free(buf);
	buf = repeat("", "{\"a\":", 100000, "1", &len);
	refused("deep.json", buf, len, "nesting deeper than 64 levels");
	free(buf);
	buf = repeat("", "[", 100000, "", &len);
	refused("deep.json", buf, len, "nesting deeper than 64 levels");
	free(buf);
	/* 64 levels are fine for the parser (the object is still not one) */
	buf = repeat("", "[", 63, "", &len);
	{
		char *full = malloc(len * 2 + 1);

		memcpy(full, buf, len);
		memset(full + len, ']', len);
		full[len * 2] = '\0';
		refused("ok-depth.json", full, len * 2, "expected a mapping, got a list");
		free(full);
	}
	free(buf);
}

static void test_alias_bomb_is_refused_before_expansion(void)
{
	/* ten levels of nine: 9^10 = 3.4e9 nodes if anything expanded it */
	char text[4096];
	size_t off = 0;

	off += (size_t)snprintf(text + off, sizeof(text) - off,
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lol\n"
				"  annotations:\n    l0: &l0 lol\n");
	for (int i = 1; i <= 10; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"    l%d: &l%d [*l%d,*l%d,*l%d,*l%d,*l%d,*l%d,*l%d,*l%d,*l%d]\n",
					i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
					i - 1);
	refused("bomb.yaml", text, off, "YAML anchors and aliases are not supported");
	/* reported once, not once per alias */
	{
		struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
		struct npgw_diags d = {0};

		npgw_k8s_load_buffer(c, "bomb.yaml", text, off, &d);
		CU_ASSERT_EQUAL(d.n, 1);
		npgw_diags_free(&d);
		npgw_k8s_cluster_free(c);
	}
	refused("cycle.yaml", "a: &a [*a]\n", 11, "anchors and aliases");
}

static void test_file_over_16_mib_is_refused_unparsed(void)
{
	size_t len = 20u * 1024 * 1024;
	char *buf = malloc(len);
	char path[] = "/tmp/npgw-hostile-XXXXXX";
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	/* a valid, boring start, then spaces */
	memset(buf, ' ', len);
	memcpy(buf, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", 52);
	refused("big.yaml", buf, len, "larger than the limit of 16 MiB");
	fd = mkstemp(path);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, buf, len), (ssize_t)len);
	close(fd);
	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, path, &d), -EINVAL);
	CU_ASSERT_TRUE(mentions(&d, "larger than the limit"));
	CU_ASSERT_EQUAL(objects(c), 0);
	unlink(path);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
	free(buf);
}

static void test_too_many_nodes_scalars_or_objects(void)
{
	size_t len;
	char *buf;

	/* 1.1 million list elements in one document */
	buf = repeat("[", "0,", 1100000, "0]", &len);
	refused("nodes.json", buf, len, "nodes");
	free(buf);
	/* a 2 MiB string, in YAML and JSON */
	buf = repeat("apiVersion: v1\nkind: Namespace\nmetadata: {name: \"", "a", 2u << 20, "\"}\n",
		     &len);
	refused("scalar.yaml", buf, len, "longer than the limit");
	free(buf);
	buf = repeat("{\"a\": \"", "a", 2u << 20, "\"}", &len);
	refused("scalar.json", buf, len, "longer than the limit");
	free(buf);
	/* 100001 documents */
	buf = repeat("", "--- ~\n", 100001, "", &len);
	refused("docs.yaml", buf, len, "more than 100000 objects");
	free(buf);
}

static void test_diagnostics_are_capped(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	size_t len;
	char *buf = repeat("", "---\nkind: Pod\napiVersion: v2\n", 5000, "", &len);

	CU_ASSERT_EQUAL(npgw_k8s_load_buffer(c, "many.yaml", buf, len, &d), -EINVAL);
	CU_ASSERT_EQUAL(d.n_errors, 5000);
	CU_ASSERT_EQUAL(d.n, NPGW_DIAGS_MAX);
	CU_ASSERT_EQUAL(d.dropped, 5000 - NPGW_DIAGS_MAX);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
	free(buf);
}

/* Mutate the kubectl fixtures at random (fixed seed): flipped bytes, cut
 * short, bytes inserted. Whatever comes out, loading must return 0 or
 * -EINVAL and free everything (ASan checks the rest). */
static void mutate_and_load(const char *path, unsigned int seed)
{
	FILE *f = fopen(path, "rb");
	char *orig, *buf;
	long size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	orig = malloc((size_t)size + 64);
	buf = malloc((size_t)size + 64);
	CU_ASSERT_EQUAL_FATAL(fread(orig, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	srand(seed);
	for (int iter = 0; iter < 1500; iter++) {
		static const char specials[] = "{}[]:,-\"'&*!|>%@`#\n\t \\\x80\xff";
		size_t len = (size_t)size;
		struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
		struct npgw_diags d = {0};
		int rc;

		memcpy(buf, orig, len);
		for (int k = 0, n = 1 + rand() % 4; k < n; k++) {
			size_t at = (size_t)rand() % len;

			switch (rand() % 3) {
			case 0:
				buf[at] = specials[rand() % (int)(sizeof(specials) - 1)];
				break;
			case 1:
				len = at + 1;
				break;
			default:
				buf[at] = (char)(rand() & 0xff);
				break;
			}
		}
		rc = npgw_k8s_load_buffer(c, path, buf, len, &d);
		CU_ASSERT_TRUE(rc == 0 || rc == -EINVAL);
		npgw_diags_free(&d);
		npgw_k8s_cluster_free(c);
	}
	free(orig);
	free(buf);
}

static void test_mutated_kubectl_output_never_crashes(void)
{
	mutate_and_load(NPGW_TEST_DATA "/k8s/kubectl-list.yaml", 1);
	mutate_and_load(NPGW_TEST_DATA "/k8s/kubectl-list.json", 2);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"every_corpus_file_is_refused_with_a_position",
		 test_every_corpus_file_is_refused_with_a_position},
		{"nesting_100k_levels_is_refused_at_the_limit",
		 test_nesting_100k_levels_is_refused_at_the_limit},
		{"alias_bomb_is_refused_before_expansion", test_alias_bomb_is_refused_before_expansion},
		{"file_over_16_mib_is_refused_unparsed", test_file_over_16_mib_is_refused_unparsed},
		{"too_many_nodes_scalars_or_objects", test_too_many_nodes_scalars_or_objects},
		{"diagnostics_are_capped", test_diagnostics_are_capped},
		{"mutated_kubectl_output_never_crashes", test_mutated_kubectl_output_never_crashes},
		{NULL, NULL},
	};

	return npgw_test_add_suite("k8s_hostile", tests) ? -1 : 0;
}
