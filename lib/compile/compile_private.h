/*
 * compile_private.h: internals of the policy compiler: an interning table
 * that gives byte strings dense ids (used to group pods, behaviours and
 * classes), and growable arrays.
 */
#ifndef NPGW_COMPILE_PRIVATE_H
#define NPGW_COMPILE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Interning table: byte string -> dense id (0, 1, 2, ... in order of first
 * insertion). The strings are copied into one pool, each 8-byte aligned.
 * Single owner.
 */
struct intern {
	uint8_t *pool;
	size_t pool_len;
	size_t pool_cap;
	size_t *off; /* id -> offset of its string in pool */
	uint32_t *len; /* id -> length */
	uint32_t n;
	uint32_t cap_ids;
	uint32_t *slots; /* open addressing: id + 1, 0 = empty */
	uint64_t *slot_hash;
	uint32_t n_slots; /* power of two */
};

void intern_free(struct intern *t);

/* The id of s (added when new, *added then true). Returns the id, or -1 on
 * allocation failure. */
int64_t intern_put(struct intern *t, const void *s, uint32_t len, bool *added);

static inline const uint8_t *intern_str(const struct intern *t, uint32_t id)
{
	return t->pool + t->off[id];
}

/* Grow *v (of *cap elements of size sz) so that it holds at least n. */
int grow(void **v, size_t *cap, size_t n, size_t sz);

#endif /* NPGW_COMPILE_PRIVATE_H */
