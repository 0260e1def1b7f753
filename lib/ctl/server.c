/*
 * server.c: the control socket server. One thread, one epoll set (the
 * listening socket, a timerfd for every deadline, the connections), driven
 * by the owner's loop through npgw_ctl_process.
 *
 * A connection reads a request line, dispatches it, and reads the next
 * only once the reply is written out (or, for a deferred reply, completed
 * and written): replies come in request order, and the queued output of a
 * connection is one reply, whatever the client pipelines. A client that
 * stops reading holds its reply until the send timeout closes it; one that
 * stops half-way through a request is closed at the receive timeout; one
 * that closes its socket abandons what it had not yet had answered.
 * Connections are freed only at the end of npgw_ctl_process (or of
 * npgw_ctl_complete), so an event fetched in the same batch never points
 * at freed memory.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_private.h"

#define CTL_MAX_EVENTS 64
#define CTL_IN_MIN 4096
#define CTL_LISTEN_RETRY_MS 100 /* after accept ran out of descriptors */

struct ctl_cmd {
	char *name;
	char *usage;
	char *summary;
	npgw_ctl_handler_t handler;
	void *arg;
};

struct npgw_ctl_conn {
	struct npgw_ctl *ctl;
	struct npgw_ctl_conn *next, *prev;
	int fd;
	uint32_t events; /* current epoll interest */
	bool dead; /* closed; freed at the next reap */
	bool rd_eof; /* the peer shut down its sending side */
	bool closing; /* close once the output is written */
	bool kick; /* service it at the next process: input waits */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char *in;
	size_t in_len, in_cap;
	size_t scan; /* in[0..scan) holds no newline */
	char *out;
	size_t out_len, out_off;
	uint64_t msg_start_ms; /* first byte of the incomplete message */
	uint64_t last_ms; /* last activity, for the idle timeout */
	uint64_t out_ms; /* last output progress */
	struct npgw_ctl_pending *pending;
};

struct npgw_ctl_pending {
	struct npgw_ctl *ctl;
	struct npgw_ctl_pending *next, *prev;
	struct npgw_ctl_conn *conn; /* NULL once the client is gone or timed out */
	cJSON *id;
	uint64_t deadline_ms; /* 0: none */
};

struct npgw_ctl {
	int epfd;
	int lfd;
	int tfd;
	int listen_tag; /* epoll data.ptr of lfd and tfd point here */
	int timer_tag;
	bool listen_paused;
	uint64_t listen_retry_ms;
	bool in_process;
	bool kicked;
	struct npgw_ctl_reply *cur_reply; /* the request a handler is answering */
	bool cur_done; /* ... and its deferred reply was completed meanwhile */

	char *path;
	dev_t dev;
	ino_t ino;

	struct npgw_ctl_params p; /* defaults filled; lists copied */
	uid_t *uids;
	gid_t *gids;
	uid_t self_uid;

	struct ctl_cmd *cmds;
	size_t n_cmds, cap_cmds;

	struct npgw_ctl_conn *conns; /* open and dead-not-yet-freed */
	unsigned int n_conns; /* open */
	size_t in_bytes; /* input buffers of every open connection (in_cap) */
	struct npgw_ctl_pending *pendings;
	unsigned int n_pending;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ctl_log(struct npgw_ctl *ctl, int level, const char *fmt, ...) NPGW_PRINTF(3, 4);

static void ctl_log(struct npgw_ctl *ctl, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ctl->p.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl->p.log(ctl->p.log_arg, level, msg);
}

/* ---- connections ---- */

static void conn_close(struct npgw_ctl_conn *c)
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
static void reap(struct npgw_ctl *ctl)
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

static void conn_interest(struct npgw_ctl_conn *c)
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
			conn_close(c);
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
			c->out_ms = c->last_ms = now_ms();
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			conn_close(c); /* EPIPE, ECONNRESET: the peer is gone */
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
static void conn_reply(struct npgw_ctl_conn *c, const cJSON *id, cJSON *result,
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
		conn_close(c);
		return;
	}
	if (c->out_len - c->out_off + len > ctl->p.max_output) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING,
			"control socket: client pid %d does not read its replies; closed",
			(int)c->pid);
		free(line);
		conn_close(c);
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
			conn_close(c);
			return;
		}
		memcpy(n + c->out_len, line, len);
		c->out = n;
		c->out_len += len;
		free(line);
	}
	c->out_ms = now_ms();
	c->last_ms = c->out_ms; /* an answer: the idle time starts now */
	conn_flush(c);
}

