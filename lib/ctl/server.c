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
 *
 * The server is four files along its seams (server_private.h): this one
 * holds the registry, the built-in commands, the process loop, create and
 * free; listen.c the listening socket, accept and the peer checks; conn.c
 * a connection's reading, framing, dispatch and replies; timers.c the
 * deadlines and deferred replies.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "server_private.h"

uint64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ctl_log(struct npgw_ctl *ctl, int level, const char *fmt, ...)
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
			ctl_accept_all(ctl);
		} else if (ptr == &ctl->timer_tag) {
			uint64_t ticks;

			if (read(ctl->tfd, &ticks, sizeof(ticks)) < 0) {
				/* EAGAIN: re-armed since it fired */
			}
		} else {
			struct npgw_ctl_conn *c = ptr;

			if (!c->dead)
				ctl_conn_event(c, evs[i].events);
		}
	}
	uint64_t next = ctl_run_timers(ctl);

	ctl_reap(ctl);
	ctl_arm_timer(ctl, next);
	ctl->in_process = false;
	return n;
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
	if (ctl_find_cmd(ctl, cmd->name) != NULL)
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

const struct ctl_cmd *ctl_find_cmd(const struct npgw_ctl *ctl, const char *name)
{
	for (size_t i = 0; i < ctl->n_cmds; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			return &ctl->cmds[i];
	return NULL;
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
			ctl_conn_reply(c, NULL, NULL, &err);
		}
		ctl_conn_close(c);
	}
	ctl_reap(ctl);
	while (ctl->pendings != NULL)
		ctl_pending_free(ctl, ctl->pendings);
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
