/*
 * conn.c: one connection of the control socket: reading bytes, framing
 * them into request lines, dispatching each to its handler, and writing
 * the replies out in request order (see server.c for the whole picture).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_private.h"

/* ---- connections ---- */

void ctl_conn_close(struct npgw_ctl_conn *c)
{
	struct npgw_ctl *ctl = c->ctl;

	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->pending != NULL) {
		c->pending->conn = NULL;
		c->pending = NULL;
	}
	free(c->in);
	free(c->out);
	ctl->in_bytes -= c->in_cap;
	c->in = c->out = NULL;
	c->in_len = c->in_cap = c->out_len = c->out_off = 0;
	ctl->n_conns--;
	if (ctl->listen_paused) { /* a descriptor came free */
		ctl->listen_paused = false;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ctl->listen_tag};

		epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, ctl->lfd, &ev);
	}
}

/* Free the connections closed since the last reap. */
void ctl_reap(struct npgw_ctl *ctl)
{
	struct npgw_ctl_conn *c = ctl->conns, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (!c->dead)
			continue;
		if (c->prev)
			c->prev->next = c->next;
		else
			ctl->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		free(c);
	}
}

void ctl_conn_interest(struct npgw_ctl_conn *c)
{
	struct npgw_ctl *ctl = c->ctl;
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (!c->rd_eof && !c->closing && c->pending == NULL && c->out_len == 0 &&
	    c->in_len <= ctl->p.max_msg)
		ev |= EPOLLIN;
	if (c->out_len > 0)
		ev |= EPOLLOUT;
	if (ev != c->events) {
		struct epoll_event e = {.events = ev, .data.ptr = c};

		if (epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) {
			ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: epoll: %s", strerror(errno));
			ctl_conn_close(c);
			return;
		}
		c->events = ev;
	}
}

/* Write what the socket takes. Closes the connection on a write error. */
static void conn_flush(struct npgw_ctl_conn *c)
{
	while (!c->dead && c->out_off < c->out_len) {
		ssize_t r = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0) {
			c->out_off += (size_t)r;
			c->out_ms = c->last_ms = ctl_now_ms();
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			ctl_conn_close(c); /* EPIPE, ECONNRESET: the peer is gone */
			return;
		}
	}
	if (!c->dead && c->out_off == c->out_len && c->out != NULL) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
	}
}

/* Queue one reply (result taken) and try to write it. */
void ctl_conn_reply(struct npgw_ctl_conn *c, const cJSON *id, cJSON *result,
		       const struct npgw_ctl_error *err)
{
	struct npgw_ctl *ctl = c->ctl;
	size_t len = 0;
	char *line;

	if (c->dead) {
		cJSON_Delete(result);
		return;
	}
	line = ctl_format_reply(id, result, err, &len);
	if (line != NULL && len > ctl->p.max_output) {
		struct npgw_ctl_error big;

		npgw_ctl_error(&big, NPGW_CTL_E_TOO_LARGE,
			       "the reply of %zu bytes is over the limit of %zu", len,
			       ctl->p.max_output);
		free(line);
		line = ctl_format_reply(id, NULL, &big, &len);
	}
	if (line == NULL) {
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: out of memory for a reply (pid %d)",
			(int)c->pid);
		ctl_conn_close(c);
		return;
	}
	if (c->out_len - c->out_off + len > ctl->p.max_output) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING,
			"control socket: client pid %d does not read its replies; closed",
			(int)c->pid);
		free(line);
		ctl_conn_close(c);
		return;
	}
	if (c->out_len == 0) {
		c->out = line;
		c->out_len = len;
		c->out_off = 0;
	} else {
		char *n = realloc(c->out, c->out_len + len);

		if (n == NULL) {
			free(line);
			ctl_conn_close(c);
			return;
		}
		memcpy(n + c->out_len, line, len);
		c->out = n;
		c->out_len += len;
		free(line);
	}
	c->out_ms = ctl_now_ms();
	c->last_ms = c->out_ms; /* an answer: the idle time starts now */
	conn_flush(c);
}