/* Drop the first n bytes of the input. */
static void conn_consume(struct npgw_ctl_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	c->scan = 0;
	c->msg_start_ms = c->in_len > 0 ? now_ms() : 0;
	if (c->in_cap > 16 * CTL_IN_MIN && c->in_len < CTL_IN_MIN) {
		char *s = realloc(c->in, CTL_IN_MIN); /* give a large apply's memory back */

		if (s != NULL) {
			c->ctl->in_bytes -= c->in_cap - CTL_IN_MIN;
			c->in = s;
			c->in_cap = CTL_IN_MIN;
		}
	}
}

static const struct ctl_cmd *find_cmd(const struct npgw_ctl *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->n_cmds; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			return &ctl->cmds[i];
	return NULL;
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
		conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	cmd = find_cmd(ctl, rq.cmd);
	if (cmd == NULL) {
		npgw_ctl_error(&err, NPGW_CTL_E_UNKNOWN_COMMAND,
			       "unknown command \"%.64s\" (list-commands lists them)", rq.cmd);
		conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	if (rq.args == NULL && (rq.args = empty = cJSON_CreateObject()) == NULL) {
		npgw_ctl_error(&err, NPGW_CTL_E_INTERNAL, "out of memory");
		conn_reply(c, rq.id, NULL, &err);
		cJSON_Delete(rq.root);
		return;
	}
	struct npgw_ctl_reply reply = {
		.uid = c->uid, .gid = c->gid, .pid = c->pid, .ctl = ctl, .conn = c, .id = rq.id,
	};

	ctl->cur_reply = &reply;
	ctl->cur_done = false;
	rc = cmd->handler(cmd->arg, rq.args, &reply);
	ctl->cur_reply = NULL;
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
			conn_reply(c, rq.id, reply.result, &reply.error); /* details */
		} else {
			conn_reply(c, rq.id, reply.result, NULL);
		}
	}
	cJSON_Delete(empty);
	cJSON_Delete(rq.root);
}

/* Answer what can be answered now, then close or wait for events. */
static void conn_service(struct npgw_ctl_conn *c)
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
			conn_reply(c, NULL, NULL, &err);
			break;
		}
		if (nl == NULL && !(c->rd_eof && c->in_len > 0))
			break; /* the rest of the message has not come */
		/* A line, or what the peer sent last before shutting down. */
		if (!blank(c->in, n)) {
			c->last_ms = now_ms(); /* a request: blank lines are not */
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
		conn_close(c);
		return;
	}
	conn_interest(c);
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
			conn_reply(c, NULL, NULL, &err);
			return;
		}
		n = realloc(c->in, cap);
		if (n == NULL) {
			ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: out of memory reading");
			conn_close(c);
			return;
		}
		ctl->in_bytes += cap - c->in_cap;
		c->in = n;
		c->in_cap = cap;
	}
	r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (r > 0) {
		if (c->in_len == 0)
			c->msg_start_ms = now_ms();
		c->in_len += (size_t)r; /* not activity: only a request is (idle timeout) */
	} else if (r == 0) {
		c->rd_eof = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_close(c);
	}
}

static void conn_event(struct npgw_ctl_conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* HUP on a Unix socket: the peer closed both ways; nothing it
		 * asked for can be answered. */
		conn_close(c);
		return;
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->dead && (events & EPOLLIN))
		conn_read(c);
	if (!c->dead)
		conn_service(c);
}

/* ---- accepting ---- */

static bool in_gids(const struct npgw_ctl *ctl, gid_t g)
{
	for (size_t i = 0; i < ctl->p.n_allowed_gids; i++)
		if (ctl->gids[i] == g)
			return true;
	return false;
}

