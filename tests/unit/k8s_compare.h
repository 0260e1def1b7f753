/*
 * k8s_compare.h: field-by-field comparison of two cluster models, for the
 * suites that check a model survives a trip (emit then load, clone, save
 * then load). Written independently of lib/k8s so a bug there cannot hide
 * in the check. Test code only.
 */
#ifndef NPGW_TEST_K8S_COMPARE_H
#define NPGW_TEST_K8S_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "npgw_k8s.h"

/* What to compare besides the objects' contents. */
#define K8S_CMP_ORIGIN 0x1 /* origin file, line, col */
#define K8S_CMP_REFUSED 0x2 /* n_refused */

/*
 * True when a and b hold the same objects in the same order with the same
 * fields. Otherwise false, with the first difference described in why
 * ("pods[3] (shop/web-1).ports[1].name: "http" vs NULL").
 */
bool k8s_cluster_same(const struct npgw_k8s_cluster *a, const struct npgw_k8s_cluster *b,
		      unsigned int flags, char *why, size_t len);

#endif
