/*
 * npgw_ctl.h: the control socket. A Unix stream socket server the control
 * thread drives from its own loop, and the client npgwctl uses.
 *
 * Shape (after Open vSwitch unixctl and DPDK telemetry): a registry of
 * commands {name, usage, summary, handler}, not a parser; list-commands and
 * version built in. Newline-delimited JSON, one request per line and one
 * reply per line, in request order on each connection:
 *
 *   request  {"id": 7, "cmd": "get", "args": {"kind": "pods"}}
 *   reply    {"id": 7, "ok": true, "result": ...}
 *            {"id": 7, "ok": false, "error": {"code": "bad-args", "message": "..."}}
 *
 * "id" is a number or a string, echoed (null when absent); "args" is an
 * object (absent means {}); nothing else may appear at the top level. The
 * error codes are the NPGW_CTL_E_* strings below, or a command's own; an
 * error may carry "details" (any JSON: the validator's messages of a
 * refused apply). An error the server sends before closing the connection
 * (forbidden, busy, too-large, a receive timeout) has a null id.
 *
 * Safety: a peer is checked by SO_PEERCRED on accept; message size, nesting
 * depth, clients, per-connection input and output are bounded; slow or dead
 * clients are timed out and never block the owner's loop. Handlers get
 * parsed, validated JSON; nothing a client sends is ever executed.
 *
 * Threads: a struct npgw_ctl belongs to one thread (the control thread):
 * every npgw_ctl_* server function is called from it only, never from a
 * handler of another npgw_ctl. The client functions may be used by any
 * thread on its own struct npgw_ctl_client. No DPDK in here.
 *
 * Errors follow npgw_common.h: 0 or a negative errno; constructors return
 * NULL and the reason in *err.
 */
#ifndef NPGW_CTL_H
#define NPGW_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "npgw_ctl_codes.h"

#include "npgw_common.h"

/* Bumped when a request or reply changes incompatibly. */
#define NPGW_CTL_PROTOCOL_VERSION 1

#define NPGW_CTL_DEFAULT_PATH "/run/npgw/npgw.sock"
#define NPGW_CTL_DEFAULT_MODE 0660
#define NPGW_CTL_DEFAULT_MAX_MSG (32u << 20) /* apply carries whole YAML files */
#define NPGW_CTL_DEFAULT_MAX_OUTPUT (256u << 20) /* a get of a large cluster */
#define NPGW_CTL_DEFAULT_MAX_CLIENTS 32 /* the last one kept for root */
#define NPGW_CTL_DEFAULT_MAX_PER_UID 16 /* connections of one non-root uid */
#define NPGW_CTL_DEFAULT_MAX_INPUT (64u << 20) /* request bytes held, all clients */
#define NPGW_CTL_DEFAULT_RECV_TIMEOUT_MS 5000 /* a started message must end */
#define NPGW_CTL_DEFAULT_IDLE_TIMEOUT_MS 60000 /* a connection without work */
#define NPGW_CTL_DEFAULT_SEND_TIMEOUT_MS 5000 /* output left unread */
#define NPGW_CTL_DEFAULT_MAX_PENDING 256 /* deferred replies not completed */
#define NPGW_CTL_MAX_DEPTH 64 /* nesting of a request's JSON */
#define NPGW_CTL_MAX_NAME 64 /* command name length */

/* Error codes (the "code" of an error reply): npgw_ctl_codes.h. */

struct npgw_ctl;
struct npgw_ctl_pending;

/* Why a request failed: what an error reply carries. */
struct npgw_ctl_error {
	char code[32];
	char message[1024];
};

/*
 * What a handler fills. result: a cJSON the server sends and frees (NULL
 * means JSON null); when the handler fails, a result it set is sent as the
 * error's "details". error: set with npgw_ctl_error() before returning < 0.
 * uid, gid, pid: the peer's credentials, for logs. The rest is private.
 */
struct npgw_ctl_reply {
	cJSON *result;
	struct npgw_ctl_error error;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	/* private */
	struct npgw_ctl *ctl;
	struct npgw_ctl_conn *conn;
	const cJSON *id;
	struct npgw_ctl_pending *pending;
};

/* A handler returns 0 (result set), a negative errno (error set), or this
 * after npgw_ctl_defer(). */
#define NPGW_CTL_DEFER 1

typedef int (*npgw_ctl_handler_t)(void *arg, const cJSON *args, struct npgw_ctl_reply *reply);

/* A command. Strings are copied by npgw_ctl_register. */
struct npgw_ctl_command {
	const char *name; /* [a-z0-9-]+, at most NPGW_CTL_MAX_NAME bytes */
	const char *usage; /* "wait GENERATION [--timeout SECONDS]" */
	const char *summary; /* one line */
	npgw_ctl_handler_t handler;
	void *arg;
};

