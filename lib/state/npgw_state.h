/*
 * npgw_state.h: the desired state on disk. No DPDK.
 *
 * A state directory holds a snapshot, DIR/state.json, and a journal of the
 * changes made since, DIR/journal.NNNNNN (segments, oldest first). The
 * daemon opens the directory once (npgw_state_open: an exclusive flock
 * keeps a second daemon out), restores snapshot + journal at start, and
 * appends every accepted change to the journal, fsync'd, before the
 * control socket says ok (npgw_state_append). Once the journal grows past a
 * bound a new segment starts and a background thread rewrites the snapshot,
 * then removes the segments it covers.
 *
 * Journal records, one a line, each written by one write() and fsync'd:
 *
 *   R <crc32c of PAYLOAD, 8 hex digits> <bytes of PAYLOAD> PAYLOAD\n
 *   PAYLOAD = {"generation":"42","changes":[{"replace":true,
 *              "remove":[["Pod","ns","name"],...],"items":[objects...]},...]}
 *
 * One record is one generation: the changes coalesced into it, in the order
 * they were accepted. A change is applied as: replace (start from no
 * objects), then its removals, then its items (an upsert). A record that is
 * cut short, or fails its length or checksum, is a torn write when it is
 * the last line of the last segment: it was never acknowledged, and it is
 * dropped (the segment is truncated before it, and a warning says so).
 * Anywhere else it is corruption: nothing is restored.
 *
 * The snapshot, DIR/state.json (format version 1), is a Kubernetes List as
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
 * removes them. One process saves into a directory at a time (the daemon,
 * holding the directory's lock; its background snapshot thread saves while
 * the journal goes on in a new segment).
 *
 * Object origins are not kept: a restored object's origin is
 * DIR/state.json at the line of the item.
 */
#ifndef NPGW_STATE_H
#define NPGW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"
#include "npgw_k8s.h"

/* The format this npgw writes and the newest it reads. */
#define NPGW_STATE_VERSION 1
/* The snapshot is our own output: it may hold this much (100,000 pods and
 * 10,000 policies are about 60 MiB). One object in it is still held to the
 * loader's limits against hostile input (see npgw_state_load_items). */
#define NPGW_STATE_MAX_SIZE (1024u * 1024 * 1024)
/* A segment past this many bytes is closed and the snapshot rewritten. */
#define NPGW_STATE_JOURNAL_BOUND (4u * 1024 * 1024)
/* A record larger than this (a replace of a large state) is not journaled:
 * the snapshot is written instead, before the reply. */
#define NPGW_STATE_MAX_RECORD (8u * 1024 * 1024)
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
 * refused here, not at the next start (the loader's limits apply to each
 * object, NPGW_STATE_MAX_SIZE to the file; so does its validation of a
 * cluster built by hand). Only the objects are saved:
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
/*
 * Load the objects of text laid out as npgw_state_save writes it into c:
 * one object a line, each read by the loader on its own (its limits bound
 * one object, not the file; a message names the object's line). Text laid
 * out otherwise is read whole, under the loader's limits. Returns what
 * npgw_k8s_load_buffer returns. Any thread, on its own cluster.
 */
int npgw_state_load_items(struct npgw_k8s_cluster *c, const char *path, const char *buf,
			  size_t len, struct npgw_diags *d);

/* ---- the state directory: snapshot + journal ---- */

struct npgw_state;

/* An object a change removes. kind: "Namespace", "Pod" or "NetworkPolicy"
 * (or a name npgw_k8s_cluster_remove takes); ns NULL for a Namespace. */
struct npgw_state_removal {
	const char *kind;
	const char *ns;
	const char *name;
};

/* One accepted change, as the journal keeps it. */
struct npgw_state_change {
	bool replace; /* the items become the whole state */
	const struct npgw_state_removal *removals;
	size_t n_removals;
	const struct npgw_k8s_cluster *items; /* upserted; may be NULL */
};

/* ---- changes (change.c) ---- */

/*
 * What a change displaced, so that it can be undone: a log of the objects
 * put and taken. Zero-initialise; free with npgw_state_undo_clear.
 */
struct npgw_state_undo_entry;
struct npgw_state_undo {
	struct npgw_state_undo_entry *v;
	size_t n, cap;
	struct npgw_k8s_cluster *replaced; /* the objects a replace set aside */
	size_t replace_mark;
};

/*
 * Apply ch to c (sorted, see npgw_k8s_cluster_put_pod) in place: replace
 * (set every object aside), the removals (a Namespace takes its Pods and
 * NetworkPolicies with it), then the objects of items, moved into c (items
 * is left empty; ch->items is not read). Everything displaced is logged in
 * u. Returns 0, -ENOENT (a removal names no object), -EINVAL (an unknown
 * kind, a second replace in one log) or -ENOMEM; on failure c is as before.
 * Several changes may go into one log; undo them all or commit them all.
 */
