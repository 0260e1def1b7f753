/*
 * cunit_main.c: the shared main of the CUnit suite executables.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cunit_main.h"

int npgw_test_add_suite(const char *name, const CU_TestInfo *tests)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);

	if (s == NULL)
		return -1;
	for (const CU_TestInfo *t = tests; t->pName != NULL; t++)
		if (CU_add_test(s, t->pName, t->pTestFunc) == NULL)
			return -1;
	return 0;
}

int main(void)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (npgw_test_register() != 0) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		failed = 1; /* a suite that ran nothing has proved nothing */
	CU_cleanup_registry();
	printf("\n");
	return failed ? 1 : 0;
}
