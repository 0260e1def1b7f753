/*
 * timers.c: the control socket's deadlines and deferred replies: the
 * receive, send and idle timeouts of connections, a paused listener's
 * retry, and the requests a handler answers later (npgw_ctl_defer,
 * npgw_ctl_complete) with their own deadlines. One timerfd in the epoll set
 * is armed for the earliest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "server_private.h"

/* ---- timeouts ---- */

static void pending_expire(struct npgw_ctl_pending *p)
{
	struct npgw_ctl_conn *c = p->conn;
	struct npgw_ctl_error err;

	npgw_ctl_error(&err, NPGW_CTL_E_TIMEOUT, "no answer in time");
	p->conn = NULL;
	c->pending = NULL;
	ctl_conn_reply(c, p->id, NULL, &err);
	if (!c->dead)
		ctl_conn_service(c);
}

/* Expire what is due; return the next deadline (0: none). */
uint64_t ctl_run_timers(struct npgw_ctl *ctl)
{
	uint64_t now = ctl_now_ms(), next = 0;
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
			ctl_conn_service(c);
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
				ctl_conn_close(c);
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
				ctl_conn_reply(c, NULL, NULL, &err);
				if (!c->dead) /* one try only: never wait for this peer */
					ctl_conn_close(c);
			} else {
				CTL_NEXT(c->msg_start_ms + (uint64_t)p->recv_timeout_ms);
			}
		} else if (now >= c->last_ms + (uint64_t)p->idle_timeout_ms) {
			ctl_log(ctl, NPGW_CTL_LOG_DEBUG, "control socket: pid %d idle; closed",
				(int)c->pid);
			ctl_conn_close(c);
		} else {
			CTL_NEXT(c->last_ms + (uint64_t)p->idle_timeout_ms);
		}
	}
#undef CTL_NEXT
	return next;
}

void ctl_arm_timer(struct npgw_ctl *ctl, uint64_t deadline_ms)
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
	p->deadline_ms = timeout_ms > 0 ? ctl_now_ms() + (uint64_t)timeout_ms : 0;
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

void ctl_pending_free(struct npgw_ctl *ctl, struct npgw_ctl_pending *p)
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
		c->last_ms = ctl_now_ms();
		ctl_conn_reply(c, p->id, result, error);
		result = NULL;
		if (!c->dead) {
			/* Requests it pipelined are read at the next process. */
			c->kick = true;
			ctl->kicked = true;
			ctl_conn_interest(c);
		}
	}
	cJSON_Delete(result);
	ctl_pending_free(ctl, p);
	if (!ctl->in_process) {
		ctl_reap(ctl);
		if (ctl->kicked)
			ctl_arm_timer(ctl, 1);
	}
}