static bool peer_allowed(const struct npgw_ctl *ctl, int fd, const struct ucred *cr)
{
	if (cr->uid == 0 && !ctl->p.no_root_bypass)
		return true;
	if (ctl->p.n_allowed_uids == 0 && ctl->p.n_allowed_gids == 0)
		return cr->uid == ctl->self_uid;
	for (size_t i = 0; i < ctl->p.n_allowed_uids; i++)
		if (ctl->uids[i] == cr->uid)
			return true;
	if (ctl->p.n_allowed_gids == 0)
		return false;
	if (in_gids(ctl, cr->gid))
		return true;
#ifdef SO_PEERGROUPS
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	/* More groups than fit (ERANGE) are not looked at: refused. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (in_gids(ctl, groups[i]))
				return true;
#else
	(void)fd;
#endif
	return false;
}

/* Tell a refused peer why, if its socket takes it at once, and close. */
static void refuse(struct npgw_ctl *ctl, int fd, const char *code, const char *fmt, ...)
	NPGW_PRINTF(4, 5);

static void refuse(struct npgw_ctl *ctl, int fd, const char *code, const char *fmt, ...)
{
	struct npgw_ctl_error err;
	size_t len;
	char *line;
	va_list ap;

	(void)ctl;
	snprintf(err.code, sizeof(err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	line = ctl_format_reply(NULL, NULL, &err, &len);
	if (line != NULL && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* best effort: the peer may be gone already */
	}
	free(line);
	close(fd);
}

static int accept_one(struct npgw_ctl *ctl)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct npgw_ctl_conn *c;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING, "control socket: SO_PEERCRED: %s",
			strerror(errno));
		close(fd);
		return 0;
	}
	if (!peer_allowed(ctl, fd, &cr)) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING,
			"control socket: refused pid %d uid %u gid %u: not allowed", (int)cr.pid,
			(unsigned int)cr.uid, (unsigned int)cr.gid);
		refuse(ctl, fd, NPGW_CTL_E_FORBIDDEN, "uid %u is not allowed on this socket",
		       (unsigned int)cr.uid);
		return 0;
	}
	/* the last slot is root's, so that leaked or hostile connections of
	 * other users never lock the operator out; other uids are capped each */
	bool root = cr.uid == 0 && !ctl->p.no_root_bypass;
	unsigned int of_uid = 0;

	for (struct npgw_ctl_conn *o = ctl->conns; o != NULL; o = o->next)
		of_uid += !o->dead && o->uid == cr.uid;
	if (ctl->n_conns >= ctl->p.max_clients ||
	    (!root && ctl->p.max_clients > 1 && ctl->n_conns + 1 >= ctl->p.max_clients)) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING,
			"control socket: refused pid %d uid %u: already %u clients", (int)cr.pid,
			(unsigned int)cr.uid, ctl->n_conns);
		refuse(ctl, fd, NPGW_CTL_E_BUSY, "too many clients (%u%s); try again later",
		       ctl->p.max_clients, !root ? ", the last kept for root" : "");
		return 0;
	}
	if (!root && of_uid >= ctl->p.max_per_uid) {
		ctl_log(ctl, NPGW_CTL_LOG_WARNING,
			"control socket: refused pid %d: uid %u has %u connections", (int)cr.pid,
			(unsigned int)cr.uid, of_uid);
		refuse(ctl, fd, NPGW_CTL_E_BUSY,
		       "too many connections of uid %u (%u); try again later",
		       (unsigned int)cr.uid, ctl->p.max_per_uid);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse(ctl, fd, NPGW_CTL_E_INTERNAL, "out of memory");
		return 0;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->pid = cr.pid;
	c->last_ms = now_ms();
	c->events = EPOLLIN;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		refuse(ctl, fd, NPGW_CTL_E_INTERNAL, "cannot watch the connection");
		free(c);
		return -e;
	}
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->n_conns++;
	return 0;
}

