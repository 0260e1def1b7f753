/*
 * metrics.c: the Prometheus text exposition format, version 0.0.4:
 * families with HELP and TYPE, samples with escaped label values, and
 * histograms with cumulative buckets.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "npgw_metrics.h"

char *npgw_metrics_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

void npgw_metrics_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels_out(FILE *out, const char *const *labels)
{
	char buf[1024];

	if (labels == NULL || labels[0] == NULL)
		return;
	fputc('{', out);
	for (size_t i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2)
		fprintf(out, "%s%s=\"%s\"", i ? "," : "", labels[i],
			npgw_metrics_escape(labels[i + 1], buf, sizeof(buf)));
	fputc('}', out);
}

void npgw_metrics_u64(FILE *out, const char *name, const char *const *labels, uint64_t v)
{
	fputs(name, out);
	labels_out(out, labels);
	fprintf(out, " %" PRIu64 "\n", v);
}

void npgw_metrics_double(FILE *out, const char *name, const char *const *labels, double v)
{
	fputs(name, out);
	labels_out(out, labels);
	if (isnan(v))
		fputs(" NaN\n", out);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", out);
	else
		fprintf(out, " %.17g\n", v);
}

void npgw_metrics_histogram(FILE *out, const char *name, const double *bounds,
			    const uint64_t *counts, size_t n, double sum)
{
	char bucket[128], le[64];
	uint64_t cum = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (size_t i = 0; i <= n; i++) {
		const char *labels[] = {"le", le, NULL};

		cum += counts[i];
		if (i < n)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		npgw_metrics_u64(out, bucket, labels, cum);
	}
	snprintf(bucket, sizeof(bucket), "%s_sum", name);
	npgw_metrics_double(out, bucket, NULL, sum);
	snprintf(bucket, sizeof(bucket), "%s_count", name);
	npgw_metrics_u64(out, bucket, NULL, cum);
}
