/*
 * intern.c: the compiler's interning table (byte string -> dense id), an
 * open-addressing hash table over a string pool, and array growth.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compile_private.h"

int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	p = realloc(*v, c * sz);
	if (p == NULL)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* FNV-1a, 64 bit: strings here are short and trusted (built by the
 * compiler), so a simple hash does. */
static uint64_t hash_bytes(const void *s, uint32_t len)
{
	const uint8_t *p = s;
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

void intern_free(struct intern *t)
{
	free(t->pool);
	free(t->off);
	free(t->len);
	free(t->slots);
	free(t->slot_hash);
	memset(t, 0, sizeof(*t));
}

static int rehash(struct intern *t, uint32_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	uint64_t *hashes = calloc(n_slots, sizeof(*hashes));

	if (slots == NULL || hashes == NULL) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->n_slots; i++) {
		uint32_t j;

		if (t->slots[i] == 0)
			continue;
		for (j = t->slot_hash[i] & (n_slots - 1); slots[j]; j = (j + 1) & (n_slots - 1))
			;
		slots[j] = t->slots[i];
		hashes[j] = t->slot_hash[i];
	}
	free(t->slots);
	free(t->slot_hash);
	t->slots = slots;
	t->slot_hash = hashes;
	t->n_slots = n_slots;
	return 0;
}

int64_t intern_get(const struct intern *t, const void *s, uint32_t len)
{
	uint64_t h = hash_bytes(s, len);

	if (t->n_slots == 0)
		return -1;
	for (uint32_t j = h & (t->n_slots - 1); t->slots[j]; j = (j + 1) & (t->n_slots - 1)) {
		uint32_t id = t->slots[j] - 1;

		if (t->slot_hash[j] == h && t->len[id] == len &&
		    memcmp(t->pool + t->off[id], s, len) == 0)
			return id;
	}
	return -1;
}

int64_t intern_put(struct intern *t, const void *s, uint32_t len, bool *added)
{
	uint64_t h = hash_bytes(s, len);
	uint32_t j;
	size_t cap;

	*added = false;
	if ((uint64_t)(t->n + 1) * 2 > t->n_slots &&
	    rehash(t, t->n_slots ? t->n_slots * 2 : 64) < 0)
		return -1;
	for (j = h & (t->n_slots - 1); t->slots[j]; j = (j + 1) & (t->n_slots - 1)) {
		uint32_t id = t->slots[j] - 1;

		if (t->slot_hash[j] == h && t->len[id] == len &&
		    memcmp(t->pool + t->off[id], s, len) == 0)
			return id;
	}
	/* every string starts 8-byte aligned: the compiler reads keys as
	 * uint64_t bit vectors */
	t->pool_len = (t->pool_len + 7) & ~(size_t)7;
	cap = t->pool_cap;
	if (grow((void **)&t->pool, &cap, t->pool_len + len + 1, 1) < 0)
		return -1;
	t->pool_cap = cap;
	cap = t->cap_ids;
	if (t->n + 1 > t->cap_ids) {
		size_t c2 = cap;

		if (grow((void **)&t->off, &c2, t->n + 1, sizeof(*t->off)) < 0)
			return -1;
		c2 = cap;
		if (grow((void **)&t->len, &c2, t->n + 1, sizeof(*t->len)) < 0)
			return -1;
		t->cap_ids = (uint32_t)c2;
	}
	if (len)
		memcpy(t->pool + t->pool_len, s, len);
	t->off[t->n] = t->pool_len;
	t->len[t->n] = len;
	t->pool_len += len;
	t->slots[j] = t->n + 1;
	t->slot_hash[j] = h;
	*added = true;
	return t->n++;
}