static void accept_all(struct npgw_ctl *ctl)
{
	/* A bounded number per event, so a flood cannot starve the others. */
	for (int i = 0; i < 64; i++) {
		int rc = accept_one(ctl);

		if (rc == 0 || rc == -EINTR || rc == -ECONNABORTED)
			continue;
		if (rc == -EAGAIN || rc == -EWOULDBLOCK)
			return;
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: accept: %s; pausing",
			strerror(-rc));
		struct epoll_event ev = {.events = 0, .data.ptr = &ctl->listen_tag};

		epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, ctl->lfd, &ev);
		ctl->listen_paused = true;
		ctl->listen_retry_ms = now_ms() + CTL_LISTEN_RETRY_MS;
		return;
	}
}

/* ---- timeouts ---- */

static void pending_expire(struct npgw_ctl_pending *p)
{
	struct npgw_ctl_conn *c = p->conn;
	struct npgw_ctl_error err;

	npgw_ctl_error(&err, NPGW_CTL_E_TIMEOUT, "no answer in time");
	p->conn = NULL;
	c->pending = NULL;
	conn_reply(c, p->id, NULL, &err);
	if (!c->dead)
		conn_service(c);
}

/* Expire what is due; return the next deadline (0: none). */
static uint64_t run_timers(struct npgw_ctl *ctl)
{
	uint64_t now = now_ms(), next = 0;
	const struct npgw_ctl_params *p = &ctl->p;

#define CTL_NEXT(t)                                                                            \
	do {                                                                                   \
		uint64_t t_ = (t);                                                             \
		if (next == 0 || t_ < next)                                                    \
			next = t_;                                                             \
	} while (0)

	if (ctl->listen_paused) {
		if (now >= ctl->listen_retry_ms) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ctl->listen_tag};

			epoll_ctl(ctl->epfd, EPOLL_CTL_MOD, ctl->lfd, &ev);
			ctl->listen_paused = false;
		} else {
			CTL_NEXT(ctl->listen_retry_ms);
		}
	}
	/* Expiring runs handlers of pipelined requests, which may complete
	 * other pendings: start over after each one (expired ones are skipped). */
	for (struct npgw_ctl_pending *q = ctl->pendings; q != NULL;) {
		if (q->conn != NULL && q->deadline_ms != 0 && now >= q->deadline_ms) {
			pending_expire(q);
			q = ctl->pendings;
			continue;
		}
		q = q->next;
	}
	for (struct npgw_ctl_pending *q = ctl->pendings; q != NULL; q = q->next)
		if (q->conn != NULL && q->deadline_ms != 0)
			CTL_NEXT(q->deadline_ms);
	for (struct npgw_ctl_conn *c = ctl->conns; c != NULL; c = c->next) {
		if (c->dead)
			continue;
		if (c->kick) {
			c->kick = false;
			conn_service(c);
			if (c->dead)
				continue;
		}
		if (c->pending != NULL)
			continue; /* the pending's own deadline */
		if (c->out_len > 0) {
			if (now >= c->out_ms + (uint64_t)p->send_timeout_ms) {
				ctl_log(ctl, NPGW_CTL_LOG_WARNING,
					"control socket: pid %d left its reply unread for %d ms; "
					"closed",
					(int)c->pid, p->send_timeout_ms);
				conn_close(c);
			} else {
				CTL_NEXT(c->out_ms + (uint64_t)p->send_timeout_ms);
			}
		} else if (c->in_len > 0) {
			if (now >= c->msg_start_ms + (uint64_t)p->recv_timeout_ms) {
				struct npgw_ctl_error err;

				ctl_log(ctl, NPGW_CTL_LOG_WARNING,
					"control socket: pid %d did not finish a request in %d ms; "
					"closed",
					(int)c->pid, p->recv_timeout_ms);
				npgw_ctl_error(&err, NPGW_CTL_E_TIMEOUT,
					       "request not finished within %d ms; closing",
					       p->recv_timeout_ms);
				c->closing = true;
				c->in_len = 0;
				conn_reply(c, NULL, NULL, &err);
				if (!c->dead) /* one try only: never wait for this peer */
					conn_close(c);
			} else {
				CTL_NEXT(c->msg_start_ms + (uint64_t)p->recv_timeout_ms);
			}
		} else if (now >= c->last_ms + (uint64_t)p->idle_timeout_ms) {
			ctl_log(ctl, NPGW_CTL_LOG_DEBUG, "control socket: pid %d idle; closed",
				(int)c->pid);
			conn_close(c);
		} else {
			CTL_NEXT(c->last_ms + (uint64_t)p->idle_timeout_ms);
		}
	}
