/*
 * client.c: the control socket's client, for npgwctl and the tests: one
 * connection, one request at a time, each reply matched by its id, every
 * wait bounded by a timeout and every reply by a size.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_private.h"

struct npgw_ctl_client {
	int fd;
	uint64_t next_id;
	size_t max_reply;
	char *in; /* bytes read past the last reply line */
	size_t in_len, in_cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), at least 0. */
static int left_ms(int64_t deadline)
{
	int64_t l;

	if (deadline < 0)
		return -1;
	l = deadline - mono_ms();
	return l < 0 ? 0 : (l > 1 << 30 ? 1 << 30 : (int)l);
}

struct npgw_ctl_client *npgw_ctl_client_connect(const char *path, int timeout_ms, int *err)
{
	struct npgw_ctl_client *cl;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		*err = path == NULL ? -EINVAL : -ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	cl->max_reply = NPGW_CTL_CLIENT_MAX_REPLY;
	cl->next_id = 1;
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0) {
		rc = -errno;
		goto fail;
	}
	/* A Unix connect blocks only while the server's backlog is full, for
	 * at most SO_SNDTIMEO; EAGAIN then means it timed out. */
	if (timeout_ms >= 0) {
		struct timeval tv = {.tv_sec = timeout_ms / 1000,
				     .tv_usec = (timeout_ms % 1000) * 1000};

		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			tv.tv_usec = 1000;
		setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	do {
		rc = connect(cl->fd, (const struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto fail;
	}
	return cl;
fail:
	npgw_ctl_client_close(cl);
	*err = rc;
	return NULL;
}

void npgw_ctl_client_set_max_reply(struct npgw_ctl_client *cl, size_t bytes)
{
	cl->max_reply = bytes ? bytes : NPGW_CTL_CLIENT_MAX_REPLY;
}

void npgw_ctl_client_close(struct npgw_ctl_client *cl)
{
	if (cl == NULL)
		return;
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->in);
	free(cl);
}

/* Is this line the answer to id? The answer to id, or an error the
 * server sent before closing (null id). Others (a late answer to an
 * earlier call that timed out) are skipped. */
static int take_reply(char *line, size_t len, double id, cJSON **reply)
{
	struct npgw_ctl_error err;
	cJSON *r = cJSON_ParseWithLength(line, len), *rid, *ok;

	if (r == NULL || ctl_check_tree(r, &err) < 0 || !cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return -EPROTO;
	}
	rid = cJSON_GetObjectItemCaseSensitive(r, "id");
	ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
	if (!cJSON_IsBool(ok) || rid == NULL) {
		cJSON_Delete(r);
		return -EPROTO;
	}
	if ((cJSON_IsNumber(rid) && rid->valuedouble == id) ||
	    (cJSON_IsNull(rid) && cJSON_IsFalse(ok))) {
		*reply = r;
		return 0;
	}
	cJSON_Delete(r);
	return -EAGAIN;
}

/* Look for a complete line in the buffer; 0 with *reply, -EAGAIN for more. */
static int scan_lines(struct npgw_ctl_client *cl, double id, cJSON **reply)
{
	char *nl;

	while (cl->in_len > 0 && (nl = memchr(cl->in, '\n', cl->in_len)) != NULL) {
		size_t n = (size_t)(nl - cl->in);
		int rc = take_reply(cl->in, n, id, reply);

		memmove(cl->in, nl + 1, cl->in_len - n - 1);
		cl->in_len -= n + 1;
		if (rc != -EAGAIN)
			return rc;
	}
	if (cl->in_len > cl->max_reply)
		return -EMSGSIZE;
	return -EAGAIN;
}

static int read_some(struct npgw_ctl_client *cl)
{
	ssize_t r;

	if (cl->in_cap - cl->in_len < 4096) {
		size_t cap = cl->in_cap ? cl->in_cap * 2 : 65536;
		char *n;

		if (cap > cl->max_reply + 2)
			cap = NPGW_MAX(cl->max_reply + 2, cl->in_len + 1);
		n = realloc(cl->in, cap);
		if (n == NULL)
			return -ENOMEM;
		cl->in = n;
		cl->in_cap = cap;
	}
	if (cl->in_cap == cl->in_len)
		return -EMSGSIZE;
	r = recv(cl->fd, cl->in + cl->in_len, cl->in_cap - cl->in_len, MSG_DONTWAIT);
	if (r > 0) {
		cl->in_len += (size_t)r;
		return 0;
	}
	if (r == 0)
		return -ECONNRESET;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return -errno;
}

int npgw_ctl_client_call(struct npgw_ctl_client *cl, const char *cmd, const cJSON *args,
			 cJSON **reply, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	double id = (double)cl->next_id++;
	cJSON *rq = cJSON_CreateObject(), *a;
	char *msg = NULL;
	size_t len = 0, off = 0;
	bool sent = false;
	int rc;

	*reply = NULL;
	if (rq == NULL || !cJSON_AddNumberToObject(rq, "id", id) ||
	    !cJSON_AddStringToObject(rq, "cmd", cmd))
		goto nomem;
	if (args != NULL) {
		a = cJSON_Duplicate(args, true);
		if (a == NULL)
			goto nomem;
		cJSON_AddItemToObject(rq, "args", a);
	}
	msg = cJSON_PrintUnformatted(rq);
	cJSON_Delete(rq);
	rq = NULL;
	if (msg == NULL)
		goto nomem;
	len = strlen(msg);
	msg[len++] = '\n'; /* over the terminating NUL: sent by length */

	/* Send and read together: the server may answer (too-large, busy)
	 * before it has read all of a large request. */
	for (;;) {
		struct pollfd pfd = {.fd = cl->fd, .events = POLLIN | (sent ? 0 : POLLOUT)};
		int t;

		rc = scan_lines(cl, id, reply);
		if (rc != -EAGAIN)
			break;
		t = left_ms(deadline);
		if (t == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = poll(&pfd, 1, t);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			rc = -errno;
			break;
		}
		if (rc == 0)
			continue; /* the deadline check above ends it */
		if (!sent && (pfd.revents & POLLOUT)) {
			ssize_t w = send(cl->fd, msg + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0) {
				off += (size_t)w;
				sent = off == len;
			} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
				   errno != EINTR) {
				/* EPIPE: the server closed; its reason may wait in our buffer */
				sent = true;
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = read_some(cl);
			if (rc < 0) {
				/* closed: a last complete line may still be the answer */
				int r2 = scan_lines(cl, id, reply);

				rc = r2 == 0 ? 0 : (r2 == -EAGAIN ? rc : r2);
				break;
			}
		}
	}
	free(msg);
	return rc;
nomem:
	cJSON_Delete(rq);
	free(msg);
	return -ENOMEM;
}
