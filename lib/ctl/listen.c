/*
 * listen.c: the control socket's listening side: creating the socket file
 * (its mode from birth, its group, a stale file detected by connect()
 * before it is removed), accepting connections and checking each peer's
 * credentials (SO_PEERCRED, SO_PEERGROUPS) and the client cap.
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
#include <sys/un.h>
#include <unistd.h>

#include "server_private.h"

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

int ctl_listen(struct npgw_ctl *ctl)
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
	c->last_ms = ctl_now_ms();
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

void ctl_accept_all(struct npgw_ctl *ctl)
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
		ctl->listen_retry_ms = ctl_now_ms() + CTL_LISTEN_RETRY_MS;
		return;
	}
}