#undef CTL_NEXT
	return next;
}

static void arm_timer(struct npgw_ctl *ctl, uint64_t deadline_ms)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (ctl->kicked) {
		deadline_ms = 1; /* long past: fires at once */
		ctl->kicked = false;
	}
	if (deadline_ms != 0) {
		its.it_value.tv_sec = (time_t)(deadline_ms / 1000);
		its.it_value.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	}
	timerfd_settime(ctl->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int npgw_ctl_process(struct npgw_ctl *ctl, int timeout_ms)
{
	struct epoll_event evs[CTL_MAX_EVENTS];
	int n;

	n = epoll_wait(ctl->epfd, evs, CTL_MAX_EVENTS, timeout_ms);
	if (n < 0)
		return -errno;
	ctl->in_process = true;
	for (int i = 0; i < n; i++) {
		void *ptr = evs[i].data.ptr;

		if (ptr == &ctl->listen_tag) {
			accept_all(ctl);
		} else if (ptr == &ctl->timer_tag) {
			uint64_t ticks;

			if (read(ctl->tfd, &ticks, sizeof(ticks)) < 0) {
				/* EAGAIN: re-armed since it fired */
			}
		} else {
			struct npgw_ctl_conn *c = ptr;

			if (!c->dead)
				conn_event(c, evs[i].events);
		}
	}
	uint64_t next = run_timers(ctl);

	reap(ctl);
	arm_timer(ctl, next);
	ctl->in_process = false;
	return n;
}

/* ---- deferred replies ---- */

struct npgw_ctl_pending *npgw_ctl_defer(struct npgw_ctl_reply *reply, int timeout_ms)
{
	struct npgw_ctl *ctl = reply->ctl;
	struct npgw_ctl_pending *p;

	if (reply->pending != NULL)
		return reply->pending;
	if (ctl->n_pending >= ctl->p.max_pending) {
		npgw_ctl_error(&reply->error, NPGW_CTL_E_BUSY, "too many waiting requests (%u)",
			       ctl->p.max_pending);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || (reply->id != NULL && (p->id = cJSON_Duplicate(reply->id, false)) == NULL)) {
		free(p);
		npgw_ctl_error(&reply->error, NPGW_CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	p->ctl = ctl;
	p->conn = reply->conn;
	p->deadline_ms = timeout_ms > 0 ? now_ms() + (uint64_t)timeout_ms : 0;
	p->next = ctl->pendings;
	if (ctl->pendings)
		ctl->pendings->prev = p;
	ctl->pendings = p;
	ctl->n_pending++;
	reply->pending = p;
	reply->conn->pending = p;
	return p;
}

bool npgw_ctl_pending_alive(const struct npgw_ctl_pending *p)
{
	return p != NULL && p->conn != NULL && !p->conn->dead;
}

static void pending_free(struct npgw_ctl *ctl, struct npgw_ctl_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		ctl->pendings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	ctl->n_pending--;
	cJSON_Delete(p->id);
	free(p);
}

void npgw_ctl_complete(struct npgw_ctl *ctl, struct npgw_ctl_pending *p, cJSON *result,
		       const struct npgw_ctl_error *error)
{
	struct npgw_ctl_conn *c;

	if (p == NULL) {
		cJSON_Delete(result);
		return;
	}
	if (ctl->cur_reply != NULL && ctl->cur_reply->pending == p) {
		/* completed by the handler that deferred it */
		ctl->cur_reply->pending = NULL;
		ctl->cur_done = true;
	}
	c = p->conn;
	if (c != NULL && !c->dead && c->pending == p) {
		c->pending = NULL;
		p->conn = NULL;
		c->last_ms = now_ms();
		conn_reply(c, p->id, result, error);
		result = NULL;
		if (!c->dead) {
			/* Requests it pipelined are read at the next process. */
			c->kick = true;
			ctl->kicked = true;
			conn_interest(c);
		}
	}
	cJSON_Delete(result);
	pending_free(ctl, p);
	if (!ctl->in_process) {
		reap(ctl);
		if (ctl->kicked)
			arm_timer(ctl, 1);
	}
}

/* ---- built-in commands ---- */

static int cmd_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctl_cmd *)a)->name, ((const struct ctl_cmd *)b)->name);
}

