/*
 * ctl_private.h: what the control socket's files share: the request
 * reader and reply writer of proto.c, used by server.c (and client.c for
 * replies).
 */
#ifndef NPGW_CTL_PRIVATE_H
#define NPGW_CTL_PRIVATE_H

#include "npgw_ctl.h"

/* A request, checked: the parsed tree and pointers into it. */
struct ctl_request {
	cJSON *root; /* freed with cJSON_Delete */
	const cJSON *id; /* NULL when absent: replies carry null */
	const char *cmd;
	const cJSON *args; /* NULL when absent: means {} */
};

/*
 * Parse and check one request line (len bytes, no newline): JSON, one
 * value, no NUL byte, nesting at most NPGW_CTL_MAX_DEPTH, no duplicate key
 * anywhere, an object with only id (number or string), cmd (string) and
 * args (object). Returns 0 with rq filled (free rq->root), or -EINVAL /
 * -ENOMEM with err set and rq->root NULL; rq->id may still point into a
 * tree kept for the reply's id: when rq->root is not NULL after an error,
 * free it too.
 */
int ctl_parse_request(const char *buf, size_t len, struct ctl_request *rq,
		      struct npgw_ctl_error *err);

/*
 * Format one reply line, newline included: {"id", "ok": true, "result"} or
 * {"id", "ok": false, "error": {"code", "message", "details"}} when err is
 * not NULL (result, if any, becomes the details). result is taken.
 * Returns the line (free()) with *len, or NULL when out of memory.
 */
char *ctl_format_reply(const cJSON *id, cJSON *result, const struct npgw_ctl_error *err,
		       size_t *len);

/*
 * Check a whole tree: nesting and duplicate keys. Returns 0, or -EINVAL
 * with err set (too-deep, bad-request), or -ENOMEM. Used on replies by the
 * client as well.
 */
int ctl_check_tree(const cJSON *node, struct npgw_ctl_error *err);

#endif /* NPGW_CTL_PRIVATE_H */
