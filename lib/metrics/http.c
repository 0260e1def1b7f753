/*
 * http.c: GET /metrics over HTTP with GNU libmicrohttpd, on the library's
 * own polling thread. The listening socket is made here (so that a busy
 * address is reported as such) and handed to the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "npgw_metrics.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct npgw_metrics_server {
	struct MHD_Daemon *d;
	int fd;
	uint16_t port;
	npgw_metrics_render_t render;
	void *arg;
};

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	char *copy = strdup(text); /* MHD takes a non-const buffer */
	struct MHD_Response *r =
		copy ? MHD_create_response_from_buffer_with_free_callback(strlen(copy), copy, free)
		     : NULL;
	enum MHD_Result rc;

	if (r == NULL) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	struct npgw_metrics_server *s = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t len = 0;
	char *text;

	(void)version;
	(void)upload;
	if (*req == NULL) { /* the headers: answer once the request is whole */
		*req = s;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* a body is ignored */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND, "npgw serves /metrics\n");
	text = s->render(s->arg, &len);
	if (text == NULL)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics now\n");
	r = MHD_create_response_from_buffer_with_free_callback(len, text, free);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", CONTENT_TYPE);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

struct npgw_metrics_server *npgw_metrics_server_start(const struct npgw_addr *addr,
						      uint16_t port, npgw_metrics_render_t render,
						      void *arg, int *err)
{
	struct npgw_metrics_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	if (s == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(&ss, 0, sizeof(ss));
	s->fd = -1;
	s->render = render;
	s->arg = arg;
	errno = 0;
	if (addr->family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		memcpy(&a->sin6_addr, addr->bytes, 16);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, addr->bytes, 4);
		sl = sizeof(*a);
	}
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == 6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss, sl) < 0 || listen(s->fd, 16) < 0)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) < 0)
		goto fail;
	s->port = ntohs(addr->family == 6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					  : ((struct sockaddr_in *)&ss)->sin_port);
	s->d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | (addr->family == 6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (s->d == NULL) {
		errno = EIO;
		goto fail;
	}
	return s;
fail:
	*err = errno ? -errno : -EIO;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

uint16_t npgw_metrics_server_port(const struct npgw_metrics_server *s)
{
	return s->port;
}

void npgw_metrics_server_stop(struct npgw_metrics_server *s)
{
	if (s == NULL)
		return;
	/* the socket is ours: quiesced, MHD leaves it open for us to close */
	MHD_quiesce_daemon(s->d);
	MHD_stop_daemon(s->d);
	close(s->fd);
	free(s);
}
