/*
 * fuzz_doc.c: libFuzzer target for lib/doc's front-ends. Built twice:
 * FUZZ_DOC_JSON picks the JSON parser (fuzz_doc_json), otherwise YAML
 * (fuzz_doc_yaml). Each document the parser hands over is walked whole and
 * checked for the tree's promises: scalars NUL-terminated at len with no
 * NUL inside, positions 1-based, nesting within NPGW_DOC_MAX_DEPTH,
 * mapping members keyed. Every error goes through the sink and diags,
 * which are printed to a memory stream (exercising the formatting) and
 * freed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_common.h"
#include "npgw_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk a tree; abort on a broken promise (libFuzzer reports the abort). */
static void walk(const struct npgw_doc_node *n, unsigned int depth, bool in_map)
{
	if (depth > NPGW_DOC_MAX_DEPTH + 1 || n->type > NPGW_DOC_MAP)
		abort();
	if (in_map && n->key == NULL)
		abort();
	if (n->type == NPGW_DOC_SEQ || n->type == NPGW_DOC_MAP) {
		if (n->n > 0 && n->kids == NULL)
			abort();
		for (size_t i = 0; i < n->n; i++)
			walk(&n->kids[i], depth + 1, n->type == NPGW_DOC_MAP);
		return;
	}
	if (n->type == NPGW_DOC_NULL && n->text == NULL)
		return;
	if (n->text == NULL || strlen(n->text) != n->len || n->len > NPGW_DOC_MAX_SCALAR)
		abort();
	/* The typed readers on every scalar. */
	struct npgw_diags diags = {0};
	struct npgw_doc_reader r = {.diags = &diags, .file = "fuzz"};
	char *s = NULL;
	int64_t v;
	bool b;
	(void)npgw_doc_get_str(&r, n, "x", &s);
	free(s);
	(void)npgw_doc_get_int(&r, n, "x", &v);
	(void)npgw_doc_get_bool(&r, n, "x", &b);
	npgw_diags_free(&diags);
}

static int on_doc(void *arg, const struct npgw_doc_node *root, bool had_errors)
{
	(void)arg;
	(void)had_errors;
	if (root == NULL)
		abort();
	walk(root, 0, false);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npgw_diags diags = {0};
	struct npgw_doc_sink sink = {.diags = &diags};
	const char *buf = (const char *)data;
#ifdef FUZZ_DOC_JSON
	sink.file = "fuzz.json";
#else
	sink.file = "fuzz.yaml";
#endif
	/* npgw_doc_parse: the size and UTF-8 checks, then the front-end. */
	(void)npgw_doc_parse(&sink, buf, size, on_doc, NULL);
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);
	if (f != NULL) {
		npgw_diags_print(&diags, f);
		fclose(f);
	}
	free(out);
	char *json = npgw_diags_to_json(&diags);
	free(json);
	npgw_diags_free(&diags);
	return 0;
}