/* Drop the first n bytes of the input. */
static void conn_consume(struct npgw_ctl_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	c->scan = 0;
	c->msg_start_ms = c->in_len > 0 ? ctl_now_ms() : 0;
	if (c->in_cap > 16 * CTL_IN_MIN && c->in_len < CTL_IN_MIN) {
		char *s = realloc(c->in, CTL_IN_MIN); /* give a large apply's memory back */

		if (s != NULL) {
			c->ctl->in_bytes -= c->in_cap - CTL_IN_MIN;
			c->in = s;
			c->in_cap = CTL_IN_MIN;
		}
	}
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Parse one request line and run its command. */
static void conn_dispatch(struct npgw_ctl_conn *c, const char *buf, size_t len)
{
	struct npgw_ctl *ctl = c->ctl;
	struct npgw_ctl_error err = {{0}, {0}};
	struct ctl_request rq;
	const struct ctl_cmd *cmd;
	cJSON *empty = NULL;
	int rc;

	if (ctl_parse_request(buf, len, &rq, &err) < 0) {
		ctl_conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	cmd = ctl_find_cmd(ctl, rq.cmd);
	if (cmd == NULL) {
		npgw_ctl_error(&err, NPGW_CTL_E_UNKNOWN_COMMAND,
			       "unknown command \"%.64s\" (list-commands lists them)", rq.cmd);
		ctl_conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	if (rq.args == NULL && (rq.args = empty = cJSON_CreateObject()) == NULL) {
		npgw_ctl_error(&err, NPGW_CTL_E_INTERNAL, "out of memory");
		ctl_conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	struct npgw_ctl_reply reply = {
		.uid = c->uid, .gid = c->gid, .pid = c->pid, .ctl = ctl, .conn = c, .id = rq.id,
	};

	double t0 = ctl_mono_ms();

	ctl->cur_reply = &reply;
	ctl->cur_done = false;
	ctl->cur_cmd = cmd->name;
	ctl->cur_t0 = t0;
	rc = cmd->handler(cmd->arg, rq.args, &reply);
	ctl->cur_reply = NULL;
	ctl->cur_cmd = NULL;
	if (rc == NPGW_CTL_DEFER && (reply.pending != NULL || ctl->cur_done)) {
		cJSON_Delete(reply.result); /* waiting, or answered already */
	} else {
		if (reply.pending != NULL) { /* deferred and answered: the handle is dead */
			reply.pending->conn = NULL;
			c->pending = NULL;
		}
		if (rc == NPGW_CTL_DEFER) {
			npgw_ctl_error(&reply.error, NPGW_CTL_E_INTERNAL,
				       "command %s deferred without a handle", cmd->name);
			rc = -EINVAL;
		}
		if (rc < 0) {
			if (reply.error.code[0] == '\0')
				npgw_ctl_error(&reply.error, NPGW_CTL_E_INTERNAL, "%s failed: %s",
					       cmd->name, strerror(-rc));
			ctl_audit(ctl, cmd->name, rq.args, c->uid, c->pid, t0, reply.result,
				  &reply.error);
			ctl_conn_reply(c, rq.id, reply.result, &reply.error); /* details */
		} else {
			ctl_audit(ctl, cmd->name, rq.args, c->uid, c->pid, t0, reply.result, NULL);
			ctl_conn_reply(c, rq.id, reply.result, NULL);
		}
	}
	cJSON_Delete(empty);
	cJSON_Delete(rq.root);
}

/* Answer what can be answered now, then close or wait for events. */
void ctl_conn_service(struct npgw_ctl_conn *c)
{
	struct npgw_ctl *ctl = c->ctl;

	while (!c->dead && !c->closing && c->pending == NULL && c->out_len == 0) {
		char *nl = c->in_len > c->scan ? memchr(c->in + c->scan, '\n', c->in_len - c->scan)
					       : NULL;
		size_t n;

		if (nl == NULL)
			c->scan = c->in_len;
		n = nl != NULL ? (size_t)(nl - c->in) : c->in_len;
		if (n > ctl->p.max_msg) {
			struct npgw_ctl_error err;

			npgw_ctl_error(&err, NPGW_CTL_E_TOO_LARGE,
				       "request over the limit of %zu bytes; closing",
				       ctl->p.max_msg);
			ctl_log(ctl, NPGW_CTL_LOG_WARNING,
				"control socket: request over %zu bytes from pid %d; closed",
				ctl->p.max_msg, (int)c->pid);
			c->closing = true;
			c->in_len = 0;
			ctl_conn_reply(c, NULL, NULL, &err);
			break;
		}
		if (nl == NULL && !(c->rd_eof && c->in_len > 0))
			break; /* the rest of the message has not come */
		/* A line, or what the peer sent last before shutting down. */
		if (!blank(c->in, n)) {
			c->last_ms = ctl_now_ms(); /* a request: blank lines are not */
			conn_dispatch(c, c->in, n);
		}
		if (c->dead)
			break;
		conn_consume(c, nl != NULL ? n + 1 : n);
	}
	if (c->dead)
		return;
	conn_flush(c);
	if (c->dead)
		return;
	if (c->out_len == 0 && c->pending == NULL &&
	    (c->closing || (c->rd_eof && c->in_len == 0))) {
		ctl_conn_close(c);
		return;
	}
	ctl_conn_interest(c);
}

static void conn_read(struct npgw_ctl_conn *c)
{
	struct npgw_ctl *ctl = c->ctl;
	size_t limit = ctl->p.max_msg + 1; /* a full message and its newline */
	ssize_t r;

	if (c->in_len >= limit)
		return;
	if (c->in_cap - c->in_len < CTL_IN_MIN / 2 && c->in_cap < limit) {
		size_t cap = c->in_cap ? c->in_cap * 2 : CTL_IN_MIN;
		char *n;

		if (cap > limit)
			cap = limit;
		if (ctl->in_bytes - c->in_cap + cap > ctl->p.max_input) {
			/* the clients together hold too much: this one waits no
			 * longer (a 31-client slow apply drove RSS to 1 GB) */
			struct npgw_ctl_error err;

			ctl_log(ctl, NPGW_CTL_LOG_WARNING,
				"control socket: %zu bytes of requests held for all clients; "
				"pid %d refused", ctl->in_bytes, (int)c->pid);
			npgw_ctl_error(&err, NPGW_CTL_E_BUSY,
				       "the gateway holds %zu MiB of unfinished requests from all "
				       "clients (limit %zu MiB); try again later",
				       ctl->in_bytes >> 20, ctl->p.max_input >> 20);
			c->closing = true;
			c->in_len = 0;
			ctl_conn_reply(c, NULL, NULL, &err);
			return;
		}
		n = realloc(c->in, cap);
		if (n == NULL) {
			ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: out of memory reading");
			ctl_conn_close(c);
			return;
		}
		ctl->in_bytes += cap - c->in_cap;
		c->in = n;
		c->in_cap = cap;
	}
	r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (r > 0) {
		if (c->in_len == 0)
			c->msg_start_ms = ctl_now_ms();
		c->in_len += (size_t)r; /* not activity: only a request is (idle timeout) */
	} else if (r == 0) {
		c->rd_eof = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		ctl_conn_close(c);
	}
}

void ctl_conn_event(struct npgw_ctl_conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* HUP on a Unix socket: the peer closed both ways; nothing it
		 * asked for can be answered. */
		ctl_conn_close(c);
		return;
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->dead && (events & EPOLLIN))
		conn_read(c);
	if (!c->dead)
		ctl_conn_service(c);
}