/* Log levels of the optional log callback: syslog's numbers. */
#define NPGW_CTL_LOG_ERR 3
#define NPGW_CTL_LOG_WARNING 4
#define NPGW_CTL_LOG_INFO 6
#define NPGW_CTL_LOG_DEBUG 7

/* What the audit callback is told of each answered request. */
struct npgw_ctl_audit {
	const char *cmd;
	const cJSON *args; /* NULL when the reply was deferred and came later */
	uid_t uid;
	pid_t pid;
	bool ok;
	const cJSON *result; /* the result, or the error's details (may be NULL) */
	const struct npgw_ctl_error *error; /* when !ok */
	double ms; /* from the request's dispatch to its reply */
};

/*
 * Server parameters. Zero means the default for every number; the path is
 * required.
 */
struct npgw_ctl_params {
	const char *path; /* socket file; its directory must exist */
	mode_t mode; /* 0: NPGW_CTL_DEFAULT_MODE (0660) */
	const char *group; /* NULL: unchanged; else a group name or number (chown) */

	/* Who may talk. Root always may (unless no_root_bypass); a peer whose
	 * uid is listed, or whose primary or supplementary group is listed,
	 * may. When both lists are empty, the server's own euid may. */
	const uid_t *allowed_uids;
	size_t n_allowed_uids;
	const gid_t *allowed_gids;
	size_t n_allowed_gids;
	bool no_root_bypass; /* tests: treat uid 0 like any other uid (also for
				the root slot and the per-uid cap) */

	size_t max_msg; /* request bytes, newline excluded */
	size_t max_output; /* queued reply bytes per connection */
	unsigned int max_clients; /* the last slot only root (uid 0) may take */
	unsigned int max_per_uid; /* open connections of one uid other than 0 */
	size_t max_input; /* bytes of unfinished requests held for all clients
			     together (at least max_msg + 1) */
	unsigned int max_pending; /* deferred replies not yet completed, all clients */
	int recv_timeout_ms; /* from a message's first byte to its newline */
	int idle_timeout_ms; /* a connection with nothing to do */
	int send_timeout_ms; /* queued output without progress */

	/* Extra fields of the version reply (DPDK version...): add them to obj;
	 * return 0 or a negative errno. May be NULL. */
	int (*version_extra)(void *arg, cJSON *obj);
	void *version_extra_arg;

	/* Where the server tells of refused peers, timeouts, failures (one
	 * line, no newline). May be NULL: silent. */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;

	/* Called once per request of a registered command when its reply is
	 * sent (or its client is gone), before the reply's JSON is freed.
	 * May be NULL. */
	void (*audit)(void *arg, const struct npgw_ctl_audit *a);
	void *audit_arg;
};

/*
 * Create the server: check for a live server on the path (connect(); one
 * answering means -EADDRINUSE, a stale socket file is removed, any other
 * kind of file is -EEXIST), bind with the mode (umask around bind, then
 * chmod; the umask is process-wide, so create it before other threads
 * create files), chown to the group, listen. Registers list-commands and
 * version. Returns the server or NULL with *err: -EINVAL (bad params,
 * unknown group), -ENAMETOOLONG, -EADDRINUSE, -EEXIST, -ENOMEM, or the
 * failing call's errno. Control thread. Free with npgw_ctl_free.
 */
struct npgw_ctl *npgw_ctl_create(const struct npgw_ctl_params *p, int *err);

/*
 * Close every connection (a waiting client gets a "shutdown" error, if
 * its socket takes it), free every pending (handles held by the owner
 * become invalid), and unlink the socket path if it is still ours.
 * Accepts NULL. Control thread.
 */
void npgw_ctl_free(struct npgw_ctl *ctl);

/*
 * Add a command. Returns 0, -EEXIST (name taken), -EINVAL (bad name, no
 * handler) or -ENOMEM. Control thread.
 */
int npgw_ctl_register(struct npgw_ctl *ctl, const struct npgw_ctl_command *cmd);

/*
 * A file descriptor (epoll) that polls readable when npgw_ctl_process has
 * work, timeouts included: poll it with the owner's own fds, with any
 * timeout, and call npgw_ctl_process(ctl, 0) when it is readable. Owned
 * by ctl.
 */
int npgw_ctl_fd(const struct npgw_ctl *ctl);

/*
 * Wait up to timeout_ms (0: do not wait; -1: until something happens) for
 * events, then accept, read, dispatch, write, and expire what timed out.
 * Handlers run from here. Returns the number of events handled or a
 * negative errno (-EINTR is not an error: call again). Control thread.
 */
int npgw_ctl_process(struct npgw_ctl *ctl, int timeout_ms);

/* Number of open connections (tests, status). */
unsigned int npgw_ctl_n_clients(const struct npgw_ctl *ctl);

/* ---- handlers ---- */

/*
 * Set an error: code (an NPGW_CTL_E_* or the command's own, at most 31
 * bytes) and a message. Returns -EINVAL so a handler can write
 * `return npgw_ctl_error(...)`.
 */
