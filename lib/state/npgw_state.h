/*
 * npgw_state.h: the desired state on disk. The daemon saves the cluster
 * model after every accepted change (before the control socket says ok)
 * and restores it at start. No DPDK.
 *
 * The file, DIR/state.json (format version 1), is a Kubernetes List as
 * npgw_k8s_cluster_to_json writes it, with the state's own facts in the
 * List's annotations, so that the ordinary loader reads it (every
 * validation applies, messages name state.json:LINE:COL) and so that
 * `npgwctl validate`, kubectl or jq read it too. It is printed compact, one
 * object a line (so a message's line names the object), in the order
 * namespaces, pods, policies, each by namespace and name:
 *
 *   {"apiVersion":"v1","kind":"List","metadata":{"annotations":{
 *     "npgw.io/state-version":"1",       format; a newer one is refused
 *     "npgw.io/generation":"42",         decimal uint64, as given to save
 *     "npgw.io/objects":"17",            items, checked on load
 *     "npgw.io/saved-at":"2025-01-31T12:00:00Z"}},"items":[     for people
 *   {"apiVersion":"v1","kind":"Namespace",...},
 *   ...
 *   {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy",...}
 *   ]}
 *
 * (the annotations are on one line in the file). Annotation values are
 * strings, as Kubernetes requires, so a generation keeps all 64 bits.
 *
 * Crash safety: a save writes a temporary file in DIR (.state.json.tmp-PID-N,
 * mode 0600), fsyncs it, renames it over state.json and fsyncs DIR; so
 * state.json is at every moment either the previous state or the new one,
 * whole. Temporary files left by a crash are never read, and the next save
 * removes them. One process saves into a directory at a time (the daemon).
 *
 * Object origins are not kept: a restored object's origin is
 * DIR/state.json at the line of the item.
 */
#ifndef NPGW_STATE_H
#define NPGW_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"
#include "npgw_k8s.h"

/* The format this npgw writes and the newest it reads. */
#define NPGW_STATE_VERSION 1
/* The file in the state directory. */
#define NPGW_STATE_FILE "state.json"

/* The largest generation: 2^53, the largest integer every JSON reader
 * (a double) holds exactly. A saved state above it is refused at load,
 * and the gateway refuses a change past it rather than wrapping. */
#define NPGW_STATE_MAX_GENERATION (UINT64_C(1) << 53)
/* Annotation keys of the List. */
#define NPGW_STATE_ANN_VERSION "npgw.io/state-version"
#define NPGW_STATE_ANN_GENERATION "npgw.io/generation"
#define NPGW_STATE_ANN_OBJECTS "npgw.io/objects"
#define NPGW_STATE_ANN_SAVED_AT "npgw.io/saved-at"

/*
 * Save c with its generation as dir/state.json, atomically and durably (see
 * above). dir is created (mode 0700, parents too) when missing. Before
 * anything is written the text is read back with the loader and must give
 * every object of c without error: a state that could not be restored is
 * refused here, when the change can still be refused, not at the next start
 * (the loader's limits, 16 MiB and one million nodes, apply; so does its
 * validation of a cluster built by hand). Only the objects are saved:
 * c->n_refused is not (a restored cluster has 0).
 *
 * Returns 0, or a negative errno with a one-line reason in err (errlen bytes,
 * may be 0): "cannot write /var/lib/npgw/.state.json.tmp-7-1: No space left
 * on device". On failure state.json is untouched, except that a failing
 * fsync of dir after the rename (returned as its errno, "renamed, but ...")
 * leaves the new file in place without the promise that it survives a power
 * loss. Blocks on disk I/O: control thread, never a worker lcore.
 */
int npgw_state_save(const char *dir, const struct npgw_k8s_cluster *c, uint64_t generation,
		    char *err, size_t errlen);

/*
 * Whether c fits the limits of a state file (16 MiB, NPGW_DOC_MAX_NODES
 * document nodes), checked before any compile so that a change too large
 * to save is refused first, saying which limit and by how much. Returns 0,
 * -EFBIG with the reason in err ("the desired state would hold 1400009
 * document nodes (100000 objects), over the limit of 1048576 ... by
 * 351433; nothing changed"), or -ENOMEM. Control thread.
 */
int npgw_state_check_size(const struct npgw_k8s_cluster *c, char *err, size_t errlen);

/*
 * Restore the state saved in dir. Returns a validated cluster (the caller
 * frees it with npgw_k8s_cluster_free) and its generation in *generation.
 * Otherwise NULL and *err:
 *  -ENOENT   no state yet (dir or dir/state.json missing): not an error for
 *            the caller, and nothing is added to diags;
 *  -EBADMSG  the file is there but corrupt or not a state file (truncated,
 *            not JSON, a field of the wrong type, an object refused, a
 *            count that does not match): the reasons are in diags, with
 *            FILE:LINE:COL where the loader knows them. Never a partial
 *            state;
 *  -ENOTSUP  written by a newer npgw (npgw.io/state-version above
 *            NPGW_STATE_VERSION): refused, reason in diags. The caller must
 *            not overwrite it without an operator's word;
 *  -EPERM    the file is a symbolic link (opened with O_NOFOLLOW), owned by
 *            another user than root or the effective one, or writable by
 *            group or others (see npgw_state_check_dir); named in diags;
 *  -ENOMEM, or the errno of open/read (-EACCES, -EIO...), named in diags.
 * Warnings of the loader go to diags as well. diags must not be NULL;
 * generation may be. Control thread.
 */
struct npgw_k8s_cluster *npgw_state_load(const char *dir, uint64_t *generation,
					 struct npgw_diags *diags, int *err);

/*
 * Check that the state directory can be trusted (trust.c): it and every
 * regular file and directory in it owned by root or by the effective user,
 * none writable by group or others, no symbolic link in it. A missing
 * directory is fine (save creates it private). Returns 0, -EPERM with each
 * reason in diags, -ENOMEM, or the errno of open. The gateway refuses to
 * start on anything but 0. Control thread.
 */
int npgw_state_check_dir(const char *dir, struct npgw_diags *diags);

struct stat;
/* NULL when a file or directory with these attributes may be trusted, else
 * a printf format of why not (one %u: the uid, or the mode in %04o). */
const char *npgw_state_untrusted(const struct stat *st);

#endif /* NPGW_STATE_H */
