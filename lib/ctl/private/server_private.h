/*
 * server_private.h: what the control socket server's files share.
 *   server.c  the registry, built-in commands, npgw_ctl_process, create/free
 *   listen.c  the listening socket, accept, peer credential checks
 *   conn.c    a connection: reading, framing, dispatch, replies
 *   timers.c  timeouts, the timerfd, deferred replies
 * Everything here runs on the owner's thread, inside npgw_ctl_* calls.
 */
#ifndef NPGW_CTL_SERVER_PRIVATE_H
#define NPGW_CTL_SERVER_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
	/* for the audit callback */
	char cmd[NPGW_CTL_MAX_NAME + 1];
	uid_t uid;
	pid_t pid;
	double t0_ms;
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
	const char *cur_cmd; /* the command of cur_reply, for a pending's audit */
	double cur_t0; /* when it was dispatched (ctl_mono_ms) */

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

/* ---- server.c ---- */

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t ctl_now_ms(void);

/* A monotonic clock in milliseconds, with fractions (audit durations). */
double ctl_mono_ms(void);

/* Tell the audit callback (if any) of an answered request. */
void ctl_audit(const struct npgw_ctl *ctl, const char *cmd, const cJSON *args, uid_t uid,
	       pid_t pid, double t0_ms, const cJSON *result, const struct npgw_ctl_error *err);
/* Log through the owner's callback, if any. */
void ctl_log(struct npgw_ctl *ctl, int level, const char *fmt, ...) NPGW_PRINTF(3, 4);
/* The registered command of that name, or NULL. */
const struct ctl_cmd *ctl_find_cmd(const struct npgw_ctl *ctl, const char *name);

/* ---- listen.c ---- */

/* Create, bind (mode from birth), chown, chmod and listen on ctl->p.path,
 * after removing a stale socket file. Returns 0 or a negative errno. */
int ctl_listen(struct npgw_ctl *ctl);
/* Accept what is waiting (a bounded number), refusing peers that are not
 * allowed or beyond the client cap; pauses the listener when out of
 * descriptors. */
void ctl_accept_all(struct npgw_ctl *ctl);

/* ---- conn.c ---- */

/* Close now; the memory is freed at the next ctl_reap. */
void ctl_conn_close(struct npgw_ctl_conn *c);
/* Free the connections closed since the last reap. */
void ctl_reap(struct npgw_ctl *ctl);
/* Set the epoll interest from the connection's state. */
void ctl_conn_interest(struct npgw_ctl_conn *c);
/* Queue one reply (result taken) and try to write it. */
void ctl_conn_reply(struct npgw_ctl_conn *c, const cJSON *id, cJSON *result,
		    const struct npgw_ctl_error *err);
/* Answer what can be answered now, then close or wait for events. */
void ctl_conn_service(struct npgw_ctl_conn *c);
/* An epoll event of the connection. */
void ctl_conn_event(struct npgw_ctl_conn *c, uint32_t events);

/* ---- timers.c ---- */

/* Expire what is due; return the next deadline (0: none). */
uint64_t ctl_run_timers(struct npgw_ctl *ctl);
/* Arm the timerfd for deadline_ms (0: disarm; at once when kicked). */
void ctl_arm_timer(struct npgw_ctl *ctl, uint64_t deadline_ms);
/* Unlink and free a pending reply. */
void ctl_pending_free(struct npgw_ctl *ctl, struct npgw_ctl_pending *p);

#endif /* NPGW_CTL_SERVER_PRIVATE_H */
