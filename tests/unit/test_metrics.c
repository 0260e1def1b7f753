/*
 * test_metrics.c: lib/metrics: the exposition format (escaping, families,
 * histograms) and the HTTP server answering real requests over loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cunit_main.h"
#include "npgw_metrics.h"

static char *render_to_string(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void write_sample(FILE *f)
{
	npgw_metrics_family(f, "npgw_x_total", "counter", "a counter");
	npgw_metrics_u64(f, "npgw_x_total", (const char *const[]){"a", "q\"u\\o\nte", "b", "2", NULL},
			 18446744073709551615ULL);
	npgw_metrics_u64(f, "npgw_x_total", NULL, 0);
}

static void test_labels_are_escaped(void)
{
	char *s = render_to_string(write_sample);

	CU_ASSERT_STRING_EQUAL(s, "# HELP npgw_x_total a counter\n"
				  "# TYPE npgw_x_total counter\n"
				  "npgw_x_total{a=\"q\\\"u\\\\o\\nte\",b=\"2\"} 18446744073709551615\n"
				  "npgw_x_total 0\n");
	free(s);
}

static void write_hist(FILE *f)
{
	static const double b[] = {0.01, 0.1, 1};
	static const uint64_t c[] = {1, 0, 2, 3};

	npgw_metrics_histogram(f, "h_seconds", b, c, 3, 12.5);
}

static void test_histogram_is_cumulative(void)
{
	char *s = render_to_string(write_hist);

	CU_ASSERT_STRING_EQUAL(s, "h_seconds_bucket{le=\"0.01\"} 1\n"
				  "h_seconds_bucket{le=\"0.1\"} 1\n"
				  "h_seconds_bucket{le=\"1\"} 3\n"
				  "h_seconds_bucket{le=\"+Inf\"} 6\n"
				  "h_seconds_sum 12.5\n"
				  "h_seconds_count 6\n");
	free(s);
}

static void test_listen_addresses(void)
{
	struct npgw_addr a;
	uint16_t port = 0;

	CU_ASSERT_EQUAL(npgw_addr_port_parse("127.0.0.1:9469", &a, &port), 0);
	CU_ASSERT_EQUAL(a.family, 4);
	CU_ASSERT_EQUAL(port, 9469);
	CU_ASSERT_EQUAL(npgw_addr_port_parse("[::1]:80", &a, &port), 0);
	CU_ASSERT_EQUAL(a.family, 6);
	CU_ASSERT_EQUAL(port, 80);
	CU_ASSERT_EQUAL(npgw_addr_port_parse("localhost:65535", &a, &port), 0);
	CU_ASSERT_EQUAL(a.bytes[0], 127);
	static const char *const bad[] = {
		"127.0.0.1",	"127.0.0.1:",	  "127.0.0.1:0",   "127.0.0.1:65536", "::1:80",
		"[127.0.0.1]:8", "[::1]80",	  ":80",	   "host:80",	      "1.2.3.4:08",
		"1.2.3.4:8x",	"[::1]:-1",	  "",		   "[]:80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(npgw_addr_port_parse(bad[i], &a, &port), -EINVAL);
		if (npgw_addr_port_parse(bad[i], &a, &port) != -EINVAL)
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
	}
}

static int renders;

static char *render(void *arg, size_t *len)
{
	char *s = strdup((const char *)arg);

	renders++;
	*len = strlen(s);
	return s;
}

/* GET (or another method) path on 127.0.0.1:port; the whole answer. */
static char *http(uint16_t port, const char *method, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	char req[256], *buf = calloc(1, 65536);
	size_t n = 0;
	ssize_t k;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method,
		 path);
	if (write(fd, req, strlen(req)) < 0) {
		close(fd);
		return buf;
	}
	while (n < 65535 && (k = read(fd, buf + n, 65535 - n)) > 0)
		n += (size_t)k;
	close(fd);
	return buf;
}

static void test_server_answers_metrics_only(void)
{
	struct npgw_addr lo;
	int err = 0;
	struct npgw_metrics_server *s, *s2;
	char *r;

	npgw_addr_parse("127.0.0.1", &lo);
	s = npgw_metrics_server_start(&lo, 0, render, (char[]){"npgw_up 1\n"}, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(npgw_metrics_server_port(s) > 0);
	r = http(npgw_metrics_server_port(s), "GET", "/metrics");
	CU_ASSERT(strncmp(r, "HTTP/1.1 200", 12) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "text/plain; version=0.0.4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\r\n\r\nnpgw_up 1\n"));
	free(r);
	r = http(npgw_metrics_server_port(s), "GET", "/other");
	CU_ASSERT(strncmp(r, "HTTP/1.1 404", 12) == 0);
	free(r);
	r = http(npgw_metrics_server_port(s), "POST", "/metrics");
	CU_ASSERT(strncmp(r, "HTTP/1.1 405", 12) == 0);
	free(r);
	CU_ASSERT_EQUAL(renders, 1);

	/* the same address again: refused, and said so */
	s2 = npgw_metrics_server_start(&lo, npgw_metrics_server_port(s), render, (char[]){""}, &err);
	CU_ASSERT_PTR_NULL(s2);
	CU_ASSERT_EQUAL(err, -EADDRINUSE);
	npgw_metrics_server_stop(s2);
	npgw_metrics_server_stop(s);
	npgw_metrics_server_stop(NULL);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"label values are escaped, counters print whole", test_labels_are_escaped},
		{"a histogram's buckets are cumulative", test_histogram_is_cumulative},
		{"listen addresses: ADDR:PORT, [V6]:PORT, localhost", test_listen_addresses},
		{"the server answers /metrics, 404 elsewhere, 405 to POST", test_server_answers_metrics_only},
		CU_TEST_INFO_NULL,
	};

	return npgw_test_add_suite("metrics", tests);
}
