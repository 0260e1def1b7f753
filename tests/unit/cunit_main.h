/*
 * cunit_main.h: one main() for every CUnit suite executable. A test file
 * defines npgw_test_register() to add its suites; main runs them in basic
 * mode (summary printed) and exits non-zero when anything failed.
 */
#ifndef NPGW_CUNIT_MAIN_H
#define NPGW_CUNIT_MAIN_H

#include <CUnit/Basic.h>

/* Add the file's suites to the registry. Returns 0 or -1. */
int npgw_test_register(void);

/* Shorthand: add a suite with tests {name, fn} ending in {NULL, NULL}. */
int npgw_test_add_suite(const char *name, const CU_TestInfo *tests);

#endif