int npgw_state_change_apply(struct npgw_k8s_cluster *c, const struct npgw_state_change *ch,
			    struct npgw_k8s_cluster *items, struct npgw_state_undo *u);
/* Undo the entries of u past mark (u->n at some earlier point). */
void npgw_state_undo_to(struct npgw_k8s_cluster *c, struct npgw_state_undo *u, size_t mark);
/* Undo every change of u and empty it. */
void npgw_state_undo_rollback(struct npgw_k8s_cluster *c, struct npgw_state_undo *u);
/* Keep the changes: free what they displaced; u is empty (not freed). */
void npgw_state_undo_commit(struct npgw_state_undo *u);
/* Free u's memory (after commit or rollback). */
void npgw_state_undo_clear(struct npgw_state_undo *u);
/*
 * The pods the changes of u removed (present before, gone or replaced) and
 * added (present after), for npgw_compile_update_pods; the objects stay
 * valid until commit or rollback. Returns 0 (the caller frees the two
 * arrays), 1 when some change was more than Pods (no arrays: compile in
 * full), or -ENOMEM.
 */
int npgw_state_undo_pods(const struct npgw_state_undo *u, const struct npgw_k8s_pod ***removed,
			 size_t *n_removed, const struct npgw_k8s_pod ***added, size_t *n_added);
/* "Namespace", "Pod" or "NetworkPolicy" for a kind as kubectl names it
 * ("pods", "netpol", "ns"...), or NULL. */
const char *npgw_state_kind(const char *kind);

/* What status reports of the directory. */
struct npgw_state_info {
	uint64_t journal_bytes; /* in the segments not yet covered by a snapshot */
	uint64_t records; /* appended since open */
	uint64_t snapshots; /* written since open (background and in line) */
	uint64_t snapshot_generation; /* of the last snapshot written or restored */
	bool snapshot_running;
	char snapshot_error[256]; /* the last background snapshot's failure, or "" */
};

/*
 * Open the state directory: create it (mode 0700, parents too) when
 * missing, open it, and take an exclusive flock on DIR/lock (which then
 * holds our pid), so that a second daemon on the same directory is refused:
 * -EBUSY, "the state directory /var/lib/npgw is in use by another npgw (pid
 * 1234)". Every check of the directory belongs here. Returns the handle,
 * or NULL with *rc (a negative errno) and a one-line reason in err. The
 * lock lasts until npgw_state_close (or the process ends). Control thread.
 */
struct npgw_state *npgw_state_open(const char *dir, char *err, size_t errlen, int *rc);

/*
 * Wait for a background snapshot, release the lock, free. Accepts NULL.
 */
void npgw_state_close(struct npgw_state *st);

/*
 * Restore: the snapshot (if any) and every journal record after it, in
 * order. Returns the validated cluster and its generation, or NULL with
 * *err: -ENOENT (nothing saved: no diags), -EBADMSG (corrupt: the reasons
 * in diags; never a partial state), -ENOTSUP (a newer format), -ENOMEM or
 * an I/O errno. A torn last record is dropped (truncated away, with a
 * warning in diags). Call once, before the first append. Control thread.
 */
struct npgw_k8s_cluster *npgw_state_restore(struct npgw_state *st, uint64_t *generation,
					    struct npgw_diags *diags, int *err);

/*
 * One change as the journal writes it (JSON text, malloc'd; NULL when out
 * of memory). Made before npgw_state_change_apply moves the items away.
 */
char *npgw_state_change_json(const struct npgw_state_change *ch);

/*
 * Append one record: generation and the changes coalesced into it (each
 * as npgw_state_change_json wrote it, in order), then fdatasync. after is the whole state once they are applied: a record
 * over NPGW_STATE_MAX_RECORD is written as a snapshot of after instead
 * (synchronously), and once the segment passes the bound a clone of after
 * is handed to the background snapshot thread. Returns 0 (durable), or a
 * negative errno with the reason in err: the record is then not in the
 * journal (a failed write is truncated away) and the change must be
 * refused. Blocks on disk I/O; one thread at a time (the builder).
 */
int npgw_state_append(struct npgw_state *st, uint64_t generation, const char *const *changes,
		      size_t n,
		      const struct npgw_k8s_cluster *after, char *err, size_t errlen);

/* Set the segment bound (tests; 0: NPGW_STATE_JOURNAL_BOUND) and the
 * largest record journaled (tests; 0: NPGW_STATE_MAX_RECORD). */
void npgw_state_set_bound(struct npgw_state *st, size_t bytes);
void npgw_state_set_max_record(struct npgw_state *st, size_t bytes);

/* Wait until no background snapshot runs (tests, shutdown). */
void npgw_state_wait(struct npgw_state *st);

/* Fill info. Any thread (a snapshot of counters). */
void npgw_state_get_info(struct npgw_state *st, struct npgw_state_info *info);

#endif /* NPGW_STATE_H */
