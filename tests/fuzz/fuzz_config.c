/*
 * fuzz_config.c: libFuzzer target for lib/config: the gateway config
 * loader (lib/doc YAML, the field tables, the cross-section checks). A
 * config it accepts is freed; every diagnostic is formatted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "npgw_common.h"
#include "npgw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npgw_diags diags = {0};
	int err = 0;
	struct npgw_config *c =
		npgw_config_load_buffer("fuzz.yaml", (const char *)data, size, &diags, &err);
	if (c == NULL && err == 0)
		abort(); /* a refusal must say why */
	npgw_config_free(c);
	char *json = npgw_diags_to_json(&diags);
	free(json);
	npgw_diags_free(&diags);
	return 0;
}
