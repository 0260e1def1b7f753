#include "cunit_main.h"
int npgw_test_register(void) { return 0; }
