/*
 * test_doc_fields.c: lib/doc's field tables (npgw_doc_read_fields), the walk
 * that the config and policy readers share: known fields reach their
 * reader in document order, unknown keys are reported with the list the
 * table holds, required fields that are absent or null are reported, and a
 * null field reads as absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "npgw_doc.h"

struct obj {
	char order[64]; /* keys read, in order */
	int64_t num;
};

struct ctx {
	struct npgw_doc_reader rd;
	int calls;
};

static void rd_note(void *c, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		    const char *path, void *o)
{
	struct ctx *x = c;
	struct obj *ob = o;

	(void)path;
	(void)fd;
	x->calls++;
	strncat(ob->order, f->key, sizeof(ob->order) - strlen(ob->order) - 1);
	strncat(ob->order, ";", sizeof(ob->order) - strlen(ob->order) - 1);
}

static void rd_num(void *c, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		   const char *path, void *o)
{
	struct ctx *x = c;
	int64_t *v = (int64_t *)(void *)((char *)o + fd->off);

	if (npgw_doc_get_int(&x->rd, f, path, v) && (*v < fd->min || *v > fd->max))
		npgw_doc_err(&x->rd, f, path, "out of range");
	rd_note(c, fd, f, path, o);
}

static const struct npgw_doc_field fields[] = {
	{.key = "name", .read = rd_note, .required = true},
	{.key = "num", .read = rd_num, .off = offsetof(struct obj, num), .min = 1, .max = 9},
	{.key = "kept"},
};
static const struct npgw_doc_fields table = {"a thing has", fields, NPGW_ARRAY_SIZE(fields),
					     NULL, NULL};

struct run {
	struct ctx x;
	struct obj o;
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(fields)];
	bool kept_seen; /* got[2] was set */
	char *text; /* diagnostics, printed */
	bool map;
};

static int on_doc(void *arg, const struct npgw_doc_node *root, bool had_errors)
{
	struct run *r = arg;

	(void)had_errors;
	r->map = npgw_doc_read_fields(&r->x.rd, &r->x, root, "thing", &table, &r->o, r->got);
	r->kept_seen = r->got[2] != NULL;
	return 0;
}

static void run(struct run *r, const char *yaml)
{
	struct npgw_diags d = {0};
	struct npgw_doc_sink sink = {.diags = &d, .file = "t.yaml"};
	size_t len = 0;
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->x.rd.diags = &d;
	r->x.rd.file = "t.yaml";
	CU_ASSERT_EQUAL(npgw_doc_parse(&sink, yaml, strlen(yaml), on_doc, r), 0);
	f = open_memstream(&r->text, &len);
	npgw_diags_print(&d, f);
	fclose(f);
	npgw_diags_free(&d);
}

static void test_known_fields_reach_their_reader_in_document_order(void)
{
	struct run r;

	run(&r, "num: 3\nname: a\nkept: x\n");
	CU_ASSERT_TRUE(r.map);
	CU_ASSERT_STRING_EQUAL(r.o.order, "num;name;");
	CU_ASSERT_EQUAL(r.o.num, 3);
	CU_ASSERT_EQUAL(r.x.rd.errors, 0);
	CU_ASSERT_TRUE(r.kept_seen); /* no reader: collected only */
	CU_ASSERT_STRING_EQUAL(r.text, "");
	free(r.text);
}

static void test_unknown_field_lists_the_table(void)
{
	struct run r;

	run(&r, "name: a\nnmu: 3\n");
	CU_ASSERT_EQUAL(r.x.rd.errors, 1);
	CU_ASSERT_STRING_EQUAL(r.text, "t.yaml:2:1: thing.nmu: unknown field \"nmu\" (a thing "
				       "has name, num and kept)\n");
	free(r.text);
	/* an unknown key is reported even when its value is null */
	run(&r, "name: a\nbogus: ~\n");
	CU_ASSERT_EQUAL(r.x.rd.errors, 1);
	free(r.text);
}

static void test_required_field_absent_or_null(void)
{
	struct run r;

	run(&r, "num: 2\n");
	CU_ASSERT_STRING_EQUAL(r.text, "t.yaml:1:1: thing.name: missing required field\n");
	free(r.text);
	run(&r, "name: ~\nkept: ~\n");
	CU_ASSERT_EQUAL(r.x.rd.errors, 1);
	CU_ASSERT_EQUAL(r.x.calls, 0); /* null reads as absent: no reader called */
	CU_ASSERT_FALSE(r.kept_seen);
	free(r.text);
}

static void test_not_a_mapping(void)
{
	struct run r;

	run(&r, "[1, 2]\n");
	CU_ASSERT_FALSE(r.map);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.text, "thing: expected a mapping, got a list"));
	free(r.text);
}

static void test_list_wording(void)
{
	static const struct npgw_doc_field one[] = {{.key = "socket"}};
	static const struct npgw_doc_fields t1 = {"control has", one, 1, NULL, NULL};
	static const struct npgw_doc_fields t3 = {"a peer has", fields, 3, "or", "(at least one)"};
	char buf[128], tiny[12];

	CU_ASSERT_STRING_EQUAL(npgw_doc_fields_list(&t1, buf, sizeof(buf)), "control has socket");
	CU_ASSERT_STRING_EQUAL(npgw_doc_fields_list(&t3, buf, sizeof(buf)),
			       "a peer has name, num or kept (at least one)");
	CU_ASSERT_STRING_EQUAL(npgw_doc_fields_list(&t3, tiny, sizeof(tiny)), "a peer h...");
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"known_fields_reach_their_reader_in_document_order",
		 test_known_fields_reach_their_reader_in_document_order},
		{"unknown_field_lists_the_table", test_unknown_field_lists_the_table},
		{"required_field_absent_or_null", test_required_field_absent_or_null},
		{"not_a_mapping", test_not_a_mapping},
		{"list_wording", test_list_wording},
		CU_TEST_INFO_NULL,
	};
	return npgw_test_add_suite("doc_fields", tests);
}
