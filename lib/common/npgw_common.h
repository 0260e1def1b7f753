/*
 * npgw_common.h: what every npgw module shares: the error rule, IP addresses
 * and prefixes, and diagnostics (the FILE:LINE:COL: path: message list that
 * the loader, the validator and the config reader fill).
 *
 * The error rule, for every module:
 *  - int functions return 0 on success or a negative errno (-EINVAL, -ENOMEM);
 *  - constructors return NULL on failure and give the reason through an
 *    out-parameter (an errno or a struct npgw_diags);
 *  - burst functions return counts;
 *  - destructors accept NULL.
 * No function returns 1 on error.
 *
 * Nothing here depends on DPDK, so the modules that know nothing of DPDK
 * (k8s, compile) test in plain CUnit.
 */
#ifndef NPGW_COMMON_H
#define NPGW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NPGW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NPGW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NPGW_MAX(a, b) ((a) > (b) ? (a) : (b))
#define NPGW_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Exit status of npgw's command-line tools, one convention for
 * `npgw --check` and every npgwctl command. */
#define NPGW_EXIT_OK 0 /* success; a check found no error (warnings allowed) */
#define NPGW_EXIT_FAIL 1 /* a check found errors; the gateway refused the request */
#define NPGW_EXIT_USAGE 2 /* bad arguments, unreadable input, no connection */

/* IP protocol numbers npgw classifies on. */
#define NPGW_PROTO_ICMP 1
#define NPGW_PROTO_TCP 6
#define NPGW_PROTO_UDP 17
#define NPGW_PROTO_ICMPV6 58
#define NPGW_PROTO_SCTP 132

/* An IPv4 or IPv6 address; IPv4 lives in bytes[0..3], network order. */
struct npgw_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t bytes[16];
};

/* A prefix: the address with its host bits cleared, and its length. */
struct npgw_prefix {
	struct npgw_addr addr;
	uint8_t len;
};

/*
 * Parse "10.0.0.1" or "fd00::1" into *out. Returns 0 or -EINVAL.
 * Any thread.
 */
int npgw_addr_parse(const char *s, struct npgw_addr *out);

/*
 * Parse "10.0.0.0/8" or "fd00::/64". A prefix with host bits set is accepted
 * as the network it denotes; *host_bits (may be NULL) tells the caller so it
 * can warn. Returns 0 or -EINVAL. Any thread.
 */
int npgw_prefix_parse(const char *s, struct npgw_prefix *out, bool *host_bits);

/* Format into buf (at least 64 bytes). Returns buf. Any thread. */
char *npgw_addr_format(const struct npgw_addr *a, char *buf, size_t len);
char *npgw_prefix_format(const struct npgw_prefix *p, char *buf, size_t len);

/* True when a lies inside p (same family). */
bool npgw_prefix_contains(const struct npgw_prefix *p, const struct npgw_addr *a);

/* True when inner lies wholly inside outer (same family, longer or equal). */
bool npgw_prefix_covers(const struct npgw_prefix *outer, const struct npgw_prefix *inner);

/* Total order on addresses: family first, then bytes. */
int npgw_addr_cmp(const struct npgw_addr *a, const struct npgw_addr *b);

/* Total order on prefixes: address, then length. */
int npgw_prefix_cmp(const struct npgw_prefix *a, const struct npgw_prefix *b);

/* Number of address bytes of a family: 4 or 16. */
static inline size_t npgw_addr_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Parse "TCP", "UDP", "SCTP" (exact case, as Kubernetes). Returns the IP
 * protocol number or -EINVAL. */
int npgw_proto_parse(const char *s);

/* "TCP", "UDP", "SCTP", "ICMP", "ICMPv6" or "proto-N" for others
 * (static storage for the known ones, buf otherwise). */
const char *npgw_proto_name(int proto, char *buf, size_t len);

/* ---- diagnostics ---- */

enum npgw_severity {
	NPGW_SEV_ERROR,
	NPGW_SEV_WARNING,
};

/* One message: FILE:LINE:COL: PATH: MESSAGE. line/col are 1-based, 0 when
 * unknown; path is the field path ("spec.ingress[0].ports[1].endPort"),
 * empty when the message concerns the whole file. */
struct npgw_diag {
	enum npgw_severity severity;
	char *file;
	uint32_t line;
	uint32_t col;
	char *path;
	char *message;
};

/* A growing list of diagnostics. Zero-initialise, then add; free with
 * npgw_diags_free. Not thread-safe: one owner. */
struct npgw_diags {
	struct npgw_diag *v;
	size_t n;
	size_t cap;
	size_t n_errors;
	size_t n_warnings;
	/* Past this many messages further ones are counted, not stored, so a
	 * hostile file cannot make the list grow without bound. */
	size_t dropped;
};

#define NPGW_DIAGS_MAX 1000

void npgw_diags_free(struct npgw_diags *d);

/* Append a message. Returns 0 or -ENOMEM (the list stays usable). */
int npgw_diags_add(struct npgw_diags *d, enum npgw_severity sev, const char *file,
		   uint32_t line, uint32_t col, const char *path, const char *fmt, ...)
	NPGW_PRINTF(7, 8);

/* Move every message of src to the end of dst; src is left empty. */
int npgw_diags_append(struct npgw_diags *dst, struct npgw_diags *src);

/* Print "FILE:LINE:COL: PATH: severity: MESSAGE" lines. */
void npgw_diags_print(const struct npgw_diags *d, FILE *out);

/* A JSON array of {file, line, column, path, message, severity}; the caller
 * frees it with free(). NULL on allocation failure. */
char *npgw_diags_to_json(const struct npgw_diags *d);

/* strdup that aborts on nothing: returns NULL on NULL input or failure. */
char *npgw_strdup(const char *s);

#endif /* NPGW_COMMON_H */
