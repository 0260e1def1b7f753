/*
 * npgw_ctl_codes.h: every error code the gateway's control socket answers
 * with (the "code" of an error reply), in one place: the protocol's own
 * (lib/ctl) and the daemon's commands' (app/npgw). Clients match on these
 * strings; a code once given keeps its meaning.
 */
#ifndef NPGW_CTL_CODES_H
#define NPGW_CTL_CODES_H

/* ---- the protocol (lib/ctl) ---- */
#define NPGW_CTL_E_BAD_JSON "bad-json" /* not JSON, or not one value */
#define NPGW_CTL_E_BAD_REQUEST "bad-request" /* JSON, but not {id, cmd, args} */
#define NPGW_CTL_E_TOO_DEEP "too-deep" /* nested deeper than NPGW_CTL_MAX_DEPTH */
#define NPGW_CTL_E_TOO_LARGE "too-large" /* over max_msg (connection closed) */
#define NPGW_CTL_E_UNKNOWN_COMMAND "unknown-command"
#define NPGW_CTL_E_BAD_ARGS "bad-args" /* an argument missing, mistyped, out of range */
#define NPGW_CTL_E_FORBIDDEN "forbidden" /* peer credentials refused (closed) */
#define NPGW_CTL_E_BUSY "busy" /* too many clients or waits; workers did not answer */
#define NPGW_CTL_E_TIMEOUT "timeout" /* a deferred reply did not come in time */
#define NPGW_CTL_E_INTERNAL "internal" /* out of memory, a handler without code */
#define NPGW_CTL_E_SHUTDOWN "shutdown" /* the server went away under a wait */

/* ---- the daemon's commands (app/npgw) ---- */
/* apply, replace, delete -f: the objects have errors, listed in
 * details.diagnostics ({file, line, column, path, message, severity}) */
#define NPGW_CTL_E_INVALID "invalid"
#define NPGW_CTL_E_NOT_FOUND "not-found" /* delete: no such object */
#define NPGW_CTL_E_NOT_READY "not-ready" /* explain: no generation is live yet */
#define NPGW_CTL_E_NOT_TRACKING "not-tracking" /* flows: connection tracking is off */
/* a change over the socket while the config's policy files own the state */
#define NPGW_CTL_E_NOT_OWNER "not-owner"
/* the saved state could not be read at start: changes are refused until
 * an operator repairs it */
#define NPGW_CTL_E_STATE_UNREADABLE "state-unreadable"
#define NPGW_CTL_E_BUILD_FAILED "build-failed" /* the tables could not be built */
#define NPGW_CTL_E_PERSIST_FAILED "persist-failed" /* the state could not be saved */
#define NPGW_CTL_E_PUBLISH_FAILED "publish-failed" /* saved, but not made live */

#endif /* NPGW_CTL_CODES_H */
