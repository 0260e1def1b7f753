/*
 * test_common.c: addresses, prefixes and diagnostics of lib/common.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "npgw_common.h"

static void test_prefix_host_bits_are_cleared_and_reported(void)
{
	struct npgw_prefix p;
	bool hb;
	char buf[64];

	CU_ASSERT_EQUAL(npgw_prefix_parse("10.0.1.1/4", &p, &hb), 0);
	CU_ASSERT_TRUE(hb);
	CU_ASSERT_STRING_EQUAL(npgw_prefix_format(&p, buf, sizeof(buf)), "0.0.0.0/4");
	CU_ASSERT_EQUAL(npgw_prefix_parse("fd00:1::/32", &p, &hb), 0);
	CU_ASSERT_FALSE(hb);
	CU_ASSERT_EQUAL(p.addr.family, 6);
	CU_ASSERT_EQUAL(npgw_prefix_parse("fd00:1::1/127", &p, &hb), 0);
	CU_ASSERT_TRUE(hb);
	CU_ASSERT_STRING_EQUAL(npgw_prefix_format(&p, buf, sizeof(buf)), "fd00:1::/127");
}

static void test_prefix_rejects_malformed(void)
{
	static const char *bad[] = {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
				    "10.0.0.0/08", "10.0.0/8", "/8", "10.0.0.0/8 ",
				    "fd00::/129", "10.0.0.0/", "300.0.0.0/8", "fd00::g/64"};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad); i++) {
		struct npgw_prefix p;

		CU_ASSERT_EQUAL(npgw_prefix_parse(bad[i], &p, NULL), -EINVAL);
	}
}

static void test_prefix_contains_and_covers(void)
{
	struct npgw_prefix p8, p16, p6;
	struct npgw_addr a, b, c;

	npgw_prefix_parse("10.0.0.0/8", &p8, NULL);
	npgw_prefix_parse("10.1.0.0/16", &p16, NULL);
	npgw_prefix_parse("fd00::/8", &p6, NULL);
	npgw_addr_parse("10.1.2.3", &a);
	npgw_addr_parse("11.0.0.1", &b);
	npgw_addr_parse("fd12::1", &c);
	CU_ASSERT_TRUE(npgw_prefix_contains(&p8, &a));
	CU_ASSERT_FALSE(npgw_prefix_contains(&p8, &b));
	CU_ASSERT_FALSE(npgw_prefix_contains(&p8, &c));
	CU_ASSERT_TRUE(npgw_prefix_contains(&p6, &c));
	CU_ASSERT_TRUE(npgw_prefix_covers(&p8, &p16));
	CU_ASSERT_FALSE(npgw_prefix_covers(&p16, &p8));
	CU_ASSERT_FALSE(npgw_prefix_covers(&p8, &p6));
}

static void test_diags_text_and_json(void)
{
	struct npgw_diags d = {0};
	char *json;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	npgw_diags_add(&d, NPGW_SEV_ERROR, "policies/db.yaml", 14, 11,
		       "spec.ingress[0].ports[1].endPort", "%d is below port %d", 79, 80);
	npgw_diags_add(&d, NPGW_SEV_WARNING, "a.yaml", 3, 9, "spec.ipBlock.cidr",
		       "host bits set");
	CU_ASSERT_EQUAL(d.n_errors, 1);
	CU_ASSERT_EQUAL(d.n_warnings, 1);
	npgw_diags_print(&d, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "policies/db.yaml:14:11: spec.ingress[0].ports[1].endPort: 79 is below port 80\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "a.yaml:3:9: spec.ipBlock.cidr: warning: host bits set\n"));
	free(text);
	json = npgw_diags_to_json(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"line\":14,\"column\":11"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"severity\":\"warning\""));
	free(json);
	npgw_diags_free(&d);
}

static void test_diags_are_bounded(void)
{
	struct npgw_diags d = {0};

	for (int i = 0; i < NPGW_DIAGS_MAX + 50; i++)
		npgw_diags_add(&d, NPGW_SEV_ERROR, "f", 1, 1, "p", "error %d", i);
	CU_ASSERT_EQUAL(d.n, NPGW_DIAGS_MAX);
	CU_ASSERT_EQUAL(d.dropped, 50);
	CU_ASSERT_EQUAL(d.n_errors, NPGW_DIAGS_MAX + 50);
	npgw_diags_free(&d);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"prefix_host_bits_are_cleared_and_reported", test_prefix_host_bits_are_cleared_and_reported},
		{"prefix_rejects_malformed", test_prefix_rejects_malformed},
		{"prefix_contains_and_covers", test_prefix_contains_and_covers},
		{"diags_text_and_json", test_diags_text_and_json},
		{"diags_are_bounded", test_diags_are_bounded},
		CU_TEST_INFO_NULL,
	};
	return npgw_test_add_suite("common", tests);
}