int npgw_ctl_error(struct npgw_ctl_error *err, const char *code, const char *fmt, ...)
	NPGW_PRINTF(3, 4);

/*
 * Argument helpers. Each returns 0 when the argument is there and right
 * (*out set), 0 when it is absent and not required (*out untouched: set
 * the default first), and -EINVAL with err set to "bad-args" naming the
 * argument otherwise. args may be NULL (no arguments).
 */
int npgw_ctl_arg_string(const cJSON *args, const char *name, bool required, const char **out,
			struct npgw_ctl_error *err);
/* A number that is finite, integral and within [min, max] (max at most
 * 2^53: a double holds every integer up to there). */
int npgw_ctl_arg_uint(const cJSON *args, const char *name, uint64_t min, uint64_t max,
		      bool required, uint64_t *out, struct npgw_ctl_error *err);
int npgw_ctl_arg_bool(const cJSON *args, const char *name, bool required, bool *out,
		      struct npgw_ctl_error *err);
int npgw_ctl_arg_array(const cJSON *args, const char *name, bool required, const cJSON **out,
		       struct npgw_ctl_error *err);
int npgw_ctl_arg_object(const cJSON *args, const char *name, bool required, const cJSON **out,
			struct npgw_ctl_error *err);
/*
 * Add an unsigned integer to obj as its exact decimal digits (cJSON prints
 * numbers above 10^15 with 15 significant digits, so 2^53 would read back
 * as 9007199254740990). For generations and counters. Returns the item, or
 * NULL on allocation failure. Any thread.
 */
cJSON *npgw_ctl_add_u64(cJSON *obj, const char *name, uint64_t v);
/* Refuse any argument not named in the NULL-terminated list. */
int npgw_ctl_arg_only(const cJSON *args, struct npgw_ctl_error *err, ...)
	__attribute__((sentinel));

/*
 * Defer the reply: the handler keeps the returned handle and returns
 * NPGW_CTL_DEFER; the connection waits (reads nothing more) until the
 * owner calls npgw_ctl_complete, or timeout_ms pass (> 0; the client then
 * gets a "timeout" error). Returns NULL with reply->error set ("busy")
 * when max_pending handles are outstanding; the handler returns < 0 then.
 *
 * The handle stays valid until the owner passes it to npgw_ctl_complete,
 * exactly once, even after a timeout or a disconnect (then the completion
 * only frees it), or until npgw_ctl_free. Control thread.
 */
struct npgw_ctl_pending *npgw_ctl_defer(struct npgw_ctl_reply *reply, int timeout_ms);

/* True while the client still waits (no timeout, no disconnect). */
bool npgw_ctl_pending_alive(const struct npgw_ctl_pending *p);

/*
 * Send the deferred reply and free the handle: result (taken, freed by
 * ctl, may be NULL) when error is NULL, else the error reply with result
 * as its details. Harmless
 * when the client is gone or timed out. Control thread, not from inside a
 * handler of the same request.
 */
void npgw_ctl_complete(struct npgw_ctl *ctl, struct npgw_ctl_pending *p, cJSON *result,
		       const struct npgw_ctl_error *error);

/* ---- client ---- */

struct npgw_ctl_client;

#define NPGW_CTL_CLIENT_MAX_REPLY (256u << 20)

/*
 * Connect to the server at path within timeout_ms (-1: no limit). Returns
 * the client or NULL with *err: -ENOENT (no socket), -ECONNREFUSED (a
 * stale socket), -EACCES, -ETIMEDOUT, -ENAMETOOLONG, -ENOMEM... Any
 * thread; one client per thread. Free with npgw_ctl_client_close.
 */
struct npgw_ctl_client *npgw_ctl_client_connect(const char *path, int timeout_ms, int *err);

/* Bound the reply size (default NPGW_CTL_CLIENT_MAX_REPLY). */
void npgw_ctl_client_set_max_reply(struct npgw_ctl_client *cl, size_t bytes);

/*
 * Send {"id": N, "cmd": cmd, "args": args} (args borrowed; NULL sends no
 * args) and wait up to timeout_ms (-1: no limit) for its reply. Returns 0
 * with *reply the whole reply object ({"id", "ok", "result"|"error"}; the
 * caller frees it with cJSON_Delete) whether ok is true or false; or a
 * negative errno with *reply NULL: -ETIMEDOUT, -ECONNRESET (the server
 * closed the connection), -EMSGSIZE (reply over the bound), -EPROTO (a
 * reply that is not one), -ENOMEM. An error the server sends before
 * closing (busy, forbidden, too-large) is a reply with a null id: it is
 * returned as the reply. After an error return the connection is unusable.
 */
int npgw_ctl_client_call(struct npgw_ctl_client *cl, const char *cmd, const cJSON *args,
			 cJSON **reply, int timeout_ms);

/* Accepts NULL. */
void npgw_ctl_client_close(struct npgw_ctl_client *cl);

#endif /* NPGW_CTL_H */
