/*
 * paths.c: read several files or directories into one validated cluster,
 * all or nothing: what the daemon, explain and the control socket need.
 */
#include <errno.h>
#include <string.h>

#include "npgw_k8s.h"

struct npgw_k8s_cluster *npgw_k8s_load_paths(const char *const *paths, size_t n,
					     struct npgw_diags *diags, int *err)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	int rc = 0;

	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n && rc != -ENOMEM; i++) {
		int r = npgw_k8s_load_path(c, paths[i], diags);

		if (r < 0 && r != -EINVAL && r != -ENOMEM)
			npgw_diags_add(diags, NPGW_SEV_ERROR, paths[i], 0, 0, "", "cannot read: %s",
				       strerror(-r));
		if (r < 0 && rc == 0)
			rc = r;
		if (r == -ENOMEM)
			rc = r;
	}
	if (rc != -ENOMEM) {
		int r = npgw_k8s_cluster_validate(c, diags);

		if (r == 0)
			r = npgw_k8s_cluster_warn(c, diags);
		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc == 0 && diags->n_errors > 0)
		rc = -EINVAL;
	if (rc < 0) {
		npgw_k8s_cluster_free(c);
		*err = rc;
		return NULL;
	}
	return c;
}
