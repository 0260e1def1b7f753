/*
 * fuzz_k8s.c: libFuzzer target for lib/k8s: the loader (YAML or JSON by
 * content, as an apply over the control socket reads it), the validator,
 * then what the daemon does with an accepted model: sort, clone, emit as
 * JSON, and load the emitted text again, which must succeed (the emitter
 * writes only what the loader accepts).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "npgw_common.h"
#include "npgw_k8s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npgw_diags diags = {0};
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	if (c == NULL)
		return 0;
	int rc = npgw_k8s_load_buffer(c, "fuzz", (const char *)data, size, &diags);
	if (rc == 0)
		rc = npgw_k8s_cluster_validate(c, &diags);
	char *json = npgw_diags_to_json(&diags);
	free(json);
	npgw_diags_free(&diags);
	if (rc != 0) {
		npgw_k8s_cluster_free(c);
		return 0;
	}
	npgw_k8s_cluster_sort(c);
	int err = 0;
	struct npgw_k8s_cluster *copy = npgw_k8s_cluster_clone(c, &err);
	cJSON *doc = npgw_k8s_cluster_to_json(copy != NULL ? copy : c);
	char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
	cJSON_Delete(doc);
	if (text != NULL) {
		/* What the emitter wrote must load again without error. */
		struct npgw_k8s_cluster *again = npgw_k8s_cluster_new();
		struct npgw_diags d2 = {0};
		if (again != NULL &&
		    npgw_k8s_load_buffer(again, "emitted.json", text, strlen(text), &d2) != 0) {
			fprintf(stderr, "fuzz_k8s: the emitted model does not load:\n%s\n", text);
			npgw_diags_print(&d2, stderr);
			abort();
		}
		npgw_diags_free(&d2);
		npgw_k8s_cluster_free(again);
		free(text);
	}
	npgw_k8s_cluster_free(copy);
	npgw_k8s_cluster_free(c);
	return 0;
}