static int builtin_list(void *arg, const cJSON *args, struct npgw_ctl_reply *reply)
{
	struct npgw_ctl *ctl = arg;
	struct ctl_cmd *sorted;
	cJSON *res, *list;

	if (npgw_ctl_arg_only(args, &reply->error, NULL) < 0)
		return -EINVAL;
	sorted = malloc(ctl->n_cmds * sizeof(*sorted));
	res = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(res, "commands");
	if (sorted == NULL || list == NULL)
		goto nomem;
	memcpy(sorted, ctl->cmds, ctl->n_cmds * sizeof(*sorted));
	qsort(sorted, ctl->n_cmds, sizeof(*sorted), cmd_cmp);
	for (size_t i = 0; i < ctl->n_cmds; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			goto nomem;
		cJSON_AddItemToArray(list, o);
		if (!cJSON_AddStringToObject(o, "name", sorted[i].name) ||
		    !cJSON_AddStringToObject(o, "usage", sorted[i].usage) ||
		    !cJSON_AddStringToObject(o, "summary", sorted[i].summary))
			goto nomem;
	}
	free(sorted);
	reply->result = res;
	return 0;
nomem:
	free(sorted);
	cJSON_Delete(res);
	return -ENOMEM;
}

static int builtin_version(void *arg, const cJSON *args, struct npgw_ctl_reply *reply)
{
	struct npgw_ctl *ctl = arg;
	cJSON *res;
	int rc;

	if (npgw_ctl_arg_only(args, &reply->error, NULL) < 0)
		return -EINVAL;
	res = cJSON_CreateObject();
	if (res == NULL || !cJSON_AddNumberToObject(res, "protocol", NPGW_CTL_PROTOCOL_VERSION) ||
	    !cJSON_AddStringToObject(res, "version", NPGW_VERSION) ||
	    !cJSON_AddNumberToObject(res, "pid", (double)getpid())) {
		cJSON_Delete(res);
		return -ENOMEM;
	}
	if (ctl->p.version_extra != NULL &&
	    (rc = ctl->p.version_extra(ctl->p.version_extra_arg, res)) < 0) {
		cJSON_Delete(res);
		return rc;
	}
	reply->result = res;
	return 0;
}

/* ---- registry ---- */

static bool valid_name(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return false;
	return n <= NPGW_CTL_MAX_NAME;
}

int npgw_ctl_register(struct npgw_ctl *ctl, const struct npgw_ctl_command *cmd)
{
	struct ctl_cmd *c;

	if (ctl == NULL || cmd == NULL || cmd->handler == NULL || !valid_name(cmd->name))
		return -EINVAL;
	if (find_cmd(ctl, cmd->name) != NULL)
		return -EEXIST;
	if (ctl->n_cmds == ctl->cap_cmds) {
		size_t cap = ctl->cap_cmds ? ctl->cap_cmds * 2 : 16;
		struct ctl_cmd *n = realloc(ctl->cmds, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		ctl->cmds = n;
		ctl->cap_cmds = cap;
	}
	c = &ctl->cmds[ctl->n_cmds];
	c->name = strdup(cmd->name);
	c->usage = strdup(cmd->usage ? cmd->usage : cmd->name);
	c->summary = strdup(cmd->summary ? cmd->summary : "");
	c->handler = cmd->handler;
	c->arg = cmd->arg;
	if (c->name == NULL || c->usage == NULL || c->summary == NULL) {
		free(c->name);
		free(c->usage);
		free(c->summary);
		return -ENOMEM;
	}
	ctl->n_cmds++;
	return 0;
}

/* ---- create and free ---- */

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Is a server answering on the path? Removes a stale socket file. */
static int check_stale(struct npgw_ctl *ctl, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: %s exists and is not a socket",
			sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	rc = rc == 0 ? 0 : -errno;
	close(fd);
	/* EAGAIN: its backlog is full, so it is alive. */
	if (rc == 0 || rc == -EAGAIN || rc == -EINPROGRESS) {
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: a server answers on %s",
			sa->sun_path);
		return -EADDRINUSE;
	}
	if (rc != -ECONNREFUSED)
		return rc;
	ctl_log(ctl, NPGW_CTL_LOG_INFO, "control socket: removing the stale %s", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int resolve_group(const char *name, gid_t *out)
{
	char buf[4096], *end;
	struct group g, *res = NULL;
	unsigned long v;

	if (getgrnam_r(name, &g, buf, sizeof(buf), &res) == 0 && res != NULL) {
		*out = res->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (errno || *end || end == name || v > (gid_t)-2)
		return -EINVAL;
	*out = (gid_t)v;
	return 0;
}

static int ctl_listen(struct npgw_ctl *ctl)
{
	const struct npgw_ctl_params *p = &ctl->p;
	struct sockaddr_un sa;
	struct stat st;
	gid_t gid = (gid_t)-1;
	mode_t old;
	int rc;

	rc = fill_addr(p->path, &sa);
	if (rc < 0)
		return rc;
	if (p->group != NULL && resolve_group(p->group, &gid) < 0) {
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: unknown group '%s'", p->group);
		return -EINVAL;
	}
	rc = check_stale(ctl, &sa);
	if (rc < 0)
		return rc;
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0)
		return -errno;
	/* The file is born with the mode: no window where others may connect. */
	old = umask((mode_t)(~p->mode & 0777));
	rc = bind(ctl->lfd, (const struct sockaddr *)&sa, sizeof(sa));
	rc = rc < 0 ? -errno : 0;
	umask(old);
	if (rc < 0)
		return rc;
	if (lstat(p->path, &st) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (gid != (gid_t)-1 && chown(p->path, (uid_t)-1, gid) < 0) {
		rc = -errno;
		ctl_log(ctl, NPGW_CTL_LOG_ERR, "control socket: chown %s to group %s: %s",
			p->path, p->group, strerror(-rc));
		goto fail_unlink;
	}
	if (chmod(p->path, p->mode) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	if (listen(ctl->lfd, SOMAXCONN) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	return 0;
fail_unlink:
	unlink(p->path);
	ctl->ino = 0;
	return rc;
}

struct npgw_ctl *npgw_ctl_create(const struct npgw_ctl_params *p, int *err)
{
	struct npgw_ctl *ctl;
	int rc = -ENOMEM;

	if (p == NULL || p->path == NULL || p->path[0] == '\0' ||
	    (p->n_allowed_uids && p->allowed_uids == NULL) ||
	    (p->n_allowed_gids && p->allowed_gids == NULL)) {
		*err = -EINVAL;
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	ctl->epfd = ctl->lfd = ctl->tfd = -1;
	ctl->p = *p;
	ctl->self_uid = geteuid();
	if (ctl->p.mode == 0)
		ctl->p.mode = NPGW_CTL_DEFAULT_MODE;
	ctl->p.mode &= 0777;
	if (ctl->p.max_msg == 0)
		ctl->p.max_msg = NPGW_CTL_DEFAULT_MAX_MSG;
	if (ctl->p.max_output == 0)
		ctl->p.max_output = NPGW_CTL_DEFAULT_MAX_OUTPUT;
	if (ctl->p.max_clients == 0)
		ctl->p.max_clients = NPGW_CTL_DEFAULT_MAX_CLIENTS;
	if (ctl->p.max_per_uid == 0)
		ctl->p.max_per_uid = NPGW_CTL_DEFAULT_MAX_PER_UID;
	if (ctl->p.max_input == 0)
		ctl->p.max_input = NPGW_CTL_DEFAULT_MAX_INPUT;
	if (ctl->p.max_input < ctl->p.max_msg + 1)
		ctl->p.max_input = ctl->p.max_msg + 1;
	if (ctl->p.max_pending == 0)
		ctl->p.max_pending = NPGW_CTL_DEFAULT_MAX_PENDING;
	if (ctl->p.recv_timeout_ms <= 0)
		ctl->p.recv_timeout_ms = NPGW_CTL_DEFAULT_RECV_TIMEOUT_MS;
	if (ctl->p.idle_timeout_ms <= 0)
		ctl->p.idle_timeout_ms = NPGW_CTL_DEFAULT_IDLE_TIMEOUT_MS;
	if (ctl->p.send_timeout_ms <= 0)
		ctl->p.send_timeout_ms = NPGW_CTL_DEFAULT_SEND_TIMEOUT_MS;
	ctl->path = strdup(p->path);
	ctl->p.path = ctl->path;
	ctl->p.group = NULL; /* used only here, below */
	if (p->n_allowed_uids) {
		ctl->uids = malloc(p->n_allowed_uids * sizeof(uid_t));
		if (ctl->uids == NULL)
			goto fail;
		memcpy(ctl->uids, p->allowed_uids, p->n_allowed_uids * sizeof(uid_t));
	}
	if (p->n_allowed_gids) {
		ctl->gids = malloc(p->n_allowed_gids * sizeof(gid_t));
		if (ctl->gids == NULL)
			goto fail;
		memcpy(ctl->gids, p->allowed_gids, p->n_allowed_gids * sizeof(gid_t));
	}
	ctl->p.allowed_uids = ctl->uids;
	ctl->p.allowed_gids = ctl->gids;
	if (ctl->path == NULL)
		goto fail;
	if (npgw_ctl_register(ctl, &(struct npgw_ctl_command){
				      .name = "list-commands",
				      .usage = "list-commands",
				      .summary = "the commands this server answers",
				      .handler = builtin_list,
				      .arg = ctl,
			      }) < 0 ||
	    npgw_ctl_register(ctl, &(struct npgw_ctl_command){
				      .name = "version",
				      .usage = "version",
				      .summary = "protocol and build versions",
				      .handler = builtin_version,
				      .arg = ctl,
			      }) < 0)
		goto fail;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl->epfd < 0 || ctl->tfd < 0) {
		rc = -errno;
		goto fail;
	}
	ctl->p.group = p->group;
	rc = ctl_listen(ctl);
	ctl->p.group = NULL;
	if (rc < 0)
		goto fail;
	struct epoll_event le = {.events = EPOLLIN, .data.ptr = &ctl->listen_tag};
	struct epoll_event te = {.events = EPOLLIN, .data.ptr = &ctl->timer_tag};

	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &le) < 0 ||
	    epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->tfd, &te) < 0) {
		rc = -errno;
		goto fail;
	}
	return ctl;
fail:
	npgw_ctl_free(ctl);
	*err = rc;
	return NULL;
}

void npgw_ctl_free(struct npgw_ctl *ctl)
{
	struct stat st;

	if (ctl == NULL)
		return;
	ctl->in_process = true;
	for (struct npgw_ctl_conn *c = ctl->conns; c != NULL; c = c->next) {
		if (!c->dead && c->pending != NULL) {
			struct npgw_ctl_error err;

			npgw_ctl_error(&err, NPGW_CTL_E_SHUTDOWN, "the server is shutting down");
			c->pending->conn = NULL;
			c->pending = NULL;
			conn_reply(c, NULL, NULL, &err);
		}
		conn_close(c);
	}
	reap(ctl);
	while (ctl->pendings != NULL)
		pending_free(ctl, ctl->pendings);
	for (size_t i = 0; i < ctl->n_cmds; i++) {
		free(ctl->cmds[i].name);
		free(ctl->cmds[i].usage);
		free(ctl->cmds[i].summary);
	}
	free(ctl->cmds);
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	/* Unlink only our own socket: another server may have replaced it. */
	if (ctl->ino != 0 && lstat(ctl->path, &st) == 0 && st.st_ino == ctl->ino &&
	    st.st_dev == ctl->dev)
		unlink(ctl->path);
	if (ctl->tfd >= 0)
		close(ctl->tfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	free(ctl->uids);
	free(ctl->gids);
	free(ctl->path);
	free(ctl);
}

int npgw_ctl_fd(const struct npgw_ctl *ctl)
{
	return ctl->epfd;
}

unsigned int npgw_ctl_n_clients(const struct npgw_ctl *ctl)
{
	return ctl->n_conns;
}
